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
from snncc.targets.loihi2.netspec import NetSpec

__all__ = ["emit", "network_files", "spec_files", "components", "FOLDER", "FILES"]

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


#: params.npz dtype per array kind (the key's suffix): lossless for a validated spec
DTYPES = {"bias_mant": np.int16, "bias_exp": np.int8, "v_init": np.int32, "weights": np.int16,
          "delays": np.int8, "row": np.int32, "col": np.int32, "neurons": np.int32}


def network_files(lowered: Lowered, dt: float | None) -> tuple[dict, dict[str, np.ndarray]]:
    """network.json content and params.npz arrays (compact integer dtypes)."""
    meta, arrays = spec_files(lowered.spec)
    for entry, ir in zip(meta["inputs"], lowered.inputs):
        entry["ir"] = ir
    nodes = []
    for m in lowered.nodes:
        for proc, idx in zip(m.processes, m.neurons):
            arrays[f"{proc}.neurons"] = idx
        nodes.append({"ir": m.ir, "kind": m.kind, "size": m.size, "lag": m.lag,
                      "processes": list(m.processes), "state_scale": m.state_scale,
                      "v_scale": m.state_scale / V_SHIFT, "u_scale": m.state_scale / (V_SHIFT * m.current_gain)})
    meta.update({
        "format": FORMAT, "dt": dt, "v_shift": V_SHIFT,
        "nodes": nodes,
        "lags": dict(lowered.lags),
        "max_lag": lowered.max_lag,
        "output": None if lowered.output is None else
        {"node": lowered.output[0], "reads": lowered.output[1]},
        "threshold_offsets": dict(lowered.offsets),
    })
    return meta, {key: a.astype(DTYPES[key.rsplit(".", 1)[1]]) for key, a in arrays.items()}


def spec_files(spec: NetSpec) -> tuple[dict, dict[str, np.ndarray]]:
    """What network.py's ``build`` reads of any :class:`NetSpec`: the network.json entries
    "inputs", "processes", "connections", "components" and the arrays as the spec holds them
    (:mod:`.lava_runner` builds hand-made specs this way, :func:`network_files` stores them)."""
    arrays: dict[str, np.ndarray] = {}
    for pop in spec.populations:
        arrays[f"{pop.name}.bias_mant"] = pop.bias_mant
        arrays[f"{pop.name}.bias_exp"] = pop.bias_exp
        if pop.v_init.any():  # threshold offsets: Lava's v = membrane + v_init (offsets.py)
            arrays[f"{pop.name}.v_init"] = pop.v_init
    conns = []
    for c in spec.connections:
        at = np.nonzero(c.weights) if c.sparse else ...
        if c.sparse:
            arrays[f"{c.name}.row"], arrays[f"{c.name}.col"] = at
        arrays[f"{c.name}.weights"] = c.weights[at]
        if c.delays is not None:
            arrays[f"{c.name}.delays"] = c.delays[at]
        conns.append({"name": c.name, "src": c.src, "dst": c.dst, "shape": list(c.weights.shape),
                      "num_weight_bits": int(c.num_weight_bits), "weight_exp": int(c.weight_exp),
                      "sign_mode": c.sign_mode, "sparse": bool(c.sparse), "delays": c.delays is not None,
                      "nnz": int(np.count_nonzero(c.weights)),
                      "max_delay": int(c.delays.max()) if c.delays is not None else 0})
    order = [x.name for x in (*spec.inputs, *spec.populations)]
    meta = {
        "inputs": [{"name": port.name, "size": int(port.size)} for port in spec.inputs],
        "processes": [{"name": p.name, "size": int(p.size), "du": int(p.du), "dv": int(p.dv),
                       "vth": int(p.vth)} for p in spec.populations],
        "connections": conns,
        "components": [sorted(group, key=order.index) for group in components(spec)],
    }
    return meta, arrays


def components(spec: NetSpec) -> list[set[str]]:
    """Weakly connected groups of input / population names (Lava runs one per call)."""
    parent = {x.name: x.name for x in (*spec.inputs, *spec.populations)}

    def find(a: str) -> str:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for c in spec.connections:
        parent[find(c.src)] = find(c.dst)
    groups: dict[str, set[str]] = {}
    for name in parent:
        groups.setdefault(find(name), set()).add(name)
    return [g for g in groups.values() if any(p.name in g for p in spec.populations)]


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
