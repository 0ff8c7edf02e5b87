"""golden == cycle simulator == iverilog RTL, spike for spike, state for state, and the
cycle simulator's cycle counts == the RTL's measured cycles."""
import numpy as np
import pytest

from snncc.targets.fpga.contract import int_range
from snncc.targets.fpga.cycle_sim import run_cycle_sim
from snncc.targets.fpga.emit import emit
from snncc.targets.fpga.example_nets import (conv_stack, one_neuron_lif, random_dense_net,
                                             small_conv_net)
from snncc.targets.fpga.golden import run_golden
from snncc.targets.fpga.rtl import run_rtl

from fpga_ir_nets import requires_iverilog

pytestmark = requires_iverilog

DENSE_CASES = {
    "ge-subtract-shift": [
        dict(w_bits=4, v_bits=12, pe=2, simd=3, leak="shift", reset="subtract", comparator=">="),
        dict(w_bits=4, v_bits=12, pe=3, simd=2, leak="shift", reset="value", comparator=">")],
    "gt-value-mul": [
        dict(w_bits=8, v_bits=16, pe=9, simd=1, leak="mul", reset="value", comparator=">"),
        dict(w_bits=8, v_bits=16, pe=1, simd=4, leak="mul", reset="subtract", comparator=">=")],
    "recurrent": [
        dict(w_bits=6, v_bits=14, pe=3, simd=4, leak="shift", reset="subtract", comparator=">=",
             recurrent=True),
        dict(w_bits=5, v_bits=12, pe=2, simd=3, leak="mul", reset="value", comparator=">",
             recurrent=True)],
    "wide-if-none": [
        dict(w_bits=16, v_bits=24, pe=1, simd=5, leak="none", reset="none", comparator=">"),
        dict(w_bits=6, v_bits=20, pe=6, simd=12, leak="shift", reset="subtract", comparator=">=")],
}


def _check_all(spec, x, tmp_path):
    gold = run_golden(spec, x)
    fpga = emit(spec, tmp_path)
    cyc = run_cycle_sim(fpga, x)
    rtl, tb_mismatches = run_rtl(fpga, x, expected=cyc)
    for i, layer in enumerate(spec.layers):
        np.testing.assert_array_equal(cyc.spikes[i], gold.spikes[i], err_msg=layer.name)
        np.testing.assert_array_equal(cyc.v[i], gold.v[i], err_msg=layer.name)
        np.testing.assert_array_equal(rtl.spikes[i], gold.spikes[i], err_msg=layer.name)
        np.testing.assert_array_equal(rtl.v[i], gold.v[i], err_msg=layer.name)
    np.testing.assert_array_equal(rtl.cycles, cyc.cycles)
    np.testing.assert_array_equal(rtl.engine_cycles, cyc.engine_cycles)
    assert tb_mismatches == 0
    return gold, cyc, fpga


