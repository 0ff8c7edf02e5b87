"""Canonical integer graph -> SpiNNaker 2 :class:`NetSpec` (docs/lowering-contract.md §4).

- Populations: Input -> ``spike_list``; LIF/IF/CubaLIF -> the lif family, converted by
  :func:`nir_import.lif_population_from_nir` with forward Euler (the reference
  simulator's arithmetic). Hardware voltage = model voltage / ``s_N`` (the state scale
  ``quantize`` attached; 1 for a graph that already has integer weights), so weights
  are the integers ``LayerGraph.matrix(p) / s_N``. Non-spiking LI/I/CubaLI get a
  threshold they never reach. Recorded (DTCM per step, spinnaker2.md §3.3): the spikes of
  populations that feed an Output, ``v`` of non-spiking ones; the emulator sees all.
- Projections: one Conv2d (after at most a SumPool2d with kernel = stride) as the only
  input of a LIF/IF population -> ``Conv2DProjection`` into ``lif_conv2d``; everything
  else -> a dense integer matrix.
- Timing: S2 delivers a spike one step after it is sent, so :func:`schedule` with
  ``min_latency=1`` gives each population's lag behind the reference; the extra delay a
  projection needs (skip connections) plus its Delay node become synaptic delays, which
  only the delay models (``lif``, ``lif_curr_exp``: 4-bit weights, 0..7 steps) have.
- PE split: ``node.cores`` from map-cores when present (largest slice), else per
  population the fewest PEs whose DTCM fits (at most 256 neurons each).
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from snncc.diagnostics import Diagnostic, Severity
from snncc.ir import (
    Comparator, Conv2d, Delay, Graph, Input, Neuron, Output, ResetMode, SpikingNeuron, SumPool2d,
    evaluation_order,
)
from snncc.lowering import (
    LayerGraph, Projection as IRProjection, is_integral, layer_graph, schedule, state_scale,
)

from .limits import DEFAULT_TIMESTEPS, SpiNNaker2Limits
from .memory import pe_memory, population_memory
from .netspec import NetSpec, NeuronParams, Population, Projection, RunOptions
from .nir_import import (
    conv2d_projection_from_nir, dense_projection_from_nir, lif_population_from_nir,
)

#: set_max_atoms_per_core never exceeds this (8-bit target index, spinnaker2.md §3.3)
MAX_ATOMS = SpiNNaker2Limits.neurons_per_pe_delay
_RESET = {ResetMode.VALUE: "reset_to_v_reset", ResetMode.SUBTRACT: "reset_by_subtraction"}


@dataclass(frozen=True)
class Lowered:
    spec: NetSpec
    #: population -> steps behind the reference simulator
    lags: Mapping[str, int]
    #: lowering errors and notes (limit violations come from validate.find_violations)
    problems: tuple[Diagnostic, ...] = ()
    report: Mapping[str, Any] = field(default_factory=dict)


def timing(graph: Graph) -> tuple[LayerGraph, dict[str, int], dict[IRProjection, int]]:
    """Layer view, lag per population and extra delay per projection on SpiNNaker 2."""
    layers = layer_graph(graph)
    lags, extra = schedule(layers, min_latency=1)
    return layers, lags, extra


def _conv_chain(layers: LayerGraph, p: IRProjection) -> tuple[Conv2d, tuple[int, int]] | None:
    """(conv node, pool) when ``p`` is [SumPool2d(kernel = stride, no padding)] + Conv2d
    from a (C, H, W) population whose H and W the pool divides."""
    conv, pool = layers.conv2d(p, ignoring=(SumPool2d,)), (1, 1)
    if conv is None or layers.graph.nodes[p.chain[-1]] is not conv or len(p.chain) > 2 \
            or len(layers.shape(p.src)) != 3:
        return None
    if len(p.chain) == 2:
        sp = layers.graph.nodes[p.chain[0]]
        if tuple(sp.kernel_size) != tuple(sp.stride) or any(sp.padding):
            return None
        pool = tuple(int(k) for k in sp.kernel_size)
    _, h, w = layers.shape(p.src)
    return (conv, pool) if h % pool[0] == 0 and w % pool[1] == 0 else None


class _Lowering:
    def __init__(self, graph: Graph, limits: SpiNNaker2Limits):
        self.graph, self.limits = graph, limits
        self.layers, self.lags, self.extra = timing(graph)
        self.problems: list[Diagnostic] = []
        order, _ = evaluation_order(graph)
        self.order = [n for n in order if n in self.lags]
        self.into = {n: self.layers.into(n) for n in self.order}
        self.delays = {p: self._delays(p) for p in self.layers.projections if p.dst in self.lags}

    def problem(self, code: str, message: str, node: str, hint: str | None = None,
                severity: Severity = Severity.ERROR) -> None:
        self.problems.append(Diagnostic(code, message, node=node, hint=hint, severity=severity))

    def _delays(self, p: IRProjection) -> np.ndarray:
        own = self.layers.delays(p)
        base = np.zeros(self.layers.size(p.src), dtype=np.int64) if own is None else own
        return base + self.extra[p]

    def weight_scale(self, p: IRProjection) -> float:
        return state_scale(self.graph.nodes[p.dst], 1.0) * 2.0 ** self.layers.weight_exp(p)

    def model(self, name: str) -> str:
        node = self.graph.nodes[name]
        if isinstance(node, Input):
            return "spike_list"
        into = self.into[name]
        cuba = node.kind in ("CubaLIF", "CubaLI")
        if any(self.delays[p].any() for p in into):
            return "lif"
        if not cuba and len(into) == 1 and _conv_chain(self.layers, into[0]) is not None:
            return "lif_conv2d"
        return "lif_no_delay"

    def population(self, name: str, model: str) -> Population:
        node, size = self.graph.nodes[name], self.layers.size(name)
        shape = self.layers.shape(name)
        shape = shape if len(shape) == 3 else None
        if isinstance(node, Input):
            return Population(name, size, "spike_list", max_atoms_per_core=MAX_ATOMS, shape=shape)
        self._check_neuron(name, node)
        reset = _RESET.get(getattr(node, "reset", ResetMode.VALUE), "reset_to_v_reset")
        spiking, chain_bias = isinstance(node, SpikingNeuron), self.layers.bias(name)
        if np.any(chain_bias) and node.kind in ("CubaLIF", "CubaLI"):
            self.problem("SNN449", "the synapse bias charges the synaptic current, which S2 has "
                         "no constant input for: it becomes its steady state in i_offset (as "
                         "py-spinnaker2's NIR importer does), exact once the current settles",
                         name, "move the bias onto the neuron", Severity.NOTE)
        try:
            pop = lif_population_from_nir(
                name, node, dt=self.graph.dt or 0.0, w_scale=1.0 / state_scale(node, 1.0),
                bias=chain_bias, integrator="forward", reset=reset,
                neuron_model=model, record=self._record(name, spiking),
                max_atoms_per_core=MAX_ATOMS, v_reset=getattr(node, "v_reset", 0.0),
                membrane_bias=0.0 if getattr(node, "bias", None) is None else node.bias)
        except ValueError as exc:  # per-neuron gains: no single voltage scale
            self.problem("SNN449", str(exc), name, "add discretize to the pipeline")
            return Population(name, size, model, NeuronParams(threshold=0.0, alpha_decay=1.0),
                              shape=shape)
        if spiking and node.comparator is Comparator.GE:
            # float32 state: v >= th exactly when v > the next float32 below th
            below = np.nextafter(pop.params.threshold, np.float32(-np.inf))
            pop = dataclasses.replace(pop, params=dataclasses.replace(pop.params, threshold=below))
        if self.lags[name] and (pop.params.i_offset.any() or (pop.params.threshold < 0).any()):
            self.problem("SNN449", f"S2 neurons run from tick 0, {self.lags[name]} step(s) before "
                         "this layer's first input arrives: its bias current (or a threshold "
                         "below 0) acts early, so the first steps differ from the reference",
                         name, "a bias-free layer with thresholds >= 0 starts exactly",
                         Severity.NOTE)
        return dataclasses.replace(pop, shape=shape)

    def _record(self, name: str, spiking: bool) -> tuple[str, ...]:
        if not spiking:
            return ("v",)
        return ("spikes",) if any(p.dst not in self.lags for p in self.layers.out_of(name)) else ()

    def _check_neuron(self, name: str, node: Neuron) -> None:
        if not isinstance(node, SpikingNeuron):
            if any(p.dst in self.lags for p in self.layers.out_of(name)):
                self.problem("SNN449", f"non-spiking {node.kind} feeds other neurons; S2 "
                             "neurons send spikes only", name, "make it a spiking layer")
            return
        if node.membrane_bn is not None:
            self.problem("SNN440", "membrane batch norm is still on the neuron", name,
                         "add fold-mpbn to the pipeline")
        if node.reset not in _RESET:
            self.problem("SNN449", f"reset mode '{node.reset.value}' is not available: S2 LIF "
                         "models reset by subtraction or to v_reset", name,
                         "train with reset 'subtract' or 'value'")
        if node.comparator is Comparator.GE and node.reset is ResetMode.SUBTRACT:
            self.problem("SNN449", "'>=' with reset by subtraction cannot be exact: S2 compares "
                         "v > threshold and subtracts that same threshold", name,
                         "use the '>' comparator or reset to a value")

    def projection(self, p: IRProjection, index: int, model: str) -> Projection:
        scale = self.weight_scale(p)
        name = p.name if index == 0 else f"{p.name}#{index}"
        if model == "lif_conv2d":
            conv, pool = _conv_chain(self.layers, p)
            self._require_integers(p, np.asarray(conv.weight, dtype=np.float64) / scale)
            c, h, w = self.layers.shape(p.src)
            return conv2d_projection_from_nir(name, p.src, p.dst, conv, in_channels=c,
                                              w_scale=1.0 / scale, pool=pool,
                                              in_hw=(h // pool[0], w // pool[1]))
        matrix = self.layers.matrix(p)
        self._require_integers(p, matrix / scale)
        delays = self.delays[p]
        delay = int(delays[0]) if np.unique(delays).size <= 1 and delays.size else \
            np.broadcast_to(delays[:, None], (delays.size, matrix.shape[0]))
        return dense_projection_from_nir(name, p.src, p.dst, matrix, w_scale=1.0 / scale,
                                         delay=delay)

    def _require_integers(self, p: IRProjection, values: np.ndarray) -> None:
        if not np.all(is_integral(values, rtol=1e-5, atol=1e-3)):
            self.problem("SNN440", f"weights of {p.name} are not integers at the state scale of "
                         f"'{p.dst}'", p.dst, "add quantize to the pipeline")


def _assigned_atoms(node) -> int | None:
    """Most neurons map-cores put on one core: py-spinnaker2 cuts a population into equal
    consecutive slices (set_max_atoms_per_core), so its tiles become slices of that size."""
    cores = getattr(node, "cores", None)
    if cores is None or not cores.slices:
        return None
    per_core: dict[tuple[int, int], int] = {}
    for s in cores.slices:
        per_core[(s.chip, s.core)] = per_core.get((s.chip, s.core), 0) + s.stop - s.start
    return max(per_core.values())


def _fit_atoms(spec: NetSpec, index: int, lim: SpiNNaker2Limits) -> int:
    """Fewest PEs (largest slice <= MAX_ATOMS) whose DTCM all fits; 1 neuron if none does."""
    pop = spec.populations[index]
    pops = list(spec.populations)

    def fits(n_cores: int) -> bool:
        atoms = -(-pop.size // n_cores)
        pops[index] = dataclasses.replace(pop, max_atoms_per_core=atoms)
        trial = dataclasses.replace(spec, populations=tuple(pops))
        return all(m.total_bytes <= lim.dtcm_bytes
                   for m in population_memory(trial, pops[index], lim))

    lo, hi = -(-pop.size // MAX_ATOMS), pop.size
    if fits(lo):
        return -(-pop.size // lo)
    while lo < hi:  # memory per PE shrinks as the population spreads over more PEs
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if fits(mid) else (mid + 1, hi)
    return -(-pop.size // lo)  # == 1 neuron per PE when nothing fits: validation says so


def lower(graph: Graph, *, timesteps: int = DEFAULT_TIMESTEPS,
          limits: SpiNNaker2Limits | None = None) -> Lowered:
    """The S2 netlist of ``graph`` plus every lowering problem found (not raised)."""
    lim = limits or SpiNNaker2Limits()
    low = _Lowering(graph, lim)
    models = {n: low.model(n) for n in low.order}
    pops = [low.population(n, models[n]) for n in low.order]
    projections = []
    for dst in low.order:
        seen: dict[str, int] = {}
        for p in low.into[dst]:
            projections.append(low.projection(p, seen.get(p.name, 0), models[dst]))
            seen[p.name] = seen.get(p.name, 0) + 1
    source = str(graph.metadata.get("source") or "snncc")
    spec = NetSpec(os.path.splitext(source)[0] or "snncc", tuple(pops), tuple(projections),
                   RunOptions(timesteps=timesteps))
    for i, name in enumerate(low.order):
        atoms = _assigned_atoms(graph.nodes[name]) or _fit_atoms(spec, i, lim)
        atoms = min(atoms, spec.populations[i].size)
        pops[i] = dataclasses.replace(spec.populations[i], max_atoms_per_core=atoms)
        spec = dataclasses.replace(spec, populations=tuple(pops))
    return Lowered(spec, dict(low.lags), tuple(low.problems), _report(spec, low))


def _report(spec: NetSpec, low: _Lowering) -> dict[str, Any]:
    memory = pe_memory(spec, low.limits)
    pops = {}
    for pop in spec.populations:
        mine = [m for m in memory if m.population == pop.name]
        per_step = max(m.recording_bytes for m in mine) / max(spec.run.timesteps, 1)
        room = min((low.limits.dtcm_bytes - m.total_bytes + m.recording_bytes) for m in mine)
        pops[pop.name] = {
            "neuron_model": pop.neuron_model, "size": pop.size, "pes": pop.n_cores,
            "max_atoms_per_core": pop.max_atoms_per_core, "lag": low.lags[pop.name],
            "v_scale": pop.v_scale, "max_pe_bytes": max(m.total_bytes for m in mine),
            # longest run whose recording buffers still fit every PE of the population
            "max_timesteps": None if per_step == 0 else int(max(room, 0) // per_step),
        }
    projs = {j.name: {
        "pre": j.pre, "post": j.post, "kind": j.kind, "weight_scale": j.weight_scale,
        "max_abs_weight": int(np.abs(j.weights).max(initial=0)),
        "weight_limit": low.limits.weight_limit(spec.population(j.post).neuron_model),
        "synapses": int(np.count_nonzero(j.weights)) if j.kind != "conv2d" else int(j.weights.size),
        "delays": [int(j.delays.min(initial=0)), int(j.delays.max(initial=0))],
    } for j in spec.projections}
    return {"timesteps_budget": spec.run.timesteps, "pes": sum(p.n_cores for p in spec.populations),
            "populations": pops, "projections": projs}
