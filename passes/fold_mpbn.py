"""fold-mpbn: fold a membrane-potential batch norm (MPBN) into the neuron's threshold.

The MPBN only feeds the comparison (the membrane is reset un-normalised), so with
s = sqrt(var + eps) and gamma > 0: BN(v) > V  <=>  v > theta = mean + (V - beta) s / gamma
(frontends.md §3.2); SUBTRACT already subtracts theta. Per neuron:

- gamma < 0: the inequality flips. Negate the membrane (w = -v): the input (producer rows /
  channels, or CubaLIF ``w_in``), bias, v_leak and v_reset change sign and the MPBN becomes
  one with gamma > 0, folded as above (its threshold is -theta).
- gamma = 0: BN(v) = beta is a constant decision: SNN312 naming the channel.
- Thresholds <= 0 on a positive-threshold target (SNN314) or outside its range (SNN315).

Shared thresholds (``shared_threshold=true``, or ``threshold_granularity`` "process" /
"channel" in the target's capabilities): every spiking layer whose thresholds differ within
a group (the layer, or a channel) is rescaled by k = theta_ref / theta (theta > 0,
theta_ref = the group's largest threshold), which scales the input, bias, v_leak and
v_reset by k: exact for these neurons, which are linear in their input (SNN316 otherwise).

Threshold offsets (``Capabilities.extra["threshold_offsets"]``, lowering contract §3): the
target realises per-neuron thresholds of any sign on LIF and IF neurons itself (a shifted
membrane), so their thresholds are neither shared by the granularity nor required to be
positive; an explicit ``shared_threshold=true`` still rescales. CubaLIF keeps the rules above.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from snncc.diagnostics import Diagnostic, SnnccError
from snncc.ir import Comparator, CubaLIF, Graph, SpikingNeuron, per_neuron
from snncc.passbase import Pass, PassContext, PassResult

from ._folding import (
    bn_problems, expand, is_channel_wise, listing, offsets_apply, quantized, scale_inputs, scale_neuron,
    threshold_problems,
)


@dataclass(frozen=True)
class FoldMpbn(Pass):
    name: ClassVar[str] = "fold-mpbn"
    #: one threshold per layer (automatic when the target's granularity is "process")
    shared_threshold: bool = False

    def run(self, graph: Graph, ctx: PassContext) -> PassResult:
        granularity = getattr(ctx.capabilities, "threshold_granularity", None)
        problems: list[Diagnostic] = []
        changes: dict[str, list[str]] = {"folded": [], "negated": [], "shared": []}
        channel_wise: dict[str, bool] = {}
        for name in [n for n, v in graph.items_of(SpikingNeuron) if v.membrane_bn is not None]:
            new, found = _fold(graph, name, changes)
            channel_wise[name] = is_channel_wise(graph.nodes[name].membrane_bn, graph.nodes[name].shape)
            problems += found
            graph = new
        group = "layer" if self.shared_threshold or granularity == "process" else (
            "channel" if granularity == "channel" else None)
        if group and not problems:
            for name, node in list(graph.items_of(SpikingNeuron)):
                if self.shared_threshold or not offsets_apply(ctx.capabilities, node):
                    graph, found = _share(graph, name, group, changes)
                    problems += found
        if not problems:
            for name in dict.fromkeys(changes["folded"] + changes["shared"]):
                node = graph.nodes[name]
                problems += threshold_problems(name, per_neuron(node.v_threshold, node.shape), ctx.capabilities,
                                               channel_wise.get(name, True), node=node)
        if problems:
            raise SnnccError(problems)
        changes = {k: v for k, v in changes.items() if v}
        return PassResult(graph, bool(changes), changes)


def _fold(graph: Graph, name: str, changes: dict[str, list[str]]) -> tuple[Graph, list[Diagnostic]]:
    node: SpikingNeuron = graph.nodes[name]
    shape, p = node.shape, node.membrane_bn
    found = bn_problems(name, p, shape, "membrane batch norm")
    if node.quant is not None:
        found.append(quantized(name))
    if found:
        return graph, found
    cw = is_channel_wise(p, shape)
    gamma, beta = expand(p.gamma, shape), expand(p.beta, shape)
    if np.any(gamma == 0):
        zero = gamma == 0
        v = per_neuron(node.v_threshold, shape)
        fires = (beta >= v) if node.comparator is Comparator.GE else (beta > v)
        parts = [f"{listing(shape, zero & fires, cw)} always fire" if np.any(zero & fires) else "",
                 f"{listing(shape, zero & ~fires, cw)} never fire" if np.any(zero & ~fires) else ""]
        return graph, [Diagnostic(
            "SNN312", f"membrane batch norm gamma = 0: BN(v) = beta is constant, so {' and '.join(filter(None, parts))}",
            node=name, hint="prune never-firing channels (or replace always-firing ones by a constant spike source), "
                            "or retrain with gamma != 0")]
    if np.any(gamma < 0):
        k = np.where(gamma < 0, -1.0, 1.0)
        new, found = scale_inputs(graph, name, k, "negative MPBN gamma flips the comparison, so the input must be negated")
        if found:
            return graph, found
        graph = new.with_node(name, scale_neuron(new.nodes[name], k))
        node, p = graph.nodes[name], graph.nodes[name].membrane_bn
        changes["negated"].append(name)
    s = np.sqrt(expand(p.var, shape) + p.eps)
    theta = expand(p.mean, shape) + (per_neuron(node.v_threshold, shape) - expand(p.beta, shape)) * s / expand(p.gamma, shape)
    changes["folded"].append(name)
    return graph.with_node(name, node.replace(v_threshold=theta, membrane_bn=None)), []


def _share(graph: Graph, name: str, group: str, changes: dict[str, list[str]]) -> tuple[Graph, list[Diagnostic]]:
    node: SpikingNeuron = graph.nodes[name]
    if node.membrane_bn is not None:
        return graph, []
    shape = node.shape
    theta = per_neuron(node.v_threshold, shape)
    rows = theta.reshape(1 if group == "layer" else shape[0], -1)
    if np.all(rows == rows[:, :1]):
        return graph, []
    if node.quant is not None:
        return graph, [quantized(name)]
    if np.any(theta <= 0):
        hint = "rescaling by theta_ref / theta needs positive thresholds; use a per-neuron-threshold target"
        if isinstance(node, CubaLIF):
            hint += " (no threshold offsets for CubaLIF either: its current persists)"
        return graph, [Diagnostic(
            "SNN316", f"cannot share one threshold per {group}: threshold <= 0 at "
            f"{listing(shape, theta <= 0, True)}", node=name, hint=hint)]
    reference = np.broadcast_to(rows.max(axis=1, keepdims=True), rows.shape).reshape(shape)
    k = reference / theta
    new, found = scale_inputs(graph, name, k, f"sharing one threshold per {group}")
    if found:
        return graph, [dataclasses.replace(
            d, code="SNN316", hint=d.hint or "a target with per-neuron thresholds avoids this") for d in found]
    # set the shared value exactly (theta * k may differ from it in the last bit)
    scaled = scale_neuron(new.nodes[name], k).replace(v_threshold=reference.copy())
    changes["shared"].append(name)
    return new.with_node(name, scaled), []
