"""FPGA folding sweep on the compiled digits model (examples/digits, trained here, seeded):
for several PE/SIMD settings, cycles per step (exact, cycle simulator; one setting checked
against iverilog), estimated resources (closed form) and estimated energy per inference;
the fold-fpga pass's choice for several cycle targets (predicted vs measured); and the
small CNN's conv layers on the weight-shared conv engine vs lowered to dense engines.

Run: .venv/bin/python -m benchmarks.fpga_fold
Writes benchmarks/results/fpga_fold.json and fpga_fold.png.
"""
from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._digits import train_digits
from snncc.compiler import compile
from snncc.ir import Graph, Neuron
from snncc.runtime.backend import run
from snncc.targets.fpga import TARGET
from snncc.targets.fpga.cycle_sim import run_cycle_sim
from snncc.targets.fpga.emit import load_config
from snncc.targets.fpga.energy import EnergyModel, estimate_energy
from snncc.targets.fpga.example_models import digit_images, small_cnn
from snncc.targets.fpga.example_nets import random_dense_net
from snncc.targets.fpga.lower import FOLD_KEY
from snncc.targets.fpga.resources import Resources, estimate_config, yosys_stat

# Low end: the FPGA cost table's defaults (ESSA's ~31 pJ/SOP system-level, 0.11 W static at
# 100 MHz). High end: Corradi et al. 2021 151 pJ/SOP and 0.43 W, the top of the edge
# Artix-7/Zynq-7000 range (/work/shared/reference/fpga.md §4, energy.md "FPGA per SOP").
LOW = EnergyModel()
HIGH = dataclasses.replace(LOW, e_sop_pj=151.0, p_static_w=0.43)
F_CLK_HZ = LOW.f_clk_hz

# (PE, SIMD) of the hidden (64 -> 128) and output (128 -> 10) engines
SETTINGS = [((1, 1), (1, 1)), ((2, 2), (1, 2)), ((4, 4), (2, 4)), ((8, 4), (5, 8)),
            ((16, 4), (10, 8)), ((32, 8), (10, 16)), ((128, 8), (10, 32))]
FOLD_TARGETS = (2000, 500, 100, 40)
SAMPLES = 100  # test samples per setting (cycles and energy); accuracy uses all 450
OUT = Path(__file__).resolve().parent / "results"
WITHOUT_FOLD = TARGET.default_pipeline.replace(",fold-fpga", "")


def folded(graph: Graph, setting) -> Graph:
    """``graph`` with PE/SIMD (and optionally the engine kind) set on its neuron layers, in order."""
    names = [n for n, _ in graph.items_of(Neuron)]
    for name, choice in zip(names, setting):
        pe, simd, *engine = choice
        fold = {"pe": pe, "simd": simd, **({"engine": engine[0]} if engine else {})}
        graph = graph.with_node(name, graph.nodes[name].replace(metadata={**graph.nodes[name].metadata, FOLD_KEY: fold}))
    return graph


def measure(out: Path, x: np.ndarray) -> dict:
    """Cycles, resources, event counts and energy of one emitted design on ``x``."""
    cfg = load_config(out / "fpga")
    t0 = time.perf_counter()
    sim = run_cycle_sim(out / "fpga", x.reshape(*x.shape[:2], -1))
    seconds = time.perf_counter() - t0
    gold = run(str(out), x, "golden")
    for spikes, node in zip(sim.spikes, gold.spikes):
        assert np.array_equal(spikes, gold.spikes[node]), "cycle simulator diverged from the golden model"
    res = sum(estimate_config(cfg), Resources())
    per_inference = float(sim.cycles.sum(axis=1).mean())
    lo, hi = estimate_energy(sim, LOW), estimate_energy(sim, HIGH)
    return {
        "pe_simd": [[e["pe"], e["simd"]] for e in cfg["engines"]],
        "engines": [e["engine"] for e in cfg["engines"]],
        "cycles_per_step_mean": float(sim.cycles.mean()),
        "cycles_per_step_max": int(sim.cycles.max()),
        "engine_cycles_mean": sim.engine_cycles.mean(axis=(0, 1)).round(2).tolist(),
        "cycles_per_inference": per_inference,
        "latency_us_at_100MHz": per_inference / F_CLK_HZ * 1e6,
        "resources": dataclasses.asdict(res),
        "weight_words": [e["memories"]["w"]["depth"] for e in cfg["engines"]],
        "sops_per_inference": float(sim.counters["sops"].sum(axis=(1, 2)).mean()),
        "energy_uJ_per_inference": {
            "dynamic_low": float(lo.dynamic_uj.mean()), "static_low": float(lo.static_uj.mean()),
            "total_low": float(lo.total_uj.mean()), "total_high": float(hi.total_uj.mean())},
        "cycle_sim_seconds": round(seconds, 3),
    }


