"""NeuroBench-style counts (neurobench/metrics v2.3.0 definitions, energy.md section 3),
per inference, from the activity counts and the deployed (quantised) graph."""
from __future__ import annotations

import numpy as np

from snncc.lowering import declared_weight_bits

from .activity import WEIGHTED, Activity


def metrics(activity: Activity, graph, spiking: dict[str, int], spikes: float, weight_bits: int | None) -> dict:
    """``spiking``: neurons per spiking population (the activations NeuroBench hooks);
    ``spikes``: their spikes per inference (input spikes are not activations)."""
    total = activity.total
    weighted = [node for _, node in graph.items_of(WEIGHTED)]
    n_weights = sum(int(node.weight.size) for node in weighted)
    zeros = sum(int(node.weight.size - np.count_nonzero(node.weight)) for node in weighted)
    slots = sum(spiking.values()) * activity.steps
    weight_footprint = sum(int(node.weight.size) * declared_weight_bits([node], weight_bits or 32) for node in weighted)
    state_footprint = sum(len(graph.nodes[name].state_names) * size for name, size in _neurons(graph).items()) * activity.state_bits
    return {
        "synaptic_operations": {"effective_ac": total("synops_ac"), "effective_mac": total("synops_mac"),
                                "dense": total("synops_dense")},
        "activation_sparsity": 1.0 - spikes / slots if slots else 0.0,
        "connection_sparsity": zeros / n_weights if n_weights else 0.0,
        "neuron_updates": total("neuron_updates_active") + total("neuron_updates_idle"),
        "parameter_count": int(sum(int(np.size(a)) for node in graph.nodes.values() for a in node.arrays().values())),
        "footprint_bits": {"weights": weight_footprint, "neuron_state": int(state_footprint),
                           "total": int(weight_footprint + state_footprint)},
    }


def _neurons(graph) -> dict[str, int]:
    from snncc.ir import Neuron

    return {name: node.size for name, node in graph.items_of(Neuron)}
