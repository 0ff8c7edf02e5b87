"""FPGA folding sweep on a 64-128-10 dense LIF net: cycles per step (exact, from the
cycle simulator, cross-checked against iverilog for one setting), estimated resources
and estimated energy per inference for several PE/SIMD settings.

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

from snncc.targets.fpga.cycle_sim import run_cycle_sim
from snncc.targets.fpga.emit import emit, load_config
from snncc.targets.fpga.energy import EnergyModel, estimate_energy
from snncc.targets.fpga.example_nets import random_dense_net, small_conv_net
from snncc.targets.fpga.folding import fold, layer_resources
from snncc.targets.fpga.golden import run_golden
from snncc.targets.fpga.resources import Resources, estimate_config, yosys_stat
from snncc.targets.fpga.rtl import run_rtl

# System-level energy per synaptic operation on mid-range FPGAs: ESSA (Kuang et al.,
# TVLSI 2022) 32.1 GSOP/W => ~31 pJ/SOP; Corradi et al. 2021 151 pJ/SOP (both from
# /work/shared/reference/fpga.md §4 and energy.md "FPGA per SOP, system-level").
# Static power 0.11 W at 100 MHz: low end of fpga.md §4's edge Artix-7/Zynq-7000 range.
LOW = EnergyModel(e_sop_pj=31.0, p_static_w=0.11, f_clk_hz=100e6)
HIGH = EnergyModel(e_sop_pj=151.0, p_static_w=0.43, f_clk_hz=100e6)
F_CLK_HZ = LOW.f_clk_hz

SETTINGS = [((1, 1), (1, 1)), ((2, 2), (1, 2)), ((4, 4), (2, 4)), ((8, 4), (5, 8)),
            ((16, 4), (10, 8)), ((32, 8), (10, 16)), ((128, 8), (10, 32))]
OUT = Path(__file__).resolve().parent / "results"


def build_net():
    kw = dict(w_bits=8, v_bits=16, pe=1, simd=1, leak="shift", reset="subtract",
              comparator=">=", saturate=False)
    return random_dense_net(0, (64, 128, 10), [kw, kw])


def main() -> dict:
    base = build_net()
    rng = np.random.default_rng(0)
    x = (rng.random((4, 20, 64)) < 0.2).astype(np.uint8)  # 4 inferences, 20 steps, 20 % rate
    gold = run_golden(base, x)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, setting in enumerate(SETTINGS):
            layers = tuple(dataclasses.replace(l, pe=p, simd=s)
                           for l, (p, s) in zip(base.layers, setting))
            spec = dataclasses.replace(base, layers=layers)
            fpga = emit(spec, Path(tmp) / f"s{k}")
            t0 = time.perf_counter()
            sim = run_cycle_sim(fpga, x)
            sim_s = time.perf_counter() - t0
            for a, b in zip(sim.spikes + sim.v, gold.spikes + gold.v):
                assert np.array_equal(a, b), "cycle simulator diverged from the golden model"
            res = sum((layer_resources(l) for l in layers), Resources())
            cyc_inf = float(sim.cycles.sum(axis=1).mean())
            lo, hi = estimate_energy(sim, LOW), estimate_energy(sim, HIGH)
            row = {
                "pe_simd": [list(s) for s in setting],
                "cycles_per_step_mean": float(sim.cycles.mean()),
                "cycles_per_step_max": int(sim.cycles.max()),
                "engine_cycles_mean": sim.engine_cycles.mean(axis=(0, 1)).round(2).tolist(),
                "cycles_per_inference": cyc_inf,
                "latency_us_at_100MHz": cyc_inf / F_CLK_HZ * 1e6,
                "resources": dataclasses.asdict(res),
                "sops_per_inference": float(sim.counters["sops"].sum(axis=(1, 2)).mean()),
                "weight_word_reads_per_inference":
                    float(sim.counters["weight_reads"].sum(axis=(1, 2)).mean()),
                "energy_uJ_per_inference": {
                    "dynamic_low": float(lo.dynamic_uj.mean()),
                    "static_low": float(lo.static_uj.mean()),
                    "total_low": float(lo.total_uj.mean()),
                    "total_high": float(hi.total_uj.mean())},
                "cycle_sim_seconds": round(sim_s, 3),
            }
            if k == 2 and shutil.which("iverilog"):  # one setting cross-checked in RTL
                rtl, mism = run_rtl(fpga, x[:1], expected=None)
                row["rtl_cycles_match"] = bool(np.array_equal(rtl.cycles, sim.cycles[:1])
                                               and np.array_equal(rtl.v[1], sim.v[1][:1]))
            rows.append(row)
            print(f"PE/SIMD {setting}: {row['cycles_per_step_mean']:.1f} cycles/step, "
                  f"{res}, {row['energy_uJ_per_inference']['total_low']:.2f} uJ/inference")
    folds = {str(t): {"pe_simd": [[e.pe, e.simd] for e in r.engines],
                      "predicted_cycles_per_step": r.cycles_per_step, "met": r.target_met,
                      "resources": dataclasses.asdict(r.resources)}
             for t in (2000, 500, 100) for r in [fold(base, t, activity=[0.2, 0.2])]}
    result = {"net": "dense 64-128-10 LIF (shift leak k, reset subtract), w8/v16",
              "yosys_xc7_calibration": _yosys_point(),
              "conv_engines_small_cnn": _conv_comparison(),
              "input": "4 x 20 steps, Bernoulli 0.2", "f_clk_hz": F_CLK_HZ,
              "energy_models": {"low": dataclasses.asdict(LOW), "high": dataclasses.asdict(HIGH)},
              "settings": rows, "auto_folding_activity_0.2": folds}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "fpga_fold.json").write_text(json.dumps(result, indent=1) + "\n")
    _plot(rows)
    return result


def _conv_comparison() -> dict:
    """Small CNN (1x8x8 -> conv 4x3x3 -> 10): conv layer lowered to a dense engine vs the
    weight-shared conv engine, same PE (4 output channels / neurons in parallel)."""
    x = (np.random.default_rng(1).random((4, 20, 64)) < 0.2).astype(np.uint8)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for engine in ("dense", "conv"):
            spec = small_conv_net(engine=engine)
            fpga = emit(spec, Path(tmp) / engine)
            sim = run_cycle_sim(fpga, x)
            cfg = load_config(fpga)
            out[engine] = {
                "conv_weight_words": cfg["engines"][0]["memories"]["w"]["depth"],
                "conv_engine_cycles_per_step_mean": float(sim.engine_cycles[..., 0].mean()),
                "cycles_per_step_mean": float(sim.cycles.mean()),
                "resources_conv_engine": dataclasses.asdict(estimate_config(cfg)[0]),
            }
    return out


def _yosys_point() -> dict | None:
    """Estimate vs yosys synth_xilinx (xc7) on a small 16-16-4 design, when yosys exists."""
    if shutil.which("yosys") is None:
        return None
    kw = dict(w_bits=8, v_bits=16, pe=2, simd=2, leak="shift", reset="subtract",
              comparator=">=", saturate=False)
    with tempfile.TemporaryDirectory() as tmp:
        fpga = emit(random_dense_net(0, (16, 16, 4), [kw, kw]), tmp)
        est = sum(estimate_config(load_config(fpga)), Resources())
        t0 = time.perf_counter()
        cells = yosys_stat(fpga, "xc7")
        secs = time.perf_counter() - t0
    return {"net": "dense 16-16-4, PE 2 SIMD 2", "estimate": dataclasses.asdict(est),
            "yosys_xc7": {k: cells[k] for k in ("LUT", "FF", "CARRY4", "RAM32M") if k in cells},
            "yosys_seconds": round(secs, 1)}


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
    a1.set_title("64-128-10 LIF: folding trade-off (PE x SIMD per engine)")
    a2.bar(range(len(rows)), dyn, label="synaptic ops (31 pJ/SOP)")
    a2.bar(range(len(rows)), static, bottom=dyn, label="static (0.11 W @ 100 MHz)")
    a2.set_xticks(range(len(rows)), labels, rotation=45, ha="right", fontsize=7)
    a2.set_ylabel("uJ per inference (estimate)")
    a2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "fpga_fold.png", dpi=120)


if __name__ == "__main__":
    main()
