"""Predicting: ``Client("acme/churn", serving_key=…).predict(X)``."""

from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Optional

import numpy as np

from . import _data
from ._http import Transport, base_url as resolve_url, model_name, segment
from .errors import ConfigurationError, PayloadTooLarge, SchemaViolation, SlipwayError


class Client:
    """Calls a model's prediction API (``POST /v1/{owner}/{model}/predict/``).

    >>> client = Client("acme/churn", environment="production", serving_key="slw_s_…")
    >>> client.predict(df)              # one entry per row
    >>> client.predict_proba(df)        # numpy [rows, classes], columns in client.classes_ order

    The credential is ``serving_key`` (or ``SLIPWAY_SERVING_KEY``; a user's API token or the model's deploy key
    work too); ``base_url`` falls back to ``SLIPWAY_URL``. Large inputs go in batches of ``batch_size`` rows;
    connection errors, 503 and 429 are retried (honouring ``Retry-After``), nothing else is.
    """

    def __init__(
        self,
        model: str,
        environment: str = "production",
        serving_key: Optional[str] = None,
        base_url: Optional[str] = None,
        *,
        batch_size: int = 1000,
        timeout: float = 60.0,
        retries: int = 3,
        session: Any = None,
    ):
        self.owner, self.name = model_name(model)
        self.full_name = f"{self.owner}/{self.name}"
        self.environment = environment
        key = serving_key or os.environ.get("SLIPWAY_SERVING_KEY") or os.environ.get("SLIPWAY_TOKEN")
        headers: Dict[str, str] = {}
        if key and key.startswith("slw_s_"):
            headers = {"X-Serving-Key": key}
        elif key:
            headers = {"Authorization": f"Bearer {key}"}  # an API token or deploy key
        self.base_url = resolve_url(base_url)
        if batch_size < 1:
            raise ConfigurationError("batch_size must be at least 1")
        self.batch_size = int(batch_size)
        self.classes_: Optional[List[str]] = None
        self.last_version: Optional[int] = None
        self._transport = Transport(self.base_url, headers, timeout=timeout, retries=retries, session=session)

    def predict(
        self,
        X: Any,
        version: Optional[int] = None,
        order: str = "desc",
        limit: int = -1,
        threshold: float = 0.0,
    ) -> List[Any]:
        """Predictions for the rows of ``X`` (a DataFrame or dicts send named features; arrays and lists send
        positional rows), one entry per row: ``[{"className", "probability"}, …]`` with classes, else the model's
        output for the row (``[274.6]`` for a regressor)."""
        if order not in ("desc", "asc"):
            raise SlipwayError(f"order must be 'desc' or 'asc', got {order!r}")
        table = _data.table(X, what="X")
        if len(table) == 0:
            raise SlipwayError("X has no rows")
        params: Dict[str, Any] = {"environment": self.environment, "order": order, "limit": int(limit),
                                  "threshold": float(threshold)}
        if version is not None:
            params["version"] = int(version)
        results: List[Any] = []
        start = 0
        size = self.batch_size
        while start < len(table):
            batch = table.slice(start, start + size)
            try:
                results.extend(self._send(batch, params, offset=start))
            except PayloadTooLarge:
                if size == 1:
                    raise
                size = max(1, size // 2)  # over the server's body or row limit: smaller batches
                continue
            start += len(batch)
        return results

    def _send(self, batch: _data.Table, params: Dict[str, Any], offset: int) -> List[Any]:
        if batch.names is not None:
            body: Dict[str, Any] = {"features": batch.named_rows()}
        else:
            body = {"ndarray": batch.rows}
        try:
            response = self._transport.request(
                "POST",
                f"/v1/{segment(self.owner)}/{segment(self.name)}/predict/",
                f"predicting with {self.full_name} ({self.environment})",
                params=params,
                json=body,
            )
        except SchemaViolation as error:
            if offset:
                for violation in error.violations:
                    if isinstance(violation.get("row"), int):
                        violation["row"] += offset
            raise
        answer = response.json()
        self.last_version = answer.get("version")
        predictions = answer.get("predictions", [])
        if len(batch) == 1:
            return [predictions]
        return list(predictions)

    def predict_proba(self, X: Any, version: Optional[int] = None, classes: Optional[List[Any]] = None) -> np.ndarray:
        """Class probabilities as a numpy ``[rows, classes]`` array.

        Columns follow ``classes`` when given, else the class names sorted as scikit-learn sorts ``classes_``
        (numerically when every name is a number); ``self.classes_`` holds the order used.
        """
        rows = self.predict(X, version=version, order="desc", limit=-1, threshold=0.0)
        names: List[str] = []
        for row in rows:
            if not isinstance(row, list) or (row and not isinstance(row[0], dict)):
                raise SlipwayError(
                    "this deployment answers without classes, so there are no probabilities; use predict()"
                )
            for entry in row:
                if entry["className"] not in names:
                    names.append(entry["className"])
        order = [str(c) for c in classes] if classes is not None else _sorted_like_sklearn(names)
        unknown = [n for n in names if n not in order]
        if unknown:
            raise SlipwayError(f"the server answered classes {unknown} that are not in classes={order}")
        matrix = np.zeros((len(rows), len(order)), dtype=np.float64)
        column = {n: i for i, n in enumerate(order)}
        for r, row in enumerate(rows):
            for entry in row:
                matrix[r, column[entry["className"]]] = entry["probability"]
        self.classes_ = order
        return matrix

    def predict_labels(self, X: Any, version: Optional[int] = None) -> List[Any]:
        """The most probable class name per row (or the model's first output value without classes)."""
        result = []
        for row in self.predict(X, version=version, order="desc", limit=1):
            if isinstance(row, list) and row and isinstance(row[0], dict):
                result.append(row[0]["className"])
            elif isinstance(row, list) and len(row) == 1:
                result.append(row[0])
            else:
                result.append(row)
        return result

    def __repr__(self) -> str:
        return f"<Client {self.full_name} {self.environment} {self.base_url}>"


_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def _sorted_like_sklearn(names: List[str]) -> List[str]:
    if names and all(_NUMBER.match(n) for n in names):
        return sorted(names, key=float)
    return sorted(names)
