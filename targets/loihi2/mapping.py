"""mapping.json: which Loihi 2 cores hold which neurons of each Lava LIF process.

``partitioning`` is keyed by Lava process name, the key Lava's compiler passes to the
NeuroCore sub-compiler as ``compile_config["partitioning"]`` (a private part of Intel's
Loihi extension, so the per-process value format is our best reading, not verified on a
chip): ``{"cores": [{"chip", "core", "start", "stop"}]}`` with neuron ranges local to
the process. The cores come from the ``map-cores`` pass (``node.cores``) when it ran,
otherwise from a simple split: each process on its own cores, at most
``neurons_per_core`` neurons per core (loihi2.md section 2.2), cores numbered in order.
"""
from __future__ import annotations

import math

import numpy as np

from snncc.ir import Graph
from snncc.targets.loihi2.lower import Lowered

__all__ = ["core_mapping", "FORMAT"]

FORMAT = "snncc.loihi2.mapping/1"


def core_mapping(graph: Graph, lowered: Lowered, neurons_per_core: int, cores_per_chip: int) -> dict:
    partitioning: dict[str, dict] = {}
    from_pass = all(graph.nodes[m.ir].cores is not None for m in lowered.nodes) and lowered.nodes
    next_core = 0
    for m in lowered.nodes:
        assignment = graph.nodes[m.ir].cores
        for proc, idx in zip(m.processes, m.neurons):
            if from_pass:
                cores = [_local_range(idx, s.start, s.stop) | {"chip": s.chip, "core": s.core}
                         for s in assignment.slices]
                cores = [c for c in cores if c["stop"] > c["start"]]
            else:
                cores = []
                for k in range(math.ceil(idx.size / neurons_per_core)):
                    chip, core = divmod(next_core, cores_per_chip)
                    cores.append({"chip": chip, "core": core, "start": k * neurons_per_core,
                                  "stop": min(idx.size, (k + 1) * neurons_per_core)})
                    next_core += 1
            partitioning[proc] = {"ir": m.ir, "cores": cores}
    used = {(c["chip"], c["core"]) for p in partitioning.values() for c in p["cores"]}
    return {"format": FORMAT, "source": "map-cores" if from_pass else "default",
            "neurons_per_core": neurons_per_core, "cores_per_chip": cores_per_chip,
            "cores_used": len(used), "partitioning": partitioning}


def _local_range(idx: np.ndarray, start: int, stop: int) -> dict:
    """Process-local [start, stop) of the node neurons in [start, stop) (``idx`` is sorted,
    so they are contiguous)."""
    return {"start": int(np.searchsorted(idx, start)), "stop": int(np.searchsorted(idx, stop))}
