"""The ``fpga`` target: capabilities, default pipeline, emitter and backends.

Imports nothing heavy at module level (the registry imports every target to list them).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from snncc.ir import Comparator, Graph, ResetMode
from snncc.target import Capabilities, Target

from . import contract as C

#: the multiply leak's fraction bits: decays 1 - d / 4096 (m = 4096 - d, v' = (v m) >>> 12)
DECAY_BITS = 12


@dataclass(frozen=True)
class FpgaTarget(Target):
    def emit(self, graph: Graph, out_dir: str, context) -> list[str]:
        from .emit import emit as emit_spec
        from .lower import lower
        from .report import lowering_report

        capabilities = getattr(context, "capabilities", None) or self.capabilities
        lowered = lower(graph, capabilities)  # every violation at once, before anything is written
        folder = emit_spec(lowered.spec, out_dir)
        if context is not None:
            context.reports.setdefault("fpga", {}).update(lowering_report(lowered, folder))
        return sorted(f"fpga/{path.name}" for path in Path(folder).iterdir())


CAPABILITIES = Capabilities(
    name="fpga",
    weight_bits=8,
    state_bits=24,
    threshold_granularity="neuron",
    comparators=(Comparator.GT, Comparator.GE),
    reset_modes=(ResetMode.VALUE, ResetMode.SUBTRACT, ResetMode.NONE),
    delay_range=(0, 0),
    neuron_kinds=("LIF", "IF", "LI", "I"),
    extra={
        "decay_format": {"kind": "fraction", "bits": DECAY_BITS},
        "resource_model": "fpga",
        "weight_bits_range": list(C.W_BITS_RANGE),
        "state_bits_range": list(C.V_BITS_RANGE),
        "saturating_state": True,
        "same_step_synapses": True,
    },
)

TARGET = FpgaTarget(
    name="fpga",
    capabilities=CAPABILITIES,
    default_pipeline="fold-batchnorm,fold-mpbn,simplify,discretize,quantize,prune,fold-fpga,map-cores",
    description="event-driven FPGA engines (Verilog-2005), integer golden model, cycle simulator, iverilog RTL",
    backends={
        "golden": "snncc.targets.fpga.backends:run_golden_backend",
        "fpga-sim": "snncc.targets.fpga.backends:run_fpga_sim",
        "rtl": "snncc.targets.fpga.backends:run_rtl_backend",
    },
)
