#!/usr/bin/env bash
# Regenerates the README's operator section from the engine's registry (`slipway operators`).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product slipway >/dev/null
table=$(.build/debug/slipway operators)
python3 - "$table" <<'PY'
import sys, re
table = sys.argv[1]
text = open("README.md").read()
begin, end = "<!-- BEGIN OPERATORS -->", "<!-- END OPERATORS -->"
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open("README.md", "w").write(head + begin + "\n" + table.strip() + "\n" + end + tail)
PY
echo "README.md operator section updated"
