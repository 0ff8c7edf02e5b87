"""The layer view every target lowers from: populations and the projections between them.

A *population* is an Input node or a neuron node (any :class:`snncc.ir.Neuron`). A
*projection* is the linear map from one population to a neuron or Output node, through
a chain of stateless linear nodes (Affine, Linear, Conv, pools, Flatten, Scale,
BatchNorm) and at most one Delay. Several projections into one node are summed, as
edges are in the IR. Hardware targets turn projections into connection matrices (or
conv descriptors, when ``chain`` is a single convolution), and populations into cores.

Timing: the reference simulator delivers feed-forward values in the same step and a
back edge (a recurrent loop) one step later. A target whose every connection needs
``min_latency`` steps runs population ``p`` ``lag[p]`` steps behind the reference; see
:func:`schedule`, which also gives the extra delay each connection needs so the target
computes exactly what the reference does, just later.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Mapping

import numpy as np
import scipy.sparse as sp
import torch

from snncc.diagnostics import Diagnostic, SnnccError
from snncc.linear_ops import operator
from snncc.ir import (
    AvgPool2d, BatchNorm, Conv1d, Conv2d, Delay, Flatten, Graph, Input, Linear, Affine, Neuron,
    Output, Scale, SumPool2d, evaluation_order, infer_shapes,
)

LINEAR_KINDS = (Affine, Linear, Conv1d, Conv2d, SumPool2d, AvgPool2d, Flatten, Scale, BatchNorm)

__all__ = ["Projection", "LayerGraph", "layer_graph", "schedule", "LINEAR_KINDS", "is_integral", "state_scale",
           "require_state_scale", "declared_weight_bits"]

#: relative tolerance of "an integer": the float fields of the integer form are integers times a
#: scale in float64, and dividing by the scale again stays far inside it
INTEGRAL_RTOL = 1e-6


def is_integral(values, rtol: float = INTEGRAL_RTOL, atol: float = 0.0) -> np.ndarray:
    """Per value: within ``atol + rtol * |x|`` of an integer, never tighter than ``rtol`` (below
    1 the round-off is absolute); False for NaN and infinities. Targets check the integers
    they lower with it."""
    x = np.asarray(values, dtype=np.float64)
    return np.abs(x - np.rint(x)) <= np.maximum(atol + rtol * np.abs(x), rtol)


def state_scale(node, default: float | None = None) -> float | None:
    """``s_N``: the real value of one unit of the neuron's integer state
    (``quant.extra["state_scale"]``, attached by quantize); ``default`` when the node has none."""
    quant = getattr(node, "quant", None)
    scale = None if quant is None else quant.extra.get("state_scale")
    return default if scale is None else float(scale)


def require_state_scale(name: str, node, code: str, hint: str, problems: list[Diagnostic]) -> float | None:
    """:func:`state_scale` for a target that needs the integer form: a positive scale, else
    one error with the target's ``code`` and ``hint`` appended to ``problems`` (and None)."""
    scale = state_scale(node)
    if scale is None or not scale > 0:
        problems.append(Diagnostic(
            code, "no integer state scale (quant.extra['state_scale']): the graph is not in integer form",
            node=name, hint=hint))
        return None
    return scale


def declared_weight_bits(nodes, default: int | None) -> int | None:
    """The widest weight container among ``nodes`` (quantize's ``quant.params["weight"].bits``),
    else ``default``."""
    bits = [int(node.quant.params["weight"].bits) for node in nodes
            if node.quant is not None and "weight" in node.quant.params]
    return max(bits, default=default)


def is_population(node) -> bool:
    return isinstance(node, (Input, Neuron))


@dataclass(frozen=True)
class Projection:
    """``src`` (population) -> ``dst`` (neuron or Output) through ``chain`` (node names,
    in data-flow order). ``back`` is True when the last edge into ``dst`` closes a
    recurrent loop (the reference delivers it one step late)."""

    src: str
    dst: str
    chain: tuple[str, ...]
    back: bool = False

    @property
    def name(self) -> str:
        return f"{self.src}->{self.dst}"


