"""Tiny systems and the brute-force optimum the placement bounds are checked against."""
import itertools

import numpy as np
import scipy.sparse as sp

from snncc.mapping.topology import Topology

MESH_3X3 = ("loihi2", {"cores_per_chip": 9, "mesh_shape": (3, 3), "chips": 1, "chip_grid": (1, 1)})
MESH_2X4 = ("loihi2", {"cores_per_chip": 8, "mesh_shape": (2, 4), "chips": 1, "chip_grid": (1, 1)})
TWO_CHIPS = ("loihi2", {"cores_per_chip": 4, "mesh_shape": (2, 2), "chips": 2, "chip_grid": (2, 1)})
#: 2 x 2 hexagonal chip grid (one diagonal link), two PEs of one QPE per chip: 0 hops apart
HEX_CHIPS = ("spinnaker2", {"cores_per_chip": 2, "mesh_shape": (1, 1), "chips": 4, "chip_grid": (2, 2)})


def best_placement_cost(topology: Topology, rate) -> float:
    """Cheapest placement of ``rate``'s tiles (dense or sparse), every injective one tried at once."""
    rate = rate.toarray() if sp.issparse(rate) else np.asarray(rate)
    slots = np.arange(topology.model.max_cores)
    dist = topology.cost(slots[:, None], slots[None, :])
    perms = np.array(list(itertools.permutations(slots, rate.shape[0])))
    rows, cols = np.nonzero(rate)
    return float((dist[perms[:, rows], perms[:, cols]] * rate[rows, cols]).sum(axis=1).min())
