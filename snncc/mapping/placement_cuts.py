"""A lower bound on hop-weighted traffic from grid-line cuts, for dense layer-to-layer
traffic where the Gilmore-Lawler bound (``placement_bounds``) is weak.

The hop cost is a sum of cut metrics: ``|x_a - x_b|`` counts the grid lines between the two
columns, likewise rows, and every chip link costs ``chip_link_cost`` per chip-grid line
crossed (hexagonal chip distance >= half the Manhattan one). So the total traffic is the sum
over grid lines of the traffic crossing each line. A line with ``s`` tiles on one side is
crossed by at least ``min_cut(s)``: the least traffic between any ``s`` tiles and the rest,
bounded below from per-layer-pair minimum weights (every pair of layer i and j carries
>= ``mu[i, j]``), exactly over the number of tiles each layer has on that side. Which
side-counts the lines see is constrained by the grid: ``k`` non-empty columns and ``j``
non-empty rows on ``q`` chips hold <= ``q j`` per-slot positions per column and ``q k`` per
row; a dynamic program over consecutive non-empty columns (rows) gives the cheapest
sequence of line crossings (``_lines``). The minimum over every (q, k, j) and chip-grid
shape is <= the cost of any placement. The traffic above the layer-pair minimum is
bounded separately by Gilmore-Lawler (``min(x + y) >= min x + min y``).
"""
from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.ndimage import minimum_filter1d

from .placement_bounds import gilmore_lawler_bound
from .topology import Topology

#: layer side-count combinations enumerated for min_cut (product of (layer tiles + 1))
MAX_COMBINATIONS = 4 * 10**6
#: up to this many combinations the lines' sides are tracked per layer, so that the sets
#: left of successive lines are nested (tighter); above, only their sizes are
NESTED_COMBINATIONS = 400


def cut_bound(topology: Topology, rate: sp.csr_matrix, groups: list[np.ndarray]) -> float | None:
    """<= hop traffic of any placement; None for FPGA models or too many layer combinations."""
    parts = cut_parts(topology, rate, groups)
    if parts is None:
        return None
    return min(min(parts.single_chip.values(), default=np.inf), parts.multi_chip) + parts.rest


@dataclass(frozen=True)
class CutParts:
    """The bound's pieces: per (non-empty columns, non-empty rows) of a one-chip placement
    the least layer-pair-minimum traffic crossing its lines; the least over placements on
    several chips; Gilmore-Lawler on the traffic above the layer-pair minimums (``rest``)."""
    mu: np.ndarray
    sizes: np.ndarray
    single_chip: dict[tuple[int, int], float]
    multi_chip: float
    rest: float


def cut_parts(topology: Topology, rate: sp.csr_matrix, groups: list[np.ndarray]) -> CutParts | None:
    sizes = np.array([len(g) for g in groups])
    if topology.model.name == "fpga" or np.prod(sizes + 1.0) > MAX_COMBINATIONS:
        return None
    n = rate.shape[0]
    both = sp.csr_matrix(rate + rate.T, dtype=float).toarray()
    np.fill_diagonal(both, 0.0)
    mu = np.zeros((len(groups), len(groups)))
    for i, gi in enumerate(groups):
        for j, gj in enumerate(groups):
            block = both[np.ix_(gi, gj)]
            pairs = block[~np.eye(len(gi), dtype=bool)] if i == j else block.ravel()
            mu[i, j] = pairs.min() if pairs.size else 0.0
    rest = both.copy()
    for i, gi in enumerate(groups):
        for j, gj in enumerate(groups):
            rest[np.ix_(gi, gj)] -= mu[i, j]
    np.fill_diagonal(rest, 0.0)
    rest = sp.csr_matrix(np.triu(np.maximum(rest, 0.0), 1))
    cut, side = _cuts(sizes, mu)
    if cut.size > NESTED_COMBINATIONS:  # track only the tile count left of a line
        smallest = np.full(n + 1, np.inf)
        np.minimum.at(smallest, side.ravel(), cut.ravel())
        cut, side = smallest, np.arange(n + 1)
    lines = _line_costs(cut, max(topology.model.mesh_shape + topology.model.chip_grid), n)
    single, multi = _grid_bound(topology, lines, n)
    return CutParts(mu, sizes, single, multi, gilmore_lawler_bound(topology, rest))


