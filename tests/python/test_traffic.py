"""Traffic management of a live ``slipway serve``: A/B splits, stickiness, shadows, progressive rollouts (a
guardrail breach rolls back, a restart resumes) and the experiment readout checked against scipy.

Run: ``pip install -r tests/python/requirements.txt scipy && swift build && pytest tests/python/test_traffic.py``.
"""

from __future__ import annotations

import concurrent.futures
import json
import math
import tempfile
import threading
import time

import pytest
import requests
from scipy import stats

from conftest import running_server
from test_tritonclient import ZOO, Slipway

IRIS_ROWS = [[5.1, 3.5, 1.4, 0.2], [6.2, 2.9, 4.3, 1.3], [7.7, 3.0, 6.1, 2.3], [5.9, 3.0, 5.1, 1.8]]
FAST_ROLLOUTS = {"SLIPWAY_ROLLOUT_CHECK_MILLISECONDS": "200", "SLIPWAY_ROLLOUT_MINIMUM_REQUESTS": "5"}


def _deploy(server: Slipway, owner_name: str, zoo_model: str, activate: bool = False) -> int:
    base = f"/api/v1/models/{owner_name}/environments/production"
    with open(ZOO / zoo_model / "model.onnx", "rb") as artifact:
        deployment = server.call(
            "POST",
            f"{base}/deployments",
            201,
            files={"model": ("model.onnx", artifact, "application/octet-stream")},
            data={"summary": f"{zoo_model} for the traffic test", "classes": json.dumps(["setosa", "versicolor", "virginica"])},
        )
    version = deployment["version"]
    server.verify(f"{base}/deployments/{version}")
    if activate:
        server.call("POST", f"{base}/activate", 200, json={"version": version})
    return version


def _model(server: Slipway, owner_name: str, zoo_models: list[str]) -> tuple[list[int], str]:
    """Creates a model with one deployment per zoo model (the first active) and a serving key."""
    owner, name = owner_name.split("/")
    server.call("POST", "/api/v1/models", 201, json={"owner": owner, "name": name})
    versions = [_deploy(server, owner_name, model, activate=index == 0) for index, model in enumerate(zoo_models)]
    return versions, server.serving_key(owner_name, ["production"])


def _predict(session: requests.Session, server: Slipway, owner_name: str, key: str, row: list[float], route_key=None):
    headers = {"X-Serving-Key": key}
    if route_key is not None:
        headers["X-Slipway-Route-Key"] = route_key
    response = session.post(f"{server.url}/v1/{owner_name}/predict", headers=headers, json={"ndarray": [row]}, timeout=60)
    return response


def _traffic(server: Slipway, owner_name: str) -> str:
    return f"/api/v1/models/{owner_name}/environments/production/traffic"


@pytest.fixture(scope="module")
def server(start_slipway):
    with start_slipway("slipway-traffic-", FAST_ROLLOUTS) as (process, url, admin_token):
        yield Slipway(process, url, admin_token)


