"""simplify: exact algebraic clean-ups of stateless synapse chains, to a fixed point.

- remove identities: Scale of all ones, Flatten whose output shape equals its input shape
  (each source is wired to each destination; sums distribute, so this is exact);
- fold a Scale into the Affine/Linear it follows (rows: W' = diag(s) W, b' = s b) or
  precedes (columns: W' = W diag(s)), when the pair is private (one edge between them, no
  other consumer of the first, no other input of the second);
- merge private consecutive Affine/Linear maps (W = W2 W1, b = W2 b1 + b2) when this does
  not grow the parameter count (``merge_larger=true`` merges anyway);
- turn an AvgPool2d next to a private Conv2d into a SumPool2d, dividing the convolution by
  the kernel area (before the pool: weights and bias; after it: weights), so integer
  weights stay integers through the pooling (quantize, every hardware target).
Zero synapses are kept: dropping an edge can leave a node without input and changes nothing
the simulator or a target computes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from snncc.ir import Affine, AvgPool2d, Conv2d, Edge, Flatten, Graph, Linear, Scale, SumPool2d, infer_shapes
from snncc.passbase import Pass, PassContext, PassResult

from ._folding import bypass

DENSE = (Affine, Linear)


@dataclass(frozen=True)
class Simplify(Pass):
    name: ClassVar[str] = "simplify"
    #: merge Affine chains even when W2 W1 has more entries than W1 and W2 together
    merge_larger: bool = False

    def run(self, graph: Graph, ctx: PassContext) -> PassResult:
        changes: dict[str, list[str]] = {"removed": [], "scale_folded": [], "merged": [], "avgpool_to_sumpool": []}
        while True:
            step = _identity(graph) or _scale(graph) or _merge(graph, self.merge_larger) or _avg_to_sum(graph)
            if step is None:
                break
            graph, key, label = step
            changes[key].append(label)
        changes = {k: v for k, v in changes.items() if v}
        return PassResult(graph, bool(changes), changes)


def _private(graph: Graph, first: str, second: str) -> bool:
    """``first`` feeds only ``second`` by one plain edge and ``second`` has no other input."""
    outs, ins = graph.outgoing(first), graph.incoming(second)
    return (len(outs) == 1 and outs[0].dst == second and len(ins) == 1
            and outs[0].src_port == "output" and outs[0].dst_port == "input")


def _identity(graph: Graph) -> tuple[Graph, str, str] | None:
    shapes = None
    for name, node in graph.nodes.items():
        if isinstance(node, Scale) and node.quant is None and np.all(np.asarray(node.scale) == 1):
            return bypass(graph, name), "removed", name
        if isinstance(node, Flatten):
            shapes = shapes or infer_shapes(graph)
            shape = shapes.input_shapes.get(name)
            if shape is not None and tuple(node.output_shape(shape)) == tuple(shape):
                return bypass(graph, name), "removed", name
    return None


def _rewire(graph: Graph, first: str, second: str, keep: str, node: Any) -> Graph:
    """Replace the private pair first -> second by ``node`` named ``keep`` (one of the two),
    at ``keep``'s place: first's inputs and second's outputs now attach to it."""
    gone = second if keep == first else first
    edges = []
    for edge in graph.edges:
        if edge.src == first and edge.dst == second:
            continue
        if edge.dst == first:
            edge = Edge(edge.src, keep, edge.src_port, edge.dst_port)
        if edge.src == second:
            edge = Edge(keep, edge.dst, edge.src_port, edge.dst_port)
        edges.append(edge)
    nodes = {n: (node if n == keep else v) for n, v in graph.nodes.items() if n != gone}
    return graph.replace(nodes=nodes, edges=tuple(edges))


def _dense(weight: np.ndarray, bias: np.ndarray | None, like: Any) -> Any:
    common = dict(metadata=like.metadata)
    if bias is None:
        return Linear(weight=weight, **common)
    return Affine(weight=weight, bias=bias, **common)


