"""Read NIR 1.0.x (and the paper's 0.2.0) HDF5 files into the snncc IR.

The file is read as a raw dict (``nir.serialization.hdf2dict``) rather than through
``nir.read`` so that errors name the file and node, nested subgraphs are flattened
(``outer.inner`` names), and old files' mismatched inner edge names are repaired.
dt, reset mode, comparator, bias and refractory period come from snncc's metadata when the file was written
by snncc, else from options, else they are inferred or assumed -- and each
assumption is reported as a note.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from snncc import ir
from snncc.diagnostics import Diagnostic, DiagnosticList, Severity, SnnccError

META_DT, META_RESET, META_COMPARATOR, META_BIAS = "snncc.dt", "snncc.reset", "snncc.comparator", "snncc.bias"
META_REFRACTORY = "snncc.refractory"


@dataclass
class ImportOptions:
    dt: float | None = None
    reset: ir.ResetMode | None = None
    comparator: ir.Comparator | None = None


@dataclass
class ImportResult:
    graph: ir.Graph
    notes: list[Diagnostic] = field(default_factory=list)


def _note(message: str, hint: str | None = None, node: str | None = None) -> Diagnostic:
    return Diagnostic("SNN109", message, node=node, hint=hint, severity=Severity.NOTE)


def read_raw(path: str) -> dict:
    import h5py
    from nir.serialization import hdf2dict

    if not os.path.exists(path):
        raise SnnccError.single("SNN101", "file not found", file=path, hint="check the path")
    try:
        with h5py.File(path, "r") as handle:
            if "node" not in handle:
                raise SnnccError.single(
                    "SNN103", "HDF5 file is not a NIR graph (it has no 'node' group)", file=path,
                    hint="export the model with nir.write(...) or pass a .pt/.onnx model",
                )
            return hdf2dict(handle["node"])
    except OSError as exc:
        reason = "truncated or corrupt" if "truncated" in str(exc) or "signature" not in str(exc) else "not an HDF5 file"
        raise SnnccError.single(
            "SNN102", f"cannot read NIR file: {reason} ({exc.__class__.__name__})", file=path,
            hint="NIR files are HDF5; re-export the model or check that the download/copy completed",
        ) from None
    except (KeyError, ValueError, TypeError) as exc:
        raise SnnccError.single("SNN102", f"cannot decode NIR file: {exc}", file=path) from None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _arr(d: dict, key: str, node: str, default: Any = None) -> np.ndarray:
    if key not in d:
        if default is None:
            raise SnnccError.single("SNN104", f"missing field '{key}'", node=node,
                                    hint="the file was written by an incompatible exporter")
        return np.asarray(default)
    return np.asarray(d[key])


def _padding(value: Any, weight: np.ndarray, dilation: tuple[int, ...]) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)) or (isinstance(value, np.ndarray) and value.dtype.kind in "SUO"):
        mode = _text(value if not isinstance(value, np.ndarray) else value.item())
        if mode == "valid":
            return (0,) * (weight.ndim - 2)
        return tuple(d * (k - 1) // 2 for d, k in zip(dilation, weight.shape[2:]))  # 'same' (odd kernels)
    return tuple(np.atleast_1d(value).astype(int).tolist())


def _node(name: str, d: dict, opts: ImportOptions) -> ir.Node:
    kind = _text(d.get("type", ""))
    meta = {k: v for k, v in d.get("metadata", {}).items()}
    spiking: dict[str, Any] = {}
    if kind in ("LIF", "CubaLIF", "IF"):
        spiking = {
            "reset": ir.ResetMode(_text(meta[META_RESET])) if META_RESET in meta else (opts.reset or ir.ResetMode.VALUE),
            "comparator": ir.Comparator(_text(meta[META_COMPARATOR])) if META_COMPARATOR in meta else (opts.comparator or ir.Comparator.GT),
            "bias": np.asarray(meta[META_BIAS]) if META_BIAS in meta else None,
            "refractory": int(np.asarray(meta.get(META_REFRACTORY, 0)).item()),
        }
    a = lambda key, default=None: _arr(d, key, name, default)  # noqa: E731
    if kind == "Input":
        return ir.Input(shape=tuple(int(x) for x in a("shape")))
    if kind == "Output":
        return ir.Output(shape=tuple(int(x) for x in a("shape", ())))
    if kind == "Affine":
        w = a("weight")
        return ir.Affine(weight=w, bias=a("bias", np.zeros(w.shape[0], w.dtype)))
    if kind == "Linear":
        return ir.Linear(weight=a("weight"))
    if kind == "Scale":
        return ir.Scale(scale=a("scale"))
    if kind in ("Conv1d", "Conv2d"):
        cls = ir.Conv1d if kind == "Conv1d" else ir.Conv2d
        w = a("weight")
        n = w.ndim - 2
        dilation = tuple(np.resize(np.atleast_1d(a("dilation", 1)).astype(int), n).tolist())
        spatial = d.get("input_shape")
        groups = int(a("groups", 1))
        in_shape = () if spatial is None or np.size(spatial) == 0 else tuple(int(x) for x in np.atleast_1d(spatial))
        if len(in_shape) == n:  # NIR stores the spatial input shape only
            in_shape = (int(w.shape[1]) * groups, *in_shape)
        return cls(weight=w, bias=a("bias", np.zeros(w.shape[0], w.dtype)), input_shape=in_shape,
                   stride=tuple(np.resize(np.atleast_1d(a("stride", 1)).astype(int), n).tolist()),
                   padding=tuple(np.resize(np.asarray(_padding(d.get("padding", 0), w, dilation)), n).tolist()),
                   dilation=dilation, groups=groups)
    if kind in ("SumPool2d", "AvgPool2d"):
        cls = ir.SumPool2d if kind == "SumPool2d" else ir.AvgPool2d
        return cls(kernel_size=a("kernel_size"), stride=a("stride", d.get("kernel_size")), padding=a("padding", (0, 0)))
    if kind == "Flatten":
        in_type = d.get("input_type")
        if isinstance(in_type, dict):
            in_type = in_type.get("input")
        return ir.Flatten(start_dim=int(a("start_dim", 0)), end_dim=int(a("end_dim", -1)),
                          input_shape=() if in_type is None else tuple(int(x) for x in np.atleast_1d(in_type)))
    if kind == "Delay":
        return ir.Delay(delay=a("delay"))
    if kind == "Threshold":
        return ir.Threshold(threshold=a("threshold"))
    if kind == "LIF":
        th = a("v_threshold")
        return ir.LIF(tau=a("tau"), r=a("r"), v_leak=a("v_leak"), v_threshold=th,
                      v_reset=a("v_reset", np.zeros_like(th)), **spiking)
    if kind == "CubaLIF":
        th = a("v_threshold")
        return ir.CubaLIF(tau_syn=a("tau_syn"), tau_mem=a("tau_mem"), r=a("r"), v_leak=a("v_leak"),
                          v_threshold=th, v_reset=a("v_reset", np.zeros_like(th)),
                          w_in=a("w_in", np.ones_like(th)), **spiking)
    if kind == "IF":
        th = a("v_threshold")
        return ir.IF(r=a("r"), v_threshold=th, v_reset=a("v_reset", np.zeros_like(th)), **spiking)
    if kind == "CubaLI":
        tm = a("tau_mem")
        return ir.CubaLI(tau_syn=a("tau_syn"), tau_mem=tm, r=a("r"), v_leak=a("v_leak"), w_in=a("w_in", np.ones_like(tm)))
    if kind == "LI":
        return ir.LI(tau=a("tau"), r=a("r"), v_leak=a("v_leak"))
    if kind in ("I", "Integrator"):
        return ir.I(r=a("r"))
    raise SnnccError.single(
        "SNN201", f"unknown NIR node type '{kind or '?'}'", node=name,
        hint=f"supported: {', '.join(sorted(ir.NODE_TYPES))}, NIRGraph",
    )


def _repair_edges(d: dict, prefix: str, notes: list[Diagnostic]) -> list[tuple[str, str]]:
    """Old subgraph files name an inner node differently in edges ('lif' vs node 'lif1')."""
    nodes = d.get("nodes", {})
    edges = [(_text(s), _text(t)) for s, t in np.asarray(d.get("edges", np.zeros((0, 2)))).reshape(-1, 2)]
    named = {n for e in edges for n in e}
    for missing in sorted(named - set(nodes)):
        candidates = [n for n in nodes if n not in named and n.startswith(missing)]
        if len(candidates) == 1:
            nodes[missing] = nodes.pop(candidates[0])
            notes.append(_note(f"edge names '{missing}' but the node is '{candidates[0]}'; renamed the node",
                               node=prefix + candidates[0]))
    return edges


def _flatten(d: dict, prefix: str, opts: ImportOptions, out_nodes: dict, out_edges: list, notes: list) -> tuple[list[str], list[str]]:
    """Adds d's nodes/edges with ``prefix``; returns (entry nodes, exit nodes) of a subgraph."""
    edges = _repair_edges(d, prefix, notes)
    entries: dict[str, tuple[list[str], list[str]]] = {}
    for name, nd in d.get("nodes", {}).items():
        if _text(nd.get("type", "")) == "NIRGraph":
            entries[name] = _flatten(nd, f"{prefix}{name}.", opts, out_nodes, out_edges, notes)
        else:
            out_nodes[prefix + name] = _node(prefix + name, nd, opts)
    for src, dst in edges:
        sources = entries[src][1] if src in entries else [prefix + src]
        targets = entries[dst][0] if dst in entries else [prefix + dst]
        out_edges.extend(ir.Edge(s, t) for s in sources for t in targets)
    if not prefix:
        return [], []
    # A nested graph's Input/Output nodes are only ports: splice them out.
    ins = [f"{prefix}{n}" for n, nd in d["nodes"].items() if _text(nd.get("type", "")) == "Input"]
    outs = [f"{prefix}{n}" for n, nd in d["nodes"].items() if _text(nd.get("type", "")) == "Output"]
    entry = [e.dst for e in out_edges if e.src in ins]
    exit_ = [e.src for e in out_edges if e.dst in outs]
    out_edges[:] = [e for e in out_edges if e.src not in ins and e.dst not in outs]
    for port in ins + outs:
        out_nodes.pop(port)
    return entry, exit_