def test_split_shares_follow_the_weights_and_keys_stick(server):
    versions, key = _model(server, "admin/ab", ["iris_random_forest", "iris_logistic_regression", "iris_svc_linear"])
    v1, v2, v3 = versions
    policy = server.call(
        "PUT",
        _traffic(server, "admin/ab"),
        200,
        json={"arms": [{"version": v1, "weight": 70}, {"version": v2, "weight": 20}, {"version": v3, "weight": 10}]},
    )
    assert [(arm["version"], arm["weight"], arm["active"]) for arm in policy["arms"]] == [
        (v1, 70, True),
        (v2, 20, False),
        (v3, 10, False),
    ]

    total = 10_000
    counts = {v1: 0, v2: 0, v3: 0}
    lock = threading.Lock()

    def send(chunk: range) -> None:
        session = requests.Session()
        for index in chunk:
            response = _predict(session, server, "admin/ab", key, IRIS_ROWS[index % 4])
            assert response.status_code == 200, response.text
            body = response.json()
            # Every response says which version answered, in the body and the header.
            assert str(body["version"]) == response.headers["X-Slipway-Version"]
            with lock:
                counts[body["version"]] += 1

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(send, [range(start, total, 4) for start in range(4)]))
    for version, weight in ((v1, 0.7), (v2, 0.2), (v3, 0.1)):
        # Binomial: within 4.5 standard deviations of the expected count (a false failure is ~1 in 150,000 runs).
        sigma = math.sqrt(total * weight * (1 - weight))
        assert abs(counts[version] - total * weight) < 4.5 * sigma, counts

    # The same key always lands on the same arm, and keys spread over the arms.
    session = requests.Session()
    assigned = {}
    for user in range(300):
        seen = {_predict(session, server, "admin/ab", key, IRIS_ROWS[0], f"user-{user}").json()["version"] for _ in range(4)}
        assert len(seen) == 1, f"user-{user} moved between {seen}"
        assigned[user] = seen.pop()
    assert set(assigned.values()) == {v1, v2, v3}

    # A pinned version ignores the split.
    pinned = session.post(
        f"{server.url}/v1/admin/ab/predict?version={v3}", headers={"X-Serving-Key": key}, json={"ndarray": [IRIS_ROWS[0]]}
    )
    assert pinned.json()["version"] == v3

    activity = server.call("GET", "/api/v1/models/admin/ab/activity?action=traffic.updated", 200)
    items = activity["items"] if isinstance(activity, dict) else activity
    assert any("70%" in item.get("detail", "") for item in items), items

    # Activating by hand gives all traffic to the activated version.
    server.call("POST", "/api/v1/models/admin/ab/environments/production/activate", 200, json={"version": v2})
    after = server.call("GET", _traffic(server, "admin/ab"), 200)
    assert [(arm["version"], arm["weight"]) for arm in after["arms"]] == [(v2, 100)]
    assert {_predict(session, server, "admin/ab", key, IRIS_ROWS[1]).json()["version"] for _ in range(30)} == {v2}


def test_bad_policies_are_refused_with_the_field_named(server):
    versions, _ = _model(server, "admin/bad-policy", ["iris_random_forest", "iris_logistic_regression"])
    v1, v2 = versions
    path = _traffic(server, "admin/bad-policy")
    cases = [
        ({"arms": [{"version": v1, "weight": 60}, {"version": v2, "weight": 30}]}, "arms", "sum to 100"),
        ({"arms": [{"version": v2, "weight": 100}]}, "arms", "active version"),
        ({"arms": [{"version": v1, "weight": 50}, {"version": 99, "weight": 50}]}, "arms[1].version", "no version 99"),
        ({"arms": [{"version": v1, "weight": 150}]}, "arms[0].weight", "0 to 100"),
        ({"shadows": [{"version": v1}]}, "shadows[0].version", "cannot shadow itself"),
        ({"shadows": [{"version": v2, "percent": 0}]}, "shadows[0].percent", "1 to 100"),
        ({"arms": [{"version": v1, "weight": "x"}]}, "arms", "integer"),
        ({"splits": []}, "splits", "not a field"),
    ]
    for body, field, words in cases:
        response = requests.put(server.url + path, headers=server.admin, json=body, timeout=30)
        assert 400 <= response.status_code < 500, (body, response.text)
        problem = response.json()
        assert field in (problem.get("field") or "") + problem.get("detail", ""), (body, problem)
        assert words in problem["detail"], (body, problem)
    # Nothing was stored.
    assert [arm["weight"] for arm in server.call("GET", path, 200)["arms"]] == [100]
    # Without credentials: refused, nothing changed.
    anonymous = requests.put(server.url + path, json={"arms": [{"version": v1, "weight": 50}, {"version": v2, "weight": 50}]})
    assert anonymous.status_code in (401, 404)
    assert [arm["weight"] for arm in server.call("GET", path, 200)["arms"]] == [100]


def _latencies(server: Slipway, owner_name: str, key: str, count: int) -> tuple[list[float], list[dict]]:
    session = requests.Session()
    latencies, bodies = [], []
    for index in range(count):
        started = time.perf_counter()
        response = _predict(session, server, owner_name, key, IRIS_ROWS[index % 4])
        latencies.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
        body = response.json()
        bodies.append({"version": body["version"], "predictions": body["predictions"]})
    return latencies, bodies


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


