#!/usr/bin/env python3
"""Build the Slipway model zoo: small classic-ML models exported to ONNX.

Usage: scripts/make-zoo.py [OUTDIR]        (default: Tests/Fixtures/zoo)

Every model is trained on a dataset bundled with scikit-learn (no downloads)
with fixed seeds, converted to ONNX (skl2onnx / onnxmltools) and then run
through ONNX Runtime (one thread) on fixed test rows.  For each model this
writes OUTDIR/<name>/model.onnx and OUTDIR/<name>/expected.json, plus an
OUTDIR/README.md describing the zoo.  Requirements: scripts/requirements-zoo.txt.

expected.json:
  {"model", "source", "tolerance",
   "inputs":  [{"name", "datatype", "shape", "data"}],
   "outputs": [{"name", "datatype", "shape", "data"}
               | {"name", "datatype": "MAP", "keys", "shape", "data"}]}
datatype is FP32 | FP64 | INT64 | INT32 | BOOL | BYTES (strings) | MAP
(ZipMap output: a list of dicts in ORT; keys are the class labels in ORT's
dict order and data is the [N, C] probability matrix in that key order).
NaN inputs are written as the bare JSON literal NaN.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

N_TEST_ROWS = 20
SEED = 0
DEFAULT_TOLERANCE = 1e-5
# The seven models used by benchmarks/engine.sh; their sizes are fixed.
BENCHMARK_MODELS = (
    "iris_random_forest",
    "breast_cancer_gradient_boosting",
    "breast_cancer_xgboost",
    "breast_cancer_lightgbm",
    "breast_cancer_mlp",
    "digits_logistic_regression",
    "diabetes_random_forest_regressor",
)


# --------------------------------------------------------------------------
# Data


@dataclass
class Data:
    """Train/test split. X_* may be a dict of named input arrays."""

    X_train: Any
    y_train: np.ndarray
    X_test: Any  # exactly the rows written to expected.json
    y_test: np.ndarray
    feed: dict[str, np.ndarray]  # ORT feed for X_test
    n_features: int


def _load(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets

    loader = {
        "iris": datasets.load_iris,
        "breast_cancer": datasets.load_breast_cancer,
        "diabetes": datasets.load_diabetes,
        "wine": datasets.load_wine,
        "digits": datasets.load_digits,
    }[dataset]
    X, y = loader(return_X_y=True)
    return X, y


def _split(X, y, classification: bool):
    from sklearn.model_selection import train_test_split

    return train_test_split(
        X, y, test_size=0.25, random_state=SEED, stratify=y if classification else None
    )


def make_data(
    dataset: str,
    classification: bool,
    dtype=np.float32,
    nan_fraction: float = 0.0,
    string_labels: bool = False,
) -> Data:
    X, y = _load(dataset)
    X = X.astype(dtype)
    if nan_fraction:
        rng = np.random.RandomState(SEED + 1)
        X = X.copy()
        X[rng.rand(*X.shape) < nan_fraction] = np.nan
    if string_labels:
        from sklearn import datasets

        names = datasets.load_iris().target_names if dataset == "iris" else None
        assert names is not None, "string labels only wired up for iris"
        y = np.array([str(names[i]) for i in y], dtype=object)
    X_train, X_test, y_train, y_test = _split(X, y, classification)
    X_test = X_test[:N_TEST_ROWS]
    y_test = y_test[:N_TEST_ROWS]
    return Data(X_train, y_train, X_test, y_test, {"input": X_test}, X.shape[1])


def make_wine_frame_data() -> Data:
    """A small mixed-type table derived from wine, for the ColumnTransformer.

    Columns: 4 numeric float features, "color_band" (int64 0..3, quartile of
    color_intensity) and "proline_level" (string low/mid/high by proline).
    """
    from sklearn import datasets

    wine = datasets.load_wine()
    X, y = wine.data, wine.target
    names = list(wine.feature_names)
    numeric = X[:, [names.index(c) for c in ("alcohol", "malic_acid", "flavanoids", "hue")]]
    color = X[:, names.index("color_intensity")]
    color_band = np.digitize(color, np.quantile(color, [0.25, 0.5, 0.75])).astype(np.int64)
    proline = X[:, names.index("proline")]
    level = np.where(proline < 600, "low", np.where(proline < 1000, "mid", "high"))

    table = np.empty((X.shape[0], 6), dtype=object)
    table[:, :4] = numeric.astype(np.float32)
    table[:, 4] = color_band
    table[:, 5] = level
    X_train, X_test, y_train, y_test = _split(table, y, classification=True)
    X_test, y_test = X_test[:N_TEST_ROWS], y_test[:N_TEST_ROWS]
    feed = {
        "numeric": X_test[:, :4].astype(np.float32),
        "color_band": X_test[:, 4:5].astype(np.int64),
        "proline_level": X_test[:, 5:6].astype(str).astype(object),
    }
    return Data(X_train, y_train, X_test, y_test, feed, 6)


# --------------------------------------------------------------------------
# Model specs


@dataclass
class Spec:
    name: str
    source: str
    build: Callable[[], Any]
    data: Callable[[], Data]
    converter: str = "skl2onnx"  # skl2onnx | onnxmltools-xgboost | onnxmltools-lightgbm
    target_opset: int | None = None  # ai.onnx opset; None = converter default
    zipmap: bool = True
    input_type: str = "float"  # float | double | wine-frame


def _skl(name, source, build, dataset, classification, **kw):
    data_kw = {k: kw.pop(k) for k in ("nan_fraction", "string_labels") if k in kw}
    dtype = np.float64 if kw.get("input_type") == "double" else np.float32
    return Spec(
        name,
        source,
        build,
        lambda: make_data(dataset, classification, dtype=dtype, **data_kw),
        **kw,
    )


def specs() -> list[Spec]:
    from lightgbm import LGBMClassifier, LGBMRegressor
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        GradientBoostingRegressor,
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import (
        Binarizer,
        MinMaxScaler,
        Normalizer,
        OneHotEncoder,
        StandardScaler,
    )
    from sklearn.svm import SVC, SVR, LinearSVC, LinearSVR
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
    from xgboost import XGBClassifier, XGBRegressor

    def xgb_cls(n, depth=6):
        return lambda: XGBClassifier(
            n_estimators=n, max_depth=depth, random_state=SEED, n_jobs=1, tree_method="exact"
        )

    def lgbm(cls, n, leaves=31):
        return lambda: cls(
            n_estimators=n,
            num_leaves=leaves,
            random_state=SEED,
            n_jobs=1,
            deterministic=True,
            force_row_wise=True,
            verbose=-1,
        )

    def column_transformer_model():
        pre = ColumnTransformer(
            [
                ("numeric", StandardScaler(), [0, 1, 2, 3]),
                ("color_band", OneHotEncoder(handle_unknown="ignore"), [4]),
                ("proline_level", OneHotEncoder(handle_unknown="ignore"), [5]),
            ]
        )
        return Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=1000))])

    S = []
    # ---- the seven benchmark models (sizes fixed) ----
    S += [
        _skl("iris_random_forest", "sklearn RandomForestClassifier(n_estimators=100) on iris",
             lambda: RandomForestClassifier(n_estimators=100, random_state=SEED), "iris", True),
        _skl("breast_cancer_gradient_boosting",
             "sklearn GradientBoostingClassifier(n_estimators=100) on breast_cancer",
             lambda: GradientBoostingClassifier(n_estimators=100, random_state=SEED),
             "breast_cancer", True),
        _skl("breast_cancer_xgboost", "xgboost XGBClassifier(n_estimators=100) on breast_cancer "
             "(onnxmltools.convert_xgboost)", xgb_cls(100), "breast_cancer", True,
             converter="onnxmltools-xgboost"),
        _skl("breast_cancer_lightgbm", "lightgbm LGBMClassifier(n_estimators=100) on breast_cancer "
             "(onnxmltools.convert_lightgbm)", lgbm(LGBMClassifier, 100), "breast_cancer", True,
             converter="onnxmltools-lightgbm"),
        _skl("breast_cancer_mlp", "sklearn Pipeline(StandardScaler, MLPClassifier(hidden_layer_sizes=(64, 32))) "
             "on breast_cancer",
             lambda: make_pipeline(StandardScaler(), MLPClassifier(
                 hidden_layer_sizes=(64, 32), max_iter=500, random_state=SEED)),
             "breast_cancer", True),
        _skl("digits_logistic_regression", "sklearn LogisticRegression(max_iter=2000) on digits",
             lambda: LogisticRegression(max_iter=2000), "digits", True),
        _skl("diabetes_random_forest_regressor",
             "sklearn RandomForestRegressor(n_estimators=100) on diabetes",
             lambda: RandomForestRegressor(n_estimators=100, random_state=SEED), "diabetes", False),
    ]
    # ---- linear models ----
    S += [
        _skl("diabetes_linear_regression", "sklearn LinearRegression on diabetes",
             LinearRegression, "diabetes", False, target_opset=12),
        _skl("diabetes_ridge_double", "sklearn Ridge(alpha=1.0) on diabetes, float64 input",
             lambda: Ridge(alpha=1.0), "diabetes", False, input_type="double", target_opset=15),
        _skl("breast_cancer_logistic_regression",
             "sklearn LogisticRegression(solver='liblinear') on breast_cancer (binary)",
             lambda: LogisticRegression(solver="liblinear"), "breast_cancer", True, target_opset=15),
        _skl("iris_logistic_regression", "sklearn LogisticRegression(max_iter=1000) on iris (multiclass)",
             lambda: LogisticRegression(max_iter=1000), "iris", True),
        _skl("iris_logistic_regression_no_zipmap",
             "sklearn LogisticRegression(max_iter=1000) on iris (multiclass), zipmap=False",
             lambda: LogisticRegression(max_iter=1000), "iris", True, zipmap=False, target_opset=17),
        _skl("breast_cancer_linear_svc", "sklearn LinearSVC(C=0.01) on breast_cancer",
             lambda: LinearSVC(C=0.01, max_iter=20000, random_state=SEED), "breast_cancer", True,
             target_opset=12),
        _skl("diabetes_linear_svr", "sklearn LinearSVR(C=100) on diabetes",
             lambda: LinearSVR(C=100.0, max_iter=20000, random_state=SEED), "diabetes", False),
    ]
    # ---- SVMs ----
    S += [
        _skl("iris_svc_linear", "sklearn SVC(kernel='linear') on iris (multiclass one-vs-one, no probabilities: "
             "the probability map holds the OvR-shaped decision scores)",
             lambda: SVC(kernel="linear"), "iris", True),
        _skl("iris_svc_poly", "sklearn SVC(kernel='poly', degree=3) on iris (no probabilities; decision scores)",
             lambda: SVC(kernel="poly", degree=3), "iris", True, target_opset=15),
        _skl("breast_cancer_svc_rbf_proba",
             "sklearn Pipeline(StandardScaler, SVC(kernel='rbf', probability=True)) on breast_cancer",
             lambda: make_pipeline(StandardScaler(), SVC(kernel="rbf", probability=True, random_state=SEED)),
             "breast_cancer", True),
        _skl("wine_svc_sigmoid_proba",
             "sklearn Pipeline(StandardScaler, SVC(kernel='sigmoid', probability=True)) on wine",
             lambda: make_pipeline(StandardScaler(), SVC(kernel="sigmoid", C=0.5, probability=True,
                                                         random_state=SEED)),
             "wine", True, target_opset=17),
        _skl("diabetes_svr", "sklearn SVR(kernel='rbf', C=100) on diabetes",
             lambda: SVR(kernel="rbf", C=100.0), "diabetes", False),
    ]
    # ---- trees and ensembles ----
    S += [
        _skl("iris_decision_tree_string_labels",
             "sklearn DecisionTreeClassifier(max_depth=4) on iris with string class labels",
             lambda: DecisionTreeClassifier(max_depth=4, random_state=SEED), "iris", True,
             string_labels=True, target_opset=12),
        _skl("diabetes_decision_tree_regressor", "sklearn DecisionTreeRegressor(max_depth=6) on diabetes",
             lambda: DecisionTreeRegressor(max_depth=6, random_state=SEED), "diabetes", False),
        _skl("iris_random_forest_no_zipmap",
             "sklearn RandomForestClassifier(n_estimators=10, max_depth=4) on iris, zipmap=False",
             lambda: RandomForestClassifier(n_estimators=10, max_depth=4, random_state=SEED),
             "iris", True, zipmap=False, target_opset=15),
        _skl("wine_random_forest", "sklearn RandomForestClassifier(n_estimators=20, max_depth=5) on wine",
             lambda: RandomForestClassifier(n_estimators=20, max_depth=5, random_state=SEED),
             "wine", True, target_opset=21),
        _skl("diabetes_gradient_boosting_regressor",
             "sklearn GradientBoostingRegressor(n_estimators=50, max_depth=3) on diabetes",
             lambda: GradientBoostingRegressor(n_estimators=50, max_depth=3, random_state=SEED),
             "diabetes", False, target_opset=15),
        _skl("wine_gradient_boosting", "sklearn GradientBoostingClassifier(n_estimators=20, max_depth=2) "
             "on wine (multiclass)",
             lambda: GradientBoostingClassifier(n_estimators=20, max_depth=2, random_state=SEED),
             "wine", True),
        _skl("breast_cancer_hist_gradient_boosting_nan",
             "sklearn HistGradientBoostingClassifier(max_iter=30, max_leaf_nodes=15) on breast_cancer "
             "with ~10% NaN features",
             lambda: HistGradientBoostingClassifier(max_iter=30, max_leaf_nodes=15, random_state=SEED),
             "breast_cancer", True, nan_fraction=0.1),
        _skl("diabetes_hist_gradient_boosting_regressor_nan",
             "sklearn HistGradientBoostingRegressor(max_iter=30, max_leaf_nodes=15) on diabetes "
             "with ~10% NaN features",
             lambda: HistGradientBoostingRegressor(max_iter=30, max_leaf_nodes=15, random_state=SEED),
             "diabetes", False, nan_fraction=0.1, target_opset=17),
    ]
    # ---- neural nets, neighbours ----
    S += [
        _skl("diabetes_mlp_regressor",
             "sklearn Pipeline(StandardScaler, MLPRegressor(hidden_layer_sizes=(32, 16))) on diabetes",
             lambda: make_pipeline(StandardScaler(), MLPRegressor(
                 hidden_layer_sizes=(32, 16), learning_rate_init=0.01, max_iter=1000, random_state=SEED)),
             "diabetes", False, target_opset=15),
        _skl("iris_kneighbors_classifier", "sklearn KNeighborsClassifier(n_neighbors=5) on iris",
             lambda: KNeighborsClassifier(n_neighbors=5), "iris", True),
        _skl("diabetes_kneighbors_regressor", "sklearn KNeighborsRegressor(n_neighbors=5) on diabetes",
             lambda: KNeighborsRegressor(n_neighbors=5), "diabetes", False, target_opset=15),
    ]
    # ---- pipelines / preprocessing ----
    S += [
        _skl("breast_cancer_scaler_logistic_regression",
             "sklearn Pipeline(StandardScaler, LogisticRegression) on breast_cancer",
             lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
             "breast_cancer", True, target_opset=12),
        Spec("wine_column_transformer",
             "sklearn Pipeline(ColumnTransformer(StandardScaler on 4 numeric columns, OneHotEncoder on "
             "int64 color_band, OneHotEncoder on string proline_level), LogisticRegression) on a table "
             "derived from wine",
             column_transformer_model, make_wine_frame_data, input_type="wine-frame", target_opset=15),
        _skl("iris_normalizer_logistic_regression",
             "sklearn Pipeline(Normalizer(norm='l2'), LogisticRegression) on iris",
             lambda: make_pipeline(Normalizer(norm="l2"), LogisticRegression(max_iter=1000)),
             "iris", True),
        _skl("wine_minmax_svc_rbf",
             "sklearn Pipeline(MinMaxScaler, SVC(kernel='rbf')) on wine",
             lambda: make_pipeline(MinMaxScaler(), SVC(kernel="rbf")), "wine", True, target_opset=12),
        _skl("breast_cancer_binarizer_logistic_regression",
             "sklearn Pipeline(StandardScaler, Binarizer(threshold=0), LogisticRegression) on breast_cancer",
             lambda: make_pipeline(StandardScaler(), Binarizer(threshold=0.0), LogisticRegression(max_iter=1000)),
             "breast_cancer", True),
        _skl("diabetes_imputer_ridge_nan",
             "sklearn Pipeline(SimpleImputer(strategy='mean'), Ridge) on diabetes with ~10% NaN features",
             lambda: make_pipeline(SimpleImputer(strategy="mean"), Ridge(alpha=0.1)),
             "diabetes", False, nan_fraction=0.1),
    ]
    # ---- xgboost / lightgbm variants ----
    S += [
        _skl("breast_cancer_xgboost_zipmap",
             "xgboost XGBClassifier(n_estimators=10, max_depth=3) on breast_cancer "
             "(skl2onnx with the onnxmltools converter registered, ZipMap output)",
             xgb_cls(10, 3), "breast_cancer", True),
        _skl("iris_xgboost", "xgboost XGBClassifier(n_estimators=10, max_depth=3) on iris (multiclass, "
             "onnxmltools.convert_xgboost)", xgb_cls(10, 3), "iris", True, converter="onnxmltools-xgboost"),
        _skl("iris_xgboost_zipmap",
             "xgboost XGBClassifier(n_estimators=10, max_depth=3) on iris (multiclass, skl2onnx with the "
             "onnxmltools converter registered, ZipMap output)", xgb_cls(10, 3), "iris", True,
             target_opset=15),
        _skl("diabetes_xgboost_regressor", "xgboost XGBRegressor(n_estimators=20, max_depth=3) on diabetes "
             "(onnxmltools.convert_xgboost)",
             lambda: XGBRegressor(n_estimators=20, max_depth=3, random_state=SEED, n_jobs=1, tree_method="exact"),
             "diabetes", False, converter="onnxmltools-xgboost"),
        _skl("breast_cancer_lightgbm_small",
             "lightgbm LGBMClassifier(n_estimators=10, num_leaves=8) on breast_cancer (binary, "
             "skl2onnx with the onnxmltools converter registered, zipmap=False)",
             lgbm(LGBMClassifier, 10, 8), "breast_cancer", True, zipmap=False, target_opset=15),
        _skl("iris_lightgbm", "lightgbm LGBMClassifier(n_estimators=10, num_leaves=8) on iris (multiclass, "
             "onnxmltools.convert_lightgbm)", lgbm(LGBMClassifier, 10, 8), "iris", True,
             converter="onnxmltools-lightgbm"),
        _skl("diabetes_lightgbm_regressor", "lightgbm LGBMRegressor(n_estimators=20, num_leaves=8) on diabetes "
             "(onnxmltools.convert_lightgbm)", lgbm(LGBMRegressor, 20, 8), "diabetes", False,
             converter="onnxmltools-lightgbm"),
    ]
    names = [s.name for s in S]
    assert len(names) == len(set(names)), "duplicate model names"
    return S


# --------------------------------------------------------------------------
# Conversion


def register_boosters() -> None:
    """Let skl2onnx convert XGBoost/LightGBM models via onnxmltools' converters."""
    from lightgbm import LGBMClassifier, LGBMRegressor
    from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm
    from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )
    from xgboost import XGBClassifier, XGBRegressor

    cls_options = {"nocl": [True, False], "zipmap": [True, False, "columns"]}
    update_registered_converter(XGBClassifier, "XGBoostXGBClassifier",
                                calculate_linear_classifier_output_shapes, convert_xgboost,
                                options=cls_options)
    update_registered_converter(XGBRegressor, "XGBoostXGBRegressor",
                                calculate_linear_regressor_output_shapes, convert_xgboost)
    update_registered_converter(LGBMClassifier, "LightGbmLGBMClassifier",
                                calculate_linear_classifier_output_shapes, convert_lightgbm,
                                options=cls_options)
    update_registered_converter(LGBMRegressor, "LightGbmLGBMRegressor",
                                calculate_linear_regressor_output_shapes, convert_lightgbm)


