"""fold-batchnorm: remove BatchNorm nodes exactly.

BN(x) = a x + c with a = gamma / s, c = beta - mean a, s = sqrt(var + eps).

1. Into the producing weight layer (Conv1d/Conv2d/Affine/Linear that feeds only the BN,
   the BN's only input): W' = a W (per output row/channel), b' = a b + c; Linear becomes
   Affine. A convolution needs one (a, c) per channel (shared kernels).
2. Otherwise, into the stateful spiking neuron the BN alone drives (fpga.md §3.2):
   LIF/IF with ``u = v / |a|``: threshold, v_reset, v_leak and bias over |a|, the shift as
   bias current ``c / |a|`` (never into the threshold: it is integrated every step); a
   negative or zero ``a`` leaves a ``Scale`` of sign(a) in the BN's place. CubaLIF: the
   scale goes into ``w_in``; a non-zero shift would need a time-varying current (rejected).
Anything else is an SNN310 error naming the BN.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from snncc.diagnostics import Diagnostic, SnnccError
from snncc.ir import (
    Affine, BatchNorm, Conv1d, Conv2d, CubaLIF, Graph, Linear, Scale, SpikingNeuron, infer_shapes, per_neuron,
)
from snncc.passbase import Pass, PassContext, PassResult

from ._folding import (
    WEIGHT_LAYERS, bn_problems, bn_scale_shift, bypass, expand, is_channel_wise, per_channel, quantized,
    scale_neuron, scale_outputs, threshold_problems,
)


@dataclass(frozen=True)
class FoldBatchnorm(Pass):
    name: ClassVar[str] = "fold-batchnorm"

    def run(self, graph: Graph, ctx: PassContext) -> PassResult:
        shapes = infer_shapes(graph).input_shapes
        problems: list[Diagnostic] = []
        changes: dict[str, list[str]] = {"into_weights": [], "into_neuron": [], "sign_scale": []}
        for name in [n for n, _ in graph.items_of(BatchNorm)]:
            bn: BatchNorm = graph.nodes[name]
            shape = shapes.get(name)
            found = bn_problems(name, bn.params, shape, "batch norm")
            if shape is None:
                found.append(Diagnostic("SNN311", "cannot infer the batch norm's input shape", node=name))
            if found:
                problems += found
                continue
            a, c = (expand(v, shape) for v in bn_scale_shift(bn.params))
            new, reason = _into_producer(graph, name, a, c)
            if new is not None:
                changes["into_weights"].append(f"{name}->{graph.incoming(name)[0].src}")
                graph = new
                continue
            new, reason2, found = _into_neuron(graph, name, shape, a, c, bn.params, ctx)
            if found:
                problems += found
            elif new is not None:
                changes["into_neuron"].append(f"{name}->{graph.outgoing(name)[0].dst}")
                if name in new.nodes:
                    changes["sign_scale"].append(name)
                graph = new
            else:
                problems.append(Diagnostic(
                    "SNN310", f"batch norm cannot be folded exactly: {reason}; {reason2}", node=name,
                    hint="place the BatchNorm right after a Conv/Affine/Linear that feeds only it, "
                         "or right before a LIF/IF neuron that it alone drives"))
        if problems:
            raise SnnccError(problems)
        changes = {k: v for k, v in changes.items() if v}
        return PassResult(graph, bool(changes), changes)


def _into_producer(graph: Graph, name: str, a: np.ndarray, c: np.ndarray) -> tuple[Graph | None, str]:
    ins = graph.incoming(name)
    if len(ins) != 1:
        return None, f"it has {len(ins)} inputs, not one producer"
    src = ins[0].src
    layer = graph.nodes[src]
    if not isinstance(layer, WEIGHT_LAYERS):
        return None, f"its producer '{src}' is a {layer.kind}, not a Conv/Affine/Linear"
    if len(graph.outgoing(src)) != 1 or ins[0].src_port != "output":
        return None, f"its producer '{src}' also feeds other nodes"
    if layer.quant is not None:
        return None, f"its producer '{src}' is already quantized"
    if isinstance(layer, (Conv1d, Conv2d)):
        channels = int(layer.weight.shape[0])
        shift = per_channel(c.reshape(channels, -1))
        scaled = scale_outputs(layer, a) if shift is not None else None
        if scaled is None:
            return None, f"its statistics differ within a channel of convolution '{src}' (shared kernels)"
    else:
        shift = c.reshape(-1)
        if a.size != layer.weight.shape[0]:
            return None, f"its producer '{src}' has {layer.weight.shape[0]} outputs for {a.size} BN values"
        if isinstance(layer, Linear):  # the shift needs a bias
            layer = Affine(weight=layer.weight, bias=np.zeros(a.size), metadata=layer.metadata, cores=layer.cores)
        scaled = scale_outputs(layer, a)
    folded = scaled.replace(bias=np.asarray(scaled.bias) + shift)
    return bypass(graph.with_node(src, folded), name), ""


def _into_neuron(graph: Graph, name: str, shape, a: np.ndarray, c: np.ndarray, params,
                 ctx: PassContext) -> tuple[Graph | None, str, list[Diagnostic]]:
    outs = graph.outgoing(name)
    if len(outs) != 1:
        return None, f"it feeds {len(outs)} nodes, not one neuron", []
    dst = outs[0].dst
    neuron = graph.nodes[dst]
    if not isinstance(neuron, SpikingNeuron):
        return None, f"its consumer '{dst}' is a {neuron.kind}, not a LIF/IF/CubaLIF neuron", []
    if len(graph.incoming(dst)) != 1 or outs[0].dst_port != "input":
        return None, f"neuron '{dst}' has other inputs the BN's scale would not apply to", []
    if neuron.quant is not None:
        return None, "", [quantized(dst)]
    if a.size != neuron.size:
        return None, f"neuron '{dst}' has {neuron.size} neurons for {a.size} BN values", []
    a, c = a.reshape(neuron.shape), c.reshape(neuron.shape)
    if isinstance(neuron, CubaLIF):
        if np.any(c != 0):
            return None, "", [Diagnostic(
                "SNN317", f"the BN shift into CubaLIF '{dst}' passes through the synaptic current, which starts at 0, "
                "so it is not a constant bias current", node=name,
                hint="put the BatchNorm right after a Conv/Affine/Linear so its shift becomes that layer's bias")]
        new = neuron.replace(w_in=per_neuron(neuron.w_in, neuron.shape) * a)
        return bypass(graph.with_node(dst, new), name), "", []
    # u = v / |a|: the input becomes sign(a) x + c / |a|; a = 0 keeps k = 1 and a zero input scale.
    magnitude = np.abs(a)
    k = np.where(magnitude > 0, 1.0 / np.where(magnitude > 0, magnitude, 1.0), 1.0)
    scaled = scale_neuron(neuron, k)
    new = scaled.replace(bias=per_neuron(scaled.bias, neuron.shape) + k * c)
    found = [] if new.membrane_bn is not None else threshold_problems(
        dst, per_neuron(new.v_threshold, neuron.shape), ctx.capabilities, is_channel_wise(params, shape),
        what=f"threshold after folding batch norm '{name}'")
    if found:
        return None, "", found
    graph = graph.with_node(dst, new)
    sign = np.sign(a).reshape(shape)
    if np.all(sign == 1):
        return bypass(graph, name), "", []
    return graph.with_node(name, Scale(scale=sign, metadata=graph.nodes[name].metadata)), "", []
