"""Lowering canonical integer graphs to Lava parameters, and the golden backend against the
float reference simulator on networks where the float arithmetic is exact (IF neurons,
power-of-two scales: no decay truncation), so every spike and the final v must agree."""
from __future__ import annotations

import numpy as np
import pytest
from loihi2_kit import DT, SCALE, compile_graph, if_neuron, lif_neuron, spikes, synapse, two_layer

from snncc import ir
from snncc.diagnostics import SnnccError
from snncc.runtime.backend import run
from snncc.targets.loihi2.lower import lower


def test_lava_parameters_of_a_two_layer_graph():
    rng = np.random.default_rng(3)
    graph = two_layer(rng, delay_steps=2)
    low = lower(graph)
    spec = low.spec
    hidden, out = spec.population("hidden"), spec.population("out")
    assert (hidden.vth, hidden.du, hidden.dv, out.vth) == (300, 4095, 0, 150)
    # chain bias (integer units of s/64) goes to bias_mant with bias_exp 0
    np.testing.assert_array_equal(hidden.bias_mant, graph.nodes["fc1"].bias / SCALE * 64)
    assert not hidden.bias_exp.any()
    conns = {c.name: c for c in spec.connections}
    w1 = graph.nodes["fc1"].quant.params["weight"].values
    # mixed-sign weights are stored doubled with one less exponent (Lava drops their LSB)
    np.testing.assert_array_equal(conns["input__hidden"].weights, 2 * w1)
    assert conns["input__hidden"].weight_exp == 0 and conns["input__hidden"].sign_mode == "mixed"
    assert conns["hidden__hidden"].weight_exp == -1
    # the 2-step Delay node becomes a DelayDense with delay 2 (delivered 3 steps later)
    assert conns["hidden__out"].delays is not None and np.all(conns["hidden__out"].delays == 2)
    # the reference delays too, so the lags count only Lava's one step per synapse
    assert low.lags == {"input": 0, "hidden": 1, "out": 2}


def test_lif_decay_bias_exponent_and_excitatory_weights():
    lif = lif_neuron(5000, dv=410, n=3, bias_int=[64 * 4095, -6400, 7])
    graph = ir.Graph.sequential(ir.Input(shape=(2,)), synapse([[3, 0], [1, 2], [0, 255]], exp=3), lif, dt=DT)
    spec = lower(graph).spec
    pop = spec.populations[0]
    assert (pop.du, pop.dv, pop.vth) == (4095, 410, 5000)
    # 64 * 4095 = 4095 << 6; -6400 = -3200 << 1 (13-bit mantissa); 7 stays
    np.testing.assert_array_equal(pop.bias_mant, [4095, -3200, 7])
    np.testing.assert_array_equal(pop.bias_exp, [6, 1, 0])
    conn = spec.connections[0]
    assert conn.sign_mode == "excitatory" and conn.weight_exp == 3
    np.testing.assert_array_equal(conn.weights, [[3, 0], [1, 2], [0, 255]])


@pytest.mark.parametrize("delay_steps", [0, 3])
def test_golden_backend_equals_the_reference_on_exact_networks(tmp_path, delay_steps):
    rng = np.random.default_rng(delay_steps)
    out = compile_graph(two_layer(rng, delay_steps=delay_steps), tmp_path / "out")
    x = spikes(rng, 4, 40, 12)
    ref = run(out, x, "reference", record_state=True)
    gold = run(out, x, "golden", record_state=True)
    for name in ("hidden", "out"):
        assert ref.spikes[name].sum() > 10, "the test network must spike"
        np.testing.assert_array_equal(gold.spikes[name], ref.spikes[name])
        v_ref = ref.states[name]["v"][:, -1]
        np.testing.assert_array_equal(gold.states[name]["v"] * gold.state_scale[name], v_ref)
    np.testing.assert_array_equal(gold.output, ref.output)
    for name, k in {"hidden": 1, "out": 2}.items():  # raw = aligned shifted by the lag, silent before it
        assert gold.raw[name].shape[1] == 40 + 2
        assert not gold.raw[name][:, :k].any()
        np.testing.assert_array_equal(gold.raw[name][:, k:k + 40], gold.spikes[name])


def test_distinct_cuba_thresholds_split_into_processes():
    """CubaLIF neurons cannot be offset (their current persists): one process per vth."""
    from loihi2_kit import cuba_neuron

    rng = np.random.default_rng(5)
    theta = np.r_[np.full(7, 300), np.full(6, 120), np.full(7, 300)]
    cuba = cuba_neuron(300, d_syn=800, dv=200, n=20)
    cuba = cuba.replace(v_threshold=theta * SCALE)
    graph = ir.Graph.sequential(ir.Input(shape=(12,)), synapse(rng.integers(-128, 128, (20, 12))), cuba,
                                names=["input", "fc", "cuba"], dt=DT)
    low = lower(graph)
    node = low.node("cuba")
    assert len(node.processes) == 2 and {p.vth for p in low.spec.populations} == {120, 300}
    np.testing.assert_array_equal(node.neurons[0], np.arange(7, 13))        # vth 120
    np.testing.assert_array_equal(np.sort(np.concatenate(node.neurons)), np.arange(20))
    assert any(d.code == "SNN438" for d in low.notes) and not low.offsets