def _cuts(sizes: np.ndarray, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per combination of tiles per layer on one side of a line (an array indexed by those
    counts), the layer-pair-minimum traffic crossing it, and the combination's tile count."""
    counts = np.meshgrid(*[np.arange(s + 1) for s in sizes], indexing="ij")
    inside = np.stack([c.ravel() for c in counts]).astype(float)  # layer x combination
    outside = sizes[:, None] - inside
    cut = np.einsum("ic,ij,jc->c", inside, mu, outside)  # every crossing pair once
    return cut.reshape(counts[0].shape), sum(counts)


def _lines(cut: np.ndarray, most: int, cap: int) -> np.ndarray:
    """Per number of parts (<= ``most``), the least sum of ``cut[state left of the line]``
    over the lines between consecutive non-empty positions (<= ``cap`` tiles each) holding
    all tiles; the state is the tiles per layer (or only their count) left of the line."""
    steps = [] if cut.ndim == 1 else [
        step for step in itertools.product(*[range(s) for s in cut.shape]) if 1 <= sum(step) <= cap]
    result = np.full(most + 1, np.inf)
    cur = np.full(cut.shape, np.inf)
    cur[(0,) * cut.ndim] = 0.0
    for t in range(most):
        paid = cur + (cut if t else 0.0)
        nxt = np.full(cut.shape, np.inf)
        if cut.ndim == 1:  # a trailing window minimum, shifted by one
            window = minimum_filter1d(paid, size=cap, mode="constant", cval=np.inf, origin=(cap - 1) // 2)
            nxt[1:] = window[:-1]
        else:
            for step in steps:
                to = tuple(slice(d, None) for d in step)
                start = tuple(slice(0, s - d) for s, d in zip(cut.shape, step))
                nxt[to] = np.minimum(nxt[to], paid[start])
        cur = nxt
        result[t + 1] = cur[tuple(s - 1 for s in cut.shape)]
    return result


def _grid_bound(topology: Topology, lines, n: int) -> tuple[dict[tuple[int, int], float], float]:
    """Per (columns, rows) shape on one chip, and the least over two or more chips."""
    m = topology.model
    link = m.chip_link_cost * (0.5 if m.hexagonal_chips else 1.0)
    ccols, crows = m.chip_grid
    single: dict[tuple[int, int], float] = {}
    multi = np.inf
    for q in range(-(-n // m.cores_per_chip), min(n, m.chips) + 1):
        local = _chip_shapes(topology, lines, n, q)
        if q == 1:
            single = {shape: value for shape, value in local.items() if value < np.inf}
            continue
        chips = link * min(
            lines(a, b * m.cores_per_chip) + lines(b, a * m.cores_per_chip)
            for a, b in itertools.product(range(1, ccols + 1), range(1, crows + 1)) if q <= a * b)
        multi = min(multi, min(local.values(), default=np.inf) + chips)
    return single, float(multi)


def _line_costs(cut: np.ndarray, most: int, n: int):
    """``lines(parts, cap)``: ``_lines`` for ``n`` tiles, per capacity computed once."""

    @functools.lru_cache(maxsize=None)
    def by_parts(cap: int) -> np.ndarray:
        return _lines(cut, most, cap)

    def lines(parts: int, cap: int) -> float:
        return float(by_parts(min(cap, n))[parts]) if parts <= n else np.inf

    return lines


def _chip_shapes(topology: Topology, lines, n: int, q: int) -> dict[tuple[int, int], float]:
    """Per (non-empty columns, non-empty rows) of each of ``q`` chips holding ``n`` tiles, the
    least traffic crossing its column and row lines."""
    cols, rows = topology.model.mesh_shape
    per = topology.per_slot
    return {(k, j): lines(k, q * j * per) + lines(j, q * k * per)
            for k, j in itertools.product(range(1, cols + 1), range(1, rows + 1)) if q * k * j * per >= n}
