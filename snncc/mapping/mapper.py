"""Map a graph onto a resource model: partition, traffic, placement, routing.

Every limit problem of every layer is collected and raised together (SNN452 a layer
that does not fit even one neuron per core, SNN453 a system that is too small, SNN454
router tables, SNN455 output axons, SNN458 FPGA device resources).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from snncc.diagnostics import Diagnostic, SnnccError
from snncc.ir import Graph

from .models import FpgaModel, Loihi2Model, ResourceModel
from .network import Network, network_of
from .patterns import KronPattern
from .partition import GIVEN_OTHERS, LayerPartition, partition_layer
from .placement import hop_traffic, place
from .routing import KEY_SHIFT, axon_tables, multicast_tables, stream_wiring
from .topology import Topology
from .geometry import box_sums
from .stats import receptive_indices
from .traffic import Traffic, activity, tile_traffic



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
    def unconditional_lower_bound(self) -> int:
        return sum(p.unconditional_lower_bound for p in self.parts.values())

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
    done: dict[tuple, LayerPartition] = {}  # layers with the same shape and inputs split alike
    for layer in placed:
        key = _signature(layer, network.into(layer.name))
        result = done.get(key) if key is not None else None
        if result is not None:
            result = dataclasses.replace(result, layer=layer)
        else:
            result = partition_layer(model, layer, network.into(layer.name))
            if key is not None and isinstance(result, LayerPartition):
                done[key] = result
        if isinstance(result, list):
            problems += result
            minimum[layer.name] = 1
        else:
            parts[layer.name] = result
    rates, notes = activity(graph, calibration)
    traffic = tile_traffic(network, parts, rates)
    if isinstance(model, Loihi2Model):
        parts, traffic = _fit_output_axons(model, network, parts, traffic, rates, problems)
        parts = _output_axon_bounds(model, parts, traffic)
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


def _signature(layer, projections) -> tuple | None:
    """What a layer's partition depends on; None when a projection is explicit (not compared)."""
    parts = [layer.kind, layer.shape, layer.recorded]
    for p in projections:
        if not isinstance(p.pattern, KronPattern):
            return None
        axes = tuple((a.matrix.shape, a.matrix.indptr.tobytes(), a.matrix.indices.tobytes()) for a in p.pattern.axes)
        parts.append((p.pattern.src, axes, p.weight_bits, p.has_delay, p.kernel_per_channel))
    return tuple(parts)


def _check_system(topology: Topology, parts, minimum, problems: list[Diagnostic]) -> None:
    needed = sum(len(p.tiles) for p in parts.values()) + sum(minimum.values())
    if needed > topology.model.max_cores:
        try:
            topology.check_capacity(needed)
        except SnnccError as exc:
            at_least = " at least" if minimum else ""
            problems += [Diagnostic(d.code, d.message.replace("needs", f"needs{at_least}"), hint=d.hint)
                         for d in exc.diagnostics]


def _fit_output_axons(model: Loihi2Model, network: Network, parts, traffic, rates, problems):
    """Re-split a layer whose cores need more than ``output_axons`` (one per neuron and
    destination core), with the axon count as a further condition of the partition search.
    Layers go last to first, so a layer's consumers are final when it is fitted; then each
    neuron's number of destination cores is fixed and a tile's axons are a box sum. Until a
    layer is re-split the traffic's counts already give every tile's axons; the per-neuron
    counts are built only for a layer that is over the cap or after a re-split, and the
    traffic is recounted only when a layer was re-split."""
    parts, refitted = dict(parts), False
    counted = _out_axons_of(traffic.count, parts)
    for name in reversed(list(parts)):
        if not refitted and counted[name].max(initial=0) <= model.output_axons:
            continue
        layer = network.layer(name)
        destinations = _destination_cores(network, parts, name, layer.size)
        axons = box_sums(destinations, parts[name].tiles)
        if axons.max(initial=0) <= model.output_axons:
            continue
        refit = partition_layer(model, layer, network.into(name), weights=(destinations, model.output_axons))
        if isinstance(refit, LayerPartition):
            parts[name], refitted = refit, True
        else:
            problems.append(Diagnostic(
                "SNN455", f"layer {name}: {int(axons.max()):,} output axons > {model.output_axons:,} output "
                "axons per core", node=name,
                hint="its neurons reach too many cores; reduce the fan-out or the next layers' split"))
    return parts, tile_traffic(network, parts, rates) if refitted else traffic


def _destination_cores(network: Network, parts, name: str, size: int) -> np.ndarray:
    """Per neuron of layer ``name``: the placed tiles (cores) its projections reach."""
    destinations = np.zeros(size)
    for p in network.projections:
        if p.src == name and p.dst in parts:
            tiles = parts[p.dst].tiles
            for i in range(len(tiles)):
                destinations[receptive_indices(p.pattern, tiles, i)] += 1
    return destinations


def _out_axons_of(counts, parts) -> dict[str, np.ndarray]:
    per_tile = np.asarray(counts.sum(axis=1)).ravel()
    out, start = {}, 0
    for name, part in parts.items():
        out[name] = per_tile[start:start + len(part.tiles)]
        start += len(part.tiles)
    return out


def _output_axon_bounds(model: Loihi2Model, parts, traffic):
    """Each neuron needs one output axon per core its targets are on; with the next layers
    split as they are, a layer needs >= (its axons) / output_axons cores."""
    out = {}
    for name, axons in _out_axons_of(traffic.count, parts).items():
        bound = -(-int(axons.sum()) // model.output_axons)
        out[name] = dataclasses.replace(
            parts[name], bounds={**parts[name].bounds, f"output axons {GIVEN_OTHERS}": bound})
    return out


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
        return {"kind": kind, "key_shift": KEY_SHIFT, "chips": tables}, problems
    neurons = np.concatenate([p.usage.neurons for p in parts.values()]) if parts else np.zeros(0)
    return {"kind": kind, "streams": stream_wiring(traffic.count, slots, neurons)}, []


__all__ = ["MappingResult", "map_network"]
