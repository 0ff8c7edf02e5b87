"""A lower bound on hop traffic for small one-chip placements: the grid-line cut bound
(``placement_cuts``) made exact per occupied shape by an integer program.

Squeezing out an empty column (row) between occupied ones lengthens no pair's Manhattan
distance and keeps the cells distinct, so some cheapest
placement on one chip fills every column and row of a ``k x j`` window. For each such
shape the cut bound gives a lower bound; the shapes it cannot exclude are solved exactly
for the layer-pair-minimum traffic (``mu``; tiles of one layer are then interchangeable):
binary ``z[cell, layer]`` (at most ``per_slot`` tiles a cell, ``size`` tiles a layer, every
column and row used) and, per grid line, a binary choice of the tiles per layer left of it
(tied to ``z`` by equalities) paying that state's crossing traffic. The traffic is the sum
over lines of what crosses each, so the program's optimum is the exact layer-pair-minimum
cost of the shape; reflections of the window map placements to placements of equal cost, so
the smallest layer may be kept in the left and lower halves. HiGHS (``scipy.optimize.milp``)
returns a dual bound even when stopped by its node limit, and that is what counts. The
bound is the least over shapes (cut bound where not solved) and over several chips (cut
bound, or ``multi_chip`` below if larger), plus Gilmore-Lawler on the traffic above the
minimums, as in ``placement_cuts``.
"""
from __future__ import annotations

import itertools

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from .placement_cuts import _chip_shapes, _cuts, _line_costs, cut_parts
from .topology import Topology

#: above these the integer programs get slow: tiles, window cells, per-line layer states
MAX_TILES = 24
MAX_CELLS = 49
MAX_STATES = 400
#: branch-and-bound nodes per shape (deterministic, unlike a time limit)
NODE_LIMIT = 20_000


def window_bound(topology: Topology, rate: sp.csr_matrix, groups: list[np.ndarray]) -> float | None:
    """<= hop traffic of any placement; None where the programs would be too large."""
    parts = cut_parts(topology, rate, groups)
    per = topology.per_slot
    if parts is None or rate.shape[0] > MAX_TILES or np.prod(parts.sizes + 1.0) > MAX_STATES:
        return None
    cols, rows = topology.model.mesh_shape
    best, solved = max(parts.multi_chip, multi_chip(topology, parts.sizes, parts.mu)), {}
    for (k, j), value in sorted(parts.single_chip.items(), key=lambda item: (item[1], item[0])):
        if value >= best:
            break  # this and every later shape cost at least ``best``
        if k * j > MAX_CELLS:
            return None
        key = (min(k, j), max(k, j)) if max(k, j) <= min(cols, rows) else (k, j)  # a transpose costs the same
        if key not in solved:
            solved[key] = shape_minimum(k, j, per, parts.sizes, parts.mu)
        best = min(best, max(value, solved[key]))
    return float(best + parts.rest)