def _expected_cycles(spec, gold, x):
    """Documented formula, computed from the golden spikes (independent of cycle_sim)."""
    inputs = [x] + [s for s in gold.spikes[:-1]]
    per_engine = []
    for layer, inp, own in zip(spec.layers, inputs, gold.spikes):
        active = inp.astype(np.int64).sum(axis=2)
        if layer.recurrent is not None:  # plus the layer's own spikes of the previous step
            active[:, 1:] += own[:, :-1].astype(np.int64).sum(axis=2)
        if layer.engine == "conv":  # one cycle per (event, channel group, kernel offset)
            cout, _, kh, kw = layer.weights.shape
            groups = cout // layer.pe
            per_engine.append(active * groups * kh * kw + layer.n_out // layer.pe + 1)
            continue
        per_engine.append((layer.n_out // layer.pe) * (-(-active // layer.simd) + 1) + 1)
    per_engine = np.stack(per_engine, axis=2)
    return 1 + per_engine.sum(axis=2), per_engine


@pytest.mark.parametrize("case", sorted(DENSE_CASES))
def test_dense_two_layer(case, tmp_path):
    spec = random_dense_net(7, (12, 18, 12), DENSE_CASES[case])
    x = (np.random.default_rng(1).random((3, 8, 12)) < 0.5).astype(np.uint8)
    x[0, 0] = 0  # an empty step: zero accumulate cycles
    gold, cyc, _ = _check_all(spec, x, tmp_path)
    total, per_engine = _expected_cycles(spec, gold, x)
    np.testing.assert_array_equal(cyc.cycles, total)
    np.testing.assert_array_equal(cyc.engine_cycles, per_engine)
    # the saturation neurons really reach both rails, and the nets are not silent
    for i, layer in enumerate(spec.layers):
        lo, hi = int_range(layer.v_bits)
        assert gold.v[i].max() == hi and gold.v[i].min() == lo
        assert 0 < gold.spikes[i].sum() < gold.spikes[i].size


def test_one_neuron_lif_trace(tmp_path):
    # weight 40, theta 100, v - (v >>> 2), subtract reset; traced by hand:
    # in 1: v=40; in 1: 40-10+40=70; in 1: 70-17+40=93; in 1: 93-23+40=110 >= 100 -> spike, 10
    # in 0: 10-2=8; in 1: 8-2+40=46; in 0: 46-11=35; in 0: 35-8=27
    spec = one_neuron_lif()
    x = np.array([1, 1, 1, 1, 0, 1, 0, 0], dtype=np.uint8).reshape(1, 8, 1)
    gold, cyc, _ = _check_all(spec, x, tmp_path)
    assert gold.v[0][0, :, 0].tolist() == [40, 70, 93, 10, 8, 46, 35, 27]
    assert gold.spikes[0][0, :, 0].tolist() == [0, 0, 0, 1, 0, 0, 0, 0]
    # 1 start + (1 accumulate if the input spiked) + 1 update + 1 FIN
    assert cyc.cycles[0].tolist() == [4, 4, 4, 4, 3, 4, 3, 3]


def test_one_neuron_recurrent_trace(tmp_path):
    # IF, w_in 60, w_rec -50 (own spike of the previous step), theta 100, subtract; by hand:
    # 60; 120 -> spike, 20; 20+60-50=30; 90; 150 -> spike, 50; (input 0) 50-50=0
    from snncc.targets.fpga.example_nets import one_neuron_recurrent

    x = np.array([1, 1, 1, 1, 1, 0], dtype=np.uint8).reshape(1, 6, 1)
    gold, cyc, _ = _check_all(one_neuron_recurrent(), x, tmp_path)
    assert gold.v[0][0, :, 0].tolist() == [60, 20, 30, 90, 50, 0]
    assert gold.spikes[0][0, :, 0].tolist() == [0, 1, 0, 0, 1, 0]
    # active = input spike + own spike of the previous step; 1 + (active + 1) + 1
    assert cyc.cycles[0].tolist() == [4, 4, 5, 4, 4, 4]


def test_small_conv_net(tmp_path):
    spec = small_conv_net()
    x = (np.random.default_rng(3).random((2, 5, 64)) < 0.3).astype(np.uint8)
    gold, cyc, _ = _check_all(spec, x, tmp_path)
    assert gold.spikes[0].sum() > 0 and gold.spikes[1].sum() > 0
    total, _ = _expected_cycles(spec, gold, x)
    np.testing.assert_array_equal(cyc.cycles, total)


@pytest.mark.parametrize("make, n_in", [(lambda: small_conv_net(engine="conv"), 64),
                                         (conv_stack, 162)], ids=["conv-engine", "conv-stack"])
def test_weight_shared_conv_engine(make, n_in, tmp_path):
    spec = make()
    x = (np.random.default_rng(4).random((2, 5, n_in)) < 0.3).astype(np.uint8)
    gold, cyc, fpga = _check_all(spec, x, tmp_path)
    assert all(s.sum() > 0 for s in gold.spikes)
    total, per_engine = _expected_cycles(spec, gold, x)
    np.testing.assert_array_equal(cyc.engine_cycles, per_engine)
    np.testing.assert_array_equal(cyc.cycles, total)
    # the kernel memory holds Cout/PE * Cin * kh * kw words, not N_out * N_in / PE
    first = spec.layers[0]
    cout, cin, kh, kw = first.weights.shape
    assert len((fpga / "e0_w.hex").read_text().split()) == cout // first.pe * cin * kh * kw


def test_testbench_flags_a_wrong_expectation(tmp_path):
    """The self-check can fail: one flipped expected membrane value is reported."""
    spec = one_neuron_lif()
    x = np.ones((1, 3, 1), dtype=np.uint8)
    fpga = emit(spec, tmp_path)
    cyc = run_cycle_sim(fpga, x)
    wrong_v = tuple(v.copy() for v in cyc.v)
    wrong_v[0][0, 1, 0] += 1
    bad = type(cyc)(cyc.spikes, wrong_v, cyc.cycles, cyc.engine_cycles)
    _, mismatches = run_rtl(fpga, x, expected=bad)
    assert mismatches == 1


def test_cosimulate_report(tmp_path):
    from snncc.targets.fpga import cosimulate
    from snncc.targets.fpga.cosim import _diff

    spec = random_dense_net(3, (6, 8, 4), [DENSE_CASES["gt-value-mul"][1]] * 2)
    x = (np.random.default_rng(0).random((2, 4, 6)) < 0.5).astype(np.uint8)
    rep = cosimulate(spec, x, tmp_path)
    assert rep.ok and rep.rtl_cycles_equal and rep.tb_mismatches == 0
    assert rep.rtl_spike_mismatches == (0, 0) and rep.sim_state_mismatches == (0, 0)
    shifted = type(rep.golden)(rep.golden.spikes, tuple(v + 1 for v in rep.golden.v))
    assert _diff(shifted, rep.golden)[1] == (2 * 4 * 8, 2 * 4 * 4)


def test_missing_iverilog_is_a_clear_error(tmp_path, monkeypatch):
    from snncc.diagnostics import SnnccError

    fpga = emit(one_neuron_lif(), tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))  # no iverilog/vvp here
    with pytest.raises(SnnccError) as err:
        run_rtl(fpga, np.ones((1, 2, 1), np.uint8))
    diag = err.value.diagnostics[0]
    assert diag.code == "SNN501" and "iverilog" in diag.message and "apt-get" in diag.hint
