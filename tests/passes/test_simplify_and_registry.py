"""simplify (identities, Scale folding, Affine merging) checked through the reference
simulator, plus registry names and pipeline-text round trips of the folding passes."""
import numpy as np
import pytest
import torch

from fold_netkit import bn_params, chain, compare, layer, neuron, out_shape, spikes_in
from snncc import ir
from snncc.passbase import PassContext
from snncc.passes.simplify import Simplify
from snncc.pipeline import PassManager, parse_pipeline, pipeline_spec
from snncc.registry import PASSES
from snncc.runtime import simulate


def test_simplify_collapses_synapse_chain_exactly():
    rng = np.random.default_rng(0)
    graph = chain(
        ("input", ir.Input(shape=(2, 3))),
        ("flat", ir.Flatten(start_dim=0, end_dim=-1, input_shape=(2, 3))),
        ("ones", ir.Scale(scale=np.ones(6))),
        ("fc1", ir.Affine(weight=rng.normal(0, 0.8, (5, 6)), bias=rng.normal(0, 0.1, 5))),
        ("s", ir.Scale(scale=rng.uniform(0.5, 2.0, 5))),
        ("fc2", ir.Linear(weight=rng.normal(0, 0.8, (4, 5)))),
        ("same", ir.Flatten(start_dim=0, end_dim=-1, input_shape=(4,))),
        ("cell", neuron("LIF", (4,), rng, "subtract")),
    )
    result = Simplify().run(graph, PassContext())
    assert result.changes == {"removed": ["ones", "same"], "scale_folded": ["s->fc1"], "merged": ["fc2->fc1"]}
    assert list(result.graph.nodes) == ["input", "flat", "fc1", "cell", "output"]
    merged = result.graph.nodes["fc1"]
    w1, b1 = graph.nodes["fc1"].weight, graph.nodes["fc1"].bias
    s, w2 = graph.nodes["s"].scale, graph.nodes["fc2"].weight
    np.testing.assert_allclose(merged.weight, w2 @ (s[:, None] * w1), rtol=1e-12)
    np.testing.assert_allclose(merged.bias, w2 @ (s * b1), rtol=1e-12)
    x = spikes_in((2, 3), 0, p=0.5)
    c = compare(graph, result.graph, x)
    assert c.mismatches == 0 and c.spikes > 5
    np.testing.assert_allclose(c.after.states["cell"]["v"], c.before.states["cell"]["v"], rtol=0, atol=1e-9)
    assert Simplify().run(result.graph, PassContext()).graph is result.graph  # fixed point


def test_scale_before_dense_folds_into_columns():
    rng = np.random.default_rng(1)
    graph = chain(("s", ir.Scale(scale=rng.uniform(0.5, 2.0, 6))), ("fc", ir.Affine(weight=rng.normal(size=(3, 6)),
                  bias=rng.normal(size=3))), ("cell", neuron("IF", (3,), rng)))
    result = Simplify().run(graph, PassContext())
    assert result.changes == {"scale_folded": ["s->fc"]} and "s" not in result.graph.nodes
    x = np.random.default_rng(2).normal(size=(2, 5, 6))
    torch.testing.assert_close(simulate(result.graph, x).states["cell"]["v"], simulate(graph, x).states["cell"]["v"],
                               rtol=0, atol=1e-12)


def test_merge_skips_bottlenecks_unless_asked():
    rng = np.random.default_rng(3)
    graph = chain(("a", ir.Linear(weight=rng.normal(size=(2, 40)))), ("b", ir.Linear(weight=rng.normal(size=(40, 2)))),
                  ("cell", neuron("IF", (40,), rng)))
    kept = Simplify().run(graph, PassContext())
    assert kept.graph is graph and not kept.modified
    merged = Simplify(merge_larger=True).run(graph, PassContext())
    assert merged.changes == {"merged": ["b->a"]} and isinstance(merged.graph.nodes["a"], ir.Linear)
    assert compare(graph, merged.graph, spikes_in((40,), 3)).mismatches == 0


def test_shared_producer_is_not_merged():
    rng = np.random.default_rng(4)
    graph = ir.Graph(
        {"input": ir.Input(shape=(3,)), "a": ir.Affine(weight=rng.normal(size=(3, 3)), bias=np.zeros(3)),
         "b": ir.Affine(weight=rng.normal(size=(3, 3)), bias=np.zeros(3)), "o1": ir.Output(shape=(3,)),
         "o2": ir.Output(shape=(3,))},
        (ir.Edge("input", "a"), ir.Edge("a", "b"), ir.Edge("a", "o1"), ir.Edge("b", "o2")))
    assert Simplify().run(graph, PassContext()).graph is graph


