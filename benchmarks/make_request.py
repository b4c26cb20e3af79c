#!/usr/bin/env python3
"""Turn a zoo expected.json into an Open Inference Protocol request body.

Usage: benchmarks/make_request.py EXPECTED.json [-o REQUEST.json] [--rows N]

Writes {"inputs": [{"name", "datatype", "shape", "data"}, ...]} with the
expected.json inputs (optionally only the first N rows), to stdout or -o.
NaN values stay bare NaN literals, as in expected.json.
"""

from __future__ import annotations

import argparse
import json
import math
import sys


def request_from_expected(expected: dict, rows: int | None = None) -> dict:
    inputs = []
    for t in expected["inputs"]:
        shape = list(t["shape"])
        data = list(t["data"])
        if rows is not None and shape and rows < shape[0]:
            per_row = math.prod(shape[1:])
            data = data[: rows * per_row]
            shape[0] = rows
        inputs.append({"name": t["name"], "datatype": t["datatype"], "shape": shape, "data": data})
    return {"inputs": inputs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="expected.json -> OIP request JSON")
    parser.add_argument("expected")
    parser.add_argument("-o", "--output")
    parser.add_argument("--rows", type=int, help="keep only the first N rows")
    args = parser.parse_args(argv)
    with open(args.expected, encoding="utf-8") as f:
        expected = json.load(f)
    text = json.dumps(request_from_expected(expected, args.rows), separators=(",", ":")) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
