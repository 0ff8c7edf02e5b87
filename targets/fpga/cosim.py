"""One call for the whole verification ladder: golden -> cycle simulator -> iverilog RTL,
compared spike for spike, state for state and cycle for cycle."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .cycle_sim import run_cycle_sim
from .emit import emit
from .golden import SimResult, run_golden
from .netspec import NetSpec
from .rtl import run_rtl


@dataclass(frozen=True, eq=False)
class CoSimReport:
    layers: tuple[str, ...]
    #: per layer, number of differing (b, t, neuron) entries against the golden model
    sim_spike_mismatches: tuple[int, ...]
    sim_state_mismatches: tuple[int, ...]
    rtl_spike_mismatches: tuple[int, ...] | None
    rtl_state_mismatches: tuple[int, ...] | None
    rtl_cycles_equal: bool | None  # RTL measured cycles == cycle simulator prediction
    tb_mismatches: int | None      # the testbench's own comparison
    golden: SimResult
    cycle_sim: SimResult
    rtl: SimResult | None
    seconds: dict[str, float]

    @property
    def ok(self) -> bool:
        sim_ok = not any(self.sim_spike_mismatches) and not any(self.sim_state_mismatches)
        if self.rtl is None:
            return sim_ok
        return (sim_ok and not any(self.rtl_spike_mismatches or ())
                and not any(self.rtl_state_mismatches or ())
                and bool(self.rtl_cycles_equal) and self.tb_mismatches == 0)


def _diff(a: SimResult, b: SimResult) -> tuple[tuple[int, ...], tuple[int, ...]]:
    return (tuple(int((x != y).sum()) for x, y in zip(a.spikes, b.spikes)),
            tuple(int((x != y).sum()) for x, y in zip(a.v, b.v)))


def cosimulate(spec: NetSpec, spikes_in: np.ndarray, out_dir: str | Path,
               rtl: bool = True) -> CoSimReport:
    """Emit into ``out_dir``/fpga and run all backends on ``spikes_in`` [B, T, n_in]."""
    secs = {}
    t0 = time.perf_counter()
    gold = run_golden(spec, spikes_in)
    secs["golden"] = time.perf_counter() - t0
    fpga = emit(spec, out_dir)
    t0 = time.perf_counter()
    sim = run_cycle_sim(fpga, spikes_in)
    secs["cycle_sim"] = time.perf_counter() - t0
    s_sp, s_v = _diff(sim, gold)
    r = r_sp = r_v = cyc_eq = tb = None
    if rtl:
        t0 = time.perf_counter()
        r, tb = run_rtl(fpga, spikes_in, expected=sim)
        secs["rtl"] = time.perf_counter() - t0
        r_sp, r_v = _diff(r, gold)
        cyc_eq = bool(np.array_equal(r.cycles, sim.cycles)
                      and np.array_equal(r.engine_cycles, sim.engine_cycles))
    return CoSimReport(tuple(l.name for l in spec.layers), s_sp, s_v, r_sp, r_v, cyc_eq, tb,
                       gold, sim, r, secs)
