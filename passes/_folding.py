"""Shared helpers of the exact folding passes (fold-batchnorm, fold-mpbn, simplify).

The one identity everything here rests on: the spiking neurons of the IR (LIF, IF,
CubaLIF) are affine in their input and state, so substituting ``u = k * v`` (k per
neuron, k != 0) gives the same spikes when the input, the bias current, ``v_leak``,
``v_reset`` and the threshold are all multiplied by ``k`` (k > 0 keeps the comparison's
direction; with an MPBN ``membrane_bn`` the BN absorbs ``k`` of either sign).

Diagnostic codes of the folding passes:

- SNN310 a BatchNorm node with no exact fold (no foldable producer or neuron consumer)
- SNN311 invalid BN statistics (var + eps <= 0, non-finite, shape mismatch)
- SNN312 MPBN gamma = 0 (a constant firing decision)
- SNN313 a neuron's input cannot be negated/rescaled (producer shared or not a weight layer)
- SNN314 a folded threshold <= 0 on a target that needs positive thresholds
- SNN315 a folded threshold outside the target's threshold range
- SNN316 per-channel/per-neuron thresholds cannot be shared on this target (and it has no
  threshold offsets for the neuron kind)
- SNN317 a shift that cannot become a bias current (CubaLIF), or a quantized node
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from snncc.diagnostics import Diagnostic
from snncc.ir import (
    IF, LIF, Affine, BatchNormParams, Conv1d, Conv2d, CubaLIF, Edge, Graph, Linear, Scale, SpikingNeuron,
    per_neuron,
)

WEIGHT_LAYERS = (Affine, Linear, Conv1d, Conv2d)
WEIGHTED = (*WEIGHT_LAYERS, Scale)
#: the neuron kinds whose thresholds a target with ``threshold_offsets`` shifts (their membranes)
OFFSET_KINDS = (LIF, IF)
Shape = tuple[int, ...]


# ----------------------------------------------------------------------------- arrays

def expand(values: np.ndarray, shape: Shape) -> np.ndarray:
    """Broadcast per-channel (axis 0), per-element or scalar BN values to ``shape``,
    exactly as the reference simulator does; ValueError otherwise."""
    values = np.asarray(values, dtype=np.float64)
    if values.shape == tuple(shape):
        return values
    if values.size == 1:
        return np.full(shape, values.reshape(()))
    if values.ndim == 1 and shape and values.shape[0] == shape[0]:
        return np.broadcast_to(values.reshape(shape[0], *([1] * (len(shape) - 1))), shape).copy()
    raise ValueError(f"parameters of shape {values.shape} do not fit neurons {tuple(shape)}")


def per_channel(values: np.ndarray) -> np.ndarray | None:
    """The (C,) vector when ``values`` is uniform over each channel (axis 0), else None."""
    rows = values.reshape(values.shape[0], -1) if values.ndim else values.reshape(1, 1)
    return rows[:, 0].copy() if np.all(rows == rows[:, :1]) else None


def bn_scale_shift(p: BatchNormParams) -> tuple[np.ndarray, np.ndarray]:
    """BN(x) = a * x + c with a = gamma / s, c = beta - mean * gamma / s, s = sqrt(var + eps)."""
    s = np.sqrt(np.asarray(p.var, dtype=np.float64) + p.eps)
    a = np.asarray(p.gamma, dtype=np.float64) / s
    return a, np.asarray(p.beta, dtype=np.float64) - np.asarray(p.mean, dtype=np.float64) * a


def bn_problems(name: str, p: BatchNormParams, shape: Shape | None, what: str) -> list[Diagnostic]:
    out = []
    arrays = {k: np.asarray(getattr(p, k), dtype=np.float64) for k in ("mean", "var", "gamma", "beta")}
    bad = [k for k, v in arrays.items() if not np.all(np.isfinite(v))]
    if bad or not math.isfinite(p.eps):
        out.append(Diagnostic("SNN311", f"{what} has non-finite statistics ({', '.join(bad) or 'eps'})", node=name,
                              hint="clean the checkpoint's running statistics"))
    elif np.any(arrays["var"] + p.eps <= 0):
        out.append(Diagnostic("SNN311", f"{what} has var + eps <= 0", node=name,
                              hint="running variances must be >= 0 and eps > 0"))
    if shape is not None:
        for key, value in arrays.items():
            try:
                expand(value, shape)
            except ValueError as exc:
                out.append(Diagnostic("SNN311", f"{what} '{key}': {exc}", node=name,
                                      hint="give one value per channel (axis 0) or per neuron"))
                break
    return out


def where(shape: Shape, flat_index: int, channel_wise: bool) -> str:
    """'channel 3' or 'neuron (3, 1, 2)' for diagnostics."""
    index = np.unravel_index(flat_index, shape)
    if channel_wise or len(shape) == 1:
        return f"channel {int(index[0])}"
    return f"neuron {tuple(int(i) for i in index)}"


def listing(shape: Shape, mask: np.ndarray, channel_wise: bool, limit: int = 4) -> str:
    """Names of the masked places (channels once each), at most ``limit`` then a count."""
    names: list[str] = []
    for i in np.flatnonzero(mask.reshape(-1)):
        label = where(shape, int(i), channel_wise)
        if label not in names:
            names.append(label)
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def is_channel_wise(p: BatchNormParams, shape: Shape) -> bool:
    return np.asarray(p.gamma).shape != tuple(shape) or len(shape) == 1


# ----------------------------------------------------------------------------- neurons

def scale_neuron(node: SpikingNeuron, k: np.ndarray) -> SpikingNeuron:
    """The neuron whose membrane is ``u = k * v`` (k full, non-zero): bias, v_leak and
    v_reset times k; the threshold times k (k > 0) or, with an MPBN, the BN rewritten
    for u (gamma / k, mean * k), which needs no sign condition. The input scaling is the
    caller's job (producer rows or CubaLIF w_in)."""
    shape = node.shape
    changes: dict[str, Any] = {"v_reset": per_neuron(node.v_reset, shape) * k}
    if node.bias is not None:
        changes["bias"] = per_neuron(node.bias, shape) * k
    if isinstance(node, (LIF, CubaLIF)):
        changes["v_leak"] = per_neuron(node.v_leak, shape) * k
    if node.membrane_bn is None:
        changes["v_threshold"] = per_neuron(node.v_threshold, shape) * k
    else:
        changes["membrane_bn"] = scale_bn_input(node.membrane_bn, k, shape)
    return node.replace(**changes)


