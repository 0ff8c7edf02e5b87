"""snncc's native graph format: ``<stem>.json`` (structure) + ``<stem>.npz`` (arrays).

Unlike NIR it keeps everything the IR holds (reset mode, comparator, bias, MPBN,
quantized integer parameters, core assignments), byte-deterministically.
"""
from __future__ import annotations

import dataclasses
import json
import os

import numpy as np

from ..artifacts import to_jsonable, write_json, write_npz
from ..diagnostics import SnnccError
from .graph import Edge, Graph
from .nodes import NODE_TYPES, BatchNormParams, CoreAssignment, CoreSlice, IntParam, Node, Quantization

FORMAT = "snncc-graph/1"


def _encode(value, key: str, arrays: dict):
    if isinstance(value, np.ndarray):
        arrays[key] = value
        return {"$array": key}
    if isinstance(value, BatchNormParams):
        return {"$bn": {f: _encode(getattr(value, f), f"{key}.{f}", arrays) for f in ("mean", "var", "gamma", "beta")}, "eps": value.eps}
    if isinstance(value, Quantization):
        return {"$quant": {n: {"values": _encode(p.values, f"{key}.{n}", arrays), "scale": p.scale, "bits": p.bits, "signed": p.signed}
                           for n, p in value.params.items()}, "extra": to_jsonable(dict(value.extra))}
    if isinstance(value, CoreAssignment):
        return {"$cores": [dataclasses.asdict(s) for s in value.slices]}
    return to_jsonable(value)


def _decode(value, arrays):
    if isinstance(value, dict) and "$array" in value:
        return arrays[value["$array"]]
    if isinstance(value, dict) and "$bn" in value:
        return BatchNormParams(**{f: _decode(v, arrays) for f, v in value["$bn"].items()}, eps=value["eps"])
    if isinstance(value, dict) and "$quant" in value:
        params = {n: IntParam(_decode(p["values"], arrays), p["scale"], p["bits"], p["signed"]) for n, p in value["$quant"].items()}
        return Quantization(params, value.get("extra", {}))
    if isinstance(value, dict) and "$cores" in value:
        return CoreAssignment(tuple(CoreSlice(**s) for s in value["$cores"]))
    return value


def save_graph(graph: Graph, directory: str, stem: str = "graph") -> None:
    os.makedirs(directory, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    nodes = {}
    for name, node in graph.nodes.items():
        fields = {f.name: _encode(getattr(node, f.name), f"{name}/{f.name}", arrays)
                  for f in dataclasses.fields(node) if getattr(node, f.name) is not None}
        nodes[name] = {"kind": node.kind, "fields": fields}
    doc = {"format": FORMAT, "dt": graph.dt, "metadata": graph.metadata, "nodes": nodes,
           "order": list(graph.nodes), "edges": [dataclasses.asdict(e) for e in graph.edges]}
    write_json(os.path.join(directory, f"{stem}.json"), doc)
    write_npz(os.path.join(directory, f"{stem}.npz"), arrays)


def load_graph(directory: str, stem: str = "graph") -> Graph:
    path = os.path.join(directory, f"{stem}.json")
    try:
        with open(path) as handle:
            doc = json.load(handle)
        arrays = dict(np.load(os.path.join(directory, f"{stem}.npz"), allow_pickle=False))
    except (OSError, ValueError) as exc:
        raise SnnccError.single("SNN106", f"cannot read compiled graph: {exc}", file=path,
                                hint="point at a directory written by `snncc compile`") from None
    if doc.get("format") != FORMAT:
        raise SnnccError.single("SNN106", f"unknown graph format {doc.get('format')!r}", file=path)
    nodes: dict[str, Node] = {}
    for name in doc["order"]:
        entry = doc["nodes"][name]
        cls = NODE_TYPES[entry["kind"]]
        fields = {k: _decode(v, arrays) for k, v in entry["fields"].items()}
        for key in ("shape", "input_shape", "stride", "padding", "dilation", "kernel_size"):
            if key in fields and isinstance(fields[key], list):
                fields[key] = tuple(fields[key])
        nodes[name] = cls(**fields)
    return Graph(nodes, tuple(Edge(**e) for e in doc["edges"]), dt=doc["dt"], metadata=doc["metadata"])
