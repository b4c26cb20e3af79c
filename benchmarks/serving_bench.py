#!/usr/bin/env python3
"""Prediction serving benchmark: Slipway's predict endpoint against FastAPI + ONNX Runtime and MLServer, in one run.

    python benchmarks/serving_bench.py --slipway .build/release/slipway [--out benchmarks/results/serving.md]

Run by benchmarks/serving.sh, which installs wrk and benchmarks/requirements-serving.txt (in .work/serving-venv)
and builds Slipway first; run this file with that virtual environment's python (it starts uvicorn and mlserver
from it). The harness itself needs only the standard library, wrk and taskset.

For every server, with the same one-row payload (the first test row of the zoo's expected.json) for the zoo's
iris_random_forest (RandomForest, 100 trees) and breast_cancer_gradient_boosting (GradientBoosting, 100 trees):

- ready to serve: spawn until both models answer a prediction with 200;
- peak throughput: wrk -t2 -c32 on 127.0.0.1 for --duration seconds after a --warmup run, server and wrk sharing
  the machine's cores (FastAPI with as many uvicorn workers as cores, MLServer with as many inference workers);
- one-core throughput: the server pinned to CPU 0 (one uvicorn worker, one MLServer inference worker) and wrk
  (-t1 -c32) pinned to CPU 1;
- latency at half of the peak: wrk paced by benchmarks/wrk/request.lua (each connection pauses a random
  0..2D ms after every answer; connections and D calibrated so the achieved rate is half the peak), p50/p99 of
  the answers' service time as wrk measures it;
- errors: wrk's socket errors and non-2xx/3xx answers (each payload is checked for a 200 and the expected
  probabilities first);
- alternating rounds (--rounds, 5 by default): Slipway, FastAPI and MLServer up side by side, the peaks measured
  in turn and Slipway's latency at half of each round's peak; the targets take the median of the rounds' ratios and
  p99s, which do not move with the machine's speed between runs minutes apart;
- resident memory after the load (RSS summed over the server's processes; PSS as well, which does not count
  pages shared between workers twice), and Slipway's RSS with ten small zoo models deployed and loaded.
"""
import argparse
import http.client
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZOO = os.path.join(ROOT, "Tests", "Fixtures", "zoo")
LUA = os.path.join(ROOT, "benchmarks", "wrk", "request.lua")

# name in the benchmark -> zoo model, class names (by output index), MLServer model name
MODELS = {
    "iris": ("iris_random_forest", ["setosa", "versicolor", "virginica"]),
    "breast-cancer": ("breast_cancer_gradient_boosting", ["malignant", "benign"]),
}
# Ten small zoo models (one FP32 input each) for the resident-memory figure.
SMALL_MODELS = [
    "iris_logistic_regression",
    "iris_random_forest_no_zipmap",
    "iris_xgboost",
    "iris_lightgbm",
    "breast_cancer_logistic_regression",
    "breast_cancer_xgboost",
    "wine_random_forest",
    "wine_gradient_boosting",
    "diabetes_linear_regression",
    "diabetes_decision_tree_regressor",
]
OWNER = "admin"


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cores():
    return len(os.sched_getaffinity(0))


def pinned(command, cpus):
    return ["taskset", "-c", cpus] + command if cpus is not None else command


def expected(zoo_name):
    with open(os.path.join(ZOO, zoo_name, "expected.json")) as f:
        return json.load(f)


def first_row(zoo_name):
    document = expected(zoo_name)
    (tensor,) = document["inputs"]
    width = tensor["shape"][1]
    return tensor["data"][:width]


def expected_probabilities(zoo_name):
    document = expected(zoo_name)
    output = next(o for o in document["outputs"] if o["datatype"] == "MAP" or o["name"].startswith("prob"))
    width = output["shape"][1]
    return output["data"][:width]


# --------------------------------------------------------------------------------------------------------------
# HTTP


