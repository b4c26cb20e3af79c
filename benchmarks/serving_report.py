#!/usr/bin/env python3
"""Markdown report of benchmarks/serving_bench.py's raw results.

    python3 benchmarks/serving_report.py [.work/serving/raw.json] [--out benchmarks/results/serving.md]
"""
import argparse
import json
import os
import statistics

MODELS = ["iris", "breast-cancer"]
ZOO_NAMES = {"iris": "iris_random_forest", "breast-cancer": "breast_cancer_gradient_boosting"}
TARGETS = {"healthz": 0.8, "fastapi": 3.0, "mlserver": 20.0, "p99_ms": 2.0, "ready_ms": 200.0, "rss_mb": 100.0}


def rate(results, mode, label):
    entry = results[mode].get(label)
    return entry["peak"]["rate"] if entry else float("nan")


def ms(us):
    return f"{us / 1000:.2f} ms"


def alternating(results):
    """Each alternating round's figures and ratios (see serving_bench.run_alternating), or [] without rounds."""
    rows = []
    for entry in results.get("alternating", []):
        healthz = entry["slipway healthz"]["rate"]
        row = {"healthz": healthz, "errors": sum(value["errors"] + value.get("half", {}).get("errors", 0)
                                                 for label, value in entry.items() if label.startswith("slipway"))}
        for model in MODELS:
            slipway, fastapi = entry[f"slipway {model}"], entry[f"fastapi {model}"]
            mlserver = entry[f"mlserver {model}"]
            half = slipway.get("half")
            row[model] = {"rate": slipway["rate"], "fastapi": fastapi["rate"], "mlserver": mlserver["rate"],
                          "healthz_ratio": slipway["rate"] / healthz, "fastapi_ratio": slipway["rate"] / fastapi["rate"],
                          "mlserver_ratio": slipway["rate"] / mlserver["rate"],
                          "p99_ms": half["p99_us"] / 1000 if half else None}
        rows.append(row)
    return rows


def median_of(rows, model, key):
    values = [row[model][key] for row in rows if row[model][key] is not None]
    return statistics.median(values) if values else None


def verdict(value, target, higher_is_better=True):
    if value >= target if higher_is_better else value <= target:
        return "yes"
    if higher_is_better:
        return f"no, {1 - value / target:.0%} short"
    return f"no, {value / target - 1:.0%} over"


