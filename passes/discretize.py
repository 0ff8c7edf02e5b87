"""discretize: continuous-time neurons -> the per-step canonical form (lowering contract §2).

Per step the reference simulator computes, with ``a = 1 - dt/tau``:

- LIF/LI: ``v = a v + g I + c`` with input gain ``g = dt r / tau``, drive ``c = (dt/tau) v_leak + g bias``
- IF/I:   ``v = v + r I + r bias``
- CubaLIF/CubaLI: ``i = a_i i + g_i I`` (``g_i = dt w_in / tau_syn``), ``v = a_v v + g_v i + c``;
  with ``i' = g_v i`` this is ``i' = a_i i' + g_v g_i I`` and ``v = a_v v + i' + c``.

The pass rewrites every neuron so that the gain is 1 (``r = tau/dt``, ``w_in = tau_syn/dt``,
``IF.r = 1``): the gain moves into the incoming weights (rows / conv channels / Scale
elements, as the folding passes do) or, when no private weight layer feeds the neuron,
into a ``Scale`` node inserted on each incoming edge. ``v_leak`` moves into ``bias``
(non-spiking neurons have no bias, so they keep ``v_leak``, rescaled to the new tau). Each
decay is rounded to the nearest the target realises (``Capabilities.extra["decay_format"]``,
see _decay.py) and ``tau`` is rewritten so that ``1 - dt/tau`` is that decay; its integer
form goes into ``quant.extra``. ``v`` is unchanged, so thresholds and resets are too.

With the "float" format this is exact up to float rounding. Reported per layer in
``ctx.reports["discretize"]``: requested and effective time constants and their relative
error (warning SNN321 above ``tolerance``). Idempotent: a second run returns the same graph.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from snncc.diagnostics import Diagnostic, Severity, SnnccError
from snncc.ir import (
    IF, LIF, CubaLI, CubaLIF, Delay, Edge, Flatten, Graph, I, LI, Neuron, Quantization, Scale, infer_shapes,
    per_neuron,
)
from snncc.passbase import Pass, PassContext, PassResult

from ._decay import DecayFormat, Realised, decay_format, realise, relative_error, stored, summary
from ._folding import scale_inputs

#: quant.extra keys discretize owns (replaced on every run)
DECAY_KEYS = ("dv", "du", "leak_shift", "leak_shift_syn", "alpha", "alpha_syn")


@dataclass(frozen=True)
class Discretize(Pass):
    name: ClassVar[str] = "discretize"
    lossy: ClassVar[bool] = True  # rounds decays (exact only with the "float" format)
    #: relative time-constant error above which the rounding is noted as a warning (SNN321)
    tolerance: float = 0.05
    #: "nearest" decay in relative tau error, or "floor": the leak rounds down (as Lava converters do)
    decay_rounding: str = "nearest"

    def run(self, graph: Graph, ctx: PassContext) -> PassResult:
        if self.decay_rounding not in ("nearest", "floor"):
            raise SnnccError.single("SNN324", f"decay_rounding={self.decay_rounding!r} is not a rounding discretize knows",
                                    hint='use decay_rounding="nearest" (default) or "floor"')
        fmt = dataclasses.replace(decay_format(ctx.capabilities), rounding=self.decay_rounding)
        names = [n for n, _ in graph.items_of(Neuron)]
        problems = [Diagnostic("SNN323", "neuron is already quantized; discretize must run before quantize",
                               node=n, hint="put discretize before quantize in the pipeline")
                    for n in names if graph.nodes[n].quant is not None and graph.nodes[n].quant.params]
        if graph.dt is None and any(isinstance(graph.nodes[n], (LIF, LI, CubaLIF, CubaLI)) for n in names):
            problems.append(Diagnostic("SNN322", "the graph has time constants but no time step dt",
                                       hint="pass dt (e.g. --dt 1e-3)"))
        if problems:
            raise SnnccError(problems)
        layers: dict[str, Any] = {}
        changes: dict[str, list[str]] = {"discretized": [], "gain_into_weights": [], "gain_scale": []}
        for name in names:
            node = graph.nodes[name]
            new, gain, report = _canonical(node, graph.dt, fmt)
            layers[name] = report
            worst = max((v["rel_error"] for v in report.values() if isinstance(v, dict) and "rel_error" in v), default=0.0)
            if worst > self.tolerance:
                ctx.notes.append(Diagnostic(
                    "SNN321", f"{node.kind} time constant off by {worst:.1%} after rounding the decay to the "
                    f"target's format {fmt.spec()}", node=name, severity=Severity.WARNING,
                    hint="pick dt so that dt/tau is representable, or retrain with the realised decay"))
            if new is node and np.all(gain == 1):
                continue
            changes["discretized"].append(name)
            graph = graph.with_node(name, new)
            if np.all(gain == 1):
                continue
            scaled, found = scale_inputs(graph, name, gain, "discretize moves the input gain into the weights",
                                         cuba_w_in=False, through=(Flatten, Delay))
            if found:
                graph, inserted = _insert_gain(graph, name, gain)
                changes["gain_scale"] += inserted
            else:
                graph = scaled
                changes["gain_into_weights"].append(name)
        ctx.reports["discretize"] = {"format": fmt.spec(), "dt": graph.dt, "layers": layers}
        changes = {k: v for k, v in changes.items() if v}
        return PassResult(graph, bool(changes), changes)


def _gain(value: np.ndarray, canonical: np.ndarray, dt_over_tau: np.ndarray) -> np.ndarray:
    """The per-step gain ``dt/tau * value``, exactly 1 where ``value`` is already ``tau/dt``
    (so a second run does not rescale weights by 1 +- 1 ulp)."""
    return np.where(value == canonical, 1.0, dt_over_tau * value)


def _tau_report(requested: np.ndarray, realised: Realised) -> dict[str, Any]:
    return {"requested": summary(requested), "effective": summary(realised.tau),
            "rel_error": relative_error(requested, realised.tau)}


def _canonical(node: Neuron, dt: float | None, fmt: DecayFormat) -> tuple[Neuron, np.ndarray, dict[str, Any]]:
    """(the canonical node, the input gain to move out, the layer's report)."""
    shape = node.shape
    f = lambda value, default=0.0: per_neuron(value, shape, default)  # noqa: E731
    changes: dict[str, np.ndarray | None] = {}
    extra: dict[str, Any] = {}
    report: dict[str, Any] = {"kind": node.kind}
    one = 2 ** fmt.bits
    if isinstance(node, (IF, I)):
        gain = f(node.r)
        changes["r"] = np.ones(shape)
        drive, g_bias = np.zeros(shape), gain
        if fmt.kind == "fraction":
            extra = {"dv": 0, "du": one - fmt.syn_offset}
        elif fmt.kind == "float32":
            extra = {"alpha": 1.0}
    else:
        cuba = isinstance(node, (CubaLIF, CubaLI))
        tau = f(node.tau_mem if cuba else node.tau)
        mem = realise(fmt, tau, dt, synaptic=False)
        g_bias = _gain(f(node.r), tau / dt, dt / tau)
        drive = dt / tau * f(node.v_leak)
        changes["tau_mem" if cuba else "tau"] = mem.tau
        changes["r"] = mem.tau / dt
        report["tau_mem" if cuba else "tau"] = _tau_report(tau, mem)
        syn = None
        gain = g_bias
        if cuba:
            tau_syn = f(node.tau_syn)
            syn = realise(fmt, tau_syn, dt, synaptic=True)
            gain = g_bias * _gain(f(node.w_in), tau_syn / dt, dt / tau_syn)
            changes["tau_syn"], changes["w_in"] = syn.tau, syn.tau / dt
            report["tau_syn"] = _tau_report(tau_syn, syn)
        extra = _decay_extra(fmt, mem, syn, one)
        if node.spiking:
            changes["v_leak"] = np.zeros(shape)
        else:  # no bias field: keep the constant drive (dt/tau) v_leak with the new tau
            changes["v_leak"] = f(node.v_leak) * (mem.tau / tau)
    if node.spiking:
        bias = g_bias * f(node.bias) + drive
        changes["bias"] = None if node.bias is None and not np.any(bias) else bias
    report["gain"] = summary(gain)
    report["decay"] = extra
    return _replace_changed(node, changes, extra), gain, report


def _decay_extra(fmt: DecayFormat, mem: Realised, syn: Realised | None, one: int) -> dict[str, Any]:
    if fmt.kind == "float":
        return {}
    if fmt.kind == "float32":
        keys = ("alpha", "alpha_syn")
    elif fmt.kind == "fraction":
        keys = ("dv", "du")
    else:
        keys = ("leak_shift", "leak_shift_syn")
    extra = {keys[0]: stored(mem.integers)}
    if syn is not None:
        extra[keys[1]] = stored(syn.integers)
    elif fmt.kind == "fraction":  # a single-state neuron's current keeps only this step's input
        extra["du"] = one - fmt.syn_offset
    return extra


def _replace_changed(node: Neuron, changes: dict[str, Any], extra: dict[str, Any]) -> Neuron:
    """``node`` with the changed values only; the same object when every value is equal."""
    kept: dict[str, Any] = {}
    for key, value in changes.items():
        old = getattr(node, key)
        same = (old is None and value is None) or (
            old is not None and value is not None and np.shape(old) == np.shape(value) and np.array_equal(old, value))
        if not same:
            kept[key] = value
    old_extra = dict(node.quant.extra) if node.quant is not None else {}
    new_extra = {k: v for k, v in old_extra.items() if k not in DECAY_KEYS} | extra
    if new_extra != old_extra:
        kept["quant"] = Quantization(params=dict(node.quant.params) if node.quant else {}, extra=new_extra) \
            if new_extra or (node.quant and node.quant.params) else None
    return node.replace(**kept) if kept else node


def _insert_gain(graph: Graph, name: str, gain: np.ndarray) -> tuple[Graph, list[str]]:
    """A Scale of ``gain`` on every edge into ``name`` (one per edge, so a recurrent edge stays
    the back edge into the neuron); placed just before the neuron in node order."""
    out_shapes = infer_shapes(graph).output_shapes
    inserted: dict[str, Scale] = {}
    edges: list[Edge] = []
    for edge in graph.edges:
        if edge.dst != name:
            edges.append(edge)
            continue
        label = _fresh(graph, f"{name}_gain", inserted)
        shape = out_shapes.get(edge.src) or gain.shape
        inserted[label] = Scale(scale=gain.reshape(shape))
        edges += [Edge(edge.src, label, edge.src_port, "input"), Edge(label, name, "output", edge.dst_port)]
    nodes: dict[str, Any] = {}
    for key, value in graph.nodes.items():
        if key == name:
            nodes.update(inserted)
        nodes[key] = value
    return graph.replace(nodes=nodes, edges=tuple(edges)), list(inserted)


def _fresh(graph: Graph, base: str, taken: dict[str, Any]) -> str:
    label, i = base, 1
    while label in graph.nodes or label in taken:
        label, i = f"{base}{i}", i + 1
    return label