def scale_bn_input(p: BatchNormParams, k: np.ndarray, shape: Shape) -> BatchNormParams:
    """The MPBN for ``u = k v``: BN(v) = gamma (u / k - mean) / s + beta, i.e. gamma / k and
    mean * k; kept channel-wise when both the BN and k are."""
    vector = per_channel(k) if len(shape) > 1 else None
    if np.asarray(p.gamma).shape == (shape[0],) and (len(shape) == 1 or vector is not None):
        factor = k.reshape(-1) if len(shape) == 1 else vector
        return BatchNormParams(mean=np.asarray(p.mean) * factor, var=p.var, gamma=np.asarray(p.gamma) / factor,
                               beta=p.beta, eps=p.eps)
    return BatchNormParams(mean=expand(p.mean, shape) * k, var=expand(p.var, shape),
                           gamma=expand(p.gamma, shape) / k, beta=expand(p.beta, shape), eps=p.eps)


def scale_inputs(graph: Graph, name: str, k: np.ndarray, why: str,
                 cuba_w_in: bool = True, through: tuple[type, ...] = ()) -> tuple[Graph, list[Diagnostic]]:
    """Multiply neuron ``name``'s input current by ``k`` (full, neuron shape).

    CubaLIF: into ``w_in`` (unless ``cuba_w_in`` is False: discretize keeps w_in canonical).
    Otherwise into the rows (Affine/Linear), output channels (Conv) or elements (Scale) of
    every producer feeding it; each producer must feed only this neuron, and a Conv needs
    one factor per channel (shared kernels). Private element-order-keeping nodes of the
    kinds in ``through`` (Flatten, Delay) between producer and neuron are looked through."""
    node = graph.nodes[name]
    if np.all(k == 1):
        return graph, []
    if isinstance(node, CubaLIF) and cuba_w_in:
        return graph.with_node(name, node.replace(w_in=per_neuron(node.w_in, node.shape) * k)), []
    problems: list[Diagnostic] = []
    updates: dict[str, Any] = {}
    for edge in graph.incoming(name):
        while isinstance(graph.nodes[edge.src], through) and len(graph.incoming(edge.src)) == 1 \
                and len(graph.outgoing(edge.src)) == 1:
            edge = graph.incoming(edge.src)[0]
        src = graph.nodes[edge.src]
        if isinstance(src, Scale) and edge.src_port == "output" and len(graph.outgoing(edge.src)) == 1 \
                and src.quant is None and np.asarray(src.scale).size == k.size:
            # element-wise, so any per-neuron factor fits (e.g. the sign Scale fold-batchnorm leaves)
            updates[edge.src] = src.replace(scale=np.asarray(src.scale) * k.reshape(np.asarray(src.scale).shape))
            continue
        if not isinstance(src, WEIGHT_LAYERS) or edge.src_port != "output":
            problems.append(Diagnostic("SNN313", f"{why}: input from '{edge.src}' ({src.kind}) has no weights to rescale",
                                       node=name, hint="put an Affine/Linear/Conv directly in front of the neuron"))
            continue
        if len(graph.outgoing(edge.src)) != 1:
            problems.append(Diagnostic("SNN313", f"{why}: producer '{edge.src}' also feeds other nodes, so its weights "
                                       "cannot be changed for this neuron alone", node=name,
                                       hint="give the neuron its own weight layer"))
            continue
        if src.quant is not None:
            problems.append(quantized(edge.src))
            continue
        if not isinstance(src, (Conv1d, Conv2d)) and k.size != src.weight.shape[0]:
            problems.append(Diagnostic("SNN313", f"{why}: '{edge.src}' has {src.weight.shape[0]} rows for "
                                       f"{k.size} neurons", node=name))
            continue
        scaled = scale_outputs(src, k)
        if scaled is None:
            problems.append(Diagnostic("SNN313", f"{why}: the factors differ within a channel of convolution "
                                       f"'{edge.src}' (shared kernels)", node=name,
                                       hint="use channel-wise batch norm behind convolutions"))
            continue
        updates[edge.src] = scaled
    if problems:
        return graph, problems
    return graph.map_nodes(lambda n, v: updates.get(n, v)), []


