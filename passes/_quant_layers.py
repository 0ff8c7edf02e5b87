"""Per-channel quantization as an exact float rewrite before per-layer quantization."""
from __future__ import annotations

import numpy as np

from snncc.ir import Affine, Conv1d, Conv2d, Graph, Linear, Scale, SpikingNeuron

from ._folding import scale_inputs, scale_neuron

#: largest factor a row is scaled up by (a nearly-zero row would otherwise blow up its threshold)
MAX_ROW_GAIN = 256.0


def _row_max(node, size: int) -> np.ndarray | None:
    """Largest |weight| feeding each destination neuron from one producer, or None."""
    if isinstance(node, (Affine, Linear)):
        m = np.abs(np.asarray(node.weight)).max(1)
    elif isinstance(node, (Conv1d, Conv2d)):
        channels = np.abs(np.asarray(node.weight)).reshape(node.weight.shape[0], -1).max(1)
        m = np.repeat(channels, size // channels.size) if size % channels.size == 0 else None
    elif isinstance(node, Scale):
        m = np.abs(np.asarray(node.scale)).reshape(-1)
    else:
        return None
    return m if m is not None and m.size == size else None


def equalize_rows(graph: Graph, names: list[str]) -> tuple[Graph, list[str]]:
    """Scale each spiking layer's membranes ``u_j = k_j v_j`` (inputs, bias, threshold, reset by
    k_j > 0: the same spikes) so every neuron's incoming rows share the layer's largest |weight|.
    Layers whose inputs cannot be rescaled (no private weight layer in front) are left alone."""
    done = []
    for name in names:
        node = graph.nodes[name]
        if not isinstance(node, SpikingNeuron):
            continue
        rows = np.zeros(node.size)
        for edge in graph.incoming(name):
            m = _row_max(graph.nodes[edge.src], node.size)
            if m is None:
                rows = None
                break
            rows = np.maximum(rows, m)
        if rows is None or rows.max() == 0:
            continue
        k = np.where(rows > 0, np.minimum(rows.max() / np.where(rows > 0, rows, 1.0), MAX_ROW_GAIN), 1.0)
        if np.all(k == 1):
            continue
        k = k.reshape(node.shape)
        scaled, problems = scale_inputs(graph, name, k, "per-channel quantization", cuba_w_in=False)
        if problems:
            continue
        graph = scaled.with_node(name, scale_neuron(scaled.nodes[name], k))
        done.append(name)
    return graph, done
