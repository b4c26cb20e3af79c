"""Exceptions raised by the SDK. Every one is a :class:`SlipwayError` and carries the server's ``detail``."""

from __future__ import annotations

from typing import Any, Dict, List, Optional


class SlipwayError(Exception):
    """Base class: ``status`` (HTTP status or None), ``code``, ``field`` and ``detail`` from the server's answer."""

    def __init__(
        self,
        message: str,
        *,
        status: Optional[int] = None,
        code: Optional[str] = None,
        field: Optional[str] = None,
        detail: Optional[str] = None,
        request_id: Optional[str] = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.field = field
        self.detail = detail if detail is not None else message
        self.request_id = request_id


class InvalidInput(SlipwayError):
    """400: the server rejected the request; ``field`` names the place."""


class AuthenticationError(SlipwayError):
    """401: no credential, or an unknown, expired or revoked one."""


class PermissionDenied(SlipwayError):
    """403: the credential is valid but may not do this (role, key scope, serving key on a management route)."""


class NotFound(SlipwayError):
    """404: no such model, environment, deployment or key (or no active deployment)."""


class Conflict(SlipwayError):
    """409: a name is taken, a deployment is not verified, a status change from a final state…"""


class SchemaViolation(SlipwayError):
    """Rows break the schema (409 ``schema_violation``, or found by the SDK before sending).

    ``violations`` lists every problem as ``{"row", "feature", "rule", "expected", "got"}``.
    """

    def __init__(self, message: str, violations: Optional[List[Dict[str, Any]]] = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.violations = list(violations or [])


class PayloadTooLarge(SlipwayError):
    """413: the body, the upload or the number of rows is over the server's limit."""


class RateLimited(SlipwayError):
    """429: the serving key's rate limit is used up; ``retry_after`` is in seconds (or None)."""

    def __init__(self, message: str, retry_after: Optional[float] = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class Overloaded(SlipwayError):
    """503 ``overloaded``: the deployment's queue is full; retry later."""

    def __init__(self, message: str, retry_after: Optional[float] = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerUnavailable(SlipwayError):
    """The server cannot be reached, or answered 5xx (after the retries)."""


class VerificationFailed(SlipwayError):
    """The server's verification of a new deployment failed; ``reason`` is the server's reason."""

    def __init__(self, message: str, reason: Optional[str] = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.reason = reason


class VerificationTimeout(SlipwayError):
    """The deployment was still pending when ``deploy(wait=True, timeout=…)`` gave up."""


class ConversionError(SlipwayError):
    """The model cannot be converted to ONNX, or the converted model disagrees with the original."""

    def __init__(self, message: str, largest_difference: Optional[float] = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.largest_difference = largest_difference


class ConfigurationError(SlipwayError):
    """A required setting (model name, credential, URL) is missing or malformed."""


_BY_STATUS = {
    400: InvalidInput,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
}


def error_from_response(response: Any, action: str) -> SlipwayError:
    """The exception for a non-2xx ``requests`` response; ``action`` says what was being done."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    detail = body.get("detail") or body.get("error") or (response.text or "").strip()[:500] or response.reason
    code = body.get("code")
    field = body.get("field")
    request_id = response.headers.get("X-Request-ID")
    message = f"{action}: {detail} (HTTP {status}{', ' + code if code else ''})"
    kwargs = dict(status=status, code=code, field=field, detail=detail, request_id=request_id)
    retry_after = _retry_after(response)
    if status == 409 and code == "schema_violation":
        return SchemaViolation(message, violations=body.get("violations") or [], **kwargs)
    if status == 429:
        return RateLimited(message, retry_after=retry_after, **kwargs)
    if status == 503 and code == "overloaded":
        return Overloaded(message, retry_after=retry_after, **kwargs)
    if status >= 500:
        return ServerUnavailable(message, **kwargs)
    return _BY_STATUS.get(status, SlipwayError)(message, **kwargs)


def _retry_after(response: Any) -> Optional[float]:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
