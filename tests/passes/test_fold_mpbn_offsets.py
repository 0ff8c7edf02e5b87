"""fold-mpbn on a target with threshold offsets (Capabilities.extra["threshold_offsets"], e.g.
loihi2): LIF/IF thresholds stay per neuron, of either sign, with no rescaling, and the fold
stays exact; CubaLIF keeps the shared-threshold rules (its current persists, no offsets)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fold_netkit import bn_params, chain, compare, layer, mpbn_threshold, neuron, out_shape, spikes_in
from snncc.diagnostics import SnnccError
from snncc.passbase import PassContext
from snncc.passes.fold_mpbn import FoldMpbn
from snncc.target import Capabilities

PROPERTY = settings(max_examples=25, deadline=None, derandomize=True)
OFFSETS = Capabilities("offsets", threshold_granularity="process",
                       extra={"positive_threshold": True, "threshold_offsets": True})


def _mpbn_net(seed, layer_kind, kind, reset):
    """A channel-wise MPBN whose folded thresholds have both signs (negative means, as trained)."""
    rng = np.random.default_rng(seed)
    in_shape, weights = layer(layer_kind, rng)
    shape = out_shape(weights, in_shape)
    p = bn_params((shape[0],), rng, negative=0.3)
    p = type(p)(mean=p.mean - 1.0, var=p.var, gamma=p.gamma, beta=p.beta, eps=p.eps)
    cell = neuron(kind, shape, rng, reset, membrane_bn=p).replace(v_threshold=np.full(shape, 0.8))
    return chain(("w", weights), ("lif", cell)), in_shape


def _folded(node):
    theta, sign = mpbn_threshold(node)
    return sign * theta


@PROPERTY
@given(seed=st.integers(0, 2**31 - 1), layer_kind=st.sampled_from(["affine", "linear", "conv1d", "conv2d"]),
       kind=st.sampled_from(["LIF", "IF"]), reset=st.sampled_from(["value", "subtract", "none"]))
def test_lif_and_if_keep_per_neuron_thresholds_of_either_sign(seed, layer_kind, kind, reset):
    graph, in_shape = _mpbn_net(seed, layer_kind, kind, reset)
    expected = _folded(graph.nodes["lif"])
    result = FoldMpbn().run(graph, PassContext(OFFSETS))
    folded = result.graph.nodes["lif"]
    assert "shared" not in result.changes and folded.membrane_bn is None
    np.testing.assert_allclose(folded.v_threshold, expected, rtol=1e-12, atol=1e-12)
    c = compare(graph, result.graph, spikes_in(in_shape, seed))
    assert c.mismatches == 0


def test_the_same_graph_fails_without_offsets_and_digits_like_thresholds_fold():
    graph, in_shape = _mpbn_net(4, "affine", "LIF", "value")
    theta = _folded(graph.nodes["lif"])
    assert theta.min() <= 0 < theta.max() and len(set(theta.tolist())) == theta.size
    plain = Capabilities("no-offsets", threshold_granularity="process", extra={"positive_threshold": True})
    with pytest.raises(SnnccError) as info:
        FoldMpbn().run(graph, PassContext(plain))
    assert {d.code for d in info.value.diagnostics} == {"SNN316"}
    result = FoldMpbn().run(graph, PassContext(OFFSETS))
    assert compare(graph, result.graph, spikes_in(in_shape, 4)).spikes > 20


def test_cuba_keeps_the_shared_threshold_rules():
    graph, _ = _mpbn_net(2, "affine", "CubaLIF", "value")
    assert _folded(graph.nodes["lif"]).min() <= 0
    with pytest.raises(SnnccError) as info:
        FoldMpbn().run(graph, PassContext(OFFSETS))
    (diag,) = info.value.diagnostics
    assert diag.code == "SNN316" and "CubaLIF" in diag.hint


def test_explicit_shared_threshold_still_rescales():
    graph, in_shape = _mpbn_net(3, "affine", "IF", "value")
    cell = graph.nodes["lif"]
    p = cell.membrane_bn
    positive = type(p)(mean=np.abs(p.mean) + 0.5, var=p.var, gamma=np.abs(p.gamma), beta=p.beta - 1.0, eps=p.eps)
    graph = graph.with_node("lif", cell.replace(membrane_bn=positive))
    assert _folded(graph.nodes["lif"]).min() > 0
    result = FoldMpbn(shared_threshold=True).run(graph, PassContext(OFFSETS))
    theta = np.asarray(result.graph.nodes["lif"].v_threshold)
    assert result.changes["shared"] == ["lif"] and np.all(theta == theta.flat[0])
    assert compare(graph, result.graph, spikes_in(in_shape, 3)).mismatches == 0
