"""Generates ml_cases.json: single-node ONNX-ML cases (linear, SVM, preprocessing, encoders) with ONNX Runtime's
outputs. Run: python3 make_ml_cases.py > ml_cases.json  (needs onnx and onnxruntime)
"""
import json
import random

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper



def json_number(v):
    """NaN as null and infinities as strings, which strict JSON parsers accept."""
    v = float(v)
    if np.isnan(v):
        return None
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def encode_attr(name, value):
    if isinstance(value, str):
        return dict(type="string", value=value)
    if isinstance(value, int):
        return dict(type="int", value=value)
    if isinstance(value, float):
        return dict(type="float", value=json_number(value))
    if value and all(isinstance(v, str) for v in value):
        return dict(type="strings", value=value)
    if all(isinstance(v, int) for v in value):
        return dict(type="ints", value=value)
    return dict(type="floats", value=[json_number(v) for v in value])

rng = random.Random(7)
TP = {"float": TensorProto.FLOAT, "double": TensorProto.DOUBLE, "int64": TensorProto.INT64,
      "int32": TensorProto.INT32, "string": TensorProto.STRING}
NP = {"float": np.float32, "double": np.float64, "int64": np.int64, "int32": np.int32, "string": object}


def tensor_json(a):
    if a.dtype.kind in "OU":
        return dict(dtype="string", shape=list(a.shape), values=[str(v) for v in a.ravel()])
    if a.dtype.kind == "i":
        return dict(dtype=str(a.dtype), shape=list(a.shape), values=[int(v) for v in a.ravel()])
    return dict(dtype=str(a.dtype), shape=list(a.shape), values=[json_number(v) for v in a.ravel()])


