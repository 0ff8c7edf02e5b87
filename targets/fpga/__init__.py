"""snncc FPGA target: integer golden model, event-driven RTL engines (Verilog-2005:
dense/recurrent ``neurocore``, weight-shared ``convcore``), cycle-level simulator,
FINN-style folding, resource and energy estimates.

Public API::

    NetSpec, LayerSpec, LeakSpec, Conv2dGeometry      # netspec (plain data, validate())
    run_golden(spec, x)                               # golden (numpy integer model)
    emit(spec, out_dir) -> out_dir/fpga               # config.json, .hex, Verilog, tb.v
    run_cycle_sim(fpga_dir, x)                        # cycle simulator (same files as RTL)
    run_rtl(fpga_dir, x, expected=None)               # iverilog + vvp
    cosimulate(spec, x, out_dir)                      # all three, compared
    fold(spec, target_cycles, budget)                 # PE/SIMD search
    estimate_engine(...), yosys_stat(fpga_dir)        # resources
    energy.estimate_energy(cycle_sim_result)          # energy per inference
    TARGET                                            # the compiler target (target.py)
    lower.lower(graph) -> FpgaLowering                # canonical integer IR -> NetSpec

The arithmetic contract is in contract.py and docs/fpga-arithmetic.md.
"""
from .cosim import CoSimReport, cosimulate
from .cycle_sim import run_cycle_sim
from .emit import build_config, emit
from .folding import FoldingResult, fold
from .golden import SimResult, run_golden
from .netspec import Conv2dGeometry, LayerSpec, LeakSpec, NetSpec
from .resources import Resources, estimate_engine, yosys_stat
from .rtl import lint_rtl, run_rtl
from .target import TARGET

__all__ = [
    "CoSimReport", "Conv2dGeometry", "FoldingResult", "LayerSpec", "LeakSpec", "NetSpec",
    "Resources", "SimResult", "TARGET", "build_config", "cosimulate", "emit", "estimate_engine", "fold",
    "lint_rtl", "run_cycle_sim", "run_golden", "run_rtl", "yosys_stat",
]