def test_shadow_traffic_adds_no_latency_and_never_changes_a_response(server):
    versions, key = _model(server, "admin/shadowed", ["iris_random_forest", "iris_svc_linear"])
    v1, v2 = versions
    path = _traffic(server, "admin/shadowed")
    _latencies(server, "admin/shadowed", key, 200)  # warm up
    without, with_shadow = [], []
    baseline_bodies = None
    # Alternate rounds without and with the shadow, so drift on the machine hits both alike.
    for _ in range(3):
        server.call("DELETE", path, 200)
        latencies, bodies = _latencies(server, "admin/shadowed", key, 400)
        without += latencies
        baseline_bodies = baseline_bodies or bodies
        server.call("PUT", path, 200, json={"shadows": [{"version": v2, "percent": 100}]})
        latencies, shadowed = _latencies(server, "admin/shadowed", key, 400)
        with_shadow += latencies
        # The caller's answer is the active version's, exactly as without the shadow.
        assert shadowed == bodies
    p99_without, p99_with = _p99(without), _p99(with_shadow)
    print(f"shadow p99: without {p99_without * 1000:.2f} ms, with {p99_with * 1000:.2f} ms")
    assert p99_with <= p99_without * 1.5 + 0.002, (p99_without, p99_with)

    # The shadow's answers are in its statistics.
    deadline = time.monotonic() + 30
    while True:
        stats_body = server.call(
            "GET", f"/api/v1/models/admin/shadowed/environments/production/deployments/{v2}/stats", 200
        )
        requests_counted = stats_body.get("total", {}).get("requests", 0)
        if requests_counted >= 1000 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert requests_counted >= 1000, stats_body


def test_v2_requests_feed_shadows_too(server):
    versions, key = _model(
        server, "admin/shadowv2", ["iris_random_forest", "iris_svc_linear", "breast_cancer_logistic_regression"]
    )
    v1, v2, v3 = versions
    shadows = [{"version": v2, "percent": 100}, {"version": v3, "percent": 100}]
    server.call("PUT", _traffic(server, "admin/shadowv2"), 200, json={"shadows": shadows})
    body = {"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": IRIS_ROWS[1]}]}
    session = requests.Session()
    answers = set()
    for _ in range(50):
        response = session.post(
            f"{server.url}/v2/models/admin__shadowv2/infer", headers={"X-Serving-Key": key}, json=body, timeout=60
        )
        assert response.status_code == 200, response.text
        # The caller is answered by the active version only.
        assert response.json()["model_version"] == str(v1)
        answers.add(json.dumps(response.json()["outputs"], sort_keys=True))
    assert len(answers) == 1
    # A pinned request answers itself and feeds no shadow.
    pinned = session.post(
        f"{server.url}/v2/models/admin__shadowv2/versions/{v1}/infer", headers={"X-Serving-Key": key}, json=body, timeout=60
    )
    assert pinned.status_code == 200, pinned.text

    def shadow_stats(version: int) -> dict:
        deadline = time.monotonic() + 30
        while True:
            stats_body = server.call(
                "GET", f"/api/v1/models/admin/shadowv2/environments/production/deployments/{version}/stats", 200
            )
            if stats_body.get("total", {}).get("requests", 0) >= 50 or time.monotonic() > deadline:
                return stats_body
            time.sleep(0.5)

    # Every unpinned copy reached both shadows. The one whose model takes the same tensor answered each copy;
    # the one that expects 30 features refused each (in its own statistics only: the callers got their answers).
    same = shadow_stats(v2)
    assert same["total"]["requests"] == 50, same
    assert same["total"].get("errors", 0) == 0, same
    other = shadow_stats(v3)
    assert other["total"]["requests"] == 50, other
    assert other["total"]["errors"] == 50, other


def _rollout_path(owner_name: str) -> str:
    return f"/api/v1/models/{owner_name}/environments/production/rollouts"


