"""snncc's bit-exact integer model of Lava's fixed-point LIF / Dense / DelayDense.

Mirrors lava-nc 0.10.0 ``PyLifModelBitAcc``, ``PyDenseModelBitAcc`` and
``PyDelayDenseModelBitAcc`` (see docs/loihi2-arithmetic.md), including Lava's int32
state and port widths (overflows wrap exactly as there), vectorised over a batch.

Time alignment (identical to :mod:`.lava_runner`): index ``i`` (0-based) is Lava time
step ``t = i + 1``. ``inputs[name][b, i]`` is what the source ``RingBuffer`` emits at
step ``i + 1``; ``spikes[pop][b, i]`` is what the LIF emits at step ``i + 1``. A
connection delivers spikes of index ``i`` to its destination at index ``i + 1``
(DelayDense with delay ``d``: ``i + d + 1``), so a first layer fed at index 0 can spike
at index 1 at the earliest.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snncc.diagnostics import Diagnostic, SnnccError
from snncc.targets.loihi2.netspec import Connection, LifPopulation, NetSpec
from snncc.targets.loihi2.synapse import Accumulator, shift, wrap_int32

__all__ = ["GoldenResult", "simulate", "lif_step", "effective_bias"]

UV_MAX = 2**23          # u, v are 24-bit signed
V_LIMIT = UV_MAX - 1    # v saturates at +-(2**23 - 1)
DECAY_UNITY = 4096      # decays are 12-bit fractions
ACT_SHIFT = 6           # synaptic input is MSB-aligned by 6 bits
VTH_SHIFT = 6           # threshold mantissa is MSB-aligned by 6 bits


@dataclass(frozen=True)
class GoldenResult:
    """Per population: ``spikes`` int8 ``[B, T, N]``; final ``u``, ``v`` int32 ``[B, N]``;
    ``u_trace``/``v_trace`` int32 ``[B, T, N]`` when requested (state after step i)."""

    spikes: dict[str, np.ndarray]
    u: dict[str, np.ndarray]
    v: dict[str, np.ndarray]
    u_trace: dict[str, np.ndarray] | None = None
    v_trace: dict[str, np.ndarray] | None = None


def effective_bias(pop: LifPopulation) -> np.ndarray:
    """``bias_mant << bias_exp`` (``>>`` for negative exponents), int32 like Lava."""
    mant = pop.bias_mant.astype(np.int32)
    exp = pop.bias_exp.astype(np.int32)
    return np.where(exp >= 0, np.left_shift(mant, np.maximum(exp, 0)),
                    np.right_shift(mant, np.maximum(-exp, 0))).astype(np.int32)


def _decay(x: np.ndarray, keep: int) -> np.ndarray:
    """``trunc0(x * keep / 4096)`` in int64, i.e. sign(p) * (|p| >> 12)."""
    p = x.astype(np.int64) * keep
    return ((p + ((p >> 63) & (DECAY_UNITY - 1))) >> 12).astype(np.int32)


def lif_step(u: np.ndarray, v: np.ndarray, a_in: np.ndarray, du: int, dv: int,
             bias: np.ndarray, vth: int) -> np.ndarray:
    """One ``PyLifModelBitAcc.run_spk`` on int32 ``u``, ``v`` (updated in place).

    Returns the bool spike array. ``a_in`` is the int32 sum received on ``a_in``.
    """
    cur = _decay(u, DECAY_UNITY - (du + 1))         # ds_offset = 1
    cur += np.left_shift(a_in, ACT_SHIFT)           # int32: wraps like Lava
    # 24-bit wrap, one conditional correction exactly as Lava (not a modulo)
    u[...] = np.where(cur > UV_MAX, cur - 2 * UV_MAX,
                      np.where(cur <= -UV_MAX, cur + 2 * UV_MAX, cur))
    volt = _decay(v, DECAY_UNITY - dv)              # dm_offset = 0
    volt += u
    volt += bias
    np.clip(volt, -V_LIMIT, V_LIMIT, out=v)
    spikes = v > (vth << VTH_SHIFT)                 # strict comparison
    v[spikes] = 0                                   # u is not reset
    return spikes


class _Link:
    """Run-time state of one connection: its accumulator and int32 output buffer."""

    def __init__(self, conn: Connection, batch: int):
        self.conn = conn
        self.delay_values = None if conn.delays is None else np.unique(conn.delays)
        self.acc = Accumulator.build(conn, self.delay_values)
        n_dst = conn.weights.shape[0]
        depth = 1 if conn.delays is None else int(conn.delays.max()) + 1
        self.ring = np.zeros((depth, batch, n_dst), np.int32)
        self.head = 0

    def output(self) -> np.ndarray:
        """What Lava's ``a_out.send`` emits this step (computed at the previous step)."""
        return self.ring[self.head]

    def advance(self, spikes: np.ndarray) -> None:
        """Accumulate this step's source spikes (bool ``[B, n_src]``)."""
        depth = self.ring.shape[0]
        self.ring[self.head] = 0
        self.head = (self.head + 1) % depth
        acc = self.acc(spikes)
        if acc is None:
            return
        acc = shift(acc, int(self.conn.weight_exp))
        if self.delay_values is None:
            self.ring[self.head] = wrap_int32(acc[:, 0])
            return
        for block, d in enumerate(self.delay_values):
            slot = (self.head + int(d)) % depth
            self.ring[slot] = wrap_int32(self.ring[slot] + acc[:, block])


