"""Closed-form resource estimates per engine, after the FINN-R analytic models
(Blott et al. 2018; fpga.md §2.3), adapted to the event-driven neurocore:

- activations are 1-bit spikes, so a synapse is a gated add: no multiplier term
  (A = 1 in the adder-tree term ``(W + A)(2Q - 1)``);
- the SIMD lanes read the weight memory at arbitrary (event) addresses, so the weight
  memory is replicated ``ceil(Q / 2)`` times (true dual-port BRAM gives two read ports);
- memories of depth <= 64 go to LUTRAM (``width * ceil(depth / 64)`` LUTs, FINN's c2
  term), deeper ones to BRAM_18K with FINN's depth/width table;
- a multiply leak costs one DSP per PE (v_bits x (f + 2) fits a DSP48 25x18).
These are estimates for comparing foldings, not post-place-and-route numbers.
"""
from __future__ import annotations

import math
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

LUTRAM_MAX_DEPTH = 64


@dataclass(frozen=True)
class Resources:
    lut: int = 0
    ff: int = 0
    bram18: int = 0
    dsp: int = 0

    def __add__(self, other: "Resources") -> "Resources":
        return Resources(self.lut + other.lut, self.ff + other.ff,
                         self.bram18 + other.bram18, self.dsp + other.dsp)

    def fits(self, budget: "Resources") -> bool:
        return (self.lut <= budget.lut and self.ff <= budget.ff
                and self.bram18 <= budget.bram18 and self.dsp <= budget.dsp)


def bram18_count(depth: int, width: int) -> int:
    """FINN's BRAM_18K table for one memory of ``depth`` x ``width`` bits."""
    if width == 1:
        return math.ceil(depth / 16384)
    if width == 2:
        return math.ceil(depth / 8192)
    if width <= 4:
        return math.ceil(depth / 4096) * math.ceil(width / 4)
    if width <= 9:
        return math.ceil(depth / 2048) * math.ceil(width / 9)
    if width <= 18 or depth > 512:
        return math.ceil(depth / 1024) * math.ceil(width / 18)
    return math.ceil(depth / 512) * math.ceil(width / 36)


def _memory(depth: int, width: int, copies: int = 1) -> Resources:
    if depth <= LUTRAM_MAX_DEPTH:
        return Resources(lut=copies * width * math.ceil(depth / 64))
    return Resources(bram18=copies * bram18_count(depth, width))


def _neuron_lut(v_bits: int, leak: str) -> int:
    """One lane's neuron update: sum/saturate, compare + reset mux, and a shift leak's barrel
    shifter (a multiply leak goes to a DSP)."""
    leak_lut = {"shift": v_bits * max(1, math.ceil(math.log2(v_bits))), "mul": 0, "none": 0}[leak]
    return 3 * v_bits + 2 * v_bits + leak_lut


def _leak_word_bits(v_bits: int, leak: str) -> int:
    return (v_bits.bit_length() + 1) if leak != "mul" else 18


def estimate_engine(n_in: int, n_out: int, pe: int, simd: int, w_bits: int, v_bits: int,
                    acc_bits: int, leak: str = "shift", index_bits: int = 16) -> Resources:
    nf = n_out // pe
    adder = (w_bits + 1) * (2 * simd - 1)
    logic = Resources(lut=round(300 + 1.1 * pe * (adder + acc_bits + _neuron_lut(v_bits, leak))),
                      ff=pe * (acc_bits + v_bits + 1) + n_out + 4 * 32 + 2,
                      dsp=pe if leak == "mul" else 0)
    lb = _leak_word_bits(v_bits, leak)
    mems = (_memory(nf * n_in, pe * w_bits, copies=math.ceil(simd / 2))
            + _memory(nf, pe * v_bits) + _memory(nf, pe * v_bits)   # thresholds, biases
            + _memory(nf, pe * lb) + _memory(nf, pe * v_bits)       # leak, membrane state
            + _memory(n_in, index_bits, copies=math.ceil(simd / 2)))  # event queue
    return logic + mems


