"""The Gilmore-Lawler bound never exceeds the best placement, found by trying every
placement of a few tiles on small systems, and equals it where the relaxation loses
nothing (a chain that fits the mesh, a star)."""
import numpy as np
import pytest
import scipy.sparse as sp

from snncc.mapping import resolve_model
from snncc.mapping.placement_bounds import gilmore_lawler_bound, layered_gilmore_lawler_bound
from snncc.mapping.topology import Topology

from placement_kit import best_placement_cost

SYSTEMS = {
    "loihi2 2x3 mesh": ("loihi2", {"cores_per_chip": 6, "mesh_shape": (3, 2), "chips": 1, "chip_grid": (1, 1)}),
    "loihi2 two 3x1 chips": ("loihi2", {"cores_per_chip": 3, "mesh_shape": (3, 1), "chips": 2, "chip_grid": (2, 1)}),
    # 2 QPEs of 4 PEs per chip: PEs of one QPE are 0 hops apart
    "spinnaker2 hexagonal": ("spinnaker2", {"cores_per_chip": 4, "mesh_shape": (1, 1), "chips": 2,
                                            "chip_grid": (2, 1)}),
}


@pytest.mark.parametrize("system", list(SYSTEMS))
@pytest.mark.parametrize("seed", range(4))
def test_bound_is_at_most_the_optimum(system, seed):
    topology = Topology(resolve_model(*SYSTEMS[system]))
    rng = np.random.default_rng(seed)
    n = 6 if seed % 2 == 0 else 5
    dense = rng.integers(0, 9, size=(n, n)) * (rng.random((n, n)) < 0.6)
    rate = sp.csr_matrix(dense.astype(float))
    optimum = best_placement_cost(topology, rate)
    bound = gilmore_lawler_bound(topology, rate)
    assert 0 <= bound <= optimum + 1e-9
    assert bound >= float(np.triu(dense + dense.T, 1).sum()) - 1e-9 or system == "spinnaker2 hexagonal"


def test_bound_is_tight_for_a_chain_and_a_star():
    topology = Topology(resolve_model(*SYSTEMS["loihi2 2x3 mesh"]))
    chain = sp.csr_matrix(np.diag([5.0, 1, 4, 2, 3], k=1))
    # every link of the chain can be one hop: the optimum is its total traffic
    assert gilmore_lawler_bound(topology, chain) == best_placement_cost(topology, chain) == 15
    star = np.zeros((6, 6))
    star[0, 1:] = [9, 7, 5, 3, 1]  # the middle of a 2 x 3 mesh has 3 cores 1 hop away, 2 at 2 hops
    star = sp.csr_matrix(star)
    assert gilmore_lawler_bound(topology, star) == best_placement_cost(topology, star) == 9 + 7 + 5 + 2 * (3 + 1)


def test_bound_exceeds_one_hop_per_pair_for_dense_traffic():
    topology = Topology(resolve_model(*SYSTEMS["loihi2 2x3 mesh"]))
    clique = sp.csr_matrix(np.triu(np.ones((6, 6)), 1))
    # 15 pairs, at most 7 of them neighbours on a 2 x 3 mesh: 7 x 1 + 6 x 2 + 2 x 3 = 25
    assert 15 < gilmore_lawler_bound(topology, clique) <= best_placement_cost(topology, clique) == 25


def _layered(rng: np.random.Generator) -> tuple[sp.csr_matrix, list[np.ndarray]]:
    """A hub layer of one tile talking to every tile of a second layer, which talks to a third."""
    groups = [np.array([0]), np.array([1, 2, 3]), np.array([4, 5])]
    rate = np.zeros((6, 6))
    rate[0, 1:4] = rng.integers(4, 9, size=3)
    rate[np.ix_(groups[1], groups[2])] = rng.integers(1, 4, size=(3, 2))
    return sp.csr_matrix(rate), groups


@pytest.mark.parametrize("system", list(SYSTEMS))
@pytest.mark.parametrize("seed", range(3))
def test_layered_bound_is_at_most_the_optimum(system, seed):
    topology = Topology(resolve_model(*SYSTEMS[system]))
    rate, groups = _layered(np.random.default_rng(seed))
    bound = layered_gilmore_lawler_bound(topology, rate, groups)
    assert 0 <= bound <= best_placement_cost(topology, rate) + 1e-9


def test_layered_bound_beats_the_fixed_splits_on_a_recurrent_layer_feeding_a_hub():
    topology = Topology(resolve_model(*SYSTEMS["loihi2 2x3 mesh"]))
    groups = [np.arange(4), np.array([4]), np.array([5])]
    rate = np.zeros((6, 6))
    rate[np.ix_(groups[0], groups[0])] = 2.0  # recurrent all-to-all
    rate[:4, 4] = 3.0  # every recurrent tile feeds the hub
    rate[4, 5] = 1.0
    np.fill_diagonal(rate, 0)
    rate = sp.csr_matrix(rate)
    optimum = best_placement_cost(topology, rate)
    layered = layered_gilmore_lawler_bound(topology, rate, groups)
    assert gilmore_lawler_bound(topology, rate) < layered <= optimum + 1e-9
