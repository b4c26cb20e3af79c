"""Generates tree_cases.json: random single-node tree ensembles with ONNX Runtime's outputs.

Run: python3 make_tree_cases.py > tree_cases.json  (needs onnx and onnxruntime)
"""
import json
import random

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

rng = random.Random(1234)
THRESHOLDS = [-1.0, 0.0, 0.5, 1.0, 2.5]
MODES = ["BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"]


def random_tree(tree_id, modes, features, max_depth, missing_prob):
    """Returns node lists for one tree in legacy encoding (node ids shuffled)."""
    nodes = []

    def build(depth):
        idx = len(nodes)
        nodes.append(None)
        if depth >= max_depth or (depth > 0 and rng.random() < 0.3):
            nodes[idx] = dict(mode="LEAF", feature=0, value=0.0, t=0, f=0, missing=0)
            return idx
        t = build(depth + 1)
        f = build(depth + 1)
        nodes[idx] = dict(
            mode=rng.choice(modes), feature=rng.randrange(features), value=rng.choice(THRESHOLDS),
            t=t, f=f, missing=1 if rng.random() < missing_prob else 0)
        return idx

    build(0)
    # shuffle node ids but keep the root first
    ids = list(range(len(nodes)))
    perm = [0] + rng.sample(ids[1:], len(ids) - 1)
    return [dict(n, id=perm[i], t=perm[n["t"]], f=perm[n["f"]], tree=tree_id) for i, n in enumerate(nodes)]


def legacy_attrs(trees, prefix, width, one_class=None, positive=False):
    nodes = [n for t in trees for n in t]
    attrs = dict(
        nodes_treeids=[n["tree"] for n in nodes], nodes_nodeids=[n["id"] for n in nodes],
        nodes_featureids=[n["feature"] for n in nodes], nodes_modes=[n["mode"] for n in nodes],
        nodes_values=[n["value"] for n in nodes], nodes_truenodeids=[n["t"] if n["mode"] != "LEAF" else 0 for n in nodes],
        nodes_falsenodeids=[n["f"] if n["mode"] != "LEAF" else 0 for n in nodes],
    )
    if any(n["missing"] for n in nodes):
        attrs["nodes_missing_value_tracks_true"] = [n["missing"] for n in nodes]
    ids, nids, tids, ws = [], [], [], []
    for n in nodes:
        if n["mode"] != "LEAF":
            continue
        targets = [one_class] if one_class is not None else rng.sample(range(width), rng.randint(1, width))
        for k in targets:
            ids.append(k); nids.append(n["id"]); tids.append(n["tree"])
            w = round(rng.uniform(0 if positive else -1, 1), 3)
            ws.append(w)
    attrs[prefix + "_ids"] = ids
    attrs[prefix + "_nodeids"] = nids
    attrs[prefix + "_treeids"] = tids
    attrs[prefix + "_weights"] = ws
    return attrs


def make_x(features, rows, dtype):
    vals = []
    for _ in range(rows * features):
        r = rng.random()
        if r < 0.4:
            vals.append(rng.choice(THRESHOLDS))
        elif r < 0.5 and dtype in ("float", "double"):
            vals.append(float("nan"))
        else:
            vals.append(round(rng.uniform(-2, 3), 2))
    if dtype in ("int64", "int32"):
        vals = [int(round(v)) for v in vals]
    return vals


NP = {"float": np.float32, "double": np.float64, "int64": np.int64, "int32": np.int32}
TP = {"float": TensorProto.FLOAT, "double": TensorProto.DOUBLE, "int64": TensorProto.INT64, "int32": TensorProto.INT32}


def encode_attr(name, value):
    if isinstance(value, dict):  # tensor
        return dict(type="tensor", dtype=value["dtype"], values=value["values"])
    if isinstance(value, str):
        return dict(type="string", value=value)
    if isinstance(value, int):
        return dict(type="int", value=value)
    if isinstance(value, float):
        return dict(type="float", value=value)
    if all(isinstance(v, str) for v in value) and value:
        return dict(type="strings", value=value)
    if all(isinstance(v, int) for v in value):
        return dict(type="ints", value=value)
    return dict(type="floats", value=value)


def onnx_attr(value):
    if isinstance(value, dict):
        return helper.make_tensor("t", {"float": TensorProto.FLOAT, "double": TensorProto.DOUBLE,
                                        "uint8": TensorProto.UINT8}[value["dtype"]],
                                  [len(value["values"])], value["values"])
    return value


