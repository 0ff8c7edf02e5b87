"""Canonical integer IR graph -> Loihi 2 :class:`NetSpec` (Lava processes).

Populations come from :func:`snncc.lowering.layer_graph`: every Input is a binary
spike source, every neuron node one Lava ``LIF`` process, or several when its neurons
need different ``du``/``dv`` (CubaLIF: also ``vth``; Lava has one per process; the
processes are "split" and their neurons keep a map back to the node). LIF/IF neurons
with different thresholds (of any sign) share a process through threshold offsets
(:mod:`.offsets`: shifted initial state and bias, a diagonal self-connection). Every projection becomes one
connection per (source process, destination process) with integer weights
``W = g * matrix / (s * 2**weight_exp)`` (``g``, ``s``: see :mod:`.dynamics`). Lava drops
the LSB of mixed-sign weights, so those are stored doubled with ``weight_exp - 1``
(exact: the sum is shifted right by one). Lava synapses take one step, so
:func:`snncc.lowering.schedule` gives each population a lag; extra delays become
``DelayDense``/``DelaySparse``. Every violation is collected into one SnnccError.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from snncc.diagnostics import Diagnostic, Severity, SnnccError
from snncc.ir import IF, LIF, Comparator, CubaLIF, Flatten, Graph, Input, Neuron, Output, ResetMode
from snncc.lowering import LayerGraph, Projection, is_integral, layer_graph, schedule
from snncc.targets.loihi2.dynamics import V_SHIFT, NeuronParams, neuron_params
from snncc.targets.loihi2.netspec import Connection, InputPort, LifPopulation, NetSpec
from snncc.targets.loihi2.offsets import Offsets, threshold_offsets

__all__ = ["Lowered", "NodeMap", "lower", "SPARSE_DENSITY"]

SUPPORTED = (LIF, IF, CubaLIF)
#: connections at most this dense (and not tiny) become Lava Sparse / DelaySparse
SPARSE_DENSITY = 0.25
SPARSE_MIN_SIZE = 4096


@dataclass(frozen=True, eq=False)
class NodeMap:
    """An IR neuron node and the Lava processes that realise it."""

    ir: str
    kind: str
    size: int
    lag: int
    state_scale: float                     # real v = (Lava v / 64) * state_scale
    current_gain: float                    # CubaLIF: real i = (Lava u / 64) * state_scale / current_gain
    processes: tuple[str, ...]
    neurons: tuple[np.ndarray, ...]        # per process: the node's neuron indices it holds


@dataclass(frozen=True, eq=False)
class Lowered:
    spec: NetSpec
    inputs: dict[str, str]                 # IR Input node -> input port
    nodes: tuple[NodeMap, ...]
    lags: dict[str, int]                   # IR population -> steps behind the reference
    output: tuple[str, str] | None         # (IR Output node, IR population it reads)
    notes: list[Diagnostic] = field(default_factory=list)
    offsets: dict[str, dict] = field(default_factory=dict)  # process -> threshold offset report

    def node(self, name: str) -> NodeMap:
        return next(m for m in self.nodes if m.ir == name)

    @property
    def max_lag(self) -> int:
        return max(self.lags.values(), default=0)


def lower(graph: Graph) -> Lowered:
    """Lower ``graph`` (after discretize/quantize); raises SnnccError with every violation."""
    problems = [d for name, node in graph.items_of(Neuron) for d in _feature_problems(name, node)]
    layers = lags = extra = None
    try:
        layers = layer_graph(graph)
        lags, extra = schedule(layers, min_latency=1)
    except SnnccError as error:
        problems += error.diagnostics
    if layers is None or lags is None:
        raise SnnccError(problems)
    output = _output(graph, layers, problems)
    names = _Names()
    inputs = {name: names.make(name, "in") for name in graph.inputs()}
    ports = [InputPort(inputs[name], layers.size(name)) for name in inputs]
    params = {}
    for name in layers.neurons():
        node = graph.nodes[name]
        if isinstance(node, SUPPORTED):
            params[name] = neuron_params(name, node, layers.bias(name), graph.dt, problems)
    maps, pops, offsets = [], [], {}
    for name, p in params.items():
        if p is not None:
            node_map, node_pops, node_offsets = _split(name, graph.nodes[name], p, lags[name], names,
                                                       problems)
            maps.append(node_map)
            pops += node_pops
            offsets.update(node_offsets)
    notes = [Diagnostic("SNN438", f"split into {len(m.processes)} Lava processes (one per "
                        "distinct du/dv, and vth for CubaLIF)", node=m.ir, severity=Severity.NOTE,
                        hint="time constants (or CubaLIF thresholds) differ between neurons; "
                             "fold-mpbn's sharing avoids the latter")
             for m in maps if len(m.processes) > 1]
    if problems:
        raise SnnccError(problems)
    by_ir = {m.ir: m for m in maps}
    conns: list[Connection] = []
    for proj in layers.projections:
        if proj.dst in by_ir:
            conns += _connections(layers, proj, extra[proj], params[proj.dst], by_ir, inputs, names,
                                  problems)
    conns += [_connection(names.make(f"{proc}__{proc}__offset{i or ''}", "c"), proc, proc, w, exp, None)
              for proc, o in offsets.items() for i, (w, exp) in enumerate(o.self_weights)]
    _check_input_range(offsets, conns, problems)
    spec = NetSpec(tuple(ports), tuple(pops), tuple(conns))
    found = spec.validate()
    problems += [d for d in found if d.severity is Severity.ERROR]
    notes += [d for d in found if d.severity is not Severity.ERROR]
    if problems:
        raise SnnccError(problems)
    return Lowered(spec, inputs, tuple(maps), dict(lags), output, notes,
                   {proc: o.report for proc, o in offsets.items()})


def _feature_problems(name: str, node: Neuron) -> list[Diagnostic]:
    out = []

    def add(code: str, message: str, hint: str) -> None:
        out.append(Diagnostic(code, message, node=name, hint=hint))

    if not isinstance(node, SUPPORTED):
        spiking = getattr(node, "spiking", False)
        add("SNN434", f"{node.kind} neurons are not supported on Loihi 2 (Lava LIF: LIF, IF, CubaLIF)"
            + ("" if spiking else "; a non-spiking readout has no Lava process"),
            "use a spiking output layer with reset to zero and read spike counts" if not spiking
            else "convert the neuron to LIF/IF/CubaLIF")
        return out
    if node.reset is not ResetMode.VALUE:
        add("SNN434", f"reset mode '{node.reset.value}': Lava's LIF resets v to 0",
            "train/import with reset to zero (reset='zero' / ImportOptions(reset='value'))")
    elif np.any(np.asarray(node.v_reset) != 0):
        add("SNN434", "v_reset != 0: Lava's LIF resets v to exactly 0", "use v_reset = 0")
    if node.comparator is not Comparator.GT:
        add("SNN434", "comparator '>=': Lava spikes on v > vth", "use the '>' comparator")
    if node.membrane_bn is not None:
        add("SNN434", "membrane batch norm is still present", "run fold-mpbn before lowering")
    return out


def _output(graph: Graph, layers: LayerGraph, problems: list[Diagnostic]) -> tuple[str, str] | None:
    outputs = graph.outputs()
    if len(outputs) > 1:
        problems.append(Diagnostic("SNN436", f"{len(outputs)} Output nodes; the Loihi 2 backends "
                                   "read one", hint="merge the outputs"))
    if not outputs:
        return None
    name = outputs[0]
    feeds = layers.into(name)
    ok = (len(feeds) == 1 and isinstance(graph.nodes[feeds[0].src], Neuron)
          and all(isinstance(graph.nodes[c], Flatten) for c in feeds[0].chain))
    if not ok:
        problems.append(Diagnostic(
            "SNN436", "the Output must read one spiking population directly (Lava processes have no "
            "host-side linear readout)", node=name, hint="end the network with a spiking layer"))
        return None
    return name, feeds[0].src


class _Names:
    """Unique Python-identifier names for Lava processes (IR names like '0' are not)."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def make(self, name: str, prefix: str) -> str:
        base = re.sub(r"\W", "_", name)
        if not base or not (base[0].isalpha() or base[0] == "_"):
            base = f"{prefix}_{base}"
        candidate, i = base, 1
        while candidate in self.used:
            candidate, i = f"{base}_{i}", i + 1
        self.used.add(candidate)
        return candidate


