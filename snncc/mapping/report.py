"""mapping.json content and the per-layer utilisation rows of the compile summary."""
from __future__ import annotations

from typing import Any

import numpy as np

from snncc.ir import CoreAssignment, CoreSlice

from .mapper import MappingResult
from .models import model_fields
from .topology import Topology

FORMAT_VERSION = 1


def _tile_rows(result: MappingResult):
    """(global tile index, layer name, local tile index, partition) in global order."""
    k = 0
    for name, part in result.parts.items():
        for i in range(len(part.tiles)):
            yield k, name, i, part
            k += 1


def core_assignments(result: MappingResult) -> dict[str, CoreAssignment]:
    """Per placed node, one CoreSlice per contiguous flat range of each of its tiles."""
    per_chip = result.model.cores_per_chip
    slices: dict[str, list[CoreSlice]] = {name: [] for name in result.parts}
    for k, name, i, part in _tile_rows(result):
        core = int(result.slots[k])
        slices[name] += [CoreSlice(core, a, b, core // per_chip) for a, b in part.tiles.flat_ranges(i)]
    return {name: CoreAssignment(tuple(sorted(s, key=lambda c: c.start))) for name, s in slices.items()}


def mapping_dict(result: MappingResult) -> dict[str, Any]:
    topology = Topology(result.model)
    out_axons = np.asarray(result.traffic.count.sum(axis=1)).ravel()
    route_entries = _route_entries(result)
    cores = []
    for k, name, i, part in _tile_rows(result):
        core = int(result.slots[k])
        x, y = topology.local_xy(core)
        u = part.usage
        cores.append({
            "core": core, "chip": core // result.model.cores_per_chip, "x": int(x), "y": int(y),
            "layer": name, "slices": [list(r) for r in part.tiles.flat_ranges(i)],
            "neurons": int(u.neurons[i]), "synapses": int(u.synapses[i]), "fan_in": int(u.fan_in[i]),
            "out_axons": int(out_axons[k]),
            "memory_bytes": {kind: int(v[i]) for kind, v in u.memory.items()},
            "utilisation": {f"{c.measure} / {c.limit}": round(float(c.values[i]) / c.cap, 4) for c in u.checks},
            "route_entries": route_entries.get(core, 0),
        })
    cores.sort(key=lambda c: c["core"])
    layers = {}
    for name, part in result.parts.items():
        ids = sorted(int(result.slots[k]) for k, n, _, _ in _tile_rows(result) if n == name)
        layers[name] = {
            "kind": part.layer.kind, "shape": list(part.layer.shape), "neurons": part.layer.size,
            "cores": ids, "tiling": {"family": part.tiles.family, "parts": list(part.tiles.parts)},
            "lower_bound": part.lower_bound, "lower_bound_by_resource": dict(part.bounds),
        }
    hop, seq = result.hop_traffic(), result.hop_traffic(sequential=True)
    chips = sorted({c["chip"] for c in cores})
    return {
        "format_version": FORMAT_VERSION,
        "resource_model": model_fields(result.model),
        "activity": result.activity,
        "summary": {
            "cores": result.cores, "lower_bound": result.lower_bound,
            "lower_bound_unconditional": result.unconditional_lower_bound,
            "cores_over_lower_bound": round(result.cores / max(result.lower_bound, 1), 4),
            "chips_used": len(chips), "chips": chips,
            "hop_traffic": round(hop, 6), "hop_traffic_sequential_fill": round(seq, 6),
            "traffic_reduction": round(1 - hop / seq, 4) if seq > 0 else 0.0,
            **_table_sizes(result.routing),
        },
        "layers": layers,
        "cores": cores,
        "routing": result.routing,
        "traffic": _edges(result),
    }


def _edges(result: MappingResult) -> list[list]:
    """[src core, dst core, source neurons, spikes per step] for every communicating pair."""
    count = result.traffic.count.tocoo()
    rate = np.asarray(result.traffic.rate.tocsr()[count.row, count.col]).ravel()
    src, dst = result.slots[count.row].tolist(), result.slots[count.col].tolist()
    edges = [[a, b, int(n), round(float(r), 6)]
             for a, b, n, r in zip(src, dst, count.data.tolist(), rate.tolist())]
    return sorted(edges)


def _route_entries(result: MappingResult) -> dict[int, int]:
    """Per core, the destination cores it sends to (Loihi: output axon groups, including
    its own recurrent axons; SpiNNaker: PEs in its multicast tree; FPGA: streams)."""
    coo = result.traffic.count.tocoo()
    keep = np.ones(coo.row.size, dtype=bool) if result.routing["kind"] == "axon" else coo.row != coo.col
    counts = np.bincount(coo.row[keep], minlength=result.slots.size)
    return {int(result.slots[k]): int(counts[k]) for k in range(result.slots.size)}


def _table_sizes(routing: dict[str, Any]) -> dict[str, int]:
    if routing["kind"] != "multicast":
        return {}
    sizes = [len(entries) for entries in routing["chips"].values()]
    return {"router_entries_max_per_chip": max(sizes, default=0)}


def utilisation_rows(mapping: dict[str, Any]) -> list[dict[str, Any]]:
    """Per layer: cores, lower bound, and the highest use of each limit over its cores."""
    rows = []
    for name, layer in mapping["layers"].items():
        mine = [c for c in mapping["cores"] if c["layer"] == name]
        peak: dict[str, float] = {}
        for c in mine:
            for key, value in c["utilisation"].items():
                peak[key] = max(peak.get(key, 0.0), value)
        rows.append({"layer": name, "cores": len(mine), "lower_bound": layer["lower_bound"],
                     "neurons": layer["neurons"], "peak": peak})
    return rows
