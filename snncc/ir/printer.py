"""Human-readable text form of a graph, for dumps and `snncc inspect --ir`."""
from __future__ import annotations

import numpy as np

from .graph import Graph
from .nodes import Node, SpikingNeuron
from .verify import infer_shapes


def _array(a: np.ndarray) -> str:
    if a.size == 0:
        return f"{a.dtype}[{','.join(map(str, a.shape))}]"
    if np.all(a == a.flat[0]):
        return f"{a.dtype}[{','.join(map(str, a.shape))}]={a.flat[0]:.6g}"
    return f"{a.dtype}[{','.join(map(str, a.shape))}] in [{a.min():.6g}, {a.max():.6g}]"


def describe(node: Node) -> str:
    parts = [f"{k}: {_array(v)}" for k, v in node.arrays().items()]
    for attr in ("stride", "padding", "kernel_size", "start_dim", "end_dim", "groups"):
        if hasattr(node, attr):
            parts.append(f"{attr}={getattr(node, attr)}")
    if isinstance(node, SpikingNeuron):
        parts.append(f"reset={node.reset.value} cmp='{node.comparator.value}'")
        if node.bias is not None:
            parts.append(f"bias: {_array(node.bias)}")
        if node.membrane_bn is not None:
            parts.append(f"membrane_bn(gamma: {_array(node.membrane_bn.gamma)})")
        if node.refractory:
            parts.append(f"refractory={node.refractory}")
    if node.quant is not None:
        parts.append("quant{" + ", ".join(f"{k}: int{p.bits}*{p.scale:.6g}" for k, p in node.quant.params.items()) + "}")
    if node.cores is not None:
        parts.append(f"cores={[s.core for s in node.cores.slices]}")
    return f"{node.kind}(" + ", ".join(parts) + ")"


def print_graph(graph: Graph) -> str:
    shapes = infer_shapes(graph)
    lines = [f"graph dt={graph.dt!r} {{"]
    for name, node in graph.nodes.items():
        in_shape, out_shape = shapes.input_shapes.get(name), shapes.output_shapes.get(name)
        lines.append(f"  %{name} = {describe(node)} : {in_shape} -> {out_shape}")
    for edge in graph.edges:
        lines.append(f"  {edge}")
    lines.append("}")
    return "\n".join(lines) + "\n"
