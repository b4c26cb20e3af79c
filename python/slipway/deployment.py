"""Deploying a model: ``Deployment(...).model(clf).samples(X).deploy("summary")``."""

from __future__ import annotations

import html
import io
import json
import os
import time
import uuid
from typing import Any, Callable, Dict, List, Optional, Sequence

from . import _context, _convert, _data, _schema
from ._http import Transport, base_url as resolve_url, model_name, progress_printer, segment
from .errors import (
    ConfigurationError,
    InvalidInput,
    SchemaViolation,
    SlipwayError,
    VerificationFailed,
    VerificationTimeout,
)

MAX_REFERENCE_ROWS = 10_000
DEFAULT_SAMPLE_ROWS = 5


class Deployment:
    """A deployment of one model into one environment, built fluently and uploaded with :meth:`deploy`.

    >>> deployment = (Deployment("acme/churn", environment="production")
    ...               .model(clf).samples(X_test).deploy("gradient boosting, 200 trees", activate=True))
    >>> deployment.version, deployment.status
    (3, 'verified')

    The credential is ``deploy_key`` (or ``token``, a user's API token); without them the ``SLIPWAY_DEPLOY_KEY``
    and ``SLIPWAY_TOKEN`` environment variables are read, and ``base_url`` falls back to ``SLIPWAY_URL``.
    """

    def __init__(
        self,
        model: str,
        environment: str = "production",
        deploy_key: Optional[str] = None,
        base_url: Optional[str] = None,
        *,
        token: Optional[str] = None,
        version: Optional[int] = None,
        timeout: float = 120.0,
        retries: int = 3,
        session: Any = None,
    ):
        self.owner, self.name = model_name(model)
        self.full_name = f"{self.owner}/{self.name}"
        if not environment or not isinstance(environment, str):
            raise ConfigurationError("environment must be a name such as 'production'")
        self.environment = environment
        credential = deploy_key or os.environ.get("SLIPWAY_DEPLOY_KEY") or token or os.environ.get("SLIPWAY_TOKEN")
        if not credential:
            raise ConfigurationError(
                "no credential: pass deploy_key=… (or token=…), or set SLIPWAY_DEPLOY_KEY (or SLIPWAY_TOKEN)"
            )
        self.base_url = resolve_url(base_url)
        self._transport = Transport(
            self.base_url, {"Authorization": f"Bearer {credential}"}, timeout=timeout, retries=retries, session=session
        )
        self._model: Any = None
        self._tolerance = 1e-3
        self._schema: Any = None
        self._schema_ranges = True
        self._samples: Optional[_data.Table] = None
        self._classes: Optional[List[str]] = None
        self._context: Dict[str, Any] = {}
        self._params: Optional[Dict[str, Any]] = None
        self._reference: Optional[_data.Table] = None
        self.version: Optional[int] = version
        self.info: Optional[Dict[str, Any]] = None
        self.converted: Optional[_convert.Converted] = None

    # MARK: building

    def model(self, model: Any, *, tolerance: float = 1e-3) -> "Deployment":
        """The model: a fitted scikit-learn estimator or Pipeline, an XGBoost or LightGBM model, an
        ``onnx.ModelProto``, ONNX bytes or a path to an ``.onnx`` file.

        ``tolerance`` bounds the difference allowed between the converted model and the original on the samples
        (absolute for probabilities; absolute plus relative for regression outputs).
        """
        if isinstance(model, (str, os.PathLike, bytes, bytearray)) or type(model).__name__ == "ModelProto":
            pass
        else:
            library = _convert.library_of(model)
            if library not in ("sklearn", "xgboost", "lightgbm", "imblearn") and not _convert._is_sklearn_estimator(
                model
            ):
                raise _convert.ConversionError(f"cannot deploy a {_convert.describe(model)}: pass {_convert.SUPPORTED}")
            _convert._require_fitted(model)
        self._model = model
        self._tolerance = float(tolerance)
        self.converted = None
        return self

    def schema(self, schema: Any, *, ranges: bool = True) -> "Deployment":
        """The feature schema: a dict in the server's format, or a DataFrame to infer it from (names, types,
        missing values; with ``ranges`` also the observed min/max and the categories of string columns)."""
        if isinstance(schema, dict):
            self._schema = _schema.validate(schema)
        elif _data.is_dataframe(schema):
            self._schema = _schema.infer(_data.table(schema, what="schema"), ranges=ranges)
        else:
            raise SlipwayError("schema must be a dict in the server's format or a pandas DataFrame")
        return self

    def samples(self, data: Any, rows: int = DEFAULT_SAMPLE_ROWS) -> "Deployment":
        """Example inputs the server runs before the deployment may serve: the first ``rows`` rows of ``data``."""
        if rows < 1:
            raise SlipwayError("rows must be at least 1")
        table = _data.table(data, names=self._feature_names(), what="samples")
        self._samples = table.head(rows)
        return self

    def classes(self, classes: Any = None) -> "Deployment":
        """Class labels by output index (a list, or a dict ``{0: label}``); default: the estimator's ``classes_``."""
        if classes is None:
            found = getattr(self._model, "classes_", None)
            if found is None:
                raise SlipwayError("the model has no classes_: pass the labels, e.g. .classes(['no', 'yes'])")
            classes = list(found)
        if isinstance(classes, dict):
            classes = [classes[k] for k in sorted(classes, key=int)]
        labels = [str(_convert._plain(c)) for c in classes]
        if not labels:
            raise SlipwayError("classes must not be empty")
        self._classes = labels
        return self

    def context(self, context: Dict[str, Any]) -> "Deployment":
        """Free-form provenance, merged over the automatic context (Python and library versions, git, host)."""
        if not isinstance(context, dict):
            raise SlipwayError("context must be a dict")
        self._context = _context.merge(self._context, _jsonable(context, "context"))
        return self

    def params(self, params: Dict[str, Any]) -> "Deployment":
        """Free-form parameters (hyper-parameters, metrics…); default: the estimator's simple ``get_params()``."""
        if not isinstance(params, dict):
            raise SlipwayError("params must be a dict")
        self._params = _jsonable(params, "params")
        return self

    def reference(self, data: Any) -> "Deployment":
        """The training distribution (at most 10,000 rows), stored with the deployment for drift monitoring."""
        table = _data.table(data, names=self._feature_names(), what="reference")
        if len(table) > MAX_REFERENCE_ROWS:
            raise SlipwayError(
                f"reference has {len(table)} rows; at most {MAX_REFERENCE_ROWS} are accepted: pass a sample, "
                f"e.g. X.sample({MAX_REFERENCE_ROWS}, random_state=0)"
            )
        self._reference = table
        return self

    def _feature_names(self) -> Optional[List[str]]:
        names = getattr(self._model, "feature_names_in_", None)
        return [str(n) for n in names] if names is not None else None

    # MARK: deploying

    def deploy(
        self,
        summary: str,
        description: Optional[str] = None,
        activate: bool = False,
        wait: bool = True,
        timeout: float = 120.0,
        progress: Optional[Callable[[int, int], None]] = None,
    ) -> "Deployment":
        """Converts and checks the model, uploads it with its metadata and (with ``wait``) waits for the server's
        verification. Returns ``self`` with ``version`` and ``info`` set.

        Raises ConversionError or SchemaViolation before anything is uploaded, PermissionDenied when the credential
        may not deploy to this environment, VerificationFailed with the server's reason when verification fails.
        ``activate`` makes the version active as soon as it is verified. ``progress(sent, total)`` is called as the
        upload goes; without it a progress line goes to stderr when that is a terminal.
        """
        if not isinstance(summary, str) or not summary.strip():
            raise InvalidInput("summary is required: a one-line description of the deployment", field="summary")
        if "\n" in summary.strip() or "\r" in summary.strip():
            raise InvalidInput("summary must be one line; put details in description", field="summary")
        if self._model is None:
            raise SlipwayError("no model: call .model(estimator_or_onnx) before .deploy()")
        fields = self._prepare(summary.strip(), description, activate)
        self._preflight()
        with open_body(self.converted.data, fields) as (body, content_type):  # type: ignore[union-attr]
            report = progress or progress_printer(f"uploading {self.full_name}")
            response = self._transport.request(
                "POST",
                self._environment_path() + "/deployments",
                f"deploying {self.full_name} to {self.environment}",
                retry=False,
                expected=(201,),
                data=_Progress(body, report),
                headers={"Content-Type": content_type},
            )
        self.info = response.json()
        self.version = self.info["version"]
        if wait:
            self.wait(timeout=timeout, activate=activate)
        return self

    def _prepare(self, summary: str, description: Optional[str], activate: bool) -> Dict[str, str]:
        """Everything that can fail before the upload: conversion, schema, the check against the estimator."""
        samples, reference = self._samples, self._reference
        schema = self._schema
        # Column names first: a DataFrame with columns the schema or the estimator does not know is refused here.
        order = _schema.order(schema) or self._feature_names()
        tables = {"samples": samples, "reference": reference}
        for what, table in tables.items():
            if table is None:
                continue
            if schema is not None:
                _data.check_against_schema(table, schema, what)
            tables[what] = _reorder(table, order, what)
        samples, reference = tables["samples"], tables["reference"]
        data = samples if samples is not None else reference
        converted = _convert.load(self._model, data)
        self.converted = converted
        names = converted.feature_names
        if schema is None:
            source = reference if reference is not None and reference.names else samples
            if source is not None and source.names:
                schema = _schema.infer(source, ranges=source is reference and self._schema_ranges)
            elif converted.layout == "columns" and names and samples is not None:
                schema = _schema.infer(samples, names=names, ranges=False)
            if schema is not None:
                for what, table in (("samples", samples), ("reference", reference)):
                    if table is not None:
                        _data.check_against_schema(table, schema, what)
        if samples is None and reference is not None:
            samples = reference.head(DEFAULT_SAMPLE_ROWS)
        expected = None
        if samples is not None:
            expected = _convert.check(converted, samples, self._tolerance).expected
        classes = self._classes
        if classes is None and converted.classes is not None and converted.is_classifier:
            classes = [str(_convert._plain(c)) for c in converted.classes]
        fields: Dict[str, str] = {"summary": summary, "format": "onnx", "activate": "true" if activate else "false"}
        if description:
            fields["description"] = description
        if schema is not None:
            fields["schema"] = _dumps(schema)
        if samples is not None:
            body: Dict[str, Any] = {"ndarray": samples.rows}
            if schema is not None and schema.get("features") and samples.names:
                body["features"] = samples.named_rows()
            if expected is not None and len(expected) == len(samples):
                body["expected"] = [_expected_entry(v, classes) for v in expected]
            fields["samples"] = _dumps(body)
        if classes is not None:
            fields["classes"] = _dumps(classes)
        fields["context"] = _dumps(_context.merge(_context.automatic(), self._context))
        params = self._params if self._params is not None else _default_params(self._model)
        if params:
            fields["params"] = _dumps(params)
        if reference is not None:
            fields["reference"] = _dumps(reference.rows)
        return fields

    def _preflight(self) -> None:
        """Asks the server whether this credential may deploy here, before sending the model: the deploy route
        checks the credential and the environment before it reads the body, so a JSON probe is refused with 415
        when everything else is right, and creates nothing."""
        response = self._transport.request(
            "POST",
            self._environment_path() + "/deployments",
            f"deploying {self.full_name} to {self.environment}",
            retry=False,
            expected=(415,),
            json={},
        )
        response.close()

    def wait(self, timeout: float = 120.0, activate: bool = False) -> "Deployment":
        """Polls until the server has verified (or failed) this deployment; raises VerificationFailed or
        VerificationTimeout. With ``activate``, also waits until it is the active version."""
        deadline = time.monotonic() + timeout
        delay = 0.1
        while True:
            info = self.refresh()
            state = self.status
            if state == "failed":
                reason = (info.get("status") or {}).get("reason") or "no reason given"
                raise VerificationFailed(
                    f"{self.full_name} {self.environment} version {self.version} failed verification: {reason}",
                    reason=reason,
                    detail=reason,
                )
            if state == "verified" and (not activate or info.get("is_active")):
                return self
            if time.monotonic() >= deadline:
                raise VerificationTimeout(
                    f"{self.full_name} {self.environment} version {self.version} is still {state} after {timeout:g} s"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 2.0)

    # MARK: managing

    def refresh(self) -> Dict[str, Any]:
        """Reads this deployment again from the server."""
        version = self._require_version()
        self.info = self._transport.json(
            "GET",
            f"{self._environment_path()}/deployments/{version}",
            f"reading {self.full_name} {self.environment} version {version}",
        )
        return self.info  # type: ignore[return-value]

    def verified(self, reload: bool = True) -> bool:
        """Whether the server has verified this deployment."""
        if reload or self.info is None:
            self.refresh()
        return self.status == "verified"

    def activate(self, version: Optional[int] = None) -> Dict[str, Any]:
        """Makes this deployment (or ``version``) the active one of its environment; answers the activation."""
        version = version if version is not None else self._require_version()
        return self._transport.json(
            "POST",
            f"{self._environment_path()}/activate",
            f"activating {self.full_name} {self.environment} version {version}",
            json={"version": int(version)},
        )

    def rollback(self, version: int) -> Dict[str, Any]:
        """Re-activates an older verified ``version`` of this environment."""
        return self._transport.json(
            "POST",
            f"{self._environment_path()}/rollback",
            f"rolling {self.full_name} {self.environment} back to version {version}",
            json={"version": int(version)},
        )

    def promote(self, to_environment: str, summary: Optional[str] = None) -> "Deployment":
        """Copies this deployment into ``to_environment`` as its next version; returns that deployment."""
        version = self._require_version()
        body: Dict[str, Any] = {"to_environment": to_environment}
        if summary:
            body["summary"] = summary
        info = self._transport.json(
            "POST",
            f"{self._environment_path()}/deployments/{version}/promote",
            f"promoting {self.full_name} {self.environment} version {version} to {to_environment}",
            json=body,
        )
        promoted = Deployment.__new__(Deployment)
        promoted.__dict__.update(self.__dict__)
        promoted.environment = to_environment
        promoted.version = info["version"]
        promoted.info = info
        return promoted

    @property
    def status(self) -> Optional[str]:
        """``pending``, ``verified`` or ``failed`` as last read (None before the deploy)."""
        if not self.info:
            return None
        status = self.info.get("status")
        return status.get("state") if isinstance(status, dict) else status

    @property
    def is_active(self) -> bool:
        return bool(self.info and self.info.get("is_active"))

    @property
    def url(self) -> str:
        path = f"/api/v1/models/{self.owner}/{self.name}/environments/{segment(self.environment)}"
        return self.base_url + path + (f"/deployments/{self.version}" if self.version is not None else "")

    def _environment_path(self) -> str:
        return f"/api/v1/models/{segment(self.owner)}/{segment(self.name)}/environments/{segment(self.environment)}"

    def _require_version(self) -> int:
        if self.version is None:
            raise SlipwayError("this Deployment has no version yet: call .deploy(…) or pass version=…")
        return int(self.version)

    def __repr__(self) -> str:
        version = f"v{self.version}" if self.version is not None else "(not deployed)"
        status = f" {self.status}" if self.status else ""
        active = " active" if self.is_active else ""
        return f"<Deployment {self.full_name} {self.environment} {version}{status}{active} {self.url}>"

    def _repr_html_(self) -> str:
        rows = [
            ("model", self.full_name),
            ("environment", self.environment),
            ("version", "" if self.version is None else str(self.version)),
            ("status", self.status or "not deployed"),
            ("active", "yes" if self.is_active else "no"),
            ("URL", self.url),
        ]
        reason = ((self.info or {}).get("status") or {}).get("reason") if self.info else None
        if reason:
            rows.append(("reason", reason))
        cells = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>{html.escape(v)}"
            "</td></tr>" for k, v in rows
        )
        return f"<table><caption>Slipway deployment</caption>{cells}</table>"


