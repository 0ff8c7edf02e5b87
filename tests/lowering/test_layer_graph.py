"""snncc.lowering: projection matrices against the reference simulator, and the schedule."""
import numpy as np
import pytest
import torch

from snncc.diagnostics import SnnccError
from snncc.ir import IF, Affine, AvgPool2d, Conv2d, Delay, Edge, Flatten, Graph, Input, Linear, Output, SumPool2d
from snncc.lowering import layer_graph, schedule
from snncc.runtime import simulate

BIG = 1e9  # thresholds no input reaches: the IF membrane after one step is its input current


def _if(n):
    return IF(r=np.ones(n), v_threshold=np.full(n, BIG), v_reset=np.zeros(n))


def test_conv_pool_chain_matrix_and_bias_equal_the_simulated_input_current():
    rng = np.random.default_rng(0)
    conv = Conv2d(weight=rng.normal(size=(3, 2, 3, 3)), bias=rng.normal(size=3), input_shape=(2, 6, 6), padding=(1, 1))
    graph = Graph.sequential(
        Input(shape=(2, 6, 6)), conv, SumPool2d(kernel_size=(2, 2), stride=(2, 2)), Flatten(input_shape=(3, 3, 3)), _if(27),
        names=["in", "conv", "pool", "flat", "n"])
    layers = layer_graph(graph)
    (proj,) = layers.into("n")
    assert proj.src == "in" and proj.chain == ("conv", "pool", "flat") and not proj.back
    matrix, bias = layers.matrix(proj), layers.bias("n")
    assert matrix.shape == (27, 72)
    x = rng.random((4, 1, 2, 6, 6))
    v = simulate(graph, torch.from_numpy(x)).states["n"]["v"][:, 0].reshape(4, -1).numpy()
    np.testing.assert_allclose(x.reshape(4, -1) @ matrix.T + bias, v, rtol=1e-12, atol=1e-12)


def _recurrent(cross_layer: bool) -> Graph:
    rng = np.random.default_rng(1)
    aff = lambda o, i: Affine(weight=rng.normal(size=(o, i)), bias=np.zeros(o))  # noqa: E731
    nodes = {"in": Input(shape=(3,)), "fc1": aff(4, 3), "a": _if(4), "fc2": aff(5, 4), "b": _if(5),
             "rec": aff(4, 5) if cross_layer else aff(5, 5), "out": Output(shape=(5,))}
    edges = [Edge("in", "fc1"), Edge("fc1", "a"), Edge("a", "fc2"), Edge("fc2", "b"), Edge("b", "out"),
             Edge("b", "rec"), Edge("rec", "a" if cross_layer else "b")]
    return Graph(nodes, edges)


def test_schedule_lags_layers_and_keeps_self_recurrence_at_one_step():
    layers = layer_graph(_recurrent(cross_layer=False))
    lag, extra = schedule(layers, min_latency=1)
    assert lag == {"in": 0, "a": 1, "b": 2}
    rec = next(p for p in layers.projections if p.chain == ("rec",))
    assert rec.back and rec.src == rec.dst == "b"
    assert all(v == 0 for v in extra.values())
    # a target with same-step synapses needs one extra step on the recurrent edge only
    lag0, extra0 = schedule(layers, min_latency=0)
    assert set(lag0.values()) == {0} and extra0[rec] == 1 and sum(extra0.values()) == 1


def test_recurrence_across_layers_is_rejected_for_latency_one_targets():
    layers = layer_graph(_recurrent(cross_layer=True))
    with pytest.raises(SnnccError) as info:
        schedule(layers, min_latency=1)
    assert info.value.diagnostics[0].code == "SNN132"
    schedule(layers, min_latency=0)  # fine when synapses are same-step