def initial_types(spec: Spec, data: Data):
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )

    if spec.input_type == "wine-frame":
        return [
            ("numeric", FloatTensorType([None, 4])),
            ("color_band", Int64TensorType([None, 1])),
            ("proline_level", StringTensorType([None, 1])),
        ]
    if spec.input_type == "double":
        return [("input", DoubleTensorType([None, data.n_features]))]
    return [("input", FloatTensorType([None, data.n_features]))]


def convert(spec: Spec, model, data: Data):
    if spec.converter == "onnxmltools-xgboost":
        import onnxmltools
        from onnxmltools.convert.common.data_types import FloatTensorType

        return onnxmltools.convert_xgboost(
            model, initial_types=[("input", FloatTensorType([None, data.n_features]))],
            target_opset=spec.target_opset)
    if spec.converter == "onnxmltools-lightgbm":
        import onnxmltools
        from onnxmltools.convert.common.data_types import FloatTensorType

        onx = onnxmltools.convert_lightgbm(
            model, initial_types=[("input", FloatTensorType([None, data.n_features]))],
            target_opset=spec.target_opset, zipmap=spec.zipmap)
        fix_leading_dims(onx)
        return onx
    from skl2onnx import convert_sklearn

    from skl2onnx import get_latest_tested_opset_version

    options = None
    if not spec.zipmap:
        options = {id(model): {"zipmap": False}}
    target_opset = spec.target_opset
    if type(model).__module__.split(".")[0] in ("xgboost", "lightgbm"):
        # onnxmltools' converters would otherwise pick ai.onnx.ml 5, which
        # skl2onnx refuses; they only need TreeEnsemble* from ml opset <= 3.
        target_opset = {"": target_opset or get_latest_tested_opset_version(), "ai.onnx.ml": 3}
    return convert_sklearn(model, initial_types=initial_types(spec, data),
                           target_opset=target_opset, options=options)