class Traffic:
    """Sends predictions in a background thread until stopped; counts statuses per version."""

    def __init__(self, server: Slipway, owner_name: str, key: str):
        self.server, self.owner_name, self.key = server, owner_name, key
        self.stop = threading.Event()
        self.statuses: dict[int, int] = {}
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        session = requests.Session()
        index = 0
        while not self.stop.is_set():
            try:
                response = _predict(session, self.server, self.owner_name, self.key, IRIS_ROWS[index % 4])
                self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
            except requests.RequestException:
                time.sleep(0.05)
            index += 1
            time.sleep(0.005)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=30)


def _wait_for(server: Slipway, path: str, condition, timeout: float, what: str) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = server.call("GET", path, 200)
        if condition(body):
            return body
        assert time.monotonic() < deadline, f"{what} within {timeout} s; last: {body}"
        time.sleep(0.2)


def test_a_breached_guardrail_rolls_the_candidate_back_within_one_interval(server):
    # The candidate takes 30 features: every production row (4 features) fails on it.
    versions, key = _model(server, "admin/failing", ["iris_random_forest", "breast_cancer_logistic_regression"])
    v1, v2 = versions
    path = _rollout_path("admin/failing")
    with Traffic(server, "admin/failing", key):
        started = server.call(
            "POST", path, 201, json={"version": v2, "steps": "50,100", "interval": "30s", "guardrails": "error_rate<5%"}
        )
        assert started["state"] == "running" and started["weight"] == 50
        began = time.monotonic()
        ended = _wait_for(
            server, path + "/current", lambda body: body["state"] != "running", 30, "the rollout rolled back"
        )
        elapsed = time.monotonic() - began
    assert ended["state"] == "rolled_back", ended
    assert elapsed < 30, elapsed
    assert "error_rate" in ended["reason"], ended
    traffic = server.call("GET", _traffic(server, "admin/failing"), 200)
    assert [(arm["version"], arm["weight"]) for arm in traffic["arms"]] == [(v1, 100)]
    session = requests.Session()
    assert {_predict(session, server, "admin/failing", key, row).json()["version"] for row in IRIS_ROWS * 5} == {v1}
    events = server.call("GET", "/api/v1/models/admin/failing/activity?action=rollout.rolled_back", 200)
    items = events["items"] if isinstance(events, dict) else events
    assert items and "error_rate" in items[0]["detail"]


def test_bad_rollouts_are_refused(server):
    versions, _ = _model(server, "admin/bad-rollout", ["iris_random_forest", "iris_logistic_regression"])
    v1, v2 = versions
    path = _rollout_path("admin/bad-rollout")
    cases = [
        ({"version": v2, "interval": "10m", "guardrails": "p99_ms<<20"}, "guardrails", "p99_ms<<20"),
        ({"version": v2, "interval": "10m", "steps": [5, 50]}, "steps", "last step must be 100"),
        ({"version": v2, "interval": "10m", "steps": [50, 25, 100]}, "steps", "increase"),
        ({"version": v2, "interval": "soon"}, "interval", "duration"),
        ({"version": v1, "interval": "10m"}, "version", "already active"),
        ({"version": 42, "interval": "10m"}, "version", "no version 42"),
    ]
    for body, field, words in cases:
        response = requests.post(server.url + path, headers=server.admin, json=body, timeout=30)
        assert 400 <= response.status_code < 500, (body, response.text)
        problem = response.json()
        assert field in (problem.get("field") or "") + problem["detail"], (body, problem)
        assert words in problem["detail"], (body, problem)
    assert server.call("GET", path, 200) == []
    # A second rollout while one runs is a conflict; pause, resume and abort work on the live one.
    server.call("POST", path, 201, json={"version": v2, "interval": "10m"})
    conflict = requests.post(server.url + path, headers=server.admin, json={"version": v2, "interval": "10m"})
    assert conflict.status_code == 409 and "abort it first" in conflict.json()["detail"]
    assert server.call("POST", path + "/current/pause", 200)["state"] == "paused"
    assert server.call("POST", path + "/current/resume", 200)["state"] == "running"
    assert server.call("POST", path + "/current/abort", 200)["state"] == "aborted"
    traffic = server.call("GET", _traffic(server, "admin/bad-rollout"), 200)
    assert [(arm["version"], arm["weight"]) for arm in traffic["arms"]] == [(v1, 100)]


