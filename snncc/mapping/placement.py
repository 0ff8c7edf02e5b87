"""Place tiles on core slots to minimise hop-weighted spike traffic.

1. Recursive bisection: the slot region is cut in two along its longest extent (along
   chip boundaries first), METIS (pymetis) splits the tiles into two parts of exactly
   those sizes minimising the traffic cut, and each part goes to the half closer to the
   tiles it talks to that are already placed elsewhere.
2. Swap refinement: a tile swaps slots with the tile nearest the traffic-weighted centre
   of its neighbours when that lowers the cost, until a pass finds nothing.
The sequential fill, refined the same way, is the other candidate.
3. Up to ``placement_search.MAX_TILES`` tiles, both (above 200 tiles the better) continue with a steepest descent over
   every move and swap with exact cost changes (``placement_search``), free slots of the
   used chips included; it finds what the neighbour-centre swaps miss on dense traffic
   (all-to-all layers).
The cheapest candidate wins, so the result is never worse than the sequential fill.
"""
from __future__ import annotations

import numpy as np
import pymetis
import scipy.sparse as sp

from . import placement_search
from .topology import Topology, chip_hops

#: METIS seed, for byte-identical artifacts
SEED = 7


def hop_traffic(topology: Topology, rate: sp.csr_matrix, slots: np.ndarray) -> float:
    """Sum over tile pairs of spikes per step x hop cost."""
    coo = rate.tocoo()
    return float(np.sum(coo.data * topology.cost(slots[coo.row], slots[coo.col])))


def place(topology: Topology, rate: sp.csr_matrix, max_passes: int = 8) -> np.ndarray:
    """Slot of every tile (tiles in the order of ``rate``'s rows)."""
    n = rate.shape[0]
    sequential = topology.sequential_slots(n)
    if n <= 1:
        return sequential
    sym = sp.csr_matrix(rate + rate.T)
    sym.setdiag(0)
    sym.eliminate_zeros()
    sym.sort_indices()
    region = topology.compact_slots(n)
    slots = np.full(n, -1, dtype=np.int64)
    _bisect(topology, sym, np.arange(n), region, slots)
    candidates = [_refine(topology, sym, slots, max_passes), _refine(topology, sym, sequential, max_passes)]
    costs = [hop_traffic(topology, rate, c) for c in candidates]
    if sym.nnz and n <= placement_search.MAX_TILES and topology.model.name != "fpga":
        region = placement_search.search_region(topology, n, candidates)
        # both starts while that is cheap, else the better one
        starts = list(candidates) if n <= 200 else [candidates[int(np.argmin(costs))]]
        for start in starts:
            candidates.append(placement_search.descend(topology, sym, start, region))
            costs.append(hop_traffic(topology, rate, candidates[-1]))
    return candidates[int(np.argmin(costs))]


def _coordinates(topology: Topology, slots: np.ndarray) -> np.ndarray:
    """(chip x, chip y, x, y) per slot."""
    cx, cy = topology.chip_xy(slots)
    x, y = topology.local_xy(slots)
    return np.stack([cx, cy, x, y], axis=1)


