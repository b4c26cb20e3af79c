"""Tabular inputs (lists, numpy arrays, dicts, pandas DataFrames) as named, typed columns and JSON rows."""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from .errors import SchemaViolation, SlipwayError

KINDS = ("float", "integer", "string", "boolean")


def is_dataframe(value: Any) -> bool:
    return type(value).__name__ == "DataFrame" and hasattr(value, "columns") and hasattr(value, "dtypes")


def is_series(value: Any) -> bool:
    return type(value).__name__ == "Series" and hasattr(value, "index") and hasattr(value, "dtype")


class Table:
    """Rows with optional column names and a kind per column (float, integer, string, boolean).

    ``rows`` hold plain Python values; a missing value is ``None``.
    """

    def __init__(self, names: Optional[List[str]], kinds: List[str], rows: List[List[Any]], frame: Any = None):
        self.names = names
        self.kinds = kinds
        self.rows = rows
        self.frame = frame  # the DataFrame it came from, if any (for the estimator's own predictions)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def width(self) -> int:
        return len(self.kinds)

    def head(self, count: int) -> "Table":
        frame = self.frame.iloc[:count] if self.frame is not None else None
        return Table(self.names, self.kinds, self.rows[:count], frame)

    def slice(self, start: int, stop: int) -> "Table":
        frame = self.frame.iloc[start:stop] if self.frame is not None else None
        return Table(self.names, self.kinds, self.rows[start:stop], frame)

    def column(self, index: int) -> List[Any]:
        return [row[index] for row in self.rows]

    def named_rows(self) -> List[Dict[str, Any]]:
        """Rows as feature objects (missing values left out, so optional features stay optional)."""
        assert self.names is not None
        return [{n: v for n, v in zip(self.names, row) if v is not None} for row in self.rows]

    def numeric_array(self, dtype: Any = np.float32) -> np.ndarray:
        """All columns as one numeric matrix (missing values as NaN)."""
        return np.array(
            [[math.nan if v is None else (float(v) if not isinstance(v, str) else _not_numeric(v)) for v in row]
             for row in self.rows],
            dtype=dtype,
        ).reshape(len(self.rows), self.width)


def _not_numeric(value: str) -> float:
    raise SlipwayError(f"the value {value!r} is not a number, but the model takes numbers")


