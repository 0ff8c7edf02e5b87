"""quantize: integer weights, biases, thresholds in the target's formats (lowering contract §3).

Per neuron layer N (after discretize, so the per-step update is ``v = a v + I + bias``):

1. ``per_channel``: first an exact rewrite ``u_j = k_j v_j`` (the folding passes' neuron
   scaling) that gives every neuron's incoming rows the same largest |weight|, so one
   per-layer scale uses the full integer range on every row (the thresholds become per neuron).
2. The state scale ``s_N`` (real state = integer * s_N) is the smallest that keeps
   (a) every connection's weights in range with an exponent <= the largest allowed,
   (b) the thresholds in ``threshold_bits``, (c) the largest possible input of one step
   (every input active, divided by 1 - a_syn for a current) in the state register, so it
   can never wrap, and (d) the biases in range; then it is raised to ``w_max / 2^k`` so the
   largest connection uses its exact integer range. ``state_scale`` pins ``s_N`` for every
   layer instead (e.g. to reproduce another converter's integers); SNN337 when it is finer
   than what (a)-(d) allow.
3. Each connection's weights are ``round(W / (s_N 2^e))`` with its exponent e (one per
   connection) clipped to the connection's range (sign mode and caps, _quant.py); chain
   biases, the neuron bias (the total with the chains' biases, in ``mant << exp`` form),
   thresholds and resets are rounded in state units. The float fields get the dequantized
   values, so the reference simulator runs the integer network.

Nothing wraps: saturated values, weights rounded to zero, thresholds out of range and
neurons that can no longer fire are counted per layer in ``ctx.reports["quantize"]`` (and
warned about); with ``ctx.calibration`` the report also has the per-layer spike agreement
of the float and the quantized graph in the reference simulator.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from snncc.diagnostics import Diagnostic, Severity, SnnccError
from snncc.ir import (
    Affine, Conv1d, Conv2d, CubaLIF, Delay, Flatten, Graph, IntParam, Neuron, Quantization, Scale,
    SpikingNeuron, per_neuron,
)
from snncc.lowering import LayerGraph, Projection, layer_graph, schedule
from snncc.passbase import Pass, PassContext, PassResult

from ._fidelity import agreement, can_fire, not_integral, peak_input, source_bound
from ._folding import WEIGHTED
from ._quant import Formats, clip_magnitude, exponent, formats, round_bias, round_clip
from ._quant_layers import equalize_rows



@dataclass(frozen=True)
class Quantize(Pass):
    name: ClassVar[str] = "quantize"
    lossy: ClassVar[bool] = True
    #: weight width (None: Capabilities.weight_bits)
    weight_bits: int | None = None
    #: equalize each neuron's incoming rows first (per-neuron thresholds; exact in float)
    per_channel: bool = False
    #: map this percentile of the non-zero |w| (not the max) to the largest integer: the rest saturate
    percentile: float | None = None
    #: calibration samples run for the spike-agreement report
    calibration_samples: int = 64
    #: real state value of one integer unit in every layer (None: chosen per layer as above)
    state_scale: float | None = None

    def run(self, graph: Graph, ctx: PassContext) -> PassResult:
        fmt = formats(ctx.capabilities, self.weight_bits)
        if self.percentile is not None and not 0 < self.percentile <= 100:
            raise SnnccError.single("SNN331", f"percentile={self.percentile} is not in (0, 100]")
        if self.state_scale is not None and not (np.isfinite(self.state_scale) and self.state_scale > 0):
            raise SnnccError.single("SNN331", f"state_scale={self.state_scale} is not a positive number")
        if fmt is None:
            ctx.reports["quantize"] = {"skipped": "the target stores float weights; give quantize{weight_bits=...}"}
            return PassResult(graph, False)
        todo = [n for n, node in graph.items_of(Neuron) if not _quantized(node)]
        if not todo:
            return PassResult(graph, False)
        unfolded = [Diagnostic("SNN336", "membrane batch norm is not folded", node=n, hint="run fold-mpbn before quantize")
                    for n in todo if getattr(graph.nodes[n], "membrane_bn", None) is not None]
        if unfolded:
            raise SnnccError(unfolded)
        original = graph
        input_max = float(max(1.0, np.max(ctx.calibration))) if ctx.calibration is not None else 1.0
        changes: dict[str, Any] = {}
        if self.per_channel:
            graph, equalized = equalize_rows(graph, todo)
            if equalized:
                changes["equalized"] = equalized
        layers = layer_graph(graph)
        extra_delays = schedule(layers, fmt.latency)[1] if fmt.latency else {}
        plans = [_plan(layers, name, fmt, self.percentile, input_max, _uses_delays(layers, name, extra_delays),
                       self.state_scale) for name in todo]
        problems = [d for p in plans for d in p.problems]
        if problems:
            raise SnnccError(problems)
        weighted = {n: node for p in plans for n, node in p.weights.items()}
        quantized = graph.map_nodes(lambda n, v: weighted.get(n, v))
        # the projections' matrices and biases are final here: the neuron nodes replaced next
        # are not part of them, so this layer view serves the checks too
        after = layer_graph(quantized)
        neurons = {p.name: _neuron(after, p, fmt) for p in plans}
        quantized = quantized.map_nodes(lambda n, v: neurons.get(n, v))
        report: dict[str, Any] = {"weight_bits": fmt.weight_bits, "per_channel": self.per_channel,
                                  "percentile": self.percentile, "layers": {}}
        for plan in plans:
            report["layers"][plan.name] = _finish(layers, after, neurons[plan.name], plan, input_max, ctx,
                                                  self.percentile is None)
        if ctx.calibration is not None:
            spikes = agreement(original, quantized, ctx.calibration, self.calibration_samples)
            for name, entry in spikes.items():
                report["layers"].setdefault(name, {})["spike_agreement"] = entry
        ctx.reports["quantize"] = report
        changes["quantized"] = [p.name for p in plans]
        return PassResult(quantized, True, changes)


def _quantized(node: Neuron) -> bool:
    return node.quant is not None and "state_scale" in node.quant.extra


@dataclass
class _Plan:
    name: str
    scale: float = 1.0
    weights: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    problems: list[Diagnostic] = field(default_factory=list)


def _uses_delays(layers: LayerGraph, name: str, extra_delays: dict[Projection, int]) -> bool:
    """Does the layer need synapses with delays (its own Delay, or an extra delay from
    :func:`schedule` on a target with synaptic latency)?"""
    into = layers.into(name)
    if any((d := layers.delays(p)) is not None and np.any(d) for p in into):
        return True
    return any(extra_delays.get(p, 0) > 0 for p in into)


def _weight_node(layers: LayerGraph, p: Projection, name: str, plan: _Plan) -> str | None:
    found = [c for c in p.chain if isinstance(layers.graph.nodes[c], WEIGHTED)]
    if len(found) != 1:
        plan.problems.append(Diagnostic(
            "SNN330", f"projection {p.name} has {len(found)} weight layers; quantize needs exactly one per projection",
            node=name, hint="run simplify (merges consecutive dense layers, folds Scale) before quantize, "
            "or add a Linear in front of the neuron"))
        return None
    owners = {q.dst for q in layers.projections if found[0] in q.chain}
    if len(owners) > 1:
        plan.problems.append(Diagnostic(
            "SNN330", f"weight layer '{found[0]}' feeds {len(owners)} neuron layers, which get their own scales",
            node=found[0], hint="give each neuron layer its own weight layer"))
        return None
    return found[0]


def _values(node) -> np.ndarray:
    return np.asarray(node.scale if isinstance(node, Scale) else node.weight, dtype=np.float64)


def _row_abs_sum(layers: LayerGraph, p: Projection, node) -> np.ndarray:
    """Per destination neuron, sum of |weights| of the projection (every input active)."""
    if all(isinstance(layers.graph.nodes[c], (Flatten, Delay)) or c == p.chain[-1] for c in p.chain) \
            and not isinstance(node, (Conv1d, Conv2d)) and layers.graph.nodes[p.chain[-1]] is node:
        w = np.abs(_values(node))
        return w if isinstance(node, Scale) else w.sum(1)
    return np.asarray(abs(layers.sparse_matrix(p)).sum(1))


def _plan(layers: LayerGraph, name: str, fmt: Formats, percentile: float | None, input_max: float,
          delays: bool, pinned: float | None = None) -> _Plan:
    plan = _Plan(name)
    node = layers.graph.nodes[name]
    shape = node.shape
    connections = []
    chain_bias = layers.bias(name)
    worst = np.abs(chain_bias).astype(np.float64)
    for p in layers.into(name):
        wname = _weight_node(layers, p, name, plan)
        if wname is None:
            continue
        w = _values(layers.graph.nodes[wname])
        low, high, mode = fmt.weight_limits(w, delays)
        unit = clip_magnitude(w, percentile) / max(high, -low)
        connections.append((p, wname, w, low, high, mode, unit))
        worst = worst + _row_abs_sum(layers, p, layers.graph.nodes[wname]).reshape(-1) * source_bound(layers, p.src, input_max)
    if plan.problems:
        return plan
    units = [c[-1] for c in connections]
    unit_max = max(units, default=0.0)
    bounds = [unit_max / 2.0 ** fmt.exp_range[1]]
    if fmt.state_bits is not None:
        if isinstance(node, CubaLIF):  # the current accumulates: i' <= input / (1 - a_syn)
            worst = worst * (per_neuron(node.tau_syn, shape).reshape(-1) / layers.graph.dt)
        bounds.append(float(worst.max(initial=0.0)) / fmt.state_max)
        if isinstance(node, SpikingNeuron):
            theta = per_neuron(node.v_threshold, shape)
            t_lo, t_hi = fmt.threshold_limits(node)
            bounds += [max(theta.max(), 0) / t_hi] + ([-theta.min() / -t_lo] if t_lo < 0 and theta.min() < 0 else [])
            total = per_neuron(node.bias, shape).reshape(-1) + (0 if isinstance(node, CubaLIF) else chain_bias)
            if (offset := fmt.offset(node, theta, layers.graph.dt)) is not None:  # shifted membranes
                shift, decay = offset
                total = total + shift * (1 - decay)
                bounds += [float((shift * decay).max()) / fmt.threshold_offset_max, float(shift.max()) / fmt.state_max]
            bounds.append(float(np.abs(total).max(initial=0.0)) * 2.0**fmt.frac_bits / fmt.bias_max())
    floor = max(bounds)
    scale = floor if floor > 0 else 1.0
    if pinned is not None:
        if pinned < floor * (1 - 1e-9):
            plan.problems.append(Diagnostic(
                "SNN337", f"state_scale={pinned:g} is finer than this layer allows: its weights, threshold, "
                f"bias or largest one-step input need at least {floor:g} per integer unit", node=name,
                hint=f"use state_scale >= {floor:g}, or leave it unset"))
            return plan
        scale = pinned
    elif unit_max > 0 and floor > 0:  # align: the largest connection uses its exact integer range
        k = int(np.floor(np.log2(unit_max / floor) + 1e-9))
        if k >= fmt.exp_range[0]:
            scale = unit_max / 2.0**k
    plan.scale = scale
    for p, wname, w, low, high, mode, unit in connections:
        e = exponent(unit, scale, fmt.exp_range)
        plan.weights[wname], plan.report[p.name] = _quantize_weights(
            layers.graph.nodes[wname], wname, w, scale, e, low, high, mode, fmt)
    return plan


def _quantize_weights(node, wname: str, w: np.ndarray, s: float, e: int, low: int, high: int, mode: str,
                      fmt: Formats) -> tuple[Any, dict[str, Any]]:
    unit = s * 2.0**e
    r = round_clip(w / unit, low, high)
    field_name = "scale" if isinstance(node, Scale) else "weight"
    params = {field_name: IntParam(r.values, unit, fmt.container_bits, signed=mode != "excitatory")}
    changes: dict[str, Any] = {field_name: r.values * unit}
    report = {"node": wname, "weight_exp": e, "scale": unit, "range": [low, high], "sign_mode": mode,
              "weights": int(w.size), "nonzero": int(np.count_nonzero(r.values)), "saturated": r.saturated,
              "rounded_to_zero": r.zeroed}
    if isinstance(node, (Affine, Conv1d, Conv2d)) and fmt.state_bits is not None:
        bias_unit = s / 2.0**fmt.frac_bits
        b = round_clip(np.asarray(node.bias, np.float64) / bias_unit, -fmt.bias_max(), fmt.bias_max())
        params["bias"] = IntParam(b.values, bias_unit, fmt.state_bits)
        changes["bias"] = b.values * bias_unit
        report["bias_saturated"] = b.saturated
    extra = {"weight_exp": e, "sign_mode": mode, "weight_bits": fmt.weight_bits}
    return node.replace(**changes, quant=Quantization(params, extra)), report


def _neuron(layers: LayerGraph, plan: _Plan, fmt: Formats) -> Neuron:
    """The neuron with integer threshold, reset and bias (the total with the chains' biases
    is representable) and the state scale in quant.extra."""
    node = layers.graph.nodes[plan.name]
    s, shape = plan.scale, node.shape
    extra = {**(dict(node.quant.extra) if node.quant is not None else {}),
             "state_scale": s, "state_frac_bits": fmt.frac_bits}
    params: dict[str, IntParam] = {}
    changes: dict[str, Any] = {}
    stats: dict[str, Any] = {}
    if isinstance(node, SpikingNeuron) and fmt.state_bits is not None:
        t_lo, t_hi = fmt.threshold_limits(node)
        theta = round_clip(per_neuron(node.v_threshold, shape) / s, t_lo, t_hi)
        reset = round_clip(per_neuron(node.v_reset, shape) / s, -fmt.state_max, fmt.state_max)
        unit = s / 2.0**fmt.frac_bits
        chain = np.zeros(node.size) if isinstance(node, CubaLIF) else np.rint(layers.bias(plan.name) / unit)
        total = round_bias(per_neuron(node.bias, shape).reshape(-1) / unit + chain, fmt)
        own = (total.values - chain.astype(np.int64)).reshape(shape)
        params = {"v_threshold": IntParam(theta.values, s, fmt.threshold_bits or fmt.state_bits),
                  "v_reset": IntParam(reset.values, s, fmt.state_bits),
                  "bias": IntParam(own, unit, fmt.state_bits)}
        changes = {"v_threshold": theta.values * s, "v_reset": reset.values * s,
                   "bias": None if node.bias is None and not np.any(own) else own * unit}
        stats = {"threshold_range": [int(theta.values.min()), int(theta.values.max())],
                 "thresholds_out_of_range": theta.saturated, "bias_saturated": total.saturated}
    plan.report["neurons"] = stats
    return node.replace(**changes, quant=Quantization(params, extra))


def _finish(before: LayerGraph, after: LayerGraph, neuron: Neuron, plan: _Plan, input_max: float,
            ctx: PassContext, warn_saturation: bool) -> dict[str, Any]:
    """The layer's report (``after``: the quantized projections, ``neuron``: the quantized
    node); warnings for what changed behaviour."""
    name, stats = plan.name, plan.report.pop("neurons", {})
    report: dict[str, Any] = {"state_scale": plan.scale, "projections": plan.report, **stats}
    if isinstance(neuron, SpikingNeuron):
        fire_before = can_fire(before.graph.nodes[name], peak_input(before, name, input_max))
        fire_after = can_fire(neuron, peak_input(after, name, input_max))
        report["cannot_fire"] = int(np.count_nonzero(~fire_after))
        report["silenced"] = int(np.count_nonzero(fire_before & ~fire_after))
        if report["silenced"]:
            _warn(ctx, "SNN334", f"{report['silenced']} neuron(s) can no longer reach the threshold after quantization",
                  name, "use more weight bits, per_channel=true, or a smaller threshold")
    if stats.get("thresholds_out_of_range"):
        _warn(ctx, "SNN333", f"{stats['thresholds_out_of_range']} threshold(s) outside the target's threshold range "
              f"were clipped to {stats['threshold_range']}", name, "negative thresholds fire at rest; retrain or prune them")
    saturated = sum(p["saturated"] for p in plan.report.values()) + stats.get("bias_saturated", 0)
    if saturated and warn_saturation:
        _warn(ctx, "SNN335", f"{saturated} weight/bias value(s) saturated at the format's limits", name,
              "the values exceed what the target stores even at the coarsest scale")
    s = plan.scale
    for p in after.into(name):
        wname = plan.report.get(p.name, {}).get("node")
        if wname is None or all(isinstance(after.graph.nodes[c], (Flatten, Delay)) or c == wname for c in p.chain):
            continue
        bad = not_integral(after, p, s * 2.0 ** plan.report[p.name]["weight_exp"])
        plan.report[p.name]["not_integral"] = bad
        if bad:
            _warn(ctx, "SNN332", f"projection {p.name}: {bad} weight(s) are not integers at the layer's scale "
                  "(a pooling or Scale after the weight layer)", name, "use SumPool instead of AvgPool, or run simplify")
    return report


def _warn(ctx: PassContext, code: str, message: str, node: str, hint: str) -> None:
    ctx.notes.append(Diagnostic(code, message, node=node, hint=hint, severity=Severity.WARNING))