def test_registry_names_match_modules():
    names = PASSES.names()
    assert {"fold-batchnorm", "fold-mpbn", "simplify"} <= set(names)
    for name in names:
        assert PASSES.get(name).name == name


@pytest.mark.parametrize("text", ["fold-batchnorm,fold-mpbn,simplify",
                                  "fold-batchnorm,fold-mpbn{shared_threshold=true},simplify{merge_larger=true}"])
def test_pipeline_text_round_trip(text):
    passes = parse_pipeline(text)
    assert pipeline_spec(passes) == text
    assert pipeline_spec(parse_pipeline(pipeline_spec(passes))) == text


def test_full_pipeline_on_bn_and_mpbn_network_is_exact():
    """conv -> BN -> MPBN-LIF (channel-wise, some gamma < 0) -> flatten -> fc -> BN -> LIF,
    through fold-batchnorm, fold-mpbn (shared thresholds) and simplify, verified after each."""
    rng = np.random.default_rng(8)
    in_shape, conv = layer("conv2d", rng)
    shape = out_shape(conv, in_shape)
    gamma = np.array([1.3, -0.7, 0.4])
    mpbn = ir.BatchNormParams(mean=np.sign(gamma) * 0.2, var=np.array([0.5, 1.0, 2.0]), gamma=gamma,
                              beta=np.array([-0.2, 0.1, 0.0]))
    cell1 = neuron("LIF", shape, rng, "subtract", membrane_bn=mpbn).replace(v_threshold=np.full(shape, 0.5))
    n = int(np.prod(shape))
    fc = ir.Affine(weight=rng.normal(0, 0.3, (10, n)), bias=np.zeros(10))
    cell2 = neuron("LIF", (10,), rng, "value").replace(v_threshold=np.full(10, 0.4))
    graph = chain(("conv", conv), ("bn1", ir.BatchNorm(params=bn_params((3,), rng, negative=0.0))), ("n1", cell1),
                  ("flat", ir.Flatten(start_dim=0, end_dim=-1, input_shape=shape)), ("fc", fc),
                  ("bn2", ir.BatchNorm(params=bn_params((10,), rng, negative=0.0))), ("n2", cell2))
    lowered, records = PassManager(parse_pipeline("fold-batchnorm,fold-mpbn{shared_threshold=true},simplify")).run(
        graph, PassContext())
    assert [r.modified for r in records] == [True, True, False]
    assert not any(isinstance(v, ir.BatchNorm) for v in lowered.nodes.values())
    assert all(lowered.nodes[k].membrane_bn is None and lowered.nodes[k].is_shared("v_threshold") for k in ("n1", "n2"))
    c = compare(graph, lowered, spikes_in(in_shape, 8, p=0.5))
    assert c.mismatches == 0 and c.spikes > 50


@pytest.mark.parametrize("pool_first", [False, True])
def test_avgpool_next_to_a_conv_becomes_a_sumpool_with_the_area_in_the_conv(pool_first):
    import torch

    from snncc.ir import IF, AvgPool2d, Conv2d, Flatten, Graph, Input, SumPool2d
    from snncc.passbase import PassContext
    from snncc.passes.simplify import Simplify
    from snncc.runtime import simulate

    rng = np.random.default_rng(3)
    pool = AvgPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(1, 0))
    conv = Conv2d(weight=rng.normal(size=(3, 2, 3, 3)), bias=rng.normal(size=3), input_shape=(2, 5, 3) if pool_first else (2, 8, 6))
    chain = [pool, conv] if pool_first else [conv, pool]
    shape = (2, 8, 6)
    for node in chain:
        shape = node.output_shape(shape)
    n = int(np.prod(shape))
    neuron = IF(r=np.ones(n), v_threshold=np.full(n, 0.3), v_reset=np.zeros(n))
    graph = Graph.sequential(Input(shape=(2, 8, 6)), *chain, Flatten(input_shape=shape), neuron,
                             names=["in", *(["pool", "conv"] if pool_first else ["conv", "pool"]), "flat", "n"])
    result = Simplify().run(graph, PassContext())
    assert result.modified and isinstance(result.graph.nodes["pool"], SumPool2d)
    np.testing.assert_allclose(result.graph.nodes["conv"].weight, conv.weight / 4)
    x = torch.from_numpy((rng.random((4, 6, 2, 8, 6)) < 0.5).astype(np.float64))
    before, after = simulate(graph, x), simulate(result.graph, x)
    np.testing.assert_allclose(after.states["n"]["v"].numpy(), before.states["n"]["v"].numpy(), atol=1e-12)
    assert torch.equal(after.output, before.output)
