"""Write OUT/loihi2/: network.json + params.npz (the Lava processes and their integer
parameters), mapping.json (core assignment), network.py (the generated module that
builds and runs them in Lava; a verbatim copy of :mod:`.network_template`).

Everything is lowered and validated before the first byte is written; the scale factors
(real membrane value per unit of Lava's ``v``, per IR node) go into network.json and
into ``ctx.reports["loihi2"]``, which the compiler copies into manifest.json.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from snncc.artifacts import write_json, write_npz
from snncc.ir import Graph
from snncc.targets.loihi2.dynamics import V_SHIFT
from snncc.targets.loihi2.lower import Lowered, lower
from snncc.targets.loihi2.mapping import core_mapping

__all__ = ["emit", "network_files", "FOLDER", "FILES"]

FOLDER = "loihi2"
FILES = ("network.json", "params.npz", "mapping.json", "network.py")
FORMAT = "snncc.loihi2.network/1"
TEMPLATE = Path(__file__).with_name("network_template.py")
CONNECTION_KEYS = ("src", "dst", "weight_exp", "sign_mode", "sparse", "nnz", "max_delay")


def emit(graph: Graph, out_dir: str, ctx: Any, neurons_per_core: int, cores_per_chip: int) -> list[str]:
    lowered = lower(graph)
    meta, arrays = network_files(lowered, graph.dt)
    mapping = core_mapping(graph, lowered, neurons_per_core, cores_per_chip)
    folder = os.path.join(out_dir, FOLDER)
    os.makedirs(folder)
    write_json(os.path.join(folder, "network.json"), meta)
    write_npz(os.path.join(folder, "params.npz"), arrays)
    write_json(os.path.join(folder, "mapping.json"), mapping)
    with open(os.path.join(folder, "network.py"), "w") as handle:
        handle.write(TEMPLATE.read_text())
    if ctx is not None:
        ctx.reports[FOLDER] = report(meta, mapping)
        ctx.notes.extend(lowered.notes)
    return [f"{FOLDER}/{name}" for name in FILES]


def network_files(lowered: Lowered, dt: float | None) -> tuple[dict, dict[str, np.ndarray]]:
    """network.json content and params.npz arrays (compact integer dtypes)."""
    from snncc.targets.loihi2.lava_runner import components

    spec = lowered.spec
    arrays: dict[str, np.ndarray] = {}
    for pop in spec.populations:
        arrays[f"{pop.name}.bias_mant"] = pop.bias_mant.astype(np.int16)
        arrays[f"{pop.name}.bias_exp"] = pop.bias_exp.astype(np.int8)
        if pop.v_init.any():  # threshold offsets: Lava's v = membrane + v_init (offsets.py)
            arrays[f"{pop.name}.v_init"] = pop.v_init.astype(np.int32)
    conns = []
    for c in spec.connections:
        delays = c.delays if c.delays is not None else None
        if c.sparse:
            row, col = np.nonzero(c.weights)
            arrays[f"{c.name}.row"], arrays[f"{c.name}.col"] = row.astype(np.int32), col.astype(np.int32)
            arrays[f"{c.name}.weights"] = c.weights[row, col].astype(np.int16)
            if delays is not None:
                arrays[f"{c.name}.delays"] = delays[row, col].astype(np.int8)
        else:
            arrays[f"{c.name}.weights"] = c.weights.astype(np.int16)
            if delays is not None:
                arrays[f"{c.name}.delays"] = delays.astype(np.int8)
        conns.append({"name": c.name, "src": c.src, "dst": c.dst, "shape": list(c.weights.shape),
                      "num_weight_bits": int(c.num_weight_bits), "weight_exp": int(c.weight_exp),
                      "sign_mode": c.sign_mode, "sparse": bool(c.sparse), "delays": delays is not None,
                      "nnz": int(np.count_nonzero(c.weights)),
                      "max_delay": int(delays.max()) if delays is not None else 0})
    nodes = []
    for m in lowered.nodes:
        for proc, idx in zip(m.processes, m.neurons):
            arrays[f"{proc}.neurons"] = idx.astype(np.int32)
        nodes.append({"ir": m.ir, "kind": m.kind, "size": m.size, "lag": m.lag,
                      "processes": list(m.processes), "state_scale": m.state_scale,
                      "v_scale": m.state_scale / V_SHIFT, "u_scale": m.state_scale / (V_SHIFT * m.current_gain)})
    order = [x.name for x in (*spec.inputs, *spec.populations)]
    meta = {
        "format": FORMAT, "dt": dt, "v_shift": V_SHIFT,
        "inputs": [{"name": port, "ir": ir, "size": spec.source_size(port)}
                   for ir, port in lowered.inputs.items()],
        "processes": [{"name": p.name, "size": int(p.size), "du": int(p.du), "dv": int(p.dv),
                       "vth": int(p.vth)} for p in spec.populations],
        "connections": conns,
        "components": [sorted(group, key=order.index) for group in components(spec)],
        "nodes": nodes,
        "lags": dict(lowered.lags),
        "max_lag": lowered.max_lag,
        "output": None if lowered.output is None else
        {"node": lowered.output[0], "reads": lowered.output[1]},
        "threshold_offsets": dict(lowered.offsets),
    }
    return meta, arrays


def report(meta: dict, mapping: dict) -> dict:
    """The manifest's view: scales per IR node, processes, connections, cores."""
    processes = {p["name"]: p for p in meta["processes"]}
    return {
        "v_shift": V_SHIFT,
        "max_lag": meta["max_lag"],
        "nodes": {n["ir"]: {"kind": n["kind"], "lag": n["lag"], "state_scale": n["state_scale"],
                            "v_scale": n["v_scale"], "u_scale": n["u_scale"],
                            "processes": {p: {k: processes[p][k] for k in ("size", "du", "dv", "vth")}
                                          for p in n["processes"]}}
                  for n in meta["nodes"]},
        "connections": {c["name"]: {k: c[k] for k in CONNECTION_KEYS} for c in meta["connections"]},
        "threshold_offsets": meta["threshold_offsets"],
        "cores_used": mapping["cores_used"],
        "mapping": mapping["source"],
    }
