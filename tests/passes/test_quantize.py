"""quantize: the integer form of the lowering contract (checked independently in quant_kit),
what it counts (saturation, zeros, thresholds out of range, silenced neurons), exactness on
weights already on the grid, spike agreement on calibration data, and the digits model."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fold_netkit import DT, chain, compare, layer, neuron, out_shape, per_channel_params, spikes_in
from quant_kit import FPGA, LOIHI, SPINNAKER2, TARGETS, check_integer_form
from snncc import ir
from snncc.diagnostics import SnnccError
from snncc.passbase import PassContext
from snncc.passes.discretize import Discretize
from snncc.passes.quantize import Quantize
from snncc.pipeline import PassManager, parse_pipeline
from snncc.runtime import simulate
from snncc.target import Capabilities

PROPERTY = settings(max_examples=30, deadline=None, derandomize=True)


def lower(graph, caps, calibration=None, **options):
    ctx = PassContext(caps, calibration=calibration)
    discretized = Discretize().run(graph, ctx).graph
    result = Quantize(**options).run(discretized, ctx)
    return discretized, result, ctx


@PROPERTY
@given(seed=st.integers(0, 2**31 - 1), target=st.sampled_from(sorted(TARGETS)), bits=st.integers(2, 8),
       layer_kind=st.sampled_from(["affine", "linear", "conv2d"]), kind=st.sampled_from(["LIF", "IF", "CubaLIF"]),
       per_channel=st.booleans(), excitatory=st.booleans())
def test_integer_form(seed, target, bits, layer_kind, kind, per_channel, excitatory):
    rng = np.random.default_rng(seed)
    in_shape, w1 = layer(layer_kind, rng)
    if excitatory:  # one sign: Loihi-like targets get one more magnitude bit
        w1 = w1.replace(weight=np.abs(w1.weight))
    shape = out_shape(w1, in_shape)
    size = int(np.prod(shape))
    flat = [("flat", ir.Flatten(start_dim=0, end_dim=-1, input_shape=shape))] if len(shape) > 1 else []
    cells = [per_channel_params(neuron(kind, shape, rng, "value", ">")), neuron(kind, (4,), rng, "value", ">")]
    if target == "loihi":
        cells = [c.replace(v_threshold=np.abs(c.v_threshold)) for c in cells]  # Lava's vth is unsigned
    graph = chain(("w1", w1), ("n1", cells[0]), *flat,
                  ("w2", ir.Affine(weight=rng.normal(0, 0.5, (4, size)), bias=rng.normal(0, 0.1, 4))), ("n2", cells[1]))
    discretized, result, ctx = lower(graph, TARGETS[target], weight_bits=bits, per_channel=per_channel)
    check_integer_form(result.graph, TARGETS[target], bits)
    again = Quantize(weight_bits=bits).run(result.graph, ctx)
    assert again.graph is result.graph and not again.modified


def _grid_net(rng, step=0.05, qmax=127):
    """Weights, biases and thresholds already on an 8-bit grid of ``step``: quantize must be exact."""
    w = rng.integers(-qmax, qmax + 1, (6, 5)).astype(float)
    w[0, 0] = qmax
    cell = ir.IF(r=np.ones(6), v_threshold=np.full(6, 40 * step), v_reset=np.zeros(6), bias=np.full(6, 3 * step))
    return chain(("w", ir.Affine(weight=w * step, bias=rng.integers(-5, 5, 6) * step)), ("cell", cell))


def test_weights_on_the_grid_are_exact_and_agree_fully():
    rng = np.random.default_rng(0)
    graph = _grid_net(rng)
    x = spikes_in((5,), 0, p=0.5)
    _, result, ctx = lower(graph, FPGA, calibration=x)
    layer_report = ctx.reports["quantize"]["layers"]["cell"]
    assert layer_report["state_scale"] == pytest.approx(0.05)
    projection = layer_report["projections"]["input->cell"]
    assert projection["saturated"] == 0 and projection["rounded_to_zero"] == 0
    assert layer_report["spike_agreement"]["agreement"] == 1.0
    assert layer_report["thresholds_out_of_range"] == 0 and layer_report["cannot_fire"] == 0
    c = compare(graph, result.graph, x)
    assert c.mismatches == 0 and c.spikes > 10
    np.testing.assert_array_equal(result.graph.nodes["w"].quant.params["weight"].values, np.rint(graph.nodes["w"].weight / 0.05))
    assert result.graph.nodes["cell"].quant.params["v_threshold"].values[0] == 40


def test_counts_zeros_saturation_out_of_range_thresholds_and_silenced_neurons():
    w = np.array([[1.0, 0.001, 0.5], [0.003, -0.002, 0.0], [0.2, 0.3, -1.0]])
    cell = ir.IF(r=np.ones(3), v_threshold=np.array([0.5, 0.001, -0.3]), v_reset=np.zeros(3))
    graph = chain(("w", ir.Linear(weight=w)), ("cell", cell))
    _, result, ctx = lower(graph, LOIHI, weight_bits=4)
    report = ctx.reports["quantize"]["layers"]["cell"]
    projection = report["projections"]["input->cell"]
    # 4-bit mixed-sign: step 1/7; 0.001, 0.003, -0.002 round to zero
    assert projection["rounded_to_zero"] == 3 and projection["saturated"] == 0
    # Loihi's vth is unsigned: -0.3 is clipped to 0
    assert report["thresholds_out_of_range"] == 1
    # neuron 1 lost its only positive weight (0.003) and its threshold is above zero: silent now
    assert report["silenced"] == 1 and report["cannot_fire"] == 1
    codes = sorted(d.code for d in ctx.notes)
    assert codes == ["SNN333", "SNN334"]
    # percentile clipping saturates exactly the weights above it
    _, clipped, ctx2 = lower(graph, FPGA, weight_bits=8, percentile=50.0)
    magnitude = np.abs(w[w != 0])
    expected = int(np.sum(magnitude / np.percentile(magnitude, 50.0) * 127 > 127.5))
    assert ctx2.reports["quantize"]["layers"]["cell"]["projections"]["input->cell"]["saturated"] == expected > 0


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_spike_agreement_report_matches_the_simulator(target):
    rng = np.random.default_rng(4)
    in_shape, w = layer("affine", rng)
    graph = chain(("w", w), ("cell", neuron("LIF", (8,), rng, "value", ">").replace(v_threshold=np.full(8, 0.3))))
    x = spikes_in(in_shape, 4, p=0.6)
    discretized, result, ctx = lower(graph, TARGETS[target], calibration=x, weight_bits=3)
    entry = ctx.reports["quantize"]["layers"]["cell"]["spike_agreement"]
    torch.set_num_threads(1)
    a, b = simulate(discretized, x).spikes["cell"], simulate(result.graph, x).spikes["cell"]
    assert entry["agreement"] == pytest.approx(float((a == b).double().mean()))
    assert entry["spikes_float"] == int(a.sum()) > 0


def test_per_channel_rewrite_is_exact_before_rounding():
    from snncc.passes._quant_layers import equalize_rows

    rng = np.random.default_rng(6)
    in_shape, conv = layer("conv2d", rng)
    shape = out_shape(conv, in_shape)
    conv = conv.replace(weight=conv.weight * np.array([1.0, 0.05, 3.0])[:, None, None, None])
    graph = chain(("w", conv), ("cell", neuron("LIF", shape, rng, "subtract")))
    equalized, names = equalize_rows(graph, ["cell"])
    assert names == ["cell"]
    rows = np.abs(equalized.nodes["w"].weight).reshape(3, -1).max(1)
    np.testing.assert_allclose(rows, rows.max(), rtol=1e-12)
    assert compare(graph, equalized, spikes_in(in_shape, 6, p=0.5)).mismatches == 0


def test_diagnostics_and_float_target():
    rng = np.random.default_rng(1)
    two = chain(("a", ir.Linear(weight=rng.normal(size=(4, 3)))), ("b", ir.Linear(weight=rng.normal(size=(2, 4)))),
                ("cell", neuron("IF", (2,), rng)))
    with pytest.raises(SnnccError) as info:
        Quantize().run(two, PassContext(FPGA))
    assert [d.code for d in info.value.diagnostics] == ["SNN330"]
    with pytest.raises(SnnccError) as info:
        Quantize(weight_bits=9).run(two, PassContext(LOIHI))
    assert [d.code for d in info.value.diagnostics] == ["SNN331"]
    mpbn = ir.BatchNormParams(np.zeros(2), np.ones(2), np.ones(2), np.zeros(2))
    with pytest.raises(SnnccError) as info:
        Quantize().run(chain(("w", ir.Linear(weight=np.eye(2))), ("cell", neuron("IF", (2,), rng, membrane_bn=mpbn))),
                       PassContext(FPGA))
    assert [d.code for d in info.value.diagnostics] == ["SNN336"]
    ctx = PassContext(Capabilities("float"))
    assert Quantize().run(two, ctx).graph is two and "skipped" in ctx.reports["quantize"]


def test_pinned_state_scale_is_used_everywhere_or_refused_when_too_fine():
    rng = np.random.default_rng(5)
    graph = chain(("w", ir.Linear(weight=np.array([[0.5, -0.25], [0.75, 0.125]]))), ("cell", neuron("IF", (2,), rng)))
    cell = graph.nodes["cell"].replace(v_threshold=np.ones(2), bias=np.zeros(2), r=np.ones(2))
    graph = graph.with_node("cell", cell)
    _, result, _ = lower(graph, LOIHI, state_scale=1 / 64)   # not the finest scale quantize would pick
    quant = result.graph.nodes["cell"].quant
    assert quant.extra["state_scale"] == 1 / 64
    assert quant.params["v_threshold"].values.tolist() == [64, 64]
    ints = check_integer_form(result.graph, LOIHI, 8)
    assert [m.tolist() for m in ints.values()] == [[[32, -16], [48, 8]]]   # weight * 64, exponent 0
    with pytest.raises(SnnccError) as info:                  # a threshold of 1e9 units does not fit 17 bits
        lower(graph, LOIHI, state_scale=1e-9)
    assert [(d.code, d.node) for d in info.value.diagnostics] == [("SNN337", "cell")]
    with pytest.raises(SnnccError) as info:
        lower(graph, LOIHI, state_scale=-1.0)
    assert [d.code for d in info.value.diagnostics] == ["SNN331"]


def test_delay_layers_use_the_delay_weight_cap():
    rng = np.random.default_rng(2)
    n = 4
    graph = chain(("w", ir.Linear(weight=rng.normal(size=(n, 3)))), ("d", ir.Delay(delay=np.full(n, 2 * DT))),
                  ("cell", neuron("IF", (n,), rng)))
    _, result, ctx = lower(graph, SPINNAKER2)
    projection = ctx.reports["quantize"]["layers"]["cell"]["projections"]["input->cell"]
    assert projection["range"] == [-15, 15]
    assert np.abs(result.graph.nodes["w"].quant.params["weight"].values).max() == 15


def test_digits_model_keeps_its_accuracy_at_8_bits(digits):
    """The trained digits model through the default lowering passes with FPGA-like formats."""
    from snncc.compiler import compile as compile_model

    x, y = np.load(digits / "test_x.npy"), np.load(digits / "test_y.npy")
    float_graph = compile_model(str(digits / "model.pt"), "reference").graph
    ctx = PassContext(FPGA, calibration=x[:32])
    lowered, _ = PassManager(parse_pipeline("discretize,quantize{weight_bits=8}")).run(float_graph, ctx)
    torch.set_num_threads(1)
    accuracy = lambda g: float((simulate(g, torch.as_tensor(x)).output.sum(1).argmax(1).numpy() == y).mean())  # noqa: E731
    assert accuracy(lowered) >= accuracy(float_graph) - 0.02
    agreement = [v["spike_agreement"]["agreement"] for v in ctx.reports["quantize"]["layers"].values()]
    assert min(agreement) > 0.95


def test_wide_fan_in_cannot_wrap_the_state():
    """200 inputs of the largest weight at once must fit the 24-bit state (Lava wraps u): the
    scale grows beyond what the weights alone would allow."""
    n_in = 200
    w = np.full((2, n_in), 0.5)
    w[1, :100] = -0.5
    cell = ir.IF(r=np.ones(2), v_threshold=np.full(2, 0.5), v_reset=np.zeros(2))
    graph = chain(("w", ir.Linear(weight=w)), ("cell", cell))
    _, result, ctx = lower(graph, LOIHI, weight_bits=8)
    check_integer_form(result.graph, LOIHI, 8)
    s = ctx.reports["quantize"]["layers"]["cell"]["state_scale"]
    assert n_in * 0.5 / s <= 2**17 - 1