def render(results):
    env = results["environment"]
    p = env["packages"]
    lines = [
        "# Prediction serving: Slipway against FastAPI + ONNX Runtime and MLServer",
        "",
        f"Measured by `benchmarks/serving.sh` on {env['date']}: {env['cpus']} cores ({env['cpu']}), "
        f"{env['memory_gib']} GiB, {env['kernel']}.",
        f"Slipway {env['commit']} (release build, {env['swift']}), embedded SQLite, `SLIPWAY_LOG_LEVEL=warning`; "
        f"deployments {'verified by its verifier' if results.get('slipway_verification') == 'verifier' else 'marked verified by the admin route (no verifier ran)'}.",
        f"FastAPI {p['fastapi']} (Starlette {p['starlette']}, pydantic {p['pydantic']}) on uvicorn {p['uvicorn']} "
        f"(uvloop {p['uvloop']}, httptools {p['httptools']}), ONNX Runtime {p['onnxruntime']}, numpy {p['numpy']}: "
        "`benchmarks/reference/fastapi_server.py`.",
        f"MLServer {p['mlserver']} with mlserver-sklearn {p['mlserver-sklearn']} (scikit-learn {p['scikit-learn']}, "
        f"joblib {p['joblib']}), debug logging off: `benchmarks/reference/mlserver_models.py`. "
        f"Python {env['python']}. Load: {env['wrk']} on 127.0.0.1.",
        "",
        "## What runs",
        "",
        "- Models: the zoo's `iris_random_forest` (RandomForestClassifier, 100 trees, 4 features) and "
        "`breast_cancer_gradient_boosting` (GradientBoostingClassifier, 100 trees, 30 features). Slipway and the "
        "FastAPI server run the same ONNX files; MLServer runs the same estimators trained by the same code on the "
        "same split (scikit-learn pickles; its runtime does not take ONNX).",
        "- Payload: the first test row of each model's `expected.json`, one row per request. Slipway: "
        "`POST /v1/admin/{model}/predict/` with `{\"ndarray\": [[…]]}` and `X-Serving-Key`; FastAPI: the same "
        "route and body (no key check), the same answer `{request_id, environment, version, predictions: "
        "[{className, probability}, …]}`; MLServer: `POST /v2/models/{model}/infer` with one FP32 `[1, n]` tensor "
        "and `outputs: [{\"name\": \"predict_proba\"}]`. Every server's answer was checked against the zoo's "
        "expected probabilities before loading it.",
        "- Floors: Slipway's `GET /healthz`, the FastAPI server's `GET /healthz`, MLServer's `GET /v2/health/live`.",
        f"- Peak throughput: `wrk -t2 -c32 -d{results['arguments']['duration']}s` after a "
        f"{results['arguments']['warmup']} s warm-up. *All cores*: server and wrk share the "
        f"{env['cpus']} cores; the FastAPI server runs {results.get('fastapi_workers', '?')} uvicorn workers and "
        f"MLServer {results.get('mlserver_workers', '?')} inference workers (as many as cores). *One core*: the "
        "server is pinned to CPU 0 (`taskset`; 1 uvicorn worker, 1 MLServer inference worker) and "
        "`wrk -t1 -c32` to CPU 1.",
        "- Latency at half of the peak (wrk2 is not packaged here): wrk with `benchmarks/wrk/request.lua` pacing "
        "every connection, which pauses a random 0–2·D ms (whole milliseconds) after each answer; the number of "
        "connections and D are calibrated in 3 s runs so that the achieved rate is half the all-cores peak. This "
        "is a closed loop: the latency is the answer time wrk measures from sending a request, and a stalled "
        "answer delays its connection's next request instead of piling up behind it (no coordinated-omission "
        "correction), so tails under overload would be understated; at half of the peak queues are short.",
        "- Errors: wrk's connect/read/write/timeout errors plus answers with status ≥ 400 (wrk does not count 3xx; "
        "none of these routes redirects).",
        "- Machine load (1-minute load average, which includes the previous phase's own load) when each phase "
        "started: " + ", ".join(f"{k} {v:.2f}" for k, v in results.get("load_average", {}).items()) + ".",
        "- Memory: RSS summed over the server's processes (PSS too, which counts pages shared between workers once).",
        "",
    ]

    # Throughput
    for mode, title in (("shared", "All cores (server and wrk share them)"),
                        ("pinned", "One core (server on CPU 0, wrk on CPU 1)")):
        lines += [f"## Peak throughput, {title.lower()}", "",
                  "| server | request | req/s | p50 | p99 | errors | bytes per answer |", "|---|---|---|---|---|---|---|"]
        for label, entry in results[mode].items():
            peak = entry["peak"]
            server, request = label.split(" ", 1)
            lines.append(f"| {server} | {request} | {peak['rate']:,.0f} | {ms(peak['latency_us']['p50'])} | "
                         f"{ms(peak['latency_us']['p99'])} | {peak['error_count']} | "
                         f"{peak['bytes_per_response']:.0f} |")
        lines.append("")

    # Ratios
    lines += ["## Throughput ratios and targets", "",
              "| model | cores | Slipway predict | ÷ Slipway `/healthz` (≥ 0.8) | ÷ FastAPI (≥ 3) | "
              "÷ MLServer (≥ 20) |", "|---|---|---|---|---|---|"]
    ratio_rows = {}
    for model in MODELS:
        for mode, name in (("shared", "all"), ("pinned", "one")):
            s = rate(results, mode, f"slipway {model}")
            h = rate(results, mode, "slipway healthz")
            f = rate(results, mode, f"fastapi {model}")
            m = rate(results, mode, f"mlserver {model}")
            ratio_rows[(model, mode)] = (s / h, s / f, s / m)
            lines.append(f"| `{ZOO_NAMES[model]}` | {name} | {s:,.0f} req/s | {s / h:.2f}× "
                         f"({verdict(s / h, 0.8)}) | {s / f:.1f}× ({verdict(s / f, 3.0)}) | {s / m:.0f}× "
                         f"({verdict(s / m, 20.0)}) |")
    lines += ["", "For comparison, each reference server's own floor: "
              + "; ".join(
                  f"{server} {model}/floor {rate(results, 'shared', f'{server} {model}') / rate(results, 'shared', floor):.2f}×"
                  for server, floor in (("fastapi", "fastapi healthz"), ("mlserver", "mlserver live"))
                  for model in MODELS) + " (all cores).", ""]

    # The fast path's share
    router = results.get("router")
    if router:
        lines += ["## With and without the fast path (all cores)", "",
                  "The fast path answers `/healthz` and warm, cheap predictions on the network thread before the "
                  "router (`docs/operations.md`); `SLIPWAY_FAST_PATH=false` sends every request through the router. "
                  "Same binary, same data folder, peak throughput as above.", "",
                  "| request | fast path req/s | router only req/s | gain | predict ÷ `/healthz`, router only |",
                  "|---|---|---|---|---|"]
        floor = router["slipway healthz"]["peak"]["rate"]
        for label, entry in router.items():
            request = label.split(" ", 1)[1]
            fast = rate(results, "shared", label)
            routed = entry["peak"]["rate"]
            share = "" if request == "healthz" else f"{routed / floor:.2f}×"
            lines.append(f"| {request} | {fast:,.0f} | {routed:,.0f} | {fast / routed:.2f}× | {share} |")
        lines.append("")

    # Latency at half of peak
    lines += ["## Latency at half of the peak (all cores)", "",
              "| server | request | goal req/s | achieved req/s | connections × mean pause | p50 | p90 | p99 | "
              "p99.9 | max | errors | p99 ≤ 2 ms |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for label, entry in results["shared"].items():
        half = entry.get("half")
        if not half:
            continue
        server, request = label.split(" ", 1)
        latency = half["latency_us"]
        target = verdict(latency["p99"] / 1000, 2.0, higher_is_better=False) if server == "slipway" else ""
        lines.append(f"| {server} | {request} | {half['goal']:,.0f} | {half['rate']:,.0f} | "
                     f"{half['connections']} × {half.get('delay_ms', 0):.1f} ms | {ms(latency['p50'])} | "
                     f"{ms(latency['p90'])} | {ms(latency['p99'])} | {ms(latency['p999'])} | {ms(latency['max'])} | "
                     f"{half['error_count']} | {target} |")
    lines.append("")

    # Alternating rounds
    rounds = alternating(results)
    if rounds:
        lines += ["## Alternating rounds: the targets' figures", "",
                  f"Slipway, FastAPI and MLServer up side by side, measured in turn for {len(rounds)} round"
                  f"{'s' if len(rounds) != 1 else ''}: in each round "
                  "the peak of Slipway's `/healthz` and predictions and of the others' predictions, then Slipway's "
                  "predictions paced at half of that round's peak. The machine's speed drifts by 10–20% between runs "
                  "minutes apart (compare the single pass above); the ratios of neighbouring measurements do not, and "
                  "the targets below take their median.", ""]

        def cells(values, model):
            p99 = values[model]["p99_ms"]
            return (f"{values[model]['rate']:,.0f} | {values[model]['fastapi']:,.0f} | "
                    f"{values[model]['mlserver']:,.0f} | {values[model]['healthz_ratio']:.2f}× | "
                    f"{values[model]['fastapi_ratio']:.2f}× | {values[model]['mlserver_ratio']:.0f}× | "
                    + (f"{p99:.2f} ms" if p99 is not None else ""))

        medians = {"healthz": statistics.median(row["healthz"] for row in rounds)}
        for model in MODELS:
            medians[model] = {key: median_of(rounds, model, key)
                              for key in ("rate", "fastapi", "mlserver", "healthz_ratio", "fastapi_ratio",
                                          "mlserver_ratio", "p99_ms")}
        for model in MODELS:
            lines += [f"`{ZOO_NAMES[model]}`:", "",
                      "| round | Slipway `/healthz` | Slipway | FastAPI | MLServer | ÷ `/healthz` | ÷ FastAPI | "
                      "÷ MLServer | Slipway p99 at half |", "|---|---|---|---|---|---|---|---|---|"]
            for number, row in enumerate(rounds, 1):
                lines.append(f"| {number} | {row['healthz']:,.0f} | {cells(row, model)} |")
            lines += [f"| median | {medians['healthz']:,.0f} | {cells(medians, model)} |", ""]

    # Ready
    def summary(values):
        return f"{statistics.median(values):.0f} ms (min {min(values):.0f}, max {max(values):.0f}; {len(values)} start{'s' if len(values) != 1 else ''})"

    lines += ["## Ready to serve", "", "From spawning the process until both models answer a prediction with 200 "
              "(polled every millisecond).", "", "| server | ready | ≤ 200 ms |", "|---|---|---|"]
    ready = statistics.median(results["slipway_ready_ms"])
    lines.append(f"| Slipway, the two models deployed and active (loads them on start or on first request) | "
                 f"{summary(results['slipway_ready_ms'])} | {verdict(ready, 200, higher_is_better=False)} |")
    lines.append(f"| Slipway, empty data folder, until `/readyz` answers 200 | "
                 f"{summary(results['slipway_ready_empty_ms'])} | |")
    lines.append(f"| FastAPI + ONNX Runtime, {results['fastapi_workers']} workers | "
                 f"{summary(results['fastapi_ready_ms'])} | |")
    lines.append(f"| MLServer, {results['mlserver_workers']} inference workers | "
                 f"{summary(results['mlserver_ready_ms'])} | |")
    lines.append("")

    # Memory
    memory = results["memory"]
    lines += ["## Resident memory", "", "| server | when | processes | RSS | PSS |", "|---|---|---|---|---|"]
    describe = {
        "slipway": "3 s after the load above (two models)",
        "slipway idle": "just started, empty data folder",
        "slipway ten models": "ten small zoo models deployed through the API, each answered a prediction",
        "slipway ten models, restarted": "restarted with those ten, each answered a prediction",
        "fastapi": f"after the load ({results['fastapi_workers']} workers + supervisor)",
        "fastapi, 1 worker": "after the one-core load",
        "mlserver": f"after the load ({results['mlserver_workers']} inference workers)",
        "mlserver, 1 inference worker": "after the one-core load",
    }
    for key, (rss, pss, processes) in memory.items():
        server = key.split(",")[0].split(" ")[0]
        lines.append(f"| {server} | {describe.get(key, key)} | {processes} | {rss:.1f} MB | {pss:.1f} MB |")
    lines += ["", "Ten small models: " + ", ".join(f"`{m}`" for m in results.get("small_models", [])) + ".", ""]

    # Targets
    ten = max(memory["slipway ten models"][0], memory["slipway ten models, restarted"][0])
    source = f" (median of {len(rounds)} alternating rounds)" if rounds else ""
    lines += ["## Targets", "", "| target | figure | met |", "|---|---|---|"]
    for model in MODELS:
        a, b, c = ratio_rows[(model, "shared")]
        half = results["shared"][f"slipway {model}"].get("half")
        p99 = half["latency_us"]["p99"] / 1000 if half else None
        if rounds:
            a = median_of(rounds, model, "healthz_ratio")
            b = median_of(rounds, model, "fastapi_ratio")
            c = median_of(rounds, model, "mlserver_ratio")
            p99 = median_of(rounds, model, "p99_ms")
        lines.append(f"| predict ≥ 0.8× Slipway `/healthz` (`{model}`, all cores){source} | {a:.2f}× | "
                     f"{verdict(a, 0.8)} |")
        lines.append(f"| predict ≥ 3× FastAPI (`{model}`, all cores){source} | {b:.2f}× | {verdict(b, 3.0)} |")
        lines.append(f"| predict ≥ 20× MLServer (`{model}`, all cores){source} | {c:.0f}× | {verdict(c, 20.0)} |")
        if p99 is not None:
            lines.append(f"| p99 ≤ 2 ms at half of peak (`{model}`){source} | {p99:.2f} ms | "
                         f"{verdict(p99, 2.0, higher_is_better=False)} |")
    errors = sum(entry["peak"]["error_count"] + entry.get("half", {}).get("error_count", 0)
                 for label, entry in list(results["shared"].items()) + list(results["pinned"].items())
                 if label.startswith("slipway")) + sum(row["errors"] for row in rounds)
    lines.append(f"| zero errors (every Slipway run) | {errors} | {'yes' if errors == 0 else 'no'} |")
    lines.append(f"| ready ≤ 200 ms | {ready:.0f} ms | {verdict(ready, 200, higher_is_better=False)} |")
    lines.append(f"| RSS ≤ 100 MB with ten models | {ten:.1f} MB | {verdict(ten, 100, higher_is_better=False)} |")
    lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("raw", nargs="?", default=".work/serving/raw.json")
    parser.add_argument("--out", default="benchmarks/results/serving.md")
    arguments = parser.parse_args()
    with open(arguments.raw) as f:
        results = json.load(f)
    text = render(results)
    with open(arguments.out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