def estimate_conv_engine(cin: int, cout: int, kh: int, kw: int, npos: int, n_in: int,
                         pe: int, w_bits: int, v_bits: int, acc_bits: int,
                         leak: str = "shift", index_bits: int = 16) -> Resources:
    """The weight-shared conv engine: one kernel word per cycle (PE channel adders), a
    per-neuron accumulator memory, event -> position address logic (constant dividers,
    taken as 300 LUT / 100 FF)."""
    ng = cout // pe * npos
    logic = Resources(lut=round(600 + 1.1 * pe * ((w_bits + 1) + acc_bits + _neuron_lut(v_bits, leak))),
                      ff=pe * (acc_bits + v_bits + 1) + cout * npos + 4 * 32 + 100,
                      dsp=pe if leak == "mul" else 0)
    lb = _leak_word_bits(v_bits, leak)
    mems = (_memory(cout // pe * cin * kh * kw, pe * w_bits) + _memory(ng, pe * acc_bits)
            + _memory(ng, pe * v_bits) + _memory(ng, pe * v_bits) + _memory(ng, pe * lb)
            + _memory(ng, pe * v_bits) + _memory(n_in, index_bits))
    return logic + mems


def estimate_config(cfg: dict) -> list[Resources]:
    """Per-engine estimates for an emitted config.json."""
    out = []
    for e in cfg["engines"]:
        if e.get("engine") == "conv":
            cin, kh, kw = e["conv"]["in_shape"][0], *e["conv"]["kernel"]
            cout, ho, wo = e["out_shape"]
            out.append(estimate_conv_engine(cin, cout, kh, kw, ho * wo, e["n_in"], e["pe"],
                                            e["w_bits"], e["v_bits"], e["acc_bits"],
                                            e["leak"], cfg["index_bits"]))
        else:
            out.append(estimate_engine(e["n_in"] + e["n_rec"], e["n_out"], e["pe"], e["simd"],
                                       e["w_bits"], e["v_bits"], e["acc_bits"], e["leak"],
                                       cfg["index_bits"]))
    return out


def yosys_stat(fpga_dir: str | Path, target: str = "generic",
               timeout: float = 600.0) -> dict[str, int] | None:
    """Cell counts of the emitted design from yosys, or None when yosys is not installed.
    ``target='generic'``: ``synth`` (gates; memories become flip-flops);
    ``target='xc7'``: ``synth_xilinx -family xc7`` plus summed 'LUT' and 'FF' entries,
    comparable with :func:`estimate_engine` (tens of seconds even for small designs)."""
    exe = shutil.which("yosys")
    if exe is None:
        return None
    synth = {"generic": "synth", "xc7": "synth_xilinx -family xc7"}[target]
    from .emit import RTL_MODULES

    script = (f"read_verilog -defer {' '.join(RTL_MODULES)} snn_top.v; hierarchy -top snn_top; "
              f"{synth} -top snn_top -flatten; tee -q -o yosys_stat.txt stat")
    proc = subprocess.run([exe, "-q", "-p", script], cwd=fpga_dir, capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"yosys failed: {proc.stderr[-2000:]}")
    text = (Path(fpga_dir) / "yosys_stat.txt").read_text()
    cells = {m.group(1): int(m.group(2))
             for m in re.finditer(r"^\s+(\$?[\w$]+)\s+(\d+)\s*$", text, re.M)}
    total = re.search(r"Number of cells:\s+(\d+)", text)
    if total:
        cells["cells"] = int(total.group(1))
    if target == "xc7":
        cells["LUT"] = sum(n for k, n in cells.items() if re.fullmatch(r"LUT\d", k))
        cells["FF"] = sum(n for k, n in cells.items() if re.fullmatch(r"FD\w+", k))
    return cells
