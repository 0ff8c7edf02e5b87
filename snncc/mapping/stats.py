"""Per-tile synapse and source (fan-in) counts of one projection, for all tiles at once.

For a :class:`KronPattern` a tile's counts are products of per-axis counts: synapses are
exact (prefix sums of per-row degrees); sources are the size of the union of up to three
receptive boxes (inclusion-exclusion over interval intersections), exact when every axis
is ``exact`` and an upper bound otherwise. An :class:`ExplicitPattern` is counted row
range by row range.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geometry import TileSet
from .patterns import ExplicitPattern, KronPattern


@dataclass(frozen=True)
class ProjectionStats:
    synapses: np.ndarray  # per tile
    sources: np.ndarray  # distinct source neurons per tile (input axons)


def _length(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.maximum(hi - lo + 1, 0)


def projection_stats(pattern: KronPattern | ExplicitPattern, tiles: TileSet) -> ProjectionStats:
    if isinstance(pattern, ExplicitPattern):
        return _explicit_stats(pattern, tiles)
    ac, ah, aw = pattern.axes
    syn_c = ac.nnz(tiles.c0, tiles.c1)
    len_c = _length(*ac.interval(tiles.c0, tiles.c1))
    r = tiles.rects
    syn_hw = np.zeros(len(tiles), dtype=np.int64)
    hs, ws = [], []
    for j in range(r.shape[1]):
        r0, r1, w0, w1 = (r[:, j, k] for k in range(4))
        nonempty = (r1 > r0) & (w1 > w0)
        syn_hw += np.where(nonempty, ah.nnz(r0, r1) * aw.nnz(w0, w1), 0)
        h_lo, h_hi = ah.interval(r0, np.where(nonempty, r1, r0))
        w_lo, w_hi = aw.interval(w0, np.where(nonempty, w1, w0))
        hs.append((h_lo, h_hi))
        ws.append((w_lo, w_hi))
    union = _box_union(hs, ws)
    return ProjectionStats(syn_c * syn_hw, len_c * union)


def _box_union(hs, ws) -> np.ndarray:
    """|union of boxes hs[j] x ws[j]| by inclusion-exclusion (up to three boxes)."""
    n = len(hs)
    total = np.zeros_like(hs[0][0])
    for mask in range(1, 1 << n):
        members = [j for j in range(n) if mask >> j & 1]
        h_lo = np.max([hs[j][0] for j in members], axis=0)
        h_hi = np.min([hs[j][1] for j in members], axis=0)
        w_lo = np.max([ws[j][0] for j in members], axis=0)
        w_hi = np.min([ws[j][1] for j in members], axis=0)
        term = _length(h_lo, h_hi) * _length(w_lo, w_hi)
        total = total + (term if len(members) % 2 else -term)
    return total


def _explicit_stats(pattern: ExplicitPattern, tiles: TileSet) -> ProjectionStats:
    m = pattern.matrix
    synapses = np.zeros(len(tiles), dtype=np.int64)
    sources = np.zeros(len(tiles), dtype=np.int64)
    for i in range(len(tiles)):
        synapses[i] = sum(int(m.indptr[b] - m.indptr[a]) for a, b in tiles.flat_ranges(i))
        sources[i] = receptive_indices(pattern, tiles, i).size
    return ProjectionStats(synapses, sources)


def receptive_indices(pattern: KronPattern | ExplicitPattern, tiles: TileSet, i: int) -> np.ndarray:
    """Flat source indices that reach tile ``i`` (sorted, unique); boxes are bounding
    boxes on non-exact axes, then filtered to true connections."""
    if isinstance(pattern, ExplicitPattern):
        m = pattern.matrix
        cols = [m.indices[m.indptr[a]:m.indptr[b]] for a, b in tiles.flat_ranges(i)]
        return np.unique(np.concatenate(cols)) if cols else np.zeros(0, np.int64)
    ac, ah, aw = pattern.axes
    _, hin, win = pattern.src
    c_lo, c_hi = ac.interval(tiles.c0[i:i + 1], tiles.c1[i:i + 1])
    channels = np.arange(int(c_lo[0]), int(c_hi[0]) + 1)
    parts = []
    for r0, r1, w0, w1 in tiles.rects[i]:
        if r0 >= r1 or w0 >= w1:
            continue
        h_lo, h_hi = ah.interval(np.array([r0]), np.array([r1]))
        w_lo, w_hi = aw.interval(np.array([w0]), np.array([w1]))
        rows = _support(ah, r0, r1) if not ah.exact else np.arange(h_lo[0], h_hi[0] + 1)
        cols = _support(aw, w0, w1) if not aw.exact else np.arange(w_lo[0], w_hi[0] + 1)
        parts.append((rows[:, None] * win + cols[None, :]).ravel())
    if not ac.exact:
        channels = _support(ac, int(tiles.c0[i]), int(tiles.c1[i]))
    if not parts or channels.size == 0:
        return np.zeros(0, np.int64)
    spatial = np.unique(np.concatenate(parts))
    return (channels[:, None] * (hin * win) + spatial[None, :]).ravel()


def _support(axis, start: int, stop: int) -> np.ndarray:
    m = axis.matrix
    return np.unique(m.indices[m.indptr[start]:m.indptr[stop]]).astype(np.int64)
