"""Integer formats quantize reads from the target's capabilities, and the rounding into them.

Every value is rounded to nearest and then clipped; clipping is counted, never wrapped.
The keys (all optional, in ``Capabilities.extra``; docs/lowering-contract.md §3):

- ``weight_exp_range`` (lo, hi): one power-of-two exponent per connection (Loihi (0, 7));
  absent: exponent 0.
- ``weight_mixed_sign_lsb``: a connection whose weights all have one sign stores ``b``
  magnitude bits, a mixed-sign one ``b`` bits two's complement (Lava drops the LSB of
  mixed-sign weights). Absent: every connection is ``b``-bit signed symmetric.
- ``weight_max`` / ``weight_max_with_delays``: caps on |integer weight| (SpiNNaker 2: 127 for
  int8 synapses, 15 for the delay models' sign + 4-bit magnitude); "with delays" applies to
  every projection into a layer that has a delay (own Delay node, or an extra delay from
  ``schedule`` with ``synaptic_latency_steps``).
- ``weight_bits_range`` (lo, hi): container widths the target stores; narrower weights are
  declared with ``lo`` bits (FPGA (4, 16)); ``hi`` caps the option.
- ``state_frac_bits``: fraction bits of the hardware state below the weight unit (Loihi 6).
- ``threshold_bits`` (+ ``positive_threshold``: unsigned): the threshold's integer width in
  state units; default: the state's integer bits. With ``threshold_offsets`` the target
  realises LIF/IF thresholds of either sign (``±(2**bits - 1)``, nothing clipped at 0) by
  shifting the membrane by ``max(theta, 0) - theta`` per neuron; the scale then also keeps
  that shift times the decay within ``threshold_offset_max`` state units (the reset
  correction), within the state's integer range, and the shifted bias (plus
  ``shift * (1 - a)``) within the bias format.
- ``bias_mant_bits`` + ``bias_exp_range``: the bias is ``mant << exp`` in the finest state unit
  (Loihi 13, (0, 7)); default: a plain integer of the state's width.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from snncc.diagnostics import SnnccError
from snncc.ir import LIF, per_neuron

from ._folding import OFFSET_KINDS


@dataclass(frozen=True)
class Formats:
    weight_bits: int
    container_bits: int
    exp_range: tuple[int, int]
    mixed_sign_lsb: bool
    weight_max: int | None
    weight_max_with_delays: int | None
    latency: int | None
    state_bits: int | None  # None: float state (thresholds, biases stay float)
    frac_bits: int
    threshold_bits: int | None
    threshold_unsigned: bool
    threshold_offsets: bool
    threshold_offset_max: float
    bias_mant_bits: int | None
    bias_exp_range: tuple[int, int]

    @property
    def state_max(self) -> float:
        """Largest |state| in weight units (the integer part of the state register)."""
        return 2.0 ** (self.state_bits - 1 - self.frac_bits) - 1 if self.state_bits else math.inf

    def threshold_limits(self, node: Any = None) -> tuple[int, int]:
        bits = self.threshold_bits or (self.state_bits - self.frac_bits)
        if self.threshold_unsigned:
            return -(2**bits - 1) if self.offsets(node) else 0, 2**bits - 1
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def offsets(self, node: Any) -> bool:
        """Does the target shift ``node``'s membrane to realise thresholds of either sign?"""
        return self.threshold_unsigned and self.threshold_offsets and isinstance(node, OFFSET_KINDS)

    def offset(self, node: Any, theta: np.ndarray, dt: float | None) -> tuple[np.ndarray, np.ndarray] | None:
        """With threshold offsets for ``node``: per neuron the shift ``max(theta, 0) - theta``
        (flat, real units) and the membrane decay ``a`` (1 for IF); else None."""
        if not self.offsets(node):
            return None
        theta = np.asarray(theta, np.float64).reshape(-1)
        decay = 1 - dt / per_neuron(node.tau, node.shape).reshape(-1) \
            if isinstance(node, LIF) else np.ones(theta.size)
        return max(theta.max(initial=0.0), 0.0) - theta, decay

    def bias_max(self) -> float:
        """Largest |bias| in the finest state unit (s_N / 2**frac_bits)."""
        if self.bias_mant_bits is None:
            return 2.0 ** (self.state_bits - 1) - 1
        return (2.0 ** (self.bias_mant_bits - 1) - 1) * 2.0 ** self.bias_exp_range[1]

    def weight_limits(self, weights: np.ndarray, delays: bool) -> tuple[int, int, str]:
        """(lowest, highest) integer and the sign mode of one connection."""
        b = self.weight_bits
        mode = "excitatory" if np.all(weights >= 0) else "inhibitory" if np.all(weights <= 0) else "mixed"
        if self.mixed_sign_lsb and mode != "mixed":
            top = 2**b - 1
            low, high = (0, top) if mode == "excitatory" else (-top, 0)
        else:
            top = 2 ** (b - 1) - 1
            low, high = -top, top
        cap = self.weight_max_with_delays if delays and self.weight_max_with_delays else self.weight_max
        if cap is not None:
            low, high = max(low, -cap), min(high, cap)
        return low, high, mode


