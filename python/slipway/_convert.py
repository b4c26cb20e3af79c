"""Turning a fitted model into ONNX bytes, and checking the result against the original before upload."""

from __future__ import annotations

import os
import pathlib
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from ._data import Table
from .errors import ConversionError

SUPPORTED = (
    "a fitted scikit-learn estimator or Pipeline, an XGBoost or LightGBM model (their scikit-learn API), "
    "an onnx.ModelProto, ONNX bytes, or a path to an .onnx file"
)


class Converted:
    """An ONNX model ready to upload, with what the SDK knows about how it takes its inputs.

    ``layout`` is ``"matrix"`` (one input ``[N, F]``) or ``"columns"`` (one ``[N, 1]`` input per feature, named like
    the features); ``inputs`` lists ``(name, element kind)`` of the model's inputs in order.
    """

    def __init__(
        self,
        data: bytes,
        layout: str,
        inputs: List[Tuple[str, str]],
        *,
        estimator: Any = None,
        is_classifier: bool = False,
        classes: Optional[List[Any]] = None,
        feature_names: Optional[List[str]] = None,
        n_features: Optional[int] = None,
        converter: str = "onnx",
    ):
        self.data = data
        self.layout = layout
        self.inputs = inputs
        self.estimator = estimator
        self.is_classifier = is_classifier
        self.classes = classes
        self.feature_names = feature_names
        self.n_features = n_features
        self.converter = converter


def library_of(model: Any) -> str:
    return type(model).__module__.split(".")[0]


def describe(model: Any) -> str:
    return f"{type(model).__module__}.{type(model).__name__}"


def load(model: Any, data: Optional[Table]) -> Converted:
    """Converts ``model`` (see ``SUPPORTED``) to ONNX; ``data`` (samples or reference) fixes the input types."""
    if isinstance(model, (str, os.PathLike)):
        path = pathlib.Path(model)
        if path.suffix.lower() != ".onnx":
            raise ConversionError(f"{path} is not an .onnx file; pass {SUPPORTED}")
        if not path.is_file():
            raise ConversionError(f"{path} does not exist")
        return _from_bytes(path.read_bytes(), str(path))
    if isinstance(model, (bytes, bytearray)):
        return _from_bytes(bytes(model), "the ONNX bytes")
    if type(model).__name__ == "ModelProto" and hasattr(model, "SerializeToString"):
        return _from_bytes(model.SerializeToString(), "the ModelProto")
    library = library_of(model)
    if library not in ("sklearn", "xgboost", "lightgbm", "imblearn") and not _is_sklearn_estimator(model):
        raise ConversionError(f"cannot deploy a {describe(model)}: pass {SUPPORTED}")
    _require_fitted(model)
    return _convert_estimator(model, data)


def _is_sklearn_estimator(model: Any) -> bool:
    try:
        from sklearn.base import BaseEstimator
    except ImportError:
        return False
    return isinstance(model, BaseEstimator)


def _require_fitted(model: Any) -> None:
    try:
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted
    except ImportError:
        raise ConversionError(
            "converting a model needs scikit-learn and skl2onnx: pip install 'slipway-sdk[sklearn]'"
        ) from None
    try:
        check_is_fitted(model)
    except NotFittedError:
        raise ConversionError(
            f"the {type(model).__name__} is not fitted: call .fit(X, y) before deploying it"
        ) from None
    except TypeError as error:
        raise ConversionError(f"cannot deploy a {describe(model)}: {error}; pass {SUPPORTED}") from None


def _from_bytes(data: bytes, what: str) -> Converted:
    if not data:
        raise ConversionError(f"{what} is empty")
    inputs: List[Tuple[str, str]] = []
    try:
        import onnx
    except ImportError:
        return Converted(data, "matrix", inputs)
    try:
        proto = onnx.load_from_string(data)
    except Exception as error:
        raise ConversionError(f"{what} is not a valid ONNX model: {error}") from None
    initializers = {i.name for i in proto.graph.initializer}
    kinds = {1: "float", 11: "float", 10: "float", 7: "integer", 6: "integer", 8: "string", 9: "boolean"}
    for value in proto.graph.input:
        if value.name in initializers:
            continue
        element = value.type.tensor_type.elem_type
        inputs.append((value.name, kinds.get(element, "float")))
    layout = "columns" if len(inputs) > 1 else "matrix"
    return Converted(data, layout, inputs)


