"""Feedback metrics of a live ``slipway serve`` against scikit-learn's own metric functions.

The fixture starts the built binary (``.build/debug/slipway``, or ``$SLIPWAY_BINARY``) like the tritonclient test,
deploys a binary classifier (breast cancer, with class names) and a regressor (diabetes) from the model zoo,
predicts 20 rows each through ``POST /v1/{owner}/{model}/predict``, posts ground truth through
``POST /v1/{owner}/{model}/feedback`` (batch form, one item per row) and compares
``GET /api/v1/models/{owner}/{name}/environments/{env}/metrics`` with ``sklearn.metrics`` on the same predictions
and labels.

Run: ``pip install -r tests/python/requirements.txt scikit-learn && swift build && pytest tests/python``.
"""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
import requests
from sklearn import metrics as skm

from test_tritonclient import ZOO, Slipway, slipway  # noqa: F401  (the live server fixture)

CLASSES = ["malignant", "benign"]


def _deploy(server: Slipway, owner_name: str, model: str, classes: list[str] | None) -> str:
    owner, name = owner_name.split("/")
    server.call("POST", "/api/v1/models", 201, json={"owner": owner, "name": name})
    base = f"/api/v1/models/{owner_name}/environments/production"
    data = {"summary": f"{model} for the feedback test"}
    if classes is not None:
        data["classes"] = json.dumps(classes)
    with open(ZOO / model / "model.onnx", "rb") as artifact:
        deployment = server.call(
            "POST",
            f"{base}/deployments",
            201,
            files={"model": ("model.onnx", artifact, "application/octet-stream")},
            data=data,
        )
    version = deployment["version"]
    server.verify(f"{base}/deployments/{version}")
    server.call("POST", f"{base}/activate", 200, json={"version": version})
    key = server.call(
        "POST",
        f"/api/v1/models/{owner_name}/keys",
        201,
        json={"kind": "serving", "name": "feedback-test", "environments": ["production"]},
    )
    return key["secret"]


def _rows(model: str) -> list[list[float]]:
    expected = json.loads((ZOO / model / "expected.json").read_text())
    tensor = expected["inputs"][0]
    rows, width = tensor["shape"]
    data = tensor["data"]
    return [data[i * width : (i + 1) * width] for i in range(rows)]


