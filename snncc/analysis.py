"""Per-node resource statistics (neurons, synapses, parameters) for `inspect` and manifests."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .ir import Affine, Conv1d, Conv2d, Graph, Linear, Neuron, infer_shapes


@dataclass(frozen=True)
class NodeStats:
    name: str
    kind: str
    input_shape: tuple | None
    output_shape: tuple | None
    neurons: int
    synapses: int
    parameters: int


def synapse_count(node, output_shape) -> int:
    """Connections a node realises: dense weight entries, or per output neuron fan-in for conv."""
    if isinstance(node, (Affine, Linear)):
        return int(node.weight.size)
    if isinstance(node, (Conv1d, Conv2d)) and output_shape:
        fan_in = math.prod(node.weight.shape[1:])
        return int(math.prod(output_shape) * fan_in)
    return 0


def node_stats(graph: Graph) -> list[NodeStats]:
    shapes = infer_shapes(graph)
    out = []
    for name, node in graph.nodes.items():
        out_shape = shapes.output_shapes.get(name)
        neurons = node.size if isinstance(node, Neuron) else 0
        params = sum(int(np.size(a)) for a in node.arrays().values())
        out.append(NodeStats(name, node.kind, shapes.input_shapes.get(name), out_shape, neurons,
                             synapse_count(node, out_shape), params))
    return out


def resource_summary(graph: Graph) -> dict:
    stats = node_stats(graph)
    return {
        "neurons": sum(s.neurons for s in stats),
        "synapses": sum(s.synapses for s in stats),
        "parameters": sum(s.parameters for s in stats),
        "layers": {s.name: {"kind": s.kind, "neurons": s.neurons, "synapses": s.synapses}
                   for s in stats if s.neurons or s.synapses},
    }
