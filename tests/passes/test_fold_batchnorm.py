"""fold-batchnorm: a BN folded into the producing layer or into the neuron it drives gives
the same spikes in the reference simulator (random statistics, negative/tiny gamma, all
reset modes, both comparators, dense and conv, channel- and element-wise)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fold_netkit import bn_gain, bn_params, chain, compare, full, layer, neuron, out_shape, spikes_in
from snncc import ir
from snncc.passbase import PassContext
from snncc.passes.fold_batchnorm import FoldBatchnorm

PROPERTY = settings(max_examples=25, deadline=None, derandomize=True)


@PROPERTY
@given(seed=st.integers(0, 2**31 - 1), layer_kind=st.sampled_from(["affine", "linear", "conv1d", "conv2d"]),
       kind=st.sampled_from(["LIF", "IF", "CubaLIF"]), reset=st.sampled_from(["value", "subtract", "none"]),
       comparator=st.sampled_from([">", ">="]), elementwise=st.booleans(), tiny=st.sampled_from([0.0, 0.3]))
def test_bn_into_producer_is_exact(seed, layer_kind, kind, reset, comparator, elementwise, tiny):
    rng = np.random.default_rng(seed)
    in_shape, weights = layer(layer_kind, rng)
    shape = out_shape(weights, in_shape)
    conv = layer_kind.startswith("conv")
    # element-wise BN folds into a conv only with one value per channel: use per-element arrays of that form
    p = bn_params(shape[:1], rng, negative=0.4, tiny=tiny)
    if elementwise:
        p = ir.BatchNormParams(*(full(getattr(p, k), shape) for k in ("mean", "var", "gamma", "beta")), eps=p.eps)
    graph = chain(("w", weights), ("bn", ir.BatchNorm(params=p)), ("cell", neuron(kind, shape, rng, reset, comparator)))
    result = FoldBatchnorm().run(graph, PassContext())
    assert result.changes == {"into_weights": ["bn->w"]}
    assert "bn" not in result.graph.nodes and list(result.graph.nodes) == ["input", "w", "cell", "output"]
    assert isinstance(result.graph.nodes["w"], ir.Conv1d if layer_kind == "conv1d" else
                      ir.Conv2d if conv else ir.Affine)
    c = compare(graph, result.graph, spikes_in(in_shape, seed))
    assert c.mismatches == 0
    # the neuron is untouched, so its state is the same up to rounding of the folded current
    for key, before in c.before.states["cell"].items():
        np.testing.assert_allclose(c.after.states["cell"][key].numpy(), before.numpy(), rtol=0, atol=1e-9)


def test_folded_weights_match_the_formula():
    rng = np.random.default_rng(5)
    w = rng.normal(size=(4, 3))
    p = bn_params((4,), rng, negative=0.5)
    graph = chain(("fc", ir.Linear(weight=w)), ("bn", ir.BatchNorm(params=p)), ("cell", neuron("IF", (4,), rng)))
    folded = FoldBatchnorm().run(graph, PassContext()).graph.nodes["fc"]
    s = np.sqrt(p.var + p.eps)
    assert isinstance(folded, ir.Affine)
    np.testing.assert_allclose(folded.weight, w * (p.gamma / s)[:, None], rtol=1e-14)
    np.testing.assert_allclose(folded.bias, p.beta + (0.0 - p.mean) * p.gamma / s, rtol=1e-14, atol=1e-15)


@PROPERTY
@given(seed=st.integers(0, 2**31 - 1), source=st.sampled_from(["input", "conv2d", "conv1d"]),
       kind=st.sampled_from(["LIF", "IF", "CubaLIF"]), reset=st.sampled_from(["value", "subtract", "none"]),
       comparator=st.sampled_from([">", ">="]), negative=st.sampled_from([0.0, 0.5]),
       tiny=st.sampled_from([0.0, 0.3]), mpbn=st.booleans())
def test_bn_into_neuron_is_exact(seed, source, kind, reset, comparator, negative, tiny, mpbn):
    """No foldable producer (graph input, or element-wise BN behind a conv): scale -> threshold,
    shift -> bias current (CubaLIF: scale -> w_in, with a zero shift)."""
    rng = np.random.default_rng(seed)
    if source == "input":
        in_shape = shape = (8,)
        pairs = [("input", ir.Input(shape=in_shape))]
    else:
        in_shape, conv = layer(source, rng)
        shape = out_shape(conv, in_shape)
        pairs = [("w", conv)]
    p = bn_params(shape, rng, negative=negative, tiny=tiny)  # element-wise
    if kind == "CubaLIF":  # zero shift: beta = mean * gamma / s
        p = ir.BatchNormParams(p.mean, p.var, p.gamma, p.mean * (p.gamma / np.sqrt(p.var + p.eps)), p.eps)
    extra = {"membrane_bn": bn_params(shape[:1], rng, negative=0.0)} if mpbn else {}
    cell = neuron(kind, shape, rng, reset, comparator, **extra)
    graph = chain(*pairs, ("bn", ir.BatchNorm(params=p)), ("cell", cell))
    result = FoldBatchnorm().run(graph, PassContext())
    assert result.changes["into_neuron"] == ["bn->cell"]
    a = bn_gain(p, shape)
    if kind != "CubaLIF" and np.any(a < 0):
        assert result.changes["sign_scale"] == ["bn"] and isinstance(result.graph.nodes["bn"], ir.Scale)
        np.testing.assert_array_equal(result.graph.nodes["bn"].scale, np.sign(a))
    else:
        assert "bn" not in result.graph.nodes
    c = compare(graph, result.graph, spikes_in(in_shape, seed))
    assert c.mismatches == 0
    # LIF/IF: u = v / |a|; CubaLIF: the synaptic current and v are unchanged
    k = 1.0 / np.abs(a) if kind != "CubaLIF" else np.ones(shape)
    before, after = c.before.states["cell"]["v"].numpy(), c.after.states["cell"]["v"].numpy()
    np.testing.assert_allclose(after, k * before, rtol=1e-9, atol=1e-9)


def test_zero_gamma_bn_before_neuron_becomes_constant_bias():
    rng = np.random.default_rng(2)
    p = bn_params((5,), rng, negative=0.0, zero=True)
    p = ir.BatchNormParams(p.mean, p.var, p.gamma, np.r_[0.3, p.beta[1:]], p.eps)  # channel 0: constant drive 0.3
    cell = neuron("IF", (5,), rng, "subtract")
    graph = chain(("input", ir.Input(shape=(5,))), ("bn", ir.BatchNorm(params=p)), ("cell", cell))
    result = FoldBatchnorm().run(graph, PassContext())
    scale = result.graph.nodes["bn"].scale
    assert scale[0] == 0 and np.all(scale[1:] == 1)
    np.testing.assert_allclose(result.graph.nodes["cell"].bias[0], cell.bias[0] + 0.3, rtol=1e-12)
    c = compare(graph, result.graph, spikes_in((5,), 2))
    assert c.mismatches == 0 and c.spikes > 10


def test_shift_goes_to_bias_not_threshold():
    """fpga.md §3.2: the shift is integrated every step, so it must be a bias current."""
    rng = np.random.default_rng(4)
    n = 16
    p = ir.BatchNormParams(mean=np.zeros(n), var=np.ones(n) - 1e-5, gamma=np.full(n, 2.0), beta=np.full(n, 0.05))
    cell = neuron("LIF", (n,), rng, "subtract", bias=False)
    graph = chain(("input", ir.Input(shape=(n,))), ("bn", ir.BatchNorm(params=p)), ("cell", cell))
    result = FoldBatchnorm().run(graph, PassContext())
    folded = result.graph.nodes["cell"]
    np.testing.assert_allclose(folded.v_threshold, cell.v_threshold / 2.0, rtol=1e-12)
    np.testing.assert_allclose(folded.bias, np.full(n, 0.025), rtol=1e-12)
    # the FINN-style alternative (shift into the threshold) changes spikes: the test can tell them apart
    wrong = result.graph.with_node("cell", folded.replace(bias=None, v_threshold=(cell.v_threshold - 0.05) / 2.0))
    assert compare(graph, wrong, spikes_in((n,), 4)).mismatches > 0
    assert compare(graph, result.graph, spikes_in((n,), 4)).mismatches == 0


def test_second_run_is_a_fixed_point():
    rng = np.random.default_rng(1)
    in_shape, w = layer("conv2d", rng)
    graph = chain(("w", w), ("bn", ir.BatchNorm(params=bn_params((3,), rng))), ("cell", neuron("LIF", (3, 6, 6), rng)))
    once = FoldBatchnorm().run(graph, PassContext()).graph
    again = FoldBatchnorm().run(once, PassContext())
    assert again.graph is once and not again.modified


@pytest.mark.parametrize("kind", ["LIF", "IF"])
def test_bn_between_two_producers_and_neuron_chain(kind):
    """Two BN'd layers in sequence: both fold, spikes identical."""
    rng = np.random.default_rng(11)
    w1 = ir.Affine(weight=rng.normal(0.5, 1.0, (8, 6)), bias=np.zeros(8))
    w2 = ir.Linear(weight=rng.normal(0.5, 1.0, (5, 8)))
    graph = chain(("w1", w1), ("bn1", ir.BatchNorm(params=bn_params((8,), rng, negative=0.2))), ("n1", neuron(kind, (8,), rng)),
                  ("w2", w2), ("bn2", ir.BatchNorm(params=bn_params((5,), rng, negative=0.2))), ("n2", neuron(kind, (5,), rng)))
    result = FoldBatchnorm().run(graph, PassContext())
    assert result.changes == {"into_weights": ["bn1->w1", "bn2->w2"]}
    c = compare(graph, result.graph, spikes_in((6,), 11))
    assert c.mismatches == 0 and c.spikes > 20
