"""The steepest descent stops only where no single move to a free slot and no swap lowers
the hop-weighted traffic, each checked by recomputing the traffic from scratch; on dense
layer-to-layer traffic (an MLP on SpiNNaker 2) the placement is >= 30 % below sequential."""
import numpy as np
import scipy.sparse as sp

from snncc.mapping import map_network, resolve_model
from snncc.mapping.placement import hop_traffic
from snncc.mapping.placement_search import descend, search_region
from snncc.mapping.synthetic import mlp
from snncc.mapping.topology import Topology

MESH_4X4 = {"cores_per_chip": 16, "mesh_shape": (4, 4), "chips": 1, "chip_grid": (1, 1)}


def test_descent_ends_in_a_local_optimum_of_moves_and_swaps():
    topology = Topology(resolve_model("loihi2", MESH_4X4))
    rng = np.random.default_rng(3)
    n = 12
    rate = sp.csr_matrix(rng.integers(0, 20, size=(n, n)) * (rng.random((n, n)) < 0.5), dtype=float)
    sym = sp.csr_matrix(rate + rate.T)
    sym.setdiag(0)
    sym.eliminate_zeros()
    start = rng.permutation(16)[:n]
    region = search_region(topology, n, [start])
    assert region.size == 16
    slots = descend(topology, sym, start, region)
    assert np.unique(slots).size == n and np.isin(slots, region).all()
    cost = hop_traffic(topology, rate, slots)
    assert cost < hop_traffic(topology, rate, start)
    for a in range(n):
        for k in region:
            moved = slots.copy()
            moved[slots == k] = slots[a]  # the tile on k, if any, takes a's slot
            moved[a] = k
            assert hop_traffic(topology, rate, moved) >= cost - 1e-9
    assert np.array_equal(slots, descend(topology, sym, start, region))


def test_dense_mlp_on_spinnaker_is_30_percent_below_sequential():
    result = map_network(mlp([784, 1000, 1000, 10]), resolve_model("spinnaker2"))
    assert result.hop_traffic() <= 0.7 * result.hop_traffic(sequential=True)
