"""Steepest descent over single-tile moves with exact cost changes (a quadratic
assignment local search in the style of Taillard's robust tabu search, without the tabu).

``A[a, k] = sum_j w[a, j] cost(k, slot j)`` is what tile ``a`` would pay on slot ``k`` with
every other tile where it is (``w = rate + rate^T``). Moving ``a`` to a free slot ``k``
changes the total by ``A[a, k] - A[a, slot a]``; swapping it with the tile ``b`` on ``k`` by
that minus ``A[b, k] - A[b, slot a]`` plus ``2 w[a, b] cost(slot a, k)`` (their own pair
keeps its length). Each step evaluates every (tile, slot) pair at once, makes the best
move and updates ``A`` by two rank-one terms, until no move lowers the cost or the work
budget is spent. Free slots of the search region count, so the occupied shape can change
(rounder than the block the bisection starts from, or around the traffic's hubs).
Deterministic: ties go to the lowest (tile, slot) index.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .topology import Topology

#: tile x region slot entries evaluated per search (steps x n x m): a second or two on one core
WORK = 4 * 10**7
#: no search above this many tiles: steps over dense tile x slot matrices get too slow
MAX_TILES = 1000


def search_region(topology: Topology, n: int, starts: list[np.ndarray]) -> np.ndarray:
    """Every slot of the chips a compact placement of 1.5 n tiles touches, and the start slots."""
    per_chip = topology.model.cores_per_chip
    chips = np.unique(topology.chip(topology.compact_slots(min(n + n // 2, topology.model.max_cores))))
    whole = (chips[:, None] * per_chip + np.arange(per_chip)[None, :]).ravel()
    return np.unique(np.concatenate([whole, *starts]))


def descend(topology: Topology, sym: sp.csr_matrix, slots: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Improve ``slots`` (all inside ``region``) by steepest-descent moves and swaps."""
    n, m = slots.size, region.size
    w = sym.toarray()
    dist = topology.cost(region[:, None], region[None, :])
    pos = np.searchsorted(region, slots)
    owner = np.full(m, -1, dtype=np.int64)
    owner[pos] = np.arange(n)
    a_cost = w @ dist[pos]
    rows, columns = np.arange(n), np.arange(m)
    for _ in range(max(1, WORK // (n * m))):
        occupied = owner >= 0
        other = np.where(occupied, owner, 0)
        delta = a_cost - a_cost[rows, pos][:, None]
        # the tile now on slot k moves to slot a: its change, and the pair's own length
        on_a = a_cost[:, pos].T[:, other]  # [a, k]: the tile on slot k, moved to a's slot
        delta -= occupied * (a_cost[other, columns][None, :] - on_a)
        delta += occupied * 2 * w[:, other] * dist[pos]
        delta[rows, pos] = 0.0
        best = int(np.argmin(delta))
        a, k = divmod(best, m)
        if delta[a, k] > -1e-9 * max(1.0, abs(float(a_cost[a, pos[a]]))):
            break
        here, b = pos[a], owner[k]
        a_cost += np.outer(w[:, a], dist[k] - dist[here])
        if b >= 0:
            a_cost += np.outer(w[:, b], dist[here] - dist[k])
            pos[b] = here
        owner[here], owner[k], pos[a] = b, a, k
    return region[pos]
