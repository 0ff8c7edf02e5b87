"""Runs the emitted Verilog under Icarus Verilog and parses the testbench output into
the same :class:`SimResult` as the golden model and cycle simulator."""
from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import numpy as np

from snncc.diagnostics import SnnccError

from .emit import RTL_INCLUDES, RTL_MODULES, load_config
from .golden import SimResult, check_input
from .memimage import slot_neurons

SOURCES = (*RTL_MODULES, "snn_top.v", "tb.v")
INCLUDES = RTL_INCLUDES


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SnnccError.single(
            "SNN501", f"'{name}' not found on PATH; the FPGA RTL flow needs it",
            hint=f"apt-get install {name} (`make sysdeps` installs iverilog)")
    return path


def compile_rtl(fpga_dir: str | Path) -> Path:
    """iverilog -g2005 once per design: sim.vvp is reused while the sources' hash holds."""
    fpga_dir = Path(fpga_dir)
    vvp, stamp = fpga_dir / "sim.vvp", fpga_dir / "sim.vvp.sha256"
    digest = hashlib.sha256(b"".join((fpga_dir / s).read_bytes()
                                     for s in SOURCES + INCLUDES)).hexdigest()
    if vvp.exists() and stamp.exists() and stamp.read_text() == digest:
        return vvp
    proc = subprocess.run([_tool("iverilog"), "-g2005", "-Wall", "-I.", "-s", "tb", "-o", vvp.name,
                           *SOURCES], cwd=fpga_dir, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SnnccError.single("SNN502", f"iverilog failed:\n{proc.stderr}")
    stamp.write_text(digest)
    return vvp


def write_input(path: Path, x: np.ndarray) -> None:
    lines = [f"{x.shape[0]} {x.shape[1]}"]
    for b in range(x.shape[0]):
        for t in range(x.shape[1]):
            idx = np.flatnonzero(x[b, t]).tolist()
            lines.append(" ".join(map(str, [len(idx), *idx])))
    path.write_text("\n".join(lines) + "\n")


def write_expected(path: Path, ref: SimResult, cfg: dict) -> None:
    """Expected-values file for the testbench's own comparison (membranes in slot order)."""
    nb, nt = ref.cycles.shape
    orders = [slot_neurons(e) for e in cfg["engines"]]
    lines = []
    for b in range(nb):
        for t in range(nt):
            lines.append(str(int(ref.cycles[b, t])))
            for s, v, order in zip(ref.spikes, ref.v, orders):
                lines.append("".join(str(int(bit)) for bit in s[b, t][::-1]))
                lines.append(" ".join(map(str, v[b, t][order].tolist())))
    path.write_text("\n".join(lines) + "\n")


def parse_output(text: str, cfg: dict, nb: int, nt: int) -> tuple[SimResult, int]:
    sizes = [e["n_out"] for e in cfg["engines"]]
    orders = [slot_neurons(e) for e in cfg["engines"]]
    spikes = [np.zeros((nb, nt, n), np.uint8) for n in sizes]
    vs = [np.zeros((nb, nt, n), np.int64) for n in sizes]
    cyc = np.zeros((nb, nt), np.int64)
    eng = np.zeros((nb, nt, len(sizes)), np.int64)
    mism, b, t = -1, 0, 0
    for line in text.splitlines():
        tok = line.split()
        if tok[0] == "C":
            b, t = int(tok[1]), int(tok[2])
            cyc[b, t] = int(tok[3])
            eng[b, t] = [int(c) for c in tok[4:]]
        elif tok[0] == "S":
            spikes[int(tok[1])][b, t] = [int(ch) for ch in tok[2][::-1]]
        elif tok[0] == "V":  # slot order -> neuron order
            layer = int(tok[1])
            vs[layer][b, t, orders[layer]] = [int(v) for v in tok[2:]]
        elif tok[0] == "E":
            mism = int(tok[1])
    if mism < 0:
        raise SnnccError.single("SNN503", "testbench output is truncated (no final 'E' record)")
    return SimResult(tuple(spikes), tuple(vs), cyc, eng), mism


def run_rtl(fpga_dir: str | Path, spikes_in: np.ndarray, expected: SimResult | None = None,
            tag: str = "run") -> tuple[SimResult, int]:
    """Simulate; returns the parsed result and the testbench's own mismatch count
    (0 when ``expected`` is None)."""
    fpga_dir = Path(fpga_dir)
    cfg = load_config(fpga_dir)
    x = check_input(spikes_in, cfg["n_in"])
    vvp = compile_rtl(fpga_dir)
    fin, fout, fexp = (fpga_dir / f"{tag}_{s}.txt" for s in ("in", "out", "expect"))
    write_input(fin, x)
    args = [_tool("vvp"), "-n", vvp.name, f"+in={fin.name}", f"+out={fout.name}"]
    if expected is not None:
        write_expected(fexp, expected, cfg)
        args.append(f"+expect={fexp.name}")
    proc = subprocess.run(args, cwd=fpga_dir, capture_output=True, text=True)
    if proc.returncode != 0 or "TB_DONE" not in proc.stdout:
        raise SnnccError.single("SNN503", f"vvp failed:\n{proc.stdout}\n{proc.stderr}")
    return parse_output(fout.read_text(), cfg, x.shape[0], x.shape[1])


def lint_rtl(fpga_dir: str | Path) -> list[str]:
    """``verilator --lint-only -Wall`` messages for the synthesisable sources (empty =
    clean), or raises SNN501 when Verilator is not installed."""
    proc = subprocess.run([_tool("verilator"), "--lint-only", "-Wall", "--top-module", "snn_top",
                           "snn_top.v", *RTL_MODULES], cwd=Path(fpga_dir),
                          capture_output=True, text=True)
    return [line for line in proc.stderr.splitlines() if line.startswith("%")]
