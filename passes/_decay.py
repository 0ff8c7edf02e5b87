"""Decay formats of the targets (``Capabilities.extra["decay_format"]``) and the rounding of a
per-step decay ``a = 1 - dt/tau`` to the nearest one a format realises.

| spec | realised decay | integer kept in ``quant.extra`` |
|---|---|---|
| ``"float"`` (default) | ``a`` | none |
| ``"float32"`` | ``float32(a)`` | ``alpha`` (``alpha_syn``): the float32 factor |
| ``{"kind": "fraction", "bits": B, "syn_offset": o}`` | membrane ``1 - dv/2^B``; current ``1 - (du + o)/2^B`` | ``dv``, ``du`` |
| ``{"kind": "shift", "max": K}`` | ``1 - 2^-k``, ``k`` in 0..K | ``leak_shift`` (``leak_shift_syn``) |

``syn_offset`` defaults to 1: Lava's current decay is ``du + 1`` (``ds_offset``), so
``du = 2^B - 1`` is full decay (``u`` = this step's input). "Nearest" (the default rounding)
minimises the relative error of the time constant ``tau_eff = dt / (1 - a_realised)``, which is
what is reported; "floor" takes the largest realisable leak ``1 - a`` not above the requested
one (``dv = floor(2^B dt/tau)``), as the NIR paper's Lava converter and NetX truncate.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from snncc.diagnostics import SnnccError


@dataclass(frozen=True)
class DecayFormat:
    kind: str = "float"
    bits: int = 12
    syn_offset: int = 1
    max_shift: int = 15
    rounding: str = "nearest"  # or "floor": the leak rounds down (tau_eff >= tau)

    def spec(self) -> Any:
        """The JSON form, as written in the capabilities."""
        if self.kind == "fraction":
            return {"kind": "fraction", "bits": self.bits, "syn_offset": self.syn_offset}
        if self.kind == "shift":
            return {"kind": "shift", "max": self.max_shift}
        return self.kind


def decay_format(capabilities: Any) -> DecayFormat:
    """Parse ``capabilities.extra["decay_format"]``; SNN320 when it is not one of the forms above."""
    extra = getattr(capabilities, "extra", None) or {}
    spec = extra.get("decay_format", "float")
    kind = spec.get("kind") if isinstance(spec, dict) else spec
    try:
        if kind in ("float", "float32"):
            return DecayFormat(kind)
        if kind == "fraction":
            bits, offset = int(spec.get("bits", 12)), int(spec.get("syn_offset", 1))
            if 1 <= bits <= 32 and offset in (0, 1):
                return DecayFormat("fraction", bits=bits, syn_offset=offset)
        if kind == "shift":
            top = int(spec.get("max", 15))
            if 0 <= top <= 62:
                return DecayFormat("shift", max_shift=top)
    except (TypeError, ValueError, AttributeError):
        pass
    raise SnnccError.single(
        "SNN320", f"unknown decay_format {spec!r} in the target's capabilities",
        hint='use "float", "float32", {"kind": "fraction", "bits": 12} or {"kind": "shift", "max": 15}')


@dataclass(frozen=True)
class Realised:
    tau: np.ndarray  # effective time constant (seconds), rewritten into the node
    integers: Any  # per-neuron integers (or float32 factors) for quant.extra, None for "float"


def realise(fmt: DecayFormat, tau: np.ndarray, dt: float, synaptic: bool) -> Realised:
    """The realisable decay nearest to ``1 - dt/tau`` per neuron (``synaptic``: a current's decay)."""
    tau = np.asarray(tau, dtype=np.float64)
    if fmt.kind == "float":
        return Realised(tau, None)
    if fmt.kind == "float32":
        a = (1.0 - dt / tau).astype(np.float32)
        a = np.minimum(a, np.nextafter(np.float32(1.0), np.float32(0.0)))  # tau stays finite
        return Realised(dt / (1.0 - a.astype(np.float64)), a)
    x = dt / tau  # requested 1 - a
    if fmt.kind == "fraction":
        one = 2 ** fmt.bits
        low, high = (max(1, fmt.syn_offset), one - 1 + fmt.syn_offset) if synaptic else (1, one - 1)
        d = _floor(x * one, low, high) if fmt.rounding == "floor" else _nearest(x * one, low, high)
        return Realised(dt * one / d, (d - (fmt.syn_offset if synaptic else 0)).astype(np.int64))
    # shift: 1 - a = 2^-k, k = 0 .. max
    if fmt.rounding == "floor":
        k = -_floor(np.log2(x), -fmt.max_shift, 0)
    else:
        k = -_nearest_log2(x, -fmt.max_shift, 0)
    return Realised(dt * np.exp2(k), k.astype(np.int64))


def _floor(target: np.ndarray, low: int, high: int) -> np.ndarray:
    """``floor(target)`` clipped to [low, high]; a target one ulp below an integer (a decay
    realised by an earlier run) counts as that integer, so the rounding is idempotent."""
    return np.clip(np.floor(target + 1e-9 * np.maximum(np.abs(target), 1.0)), low, high)


def _nearest(target: np.ndarray, low: int, high: int) -> np.ndarray:
    """The integer d in [low, high] nearest to ``target`` in relative tau error |target/d - 1|."""
    floor = np.clip(np.floor(target), low, high)
    ceil = np.clip(np.ceil(target), low, high)
    return np.where(np.abs(target / floor - 1) <= np.abs(target / ceil - 1), floor, ceil)


def _nearest_log2(target: np.ndarray, low: int, high: int) -> np.ndarray:
    """The integer e in [low, high] minimising |target / 2^e - 1|."""
    e = np.log2(np.maximum(target, 2.0 ** (low - 1)))
    floor = np.clip(np.floor(e), low, high)
    ceil = np.clip(np.ceil(e), low, high)
    error = lambda p: np.abs(target / np.exp2(p) - 1)  # noqa: E731
    return np.where(error(floor) <= error(ceil), floor, ceil)


def stored(values: np.ndarray) -> Any:
    """One number when all neurons share it, else a flat list (C order); JSON-serialisable."""
    flat = np.asarray(values).reshape(-1)
    kind = float if flat.dtype.kind == "f" else int
    if flat.size and np.all(flat == flat[0]):
        return kind(flat[0])
    return [kind(v) for v in flat]


def summary(values: np.ndarray) -> Any:
    """A report value: the number when shared, else min/max."""
    flat = np.asarray(values, dtype=np.float64).reshape(-1)
    if flat.size and np.all(flat == flat[0]):
        return float(flat[0])
    return {"min": float(flat.min()), "max": float(flat.max())}


def relative_error(requested: np.ndarray, effective: np.ndarray) -> float:
    err = np.abs(np.asarray(effective) / np.asarray(requested) - 1.0)
    worst = float(err.max()) if err.size else 0.0
    return worst if math.isfinite(worst) else float("inf")
