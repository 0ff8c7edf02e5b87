"""fold-batchnorm into a neuron with a channel-wise BN over multi-dimensional neurons (the case
the other property tests leave out: there a channel-wise BN always had a producer to fold into),
and the whole lowering chain fold-batchnorm -> fold-mpbn -> discretize staying exact."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fold_netkit import bn_gain, bn_params, chain, compare, neuron, spikes_in
from snncc import ir
from snncc.passbase import PassContext
from snncc.pipeline import PassManager, parse_pipeline

PROPERTY = settings(max_examples=25, deadline=None, derandomize=True)
SHAPE = (3, 4, 4)


@PROPERTY
@given(seed=st.integers(0, 2**31 - 1), kind=st.sampled_from(["LIF", "IF", "CubaLIF"]),
       reset=st.sampled_from(["value", "subtract", "none"]), comparator=st.sampled_from([">", ">="]),
       negative=st.sampled_from([0.0, 0.5, 1.0]), tiny=st.sampled_from([0.0, 0.5]), mpbn=st.booleans())
def test_channel_wise_bn_into_neuron_then_discretize_is_exact(seed, kind, reset, comparator, negative, tiny, mpbn):
    rng = np.random.default_rng(seed)
    p = bn_params((SHAPE[0],), rng, negative=negative, tiny=tiny)
    if kind == "CubaLIF":  # a shift into the synaptic current has no exact fold: zero shift
        p = ir.BatchNormParams(p.mean, p.var, p.gamma, p.mean * (p.gamma / np.sqrt(p.var + p.eps)), p.eps)
    extra = {"membrane_bn": bn_params(SHAPE, rng, negative=negative, tiny=tiny)} if mpbn else {}
    cell = neuron(kind, SHAPE, rng, reset, comparator, **extra)
    graph = chain(("input", ir.Input(shape=SHAPE)), ("bn", ir.BatchNorm(params=p)), ("cell", cell))
    folded, records = PassManager(parse_pipeline("fold-batchnorm,fold-mpbn,discretize")).run(graph, PassContext())
    assert records[0].changes["into_neuron"] == ["bn->cell"]
    assert folded.nodes["cell"].membrane_bn is None
    a = bn_gain(p, SHAPE)
    if kind != "CubaLIF" and np.any(a < 0):  # the sign stays as a Scale; discretize's gain goes into it
        assert isinstance(folded.nodes["bn"], ir.Scale)
    c = compare(graph, folded, spikes_in(SHAPE, seed, p=0.5))
    assert c.mismatches == 0
