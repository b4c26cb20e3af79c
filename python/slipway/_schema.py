"""Schemas in the server's format: ``{"features": {name: rules}, "ndarray": [[names in positional order]]}``."""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional

from ._data import Table
from .errors import SlipwayError

RULES = {"type", "allowed", "min", "max", "minlength", "maxlength", "help", "pii", "required"}
TYPES = {"float", "integer", "number", "string", "boolean"}
MAX_ALLOWED = 1000


def infer(data: Table, *, ranges: bool = True, names: Optional[List[str]] = None) -> Dict[str, Any]:
    """A schema from named data: each feature's type, whether it may be missing and, with ``ranges``, the observed
    minimum and maximum of numbers and the categories seen for strings (at most 1,000 of them)."""
    names = names or data.names
    if names is None:
        names = [f"x{i}" for i in range(data.width)]
    features: Dict[str, Any] = {}
    for index, (name, kind) in enumerate(zip(names, data.kinds)):
        values = [v for v in data.column(index) if v is not None]
        rules: Dict[str, Any] = {"type": kind}
        if len(values) < len(data):
            rules["required"] = False
        if ranges and values:
            if kind in ("float", "integer"):
                numbers = [float(v) for v in values if not isinstance(v, str)]
                if numbers:
                    low, high = min(numbers), max(numbers)
                    rules["min"] = int(low) if kind == "integer" else _number(low)
                    rules["max"] = int(high) if kind == "integer" else _number(high)
            elif kind == "string":
                categories = sorted({str(v) for v in values})
                if len(categories) <= MAX_ALLOWED:
                    rules["allowed"] = categories
        features[name] = rules
    return {"features": features, "ndarray": [list(names)]}


def _number(value: float) -> float:
    return value if math.isfinite(value) else 0.0


def validate(schema: Dict[str, Any]) -> Dict[str, Any]:
    """Checks a schema dict's shape the way the server does, so mistakes surface before the upload."""
    if not isinstance(schema, dict):
        raise SlipwayError("schema must be a dict like {'features': {name: rules}, 'ndarray': [[names]]}")
    for key in schema:
        if key not in ("features", "ndarray"):
            raise SlipwayError(f"schema.{key} is not a schema field; expected features or ndarray")
    features = schema.get("features") or {}
    if not isinstance(features, dict):
        raise SlipwayError("schema.features must be a dict of feature rules")
    for name, rules in features.items():
        if not isinstance(rules, dict):
            raise SlipwayError(f"schema.features.{name} must be a dict of rules")
        for key in rules:
            if key not in RULES:
                raise SlipwayError(f"schema.features.{name}.{key} is not a rule; expected one of {sorted(RULES)}")
        if "type" in rules and rules["type"] not in TYPES:
            raise SlipwayError(f"schema.features.{name}.type must be one of {sorted(TYPES)}")
    order = schema.get("ndarray")
    if order is not None:
        if isinstance(order, list) and order and all(isinstance(n, str) for n in order):
            schema = dict(schema, ndarray=[order])  # a flat list of names is accepted
            order = schema["ndarray"]
        if not (isinstance(order, list) and len(order) == 1 and isinstance(order[0], list) and order[0]):
            raise SlipwayError("schema.ndarray must be one list of feature names, e.g. [['age', 'income']]")
        unknown = [n for n in order[0] if features and n not in features]
        if unknown:
            raise SlipwayError(f"schema.ndarray names {unknown}, which schema.features does not define")
    return schema


def order(schema: Optional[Dict[str, Any]]) -> Optional[List[str]]:
    if not schema:
        return None
    ndarray = schema.get("ndarray")
    if ndarray:
        return list(ndarray[0])
    return None
