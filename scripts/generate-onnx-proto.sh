#!/usr/bin/env bash
# Regenerates Sources/SlipwayInference/ONNX/Generated/onnx-ml.pb.swift from the onnx-ml.proto that ships
# inside the `onnx` PyPI package. CI never runs this: the generated file is committed.
#
# Needs: protoc (Debian's protobuf-compiler), python3 with `onnx` (scripts/requirements-zoo.txt), and
# protoc-gen-swift built from swift-protobuf 1.39.0 (the version Package.swift resolves). The script builds
# the plugin into .build-protoc-gen-swift/ unless PROTOC_GEN_SWIFT points at one.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
proto_dir=$(python3 -c 'import onnx, os; print(os.path.dirname(onnx.__file__))')
onnx_version=$(python3 -c 'import onnx; print(onnx.__version__)')

plugin=${PROTOC_GEN_SWIFT:-}
if [ -z "$plugin" ]; then
    src=.build-protoc-gen-swift/swift-protobuf
    if [ ! -d "$src" ]; then
        mkdir -p .build-protoc-gen-swift
        git clone --quiet --branch 1.39.0 https://github.com/apple/swift-protobuf "$src"
    fi
    swift build --package-path "$src" -c release --product protoc-gen-swift
    plugin="$src/.build/release/protoc-gen-swift"
fi

out=Sources/SlipwayInference/ONNX/Generated
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$proto_dir/onnx-ml.proto" "$work/onnx-ml.proto"
protoc --plugin=protoc-gen-swift="$plugin" \
    --swift_opt=Visibility=Package \
    --swift_out="$work" -I "$work" "$work/onnx-ml.proto"
{
    echo "// Generated from onnx-ml.proto of onnx $onnx_version by scripts/generate-onnx-proto.sh. Do not edit."
    cat "$work/onnx-ml.pb.swift"
} > "$out/onnx-ml.pb.swift"
echo "wrote $out/onnx-ml.pb.swift (onnx $onnx_version)"
