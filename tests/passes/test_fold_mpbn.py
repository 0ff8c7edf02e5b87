"""fold-mpbn: MPBN folded into thresholds gives the same spikes as BN(v) > V in the
reference simulator, for random statistics (negative and tiny gamma), all reset modes,
both comparators, channel- and element-wise, dense and conv, and shared thresholds."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fold_netkit import bn_params, chain, compare, layer, mpbn_threshold, neuron, out_shape, spikes_in
from snncc import ir
from snncc.diagnostics import SnnccError
from snncc.passbase import PassContext
from snncc.passes.fold_mpbn import FoldMpbn
from snncc.target import Capabilities

PROPERTY = settings(max_examples=25, deadline=None, derandomize=True)


def _net(seed, layer_kind, kind, reset, comparator, elementwise, negative, tiny, channel_sign=False):
    rng = np.random.default_rng(seed)
    in_shape, weights = layer(layer_kind, rng)
    shape = out_shape(weights, in_shape)
    p = bn_params(shape if elementwise else (shape[0],), rng, negative=negative, tiny=tiny)
    if channel_sign and elementwise and len(shape) > 1:
        # a convolution can only negate whole channels: one gamma sign per channel
        sign = np.where(rng.uniform(size=shape[0]) < negative, -1.0, 1.0).reshape(-1, *([1] * (len(shape) - 1)))
        p = ir.BatchNormParams(p.mean, p.var, np.abs(p.gamma) * sign, p.beta, p.eps)
    cell = neuron(kind, shape, rng, reset, comparator, membrane_bn=p)
    return chain(("w", weights), ("lif", cell)), in_shape


@PROPERTY
@given(seed=st.integers(0, 2**31 - 1), layer_kind=st.sampled_from(["affine", "linear", "conv1d", "conv2d"]),
       kind=st.sampled_from(["LIF", "IF", "CubaLIF"]), reset=st.sampled_from(["value", "subtract", "none"]),
       comparator=st.sampled_from([">", ">="]), elementwise=st.booleans(),
       negative=st.sampled_from([0.0, 0.5, 1.0]), tiny=st.sampled_from([0.0, 0.3]))
def test_fold_mpbn_is_exact(seed, layer_kind, kind, reset, comparator, elementwise, negative, tiny):
    graph, in_shape = _net(seed, layer_kind, kind, reset, comparator, elementwise, negative, tiny, channel_sign=True)
    theta, sign = mpbn_threshold(graph.nodes["lif"])
    result = FoldMpbn().run(graph, PassContext())
    folded = result.graph.nodes["lif"]
    assert result.modified and folded.membrane_bn is None and result.changes["folded"] == ["lif"]
    # gamma < 0 neurons are negated: their threshold is -theta
    np.testing.assert_allclose(folded.v_threshold, sign * theta, rtol=1e-12, atol=1e-12)
    c = compare(graph, result.graph, spikes_in(in_shape, seed))
    assert c.mismatches == 0
    before, after = c.before.states["lif"]["v"].numpy(), c.after.states["lif"]["v"].numpy()
    np.testing.assert_allclose(after, sign * before, rtol=0, atol=1e-9)


@pytest.mark.parametrize("reset", ["value", "subtract"])
@pytest.mark.parametrize("layer_kind", ["affine", "conv2d"])
def test_negative_gamma_negates_producer_and_keeps_spikes(reset, layer_kind):
    """All gamma < 0: the inequality flips; spikes still match and there are many of them."""
    total = mismatches = 0
    for seed in range(6):
        graph, in_shape = _net(seed, layer_kind, "LIF", reset, ">", False, negative=1.0, tiny=0.0)
        folded = FoldMpbn().run(graph, PassContext())
        assert folded.changes["negated"] == ["lif"]
        np.testing.assert_array_equal(folded.graph.nodes["w"].weight, -graph.nodes["w"].weight)
        c = compare(graph, folded.graph, spikes_in(in_shape, seed))
        mismatches, total = mismatches + c.mismatches, total + c.spikes
    assert mismatches == 0
    assert total > 200  # the comparison is not vacuous


def test_recurrent_layer_negates_both_weight_layers():
    rng = np.random.default_rng(7)
    n = 6
    cell = neuron("LIF", (n,), rng, "subtract", membrane_bn=bn_params((n,), rng, negative=0.5))
    graph = ir.Graph(
        {"input": ir.Input(shape=(4,)), "w": ir.Affine(weight=rng.normal(0, 0.8, (n, 4)), bias=np.zeros(n)),
         "lif": cell, "rec": ir.Linear(weight=rng.normal(0, 0.5, (n, n))), "output": ir.Output(shape=(n,))},
        (ir.Edge("input", "w"), ir.Edge("w", "lif"), ir.Edge("lif", "rec"), ir.Edge("rec", "lif"),
         ir.Edge("lif", "output")), dt=1e-3)
    result = FoldMpbn().run(graph, PassContext())
    negative = np.asarray(cell.membrane_bn.gamma) < 0
    assert negative.any() and (~negative).any()
    np.testing.assert_array_equal(result.graph.nodes["rec"].weight[negative], -graph.nodes["rec"].weight[negative])
    np.testing.assert_array_equal(result.graph.nodes["rec"].weight[~negative], graph.nodes["rec"].weight[~negative])
    c = compare(graph, result.graph, spikes_in((4,), 1))
    assert c.mismatches == 0 and c.spikes > 20


def _positive_theta_net(seed, layer_kind, kind, reset, elementwise):
    """MPBN statistics whose (sign-corrected) thresholds are all positive."""
    rng = np.random.default_rng(seed)
    in_shape, weights = layer(layer_kind, rng)
    shape = out_shape(weights, in_shape)
    p_shape = shape if elementwise else (shape[0],)
    sign = np.where(rng.uniform(size=shape[0]) < 0.4, -1.0, 1.0).reshape(-1, *([1] * (len(p_shape) - 1)))
    gamma = sign * np.exp(rng.uniform(np.log(0.3), np.log(3.0), p_shape))
    p = ir.BatchNormParams(mean=np.sign(gamma) * rng.uniform(0.0, 0.3, p_shape), var=rng.uniform(0.05, 1, p_shape),
                           gamma=gamma, beta=rng.uniform(-0.2, 0.25, p_shape))
    # one V per layer, as trained MPBN layers have: channel-wise BN then gives per-channel thresholds
    cell = neuron(kind, shape, rng, reset, membrane_bn=p).replace(v_threshold=np.full(shape, rng.uniform(0.3, 1.0)))
    return chain(("w", weights), ("lif", cell)), in_shape


@PROPERTY
@given(seed=st.integers(0, 2**31 - 1), layer_kind=st.sampled_from(["affine", "conv1d", "conv2d"]),
       kind=st.sampled_from(["LIF", "IF", "CubaLIF"]), reset=st.sampled_from(["value", "subtract", "none"]),
       elementwise=st.booleans(), automatic=st.booleans())
def test_shared_threshold_rescaling_is_exact(seed, layer_kind, kind, reset, elementwise, automatic):
    graph, in_shape = _positive_theta_net(seed, layer_kind, kind, reset, elementwise)
    theta, sign = mpbn_threshold(graph.nodes["lif"])
    if automatic:
        run = lambda: FoldMpbn().run(graph, PassContext(Capabilities("t", threshold_granularity="process")))  # noqa: E731
    else:
        run = lambda: FoldMpbn(shared_threshold=True).run(graph, PassContext())  # noqa: E731
    if elementwise and layer_kind.startswith("conv") and kind != "CubaLIF":
        with pytest.raises(SnnccError) as info:  # shared kernels: no per-neuron factor
            run()
        assert [d.code for d in info.value.diagnostics] == ["SNN316"]
        assert info.value.diagnostics[0].node == "lif" and "shared kernels" in info.value.diagnostics[0].message
        return
    result = run()
    shared = np.asarray(result.graph.nodes["lif"].v_threshold)
    assert np.all(shared == shared.flat[0])
    membrane = sign * theta  # all > 0 by construction
    assert shared.flat[0] == pytest.approx(membrane.max(), rel=1e-12)
    c = compare(graph, result.graph, spikes_in(in_shape, seed, p=0.5))
    assert c.mismatches == 0
    k = shared / membrane
    np.testing.assert_allclose(c.after.states["lif"]["v"].numpy(), k * sign * c.before.states["lif"]["v"].numpy(),
                               rtol=1e-9, atol=1e-9)


def test_channel_granularity_shares_per_channel_only():
    graph, in_shape = _positive_theta_net(3, "conv2d", "LIF", "subtract", elementwise=False)
    caps = Capabilities("t", threshold_granularity="channel")
    result = FoldMpbn().run(graph, PassContext(caps))
    theta = np.asarray(result.graph.nodes["lif"].v_threshold).reshape(3, -1)
    assert np.all(theta == theta[:, :1]) and len(set(theta[:, 0])) == 3
    assert compare(graph, result.graph, spikes_in(in_shape, 3)).mismatches == 0


def test_no_mpbn_returns_same_graph():
    rng = np.random.default_rng(0)
    graph = chain(("w", layer("affine", rng)[1]), ("lif", neuron("LIF", (8,), rng)))
    result = FoldMpbn().run(graph, PassContext())
    assert result.graph is graph and not result.modified and result.changes == {}


def test_sign_scale_from_fold_batchnorm_takes_negation_and_sharing():
    """Input -> BN (some a < 0) -> MPBN-IF (some gamma < 0): fold-batchnorm leaves a sign Scale,
    fold-mpbn negates and rescales through it; the pipeline stays exact."""
    from snncc.pipeline import PassManager, parse_pipeline

    rng = np.random.default_rng(9)
    n = 8
    gamma = np.where(rng.uniform(size=n) < 0.5, -1.0, 1.0) * rng.uniform(0.3, 2.0, n)
    mpbn = ir.BatchNormParams(mean=np.sign(gamma) * rng.uniform(0, 0.5, n), var=rng.uniform(0.05, 2, n), gamma=gamma,
                              beta=rng.uniform(-0.5, 0.25, n))
    cell = neuron("IF", (n,), rng, "subtract", membrane_bn=mpbn).replace(v_threshold=np.full(n, 0.5))
    bn = bn_params((n,), rng, negative=0.0)
    bn = ir.BatchNormParams(bn.mean, bn.var, bn.gamma * np.sign(gamma), bn.beta, bn.eps)  # same signs: neurons fire
    graph = chain(("input", ir.Input(shape=(n,))), ("bn", ir.BatchNorm(params=bn)), ("cell", cell))
    lowered, _ = PassManager(parse_pipeline("fold-batchnorm,fold-mpbn{shared_threshold=true}")).run(graph)
    assert isinstance(lowered.nodes["bn"], ir.Scale) and lowered.nodes["cell"].membrane_bn is None
    assert lowered.nodes["cell"].is_shared("v_threshold")
    c = compare(graph, lowered, spikes_in((n,), 9, p=0.6))
    assert c.mismatches == 0 and c.spikes > 20
