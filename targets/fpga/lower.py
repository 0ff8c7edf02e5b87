"""Canonical integer graph -> FPGA :class:`NetSpec` (one engine per neuron layer).

The layer view (:func:`snncc.lowering.layer_graph`) gives the projections; the engines are
a chain, so the graph must be one too: a single Input, each neuron layer fed by exactly the
previous population (plus, optionally, its own spikes of the previous step), no delays.
Engine ``l + 1`` sees engine ``l``'s spikes in the same step, i.e. the synapses have latency
0 and :func:`snncc.lowering.schedule` with ``min_latency=0`` gives lag 0 everywhere and one
step on self-recurrent projections, which the engines' recurrent queue provides.

A projection whose chain is one Conv2d (Flatten aside) goes to the weight-shared conv engine
(convcore) with the kernel as weights; any other chain to a dense engine with its matrix.
Integer values are the real ones divided by the neuron's state scale; anything that is not an
integer or does not fit is left to :meth:`NetSpec.validate`, so :func:`lower` raises every
violation of the whole graph at once. PE/SIMD come from the ``fold-fpga`` pass
(``node.metadata["fpga"]``), else 1.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from snncc.diagnostics import Diagnostic, SnnccError
from snncc.ir import Conv2d, Flatten, Graph, Input, Output, per_neuron
from snncc.lowering import LayerGraph, Projection, declared_weight_bits, layer_graph, schedule

from . import contract as C
from .folding import min_pe
from .lower_neuron import DEFAULT_DECAY_BITS, NeuronParams, integral, neuron_params
from .netspec import Conv2dGeometry, LayerSpec, NetSpec

#: node.metadata key the fold-fpga pass writes: {"pe": int, "simd": int, "engine": str}
FOLD_KEY = "fpga"
DEFAULT_STATE_BITS = 24


@dataclass(frozen=True)
class EngineBinding:
    """Engine ``i`` of the spec runs IR neuron node ``node``; real state = integer * scale."""

    node: str
    state_scale: float
    spiking: bool
    lag: int  # steps behind the reference simulator (0: same-step engines)


@dataclass(frozen=True, eq=False)
class FpgaLowering:
    spec: NetSpec
    input: str
    engines: tuple[EngineBinding, ...]
    layers: LayerGraph
    output: str | None

    def readout(self, x: np.ndarray, spikes: tuple[np.ndarray, ...], v: tuple[np.ndarray, ...]) -> np.ndarray:
        """The Output node's values [B, T, n] from the engines' results (host side: spikes of
        spiking layers, real membranes of readout layers, through the Output's chains)."""
        if self.output is None:
            return np.zeros((*x.shape[:2], 0))
        value = {self.input: x}
        for b, s, vv in zip(self.engines, spikes, v):
            value[b.node] = s if b.spiking else vv * b.state_scale
        return self.layers.readout(self.output, value)


def _settings(capabilities) -> tuple[int, int, int]:
    """(weight bits, state bits, decay fraction bits) from the capabilities, with defaults."""
    if capabilities is None:
        return 8, DEFAULT_STATE_BITS, DEFAULT_DECAY_BITS
    fmt = capabilities.extra.get("decay_format", {})
    bits = fmt.get("bits", DEFAULT_DECAY_BITS) if isinstance(fmt, dict) else DEFAULT_DECAY_BITS
    return capabilities.weight_bits or 8, capabilities.state_bits or DEFAULT_STATE_BITS, bits


def _chain_order(layers: LayerGraph, problems: list[Diagnostic]) -> tuple[str | None, list[str]]:
    """The single Input and the neuron layers in engine order (each fed by the previous)."""
    inputs = [p for p in layers.populations if isinstance(layers.graph.nodes[p], Input)]
    if len(inputs) != 1:
        problems.append(Diagnostic("SNN411", f"the FPGA engines take one input, the graph has {len(inputs)}",
                                   hint="merge the inputs into one Input node"))
        return None, []
    consumers: dict[str, list[str]] = {}
    for name in layers.neurons():
        sources = sorted({p.src for p in layers.into(name) if not p.back})
        for p in layers.into(name):
            if p.back and p.src != name:
                problems.append(Diagnostic(
                    "SNN411", f"recurrent connection from {p.src}: engines only feed back their own spikes",
                    node=name, hint="keep recurrence within one layer"))
        if len(sources) != 1:
            problems.append(Diagnostic(
                "SNN411", f"layer has {len(sources)} feed-forward sources ({', '.join(sources) or 'none'});"
                " the engines form a chain", node=name, hint="one input population per layer, no skip connections"))
            continue
        consumers.setdefault(sources[0], []).append(name)
    order, current = [], inputs[0]
    while current in consumers:
        nxt = consumers.pop(current)
        if len(nxt) > 1:
            problems.append(Diagnostic("SNN411", f"{current} feeds {len(nxt)} layers ({', '.join(nxt)}); "
                                       "the engines form a chain", node=current))
        order.append(nxt[0])
        current = nxt[0]
    for rest in consumers.values():
        for name in rest:
            if not any(d.node == name for d in problems):
                problems.append(Diagnostic("SNN411", "layer is not on the chain from the input", node=name))
    return inputs[0], order


def _conv_of(layers: LayerGraph, p: Projection) -> Conv2d | None:
    """The projection's Conv2d when the chain is one convolution the conv engine runs."""
    conv = layers.conv2d(p, ignoring=(Flatten,))
    if conv is None:
        return None
    ok = all(0 <= pad < k for pad, k in zip(conv.padding, conv.weight.shape[2:])) and min(conv.stride) >= 1
    return conv if ok else None


def _signed_bits(values: np.ndarray) -> int:
    if values.dtype.kind == "f" or values.size == 0:
        return 0
    return C.signed_bits(int(values.min()), int(values.max()))


def _layer(layers: LayerGraph, name: str, neuron: NeuronParams, w_default: int, v_bits: int,
           problems: list[Diagnostic]) -> LayerSpec:
    graph, s = layers.graph, neuron.state_scale
    ff = [p for p in layers.into(name) if not p.back]
    rec = [p for p in layers.into(name) if p.back and p.src == name]
    for p in ff + rec:
        delays = layers.delays(p)
        if delays is not None and np.any(delays != 0):
            problems.append(Diagnostic("SNN414", f"projection {p.name} has synaptic delays; the engines "
                                       "deliver spikes in the same step", node=name,
                                       hint="remove the Delay (or run on the reference target)"))
    fold = dict(graph.nodes[name].metadata.get(FOLD_KEY, {}))
    conv = _conv_of(layers, ff[0]) if len(ff) == 1 and not rec else None
    if conv is not None:
        weights = integral(np.asarray(conv.weight, float) / s)
        in_shape = tuple(int(d) for d in layers.shape(next(n for n in ff[0].chain if graph.nodes[n] is conv)))
        geometry = Conv2dGeometry(in_shape, tuple(conv.stride), tuple(conv.padding))
    else:
        weights = integral(sum(layers.matrix(p) for p in ff) / s)
        geometry = None
    recurrent = integral(sum(layers.matrix(p) for p in rec) / s) if rec else None
    own = per_neuron(getattr(graph.nodes[name], "bias", None), graph.nodes[name].shape).reshape(-1)
    bias = integral((own + layers.bias(name)) / s)
    w_bits = declared_weight_bits((graph.nodes[n] for p in ff + rec for n in p.chain), w_default)
    w_bits = min(C.W_BITS_RANGE[1], max(C.W_BITS_RANGE[0], w_bits, _signed_bits(weights),
                                          _signed_bits(recurrent) if recurrent is not None else 0))
    spec = LayerSpec(
        name, weights, threshold=neuron.threshold, bias=bias, leak=neuron.leak, reset=neuron.reset,
        reset_value=neuron.reset_value, comparator=neuron.comparator, w_bits=w_bits, v_bits=v_bits,
        pe=int(fold.get("pe", 1)), simd=int(fold.get("simd", 1)), conv=geometry, recurrent=recurrent,
        engine=fold.get("engine", "conv" if conv is not None else "dense"))
    if "pe" not in fold:  # before fold-fpga: the fewest PE lanes whose weight memories fit
        spec = dataclasses.replace(spec, pe=min_pe(spec, NetSpec.max_mem_depth))
    if all(a.dtype.kind != "f" for a in (weights, recurrent) if a is not None):
        acc = max(C.ACC_BITS_RANGE[0], C.signed_bits(*spec.synaptic_range()))
        spec = dataclasses.replace(spec, acc_bits=min(acc, C.ACC_BITS_RANGE[1]))  # beyond: SNN405
    return spec


def lower(graph: Graph, capabilities=None) -> FpgaLowering:
    """The FPGA network for ``graph``; raises one SnnccError with every violation (graph
    structure, neuron form, and the NetSpec's limits SNN401-410)."""
    w_default, state_bits, decay_bits = _settings(capabilities)
    layers = layer_graph(graph)
    problems: list[Diagnostic] = []
    source, order = _chain_order(layers, problems)
    lags: dict[str, int] = {}
    if not problems:
        try:
            lags, _ = schedule(layers, min_latency=0)  # same-step synapses: every lag is 0
        except SnnccError as err:
            problems += err.diagnostics
    specs, bindings = [], []
    for name in order:
        node = graph.nodes[name]
        threshold = node.quant.params.get("v_threshold") if node.quant is not None else None
        v_bits = threshold.bits if threshold is not None else state_bits
        neuron, issues = neuron_params(name, node, graph.dt, v_bits, decay_bits)
        problems += issues
        if neuron is None:
            continue
        specs.append(_layer(layers, name, neuron, w_default, v_bits, problems))
        bindings.append(EngineBinding(name, neuron.state_scale, neuron.spiking, lags.get(name, 0)))
    outputs = [n for n, node in graph.nodes.items() if isinstance(node, Output)]
    if len(outputs) > 1:
        problems.append(Diagnostic("SNN411", f"the graph has {len(outputs)} outputs; the FPGA design streams one"))
    for spec in specs:  # per layer: the chain's shapes hold by construction
        problems += NetSpec(spec.n_in, (spec,)).validate()
    if problems or not specs:
        raise SnnccError(problems or [Diagnostic("SNN407", "the graph has no neuron layer to lower")])
    return FpgaLowering(NetSpec(layers.size(source), tuple(specs)), source, tuple(bindings), layers,
                        outputs[0] if outputs else None)