# MARK: estimators


def _final_step(model: Any) -> Any:
    steps = getattr(model, "steps", None)
    return _final_step(steps[-1][1]) if steps else model


def _contains(model: Any, name: str) -> bool:
    if type(model).__name__ == name:
        return True
    for _, step in getattr(model, "steps", None) or []:
        if _contains(step, name):
            return True
    for _, step, *_ in getattr(model, "transformers_", None) or []:
        if hasattr(step, "fit") and _contains(step, name):
            return True
    return False


def _is_classifier(model: Any) -> bool:
    try:
        from sklearn.base import is_classifier

        if is_classifier(model):
            return True
    except ImportError:
        pass
    return getattr(_final_step(model), "_estimator_type", None) == "classifier"


def _register_boosters() -> bool:
    """Lets skl2onnx convert XGBoost/LightGBM steps inside a Pipeline with onnxmltools' converters."""
    try:
        from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm
        from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
        from skl2onnx import update_registered_converter
        from skl2onnx.common.shape_calculator import (
            calculate_linear_classifier_output_shapes,
            calculate_linear_regressor_output_shapes,
        )
    except ImportError:
        return False
    options = {"nocl": [True, False], "zipmap": [True, False, "columns"]}
    try:
        from xgboost import XGBClassifier, XGBRegressor

        update_registered_converter(XGBClassifier, "XGBoostXGBClassifier",
                                    calculate_linear_classifier_output_shapes, convert_xgboost, options=options)
        update_registered_converter(XGBRegressor, "XGBoostXGBRegressor",
                                    calculate_linear_regressor_output_shapes, convert_xgboost)
    except ImportError:
        pass
    try:
        from lightgbm import LGBMClassifier, LGBMRegressor

        update_registered_converter(LGBMClassifier, "LightGbmLGBMClassifier",
                                    calculate_linear_classifier_output_shapes, convert_lightgbm, options=options)
        update_registered_converter(LGBMRegressor, "LightGbmLGBMRegressor",
                                    calculate_linear_regressor_output_shapes, convert_lightgbm)
    except ImportError:
        pass
    return True


def _convert_estimator(model: Any, data: Optional[Table]) -> Converted:
    n_features = getattr(model, "n_features_in_", None)
    if n_features is None:
        n_features = getattr(_first_step(model), "n_features_in_", None)
    names = getattr(model, "feature_names_in_", None)
    names = [str(n) for n in names] if names is not None else None
    if data is not None and n_features is not None and data.width != n_features:
        raise ConversionError(
            f"the {type(model).__name__} was fitted on {n_features} features, but the data given has "
            f"{data.width} columns"
        )
    if n_features is None and data is None:
        raise ConversionError(
            f"cannot tell how many features the {type(model).__name__} takes: give samples with .samples(X)"
        )
    width = n_features if n_features is not None else data.width
    kinds = data.kinds if data is not None else ["float"] * width
    columnwise = any(k == "string" for k in kinds) or (names is not None and _contains(model, "ColumnTransformer"))
    library = library_of(_final_step(model))
    is_classifier = _is_classifier(model)
    classes = getattr(model, "classes_", None)
    classes = list(classes) if classes is not None else None
    if columnwise and names is None:
        names = data.names if data is not None and data.names else [f"x{i}" for i in range(width)]
    try:
        if library in ("xgboost", "lightgbm") and getattr(model, "steps", None) is None and not columnwise:
            onx = _convert_booster(model, library, width)
            converter = "onnxmltools"
        else:
            onx = _convert_sklearn(model, width, names if columnwise else None, kinds, is_classifier)
            converter = "skl2onnx"
    except ConversionError:
        raise
    except ImportError as error:
        extra = "xgboost" if library == "xgboost" else "lightgbm" if library == "lightgbm" else "sklearn"
        raise ConversionError(
            f"converting a {type(model).__name__} needs {error.name or 'a converter'}: "
            f"pip install 'slipway-sdk[{extra}]'"
        ) from None
    except Exception as error:
        raise ConversionError(
            f"the {describe(model)} cannot be converted to ONNX ({type(error).__name__}: "
            f"{str(error).strip().splitlines()[0] if str(error).strip() else 'no message'}); supported are "
            "the estimators skl2onnx and onnxmltools convert. Export it yourself and pass the .onnx file, or "
            "deploy a supported estimator"
        ) from None
    _finalize(onx)
    converted = _from_bytes(onx.SerializeToString(), "the converted model")
    converted.estimator = model
    converted.is_classifier = is_classifier
    converted.classes = classes
    converted.feature_names = names
    converted.n_features = width
    converted.converter = converter
    return converted


