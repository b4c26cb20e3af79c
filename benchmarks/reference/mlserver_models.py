#!/usr/bin/env python3
"""Write an MLServer model repository for benchmarks/serving.sh: the two benchmark models as scikit-learn pickles.

    python3 benchmarks/reference/mlserver_models.py OUTDIR [--parallel-workers N]

The models are trained exactly as scripts/make-zoo.py trains the zoo's iris_random_forest and
breast_cancer_gradient_boosting (its make_data: the dataset as float32, a 25% stratified split with seed 0;
the same estimators and seeds), so MLServer serves the same models that Slipway and the FastAPI server
run as ONNX. Each model gets OUTDIR/<name>/model.joblib and a model-settings.json for MLServer's
scikit-learn runtime; OUTDIR/settings.json turns off MLServer's per-request debug logging.
"""
import argparse
import importlib.util
import json
import os
import sys

import joblib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# name in the benchmark -> (zoo model, dataset)
MODELS = {
    "iris": ("iris_random_forest", "iris"),
    "breast-cancer": ("breast_cancer_gradient_boosting", "breast_cancer"),
}


def make_zoo():
    spec = importlib.util.spec_from_file_location("make_zoo", os.path.join(ROOT, "scripts", "make-zoo.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_zoo"] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def estimator(zoo_name, seed):
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier

    if zoo_name == "iris_random_forest":
        return RandomForestClassifier(n_estimators=100, random_state=seed)
    if zoo_name == "breast_cancer_gradient_boosting":
        return GradientBoostingClassifier(n_estimators=100, random_state=seed)
    raise ValueError(zoo_name)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--parallel-workers", type=int, default=1)
    parser.add_argument("--http-port", type=int, default=8080)
    parser.add_argument("--grpc-port", type=int, default=8081)
    parser.add_argument("--metrics-port", type=int, default=8082)
    arguments = parser.parse_args()
    zoo = make_zoo()
    os.makedirs(arguments.out, exist_ok=True)
    for name, (zoo_name, dataset) in MODELS.items():
        folder = os.path.join(arguments.out, name)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "model.joblib")
        if not os.path.exists(path):
            data = zoo.make_data(dataset, classification=True)
            model = estimator(zoo_name, zoo.SEED).fit(data.X_train, data.y_train)
            joblib.dump(model, path)
        with open(os.path.join(folder, "model-settings.json"), "w") as f:
            json.dump({
                "name": name,
                "implementation": "mlserver_sklearn.SKLearnModel",
                "parameters": {"uri": "./model.joblib", "version": "v1"},
            }, f, indent=2)
    with open(os.path.join(arguments.out, "settings.json"), "w") as f:
        json.dump({
            "debug": False,
            "parallel_workers": arguments.parallel_workers,
            "host": "127.0.0.1",
            "http_port": arguments.http_port,
            "grpc_port": arguments.grpc_port,
            "metrics_port": arguments.metrics_port,
        }, f, indent=2)


if __name__ == "__main__":
    main()
