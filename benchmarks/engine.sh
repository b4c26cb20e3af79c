#!/usr/bin/env bash
# Benchmark the Slipway engine against ONNX Runtime on the 7 benchmark models
# of the zoo and write benchmarks/results/engine.md.
#
# Usage: benchmarks/engine.sh
#
# Environment:
#   SLIPWAY         path of the slipway binary (default: build it with
#                   `swift build -c release --product slipway`, use .build/release/slipway)
#   PYTHON          python interpreter (default: python3)
#   ITERATIONS_1    calls timed for the 1-row scenario      (default: 20000)
#   ITERATIONS_1000 calls timed for the 1000-row scenarios  (default: 200)
#   REPEATS         processes per scenario; the lowest median is kept (default: 3)
#   WORK            scratch directory for requests and raw JSON (default: .work/bench)
#   OUT             report path (default: benchmarks/results/engine.md)
#
# Scenarios, per model: Slipway and ORT with 1 row per call (1 thread) and
# 1000 rows per call (1 thread), and Slipway alone with 1000 rows on 2 threads.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-python3}
ITERATIONS_1=${ITERATIONS_1:-20000}
ITERATIONS_1000=${ITERATIONS_1000:-200}
REPEATS=${REPEATS:-3}
WORK=${WORK:-$ROOT/.work/bench}
OUT=${OUT:-$ROOT/benchmarks/results/engine.md}
ZOO=$ROOT/Tests/Fixtures/zoo
MODELS=(
    iris_random_forest
    breast_cancer_gradient_boosting
    breast_cancer_xgboost
    breast_cancer_lightgbm
    breast_cancer_mlp
    digits_logistic_regression
    diabetes_random_forest_regressor
)

if [[ -z "${SLIPWAY:-}" ]]; then
    echo "building slipway (release)..." >&2
    swift build -c release --product slipway >&2
    SLIPWAY=$ROOT/.build/release/slipway
fi
if [[ ! -x "$SLIPWAY" ]]; then
    echo "error: slipway binary not found or not executable: $SLIPWAY" >&2
    exit 1
fi

SWIFT_VERSION=$( (swift --version 2>&1 || true) | head -n 1)

rm -rf "$WORK/raw"
mkdir -p "$WORK/requests" "$WORK/raw"

# run OUTFILE COMMAND...: keep the command's stdout as OUTFILE; on failure
# record {"error": ...} instead and carry on with the other runs.
run() {
    local out=$1
    shift
    local err
    err=$(mktemp)
    if "$@" >"$out" 2>"$err"; then
        rm -f "$err"
    else
        local status=$?
        local msg
        msg=$(tail -n 3 "$err" | tr '\n' ' ')
        "$PYTHON" -c 'import json,sys; print(json.dumps({"error": sys.argv[1]}))' \
            "exit $status: $msg" >"$out"
        echo "  failed ($status): $*" >&2
        rm -f "$err"
    fi
}

# best OUTFILE COMMAND...: run the command REPEATS times (separate processes) and keep the run with the lowest
# median; both engines get the same treatment. On this shared 2-vCPU machine a whole process sometimes runs with
# its threads on one core, so single runs of the 2-thread scenario are bimodal.
best() {
    local out=$1
    shift
    local i
    for ((i = 0; i < REPEATS; i++)); do
        run "$out.$i" "$@"
    done
    "$PYTHON" - "$out" "$REPEATS" <<'PY'
import json, sys
out, n = sys.argv[1], int(sys.argv[2])
runs = [json.load(open(f"{out}.{i}")) for i in range(n)]
ok = [r for r in runs if "error" not in r]
best = min(ok, key=lambda r: r["median_us_per_call"]) if ok else runs[0]
best["repeats"] = n
json.dump(best, open(out, "w"))
PY
    for ((i = 0; i < REPEATS; i++)); do rm -f "$out.$i"; done
}

for m in "${MODELS[@]}"; do
    model=$ZOO/$m/model.onnx
    request=$WORK/requests/$m.json
    "$PYTHON" benchmarks/make_request.py "$ZOO/$m/expected.json" -o "$request"
    echo "$m" >&2
    for rows in 1 1000; do
        if [[ $rows == 1 ]]; then iters=$ITERATIONS_1; else iters=$ITERATIONS_1000; fi
        best "$WORK/raw/$m.slipway.r$rows.t1.json" \
            "$SLIPWAY" bench "$model" --rows "$rows" --iterations "$iters" --threads 1 --request "$request"
        best "$WORK/raw/$m.ort.r$rows.t1.json" \
            "$PYTHON" benchmarks/ort_bench.py "$model" --rows "$rows" --iterations "$iters" --request "$request"
    done
    best "$WORK/raw/$m.slipway.r1000.t2.json" \
        "$SLIPWAY" bench "$model" --rows 1000 --iterations "$ITERATIONS_1000" --threads 2 --request "$request"
done

"$PYTHON" benchmarks/report.py --raw "$WORK/raw" --zoo "$ZOO" --out "$OUT" --swift-version "$SWIFT_VERSION"
