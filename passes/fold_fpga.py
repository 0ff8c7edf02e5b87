"""fold-fpga: choose PE (neurons in parallel) and SIMD (synapses per cycle) for every FPGA
engine, to meet a cycles-per-step target within a resource budget.

The graph must already be in integer form (after quantize/prune): the pass lowers it with
:func:`snncc.targets.fpga.lower.lower`, runs FINN's SetFolding-style greedy search
(:func:`snncc.targets.fpga.folding.fold`, closed-form cycles and resources) and writes the
choice to each neuron node's ``metadata["fpga"]`` (``{"pe", "simd", "engine"}``), which the
FPGA emitter honours. Without ``target_cycles`` it unfolds as far as the budget allows.

Activity (fraction of inputs spiking per step, per engine) sets the cycles: measured with
the integer golden model on the calibration data when there is binary calibration input,
else ``activity`` (1.0: every input spiking, the worst case). The result goes to
``ctx.reports["fpga"]["fold"]``; a target that cannot be met is a warning (SNN415).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from snncc.diagnostics import Diagnostic, Severity
from snncc.ir import Graph
from snncc.passbase import Pass, PassContext, PassResult

CALIBRATION_SAMPLES = 32  # enough for a mean firing rate, cheap in the golden model


@dataclass(frozen=True)
class FoldFpga(Pass):
    name: ClassVar[str] = "fold-fpga"
    #: cycles per time step to meet (0: none; unfold as far as the budget allows)
    target_cycles: int = 0
    #: resource budget (default: a Xilinx Artix-7 XC7A35T: 20,800 LUT, 41,600 FF, 50 BRAM36, 90 DSP)
    lut: int = 20800
    ff: int = 41600
    bram18: int = 100
    dsp: int = 90
    #: expected fraction of active inputs per step; 0 = measure on calibration data (else 1.0)
    activity: float = 0.0

    def run(self, graph: Graph, ctx: PassContext) -> PassResult:
        from snncc.targets.fpga.folding import fold
        from snncc.targets.fpga.lower import FOLD_KEY, lower
        from snncc.targets.fpga.resources import Resources

        lowered = lower(graph, ctx.capabilities)
        activity, source = self._activity(lowered, ctx)
        budget = Resources(self.lut, self.ff, self.bram18, self.dsp)
        result = fold(lowered.spec, self.target_cycles or None, budget, activity)
        new_graph, folded = graph, {}
        for binding, layer in zip(lowered.engines, result.spec.layers):
            node = new_graph.nodes[binding.node]
            choice = {"pe": layer.pe, "simd": layer.simd, "engine": layer.engine}
            folded[binding.node] = [layer.pe, layer.simd]
            if dict(node.metadata).get(FOLD_KEY) != choice:
                node = node.replace(metadata={**node.metadata, FOLD_KEY: choice})
                new_graph = new_graph.with_node(binding.node, node)
        ctx.reports.setdefault("fpga", {})["fold"] = {
            "target_cycles": self.target_cycles or None, "budget": dataclasses.asdict(budget),
            "activity": activity, "activity_source": source, "target_met": result.target_met,
            "cycles_per_step": result.cycles_per_step, "resources": dataclasses.asdict(result.resources),
            "engines": [{"node": b.node, "pe": e.pe, "simd": e.simd, "cycles": e.cycles,
                         "resources": dataclasses.asdict(e.resources)}
                        for b, e in zip(lowered.engines, result.engines)],
        }
        if not result.target_met:
            ctx.notes.append(Diagnostic(
                "SNN415", f"fold-fpga: {result.cycles_per_step} cycles per step, target "
                f"{self.target_cycles} not met within the budget", severity=Severity.WARNING,
                pass_name=self.name, hint="raise the budget (lut/ff/bram18/dsp) or the target"))
        return PassResult(new_graph, new_graph is not graph, {"folded": folded} if new_graph is not graph else {})

    def _activity(self, lowered: Any, ctx: PassContext) -> tuple[list[float], str]:
        n = len(lowered.spec.layers)
        if self.activity > 0:
            return [float(self.activity)] * n, "option"
        x = None if ctx.calibration is None else np.asarray(ctx.calibration)
        if x is None or x.ndim < 2 or x.shape[0] == 0 or int(np.prod(x.shape[2:])) != lowered.spec.n_in \
                or not np.isin(x, (0, 1)).all():
            return [1.0] * n, "worst case (no binary calibration input)"
        from snncc.targets.fpga.golden import run_golden

        x = x[:CALIBRATION_SAMPLES].reshape(min(len(x), CALIBRATION_SAMPLES), x.shape[1], -1)
        sim = run_golden(lowered.spec, x.astype(np.uint8))
        inputs = [x, *sim.spikes[:-1]]
        rates = []
        for layer, src, own in zip(lowered.spec.layers, inputs, sim.spikes):
            active = src.reshape(*src.shape[:2], -1).sum(axis=2).mean()
            if layer.recurrent is not None:
                active += own.sum(axis=2).mean()
            rates.append(round(float(active) / layer.n_cols, 4))
        return rates, f"golden model on {len(x)} calibration samples"
