"""HTTP plumbing shared by the clients: settings from SLIPWAY_* variables, requests, retries and error mapping."""

from __future__ import annotations

import os
import re
import time
from typing import Any, Callable, Dict, Iterable, Iterator, Optional
from urllib.parse import quote

import requests

from .errors import ConfigurationError, SlipwayError, ServerUnavailable, error_from_response

DEFAULT_URL = "http://127.0.0.1:8080"
USER_AGENT = "slipway-sdk/0.1.0"
_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9]|[-_.](?=[a-z0-9])){0,63}$")


def base_url(value: Optional[str]) -> str:
    """The server's URL: the argument, else ``SLIPWAY_URL``, else http://127.0.0.1:8080 (no trailing slash)."""
    url = value or os.environ.get("SLIPWAY_URL") or DEFAULT_URL
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"base_url must start with http:// or https://, got {url!r}")
    url = url.rstrip("/")
    # A URL that already points at the API (http://host/api/v1) is accepted.
    for suffix in ("/api/v1", "/v1"):
        if url.endswith(suffix):
            url = url[: -len(suffix)]
    return url


def model_name(value: Optional[str]) -> "tuple[str, str]":
    """Splits ``owner/name`` and checks both parts against the server's naming rule."""
    if not value or not isinstance(value, str) or value.count("/") != 1:
        raise ConfigurationError(f"model must be 'owner/name', got {value!r}")
    owner, name = value.split("/")
    for part, what in ((owner, "owner"), (name, "model name")):
        if len(part) > 64 or not _NAME.match(part):
            raise ConfigurationError(
                f"{what} {part!r} is not valid: 1–64 lowercase letters, digits, '-', '_' or '.', "
                "starting and ending with a letter or digit"
            )
    return owner, name


def segment(value: str) -> str:
    """One path segment, percent-encoded."""
    return quote(str(value), safe="")


class Transport:
    """One server and one credential: sends requests, retries what may be retried, maps errors to exceptions.

    Retries happen only on connection errors, 503 and 429 (honouring ``Retry-After``), never on other answers.
    """

    def __init__(
        self,
        url: str,
        headers: Dict[str, str],
        *,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_retry_wait: float = 30.0,
        session: Optional[requests.Session] = None,
    ):
        self.url = url
        self.headers = dict(headers)
        self.headers.setdefault("User-Agent", USER_AGENT)
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self.max_retry_wait = max_retry_wait
        self.session = session or requests.Session()

    def request(
        self,
        method: str,
        path: str,
        action: str,
        *,
        retry: bool = True,
        expected: Iterable[int] = (200, 201, 204),
        **kwargs: Any,
    ) -> requests.Response:
        """Sends one request; raises the mapped exception for an unexpected status.

        ``retry=False`` (uploads) still retries connection failures that happened before anything was sent.
        """
        headers = dict(self.headers)
        headers.update(kwargs.pop("headers", None) or {})
        kwargs.setdefault("timeout", self.timeout)
        attempt = 0
        while True:
            try:
                response = self.session.request(method, self.url + path, headers=headers, **kwargs)
            except requests.exceptions.ConnectionError as error:
                refused = _is_connect_failure(error)
                if attempt < self.retries and (retry or refused):
                    self._sleep(attempt, None)
                    attempt += 1
                    continue
                raise ServerUnavailable(
                    f"{action}: cannot reach the Slipway server at {self.url} ({_reason(error)}); "
                    "check that it runs and that SLIPWAY_URL / base_url points at it"
                ) from None
            except requests.exceptions.Timeout:
                raise ServerUnavailable(
                    f"{action}: the server at {self.url} did not answer within {kwargs['timeout']} s"
                ) from None
            if response.status_code in expected:
                return response
            if response.status_code in (429, 503) and attempt < self.retries:
                wait = _retry_after(response)
                if wait is None or wait <= self.max_retry_wait:
                    self._sleep(attempt, wait)
                    attempt += 1
                    continue
            raise error_from_response(response, action)

    def json(self, method: str, path: str, action: str, **kwargs: Any) -> Any:
        """Sends a request and decodes its JSON answer (None for an empty one)."""
        response = self.request(method, path, action, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise SlipwayError(f"{action}: the server answered something that is not JSON") from None

    def pages(self, path: str, action: str, params: Optional[Dict[str, Any]] = None) -> Iterator[Any]:
        """Every item of a paginated list route, page after page."""
        page = 1
        while True:
            query = dict(params or {})
            query.update(page=page, per_page=200)
            response = self.request("GET", path, action, params=query)
            items = response.json()
            yield from items
            total = int(response.headers.get("X-Total-Count", len(items)))
            if page * 200 >= total or not items:
                return
            page += 1

    def _sleep(self, attempt: int, retry_after: Optional[float]) -> None:
        delay = retry_after if retry_after is not None else self.backoff * (2**attempt)
        time.sleep(min(delay, self.max_retry_wait))


def _retry_after(response: requests.Response) -> Optional[float]:
    value = response.headers.get("Retry-After")
    try:
        return None if value is None else max(0.0, float(value))
    except ValueError:
        return None


def _is_connect_failure(error: Exception) -> bool:
    """Whether the connection failed before the request was sent (safe to retry any method)."""
    text = repr(error)
    markers = ("NewConnectionError", "NameResolutionError", "ConnectTimeoutError", "Connection refused")
    return any(marker in text for marker in markers)


def _reason(error: Exception) -> str:
    text = str(error)
    for marker in ("Connection refused", "Name or service not known", "timed out", "Connection reset"):
        if marker in text:
            return marker.lower()
    return text[:200]


def progress_printer(label: str) -> Optional[Callable[[int, int], None]]:
    """A simple progress line on stderr when it is a terminal, else None."""
    import sys

    stream = sys.stderr
    if not hasattr(stream, "isatty") or not stream.isatty():
        return None
    state = {"last": -1}

    def show(sent: int, total: int) -> None:
        percent = 100 if total == 0 else int(sent * 100 / total)
        if percent == state["last"]:
            return
        state["last"] = percent
        end = "\n" if sent >= total else ""
        stream.write(f"\r{label}: {percent:3d}% of {_size(total)}{end}")
        stream.flush()

    return show


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"