def fix_leading_dims(onx) -> None:
    """onnxmltools' LightGBM classifier declares the label output with a fixed
    batch dimension of 1; ORT then warns for every multi-row call.  Make the
    leading dimension symbolic like every other converter does."""
    for out in onx.graph.output:
        tt = out.type.tensor_type if out.type.HasField("tensor_type") else None
        if tt is None or not tt.HasField("shape") or not tt.shape.dim:
            continue
        d0 = tt.shape.dim[0]
        if d0.HasField("dim_value") and d0.dim_value == 1:
            d0.Clear()


def finalize(onx, name: str) -> None:
    """Make the serialized model reproducible: the converters name the graph
    with a random uuid."""
    onx.doc_string = ""
    onx.graph.doc_string = ""
    onx.graph.name = name
    # The converters emit opset_import in set-iteration order, which depends
    # on PYTHONHASHSEED, and skl2onnx sometimes lists the same ("", N) pair
    # twice; sort and de-duplicate (ai.onnx first).
    imports = sorted({(i.domain, i.version) for i in onx.opset_import})
    domains = [d for d, _ in imports]
    assert len(domains) == len(set(domains)), f"conflicting opset imports {imports}"
    del onx.opset_import[:]
    for domain, version in imports:
        onx.opset_import.add(domain=domain, version=version)


