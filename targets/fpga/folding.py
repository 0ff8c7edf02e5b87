"""Choose PE/SIMD per engine to meet a cycles-per-step target or a resource budget.

Engines of one step run one after another, so a step costs ``1 + sum(engine cycles)``
with ``engine cycles = NF * (ceil(active_in / SIMD) + 1) + 1`` (see cycle_sim). The
greedy search follows FINN's SetFolding order per engine (raise SIMD through divisors
of N_in while ``w_bits * SIMD <= max_wwidth``, then PE through divisors of N_out), always
unfolding the currently slowest engine, and never taking a step that breaks the budget.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from .netspec import LayerSpec, NetSpec
from .resources import Resources, estimate_conv_engine, estimate_engine


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def engine_cycles(n_out: int, pe: int, simd: int, active_in: int) -> int:
    return (n_out // pe) * (math.ceil(active_in / simd) + 1) + 1


def layer_cycles(layer: LayerSpec, active: int) -> int:
    """Cycles of one engine for ``active`` input events (conv engine: one cycle per event,
    channel group and kernel offset, then one per slot)."""
    if layer.engine == "conv":
        cout, _, kh, kw = layer.weights.shape
        return active * (cout // layer.pe) * kh * kw + layer.n_out // layer.pe + 1
    return engine_cycles(layer.n_out, layer.pe, layer.simd, active)


def step_cycles(spec: NetSpec, active: list[int]) -> int:
    return 1 + sum(layer_cycles(l, a) for l, a in zip(spec.layers, active))


def layer_resources(layer: LayerSpec, index_bits: int = 16) -> Resources:
    if layer.engine == "conv":
        cout, cin, kh, kw = layer.weights.shape
        return estimate_conv_engine(cin, cout, kh, kw, layer.n_out // cout, layer.n_in,
                                    layer.pe, layer.w_bits, layer.v_bits, layer.acc_bits,
                                    layer.leak.kind, index_bits)
    return estimate_engine(layer.n_cols, layer.n_out, layer.pe, layer.simd, layer.w_bits,
                           layer.v_bits, layer.acc_bits, layer.leak.kind, index_bits)


@dataclass(frozen=True)
class EngineFold:
    name: str
    pe: int
    simd: int
    cycles: int
    resources: Resources


@dataclass(frozen=True)
class FoldingResult:
    spec: NetSpec
    engines: tuple[EngineFold, ...]
    cycles_per_step: int
    resources: Resources
    target_met: bool


def _next_fold(layer: LayerSpec, max_wwidth: int) -> tuple[int, int] | None:
    if layer.engine == "conv":  # PE lanes are output channels; SIMD stays 1
        pes = [d for d in divisors(layer.weights.shape[0]) if d > layer.pe]
        return (pes[0], 1) if pes else None
    simds = [d for d in divisors(layer.n_in) if d > layer.simd and d * layer.w_bits <= max_wwidth]
    if simds:
        return layer.pe, simds[0]
    pes = [d for d in divisors(layer.n_out) if d > layer.pe]
    return (pes[0], layer.simd) if pes else None


def min_pe(layer: LayerSpec, max_depth: int) -> int:
    """Smallest PE whose per-lane weight memory fits ``max_depth`` words (dense engines; a
    conv engine's memories do not shrink with PE)."""
    if layer.engine == "conv":
        return 1
    fitting = [d for d in divisors(layer.n_out) if (layer.n_out // d) * layer.n_cols <= max_depth]
    return fitting[0] if fitting else layer.n_out


def _active(spec: NetSpec, activity: float | list[float]) -> list[int]:
    rates = activity if isinstance(activity, list) else [activity] * len(spec.layers)
    return [max(0, math.ceil(r * l.n_cols)) for r, l in zip(rates, spec.layers)]


def fold(spec: NetSpec, target_cycles: int | None = None, budget: Resources | None = None,
         activity: float | list[float] = 1.0, max_wwidth: int = 36) -> FoldingResult:
    """Start from SIMD = 1 and the smallest PE whose weight memory fits; unfold the slowest engine until ``target_cycles`` is met
    (or, without a target, as far as ``budget`` allows). ``activity`` is the expected
    fraction of active inputs per engine (1.0 = worst case, every input spiking)."""
    layers = [dataclasses.replace(l, pe=min_pe(l, spec.max_mem_depth), simd=1) for l in spec.layers]
    active = _active(spec, activity)
    blocked: set[int] = set()

    def cyc(i: int) -> int:
        return layer_cycles(layers[i], active[i])

    def total_res(ls: list[LayerSpec]) -> Resources:
        return sum((layer_resources(l) for l in ls), Resources())

    while True:
        total = 1 + sum(cyc(i) for i in range(len(layers)))
        if target_cycles is not None and total <= target_cycles:
            break
        if target_cycles is None and budget is None:
            break
        order = sorted((i for i in range(len(layers)) if i not in blocked), key=lambda i: -cyc(i))
        if not order:
            break
        i = order[0]
        nxt = _next_fold(layers[i], max_wwidth)
        if nxt is None:
            blocked.add(i)
            continue
        trial = layers.copy()
        trial[i] = dataclasses.replace(layers[i], pe=nxt[0], simd=nxt[1])
        if budget is not None and not total_res(trial).fits(budget):
            blocked.add(i)
            continue
        layers = trial
    new = dataclasses.replace(spec, layers=tuple(layers))
    engines = tuple(EngineFold(l.name, l.pe, l.simd, cyc(i), layer_resources(l))
                    for i, l in enumerate(layers))
    total = 1 + sum(e.cycles for e in engines)
    return FoldingResult(new, engines, total, total_res(layers),
                         target_cycles is None or total <= target_cycles)
