#!/usr/bin/env bash
# Creates (or updates) the virtual environment for the TeachableHub SDK tests: .work/teachablehub-venv, with the
# pinned packages of tests/teachablehub/requirements.txt and the sitecustomize.py shim in its site-packages.
# Idempotent: a venv whose installed requirements and shim match is left as it is. Prints the venv's python.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=${TEACHABLEHUB_VENV:-.work/teachablehub-venv}
requirements=tests/teachablehub/requirements.txt
shim=tests/teachablehub/sitecustomize.py
stamp="$venv/.slipway-requirements"

if [ ! -x "$venv/bin/python" ]; then
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv"
fi
if ! cmp -s "$requirements" "$stamp"; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" >&2
    cp "$requirements" "$stamp"
fi
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
cmp -s "$shim" "$site/sitecustomize.py" || cp "$shim" "$site/sitecustomize.py"
"$venv/bin/python" -c 'import teachablehub.clients, teachablehub.deployments.sklearn' >&2
echo "$venv/bin/python"
