"""Cycle-level simulator of the emitted design: reads the same config.json and .hex
images as the RTL and steps each engine's FSM (accumulate chunks, update groups),
counting clock edges exactly as the testbench does (see verilog_gen docstring):

  engine cycles  = NF * (ceil(active / SIMD) + 1) + 1         (RUN edges + FIN edge)
  active         = active inputs + own spikes of the previous step (recurrent engines)
  step cycles    = 1 + sum over engines                        (+1: edge sampling start)
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from snncc.diagnostics import SnnccError

from . import contract as C
from .emit import load_config
from .golden import SimResult, check_input
from .memimage import load_memory

COUNTER_NAMES = ("sops", "weight_reads", "neuron_updates", "spikes_out")


@dataclass(frozen=True, eq=False)
class EngineImage:
    cfg: dict
    w: np.ndarray  # [NF * N_in, PE]
    t: np.ndarray  # [NF, PE]
    b: np.ndarray
    l: np.ndarray

    @classmethod
    def load(cls, fpga_dir: Path, cfg: dict) -> "EngineImage":
        m = {k: load_memory(fpga_dir, mem) for k, mem in cfg["memories"].items()}
        return cls(cfg, m["w"], m["t"], m["b"], m["l"])

    def step(self, v: np.ndarray, queue: list[int]) -> tuple[np.ndarray, list[int], int]:
        """One time step of the engine: (new v [NF, PE], output event queue, cycles).
        Per step the engine performs len(queue) * N_out synaptic operations, reads
        NF * len(queue) PE-wide weight words and updates all N_out neurons."""
        e = self.cfg
        nf, pe, simd, cols = e["nf"], e["pe"], e["simd"], e["n_in"] + e["n_rec"]
        lo, hi = C.int_range(e["acc_bits"])
        q = np.asarray(queue, dtype=np.int64)
        nch = -(-len(q) // simd)
        cycles, out_q, v_new = 0, [], np.empty_like(v)
        for g in range(nf):
            acc = np.zeros(pe, dtype=np.int64)
            for c in range(nch):  # one accumulate cycle: SIMD synapses for all PE lanes
                acc = acc + self.w[g * cols + q[c * simd:(c + 1) * simd]].sum(axis=0)
                if (acc < lo).any() or (acc > hi).any():
                    raise SnnccError.single("SNN405", f"accumulator overflow in {e['name']}")
            cycles += nch
            v_new[g], spk = C.neuron_update(
                v[g], acc, self.b[g], self.t[g], e["leak"], self.l[g], e["frac_bits"],
                e["reset"], e["reset_value"], e["comparator"], e["v_bits"])
            cycles += 1  # update cycle: write v, push the group's spikes downstream
            out_q += [g * pe + p for p in range(pe) if spk[p]]
        return v_new, out_q, cycles + 1  # + FIN cycle


def run_cycle_sim(fpga_dir: str | Path, spikes_in: np.ndarray) -> SimResult:
    fpga_dir = Path(fpga_dir)
    cfg = load_config(fpga_dir)
    engines = [EngineImage.load(fpga_dir, e) for e in cfg["engines"]]
    x = check_input(spikes_in, cfg["n_in"])
    nb, nt, _ = x.shape
    spikes = [np.zeros((nb, nt, e.cfg["n_out"]), np.uint8) for e in engines]
    vs = [np.zeros((nb, nt, e.cfg["n_out"]), np.int64) for e in engines]
    eng_cyc = np.zeros((nb, nt, len(engines)), np.int64)
    counters = {k: np.zeros((nb, nt, len(engines)), np.int64) for k in COUNTER_NAMES}
    for b in range(nb):
        state = [np.zeros((e.cfg["nf"], e.cfg["pe"]), np.int64) for e in engines]
        own: list[list[int]] = [[] for _ in engines]  # previous step's spikes per engine
        for t in range(nt):
            queue = np.flatnonzero(x[b, t]).tolist()
            for i, e in enumerate(engines):
                if e.cfg["n_rec"]:  # own spikes of t - 1 follow the inputs in the queue
                    queue = queue + [e.cfg["n_in"] + j for j in own[i]]
                n_active = len(queue)
                state[i], queue, eng_cyc[b, t, i] = e.step(state[i], queue)
                own[i] = queue
                counters["sops"][b, t, i] = n_active * e.cfg["n_out"]
                counters["weight_reads"][b, t, i] = n_active * e.cfg["nf"]
                counters["neuron_updates"][b, t, i] = e.cfg["n_out"]
                counters["spikes_out"][b, t, i] = len(queue)
                spikes[i][b, t, queue] = 1
                vs[i][b, t] = state[i].reshape(-1)
    return SimResult(tuple(spikes), tuple(vs), 1 + eng_cyc.sum(axis=2), eng_cyc, counters)