def _check_inputs(spec: NetSpec, inputs: dict[str, np.ndarray]) -> tuple[int, int]:
    errors = []
    shapes = {}
    for port in spec.inputs:
        if port.name not in inputs:
            errors.append(("SNN501", f"no input data for port '{port.name}'", port.name))
            continue
        arr = np.asarray(inputs[port.name])
        if arr.ndim != 3 or arr.shape[2] != port.size:
            errors.append(("SNN501", f"input '{port.name}' must be [B, T, {port.size}], "
                           f"got {arr.shape}", port.name))
            continue
        shapes[port.name] = arr.shape[:2]
    if len(set(shapes.values())) > 1:
        errors.append(("SNN501", f"inputs disagree on [B, T]: {shapes}", None))
    if errors:
        raise SnnccError(Diagnostic(code, msg, node=node, hint="pass binary spikes [B, T, n]")
                         for code, msg, node in errors)
    return next(iter(shapes.values())) if shapes else (1, 0)


def simulate(spec: NetSpec, inputs: dict[str, np.ndarray], steps: int | None = None,
             record_uv: bool = False, check: bool = True) -> GoldenResult:
    """Run ``spec`` on binary inputs ``{port: [B, T, n]}`` for ``T`` (or ``steps``) steps.

    Any nonzero input counts as a spike (Lava's Dense casts ``s_in`` to bool).
    """
    if check:
        spec.check()
    batch, t_in = _check_inputs(spec, inputs)
    steps = t_in if steps is None else steps
    if steps > t_in and spec.inputs:
        raise SnnccError.single("SNN501", f"steps={steps} exceeds the input length {t_in}")
    src_spikes = {p.name: np.asarray(inputs[p.name]) != 0 for p in spec.inputs}
    links = [_Link(c, batch) for c in spec.connections]
    incoming = {p.name: [lk for lk in links if lk.conn.dst == p.name] for p in spec.populations}
    state = {p.name: (np.zeros((batch, p.size), np.int32), np.zeros((batch, p.size), np.int32),
                      effective_bias(p)) for p in spec.populations}
    out = {p.name: np.zeros((batch, steps, p.size), np.int8) for p in spec.populations}
    u_tr = {p.name: np.zeros((batch, steps, p.size), np.int32) for p in spec.populations} \
        if record_uv else None
    v_tr = {p.name: np.zeros((batch, steps, p.size), np.int32) for p in spec.populations} \
        if record_uv else None

    for i in range(steps):
        now: dict[str, np.ndarray] = {}
        for pop in spec.populations:
            u, v, bias = state[pop.name]
            a_in = np.zeros((batch, pop.size), np.int32)
            for lk in incoming[pop.name]:
                a_in += lk.output()                 # int32 sum, as InPort.recv
            fired = lif_step(u, v, a_in, int(pop.du), int(pop.dv), bias, int(pop.vth))
            out[pop.name][:, i] = fired
            now[pop.name] = fired
            if record_uv:
                u_tr[pop.name][:, i] = u
                v_tr[pop.name][:, i] = v
        for lk in links:
            src = now.get(lk.conn.src)
            lk.advance(src if src is not None else src_spikes[lk.conn.src][:, i])
    return GoldenResult(out, {k: s[0] for k, s in state.items()},
                        {k: s[1] for k, s in state.items()}, u_tr, v_tr)
