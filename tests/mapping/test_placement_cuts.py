"""The grid-line cut bound never exceeds the best placement (every placement tried, on a
mesh and on two chips) and is exact where Gilmore-Lawler is weak: all-to-all traffic
between two layers."""
import numpy as np
import pytest
import scipy.sparse as sp

from snncc.mapping import resolve_model
from snncc.mapping.placement_bounds import gilmore_lawler_bound
from snncc.mapping.placement_cuts import cut_bound
from snncc.mapping.topology import Topology

from placement_kit import MESH_3X3, TWO_CHIPS, HEX_CHIPS, best_placement_cost





def _biclique(p: int, q: int) -> np.ndarray:
    rate = np.zeros((p + q, p + q))
    rate[:p, p:] = 1.0
    return rate


@pytest.mark.parametrize("system, p, q, optimum", [(MESH_3X3, 3, 3, 13), (MESH_3X3, 2, 4, 12), (TWO_CHIPS, 2, 4, 40)])
def test_all_to_all_between_two_layers_is_bounded_exactly(system, p, q, optimum):
    topology = Topology(resolve_model(*system))
    rate = _biclique(p, q)
    assert best_placement_cost(topology, rate) == optimum
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
    assert 0 < bound <= best_placement_cost(topology, rate) + 1e-9