def request(port, method, path, body=None, headers=None, timeout=10):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def json_request(port, method, path, payload, headers=None, expect=(200, 201)):
    all_headers = {"Content-Type": "application/json"}
    all_headers.update(headers or {})
    status, body = request(port, method, path, json.dumps(payload).encode(), all_headers)
    if status not in expect:
        raise RuntimeError(f"{method} {path}: {status} {body[:400]!r}")
    return json.loads(body) if body else None


def multipart(fields, file_bytes):
    boundary = "----slipway" + uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="model"; filename="model.onnx"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode() + file_bytes + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# --------------------------------------------------------------------------------------------------------------
# Processes


class Server:
    """A server process in its own session (so the whole tree can be stopped), with what it was started as."""

    def __init__(self, name, command, env=None, cwd=None, log_path=None):
        self.name = name
        self.log = open(log_path or os.devnull, "ab")
        self.started = time.perf_counter()
        self.process = subprocess.Popen(command, env=env, cwd=cwd, stdout=self.log, stderr=self.log,
                                        start_new_session=True)

    def check(self):
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.process.returncode} (log: {self.log.name})")

    def stop(self):
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        # Workers that outlive their parent (they should not) go with the session.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.log.close()

    def tree(self):
        pids, frontier = [], [self.process.pid]
        while frontier:
            pid = frontier.pop()
            pids.append(pid)
            try:
                with open(f"/proc/{pid}/task/{pid}/children") as f:
                    frontier += [int(p) for p in f.read().split()]
            except OSError:
                pass
        return pids

    def memory_mb(self):
        """(RSS, PSS) summed over the process tree, in MB (10^6 bytes)."""
        rss = pss = 0
        for pid in self.tree():
            try:
                with open(f"/proc/{pid}/smaps_rollup") as f:
                    for line in f:
                        if line.startswith("Rss:"):
                            rss += int(line.split()[1])
                        elif line.startswith("Pss:"):
                            pss += int(line.split()[1])
            except OSError:
                pass
        return rss * 1024 / 1e6, pss * 1024 / 1e6, len(self.tree())


def wait_until(server, probe, deadline_s):
    """Polls probe() (True when ready) every millisecond; returns the seconds from spawn to ready."""
    deadline = server.started + deadline_s
    while time.perf_counter() < deadline:
        server.check()
        try:
            if probe():
                return time.perf_counter() - server.started
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.001)
    raise RuntimeError(f"{server.name} not ready after {deadline_s} s")


# --------------------------------------------------------------------------------------------------------------
# Load


class Target:
    """One request that wrk sends again and again."""

    def __init__(self, label, port, path, method="GET", body=None, headers=None):
        self.label, self.port, self.path, self.method = label, port, path, method
        self.body = body
        self.headers = headers or {}

    def once(self):
        headers = dict(self.headers)
        return request(self.port, self.method, self.path, self.body, headers)


def wrk(target, work, *, connections, threads, duration, cpus=None, delay_ms=None):
    body_file = os.path.join(work, "body.bin")
    with open(body_file, "wb") as f:
        f.write(target.body or b"")
    out = os.path.join(work, "wrk.json")
    if os.path.exists(out):
        os.remove(out)
    env = dict(os.environ, WRK_METHOD=target.method, WRK_BODY=body_file if target.body else "",
               WRK_HEADERS="\n".join(f"{k}: {v}" for k, v in target.headers.items()), WRK_OUT=out,
               WRK_DELAY_MS=f"{delay_ms:.3f}" if delay_ms else "")
    command = pinned(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "5s", "-s", LUA,
                      f"http://127.0.0.1:{target.port}{target.path}"], cpus)
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0 or not os.path.exists(out):
        raise RuntimeError(f"wrk failed: {result.stdout} {result.stderr}")
    with open(out) as f:
        summary = json.load(f)
    summary["rate"] = summary["requests"] / (summary["duration_us"] / 1e6)
    summary["connections"] = connections
    summary["threads"] = threads
    summary["error_count"] = sum(summary["errors"].values())
    summary["bytes_per_response"] = summary["bytes"] / max(1, summary["requests"])
    if delay_ms:
        summary["delay_ms"] = delay_ms
    return summary