def _split(name: str, node: Neuron, p: NeuronParams, lag: int, names: _Names,
           problems: list[Diagnostic]) -> tuple[NodeMap, list[LifPopulation], dict[str, Offsets]]:
    """One process per distinct (du, dv), and per distinct vth for CubaLIF; LIF/IF neurons
    with different thresholds share a process through threshold offsets (offsets.py)."""
    offset = not isinstance(node, CubaLIF)
    keys = np.stack([np.zeros_like(p.vth) if offset else p.vth, p.du, p.dv], axis=1)
    distinct = np.unique(keys, axis=0)
    base = names.make(name, "n")
    procs, neurons, pops, offsets = [], [], [], {}
    for i, key in enumerate(distinct):
        idx = np.flatnonzero(np.all(keys == key, axis=1))
        proc = base if len(distinct) == 1 else names.make(f"{base}_{i}", "n")
        vth, mant, exp, v_init = p.vth[idx], p.bias_mant[idx], p.bias_exp[idx], None
        if offset and (vth.min() < 0 or np.any(vth != vth[0])):
            found = threshold_offsets(name, vth, int(key[2]), mant, exp, problems)
            if found is not None:
                offsets[proc] = found
                vth, mant, exp, v_init = found.vth, found.bias_mant, found.bias_exp, found.v_init
        pops.append(LifPopulation(proc, idx.size, du=int(key[1]), dv=int(key[2]), vth=int(np.max(vth)),
                                  bias_mant=mant, bias_exp=exp,
                                  v_init=v_init if v_init is not None else np.zeros(0, np.int64)))
        procs.append(proc)
        neurons.append(idx)
    return NodeMap(name, node.kind, node.size, lag, p.state_scale, p.current_gain,
                   tuple(procs), tuple(neurons)), pops, offsets


