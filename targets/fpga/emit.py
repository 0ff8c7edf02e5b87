"""Writes OUT/fpga/: config.json, one .hex image per memory per engine, neurocore.v,
the generated top level (snn_top.v) and the self-checking testbench (tb.v).

Nothing is written while the spec has violations; output is byte-identical for the
same spec (sorted JSON, fixed formatting, no timestamps).
"""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np

from snncc.diagnostics import SnnccError

from . import contract as C
from . import memimage as M
from .netspec import NetSpec
from .verilog_gen import render_tb, render_top

FORMAT_VERSION = 1
#: synthesisable engine modules, and the fragment they `include; every tool reads these names
RTL_MODULES = ("neurocore.v", "convcore.v", "prefix_positions.v")
RTL_INCLUDES = ("neuron_update_inc.v",)
RTL_LIBRARY = RTL_MODULES + RTL_INCLUDES


def build_config(spec: NetSpec) -> dict:
    """The engine configuration every backend reads (cycle sim, RTL generator)."""
    iw = max(1, max([spec.n_in] + [l.n_out for l in spec.layers]).bit_length())
    engines, pin, pstride = [], 1, 1
    for idx, l in enumerate(spec.layers):
        conv_engine = l.engine == "conv"
        if conv_engine:  # slots = channel groups x positions; kernel words per group
            cout, cin, kh, kw = np.asarray(l.weights).shape
            nf, wdepth = l.n_out // l.pe, (cout // l.pe) * cin * kh * kw
        else:
            nf, wdepth = l.n_out // l.pe, (l.n_out // l.pe) * l.n_cols
        lb = C.leak_param_bits(l.leak.kind, l.leak.frac_bits, l.v_bits)
        mems = {}
        for key, depth, bits in (("w", wdepth, l.w_bits), ("t", nf, l.v_bits),
                                 ("b", nf, l.v_bits), ("l", nf, lb)):
            mems[key] = {"file": f"e{idx}_{key}.hex", "depth": depth, "lanes": l.pe,
                         "lane_bits": bits, "width": bits * l.pe}
        engines.append({
            "name": l.name, "kind": "conv2d" if l.conv else "dense",
            "n_in": l.n_in, "n_out": l.n_out, "n_rec": l.n_rec, "out_shape": list(l.out_shape),
            "engine": l.engine, "pe": l.pe, "simd": l.simd, "pin": pin, "pstride": pstride,
            "lane_stride": l.out_shape[1] * l.out_shape[2] if conv_engine else 1, "nf": nf,
            "w_bits": l.w_bits, "v_bits": l.v_bits, "acc_bits": l.acc_bits, "leak_bits": lb,
            "leak": l.leak.kind, "frac_bits": max(1, l.leak.frac_bits),
            "reset": l.reset, "reset_value": int(l.reset_value), "comparator": l.comparator,
            "conv": None if l.conv is None else {
                "in_shape": list(l.conv.in_shape), "stride": list(l.conv.stride),
                "padding": list(l.conv.padding),
                "kernel": list(map(int, l.weights.shape[2:]))},
            "memories": mems,
        })
        pin, pstride = l.pe, engines[-1]["lane_stride"]
    return {"format_version": FORMAT_VERSION, "n_in": spec.n_in, "index_bits": iw,
            "engines": engines}


def emit(spec: NetSpec, out_dir: str | Path) -> Path:
    """Validate, then write OUT/fpga/ (``out_dir`` is OUT); returns the fpga directory."""
    errors = spec.validate()
    if errors:
        raise SnnccError(errors)
    fpga = Path(out_dir) / "fpga"
    fpga.mkdir(parents=True, exist_ok=True)
    cfg = build_config(spec)
    for layer, eng in zip(spec.layers, cfg["engines"]):
        for key, arr in M.engine_memories(layer, eng).items():
            mem = eng["memories"][key]
            M.write_hex(fpga / mem["file"], M.pack_lanes(arr, mem["lane_bits"]), mem["width"])
    (fpga / "config.json").write_text(json.dumps(cfg, indent=1, sort_keys=True) + "\n")
    for name in RTL_LIBRARY:
        (fpga / name).write_text(resources.files(__package__).joinpath(name).read_text())
    (fpga / "snn_top.v").write_text(render_top(cfg))
    (fpga / "tb.v").write_text(render_tb(cfg))
    return fpga


def load_config(fpga_dir: str | Path) -> dict:
    return json.loads((Path(fpga_dir) / "config.json").read_text())