def _first_step(model: Any) -> Any:
    steps = getattr(model, "steps", None)
    return steps[0][1] if steps else model


def _convert_booster(model: Any, library: str, width: int) -> Any:
    import onnxmltools
    from onnxmltools.convert.common.data_types import FloatTensorType

    initial = [("input", FloatTensorType([None, width]))]
    if library == "xgboost":
        booster = model.get_booster()
        names = booster.feature_names
        if names and any(n != f"f{i}" for i, n in enumerate(names)):
            # onnxmltools reads tree splits by the names f0, f1…; a copy of the booster uses those names.
            booster = booster.copy()
            booster.feature_names = None
            clone = type(model)(**model.get_params())
            clone._Booster = booster
            for attribute in ("n_classes_", "classes_", "objective", "_le", "n_features_in_"):
                if hasattr(model, attribute):
                    try:
                        setattr(clone, attribute, getattr(model, attribute))
                    except AttributeError:
                        pass
            model = clone
        return onnxmltools.convert_xgboost(model, initial_types=initial)
    onx = onnxmltools.convert_lightgbm(model, initial_types=initial, zipmap=False)
    for output in onx.graph.output:
        tensor = output.type.tensor_type if output.type.HasField("tensor_type") else None
        if tensor is not None and tensor.HasField("shape") and tensor.shape.dim:
            first = tensor.shape.dim[0]
            if first.HasField("dim_value") and first.dim_value == 1:
                first.Clear()
    return onx


def _convert_sklearn(model: Any, width: int, names: Optional[List[str]], kinds: List[str], classifier: bool) -> Any:
    from skl2onnx import convert_sklearn, get_latest_tested_opset_version
    from skl2onnx.common.data_types import FloatTensorType, Int64TensorType, StringTensorType

    boosters = _register_boosters() and any(
        library_of(step) in ("xgboost", "lightgbm") for step in _steps(model)
    )
    opset: Any = min(get_latest_tested_opset_version(), 21)
    if boosters:
        opset = {"": opset, "ai.onnx.ml": 3}

    def types(integers_as_floats: bool) -> List[Tuple[str, Any]]:
        if names is None:
            return [("input", FloatTensorType([None, width]))]
        result = []
        for name, kind in zip(names, kinds):
            if kind == "string":
                result.append((name, StringTensorType([None, 1])))
            elif kind == "integer" and not integers_as_floats:
                result.append((name, Int64TensorType([None, 1])))
            else:
                result.append((name, FloatTensorType([None, 1])))
        return result

    options = {id(_final_step(model)): {"zipmap": False}} if classifier else None
    attempts = [(False, options)]
    if names is not None and "integer" in kinds:
        attempts.append((True, options))
    if options:
        attempts += [(flag, None) for flag, _ in list(attempts)]
    last: Optional[Exception] = None
    for integers_as_floats, attempt_options in attempts:
        try:
            return convert_sklearn(model, initial_types=types(integers_as_floats), target_opset=opset,
                                   options=attempt_options)
        except Exception as error:  # the next attempt may fit; the first error is the one to report
            last = last or error
    assert last is not None
    raise last


