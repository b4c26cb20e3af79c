#!/usr/bin/env python3
"""Management-plane benchmark: Slipway against MLflow's model registry, in one run.

Measures, for each server, (1) start to ready on an empty data folder and (2) the latency of list and get
requests with 1,000 models x 10 versions in SQLite, from one keep-alive client that sends requests one after
another. The server runs on CPU 0 and the client on CPU 1 (taskset) so they do not compete.

    python3 benchmarks/platform_bench.py --slipway .build/release/slipway [--out benchmarks/results/platform.md]

MLflow (`pip install mlflow`) is the reference: its registry's registered models and model versions are the
closest counterpart of Slipway's models and deployments. Run by benchmarks/platform.sh.
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

MODELS = 1000
VERSIONS = 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pinned(command, cpu):
    return (["taskset", "-c", str(cpu)] if shutil.which("taskset") and os.cpu_count() >= 2 else []) + command


class Client:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, port, headers=None):
        self.port = port
        self.headers = headers or {}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method, path, body=None, headers=None):
        all_headers = dict(self.headers)
        all_headers.update(headers or {})
        self.connection.request(method, path, body=body, headers=all_headers)
        response = self.connection.getresponse()
        data = response.read()
        return response.status, data


def wait_ready(port, path, process, deadline):
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            connection.close()
            if response.status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.001)
    raise RuntimeError("server did not become ready")


def start_slipway(binary, data, port, token):
    env = dict(os.environ, SLIPWAY_ADMIN_TOKEN=token, SLIPWAY_LOG_LEVEL="warning")
    command = pinned([binary, "serve", "--data-dir", data, "--port", str(port)], 0)
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(port, "/readyz", process, started + 30)
    return process, time.perf_counter() - started


def start_mlflow(data, port):
    command = pinned(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{data}/mlflow.db",
         "--default-artifact-root", f"{data}/artifacts", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"],
        0,
    )
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    wait_ready(port, "/health", process, started + 120)
    return process, time.perf_counter() - started


def stop(process):
    try:
        os.killpg(process.pid, signal.SIGTERM) if process.pid == os.getpgid(process.pid) else process.terminate()
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def resident_mb(process):
    # taskset execs the server, so the PID is the server's own.
    try:
        total = 0
        pids = [process.pid]
        children = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
        pids += [int(p) for p in children]
        for pid in pids:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        return total / 1024
    except OSError:
        return float("nan")


def multipart(fields, file_bytes):
    boundary = "----slipway" + secrets.token_hex(8)
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="model"; filename="model.onnx"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode() + file_bytes + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def in_parallel(port, headers, jobs, work, threads=4):
    local = threading.local()

    def run(job):
        if not hasattr(local, "client"):
            local.client = Client(port, headers)
        work(local.client, job)

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        list(pool.map(run, jobs))


def populate_slipway(port, token, model_bytes):
    headers = {"Authorization": f"Bearer {token}"}

    def create(client, index):
        status, body = client.request("POST", "/api/v1/models",
                                      json.dumps({"owner": "admin", "name": f"m{index:04d}"}),
                                      {"Content-Type": "application/json"})
        assert status == 201, body
        for version in range(VERSIONS):
            data, content_type = multipart({"summary": f"version {version + 1}"}, model_bytes)
            status, body = client.request("POST", f"/api/v1/models/admin/m{index:04d}/environments/production/deployments",
                                          data, {"Content-Type": content_type})
            assert status == 201, body

    in_parallel(port, headers, range(MODELS), create)


def populate_mlflow(port, database):
    """Creates the first models through MLflow's REST API (timed), then the rest as rows in its SQLite store.

    MLflow's API creates about four model versions a second on this machine, so 11,000 API calls would take most
    of an hour; the rows inserted directly are exactly what the API writes (checked against the API-made ones).
    Returns the seconds per API-created model version.
    """
    through_api = 20

    def create(client, index):
        name = f"m{index:04d}"
        status, body = client.request("POST", "/api/2.0/mlflow/registered-models/create", json.dumps({"name": name}),
                                      {"Content-Type": "application/json"})
        assert status == 200, body
        for version in range(VERSIONS):
            status, body = client.request(
                "POST", "/api/2.0/mlflow/model-versions/create",
                json.dumps({"name": name, "source": f"s3://models/{name}/{version}", "description": f"version {version + 1}"}),
                {"Content-Type": "application/json"})
            assert status == 200, body

    started = time.perf_counter()
    in_parallel(port, {}, range(through_api), create)
    per_version = (time.perf_counter() - started) / (through_api * (VERSIONS + 1))
    import sqlite3
    connection = sqlite3.connect(database)
    now = int(time.time() * 1000)
    with connection:
        connection.executemany(
            "INSERT INTO registered_models (name, creation_time, last_updated_time, description) VALUES (?, ?, ?, '')",
            [(f"m{index:04d}", now, now) for index in range(through_api, MODELS)])
        connection.executemany(
            "INSERT INTO model_versions (name, version, creation_time, last_updated_time, description, user_id, "
            "current_stage, source, run_id, status, status_message, run_link, storage_location) "
            "VALUES (?, ?, ?, ?, ?, NULL, 'None', ?, '', 'READY', NULL, '', ?)",
            [(f"m{index:04d}", version + 1, now, now, f"version {version + 1}", f"s3://models/m{index:04d}/{version}",
              f"s3://models/m{index:04d}/{version}")
             for index in range(through_api, MODELS) for version in range(VERSIONS)])
    count = connection.execute("SELECT COUNT(*) FROM model_versions").fetchone()[0]
    assert count == MODELS * VERSIONS, count
    connection.close()
    return per_version


def measure(port, headers, paths, count):
    """Sends `count` requests from one keep-alive client, pinned to CPU 1; returns latencies in ms."""
    if shutil.which("taskset") and os.cpu_count() >= 2:
        os.sched_setaffinity(0, {1})
    client = Client(port, headers)
    rng = random.Random(7)
    for _ in range(200):
        client.request("GET", paths(rng))
    latencies = []
    for _ in range(count):
        path = paths(rng)
        started = time.perf_counter()
        status, body = client.request("GET", path)
        latencies.append((time.perf_counter() - started) * 1000)
        assert status == 200, (path, status, body[:200])
    os.sched_setaffinity(0, set(range(os.cpu_count())))
    return latencies


def percentile(values, p):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--slipway", required=True)
    parser.add_argument("--out", default="benchmarks/results/platform.md")
    parser.add_argument("--starts", type=int, default=10)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--model", default="examples/iris/model.onnx")
    arguments = parser.parse_args()
    model_bytes = open(arguments.model, "rb").read()
    alphabet = string.ascii_letters + string.digits
    token = "slw_u_" + "".join(random.choice(alphabet) for _ in range(12)) + "_" + "".join(
        random.choice(alphabet) for _ in range(32))
    rows = []
    work = tempfile.mkdtemp(prefix="slipway-bench-")
    try:
        # 1. Start to ready on an empty data folder.
        slipway_starts, mlflow_starts = [], []
        for run in range(arguments.starts):
            data = os.path.join(work, f"start-{run}")
            process, seconds = start_slipway(arguments.slipway, data, free_port(), token)
            slipway_starts.append(seconds * 1000)
            stop(process)
        for run in range(3):
            data = os.path.join(work, f"mlflow-start-{run}")
            os.makedirs(data)
            process, seconds = start_mlflow(data, free_port())
            mlflow_starts.append(seconds * 1000)
            stop(process)
        print(f"start to ready: slipway {statistics.median(slipway_starts):.0f} ms, mlflow {statistics.median(mlflow_starts):.0f} ms", flush=True)

        # 2. Latency with 1,000 models x 10 versions.
        slipway_port = free_port()
        process, _ = start_slipway(arguments.slipway, os.path.join(work, "slipway"), slipway_port, token)
        started = time.perf_counter()
        populate_slipway(slipway_port, token, model_bytes)
        slipway_populate = time.perf_counter() - started
        print(f"slipway populated in {slipway_populate:.0f} s", flush=True)
        auth = {"Authorization": f"Bearer {token}"}
        model = lambda rng: f"m{rng.randrange(MODELS):04d}"
        slipway_cases = {
            "list models (50 per page)": lambda rng: f"/api/v1/models?per_page=50&page={rng.randrange(1, MODELS // 50 + 1)}",
            "get a model": lambda rng: f"/api/v1/models/admin/{model(rng)}",
            "list a model's 10 deployments": lambda rng: f"/api/v1/models/admin/{model(rng)}/deployments",
            "get a deployment": lambda rng: f"/api/v1/models/admin/{model(rng)}/environments/production/deployments/{rng.randrange(1, VERSIONS + 1)}",
        }
        slipway_results = {name: measure(slipway_port, auth, paths, arguments.requests) for name, paths in slipway_cases.items()}
        slipway_memory = resident_mb(process)
        stop(process)

        mlflow_data = os.path.join(work, "mlflow")
        os.makedirs(mlflow_data)
        mlflow_port = free_port()
        process, _ = start_mlflow(mlflow_data, mlflow_port)
        mlflow_per_version = populate_mlflow(mlflow_port, os.path.join(mlflow_data, "mlflow.db"))
        print(f"mlflow populated ({mlflow_per_version * 1000:.0f} ms per API write)", flush=True)
        quote = urllib.parse.quote
        mlflow_cases = {
            "list models (50 per page)": lambda rng: "/api/2.0/mlflow/registered-models/search?max_results=50",
            "get a model": lambda rng: f"/api/2.0/mlflow/registered-models/get?name={model(rng)}",
            "list a model's 10 deployments": lambda rng: "/api/2.0/mlflow/model-versions/search?filter=" + quote(f"name='{model(rng)}'"),
            "get a deployment": lambda rng: f"/api/2.0/mlflow/model-versions/get?name={model(rng)}&version={rng.randrange(1, VERSIONS + 1)}",
        }
        mlflow_results = {name: measure(mlflow_port, {}, paths, max(500, arguments.requests // 3)) for name, paths in mlflow_cases.items()}
        mlflow_memory = resident_mb(process)
        stop(process)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def describe(command):
        try:
            return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip().splitlines()[0]
        except Exception:
            return "unknown"

    import mlflow
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "unknown")
    lines = [
        "# Management plane: Slipway against MLflow's model registry",
        "",
        f"Measured by `benchmarks/platform.sh` on {time.strftime('%Y-%m-%d')}: {os.cpu_count()} cores ({cpu}), "
        f"{round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB, {platform.system()} {platform.release()}.",
        f"Slipway {describe(['git', 'rev-parse', '--short', 'HEAD'])} (release build, {describe(['swift', '--version'])}), "
        f"embedded SQLite; MLflow {mlflow.__version__} (`mlflow server`, SQLite backend store, 1 worker), Python {platform.python_version()}.",
        "",
        "Each server runs on CPU 0; the client (Python `http.client`, one keep-alive connection, one request at a time) "
        "on CPU 1. Latency includes the client's own overhead (about 0.1 ms), so both figures are upper bounds.",
        "",
        f"## Start to ready on an empty data folder (median of {arguments.starts} starts for Slipway, 3 for MLflow)",
        "",
        "| server | start to ready | target |",
        "|---|---|---|",
        f"| Slipway (`slipway serve`, until `/readyz` answers 200) | {statistics.median(slipway_starts):.0f} ms (min {min(slipway_starts):.0f}, max {max(slipway_starts):.0f}) | ≤ 200 ms |",
        f"| MLflow (`mlflow server`, until `/health` answers 200) | {statistics.median(mlflow_starts):.0f} ms | |",
        f"| ratio MLflow / Slipway | {statistics.median(mlflow_starts) / statistics.median(slipway_starts):.0f}× | |",
        "",
        f"## Latency with {MODELS:,} models × {VERSIONS} versions",
        "",
        f"Populated through each server's own API: Slipway in {slipway_populate:.0f} s ({MODELS:,} models and "
        f"{MODELS * VERSIONS:,} multipart deploys of a {len(model_bytes)}-byte model, 4 client threads, "
        f"{slipway_populate / (MODELS * (VERSIONS + 1)) * 1000:.1f} ms per write). MLflow's API took "
        f"{mlflow_per_version * 1000:.0f} ms per write for its first 20 models and slows down as its tables grow (a "
        "first attempt through the API alone had made 618 versions after 150 s), so the other "
        f"{MODELS - 20:,} models were inserted as the same rows into its SQLite store. "
        f"Resident memory after the run: Slipway {slipway_memory:.0f} MB, MLflow {mlflow_memory:.0f} MB.",
        "",
        "| request | Slipway p50 | Slipway p99 | MLflow p50 | MLflow p99 | p99 ratio MLflow / Slipway | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in slipway_cases:
        s, m = slipway_results[name], mlflow_results[name]
        lines.append(
            f"| {name} | {percentile(s, 50):.2f} ms | {percentile(s, 99):.2f} ms | {percentile(m, 50):.2f} ms | "
            f"{percentile(m, 99):.2f} ms | {percentile(m, 99) / percentile(s, 99):.1f}× | p99 ≤ 5 ms |")
    lines += [
        "",
        f"Slipway: {arguments.requests:,} requests per row, random pages, models and versions; MLflow: "
        f"{max(500, arguments.requests // 3):,} per row (its list row always reads the first page: MLflow pages "
        "with opaque tokens). Slipway's list answers include `X-Total-Count` and `Link` headers, which cost a COUNT.",
        "",
    ]
    with open(arguments.out, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
