#!/usr/bin/env python3
"""Export the ONNX backend *node* test cases to a directory tree.

Usage: scripts/export-onnx-node-tests.py OUTDIR

For every case returned by onnx.backend.test.case.node.collect_testcases()
this writes

    OUTDIR/<case>/model.onnx
    OUTDIR/<case>/test_data_set_<i>/input_<j>.pb
    OUTDIR/<case>/test_data_set_<i>/output_<j>.pb

(the layout of onnx's `backend-test-tools generate-data`).  Tensor values are
serialized TensorProto messages named after the graph input/output; sequence,
optional and map values become SequenceProto / OptionalProto / MapProto.  If a
value cannot be serialized, the case gets an UNSUPPORTED_DATA file with the
reason instead of its data sets.

OUTDIR/manifest.json is a JSON list of
    {"name", "ops": ["domain:OpType", ...], "rtol", "atol"}
where ops covers the main graph and all nested subgraphs (domain "" is shown
as "ai.onnx").  OUTDIR/manifest.stamp records the onnx version; when it
matches the installed onnx and manifest.json exists the script does nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import warnings

import numpy as np

STAMP_FILE = "manifest.stamp"
MANIFEST_FILE = "manifest.json"
DEFAULT_RTOL = 1e-3
DEFAULT_ATOL = 1e-7


def stamp_text(onnx_module) -> str:
    return f"onnx {onnx_module.__version__}\n"


def is_up_to_date(outdir: str, stamp: str) -> bool:
    manifest = os.path.join(outdir, MANIFEST_FILE)
    stamp_path = os.path.join(outdir, STAMP_FILE)
    if not (os.path.isfile(manifest) and os.path.isfile(stamp_path)):
        return False
    with open(stamp_path, encoding="utf-8") as f:
        return f.read() == stamp


def collect_ops(graph, acc: set[str]) -> None:
    """Add "domain:OpType" for every node of graph and its subgraphs."""
    from onnx import AttributeProto

    for node in graph.node:
        domain = node.domain or "ai.onnx"
        acc.add(f"{domain}:{node.op_type}")
        for attr in node.attribute:
            if attr.type == AttributeProto.GRAPH:
                collect_ops(attr.g, acc)
            elif attr.type == AttributeProto.GRAPHS:
                for g in attr.graphs:
                    collect_ops(g, acc)


class Unsupported(Exception):
    pass


def serialize_value(value, value_info) -> bytes:
    """Serialize one input/output value according to its declared type."""
    from onnx import TensorProto, numpy_helper

    name = value_info.name
    vtype = value_info.type
    kind = vtype.WhichOneof("value")
    if kind == "tensor_type" or kind is None:
        if isinstance(value, TensorProto):
            t = TensorProto()
            t.CopyFrom(value)
            t.name = name
            return t.SerializeToString()
        if not isinstance(value, (np.ndarray, np.generic)):
            raise Unsupported(
                f"{name}: expected a tensor, got {type(value).__name__}"
            )
        return numpy_helper.from_array(np.asarray(value), name).SerializeToString()
    if kind == "sequence_type":
        if not isinstance(value, list):
            raise Unsupported(f"{name}: expected a list for sequence, got {type(value).__name__}")
        return numpy_helper.from_list(value, name).SerializeToString()
    if kind == "optional_type":
        return numpy_helper.from_optional(value, name).SerializeToString()
    if kind == "map_type":
        if not isinstance(value, dict):
            raise Unsupported(f"{name}: expected a dict for map, got {type(value).__name__}")
        return numpy_helper.from_dict(value, name).SerializeToString()
    raise Unsupported(f"{name}: value type {kind!r} not supported")


def export_case(case, case_dir: str) -> str | None:
    """Write one case. Returns the UNSUPPORTED reason or None."""
    os.makedirs(case_dir)
    model = case.model
    with open(os.path.join(case_dir, "model.onnx"), "wb") as f:
        f.write(model.SerializeToString())

    graph_inputs = list(model.graph.input)
    graph_outputs = list(model.graph.output)
    # Serialize everything in memory first so that a failure leaves no
    # half-written data set behind.
    data_sets: list[list[tuple[str, bytes]]] = []
    try:
        for inputs, outputs in case.data_sets or []:
            files: list[tuple[str, bytes]] = []
            for prefix, values, infos in (
                ("input", inputs, graph_inputs),
                ("output", outputs, graph_outputs),
            ):
                if len(values) > len(infos):
                    raise Unsupported(
                        f"{len(values)} {prefix} values but graph declares {len(infos)}"
                    )
                for j, value in enumerate(values):
                    files.append((f"{prefix}_{j}.pb", serialize_value(value, infos[j])))
            data_sets.append(files)
    except Unsupported as e:
        return str(e)
    except Exception as e:  # serialization helper rejected the value
        return f"{type(e).__name__}: {e}"

    for i, files in enumerate(data_sets):
        ds_dir = os.path.join(case_dir, f"test_data_set_{i}")
        os.makedirs(ds_dir)
        for fname, payload in files:
            with open(os.path.join(ds_dir, fname), "wb") as f:
                f.write(payload)
    return None


def looks_like_ours(outdir: str) -> bool:
    entries = os.listdir(outdir)
    return not entries or MANIFEST_FILE in entries or STAMP_FILE in entries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("outdir")
    parser.add_argument("--force", action="store_true", help="regenerate even if up to date")
    args = parser.parse_args(argv)

    # The reference implementations divide by zero, overflow, etc. on purpose.
    warnings.simplefilter("ignore")
    np.seterr(all="ignore")

    import onnx
    from onnx.backend.test.case import node as node_cases

    outdir = os.path.abspath(args.outdir)
    stamp = stamp_text(onnx)
    if not args.force and os.path.isdir(outdir) and is_up_to_date(outdir, stamp):
        return 0
    if os.path.isdir(outdir) and not looks_like_ours(outdir):
        print(f"error: {outdir} exists and is not an export directory", file=sys.stderr)
        return 1

    np.random.seed(0)
    cases = sorted(node_cases.collect_testcases(), key=lambda c: c.name)

    parent = os.path.dirname(outdir)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".onnx-node-export-", dir=parent)
    try:
        manifest = []
        unsupported = 0
        for case in cases:
            if case.kind != "node" or case.model is None:
                continue
            reason = export_case(case, os.path.join(tmp, case.name))
            if reason is not None:
                unsupported += 1
                with open(os.path.join(tmp, case.name, "UNSUPPORTED_DATA"), "w", encoding="utf-8") as f:
                    f.write(reason + "\n")
            ops: set[str] = set()
            collect_ops(case.model.graph, ops)
            manifest.append(
                {
                    "name": case.name,
                    "ops": sorted(ops),
                    "rtol": float(case.rtol if case.rtol is not None else DEFAULT_RTOL),
                    "atol": float(case.atol if case.atol is not None else DEFAULT_ATOL),
                }
            )
        with open(os.path.join(tmp, MANIFEST_FILE), "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=1)
            f.write("\n")
        with open(os.path.join(tmp, STAMP_FILE), "w", encoding="utf-8") as f:
            f.write(stamp)
        os.chmod(tmp, 0o755)
        if os.path.isdir(outdir):
            shutil.rmtree(outdir)
        os.rename(tmp, outdir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if unsupported:
        print(f"{len(manifest)} cases exported, {unsupported} without data (see UNSUPPORTED_DATA)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
