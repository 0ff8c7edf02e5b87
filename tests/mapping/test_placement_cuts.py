"""The grid-line cut bound never exceeds the best placement (every placement tried, on a
mesh and on two chips) and is exact where Gilmore-Lawler is weak: all-to-all traffic
between two layers."""
import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from snncc.mapping import resolve_model
from snncc.mapping.placement_bounds import gilmore_lawler_bound
from snncc.mapping.placement_cuts import cut_bound
from snncc.mapping.topology import Topology

MESH_3X3 = ("loihi2", {"cores_per_chip": 9, "mesh_shape": (3, 3), "chips": 1, "chip_grid": (1, 1)})
TWO_CHIPS = ("loihi2", {"cores_per_chip": 4, "mesh_shape": (2, 2), "chips": 2, "chip_grid": (2, 1)})
#: 2 x 2 hexagonal chip grid (one diagonal link), two PEs of one QPE per chip: 0 hops apart
HEX_CHIPS = ("spinnaker2", {"cores_per_chip": 2, "mesh_shape": (1, 1), "chips": 4, "chip_grid": (2, 2)})


def _optimum(topology: Topology, rate: np.ndarray) -> float:
    """Cheapest placement, every injective one tried at once."""
    slots = np.arange(topology.model.max_cores)
    dist = topology.cost(slots[:, None], slots[None, :])
    perms = np.array(list(itertools.permutations(slots, rate.shape[0])))
    rows, cols = np.nonzero(rate)
    return float((dist[perms[:, rows], perms[:, cols]] * rate[rows, cols]).sum(axis=1).min())


def _biclique(p: int, q: int) -> np.ndarray:
    rate = np.zeros((p + q, p + q))
    rate[:p, p:] = 1.0
    return rate


@pytest.mark.parametrize("system, p, q, optimum", [(MESH_3X3, 3, 3, 13), (MESH_3X3, 2, 4, 12), (TWO_CHIPS, 2, 4, 40)])
def test_all_to_all_between_two_layers_is_bounded_exactly(system, p, q, optimum):
    topology = Topology(resolve_model(*system))
    rate = _biclique(p, q)
    assert _optimum(topology, rate) == optimum
    groups = [np.arange(p), np.arange(p, p + q)]
    assert gilmore_lawler_bound(topology, sp.csr_matrix(rate)) < cut_bound(topology, sp.csr_matrix(rate), groups) == optimum


@pytest.mark.parametrize("system", [MESH_3X3, TWO_CHIPS, HEX_CHIPS])
@pytest.mark.parametrize("seed", range(3))
def test_bound_is_at_most_the_optimum_for_random_layered_traffic(system, seed):
    topology = Topology(resolve_model(*system))
    rng = np.random.default_rng(seed)
    groups = [np.arange(0, 2), np.arange(2, 5), np.arange(5, 6)]
    rate = np.zeros((6, 6))
    for src, dst in ((0, 1), (1, 1), (1, 2)):  # layer 1 recurrent
        for a in groups[src]:
            rate[a, groups[dst]] = rng.integers(1, 6, size=len(groups[dst]))
    np.fill_diagonal(rate, 0)
    bound = cut_bound(topology, sp.csr_matrix(rate), groups)
    assert 0 < bound <= _optimum(topology, rate) + 1e-9