def sweep_digits(model_dir: Path, tmp: Path) -> dict:
    x_all, y = np.load(model_dir / "test_x.npy"), np.load(model_dir / "test_y.npy")
    x = x_all[:SAMPLES]
    graph = compile(str(model_dir / "model.pt"), "fpga", pipeline=WITHOUT_FOLD, calibration=x_all[:32]).graph
    rows = []
    for k, setting in enumerate(SETTINGS):
        out = tmp / f"digits{k}"
        compile(folded(graph, setting), "fpga", pipeline="", out_dir=str(out))
        row = measure(out, x)
        if k == 2 and shutil.which("iverilog"):  # one setting measured in RTL, 2 samples
            rtl = run(str(out), x[:2], "rtl").extra
            sim = run(str(out), x[:2], "fpga-sim").extra
            row["rtl_cycles_equal_cycle_sim"] = bool(np.array_equal(rtl["cycles"], sim["cycles"]))
        rows.append(row)
        print(f"digits PE/SIMD {setting}: {row['cycles_per_step_mean']:.1f} cycles/step, "
              f"{row['resources']}, {row['energy_uJ_per_inference']['total_low']:.2f} uJ/inference", flush=True)
    accuracy = run(str(tmp / "digits0"), x_all, "fpga-sim").output.sum(axis=1).argmax(axis=1)
    folds = {}
    for target in FOLD_TARGETS:
        out = tmp / f"fold{target}"
        result = compile(graph, "fpga", pipeline=f"fold-fpga{{target_cycles={target}}}", out_dir=str(out),
                         calibration=x_all[:32])
        fold = result.manifest["reports"]["fpga"]["fold"]
        measured = measure(out, x)
        folds[str(target)] = {"pe_simd": [[e["pe"], e["simd"]] for e in fold["engines"]],
                              "activity": fold["activity"], "met": fold["target_met"],
                              "predicted_cycles_per_step": fold["cycles_per_step"],
                              "measured_cycles_per_step_mean": measured["cycles_per_step_mean"],
                              "measured_cycles_per_step_max": measured["cycles_per_step_max"],
                              "resources": fold["resources"]}
    meta = json.loads((model_dir / "meta.json").read_text())
    return {"settings": rows, "fold_fpga": folds,
            "accuracy": {"float_model": meta["accuracy"], "fpga_sim": float((accuracy == y).mean()),
                         "test_samples": int(len(y))}}


def conv_engines(model_dir: Path, tmp: Path) -> dict:
    """Small CNN: its two conv layers on the weight-shared conv engine vs on dense engines."""
    x = digit_images(model_dir, 20)
    graph = compile(str(small_cnn(tmp / "cnn.pt")), "fpga", pipeline=WITHOUT_FOLD, calibration=x).graph
    out = {}
    for engine in ("conv", "dense"):
        setting = [(4, 1, engine), (6, 1, engine), (10, 8)]
        compile(folded(graph, setting), "fpga", pipeline="", out_dir=str(tmp / f"cnn-{engine}"))
        out[engine] = measure(tmp / f"cnn-{engine}", x)
    return out


def yosys_point() -> dict | None:
    """Estimate vs yosys synth_xilinx (xc7) on a small 16-16-4 design, when yosys exists."""
    if shutil.which("yosys") is None:
        return None
    from snncc.targets.fpga.emit import emit

    kw = dict(w_bits=8, v_bits=16, pe=2, simd=2, leak="shift", reset="subtract", comparator=">=", saturate=False)
    with tempfile.TemporaryDirectory() as tmp:
        fpga = emit(random_dense_net(0, (16, 16, 4), [kw, kw]), tmp)
        est = sum(estimate_config(load_config(fpga)), Resources())
        t0 = time.perf_counter()
        cells = yosys_stat(fpga, "xc7")
        secs = time.perf_counter() - t0
    return {"net": "dense 16-16-4, PE 2 SIMD 2", "estimate": dataclasses.asdict(est),
            "yosys_xc7": {k: cells[k] for k in ("LUT", "FF", "CARRY4", "RAM32M") if k in cells},
            "yosys_seconds": round(secs, 1)}


def main() -> dict:
    with tempfile.TemporaryDirectory(prefix="snncc-fpga-fold-") as scratch:
        tmp = Path(scratch)
        model_dir = train_digits(tmp / "digits")
        digits = sweep_digits(model_dir, tmp)
        cnn = conv_engines(model_dir, tmp)
    result = {"model": "examples/digits (64-128-10, MPBN-LIF + LIF), compiled with the fpga target's "
                       f"default pipeline ({TARGET.default_pipeline}); PE/SIMD set per engine",
              "input": f"first {SAMPLES} digits test samples x 16 steps (binary rate code)",
              "f_clk_hz": F_CLK_HZ,
              "energy_models": {"low": dataclasses.asdict(LOW), "high": dataclasses.asdict(HIGH)},
              **digits, "small_cnn_conv_vs_dense_engines": cnn, "yosys_xc7_calibration": yosys_point()}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "fpga_fold.json").write_text(json.dumps(result, indent=1) + "\n")
    _plot(digits["settings"])
    return result


def _plot(rows: list[dict]) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = ["/".join(f"{p}x{s}" for p, s in r["pe_simd"]) for r in rows]
    cyc = [r["cycles_per_step_mean"] for r in rows]
    lut = [r["resources"]["lut"] for r in rows]
    dyn = [r["energy_uJ_per_inference"]["dynamic_low"] for r in rows]
    static = [r["energy_uJ_per_inference"]["static_low"] for r in rows]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    a1.loglog(lut, cyc, "o-")
    for x, y, t in zip(lut, cyc, labels):
        a1.annotate(t, (x, y), fontsize=7)
    a1.set_xlabel("estimated LUT"), a1.set_ylabel("cycles per step (mean, exact)")
    a1.set_title("compiled digits 64-128-10: folding trade-off (PE x SIMD)")
    a2.bar(range(len(rows)), dyn, label=f"synaptic ops ({LOW.e_sop_pj:g} pJ/SOP)")
    a2.bar(range(len(rows)), static, bottom=dyn, label=f"static ({LOW.p_static_w:g} W @ {LOW.f_clk_hz / 1e6:g} MHz)")
    a2.set_xticks(range(len(rows)), labels, rotation=45, ha="right", fontsize=7)
    a2.set_ylabel("uJ per inference (estimate)")
    a2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "fpga_fold.png", dpi=120)


if __name__ == "__main__":
    main()
