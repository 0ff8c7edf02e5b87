"""Activity counts per core and time step, from a run's spikes and the layer view.

For every projection ``src -> dst`` (``LayerGraph.matrix``, nonzero entries are the
deployed synapses) and every nonzero source value at step t:

- synaptic ops on a core: the synapses from that source into the core's neurons
  (``synops_ac`` when the source is binary, ``synops_mac`` for graded input, as
  NeuroBench counts); ``synops_dense``: all structural synapses every step;
- one spike message per destination core the source reaches (``messages_out`` on the
  source's core, ``messages_in`` on the destination), and the mesh hops it travels;
- a neuron update for every neuron every step, *active* when it received input that
  step or has a bias, else *idle*;
- memory traffic: one weight read per synaptic op (weight bits), state read and
  written by every update (state variables x state bits).

Input comes from the host: its messages arrive (``messages_in``) but no core sends them,
unless the placement puts Input neurons on a core (SpiNNaker 2's spike-source PEs).
Spikes are the backend's, aligned to the reference time index; counts ignore the
one-step lags of a hardware pipeline (they shift activity, not its amount).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snncc.ir import Affine, Conv1d, Conv2d, Flatten, Input, Linear, Scale, SpikingNeuron
from snncc.lowering import LayerGraph, Projection, layer_graph

from .cores import Core, Layout, cores_of, hop_matrices, placement

COUNTS = ("synops_ac", "synops_mac", "synops_dense", "neuron_updates_active", "neuron_updates_idle",
          "spikes_out", "messages_out", "messages_in", "hops_ew", "hops_ns",
          "mem_read_bits_weight", "mem_read_bits_state", "mem_write_bits_state")
WEIGHTED = (Affine, Linear, Conv1d, Conv2d)


@dataclass(frozen=True, eq=False)
class Activity:
    #: the layer view counted on (its matrices are cached: reuse it, e.g. for the ANN comparison)
    layers: LayerGraph
    cores: tuple[Core, ...]
    layout: Layout
    #: count name -> [B, T, C] (int64)
    counts: dict[str, np.ndarray]
    weight_bits: dict[str, int]  # per projection name
    state_bits: int
    notes: tuple[str, ...] = ()

    @property
    def samples(self) -> int:
        return int(next(iter(self.counts.values())).shape[0])

    @property
    def steps(self) -> int:
        return int(next(iter(self.counts.values())).shape[1])

    def per_inference(self, name: str) -> np.ndarray:
        """``[C]`` mean count per inference (summed over steps, averaged over samples)."""
        return mean_per_inference(self.counts[name])

    def total(self, name: str) -> float:
        """Mean count per inference over all cores."""
        return float(self.per_inference(name).sum())


def mean_per_inference(per_step: np.ndarray) -> np.ndarray:
    """``[B, T, C]`` -> ``[C]``: summed over steps, averaged over samples."""
    return per_step.sum(axis=1).mean(axis=0)


def structural_view(layers: LayerGraph) -> LayerGraph:
    """The same projections with every weight and scale set to one: the nonzero entries of its
    matrices are the connections the architecture has, zero weights included."""
    def ones(_, node):
        if isinstance(node, WEIGHTED):
            return node.replace(weight=np.ones_like(node.weight))
        return node.replace(scale=np.ones_like(node.scale)) if isinstance(node, Scale) else node

    return LayerGraph(layers.graph.map_nodes(ones), layers.populations, layers.projections)


def structural_fan_in(layers: LayerGraph, ones: LayerGraph, projection: Projection) -> np.ndarray:
    """``[n_dst]`` structural synapses into each destination neuron (``ones``: the
    :func:`structural_view` of ``layers``)."""
    nodes = [layers.graph.nodes[n] for n in projection.chain]
    if any(isinstance(node, (Affine, Linear)) for node in nodes) and \
            all(isinstance(node, (Affine, Linear, Flatten, Scale)) for node in nodes):
        return np.full(layers.size(projection.dst), layers.size(projection.src))  # dense: every pair connected
    return np.asarray((ones.sparse_matrix(projection) != 0).sum(axis=1)).reshape(-1)


def constant_drive(layers: LayerGraph, name: str) -> np.ndarray:
    """``[n]`` bool: the neuron is driven every step (chain bias, its own bias or v_leak)."""
    node = layers.graph.nodes[name]
    drive = np.abs(layers.bias(name)) > 0
    for field_name in ("bias", "v_leak"):
        value = getattr(node, field_name, None)
        if value is not None:
            drive |= np.broadcast_to(np.abs(np.asarray(value)) > 0, node.shape).reshape(-1)
    return drive


def count_activity(graph, x: np.ndarray, spikes: dict[str, np.ndarray], *, weight_bits: int | None,
                   state_bits: int | None, layout: Layout = Layout(), cores: list[Core] | None = None) -> Activity:
    """Counts per core for ``x`` ``[B, T, ...]`` and the run's ``spikes`` per population.
    ``cores`` overrides the placement (e.g. the PEs a backend reports); a core holding
    Input neurons sends their spikes (SpiNNaker 2's spike-source PEs)."""
    layers = layer_graph(graph)
    cores = cores if cores is not None else cores_of(layers)
    where = placement(layers, cores)
    batch, steps = int(x.shape[0]), int(x.shape[1])
    n_cores = len(cores)
    counts = {k: np.zeros((batch, steps, n_cores), dtype=np.int64) for k in COUNTS}
    default_bits, state = weight_bits or 32, state_bits or 32
    ew, ns = hop_matrices(cores, layout)
    ones = structural_view(layers)  # its matrices are built only for chains that are not dense
    notes: list[str] = []

    def activity_of(name: str) -> np.ndarray:
        node = graph.nodes[name]
        if isinstance(node, Input):
            return np.asarray(x, dtype=np.float64).reshape(batch, steps, -1)
        if name in spikes:
            return np.asarray(spikes[name]).reshape(batch, steps, -1)
        notes.append(f"population {name} has no spikes in the run (non-spiking); its outputs count as silent")
        return np.zeros((batch, steps, layers.size(name)))

    def one_hot(name: str) -> np.ndarray:
        rows = where[name]
        hot = np.zeros((rows.size, n_cores))
        placed = rows >= 0
        hot[np.nonzero(placed)[0], rows[placed]] = 1.0
        return hot

    def per_core(events: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """``[B*T, n]`` events x ``[n, C]`` weights -> ``[B, T, C]`` int64 counts."""
        return (events @ weights).reshape(batch, steps, n_cores).round().astype(np.int64)

    hot = {name: one_hot(name) for name in layers.populations}
    received = {n: np.zeros((batch, steps, layers.size(n)), dtype=bool) for n in layers.neurons()}
    bits_of: dict[str, int] = {}
    for projection in layers.projections:
        if projection.dst not in received:  # into an Output: no synapses on a core
            continue
        source = activity_of(projection.src)
        binary = bool(np.isin(source, (0, 1)).all())
        nonzero = (source != 0).reshape(batch * steps, -1).astype(np.float64)
        deployed = (layers.sparse_matrix(projection) != 0).astype(np.float64)  # sparse [n_dst, n_src]
        dst_hot, src_hot = hot[projection.dst], hot[projection.src]
        fanout = deployed.T @ dst_hot  # [n_src, C] synapses into each core
        reach = (fanout > 0).astype(np.float64)
        synops = per_core(nonzero, fanout)
        counts["synops_ac" if binary else "synops_mac"] += synops
        bits_of[projection.name] = bits = layers.weight_bits(projection, default_bits)
        counts["mem_read_bits_weight"] += synops * bits
        structural = structural_fan_in(layers, ones, projection).astype(np.float64) @ dst_hot
        counts["synops_dense"] += structural.round().astype(np.int64)[None, None, :]
        counts["messages_in"] += per_core(nonzero, reach)
        own = src_hot.argmax(axis=1)  # source neuron -> its core row (only where src_hot has a 1)
        counts["messages_out"] += per_core(nonzero, src_hot * reach.sum(axis=1, keepdims=True))
        for key, hops in (("hops_ew", ew), ("hops_ns", ns)):
            counts[key] += per_core(nonzero, (reach * hops[own]).sum(axis=1, keepdims=True) * src_hot)
        # float32 is exact enough for "> 0" and halves the largest product's cost
        received[projection.dst] |= (nonzero.astype(np.float32) @ deployed.T.astype(np.float32)).reshape(batch, steps, -1) > 0
    for name in layers.populations:
        if isinstance(graph.nodes[name], Input) and (where[name] >= 0).any():
            counts["spikes_out"] += per_core((activity_of(name) != 0).reshape(batch * steps, -1).astype(np.float64), hot[name])
    for name, got_input in received.items():
        node = graph.nodes[name]
        active = got_input | constant_drive(layers, name)[None, None, :]
        n_active = (active.reshape(batch * steps, -1).astype(np.float64) @ hot[name]).reshape(batch, steps, n_cores)
        counts["neuron_updates_active"] += n_active.round().astype(np.int64)
        counts["neuron_updates_idle"] += (hot[name].sum(axis=0)[None, None, :] - n_active).round().astype(np.int64)
        update_bits = len(node.state_names) * state
        updates = hot[name].sum(axis=0).round().astype(np.int64)[None, None, :]
        counts["mem_read_bits_state"] += updates * update_bits
        counts["mem_write_bits_state"] += updates * update_bits
        if isinstance(node, SpikingNeuron) and name in spikes:
            counts["spikes_out"] += per_core(np.asarray(spikes[name]).reshape(batch * steps, -1).astype(np.float64), hot[name])
    return Activity(layers, tuple(cores), layout, counts, bits_of, state, tuple(dict.fromkeys(notes)))