def peak(target, work, arguments, *, cpus=None, threads=2, connections=32):
    wrk(target, work, connections=connections, threads=threads, duration=arguments.warmup, cpus=cpus)
    result = wrk(target, work, connections=connections, threads=threads, duration=arguments.duration, cpus=cpus)
    log(f"  {target.label}: {result['rate']:,.0f} req/s, p50 {result['latency_us']['p50'] / 1000:.2f} ms, "
        f"p99 {result['latency_us']['p99'] / 1000:.2f} ms, errors {result['error_count']}")
    return result


def paced(target, work, arguments, rate):
    """wrk at `rate` requests a second (closed loop with random pauses); returns the measured run.

    With C connections, each pausing D ms on average after every answer that took L ms, the rate is
    C * 1000 / (D + L). Pauses of about 10 ms keep the connections independent; L is estimated from short
    calibration runs (it also absorbs the rounding of pauses to whole milliseconds)."""

    def plan(latency_ms):
        connections = max(2, min(400, round(rate * (10.0 + latency_ms) / 1000)))
        return connections, max(0.0, connections * 1000 / rate - latency_ms)

    latency_ms = 0.5
    calibration = []
    for _ in range(4):
        connections, delay = plan(latency_ms)
        trial = wrk(target, work, connections=connections, threads=2, duration=3, delay_ms=delay or None)
        calibration.append({"connections": connections, "delay_ms": round(delay, 3), "rate": round(trial["rate"])})
        latency_ms = max(0.0, connections * 1000 / trial["rate"] - delay)
        if abs(trial["rate"] - rate) / rate < 0.05:
            break
    connections, delay = plan(latency_ms)
    result = wrk(target, work, connections=connections, threads=2, duration=arguments.duration,
                 delay_ms=delay or None)
    result["goal"] = rate
    result["calibration"] = calibration
    log(f"  {target.label} at {result['rate']:,.0f} req/s (goal {rate:,.0f}): p50 "
        f"{result['latency_us']['p50'] / 1000:.3f} ms, p99 {result['latency_us']['p99'] / 1000:.3f} ms, "
        f"errors {result['error_count']}")
    return result


def load(targets, work, arguments, *, shared=True):
    """Peak throughput, then latency at half of it, for every target. Returns {label: {...}}."""
    results = {}
    for target in targets:
        status, body = target.once()
        if status != 200:
            raise RuntimeError(f"{target.label}: {status} {body[:300]!r}")
        entry = {"peak": peak(target, work, arguments)}
        if arguments.latency:
            entry["half"] = paced(target, work, arguments, entry["peak"]["rate"] / 2)
        results[target.label] = entry
    return results


def load_pinned(targets, work, arguments):
    results = {}
    for target in targets:
        results[target.label] = {"peak": peak(target, work, arguments, cpus="1", threads=1)}
    return results


# --------------------------------------------------------------------------------------------------------------
# Checks


def close(a, b, tolerance):
    return all(abs(x - y) <= tolerance for x, y in zip(a, b)) and len(a) == len(b)


def check_teachablehub(name, body, tolerance):
    """Slipway's and the FastAPI server's answer: the flat list of {className, probability}, sorted."""
    zoo_name, classes = MODELS[name]
    answer = json.loads(body)
    items = answer["predictions"]
    got = {item["className"]: item["probability"] for item in items}
    want = dict(zip(classes, expected_probabilities(zoo_name)))
    if not close([got[c] for c in classes], [want[c] for c in classes], tolerance):
        raise RuntimeError(f"{name}: unexpected probabilities {got}, expected {want}")
    if [item["probability"] for item in items] != sorted((item["probability"] for item in items), reverse=True):
        raise RuntimeError(f"{name}: predictions not sorted: {items}")
    return answer


