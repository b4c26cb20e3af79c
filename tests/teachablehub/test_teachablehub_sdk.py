"""The real TeachableHub SDK (``teachablehub==1.0.40``), unchanged, against a live ``slipway serve``.

The fixture starts the built binary (``.build/debug/slipway``, or ``$SLIPWAY_BINARY``) on a free port with a
temporary data folder, points the SDK at it with ``TH_BASE_URL`` and ``TH_SERVING_BASE_URL`` (both the server's
``/v1/``), and creates the models and keys through ``/api/v1`` (TeachableHub had no API for that). Each test then
uses only the SDK: ``TeachableDeployment`` serialises a scikit-learn 1.3 estimator with th-sklearn-json and uploads
the zip; the server translates ``model.json`` to ONNX, verifies it on the samples and activates it; the SDK polls
``verified(reload=True)``; ``TeachableHubPredictAPI`` predicts, and the answers are compared with scikit-learn's own.

Run (own virtual environment; the shim in it lets uplink 0.9.3 import on Python 3.11):
``PY=$(bash tests/teachablehub/setup-venv.sh) && swift build && $PY -m pytest tests/teachablehub``.
"""

from __future__ import annotations

import importlib
import os
import pathlib
import subprocess
import sys
import time

import numpy as np
import pytest
import requests
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis, QuadraticDiscriminantAnalysis
from sklearn.linear_model import Lasso, LogisticRegression, Perceptron, Ridge
from sklearn.naive_bayes import MultinomialNB
from sklearn.svm import SVC

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "support"))

from slipway_server import running_server, secret as _secret  # noqa: E402

TOLERANCE = 1e-6


class Slipway:
    """A running ``slipway serve``, with the management calls TeachableHub only had in its web app."""

    def __init__(self, process: subprocess.Popen, url: str, admin_token: str):
        self.process = process
        self.url = url
        self.admin_token = admin_token

    def call(self, method: str, path: str, expected: int, **kwargs):
        headers = {"Authorization": f"Bearer {self.admin_token}"}
        response = requests.request(method, self.url + path, headers=headers, timeout=60, **kwargs)
        assert response.status_code == expected, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else {}

    def teachable(self, name: str) -> tuple[str, str, str]:
        """Creates ``admin/<name>`` with a deploy key and a serving key for production; returns (full name, keys)."""
        self.call("POST", "/api/v1/models", 201, json={"owner": "admin", "name": name})
        keys = []
        for kind in ("deploy", "serving"):
            key = self.call(
                "POST",
                f"/api/v1/models/admin/{name}/keys",
                201,
                json={"kind": kind, "name": f"{kind}-{_secret(6).lower()}", "environments": ["production"]},
            )
            keys.append(key["secret"])
        return f"admin/{name}", keys[0], keys[1]


@pytest.fixture(scope="module")
def slipway():
    with running_server("slipway-teachablehub-") as (process, url, admin_token):
        yield Slipway(process, url, admin_token)


@pytest.fixture(scope="module")
def th(slipway):
    """The SDK's modules, imported after TH_BASE_URL / TH_SERVING_BASE_URL point at the server (it reads them once)."""
    os.environ["TH_BASE_URL"] = f"{slipway.url}/v1/"
    os.environ["TH_SERVING_BASE_URL"] = f"{slipway.url}/v1/"
    for name in ("TH_API_KEY", "TH_DEPLOY_KEY", "TH_USER_TOKEN", "TH_SERVING_KEY", "TH_TEACHABLE", "TH_ENVIRONMENT"):
        os.environ.pop(name, None)
    import teachablehub.config

    importlib.reload(teachablehub.config)
    from teachablehub.clients import TeachableHubAPI, TeachableHubPredictAPI
    from teachablehub.clients.errors import UnauthorizedError, UnsuccessfulRequestError
    from teachablehub.deployments.sklearn import TeachableDeployment

    class SDK:
        pass

    sdk = SDK()
    sdk.TeachableDeployment = TeachableDeployment
    sdk.TeachableHubPredictAPI = TeachableHubPredictAPI
    sdk.TeachableHubAPI = TeachableHubAPI
    sdk.UnauthorizedError = UnauthorizedError
    sdk.UnsuccessfulRequestError = UnsuccessfulRequestError
    return sdk


