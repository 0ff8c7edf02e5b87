"""The per-shape integer-program bound never exceeds the best placement (every placement
tried) and is exact for layered all-to-all traffic on one chip, where the cut bound is not."""
import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from snncc.mapping import resolve_model
from snncc.mapping.placement_cuts import cut_bound
from snncc.mapping.placement_windows import window_bound
from snncc.mapping.topology import Topology

from placement_kit import MESH_3X3, MESH_2X4, TWO_CHIPS, best_placement_cost





def _chain(sizes, weights, rng=None):
    """Layer i sends to every tile of layer i + 1 (random extra traffic when ``rng``)."""
    groups = np.split(np.arange(sum(sizes)), np.cumsum(sizes)[:-1])
    rate = np.zeros((sum(sizes), sum(sizes)))
    for (src, dst), w in zip(itertools.pairwise(groups), weights):
        rate[np.ix_(src, dst)] = w + (rng.integers(0, 3, (len(src), len(dst))) if rng is not None else 0)
    return rate, groups


def test_three_layer_all_to_all_is_bounded_exactly_where_the_cut_bound_is_not():
    topology = Topology(resolve_model(*MESH_3X3))
    rate, groups = _chain([3, 3, 1], [5, 4])
    optimum = best_placement_cost(topology, rate)
    bound = window_bound(topology, sp.csr_matrix(rate), groups)
    assert cut_bound(topology, sp.csr_matrix(rate), groups) < bound == pytest.approx(optimum)


@pytest.mark.parametrize("system", [MESH_3X3, MESH_2X4, TWO_CHIPS])
@pytest.mark.parametrize("seed", range(3))
def test_bound_is_at_most_the_optimum_for_random_layered_traffic(system, seed):
    topology = Topology(resolve_model(*system))
    rate, groups = _chain([2, 2, 1], [3, 2], np.random.default_rng(seed))
    bound = window_bound(topology, sp.csr_matrix(rate), groups)
    assert 0 < bound <= best_placement_cost(topology, rate) + 1e-6
