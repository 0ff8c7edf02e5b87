"""prune: drop what computes nothing, exactly; then simplify's algebraic clean-ups.

1. ``simplify`` (identities, Scale folded into a private dense layer, private dense layers
   merged): it leaves quantized nodes alone, so the integer form survives.
2. Zero connections: a weight layer whose weights and bias are all zero adds nothing; when it
   reaches a neuron (through private single-input nodes) that has other inputs, the edge is
   removed and the chain left without consumers is deleted.
3. Dead and unused neurons of 1-D spiking layers whose inputs come from private dense/Scale
   layers and whose outputs go to dense layers only (no Output reads them):
   *dead* neurons can never reach their threshold, even with every positive input active every
   step (each source at most ``input_max``: spikes are 1); *unused* neurons have all-zero
   outgoing weights. Either kind never changes another neuron, so removing it (its row in the
   weights feeding the layer, its parameters, its columns downstream) is exact for every other
   neuron. Repeated to a fixed point, since removals can kill more neurons downstream.

Reported in ``ctx.reports["prune"]``: the simplify changes, dropped connections, per layer
the removed neuron indices (of the layer as it entered the pass) and the zero weights left.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from snncc.ir import (
    IF, Affine, Conv1d, Conv2d, CubaLIF, Graph, Input, Linear, Neuron, Output, Scale, SpikingNeuron,
)
from snncc.lowering import layer_graph
from snncc.passbase import Pass, PassContext, PassResult

from ._fidelity import can_fire, peak_input
from ._folding import WEIGHTED
from ._slicing import take_columns, take_neurons, take_rows
from .simplify import DENSE, Simplify


@dataclass(frozen=True)
class Prune(Pass):
    name: ClassVar[str] = "prune"
    #: the largest value an Input element carries (1 for spikes); calibration data raises it
    input_max: float = 1.0
    #: also remove dead and unused neurons (changes layer sizes)
    neurons: bool = True

    def run(self, graph: Graph, ctx: PassContext) -> PassResult:
        changes: dict[str, Any] = {}
        simplified = Simplify().run(graph, ctx)
        if simplified.modified:
            changes.update(simplified.changes)
        graph = simplified.graph
        graph, dropped = _drop_zero_connections(graph)
        if dropped:
            changes["dropped_connections"] = dropped
        removed: dict[str, dict[str, Any]] = {}
        if self.neurons:
            bound = self.input_max if ctx.calibration is None else max(self.input_max, float(np.max(ctx.calibration)))
            graph, removed = _drop_neurons(graph, bound)
        if removed:
            changes["removed_neurons"] = {k: v["dead"] + v["unused"] for k, v in removed.items()}
        ctx.reports["prune"] = {**{k: v for k, v in changes.items() if k != "removed_neurons"},
                                "neurons": removed, "zero_weights": _zero_weights(graph)}
        return PassResult(graph, bool(changes), changes)


def _all_zero(node) -> bool:
    if isinstance(node, Scale):
        return not np.any(node.scale)
    bias = getattr(node, "bias", None)
    return not np.any(node.weight) and (bias is None or not np.any(bias))


def _drop_zero_connections(graph: Graph) -> tuple[Graph, list[str]]:
    dropped = []
    for name in [n for n, v in graph.nodes.items() if isinstance(v, WEIGHTED) and _all_zero(v)]:
        if name not in graph.nodes:
            continue
        edge = graph.outgoing(name)[0] if len(graph.outgoing(name)) == 1 else None
        while edge is not None and not isinstance(graph.nodes[edge.dst], Neuron):
            follow = graph.outgoing(edge.dst)
            single = len(graph.incoming(edge.dst)) == 1 and len(follow) == 1 and not isinstance(graph.nodes[edge.dst], Output)
            edge = follow[0] if single else None
        if edge is None or len(graph.incoming(edge.dst)) < 2:
            continue  # the zero layer feeds several nodes, an Output, or is the neuron's only input
        graph = _collect(graph.replace(edges=tuple(e for e in graph.edges if e != edge)))
        dropped.append(f"{name}->{edge.dst}")
    return graph, dropped


def _collect(graph: Graph) -> Graph:
    """Delete non-population nodes (except Outputs) whose outputs no longer go anywhere."""
    while True:
        gone = [n for n, v in graph.nodes.items()
                if not isinstance(v, (Input, Neuron, Output)) and not graph.outgoing(n)]
        if not gone:
            return graph
        graph = graph.replace(nodes={n: v for n, v in graph.nodes.items() if n not in gone},
                              edges=tuple(e for e in graph.edges if e.src not in gone and e.dst not in gone))


def _removable(graph: Graph, name: str) -> tuple[list[str], list[str]] | None:
    """(producers, consumers) when neurons of ``name`` can be removed by slicing them."""
    node = graph.nodes[name]
    if not isinstance(node, SpikingNeuron) or len(node.shape) != 1 or node.membrane_bn is not None:
        return None
    producers, consumers = [e.src for e in graph.incoming(name)], [e.dst for e in graph.outgoing(name)]
    for src in producers:
        if not isinstance(graph.nodes[src], (*DENSE, Scale)) or [e.dst for e in graph.outgoing(src)] != [name]:
            return None
        if src not in consumers and not _sources_ok(graph, src):
            return None
    for dst in consumers:
        if not isinstance(graph.nodes[dst], DENSE) or [e.src for e in graph.incoming(dst)] != [name]:
            return None
    return producers, consumers


def _sources_ok(graph: Graph, name: str) -> bool:
    """can_fire bounds each source by 1 (spikes) or input_max (Input): no analog sources."""
    return all(isinstance(graph.nodes[e.src], (Input, SpikingNeuron)) for e in graph.incoming(name))


def _decays_ok(graph: Graph, node) -> bool:
    """The supremum argument of can_fire needs decays in [0, 1] (forward Euler with dt <= tau)."""
    taus = [node.tau_mem, node.tau_syn] if isinstance(node, CubaLIF) else [] if isinstance(node, IF) else [node.tau]
    return all(np.all(graph.dt / np.asarray(t) <= 1) for t in taus)


def _drop_neurons(graph: Graph, bound: float) -> tuple[Graph, dict[str, dict[str, Any]]]:
    report: dict[str, dict[str, Any]] = {}
    original = {n: np.arange(v.size) for n, v in graph.items_of(Neuron)}
    while True:
        layers, step = layer_graph(graph), None
        for name in layers.neurons():
            found = _removable(graph, name)
            node = graph.nodes[name]
            if found is None or not _decays_ok(graph, node):
                continue
            producers, consumers = found
            dead = ~can_fire(node, peak_input(layers, name, bound))
            unused = np.ones(node.size, bool)
            for dst in consumers:
                unused &= ~np.any(np.asarray(graph.nodes[dst].weight) != 0, axis=0)
            remove = dead | unused
            if remove.any() and not remove.all():
                step = (name, producers, consumers, dead, unused & ~dead)
                break
        if step is None:
            return graph, report
        name, producers, consumers, dead, unused = step
        keep = np.flatnonzero(~(dead | unused))
        entry = report.setdefault(name, {"dead": 0, "unused": 0, "removed": []})
        entry["dead"] += int(dead.sum())
        entry["unused"] += int(unused.sum())
        entry["removed"] = sorted(entry["removed"] + [int(i) for i in original[name][~np.isin(np.arange(dead.size), keep)]])
        original[name] = original[name][keep]
        updates: dict[str, Any] = {name: take_neurons(graph.nodes[name], keep)}
        for src in producers:
            updates[src] = take_rows(graph.nodes[src], keep)
        for dst in consumers:
            updates[dst] = take_columns(updates.get(dst, graph.nodes[dst]), keep)
        graph = graph.map_nodes(lambda n, v: updates.get(n, v))
        entry["kept"] = int(keep.size)


def _zero_weights(graph: Graph) -> dict[str, dict[str, int]]:
    """Zero entries left in each weight layer (synapses a sparse target need not store)."""
    out = {}
    for name, node in graph.items_of((Affine, Linear, Conv1d, Conv2d)):
        zeros = int(np.count_nonzero(np.asarray(node.weight) == 0))
        if zeros:
            out[name] = {"zero": zeros, "total": int(np.size(node.weight))}
    return out
