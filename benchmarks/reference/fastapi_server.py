"""A minimal FastAPI + uvicorn + ONNX Runtime prediction server: the reference for benchmarks/serving.sh.

It answers the route and the response shape of Slipway's prediction API for classifiers with classes,

    POST /v1/{owner}/{model}/predict/   {"ndarray": [[...], ...]}
    -> {"request_id", "environment", "version", "predictions": [{"className", "probability"}, ...]}

(one row: the flat list; several rows: one list per row), written the way such a server usually is: a pydantic
request model, one ONNX Runtime session per model and worker (one intra-op and one inter-op thread, as there are
as many workers as cores), probabilities sorted high to low. It does not check keys. `GET /healthz` is its floor.

Models come from SERVING_MODELS, a JSON object {"owner/name": {"path": "model.onnx", "classes": [...]}}.

    SERVING_MODELS='{"bench/iris": {"path": "Tests/Fixtures/zoo/iris_random_forest/model.onnx",
                     "classes": ["setosa", "versicolor", "virginica"]}}' \
    uvicorn benchmarks.reference.fastapi_server:app --workers 2 --loop uvloop --http httptools --no-access-log
"""

import json
import os
import uuid

import numpy as np
import onnxruntime as ort
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel


class Model:
    def __init__(self, path, classes):
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name
        self.classes = classes
        # ZipMap classifiers (skl2onnx's default) answer the probabilities as a list of {label: p} dicts.
        self.probabilities = self.session.get_outputs()[-1].name

    def predict(self, rows):
        (probabilities,) = self.session.run([self.probabilities], {self.input: np.asarray(rows, dtype=np.float32)})
        answers = []
        for row in probabilities:
            values = row.values() if isinstance(row, dict) else row
            items = [{"className": name, "probability": float(p)} for name, p in zip(self.classes, values)]
            items.sort(key=lambda item: item["probability"], reverse=True)
            answers.append(items)
        return answers


MODELS = {name: Model(spec["path"], spec["classes"]) for name, spec in json.loads(os.environ["SERVING_MODELS"]).items()}

app = FastAPI()


class PredictRequest(BaseModel):
    ndarray: list[list[float]]


@app.get("/healthz")
async def healthz():
    return {"status": "ok"}


@app.post("/v1/{owner}/{name}/predict/")
async def predict(owner: str, name: str, body: PredictRequest, environment: str = "production"):
    model = MODELS.get(f"{owner}/{name}")
    if model is None:
        raise HTTPException(404, f"no model {owner}/{name}")
    if not body.ndarray:
        raise HTTPException(400, "ndarray must hold at least one row")
    try:
        predictions = model.predict(body.ndarray)
    except (ValueError, ort.capi.onnxruntime_pybind11_state.InvalidArgument) as error:
        raise HTTPException(400, f"the rows do not fit the model: {error}") from None
    return {
        "request_id": uuid.uuid4().hex,
        "environment": environment,
        "version": 1,
        "predictions": predictions[0] if len(predictions) == 1 else predictions,
    }