# MARK: helpers


def _reorder(table: _data.Table, order: Optional[Sequence[str]], what: str) -> _data.Table:
    """The table's columns in the model's positional order (named tables only)."""
    if order is None or table.names is None or list(table.names) == list(order):
        return table
    unknown = [n for n in table.names if n not in order]
    missing = [n for n in order if n not in table.names]
    if unknown:
        raise SchemaViolation(
            f"{what} has columns the model does not know: {', '.join(unknown)}; it takes {', '.join(order)}",
            violations=[{"row": None, "feature": n, "rule": "unknown", "expected": "one of the model's features",
                         "got": "a column"} for n in unknown],
        )
    if missing:
        raise SchemaViolation(
            f"{what} lacks the features {', '.join(missing)} the model takes",
            violations=[{"row": None, "feature": n, "rule": "required", "expected": "a value", "got": "nothing"}
                        for n in missing],
        )
    positions = [table.names.index(n) for n in order]
    rows = [[row[i] for i in positions] for row in table.rows]
    frame = table.frame[list(order)] if table.frame is not None else None
    return _data.Table(list(order), [table.kinds[i] for i in positions], rows, frame)


def _expected_entry(value: Any, classes: Optional[List[str]]) -> Any:
    if isinstance(value, bool):
        return int(value)
    return value


