#!/usr/bin/env python3
"""Assemble benchmarks/results/engine.md from the raw JSON of benchmarks/engine.sh.

Usage: benchmarks/report.py --raw DIR [--zoo Tests/Fixtures/zoo]
                            [--out benchmarks/results/engine.md]
                            [--swift-version "..."] [--models m1,m2,...]

DIR holds one JSON object per run, named <model>.<engine>.r<rows>.t<threads>.json
with engine "slipway" or "ort"; each has load_ms, median_us_per_call,
p99_us_per_call, us_per_row and resident_bytes (a run that failed holds
{"error": "..."}).  Latency and memory ratios are ORT / Slipway, so a ratio
above 1 means Slipway is faster (or smaller).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys

BENCHMARK_MODELS = [
    "iris_random_forest",
    "breast_cancer_gradient_boosting",
    "breast_cancer_xgboost",
    "breast_cancer_lightgbm",
    "breast_cancer_mlp",
    "digits_logistic_regression",
    "diabetes_random_forest_regressor",
]
# 100-tree ensembles, which must also answer a single row in <= 2 us.
TREE_ENSEMBLES = {
    "iris_random_forest",
    "breast_cancer_gradient_boosting",
    "breast_cancer_xgboost",
    "breast_cancer_lightgbm",
    "diabetes_random_forest_regressor",
}
LOAD_TARGET_MODEL = "diabetes_random_forest_regressor"
LOAD_TARGET_MS = 10.0
LATENCY_FACTOR = 0.5  # Slipway 1-row median <= 0.5 x ORT
ENSEMBLE_1ROW_US = 2.0
SPEEDUP_TARGET = 1.7
RSS_FILE_FACTOR = 3.0


# --------------------------------------------------------------------------
# Loading


def load_result(path: str) -> dict | None:
    """The last JSON object printed to the file (CLIs may log before it)."""
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                return obj
    try:
        obj = json.loads(text)
        return obj if isinstance(obj, dict) else None
    except json.JSONDecodeError:
        return {"error": "unparseable output"}


def value(result: dict | None, key: str) -> float | None:
    if not result or "error" in result:
        return None
    v = result.get(key)
    return float(v) if isinstance(v, (int, float)) else None


# --------------------------------------------------------------------------
# Machine info


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            info = f.read()
        for key in ("model name", "Hardware", "Processor", "cpu model"):
            for line in info.splitlines():
                if line.lower().startswith(key.lower()) and ":" in line:
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    try:
        return subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown"


def ort_version(results: list[dict | None]) -> str:
    for r in results:
        if r and isinstance(r.get("runtime"), str):
            return r["runtime"]
    try:
        import onnxruntime

        return f"onnxruntime {onnxruntime.__version__}"
    except ImportError:
        return "onnxruntime (not installed)"


# --------------------------------------------------------------------------
# Formatting


def fmt(v: float | None, unit: str = "", digits: int = 2) -> str:
    if v is None:
        return "n/a"
    if unit == "B":
        return fmt_bytes(v)
    sep = "" if unit in ("", "×") else " "
    return f"{v:,.{digits}f}{sep}{unit}"


def fmt_bytes(v: float) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(v) >= scale:
            return f"{v / scale:,.2f} {unit}"
    return f"{v:,.0f} B"


def ratio(ort: float | None, slipway: float | None) -> float | None:
    if ort is None or slipway is None or slipway <= 0:
        return None
    return ort / slipway


def yes_no(ok: bool | None) -> str:
    return "n/a" if ok is None else ("yes" if ok else "no")


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


# --------------------------------------------------------------------------
# Report


def build_report(raw: str, zoo: str, models: list[str], swift_version: str,
                 now: dt.datetime | None = None) -> str:
    def get(model: str, engine: str, rows: int, threads: int) -> dict | None:
        return load_result(os.path.join(raw, f"{model}.{engine}.r{rows}.t{threads}.json"))

    now = now or dt.datetime.now(dt.timezone.utc)
    all_results = [get(m, e, r, t) for m in models for e in ("slipway", "ort")
                   for r, t in ((1, 1), (1000, 1), (1000, 2))]
    lines = [
        "# Slipway engine benchmark",
        "",
        f"- Date: {now.strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {platform.machine()}, {cpu_model()}, {os.cpu_count()} cores",
        f"- Swift: {swift_version or 'unknown'}",
        f"- ONNX Runtime: {ort_version(all_results)} (Python API, intra/inter-op threads = 1, sequential)",
        f"- Python: {platform.python_version()}",
        "",
        "Ratios are ONNX Runtime / Slipway: above 1 means Slipway is faster (or smaller).",
        "Rows come from each model's expected.json inputs, repeated to the batch size. Each figure is the best (lowest median) of several separate processes (REPEATS, default 3) for both engines; load time is the median of five loads and memory the average resident growth per loaded copy of five, for both engines.",
        "",
    ]
    failures = []
    for m in models:
        for e in ("slipway", "ort"):
            scenarios = [(1, 1), (1000, 1)] + ([(1000, 2)] if e == "slipway" else [])
            for r, t in scenarios:
                res = get(m, e, r, t)
                if res is None or "error" in res:
                    failures.append((m, e, r, t, (res or {}).get("error")))

    # 1-row latency
    rows, floor = [], None
    for m in models:
        s, o = get(m, "slipway", 1, 1), get(m, "ort", 1, 1)
        sv, ov = value(s, "median_us_per_call"), value(o, "median_us_per_call")
        floor = floor or value(o, "identity_model_median_us_per_call")
        ok = None
        if sv is not None and ov is not None:
            ok = sv <= LATENCY_FACTOR * ov
            if m in TREE_ENSEMBLES:
                ok = ok and sv <= ENSEMBLE_1ROW_US
        rows.append([f"`{m}`", fmt(sv, "µs"), fmt(ov, "µs"), fmt(ratio(ov, sv), "×"), yes_no(ok)])
    lines += [
        "## 1-row latency (median per call, 1 thread)",
        "",
        f"Target: Slipway ≤ {LATENCY_FACTOR}× ONNX Runtime, and ≤ {ENSEMBLE_1ROW_US:g} µs for the "
        "100-tree ensembles.",
        "",
    ]
    lines += table(["model", "Slipway", "ONNX Runtime", "ratio", "target met"], rows)
    if floor is not None:
        lines += ["", f"ONNX Runtime numbers include the Python binding: a one-node Identity model "
                      f"takes {floor:.2f} µs per call in the same loop."]
    lines.append("")

    # 1-row p99 (informational)
    rows = []
    for m in models:
        sv = value(get(m, "slipway", 1, 1), "p99_us_per_call")
        ov = value(get(m, "ort", 1, 1), "p99_us_per_call")
        rows.append([f"`{m}`", fmt(sv, "µs"), fmt(ov, "µs"), fmt(ratio(ov, sv), "×"), "—"])
    lines += ["## 1-row latency, p99 (informational)", ""]
    lines += table(["model", "Slipway", "ONNX Runtime", "ratio", "target met"], rows) + [""]

    # 1000-row throughput
    rows = []
    for m in models:
        sv = value(get(m, "slipway", 1000, 1), "us_per_row")
        ov = value(get(m, "ort", 1000, 1), "us_per_row")
        ok = None if sv is None or ov is None else sv <= ov
        rows.append([f"`{m}`", fmt(sv, "µs", 3), fmt(ov, "µs", 3), fmt(ratio(ov, sv), "×"), yes_no(ok)])
    lines += ["## 1000-row batches (µs per row, 1 thread)", "", "Target: Slipway ≤ ONNX Runtime.", ""]
    lines += table(["model", "Slipway", "ONNX Runtime", "ratio", "target met"], rows) + [""]

    # 2-thread speedup
    rows = []
    for m in models:
        t1 = value(get(m, "slipway", 1000, 1), "median_us_per_call")
        t2 = value(get(m, "slipway", 1000, 2), "median_us_per_call")
        sp = ratio(t1, t2)
        rows.append([f"`{m}`", fmt(t1, "µs"), fmt(t2, "µs"), fmt(sp, "×"),
                     yes_no(None if sp is None else sp >= SPEEDUP_TARGET)])
    lines += ["## Slipway 2-thread speedup (1000-row batches, median per call)", "",
              f"Target: 1 thread / 2 threads ≥ {SPEEDUP_TARGET}×.", ""]
    lines += table(["model", "Slipway 1 thread", "Slipway 2 threads", "speedup", "target met"], rows) + [""]

    # Load time
    rows = []
    for m in models:
        sv = value(get(m, "slipway", 1, 1), "load_ms")
        ov = value(get(m, "ort", 1, 1), "load_ms")
        ok = None
        if m == LOAD_TARGET_MODEL:
            ok = None if sv is None else sv <= LOAD_TARGET_MS
        rows.append([f"`{m}`", fmt(sv, "ms"), fmt(ov, "ms"), fmt(ratio(ov, sv), "×"),
                     "—" if m != LOAD_TARGET_MODEL else yes_no(ok)])
    lines += ["## Model load time", "", f"Target: `{LOAD_TARGET_MODEL}` loads in ≤ {LOAD_TARGET_MS:g} ms.", ""]
    lines += table(["model", "Slipway", "ONNX Runtime", "ratio", "target met"], rows) + [""]

    # Resident memory
    rows = []
    for m in models:
        sv = value(get(m, "slipway", 1, 1), "resident_bytes")
        ov = value(get(m, "ort", 1, 1), "resident_bytes")
        path = os.path.join(zoo, m, "model.onnx")
        size = os.path.getsize(path) if os.path.exists(path) else None
        ok = None if sv is None or size is None else sv <= RSS_FILE_FACTOR * size
        rows.append([f"`{m}`", fmt(sv, "B"), fmt(ov, "B"), fmt(ratio(ov, sv), "×"),
                     fmt(size, "B") if size is not None else "n/a", yes_no(ok)])
    lines += ["## Resident memory added by loading the model", "",
              f"Target: Slipway ≤ {RSS_FILE_FACTOR:g}× the model file size.", ""]
    lines += table(["model", "Slipway", "ONNX Runtime", "ratio", "file size", "target met"], rows) + [""]

    if failures:
        lines += ["## Missing or failed runs", ""]
        for m, e, r, t, err in failures:
            lines.append(f"- `{m}` {e} rows={r} threads={t}: {err or 'no output'}")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the Slipway vs ONNX Runtime report.")
    parser.add_argument("--raw", required=True, help="directory of raw JSON results")
    parser.add_argument("--zoo", default="Tests/Fixtures/zoo")
    parser.add_argument("--out", default="benchmarks/results/engine.md")
    parser.add_argument("--swift-version", default="")
    parser.add_argument("--models", help="comma-separated model names (default: the 7 benchmark models)")
    args = parser.parse_args(argv)
    models = args.models.split(",") if args.models else BENCHMARK_MODELS
    text = build_report(args.raw, args.zoo, models, args.swift_version)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