def test_a_restart_in_the_middle_of_a_rollout_resumes_it():
    with tempfile.TemporaryDirectory(prefix="slipway-rollout-restart-") as data:
        with running_server("unused-", FAST_ROLLOUTS, data_dir=data) as (process, url, admin_token):
            server = Slipway(process, url, admin_token)
            versions, key = _model(server, "admin/restarted", ["iris_random_forest", "iris_logistic_regression"])
            v1, v2 = versions
            path = _rollout_path("admin/restarted")
            with Traffic(server, "admin/restarted", key):
                server.call(
                    "POST",
                    path,
                    201,
                    json={"version": v2, "steps": [10, 50, 100], "interval": 3, "guardrails": "error_rate<5%,p99_ms<5000"},
                )
                _wait_for(server, path + "/current", lambda body: body["step"] >= 2, 60, "the rollout reached step 2")
        # Restarted on the same data: the rollout goes on from where it was.
        with running_server("unused-", FAST_ROLLOUTS, data_dir=data, admin_token=admin_token) as (process, url, _):
            server = Slipway(process, url, admin_token)
            current = server.call("GET", path + "/current", 200)
            assert current["state"] in ("running", "completed") and current["step"] >= 2, current
            with Traffic(server, "admin/restarted", key) as traffic:
                done = _wait_for(
                    server, path + "/current", lambda body: body["state"] != "running", 60, "the rollout completed"
                )
            assert done["state"] == "completed", done
            assert traffic.statuses.keys() == {200}, traffic.statuses
            environment = server.call("GET", "/api/v1/models/admin/restarted/environments/production", 200)
            assert environment.get("active_version", environment.get("activeVersion")) == v2, environment
            events = server.call("GET", "/api/v1/models/admin/restarted/activity", 200)
            items = events["items"] if isinstance(events, dict) else events
            actions = [item["action"] for item in items]
            assert "rollout.advanced" in actions and "rollout.completed" in actions, actions