def plain(value: Any) -> Any:
    """A JSON-ready Python value; NaN, infinities, None and pandas' NA become None."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, str):
        return value
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    try:
        if value != value:  # other NaN-likes
            return None
    except Exception:
        pass
    return str(value)


def _kind_of_dtype(dtype: Any) -> str:
    kind = getattr(dtype, "kind", "O")
    name = str(dtype)
    if name == "category":
        return "string"
    if kind == "b" or name == "boolean":
        return "boolean"
    if kind in "iu" or name.startswith(("Int", "UInt")):
        return "integer"
    if kind == "f" or name.startswith("Float"):
        return "float"
    return "string"


def _kind_of_values(values: Sequence[Any]) -> str:
    present = [v for v in values if v is not None]
    if not present:
        return "float"
    if all(isinstance(v, bool) for v in present):
        return "boolean"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "integer"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return "float"
    return "string"


def table(data: Any, names: Optional[Sequence[str]] = None, what: str = "X") -> Table:
    """Reads ``data``: a DataFrame (columns become features), a Series or dict (one row, or dict of columns), a
    list of dicts, a numpy array or a list of lists (positional, named by ``names`` when given)."""
    if isinstance(data, Table):
        return data
    if is_dataframe(data):
        columns = [str(c) for c in data.columns]
        if len(set(columns)) != len(columns):
            raise SlipwayError(f"{what}: the DataFrame has duplicate column names")
        # Booleans travel as 0/1 integers: the models take numbers.
        kinds = ["integer" if k == "boolean" else k for k in (_kind_of_dtype(d) for d in data.dtypes)]
        rows = []
        for record in data.itertuples(index=False, name=None):
            rows.append([_cast(plain(v), k) for v, k in zip(record, kinds)])
        if any(k == "string" for k in kinds):
            # Object columns holding only numbers are numbers.
            for index, kind in enumerate(kinds):
                if kind == "string" and str(data.dtypes.iloc[index]) == "object":
                    inferred = _kind_of_values([row[index] for row in rows])
                    if inferred != "string":
                        kinds[index] = inferred
        return Table(columns, kinds, rows, frame=data)
    if is_series(data):
        return table({str(k): v for k, v in data.items()}, what=what)
    if isinstance(data, dict):
        if data and all(isinstance(v, (list, tuple, np.ndarray)) for v in data.values()):
            columns = list(data)
            lengths = {len(v) for v in data.values()}
            if len(lengths) != 1:
                raise SlipwayError(f"{what}: the dict's columns have different lengths {sorted(lengths)}")
            rows = [[plain(data[c][i]) for c in columns] for i in range(lengths.pop())]
        else:
            columns = list(data)
            rows = [[plain(data[c]) for c in columns]]
        kinds = [_kind_of_values([row[i] for row in rows]) for i in range(len(columns))]
        return Table([str(c) for c in columns], kinds, rows)
    if isinstance(data, (list, tuple)) and data and all(isinstance(r, dict) for r in data):
        columns: List[str] = []
        for record in data:
            for key in record:
                if str(key) not in columns:
                    columns.append(str(key))
        rows = [[plain(record.get(c)) for c in columns] for record in data]
        kinds = [_kind_of_values([row[i] for row in rows]) for i in range(len(columns))]
        return Table(columns, kinds, rows)
    array = np.asarray(data, dtype=object) if not isinstance(data, np.ndarray) else data
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise SlipwayError(
            f"{what} must be non-empty rows: a 2-D array, a list of lists, a dict, a list of dicts or a DataFrame"
        )
    if array.dtype != object:
        kind = _kind_of_dtype(array.dtype)
        rows = [[_cast(plain(v), kind) for v in row] for row in array.tolist()]
        kinds = [kind] * array.shape[1]
    else:
        rows = [[plain(v) for v in row] for row in array.tolist()]
        kinds = [_kind_of_values([row[i] for row in rows]) for i in range(array.shape[1])]
    column_names = [str(n) for n in names] if names is not None else None
    if column_names is not None and len(column_names) != len(kinds):
        column_names = None
    return Table(column_names, kinds, rows)


def _cast(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "integer" and isinstance(value, bool):
        return int(value)
    if kind == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind == "float" and isinstance(value, bool):
        return float(value)
    return value


def check_against_schema(data: Table, schema: Dict[str, Any], what: str) -> None:
    """Raises SchemaViolation, naming every problem, when ``data`` does not fit ``schema`` (before anything is sent).

    Checks column names (unknown features, missing features), missing values in required features, and types.
    """
    features = schema.get("features") or {}
    order = (schema.get("ndarray") or [None])[0]
    violations: List[Dict[str, Any]] = []
    if data.names is None:
        if order is not None and data.width != len(order):
            raise SchemaViolation(
                f"{what} has {data.width} columns, but the schema's ndarray order has {len(order)}: "
                f"{', '.join(order)}"
            )
        names = order
    else:
        names = data.names
        if features:
            unknown = [n for n in names if n not in features]
            if unknown:
                raise SchemaViolation(
                    f"{what} has columns the schema does not know: {', '.join(unknown)}; "
                    f"the schema's features are {', '.join(sorted(features))} (drop or rename those columns)",
                    violations=[
                        {"row": None, "feature": n, "rule": "unknown", "expected": "one of the schema's features",
                         "got": "a column"} for n in unknown
                    ],
                )
            missing = [n for n, r in features.items() if n not in names and (r or {}).get("required", True)]
            if missing:
                raise SchemaViolation(
                    f"{what} lacks the required features {', '.join(missing)}",
                    violations=[
                        {"row": None, "feature": n, "rule": "required", "expected": "a value", "got": "nothing"}
                        for n in missing
                    ],
                )
    if not names or not features:
        return
    for column, name in enumerate(names):
        rules = features.get(name) or {}
        required = rules.get("required", True)
        kind = rules.get("type")
        for row_index, row in enumerate(data.rows):
            value = row[column]
            if value is None:
                if required:
                    violations.append({"row": row_index, "feature": name, "rule": "required",
                                       "expected": "a value", "got": "NaN or null"})
                continue
            if kind and not _matches(kind, value):
                violations.append({"row": row_index, "feature": name, "rule": "type", "expected": kind,
                                   "got": repr(value)})
    if violations:
        first = violations[0]
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        hint = ""
        if first["rule"] == "required":
            hint = (f"; feature '{first['feature']}' does not allow missing values: fill them in, or mark it "
                    "\"required\": false in the schema")
        raise SchemaViolation(
            f"{what}: row {first['row']}, feature '{first['feature']}': {first['rule']} expects "
            f"{first['expected']}, got {first['got']}{more}{hint}",
            violations=violations,
        )


def _matches(kind: str, value: Any) -> bool:
    if kind in ("float", "number"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer())
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    return True
