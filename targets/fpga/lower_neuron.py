"""Neuron parameters of the FPGA contract from one neuron node of the canonical integer graph.

After ``discretize`` the per-step update is ``v = a v + I + bias`` (input gain 1), and after
``quantize`` the neuron carries ``quant.extra["state_scale"]`` ``s``: the engine's integer
membrane is ``v / s``. Thresholds, reset value and bias are those real values divided by ``s``;
the decay ``a`` becomes the engine's leak (docs/fpga-arithmetic.md §1):

| realised decay | leak |
|---|---|
| 1 (IF, I) | ``none`` |
| ``1 - 2**-k`` (``quant.extra["leak_shift"]``) | ``shift`` k |
| ``1 - d / 2**bits`` (``quant.extra["dv"]``, decay_format fraction) | ``mul`` m = 2**bits - d, f = bits |

A non-spiking readout (LI, I) runs on an engine that never fires (``v > V_MAX``); its output
is its membrane. CubaLIF runs only when its synaptic current does not persist (a_syn = 0).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snncc.diagnostics import Diagnostic
from snncc.ir import IF, LIF, CubaLIF, I, LI, Neuron, ResetMode, SpikingNeuron, per_neuron
from snncc.lowering import is_integral, require_state_scale

from . import contract as C
from .netspec import LeakSpec

#: fraction bits of the multiply leak when the capabilities do not say
DEFAULT_DECAY_BITS = 12
TOLERANCE = 1e-6  # relative: float64 round trips of exact integers stay far below this


@dataclass(frozen=True, eq=False)
class NeuronParams:
    state_scale: float
    threshold: np.ndarray  # per neuron; integral where the graph is quantized
    leak: LeakSpec
    reset: str
    reset_value: int
    comparator: str
    spiking: bool


def integral(values: np.ndarray) -> np.ndarray:
    """Values within float round-off of integers become int64; otherwise the floats are kept,
    so validation (SNN410) names the layer and the count of non-integers."""
    x = np.asarray(values, dtype=np.float64)
    return np.rint(x).astype(np.int64) if np.all(is_integral(x)) else x


def _close(a: np.ndarray, b: np.ndarray | float) -> bool:
    return bool(np.allclose(a, b, rtol=TOLERANCE, atol=TOLERANCE))


def _decay(node: Neuron, dt: float | None) -> tuple[np.ndarray, np.ndarray]:
    """(a, input gain) per neuron: the per-step update is v = a v + gain (I + bias)."""
    if isinstance(node, (IF, I)):
        return np.ones(node.size), per_neuron(node.r, node.shape).reshape(-1)
    tau = per_neuron(node.tau if isinstance(node, (LIF, LI)) else node.tau_mem, node.shape).reshape(-1)
    return 1.0 - dt / tau, dt / tau * per_neuron(node.r, node.shape).reshape(-1)


def _leak(name: str, node: Neuron, a: np.ndarray, decay_bits: int) -> LeakSpec | Diagnostic:
    extra = dict(node.quant.extra) if node.quant is not None else {}
    if "leak_shift" in extra:
        k = np.broadcast_to(np.asarray(extra["leak_shift"], np.int64), a.shape)
        realised = 1.0 - np.exp2(-k.astype(float))
        leak = LeakSpec("shift", k.copy(), 0)
    elif "dv" in extra:
        m = (1 << decay_bits) - np.broadcast_to(np.asarray(extra["dv"], np.int64), a.shape)
        realised = m / float(1 << decay_bits)
        leak = LeakSpec("mul", m.copy(), decay_bits)
    else:  # a hand-built canonical graph: read the decay off tau
        m = a * (1 << decay_bits)
        if not _close(m, np.rint(m)):
            return Diagnostic("SNN413", f"decay {a.flat[0]:.6g} is not m / 2^{decay_bits}",
                              node=name, hint="run discretize for the fpga target first")
        realised, leak = a, LeakSpec("mul", np.rint(m).astype(np.int64), decay_bits)
    if not _close(realised, a):
        return Diagnostic("SNN413", "the integer decay in quant.extra does not match tau", node=name,
                          hint="re-run discretize (tau must be the realised decay)")
    if _close(a, 1.0):
        return LeakSpec()  # no leak: no shifter, no multiplier
    return leak


def neuron_params(name: str, node: Neuron, dt: float | None, v_bits: int,
                  decay_bits: int = DEFAULT_DECAY_BITS) -> tuple[NeuronParams | None, list[Diagnostic]]:
    """The engine's neuron parameters and every reason the node cannot run on the engines.
    Parameters are None when nothing can be scaled to integers (then the layer's synapses
    are not checked either); a bad reset value still gives them, so the rest is checked."""
    problems: list[Diagnostic] = []
    if not isinstance(node, (LIF, IF, CubaLIF, LI, I)):
        return None, [Diagnostic("SNN412", f"{node.kind} neurons are not supported by the FPGA engines",
                                 node=name, hint="use LIF, IF, LI or I neurons")]
    if isinstance(node, CubaLIF):
        a_syn = 1.0 - dt / np.asarray(node.tau_syn, float)
        gain_syn = dt / np.asarray(node.tau_syn, float) * np.asarray(node.w_in, float)
        if not (_close(a_syn, 0.0) and _close(gain_syn, 1.0)):
            problems.append(Diagnostic(
                "SNN412", "CubaLIF with a persistent synaptic current: the engines keep one "
                "state per neuron", node=name, hint="use LIF (tau_syn = dt) for the FPGA target"))
    if isinstance(node, SpikingNeuron) and node.membrane_bn is not None:
        problems.append(Diagnostic("SNN412", "membrane batch norm is not folded", node=name,
                                   hint="run fold-mpbn first"))
    s = require_state_scale(name, node, "SNN413", "run discretize and quantize first", problems)
    a, gain = _decay(node, dt)
    leak_v = getattr(node, "v_leak", None)
    if not _close(gain, 1.0) or (leak_v is not None and not _close(np.asarray(leak_v, float), 0.0)):
        problems.append(Diagnostic("SNN413", "neuron is not in per-step canonical form (input gain"
                                   " 1, v_leak 0)", node=name, hint="run discretize first"))
    leak = _leak(name, node, a, decay_bits)
    if isinstance(leak, Diagnostic):
        problems.append(leak)
    if problems:
        return None, problems
    if not isinstance(node, SpikingNeuron):  # readout: never fires, keeps integrating
        never = np.full(node.size, C.int_range(v_bits)[1], np.int64)
        return NeuronParams(s, never, leak, "none", 0, ">", False), []
    reset_value = 0
    if node.reset is ResetMode.VALUE:
        values = integral(per_neuron(node.v_reset, node.shape).reshape(-1) / s)
        if values.dtype.kind == "f" or np.unique(values).size > 1:
            problems.append(Diagnostic("SNN412", "per-neuron or non-integer reset values: the engines "
                                       "hold one integer reset value per layer", node=name,
                                       hint="use one v_reset per layer (e.g. reset to zero)"))
        else:
            reset_value = int(values[0])
    threshold = integral(per_neuron(node.v_threshold, node.shape).reshape(-1) / s)
    return NeuronParams(s, threshold, leak, node.reset.value, reset_value,
                        node.comparator.value, True), problems
