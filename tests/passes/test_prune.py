"""prune: zero connections, dead and unused neurons removed exactly (0 spike mismatches on every
neuron that stays), integer form kept after quantize, Scale folded."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fold_netkit import DT, neuron, spikes_in
from quant_kit import FPGA, LOIHI, check_integer_form
from snncc import ir
from snncc.passbase import PassContext
from snncc.passes.prune import Prune
from snncc.pipeline import PassManager, parse_pipeline
from snncc.runtime import simulate

PROPERTY = settings(max_examples=25, deadline=None, derandomize=True)


def _net(rng, kind="LIF", reset="value", n_in=6, n1=8, n2=5, dead=(2, 5), unused=(6,), recurrent=True):
    """input -> w1 -> n1 (-> rec -> n1) -> w2 -> n2 -> output, plus an all-zero layer input -> n2.
    Neurons ``dead`` of n1 have only negative input and no bias; ``unused`` ones feed nothing."""
    w1 = rng.normal(0.4, 0.6, (n1, n_in))
    b1 = rng.normal(0.05, 0.05, n1)
    for j in dead:
        w1[j], b1[j] = -np.abs(w1[j]), -0.01
    w2 = rng.normal(0.3, 0.6, (n2, n1))
    w2[:, list(unused)] = 0
    cell1 = neuron(kind, (n1,), rng, reset, bias=False).replace(v_leak=np.zeros(n1)) if kind != "IF" else \
        neuron(kind, (n1,), rng, reset, bias=False)
    cell1 = cell1.replace(v_threshold=np.full(n1, 0.2))
    nodes = {"input": ir.Input(shape=(n_in,)), "w1": ir.Affine(weight=w1, bias=b1), "n1": cell1,
             "w2": ir.Linear(weight=w2), "zero": ir.Linear(weight=np.zeros((n2, n_in))),
             "n2": neuron(kind, (n2,), rng, reset).replace(v_threshold=np.full(n2, 0.2)), "output": ir.Output(shape=(n2,))}
    edges = [("input", "w1"), ("w1", "n1"), ("n1", "w2"), ("w2", "n2"), ("input", "zero"), ("zero", "n2"), ("n2", "output")]
    if recurrent:  # columns of unused neurons zero here too, so they stay unused
        rec = rng.normal(0, 0.3, (n1, n1))
        rec[:, list(unused)] = 0
        rec[list(dead)] = -np.abs(rec[list(dead)])  # dead neurons get no positive recurrent input either
        nodes["rec"] = ir.Linear(weight=rec)
        edges += [("n1", "rec"), ("rec", "n1")]
    return ir.Graph(nodes, tuple(ir.Edge(a, b) for a, b in edges), dt=DT)


def _assert_exact(before, after, x, removed):
    a, b = simulate(before, x), simulate(after, x)
    keep = np.setdiff1d(np.arange(a.spikes["n1"].shape[-1]), removed)
    np.testing.assert_array_equal(b.spikes["n1"].numpy(), a.spikes["n1"].numpy()[..., keep])
    np.testing.assert_array_equal(b.spikes["n2"].numpy(), a.spikes["n2"].numpy())
    np.testing.assert_allclose(b.states["n1"]["v"].numpy(), a.states["n1"]["v"].numpy()[..., keep], rtol=0, atol=1e-9)
    return a


def test_hand_built_network():
    rng = np.random.default_rng(0)
    graph = _net(rng)
    ctx = PassContext()
    result = Prune().run(graph, ctx)
    assert result.changes["dropped_connections"] == ["zero->n2"] and "zero" not in result.graph.nodes
    report = ctx.reports["prune"]["neurons"]["n1"]
    assert report == {"dead": 2, "unused": 1, "removed": [2, 5, 6], "kept": 5}
    assert result.graph.nodes["w1"].weight.shape == (5, 6) and result.graph.nodes["rec"].weight.shape == (5, 5)
    assert result.graph.nodes["w2"].weight.shape == (5, 5)
    x = spikes_in((6,), 0, p=0.6)
    a = _assert_exact(graph, result.graph, x, [2, 5, 6])
    assert a.spikes["n1"][..., [2, 5]].sum() == 0 and a.spikes["n1"][..., 6].sum() > 0  # dead vs unused
    assert a.spikes["n2"].sum() > 10
    again = Prune().run(result.graph, PassContext())
    assert again.graph is result.graph and not again.modified


@PROPERTY
@given(seed=st.integers(0, 2**31 - 1), kind=st.sampled_from(["LIF", "IF", "CubaLIF"]),
       reset=st.sampled_from(["value", "subtract", "none"]), recurrent=st.booleans(),
       dead=st.lists(st.integers(0, 7), max_size=3, unique=True), unused=st.lists(st.integers(0, 7), max_size=3, unique=True))
def test_prune_is_exact(seed, kind, reset, recurrent, dead, unused):
    rng = np.random.default_rng(seed)
    graph = _net(rng, kind, reset, dead=tuple(dead), unused=tuple(unused), recurrent=recurrent)
    ctx = PassContext()
    result = Prune().run(graph, ctx)
    removed = ctx.reports["prune"]["neurons"].get("n1", {}).get("removed", [])
    assert set(dead) | set(unused) <= set(removed) or len(set(dead) | set(unused)) == 8
    _assert_exact(graph, result.graph, spikes_in((6,), seed, p=0.6), removed)


@pytest.mark.parametrize("caps", [FPGA, LOIHI], ids=["fpga", "loihi"])
def test_pruning_a_quantized_graph_keeps_the_integer_form(caps):
    rng = np.random.default_rng(3)
    graph = _net(rng, "LIF", "value", recurrent=False)
    ctx = PassContext(caps)
    quantized, _ = PassManager(parse_pipeline("discretize,quantize{weight_bits=6}")).run(graph, ctx)
    result = Prune().run(quantized, ctx)
    check_integer_form(result.graph, caps, 6)
    removed = ctx.reports["prune"]["neurons"]["n1"]["removed"]
    assert {2, 5, 6} <= set(removed)
    _assert_exact(quantized, result.graph, spikes_in((6,), 3, p=0.6), removed)


def test_layers_read_by_the_output_and_conv_layers_keep_their_neurons():
    rng = np.random.default_rng(4)
    graph = _net(rng, recurrent=False)
    graph = graph.replace(nodes={**graph.nodes, "output": ir.Output(shape=(8,))},
                          edges=tuple(e if e.dst != "output" else ir.Edge("n1", "output") for e in graph.edges)
                          + (ir.Edge("n2", "w3"),))
    graph = graph.replace(nodes={**graph.nodes, "w3": ir.Linear(weight=np.ones((1, 5)))})
    ctx = PassContext()
    result = Prune().run(graph, ctx)
    assert result.graph.nodes["n1"].size == 8 and ctx.reports["prune"]["neurons"] == {}


def test_scale_is_folded_into_the_private_layer_before_it():
    rng = np.random.default_rng(5)
    graph = ir.Graph.sequential(ir.Linear(weight=rng.normal(size=(4, 3))), ir.Scale(scale=np.array([1.0, 2.0, 0.5, 3.0])),
                                neuron("IF", (4,), rng), names=["w", "s", "cell"], dt=DT)
    ctx = PassContext()
    result = Prune().run(graph, ctx)
    assert result.changes["scale_folded"] == ["s->w"] and "s" not in result.graph.nodes
    a, b = simulate(graph, spikes_in((3,), 5)), simulate(result.graph, spikes_in((3,), 5))
    np.testing.assert_array_equal(a.spikes["cell"].numpy(), b.spikes["cell"].numpy())
