"""snncc.runtime.compare: per-layer agreement and the first divergence, on real simulator runs
of a hand-built network whose behaviour is known by construction."""
import dataclasses
import shutil

import numpy as np
import pytest

import snncc
from snncc.ir import IF, Affine, Edge, Graph, Input, Output, ResetMode
from snncc.ir.serialize import load_graph, save_graph
from snncc.runtime.backend import RunResult
from snncc.runtime.compare import compare, state_at

T = 8


def relay_net(w2: np.ndarray) -> Graph:
    """in -> identity -> IF 'a' (threshold 0.5: spikes exactly when its input does) ->
    w2 -> IF 'b' (threshold 0.5, no reset: once above, it spikes every step)."""
    ones, zeros = np.ones(4), np.zeros(4)
    nodes = {"in": Input(shape=(4,)), "fc1": Affine(weight=np.eye(4), bias=zeros),
             "a": IF(r=ones, v_threshold=ones / 2, v_reset=zeros), "fc2": Affine(weight=w2, bias=zeros),
             "b": IF(r=ones, v_threshold=ones / 2, v_reset=zeros, reset=ResetMode.NONE), "out": Output(shape=(4,))}
    edges = [Edge("in", "fc1"), Edge("fc1", "a"), Edge("a", "fc2"), Edge("fc2", "b"), Edge("b", "out")]
    return Graph(nodes, edges, dt=1e-3)


def relay_input() -> np.ndarray:
    x = np.zeros((2, T, 4), np.float32)
    x[:, [0, 1], 0] = 1          # input 0 at steps 0 and 1 in both samples
    x[0, [5, 6], 2] = 1          # input 2: sample 0 at steps 5, 6; sample 1 at step 3
    x[1, 3, 2] = 1
    return x


@pytest.fixture(scope="module")
def clean_and_corrupt(tmp_path_factory):
    """The relay net compiled, and a copy with one weight of fc2 changed (2 -> 1: 0 -> 1.0)."""
    root = tmp_path_factory.mktemp("relay")
    clean = root / "clean"
    snncc.compile(relay_net(0.3 * np.eye(4)), "reference", pipeline="", out_dir=str(clean))
    corrupt = root / "corrupt"
    shutil.copytree(clean, corrupt)
    graph = load_graph(str(corrupt / "ir"))
    weight = graph.nodes["fc2"].weight.copy()
    weight[1, 2] = 1.0
    save_graph(graph.with_node("fc2", graph.nodes["fc2"].replace(weight=weight)), str(corrupt / "ir"))
    return str(clean), str(corrupt)


def test_corrupted_weight_diverges_at_its_neuron_and_the_first_step_its_source_fires(clean_and_corrupt):
    clean, corrupt = (snncc.run(path, relay_input(), record_state=True) for path in clean_and_corrupt)
    comparison = compare(clean, corrupt, ["a", "b"])
    a, b = comparison.layers
    assert (a.layer, a.agreement, a.mismatches) == ("a", 1.0, 0)
    # b's neuron 1 fires from step 3 (sample 1) and from step 5 (sample 0) on: 5 + 3 extra spikes
    assert (b.layer, b.mismatches, b.agreement) == ("b", 8, 1 - 8 / (2 * T * 4))
    assert b.spikes_b - b.spikes_a == 8 and not comparison.exact and comparison.agreement == b.agreement
    d = comparison.divergence
    assert (d.layer, d.neuron, d.step, d.sample, d.spike_a, d.spike_b) == ("b", 1, 3, 1, 0, 1)
    assert state_at(clean, "b", 1, 3, sample=1) == {"v": {"real": 0.0, "raw": 0.0}}
    assert state_at(corrupt, "b", 1, 3, sample=1) == {"v": {"real": 1.0, "raw": 1.0}}
    states = dataclasses.replace(d, state_a=state_at(clean, "b", 1, 3, sample=1), state_b={"v": {"real": 1.0, "raw": 64.0}})
    assert states.describe("clean", "corrupt") == ("first divergence: layer 'b', neuron 1, step 3, sample 1: clean spike=0, "
                                                   "corrupt spike=1; clean v=0; corrupt v=1 (raw 64)")


def test_identical_runs_are_exact(clean_and_corrupt):
    x = relay_input()
    first, second = (snncc.run(clean_and_corrupt[0], x) for _ in range(2))
    comparison = compare(first, second)
    assert comparison.exact and comparison.divergence is None and comparison.agreement == 1.0
    assert [layer.layer for layer in comparison.layers] == ["a", "b"]


def _result(name, **spikes):
    return RunResult(name, {k: np.asarray(v, np.uint8) for k, v in spikes.items()}, np.zeros((1, 3, 1)))


def test_the_earliest_step_wins_then_the_earliest_layer_in_graph_order():
    zeros = np.zeros((2, 3, 2))
    late_early_layer, early_late_layer = zeros.copy(), zeros.copy()
    late_early_layer[0, 2, 1] = 1
    early_late_layer[1, 1, 0] = 1
    c = compare(_result("x", p=zeros, q=zeros), _result("y", p=late_early_layer, q=early_late_layer), ["p", "q"])
    assert (c.divergence.layer, c.divergence.step, c.divergence.sample, c.divergence.neuron) == ("q", 1, 1, 0)
    both = early_late_layer.copy()
    c = compare(_result("x", p=zeros, q=zeros), _result("y", p=both, q=both), ["p", "q"])
    assert c.divergence.layer == "p"  # same step in both layers: the upstream one is the cause


def test_layers_missing_on_one_side_or_of_other_shapes_are_skipped_with_the_reason():
    c = compare(_result("x", p=np.zeros((1, 3, 2)), q=np.zeros((1, 3, 2))),
                _result("y", p=np.zeros((1, 3, 4)), r=np.zeros((1, 3, 2))))
    assert c.layers == () and c.agreement == 1.0
    assert c.skipped == {"q": "only x has it", "r": "only y has it", "p": "shapes differ: x (1, 3, 2), y (1, 3, 4)"}
