#!/usr/bin/env bash
# Monitoring overhead benchmark: predict throughput with statistics on and a 10% prediction log against both off,
# in one run (benchmarks/monitoring_bench.py). Writes benchmarks/results/monitoring.md.
#   bash benchmarks/monitoring.sh            # builds the release binary first
#   SLIPWAY=/path/to/slipway bash benchmarks/monitoring.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "monitoring.sh: wrk is missing (apt-get install wrk)" >&2; exit 1; }
if [[ -z "${SLIPWAY:-}" ]]; then
    echo "building slipway (release)..." >&2
    swift build -c release --product slipway >&2
    SLIPWAY=$(pwd)/.build/release/slipway
fi
exec python3 benchmarks/monitoring_bench.py --slipway "$SLIPWAY" "$@"