def test_sparse_connections_for_sparse_matrices(tmp_path):
    rng = np.random.default_rng(6)
    w = rng.integers(1, 100, (100, 80)) * (rng.random((100, 80)) < 0.1)
    graph = ir.Graph.sequential(ir.Input(shape=(80,)), synapse(w), if_neuron(200, 100), dt=DT)
    conn = lower(graph).spec.connections[0]
    assert conn.sparse and conn.sign_mode == "excitatory"
    out = compile_graph(graph, tmp_path / "out")
    x = spikes(rng, 2, 20, 80)
    ref, gold = run(out, x, "reference"), run(out, x, "golden")
    node = next(iter(ref.spikes))
    assert ref.spikes[node].sum() > 0
    np.testing.assert_array_equal(gold.spikes[node], ref.spikes[node])


def test_every_unsupported_feature_is_reported_at_once():
    rng = np.random.default_rng(7)
    n = 4
    nodes = {
        "input": ir.Input(shape=(3,)), "fc": synapse(rng.integers(-5, 5, (n, 3))),
        "sub": if_neuron(100, n, reset=ir.ResetMode.SUBTRACT),
        "fc2": synapse(rng.integers(-5, 5, (n, n))),
        "ge": if_neuron(100, n, comparator=ir.Comparator.GE),
        "fc3": synapse(rng.integers(-5, 5, (n, n))),
        "readout": ir.LI(tau=np.full(n, 0.01), r=np.ones(n), v_leak=np.zeros(n)),
        "back": synapse(rng.integers(-5, 5, (n, n))),
        "output": ir.Output(shape=(n,)),
    }
    edges = [ir.Edge(a, b) for a, b in [("input", "fc"), ("fc", "sub"), ("sub", "fc2"), ("fc2", "ge"),
                                         ("ge", "fc3"), ("fc3", "readout"), ("readout", "output"),
                                         ("ge", "back"), ("back", "sub")]]
    graph = ir.Graph(nodes, edges, dt=DT)
    with pytest.raises(SnnccError) as info:
        lower(graph)
    found = {(d.code, d.node) for d in info.value.diagnostics}
    assert {("SNN434", "sub"), ("SNN434", "ge"), ("SNN434", "readout"), ("SNN132", "sub")} <= found
    assert all(d.hint for d in info.value.diagnostics)


def test_v_reset_and_graphs_not_in_integer_form_are_rejected():
    graph = ir.Graph.sequential(
        ir.Input(shape=(2,)), ir.Affine(weight=np.ones((2, 2)), bias=np.zeros(2)),
        ir.IF(r=np.ones(2), v_threshold=np.ones(2), v_reset=np.full(2, 0.5)), dt=DT)
    with pytest.raises(SnnccError) as info:
        lower(graph)
    assert {d.code for d in info.value.diagnostics} == {"SNN434", "SNN435"}
    # quantized neuron, but a weight that is not an integer number of state units
    graph = ir.Graph.sequential(ir.Input(shape=(2,)), ir.Affine(weight=np.full((2, 2), 0.3 * SCALE),
                                                                 bias=np.zeros(2)), if_neuron(10, 2), dt=DT)
    with pytest.raises(SnnccError) as info:
        lower(graph)
    assert [d.code for d in info.value.diagnostics] == ["SNN435"]


def test_non_binary_input_is_a_clear_error(tmp_path):
    rng = np.random.default_rng(8)
    out = compile_graph(two_layer(rng), tmp_path / "out")
    x = spikes(rng, 1, 5, 12)
    x[0, 2, 3] = 0.5
    with pytest.raises(SnnccError) as info:
        run(out, x, "golden")
    (diag,) = info.value.diagnostics
    assert diag.code == "SNN511" and diag.node == "input" and "binary" in diag.message


def test_emitted_files_are_byte_identical_across_compiles(tmp_path):
    paths = [compile_graph(two_layer(np.random.default_rng(9), delay_steps=1), tmp_path / f"o{i}") for i in (1, 2)]
    for name in ("network.json", "params.npz", "mapping.json", "network.py"):
        a, b = ((tmp_path / p / "loihi2" / name).read_bytes() for p in ("o1", "o2"))
        assert a == b, name


def test_default_pipeline_gain_scale_node_keeps_its_exponent(tmp_path):
    """An IF fed straight from the input: discretize puts the gain r = 3 into a Scale node,
    quantize gives it an exponent; the connection must carry it."""
    from snncc.compiler import compile as compile_model

    n = 4
    graph = ir.Graph.sequential(ir.Input(shape=(n,)), ir.IF(r=np.full(n, 3.0), v_threshold=np.full(n, 7.0),
                                                           v_reset=np.zeros(n)), dt=DT)
    x = spikes(np.random.default_rng(10), 3, 40, n, density=0.5)
    out = str(tmp_path / "out")
    result = compile_model(graph, "loihi2", calibration=x, out_dir=out)
    scale = next(node for node in result.graph.nodes.values() if isinstance(node, ir.Scale))
    conn = lower(result.graph).spec.connections[0]
    assert conn.weight_exp == scale.quant.extra["weight_exp"] > 0
    ref, gold = run(out, x, "reference"), run(out, x, "golden")
    name = next(iter(ref.spikes))
    assert ref.spikes[name].sum() > 5
    np.testing.assert_array_equal(gold.spikes[name], ref.spikes[name])


def test_constant_current_into_a_cuba_synapse_is_rejected():
    from loihi2_kit import cuba_neuron

    graph = ir.Graph.sequential(ir.Input(shape=(2,)), synapse([[3, 1], [1, 2]], bias_int=[64, 0]),
                                cuba_neuron(100, d_syn=800, dv=200, n=2), names=["in", "fc", "cuba"], dt=DT)
    with pytest.raises(SnnccError) as info:
        lower(graph)
    (diag,) = info.value.diagnostics
    assert diag.code == "SNN434" and diag.node == "cuba" and "CubaLIF synapse" in diag.message
