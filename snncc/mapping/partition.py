"""Split each layer into the fewest tiles that satisfy every limit of a core together.

For every channel-group count, the smallest feasible number of runs (and, for 2-D
layers, of row x column blocks) is found by galloping then bisection on the tile count
(feasibility is monotone in practice: smaller tiles never need more of anything). The
cheapest candidate wins: fewest cores, then least total fan-in (less spike replication).
``lower_bound`` gives, per resource, the cores no partition can go below.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from snncc.diagnostics import Diagnostic

from .costs import LayerInfo, Usage, lower_bound, neuron_cap, single_neuron_fan_in, usage
from .geometry import TileSet, blocks, distinct_counts, extent_split, runs
from .models import Loihi2Model, ResourceModel
from .patterns import KronPattern, ProjectionInfo
from .stats import projection_stats


@dataclass(frozen=True)
class LayerPartition:
    layer: LayerInfo
    tiles: TileSet
    usage: Usage
    bounds: dict[str, int]

    @property
    def lower_bound(self) -> int:
        return max([1, *self.bounds.values()])

    @property
    def unconditional_lower_bound(self) -> int:
        """Without bounds that depend on how other layers are split."""
        return max([1, *(v for k, v in self.bounds.items() if not k.endswith(GIVEN_OTHERS))])


#: suffix of bounds that hold given the other layers' split (Loihi output axons)
GIVEN_OTHERS = "(given the next layers' cores)"


def evaluate(model: ResourceModel, layer: LayerInfo, projections: list[ProjectionInfo], tiles: TileSet) -> Usage:
    return usage(model, layer, tiles, [(p, projection_stats(p.pattern, tiles)) for p in projections])


def partition_layer(model: ResourceModel, layer: LayerInfo, projections: list[ProjectionInfo],
                    min_tiles: int = 1, accept: Callable[[TileSet], bool] | None = None
                    ) -> LayerPartition | list[Diagnostic]:
    """The chosen tiles, or SNN452 diagnostics (every limit a single neuron breaks).
    ``accept``: a further condition on the whole tiling (e.g. output axons, which depend
    on the next layers' tiles)."""
    c, h, w = layer.shape
    positions = h * w
    cap = neuron_cap(model, layer.kind)
    best: tuple[tuple[int, int], TileSet, Usage] | None = None

    def consider(tiles: TileSet, result: Usage) -> None:
        nonlocal best
        if len(tiles) < min_tiles:  # extent splits may come out with fewer ranges than asked
            return
        score = (len(tiles), int(result.fan_in.sum()))
        if best is None or score < best[0]:
            best = (score, tiles, result)

    def attempt(tiles: TileSet) -> tuple[TileSet, Usage] | None:
        """The tiling with its usage when it satisfies every limit (and ``accept``)."""
        result = evaluate(model, layer, projections, tiles)
        ok = result.feasible().all() and (accept is None or accept(tiles))
        return (tiles, result) if ok else None

    def search(make, low: int, high: int, groups: int) -> None:
        """Smallest feasible count in [low, high] for ``make(count)``."""
        if low > high:
            return
        limit = best[0][0] if best else math.inf
        infeasible, probe = low - 1, low
        while True:
            if groups * probe > limit:
                return
            found = attempt(make(probe))
            if found is not None:
                break
            infeasible = probe
            if probe == high:
                return
            probe = min(high, max(probe + 1, 2 * probe))
        lo, hi = infeasible, probe  # lo infeasible (or below range), hi feasible
        while hi - lo > 1:
            mid = (lo + hi) // 2
            trial = attempt(make(mid))
            if trial is not None:
                hi, found = mid, trial
            else:
                lo = mid
        consider(*found)

    kron = [p.pattern for p in projections if isinstance(p.pattern, KronPattern)]
    kron_rows = [k.axes[1] for k in kron] if kron and len(kron) == len(projections) else []
    kron_cols = [k.axes[2] for k in kron] if kron_rows else []
    extent_rows = functools.lru_cache(maxsize=None)(lambda k: extent_split(kron_rows, h, k))
    extent_cols = functools.lru_cache(maxsize=None)(lambda k: extent_split(kron_cols, w, k))
    for groups in distinct_counts(c):
        per_group = -(-c // groups)
        if per_group > cap:
            continue
        low = max(-(-positions // (cap // per_group)), -(-min_tiles // groups))
        search(lambda k, g=groups: runs(layer.shape, g, k), low, positions, groups)
        if h > 1:
            for row_blocks in distinct_counts(h):
                rows = -(-h // row_blocks)
                cols = cap // (per_group * rows)
                if cols == 0:
                    continue
                low = max(-(-w // cols), -(-min_tiles // (groups * row_blocks)))
                search(lambda k, g=groups, r=row_blocks: blocks(layer.shape, g, r, k), low, w, groups * row_blocks)
                if kron_rows:  # the same counts with receptive-extent-balanced ranges
                    row_ranges = extent_rows(row_blocks)
                    search(lambda k, g=groups, r=row_blocks: blocks(layer.shape, g, r, k, row_ranges, extent_cols(k)),
                           max(low - 1, 1), w, groups * row_ranges[0].size)
    bounds = layer_bounds(model, layer, projections)
    if best is None:
        return [] if accept is not None else _unfit(model, layer, projections)
    tiles = best[1].in_flat_order()
    return LayerPartition(layer, tiles, evaluate(model, layer, projections, tiles), bounds)


def _unfit(model: ResourceModel, layer: LayerInfo, projections: list[ProjectionInfo]) -> list[Diagnostic]:
    c, h, w = layer.shape
    single = runs(layer.shape, c, h * w)
    result = evaluate(model, layer, projections, single)
    problems = []
    for check in result.checks:
        worst = int(np.argmax(check.values))
        value = int(check.values[worst])
        if value > check.cap:
            problems.append(Diagnostic(
                "SNN452", f"layer {layer.name}: {check.measure} {value:,} > {check.cap:,} {check.limit}, "
                "even with one neuron per core", node=layer.name, hint=check.hint))
    return problems or [Diagnostic("SNN452", f"layer {layer.name} fits no core", node=layer.name)]


def layer_bounds(model: ResourceModel, layer: LayerInfo, projections: list[ProjectionInfo]) -> dict[str, int]:
    whole = runs(layer.shape, 1, 1)
    sources = sum(int(projection_stats(p.pattern, whole).sources[0]) for p in projections)
    bounds = lower_bound(model, layer, projections, sources, [single_neuron_fan_in(p) for p in projections])
    if isinstance(model, Loihi2Model):
        receptive = receptive_field_bound(layer, projections, model.input_axons)
        if receptive is not None:
            bounds["input axons (receptive fields)"] = receptive
    return bounds


def receptive_field_bound(layer: LayerInfo, projections: list[ProjectionInfo], cap: int) -> int | None:
    """Tiles needed so that no tile's receptive field exceeds ``cap`` sources.

    For positions Q whose receptive fields are not clipped by padding, with per-axis
    stride s and extent k (e = k - s), the receptive area is at least
    ``(sqrt(s_h s_w |Q|) + sqrt(e_h e_w))**2`` (a Minkowski sum with a box; for one row
    ``s_w |Q| + e_w``); with every output channel reading all C_in input channels the
    sources are C_in times that. Every unclipped position lies in some tile, so
    tiles >= unclipped positions / (largest |Q| within ``cap``)."""
    srcs = [p.src for p in projections]
    if not projections or len(set(srcs)) != len(srcs):
        return None
    terms = []
    full_h = np.ones(layer.shape[1], dtype=bool)
    full_w = np.ones(layer.shape[2], dtype=bool)
    for p in projections:
        if not isinstance(p.pattern, KronPattern):
            return None
        ac, ah, aw = p.pattern.axes
        degrees = np.diff(ac.prefix)
        if not ac.exact or degrees.min() != degrees.max() or np.any(ac.lo != ac.lo[0]):
            return None  # not every output channel reads the same input channels
        per_axis = [ah.step_and_extent(), aw.step_and_extent()]
        if None in per_axis:
            return None
        (sh, kh), (sw, kw) = per_axis
        if (layer.shape[1] > 1 and sh < 1) or sw < 1:
            return None
        full_h &= (ah.hi - ah.lo + 1) == kh
        full_w &= (aw.hi - aw.lo + 1) == kw
        terms.append((int(degrees[0]), sh, kh - sh, sw, kw - sw))
    interior = int(full_h.sum()) * int(full_w.sum())
    if interior == 0:
        return None

    def sources(q: int) -> float:
        total = 0.0
        for cin, sh, eh, sw, ew in terms:
            area = sw * q + ew if layer.shape[1] == 1 else (math.sqrt(sh * sw * q) + math.sqrt(eh * ew)) ** 2
            total += cin * area
        return total

    if sources(1) > cap:
        return None
    lo, hi = 1, interior
    while lo < hi:  # largest q with sources(q) <= cap
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if sources(mid) <= cap + 1e-9 else (lo, mid - 1)
    return -(-interior // lo)
