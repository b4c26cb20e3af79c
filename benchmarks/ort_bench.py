#!/usr/bin/env python3
"""Benchmark one ONNX model in ONNX Runtime, for comparison with `slipway bench`.

Usage: benchmarks/ort_bench.py MODEL.onnx --rows N --iterations K [--request FILE]

The session is single-threaded (intra_op_num_threads=1, inter_op_num_threads=1,
sequential execution).  Each call feeds N rows: taken from the request file's
inputs (an OIP request {"inputs": [{"name", "datatype", "shape", "data"}]},
rows repeated to reach N), or, without a request file, random floats in [0, 1)
(integers 0, booleans false, empty strings for non-float inputs).

Prints one JSON object:
  load_ms             time to create the session from the file
  median_us_per_call  median wall time of one run() call
  p99_us_per_call     99th percentile (nearest rank) of one run() call
  us_per_row          median_us_per_call / N
  resident_bytes      increase in resident set size caused by loading the model
                      (after a trivial model has initialised ORT; --no-prime
                      to include ORT's own start-up)
  runtime             "onnxruntime <version>"
  plus rows, iterations, threads, process_resident_bytes and
  identity_model_median_us_per_call (the same timing loop on a one-node
  Identity model: the per-call floor of the Python binding).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np

ORT_TYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int16)": np.int16,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
    "tensor(string)": object,
}
OIP_TYPES = {
    "FP32": np.float32,
    "FP64": np.float64,
    "FP16": np.float16,
    "INT64": np.int64,
    "INT32": np.int32,
    "INT16": np.int16,
    "INT8": np.int8,
    "UINT8": np.uint8,
    "BOOL": np.bool_,
    "BYTES": object,
}


COPIES = 5


def resident_bytes() -> int:
    """Current resident set size in bytes."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        # ru_maxrss is a peak (KiB on Linux, bytes on macOS), the best we have.
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return rss if sys.platform == "darwin" else rss * 1024


def concrete_shape(shape, rows: int) -> list[int]:
    dims = []
    for i, d in enumerate(shape):
        if isinstance(d, int) and d > 0 and i > 0:
            dims.append(d)
        elif i == 0:
            dims.append(rows)
        else:
            dims.append(1)  # unknown non-batch dimension
    return dims or [rows]


def random_feed(inputs, rows: int, rng: np.random.Generator) -> dict:
    feed = {}
    for inp in inputs:
        dtype = ORT_TYPES.get(inp.type)
        if dtype is None:
            raise SystemExit(f"error: input {inp.name} has unsupported type {inp.type}; use --request")
        shape = concrete_shape(inp.shape, rows)
        if dtype is object:
            feed[inp.name] = np.full(shape, "", dtype=object)
        elif np.issubdtype(dtype, np.floating):
            feed[inp.name] = rng.random(shape).astype(dtype)
        else:
            feed[inp.name] = np.zeros(shape, dtype=dtype)
    return feed


def request_feed(path: str, inputs, rows: int) -> dict:
    with open(path, encoding="utf-8") as f:
        request = json.load(f)
    by_name = {t["name"]: t for t in request["inputs"]}
    feed = {}
    for inp in inputs:
        if inp.name not in by_name:
            raise SystemExit(f"error: request file has no input named {inp.name!r}")
        t = by_name[inp.name]
        dtype = OIP_TYPES[t["datatype"]]
        arr = np.array(t["data"], dtype=dtype).reshape(t["shape"])
        if arr.ndim == 0 or arr.shape[0] == 0:
            raise SystemExit(f"error: request input {inp.name!r} has no rows")
        reps = math.ceil(rows / arr.shape[0])
        tiled = np.concatenate([arr] * reps, axis=0)[:rows]
        feed[inp.name] = np.ascontiguousarray(tiled)
    return feed


def trivial_model() -> bytes:
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])], "prime",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


def percentile(sorted_values: list[int], q: float) -> float:
    """Nearest-rank percentile."""
    k = max(0, math.ceil(q / 100.0 * len(sorted_values)) - 1)
    return float(sorted_values[k])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark an ONNX model in ONNX Runtime.")
    parser.add_argument("model")
    parser.add_argument("--rows", type=int, default=1)
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--request", help="OIP request JSON whose inputs supply the rows")
    parser.add_argument("--warmup", type=int, default=None, help="warm-up calls (default: max(10, K/10))")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-prime", action="store_true",
                        help="do not load a trivial model first (resident_bytes then includes ORT start-up)")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.iterations < 1:
        parser.error("--rows and --iterations must be positive")

    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.log_severity_level = 3

    # The first session in a process also initialises ORT itself (environment,
    # kernel registries, allocators: ~9 MB).  Create and drop a trivial session
    # first so resident_bytes measures what this model costs.
    if not args.no_prime:
        prime = ort.InferenceSession(trivial_model(), so, providers=["CPUExecutionProvider"])
        prime_feed = {"x": np.zeros([1], dtype=np.float32)}
        prime.run(None, prime_feed)

    # Load COPIES sessions and keep them all: load_ms is the median load time and resident_bytes the average
    # resident growth per loaded copy (the same method as `slipway bench`), so one-time costs of the first load
    # are not charged to the model.
    rss_before = resident_bytes()
    sessions, load_times = [], []
    for _ in range(COPIES):
        t0 = time.perf_counter_ns()
        sessions.append(ort.InferenceSession(args.model, so, providers=["CPUExecutionProvider"]))
        load_times.append(time.perf_counter_ns() - t0)
    rss_after = resident_bytes()
    sess = sessions[0]
    load_ns = sorted(load_times)[len(load_times) // 2]

    inputs = sess.get_inputs()
    if args.request:
        feed = request_feed(args.request, inputs, args.rows)
    else:
        feed = random_feed(inputs, args.rows, np.random.default_rng(args.seed))

    warmup = args.warmup if args.warmup is not None else max(10, args.iterations // 10)
    for _ in range(warmup):
        sess.run(None, feed)

    times = []
    clock = time.perf_counter_ns
    run = sess.run
    for _ in range(args.iterations):
        t = clock()
        run(None, feed)
        times.append(clock() - t)
    times.sort()

    # Per-call floor of the Python binding: the same loop on an Identity model.
    floor_us = None
    if not args.no_prime:
        floor = []
        for _ in range(min(args.iterations, 2000) + warmup):
            t = clock()
            prime.run(None, prime_feed)
            floor.append(clock() - t)
        floor = sorted(floor[warmup:])
        floor_us = percentile(floor, 50) / 1000.0
    median_us = percentile(times, 50) / 1000.0
    result = {
        "model": args.model,
        "rows": args.rows,
        "iterations": args.iterations,
        "threads": args.threads,
        "load_ms": load_ns / 1e6,
        "median_us_per_call": median_us,
        "p99_us_per_call": percentile(times, 99) / 1000.0,
        "us_per_row": median_us / args.rows,
        "resident_bytes": max(0, rss_after - rss_before) // COPIES,
        "first_load_ms": load_times[0] / 1e6,
        "process_resident_bytes": rss_after,
        "identity_model_median_us_per_call": floor_us,
        "runtime": f"onnxruntime {ort.__version__}",
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