def _steps(model: Any) -> List[Any]:
    result = [model]
    for _, step in getattr(model, "steps", None) or []:
        result += _steps(step)
    return result


def _finalize(onx: Any) -> None:
    """Reproducible bytes: no random graph name or doc strings, one entry per opset domain."""
    onx.doc_string = ""
    onx.graph.doc_string = ""
    onx.graph.name = "slipway"
    imports = {}
    for item in onx.opset_import:
        imports[item.domain] = max(item.version, imports.get(item.domain, 0))
    del onx.opset_import[:]
    for domain, version in sorted(imports.items()):
        onx.opset_import.add(domain=domain, version=version)


# MARK: checking


def feeds(converted: Converted, data: Table) -> Dict[str, np.ndarray]:
    """ONNX Runtime inputs for ``data`` laid out as the server lays out rows."""
    if converted.layout == "matrix" or len(converted.inputs) <= 1:
        name = converted.inputs[0][0] if converted.inputs else "input"
        kind = converted.inputs[0][1] if converted.inputs else "float"
        dtype = np.int64 if kind == "integer" else np.float32
        return {name: data.numeric_array(np.float64).astype(dtype)}
    positions = {n: i for i, n in enumerate(data.names or [])}
    result = {}
    for index, (name, kind) in enumerate(converted.inputs):
        column = data.column(positions.get(name, index))
        if kind == "string":
            result[name] = np.array(["" if v is None else str(v) for v in column], dtype=object).reshape(-1, 1)
        elif kind == "integer":
            result[name] = np.array([0 if v is None else int(v) for v in column], dtype=np.int64).reshape(-1, 1)
        else:
            result[name] = np.array([np.nan if v is None else float(v) for v in column],
                                    dtype=np.float32).reshape(-1, 1)
    return result


class Check:
    """What running the converted model on the samples gave: labels or numbers per row, for ``samples.expected``."""

    def __init__(self, expected: Optional[List[Any]], largest_difference: Optional[float]):
        self.expected = expected
        self.largest_difference = largest_difference


def run_onnx(converted: Converted, data: Table) -> Optional[List[np.ndarray]]:
    """The converted model's outputs on ``data`` with ONNX Runtime, or None when it is not installed."""
    try:
        import onnxruntime
    except ImportError:
        return None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    try:
        session = onnxruntime.InferenceSession(converted.data, options, providers=["CPUExecutionProvider"])
        outputs = session.run(None, feeds(converted, data))
    except Exception as error:
        raise ConversionError(f"ONNX Runtime cannot run the converted model on the samples: {error}") from None
    result = []
    for value in outputs:
        if isinstance(value, list) and value and isinstance(value[0], dict):
            keys = sorted(value[0])
            value = np.array([[row[k] for k in keys] for row in value], dtype=np.float64)
        result.append(np.asarray(value))
    return result