def scale_outputs(layer: Any, k: np.ndarray) -> Any | None:
    """The weight layer (Affine/Linear/Conv) with output i multiplied by ``k`` (flat or the
    output's shape, one factor per row): its rows, or a convolution's output channels, weights
    and bias; None when the factors differ within a channel (shared kernels)."""
    if isinstance(layer, (Conv1d, Conv2d)):
        channels = int(layer.weight.shape[0])
        vector = per_channel(k.reshape(channels, -1)) if k.size % channels == 0 else None
        if vector is None:
            return None
        view = vector.reshape(channels, *([1] * (layer.weight.ndim - 1)))
        return layer.replace(weight=np.asarray(layer.weight) * view, bias=np.asarray(layer.bias) * vector)
    rows = k.reshape(-1)
    changes = {"weight": np.asarray(layer.weight) * rows[:, None]}
    if isinstance(layer, Affine):
        changes["bias"] = np.asarray(layer.bias) * rows
    return layer.replace(**changes)


def quantized(name: str) -> Diagnostic:
    return Diagnostic("SNN317", "node is already quantized; folding would make its integer form stale", node=name,
                      hint="run the folding passes before quantize")


# ----------------------------------------------------------------------------- thresholds

def offsets_apply(capabilities: Any, node: Any) -> bool:
    """True when the target realises ``node``'s per-neuron thresholds of any sign itself
    (``Capabilities.extra["threshold_offsets"]``: a shifted membrane, for LIF and IF only)."""
    extra = getattr(capabilities, "extra", None) or {}
    return bool(extra.get("threshold_offsets", False)) and isinstance(node, OFFSET_KINDS)


def threshold_limits(capabilities: Any) -> tuple[float | None, float | None, bool]:
    """(low, high, positive) from ``capabilities.extra``: ``threshold_range`` = (low, high) in
    the IR's float units and ``positive_threshold`` (bool); a range starting at >= 0 also
    asks for positive thresholds."""
    extra = getattr(capabilities, "extra", None) or {}
    low, high = extra.get("threshold_range") or (None, None)
    positive = bool(extra.get("positive_threshold", False)) or (low is not None and low >= 0)
    return low, high, positive


def threshold_problems(name: str, theta: np.ndarray, capabilities: Any, channel_wise: bool,
                       what: str = "folded threshold", node: Any = None) -> list[Diagnostic]:
    """SNN314/SNN315 for ``theta``; with ``node`` given, thresholds the target offsets
    (:func:`offsets_apply`) need not be positive."""
    low, high, positive = threshold_limits(capabilities)
    positive = positive and not (node is not None and offsets_apply(capabilities, node))
    shape, out = theta.shape, []
    if positive and np.any(theta <= 0):
        bad = theta <= 0
        out.append(Diagnostic("SNN314", f"{what} <= 0 at {listing(shape, bad, channel_wise)} (min {theta[bad].min():.6g}); "
                              "the target needs positive thresholds", node=name,
                              hint="such neurons fire at rest: retrain, prune the channel or pick a target with signed thresholds"))
    for bound, bad, word in ((high, theta > (high if high is not None else 0), "above"),
                             (low, theta < (low if low is not None else 0), "below")):
        if bound is not None and np.any(bad):
            worst = theta[bad].max() if word == "above" else theta[bad].min()
            out.append(Diagnostic("SNN315", f"{what} {worst:.6g} at {listing(shape, bad, channel_wise)} is {word} the "
                                  f"target's threshold range {low}..{high}", node=name,
                                  hint="tiny |gamma| gives huge thresholds: prune the channel or retrain"))
    return out


# ----------------------------------------------------------------------------- graph edits

def bypass(graph: Graph, name: str) -> Graph:
    """Remove node ``name``, connecting each of its sources to each of its destinations (sums
    distribute, so this is exact for identity maps); new edges take the removed out-edges'
    places so edge order (and the simulator's loop order) is kept."""
    ins, edges = graph.incoming(name), []
    for edge in graph.edges:
        if edge.dst == name:
            continue
        if edge.src == name:
            edges += [Edge(e.src, edge.dst, e.src_port, edge.dst_port) for e in ins]
        else:
            edges.append(edge)
    nodes = {n: v for n, v in graph.nodes.items() if n != name}
    return graph.replace(nodes=nodes, edges=tuple(edges))
