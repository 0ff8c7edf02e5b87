"""``verify(graph)``: structural and numerical checks returning structured diagnostics.

Codes: SNN201 unknown node type, SNN202 dangling edge, SNN203 unknown port,
SNN204 shape mismatch, SNN205 cycle without a stateful node, SNN206 non-finite
parameter, SNN207 missing input/output, SNN208 invalid parameter value.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..diagnostics import Diagnostic, DiagnosticList, Severity
from .graph import Graph
from .nodes import Neuron, Node, Shape, SpikingNeuron

#: parameters that must be strictly positive where present
POSITIVE_FIELDS = ("tau", "tau_mem", "tau_syn")


@dataclass
class ShapeInfo:
    input_shapes: dict[str, Shape] = field(default_factory=dict)
    output_shapes: dict[str, Shape] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def same_shape(a: Shape, b: Shape) -> bool:
    """Shapes agree when equal after dropping size-1 dims (NIR files mix (n,) and (1, n))."""
    return tuple(d for d in a if d != 1) == tuple(d for d in b if d != 1)


def evaluation_order(graph: Graph) -> tuple[list[str], set[tuple[str, str]]]:
    """Node order for one time step and the edges whose value comes from the previous step.

    A depth-first search from the inputs (in node order) classifies back edges;
    a back edge closes a recurrent loop, so its source's previous-step output is used,
    as in norse and snnTorch recurrent cells.
    """
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(graph.nodes)
    g.add_edges_from((e.src, e.dst) for e in graph.edges if e.src in graph.nodes and e.dst in graph.nodes)
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {}
    starts = graph.inputs() + [n for n in graph.nodes if n not in graph.inputs()]
    for start in starts:
        if start in state:
            continue
        stack = [(start, iter(g.successors(start)))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(g.successors(child))))
    g.remove_edges_from(back)
    order = list(nx.lexicographical_topological_sort(g, key=list(graph.nodes).index))
    return order, back


def infer_shapes(graph: Graph) -> ShapeInfo:
    info = ShapeInfo()
    order, _ = evaluation_order(graph)
    for name in order:
        node = graph.nodes[name]
        declared = node.declared_input_shape()
        incoming = [info.output_shapes[e.src] for e in graph.incoming(name) if e.src in info.output_shapes]
        shape = declared
        for src_shape in incoming:
            if shape is None:
                shape = src_shape
            elif not same_shape(shape, src_shape):
                info.diagnostics.append(Diagnostic(
                    "SNN204",
                    f"input shape {tuple(src_shape)} does not match expected {tuple(shape)}",
                    node=name,
                    hint="check the preceding layer's output size or the Flatten/reshape before this node",
                ))
        if shape is None:
            continue
        info.input_shapes[name] = tuple(shape)
        try:
            info.output_shapes[name] = tuple(int(d) for d in node.output_shape(tuple(shape)))
        except (ValueError, IndexError, TypeError) as exc:
            info.diagnostics.append(Diagnostic("SNN204", f"cannot compute output shape: {exc}", node=name))
    return info


def _check_parameters(name: str, node: Node, out: DiagnosticList) -> None:
    arrays = node.arrays()
    if isinstance(node, SpikingNeuron) and node.bias is not None:
        arrays["bias"] = node.bias
    for field_name, values in arrays.items():
        if values.dtype.kind in "fc" and not np.all(np.isfinite(values)):
            bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
            out.add("SNN206", f"parameter '{field_name}' has {bad} NaN/infinite value(s)", node=name,
                    hint="retrain or clean the checkpoint; the compiler cannot place non-finite values")
        elif field_name in POSITIVE_FIELDS and np.any(values <= 0):
            out.add("SNN208", f"parameter '{field_name}' must be > 0 (min {values.min():g})", node=name,
                    hint="time constants are in seconds and must be positive")
    if isinstance(node, SpikingNeuron):
        steps = node.refractory
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            out.add("SNN208", f"refractory must be a non-negative whole number of time steps, got {steps!r}",
                    node=name, hint="refractory counts steps after a spike (0: none)")
    if isinstance(node, Neuron):
        shape = node.shape
        for field_name, values in arrays.items():
            if values.shape != shape and values.size != 1 and values.size != math.prod(shape):
                out.add("SNN204", f"parameter '{field_name}' has shape {values.shape}, neuron shape is {shape}",
                        node=name, hint="give every neuron parameter the same shape")


def verify(graph: Graph) -> list[Diagnostic]:
    """All problems found in ``graph`` (errors and warnings); empty when it is well formed."""
    out = DiagnosticList()
    from .nodes import NODE_TYPES

    for name, node in graph.nodes.items():
        if not isinstance(node, Node) or NODE_TYPES.get(node.kind) is not type(node):
            out.add("SNN201", f"unknown node type {type(node).__name__}", node=name,
                    hint=f"supported: {', '.join(sorted(NODE_TYPES))}")
            continue
        _check_parameters(name, node, out)
    if out.errors and any(d.code == "SNN201" for d in out.errors):
        return out.items
    for edge in graph.edges:
        for end, port, ports in ((edge.src, edge.src_port, "output_ports"), (edge.dst, edge.dst_port, "input_ports")):
            if end not in graph.nodes:
                out.add("SNN202", f"edge {edge} refers to missing node '{end}'", node=end,
                        hint="every edge must connect two nodes of the graph")
            elif port not in getattr(graph.nodes[end], ports):
                out.add("SNN203", f"edge {edge}: node has no port '{port}'", node=end,
                        hint=f"ports: {', '.join(getattr(graph.nodes[end], ports)) or 'none'}")
    if out.errors:
        return out.items
    if not graph.inputs():
        out.add("SNN207", "graph has no Input node", hint="add an Input node that feeds the first layer")
    if not graph.outputs():
        out.add("SNN207", "graph has no Output node", hint="add an Output node after the last layer")
    for name in graph.nodes:
        if not graph.incoming(name) and graph.nodes[name].input_ports:
            out.add("SNN202", "node has no incoming edge", node=name, severity=Severity.WARNING,
                    hint="connect it or remove it")
    _check_cycles(graph, out)
    if not out.errors:
        out.extend(infer_shapes(graph).diagnostics)
    return out.items


def _check_cycles(graph: Graph, out: DiagnosticList) -> None:
    import networkx as nx

    g = nx.DiGraph()
    g.add_edges_from((e.src, e.dst) for e in graph.edges if not graph.nodes[e.dst].stateful)
    for cycle in nx.simple_cycles(g):
        names = " -> ".join([*cycle, cycle[0]])
        out.add("SNN205", f"cycle {names} has no stateful node (neuron or delay)", node=cycle[0],
                hint="a recurrent loop needs a neuron or a Delay to break the same-step dependency")
        break