def _records_reset(d: dict) -> bool:
    """True when any node (at any nesting depth) carries snncc's reset-mode metadata."""
    return any(META_RESET in (nd.get("metadata") or {}) or _records_reset(nd)
               for nd in d.get("nodes", {}).values())


def infer_dt(nodes: dict[str, ir.Node]) -> float | None:
    """snnTorch/Lava-style files encode r = tau_mem / dt; recover dt when that holds everywhere."""
    ratios = []
    for node in nodes.values():
        tau = getattr(node, "tau_mem", getattr(node, "tau", None))
        if tau is None or not isinstance(node, (ir.LIF, ir.CubaLIF, ir.LI, ir.CubaLI)):
            continue
        if np.allclose(node.r, 1.0):
            return None
        ratios.append(np.asarray(tau, np.float64) / np.asarray(node.r, np.float64))
    if not ratios:
        return None
    values = np.concatenate([r.ravel() for r in ratios])
    dt = float(f"{np.median(values):.6g}")
    return dt if np.allclose(values, dt, rtol=1e-4) else None


def needs_dt(graph: ir.Graph) -> bool:
    return any(isinstance(n, (ir.LIF, ir.CubaLIF, ir.LI, ir.CubaLI, ir.Delay)) for n in graph.nodes.values())


def load_nir(path: str, options: ImportOptions | None = None) -> ImportResult:
    opts = options or ImportOptions()
    raw = read_raw(path)
    notes: list[Diagnostic] = []
    nodes: dict[str, ir.Node] = {}
    edges: list[ir.Edge] = []
    try:
        if _text(raw.get("type", "NIRGraph")) != "NIRGraph":
            raw = {"nodes": {"input": {"type": "Input", "shape": [1]}, "node": raw, "output": {"type": "Output"}},
                   "edges": np.array([["input", "node"], ["node", "output"]])}
        _flatten(raw, "", opts, nodes, edges, notes)
    except SnnccError as exc:
        raise exc.with_file(path) from None
    meta = raw.get("metadata", {}) or {}
    graph = ir.Graph(nodes, tuple(edges), metadata={"source": os.path.basename(path)})
    dt = float(meta[META_DT]) if META_DT in meta else opts.dt
    if dt is None and needs_dt(graph):
        dt = infer_dt(nodes)
        if dt is not None:
            notes.append(_note(f"dt not recorded in the file; inferred dt = {dt:g} s from r = tau/dt (snnTorch/Lava encoding)",
                               hint="pass --dt to override"))
        else:
            notes.append(_note("dt not recorded in the file and not inferable", hint="pass --dt (seconds)"))
    if opts.reset is None and not _records_reset(raw) and any(isinstance(n, ir.SpikingNeuron) for n in nodes.values()):
        notes.append(_note("reset mode not recorded (NIR only has reset-to-value); assumed reset to v_reset",
                           hint="pass --reset subtract if the model resets by subtraction"))
    return ImportResult(_ordered(graph.replace(dt=dt)), notes)


def _ordered(graph: ir.Graph) -> ir.Graph:
    """Deterministic, readable node order: evaluation order from the inputs."""
    diagnostics = DiagnosticList()
    diagnostics.extend(ir.verify(graph))
    diagnostics.raise_if_errors()
    order, _ = ir.evaluation_order(graph)
    edges = sorted(graph.edges, key=lambda e: (order.index(e.src), order.index(e.dst)))
    return graph.replace(nodes={n: graph.nodes[n] for n in order}, edges=tuple(edges)).with_inferred_output_shapes()


def load_with_options(path: str, options) -> ImportResult:
    """Entry point for snncc.loading."""
    return load_nir(path, ImportOptions(dt=options.dt, reset=options.reset, comparator=options.comparator))