@pytest.mark.parametrize("case", range(6))
def test_sparse_operators_equal_the_simulator_kernels_on_an_identity_batch(case):
    rng = np.random.default_rng(case)
    groups = 2 if case % 2 else 1
    stride, padding, dilation = (1 + case % 2, 1 + case % 3), (case % 2, (case + 1) % 2), (1 + (case // 3), 1)
    conv = Conv2d(weight=rng.normal(size=(4, 4 // groups, 3, 2)), bias=rng.normal(size=4), input_shape=(4, 9, 8),
                  stride=stride, padding=padding, dilation=dilation, groups=groups)
    out_shape = conv.output_shape((4, 9, 8))
    pool = (SumPool2d if case % 2 else AvgPool2d)(kernel_size=(2, 2), stride=(1 + case % 2, 2), padding=(case % 2, 0))
    flat_shape = pool.output_shape(out_shape)
    graph = Graph.sequential(Input(shape=(4, 9, 8)), conv, pool, Flatten(input_shape=flat_shape), _if(int(np.prod(flat_shape))),
                             names=["in", "conv", "pool", "flat", "n"])
    layers = layer_graph(graph)
    (proj,) = layers.projections[:1]
    np.testing.assert_allclose(layers.matrix(proj), layers.matrix_by_evaluation(proj), rtol=1e-12, atol=1e-12)


def test_conv1d_batchnorm_and_scale_operators_equal_the_simulator_kernels():
    from snncc.ir import BatchNorm, BatchNormParams, Conv1d, Scale

    rng = np.random.default_rng(7)
    conv = Conv1d(weight=rng.normal(size=(3, 2, 3)), bias=rng.normal(size=3), input_shape=(2, 10), stride=(2,),
                  padding=(1,), dilation=(1,))
    shape = conv.output_shape((2, 10))
    bn = BatchNorm(params=BatchNormParams(mean=rng.normal(size=3), var=rng.random(3) + 0.1, gamma=rng.normal(size=3),
                                          beta=rng.normal(size=3)))
    scale = Scale(scale=rng.normal(size=shape))
    graph = Graph.sequential(Input(shape=(2, 10)), conv, bn, scale, Flatten(input_shape=shape), _if(int(np.prod(shape))),
                             names=["in", "conv", "bn", "scale", "flat", "n"])
    layers = layer_graph(graph)
    (proj,) = layers.projections[:1]
    np.testing.assert_allclose(layers.matrix(proj), layers.matrix_by_evaluation(proj), rtol=1e-12, atol=1e-12)


def test_readout_of_an_output_equals_the_simulated_output():
    """Two projections into the Output, one through a per-element Delay and a biased Affine,
    one a bare Linear from the input: the host readout from the populations' values is the
    reference simulator's output."""
    rng = np.random.default_rng(3)
    dt = 1e-3
    nodes = {"in": Input(shape=(3,)), "fc1": Affine(weight=rng.normal(size=(4, 3)), bias=rng.normal(size=4)),
             "n": IF(r=np.ones(4), v_threshold=np.full(4, 0.3), v_reset=np.zeros(4)),
             "d": Delay(delay=np.array([0, 1, 2, 3]) * dt), "fc2": Affine(weight=rng.normal(size=(2, 4)), bias=rng.normal(size=2)),
             "skip": Linear(weight=rng.normal(size=(2, 3))), "out": Output(shape=(2,))}
    edges = [Edge("in", "fc1"), Edge("fc1", "n"), Edge("n", "d"), Edge("d", "fc2"), Edge("fc2", "out"),
             Edge("in", "skip"), Edge("skip", "out")]
    graph = Graph(nodes, edges, dt=dt)
    x = (rng.random((2, 9, 3)) < 0.5).astype(np.float64)
    sim = simulate(graph, torch.from_numpy(x))
    spikes = sim.spikes["n"].reshape(2, 9, -1).numpy()
    assert spikes.any() and spikes[:, :, 3].any()  # the longest delay matters
    out = layer_graph(graph).readout("out", {"in": x, "n": spikes})
    np.testing.assert_allclose(out, sim.output.reshape(2, 9, -1).numpy(), rtol=1e-12, atol=1e-12)
