#!/usr/bin/env bash
# Benchmark Slipway's management plane against MLflow's model registry and write benchmarks/results/platform.md.
#
# Usage: benchmarks/platform.sh
#
# Environment:
#   SLIPWAY   path of the slipway binary (default: build it with `swift build -c release --product slipway`)
#   PYTHON    python interpreter with mlflow (default: python3; `pip install -r benchmarks/requirements-platform.txt`)
#   OUT       report path (default: benchmarks/results/platform.md)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
OUT=${OUT:-benchmarks/results/platform.md}
if [[ -z "${SLIPWAY:-}" ]]; then
    swift build -c release --product slipway >&2
    SLIPWAY=.build/release/slipway
fi
"$PYTHON" -c 'import mlflow' 2>/dev/null || { echo "platform.sh: pip install -r benchmarks/requirements-platform.txt" >&2; exit 1; }
exec "$PYTHON" benchmarks/platform_bench.py --slipway "$SLIPWAY" --out "$OUT" "$@"
