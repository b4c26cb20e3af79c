"""``/metrics`` of a live ``slipway serve`` read with the real ``prometheus_client`` parser.

The fixture starts the built binary with a scrape token, deploys the iris zoo model, sends predictions (answered
and refused), then scrapes: without the token the answer is 401; with it, the exposition parses with
``prometheus_client.parser`` and its counters match what was sent.

Run: ``pip install -r tests/python/requirements.txt && swift build && pytest tests/python/test_metrics.py``.
"""

from __future__ import annotations

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from conftest import running_server
from test_tritonclient import Slipway, _secret

IRIS_ROW = {"ndarray": [[5.1, 3.5, 1.4, 0.2]]}


@pytest.fixture(scope="module")
def server():
    metrics_token = _secret(24)
    with running_server("slipway-metrics-", {"SLIPWAY_METRICS_TOKEN": metrics_token}) as (process, url, admin_token):
        slipway = Slipway(process, url, admin_token)
        slipway.metrics_token = metrics_token
        slipway.publish("admin/iris", "iris_random_forest")
        slipway.serving = slipway.serving_key("admin/iris", ["production"])
        yield slipway


def _scrape(server: Slipway) -> dict[str, object]:
    response = requests.get(
        server.url + "/metrics", headers={"Authorization": f"Bearer {server.metrics_token}"}, timeout=30
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {family.name: family for family in text_string_to_metric_families(response.text)}


def _value(families: dict[str, object], family: str, sample: str, **labels: str) -> float:
    if family not in families:
        return 0.0
    return sum(
        s.value
        for s in families[family].samples
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items())
    )


def test_scraping_needs_the_token(server: Slipway):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {server.metrics_token}"}):
        response = requests.get(server.url + "/metrics", headers=headers, timeout=30)
        assert response.status_code == 401, response.text
        assert response.json()["code"] == "unauthenticated"
        assert response.json()["field"] == "Authorization"


def test_counters_match_the_predictions_sent(server: Slipway):
    before = _scrape(server)
    deployment = {"model": "admin/iris", "environment": "production", "version": "1"}
    requests_before = _value(before, "slipway_prediction_requests", "slipway_prediction_requests_total", **deployment)
    headers = {"X-Serving-Key": server.serving}
    for _ in range(5):
        response = requests.post(server.url + "/v1/admin/iris/predict/", json=IRIS_ROW, headers=headers, timeout=30)
        assert response.status_code == 200, response.text
    refused = requests.post(
        server.url + "/v1/admin/iris/predict/", json={"ndarray": [[1, 2]]}, headers=headers, timeout=30
    )
    assert 400 <= refused.status_code < 500, refused.text
    code = refused.json()["code"]

    after = _scrape(server)
    assert after["slipway_prediction_requests"].type == "counter"
    assert after["slipway_prediction_duration_seconds"].type == "histogram"
    assert after["process_cpu_seconds"].type == "counter"
    total = _value(after, "slipway_prediction_requests", "slipway_prediction_requests_total", **deployment)
    assert total - requests_before == 6
    assert _value(after, "slipway_prediction_errors", "slipway_prediction_errors_total", code=code, **deployment) >= 1
    assert _value(
        after, "slipway_prediction_duration_seconds", "slipway_prediction_duration_seconds_count", **deployment
    ) >= 5
    route = {"method": "POST", "route": "/v1/{owner}/{name}/predict", "status": "200"}
    assert _value(after, "slipway_http_requests", "slipway_http_requests_total", **route) >= 5
    assert _value(after, "slipway_loaded_models", "slipway_loaded_models") >= 1
    assert _value(after, "process_resident_memory_bytes", "process_resident_memory_bytes") > 1_000_000
    assert _value(after, "process_open_fds", "process_open_fds") >= 3
    # Histogram buckets are cumulative and end at +Inf with the count.
    buckets = [
        s for s in after["slipway_prediction_duration_seconds"].samples
        if s.name.endswith("_bucket") and all(s.labels.get(k) == v for k, v in deployment.items())
    ]
    ordered = sorted(buckets, key=lambda s: float(s.labels["le"]))
    assert [s.value for s in ordered] == sorted(s.value for s in ordered)
    assert ordered[-1].labels["le"] == "+Inf"
    assert ordered[-1].value == _value(
        after, "slipway_prediction_duration_seconds", "slipway_prediction_duration_seconds_count", **deployment
    )
