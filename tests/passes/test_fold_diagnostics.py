"""Diagnostics of the folding passes: stable SNN31x codes, the node and channel named, all
problems collected before raising, and errors carrying the pass name through PassManager."""
import numpy as np
import pytest

from fold_netkit import bn_params, chain, layer, neuron, out_shape
from snncc import ir
from snncc.diagnostics import SnnccError
from snncc.passbase import PassContext
from snncc.passes.fold_batchnorm import FoldBatchnorm
from snncc.passes.fold_mpbn import FoldMpbn
from snncc.pipeline import PassManager
from snncc.target import Capabilities


def _errors(pass_, graph, caps=None):
    with pytest.raises(SnnccError) as info:
        pass_.run(graph, PassContext(caps))
    return info.value.diagnostics


def _mpbn_net(gamma, beta=None, v_threshold=0.5, kind="LIF", layer_kind="affine", mean=None, **extra):
    rng = np.random.default_rng(0)
    in_shape, w = layer(layer_kind, rng)
    shape = out_shape(w, in_shape)
    gamma = np.asarray(gamma, dtype=np.float64)
    p = ir.BatchNormParams(mean=np.zeros(gamma.shape) if mean is None else mean, var=np.ones(gamma.shape),
                           gamma=gamma, beta=np.zeros(gamma.shape) if beta is None else beta, eps=0.0)
    cell = neuron(kind, shape, rng, membrane_bn=p, **extra).replace(v_threshold=np.full(shape, v_threshold))
    return chain(("w", w), ("lif", cell))


def test_gamma_zero_names_the_channel_and_the_constant_decision():
    gamma = np.ones(8)
    gamma[[2, 5]] = 0.0
    beta = np.zeros(8)
    beta[5] = 1.0  # beta > V: channel 5 always fires, channel 2 never
    (d,) = _errors(FoldMpbn(), _mpbn_net(gamma, beta))
    assert d.code == "SNN312" and d.node == "lif"
    assert "channel 5 always fire" in d.message and "channel 2 never fire" in d.message
    assert "prune" in d.hint


def test_gamma_zero_ge_comparator_fires_at_equality():
    gamma, beta = np.ones(8), np.zeros(8)
    gamma[1], beta[1] = 0.0, 0.5  # beta == V: fires with >=
    (d,) = _errors(FoldMpbn(), _mpbn_net(gamma, beta, comparator=">="))
    assert "channel 1 always fire" in d.message


def test_element_wise_thresholds_behind_conv_rejected_in_shared_mode():
    rng = np.random.default_rng(1)
    in_shape, conv = layer("conv2d", rng)
    shape = out_shape(conv, in_shape)
    p = ir.BatchNormParams(mean=rng.normal(0.5, 0.1, shape), var=np.ones(shape), gamma=np.ones(shape),
                           beta=np.zeros(shape))
    graph = chain(("conv", conv), ("lif", neuron("LIF", shape, rng, membrane_bn=p)))
    (d,) = _errors(FoldMpbn(shared_threshold=True), graph)
    assert d.code == "SNN316" and d.node == "lif" and "conv" in d.message and "shared kernels" in d.message
    # the same graph folds fine with per-neuron thresholds
    assert FoldMpbn().run(graph, PassContext()).modified


def test_negative_gamma_with_shared_producer_is_rejected():
    rng = np.random.default_rng(2)
    gamma = -np.ones(4)
    p = ir.BatchNormParams(mean=np.zeros(4), var=np.ones(4), gamma=gamma, beta=np.zeros(4))
    graph = ir.Graph(
        {"input": ir.Input(shape=(3,)), "w": ir.Affine(weight=rng.normal(size=(4, 3)), bias=np.zeros(4)),
         "a": neuron("LIF", (4,), rng, membrane_bn=p), "b": neuron("LIF", (4,), rng),
         "out_a": ir.Output(shape=(4,)), "out_b": ir.Output(shape=(4,))},
        (ir.Edge("input", "w"), ir.Edge("w", "a"), ir.Edge("w", "b"), ir.Edge("a", "out_a"), ir.Edge("b", "out_b")),
        dt=1e-3)
    (d,) = _errors(FoldMpbn(), graph)
    assert d.code == "SNN313" and d.node == "a" and "'w' also feeds other nodes" in d.message


