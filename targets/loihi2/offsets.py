"""Per-neuron thresholds on one Lava LIF process (one unsigned ``vth``, reset to exactly 0).

For LIF and IF neurons (``du = 4095``: ``u`` is this step's input ``I``) the reference is,
per step in Lava units, ``V = a V' + I + B`` with ``V' = 0`` after a spike, and a spike
when ``V > 64 T_i`` (``T_i`` the neuron's threshold in state units, any sign). Store
``H = V - C_i`` with ``C_i = 64 (T_i - T_s)`` and ``T_s = max(max_i T_i, 0)`` (Lava's
``vth``). Then ``H > 64 T_s`` exactly when ``V > 64 T_i``, and

- without a reset ``H = a H' + I + B - (1 - a) C_i``: the bias grows by ``-(1 - a) C_i``;
- after a reset the reference restarts from ``V' = 0``, i.e. ``H' = -C_i``, but Lava's
  ``H'`` is 0: the missing ``-a C_i`` arrives one step after every spike through a
  diagonal self-connection (Lava synapses take one step) of ``-a c_i`` state units
  (``c_i = C_i / 64``);
- the process starts at ``H = -C_i`` (``v_init``), together with its bias.

``c_i <= 0``, so the self weights and the extra bias are >= 0. Rounding (reported): the
extra bias to Lava's ``mant << exp`` (13-bit mantissa), the self weight to whole state
units (a synapse delivers ``W << exp << 6``), split into a coarse connection (8 bits with
the smallest exponent that fits) and, when that is not exact, a fine one (exponent 0)
with the remainder. IF (``a = 1``) is exact when the bias is representable. CubaLIF has no
such form (its current persists, so a self-connection would keep adding).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snncc.diagnostics import Diagnostic
from snncc.targets.loihi2.dynamics import DECAY_ONE, V_SHIFT, round_bias

__all__ = ["Offsets", "threshold_offsets", "WEIGHT_MAX", "WEIGHT_EXP_MAX"]

WEIGHT_MAX = 255        # excitatory 8-bit weights
WEIGHT_EXP_MAX = 7


@dataclass(frozen=True, eq=False)
class Offsets:
    """One process's shared threshold, initial state, biases and self-connections."""

    node: str                                           # the IR neuron node
    vth: int
    v_init: np.ndarray                                  # int64, Lava units (= -C_i)
    bias_mant: np.ndarray
    bias_exp: np.ndarray
    self_weights: tuple[tuple[np.ndarray, int], ...]    # (diagonal weights, weight_exp)
    report: dict


def threshold_offsets(node: str, thresholds: np.ndarray, dv: int, bias_mant: np.ndarray,
                      bias_exp: np.ndarray, problems: list[Diagnostic]) -> Offsets | None:
    """Offsets for one process (``thresholds`` per neuron in state units); every problem is
    appended to ``problems`` (None then)."""
    t = np.asarray(thresholds, np.int64)
    shared = max(int(t.max()), 0)
    c = t - shared                                          # <= 0, state units
    keep = DECAY_ONE - int(dv)
    bias = np.asarray(bias_mant, np.int64) << np.asarray(bias_exp, np.int64)
    wanted = bias - c * int(dv) / V_SHIFT                  # B - (1 - a) C, Lava units
    mant, exp, bias_bad = round_bias(wanted)
    carry = -c * keep / DECAY_ONE                          # a |c|, state units
    total = np.rint(carry).astype(np.int64)
    coarse_exp = 0
    while coarse_exp < WEIGHT_EXP_MAX and int(total.max(initial=0)) >> coarse_exp > WEIGHT_MAX:
        coarse_exp += 1
    coarse = total >> coarse_exp
    fine = total - (coarse << coarse_exp)
    before = len(problems)
    if int(coarse.max(initial=0)) > WEIGHT_MAX:
        problems.append(Diagnostic(
            "SNN437", f"threshold offset {int(-c.min())} state units (thresholds {int(t.min())}..{shared}) "
            f"needs a reset correction of {int(total.max())} > {WEIGHT_MAX << WEIGHT_EXP_MAX} (8-bit weight, "
            "exponent 7)", node=node, hint="thresholds spread too far for one Lava process; retrain or prune"))
    if np.any(bias_bad):
        i = int(np.flatnonzero(bias_bad)[0])
        problems.append(Diagnostic(
            "SNN437", f"bias with threshold offset {wanted[i]:.6g} (Lava units, neuron {i}) is outside "
            "Loihi's 13-bit mantissa shifted by 0..7", node=node,
            hint="thresholds spread too far below the largest one; retrain or prune"))
    if len(problems) > before:
        return None
    realised = mant.astype(np.float64) * 2.0**exp
    weights = tuple((np.diag(w), e) for w, e in ((coarse, coarse_exp), (fine, 0)) if w.any())
    report = {
        "vth": shared, "shifted": int(np.count_nonzero(c)), "max_offset": int(-c.min()),
        "self_weight_exp": [e for _, e in weights],
        "reset_rounding_max": float(np.abs(total - carry).max()),          # state units
        "bias_rounding_max": float(np.abs(realised - wanted).max()),       # Lava units
    }
    return Offsets(node, shared, -c * V_SHIFT, mant, exp, weights, report)