def check_v2(name, body, tolerance):
    zoo_name, _ = MODELS[name]
    answer = json.loads(body)
    (output,) = answer["outputs"]
    if not close(output["data"], expected_probabilities(zoo_name), tolerance):
        raise RuntimeError(f"{name}: unexpected probabilities {output['data']}")
    return answer


# --------------------------------------------------------------------------------------------------------------
# Slipway


def token():
    alphabet = string.ascii_letters + string.digits
    return "slw_u_" + "".join(random.choice(alphabet) for _ in range(12)) + "_" + "".join(
        random.choice(alphabet) for _ in range(32))


class Slipway:
    def __init__(self, binary, data, admin_token, work):
        self.binary, self.data, self.token, self.work = binary, data, admin_token, work
        self.port = free_port()
        self.keys = {}
        self.verification = None

    def start(self, cpus=None, **settings):
        env = dict(os.environ, SLIPWAY_ADMIN_TOKEN=self.token, SLIPWAY_LOG_LEVEL="warning", **settings)
        command = pinned([self.binary, "serve", "--data-dir", self.data, "--port", str(self.port)], cpus)
        self.server = Server("slipway", command, env=env, log_path=os.path.join(self.work, "slipway.log"))
        return self.server

    def admin(self, method, path, payload=None, expect=(200, 201)):
        return json_request(self.port, method, path, payload, {"Authorization": f"Bearer {self.token}"}, expect)

    def deploy(self, name, zoo_name, classes=None, samples=1):
        """Creates the model, deploys the zoo model, waits for (or records) verification, activates it and makes
        a serving key; returns the key's secret."""
        self.admin("POST", "/api/v1/models", {"owner": OWNER, "name": name})
        document = expected(zoo_name)
        (tensor,) = document["inputs"]
        width = tensor["shape"][1]
        rows = [tensor["data"][i * width:(i + 1) * width] for i in range(min(samples, tensor["shape"][0]))]
        fields = {"summary": f"{zoo_name} from the zoo", "samples": json.dumps({"ndarray": rows})}
        if classes:
            fields["classes"] = json.dumps(classes)
        with open(os.path.join(ZOO, zoo_name, "model.onnx"), "rb") as f:
            data, content_type = multipart(fields, f.read())
        path = f"/api/v1/models/{OWNER}/{name}/environments/production/deployments"
        status, body = request(self.port, "POST", path, data,
                               {"Authorization": f"Bearer {self.token}", "Content-Type": content_type})
        if status != 201:
            raise RuntimeError(f"deploy {name}: {status} {body[:400]!r}")
        version = json.loads(body)["version"]
        self.wait_verified(name, version)
        self.admin("POST", f"/api/v1/models/{OWNER}/{name}/environments/production/activate", {"version": version})
        key = self.admin("POST", f"/api/v1/models/{OWNER}/{name}/keys",
                         {"kind": "serving", "name": "bench", "environments": ["production"]})
        self.keys[name] = key["secret"]
        return key["secret"]

    def wait_verified(self, name, version):
        """Polls the deployment's status.state. Without a verifier (state still pending after a grace period on the
        first deployment), the benchmark marks deployments verified as admin, and says so in the report."""
        path = f"/api/v1/models/{OWNER}/{name}/environments/production/deployments/{version}"
        grace = 10.0 if self.verification is None else (30.0 if self.verification == "verifier" else 0.0)
        deadline = time.perf_counter() + grace
        while True:
            state = self.admin("GET", path)["status"]
            if state["state"] == "verified":
                self.verification = "verifier"
                return
            if state["state"] == "failed":
                raise RuntimeError(f"{name} v{version} failed verification: {state.get('reason')}")
            if time.perf_counter() >= deadline:
                break
            time.sleep(0.02)
        if self.verification == "verifier":
            raise RuntimeError(f"{name} v{version} still pending after {grace} s")
        self.verification = "marked by admin"
        self.admin("POST", path + "/status", {"state": "verified"})

    def predict_target(self, name):
        body = json.dumps({"ndarray": [first_row(MODELS[name][0])]}).encode()
        return Target(f"slipway {name}", self.port, f"/v1/{OWNER}/{name}/predict/", "POST", body,
                      {"Content-Type": "application/json", "X-Serving-Key": self.keys[name]})

    def predicts(self):
        def probe():
            for name in MODELS:
                status, _ = self.predict_target(name).once()
                if status != 200:
                    return False
            return True
        return probe


