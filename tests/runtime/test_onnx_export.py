"""ONNX step export: onnxruntime stepping the exported model T times == the reference simulator.

Weights, inputs and thresholds are dyadic (k/8), so every sum is exact in float32 whatever
order Gemm/Conv accumulate in: spikes must match exactly and states to 1e-6. Membrane values
hit the threshold exactly, so GT and GE really differ (checked), and so does every reset mode.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from snncc.diagnostics import SnnccError
from snncc.ir import (
    IF, LIF, Affine, AvgPool2d, BatchNorm, BatchNormParams, Comparator, Conv1d, Conv2d, CubaLI,
    CubaLIF, Delay, Edge, Flatten, Graph, I, Input, LI, Linear, Output, ResetMode, Scale, SumPool2d,
    Threshold, verify,
)
from snncc.runtime import simulate
from snncc.runtime.onnx_export import export_step_onnx, run_step_model

DT = 1e-3


def dyadic(rng, shape, low=-8, high=9, denom=8.0):
    return (rng.integers(low, high, size=shape) / denom).astype(np.float32)


def lif_params(rng, shape):
    return dict(tau=rng.uniform(2e-3, 2e-2, shape), r=dyadic(rng, shape, 4, 17), v_leak=dyadic(rng, shape, -2, 3),
                v_threshold=dyadic(rng, shape, 2, 9), v_reset=dyadic(rng, shape, -2, 1))


def bn_params(rng, channels):
    return BatchNormParams(mean=dyadic(rng, channels), var=rng.uniform(0.5, 2.0, channels),
                           gamma=dyadic(rng, channels, 4, 12), beta=dyadic(rng, channels), eps=1e-5)


def conv_graph(seed: int, reset: ResetMode, comparator: Comparator) -> Graph:
    """Every stateless kind and LIF / IF / CubaLIF (with an MPBN membrane) / LI / I, with biases."""
    rng = np.random.default_rng(seed)
    s1, s2 = (4, 8, 8), (4, 4, 4)
    nodes = {
        "input": Input(shape=(2, 8, 8)),
        "conv": Conv2d(weight=dyadic(rng, (4, 2, 3, 3)), bias=dyadic(rng, 4), input_shape=(2, 8, 8), padding=1),
        "bn": BatchNorm(params=bn_params(rng, 4)),
        "lif": LIF(**lif_params(rng, s1), reset=reset, comparator=comparator, bias=dyadic(rng, s1)),
        "sumpool": SumPool2d(kernel_size=2, stride=2),
        "dwconv": Conv2d(weight=dyadic(rng, (4, 2, 3, 3)), bias=dyadic(rng, 4), input_shape=s2, padding=1, groups=2),
        "if": IF(r=dyadic(rng, s2, 4, 12), v_threshold=dyadic(rng, s2, 4, 12), v_reset=np.zeros(s2, np.float32),
                 reset=reset, comparator=comparator),
        "avgpool": AvgPool2d(kernel_size=2, stride=2),
        "flatten": Flatten(start_dim=0, end_dim=-1, input_shape=(4, 2, 2)),
        "affine": Affine(weight=dyadic(rng, (12, 16)), bias=dyadic(rng, 12)),
        "scale": Scale(scale=dyadic(rng, 12, 1, 16)),
        "cuba": CubaLIF(tau_syn=rng.uniform(2e-3, 1e-2, 12), tau_mem=rng.uniform(2e-3, 2e-2, 12),
                        r=dyadic(rng, 12, 4, 17), v_leak=np.zeros(12, np.float32), v_threshold=dyadic(rng, 12, 1, 5),
                        v_reset=np.zeros(12, np.float32), w_in=dyadic(rng, 12, 4, 20), reset=reset,
                        comparator=comparator, bias=dyadic(rng, 12), membrane_bn=bn_params(rng, 12)),
        "linear": Linear(weight=dyadic(rng, (5, 12))),
        "li": LI(tau=rng.uniform(2e-3, 2e-2, 5), r=dyadic(rng, 5, 4, 9), v_leak=dyadic(rng, 5)),
        "integrator": I(r=dyadic(rng, 12, 4, 9)),
        "threshold": Threshold(threshold=dyadic(rng, 5), comparator=comparator),
        "out_li": Output(shape=(5,)),
        "out_i": Output(shape=(12,)),
        "out_th": Output(shape=(5,)),
    }
    chain = ["input", "conv", "bn", "lif", "sumpool", "dwconv", "if", "avgpool", "flatten", "affine", "scale",
             "cuba", "linear", "li", "out_li"]
    edges = [Edge(a, b) for a, b in zip(chain, chain[1:])]
    edges += [Edge("affine", "integrator"), Edge("integrator", "out_i"), Edge("li", "threshold"),
              Edge("threshold", "out_th")]
    return Graph(nodes, tuple(edges), dt=DT)


def conv1d_graph(seed: int) -> Graph:
    rng = np.random.default_rng(seed)
    return Graph.sequential(
        Conv1d(weight=dyadic(rng, (4, 3, 3)), bias=dyadic(rng, 4), input_shape=(3, 16), stride=2, padding=1),
        IF(r=np.ones((4, 8), np.float32), v_threshold=dyadic(rng, (4, 8), 2, 9), v_reset=np.zeros((4, 8), np.float32),
           reset=ResetMode.SUBTRACT, comparator=Comparator.GE),
        Flatten(start_dim=0, end_dim=-1, input_shape=(4, 8)),
        Linear(weight=dyadic(rng, (6, 32))),
        CubaLI(tau_syn=rng.uniform(2e-3, 1e-2, 6), tau_mem=rng.uniform(2e-3, 1e-2, 6),
               r=dyadic(rng, 6, 4, 12), v_leak=dyadic(rng, 6), w_in=dyadic(rng, 6, 4, 12)),
        dt=DT,
    )


def recurrent_graph(seed: int, reset: ResetMode) -> Graph:
    """input -> affine -> lif -> rec -> lif (a loop: lif gets rec's previous step) -> readout."""
    rng = np.random.default_rng(seed)
    nodes = {
        "input": Input(shape=(6,)),
        "affine": Affine(weight=dyadic(rng, (8, 6)), bias=dyadic(rng, 8)),
        "lif": LIF(**lif_params(rng, (8,)), reset=reset, comparator=Comparator.GE),
        "rec": Linear(weight=dyadic(rng, (8, 8))),
        "out_affine": Affine(weight=dyadic(rng, (3, 8)), bias=dyadic(rng, 3)),
        "cuba": CubaLIF(tau_syn=np.full(3, 5e-3), tau_mem=np.full(3, 1e-2), r=np.full(3, 2.0),
                        v_leak=np.zeros(3), v_threshold=np.full(3, 0.5), v_reset=np.zeros(3),
                        w_in=np.full(3, 5.0), reset=reset),
        "output": Output(shape=(3,)),
    }
    edges = [Edge("input", "affine"), Edge("affine", "lif"), Edge("lif", "rec"), Edge("rec", "lif"),
             Edge("lif", "out_affine"), Edge("out_affine", "cuba"), Edge("cuba", "output")]
    return Graph(nodes, tuple(edges), dt=DT)


def drive(graph: Graph, seed: int, steps: int = 25, batch: int = 3) -> np.ndarray:
    shape = graph.nodes["input"].shape
    return dyadic(np.random.default_rng(seed + 100), (batch, steps, *shape), -4, 13)


def assert_step_model_matches(graph: Graph, x: np.ndarray, tmp_path) -> dict:
    assert not [d for d in verify(graph) if d.severity.value == "error"]
    path = tmp_path / "step.onnx"
    export_step_onnx(graph, path)
    ran = run_step_model(path, x)
    ref = simulate(graph, x, dtype=torch.float32)
    assert set(ran.spikes) == set(ref.spikes) and set(ran.states) == set(ref.states)
    for name, spikes in ref.spikes.items():
        np.testing.assert_array_equal(ran.spikes[name], spikes.numpy(), err_msg=f"spikes of {name}")
    for name, states in ref.states.items():
        for var, value in states.items():
            np.testing.assert_allclose(ran.states[name][var], value.numpy(), rtol=0, atol=1e-6, err_msg=f"{name}.{var}")
    for name, value in ref.outputs.items():
        np.testing.assert_allclose(ran.outputs[name], value.numpy(), rtol=0, atol=1e-6, err_msg=f"output {name}")
    return {k: v.numpy() for k, v in ref.spikes.items()}


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("reset", list(ResetMode))
@pytest.mark.parametrize("comparator", list(Comparator))
def test_conv_graph_equals_simulator(seed, reset, comparator, tmp_path):
    graph = conv_graph(seed, reset, comparator)
    spikes = assert_step_model_matches(graph, drive(graph, seed), tmp_path)
    assert all(0 < s.mean() < 1 for s in spikes.values()), "every spiking layer must be active but not saturated"


def test_comparator_and_reset_change_the_spikes():
    """The graphs above exercise equality and resets: GT vs GE and the reset modes differ."""
    x = drive(conv_graph(0, ResetMode.SUBTRACT, Comparator.GT), 0)
    runs = {(r, c): simulate(conv_graph(0, r, c), x, dtype=torch.float32).spikes["if"].numpy()
            for r in (ResetMode.SUBTRACT, ResetMode.VALUE) for c in Comparator}
    assert not np.array_equal(runs[ResetMode.SUBTRACT, Comparator.GT], runs[ResetMode.SUBTRACT, Comparator.GE])
    assert not np.array_equal(runs[ResetMode.SUBTRACT, Comparator.GT], runs[ResetMode.VALUE, Comparator.GT])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_conv1d_graph_equals_simulator(seed, tmp_path):
    graph = conv1d_graph(seed)
    assert_step_model_matches(graph, drive(graph, seed), tmp_path)


@pytest.mark.parametrize("reset", [ResetMode.SUBTRACT, ResetMode.VALUE])
def test_recurrent_graph_equals_simulator(reset, tmp_path):
    graph = recurrent_graph(3, reset)
    spikes = assert_step_model_matches(graph, drive(graph, 3, steps=40), tmp_path)
    without_loop = graph.replace(edges=tuple(e for e in graph.edges if e.src != "rec"))
    alone = simulate(without_loop, drive(graph, 3, steps=40), dtype=torch.float32).spikes["lif"].numpy()
    assert not np.array_equal(alone, spikes["lif"]), "the recurrent edge must matter"


def test_gaussian_weights_match_to_rounding(tmp_path):
    """Non-dyadic float32 weights: Gemm/Conv may round differently, so compare with a tolerance."""
    rng = np.random.default_rng(7)
    graph = Graph.sequential(
        Conv2d(weight=rng.normal(0, 0.5, (3, 1, 3, 3)), bias=rng.normal(0, 0.1, 3), input_shape=(1, 6, 6)),
        LIF(**{**lif_params(rng, (3, 4, 4)), "v_threshold": np.full((3, 4, 4), 0.3)}),
        Flatten(start_dim=0, end_dim=-1, input_shape=(3, 4, 4)),
        Affine(weight=rng.normal(0, 0.3, (4, 48)), bias=rng.normal(0, 0.1, 4)),
        LI(tau=np.full(4, 5e-3), r=np.ones(4), v_leak=np.zeros(4)),
        dt=DT,
    )
    x = rng.uniform(0, 1, (2, 30, 1, 6, 6)).astype(np.float32)
    path = tmp_path / "step.onnx"
    export_step_onnx(graph, path)
    ran, ref = run_step_model(path, x), simulate(graph, x, dtype=torch.float32)
    np.testing.assert_array_equal(ran.spikes["lif1"], ref.spikes["lif1"].numpy())
    np.testing.assert_allclose(ran.output if hasattr(ran, "output") else ran.outputs["output"],
                               ref.output.numpy(), rtol=1e-5, atol=1e-6)


def test_export_is_deterministic_and_declares_opset_17(tmp_path):
    graph = conv_graph(0, ResetMode.SUBTRACT, Comparator.GE)
    first, second = tmp_path / "a.onnx", tmp_path / "b.onnx"
    model = export_step_onnx(graph, first)
    export_step_onnx(conv_graph(0, ResetMode.SUBTRACT, Comparator.GE), second)
    assert first.read_bytes() == second.read_bytes()
    assert [(o.domain, o.version) for o in model.opset_import] == [("", 17)]
    names = [i.name for i in model.graph.input]
    assert names[0] == "x:input" and "state_in:lif.v" in names and "state_in:cuba.i" in names
    export_step_onnx(conv_graph(1, ResetMode.SUBTRACT, Comparator.GE), second)
    assert first.read_bytes() != second.read_bytes()


def test_delays_in_a_recurrent_loop_equal_simulator(tmp_path):
    rng = np.random.default_rng(5)
    nodes = {
        "input": Input(shape=(4,)),
        "affine": Affine(weight=dyadic(rng, (4, 4)), bias=dyadic(rng, 4)),
        "lif": LIF(**lif_params(rng, (4,)), reset=ResetMode.SUBTRACT),
        "delay": Delay(delay=np.array([0.0, 1e-3, 2e-3, 3e-3])),  # 0..3 steps
        "rec": Linear(weight=dyadic(rng, (4, 4))),
        "output": Output(shape=(4,)),
    }
    edges = [Edge("input", "affine"), Edge("affine", "lif"), Edge("lif", "delay"), Edge("delay", "rec"),
             Edge("rec", "lif"), Edge("delay", "output")]
    graph = Graph(nodes, tuple(edges), dt=DT)
    x = drive(graph, 5, steps=30)
    assert_step_model_matches(graph, x, tmp_path)
    ran = run_step_model(export_step_onnx(graph), x)
    ref = simulate(graph, x, dtype=torch.float32)
    np.testing.assert_array_equal(ran.states["delay"]["buffer"], ref.states["delay"]["buffer"].numpy())
    spikes = ref.spikes["lif"].numpy()
    np.testing.assert_array_equal(ran.outputs["output"][:, 3:, 3], spikes[:, :-3, 3])  # 3 steps late


def test_unknown_node_kind_is_a_diagnostic():
    from dataclasses import dataclass
    from typing import ClassVar

    from snncc.ir import Node

    @dataclass(frozen=True, eq=False)
    class Mystery(Node):
        kind: ClassVar[str] = "Mystery"

    graph = Graph({"input": Input(shape=(3,)), "m": Mystery(), "output": Output(shape=(3,))},
                  (Edge("input", "m"), Edge("m", "output")), dt=DT)
    with pytest.raises(SnnccError) as info:
        export_step_onnx(graph)
    assert info.value.diagnostics[0].code == "SNN520" and "Mystery" in info.value.diagnostics[0].message


def test_a_refractory_neuron_is_refused_naming_the_node():
    import numpy as np
    import pytest

    from snncc.diagnostics import SnnccError
    from snncc.ir import IF, Graph
    from snncc.runtime.onnx_export import export_step_onnx

    neuron = IF(r=np.ones(3), v_threshold=np.ones(3), v_reset=np.zeros(3), refractory=1)
    with pytest.raises(SnnccError) as info:
        export_step_onnx(Graph.sequential(neuron, names=["held"]))
    (problem,) = info.value.diagnostics
    assert problem.code == "SNN520" and problem.node == "held" and "refractory" in problem.message
