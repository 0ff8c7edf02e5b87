"""Lava's fixed-point LIF (``PyLifModelBitAcc``) on int32 arrays, batched.

One :class:`LifState` per population holds ``u``, ``v`` (int32 ``[B, N]``, as Lava's
``LavaPyType(np.ndarray, np.int32, precision=24)``) and preallocated work buffers:
large arrays are never reallocated per step. See docs/loihi2-arithmetic.md section 3.
"""
from __future__ import annotations

import numpy as np

from snncc.targets.loihi2.netspec import LifPopulation

__all__ = ["LifState", "effective_bias", "UV_MAX", "V_LIMIT"]

UV_MAX = 2**23          # u, v are 24-bit signed
V_LIMIT = UV_MAX - 1    # v saturates at +-(2**23 - 1)
DECAY_UNITY = 4096      # decays are 12-bit fractions
ACT_SHIFT = 6           # synaptic input is MSB-aligned by 6 bits
VTH_SHIFT = 6           # threshold mantissa is MSB-aligned by 6 bits


def effective_bias(pop: LifPopulation) -> np.ndarray:
    """``bias_mant << bias_exp`` (``>>`` for negative exponents), int32 like Lava."""
    mant = pop.bias_mant.astype(np.int32)
    exp = pop.bias_exp.astype(np.int32)
    return np.where(exp >= 0, np.left_shift(mant, np.maximum(exp, 0)),
                    np.right_shift(mant, np.maximum(-exp, 0))).astype(np.int32)


def _decay_into(x: np.ndarray, keep: int, scratch: np.ndarray, out: np.ndarray) -> None:
    """``out = trunc0(x * keep / 4096)``, Lava's ``sign(p) * (|p| >> 12)``, ``p = x*keep``.

    ``keep / 4096`` is exact in float64 and ``|x * keep| < 2**43``, so the float
    product is exact and the unsafe cast to int32 truncates toward zero like Lava.
    """
    if keep == DECAY_UNITY:
        np.copyto(out, x)
    elif keep == 0:
        out.fill(0)
    else:
        np.multiply(x, keep / DECAY_UNITY, out=scratch)
        np.copyto(out, scratch, casting="unsafe")


class LifState:
    """State and one-step update of one LIF population for a batch."""

    def __init__(self, pop: LifPopulation, batch: int, started: bool = True):
        shape = (batch, int(pop.size))
        self.u = np.zeros(shape, np.int32)
        self.v = np.zeros(shape, np.int32)
        self.v_init = pop.v_init.astype(np.int32)
        if started:
            self.v[:] = self.v_init
        self._u_next = np.zeros(shape, np.int32)   # swapped with u / v every step
        self._v_next = np.zeros(shape, np.int32)
        self._scratch = np.zeros(shape, np.float64)
        self._quiet = np.zeros(shape, bool)
        self.spikes = np.zeros(shape, bool)
        bias = effective_bias(pop)
        self.bias = bias if bias.any() else None
        self.keep_u = DECAY_UNITY - (int(pop.du) + 1)   # ds_offset = 1
        self.keep_v = DECAY_UNITY - int(pop.dv)         # dm_offset = 0
        self.vth_eff = int(pop.vth) << VTH_SHIFT        # cached once, as Lava does

    def start(self, bias: np.ndarray | None) -> None:
        """Switch the bias on and set ``v`` to ``v_init`` (Lava: ``bias_mant.set`` and
        ``v.set`` while paused at the population's start)."""
        self.bias = bias
        self.v[:] = self.v_init

    def step(self, inputs: list[np.ndarray]) -> np.ndarray:
        """``PyLifModelBitAcc.run_spk``; ``inputs`` are this step's int32 payloads of the
        incoming connections, each already shifted left by 6 (``a << 6``).

        Lava computes ``u + ((sum a) << 6)`` in int32; adding each ``a << 6`` is the
        same modulo 2**32, and all arithmetic here is int32 like Lava's, so overflows
        wrap identically. Returns the bool spikes (a buffer reused next step).
        """
        cur = self._u_next
        _decay_into(self.u, self.keep_u, self._scratch, cur)
        for a6 in inputs:
            np.add(cur, a6, out=cur)
        # 24-bit wrap: one conditional correction as Lava does (not a modulo); both
        # conditions are evaluated on the uncorrected value, like Lava's two np.where.
        if cur.size and (cur.max() > UV_MAX or cur.min() <= -UV_MAX):
            high, low = cur > UV_MAX, cur <= -UV_MAX
            np.subtract(cur, 2 * UV_MAX, out=cur, where=high)
            np.add(cur, 2 * UV_MAX, out=cur, where=low)
        self._u_next, self.u = self.u, cur

        volt = self._v_next                              # CUBA: uses the new u
        _decay_into(self.v, self.keep_v, self._scratch, volt)
        np.add(volt, self.u, out=volt)
        if self.bias is not None:
            np.add(volt, self.bias, out=volt)
        if volt.size and (volt.max() > V_LIMIT or volt.min() < -V_LIMIT):
            np.clip(volt, -V_LIMIT, V_LIMIT, out=volt)  # saturate, no wrap
        np.less_equal(volt, self.vth_eff, out=self._quiet)   # spike iff v > vth << 6
        np.multiply(volt, self._quiet, out=volt)        # reset v to 0; u is not reset
        self._v_next, self.v = self.v, volt
        return np.logical_not(self._quiet, out=self.spikes)
