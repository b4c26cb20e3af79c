"""Error paths: each raises the documented exception with a message that names the problem, and nothing is uploaded
when the SDK can tell beforehand. The retry rules are checked against a small local HTTP server."""

from __future__ import annotations

import http.server
import socket
import threading

import numpy as np
import pandas as pd
import pytest

import slipway
from sdk_live import connect, dataset, project

# The converters and scikit-learn warn about their own deprecations; none of it is the SDK's.
pytestmark = pytest.mark.filterwarnings(
    "ignore::UserWarning", "ignore::FutureWarning", "ignore::DeprecationWarning"
)


@pytest.fixture(scope="module")
def server(start_slipway):
    with start_slipway("slipway-sdk-errors-") as (_, url, token):
        yield connect(url, token)


@pytest.fixture(scope="module")
def iris(server):
    from sklearn.linear_model import LogisticRegression

    X_train, y_train, X_test = dataset("iris", True)
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    frame = pd.DataFrame(X_train, columns=names)
    estimator = LogisticRegression(max_iter=1000).fit(frame, y_train)
    deploy_key, serving_key = project(server, "iris", environments=["staging"])
    slipway.Deployment("admin/iris", environment="staging", deploy_key=deploy_key, base_url=server.url).model(
        estimator
    ).schema(frame).samples(frame).deploy("iris with a schema", activate=True)
    return frame, estimator, deploy_key, serving_key


def deployments(server, model="admin/iris"):
    """The versions deployed besides the fixture's first."""
    return [d for d in server.admin.deployments(model) if d["version"] != 1 or d["environment"] != "staging"]


def test_unfitted_estimator(server, iris):
    from sklearn.ensemble import RandomForestClassifier

    _, _, deploy_key, _ = iris
    deployment = slipway.Deployment("admin/iris", environment="staging", deploy_key=deploy_key, base_url=server.url)
    with pytest.raises(slipway.ConversionError, match=r"RandomForestClassifier is not fitted: call \.fit"):
        deployment.model(RandomForestClassifier())
    assert deployments(server) == []


def test_unsupported_estimators(server, iris):
    from sklearn.base import BaseEstimator, RegressorMixin

    class MeanRegressor(RegressorMixin, BaseEstimator):
        def fit(self, X, y):
            self.mean_ = float(np.mean(y))
            self.n_features_in_ = np.asarray(X).shape[1]
            return self

        def predict(self, X):
            return np.full(len(X), self.mean_)

    frame, _, deploy_key, _ = iris
    deployment = slipway.Deployment("admin/iris", environment="staging", deploy_key=deploy_key, base_url=server.url)
    with pytest.raises(slipway.ConversionError, match="cannot deploy a builtins.dict"):
        deployment.model({"weights": [1, 2]})
    with pytest.raises(slipway.ConversionError) as caught:
        deployment.model(MeanRegressor().fit(frame.values, np.arange(len(frame)))).samples(frame.values).deploy("x")
    message = str(caught.value)
    assert "MeanRegressor cannot be converted to ONNX" in message and "pass the .onnx file" in message
    with pytest.raises(slipway.ConversionError, match="is not an .onnx file"):
        deployment.model("model.pkl").deploy("x")
    assert deployments(server) == []


def test_a_converted_model_that_disagrees_is_refused_with_the_largest_difference(server, iris):
    frame, estimator, deploy_key, _ = iris
    deployment = slipway.Deployment("admin/iris", environment="staging", deploy_key=deploy_key, base_url=server.url)
    # float32 ONNX against float64 scikit-learn differs by ~1e-7: a zero tolerance must refuse and say by how much.
    refused = r"largest difference [0-9.e-]+ \(row \d+, probability of class"
    with pytest.raises(slipway.ConversionError, match=refused) as caught:
        deployment.model(estimator, tolerance=0.0).samples(frame).deploy("too strict")
    assert 0 < caught.value.largest_difference < 1e-5
    assert "Nothing was uploaded" in str(caught.value)
    assert deployments(server) == []


def test_wrong_key(server, iris):
    frame, estimator, _, _ = iris
    wrong = "slw_d_AAAAAAAAAAAA_" + "B" * 32
    deployment = slipway.Deployment("admin/iris", environment="staging", deploy_key=wrong, base_url=server.url)
    with pytest.raises(slipway.AuthenticationError) as caught:
        deployment.model(estimator).samples(frame).deploy("never uploaded")
    assert caught.value.status == 401 and caught.value.detail
    assert deployments(server) == []
    client = slipway.Client("admin/iris", environment="staging", serving_key="slw_s_AAAAAAAAAAAA_" + "B" * 32,
                            base_url=server.url)
    with pytest.raises(slipway.AuthenticationError, match="HTTP 401"):
        client.predict(frame.head(1))


def test_deploy_to_an_environment_the_key_does_not_cover(server, iris):
    frame, estimator, deploy_key, _ = iris
    deployment = slipway.Deployment("admin/iris", environment="production", deploy_key=deploy_key,
                                    base_url=server.url)
    with pytest.raises(slipway.PermissionDenied) as caught:
        deployment.model(estimator).samples(frame).deploy("outside the key's scope")
    assert "production" in str(caught.value) and caught.value.status == 403
    assert deployments(server) == []


