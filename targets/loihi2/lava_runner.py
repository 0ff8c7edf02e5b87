"""Build and run the real Lava process graph of a :class:`NetSpec` (fixed_pt CPU models).

Processes: each input port is a source ``lava.proc.io.source.RingBuffer`` (data
``(n, T)``), each population a ``LIF`` (du, dv, vth, bias_mant, bias_exp, initial v) whose
``s_out`` also feeds a sink ``lava.proc.io.sink.RingBuffer``, each connection a
``Dense`` / ``DelayDense`` or, if ``sparse``, a ``Sparse`` / ``DelaySparse``
(num_weight_bits, weight_exp, sign_mode); recurrent
connections are ordinary connections back into an earlier or the same LIF.
Run with ``Loihi2SimCfg(select_tag='fixed_pt')`` for ``T`` steps.

Time alignment with :mod:`.golden`: the source emits column ``(t - 1) mod T`` at step
``t`` and the sink stores what it receives at step ``t`` in column ``(t - 1) mod T``;
with exactly ``T`` steps, index ``i`` on both sides is step ``t = i + 1``. Final
``u``/``v`` come from ``Var.get()`` after the run. Batch entries run one at a time.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from snncc.diagnostics import SnnccError
from snncc.targets.loihi2.golden import GoldenResult
from snncc.targets.loihi2.lava_compat import apply as apply_lava_compat
from snncc.targets.loihi2.netspec import NetSpec

__all__ = ["run_lava", "run_lava_single", "build_lava", "LavaNetwork", "components"]

_SIGN_MODES = {"mixed": "MIXED", "excitatory": "EXCITATORY", "inhibitory": "INHIBITORY"}


def components(spec: NetSpec) -> list[set[str]]:
    """Weakly connected groups of input / population names (Lava runs one per call)."""
    parent = {x.name: x.name for x in (*spec.inputs, *spec.populations)}

    def find(a: str) -> str:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for c in spec.connections:
        parent[find(c.src)] = find(c.dst)
    groups: dict[str, set[str]] = {}
    for name in parent:
        groups.setdefault(find(name), set()).add(name)
    return [g for g in groups.values() if any(p.name in g for p in spec.populations)]


@dataclass
class LavaNetwork:
    """The Lava processes of (one component of) a spec, connected and ready to run."""

    sources: dict[str, Any] = field(default_factory=dict)      # input name -> RingBuffer
    lifs: dict[str, Any] = field(default_factory=dict)         # population -> LIF
    sinks: dict[str, Any] = field(default_factory=dict)        # population -> RingBuffer
    connections: dict[str, Any] = field(default_factory=dict)  # connection -> Dense/...


def build_lava(spec: NetSpec, data: dict[str, np.ndarray], steps: int,
               names: set[str] | None = None) -> LavaNetwork:
    """Create and connect the Lava processes (inputs ``data[name]``: ``[T, n]``).

    ``names`` restricts the build to one component (see :func:`components`).
    """
    apply_lava_compat()
    from lava.proc.dense.process import DelayDense, Dense
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source
    from lava.proc.lif.process import LIF
    from lava.proc.sparse.process import DelaySparse, Sparse
    from lava.utils.weightutils import SignMode
    from scipy.sparse import csr_matrix

    if names is None:
        names = {x.name for x in (*spec.inputs, *spec.populations)}
    net = LavaNetwork()
    out_ports = {}
    for port in spec.inputs:
        if port.name in names:
            # RingBuffer data is (n, T), int32 on the fixed_pt model
            src = Source(data=np.ascontiguousarray(data[port.name][:steps].T, dtype=np.int32))
            net.sources[port.name] = src
            out_ports[port.name] = src.s_out
    for pop in spec.populations:
        if pop.name not in names:
            continue
        lif = LIF(shape=(pop.size,), du=int(pop.du), dv=int(pop.dv), vth=int(pop.vth),
                  bias_mant=np.asarray(pop.bias_mant, np.int64),
                  bias_exp=np.asarray(pop.bias_exp, np.int64),
                  v=np.asarray(pop.v_init, np.int64), name=pop.name)
        sink = Sink(shape=(pop.size,), buffer=steps)
        lif.s_out.connect(sink.a_in)
        net.lifs[pop.name], net.sinks[pop.name] = lif, sink
        out_ports[pop.name] = lif.s_out
    for conn in spec.connections:
        if conn.dst not in names:
            continue
        kwargs = dict(weights=np.asarray(conn.weights, np.int64),
                      num_weight_bits=int(conn.num_weight_bits),
                      weight_exp=int(conn.weight_exp), name=conn.name)
        if conn.sign_mode is not None:
            kwargs["sign_mode"] = getattr(SignMode, _SIGN_MODES[conn.sign_mode])
        delays = None if conn.delays is None else np.asarray(conn.delays, np.int64)
        if conn.sparse:
            kwargs["weights"] = csr_matrix(kwargs["weights"])
            proc = Sparse(**kwargs) if delays is None else \
                DelaySparse(delays=csr_matrix(delays), **kwargs)
        else:
            proc = Dense(**kwargs) if delays is None else DelayDense(delays=delays, **kwargs)
        out_ports[conn.src].connect(proc.s_in)
        proc.a_out.connect(net.lifs[conn.dst].a_in)
        net.connections[conn.name] = proc
    return net


def _run_component(spec: NetSpec, names: set[str], data: dict[str, np.ndarray], steps: int,
                   warmup_steps: int = 0, timing: dict[str, float] | None = None
                   ) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg

    net = build_lava(spec, data, steps, names)
    first = next(iter(net.lifs.values()))
    cfg = Loihi2SimCfg(select_tag="fixed_pt")
    try:
        # A warm-up run (compile + first steps) lets callers time steady-state steps.
        t0 = time.perf_counter()
        if warmup_steps:
            first.run(condition=RunSteps(num_steps=warmup_steps), run_cfg=cfg)
        t1 = time.perf_counter()
        if steps > warmup_steps:
            first.run(condition=RunSteps(num_steps=steps - warmup_steps), run_cfg=cfg)
        t2 = time.perf_counter()
        if timing is not None:
            timing["warmup_s"] = timing.get("warmup_s", 0.0) + t1 - t0
            timing["run_s"] = timing.get("run_s", 0.0) + t2 - t1
        result = {
            name: (np.asarray(net.sinks[name].data.get()).T.astype(np.int8),
                   np.asarray(lif.u.get()).astype(np.int32),
                   np.asarray(lif.v.get()).astype(np.int32))
            for name, lif in net.lifs.items()
        }
    finally:
        first.stop()
    return result


def run_lava_single(spec: NetSpec, inputs: dict[str, np.ndarray], steps: int | None = None,
                    warmup_steps: int = 0, timing: dict[str, float] | None = None
                    ) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """One sample: ``inputs[name]`` is ``[T, n]``. Returns ``{pop: (spikes [T, N], u, v)}``.

    With ``warmup_steps`` > 0 the first steps run as a separate ``run`` call (which also
    compiles), and ``timing`` receives ``warmup_s`` and ``run_s`` (the remaining steps).
    """
    apply_lava_compat()
    lengths = {np.asarray(a).shape[0] for a in inputs.values()}
    if steps is None:
        if len(lengths) != 1:
            raise SnnccError.single("SNN510", "give `steps` when there are no inputs "
                                    "or they differ in length")
        steps = lengths.pop()
    if any(n < steps for n in lengths):
        raise SnnccError.single("SNN510", f"steps={steps} exceeds an input length {lengths}")
    result: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for group in components(spec):
        result.update(_run_component(spec, group, inputs, steps, warmup_steps, timing))
    return result


def run_lava(spec: NetSpec, inputs: dict[str, np.ndarray], steps: int | None = None,
             check: bool = True) -> GoldenResult:
    """Same contract as :func:`snncc.targets.loihi2.golden.simulate` (``[B, T, n]`` in)."""
    if check:
        spec.check()
    arrays = {k: np.asarray(v) for k, v in inputs.items()}
    batch = next(iter(arrays.values())).shape[0] if arrays else 1
    runs = [run_lava_single(spec, {k: a[b] for k, a in arrays.items()}, steps)
            for b in range(batch)]
    names = [p.name for p in spec.populations]
    return GoldenResult(
        spikes={n: np.stack([r[n][0] for r in runs]) for n in names},
        u={n: np.stack([r[n][1] for r in runs]) for n in names},
        v={n: np.stack([r[n][2] for r in runs]) for n in names},
    )