def json_number(v):
    """NaN as null and infinities as strings, which strict JSON parsers accept."""
    v = float(v)
    if np.isnan(v):
        return None
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def run_case(name, op, opset, attrs, dtype, features, rows, outputs):
    out_infos = []
    for o, t in outputs:
        out_infos.append(helper.make_tensor_value_info(o, t, None))
    node = helper.make_node(op, ["X"], [o for o, _ in outputs], domain="ai.onnx.ml",
                            **{k: onnx_attr(v) for k, v in attrs.items()})
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", TP[dtype], [None, features])], out_infos)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", opset)])
    model.ir_version = 8
    try:
        sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    except Exception:
        if opset != 1:
            raise
        return run_case(name, op, 3, attrs, dtype, features, rows, outputs)
    x = make_x(features, rows, dtype)
    xa = np.array(x, dtype=NP[dtype]).reshape(rows, features)
    res = sess.run(None, {"X": xa})
    outs = []
    for r in res:
        if r.dtype.kind in "OU":
            outs.append(dict(dtype="string", values=[str(v) for v in r.ravel()], shape=list(r.shape)))
        elif r.dtype.kind == "i":
            outs.append(dict(dtype="int64", values=[int(v) for v in r.ravel()], shape=list(r.shape)))
        else:
            outs.append(dict(dtype=str(r.dtype), values=[json_number(v) for v in r.ravel()], shape=list(r.shape)))
    return dict(name=name, op=op, opset=opset, attributes={k: encode_attr(k, v) for k, v in attrs.items()},
                input=dict(dtype=dtype, shape=[rows, features], values=[None if v != v else v for v in x]),
                outputs=outs)


cases = []
F = 4
# Regressors: each mode, mixed modes, missing tracks, aggregates, targets, transforms, input types.
for i in range(40):
    modes = [MODES[i % 6]] if i < 24 else MODES
    missing = 0.5 if i % 2 else 0.0
    targets = 1 if i % 3 else 3
    trees = [random_tree(t, modes, F, rng.randint(1, 4), missing) for t in range(rng.randint(1, 5))]
    attrs = legacy_attrs(trees, "target", targets)
    attrs["n_targets"] = targets
    attrs["aggregate_function"] = ["SUM", "AVERAGE", "MIN", "MAX"][i % 4]
    attrs["post_transform"] = ["NONE", "NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO", "PROBIT"][i % 6] if targets > 1 else ["NONE", "PROBIT"][i % 2]
    if attrs["post_transform"] == "PROBIT":
        attrs["target_weights"] = [abs(w) / 10 + 0.01 for w in attrs["target_weights"]]
    if i % 5 == 0:
        attrs["base_values"] = [0.25 if i % 10 == 0 else 0.125] * targets
    dtype = ["float", "double"][i % 2] if i % 7 else "float"
    opset = 3 if i % 4 == 1 else 1
    if opset == 3 and dtype == "double":
        attrs["nodes_values_as_tensor"] = dict(dtype="double", values=attrs.pop("nodes_values"))
        attrs["target_weights_as_tensor"] = dict(dtype="double", values=attrs.pop("target_weights"))
    cases.append(run_case(f"regressor_{i}", "TreeEnsembleRegressor", opset, attrs, dtype, F, 12,
                          [("Y", TensorProto.FLOAT)]))

