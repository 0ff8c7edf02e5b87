"""Band tilings: row bands of any height, each with its own number of column blocks.

Grid blocks (``geometry.blocks``) give every row block the same column split; when fan-in
binds, a band along a border (whose receptive field padding clips) holds more rows or
wider blocks than an interior band, and bands of different heights trade rows against
columns. For every column count k and first row r0 the tallest feasible band is found by
bisection (a taller band with the same columns contains the shorter one, so it needs at
least as much of every resource), for all r0 at once; then a shortest-path recursion over
row boundaries picks the bands with the fewest tiles in total.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .geometry import TileSet, _product, split

Ranges = tuple[np.ndarray, np.ndarray]


def band_tiles(shape: tuple[int, int, int], groups: int, bands: list[tuple[int, int, Ranges]]) -> TileSet:
    """``bands``: (first row, stop row, column (starts, stops)) each; channel groups x blocks."""
    rects = [(r0, r1, int(a), int(b)) for r0, r1, (starts, stops) in bands for a, b in zip(starts, stops)]
    return _tiles(shape, groups, np.array(rects, dtype=np.int64).reshape(-1, 4), len(bands))


def _tiles(shape, groups: int, rects: np.ndarray, n_bands: int) -> TileSet:
    spatial = np.zeros((rects.shape[0], 3, 4), dtype=np.int64)
    spatial[:, 0] = rects
    g0, g1 = split(shape[0], groups)
    return _product(shape, g0, g1, spatial, "bands", (groups, n_bands, rects.shape[0]))


def band_tiling(shape: tuple[int, int, int], groups: int, feasible: Callable[[TileSet], np.ndarray],
                columns: Callable[[int], Ranges], counts: list[int], limit: float) -> TileSet | None:
    """The band tiling with the fewest tiles (at most ``limit``) whose every tile is
    ``feasible`` (per tile), or None. ``columns(k)``: the column ranges for count ``k``."""
    h = shape[1]
    splits = [columns(k) for k in counts if groups * k <= limit]
    if not splits:
        return None
    tallest = np.stack([_tallest_bands(shape, groups, feasible, cols) for cols in splits])  # (K, H)
    cost = np.array([groups * cols[0].size for cols in splits], dtype=float)
    fewest = np.full(h + 1, np.inf)
    fewest[0] = 0
    choice = np.zeros((h + 1, 2), dtype=np.int64)  # (first row, split index) of the last band
    for stop in range(1, h + 1):
        fits = tallest[:, :stop] >= stop  # bands [r0, stop) with split k
        total = np.where(fits, fewest[None, :stop] + cost[:, None], np.inf)
        k, r0 = np.unravel_index(int(np.argmin(total)), total.shape)
        fewest[stop] = total[k, r0]
        choice[stop] = (r0, k)
    if not np.isfinite(fewest[h]) or fewest[h] > limit:
        return None
    bands, stop = [], h
    while stop > 0:
        r0, k = (int(v) for v in choice[stop])
        bands.append((r0, stop, splits[k]))
        stop = r0
    return band_tiles(shape, groups, bands[::-1])


def _tallest_bands(shape, groups: int, feasible, cols: Ranges) -> np.ndarray:
    """Per first row r0, the largest stop row r1 such that band [r0, r1) is feasible
    (r0 itself when not even one row is)."""
    h = shape[1]
    lo = np.arange(h)  # feasible (an empty band)
    hi = np.full(h, h + 1)  # infeasible (beyond the layer)
    per_band = cols[0].size * groups
    while True:
        active = np.nonzero(hi - lo > 1)[0]
        if active.size == 0:
            return lo
        mid = (lo[active] + hi[active]) // 2
        m = cols[0].size
        rects = np.stack([np.repeat(active, m), np.repeat(mid, m), np.tile(cols[0], active.size),
                          np.tile(cols[1], active.size)], axis=1)
        tiles = _tiles(shape, groups, rects, active.size)
        ok = np.asarray(feasible(tiles)).reshape(active.size, per_band).all(axis=1)
        lo[active] = np.where(ok, mid, lo[active])
        hi[active] = np.where(ok, hi[active], mid)
