"""Out-of-range specs list every violation (SNN4xx) and nothing is emitted."""
import numpy as np
import pytest

from snncc.diagnostics import SnnccError
from snncc.targets.fpga.emit import emit
from snncc.targets.fpga.example_nets import one_neuron_lif, small_conv_net
from snncc.targets.fpga.netspec import LayerSpec, LeakSpec, NetSpec


def _layer(**kw):
    base = dict(name="fc", weights=np.zeros((4, 6), np.int64), threshold=10, w_bits=4,
                v_bits=12, acc_bits=8, pe=2, simd=2)
    base.update(kw)
    return LayerSpec(**base)


def test_valid_examples_have_no_violations():
    assert one_neuron_lif().validate() == []
    assert small_conv_net().validate() == []


def test_out_of_range_weight_lists_all_violations_and_writes_nothing(tmp_path):
    w = np.zeros((4, 6), np.int64)
    w[1, 2], w[3, 5] = 8, -9  # 4-bit signed range is [-8, 7]
    spec = NetSpec(6, (_layer(weights=w, threshold=[10, 5000, 10, 10], pe=3, simd=7),))
    with pytest.raises(SnnccError) as err:
        emit(spec, tmp_path)
    codes = sorted(d.code for d in err.value.diagnostics)
    assert codes == ["SNN402", "SNN403", "SNN404", "SNN404"]
    weight = next(d for d in err.value.diagnostics if d.code == "SNN402")
    assert "2 weight value(s)" in weight.message and weight.node == "fc" and weight.hint
    assert not (tmp_path / "fpga").exists()


def test_accumulator_overflow_is_reported_with_needed_width():
    w = np.full((4, 6), 7, np.int64)  # a row sums to 42: needs 7 signed bits
    diags = NetSpec(6, (_layer(weights=w, acc_bits=8),)).validate()
    assert diags == []
    diags = NetSpec(6, (_layer(weights=w, acc_bits=6, w_bits=4),)).validate()
    assert [d.code for d in diags] == ["SNN401", "SNN405"]  # 6 bits: unsupported and too small
    diags = NetSpec(6, (_layer(weights=w * 18, w_bits=8, acc_bits=8),)).validate()  # sum 756
    assert [d.code for d in diags] == ["SNN405"] and "acc_bits >= 11" in diags[0].hint


@pytest.mark.parametrize("kw, code", [
    (dict(w_bits=3), "SNN401"), (dict(v_bits=25), "SNN401"), (dict(acc_bits=41), "SNN401"),
    (dict(reset="clamp"), "SNN408"), (dict(comparator="=="), "SNN408"),
    (dict(leak=LeakSpec("exp", 1)), "SNN408"),
    (dict(leak=LeakSpec("shift", 12)), "SNN406"),
    (dict(leak=LeakSpec("mul", 257, 8)), "SNN406"),
    (dict(leak=LeakSpec("mul", 3, 0)), "SNN406"),
    (dict(bias=[0, 0, 0, -2049]), "SNN403"), (dict(reset_value=2048), "SNN403"),
    (dict(threshold=[1, 2, 3]), "SNN407"), (dict(weights=np.zeros((4, 5), np.int64)), "SNN407"),
])
def test_each_violation_has_its_code(kw, code):
    diags = NetSpec(6, (_layer(**kw),)).validate()
    assert code in [d.code for d in diags], diags


def test_chain_mismatch_and_memory_depth():
    l1 = _layer(name="a")
    l2 = _layer(name="b", weights=np.zeros((2, 5), np.int64))
    diags = NetSpec(6, (l1, l2), max_mem_depth=8).validate()
    assert [(d.code, d.node) for d in diags] == [("SNN409", "a"), ("SNN407", "b")]


def test_non_integer_values_are_reported_not_truncated(tmp_path):
    w = np.zeros((4, 6))
    w[0, 0] = 0.5
    spec = NetSpec(6, (_layer(weights=w, threshold=[1.0, 2.0, np.nan, 4.0], bias=1.0),))
    diags = spec.validate()
    assert sorted((d.code, d.message.split()[1]) for d in diags) == [
        ("SNN410", "threshold"), ("SNN410", "weights")]
    with pytest.raises(SnnccError):
        emit(spec, tmp_path)
    assert not (tmp_path / "fpga").exists()
    # integral floats are accepted as integers
    assert NetSpec(6, (_layer(weights=np.ones((4, 6)), threshold=10.0),)).validate() == []


def test_conv_engine_limits():
    from snncc.targets.fpga.netspec import Conv2dGeometry

    geo = Conv2dGeometry((2, 5, 5), (1, 1), (1, 1))
    conv = dict(name="c", weights=np.zeros((6, 2, 3, 3), np.int64), threshold=5, w_bits=4,
                v_bits=12, acc_bits=8, conv=geo, engine="conv")
    assert NetSpec(50, (LayerSpec(**conv, pe=3, simd=1),)).validate() == []
    codes = [d.code for d in NetSpec(50, (LayerSpec(**conv, pe=4, simd=2),)).validate()]
    assert codes == ["SNN404", "SNN404"]  # PE must divide Cout; SIMD must be 1
    bad_pad = dict(conv, conv=Conv2dGeometry((2, 5, 5), (1, 1), (3, 3)))
    assert [d.code for d in NetSpec(50, (LayerSpec(**bad_pad),)).validate()] == ["SNN404"]
    dense = _layer(engine="conv")
    assert "SNN408" in [d.code for d in NetSpec(6, (dense,)).validate()]


@pytest.mark.parametrize("geometry, recurrent", [
    (((2, 9, 9), (2, 2), (1, 1)), False), (((3, 5, 4), (1, 1), (0, 0)), False),
    (((2, 6, 7), (1, 2), (2, 1)), True)], ids=["strided-padded", "unpadded", "recurrent-dense-engine"])
def test_conv_synaptic_range_equals_the_dense_matrix_rows(geometry, recurrent):
    from snncc.targets.fpga.netspec import Conv2dGeometry

    rng = np.random.default_rng(0)
    geo = Conv2dGeometry(*geometry)
    w = rng.integers(-8, 8, (4, geo.in_shape[0], 3, 3))
    layer = LayerSpec("c", w, threshold=5, conv=geo)
    if recurrent:
        layer = LayerSpec("c", w, threshold=5, conv=geo, recurrent=rng.integers(-8, 8, (layer.n_out, layer.n_out)))
    dense = layer.engine_weights()
    neg, pos = layer.synaptic_row_sums()
    np.testing.assert_array_equal(neg, np.where(dense < 0, dense, 0).sum(axis=1))
    np.testing.assert_array_equal(pos, np.where(dense > 0, dense, 0).sum(axis=1))
    assert layer.synaptic_range() == (neg.min(), pos.max())
