"""Cycle-level simulator of the emitted design: reads the same config.json and .hex
images as the RTL and steps each engine's FSM (accumulate chunks, update groups),
counting clock edges exactly as the testbench does (see verilog_gen docstring):

  engine cycles  = NF * (ceil(active / SIMD) + 1) + 1         (RUN edges + FIN edge)
  active         = active inputs + own spikes of the previous step (recurrent engines)
  conv engine    = active * (Cout / PE) * kh * kw + (Cout / PE) * HO * WO + 1
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
from .memimage import load_memory, slot_neurons

COUNTER_NAMES = ("sops", "weight_reads", "neuron_updates", "spikes_out")


@dataclass(frozen=True)
class StepOut:
    v: np.ndarray          # new state [slots, PE]
    spikes: list[int]      # output events (neuron indices) in push order
    cycles: int
    sops: int              # synaptic operations (weight additions per lane)
    weight_reads: int      # PE-wide weight words read


@dataclass(frozen=True, eq=False)
class EngineImage:
    """A dense (neurocore) engine: weights [NF * N_cols, PE], thresholds etc. [NF, PE]."""

    cfg: dict
    w: np.ndarray
    t: np.ndarray
    b: np.ndarray
    l: np.ndarray

    @classmethod
    def load(cls, fpga_dir: Path, cfg: dict) -> "EngineImage":
        m = {k: load_memory(fpga_dir, mem) for k, mem in cfg["memories"].items()}
        kind = ConvEngineImage if cfg.get("engine") == "conv" else cls
        return kind(cfg, m["w"], m["t"], m["b"], m["l"])

    def _update(self, v: np.ndarray, acc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        e = self.cfg
        return C.neuron_update(v, acc, self.b, self.t, e["leak"], self.l,
                               e["frac_bits"], e["reset"], e["reset_value"], e["comparator"],
                               e["v_bits"])

    def _check_acc(self, acc: np.ndarray) -> None:
        lo, hi = C.int_range(self.cfg["acc_bits"])
        if (acc < lo).any() or (acc > hi).any():
            raise SnnccError.single("SNN405", f"accumulator overflow in {self.cfg['name']}")

    def step(self, v: np.ndarray, queue: list[int]) -> StepOut:
        """One time step: per group, ceil(active / SIMD) accumulate cycles + 1 update.
        All groups are computed at once; the accumulator after every cycle of every
        group is still checked (the groups are independent, so the order is immaterial)."""
        e = self.cfg
        nf, pe, simd, cols = e["nf"], e["pe"], e["simd"], e["n_in"] + e["n_rec"]
        q = np.asarray(queue, dtype=np.int64)
        nch = -(-len(q) // simd)
        acc = np.zeros((nf, pe), dtype=np.int64)
        if nch:  # chunk c of group g: SIMD queue entries (zero-padded past the end)
            words = self.w.reshape(nf, cols, pe)[:, q, :]
            padded = np.zeros((nf, nch * simd, pe), dtype=np.int64)
            padded[:, :len(q)] = words
            partial = padded.reshape(nf, nch, simd, pe).sum(axis=2).cumsum(axis=1)
            self._check_acc(partial)
            acc = partial[:, -1]
        v_new, spk = self._update(v, acc)
        out_q = np.flatnonzero(spk.reshape(-1)).tolist()  # group-major, lane order: g * PE + p
        cycles = nf * (nch + 1)  # per group: accumulate cycles + 1 update cycle
        return StepOut(v_new, out_q, cycles + 1, len(q) * e["n_out"], len(q) * nf)


@dataclass(frozen=True, eq=False)
class ConvEngineImage(EngineImage):
    """A conv (convcore) engine: kernel words [NFC * Cin * kh * kw, PE] and slot-ordered
    neuron memories [NFC * HO * WO, PE] (see memimage.slot_neurons)."""

    def _targets(self, idx: int) -> tuple[np.ndarray, np.ndarray]:
        """(slot, kernel word) pairs one input event touches, in RTL visiting order."""
        e = self.cfg
        (cin, h, w), (kh, kw) = e["conv"]["in_shape"], e["conv"]["kernel"]
        (sh, sw), (ph, pw) = e["conv"]["stride"], e["conv"]["padding"]
        cout, ho, wo = e["out_shape"]
        ci, rem = divmod(idx, h * w)
        y, x = divmod(rem, w)
        slots, words = [], []
        for fc in range(cout // e["pe"]):
            for k in range(kh * kw):
                ty, tx = y + ph - k // kw, x + pw - k % kw
                if ty >= 0 and tx >= 0 and ty % sh == 0 and tx % sw == 0 \
                        and ty // sh < ho and tx // sw < wo:
                    slots.append(fc * ho * wo + (ty // sh) * wo + tx // sw)
                    words.append((fc * cin + ci) * kh * kw + k)
        return np.array(slots, dtype=np.int64), np.array(words, dtype=np.int64)

    def step(self, v: np.ndarray, queue: list[int]) -> StepOut:
        """One cycle per (event, channel group, kernel offset), then 1 per slot."""
        e = self.cfg
        cout, ho, wo = e["out_shape"]
        pe, npos = e["pe"], ho * wo
        kh, kw = e["conv"]["kernel"]
        acc = np.zeros_like(v)
        sops = 0
        for idx in queue:
            slots, words = self._targets(idx)
            np.add.at(acc, slots, self.w[words])
            sops += len(slots) * pe
        self._check_acc(acc)
        v_new, spk = self._update(v, acc)
        out_q = [(g // npos * pe + p) * npos + g % npos for g, p in zip(*np.nonzero(spk))]
        acc_cycles = len(queue) * (cout // pe) * kh * kw
        return StepOut(v_new, out_q, acc_cycles + e["nf"] + 1, sops, acc_cycles)


def run_cycle_sim(fpga_dir: str | Path, spikes_in: np.ndarray) -> SimResult:
    fpga_dir = Path(fpga_dir)
    cfg = load_config(fpga_dir)
    engines = [EngineImage.load(fpga_dir, e) for e in cfg["engines"]]
    x = check_input(spikes_in, cfg["n_in"])
    nb, nt, _ = x.shape
    spikes = [np.zeros((nb, nt, e.cfg["n_out"]), np.uint8) for e in engines]
    vs = [np.zeros((nb, nt, e.cfg["n_out"]), np.int64) for e in engines]
    orders = [slot_neurons(e.cfg) for e in engines]  # state slot -> neuron index
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
                out = e.step(state[i], queue)
                state[i], queue, own[i] = out.v, out.spikes, out.spikes
                eng_cyc[b, t, i] = out.cycles
                counters["sops"][b, t, i] = out.sops
                counters["weight_reads"][b, t, i] = out.weight_reads
                counters["neuron_updates"][b, t, i] = e.cfg["n_out"]
                counters["spikes_out"][b, t, i] = len(queue)
                spikes[i][b, t, queue] = 1
                vs[i][b, t, orders[i]] = state[i].reshape(-1)
    return SimResult(tuple(spikes), tuple(vs), 1 + eng_cyc.sum(axis=2), eng_cyc, counters)