def _bias(node: Any) -> np.ndarray | None:
    return np.asarray(node.bias) if isinstance(node, Affine) else None


def _scale(graph: Graph) -> tuple[Graph, str, str] | None:
    for name, node in graph.nodes.items():
        if not isinstance(node, Scale) or node.quant is not None:
            continue
        s = np.asarray(node.scale, dtype=np.float64).reshape(-1)
        ins, outs = graph.incoming(name), graph.outgoing(name)
        if len(ins) == 1 and isinstance(graph.nodes[ins[0].src], DENSE) and _private(graph, ins[0].src, name):
            src = graph.nodes[ins[0].src]
            if src.quant is None and src.weight.shape[0] == s.size:
                bias = _bias(src)
                new = _dense(np.asarray(src.weight) * s[:, None], None if bias is None else bias * s, src)
                return _rewire(graph, ins[0].src, name, ins[0].src, new), "scale_folded", f"{name}->{ins[0].src}"
        if len(outs) == 1 and isinstance(graph.nodes[outs[0].dst], DENSE) and _private(graph, name, outs[0].dst):
            dst = graph.nodes[outs[0].dst]
            if dst.quant is None and dst.weight.shape[1] == s.size:
                new = _dense(np.asarray(dst.weight) * s[None, :], _bias(dst), dst)
                return _rewire(graph, name, outs[0].dst, outs[0].dst, new), "scale_folded", f"{name}->{outs[0].dst}"
    return None


def _merge(graph: Graph, larger: bool) -> tuple[Graph, str, str] | None:
    for name, first in graph.nodes.items():
        if not isinstance(first, DENSE) or first.quant is not None:
            continue
        outs = graph.outgoing(name)
        if len(outs) != 1 or not isinstance(graph.nodes[outs[0].dst], DENSE):
            continue
        second_name = outs[0].dst
        second = graph.nodes[second_name]
        if second.quant is not None or second_name == name or not _private(graph, name, second_name):
            continue
        w1, w2 = np.asarray(first.weight), np.asarray(second.weight)
        if not larger and w2.shape[0] * w1.shape[1] > w1.size + w2.size:
            continue
        b1, b2 = _bias(first), _bias(second)
        bias = None if b1 is None and b2 is None else (
            (w2 @ b1 if b1 is not None else 0.0) + (b2 if b2 is not None else 0.0))
        merged = _dense(w2 @ w1, None if bias is None else np.asarray(bias, dtype=np.float64), first)
        return _rewire(graph, name, second_name, name, merged), "merged", f"{second_name}->{name}"
    return None


def _avg_to_sum(graph: Graph) -> tuple[Graph, str, str] | None:
    for name, pool in graph.nodes.items():
        if not isinstance(pool, AvgPool2d) or pool.quant is not None:
            continue
        area = pool.kernel_size[0] * pool.kernel_size[1]
        ins, outs = graph.incoming(name), graph.outgoing(name)
        if len(outs) == 1 and isinstance(graph.nodes[outs[0].dst], Conv2d) and _private(graph, name, outs[0].dst):
            conv_name, before = outs[0].dst, False
        elif len(ins) == 1 and isinstance(graph.nodes[ins[0].src], Conv2d) and _private(graph, ins[0].src, name):
            conv_name, before = ins[0].src, True
        else:
            continue
        conv = graph.nodes[conv_name]
        if conv.quant is not None:
            continue
        bias = np.asarray(conv.bias) / area if before else conv.bias
        new_conv = conv.replace(weight=np.asarray(conv.weight) / area, bias=bias)
        summed = SumPool2d(kernel_size=pool.kernel_size, stride=pool.stride, padding=pool.padding, metadata=pool.metadata)
        graph = graph.replace(nodes={n: (new_conv if n == conv_name else summed if n == name else v)
                                     for n, v in graph.nodes.items()})
        return graph, "avgpool_to_sumpool", f"{name}:{conv_name}"
    return None