def test_the_readout_matches_scipy(server):
    versions, key = _model(server, "admin/experiment", ["iris_random_forest", "iris_svc_linear"])
    v1, v2 = versions
    server.call("PUT", "/api/v1/models/admin/experiment/key-metric", 200, json={"name": "accuracy"})
    server.call(
        "PUT",
        _traffic(server, "admin/experiment"),
        200,
        json={"arms": [{"version": v1, "weight": 50}, {"version": v2, "weight": 50}]},
    )
    session = requests.Session()
    answers = []
    for index in range(400):
        response = _predict(session, server, "admin/experiment", key, IRIS_ROWS[index % 4], f"visitor-{index}")
        assert response.status_code == 200
        body = response.json()
        best = max(body["predictions"], key=lambda item: item["probability"])["className"]
        answers.append((body["request_id"], body["version"], best, index))
    # Ground truth: right on most rows, wrong more often for v2; outcomes differ in mean between the arms.
    correct = {v1: [], v2: []}
    outcomes = {v1: [], v2: []}
    items = []
    for request_id, version, predicted, index in answers:
        wrong = index % (4 if version == v2 else 7) == 0
        label = "setosa" if predicted != "setosa" else "virginica"
        truth = label if wrong else predicted
        outcome = float((index * 37) % 11) + (1.5 if version == v2 else 0.0)
        correct[version].append(0 if wrong else 1)
        outcomes[version].append(outcome)
        items.append({"request_id": request_id, "label": truth, "outcome": outcome})
    deadline = time.monotonic() + 15
    for start in range(0, len(items), 200):
        while True:
            response = requests.post(
                f"{server.url}/v1/admin/experiment/feedback",
                headers={"X-Serving-Key": key},
                json={"feedback": items[start : start + 200]},
                timeout=60,
            )
            if response.status_code != 404 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert response.status_code == 200, response.text

    experiment = "/api/v1/models/admin/experiment/environments/production/experiment"
    readout = server.call("GET", experiment, 200)
    assert readout["key_metric"]["name"] == "accuracy"
    arms = {arm["version"]: arm for arm in readout["readout"]["arms"]}
    n1, s1 = len(correct[v1]), sum(correct[v1])
    n2, s2 = len(correct[v2]), sum(correct[v2])
    p1, p2 = s1 / n1, s2 / n2
    pooled = (s1 + s2) / (n1 + n2)
    z = (p2 - p1) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    p_value = 2 * stats.norm.sf(abs(z))
    candidate = arms[str(v2)]
    assert arms[str(v1)]["is_baseline"] and arms[str(v1)]["n"] == n1
    assert candidate["n"] == n2 and candidate["estimate"] == pytest.approx(p2, rel=1e-12)
    comparison = candidate["comparison"]
    assert comparison["test"] == "two_proportion_z"
    assert comparison["statistic"] == pytest.approx(z, rel=1e-9)
    assert comparison["p_value"] == pytest.approx(p_value, rel=1e-6)
    half = stats.norm.ppf(0.975) * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    assert comparison["ci_low"] == pytest.approx(p2 - p1 - half, rel=1e-9)
    assert comparison["ci_high"] == pytest.approx(p2 - p1 + half, rel=1e-9)
    assert comparison["significant"] == (p_value < 0.05)

    # The mean outcome, compared with Welch's t-test.
    server.call("PUT", "/api/v1/models/admin/experiment/key-metric", 200, json={"name": "outcome_mean"})
    readout = server.call("GET", experiment, 200)
    candidate = {arm["version"]: arm for arm in readout["readout"]["arms"]}[str(v2)]
    welch = stats.ttest_ind(outcomes[v2], outcomes[v1], equal_var=False)
    assert candidate["comparison"]["test"] == "welch_t"
    assert candidate["comparison"]["statistic"] == pytest.approx(welch.statistic, rel=1e-9)
    assert candidate["comparison"]["p_value"] == pytest.approx(welch.pvalue, rel=1e-6)
    interval = welch.confidence_interval(0.95)
    assert candidate["comparison"]["ci_low"] == pytest.approx(interval.low, rel=1e-6)
    assert candidate["comparison"]["ci_high"] == pytest.approx(interval.high, rel=1e-6)
    # Every request is in the error-rate readout (no errors here).
    errors = {arm["version"]: arm for arm in readout["error_rate"]["arms"]}
    assert errors[str(v1)]["requests"] + errors[str(v2)]["requests"] == 400


def test_the_python_sdk_manages_traffic_rollouts_and_readouts(server):
    from slipway import Admin
    from slipway.errors import SlipwayError

    versions, _ = _model(server, "admin/sdk-traffic", ["iris_random_forest", "iris_logistic_regression"])
    v1, v2 = versions
    admin = Admin(token=server.admin_token, base_url=server.url)
    split = admin.set_traffic("admin/sdk-traffic", weights={v1: 80, v2: 20})
    assert [(arm["version"], arm["weight"]) for arm in split["arms"]] == [(v1, 80), (v2, 20)]
    assert admin.traffic("admin/sdk-traffic")["arms"] == split["arms"]
    assert admin.experiment("admin/sdk-traffic")["baseline_version"] == v1
    with pytest.raises(SlipwayError) as refused:
        admin.set_traffic("admin/sdk-traffic", weights={v1: 80, v2: 30})
    assert "sum to 100" in str(refused.value)
    assert [arm["weight"] for arm in admin.clear_traffic("admin/sdk-traffic")["arms"]] == [100]
    started = admin.start_rollout("admin/sdk-traffic", v2, steps=[10, 100], interval="1h", guardrails="error_rate<1%")
    assert started["state"] == "running" and started["guardrails"] == "error_rate<1%"
    assert admin.pause_rollout("admin/sdk-traffic")["state"] == "paused"
    assert admin.resume_rollout("admin/sdk-traffic")["state"] == "running"
    assert admin.rollout("admin/sdk-traffic")["evaluation"]["guardrails"][0]["verdict"] == "undetermined"
    assert admin.abort_rollout("admin/sdk-traffic")["state"] == "aborted"
    assert [rollout["state"] for rollout in admin.rollouts("admin/sdk-traffic")] == ["aborted"]
