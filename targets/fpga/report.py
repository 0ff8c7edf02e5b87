"""``ctx.reports["fpga"]`` (copied into manifest.json): per engine the scales the lowering
chose, the widths, PE/SIMD, the closed-form resource estimate and the cycle bounds per step."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from .emit import load_config
from .folding import layer_cycles
from .lower import FpgaLowering
from .resources import Resources, estimate_config


def lowering_report(lowered: FpgaLowering, folder: str | Path) -> dict:
    cfg = load_config(folder)
    estimates = estimate_config(cfg)
    engines = []
    for binding, layer, eng, res in zip(lowered.engines, lowered.spec.layers, cfg["engines"], estimates):
        engines.append({
            "node": binding.node, "engine": eng["engine"], "n_in": eng["n_in"], "n_out": eng["n_out"],
            "recurrent": bool(eng["n_rec"]), "pe": eng["pe"], "simd": eng["simd"],
            "w_bits": eng["w_bits"], "v_bits": eng["v_bits"], "acc_bits": eng["acc_bits"],
            "leak": eng["leak"], "reset": eng["reset"], "comparator": eng["comparator"],
            # real value = integer * scale, for the membrane, thresholds, biases and weights
            "state_scale": binding.state_scale,
            "cycles_per_step_idle": layer_cycles(layer, 0),
            "cycles_per_step_all_active": layer_cycles(layer, layer.n_cols),
            "resources": dataclasses.asdict(res),
        })
    total = sum(estimates, Resources())
    return {
        "engines": engines,
        "resources": dataclasses.asdict(total),
        "cycles_per_step_idle": 1 + sum(e["cycles_per_step_idle"] for e in engines),
        "cycles_per_step_all_active": 1 + sum(e["cycles_per_step_all_active"] for e in engines),
    }