# Classifiers.
for i in range(48):
    kind = i % 6
    modes = [MODES[i % 6]] if i % 4 else MODES
    missing = 0.5 if i % 3 == 0 else 0.0
    trees = [random_tree(t, modes, F, rng.randint(1, 4), missing) for t in range(rng.randint(1, 5))]
    if kind in (0, 1):  # multiclass
        classes = 3
        attrs = legacy_attrs(trees, "class", classes)
    elif kind == 2:  # binary, weights for class 1 only, positive
        classes = 2
        attrs = legacy_attrs(trees, "class", classes, one_class=1, positive=True)
    elif kind == 3:  # binary, weights for class 0 only, mixed sign
        classes = 2
        attrs = legacy_attrs(trees, "class", classes, one_class=0)
    elif kind == 4:  # binary, class 1 mixed sign
        classes = 2
        attrs = legacy_attrs(trees, "class", classes, one_class=1)
    else:  # binary both classes
        classes = 2
        attrs = legacy_attrs(trees, "class", classes, positive=True)
    attrs["post_transform"] = ["NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO", "PROBIT", "NONE", "LOGISTIC"][i % 7]
    if attrs["post_transform"] == "PROBIT" and kind in (2, 3, 4):
        # ONNX Runtime leaves the second score uninitialised for a single binary score with PROBIT.
        attrs["post_transform"] = "NONE"
    if attrs["post_transform"] == "PROBIT":
        attrs["class_weights"] = [abs(w) / 10 + 0.01 for w in attrs["class_weights"]]
    bv = (i // 6) % 3
    if bv == 1:
        attrs["base_values"] = [0.1] * classes
    elif bv == 2 and classes == 2:
        attrs["base_values"] = [0.2]
    if i % 2:
        attrs["classlabels_strings"] = ["c%d" % k for k in range(classes)]
        ytype = TensorProto.STRING
    else:
        attrs["classlabels_int64s"] = list(range(classes)) if i % 4 else [7 + 3 * k for k in range(classes)]
        ytype = TensorProto.INT64
    dtype = ["float", "double", "int64", "int32", "float"][i % 5]
    if dtype == "double" and i % 3 == 0:
        attrs["class_weights_as_tensor"] = dict(dtype="double", values=attrs.pop("class_weights"))
        attrs["nodes_values_as_tensor"] = dict(dtype="double", values=attrs.pop("nodes_values"))
    cases.append(run_case(f"classifier_{i}", "TreeEnsembleClassifier", 1 if i % 3 else 3, attrs, dtype, F, 12,
                          [("Y", ytype), ("Z", TensorProto.FLOAT)]))

# TreeEnsemble (opset 5) built from random legacy trees.
for i in range(16):
    targets = 1 if i % 2 else 3
    modes = [MODES[i % 6]] if i % 3 else MODES
    trees = [random_tree(t, modes, F, rng.randint(1, 4), 0.5 if i % 4 == 1 else 0) for t in range(rng.randint(1, 4))]
    splits, feats, nmodes, tids, fids, tl, fl, miss, roots = [], [], [], [], [], [], [], [], []
    leaf_t, leaf_w = [], []
    for tree in trees:
        by_pos = {n["id"]: n for n in tree}
        interior = {}
        leaves = {}
        for n in tree:
            if n["mode"] == "LEAF":
                leaves[n["id"]] = len(leaf_t)
                leaf_t.append(rng.randrange(targets))
                leaf_w.append(round(rng.uniform(-1, 1), 3))
        base = len(splits)
        order = [n for n in tree if n["mode"] != "LEAF"]
        for k, n in enumerate(order):
            interior[n["id"]] = base + k
        if not order:  # single leaf tree: node pointing twice at the leaf
            root_leaf = leaves[tree[0]["id"]]
            roots.append(len(splits))
            splits.append(0.0); feats.append(0); nmodes.append(0); tids.append(root_leaf); fids.append(root_leaf)
            tl.append(1); fl.append(1); miss.append(0)
            continue
        roots.append(interior[tree[0]["id"]])
        for n in order:
            splits.append(n["value"]); feats.append(n["feature"]); nmodes.append(MODES.index(n["mode"]))
            miss.append(n["missing"])
            for child, ids, leafs in ((n["t"], tids, tl), (n["f"], fids, fl)):
                if child in leaves:
                    ids.append(leaves[child]); leafs.append(1)
                else:
                    ids.append(interior[child]); leafs.append(0)
    dt = "double" if i % 4 == 3 else "float"
    # post_transform 1 and 2 are swapped in ONNX Runtime (1 = LOGISTIC there, SOFTMAX in the spec): not compared.
    attrs = dict(n_targets=targets, aggregate_function=i % 4, post_transform=[0, 0, 3, 4, 3][i % 5] if targets > 1 else 0,
                 tree_roots=roots, nodes_modes=dict(dtype="uint8", values=nmodes), nodes_featureids=feats,
                 nodes_splits=dict(dtype=dt, values=splits), nodes_truenodeids=tids, nodes_falsenodeids=fids,
                 nodes_trueleafs=tl, nodes_falseleafs=fl, leaf_targetids=leaf_t,
                 leaf_weights=dict(dtype=dt, values=leaf_w))
    if any(miss):
        attrs["nodes_missing_value_tracks_true"] = miss
    cases.append(run_case(f"ensemble_{i}", "TreeEnsemble", 5, attrs, dt, F, 12,
                          [("Y", TP[dt])]))

print(json.dumps(cases))