def case(name, op, attrs, inputs, out_types, opset=1):
    """inputs: list of numpy arrays; out_types: list of TensorProto types."""
    ins = [helper.make_tensor_value_info(f"X{i}", TP[{"f": "float", "i": "int64", "O": "string"}.get(a.dtype.kind, "float")]
                                         if a.dtype != np.float64 and a.dtype != np.int32 else
                                         (TensorProto.DOUBLE if a.dtype == np.float64 else TensorProto.INT32), None)
           for i, a in enumerate(inputs)]
    outs = [helper.make_tensor_value_info(f"Y{i}", t, None) for i, t in enumerate(out_types)]
    node = helper.make_node(op, [i.name for i in ins], [o.name for o in outs], domain="ai.onnx.ml", **attrs)
    graph = helper.make_graph([node], "g", ins, outs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", opset)])
    model.ir_version = 8
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    res = sess.run(None, {f"X{i}": a for i, a in enumerate(inputs)})
    enc = {}
    for k, v in attrs.items():
        if hasattr(v, "data_type"):  # TensorProto
            from onnx import numpy_helper
            arr = numpy_helper.to_array(v)
            enc[k] = dict(type="tensor", dtype={np.float32: "float", np.float64: "double", np.int64: "int64",
                                                np.int32: "int32"}.get(arr.dtype.type, "string"),
                          values=[str(x) if arr.dtype.kind in "OU" else (int(x) if arr.dtype.kind == "i" else float(x))
                                  for x in arr.ravel()], shape=list(arr.shape))
        else:
            enc[k] = encode_attr(k, v)
    return dict(name=name, op=op, opset=opset, attributes=enc, inputs=[tensor_json(a) for a in inputs],
                outputs=[tensor_json(r) for r in res])


def rand(shape, lo=-2, hi=2):
    return np.array([round(rng.uniform(lo, hi), 3) for _ in range(int(np.prod(shape)))], np.float32).reshape(shape)


cases = []
X = rand((6, 4))
# LinearClassifier: multiclass, binary with one row (two labels), post transforms, string labels.
for i, pt in enumerate(["NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO", "PROBIT"]):
    coef = [round(rng.uniform(-1, 1), 3) for _ in range(12)]
    attrs = dict(coefficients=coef, intercepts=[0.1, -0.2, 0.3], classlabels_ints=[5, 6, 7], post_transform=pt)
    if pt == "PROBIT":
        attrs["coefficients"] = [abs(c) / 10 for c in coef]
        attrs["intercepts"] = [0.1, 0.2, 0.3]
    cases.append(case(f"linear_classifier_{pt}", "LinearClassifier", attrs, [X], [TensorProto.INT64, TensorProto.FLOAT]))
for i, pt in enumerate(["NONE", "LOGISTIC", "SOFTMAX"]):
    attrs = dict(coefficients=[0.5, -0.25, 0.75, 1.0], intercepts=[0.05], classlabels_strings=["no", "yes"], post_transform=pt)
    cases.append(case(f"linear_classifier_binary_{pt}", "LinearClassifier", attrs, [X], [TensorProto.STRING, TensorProto.FLOAT]))
cases.append(case("linear_classifier_binary_two_rows", "LinearClassifier",
                  dict(coefficients=[0.5, -0.25, 0.75, 1.0, -0.5, 0.25, -0.75, -1.0], intercepts=[0.05, -0.05],
                       classlabels_ints=[0, 1], post_transform="LOGISTIC"), [X], [TensorProto.INT64, TensorProto.FLOAT]))
cases.append(case("linear_classifier_double_input", "LinearClassifier",
                  dict(coefficients=[0.5, -0.25, 0.75, 1.0, -0.5, 0.25, -0.75, -1.0], intercepts=[0.05, -0.05],
                       classlabels_ints=[0, 1]), [X.astype(np.float64)], [TensorProto.INT64, TensorProto.FLOAT]))
# LinearRegressor.
for pt in ["NONE", "LOGISTIC", "SOFTMAX"]:
    cases.append(case(f"linear_regressor_2_{pt}", "LinearRegressor",
                      dict(coefficients=[0.5, -0.25, 0.75, 1.0, -0.5, 0.25, -0.75, -1.0], intercepts=[0.05, -0.05],
                           targets=2, post_transform=pt), [X], [TensorProto.FLOAT]))
cases.append(case("linear_regressor_1", "LinearRegressor",
                  dict(coefficients=[0.5, -0.25, 0.75, 1.0], intercepts=[0.5], targets=1), [X], [TensorProto.FLOAT]))
# SVMClassifier: SVC kernels, with and without probabilities, binary and multiclass; linear mode.
sv = rand((7, 4))
for kernel in ["LINEAR", "POLY", "RBF", "SIGMOID"]:
    for classes, per in [(3, [2, 3, 2]), (2, [3, 4])]:
        nsv = sum(per)
        coef = [round(rng.uniform(-1, 1), 3) for _ in range((classes - 1) * nsv)]
        pairs = classes * (classes - 1) // 2
        rho = [round(rng.uniform(-0.5, 0.5), 3) for _ in range(pairs)]
        base = dict(kernel_type=kernel, kernel_params=[0.3, 0.1, 3.0], vectors_per_class=per,
                    support_vectors=sv[:nsv].ravel().tolist(), coefficients=coef, rho=rho,
                    classlabels_ints=list(range(classes)))
        cases.append(case(f"svc_{kernel}_{classes}", "SVMClassifier", dict(base), [X], [TensorProto.INT64, TensorProto.FLOAT]))
        proba = dict(base, prob_a=[round(rng.uniform(-3, -1), 3) for _ in range(pairs)],
                     prob_b=[round(rng.uniform(-0.2, 0.2), 3) for _ in range(pairs)])
        cases.append(case(f"svc_{kernel}_{classes}_proba", "SVMClassifier", proba, [X], [TensorProto.INT64, TensorProto.FLOAT]))
cases.append(case("svc_linear_mode", "SVMClassifier",
                  dict(coefficients=[0.5, -0.25, 0.75, 1.0, -0.5, 0.25, -0.75, -1.0, 0.1, 0.2, 0.3, 0.4], rho=[0.1], kernel_params=[0.1, 0.0, 1.0],
                       classlabels_strings=["a", "b", "c"]), [X], [TensorProto.STRING, TensorProto.FLOAT]))
cases.append(case("svc_linear_mode_logistic", "SVMClassifier",
                  dict(coefficients=[0.5, -0.25, 0.75, 1.0, -0.5, 0.25, -0.75, -1.0], rho=[0.1], post_transform="LOGISTIC", kernel_params=[0.1, 0.0, 1.0],
                       classlabels_ints=[3, 4]), [X], [TensorProto.INT64, TensorProto.FLOAT]))
# SVMRegressor.
for kernel in ["LINEAR", "POLY", "RBF", "SIGMOID"]:
    for one_class in [0, 1]:
        cases.append(case(f"svr_{kernel}_{one_class}", "SVMRegressor",
                          dict(kernel_type=kernel, kernel_params=[0.3, 0.1, 2.0], n_supports=5,
                               support_vectors=sv[:5].ravel().tolist(),
                               coefficients=[round(rng.uniform(-1, 1), 3) for _ in range(5)], rho=[0.2], one_class=one_class),
                          [X], [TensorProto.FLOAT]))
cases.append(case("svr_linear_mode", "SVMRegressor", dict(coefficients=[0.5, -0.25, 0.75, 1.0], rho=[0.2], n_supports=0, kernel_params=[0.1, 0.0, 1.0]),
                  [X], [TensorProto.FLOAT]))
# Preprocessing.
Xz = X.copy(); Xz[2] = 0
for norm in ["MAX", "L1", "L2"]:
    cases.append(case(f"normalizer_{norm}", "Normalizer", dict(norm=norm), [Xz], [TensorProto.FLOAT]))
cases.append(case("normalizer_int64", "Normalizer", dict(norm="L2"), [np.array([[1, -2, 3], [0, 0, 0]], np.int64)],
                  [TensorProto.FLOAT]))
cases.append(case("scaler", "Scaler", dict(offset=[0.1, 0.2, 0.3, 0.4], scale=[2.0, 0.5, -1.0, 3.0]), [X], [TensorProto.FLOAT]))
cases.append(case("scaler_single", "Scaler", dict(offset=[0.5], scale=[2.0]), [X.astype(np.float64)], [TensorProto.FLOAT]))
cases.append(case("binarizer", "Binarizer", dict(threshold=0.25), [X], [TensorProto.FLOAT]))
Xn = X.copy(); Xn[1, 2] = np.nan; Xn[3, 0] = np.nan
cases.append(case("imputer_nan", "Imputer", dict(imputed_value_floats=[1.0, 2.0, 3.0, 4.0], replaced_value_float=float("nan")), [Xn],
                  [TensorProto.FLOAT]))
cases.append(case("imputer_int", "Imputer", dict(imputed_value_int64s=[9], replaced_value_int64=-1),
                  [np.array([[1, -1, 3], [-1, 5, -1]], np.int64)], [TensorProto.INT64]))
# Encoders.
cases.append(case("onehot_int", "OneHotEncoder", dict(cats_int64s=[1, 3, 5], zeros=1),
                  [np.array([[1, 2], [5, 3]], np.int64)], [TensorProto.FLOAT]))
cases.append(case("onehot_string", "OneHotEncoder", dict(cats_strings=["a", "b"], zeros=1),
                  [np.array(["a", "c", "b"], object)], [TensorProto.FLOAT]))
cases.append(case("onehot_float", "OneHotEncoder", dict(cats_int64s=[1, 2, 3]),
                  [np.array([[1.0, 2.7, 3.0]], np.float32)], [TensorProto.FLOAT]))
cases.append(case("array_feature_extractor", "ArrayFeatureExtractor", {}, [X, np.array([3, 0, 3], np.int64)],
                  [TensorProto.FLOAT]))
cases.append(case("array_feature_extractor_1d", "ArrayFeatureExtractor", {},
                  [np.array(["a", "b", "c"], object), np.array([2, 1], np.int64)], [TensorProto.STRING]))
cases.append(case("feature_vectorizer", "FeatureVectorizer", dict(inputdimensions=[2, 3]),
                  [X[:, :3].copy(), np.array([[1], [2], [3], [4], [5], [6]], np.float32)], [TensorProto.FLOAT]))
cases.append(case("label_encoder_v1_s2i", "LabelEncoder", dict(classes_strings=["x", "y", "z"], default_int64=-7),
                  [np.array(["y", "q", "x"], object)], [TensorProto.INT64]))
cases.append(case("label_encoder_v1_i2s", "LabelEncoder", dict(classes_strings=["x", "y", "z"], default_string="?"),
                  [np.array([2, 0, 9], np.int64)], [TensorProto.STRING]))
cases.append(case("label_encoder_v2_f2s", "LabelEncoder", dict(keys_floats=[0.5, 1.5, float("nan")], values_strings=["a", "b", "n"]),
                  [np.array([1.5, 2.0, np.nan, 0.5], np.float32)], [TensorProto.STRING], opset=2))
cases.append(case("label_encoder_v2_i2f", "LabelEncoder", dict(keys_int64s=[1, 2], values_floats=[0.25, 0.5], default_float=9.0),
                  [np.array([2, 3, 1], np.int64)], [TensorProto.FLOAT], opset=2))
cases.append(case("label_encoder_v4_tensor", "LabelEncoder",
                  dict(keys_tensor=helper.make_tensor("k", TensorProto.INT64, [3], [1, 2, 3]),
                       values_tensor=helper.make_tensor("v", TensorProto.DOUBLE, [3], [0.5, 1.5, 2.5]),
                       default_tensor=helper.make_tensor("d", TensorProto.DOUBLE, [1], [-1.0])),
                  [np.array([3, 4, 1], np.int64)], [TensorProto.DOUBLE], opset=4))
print(json.dumps(cases))
