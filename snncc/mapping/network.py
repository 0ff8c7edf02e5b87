"""The mapper's view of a graph: layers (populations) and the projections into them."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snncc.ir import Affine, Conv1d, Conv2d, Delay, Graph, Linear, Output, infer_shapes
from snncc.lowering import layer_graph

from .costs import LayerInfo
from .patterns import KronPattern, ProjectionInfo, build_pattern, view


@dataclass(frozen=True)
class Network:
    layers: tuple[LayerInfo, ...]  # in graph order
    projections: tuple[ProjectionInfo, ...]  # into neuron layers only

    def layer(self, name: str) -> LayerInfo:
        return next(l for l in self.layers if l.name == name)

    def into(self, name: str) -> list[ProjectionInfo]:
        return [p for p in self.projections if p.dst == name]


def network_of(graph: Graph, default_weight_bits: int) -> Network:
    lg = layer_graph(graph)
    shapes = infer_shapes(graph)
    recorded = {p.src for p in lg.projections if isinstance(graph.nodes[p.dst], Output)}
    layers = tuple(
        LayerInfo(name, graph.nodes[name].kind, view(lg.shape(name)), name in recorded)
        for name in lg.populations)
    projections = []
    for index, p in enumerate(lg.projections):
        if isinstance(graph.nodes[p.dst], Output):
            continue
        chain = [(n, graph.nodes[n], tuple(shapes.input_shapes[n])) for n in p.chain]
        pattern = build_pattern(chain, lg.shape(p.src), lg.shape(p.dst))
        nodes = [graph.nodes[n] for n in p.chain]
        convs = [node for node in nodes if isinstance(node, (Conv1d, Conv2d))]
        dense = [node for node in nodes if isinstance(node, (Affine, Linear))]
        kernel = None
        if len(convs) == 1 and not dense and isinstance(pattern, KronPattern):
            kernel = int(np.prod(convs[0].weight.shape[1:]))
        name = p.name if sum(q.name == p.name for q in lg.projections) == 1 else f"{p.name}#{index}"
        projections.append(ProjectionInfo(
            name, p.src, p.dst, pattern, lg.weight_bits(p, default_weight_bits),
            any(isinstance(node, Delay) for node in nodes), kernel))
    return Network(layers, tuple(projections))