def run_slipway(arguments, work, results):
    admin_token = token()
    data = os.path.join(work, "slipway-data")
    slipway = Slipway(arguments.slipway, data, admin_token, work)

    # Ready on an empty data folder (the platform benchmark's figure), then set up the two models.
    starts = []
    for run in range(arguments.starts):
        shutil.rmtree(data, ignore_errors=True)
        server = slipway.start()
        starts.append(wait_until(server, lambda: request(slipway.port, "GET", "/readyz")[0] == 200, 30) * 1000)
        if run < arguments.starts - 1:
            server.stop()
    results["slipway_ready_empty_ms"] = starts
    for name, (zoo_name, classes) in MODELS.items():
        slipway.deploy(name, zoo_name, classes, samples=5)
    results["slipway_verification"] = slipway.verification
    for name in MODELS:
        status, body = slipway.predict_target(name).once()
        if status != 200:
            raise RuntimeError(f"Slipway predict {name}: {status} {body[:400]!r}")
        results.setdefault("answers", {})[f"slipway {name}"] = check_teachablehub(name, body, 1e-4)
    server.stop()

    # Ready to serve with the two models deployed: spawn until both answer a prediction.
    ready = []
    for run in range(arguments.starts):
        server = slipway.start()
        ready.append(wait_until(server, slipway.predicts(), 30) * 1000)
        if run < arguments.starts - 1:
            server.stop()
    results["slipway_ready_ms"] = ready
    log(f"slipway: ready {statistics.median(starts):.0f} ms empty, {statistics.median(ready):.0f} ms to serve")

    targets = [Target("slipway healthz", slipway.port, "/healthz")] + [slipway.predict_target(n) for n in MODELS]
    results["shared"].update(load(targets, work, arguments))
    # The feedback writer hands a busy period's freed memory back at its first quiet flush (every second).
    time.sleep(3)
    results["memory"]["slipway"] = server.memory_mb()
    server.stop()

    server = slipway.start(cpus="0")
    wait_until(server, slipway.predicts(), 30)
    results["pinned"].update(load_pinned(targets, work, arguments))
    server.stop()

    # The same server with the fast path off: every request through the router, for what the fast path buys.
    server = slipway.start(SLIPWAY_FAST_PATH="false")
    wait_until(server, slipway.predicts(), 30)
    results["router"] = {target.label: {"peak": peak(target, work, arguments)} for target in targets}
    server.stop()

    # Ten small models, each loaded by a prediction.
    data10 = os.path.join(work, "slipway-ten")
    ten = Slipway(arguments.slipway, data10, admin_token, work)
    ten.verification = slipway.verification if slipway.verification == "marked by admin" else None
    server = ten.start()
    wait_until(server, lambda: request(ten.port, "GET", "/readyz")[0] == 200, 30)
    results["memory"]["slipway idle"] = server.memory_mb()
    for zoo_name in SMALL_MODELS:
        name = zoo_name.replace("_", "-")
        ten.deploy(name, zoo_name, samples=5)
        body = json.dumps({"ndarray": [first_row(zoo_name)]}).encode()
        status, answer = request(ten.port, "POST", f"/v1/{OWNER}/{name}/predict/", body,
                                 {"Content-Type": "application/json", "X-Serving-Key": ten.keys[name]})
        if status != 200:
            raise RuntimeError(f"Slipway predict {name}: {status} {answer[:400]!r}")
    results["memory"]["slipway ten models"] = server.memory_mb()
    server.stop()
    # And after a restart, once the ten have served one prediction each (no upload buffers in the figure).
    server = ten.start()
    wait_until(server, lambda: request(ten.port, "GET", "/readyz")[0] == 200, 30)
    for zoo_name in SMALL_MODELS:
        name = zoo_name.replace("_", "-")
        body = json.dumps({"ndarray": [first_row(zoo_name)]}).encode()
        status, answer = request(ten.port, "POST", f"/v1/{OWNER}/{name}/predict/", body,
                                 {"Content-Type": "application/json", "X-Serving-Key": ten.keys[name]})
        if status != 200:
            raise RuntimeError(f"Slipway predict {name} after restart: {status} {answer[:400]!r}")
    results["memory"]["slipway ten models, restarted"] = server.memory_mb()
    server.stop()

    def restart():
        server = slipway.start()
        wait_until(server, slipway.predicts(), 30)
        return server, targets

    return restart


