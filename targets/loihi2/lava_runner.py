"""Run the real Lava process graph of a :class:`NetSpec` (fixed_pt CPU models).

The processes are built by the generated module's own ``build`` (:mod:`.network_template`,
copied verbatim into every artifact as network.py) from the spec in network.json /
params.npz form (:func:`.emit.spec_files`), so the comparisons with :mod:`.golden` test
the code every artifact runs. Processes: each input port is a source
``lava.proc.io.source.RingBuffer`` (data ``(n, T)``), each population a ``LIF`` (du, dv,
vth, bias_mant, bias_exp, initial v) whose ``s_out`` also feeds a sink
``lava.proc.io.sink.RingBuffer``, each connection a ``Dense`` / ``DelayDense`` or, if
``sparse``, a ``Sparse`` / ``DelaySparse`` (num_weight_bits, weight_exp, sign_mode);
recurrent connections are ordinary connections back into an earlier or the same LIF.
Run with ``Loihi2SimCfg(select_tag='fixed_pt')`` for ``T`` steps.

Time alignment with :mod:`.golden`: the source emits column ``(t - 1) mod T`` at step
``t`` and the sink stores what it receives at step ``t`` in column ``(t - 1) mod T``;
with exactly ``T`` steps, index ``i`` on both sides is step ``t = i + 1``. Final
``u``/``v`` come from ``Var.get()`` after the run. Batch entries run one at a time.
"""
from __future__ import annotations

import time
from types import ModuleType

import numpy as np

from snncc.diagnostics import SnnccError
from snncc.targets.loihi2 import network_template
from snncc.targets.loihi2.emit import spec_files
from snncc.targets.loihi2.golden import GoldenResult
from snncc.targets.loihi2.lava_compat import apply as apply_lava_compat
from snncc.targets.loihi2.netspec import NetSpec

__all__ = ["run_lava", "run_lava_single", "run_files", "as_result"]

Run = dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]


def run_files(meta: dict, arrays: dict[str, np.ndarray], inputs: dict[str, np.ndarray], steps: int,
              warmup_steps: int = 0, timing: dict[str, float] | None = None,
              module: ModuleType = network_template) -> Run:
    """One sample of a network in network.json / params.npz form (``inputs[name]``: ``[T, n]``),
    built by ``module.build`` (an emitted network.py, or the template). Returns
    ``{process: (spikes [T, N], u, v)}``; ``warmup_steps``, ``timing``: see :func:`run_lava_single`."""
    result: Run = {}
    for names in meta["components"]:
        result.update(_run_component(module.build(meta, arrays, inputs, steps, names), steps,
                                     warmup_steps, timing))
    return result


def _run_component(net: dict, steps: int, warmup_steps: int, timing: dict[str, float] | None) -> Run:
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg

    first = next(iter(net["lifs"].values()))
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
            name: (np.asarray(net["sinks"][name].data.get()).T.astype(np.int8),
                   np.asarray(lif.u.get()).astype(np.int32),
                   np.asarray(lif.v.get()).astype(np.int32))
            for name, lif in net["lifs"].items()
        }
    finally:
        first.stop()
    return result


def run_lava_single(spec: NetSpec, inputs: dict[str, np.ndarray], steps: int | None = None,
                    warmup_steps: int = 0, timing: dict[str, float] | None = None) -> Run:
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
    meta, arrays = spec_files(spec)
    return run_files(meta, arrays, inputs, steps, warmup_steps, timing)


def run_lava(spec: NetSpec, inputs: dict[str, np.ndarray], steps: int | None = None,
             check: bool = True) -> GoldenResult:
    """Same contract as :func:`snncc.targets.loihi2.golden.simulate` (``[B, T, n]`` in)."""
    if check:
        spec.check()
    arrays = {k: np.asarray(v) for k, v in inputs.items()}
    batch = next(iter(arrays.values())).shape[0] if arrays else 1
    runs = [run_lava_single(spec, {k: a[b] for k, a in arrays.items()}, steps)
            for b in range(batch)]
    return as_result(runs, [p.name for p in spec.populations])


def as_result(runs: list[Run], names: list[str] | None = None) -> GoldenResult:
    """Single-sample runs (:func:`run_files`, :func:`run_lava_single`) stacked as one batch
    ``[B, ...]`` per population (``names``; default the first run's)."""
    names = list(runs[0]) if names is None else names
    return GoldenResult(
        spikes={n: np.stack([r[n][0] for r in runs]) for n in names},
        u={n: np.stack([r[n][1] for r in runs]) for n in names},
        v={n: np.stack([r[n][2] for r in runs]) for n in names},
    )
