#!/usr/bin/env python3
"""Where a prediction's server time goes, next to `/healthz`: writes benchmarks/results/serving-cost.md.

Slipway runs pinned to CPU 0 and `wrk -t1 -c32` to CPU 1, so every CPU second the server spends is on one core and
can be divided by the requests it answered. For `/healthz`, iris and breast-cancer predictions (the payloads of
serving.sh), in alternating rounds: the request rate, the server's CPU per request by thread group (read from
/proc/PID/task/*/stat before and after each run), and, when `perf` is installed and allowed, the network threads'
time per request by stage (from call-graph samples). A last run paces `/healthz` down to the iris predictions' rate:
a request at a lower rate pays for its own wake-ups, so that is the floor a prediction is compared with.

Usage: python3 benchmarks/serving_cost.py --slipway .build/release/slipway [--duration S] [--rounds N] [--no-perf]
"""
import argparse
import collections
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serving_bench as sb  # noqa: E402

# Thread groups by the name the kernel shows (15 bytes at most).
GROUPS = [
    ("network threads (NIO event loops)", ("NIO-",)),
    ("SQLite pool (NIO thread pool)", ("TP-",)),
    ("SQLite background writer", ("slipway-sql-bg",)),
    ("Swift concurrency pool", ("oot.default-qos", "-qos.overcommit")),
]
# Network-thread stages, by the first frame (from the thread's root) whose name contains one of the keys.
STAGES = [
    ("prediction proper (PredictionAPI.answerNow: parse, key, schema, model, answer JSON, record)",
     ("answerNow", "inferNow")),
    ("fast path around it (request id, headers, metrics, access line)", ("FastRoutesC6answer",)),
    ("answer write (HTTP encoder, writev, loopback TCP)",
     ("ChannelHandlerContextC5write", "ChannelHandlerContextC13writeAndFlush", "ChannelHandlerContextC5flush")),
    ("HTTP parse (llhttp, request head)", ("llhttp", "BetterHTTPParser", "HTTPDecoder")),
    # The parse runs inside the read's call: what is left under the read is the system call.
    # Mangled Swift names compress repeated words: NIO's `readFromSocket` appears as `readFromD0`.
    ("request read (readv, loopback TCP)", ("readFrom", "sys_readv", "sys_read")),
    ("event loop (epoll, scheduling)", ("epoll_wait", "whenReady", "SelectableEventLoop")),
]


def group_of(name):
    for label, prefixes in GROUPS:
        if name.startswith(prefixes):
            return label
    return "other threads"


def thread_times(pid):
    """CPU seconds (user + system) per thread group."""
    ticks = os.sysconf("SC_CLK_TCK")
    totals = collections.Counter()
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended
        totals[group_of(name)] += (int(fields[11]) + int(fields[12])) / ticks
    return totals