def check(converted: Converted, data: Table, tolerance: float) -> Check:
    """Runs the converted model on ``data`` and compares it with the original estimator.

    Raises ConversionError with the largest difference when they disagree beyond ``tolerance`` (absolute for
    probabilities, absolute + relative for regression outputs) or when a predicted label differs.
    """
    outputs = run_onnx(converted, data)
    estimator = converted.estimator
    if outputs is None:
        if estimator is None:
            return Check(None, None)
        return Check(_expected_from_estimator(converted, data), None)
    if estimator is None:
        return Check(_expected_from_onnx(converted, outputs), None)
    original_input = data.frame if data.frame is not None else data.numeric_array(np.float64)
    rows = len(data)
    largest = 0.0
    where = ""
    if converted.is_classifier:
        labels = np.asarray(outputs[0]).reshape(-1)
        theirs = np.asarray(estimator.predict(original_input)).reshape(-1)
        probabilities = _probabilities(outputs, rows)
        original_probabilities = None
        if probabilities is not None and hasattr(estimator, "predict_proba"):
            try:
                original_probabilities = np.asarray(estimator.predict_proba(original_input), dtype=np.float64)
            except AttributeError:
                original_probabilities = None
        if original_probabilities is not None and original_probabilities.shape == probabilities.shape:
            difference = np.abs(probabilities - original_probabilities)
            row, column = np.unravel_index(int(np.argmax(difference)), difference.shape)
            largest = float(difference[row, column])
            label = converted.classes[column] if converted.classes is not None else column
            where = f"row {row}, probability of class {label!r}: {probabilities[row, column]:.6g} vs " \
                    f"{original_probabilities[row, column]:.6g}"
            if largest > tolerance:
                raise ConversionError(_disagreement(converted, largest, where, tolerance), largest_difference=largest)
        mismatched = [i for i in range(rows) if str(_plain(labels[i])) != str(_plain(theirs[i]))]
        if mismatched:
            i = mismatched[0]
            raise ConversionError(
                _disagreement(converted, 1.0, f"row {i}: label {_plain(labels[i])!r} vs {_plain(theirs[i])!r} "
                              f"({len(mismatched)} of {rows} labels differ)", tolerance),
                largest_difference=max(largest, 1.0),
            )
        return Check([_plain(v) for v in labels], largest)
    values = np.asarray(outputs[0], dtype=np.float64).reshape(rows, -1)
    theirs = np.asarray(estimator.predict(original_input), dtype=np.float64).reshape(rows, -1)
    if values.shape != theirs.shape:
        raise ConversionError(f"the converted model gives {values.shape} outputs, the estimator {theirs.shape}")
    difference = np.abs(values - theirs)
    allowed = tolerance + tolerance * np.abs(theirs)
    excess = difference - allowed
    row, column = np.unravel_index(int(np.argmax(excess)), excess.shape)
    largest = float(np.max(difference))
    if excess[row, column] > 0:
        raise ConversionError(
            _disagreement(converted, float(difference[row, column]),
                          f"row {row}: {values[row, column]:.6g} vs {theirs[row, column]:.6g}", tolerance),
            largest_difference=float(difference[row, column]),
        )
    expected = [float(v[0]) if len(v) == 1 else [float(x) for x in v] for v in values]
    return Check(expected, largest)


def _disagreement(converted: Converted, largest: float, where: str, tolerance: float) -> str:
    return (
        f"the converted model disagrees with the original {type(converted.estimator).__name__} on the samples: "
        f"largest difference {largest:.6g} ({where}), tolerance {tolerance:g}. Nothing was uploaded. Check the "
        "input types (a DataFrame's dtypes decide them), or pass a larger tolerance to .model(…, tolerance=…)"
    )


def _probabilities(outputs: List[np.ndarray], rows: int) -> Optional[np.ndarray]:
    for value in outputs[1:]:
        array = np.asarray(value)
        if array.ndim == 2 and array.shape[0] == rows and array.dtype.kind == "f":
            return array.astype(np.float64)
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode()
    return value


def _expected_from_onnx(converted: Converted, outputs: List[np.ndarray]) -> Optional[List[Any]]:
    first = np.asarray(outputs[0])
    if first.dtype.kind in "iuOSU" and first.ndim <= 2:
        return [_plain(v) for v in first.reshape(-1)] if first.size == first.shape[0] else None
    if first.dtype.kind == "f" and first.ndim == 2 and first.shape[1] == 1:
        return [float(v) for v in first.reshape(-1)]
    return None


def _expected_from_estimator(converted: Converted, data: Table) -> Optional[List[Any]]:
    original_input = data.frame if data.frame is not None else data.numeric_array(np.float64)
    values = np.asarray(converted.estimator.predict(original_input))
    if converted.is_classifier:
        return [_plain(v) for v in values.reshape(-1)]
    if values.ndim == 1 or values.shape[1] == 1:
        return [float(v) for v in values.reshape(-1)]
    return None
