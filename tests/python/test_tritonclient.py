"""The real ``tritonclient[http]`` package against a live ``slipway serve``, compared with ONNX Runtime.

The fixture starts the built binary (``.build/debug/slipway``, or ``$SLIPWAY_BINARY``; see ``conftest.py``) on a free
port with a temporary data folder and a known administrator token, deploys zoo models through the management API, marks them
verified, activates them and creates a serving key. The tests then speak the Open Inference Protocol through
tritonclient, with JSON and with binary tensor data, and compare every output with ONNX Runtime on the same inputs.

Run: ``pip install -r tests/python/requirements.txt && swift build && pytest tests/python``.
"""

from __future__ import annotations

import json
import pathlib
import secrets
import string
import subprocess
import time

import numpy as np
import onnxruntime as ort
import pytest
import requests
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

ROOT = pathlib.Path(__file__).resolve().parents[2]
ZOO = ROOT / "Tests" / "Fixtures" / "zoo"
ALPHABET = string.ascii_letters + string.digits


def _secret(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


class Slipway:
    """A running ``slipway serve`` and a small management client for it."""

    def __init__(self, process: subprocess.Popen, url: str, admin_token: str):
        self.process = process
        self.url = url
        self.admin_token = admin_token
        self.host = url.removeprefix("http://")

    @property
    def admin(self) -> dict[str, str]:
        """Fresh headers each time: tritonclient adds its own headers to the dict it is given."""
        return {"Authorization": f"Bearer {self.admin_token}"}

    def call(self, method: str, path: str, expected: int, **kwargs) -> dict:
        response = requests.request(method, self.url + path, headers=self.admin, timeout=60, **kwargs)
        assert response.status_code == expected, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else {}

    def publish(self, owner_name: str, model: str, environment: str = "production", create: bool = True) -> int:
        """Creates the model (optionally), deploys the zoo model, verifies and activates it; returns the version."""
        owner, name = owner_name.split("/")
        if create:
            self.call("POST", "/api/v1/models", 201, json={"owner": owner, "name": name})
        if environment not in ("production", "staging"):
            self.call("POST", f"/api/v1/models/{owner_name}/environments", 201, json={"name": environment})
        base = f"/api/v1/models/{owner_name}/environments/{environment}"
        with open(ZOO / model / "model.onnx", "rb") as artifact:
            deployment = self.call(
                "POST",
                f"{base}/deployments",
                201,
                files={"model": ("model.onnx", artifact, "application/octet-stream")},
                data={"summary": f"{model} for the tritonclient test"},
            )
        version = deployment["version"]
        self.verify(f"{base}/deployments/{version}")
        self.call("POST", f"{base}/activate", 200, json={"version": version})
        return version

    def verify(self, path: str) -> None:
        """Marks a deployment verified as the administrator, or waits for the server's verifier to do it."""
        response = requests.post(
            self.url + path + "/status", headers=self.admin, json={"state": "verified"}, timeout=60
        )
        if response.status_code == 200:
            return
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = self.call("GET", path, 200).get("status", {})
            state = state.get("state") if isinstance(state, dict) else state
            if state == "verified":
                return
            assert state != "failed", f"verification failed: {self.call('GET', path, 200)}"
            time.sleep(0.2)
        raise AssertionError(f"{path} was not verified within 60 s")

    def serving_key(self, owner_name: str, environments: list[str]) -> str:
        key = self.call(
            "POST",
            f"/api/v1/models/{owner_name}/keys",
            201,
            json={"kind": "serving", "name": f"tritonclient-{_secret(6).lower()}", "environments": environments},
        )
        return key["secret"]


@pytest.fixture(scope="module")
def slipway(start_slipway):
    with start_slipway("slipway-tritonclient-") as (process, url, admin_token):
        server = Slipway(process, url, admin_token)
        server.publish("admin/iris", "iris_random_forest")
        server.publish("admin/cancer", "breast_cancer_gradient_boosting", environment="staging")
        server.publish("admin/cancer", "breast_cancer_xgboost", environment="staging", create=False)
        server.publish("admin/wine", "wine_column_transformer")
        server.publish("admin/ridge", "diabetes_ridge_double")
        server.keys = {
            "iris": server.serving_key("admin/iris", ["production"]),
            "cancer": server.serving_key("admin/cancer", ["staging"]),
            "wine": server.serving_key("admin/wine", ["production"]),
            "ridge": server.serving_key("admin/ridge", ["production"]),
        }
        yield server


@pytest.fixture(scope="module")
def client(slipway):
    return httpclient.InferenceServerClient(url=slipway.host, network_timeout=60.0)


def _zoo(model: str) -> tuple[dict, ort.InferenceSession]:
    expected = json.loads((ZOO / model / "expected.json").read_text())
    session = ort.InferenceSession(str(ZOO / model / "model.onnx"), providers=["CPUExecutionProvider"])
    return expected, session


def _numpy_inputs(expected: dict) -> dict[str, np.ndarray]:
    dtypes = {"FP32": np.float32, "FP64": np.float64, "INT64": np.int64, "INT32": np.int32, "BOOL": np.bool_}
    arrays = {}
    for tensor in expected["inputs"]:
        if tensor["datatype"] == "BYTES":
            array = np.array(tensor["data"], dtype=object)
        else:
            array = np.array(tensor["data"], dtype=dtypes[tensor["datatype"]])
        arrays[tensor["name"]] = array.reshape(tensor["shape"])
    return arrays


def _onnxruntime(session: ort.InferenceSession, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """ONNX Runtime's outputs; a ZipMap output (a list of dicts) becomes the [rows, classes] score matrix."""
    results = {}
    for meta, value in zip(session.get_outputs(), session.run(None, inputs)):
        if isinstance(value, list) and value and isinstance(value[0], dict):
            keys = sorted(value[0])
            value = np.array([[row[k] for k in keys] for row in value], dtype=np.float32)
        results[meta.name] = np.asarray(value)
    return results


def _triton_inputs(arrays: dict[str, np.ndarray], binary: bool) -> list[httpclient.InferInput]:
    datatypes = {np.float32: "FP32", np.float64: "FP64", np.int64: "INT64", np.int32: "INT32", np.bool_: "BOOL"}
    inputs = []
    for name, array in arrays.items():
        datatype = "BYTES" if array.dtype == object else datatypes[array.dtype.type]
        tensor = httpclient.InferInput(name, list(array.shape), datatype)
        tensor.set_data_from_numpy(array, binary_data=binary)
        inputs.append(tensor)
    return inputs


def _compare(result: httpclient.InferResult, reference: dict[str, np.ndarray], tolerance: float) -> None:
    for name, want in reference.items():
        got = result.as_numpy(name)
        assert got is not None, f"no output {name} in {result.get_response()}"
        assert got.shape == want.shape, f"{name}: shape {got.shape}, ONNX Runtime {want.shape}"
        if want.dtype.kind in "fc":
            np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance, err_msg=name)
        else:
            np.testing.assert_array_equal(got, want, err_msg=name)


def test_server_health_and_metadata(client):
    assert client.is_server_live()
    assert client.is_server_ready()
    metadata = client.get_server_metadata()
    assert metadata["name"] == "slipway"
    assert "binary_tensor_data" in metadata["extensions"]


def test_model_metadata_and_readiness(client, slipway):
    headers = {"X-Serving-Key": slipway.keys["iris"]}
    assert client.is_model_ready("admin__iris", headers=headers)
    assert client.is_model_ready("admin__iris", model_version="1", headers=headers)
    metadata = client.get_model_metadata("admin__iris", headers=headers)
    assert metadata["name"] == "admin__iris"
    assert metadata["platform"] == "slipway_onnx"
    assert metadata["versions"] == ["1"]
    assert metadata["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 4]}]
    assert [o["name"] for o in metadata["outputs"]] == ["output_label", "output_probability"]
    staged = client.get_model_metadata("admin__cancer__staging", headers={"X-Serving-Key": slipway.keys["cancer"]})
    assert staged["versions"] == ["1", "2"]
    models = requests.get(slipway.url + "/v2/models", headers=slipway.admin, timeout=30).json()["models"]
    assert models == ["admin__cancer__staging", "admin__iris", "admin__ridge", "admin__wine"]


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
def test_iris_matches_onnxruntime(client, slipway, binary):
    expected, session = _zoo("iris_random_forest")
    arrays = _numpy_inputs(expected)
    outputs = [
        httpclient.InferRequestedOutput("output_label", binary_data=binary),
        httpclient.InferRequestedOutput("output_probability", binary_data=binary),
    ]
    result = client.infer(
        "admin__iris",
        _triton_inputs(arrays, binary),
        outputs=outputs,
        request_id="iris-1",
        headers={"X-Serving-Key": slipway.keys["iris"]},
    )
    response = result.get_response()
    assert response["id"] == "iris-1"
    assert response["model_name"] == "admin__iris"
    assert response["model_version"] == "1"
    _compare(result, _onnxruntime(session, arrays), tolerance=1e-5)


def test_all_outputs_binary_by_default_with_bearer_key(client, slipway):
    # With no requested outputs tritonclient asks for every output as binary data (binary_data_output).
    expected, session = _zoo("iris_random_forest")
    arrays = _numpy_inputs(expected)
    result = client.infer(
        "admin__iris",
        _triton_inputs(arrays, binary=True),
        headers={"Authorization": f"Bearer {slipway.keys['iris']}"},
    )
    for output in result.get_response()["outputs"]:
        assert "binary_data_size" in output["parameters"]
    _compare(result, _onnxruntime(session, arrays), tolerance=1e-5)


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
def test_versions_and_environments(client, slipway, binary):
    headers = {"X-Serving-Key": slipway.keys["cancer"]}
    for version, model in (("1", "breast_cancer_gradient_boosting"), ("2", "breast_cancer_xgboost"), ("", "breast_cancer_xgboost")):
        expected, session = _zoo(model)
        arrays = _numpy_inputs(expected)
        result = client.infer(
            "admin__cancer__staging",
            _triton_inputs(arrays, binary),
            model_version=version,
            outputs=[httpclient.InferRequestedOutput(o.name, binary_data=binary) for o in session.get_outputs()],
            headers=headers,
        )
        assert result.get_response()["model_version"] == (version or "2")
        _compare(result, _onnxruntime(session, arrays), tolerance=1e-5)


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
def test_bytes_int64_and_fp64_inputs(client, slipway, binary):
    for name, model in (("wine", "wine_column_transformer"), ("ridge", "diabetes_ridge_double")):
        expected, session = _zoo(model)
        arrays = _numpy_inputs(expected)
        result = client.infer(
            f"admin__{name}",
            _triton_inputs(arrays, binary),
            outputs=[httpclient.InferRequestedOutput(o.name, binary_data=binary) for o in session.get_outputs()],
            headers={"X-Serving-Key": slipway.keys[name]},
        )
        _compare(result, _onnxruntime(session, arrays), tolerance=1e-5)


def test_credentials_and_errors(client, slipway):
    expected, _ = _zoo("iris_random_forest")
    inputs = _triton_inputs(_numpy_inputs(expected), binary=True)
    with pytest.raises(InferenceServerException, match="serving key"):
        client.infer("admin__iris", inputs)
    with pytest.raises(InferenceServerException, match="another model"):
        client.infer("admin__iris", inputs, headers={"X-Serving-Key": slipway.keys["wine"]})
    with pytest.raises(InferenceServerException):
        client.infer("admin__missing", inputs, headers=slipway.admin)
    with pytest.raises(InferenceServerException):
        client.infer("admin__iris", inputs, model_version="9", headers=slipway.admin)
    for path in ("/v2/models/admin__missing/infer", "/v2/models/admin__iris/versions/9/infer"):
        answer = requests.post(slipway.url + path, json={"inputs": []}, headers=slipway.admin, timeout=30)
        assert answer.status_code == 404, answer.text
    wrong = httpclient.InferInput("input", [20, 4], "FP64")
    wrong.set_data_from_numpy(np.zeros((20, 4), dtype=np.float64))
    with pytest.raises(InferenceServerException, match="element type"):
        client.infer("admin__iris", [wrong], headers=slipway.admin)
    assert not client.is_model_ready("admin__iris__staging", headers=slipway.admin)
    raw = requests.post(slipway.url + "/v2/models/admin__iris/infer", data=b"{", headers=slipway.admin, timeout=30)
    assert raw.status_code == 400
    assert set(raw.json()) == {"error"}
