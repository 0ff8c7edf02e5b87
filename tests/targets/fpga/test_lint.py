"""The emitted RTL is lint-clean under Verilator -Wall (skipped without Verilator)."""
import shutil

import pytest

from snncc.targets.fpga.emit import emit
from snncc.targets.fpga.example_nets import (conv_stack, one_neuron_lif, random_dense_net,
                                             small_conv_net)
from snncc.targets.fpga.rtl import lint_rtl

pytestmark = pytest.mark.skipif(shutil.which("verilator") is None,
                                reason="verilator not installed")

KW = dict(w_bits=16, v_bits=24, pe=3, simd=5, leak="mul", reset="value", comparator=">")


@pytest.mark.parametrize("make", [
    one_neuron_lif, small_conv_net,
    lambda: random_dense_net(1, (10, 12, 4), [KW, dict(KW, pe=4, simd=1, leak="shift")]),
    lambda: random_dense_net(2, (5, 6, 3), [dict(KW, recurrent=True), dict(KW, recurrent=True)]),
    conv_stack],
    ids=["lif", "conv", "dense-wide", "recurrent", "conv-engines"])
def test_verilator_lint_clean(make, tmp_path):
    assert lint_rtl(emit(make(), tmp_path)) == []


def test_lint_reports_problems(tmp_path):
    fpga = emit(one_neuron_lif(), tmp_path)
    top = fpga / "snn_top.v"
    bad = "wire [1:0] unused_x = in_idx;\n    assign out_valid = ov0;"
    top.write_text(top.read_text().replace("assign out_valid = ov0;", bad))
    assert any(m.startswith("%Warning-WIDTH: snn_top.v") for m in lint_rtl(fpga))