def _dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=False, separators=(",", ":"))


def _jsonable(value: Dict[str, Any], what: str) -> Dict[str, Any]:
    try:
        return json.loads(json.dumps(value, allow_nan=False, default=_plain_default))
    except (TypeError, ValueError) as error:
        raise SlipwayError(f"{what} must be JSON-serialisable: {error}") from None


def _plain_default(value: Any) -> Any:
    plain = _data.plain(value)
    if plain is None or isinstance(plain, (int, float, str, bool)):
        return plain
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def _default_params(model: Any) -> Optional[Dict[str, Any]]:
    get_params = getattr(model, "get_params", None)
    if get_params is None:
        return None
    try:
        params = get_params(deep=False)
    except Exception:
        return None
    simple = {}
    for key, value in params.items():
        value = _data.plain(value) if not isinstance(value, (list, tuple, dict)) else None
        if value is None or isinstance(value, (int, float, str, bool)):
            if value is not None:
                simple[key] = value
    return {"estimator": type(model).__name__, **simple} if simple else {"estimator": type(model).__name__}


class open_body:
    """A multipart/form-data body (text fields, then the model file) as a file-like object with a length."""

    def __init__(self, model: bytes, fields: Dict[str, str]):
        boundary = f"slipway-{uuid.uuid4().hex}"
        self.content_type = f"multipart/form-data; boundary={boundary}"
        head = io.BytesIO()
        for name, value in fields.items():
            head.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
            head.write(value.encode("utf-8"))
            head.write(b"\r\n")
        head.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="model"; filename="model.onnx"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
        )
        self.body = io.BytesIO(head.getvalue() + model + f"\r\n--{boundary}--\r\n".encode())

    def __enter__(self) -> Any:
        return self.body, self.content_type

    def __exit__(self, *exc: Any) -> None:
        self.body.close()


class _Progress(io.RawIOBase):
    """Wraps the body so every read reports progress."""

    def __init__(self, body: io.BytesIO, report: Optional[Callable[[int, int], None]]):
        self.body = body
        self.total = len(body.getbuffer())
        self.sent = 0
        self.report = report

    def __len__(self) -> int:
        return self.total

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.body.read(size)
        self.sent += len(chunk)
        if self.report is not None and (chunk or self.sent == self.total):
            self.report(self.sent, self.total)
        return chunk

    def tell(self) -> int:
        return self.body.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.body.seek(offset, whence)