# --------------------------------------------------------------------------------------------------------------
# FastAPI


def run_fastapi(arguments, work, results):
    spec = {f"bench/{name}": {"path": os.path.join(ZOO, zoo_name, "model.onnx"), "classes": classes}
            for name, (zoo_name, classes) in MODELS.items()}
    env = dict(os.environ, SERVING_MODELS=json.dumps(spec), PYTHONPATH=ROOT)

    def start(workers, cpus=None):
        port = free_port()
        command = pinned([sys.executable, "-m", "uvicorn", "benchmarks.reference.fastapi_server:app",
                          "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
                          "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"],
                         cpus)
        return Server("fastapi", command, env=env, cwd=ROOT, log_path=os.path.join(work, "fastapi.log")), port

    def targets(port):
        return [Target("fastapi healthz", port, "/healthz")] + [
            Target(f"fastapi {name}", port, f"/v1/bench/{name}/predict/", "POST",
                   json.dumps({"ndarray": [first_row(zoo_name)]}).encode(), {"Content-Type": "application/json"})
            for name, (zoo_name, _) in MODELS.items()]

    def probe(port):
        return lambda: all(t.once()[0] == 200 for t in targets(port)[1:])

    workers = cores()
    ready = []
    for run in range(arguments.python_starts):
        server, port = start(workers)
        ready.append(wait_until(server, probe(port), 120) * 1000)
        if run < arguments.python_starts - 1:
            server.stop()
    results["fastapi_ready_ms"] = ready
    results["fastapi_workers"] = workers
    log(f"fastapi ({workers} workers): ready {statistics.median(ready):.0f} ms")
    for target in targets(port)[1:]:
        status, body = target.once()
        results["answers"][target.label] = check_teachablehub(target.label.split()[1], body, 1e-4)
    results["shared"].update(load(targets(port), work, arguments))
    results["memory"]["fastapi"] = server.memory_mb()
    server.stop()

    server, port = start(1, cpus="0")
    wait_until(server, probe(port), 120)
    results["pinned"].update(load_pinned(targets(port), work, arguments))
    results["memory"]["fastapi, 1 worker"] = server.memory_mb()
    server.stop()

    def restart():
        server, port = start(workers)
        wait_until(server, probe(port), 120)
        return server, targets(port)

    return restart


# --------------------------------------------------------------------------------------------------------------
# MLServer


