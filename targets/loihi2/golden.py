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

import weakref
from dataclasses import dataclass

import numpy as np

from snncc.diagnostics import Diagnostic, SnnccError
from snncc.targets.loihi2.lif import LifState
from snncc.targets.loihi2.links import CHUNK_ELEMS, Link
from snncc.targets.loihi2.netspec import NetSpec
from snncc.targets.loihi2.synapse import Accumulator, matmul_threads

__all__ = ["GoldenResult", "simulate", "prepare"]


@dataclass(frozen=True)
class GoldenResult:
    """Per population: ``spikes`` int8 ``[B, T, N]``; final ``u``, ``v`` int32 ``[B, N]``;
    ``u_trace``/``v_trace`` int32 ``[B, T, N]`` when requested (state after step i)."""

    spikes: dict[str, np.ndarray]
    u: dict[str, np.ndarray]
    v: dict[str, np.ndarray]
    u_trace: dict[str, np.ndarray] | None = None
    v_trace: dict[str, np.ndarray] | None = None


def _check_inputs(spec: NetSpec, inputs: dict[str, np.ndarray]) -> tuple[int, int]:
    errors = []
    shapes = {}
    for port in spec.inputs:
        if port.name not in inputs:
            errors.append(("SNN510", f"no input data for port '{port.name}'", port.name))
            continue
        arr = np.asarray(inputs[port.name])
        if arr.ndim != 3 or arr.shape[2] != port.size:
            errors.append(("SNN510", f"input '{port.name}' must be [B, T, {port.size}], "
                           f"got {arr.shape}", port.name))
            continue
        shapes[port.name] = arr.shape[:2]
    if len(set(shapes.values())) > 1:
        errors.append(("SNN510", f"inputs disagree on [B, T]: {shapes}", None))
    if errors:
        raise SnnccError(Diagnostic(code, msg, node=node, hint="pass binary spikes [B, T, n]")
                         for code, msg, node in errors)
    return next(iter(shapes.values())) if shapes else (1, 0)


# Quantised int8 weight layouts per spec, built once (the analogue of Lava's compile).
_PREPARED: "weakref.WeakKeyDictionary[NetSpec, list[Accumulator]]" = weakref.WeakKeyDictionary()


def prepare(spec: NetSpec) -> list[Accumulator]:
    """Build (or fetch) the accumulators of ``spec``; :func:`simulate` calls it."""
    accs = _PREPARED.get(spec)
    if accs is None:
        accs = [Accumulator.build(c) for c in spec.connections]
        _PREPARED[spec] = accs
    return accs


def simulate(spec: NetSpec, inputs: dict[str, np.ndarray], steps: int | None = None,
             record_uv: bool = False, check: bool = True, threads: int | None = 1,
             chunk_elems: int = CHUNK_ELEMS, bias_start: dict[str, int] | None = None
             ) -> GoldenResult:
    """Run ``spec`` on binary inputs ``{port: [B, T, n]}`` for ``T`` (or ``steps``) steps.

    Any nonzero input counts as a spike (Lava's Dense casts ``s_in`` to bool).
    ``threads``: torch threads for batched accumulation (None keeps torch's setting);
    ``chunk_elems``: memory bound for accumulating input-port connections over several
    steps at once. Results never depend on either. ``bias_start[pop] = k``: the
    population's bias is 0 and its ``v`` 0 (not ``v_init``) before index ``k``; at ``k``
    the bias switches on and ``v`` becomes ``v_init`` (as when Lava's ``bias_mant`` and
    ``v`` are set after ``k`` steps; the lowering uses it so a lagging layer starts with
    the reference; nothing reaches it before then).
    """
    if check:
        spec.check()
    batch, t_in = _check_inputs(spec, inputs)
    steps = t_in if steps is None else steps
    if steps > t_in and spec.inputs:
        raise SnnccError.single("SNN510", f"steps={steps} exceeds the input length {t_in}")
    src_spikes = {p.name: np.asarray(inputs[p.name]) != 0 for p in spec.inputs}
    links = [Link(c, acc, batch, src_spikes.get(c.src), chunk_elems)
             for c, acc in zip(spec.connections, prepare(spec))]
    incoming = {p.name: [lk for lk in links if lk.conn.dst == p.name] for p in spec.populations}
    later = {name: k for name, k in (bias_start or {}).items() if k > 0}
    states = {p.name: LifState(p, batch, started=p.name not in later) for p in spec.populations}
    out = {p.name: np.zeros((batch, steps, p.size), np.int8) for p in spec.populations}
    u_tr = {p.name: np.zeros((batch, steps, p.size), np.int32) for p in spec.populations} \
        if record_uv else None
    v_tr = {p.name: np.zeros((batch, steps, p.size), np.int32) for p in spec.populations} \
        if record_uv else None
    plan = [(p.name, states[p.name], incoming[p.name], out[p.name]) for p in spec.populations]
    feeds = [(lk, lk.conn.src) for lk in links]
    biases = {name: states[name].bias for name in later}
    for name in later:
        states[name].bias = None
    with matmul_threads(threads):
        done = 0
        for k in sorted(set(later.values()) | {steps}):
            _run_steps(range(done, min(k, steps)), plan, feeds, u_tr, v_tr)
            done = max(done, min(k, steps))
            for name, start in later.items():
                if start == k and k < steps:
                    states[name].start(biases[name])
    return GoldenResult(out, {k: st.u for k, st in states.items()},
                        {k: st.v for k, st in states.items()}, u_tr, v_tr)


def _run_steps(indices: range, plan: list, feeds: list, u_tr: dict | None,
               v_tr: dict | None) -> None:
    for i in indices:
        now: dict[str, np.ndarray] = {}
        for name, st, inc, spikes_out in plan:
            fired = st.step([lk.output() for lk in inc])
            spikes_out[:, i] = fired
            now[name] = fired
            if u_tr is not None:
                u_tr[name][:, i] = st.u
                v_tr[name][:, i] = st.v
        for lk, src in feeds:
            lk.advance(i, now.get(src))
