#!/usr/bin/env python3
"""Builds the quick-start example: an iris classifier exported to ONNX, with its deployment metadata.

    python3 examples/make-iris-example.py [OUT_DIR]      (default: examples/iris)

Writes model.onnx (scikit-learn LogisticRegression, exported with skl2onnx, no ZipMap), schema.json (the four
features with their observed ranges and their positional order), samples.json (three rows, as `ndarray` and as
`features`), classes.json (output index -> species) and expected.json (ONNX Runtime's probabilities for the
samples, to compare against). Everything is seeded, so the JSON files reproduce exactly; CI checks that.
"""
import json
import os
import sys

import numpy as np
import onnxruntime
from skl2onnx import to_onnx
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "iris")
    os.makedirs(out, exist_ok=True)
    iris = load_iris()
    x = iris.data.astype(np.float32)
    y = iris.target
    model = LogisticRegression(max_iter=500, random_state=0).fit(x, y)
    onnx_model = to_onnx(model, x[:1], options={id(model): {"zipmap": False}}, target_opset=17)
    with open(os.path.join(out, "model.onnx"), "wb") as f:
        f.write(onnx_model.SerializeToString())

    schema = {
        "features": {
            name: {
                "type": "float",
                "min": round(float(x[:, i].min()), 1),
                "max": round(float(x[:, i].max()), 1),
                "help": f"{name.replace('_', ' ')} in centimetres",
            }
            for i, name in enumerate(FEATURES)
        },
        "ndarray": [FEATURES],
    }
    rows = [x[0], x[60], x[120]]
    samples = {
        "ndarray": [[round(float(v), 1) for v in row] for row in rows],
        "features": [{name: round(float(row[i]), 1) for i, name in enumerate(FEATURES)} for row in rows],
    }
    classes = {str(i): name for i, name in enumerate(iris.target_names.tolist())}

    session = onnxruntime.InferenceSession(onnx_model.SerializeToString(), providers=["CPUExecutionProvider"])
    inputs = np.array(samples["ndarray"], dtype=np.float32)
    labels, probabilities = session.run(None, {session.get_inputs()[0].name: inputs})
    expected = {
        "labels": [classes[str(int(v))] for v in labels],
        "probabilities": [[round(float(p), 4) for p in row] for row in probabilities],
    }
    for name, value in [("schema", schema), ("samples", samples), ("classes", classes), ("expected", expected)]:
        with open(os.path.join(out, f"{name}.json"), "w") as f:
            json.dump(value, f, indent=2, sort_keys=True)
            f.write("\n")
    print(f"wrote {out}/model.onnx, schema.json, samples.json, classes.json, expected.json")


if __name__ == "__main__":
    main()