def run_mlserver(arguments, work, results):
    mlserver = os.path.join(os.path.dirname(sys.executable), "mlserver")

    def start(parallel_workers, cpus=None):
        repository = os.path.join(work, f"mlserver-{parallel_workers}")
        port = free_port()
        subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "reference", "mlserver_models.py"),
                        repository, "--parallel-workers", str(parallel_workers), "--http-port", str(port),
                        "--grpc-port", str(free_port()), "--metrics-port", str(free_port())], check=True)
        server = Server("mlserver", pinned([mlserver, "start", repository], cpus), cwd=repository,
                        log_path=os.path.join(work, "mlserver.log"))
        return server, port

    def targets(port):
        result = [Target("mlserver live", port, "/v2/health/live")]
        for name, (zoo_name, _) in MODELS.items():
            row = first_row(zoo_name)
            payload = {"inputs": [{"name": "input-0", "shape": [1, len(row)], "datatype": "FP32", "data": row}],
                       "outputs": [{"name": "predict_proba"}]}
            result.append(Target(f"mlserver {name}", port, f"/v2/models/{name}/infer", "POST",
                                 json.dumps(payload).encode(), {"Content-Type": "application/json"}))
        return result

    def probe(port):
        return lambda: all(t.once()[0] == 200 for t in targets(port)[1:])

    workers = cores()
    ready = []
    for run in range(arguments.python_starts):
        server, port = start(workers)
        ready.append(wait_until(server, probe(port), 180) * 1000)
        if run < arguments.python_starts - 1:
            server.stop()
    results["mlserver_ready_ms"] = ready
    results["mlserver_workers"] = workers
    log(f"mlserver ({workers} inference workers): ready {statistics.median(ready):.0f} ms")
    for target in targets(port)[1:]:
        status, body = target.once()
        # sklearn in float64 against ONNX Runtime's float32 trees: agree to about 1e-6.
        results["answers"][target.label] = check_v2(target.label.split()[1], body, 1e-4)
    results["shared"].update(load(targets(port), work, arguments))
    results["memory"]["mlserver"] = server.memory_mb()
    server.stop()

    server, port = start(1, cpus="0")
    wait_until(server, probe(port), 180)
    results["pinned"].update(load_pinned(targets(port), work, arguments))
    results["memory"]["mlserver, 1 inference worker"] = server.memory_mb()
    server.stop()

    def restart():
        server, port = start(workers)
        wait_until(server, probe(port), 180)
        return server, targets(port)

    return restart


# --------------------------------------------------------------------------------------------------------------


