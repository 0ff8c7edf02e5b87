"""The graph: named nodes, port-naming edges, the time step and provenance."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from .nodes import Input, Node, Output


@dataclass(frozen=True)
class Edge:
    """Data flows from ``src.src_port`` to ``dst.dst_port``; several edges into one
    port are summed (NIR semantics)."""

    src: str
    dst: str
    src_port: str = "output"
    dst_port: str = "input"

    def __str__(self) -> str:
        return f"{self.src}.{self.src_port} -> {self.dst}.{self.dst_port}"


@dataclass(frozen=True)
class Graph:
    """An SNN graph. ``dt`` is the simulation/hardware time step in seconds (None
    until known). Node order is insertion order and is kept by every pass, which
    keeps artifacts deterministic."""

    nodes: Mapping[str, Node]
    edges: tuple[Edge, ...]
    dt: float | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", dict(self.nodes))
        object.__setattr__(self, "edges", tuple(self.edges))

    # ------------------------------------------------------------------ building
    @classmethod
    def sequential(cls, *nodes: Node, names: list[str] | None = None, dt: float | None = None) -> "Graph":
        """A chain of nodes; Input/Output are added when missing."""
        chain = list(nodes)
        named = list(names or [f"{n.kind.lower()}{i}" for i, n in enumerate(chain)])
        if not isinstance(chain[0], Input):
            shape = chain[0].declared_input_shape()
            chain.insert(0, Input(shape=shape or ()))
            named.insert(0, "input")
        if not isinstance(chain[-1], Output):
            chain.append(Output(shape=()))  # shape filled in by with_inferred_output_shapes
            named.append("output")
        edges = [Edge(a, b) for a, b in zip(named, named[1:])]
        graph = cls(dict(zip(named, chain)), tuple(edges), dt=dt)
        return graph.with_inferred_output_shapes()

    def with_inferred_output_shapes(self) -> "Graph":
        from .verify import infer_shapes

        shapes = infer_shapes(self).input_shapes
        nodes = {
            name: (node.replace(shape=shapes[name]) if isinstance(node, Output) and name in shapes else node)
            for name, node in self.nodes.items()
        }
        return self.replace(nodes=nodes)

    def replace(self, **changes: Any) -> "Graph":
        return dataclasses.replace(self, **changes)

    def with_node(self, name: str, node: Node) -> "Graph":
        """Replace (or add) one node, keeping order."""
        if self.nodes.get(name) is node:
            return self
        return self.replace(nodes={**self.nodes, name: node})

    def map_nodes(self, fn) -> "Graph":
        """Apply ``fn(name, node) -> node`` to every node; the same graph if none changed."""
        new = {name: fn(name, node) for name, node in self.nodes.items()}
        if all(new[n] is self.nodes[n] for n in new):
            return self
        return self.replace(nodes=new)

    # ------------------------------------------------------------------ queries
    def incoming(self, name: str, port: str | None = None) -> list[Edge]:
        return [e for e in self.edges if e.dst == name and (port is None or e.dst_port == port)]

    def outgoing(self, name: str) -> list[Edge]:
        return [e for e in self.edges if e.src == name]

    def predecessors(self, name: str) -> list[str]:
        return [e.src for e in self.incoming(name)]

    def successors(self, name: str) -> list[str]:
        return [e.dst for e in self.outgoing(name)]

    def inputs(self) -> list[str]:
        return [n for n, node in self.nodes.items() if isinstance(node, Input)]

    def outputs(self) -> list[str]:
        return [n for n, node in self.nodes.items() if isinstance(node, Output)]

    def items_of(self, cls: type) -> Iterator[tuple[str, Any]]:
        return ((n, node) for n, node in self.nodes.items() if isinstance(node, cls))

    def to_networkx(self):
        import networkx as nx

        g = nx.MultiDiGraph()
        g.add_nodes_from(self.nodes)
        g.add_edges_from((e.src, e.dst) for e in self.edges)
        return g

    def summary(self) -> str:
        lines = [f"graph: {len(self.nodes)} nodes, {len(self.edges)} edges, dt={self.dt}"]
        lines += [f"  {name}: {node.kind}" for name, node in self.nodes.items()]
        lines += [f"  {edge}" for edge in self.edges]
        return "\n".join(lines)
