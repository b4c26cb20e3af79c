"""The SDK's workflow against a live ``slipway serve``: pandas round trips with string categories, the schema
inferred from a DataFrame, reference rows, activate / rollback / promote, batching, management helpers, notebook
display and upload progress."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import requests

import slipway
from sdk_live import connect, dataset, project

# The converters and scikit-learn warn about their own deprecations; none of it is the SDK's.
pytestmark = pytest.mark.filterwarnings(
    "ignore::UserWarning", "ignore::FutureWarning", "ignore::DeprecationWarning"
)


@pytest.fixture(scope="module")
def server(start_slipway):
    with start_slipway("slipway-sdk-workflow-") as (_, url, token):
        yield connect(url, token)


def wine_frame():
    """A mixed table from wine: four float columns, an int64 category and a string category."""
    from sklearn import datasets

    wine = datasets.load_wine(as_frame=True)
    frame = wine.data[["alcohol", "malic_acid", "flavanoids", "hue"]].astype(np.float64).copy()
    color = wine.data["color_intensity"]
    frame["color_band"] = np.digitize(color, np.quantile(color, [0.25, 0.5, 0.75])).astype(np.int64)
    proline = wine.data["proline"]
    frame["proline_level"] = np.where(proline < 600, "low", np.where(proline < 1000, "mid", "high"))
    target = np.array(["barolo", "grignolino", "barbera"])[wine.target]
    return frame, target


def wine_pipeline():
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    pre = ColumnTransformer(
        [
            ("numeric", StandardScaler(), ["alcohol", "malic_acid", "flavanoids", "hue"]),
            ("categories", OneHotEncoder(handle_unknown="ignore"), ["color_band", "proline_level"]),
        ]
    )
    return Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=1000))])


@pytest.fixture(scope="module")
def wine(server):
    frame, target = wine_frame()
    pipeline = wine_pipeline().fit(frame, target)
    deploy_key, serving_key = project(server, "wine", environments=["staging", "production"])
    return frame, pipeline, deploy_key, serving_key


def test_pandas_round_trip_with_string_categories(server, wine):
    frame, pipeline, deploy_key, serving_key = wine
    sent = []
    deployment = (
        slipway.Deployment("admin/wine", environment="staging", deploy_key=deploy_key, base_url=server.url)
        .model(pipeline)
        .schema(frame)
        .samples(frame.iloc[::17])
        .context({"experiment": "wine-1", "git": {"note": "kept"}})
        .params({"C": 1.0})
        .deploy("logistic regression on a mixed table", activate=True, progress=lambda s, t: sent.append((s, t)))
    )
    assert deployment.status == "verified" and deployment.is_active
    assert sent and sent[-1][0] == sent[-1][1], "progress reached the whole body"
    info = deployment.info
    features = info["schema"]["features"]
    assert features["proline_level"] == {"type": "string", "allowed": ["high", "low", "mid"]}
    assert features["color_band"] == {"type": "integer", "min": 0, "max": 3}
    assert features["alcohol"]["type"] == "float"
    assert features["alcohol"]["min"] == pytest.approx(frame["alcohol"].min())
    assert info["schema"]["ndarray"] == [list(frame.columns)]
    assert info["classes"] == ["barbera", "barolo", "grignolino"]
    assert info["context"]["experiment"] == "wine-1" and info["context"]["git"]["note"] == "kept"
    assert info["context"]["python"] and info["context"]["hostname"]
    assert info["params"] == {"C": 1.0}
    assert info["reference_rows"] is None, "nothing is sent without .reference()"
    assert len(info["samples"]["features"]) == 5, "the first five rows of the samples given"

    client = slipway.Client("admin/wine", environment="staging", serving_key=serving_key, base_url=server.url)
    probabilities = client.predict_proba(frame)
    assert client.classes_ == list(pipeline.classes_)
    np.testing.assert_allclose(probabilities, pipeline.predict_proba(frame), atol=1e-5)
    assert client.predict_labels(frame) == list(pipeline.predict(frame))
    # pandas' category dtype travels as strings like object columns.
    categorical = frame.astype({"proline_level": "category"})
    np.testing.assert_allclose(client.predict_proba(categorical), probabilities, atol=1e-12)
    # A dict (one row) and a list of dicts travel as features too.
    row = frame.iloc[3].to_dict()
    assert client.predict_labels(row) == [pipeline.predict(frame.iloc[[3]])[0]]
    assert client.predict_labels([row, frame.iloc[4].to_dict()]) == list(pipeline.predict(frame.iloc[[3, 4]]))
    top = client.predict(frame.iloc[:2], limit=1)
    assert [len(r) for r in top] == [1, 1]


def test_batches_large_inputs_into_several_requests(server, wine):
    frame, pipeline, _, serving_key = wine

    class Counting(requests.Session):
        def __init__(self):
            super().__init__()
            self.rows = []

        def request(self, method, url, **kwargs):
            self.rows.append(len(kwargs["json"]["features"]))
            return super().request(method, url, **kwargs)

    session = Counting()
    client = slipway.Client("admin/wine", environment="staging", serving_key=serving_key, base_url=server.url,
                            batch_size=50, session=session)
    probabilities = client.predict_proba(frame)
    assert session.rows == [50, 50, 50, 28]
    np.testing.assert_allclose(probabilities, pipeline.predict_proba(frame), atol=1e-5)


def test_reference_rows_are_stored_with_the_deployment(server, wine):
    frame, pipeline, deploy_key, _ = wine
    deployment = (
        slipway.Deployment("admin/wine", environment="staging", deploy_key=deploy_key, base_url=server.url)
        .model(pipeline)
        .reference(frame)
        .deploy("with its training distribution")
    )
    assert deployment.info["reference_rows"] == len(frame)
    # Without .samples, the first reference rows are the samples; without .schema, the reference gives it.
    assert len(deployment.info["samples"]["ndarray"]) == 5
    assert deployment.info["schema"]["features"]["proline_level"]["allowed"] == ["high", "low", "mid"]


def test_activate_rollback_promote_and_display(server):
    from sklearn.linear_model import LogisticRegression

    X_train, y_train, X_test = dataset("iris", True)
    deploy_key, serving_key = project(server, "iris", environments=["staging", "production"])
    first = (
        slipway.Deployment("admin/iris", environment="staging", deploy_key=deploy_key, base_url=server.url)
        .model(LogisticRegression(max_iter=1000).fit(X_train, y_train))
        .samples(X_test)
        .deploy("first")
    )
    second = (
        slipway.Deployment("admin/iris", environment="staging", deploy_key=deploy_key, base_url=server.url)
        .model(LogisticRegression(C=0.01, max_iter=1000).fit(X_train, y_train))
        .samples(X_test)
        .classes(["setosa", "versicolor", "virginica"])
        .deploy("second", wait=False)
    )
    assert second.version == 2
    second.wait(timeout=30)
    assert not first.is_active
    assert first.activate()["active"]["version"] == 1
    assert second.activate()["previous_version"] == 1
    client = slipway.Client("admin/iris", environment="staging", serving_key=serving_key, base_url=server.url)
    assert client.predict_proba(X_test[:3]).shape == (3, 3)
    assert client.classes_ == ["setosa", "versicolor", "virginica"]
    assert client.last_version == 2
    assert second.rollback(1)["active"]["version"] == 1
    client.predict(X_test[:1])
    assert client.last_version == 1
    assert len(client.predict(X_test[:1], version=2)) == 1 and client.last_version == 2

    promoted = first.promote("production", summary="ship it")
    assert (promoted.environment, promoted.version, promoted.status) == ("production", 1, "verified")
    promoted.activate()
    production = slipway.Client("admin/iris", serving_key=serving_key, base_url=server.url)
    assert production.predict_labels(X_test[:2]) == [str(v) for v in first_labels(X_train, y_train, X_test[:2])]

    text = repr(promoted)
    assert "admin/iris production v1 verified" in text and server.url in text
    page = promoted._repr_html_()
    assert "<table>" in page and "admin/iris" in page and "verified" in page
    assert "(not deployed)" in repr(slipway.Deployment("admin/iris", deploy_key=deploy_key, base_url=server.url))


def first_labels(X_train, y_train, X):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000).fit(X_train, y_train).predict(X)


def test_management_helpers(server):
    admin = server.admin
    assert admin.whoami()["username"] == "admin"
    model = admin.create_model("admin/churn", description="who cancels next month", topics=["retention"])
    assert model["full_name"] == "admin/churn"
    assert {e["name"] for e in model["environments"]} == {"production", "staging"}
    assert admin.create_environment("admin/churn", "canary")["name"] == "canary"
    assert [e["name"] for e in admin.environments("admin/churn")] == ["production", "staging", "canary"]
    key = admin.create_key("admin/churn", kind="deploy", name="ci", environments=["canary"])
    assert key["secret"].startswith("slw_d_")
    assert [k["name"] for k in admin.keys("admin/churn")] == ["ci"]
    assert any(m["full_name"] == "admin/churn" for m in admin.models(q="churn"))

    from sklearn.tree import DecisionTreeRegressor

    X_train, y_train, X_test = dataset("diabetes", False)
    slipway.Deployment("admin/churn", environment="canary", deploy_key=key["secret"], base_url=server.url).model(
        DecisionTreeRegressor(max_depth=3).fit(X_train, y_train)
    ).samples(X_test).deploy("tree", activate=True)
    deployments = admin.deployments("admin/churn")
    assert [(d["environment"], d["version"], d["status"]["state"]) for d in deployments] == [("canary", 1, "verified")]
    assert admin.deployments("admin/churn", environment="production") == []
    assert admin.deployment("admin/churn", "canary", 1)["summary"] == "tree"
    assert admin.live("admin/churn", "canary")["version"] == 1
    actions = [event["action"] for event in admin.activity("admin/churn")]
    for action in ("model.created", "environment.created", "key.created", "deployment.created",
                   "deployment.verified", "deployment.activated"):
        assert action in actions
    only = admin.activity("admin/churn", action=["deployment.created"], environment="canary")
    assert [e["action"] for e in only] == ["deployment.created"]
    admin.revoke_key("admin/churn", key["id"])
    assert admin.keys("admin/churn")[0]["revoked_at"] is not None