# --------------------------------------------------------------------------
# Expected outputs


def f32_list(a) -> list[float]:
    # Shortest decimal that round-trips through float32 (e.g. 5.1, not
    # 5.099999904632568); NaN stays NaN.
    return [float(str(v)) if np.isfinite(v) else float(v) for v in np.asarray(a, np.float32).ravel()]


DATATYPES = {
    np.dtype(np.float32): "FP32",
    np.dtype(np.float64): "FP64",
    np.dtype(np.int64): "INT64",
    np.dtype(np.int32): "INT32",
    np.dtype(np.bool_): "BOOL",
}


def tensor_json(name: str, value) -> dict:
    arr = np.asarray(value)
    if arr.dtype == object or arr.dtype.kind in "US":
        dt, data = "BYTES", [str(v) for v in arr.ravel()]
    elif arr.dtype in DATATYPES:
        dt = DATATYPES[arr.dtype]
        if dt == "FP32":
            data = f32_list(arr)
        elif dt == "FP64":
            data = [float(v) for v in arr.ravel()]
        elif dt == "BOOL":
            data = [bool(v) for v in arr.ravel()]
        else:
            data = [int(v) for v in arr.ravel()]
    else:
        raise TypeError(f"{name}: unsupported dtype {arr.dtype}")
    return {"name": name, "datatype": dt, "shape": list(arr.shape), "data": data}