def test_server_down():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = slipway.Client("admin/iris", serving_key="slw_s_x", base_url=f"http://127.0.0.1:{port}", retries=1)
    with pytest.raises(slipway.ServerUnavailable, match=f"cannot reach the Slipway server at http://127.0.0.1:{port}"):
        client.predict([[1, 2, 3, 4]])
    admin = slipway.Admin(token="slw_u_x", base_url=f"http://127.0.0.1:{port}", retries=0)
    with pytest.raises(slipway.ServerUnavailable, match="SLIPWAY_URL"):
        admin.whoami()


def test_dataframe_with_unknown_columns(server, iris):
    frame, estimator, deploy_key, serving_key = iris
    extra = frame.assign(colour="red")
    deployment = slipway.Deployment("admin/iris", environment="staging", deploy_key=deploy_key, base_url=server.url)
    with pytest.raises(slipway.SchemaViolation, match="colour") as caught:
        deployment.model(estimator).samples(extra).deploy("unknown column")
    assert caught.value.violations[0]["feature"] == "colour"
    assert deployments(server) == []

    client = slipway.Client("admin/iris", environment="staging", serving_key=serving_key, base_url=server.url)
    with pytest.raises(slipway.SchemaViolation) as caught:
        client.predict(extra.head(3))
    assert caught.value.status == 409 and caught.value.code == "schema_violation"
    assert {(v["row"], v["feature"], v["rule"]) for v in caught.value.violations} == {
        (0, "colour", "unknown"), (1, "colour", "unknown"), (2, "colour", "unknown")}


def test_nan_where_the_schema_forbids_it(server, iris):
    frame, estimator, deploy_key, serving_key = iris
    holes = frame.head(5).copy()
    holes.loc[holes.index[2], "petal_width"] = np.nan
    deployment = slipway.Deployment("admin/iris", environment="staging", deploy_key=deploy_key, base_url=server.url)
    with pytest.raises(slipway.SchemaViolation, match="row 2, feature 'petal_width': required") as caught:
        deployment.model(estimator).schema(frame).samples(holes).deploy("NaN in a sample")
    assert "does not allow missing values" in str(caught.value)
    assert deployments(server) == []

    client = slipway.Client("admin/iris", environment="staging", serving_key=serving_key, base_url=server.url,
                            batch_size=2)
    with pytest.raises(slipway.SchemaViolation) as caught:
        client.predict(holes)
    assert [(v["row"], v["feature"], v["rule"]) for v in caught.value.violations] == [(2, "petal_width", "required")]


def test_verification_failure_carries_the_servers_reason(server, iris):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Magic", ["input"], ["output"], domain="com.example")],
        "magic",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 4])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [None, 1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)])
    _, _, deploy_key, _ = iris
    deployment = slipway.Deployment("admin/iris", environment="staging", deploy_key=deploy_key, base_url=server.url)
    with pytest.raises(slipway.VerificationFailed) as caught:
        deployment.model(model).deploy("an operator nobody knows")
    assert deployment.version == 2
    assert caught.value.reason and "Magic" in caught.value.reason, caught.value.reason
    assert deployment.status == "failed" and "failed verification" in str(caught.value)
    assert onnx.__version__


def test_bad_summary_and_missing_settings(monkeypatch):
    for variable in ("SLIPWAY_DEPLOY_KEY", "SLIPWAY_TOKEN", "SLIPWAY_URL"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(slipway.ConfigurationError, match="SLIPWAY_DEPLOY_KEY"):
        slipway.Deployment("admin/iris")
    with pytest.raises(slipway.ConfigurationError, match="owner/name"):
        slipway.Deployment("iris", deploy_key="k")
    with pytest.raises(slipway.ConfigurationError, match="SLIPWAY_TOKEN"):
        slipway.Admin()
    monkeypatch.setenv("SLIPWAY_DEPLOY_KEY", "slw_d_x")
    monkeypatch.setenv("SLIPWAY_URL", "http://example.invalid:9/")
    deployment = slipway.Deployment("admin/iris")
    assert deployment.base_url == "http://example.invalid:9"
    with pytest.raises(slipway.InvalidInput, match="one line"):
        deployment.deploy("two\nlines")


class _Script(http.server.BaseHTTPRequestHandler):
    """Answers POSTs from a script of (status, headers) and counts them."""

    script: list = []
    calls: list = []

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status, headers = self.script.pop(0) if self.script else (200, {})
        _Script.calls.append(status)
        body = b'{"predictions": [[1.0]], "version": 1}' if status == 200 else \
            b'{"detail": "scripted", "code": "c"}'
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def scripted():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Script)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _Script.calls = []
    yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_retries_only_connection_errors_503_and_429(scripted):
    _, url = scripted
    client = slipway.Client("admin/iris", serving_key="slw_s_x", base_url=url, retries=3)
    _Script.script = [(503, {"Retry-After": "0"}), (429, {"Retry-After": "0"}), (200, {})]
    assert client.predict([[1, 2]]) == [[[1.0]]]
    assert _Script.calls == [503, 429, 200]

    _Script.calls = []
    _Script.script = [(400, {})]
    with pytest.raises(slipway.InvalidInput, match="scripted"):
        client.predict([[1, 2]])
    assert _Script.calls == [400], "a 400 is never retried"

    _Script.calls = []
    _Script.script = [(429, {"Retry-After": "0"})] * 4
    with pytest.raises(slipway.RateLimited) as caught:
        client.predict([[1, 2]])
    assert _Script.calls == [429] * 4 and caught.value.retry_after == 0

    _Script.calls = []
    _Script.script = [(503, {"Retry-After": "0"})] * 4
    with pytest.raises(slipway.ServerUnavailable):
        client.predict([[1, 2]])
    assert len(_Script.calls) == 4