def _deploy(th, teachable: str, key: str, model, X, classes=None, summary="deployed by the TeachableHub SDK"):
    """The SDK's documented flow: model, samples, classes, deploy(activate=True), then poll verified(reload=True)."""
    cwd = os.getcwd()
    deployment = th.TeachableDeployment(teachable=teachable, environment="production", deploy_key=key)
    deployment.model(model)
    deployment.samples(ndarray=X[:3])
    if classes is not None:
        deployment.classes(classes)
    deployment.deploy(summary=summary, description="the SDK, unchanged", activate=True)
    # The SDK's zip helper chdirs into a temporary folder that deploy() then deletes.
    os.chdir(cwd)
    assert deployment.successful(), deployment.object()
    for _ in range(300):
        if deployment.verified(reload=True):
            break
        state = deployment.object().get("status", {})
        assert state.get("state") != "failed", f"verification failed: {state}"
        time.sleep(0.1)
    assert deployment.verified(), deployment.object()
    return deployment


def _wait_active(slipway, teachable: str, version: int):
    """Activation follows verification on the server; wait until the environment names this version."""
    for _ in range(300):
        info = slipway.call("GET", f"/v1/teachables/{teachable}/", 200)
        if info.get("active_deployments", {}).get("production", {}).get("version") == version:
            return
        time.sleep(0.1)
    raise AssertionError(f"version {version} of {teachable} did not become active")


IRIS = load_iris()
CANCER = load_breast_cancer()
DIABETES = load_diabetes()

CLASSIFIERS = {
    "logistic-regression": (lambda: LogisticRegression(max_iter=1000), IRIS),
    "logistic-regression-binary": (lambda: LogisticRegression(max_iter=5000), CANCER),
    "lda": (lambda: LinearDiscriminantAnalysis(), IRIS),
    "qda": (lambda: QuadraticDiscriminantAnalysis(), IRIS),
    "svc": (lambda: SVC(probability=True, random_state=0), IRIS),
}
REGRESSORS = {
    "ridge": lambda: Ridge(alpha=0.5),
    "lasso": lambda: Lasso(alpha=0.1),
}


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_classifier_probabilities_match_scikit_learn(slipway, th, name):
    make, data = CLASSIFIERS[name]
    X, y = data.data, data.target
    model = make().fit(X, y)
    labels = [str(label) for label in data.target_names]
    classes = {str(index): labels[index] for index in range(len(labels))}
    teachable, deploy_key, serving_key = slipway.teachable(name)
    deployment = _deploy(th, teachable, deploy_key, model, X, classes)
    _wait_active(slipway, teachable, deployment.version())

    client = th.TeachableHubPredictAPI(teachable=teachable, environment="production", serving_key=serving_key)
    rows = X[::17][:8]
    expected = model.predict_proba(rows)
    # One row: TeachableHub's flat list of {className, probability}, sorted by probability (desc by default).
    one = client.predict(rows[:1])
    assert [p["probability"] for p in one] == sorted((p["probability"] for p in one), reverse=True)
    got = {p["className"]: p["probability"] for p in one}
    for index, label in enumerate(labels):
        assert abs(got[label] - expected[0][index]) <= TOLERANCE, (label, got[label], expected[0][index])
    # Several rows (a numpy array): one list per row.
    many = client.predict(rows)
    assert len(many) == len(rows)
    for row, predictions in enumerate(many):
        got = {p["className"]: p["probability"] for p in predictions}
        for index, label in enumerate(labels):
            assert abs(got[label] - expected[row][index]) <= TOLERANCE, (row, label, got[label], expected[row][index])
    # order, limit and threshold as query parameters.
    top = client.predict(rows[:1].tolist(), order="asc", limit=1, threshold=0.0)
    assert len(top) == 1 and abs(top[0]["probability"] - min(expected[0])) <= TOLERANCE


def test_perceptron_predicts_scikit_learns_labels(slipway, th):
    X, y = IRIS.data, IRIS.target
    model = Perceptron(random_state=0).fit(X, y)
    labels = [str(label) for label in IRIS.target_names]
    teachable, deploy_key, serving_key = slipway.teachable("perceptron")
    deployment = _deploy(th, teachable, deploy_key, model, X, {str(i): label for i, label in enumerate(labels)})
    _wait_active(slipway, teachable, deployment.version())
    client = th.TeachableHubPredictAPI(teachable=teachable, serving_key=serving_key)
    rows = X[::10]
    predictions = client.predict(rows)
    assert [row[0]["className"] for row in predictions] == [labels[label] for label in model.predict(rows)]