def shape_minimum(cols: int, rows: int, per: int, sizes: np.ndarray, mu: np.ndarray) -> float:
    """<= the least layer-pair-minimum traffic of a placement using every column and row of
    a ``cols x rows`` window (``per`` tiles a cell): the program's dual bound."""
    layers, cells = len(sizes), cols * rows
    states = np.array(list(itertools.product(*[range(s + 1) for s in sizes])), dtype=float)
    crossing = np.einsum("si,ij,sj->s", states, mu, sizes[None, :] - states)
    x, y = np.arange(cells) % cols, np.arange(cells) // cols
    lines = [x < t for t in range(1, cols)] + [y < t for t in range(1, rows)]
    nz = cells * layers
    n_vars = nz + len(lines) * len(states)
    z = np.arange(nz).reshape(cells, layers)
    objective = np.zeros(n_vars)
    rows_, lo, hi = [], [], []

    def add(columns: np.ndarray, values: np.ndarray, low: float, high: float) -> None:
        rows_.append((np.asarray(columns).ravel(), np.broadcast_to(values, np.shape(columns)).ravel()))
        lo.append(low)
        hi.append(high)

    for cell in range(cells):
        add(z[cell], 1.0, 0, per)
    for layer, size in enumerate(sizes):
        add(z[:, layer], 1.0, size, size)
    for column in range(cols):
        add(z[x == column], 1.0, 1, np.inf)
    for row in range(rows):
        add(z[y == row], 1.0, 1, np.inf)
    smallest = int(np.argmin(sizes))  # reflections: keep it in the left and lower halves
    for coordinate, extent in ((x, cols), (y, rows)):
        low, high = z[coordinate < extent // 2, smallest], z[coordinate >= extent - extent // 2, smallest]
        add(np.concatenate([low, high]), np.r_[np.ones(low.size), -np.ones(high.size)], 0, np.inf)
    for index, left in enumerate(lines):
        choice = nz + index * len(states) + np.arange(len(states))
        objective[choice] = crossing
        add(choice, 1.0, 1, 1)
        for layer in range(len(sizes)):
            add(np.r_[choice, z[left, layer]], np.r_[states[:, layer], -np.ones(left.sum())], 0, 0)
    matrix = sp.csr_matrix((np.concatenate([v for _, v in rows_]),
                            (np.repeat(np.arange(len(rows_)), [c.size for c, _ in rows_]),
                             np.concatenate([c for c, _ in rows_]))), shape=(len(rows_), n_vars))
    integrality = np.ones(n_vars)
    upper = np.r_[np.full(nz, min(per, sizes.max())), np.ones(n_vars - nz)]
    result = milp(objective, constraints=LinearConstraint(matrix, lo, hi), integrality=integrality,
                  bounds=Bounds(0, upper), options={"node_limit": NODE_LIMIT, "disp": False})
    if result.status == 2:  # infeasible: no placement has this shape
        return np.inf
    bound = getattr(result, "mip_dual_bound", None)
    return float(bound) if bound is not None and np.isfinite(bound) else 0.0


def multi_chip(topology: Topology, sizes: np.ndarray, mu: np.ndarray) -> float:
    """<= the layer-pair-minimum traffic of any placement on two or more chips.

    Pairs on one chip pay their on-chip distance, at least that chip's one-chip cut bound
    for its tiles per layer (``one_chip``); pairs on different chips pay at least one chip
    link. So the cost is >= ``link x all pairs' traffic`` plus, per chip, its one-chip bound
    minus ``link x`` its own pairs' traffic; a dynamic program over tiles per layer takes
    the cheapest split of the layers' tiles into two or more chips' shares."""
    m = topology.model
    link = float(m.chip_link_cost)
    shape = tuple(int(s) + 1 for s in sizes)
    counts = [np.array(c) for c in itertools.product(*[range(s) for s in shape])]

    def pairs(c: np.ndarray) -> float:
        return float(c @ np.triu(mu, 1) @ c + np.diag(mu) @ (c * (c - 1) / 2))

    own = np.full(shape, np.inf)
    for c in counts:
        if 0 < c.sum() <= m.cores_per_chip:
            own[tuple(c)] = one_chip(topology, c, mu) - link * pairs(c)
    # any[c]: cheapest split of c into >= 1 chips' shares; several[c]: into >= 2
    any_, several = np.full(shape, np.inf), np.full(shape, np.inf)
    any_[(0,) * len(shape)] = 0.0
    for c in counts[1:]:
        for part in itertools.product(*[range(v + 1) for v in c]):
            left = tuple(c - np.array(part))
            if 0 < sum(part) < c.sum():
                several[tuple(c)] = min(several[tuple(c)], any_[left] + own[part])
        any_[tuple(c)] = min(own[tuple(c)], several[tuple(c)])
    return link * pairs(np.asarray(sizes)) + float(several[tuple(s - 1 for s in shape)])


def one_chip(topology: Topology, counts: np.ndarray, mu: np.ndarray) -> float:
    """The cut bound (``placement_cuts``) for these tiles per layer on one chip."""
    n = int(counts.sum())
    if n <= 1:
        return 0.0
    cut, _ = _cuts(counts, mu)
    lines = _line_costs(cut, max(topology.model.mesh_shape), n)
    return float(min(_chip_shapes(topology, lines, n, 1).values()))
