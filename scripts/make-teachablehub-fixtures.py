#!/usr/bin/env python3
"""Writes Tests/Fixtures/teachablehub/<name>/{model.json,expected.json}.

model.json is what the teachablehub==1.0.40 SDK uploads for a scikit-learn model: th_sklearn_json.to_json(model, path)
(teachablehub/deployments/sklearn.py). expected.json holds float32-representable input rows and scikit-learn's own
predict (and predict_proba for the estimators that have it) on them, for SlipwayFormatsTests.

Run in its own virtual environment (th-sklearn-json cannot serialise with scikit-learn >= 1.4):
    python3 -m venv /tmp/th-fixtures && /tmp/th-fixtures/bin/pip install -r scripts/requirements-teachablehub-fixtures.txt
    /tmp/th-fixtures/bin/python scripts/make-teachablehub-fixtures.py [OUTPUT_DIR]

OUTPUT_DIR defaults to Tests/Fixtures/teachablehub; the output is deterministic (fixed seeds and splits).
"""
import json
import os
import sys
import warnings

import numpy as np
import th_sklearn_json
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis, QuadraticDiscriminantAnalysis
from sklearn.linear_model import Lasso, LogisticRegression, Perceptron, Ridge
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "teachablehub"
)
ROWS = 40  # rows of held-out data per fixture


def split(data, target):
    # float32-representable features: the engine's input is float32, so scikit-learn sees exactly the same numbers
    x = np.asarray(data, dtype=np.float32).astype(np.float64)
    return train_test_split(x, target, test_size=ROWS, random_state=0, stratify=target if len(set(target)) < 10 else None)


def iris(names=False):
    d = load_iris()
    target = d.target_names[d.target] if names else d.target
    return split(d.data, target)


def cancer():
    d = load_breast_cancer()
    return split(d.data, d.target)


def diabetes():
    d = load_diabetes()
    return split(d.data * 100, d.target)  # the rows are scaled to ~0.1; x100 keeps them well inside float32 precision


def write(name, model, data):
    x_train, x_test, y_train, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings on raw, unscaled features are part of the test
        model.fit(x_train, y_train)
    folder = os.path.join(ROOT, name)
    os.makedirs(folder, exist_ok=True)
    th_sklearn_json.to_json(model, os.path.join(folder, "model.json"))  # exactly what the SDK uploads
    expected = {
        "estimator": type(model).__name__,
        "inputs": x_test.tolist(),
        "predict": model.predict(x_test).tolist(),
    }
    if hasattr(model, "predict_proba") and (not isinstance(model, SVC) or model.probability):
        expected["predict_proba"] = model.predict_proba(x_test).tolist()
    with open(os.path.join(folder, "expected.json"), "w") as f:
        json.dump(expected, f)
    size = sum(os.path.getsize(os.path.join(folder, n)) for n in os.listdir(folder))
    print(f"{name}: {type(model).__name__}, {size // 1024} KB")


def main():
    write("logistic_regression_multinomial_iris", LogisticRegression(max_iter=1000), iris(names=True))
    write("logistic_regression_ovr_iris", LogisticRegression(multi_class="ovr", solver="liblinear"), iris())
    write("logistic_regression_breast_cancer", LogisticRegression(max_iter=5000), cancer())
    write(
        "logistic_regression_multinomial_breast_cancer",
        LogisticRegression(multi_class="multinomial", max_iter=5000),
        cancer(),
    )
    write("perceptron_iris", Perceptron(random_state=0), iris())
    write("perceptron_breast_cancer", Perceptron(random_state=0), cancer())
    write("lda_iris", LinearDiscriminantAnalysis(), iris(names=True))
    write("lda_breast_cancer", LinearDiscriminantAnalysis(), cancer())
    write("qda_iris", QuadraticDiscriminantAnalysis(), iris())
    write("qda_breast_cancer", QuadraticDiscriminantAnalysis(reg_param=0.01), cancer())
    write("svc_rbf_iris", SVC(probability=True, random_state=0), iris(names=True))
    write("svc_rbf_breast_cancer", SVC(probability=True, random_state=0), cancer())
    write("svc_poly_iris", SVC(kernel="poly", degree=3, coef0=1.0, probability=True, random_state=0), iris())
    write("svc_linear_iris", SVC(kernel="linear", C=0.5, probability=True, random_state=0), iris())
    write("svc_sigmoid_breast_cancer", SVC(kernel="sigmoid", gamma=1e-4, probability=True, random_state=0), cancer())
    write("ridge_diabetes", Ridge(alpha=0.5), diabetes())
    write("lasso_diabetes", Lasso(alpha=0.1), diabetes())


if __name__ == "__main__":
    main()