def map_json(name: str, rows: list[dict]) -> dict:
    keys = list(rows[0].keys())
    for r in rows:
        assert list(r.keys()) == keys, "ZipMap rows with different keys"
    probs = np.array([[r[k] for k in keys] for r in rows], dtype=np.float32)
    keys_json = [k if isinstance(k, str) else int(k) for k in keys]
    return {"name": name, "datatype": "MAP", "keys": keys_json, "shape": list(probs.shape),
            "data": f32_list(probs)}


def session(model_bytes: bytes):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.log_severity_level = 3
    return ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])


def tolerance_for(outputs: list[tuple[str, Any]]) -> float:
    """Absolute tolerance: 1e-5, scaled up for outputs whose magnitude makes
    float32 rounding larger than that (e.g. diabetes targets around 100)."""
    biggest = 1.0
    for _, v in outputs:
        if isinstance(v, list):
            continue
        a = np.asarray(v)
        if a.dtype.kind == "f" and a.size:
            biggest = max(biggest, float(np.nanmax(np.abs(a))))
    if biggest <= 1.0:
        return DEFAULT_TOLERANCE
    return float(f"{DEFAULT_TOLERANCE * 10 ** np.ceil(np.log10(biggest)):.0e}")


def sanity_check(spec: Spec, model, data: Data, outputs) -> str:
    """Compare ORT with the original model's predictions; return a summary."""
    if hasattr(model, "predict_proba") or hasattr(model, "classes_"):
        pred = model.predict(data.X_test)
        label = np.asarray(outputs[0][1]).ravel()
        agree = float(np.mean(pred.astype(str) == label.astype(str)))
        if agree < 0.9:
            raise AssertionError(f"{spec.name}: ORT labels agree with the model on only {agree:.0%}")
        summary = f"labels agree {agree:.0%}"
        if hasattr(model, "predict_proba") and len(outputs) > 1:
            ref = np.asarray(model.predict_proba(data.X_test), dtype=np.float64)
            got = outputs[1][1]
            if isinstance(got, list):  # ZipMap: dicts keyed by class label
                got = [[row[k] for k in model.classes_] for row in got]
            got = np.asarray(got, dtype=np.float64)
            if got.shape == ref.shape:
                diff = float(np.max(np.abs(got - ref)))
                if diff > 1e-3:
                    raise AssertionError(f"{spec.name}: ORT probabilities differ by {diff:.2e}")
                summary += f", proba diff {diff:.0e}"
        return summary
    pred = np.asarray(model.predict(data.X_test), dtype=np.float64).ravel()
    got = np.asarray(outputs[0][1], dtype=np.float64).ravel()
    err = float(np.max(np.abs(pred - got)) / max(1.0, np.max(np.abs(pred))))
    if err > 1e-3:
        raise AssertionError(f"{spec.name}: ORT differs from the model by {err:.2e} (relative)")
    return f"max rel diff {err:.1e}"


