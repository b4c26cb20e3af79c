#!/usr/bin/env bash
# Runs every test: builds with warnings as errors, exports ONNX's backend node test cases (needs the `onnx`
# Python package, see scripts/requirements-test.txt), runs the Swift test suites, then the Python tests that drive
# a live server with the real `tritonclient` package and the Python SDK (tests/python/requirements.txt, ./python),
# the real `teachablehub` SDK (its own virtual environment, .work/teachablehub-venv, created by
# tests/teachablehub/setup-venv.sh if missing), and the web console's browser tests (tests/browser: Selenium with
# Debian's `chromium` and `chromium-driver`; skipped with a message without them).
#
# The storage contract tests also run against PostgreSQL. When SLIPWAY_TEST_POSTGRES_URL is not set and the
# PostgreSQL server binaries are installed (Debian: `apt-get install postgresql`), this script starts a private
# server in a temporary folder on port ${SLIPWAY_TEST_POSTGRES_PORT:-54329} and stops it when the tests end.
# Without either, the PostgreSQL cases are reported as skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -c 'import onnx' 2>/dev/null || {
    echo "test: the onnx Python package is missing: pip install -r scripts/requirements-test.txt" >&2
    exit 1
}
python3 -c 'import tritonclient.http, onnxruntime, pytest' 2>/dev/null || {
    echo "test: the live protocol tests need: pip install -r tests/python/requirements.txt" >&2
    exit 1
}
python3 -c 'import requests, sklearn, skl2onnx, onnxmltools, xgboost, lightgbm, pandas' 2>/dev/null || {
    echo "test: the SDK tests (python/ from the checkout) need its converters: pip install -r tests/python/requirements.txt" >&2
    exit 1
}
python3 -c 'import selenium' 2>/dev/null || {
    echo "test: the console's browser tests need: pip install -r tests/browser/requirements.txt" >&2
    exit 1
}
python3 scripts/export-onnx-node-tests.py Tests/Fixtures/onnx-node

if [ -z "${SLIPWAY_TEST_POSTGRES_URL:-}" ] && ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
    pgdir=$(mktemp -d)
    pgport=${SLIPWAY_TEST_POSTGRES_PORT:-54329}
    trap 'bash scripts/postgres.sh stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$pgdir"' EXIT
    bash scripts/postgres.sh start "$pgdir" "$pgport" >/dev/null
    export SLIPWAY_TEST_POSTGRES_URL="postgres://slipway@127.0.0.1:$pgport/slipway_test"
    echo "test: private PostgreSQL on port $pgport"
fi

echo "test: building (at ${SECONDS} s)"
swift build --build-tests -Xswiftc -warnings-as-errors
echo "test: Swift tests (at ${SECONDS} s)"
# Swift Testing starts every test case at once by default; hundreds of test servers (each with its SQLite thread
# pool, model host and listener) then compete for the 2 cores until connection pools time out and tests hang past
# their limits. Six at a time (SLIPWAY_TEST_PARALLEL) finishes sooner, about 3.5 minutes here.
swift test --skip-build --experimental-maximum-parallelization-width "${SLIPWAY_TEST_PARALLEL:-6}" "$@"
# The real tritonclient package and the Python SDK against a live `slipway serve` (the debug binary built above).
echo "test: live-server Python tests (at ${SECONDS} s)"
python3 -m pytest -q tests/python
# The real TeachableHub SDK, unchanged, against a live `slipway serve` (its own venv with the pinned old packages).
teachablehub_python=$(bash tests/teachablehub/setup-venv.sh)
"$teachablehub_python" -m pytest -q tests/teachablehub
# The web console in headless Chromium against a live `slipway serve`; screenshots go to a temporary folder.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    echo "test: browser tests skipped: apt-get install chromium chromium-driver to run them"
fi
python3 -m pytest -q -rs tests/browser
