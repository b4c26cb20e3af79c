"""Helpers shared by the SDK's live tests: a model project with keys, and the datasets the zoo uses."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Iterable, Tuple

import numpy as np

import slipway


def connect(url: str, token: str) -> SimpleNamespace:
    return SimpleNamespace(url=url, token=token, admin=slipway.Admin(token=token, base_url=url))


def project(server: SimpleNamespace, name: str, environments: Iterable[str] = ("production",)) -> Tuple[str, str]:
    """Creates ``admin/<name>`` with a deploy key and a serving key for ``environments``; returns both secrets."""
    environments = list(environments)
    server.admin.create_model(f"admin/{name}")
    for environment in environments:
        if environment not in ("production", "staging"):
            server.admin.create_environment(f"admin/{name}", environment)
    deploy = server.admin.create_key(f"admin/{name}", kind="deploy", name="ci", environments=environments)
    serve = server.admin.create_key(f"admin/{name}", kind="serving", name="app", environments=environments)
    return deploy["secret"], serve["secret"]


def dataset(name: str, classification: bool, nan_fraction: float = 0.0, string_labels: bool = False):
    """Train and 20 test rows of a scikit-learn dataset, split as scripts/make-zoo.py splits them."""
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    loader = {
        "iris": datasets.load_iris,
        "breast_cancer": datasets.load_breast_cancer,
        "diabetes": datasets.load_diabetes,
        "wine": datasets.load_wine,
    }[name]
    X, y = loader(return_X_y=True)
    X = X.astype(np.float32)
    if nan_fraction:
        rng = np.random.RandomState(1)
        X = X.copy()
        X[rng.rand(*X.shape) < nan_fraction] = np.nan
    if string_labels:
        names = datasets.load_iris().target_names
        y = np.array([str(names[i]) for i in y], dtype=object)
    X_train, X_test, y_train, _ = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y if classification else None
    )
    return X_train, y_train, X_test[:20]
