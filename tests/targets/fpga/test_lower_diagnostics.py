"""What cannot run on the FPGA engines is reported, all of it at once, and nothing is written."""
import numpy as np
import pytest

from snncc.compiler import compile
from snncc.diagnostics import SnnccError
from snncc.ir import CubaLIF, Delay, Edge, Graph, Input, Output

from fpga_ir_nets import DT, S, affine, dense_if_net, if_layer, lif_recurrent_net, quant


def _codes(graph, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(SnnccError) as info:
        compile(graph, "fpga", pipeline="", out_dir=str(out))
    assert not out.exists()  # staged: nothing half-written
    return info.value.diagnostics


def test_every_out_of_range_value_in_one_error(tmp_path):
    graph = dense_if_net()
    fc0, if0, if1 = graph.nodes["fc0"], graph.nodes["if0"], graph.nodes["if1"]
    weight = np.array(fc0.weight)
    weight[0, 0] = 40000 * S  # beyond the widest (16-bit) weight memory
    threshold = np.array(if1.v_threshold)
    threshold[1] = 2**23 * S  # beyond the 24-bit membrane
    graph = graph.with_node("fc0", fc0.replace(weight=weight, quant=None))
    graph = graph.with_node("if1", if1.replace(v_threshold=threshold))
    graph = graph.with_node("if0", if0.replace(v_reset=np.full(if0.size, 0.5 * S), reset="value"))
    found = {(d.code, d.node) for d in _codes(graph, tmp_path)}
    assert found == {("SNN402", "if0"), ("SNN403", "if1"), ("SNN412", "if0")}


def test_unquantized_and_non_integral_values(tmp_path):
    graph = dense_if_net()
    graph = graph.with_node("if0", graph.nodes["if0"].replace(quant=None))
    fc1 = graph.nodes["fc1"]
    graph = graph.with_node("fc1", fc1.replace(bias=np.asarray(fc1.bias) + 0.3 * S))
    found = {(d.code, d.node) for d in _codes(graph, tmp_path)}
    assert found == {("SNN413", "if0"), ("SNN410", "if1")}


def test_graphs_that_are_not_a_chain(tmp_path):
    rng = np.random.default_rng(0)
    nodes = {"in": Input(shape=(4,)), "fc1": affine(rng, 3, 4), "a": if_layer(3, 10), "fc2": affine(rng, 3, 3),
             "b": if_layer(3, 10), "skip": affine(rng, 3, 4), "out": Output(shape=(3,))}
    edges = [Edge("in", "fc1"), Edge("fc1", "a"), Edge("a", "fc2"), Edge("fc2", "b"), Edge("in", "skip"),
             Edge("skip", "b"), Edge("b", "out")]
    diags = _codes(Graph(nodes, edges, dt=DT), tmp_path)
    assert [(d.code, d.node) for d in diags] == [("SNN411", "b")]
    assert "skip" not in diags[0].message and "a, in" in diags[0].message


def test_delays_and_persistent_synaptic_current(tmp_path):
    graph = lif_recurrent_net()
    lif2 = graph.nodes["lif2"]
    n = lif2.size
    cuba = CubaLIF(tau_syn=np.full(n, 4 * DT), tau_mem=np.asarray(lif2.tau), r=np.asarray(lif2.r),
                   v_leak=np.zeros(n), v_threshold=np.asarray(lif2.v_threshold), v_reset=np.zeros(n),
                   w_in=np.full(n, 4.0), quant=quant(S))
    nodes = dict(graph.nodes)
    nodes["lif2"] = cuba
    nodes["delay"] = Delay(delay=np.full(8, 2 * DT))
    edges = [Edge("in", "delay"), Edge("delay", "fc1")] + [e for e in graph.edges if e.src != "in"]
    found = {(d.code, d.node) for d in _codes(Graph(nodes, edges, dt=DT), tmp_path)}
    assert found == {("SNN414", "lif1"), ("SNN412", "lif2")}


def test_canonical_form_is_required(tmp_path):
    graph = lif_recurrent_net()
    lif1 = graph.nodes["lif1"]
    graph = graph.with_node("lif1", lif1.replace(r=np.ones(lif1.size)))  # per-step gain dt/tau, not 1
    found = {(d.code, d.node) for d in _codes(graph, tmp_path)}
    assert found == {("SNN413", "lif1")}