def formats(capabilities: Any, weight_bits: int | None) -> Formats | None:
    """The formats for ``capabilities`` with ``weight_bits`` overriding its width; None for a
    float target asked for no width. SNN331 for a width the target cannot store."""
    extra = dict(getattr(capabilities, "extra", None) or {})
    default = getattr(capabilities, "weight_bits", None)
    bits = weight_bits if weight_bits is not None else default
    if bits is None:
        return None
    low, high = extra.get("weight_bits_range") or (bits, default or 32)
    if not 2 <= bits <= high:
        raise SnnccError.single(
            "SNN331", f"weight_bits={bits} is outside what the target stores (2..{high})",
            hint=f"choose quantize{{weight_bits=...}} between 2 and {high}")
    state_bits = getattr(capabilities, "state_bits", None)
    exp = tuple(int(e) for e in extra.get("weight_exp_range") or (0, 0))
    bias_exp = tuple(int(e) for e in extra.get("bias_exp_range") or (0, 0))
    latency = extra.get("synaptic_latency_steps")
    return Formats(
        weight_bits=int(bits), container_bits=max(int(bits), int(low)), exp_range=(exp[0], exp[1]),
        mixed_sign_lsb=bool(extra.get("weight_mixed_sign_lsb", False)),
        weight_max=extra.get("weight_max"), weight_max_with_delays=extra.get("weight_max_with_delays"),
        latency=None if latency is None else int(latency), state_bits=state_bits,
        frac_bits=int(extra.get("state_frac_bits", 0)), threshold_bits=extra.get("threshold_bits"),
        threshold_unsigned=bool(extra.get("positive_threshold", False)),
        threshold_offsets=bool(extra.get("threshold_offsets", False)),
        threshold_offset_max=float(extra.get("threshold_offset_max", math.inf)),
        bias_mant_bits=extra.get("bias_mant_bits"), bias_exp_range=(bias_exp[0], bias_exp[1]))


@dataclass(frozen=True)
class Rounded:
    values: np.ndarray  # int64
    saturated: int  # values clipped to the range
    zeroed: int  # non-zero inputs that became 0


def round_clip(x: np.ndarray, low: float, high: float) -> Rounded:
    r = np.rint(np.asarray(x, dtype=np.float64))
    clipped = np.clip(r, low, high)
    return Rounded(clipped.astype(np.int64), int(np.count_nonzero(clipped != r)),
                   int(np.count_nonzero((clipped == 0) & (np.asarray(x) != 0))))


def round_bias(x: np.ndarray, fmt: Formats) -> Rounded:
    """``x`` (finest state units) to the nearest ``mant << exp`` (or plain integer) in range."""
    x = np.asarray(x, dtype=np.float64)
    if fmt.bias_mant_bits is None:
        limit = fmt.bias_max()
        return round_clip(x, -limit, limit)
    top = 2.0 ** (fmt.bias_mant_bits - 1)
    lo, hi = fmt.bias_exp_range
    # smallest exponent whose mantissa fits: |x| / 2^e < top - 1/2
    need = np.ceil(np.log2(np.maximum(np.abs(x), 1e-300) / (top - 0.5)))
    exp = np.clip(np.where(np.abs(x) < top - 0.5, lo, need), lo, hi)
    mant = np.rint(x / 2.0**exp)
    clipped = np.clip(mant, -top, top - 1)
    values = (clipped * 2.0**exp).astype(np.int64)
    return Rounded(values, int(np.count_nonzero(clipped != mant)), int(np.count_nonzero((values == 0) & (x != 0))))


def exponent(unit: float, scale: float, exp_range: tuple[int, int]) -> int:
    """The smallest exponent e in range with ``scale * 2**e >= unit`` (no saturation)."""
    if unit <= 0:
        return exp_range[0]
    e = math.ceil(math.log2(unit / scale) - 1e-9)
    return int(min(max(e, exp_range[0]), exp_range[1]))


def clip_magnitude(weights: np.ndarray, percentile: float | None) -> float:
    """The magnitude mapped to the largest integer: max |w|, or a percentile of the non-zero |w|."""
    magnitude = np.abs(np.asarray(weights, dtype=np.float64)).reshape(-1)
    magnitude = magnitude[magnitude > 0]
    if magnitude.size == 0:
        return 0.0
    if percentile is None:
        return float(magnitude.max())
    return float(np.percentile(magnitude, percentile))