@pytest.mark.parametrize("name", sorted(REGRESSORS))
def test_regressor_values_match_scikit_learn(slipway, th, name):
    X, y = DIABETES.data, DIABETES.target
    model = REGRESSORS[name]().fit(X, y)
    teachable, deploy_key, serving_key = slipway.teachable(name)
    deployment = _deploy(th, teachable, deploy_key, model, X)
    _wait_active(slipway, teachable, deployment.version())
    client = th.TeachableHubPredictAPI(teachable=teachable, environment="production", serving_key=serving_key)
    rows = X[::40]
    expected = model.predict(rows)
    one = client.predict(rows[:1])
    assert abs(one[0] - expected[0]) <= TOLERANCE * max(1.0, abs(expected[0]))
    many = client.predict(rows)
    for got, want in zip(many, expected):
        assert abs(got[0] - want) <= TOLERANCE * max(1.0, abs(want)), (got, want)


def test_versions_activate_and_roll_back_through_the_sdk(slipway, th):
    X, y = IRIS.data, IRIS.target
    labels = [str(label) for label in IRIS.target_names]
    classes = {str(i): label for i, label in enumerate(labels)}
    teachable, deploy_key, serving_key = slipway.teachable("versions")
    first = _deploy(th, teachable, deploy_key, LogisticRegression(C=0.01, max_iter=1000).fit(X, y), X, classes, "v1")
    second = _deploy(th, teachable, deploy_key, LogisticRegression(C=10, max_iter=1000).fit(X, y), X, classes, "v2")
    assert (first.version(), second.version()) == (1, 2)
    _wait_active(slipway, teachable, 2)

    # An existing deployment, loaded by version; activate() it, then rollback(version) the environment.
    loaded = th.TeachableDeployment(teachable=teachable, environment="production", deploy_key=deploy_key, version=1)
    assert loaded.verified() and loaded.object()["summary"] == "v1"
    activated = loaded.activate()
    assert activated["version"] == 1 and activated["is_active"] is True
    rolled = second.rollback(2)
    assert rolled["version"] == 2 and rolled["uuid"] == second.object()["uuid"]

    client = th.TeachableHubPredictAPI(teachable=teachable, serving_key=serving_key)
    pinned = th.TeachableHubPredictAPI(teachable=teachable, serving_key=serving_key, version=1)
    row = X[60:61]
    active = {p["className"]: p["probability"] for p in client.predict(row)}
    old = {p["className"]: p["probability"] for p in pinned.predict(row)}
    assert active != old, "version 1 and 2 are different models"
    latest = th.TeachableHubPredictAPI(teachable=teachable, serving_key=serving_key, version=2)
    assert active == {p["className"]: p["probability"] for p in latest.predict(row)}

    wrong = th.TeachableHubPredictAPI(teachable=teachable, serving_key="slw_s_unknown_" + _secret(32))
    with pytest.raises(th.UnauthorizedError):
        wrong.predict(row)


def test_whoami_and_teachable_listings(slipway, th):
    api = th.TeachableHubAPI(token=slipway.admin_token)
    assert api.whoami()["username"] == "admin"
    teachable, _, _ = slipway.teachable("listed")
    assert teachable in [model["full_name"] for model in api.get_user_teachables()]
    assert teachable not in [model["full_name"] for model in api.get_all_public_teachables()], "it is private"
    slipway.call("PATCH", f"/api/v1/models/{teachable}", 200, json={"public": True})
    assert teachable in [model["full_name"] for model in api.get_all_public_teachables()]
    with pytest.raises(th.UnauthorizedError):
        th.TeachableHubAPI(token="slw_u_nottherightone_" + _secret(32)).whoami()


def test_unsupported_estimator_fails_clearly_and_stores_nothing(slipway, th):
    X, y = IRIS.data, IRIS.target
    # th-sklearn-json still serialises MultinomialNB with scikit-learn 1.3 (trees and forests fail in the SDK itself).
    teachable, deploy_key, _ = slipway.teachable("naive-bayes")
    deployment = th.TeachableDeployment(teachable=teachable, environment="production", deploy_key=deploy_key)
    cwd = os.getcwd()
    deployment.model(MultinomialNB().fit(X, y))
    deployment.samples(ndarray=X[:2])
    try:
        with pytest.raises(th.UnsuccessfulRequestError) as raised:
            deployment.deploy(summary="naive Bayes")
    finally:
        os.chdir(cwd)
    assert raised.value.code == 400
    text = raised.value.text
    assert "unsupported estimator" in text and "nb" in text.lower(), text
    assert slipway.call("GET", f"/v1/teachables/{teachable}/deployments/", 200) == []