def test_non_positive_threshold_on_positive_target_names_channel():
    mean = np.zeros(8)
    mean[3] = -2.0  # theta_3 = -2 + 0.5 < 0
    caps = Capabilities("t", extra={"positive_threshold": True})
    (d,) = _errors(FoldMpbn(), _mpbn_net(np.ones(8), mean=mean), caps)
    assert d.code == "SNN314" and d.node == "lif" and "channel 3" in d.message
    # signed-threshold targets take it
    assert FoldMpbn().run(_mpbn_net(np.ones(8), mean=mean), PassContext(Capabilities("t"))).modified


def test_tiny_gamma_overflows_threshold_range():
    gamma = np.ones(8)
    gamma[6] = 1e-6  # theta = 0.5 / 1e-6
    caps = Capabilities("t", extra={"threshold_range": (0.0, 1000.0)})
    (d,) = _errors(FoldMpbn(), _mpbn_net(gamma), caps)
    assert d.code == "SNN315" and "channel 6" in d.message and "above" in d.message


def test_all_problems_are_collected():
    gamma = np.ones(8)
    gamma[0] = 0.0
    good = _mpbn_net(np.ones(8))
    bad = _mpbn_net(gamma)
    graph = ir.Graph({**bad.nodes, "lif2": good.nodes["lif"].replace(membrane_bn=bad.nodes["lif"].membrane_bn),
                      "w2": good.nodes["w"], "out2": ir.Output(shape=(8,))},
                     bad.edges + (ir.Edge("input", "w2"), ir.Edge("w2", "lif2"), ir.Edge("lif2", "out2")), dt=1e-3)
    found = _errors(FoldMpbn(), graph)
    assert [(d.code, d.node) for d in found] == [("SNN312", "lif"), ("SNN312", "lif2")]


def test_unfoldable_batchnorm_names_node_and_pass():
    rng = np.random.default_rng(3)
    graph = ir.Graph(
        {"input": ir.Input(shape=(4,)), "bn": ir.BatchNorm(params=bn_params((4,), rng)),
         "pool_in": ir.Input(shape=(4,)), "bn2": ir.BatchNorm(params=bn_params((4,), rng)),
         "output": ir.Output(shape=(4,)), "output2": ir.Output(shape=(4,))},
        (ir.Edge("input", "bn"), ir.Edge("bn", "output"), ir.Edge("pool_in", "bn2"), ir.Edge("bn2", "output2")))
    with pytest.raises(SnnccError) as info:
        PassManager([FoldBatchnorm()]).run(graph)
    found = info.value.diagnostics
    assert [(d.code, d.node, d.pass_name) for d in found] == [("SNN310", "bn", "fold-batchnorm"),
                                                              ("SNN310", "bn2", "fold-batchnorm")]
    assert "Input" in found[0].message and "Output" in found[0].message


def test_cubalif_shift_is_rejected():
    rng = np.random.default_rng(4)
    graph = chain(("input", ir.Input(shape=(5,))), ("bn", ir.BatchNorm(params=bn_params((5,), rng))),
                  ("cell", neuron("CubaLIF", (5,), rng)))
    (d,) = _errors(FoldBatchnorm(), graph)
    assert d.code == "SNN317" and d.node == "bn" and "CubaLIF" in d.message


def test_bad_statistics_are_rejected():
    p = ir.BatchNormParams(mean=np.zeros(4), var=np.array([1.0, -1.0, 1.0, 1.0]), gamma=np.ones(4),
                           beta=np.zeros(4), eps=1e-5)
    graph = chain(("fc", ir.Affine(weight=np.ones((4, 2)), bias=np.zeros(4))), ("bn", ir.BatchNorm(params=p)),
                  ("cell", neuron("IF", (4,), np.random.default_rng(0))))
    (d,) = _errors(FoldBatchnorm(), graph)
    assert d.code == "SNN311" and d.node == "bn" and "var + eps" in d.message


def test_bn_threshold_scaling_checks_the_range():
    n = 4
    p = ir.BatchNormParams(mean=np.zeros(n), var=np.ones(n), gamma=np.array([1.0, 1e-7, 1.0, 1.0]),
                           beta=np.zeros(n), eps=0.0)
    graph = chain(("input", ir.Input(shape=(n,))), ("bn", ir.BatchNorm(params=p)),
                  ("cell", neuron("IF", (n,), np.random.default_rng(0))))
    (d,) = _errors(FoldBatchnorm(), graph, Capabilities("t", extra={"threshold_range": (0.0, 1e4)}))
    assert d.code == "SNN315" and d.node == "cell" and "channel 1" in d.message
