#!/usr/bin/env python3
"""Monitoring overhead: Slipway's predict throughput with per-deployment statistics on and the prediction log
sampling 10% of requests, against the same server with both off, in one run.

    python3 benchmarks/monitoring_bench.py --slipway .build/release/slipway [--out benchmarks/results/monitoring.md]

Two servers from the same binary, each on its own empty data folder, serve the zoo's iris_random_forest with the
same one-row payload (the harness of benchmarks/serving_bench.py: wrk -t2 -c32 on 127.0.0.1, server and wrk sharing
the cores):

- *off*: `SLIPWAY_STATS_ENABLED=false`, the prediction log not enabled;
- *on*: statistics on (flushed every 5 s, the default) and the environment's prediction log enabled with
  `sample_rate` 0.1.

What stays on in both (it cannot be switched off): the Prometheus counters of `/metrics` and the per-request outcome
record that feedback joins with. Only one server runs at a time; the phases alternate off, on, off, on… so that
drifts of the machine affect both alike, and the median of the rounds is compared (target: on ≥ 0.85 × off).
After the load, the *on* server's statistics and prediction log are read back to show that they recorded the
traffic.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serving_bench as sb  # noqa: E402


def start(binary, work, name, environment):
    os.environ.update(environment)
    try:
        server = sb.Slipway(binary, os.path.join(work, name, "data"), sb.token(), os.path.join(work, name))
        os.makedirs(server.work, exist_ok=True)
        process = server.start()
    finally:
        for key in environment:
            os.environ.pop(key, None)
    sb.wait_until(process, lambda: sb.request(server.port, "GET", "/healthz")[0] == 200, 30)
    server.deploy("iris", *sb.MODELS["iris"][:1], classes=sb.MODELS["iris"][1])
    return server, process


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--slipway", required=True)
    parser.add_argument("--out", default=os.path.join(sb.ROOT, "benchmarks", "results", "monitoring.md"))
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured wrk run")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    work = tempfile.mkdtemp(prefix="slipway-monitoring-bench-")
    rates = {"off": [], "on": []}
    runs = []
    servers = {}
    try:
        servers["off"] = start(arguments.slipway, work, "off", {"SLIPWAY_STATS_ENABLED": "false"})
        servers["on"] = start(arguments.slipway, work, "on", {"SLIPWAY_STATS_ENABLED": "true"})
        on = servers["on"][0]
        on.admin("PUT", f"/api/v1/models/{sb.OWNER}/iris/environments/production/prediction-log",
                 {"enabled": True, "sample_rate": 0.1})
        for round_index in range(arguments.rounds):
            for mode in ("off", "on"):
                server, _ = servers[mode]
                target = server.predict_target("iris")
                status, body = target.once()
                if status != 200:
                    raise RuntimeError(f"{mode}: {status} {body[:300]!r}")
                sb.log(f"round {round_index + 1}, monitoring {mode}")
                result = sb.peak(target, work, arguments)
                rates[mode].append(result["rate"])
                runs.append({"round": round_index + 1, "mode": mode, "rate": result["rate"],
                             "p50_ms": result["latency_us"]["p50"] / 1000,
                             "p99_ms": result["latency_us"]["p99"] / 1000, "errors": result["error_count"]})
        time.sleep(6)  # one statistics flush
        stats = on.admin("GET", f"/api/v1/models/{sb.OWNER}/iris/environments/production/deployments/1/stats")
        log_page = on.admin("GET", f"/api/v1/models/{sb.OWNER}/iris/environments/production/predictions?limit=5")
        counted = stats.get("total", {}).get("requests")
        logged = len(log_page.get("items", []))
    finally:
        for server, process in servers.values():
            process.stop()
    off_median, on_median = statistics.median(rates["off"]), statistics.median(rates["on"])
    ratio = on_median / off_median
    revision = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=sb.ROOT, capture_output=True,
                              text=True).stdout.strip()
    swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    lines = [
        "# Monitoring overhead: predict throughput with statistics and a 10% prediction log, against both off",
        "",
        f"Measured by `benchmarks/monitoring.sh` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
        f"{os.cpu_count()} cores, {platform.platform()}. Slipway {revision} (release build, {swift}), embedded "
        f"SQLite, `SLIPWAY_LOG_LEVEL=warning`. Load: {wrk_version} on 127.0.0.1, `wrk -t2 -c32 "
        f"-d{arguments.duration}s` after a {arguments.warmup} s warm-up, server and wrk sharing the cores.",
        "",
        "- Model: the zoo's `iris_random_forest` (100 trees), one row per request, `POST /v1/admin/iris/predict/` "
        "with a serving key (the same payload as benchmarks/results/serving.md).",
        "- *off*: `SLIPWAY_STATS_ENABLED=false` and no prediction log. *on*: statistics on (minute/hour buckets, "
        "HDR latency, per-feature input statistics, class counts, drift inputs; flushed every 5 s) and the "
        "prediction log at `sample_rate` 0.1.",
        "- Always on in both (not switchable): the `/metrics` counters and histograms, and the per-request outcome "
        "record feedback joins with.",
        "- Two servers from the same binary, one loaded at a time, in alternating rounds; the medians are compared.",
        "",
        "| round | monitoring | req/s | p50 | p99 | errors |",
        "|---|---|---|---|---|---|",
    ]
    for run in runs:
        lines.append(f"| {run['round']} | {run['mode']} | {run['rate']:,.0f} | {run['p50_ms']:.2f} ms | "
                     f"{run['p99_ms']:.2f} ms | {run['errors']} |")
    lines += [
        "",
        "| | median req/s |",
        "|---|---|",
        f"| statistics and log off | {off_median:,.0f} |",
        f"| statistics on, prediction log 10% | {on_median:,.0f} |",
        f"| ratio (target ≥ 0.85) | **{ratio:.2f}×** ({'met' if ratio >= 0.85 else 'missed'}) |",
        "",
        f"Afterwards the *on* server's statistics counted {counted:,} requests for the deployment over the last "
        f"hour and its prediction log returned {logged} of its newest entries (page of 5), so both recorded the "
        "load.",
        "",
    ]
    with open(arguments.out, "w") as f:
        f.write("\n".join(lines))
    sb.log(f"off {off_median:,.0f} req/s, on {on_median:,.0f} req/s, ratio {ratio:.2f}; wrote {arguments.out}")


if __name__ == "__main__":
    main()
