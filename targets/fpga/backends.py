"""Backends of a compiled ``OUT/`` (see snncc.runtime.backend): ``golden`` (the integer
model of the lowered graph), ``fpga-sim`` (cycle simulator on OUT/fpga's config and images)
and ``rtl`` (the emitted Verilog under iverilog, in a scratch copy so OUT stays as written).

``golden`` re-lowers ``OUT/ir`` (once per :class:`Artifact`, shared by its backends, as its
graph is) and never reads the images, so agreement with ``fpga-sim`` and ``rtl`` checks the
emitter too. Spikes are aligned to the reference time index by each engine's
lag (0 for these same-step engines; ``raw`` keeps them unshifted). States are integer
membranes ``v`` (real value = v * state_scale). ``extra`` of the cycle-accurate backends:
``cycles`` [B, T] per step, ``engine_cycles`` {node: [B, T]}, and for fpga-sim the event
``counters`` {name: {node: [B, T]}} the energy estimate uses.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np

from snncc.diagnostics import SnnccError
from snncc.runtime.backend import Artifact, RunResult

from .golden import SimResult, check_input
from .lower import FpgaLowering, lower


def _lowering(artifact: Artifact) -> FpgaLowering:
    """The lowering of the artifact's graph, once per Artifact (a bench runs golden, fpga-sim
    and rtl on one)."""
    return artifact.cached("fpga.lowering", lambda: lower(artifact.graph, artifact.target.capabilities))


def _lowered(artifact: Artifact) -> FpgaLowering:
    """The lowering, checked against the emitted OUT/fpga (the cycle-accurate backends run that)."""
    lowered = _lowering(artifact)
    folder = Path(artifact.folder())
    if folder.is_dir():  # golden runs without the images; the others must match the graph
        from .emit import build_config, load_config

        if load_config(folder)["engines"] != build_config(lowered.spec)["engines"]:
            raise SnnccError.single("SNN504", "OUT/fpga does not match OUT/ir (edited or stale)",
                                    file=str(folder), hint="compile again")
    return lowered


def _flat_input(lowered: FpgaLowering, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    n_in = lowered.spec.n_in
    if x.ndim < 2 or int(np.prod(x.shape[2:])) != n_in:
        raise SnnccError.single("SNN407", f"input must be [B, T, ...] with {n_in} values per step, "
                                f"got {x.shape}")
    return check_input(x.reshape(*x.shape[:2], n_in), n_in)


def _padded(lowered: FpgaLowering, x: np.ndarray) -> np.ndarray:
    """Zero steps appended so a lagging engine still produces every reference step."""
    lag = max(b.lag for b in lowered.engines)
    return np.concatenate([x, np.zeros((x.shape[0], lag, x.shape[2]), x.dtype)], axis=1) if lag else x


def _result(name: str, lowered: FpgaLowering, x: np.ndarray, sim: SimResult,
            record_state: bool, extra: dict) -> RunResult:
    steps = x.shape[1]
    aligned_s = tuple(s[:, b.lag:b.lag + steps] for b, s in zip(lowered.engines, sim.spikes))
    aligned_v = tuple(v[:, b.lag:b.lag + steps] for b, v in zip(lowered.engines, sim.v))
    spiking = [i for i, b in enumerate(lowered.engines) if b.spiking]
    nodes = [b.node for b in lowered.engines]
    states = {n: {"v": v} for n, v in zip(nodes, aligned_v)} if record_state else {}
    return RunResult(
        name,
        spikes={nodes[i]: aligned_s[i] for i in spiking},
        output=lowered.readout(x, aligned_s, aligned_v),
        states=states,
        state_scale={n: b.state_scale for n, b in zip(nodes, lowered.engines)} if record_state else {},
        extra=extra,
        raw={nodes[i]: sim.spikes[i] for i in spiking},
    )


def _timing(lowered: FpgaLowering, sim: SimResult, steps: int) -> dict:
    nodes = [b.node for b in lowered.engines]
    out = {"cycles": sim.cycles[:, :steps],
           "engine_cycles": {n: sim.engine_cycles[:, :steps, i] for i, n in enumerate(nodes)},
           "cycles_per_step_mean": float(sim.cycles[:, :steps].mean())}
    if sim.counters is not None:
        out["counters"] = {k: {n: c[:, :steps, i] for i, n in enumerate(nodes)}
                           for k, c in sim.counters.items()}
    return out


def run_golden_backend(artifact: Artifact, x: np.ndarray, *, record_state: bool = False) -> RunResult:
    from .golden import run_golden

    lowered = _lowering(artifact)
    xs = _flat_input(lowered, x)
    return _result("golden", lowered, xs, run_golden(lowered.spec, _padded(lowered, xs)), record_state, {})


def run_fpga_sim(artifact: Artifact, x: np.ndarray, *, record_state: bool = False) -> RunResult:
    from .cycle_sim import run_cycle_sim

    lowered = _lowered(artifact)
    xs = _flat_input(lowered, x)
    sim = run_cycle_sim(artifact.folder(), _padded(lowered, xs))
    return _result("fpga-sim", lowered, xs, sim, record_state, _timing(lowered, sim, xs.shape[1]))


def run_rtl_backend(artifact: Artifact, x: np.ndarray, *, record_state: bool = False) -> RunResult:
    from .rtl import run_rtl

    lowered = _lowered(artifact)
    xs = _flat_input(lowered, x)
    with tempfile.TemporaryDirectory(prefix="snncc-rtl-") as scratch:
        work = Path(scratch) / "fpga"
        shutil.copytree(artifact.folder(), work)
        sim, _ = run_rtl(work, _padded(lowered, xs))
    return _result("rtl", lowered, xs, sim, record_state, _timing(lowered, sim, xs.shape[1]))
