"""fold-fpga: PE/SIMD chosen per engine for a cycle target within a budget, honoured by the
emitter, measured by the cycle simulator."""
import json
import os

import numpy as np

from snncc.compiler import compile
from snncc.passbase import PassContext
from snncc.passes.fold_fpga import FoldFpga
from snncc.runtime.backend import run
from snncc.targets.fpga import TARGET

from fpga_ir_nets import dense_if_net, lif_recurrent_net


def _config(out):
    with open(os.path.join(out, "fpga", "config.json")) as handle:
        return json.load(handle)


def test_target_is_met_and_measured_cycles_stay_below_it(tmp_path):
    out = str(tmp_path / "out")
    result = compile(lif_recurrent_net(), "fpga", pipeline="fold-fpga{target_cycles=20}", out_dir=out)
    fold = result.manifest["reports"]["fpga"]["fold"]
    assert fold["target_met"] and fold["cycles_per_step"] <= 20
    engines = _config(out)["engines"]
    assert [[e["pe"], e["simd"]] for e in engines] == [[f["pe"], f["simd"]] for f in fold["engines"]]
    assert engines[0]["pe"] * engines[0]["simd"] > 1
    x = np.ones((1, 6, 8), np.uint8)  # every input spiking: the worst case the fold assumed
    cycles = run(out, x, "fpga-sim").extra["cycles"]
    assert cycles.max() <= 20


def test_budget_too_small_keeps_everything_serial_and_warns(tmp_path):
    result = compile(lif_recurrent_net(), "fpga", pipeline="fold-fpga{target_cycles=20,lut=10}",
                     out_dir=str(tmp_path / "out"))
    fold = result.manifest["reports"]["fpga"]["fold"]
    assert not fold["target_met"]
    assert [[e["pe"], e["simd"]] for e in fold["engines"]] == [[1, 1], [1, 1]]
    assert [n.code for n in result.notes] == ["SNN415"]


def test_activity_from_calibration_and_fixed_point():
    graph = dense_if_net()
    x = (np.random.default_rng(0).random((40, 10, 12)) < 0.25).astype(np.uint8)
    ctx = PassContext(capabilities=TARGET.capabilities, calibration=x)
    first = FoldFpga(target_cycles=30).run(graph, ctx)
    report = ctx.reports["fpga"]["fold"]
    assert "calibration" in report["activity_source"]
    assert abs(report["activity"][0] - x[:32].mean()) < 1e-4  # first engine: fraction of inputs spiking
    assert first.modified and first.graph.nodes["if0"].metadata["fpga"]["pe"] >= 1
    again = FoldFpga(target_cycles=30).run(first.graph, PassContext(capabilities=TARGET.capabilities, calibration=x))
    assert not again.modified and again.graph is first.graph
