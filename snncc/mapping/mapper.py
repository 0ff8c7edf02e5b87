"""Map a graph onto a resource model: partition, traffic, placement, routing.

Every limit problem of every layer is collected and raised together (SNN452 a layer
that does not fit even one neuron per core, SNN453 a system that is too small, SNN454
router tables, SNN455 output axons, SNN458 FPGA device resources).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from snncc.diagnostics import Diagnostic, SnnccError
from snncc.ir import Graph

from .models import FpgaModel, Loihi2Model, ResourceModel
from .network import Network, network_of
from .partition import LayerPartition, partition_layer
from .placement import hop_traffic, place
from .routing import axon_tables, multicast_tables, stream_wiring
from .topology import Topology
from .traffic import Traffic, activity, tile_traffic

#: re-partitions of a layer whose cores have too many output axons
MAX_AXON_ROUNDS = 6


@dataclass
class MappingResult:
    model: ResourceModel
    network: Network
    parts: dict[str, LayerPartition]  # placed layers, graph order
    traffic: Traffic
    slots: np.ndarray  # core id of every global tile
    sequential_slots: np.ndarray
    routing: dict[str, Any]
    activity: str  # "uniform" or "calibration"
    notes: list[Diagnostic] = field(default_factory=list)

    @property
    def lower_bound(self) -> int:
        return sum(p.lower_bound for p in self.parts.values())

    @property
    def cores(self) -> int:
        return int(self.slots.size)

    def hop_traffic(self, sequential: bool = False) -> float:
        slots = self.sequential_slots if sequential else self.slots
        return hop_traffic(Topology(self.model), self.traffic.rate, slots)


def map_network(graph: Graph, model: ResourceModel, calibration: np.ndarray | None = None,
                placement: str = "metis", default_weight_bits: int | None = None) -> MappingResult:
    network = network_of(graph, default_weight_bits or model.weight_bits)
    placed = [l for l in network.layers if l.kind != "Input" or model.inputs_on_cores]
    topology = Topology(model)
    problems: list[Diagnostic] = []
    parts: dict[str, LayerPartition] = {}
    minimum: dict[str, int] = {}
    for layer in placed:
        result = partition_layer(model, layer, network.into(layer.name))
        if isinstance(result, list):
            problems += result
            minimum[layer.name] = 1
        else:
            parts[layer.name] = result
    rates, notes = activity(graph, calibration)
    traffic = tile_traffic(network, parts, rates)
    if isinstance(model, Loihi2Model):
        parts, traffic = _fit_output_axons(model, network, parts, traffic, rates, problems)
    _check_system(topology, parts, minimum, problems)
    if isinstance(model, FpgaModel):
        problems += _device_check(model, parts)
    if problems:
        raise SnnccError(problems)
    sequential = topology.sequential_slots(len(traffic.tiles))
    slots = place(topology, traffic.rate) if placement == "metis" else sequential
    routing, route_problems = _routing(topology, traffic, slots, parts)
    if route_problems:
        raise SnnccError(route_problems)
    return MappingResult(model, network, parts, traffic, slots, sequential, routing,
                         "uniform" if rates is None else "calibration", notes)


def _check_system(topology: Topology, parts, minimum, problems: list[Diagnostic]) -> None:
    needed = sum(len(p.tiles) for p in parts.values()) + sum(minimum.values())
    if needed > topology.model.max_cores:
        try:
            topology.check_capacity(needed)
        except SnnccError as exc:
            at_least = " at least" if minimum else ""
            problems += [Diagnostic(d.code, d.message.replace("needs", f"needs{at_least}"), hint=d.hint)
                         for d in exc.diagnostics]


def _out_axons(traffic: Traffic, parts) -> dict[str, np.ndarray]:
    per_tile = np.asarray(traffic.count.sum(axis=1)).ravel()
    out, start = {}, 0
    for name, part in parts.items():
        out[name] = per_tile[start:start + len(part.tiles)]
        start += len(part.tiles)
    return out


def _fit_output_axons(model: Loihi2Model, network, parts, traffic, rates, problems):
    """Split source layers further until no core needs more than ``output_axons``."""
    for _ in range(MAX_AXON_ROUNDS):
        over = {name: int(v.max()) for name, v in _out_axons(traffic, parts).items()
                if v.size and v.max() > model.output_axons}
        if not over:
            return parts, traffic
        for name, worst in over.items():
            now = len(parts[name].tiles)
            wanted = max(now + 1, -(-now * worst // model.output_axons))
            layer = network.layer(name)
            result = partition_layer(model, layer, network.into(name), min_tiles=wanted)
            if isinstance(result, LayerPartition):
                parts = {**parts, name: result}
        traffic = tile_traffic(network, parts, rates)
    for name, values in _out_axons(traffic, parts).items():
        if values.size and values.max() > model.output_axons:
            problems.append(Diagnostic(
                "SNN455", f"layer {name}: {int(values.max()):,} output axons > {model.output_axons:,} "
                "output axons per core", node=name,
                hint="its neurons reach too many cores; reduce the fan-out or the next layers' split"))
    return parts, traffic


def _device_check(model: FpgaModel, parts) -> list[Diagnostic]:
    totals = {k: sum(int(p.usage.memory[k].sum()) for p in parts.values()) for k in ("bram18", "lut", "ff", "dsp")}
    caps = {"bram18": model.device_bram18, "lut": model.device_lut, "ff": model.device_ff, "dsp": model.device_dsp}
    problems = []
    for kind, total in totals.items():
        if total > caps[kind]:
            worst = max(parts.values(), key=lambda p: int(p.usage.memory[kind].sum()))
            problems.append(Diagnostic(
                "SNN458", f"the engines need {total:,} {kind.upper()} > {caps[kind]:,} on {model.device} "
                f"(largest: layer {worst.layer.name}, {int(worst.usage.memory[kind].sum()):,})",
                node=worst.layer.name, hint="use fewer weight bits, a larger device (resource_overrides) or prune"))
    return problems


def _routing(topology: Topology, traffic: Traffic, slots: np.ndarray, parts) -> tuple[dict, list[Diagnostic]]:
    kind = topology.model.routing
    if kind == "axon":
        return {"kind": kind, "cores": axon_tables(traffic.count, slots)}, []
    if kind == "multicast":
        tables, problems = multicast_tables(topology, traffic.count, slots)
        return {"kind": kind, "key_shift": 8, "chips": tables}, problems
    neurons = np.concatenate([p.usage.neurons for p in parts.values()]) if parts else np.zeros(0)
    return {"kind": kind, "streams": stream_wiring(traffic.count, slots, neurons)}, []


__all__ = ["MappingResult", "map_network"]