@dataclass(frozen=True, eq=False)
class LayerGraph:
    graph: Graph
    populations: tuple[str, ...]
    projections: tuple[Projection, ...]
    _matrices: dict = field(default_factory=dict, init=False, repr=False)
    _biases: dict = field(default_factory=dict, init=False, repr=False)

    @cached_property
    def _shapes(self):
        return infer_shapes(self.graph)

    def shape(self, name: str) -> tuple[int, ...]:
        node = self.graph.nodes[name]
        if isinstance(node, Input):
            return tuple(node.shape)
        return tuple(self._shapes.input_shapes.get(name) or node.declared_input_shape())

    def size(self, name: str) -> int:
        return math.prod(self.shape(name))

    def into(self, dst: str) -> list[Projection]:
        return [p for p in self.projections if p.dst == dst]

    def out_of(self, src: str) -> list[Projection]:
        return [p for p in self.projections if p.src == src]

    def neurons(self) -> list[str]:
        return [p for p in self.populations if not isinstance(self.graph.nodes[p], Input)]

    def delays(self, projection: Projection) -> np.ndarray | None:
        """Delay in steps per source element, or None when the chain has no Delay node."""
        delay_nodes = [n for n in projection.chain if isinstance(self.graph.nodes[n], Delay)]
        if not delay_nodes:
            return None
        node = self.graph.nodes[delay_nodes[0]]
        steps = np.rint(np.asarray(node.delay, dtype=float) / self.graph.dt).astype(np.int64).reshape(-1)
        if projection.chain.index(delay_nodes[0]) != 0 and np.unique(steps).size > 1:
            raise SnnccError.single(
                "SNN130", "a per-element Delay must act directly on a population's output",
                node=delay_nodes[0], hint="move the Delay before the synapse or make it uniform")
        return steps if steps.size == self.size(projection.src) else np.full(self.size(projection.src), steps[0])

    def sparse_matrix(self, projection: Projection) -> sp.csr_matrix:
        """The weight matrix ``[size(dst), size(src)]`` of the projection along its chain (no
        bias), as scipy.sparse; cached, so every pass and target shares one computation."""
        if projection not in self._matrices:
            op = sp.identity(self.size(projection.src), format="csr")
            for name in projection.chain:
                node = self.graph.nodes[name]
                op = (operator(node, tuple(self._shapes.input_shapes[name])) @ op).tocsr()
            self._matrices[projection] = op
        return self._matrices[projection]

    def matrix(self, projection: Projection) -> np.ndarray:
        """The dense weight matrix ``[size(dst), size(src)]`` of the projection (no bias)."""
        return self.sparse_matrix(projection).toarray()

    def matrix_by_evaluation(self, projection: Projection, dtype=torch.float64) -> np.ndarray:
        """The same matrix through the reference simulator's kernels on an identity batch (slow;
        the independent check of :mod:`snncc.linear_ops`). Sums every path from src to dst."""
        n_src = self.size(projection.src)
        basis = torch.eye(n_src, dtype=dtype).reshape(n_src, *self.shape(projection.src))
        out = self._evaluate(projection.dst, {projection.src: basis}, n_src, dtype)
        zero = self._evaluate(projection.dst, {}, 1, dtype)
        return (out - zero).reshape(n_src, -1).T.contiguous().numpy()

    def weight_exp(self, projection: Projection) -> int:
        """The power-of-two exponent quantize gave the projection's weights (``weight_exp`` in the
        ``quant.extra`` of its one weighted node; the largest if a hand-built chain has several), 0
        when they are not quantized: the integer weights are ``matrix / (s_N * 2**weight_exp)``."""
        exps = [int(q.extra["weight_exp"]) for n in projection.chain
                if (q := self.graph.nodes[n].quant) is not None and "weight_exp" in q.extra]
        return max(exps, default=0)

    def weight_bits(self, projection: Projection, default: int | None = None) -> int | None:
        """The projection's declared weight width (:func:`declared_weight_bits` of its chain)."""
        return declared_weight_bits((self.graph.nodes[n] for n in projection.chain), default)

    def conv2d(self, projection: Projection, ignoring: tuple[type, ...] = ()) -> Conv2d | None:
        """The chain's Conv2d when the chain is that one convolution with groups 1 and dilation 1
        (besides nodes of the kinds in ``ignoring``, which the caller handles): the weight-shared
        form the targets' convolution engines run, with the kernel as weights."""
        nodes = [self.graph.nodes[n] for n in projection.chain if not isinstance(self.graph.nodes[n], ignoring)]
        if len(nodes) != 1 or not isinstance(nodes[0], Conv2d):
            return None
        return nodes[0] if nodes[0].groups == 1 and tuple(nodes[0].dilation) == (1, 1) else None

    def readout(self, output: str, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """Node ``output``'s values ``[B, T, size]`` computed on the host from each source
        population's ``[B, T, size]`` (spikes, or the real membrane of a non-spiking layer),
        as the reference does: the sum over its projections of ``value @ matrix.T`` (each
        element delayed by the chain's Delay), plus the chains' bias."""
        total = None
        for p in self.into(output):
            src = values[p.src].astype(np.float64)
            delays = self.delays(p)
            if delays is not None:  # shift each element by its delay (zeros before)
                src = np.stack([np.roll(src[:, :, i], d, axis=1) * (np.arange(src.shape[1]) >= d)
                                for i, d in enumerate(delays)], axis=2)
            term = src if not p.chain else src @ self.matrix(p).T
            total = term if total is None else total + term
        if total is None:
            return np.zeros((*next(iter(values.values())).shape[:2], self.size(output)))
        if any(p.chain for p in self.into(output)):
            total = total + self.bias(output)
        return total

    def bias(self, dst: str) -> np.ndarray:
        """Constant current into ``dst`` from the biases along all its chains (all inputs zero);
        cached and read-only, like the matrices."""
        if dst not in self._biases:
            bias = self._evaluate(dst, {}, 1, torch.float64).reshape(-1).numpy()
            bias.setflags(write=False)
            self._biases[dst] = bias
        return self._biases[dst]

    def _evaluate(self, dst: str, sources: dict[str, torch.Tensor], batch: int, dtype) -> torch.Tensor:
        from snncc.runtime.reference import _kernel

        graph, memo = self.graph, {}

        def value(name: str) -> torch.Tensor:
            if name in memo:
                return memo[name]
            node = graph.nodes[name]
            if is_population(node):
                out = sources.get(name)
                if out is None:
                    out = torch.zeros(batch, *self.shape(name), dtype=dtype)
            else:
                if isinstance(node, Delay):  # a delay only shifts in time; the map is the identity
                    kernel_step = lambda x: x  # noqa: E731
                else:
                    kernel_step = _kernel(node, graph.dt, dtype).step
                terms = [value(e.src) for e in graph.incoming(name)]
                drive = sum(t.reshape(terms[0].shape) for t in terms)
                shape = self._shapes.input_shapes.get(name)
                if shape is not None:
                    drive = drive.reshape(drive.shape[0], *shape)
                out = kernel_step(drive)
            memo[name] = out
            return out

        terms = [value(e.src) for e in graph.incoming(dst)]
        total = sum(t.reshape(t.shape[0], -1) for t in terms)
        return total if terms else torch.zeros(batch, self.size(dst), dtype=dtype)


def layer_graph(graph: Graph) -> LayerGraph:
    """Populations and projections of ``graph``; SNN131 for a node that is neither."""
    _, back_edges = evaluation_order(graph)
    problems: list[Diagnostic] = []
    projections: list[Projection] = []
    for name, node in graph.nodes.items():
        if not (isinstance(node, (Neuron, Output))):
            if not is_population(node) and not isinstance(node, (*LINEAR_KINDS, Delay)):
                problems.append(Diagnostic(
                    "SNN131", f"{node.kind} cannot be lowered to a synapse or neuron", node=name,
                    hint="remove it or add a lowering for it"))
            continue
        for edge in graph.incoming(name):
            for src, chain in _walk_back(graph, edge.src):
                projections.append(Projection(src, name, chain, back=(edge.src, name) in back_edges))
    if problems:
        raise SnnccError(problems)
    populations = tuple(n for n, node in graph.nodes.items() if is_population(node))
    return LayerGraph(graph, populations, tuple(projections))


def _walk_back(graph: Graph, name: str, chain: tuple[str, ...] = ()) -> list[tuple[str, tuple[str, ...]]]:
    node = graph.nodes[name]
    if is_population(node):
        return [(name, chain)]
    found = []
    for src in graph.predecessors(name):
        found += _walk_back(graph, src, (name, *chain))
    return found


def schedule(layers: LayerGraph, min_latency: int = 1) -> tuple[dict[str, int], dict[Projection, int]]:
    """Per population, the lag behind the reference; per projection, the extra delay
    (beyond ``min_latency`` and the chain's own Delay) that keeps the arithmetic equal.

    Constraint per projection: lag[dst] = lag[src] + min_latency + extra - back. Lags
    are the longest feed-forward paths; SNN132 when a recurrent loop spans more than
    one population, which no target with ``min_latency`` > 0 can run exactly.
    """
    lag = {p: 0 for p in layers.populations}
    forward = [p for p in layers.projections if not p.back]
    for _ in range(len(layers.populations) + 1):  # longest path by relaxation (graph is a DAG)
        changed = False
        for p in forward:
            if p.dst in lag and lag[p.src] + min_latency > lag[p.dst]:
                lag[p.dst] = lag[p.src] + min_latency
                changed = True
        if not changed:
            break
    extra: dict[Projection, int] = {}
    problems = []
    for p in layers.projections:
        if p.dst not in lag:  # into an Output
            continue
        need = lag[p.dst] - lag[p.src] - min_latency + (1 if p.back else 0)
        if need < 0:
            problems.append(Diagnostic(
                "SNN132", f"recurrent loop {p.src} -> {p.dst} spans several layers; with a "
                f"{min_latency}-step synaptic latency the target cannot match the reference timing",
                node=p.dst, hint="keep recurrence within one layer (self-recurrent weights)"))
        extra[p] = max(need, 0)
    if problems:
        raise SnnccError(problems)
    return lag, extra
