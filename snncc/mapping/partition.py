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
import numpy as np

from snncc.diagnostics import Diagnostic

from .costs import LayerInfo, Usage, lower_bound, neuron_cap, single_neuron_fan_in, usage
from .bands import band_tiling
from .geometry import BoxWeights, TileSet, blocks, distinct_counts, extent_split, runs, split, weighted_runs
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


#: the receptive-field bound: spatial tiles of one channel group (every group reads the same inputs)
RECEPTIVE = "input axons (receptive fields)"
#: suffix of bounds that hold given the other layers' split (Loihi output axons)
GIVEN_OTHERS = "(given the next layers' cores)"


def evaluate(model: ResourceModel, layer: LayerInfo, projections: list[ProjectionInfo], tiles: TileSet) -> Usage:
    return usage(model, layer, tiles, [(p, projection_stats(p.pattern, tiles)) for p in projections])


def partition_layer(model: ResourceModel, layer: LayerInfo, projections: list[ProjectionInfo],
                    min_tiles: int = 1, weights: tuple[np.ndarray, int] | None = None
                    ) -> LayerPartition | list[Diagnostic]:
    """The chosen tiles, or SNN452 diagnostics (every limit a single neuron breaks).
    ``weights``: a further limit, (per-neuron amounts in flat order, cap per tile), e.g.
    output axons, which depend on the next layers' tiles."""
    c, h, w = layer.shape
    positions = h * w
    cap = neuron_cap(model, layer.kind)
    best: tuple[tuple[int, int], TileSet, Usage] | None = None
    extra = BoxWeights.of(weights[0], layer.shape) if weights is not None else None

    def within(tiles: TileSet, result: Usage) -> np.ndarray:
        """Per tile: every limit of the model (and ``weights``) holds."""
        ok = result.feasible()
        return ok & (extra.sums(tiles) <= weights[1]) if extra is not None else ok

    def feasible(tiles: TileSet) -> np.ndarray:
        return within(tiles, evaluate(model, layer, projections, tiles))

    def consider(tiles: TileSet, result: Usage) -> None:
        nonlocal best
        if len(tiles) < min_tiles:  # extent splits may come out with fewer ranges than asked
            return
        score = (len(tiles), int(result.fan_in.sum()))
        if best is None or score < best[0]:
            best = (score, tiles, result)

    def attempt(tiles: TileSet) -> tuple[TileSet, Usage] | None:
        """The tiling with its usage when every tile is ``within`` the limits."""
        result = evaluate(model, layer, projections, tiles)
        return (tiles, result) if within(tiles, result).all() else None

    def search(make, low: int, high: int, groups: int) -> None:
        """Smallest feasible count in [low, high] for ``make(count)``."""
        if low > high:
            return
        limit = best[0][0] if best else math.inf
        # counts above ``top`` cannot beat the best tiling found so far
        top = high if limit == math.inf else min(high, int(limit) // groups)
        infeasible, probe = low - 1, low
        while True:
            if probe > top:
                return
            found = attempt(make(probe))
            if found is not None:
                break
            infeasible = probe
            if probe == top:
                return
            # galloping must not jump past ``top``: a feasible count just below it would be missed
            probe = min(top, max(probe + 1, 2 * probe))
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
        if extra is not None:  # runs balanced by the further limit's amounts
            search(lambda k, g=groups: weighted_runs(layer.shape, g, k, extra), low, positions, groups)
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
    target = max([1, *bounds.values()])
    if extra is not None:
        target = max(target, -(-int(round(extra.values.sum())) // weights[1]))
    if best is not None and best[0][0] > target and h > 1 and len(kron) == len(projections):
        columns = extent_cols if kron_cols else (lambda k: split(w, k))
        for groups in distinct_counts(c):
            per_group = -(-c // groups)
            # every channel group covers every position: >= the spatial bound per group
            spatial = max(-(-positions // (cap // per_group)), bounds.get(RECEPTIVE, 1))
            if per_group > cap or groups * spatial >= best[0][0]:
                continue
            found = band_tiling(layer.shape, groups, feasible, columns, distinct_counts(w), best[0][0] - 1)
            if found is not None:
                consider(found, evaluate(model, layer, projections, found))
    if best is None:
        return [] if weights is not None else _unfit(model, layer, projections)
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
            bounds[RECEPTIVE] = receptive
    return bounds


def receptive_field_bound(layer: LayerInfo, projections: list[ProjectionInfo], cap: int) -> int | None:
    """Tiles needed so that no tile's receptive field exceeds ``cap`` sources.

    Take any set Q of n positions whose receptive windows padding does not clip, spread
    over p columns with at most lam positions in one column (p lam >= n). Per axis the
    windows are intervals of k sources whose starts grow by at least the stride s per
    position (e = k - s). Walking Q's columns outwards from its fullest one, that column
    owns its whole k_w source columns and every other column the >= s_w new ones beyond
    its neighbour's window; in each source column the rows are at least those of one
    owning column's positions, >= s_h (its positions) + e_h by the same walk. So

        sources(Q) >= C_in (s_h s_w n + e_h s_w p + s_h e_w lam + e_h e_w)

    (summed over projections from distinct populations, C_in the input channels every
    output channel reads). It is never below the Minkowski (Brunn-Minkowski) relaxation
    ``(sqrt(s_h s_w n) + sqrt(e_h e_w))**2`` (AM-GM on the middle terms) and is exact for
    staircase-shaped Q. Every unclipped position lies in some tile and a tile's sources
    include those of its unclipped positions, so tiles >= unclipped positions / (largest
    n whose best (p, lam) stays within ``cap``)."""
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

    rows, cols = int(full_h.sum()), int(full_w.sum())

    def sources(q: int) -> float:
        """The fewest sources of q unclipped positions: the best column count p."""
        p = np.arange(1, min(q, cols) + 1)
        lam = -(-q // p)
        p, lam = p[lam <= rows], lam[lam <= rows]
        total = sum(cin * (sh * sw * q + eh * sw * p + sh * ew * lam + eh * ew) for cin, sh, eh, sw, ew in terms)
        return float(np.min(total))

    if sources(1) > cap:
        return None
    lo, hi = 1, interior
    while lo < hi:  # largest q with sources(q) <= cap
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if sources(mid) <= cap + 1e-9 else (lo, mid - 1)
    return -(-interior // lo)