def run_alternating(arguments, work, results, start_slipway, start_others):
    """Slipway and the reference servers up side by side and measured in turn, --rounds times: in each round the peak
    of Slipway's `/healthz` and predictions and of each reference's predictions, then Slipway's predictions paced at
    half of that round's peak. The machine's speed drifts by 10-20% between runs minutes apart; ratios of neighbouring
    measurements, and their median over the rounds, do not depend on that drift."""
    log(f"== Alternating rounds ({arguments.rounds}): every server side by side")
    slipway_server, slipway_targets = start_slipway()
    servers = [slipway_server]
    others = []
    try:
        for start in start_others:
            server, targets = start()
            servers.append(server)
            others += targets[1:]
        rounds = []
        for number in range(arguments.rounds):
            log(f"round {number + 1}")
            entry = {}
            for target in slipway_targets + others:
                result = peak(target, work, arguments)
                entry[target.label] = {"rate": result["rate"], "errors": result["error_count"]}
            if arguments.latency:
                for target in slipway_targets[1:]:
                    half = paced(target, work, arguments, entry[target.label]["rate"] / 2)
                    entry[target.label]["half"] = {"goal": half["goal"], "rate": half["rate"],
                                                   "p99_us": half["latency_us"]["p99"],
                                                   "errors": half["error_count"]}
            rounds.append(entry)
    finally:
        for server in servers:
            server.stop()
    results["alternating"] = rounds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--slipway", required=True)
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results", "serving.md"))
    parser.add_argument("--raw", default=os.path.join(ROOT, ".work", "serving", "raw.json"))
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured wrk run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of wrk before each peak run")
    parser.add_argument("--starts", type=int, default=5, help="Slipway starts timed")
    parser.add_argument("--python-starts", type=int, default=3, help="FastAPI and MLServer starts timed")
    parser.add_argument("--no-latency", dest="latency", action="store_false", help="skip the paced runs")
    parser.add_argument("--rounds", type=int, default=5,
                        help="alternating rounds of Slipway, FastAPI and MLServer at the end (0: none)")
    parser.add_argument("--only", choices=["slipway", "fastapi", "mlserver"], action="append",
                        help="run these servers only (repeatable; the report needs all three)")
    arguments = parser.parse_args()
    for tool in ("wrk", "taskset"):
        if not shutil.which(tool):
            sys.exit(f"serving_bench.py: {tool} is missing (benchmarks/serving.sh installs it)")
    if cores() < 2:
        sys.exit("serving_bench.py: needs at least 2 CPUs (server and load generator are pinned apart)")

    results = {"shared": {}, "pinned": {}, "memory": {}, "answers": {}, "load_average": {},
               "arguments": vars(arguments)}
    work = tempfile.mkdtemp(prefix="slipway-serving-")
    runs = arguments.only or ["slipway", "fastapi", "mlserver"]
    try:
        restart_slipway = restart_fastapi = restart_mlserver = None
        if "slipway" in runs:
            results["load_average"]["slipway"] = os.getloadavg()[0]
            log("== Slipway")
            restart_slipway = run_slipway(arguments, work, results)
        if "fastapi" in runs:
            results["load_average"]["fastapi"] = os.getloadavg()[0]
            log("== FastAPI + ONNX Runtime")
            restart_fastapi = run_fastapi(arguments, work, results)
        if "mlserver" in runs:
            results["load_average"]["mlserver"] = os.getloadavg()[0]
            log("== MLServer")
            restart_mlserver = run_mlserver(arguments, work, results)
        if arguments.rounds > 0 and restart_slipway and restart_fastapi and restart_mlserver:
            results["load_average"]["alternating"] = os.getloadavg()[0]
            run_alternating(arguments, work, results, restart_slipway, [restart_fastapi, restart_mlserver])
    except Exception:
        log(f"logs kept in {work}")
        raise
    results["load_average"]["end"] = os.getloadavg()[0]
    results["small_models"] = SMALL_MODELS
    results["environment"] = environment(arguments)
    os.makedirs(os.path.dirname(arguments.raw), exist_ok=True)
    with open(arguments.raw, "w") as f:
        json.dump(results, f, indent=1)
    shutil.rmtree(work, ignore_errors=True)
    if len(runs) == 3:
        import serving_report

        text = serving_report.render(results)
        with open(arguments.out, "w") as f:
            f.write(text)
        print(text)
    else:
        log(f"partial run: raw results in {arguments.raw}, no report")


def environment(arguments):
    def first_line(command):
        try:
            # `wrk -v` prints its version and exits with 1.
            result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
            return (result.stdout.strip() or result.stderr.strip()).splitlines()[0]
        except Exception:
            return "unknown"

    def version(package):
        try:
            from importlib.metadata import version as v
            return v(package)
        except Exception:
            return "not installed"

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               "unknown")
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": cores(),
        "cpu": cpu,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        "kernel": f"{platform.system()} {platform.release()}",
        "commit": first_line(["git", "rev-parse", "--short", "HEAD"]),
        "swift": first_line(["swift", "--version"]),
        "wrk": first_line(["wrk", "-v"]),
        "python": platform.python_version(),
        "packages": {p: version(p) for p in ("fastapi", "starlette", "pydantic", "uvicorn", "uvloop", "httptools",
                                             "onnxruntime", "numpy", "mlserver", "mlserver-sklearn",
                                             "scikit-learn", "joblib")},
    }


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
