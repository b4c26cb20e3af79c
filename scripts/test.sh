#!/usr/bin/env bash
# Runs every test: builds with warnings as errors, exports ONNX's backend node test cases (needs the `onnx`
# Python package, see scripts/requirements-test.txt) and runs the Swift test suites.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -c 'import onnx' 2>/dev/null || {
    echo "test: the onnx Python package is missing: pip install -r scripts/requirements-test.txt" >&2
    exit 1
}
python3 scripts/export-onnx-node-tests.py Tests/Fixtures/onnx-node
swift build --build-tests -Xswiftc -warnings-as-errors
swift test --skip-build "$@"
