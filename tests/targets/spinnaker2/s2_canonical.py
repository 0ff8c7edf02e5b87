"""Hand-made per-step canonical integer form (docs/lowering-contract.md §2-3) of small
graphs, for lowering tests that must not depend on the discretize/quantize passes.

Each neuron's input gain moves into the one weighted node of every incoming chain, its
time constants are rewritten to the canonical ``r = tau/dt`` form, and the weights are
rounded to ``limit`` levels of one state scale per neuron (``max|W| / limit``).
"""
from __future__ import annotations

import numpy as np

from snncc.ir import (
    IF, LIF, Affine, Conv2d, CubaLIF, Graph, IntParam, Linear, Quantization,
)
from snncc.lowering import layer_graph

WEIGHTED = (Affine, Linear, Conv2d)


def _gain(node, dt):
    """(input gain, canonical replacement fields, membrane-bias gain)."""
    if isinstance(node, IF):
        return np.asarray(node.r, float), {"r": np.ones_like(node.r)}, np.asarray(node.r, float)
    if isinstance(node, LIF):
        k = dt / np.asarray(node.tau, float) * node.r
        return k, {"r": node.tau / dt}, k
    if isinstance(node, CubaLIF):
        k_mem = dt / np.asarray(node.tau_mem, float) * node.r
        k_syn = dt / np.asarray(node.tau_syn, float) * node.w_in
        return k_mem * k_syn, {"r": node.tau_mem / dt, "w_in": node.tau_syn / dt}, k_mem
    raise TypeError(node.kind)


def _per_output(gain: np.ndarray, node) -> np.ndarray:
    """Gain per output row of a weighted node (per channel for a conv)."""
    gain = np.asarray(gain, float)
    if isinstance(node, Conv2d):
        per_channel = gain.reshape(gain.shape[0], -1)
        assert np.all(per_channel == per_channel[:, :1]), "conv gain must be per channel"
        return per_channel[:, 0]
    return gain.reshape(-1)


def canonical(graph: Graph, limit: int = 127) -> Graph:
    layers = layer_graph(graph)
    nodes = dict(graph.nodes)
    for dst in layers.neurons():
        node = graph.nodes[dst]
        gain, fields, bias_gain = _gain(node, graph.dt)
        weighted = []
        for p in layers.into(dst):
            (w,) = [n for n in p.chain if isinstance(graph.nodes[n], WEIGHTED)]
            weighted.append(w)
        scaled = {}
        for w in weighted:
            wn = graph.nodes[w]
            g = _per_output(gain, wn)
            shape = (-1,) + (1,) * (wn.weight.ndim - 1)
            scaled[w] = (np.asarray(wn.weight, float) * g.reshape(shape),
                         None if isinstance(wn, Linear) else np.asarray(wn.bias, float) * g)
        s = max(float(np.abs(sw).max()) for sw, _ in scaled.values()) / limit
        for w, (sw, sb) in scaled.items():
            ints = np.rint(sw / s)
            changes = {"weight": ints * s, "quant": Quantization({"weight": IntParam(ints, s, 8)})}
            if sb is not None:
                changes["bias"] = sb
            nodes[w] = graph.nodes[w].replace(**changes)
        bias = None if node.bias is None else np.asarray(node.bias, float) * bias_gain
        nodes[dst] = node.replace(**fields, bias=bias,
                                  quant=Quantization({}, {"state_scale": s}))
    return graph.replace(nodes=nodes)
