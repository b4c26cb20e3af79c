"""Every estimator family of the engine's model zoo (Tests/Fixtures/zoo, scripts/make-zoo.py), deployed through the
SDK to a live ``slipway serve``: converted, checked, verified by the server, activated, then predicted through the
prediction API and compared with the estimator's own ``predict_proba`` / ``predict``."""

from __future__ import annotations

import numpy as np
import pytest

import slipway
from sdk_live import connect, dataset, project

# The converters and scikit-learn warn about their own deprecations; none of it is the SDK's.
pytestmark = pytest.mark.filterwarnings(
    "ignore::UserWarning", "ignore::FutureWarning", "ignore::DeprecationWarning"
)


@pytest.fixture(scope="module")
def server(start_slipway):
    with start_slipway("slipway-sdk-zoo-") as (_, url, token):
        yield connect(url, token)


def _zoo():
    from lightgbm import LGBMClassifier, LGBMRegressor
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        GradientBoostingRegressor,
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Binarizer, MinMaxScaler, Normalizer, StandardScaler
    from sklearn.svm import SVC, SVR, LinearSVC, LinearSVR
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
    from xgboost import XGBClassifier, XGBRegressor

    lgbm = dict(random_state=0, n_jobs=1, deterministic=True, force_row_wise=True, verbose=-1)
    xgb = dict(random_state=0, n_jobs=1, tree_method="exact")
    # (id, estimator, dataset, classification, dataset options)
    return [
        ("logistic-binary", LogisticRegression(solver="liblinear"), "breast_cancer", True, {}),
        ("logistic-multiclass", LogisticRegression(max_iter=1000), "iris", True, {}),
        ("linear-regression", LinearRegression(), "diabetes", False, {}),
        ("ridge", Ridge(alpha=1.0), "diabetes", False, {}),
        ("linear-svc", LinearSVC(C=0.01, max_iter=20000, random_state=0), "breast_cancer", True, {}),
        ("linear-svr", LinearSVR(C=100.0, max_iter=20000, random_state=0), "diabetes", False, {}),
        ("svc-linear", SVC(kernel="linear"), "iris", True, {}),
        ("svc-rbf-proba", make_pipeline(StandardScaler(), SVC(probability=True, random_state=0)), "breast_cancer",
         True, {}),
        ("svr", SVR(kernel="rbf", C=100.0), "diabetes", False, {}),
        ("tree-string-labels", DecisionTreeClassifier(max_depth=4, random_state=0), "iris", True,
         {"string_labels": True}),
        ("tree-regressor", DecisionTreeRegressor(max_depth=6, random_state=0), "diabetes", False, {}),
        ("random-forest", RandomForestClassifier(n_estimators=20, max_depth=5, random_state=0), "wine", True, {}),
        ("random-forest-regressor", RandomForestRegressor(n_estimators=20, random_state=0), "diabetes", False, {}),
        ("gradient-boosting", GradientBoostingClassifier(n_estimators=20, max_depth=2, random_state=0), "wine",
         True, {}),
        ("gradient-boosting-regressor", GradientBoostingRegressor(n_estimators=50, max_depth=3, random_state=0),
         "diabetes", False, {}),
        ("hist-gradient-boosting-nan", HistGradientBoostingClassifier(max_iter=30, max_leaf_nodes=15,
                                                                       random_state=0), "breast_cancer", True,
         {"nan_fraction": 0.1}),
        ("hist-gradient-boosting-regressor-nan", HistGradientBoostingRegressor(max_iter=30, max_leaf_nodes=15,
                                                                               random_state=0), "diabetes", False,
         {"nan_fraction": 0.1}),
        ("mlp", make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(16,), max_iter=500,
                                                              random_state=0)), "breast_cancer", True, {}),
        ("mlp-regressor", make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(16,), max_iter=500,
                                                                       learning_rate_init=0.01, random_state=0)),
         "diabetes", False, {}),
        ("kneighbors", KNeighborsClassifier(n_neighbors=5), "iris", True, {}),
        ("kneighbors-regressor", KNeighborsRegressor(n_neighbors=5), "diabetes", False, {}),
        ("normalizer-logistic", make_pipeline(Normalizer(), LogisticRegression(max_iter=1000)), "iris", True, {}),
        ("minmax-svc", make_pipeline(MinMaxScaler(), SVC(kernel="rbf")), "wine", True, {}),
        ("binarizer-logistic", make_pipeline(StandardScaler(), Binarizer(threshold=0.0),
                                             LogisticRegression(max_iter=1000)), "breast_cancer", True, {}),
        ("imputer-ridge-nan", make_pipeline(SimpleImputer(), Ridge(alpha=0.1)), "diabetes", False,
         {"nan_fraction": 0.1}),
        ("xgboost", XGBClassifier(n_estimators=10, max_depth=3, **xgb), "iris", True, {}),
        ("xgboost-binary", XGBClassifier(n_estimators=20, max_depth=3, **xgb), "breast_cancer", True, {}),
        ("xgboost-regressor", XGBRegressor(n_estimators=20, max_depth=3, **xgb), "diabetes", False, {}),
        ("lightgbm", LGBMClassifier(n_estimators=10, num_leaves=8, **lgbm), "iris", True, {}),
        ("lightgbm-binary", LGBMClassifier(n_estimators=20, num_leaves=8, **lgbm), "breast_cancer", True, {}),
        ("lightgbm-regressor", LGBMRegressor(n_estimators=20, num_leaves=8, **lgbm), "diabetes", False, {}),
    ]


ZOO = _zoo()


@pytest.mark.parametrize("name, estimator, data, classification, options", ZOO, ids=[z[0] for z in ZOO])
def test_deploys_verifies_and_predicts_like_the_estimator(server, name, estimator, data, classification, options):
    X_train, y_train, X_test = dataset(data, classification, **options)
    estimator.fit(X_train, y_train)
    deploy_key, serving_key = project(server, name)

    deployment = (
        slipway.Deployment(f"admin/{name}", deploy_key=deploy_key, base_url=server.url)
        .model(estimator)
        .samples(X_test)
        .deploy(f"{name} from the SDK zoo test", activate=True, timeout=60)
    )
    assert deployment.version == 1
    assert deployment.status == "verified", deployment.info
    assert deployment.is_active
    assert deployment.verified()
    samples = deployment.info["samples"]
    assert len(samples["ndarray"]) == 5 and len(samples["expected"]) == 5
    assert deployment.info["context"]["libraries"]["numpy"] == np.__version__

    client = slipway.Client(f"admin/{name}", serving_key=serving_key, base_url=server.url)
    if classification:
        labels = [str(label) for label in estimator.predict(X_test)]
        assert deployment.info["classes"] == [str(c) for c in estimator.classes_]
        if hasattr(estimator, "predict_proba") and _has_probabilities(estimator):
            probabilities = client.predict_proba(X_test)
            assert client.classes_ == [str(c) for c in estimator.classes_]
            np.testing.assert_allclose(probabilities, estimator.predict_proba(X_test), atol=1e-4, rtol=0)
        assert client.predict_labels(X_test) == labels
    else:
        rows = client.predict(X_test)
        values = np.array([row[0] for row in rows], dtype=np.float64)
        np.testing.assert_allclose(values, estimator.predict(X_test).reshape(-1), rtol=1e-4, atol=1e-3)
    assert client.last_version == 1


def _has_probabilities(estimator) -> bool:
    try:
        estimator.predict_proba
    except AttributeError:
        return False
    return True
