"""Tiles: the neurons of a layer that share a core, as boxes in the (C, H, W) view.

A tile is a channel range times up to three spatial rectangles. Two families:

- *runs*: channel groups x runs of consecutive positions in row-major order (a run is
  a partial first row, full middle rows and a partial last row); packs neurons exactly,
  so neuron-bound layers reach the lower bound;
- *blocks*: channel groups x row blocks x column blocks; the smallest receptive field
  for a given neuron count, for layers bound by fan-in.

Both keep conv layers in spatially contiguous slices. On a core a tile becomes one
:class:`snncc.ir.CoreSlice` per contiguous run of flat (C, H, W) indices.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def split(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``k`` balanced ranges of ``range(n)`` (sizes differ by at most one)."""
    sizes = np.full(k, n // k, dtype=np.int64)
    sizes[: n % k] += 1
    stops = np.cumsum(sizes)
    return stops - sizes, stops


def distinct_counts(n: int) -> list[int]:
    """Part counts k = 1..n giving distinct largest part sizes ceil(n/k), smallest k each."""
    seen, out = set(), []
    for k in range(1, n + 1):
        size = -(-n // k)
        if size not in seen:
            seen.add(size)
            out.append(k)
    return out


@dataclass(frozen=True, eq=False)
class TileSet:
    """``n`` tiles of a layer with view ``shape``; ``rects[i, j] = (r0, r1, w0, w1)``
    (empty when r0 == r1 or w0 == w1)."""

    shape: tuple[int, int, int]
    c0: np.ndarray
    c1: np.ndarray
    rects: np.ndarray  # (n, 3, 4) int64
    family: str
    parts: tuple[int, ...]  # groups, runs | groups, row blocks, column blocks

    def __len__(self) -> int:
        return int(self.c0.size)

    def areas(self) -> np.ndarray:
        r = self.rects
        return ((r[..., 1] - r[..., 0]) * (r[..., 3] - r[..., 2])).sum(axis=1)

    def neurons(self) -> np.ndarray:
        return (self.c1 - self.c0) * self.areas()

    def flat_ranges(self, i: int) -> list[tuple[int, int]]:
        """Contiguous [start, stop) ranges of flat neuron indices of tile ``i``, sorted, merged."""
        _, h, w = self.shape
        out: list[tuple[int, int]] = []
        for c in range(int(self.c0[i]), int(self.c1[i])):
            base = c * h * w
            for r0, r1, w0, w1 in self.rects[i]:
                if r0 >= r1 or w0 >= w1:
                    continue
                if w0 == 0 and w1 == w:
                    out.append((base + r0 * w, base + r1 * w))
                else:
                    out.extend((base + r * w + w0, base + r * w + w1) for r in range(r0, r1))
        out.sort()
        merged: list[tuple[int, int]] = []
        for start, stop in out:
            if merged and merged[-1][1] == start:
                merged[-1] = (merged[-1][0], stop)
            else:
                merged.append((start, stop))
        return merged

    def flat_indices(self, i: int) -> np.ndarray:
        ranges = self.flat_ranges(i)
        return np.concatenate([np.arange(a, b) for a, b in ranges]) if ranges else np.zeros(0, np.int64)

    def labels(self) -> np.ndarray:
        """Tile index of every neuron (flat order)."""
        c, h, w = self.shape
        out = np.full(c * h * w, -1, dtype=np.int64)
        for i in range(len(self)):
            for a, b in self.flat_ranges(i):
                out[a:b] = i
        return out

    def in_flat_order(self) -> "TileSet":
        """The same tiles sorted by their first neuron (flat index order)."""
        order = np.argsort(self.first_index(), kind="stable")
        return TileSet(self.shape, self.c0[order], self.c1[order], self.rects[order], self.family, self.parts)

    def first_index(self) -> np.ndarray:
        _, h, w = self.shape
        first = np.array([min(int(r[0]) * w + int(r[2]) for r in rects if r[0] < r[1] and r[2] < r[3])
                          for rects in self.rects], dtype=np.int64)
        return self.c0 * h * w + first


def box_sums(values: np.ndarray, tiles: TileSet) -> np.ndarray:
    """Sum of per-neuron ``values`` (flat (C, H, W) order) over every tile, via a 3-D
    prefix sum: eight corner terms per rectangle, no per-neuron work per tile."""
    return BoxWeights.of(values, tiles.shape).sums(tiles)


@dataclass(frozen=True, eq=False)
class BoxWeights:
    """Per-neuron weights with their 3-D prefix sum, for many box sums over one layer."""

    values: np.ndarray  # (C, H, W)
    prefix: np.ndarray  # (C + 1, H + 1, W + 1)

    @classmethod
    def of(cls, values: np.ndarray, shape: tuple[int, int, int]) -> "BoxWeights":
        c, h, w = shape
        grid = np.asarray(values, dtype=float).reshape(c, h, w)
        prefix = np.zeros((c + 1, h + 1, w + 1))
        prefix[1:, 1:, 1:] = grid.cumsum(0).cumsum(1).cumsum(2)
        return cls(grid, prefix)

    def sums(self, tiles: TileSet) -> np.ndarray:
        return _corner_sums(self.prefix, tiles)

    def position_weights(self, g0: np.ndarray, g1: np.ndarray) -> np.ndarray:
        """Per position (row-major), the largest weight of any channel group [g0, g1)."""
        channel_prefix = np.concatenate([np.zeros((1, *self.values.shape[1:])), self.values.cumsum(0)])
        return (channel_prefix[g1] - channel_prefix[g0]).max(axis=0).ravel()


def _corner_sums(prefix: np.ndarray, tiles: TileSet) -> np.ndarray:
    total = np.zeros(len(tiles))
    for j in range(tiles.rects.shape[1]):
        r0, r1, w0, w1 = (tiles.rects[:, j, k] for k in range(4))
        for cs, ci in ((tiles.c1, 1), (tiles.c0, -1)):
            for rs, ri in ((r1, 1), (r0, -1)):
                for ws, wi in ((w1, 1), (w0, -1)):
                    total += ci * ri * wi * prefix[cs, rs, ws]
    return total


def runs(shape: tuple[int, int, int], groups: int, n_runs: int) -> TileSet:
    c, h, w = shape
    g0, g1 = split(c, groups)
    p0, p1 = split(h * w, n_runs)
    rects = _run_rects(p0, p1, w)
    return _product(shape, g0, g1, rects, "runs", (groups, n_runs))


def weighted_runs(shape: tuple[int, int, int], groups: int, n_runs: int, weights: BoxWeights) -> TileSet:
    """At most ``n_runs`` runs of positions whose largest weight (over every channel group)
    is as small as possible: a greedy fill under a bisected limit (optimal for one
    additive limit on consecutive positions)."""
    c, h, w = shape
    g0, g1 = split(c, groups)
    per_position = weights.position_weights(g0, g1)
    prefix = np.concatenate([[0.0], np.cumsum(per_position)])
    positions = h * w

    def greedy(limit: float) -> list[int] | None:
        stops, start = [], 0
        while start < positions:
            stop = int(np.searchsorted(prefix, prefix[start] + limit * (1 + 1e-12), side="right")) - 1
            if stop <= start or len(stops) == n_runs:
                return None
            stops.append(min(stop, positions))
            start = stops[-1]
        return stops

    lo, hi = float(per_position.max(initial=0)), float(prefix[-1])
    stops = greedy(hi)
    for _ in range(60):
        if hi - lo <= 0.5:
            break
        mid = (lo + hi) / 2
        trial = greedy(mid)
        lo, hi, stops = (lo, mid, trial) if trial is not None else (mid, hi, stops)
    p1 = np.array(stops, dtype=np.int64)
    p0 = np.concatenate([[0], p1[:-1]])
    return _product(shape, g0, g1, _run_rects(p0, p1, w), "weighted runs", (groups, p0.size))


def extent_split(axes: list, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``k`` ranges of ``range(n)`` whose largest receptive extent (the longest
    source interval over ``axes``, per-axis patterns) is as small as possible: border
    ranges, whose receptive fields are clipped by padding, come out longer."""
    if not axes or k >= n:
        return split(n, k)

    def greedy(limit: int) -> list[int] | None:
        stops, start = [], 0
        while start < n:
            stop = start + 1
            if max(a.hi[start] - a.lo[start] + 1 for a in axes) > limit:
                return None
            while stop < n and max(a.hi[stop] - a.lo[start] + 1 for a in axes) <= limit:
                stop += 1
            stops.append(stop)
            start = stop
            if len(stops) > k:
                return None
        return stops

    lo, hi = 1, max(a.n_in for a in axes)
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if greedy(mid) is not None else (mid + 1, hi)
    stops = greedy(lo)
    if stops is None:
        return split(n, k)
    stops = np.array(stops, dtype=np.int64)
    return np.concatenate([[0], stops[:-1]]), stops


def blocks(shape: tuple[int, int, int], groups: int, row_blocks: int, col_blocks: int,
           rows: tuple[np.ndarray, np.ndarray] | None = None,
           cols: tuple[np.ndarray, np.ndarray] | None = None) -> TileSet:
    """``rows`` / ``cols``: explicit (starts, stops) instead of balanced splits."""
    c, h, w = shape
    g0, g1 = split(c, groups)
    r0, r1 = rows if rows is not None else split(h, row_blocks)
    w0, w1 = cols if cols is not None else split(w, col_blocks)
    row_blocks, col_blocks = r0.size, w0.size
    rr, ww = np.meshgrid(np.arange(row_blocks), np.arange(col_blocks), indexing="ij")
    rr, ww = rr.ravel(), ww.ravel()
    rects = np.zeros((rr.size, 3, 4), dtype=np.int64)
    rects[:, 0] = np.stack([r0[rr], r1[rr], w0[ww], w1[ww]], axis=1)
    return _product(shape, g0, g1, rects, "blocks", (groups, row_blocks, col_blocks))


def _product(shape, g0, g1, spatial, family, parts) -> TileSet:
    """Every channel group with every spatial part, spatial-part major (neighbours stay close)."""
    n_g, n_s = g0.size, spatial.shape[0]
    gi = np.tile(np.arange(n_g), n_s)
    si = np.repeat(np.arange(n_s), n_g)
    return TileSet(shape, g0[gi], g1[gi], spatial[si], family, parts)


def _run_rects(p0: np.ndarray, p1: np.ndarray, w: int) -> np.ndarray:
    """Runs [p0, p1) of row-major positions as (first partial row, middle rows, last row)."""
    last = p1 - 1
    ra, ca = p0 // w, p0 % w
    rb, cb = last // w, last % w
    one = ra == rb
    rects = np.zeros((p0.size, 3, 4), dtype=np.int64)
    rects[:, 0] = np.stack([ra, ra + 1, ca, np.where(one, cb + 1, w)], axis=1)
    rects[:, 1] = np.stack([ra + 1, np.maximum(rb, ra + 1), np.zeros_like(ra), np.full_like(ra, w)], axis=1)
    rects[:, 2] = np.stack([rb, np.where(one, rb, rb + 1), np.zeros_like(ra), cb + 1], axis=1)
    empty = p1 <= p0
    rects[empty] = 0
    return rects
