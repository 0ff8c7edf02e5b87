"""Per-neuron Lava LIF parameters of one IR neuron node in canonical integer form.

Lava's fixed-point LIF (docs/loihi2-arithmetic.md section 3) computes per step
``u = trunc0(u (4096 - du - 1) / 4096) + (a << 6)``,
``v = trunc0(v (4096 - dv) / 4096) + u + bias`` and spikes when ``v > vth << 6``. The IR
neurons written as per-step updates (docs/lowering-contract.md section 2) are, with
``k = dt / tau`` and the node's state scale ``s`` (integer state = v / s):

=========  ==================================  =========================================
kind       per step                            Lava
=========  ==================================  =========================================
LIF        ``v = (1 - k) v + g I + c``         ``du = 4095`` (u holds only this step's
                                               input), ``dv = 4096 k``
IF         ``v = v + g I + c``                 ``du = 4095``, ``dv = 0``
CubaLIF    ``i' = (1 - ks) i' + g I``,         ``du = 4096 ks - 1``, ``dv = 4096 km``,
           ``v = (1 - km) v + i' + c``         ``u = 64 i' / s``
=========  ==================================  =========================================

``g`` is the per-step input gain (1 after ``discretize``), ``c`` the constant drive
(bias, leak target and the chains' biases). Lava's ``v`` is ``64 v / s`` (the 6-bit
activation shift), so ``vth = theta / s`` and ``bias_mant << bias_exp = 64 c / s``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snncc.diagnostics import Diagnostic
from snncc.ir import IF, LIF, CubaLIF, Neuron, per_neuron
from snncc.lowering import is_integral, require_state_scale

__all__ = ["NeuronParams", "neuron_params", "bias_mant_exp", "round_bias", "V_SHIFT", "DECAY_ONE"]

V_SHIFT = 64              # Lava v = 64 * integer state (activation shift 6)
DECAY_ONE = 4096          # decays are 12-bit fractions
BIAS_MANT_MAX = 2**12 - 1
BIAS_EXP_MAX = 7
TOLERANCE = 1e-6          # relative: equal gains after dequantised float round-off


@dataclass(frozen=True, eq=False)
class NeuronParams:
    """Flat per-neuron arrays (length = node size) of Lava parameters and gains."""

    du: np.ndarray          # int64, Lava du
    dv: np.ndarray          # int64, Lava dv
    vth: np.ndarray         # int64, threshold in state units (LIF/IF: any sign, see offsets.py)
    bias_mant: np.ndarray   # int64
    bias_exp: np.ndarray    # int64
    input_gain: np.ndarray  # float64, g: state change per unit of input current
    state_scale: float      # s: real v = (Lava v / 64) * s
    current_gain: float     # CubaLIF: i' = current_gain * i (1 for the other kinds)


def bias_mant_exp(bias: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact ``mant << exp`` per value (13-bit mant, exp 0..7, smallest exp that fits);
    also a mask of values no such pair represents exactly."""
    bias = np.asarray(bias, dtype=np.int64)
    mant, exp = bias.copy(), np.zeros_like(bias)
    for _ in range(BIAS_EXP_MAX):
        big = (np.abs(mant) > BIAS_MANT_MAX) & (mant % 2 == 0)
        mant = np.where(big, mant // 2, mant)
        exp = exp + big
    bad = (mant > BIAS_MANT_MAX) | (mant < -BIAS_MANT_MAX - 1)
    return mant, exp, bad


def round_bias(bias: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The nearest ``mant << exp`` per value (13-bit mant, the smallest exp 0..7 that fits
    the rounded value); also a mask of values beyond every such pair."""
    bias = np.asarray(bias, dtype=np.float64)
    mant, exp = np.rint(bias).astype(np.int64), np.zeros(bias.shape, np.int64)
    for e in range(1, BIAS_EXP_MAX + 1):
        big = (mant > BIAS_MANT_MAX) | (mant < -BIAS_MANT_MAX - 1)
        mant = np.where(big, np.rint(bias / 2.0**e).astype(np.int64), mant)
        exp = np.where(big, e, exp)
    bad = (mant > BIAS_MANT_MAX) | (mant < -BIAS_MANT_MAX - 1)
    return mant, exp, bad


def neuron_params(name: str, node: Neuron, chain_bias: np.ndarray, dt: float | None,
                  problems: list[Diagnostic]) -> NeuronParams | None:
    """Lava parameters of ``node``; appends every problem to ``problems`` (None then)."""
    def add(code: str, message: str, hint: str) -> None:
        problems.append(Diagnostic(code, message, node=name, hint=hint))

    def flat(values) -> np.ndarray:
        return per_neuron(values, node.shape).reshape(-1)

    scale = require_state_scale(name, node, "SNN435", "compile with the loihi2 default pipeline (discretize, quantize)",
                                problems)
    if scale is None:
        return None
    before = len(problems)
    n = node.size
    if isinstance(node, (LIF, CubaLIF)) and dt is None:
        add("SNN435", f"{node.kind} needs the time step dt", "pass --dt")
        return None
    chain_bias = np.asarray(chain_bias, dtype=np.float64).reshape(-1)
    current_gain = 1.0
    if isinstance(node, LIF):
        k = dt / flat(node.tau)
        gain = k * flat(node.r)
        drive = k * (flat(node.v_leak) + flat(node.r) * flat(node.bias)) + gain * chain_bias
        d_u, d_v = np.full(n, float(DECAY_ONE)), k * DECAY_ONE
    elif isinstance(node, IF):
        gain = flat(node.r)
        drive = gain * (flat(node.bias) + chain_bias)
        d_u, d_v = np.full(n, float(DECAY_ONE)), np.zeros(n)
    else:  # CubaLIF
        ks, km = dt / flat(node.tau_syn), dt / flat(node.tau_mem)
        h = km * flat(node.r)
        if not np.allclose(h, h[0], rtol=TOLERANCE, atol=0):
            add("SNN435", "CubaLIF current-to-membrane gain dt/tau_mem * r differs between neurons",
                "run discretize (it makes the gain 1)")
        current_gain = float(h[0])
        gain = ks * flat(node.w_in) * current_gain
        drive = km * flat(node.v_leak) + current_gain * flat(node.bias)
        if np.any(chain_bias != 0):
            add("SNN434", "a constant current into a CubaLIF synapse has no Loihi equivalent "
                "(Lava's bias enters v, not the current u)",
                "remove the synapse bias or use LIF neurons")
        d_u, d_v = ks * DECAY_ONE, km * DECAY_ONE
    du, dv = _decay(d_u, "current", 1, add), _decay(d_v, "membrane", 0, add)
    vth = _vth(node, scale, add)
    bias_lava = drive * V_SHIFT / scale
    if not np.all(is_integral(bias_lava)):
        bad = int(np.flatnonzero(~is_integral(bias_lava))[0])
        add("SNN435", f"bias {drive[bad]:.6g} is not a multiple of state_scale/64 = "
            f"{scale / V_SHIFT:.6g} (neuron {bad})",
            "quantize the bias with at most 6 fraction bits of the state")
    mant, exp, bad = bias_mant_exp(np.rint(bias_lava).astype(np.int64))
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        add("SNN437", f"bias {int(np.rint(bias_lava[i]))} (Lava units, neuron {i}) is not a "
            "13-bit mantissa shifted by 0..7",
            "the bias is too large or too finely resolved for Loihi's bias_mant/bias_exp")
    if len(problems) > before:
        return None
    return NeuronParams(du, dv, vth, mant, exp, gain, scale, current_gain)


def _decay(d: np.ndarray, what: str, offset: int, add) -> np.ndarray:
    """Lava du (offset 1: Lava decays u by du + 1) or dv from 4096 * dt / tau."""
    if not np.all(is_integral(d)):
        worst = 1 - float(d[~is_integral(d)][0]) / DECAY_ONE
        add("SNN435", f"{what} decay {worst:.9g} is not 1 - d/4096 for an integer d",
            "run discretize with the loihi2 capabilities (12-bit decays)")
        return np.zeros(d.shape, np.int64)
    value = np.rint(d).astype(np.int64) - offset
    if np.any((value < 0) | (value > DECAY_ONE - 1)):
        worst = float(d[(value < 0) | (value > DECAY_ONE - 1)][0])
        add("SNN437", f"{what} decay dt/tau = {worst / DECAY_ONE:.6g} is outside Lava's range "
            f"({offset}/4096 .. {(DECAY_ONE - 1 + offset)}/4096)",
            "a current needs tau_syn < infinity; a membrane needs tau > dt (use IF for no leak)")
    return np.clip(value, 0, DECAY_ONE - 1)


def _vth(node: Neuron, scale: float, add) -> np.ndarray:
    theta = per_neuron(node.v_threshold, node.shape).reshape(-1) / scale
    if not np.all(is_integral(theta)):
        worst = float(theta[~is_integral(theta)][0]) * scale
        add("SNN435", f"threshold {worst:.6g} is not an integer multiple of state_scale "
            f"{scale:.6g}", "run quantize")
        return np.zeros(theta.shape, np.int64)
    if np.any(theta < 0) and isinstance(node, CubaLIF):
        add("SNN437", "negative threshold: Lava's vth is unsigned, and a CubaLIF membrane cannot be "
            "offset (its current persists, so the reset correction would keep adding)",
            "such neurons fire at rest; retrain or prune, or use LIF/IF neurons")
    return np.rint(theta).astype(np.int64)