def perf_record(pid, seconds, frequency, data):
    """Samples the server's call graphs for `seconds` into `data`; returns the CPU seconds perf itself used (to
    leave out of wrk's), or None when perf cannot sample the server."""
    process = subprocess.Popen(["perf", "record", "-q", "-F", str(frequency), "-g", "-p", str(pid), "-o", data,
                                "--", "sleep", str(seconds)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sb.log(f"  perf record failed (exit {process.returncode}): thread groups only")
        return None
    return usage.ru_utime + usage.ru_stime


def perf_stages(data):
    """Network-thread samples in `data` by stage."""
    script = subprocess.run(["perf", "script", "-i", data, "-F", "comm,ip,sym"], capture_output=True, text=True)
    counts = collections.Counter()
    stack, comm = [], None

    def close():
        if comm is None or not comm.startswith("NIO-"):
            return
        frames = list(reversed(stack))  # from the thread's root to the leaf
        for label, keys in STAGES:
            if any(key in frame for frame in frames for key in keys):
                counts[label] += 1
                return
        counts["other"] += 1

    for line in script.stdout.splitlines():
        if not line.strip():
            close()
            stack, comm = [], None
        elif line[0] in " \t":
            parts = line.split(None, 1)
            stack.append(parts[1] if len(parts) > 1 else "")
        else:
            close()
            stack, comm = [], line.split()[0]
    close()
    return counts


def measure(server, target, work, arguments, *, delay_ms=None, connections=32):
    sb.wrk(target, work, connections=connections, threads=1, duration=arguments.warmup, cpus="1",
           delay_ms=delay_ms)
    before = thread_times(server.process.pid)
    client_before = os.times()
    started = time.monotonic()
    data = os.path.join(work, "perf.data")
    sampled = {}
    if arguments.perf:
        def sample():
            time.sleep(1)
            sampled["perf_cpu"] = perf_record(server.process.pid, arguments.duration - 2, arguments.frequency, data)
        sampler = threading.Thread(target=sample)
        sampler.start()
    result = sb.wrk(target, work, connections=connections, threads=1, duration=arguments.duration, cpus="1",
                    delay_ms=delay_ms)
    if arguments.perf:
        sampler.join()  # perf stops a second before wrk does
    elapsed = time.monotonic() - started
    client_after = os.times()
    after = thread_times(server.process.pid)
    requests = result["requests"]
    # wrk has ended, so the children's times hold its CPU (and perf record's, taken out again).
    client = (client_after.children_user + client_after.children_system
              - client_before.children_user - client_before.children_system - (sampled.get("perf_cpu") or 0))
    entry = {
        "rate": result["rate"],
        "errors": result["error_count"],
        "groups": {g: (after[g] - before[g]) / requests * 1e6 for g in set(after) | set(before)},
        "client_busy": client / elapsed,
    }
    entry["server_busy"] = sum(entry["groups"].values()) * requests / 1e6 / elapsed
    if sampled.get("perf_cpu") is not None:
        counts = perf_stages(data)
        # Samples are taken `frequency` times a second of CPU time, over `duration - 2` seconds of the run.
        sampled_requests = result["rate"] * (arguments.duration - 2)
        entry["stages"] = {s: n / arguments.frequency / sampled_requests * 1e6 for s, n in counts.items()}
    sb.log(f"  {target.label}: {result['rate']:,.0f} req/s, server CPU "
           f"{sum(entry['groups'].values()):.1f} µs/request, errors {result['error_count']}")
    return entry


def summarize(runs):
    """Medians over rounds of every figure."""
    out = {"rate": statistics.median([r["rate"] for r in runs]), "errors": sum(r["errors"] for r in runs),
           "server_busy": statistics.median([r["server_busy"] for r in runs]),
           "client_busy": statistics.median([r["client_busy"] for r in runs])}
    groups = {g for r in runs for g in r["groups"]}
    out["groups"] = {g: statistics.median([r["groups"].get(g, 0.0) for r in runs]) for g in groups}
    if all("stages" in r for r in runs):
        stages = {s for r in runs for s in r["stages"]}
        out["stages"] = {s: statistics.median([r["stages"].get(s, 0.0) for r in runs]) for s in stages}
    return out


def render(results, environment, arguments):
    labels = list(results)
    lines = [
        "# Where a prediction's server time goes (Slipway on one core)",
        "",
        f"Measured by `benchmarks/serving_cost.py` on {environment['date']}: {environment['cpus']} cores "
        f"({environment['cpu']}), {environment['kernel']}. Slipway {environment['commit']} (release build, "
        f"{environment['swift']}), embedded SQLite, `SLIPWAY_LOG_LEVEL=warning`. Load: {environment['wrk']}.",
        "",
        "Slipway is pinned to CPU 0 and `wrk -t1 -c32` to CPU 1, so the server's CPU time can be divided by the "
        "requests it answered. Each figure is the median of "
        f"{arguments.rounds} alternating rounds of {arguments.duration} s (after {arguments.warmup} s of warm-up). "
        "Same payloads as `serving.sh`: one row, `{\"ndarray\": [[…]]}`, with `X-Serving-Key`. The last column "
        "paces `/healthz` (random pauses between a connection's requests) down to the iris predictions' rate.",
        "",
        "## Server CPU per request, by thread group",
        "",
        "| | " + " | ".join(labels) + " |",
        "|---|" + "---|" * len(labels),
        "| requests a second | " + " | ".join(f"{results[l]['rate']:,.0f}" for l in labels) + " |",
    ]
    groups = [g for g, _ in GROUPS] + ["other threads"]
    for group in groups:
        if any(results[l]["groups"].get(group, 0) >= 0.05 for l in labels):
            lines.append(f"| {group} | " + " | ".join(f"{results[l]['groups'].get(group, 0):.1f} µs"
                                                     for l in labels) + " |")
    totals = {l: sum(results[l]["groups"].values()) for l in labels}
    lines.append("| **total** | " + " | ".join(f"**{totals[l]:.1f} µs**" for l in labels) + " |")
    lines.append("| errors | " + " | ".join(str(results[l]["errors"]) for l in labels) + " |")
    lines.append("| server's core busy | " + " | ".join(f"{results[l]['server_busy']:.0%}" for l in labels) + " |")
    lines.append("| wrk's core busy | " + " | ".join(f"{results[l]['client_busy']:.0%}" for l in labels) + " |")
    if all("stages" in results[l] for l in labels):
        lines += [
            "",
            "## Network threads per request, by stage (perf call-graph samples)",
            "",
            "| stage | " + " | ".join(labels) + " |",
            "|---|" + "---|" * len(labels),
        ]
        for stage, _ in STAGES + [("other", ())]:
            lines.append(f"| {stage} | " + " | ".join(f"{results[l]['stages'].get(stage, 0):.1f} µs"
                                                     for l in labels) + " |")
    lines += ["", "## What this says about predict ÷ `/healthz`", ""]
    healthz = totals["healthz"]
    lines.append(
        f"- A `/healthz` answer costs the server {healthz:.1f} µs at its peak"
        + (f" and {totals['healthz paced']:.1f} µs paced to {results['healthz paced']['rate']:,.0f} requests a "
           "second: at a prediction's rate a bare answer pays for its own wake-ups and `epoll_wait`."
           if "healthz paced" in totals else "."))
    lines.append(
        f"- Throughput of 0.8× `/healthz` leaves a prediction {healthz / 0.8:.1f} µs of server time, "
        f"{healthz / 0.8 - healthz:.1f} µs more than a bare answer, for its body, key, rate limit, schema, model, "
        "answer and monitoring record.")
    for name in ("iris", "breast-cancer"):
        if name not in totals:
            continue
        extra = totals[name] - totals.get("healthz paced", healthz)
        lines.append(
            f"- {name}: {totals[name]:.1f} µs a prediction, {extra:.1f} µs more than `/healthz` at the same rate; "
            f"{results[name]['rate'] / results['healthz']['rate']:.2f}× `/healthz`'s requests a second here, "
            f"{healthz / totals[name]:.2f}× by server time alone.")
    lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--slipway", required=True)
    parser.add_argument("--out", default=os.path.join(sb.ROOT, "benchmarks", "results", "serving-cost.md"))
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of wrk before each measured run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--frequency", type=int, default=1999, help="perf samples a second")
    parser.add_argument("--no-perf", dest="perf", action="store_false", help="thread groups only")
    arguments = parser.parse_args()
    for tool in ("wrk", "taskset"):
        if not shutil.which(tool):
            sys.exit(f"serving_cost.py: {tool} is missing (benchmarks/serving.sh installs wrk)")
    if sb.cores() < 2:
        sys.exit("serving_cost.py: needs 2 CPUs (server and load generator are pinned apart)")
    if arguments.perf and not shutil.which("perf"):
        sb.log("perf is not installed: thread groups only")
        arguments.perf = False
    if arguments.duration < 4:
        sys.exit("serving_cost.py: --duration must be at least 4 s")

    work = tempfile.mkdtemp(prefix="slipway-cost-")
    slipway = sb.Slipway(arguments.slipway, os.path.join(work, "data"), sb.token(), work)
    server = slipway.start(cpus="0")
    try:
        sb.wait_until(server, lambda: sb.request(slipway.port, "GET", "/healthz")[0] == 200, 30)
        for name, (zoo, classes) in sb.MODELS.items():
            slipway.keys[name] = slipway.deploy(name, zoo, classes)
        sb.wait_until(server, slipway.predicts(), 30)
        targets = {"healthz": sb.Target("slipway healthz", slipway.port, "/healthz")}
        targets.update({name: slipway.predict_target(name) for name in sb.MODELS})
        runs = collections.defaultdict(list)
        for round_number in range(arguments.rounds):
            sb.log(f"== round {round_number + 1}")
            for label, target in targets.items():
                runs[label].append(measure(server, target, work, arguments))
            # /healthz at the iris predictions' rate: 32 connections, each pausing so that together they ask
            # about that many requests a second (wrk rounds pauses to whole milliseconds, drawn from [0, 2D]).
            rate = runs["iris"][-1]["rate"]
            delay = max(1.0, 32 * 1000 / rate - 0.2)
            runs["healthz paced"].append(measure(server, targets["healthz"], work, arguments, delay_ms=delay))
        results = {label: summarize(entries) for label, entries in runs.items()}
    finally:
        server.stop()
    environment = sb.environment(arguments)
    text = render(results, environment, arguments)
    with open(arguments.out, "w") as f:
        f.write(text)
    print(text)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