def _predict(server: Slipway, owner_name: str, key: str, rows: list[list[float]]) -> dict:
    response = requests.post(
        f"{server.url}/v1/{owner_name}/predict",
        headers={"X-Serving-Key": key},
        json={"ndarray": rows},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()


def _feedback(server: Slipway, owner_name: str, key: str, items: list[dict]) -> dict:
    """Posts feedback, waiting for the prediction's outcome to be written (the server flushes every second)."""
    deadline = time.monotonic() + 15
    while True:
        response = requests.post(
            f"{server.url}/v1/{owner_name}/feedback",
            headers={"X-Serving-Key": key},
            json={"feedback": items},
            timeout=60,
        )
        if response.status_code != 404 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert response.status_code == 200, response.text
    return response.json()


def _metrics(server: Slipway, owner_name: str) -> dict:
    return server.call("GET", f"/api/v1/models/{owner_name}/environments/production/metrics", 200)


def test_classifier_metrics_match_scikit_learn(slipway):
    key = _deploy(slipway, "admin/cancer-feedback", "breast_cancer_logistic_regression", CLASSES)
    answer = _predict(slipway, "admin/cancer-feedback", key, _rows("breast_cancer_logistic_regression"))
    probabilities = []
    predicted = []
    for entry in answer["predictions"]:
        by_class = {item["className"]: item["probability"] for item in entry}
        probabilities.append([by_class[name] for name in CLASSES])
        predicted.append(max(CLASSES, key=lambda name: by_class[name]))
    # Ground truth: the prediction, flipped on every third row, so every score is informative.
    truth = [
        (CLASSES[1 - CLASSES.index(label)] if index % 3 == 0 else label) for index, label in enumerate(predicted)
    ]
    items = [
        {"request_id": answer["request_id"], "row": index, "label": label, "outcome": float(index)}
        for index, label in enumerate(truth)
    ]
    stored = _feedback(slipway, "admin/cancer-feedback", key, items)
    assert stored == {"accepted": 20, "unchanged": 0}
    again = _feedback(slipway, "admin/cancer-feedback", key, items)
    assert again == {"accepted": 0, "unchanged": 20}

    found = _metrics(slipway, "admin/cancer-feedback")["metrics"]
    assert found["count"] == 20
    assert found["accuracy"] == pytest.approx(skm.accuracy_score(truth, predicted), abs=1e-12)
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        truth, predicted, labels=sorted(CLASSES), zero_division=0
    )
    for index, label in enumerate(sorted(CLASSES)):
        scores = next(item for item in found["classes"] if item["label"] == label)
        assert scores["precision"] == pytest.approx(precision[index], abs=1e-12)
        assert scores["recall"] == pytest.approx(recall[index], abs=1e-12)
        assert scores["f1"] == pytest.approx(f1[index], abs=1e-12)
        assert scores["support"] == support[index]
    assert found["macro_precision"] == pytest.approx(
        skm.precision_score(truth, predicted, average="macro", zero_division=0), abs=1e-12
    )
    assert found["macro_recall"] == pytest.approx(
        skm.recall_score(truth, predicted, average="macro", zero_division=0), abs=1e-12
    )
    assert found["macro_f1"] == pytest.approx(skm.f1_score(truth, predicted, average="macro", zero_division=0), abs=1e-12)
    # scikit-learn wants the probability columns in sorted label order.
    ordered = sorted(CLASSES)
    columns = [[row[CLASSES.index(label)] for label in ordered] for row in probabilities]
    assert found["log_loss"] == pytest.approx(skm.log_loss(truth, columns, labels=ordered), rel=1e-9)
    positives = [1 if label == CLASSES[1] else 0 for label in truth]
    assert found["roc_auc"] == pytest.approx(
        skm.roc_auc_score(positives, [row[1] for row in probabilities]), abs=1e-9
    )
    assert found["outcome_sum"] == pytest.approx(sum(range(20)))
    assert found["outcome_mean"] == pytest.approx(np.mean(range(20)))

    slipway.call("PUT", "/api/v1/models/admin/cancer-feedback/key-metric", 200, json={"name": "roc_auc"})
    key_metric = _metrics(slipway, "admin/cancer-feedback")["key_metric"]
    assert key_metric["name"] == "roc_auc" and key_metric["direction"] == "maximize"
    assert key_metric["value"] == pytest.approx(found["roc_auc"])


def test_regressor_metrics_match_scikit_learn(slipway):
    key = _deploy(slipway, "admin/diabetes-feedback", "diabetes_linear_regression", None)
    answer = _predict(slipway, "admin/diabetes-feedback", key, _rows("diabetes_linear_regression"))
    predicted = [entry[0] if isinstance(entry, list) else entry for entry in answer["predictions"]]
    truth = [value + (7.5 if index % 2 else -12.25) * (1 + index % 5) for index, value in enumerate(predicted)]
    items = [{"request_id": answer["request_id"], "row": index, "value": value} for index, value in enumerate(truth)]
    assert _feedback(slipway, "admin/diabetes-feedback", key, items)["accepted"] == 20

    found = _metrics(slipway, "admin/diabetes-feedback")["metrics"]
    assert found["count"] == 20
    assert found["mae"] == pytest.approx(skm.mean_absolute_error(truth, predicted), rel=1e-9)
    assert found["rmse"] == pytest.approx(math.sqrt(skm.mean_squared_error(truth, predicted)), rel=1e-9)
    assert found["r2"] == pytest.approx(skm.r2_score(truth, predicted), rel=1e-9)

    wrong = requests.post(
        f"{slipway.url}/v1/admin/diabetes-feedback/feedback",
        headers={"X-Serving-Key": key},
        json={"request_id": answer["request_id"], "label": "high"},
        timeout=60,
    )
    assert wrong.status_code == 422 and wrong.json()["field"] == "label", wrong.text