def _check_input_range(offsets: dict[str, Offsets], conns: list[Connection],
                       problems: list[Diagnostic]) -> None:
    """quantize keeps every step's input inside u's 24 bits; the reset correction adds to
    it, so check the sum for offset processes (u wraps silently in Lava)."""
    for proc in offsets:
        worst = sum(np.abs(c.weights).sum(1) * 2.0**c.weight_exp for c in conns if c.dst == proc)
        if np.max(worst, initial=0) * V_SHIFT > 2**23:
            problems.append(Diagnostic(
                "SNN437", f"process {proc}: the largest input of one step plus the threshold offset's reset "
                f"correction ({float(np.max(worst)):.6g} state units) can wrap Lava's 24-bit u",
                node=offsets[proc].node,
                hint="thresholds spread too far for one Lava process; retrain or prune"))


def _connections(layers: LayerGraph, proj: Projection, extra: int, p: NeuronParams,
                 by_ir: dict[str, NodeMap], inputs: dict[str, str], names: _Names,
                 problems: list[Diagnostic]) -> list[Connection]:
    exp = layers.weight_exp(proj)
    if exp < 0:
        problems.append(Diagnostic(
            "SNN437", f"projection {proj.name}: weight_exp {exp} < 0; Lava floors the shifted sum, "
            "which is not the quantized arithmetic", node=proj.dst,
            hint="quantize with weight_exp_range (0, 7)"))
        return []
    scaled = layers.matrix(proj) * p.input_gain[:, None] / (p.state_scale * 2.0**exp)
    if not np.all(is_integral(scaled)):
        r, c = np.argwhere(~is_integral(scaled))[0]
        problems.append(Diagnostic(
            "SNN435", f"projection {proj.name}: weight [{r}, {c}] = {scaled[r, c]:.6g} units of "
            f"state_scale * 2**{exp} is not an integer", node=proj.chain[-1] if proj.chain else proj.dst,
            hint="run quantize (weights must be integers times the destination's scale)"))
        return []
    weights = np.rint(scaled).astype(np.int64)
    delays = layers.delays(proj)
    per_src = (np.zeros(weights.shape[1], np.int64) if delays is None else delays) + extra
    sources = ([(inputs[proj.src], np.arange(weights.shape[1]))] if proj.src in inputs else
               list(zip(by_ir[proj.src].processes, by_ir[proj.src].neurons)))
    out = []
    for dst, rows in zip(by_ir[proj.dst].processes, by_ir[proj.dst].neurons):
        for src, cols in sources:
            w = weights[np.ix_(rows, cols)]
            if not w.any():
                continue
            d = np.broadcast_to(per_src[cols], w.shape)
            out.append(_connection(names.make(f"{src}__{dst}", "c"), src, dst, w, exp,
                                   d if d.any() else None))
    return out


def _connection(name: str, src: str, dst: str, w: np.ndarray, exp: int,
                delays: np.ndarray | None) -> Connection:
    mixed = w.min() < 0 < w.max()
    mode = "mixed" if mixed else ("inhibitory" if w.max() <= 0 else "excitatory")
    if mixed:  # Lava truncates the LSB of mixed-sign weights: store 2W, shift one less
        w, exp = 2 * w, exp - 1
    sparse = w.size >= SPARSE_MIN_SIZE and np.count_nonzero(w) <= SPARSE_DENSITY * w.size
    return Connection(name, src, dst, w, num_weight_bits=8, weight_exp=exp, sign_mode=mode,
                      delays=None if delays is None else np.array(delays), sparse=bool(sparse))
