#!/usr/bin/env bash
# Builds the loader fuzzer with libFuzzer and runs it for SECONDS (default 60) on a corpus seeded with the
# model zoo. Any crash fails the script; libFuzzer writes the crashing input as crash-* in the work folder.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
swift build -c release --scratch-path .build-fuzz --product SlipwayLoaderFuzzer \
    -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING
work=.work/fuzz
mkdir -p "$work/corpus"
for m in Tests/Fixtures/zoo/*/model.onnx; do
    name=$(basename "$(dirname "$m")")
    # Keep the seeds small so that mutations stay fast: skip the large forests.
    if [ "$(stat -c %s "$m")" -lt 60000 ]; then cp "$m" "$work/corpus/$name.onnx"; fi
done
.build-fuzz/release/SlipwayLoaderFuzzer "$work/corpus" \
    -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=10 -max_len=65536 \
    -artifact_prefix="$work/" -print_final_stats=1 2>&1 | tail -n 25
