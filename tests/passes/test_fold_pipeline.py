"""End-to-end property: random two-layer networks with BN, MPBN (negative/tiny gamma), Scale and
chained dense maps, lowered by "fold-batchnorm,fold-mpbn,simplify" under PassManager
(verify after each pass): no BatchNorm/MPBN left and 0 spike mismatches."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fold_netkit import bn_params, chain, compare, layer, neuron, out_shape, spikes_in
from snncc import ir
from snncc.pipeline import PassManager, parse_pipeline


@settings(max_examples=25, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31 - 1), first=st.sampled_from(["affine", "conv1d", "conv2d"]),
       kind=st.sampled_from(["LIF", "IF", "CubaLIF"]), reset=st.sampled_from(["value", "subtract", "none"]),
       comparator=st.sampled_from([">", ">="]), mpbn=st.sampled_from(["none", "channel", "element"]),
       negative=st.sampled_from([0.0, 0.5]), tiny=st.sampled_from([0.0, 0.2]))
def test_lowering_pipeline_is_exact(seed, first, kind, reset, comparator, mpbn, negative, tiny):
    rng = np.random.default_rng(seed)
    in_shape, w1 = layer(first, rng)
    shape = out_shape(w1, in_shape)
    membrane = None
    if mpbn != "none":
        p_shape = (shape[0],) if mpbn == "channel" or first != "affine" else shape
        membrane = bn_params(p_shape, rng, negative=negative, tiny=tiny)
    n1 = neuron(kind, shape, rng, reset, comparator, membrane_bn=membrane)
    size = int(np.prod(shape))
    pairs = [("w1", w1), ("bn1", ir.BatchNorm(params=bn_params((shape[0],), rng, negative=negative, tiny=tiny))),
             ("n1", n1)]
    if len(shape) > 1:
        pairs.append(("flat", ir.Flatten(start_dim=0, end_dim=-1, input_shape=shape)))
    pairs += [("fc", ir.Affine(weight=rng.normal(0.3, 1.0 / np.sqrt(size), (7, size)), bias=rng.normal(0, 0.1, 7))),
              ("gain", ir.Scale(scale=rng.uniform(0.5, 2.0, 7))),
              ("proj", ir.Linear(weight=rng.normal(0.3, 0.8, (5, 7)))),
              ("bn2", ir.BatchNorm(params=bn_params((5,), rng, negative=negative))),
              ("n2", neuron("LIF" if kind == "CubaLIF" else kind, (5,), rng, reset, comparator))]
    graph = chain(*pairs)
    lowered, records = PassManager(parse_pipeline("fold-batchnorm,fold-mpbn,simplify")).run(graph)
    assert not any(isinstance(v, ir.BatchNorm) for v in lowered.nodes.values())
    assert all(v.membrane_bn is None for _, v in lowered.items_of(ir.SpikingNeuron))
    assert records[2].changes["scale_folded"] == ["gain->fc"] and records[2].changes["merged"] == ["proj->fc"]
    c = compare(graph, lowered, spikes_in(in_shape, seed, p=0.5))
    assert c.mismatches == 0
