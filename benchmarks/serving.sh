#!/usr/bin/env bash
# Benchmark Slipway's prediction endpoint against FastAPI + ONNX Runtime and MLServer and write
# benchmarks/results/serving.md. Loads 127.0.0.1 with wrk for several minutes: run it on an otherwise idle machine.
#
# Usage: benchmarks/serving.sh [serving_bench.py options: --duration S, --warmup S, --no-latency, --only NAME]
#
# Environment:
#   SLIPWAY   path of the slipway binary (default: build it with `swift build -c release --product slipway`
#             and use .build/release/slipway)
#   VENV      virtual environment for the reference servers (default: .work/serving-venv, created and filled
#             from benchmarks/requirements-serving.txt when missing)
#   PYTHON    interpreter that creates VENV (default: python3)
#   OUT       report path (default: benchmarks/results/serving.md); raw figures go to .work/serving/raw.json
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-python3}
VENV=${VENV:-$ROOT/.work/serving-venv}
OUT=${OUT:-$ROOT/benchmarks/results/serving.md}

if ! command -v wrk >/dev/null; then
    echo "installing wrk (Debian package)..." >&2
    if [[ $(id -u) == 0 ]]; then
        apt-get update -qq >&2 && apt-get install -y -qq wrk >&2
    else
        sudo apt-get update -qq >&2 && sudo apt-get install -y -qq wrk >&2
    fi
fi
command -v taskset >/dev/null || { echo "serving.sh: taskset (util-linux) is missing" >&2; exit 1; }

REQUIREMENTS=$ROOT/benchmarks/requirements-serving.txt
if [[ ! -x "$VENV/bin/python" ]] || ! cmp -s "$REQUIREMENTS" "$VENV/requirements-serving.txt"; then
    echo "installing the reference servers into $VENV..." >&2
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip >&2
    "$VENV/bin/pip" install -q -r "$REQUIREMENTS" >&2
    cp "$REQUIREMENTS" "$VENV/requirements-serving.txt"
fi

if [[ -z "${SLIPWAY:-}" ]]; then
    echo "building slipway (release)..." >&2
    swift build -c release --product slipway >&2
    SLIPWAY=$ROOT/.build/release/slipway
fi
if [[ ! -x "$SLIPWAY" ]]; then
    echo "serving.sh: slipway binary not found or not executable: $SLIPWAY" >&2
    exit 1
fi

exec "$VENV/bin/python" "$ROOT/benchmarks/serving_bench.py" --slipway "$SLIPWAY" --out "$OUT" "$@"