def ops_of(onx) -> list[str]:
    from onnx import AttributeProto

    acc: set[str] = set()

    def walk(g):
        for n in g.node:
            acc.add(f"{n.domain or 'ai.onnx'}:{n.op_type}")
            for a in n.attribute:
                if a.type == AttributeProto.GRAPH:
                    walk(a.g)
                elif a.type == AttributeProto.GRAPHS:
                    for sg in a.graphs:
                        walk(sg)

    walk(onx.graph)
    return sorted(acc)


def build_one(spec: Spec, outdir: str) -> dict:
    data = spec.data()
    model = spec.build()
    model.fit(data.X_train, data.y_train)
    onx = convert(spec, model, data)
    finalize(onx, spec.name)
    model_bytes = onx.SerializeToString()

    sess = session(model_bytes)
    feed = data.feed
    if spec.input_type == "double":
        feed = {k: v.astype(np.float64) for k, v in feed.items()}
    input_names = [i.name for i in sess.get_inputs()]
    assert sorted(input_names) == sorted(feed), (input_names, list(feed))
    out_names = [o.name for o in sess.get_outputs()]
    values = sess.run(out_names, feed)
    outputs = list(zip(out_names, values))
    check = sanity_check(spec, model, data, outputs)

    expected = {
        "model": spec.name,
        "source": spec.source,
        "tolerance": tolerance_for(outputs),
        "inputs": [tensor_json(n, feed[n]) for n in input_names],
        "outputs": [
            map_json(n, v) if isinstance(v, list) else tensor_json(n, v) for n, v in outputs
        ],
    }
    mdir = os.path.join(outdir, spec.name)
    os.makedirs(mdir, exist_ok=True)
    with open(os.path.join(mdir, "model.onnx"), "wb") as f:
        f.write(model_bytes)
    with open(os.path.join(mdir, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, separators=(",", ":"))
        f.write("\n")

    return {
        "name": spec.name,
        "source": spec.source,
        "ops": ops_of(onx),
        "opsets": sorted(f"{i.domain or 'ai.onnx'}={i.version}" for i in onx.opset_import),
        "ir_version": onx.ir_version,
        "bytes": len(model_bytes),
        "sha256": hashlib.sha256(model_bytes).hexdigest()[:16],
        "inputs": [f"{e['name']} {e['datatype']}{e['shape']}" for e in expected["inputs"]],
        "outputs": [f"{e['name']} {e['datatype']}" + (f"{e['shape']}" if e["datatype"] != "MAP" else
                    f"<{type(e['keys'][0]).__name__}>[{e['shape'][1]}]") for e in expected["outputs"]],
        "check": check,
    }


def write_readme(outdir: str, rows: list[dict]) -> None:
    import lightgbm
    import onnx
    import onnxmltools
    import onnxruntime
    import skl2onnx
    import sklearn
    import xgboost

    total = sum(r["bytes"] for r in rows)
    lines = [
        "# Slipway model zoo",
        "",
        "Generated by `scripts/make-zoo.py` -- do not edit by hand. Regenerate with",
        "`pip install -r scripts/requirements-zoo.txt && python3 scripts/make-zoo.py`.",
        "",
        "Each directory holds `model.onnx` and `expected.json` (inputs: the first "
        f"{N_TEST_ROWS} rows of a 25% stratified test split, seed {SEED}; outputs: ONNX Runtime, "
        "one thread). `tolerance` is an absolute tolerance sized to the output magnitude.",
        "",
        f"Versions: scikit-learn {sklearn.__version__}, skl2onnx {skl2onnx.__version__}, "
        f"onnxmltools {onnxmltools.__version__}, xgboost {xgboost.__version__}, "
        f"lightgbm {lightgbm.__version__}, onnx {onnx.__version__}, "
        f"onnxruntime {onnxruntime.__version__}, numpy {np.__version__}.",
        "",
        f"{len(rows)} models, {total:,} bytes of ONNX in total. Benchmark models "
        f"(benchmarks/engine.sh): {', '.join(f'`{b}`' for b in BENCHMARK_MODELS)}.",
        "",
        "| model | source | opsets | operators | inputs | outputs | bytes |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| `{r['name']}` | {r['source']} | {', '.join(r['opsets'])} (IR {r['ir_version']}) | "
            f"{', '.join(r['ops'])} | {'; '.join(r['inputs'])} | {'; '.join(r['outputs'])} | "
            f"{r['bytes']:,} |"
        )
    all_ops = sorted({op for r in rows for op in r["ops"]})
    lines += ["", "Operators used across the zoo:", ""] + [f"- `{op}`" for op in all_ops] + [""]
    with open(os.path.join(outdir, "README.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the Slipway ONNX model zoo.")
    repo_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("outdir", nargs="?", default=os.path.join(repo_root, "Tests", "Fixtures", "zoo"),
                        help="output directory (default: <repo>/Tests/Fixtures/zoo)")
    parser.add_argument("--only", action="append", help="build only these models (repeatable)")
    args = parser.parse_args(argv)

    warnings.simplefilter("ignore")
    np.seterr(all="ignore")
    register_boosters()

    all_specs = specs()
    selected = [s for s in all_specs if not args.only or s.name in args.only]
    outdir = args.outdir
    if not args.only and os.path.isdir(outdir):
        # Remove model directories we no longer generate.
        known = {s.name for s in all_specs}
        for entry in os.listdir(outdir):
            path = os.path.join(outdir, entry)
            if os.path.isdir(path) and entry not in known and \
                    os.path.exists(os.path.join(path, "expected.json")):
                shutil.rmtree(path)
    os.makedirs(outdir, exist_ok=True)

    rows = []
    for spec in selected:
        row = build_one(spec, outdir)
        rows.append(row)
        print(f"{row['name']:48s} {row['bytes']:>9,} B  {row['check']:22s} {' '.join(row['ops'])}")
    if not args.only:
        write_readme(outdir, rows)
    total = sum(r["bytes"] for r in rows)
    print(f"{len(rows)} models, {total:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
