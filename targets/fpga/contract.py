"""The FPGA arithmetic contract: one integer neuron update shared by the golden model,
the cycle simulator and (transcribed literally) the RTL in ``neurocore.v``.

Per time step, per layer, per neuron (see docs/fpga-arithmetic.md):

1. leak        ``vl = v - (v >>> k)`` (shift), ``vl = (v * m) >>> f`` (mul, floor), or ``vl = v``
2. synapses    ``acc = sum(w[n, i] for active inputs i)`` (exact: validation proves no overflow)
3. bias        ``s = vl + acc + b`` computed exactly in a wide word
4. saturate    ``vs = clamp(s, V_MIN, V_MAX)`` (the only rounding point of the sum)
5. compare     ``spike = vs >= theta`` or ``vs > theta`` (per layer)
6. reset       value: ``v' = v_reset``; subtract: ``v' = clamp(vs - theta)``; none: ``v' = vs``

All functions are vectorised over numpy int64 arrays; widths are at most 48 bits so
int64 never wraps (enforced by :mod:`.netspec` validation).
"""
from __future__ import annotations

import numpy as np

W_BITS_RANGE = (4, 16)
V_BITS_RANGE = (12, 24)
ACC_BITS_RANGE = (8, 40)
MUL_FRAC_RANGE = (1, 16)
LEAK_KINDS = ("none", "shift", "mul")
RESET_MODES = ("value", "subtract", "none")
COMPARATORS = (">=", ">")


def int_range(bits: int) -> tuple[int, int]:
    """Inclusive range of a two's complement signed integer of ``bits`` bits."""
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def signed_bits(lo: int, hi: int) -> int:
    """Two's complement width that holds ``lo`` and ``hi`` (the inverse of :func:`int_range`)."""
    return max(hi.bit_length(), (-lo - 1).bit_length() if lo < 0 else 0) + 1


def saturate(x: np.ndarray, bits: int) -> np.ndarray:
    lo, hi = int_range(bits)
    return np.clip(x, lo, hi)


def leak_param_bits(kind: str, frac_bits: int, v_bits: int) -> int:
    """Width of one per-neuron leak parameter word (signed, so the RTL never mixes
    signed and unsigned operands, a classic Verilog pitfall)."""
    if kind == "mul":
        return frac_bits + 2  # m in [0, 2^f] plus a sign bit
    return max(2, int(v_bits).bit_length() + 1)  # shift amount k in [0, v_bits - 1]


def leak(v: np.ndarray, kind: str, param: np.ndarray, frac_bits: int) -> np.ndarray:
    """Leak step; never grows |v| for valid parameters, so it cannot overflow."""
    if kind == "shift":
        return v - (v >> param)  # numpy >> on signed ints is arithmetic (floor)
    if kind == "mul":
        return (v * param) >> frac_bits  # floor rounding, as Verilog >>> on signed
    return v


def neuron_update(
    v: np.ndarray,
    acc: np.ndarray,
    bias: np.ndarray,
    threshold: np.ndarray,
    leak_kind: str,
    leak_param: np.ndarray,
    frac_bits: int,
    reset: str,
    reset_value: int,
    comparator: str,
    v_bits: int,
) -> tuple[np.ndarray, np.ndarray]:
    """One step of the contract; returns (new membrane, spikes as bool)."""
    vl = leak(v, leak_kind, leak_param, frac_bits)
    vs = saturate(vl + acc + bias, v_bits)
    spike = vs >= threshold if comparator == ">=" else vs > threshold
    if reset == "value":
        vn = np.where(spike, reset_value, vs)
    elif reset == "subtract":
        vn = np.where(spike, saturate(vs - threshold, v_bits), vs)
    else:
        vn = vs
    return vn.astype(np.int64), spike
