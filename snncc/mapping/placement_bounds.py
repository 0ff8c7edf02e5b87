"""Lower bounds on the hop-weighted traffic of any placement, to tell how much a better
placement could still gain.

``placement.hop_traffic`` is ``sum rate[a, b] x cost(slot a, slot b)`` over tile pairs:
one unicast stream per communicating pair, costed by the hop distance of the two cores.
Finding the slots that minimise it is a quadratic assignment problem; the Gilmore-Lawler
bound relaxes it to a linear one. The cost being symmetric, the objective is
``sum_a sum_b share[a, b] cost`` for any split ``share + share^T = rate + rate^T`` of each
pair's traffic between its two tiles. Whatever the other tiles' slots, tile ``a`` on slot
``k`` pays at least its share, largest first, times the distances from ``k`` to the other
slots, nearest first (the rearrangement inequality; the other tiles sit on distinct slots
other than ``k``). The cheapest assignment of tiles to distinct slots under those per-tile
costs (an exact linear assignment) is therefore <= the optimum. Three splits are tried
(all to the source, all to the destination, half each: a star is bounded exactly only
when its centre holds all of it); the largest bound counts.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment

from .topology import Topology

#: slots whose distance rows are computed at once (rows x all slots floats)
CHUNK = 256
#: layer-pair split fractions tried, and coordinate-ascent rounds over the layer pairs
FRACTIONS = (0.0, 0.5, 1.0)
ROUNDS = 2


def gilmore_lawler_bound(topology: Topology, rate: sp.csr_matrix) -> float:
    """<= ``hop_traffic(topology, rate, slots)`` for every injective ``slots`` of the system."""
    n = rate.shape[0]
    rate = sp.csr_matrix(rate, dtype=float)
    rate.setdiag(0)  # a tile's traffic with itself stays on its core: cost 0
    rate.eliminate_zeros()
    if n <= 1 or rate.nnz == 0:
        return 0.0
    both = sp.csr_matrix(rate + rate.T)
    partners = np.diff(both.indptr)
    coo = both.tocoo()
    busier = np.sign(partners[coo.row] - partners[coo.col]) * 0.5 + 0.5  # 1, 1/2 or 0
    to_busier = sp.csr_matrix((coo.data * busier, (coo.row, coo.col)), shape=both.shape)
    splits = [_sorted_flows(rate), _sorted_flows(rate.T), _sorted_flows(0.5 * both), _sorted_flows(to_busier)]
    reps, multiplicity = _positions(topology)
    near = _nearest_distances(topology, reps, max(f.shape[1] for f in splits))
    return max(_assignment(flows, near, multiplicity, n) for flows in splits)


def layered_gilmore_lawler_bound(topology: Topology, rate: sp.csr_matrix, groups: list[np.ndarray]) -> float:
    """Gilmore-Lawler with each layer pair's traffic split between its two layers by a
    fraction (the tile of layer i carries ``F[i, j]`` of each pair's traffic with layer j,
    ``F[j, i] = 1 - F[i, j]``, half each within a layer): every such split is one of the
    splits above, so each value is a valid bound and the largest found counts. A hub layer
    carrying all its partners' traffic is bounded like a star's centre. The fractions come
    from coordinate ascent over 0, 1/2, 1 (deterministic, from the all-half split)."""
    n = rate.shape[0]
    rate = sp.csr_matrix(rate, dtype=float)
    rate.setdiag(0)
    rate.eliminate_zeros()
    if n <= 1 or rate.nnz == 0:
        return 0.0
    both = sp.csr_matrix(rate + rate.T).tocoo()
    layer = np.zeros(n, dtype=np.int64)
    for index, tiles in enumerate(groups):
        layer[tiles] = index
    reps, multiplicity = _positions(topology)
    near = _nearest_distances(topology, reps, int(np.diff(sp.csr_matrix(both).indptr).max()))
    pairs = sorted({(min(a, b), max(a, b)) for a, b in zip(layer[both.row], layer[both.col]) if a != b})

    def value(fractions: dict) -> float:
        f = np.full((len(groups), len(groups)), 0.5)
        for (i, j), x in fractions.items():
            f[i, j], f[j, i] = x, 1.0 - x
        share = sp.csr_matrix((both.data * f[layer[both.row], layer[both.col]], (both.row, both.col)), shape=(n, n))
        return _assignment(_sorted_flows(share), near, multiplicity, n)

    fractions = {pair: 0.5 for pair in pairs}
    best = value(fractions)
    for _ in range(ROUNDS):
        improved = False
        for pair in pairs:
            for x in FRACTIONS:
                if x == fractions[pair]:
                    continue
                trial = {**fractions, pair: x}
                bound = value(trial)
                if bound > best * (1 + 1e-12):
                    best, fractions, improved = bound, trial, True
        if not improved:
            break
    return best


def _assignment(flows: np.ndarray, near: np.ndarray, multiplicity: np.ndarray, n: int) -> float:
    """Cheapest assignment of tiles to distinct slots under the per-tile rearrangement costs."""
    per_position = flows @ near[:, :flows.shape[1]].T  # tile x position: cheapest cost from there
    cost = _candidate_columns(per_position, multiplicity, n)
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].sum())


def _sorted_flows(share: sp.spmatrix) -> np.ndarray:
    """Per tile, the traffic it is charged with, largest first."""
    share = sp.csr_matrix(share)
    share.sort_indices()
    degrees = np.diff(share.indptr)
    flows = np.zeros((share.shape[0], max(int(degrees.max(initial=0)), 1)))
    for a in range(share.shape[0]):
        row = np.sort(share.data[share.indptr[a]:share.indptr[a + 1]])[::-1]
        flows[a, :row.size] = row
    return flows


def _positions(topology: Topology) -> tuple[np.ndarray, np.ndarray]:
    """One slot per distinct position (SpiNNaker's PEs of a QPE share one) and how many
    slots each position has; slots of one position have the same distances to all others."""
    slots = np.arange(topology.model.max_cores)
    x, y = topology.local_xy(slots)
    key = (topology.chip(slots) * (int(x.max()) + 1) + x) * (int(y.max()) + 1) + y
    _, first, counts = np.unique(key, return_index=True, return_counts=True)
    return slots[first], counts


def _nearest_distances(topology: Topology, reps: np.ndarray, count: int) -> np.ndarray:
    """Per position, the hop costs to the ``count`` nearest other slots, ascending."""
    slots = np.arange(topology.model.max_cores)
    near = np.empty((reps.size, count))
    for start in range(0, reps.size, CHUNK):
        chunk = reps[start:start + CHUNK]
        d = topology.cost(chunk[:, None], slots[None, :])
        d[np.arange(chunk.size), chunk] = np.inf  # the slot itself holds tile a
        near[start:start + chunk.size] = np.sort(np.partition(d, count - 1, axis=1)[:, :count], axis=1)
    return near


def _candidate_columns(per_position: np.ndarray, multiplicity: np.ndarray, n: int):
    """Assignment columns: each position once per slot, but only positions among some
    tile's ``n`` cheapest slots (a tile assigned elsewhere could move to a free one of
    those without raising the cost, so the optimum is unchanged)."""
    keep = np.zeros(per_position.shape[1], dtype=bool)
    for row in per_position:
        order = np.argsort(row, kind="stable")
        enough = int(np.searchsorted(np.cumsum(multiplicity[order]), n)) + 1
        keep[order[:enough]] = True
    positions = np.flatnonzero(keep)
    owner = np.repeat(positions, np.minimum(multiplicity[positions], n))
    return per_position[:, owner]

