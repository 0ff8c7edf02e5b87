"""Checks quantize reports: which neurons can still fire, projections that are not integral,
and spike agreement of the float and the quantized graph on calibration data."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from snncc.ir import IF, Comparator, CubaLIF, Graph, Input, Neuron, SpikingNeuron, per_neuron
from snncc.lowering import LayerGraph, is_integral


def source_bound(layers: LayerGraph, src: str, input_max: float) -> float:
    """Largest value a population sends per step: 1 for spikes, ``input_max`` for an Input."""
    return input_max if isinstance(layers.graph.nodes[src], Input) else 1.0


def peak_input(layers: LayerGraph, name: str, input_max: float) -> np.ndarray:
    """Per neuron of ``name``, the largest input of one step: the chains' bias plus every
    positive weight active (each source at its :func:`source_bound`). It depends on the
    projections only, so a layer view stays valid for a neuron node replaced after it."""
    drive = layers.bias(name).copy()
    for p in layers.into(name):
        positive = layers.sparse_matrix(p).maximum(0)
        drive += np.asarray(positive.sum(1)).reshape(-1) * source_bound(layers, p.src, input_max)
    return drive


def can_fire(node: Neuron, drive: np.ndarray) -> np.ndarray | None:
    """Per neuron: can the membrane ever cross the threshold, given its :func:`peak_input`
    ``drive``? The update is monotone in the input, so its supremum is reached with every
    positive input active every step: the steady state ``v_leak + r (w_in D + bias)``
    (LIF/CubaLIF; w_in = 1 for LIF) or unbounded growth (IF with a positive drive). None for
    a non-spiking node."""
    if not isinstance(node, SpikingNeuron):
        return None
    f = lambda value: per_neuron(value, node.shape).reshape(-1)  # noqa: E731
    bias = f(node.bias)
    if isinstance(node, IF):
        peak = np.where(f(node.r) * (drive + bias) > 0, math.inf, 0.0)
    else:
        w_in = f(node.w_in) if isinstance(node, CubaLIF) else 1.0
        peak = np.maximum(f(node.v_leak) + f(node.r) * (w_in * drive + bias), 0.0)
    theta = f(node.v_threshold)
    return peak >= theta if node.comparator is Comparator.GE else peak > theta


def not_integral(layers: LayerGraph, projection, unit: float) -> int:
    """Entries of the projection's matrix that are not integers at ``unit`` (AvgPool in a chain)."""
    scaled = layers.sparse_matrix(projection).data / unit  # the zeros are integers
    return int(np.count_nonzero(~is_integral(scaled)))


def agreement(before: Graph, after: Graph, x: np.ndarray, samples: int) -> dict[str, Any]:
    """Per spiking layer: the fraction of (sample, step, neuron) spike decisions that agree."""
    import torch

    from snncc.runtime import simulate

    x = np.asarray(x)[:samples]
    a, b = simulate(before, torch.as_tensor(x)), simulate(after, torch.as_tensor(x))
    out = {}
    for name in sorted(set(a.spikes) & set(b.spikes)):
        s0, s1 = a.spikes[name].numpy(), b.spikes[name].numpy()
        out[name] = {"agreement": float(np.mean(s0 == s1)), "spikes_float": int(s0.sum()),
                     "spikes_quantized": int(s1.sum()), "samples": int(x.shape[0])}
    return out
