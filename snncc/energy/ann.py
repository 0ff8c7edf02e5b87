"""The same topology as a quantised ANN, side by side with the SNN (STEP's argument).

Both sides use one estimator (Horowitz 45 nm operation energies at the network's weight
bit width, STEP's memory cost per bit), never the target's table, so the ratio compares
like with like (energy.md: never mix estimators):

- SNN: binary synaptic ops are adds, graded ones multiply-adds; every neuron update a
  multiply-add (decay and input); memory: a weight read per synaptic op, the state read
  and written every step, one bit per spike.
- ANN (one pass per inference): a multiply-add per deployed synapse plus a bias add per
  neuron; memory: every weight read once and every activation written once (B bits).

Integer energies at B bits follow the power law through the published 8- and 32-bit
points, ``e(B) = e8 (B/8)^p`` with ``p = log(e32/e8) / log 4``; float weights use FP32.
"""
from __future__ import annotations

import math

import numpy as np

from snncc.lowering import declared_weight_bits

from .activity import WEIGHTED, Activity
from .tables import CostTable


def op_energy(table: CostTable, bits: int | None) -> tuple[float, float]:
    """(multiply, add) energy in J at ``bits`` (None: float32)."""
    if bits is None:
        return table.value("e_mult_fp32"), table.value("e_add_fp32")
    out = []
    for op in ("mult", "add"):
        e8, e32 = table.value(f"e_{op}_int8"), table.value(f"e_{op}_int32")
        exponent = math.log(e32 / e8) / math.log(4.0)
        out.append(e8 * (bits / 8.0) ** exponent)
    return out[0], out[1]


def network_weight_bits(graph, default: int | None) -> int | None:
    return declared_weight_bits((node for _, node in graph.items_of(WEIGHTED)), default)


def compare(table: CostTable, activity: Activity, graph, bits: int | None) -> dict:
    mult, add = op_energy(table, bits)
    e_bit, width = table.value("e_mem_bit"), bits or 32
    total = activity.total
    updates = total("neuron_updates_active") + total("neuron_updates_idle")
    snn_compute = total("synops_ac") * add + total("synops_mac") * (mult + add) + updates * (mult + add)
    snn_bits = (total("mem_read_bits_weight") + total("mem_read_bits_state") + total("mem_write_bits_state")
                + total("spikes_out"))
    layers = activity.layers  # the view the activity was counted on: its matrices are already built
    macs = sum(layers.sparse_matrix(p).count_nonzero() for p in layers.projections if p.dst in layers.neurons())
    weights = sum(int(np.count_nonzero(node.weight)) for _, node in graph.items_of(WEIGHTED))
    neurons = sum(layers.size(n) for n in layers.neurons())
    ann_compute = macs * (mult + add) + neurons * add
    ann_bits = weights * width + neurons * width
    snn = {"compute_j": snn_compute, "memory_j": snn_bits * e_bit, "memory_bits": snn_bits,
           "synops": total("synops_ac") + total("synops_mac"), "neuron_updates": updates}
    ann = {"compute_j": ann_compute, "memory_j": ann_bits * e_bit, "memory_bits": float(ann_bits),
           "macs": float(macs), "weights": float(weights), "activations": float(neurons)}
    for side in (snn, ann):
        side["total_j"] = side["compute_j"] + side["memory_j"]
    ratio = snn["total_j"] / ann["total_j"] if ann["total_j"] else None
    return {
        "estimator": table.id, "bits": bits, "e_mult_j": mult, "e_add_j": add, "e_mem_bit_j": e_bit,
        "snn": snn, "ann": ann, "snn_over_ann": ratio, "snn_pays": ratio is not None and ratio < 1.0,
    }