def _split_region(topology: Topology, region: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xy = _coordinates(topology, region)
    chips = np.unique(topology.chip(region))
    if chips.size > 1:  # cut between chips along the longer chip extent
        spans = np.ptp(xy[:, :2], axis=0)
        axis = int(np.argmax(spans))
        order = np.lexsort((region, xy[:, 3 - axis], xy[:, 2 + axis], xy[:, 1 - axis], xy[:, axis]))
        key = xy[order, axis] * 10**6 + xy[order, 1 - axis]
        cuts = np.flatnonzero(np.diff(key)) + 1
        cut = int(cuts[np.argmin(abs(cuts - region.size / 2))])
    else:
        spans = np.ptp(xy[:, 2:], axis=0)
        axis = 2 + int(np.argmax(spans))
        other = 5 - axis
        order = np.lexsort((region, xy[:, other], xy[:, axis]))
        cut = region.size // 2
    return region[order[:cut]], region[order[cut:]]


def _bisect(topology: Topology, sym: sp.csr_matrix, tiles: np.ndarray, region: np.ndarray,
            slots: np.ndarray) -> None:
    if tiles.size == 1:
        slots[tiles[0]] = region[0]
        return
    left, right = _split_region(topology, region)
    part = _metis_split(sym, tiles, left.size)
    a, b = tiles[part == 0], tiles[part == 1]
    # which half gets which part: the one closer to the already placed tiles each part talks to
    placed = np.flatnonzero(slots >= 0)
    if placed.size:
        cl, cr = _centre(topology, left), _centre(topology, right)
        pull_a = sym[a][:, placed].sum(axis=0).A1
        pull_b = sym[b][:, placed].sum(axis=0).A1
        if pull_a.sum() + pull_b.sum() > 0:
            where = _coordinates(topology, slots[placed]).astype(float)
            keep = (pull_a @ _dist(where, cl) + pull_b @ _dist(where, cr))
            swap = (pull_a @ _dist(where, cr) + pull_b @ _dist(where, cl))
            if swap < keep and a.size == b.size:
                a, b = b, a
    _bisect(topology, sym, a, left, slots)
    _bisect(topology, sym, b, right, slots)


def _centre(topology: Topology, region: np.ndarray) -> np.ndarray:
    return _coordinates(topology, region).mean(axis=0)


def _dist(points: np.ndarray, centre: np.ndarray) -> np.ndarray:
    return np.abs(points - centre) @ np.array([8.0, 8.0, 1.0, 1.0])


def _metis_split(sym: sp.csr_matrix, tiles: np.ndarray, left: int) -> np.ndarray:
    """0/1 per tile, exactly ``left`` zeros, minimising the traffic cut."""
    n = tiles.size
    sub = sp.csr_matrix(sym[tiles][:, tiles])
    part = np.zeros(n, dtype=np.int64)
    if sub.nnz and 0 < left < n:
        weights = sub.data / sub.data.max() * 10_000
        options = pymetis.Options(seed=SEED)
        _, membership = pymetis.part_graph(
            2, xadj=sub.indptr, adjncy=sub.indices, eweights=np.maximum(weights, 1).astype(np.int64),
            tpwgts=[left / n, 1 - left / n], options=options)
        part = np.asarray(membership, dtype=np.int64)
    else:
        part[left:] = 1
    return _balance(sub, part, left)


def _balance(sub: sp.csr_matrix, part: np.ndarray, left: int) -> np.ndarray:
    """Move the cheapest tiles across until part 0 has exactly ``left`` tiles."""
    part = part.copy()
    while (part == 0).sum() != left:
        source = 0 if (part == 0).sum() > left else 1
        candidates = np.flatnonzero(part == source)
        own = np.asarray(sub[candidates][:, part == source].sum(axis=1)).ravel()
        other = np.asarray(sub[candidates][:, part != source].sum(axis=1)).ravel()
        part[candidates[int(np.argmax(other - own))]] = 1 - source
    return part


def _refine(topology: Topology, sym: sp.csr_matrix, slots: np.ndarray, max_passes: int) -> np.ndarray:
    """Greedy swaps. Positions are indices into the occupied region; the hop cost between
    region slots is evaluated from precomputed coordinates."""
    region = np.sort(slots)
    where = np.searchsorted(region, slots)  # tile -> region index
    owner = np.empty(region.size, dtype=np.int64)
    owner[where] = np.arange(slots.size)
    cost = _RegionCost(topology, region)
    xy = _coordinates(topology, region).astype(float)
    for _ in range(max_passes):
        improved = False
        for v in range(slots.size):
            lo, hi = sym.indptr[v], sym.indptr[v + 1]
            if lo == hi:
                continue
            nbrs, w = sym.indices[lo:hi], sym.data[lo:hi]
            centre = (xy[where[nbrs]] * w[:, None]).sum(axis=0) / w.sum()
            for target in np.argsort(_dist(xy, centre), kind="stable")[:6]:
                x = owner[target]
                if x == v:
                    continue
                if _swap_gain(cost, sym, where, v, x) > 1e-9:
                    owner[where[v]], owner[where[x]] = x, v
                    where[v], where[x] = where[x], where[v]
                    improved = True
                    break
        if not improved:
            break
    return region[where]


class _RegionCost:
    """Hop cost between region slots i and j from precomputed coordinates."""

    def __init__(self, topology: Topology, region: np.ndarray):
        self.fpga = topology.model.name == "fpga"
        self.x, self.y = (a.astype(float) for a in topology.local_xy(region))
        self.cx, self.cy = topology.chip_xy(region)
        self.hexagonal = topology.model.hexagonal_chips
        self.link = float(topology.model.chip_link_cost)
        self.single_chip = np.unique(topology.chip(region)).size == 1

    def __call__(self, i: int, js: np.ndarray) -> np.ndarray:
        if self.fpga:
            return (js != i).astype(float)
        hops = np.abs(self.x[js] - self.x[i]) + np.abs(self.y[js] - self.y[i])
        if self.single_chip:
            return hops
        chips = chip_hops(self.cx[js] - self.cx[i], self.cy[js] - self.cy[i], self.hexagonal)
        return hops + self.link * chips


def _swap_gain(cost: _RegionCost, sym: sp.csr_matrix, where: np.ndarray, v: int, x: int) -> float:
    sv, sx = int(where[v]), int(where[x])
    gain = 0.0
    for tile, here, there in ((v, sv, sx), (x, sx, sv)):
        lo, hi = sym.indptr[tile], sym.indptr[tile + 1]
        nbrs, w = sym.indices[lo:hi], sym.data[lo:hi]
        at = where[nbrs]
        gain += float(np.sum(w * (cost(here, at) - cost(there, at))))
    # the v-x edge itself keeps its length; the two sums above counted it as going to 0
    lo, hi = sym.indptr[v], sym.indptr[v + 1]
    k = np.searchsorted(sym.indices[lo:hi], x)
    if k < hi - lo and sym.indices[lo + k] == x:
        gain -= 2 * float(sym.data[lo + k]) * float(cost(sv, np.array([sx]))[0])
    return gain
