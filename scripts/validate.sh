#!/usr/bin/env bash
# Format check: formats every tracked Swift file (except .swiftformatignore) with the toolchain's
# `swift format`, lints strictly, and fails if formatting changed anything.
# `scripts/validate.sh --fix` formats in place without failing on the diff.
set -euo pipefail
cd "$(dirname "$0")/.."

files() {
    if [ -f .swiftformatignore ]; then
        tr '\n' '\0' < .swiftformatignore | xargs -0 -I% printf '":(exclude)%" ' | xargs git ls-files -z '*.swift'
    else
        git ls-files -z '*.swift'
    fi
}

files | xargs -0 swift format format --parallel --in-place
if [ "${1:-}" = "--fix" ]; then exit 0; fi
files | xargs -0 swift format lint --strict --parallel
git diff --exit-code '*.swift' || { echo "validate: files above are not formatted; run scripts/validate.sh --fix" >&2; exit 1; }
echo "validate: formatting OK"
