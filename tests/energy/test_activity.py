"""Activity counts of the tiny network, counted by hand (see energy_kit's docstring)."""
import numpy as np
from energy_kit import LOIHI_CORES, SPIKES, X, tiny_graph

from snncc.energy.activity import count_activity
from snncc.energy.cores import Layout


def _counts(activity):
    return {k: activity.per_inference(k).tolist() for k in activity.counts}


def test_one_core_per_population_without_a_mapping():
    act = count_activity(tiny_graph(), X, SPIKES, weight_bits=None, state_bits=None, layout=Layout(1, 8))
    assert [c.key for c in act.cores] == ["0.0", "0.1"]
    assert [c.members for c in act.cores] == [(("a", 0, 3),), (("b", 0, 1),)]
    c = _counts(act)
    # input->a: t0 input0 reaches a0, a1 (2); t1 input0 (2) + input1 -> a1 (1). a->b: t0 a0 -> b (w 0.5); t1 a1 -> b has w 0
    assert c["synops_ac"] == [5, 1] and c["synops_mac"] == [0, 0]
    assert c["synops_dense"] == [2 * 6, 2 * 3]  # all structural synapses, every step
    assert c["neuron_updates_active"] == [2 + 2, 1]  # a0, a1 receive input both steps; b only at t0
    assert c["neuron_updates_idle"] == [1 + 1, 1]
    assert c["spikes_out"] == [2, 1]
    assert c["messages_in"] == [1 + 2, 1]  # host input messages; a0's spike at t0
    assert c["messages_out"] == [1, 0]  # a1's spike reaches no core (its only weight is 0)
    assert c["hops_ew"] == [1, 0] and c["hops_ns"] == [0, 0]  # core 0 at (0, 0), core 1 at (1, 0)
    assert c["mem_read_bits_weight"] == [5 * 32, 1 * 32]  # float: 32-bit weights
    assert c["mem_read_bits_state"] == c["mem_write_bits_state"] == [3 * 2 * 32, 1 * 2 * 32]
    assert act.weight_bits == {"input->a": 32, "a->b": 32}


def test_core_slices_and_mesh_hops_follow_the_core_assignment():
    graph = tiny_graph(LOIHI_CORES)
    act = count_activity(graph, X, SPIKES, weight_bits=8, state_bits=24, layout=Layout(4, 8))
    assert [c.key for c in act.cores] == ["0.0", "0.5", "0.36"]
    assert [act.layout.position(c) for c in act.cores] == [(0, 0), (1, 0), (1, 1)]  # tiles 0, 1, 9
    c = _counts(act)
    assert c["synops_ac"] == [5, 0, 1]
    assert c["neuron_updates_active"] == [4, 0, 1] and c["neuron_updates_idle"] == [0, 2, 1]
    assert c["spikes_out"] == [2, 0, 1]
    assert c["messages_in"] == [3, 0, 1] and c["messages_out"] == [1, 0, 0]
    assert c["hops_ew"] == [1, 0, 0] and c["hops_ns"] == [1, 0, 0]  # (0, 0) -> (1, 1)
    assert c["mem_read_bits_weight"] == [5 * 8, 0, 8]
    assert c["mem_read_bits_state"] == [2 * 2 * 24, 1 * 2 * 24, 1 * 2 * 24]
    # per step, not only in total: a1 and a0 both receive at t1, so core 0 has 3 synops then
    assert act.counts["synops_ac"][0, :, 0].tolist() == [2, 3]


def test_graded_input_counts_multiply_accumulates_and_bias_makes_neurons_active():
    graph = tiny_graph()
    w1 = graph.nodes["w1"]
    from snncc.ir import Affine

    graph = graph.with_node("w1", Affine(weight=w1.weight, bias=np.array([0.0, 0.0, 0.5])))
    x = X * np.array([0.5, 2.0])  # graded: 0.5, 2.0 instead of spikes
    act = count_activity(graph, x, SPIKES, weight_bits=None, state_bits=None)
    assert act.per_inference("synops_mac").tolist() == [5, 0] and act.per_inference("synops_ac").tolist() == [0, 1]
    assert act.per_inference("neuron_updates_active").tolist()[0] == 6  # a2 now has a bias: active every step


def test_an_elementwise_projection_is_one_structural_synapse_per_neuron():
    """Input -> Scale -> LIF and Input -> LIF directly: neuron i hears input i only, so the
    dense count is one synapse per neuron and step, not all-to-all (a zero scale still counts)."""
    from energy_kit import lif

    from snncc.ir import Graph, Input, Scale

    x, silent = np.ones((1, 2, 3)), {"a": np.zeros((1, 2, 3), np.uint8)}
    scaled = Graph.sequential(Input(shape=(3,)), Scale(scale=np.array([1.0, 0.0, 2.0])), lif(3),
                              names=["input", "s", "a"], dt=1e-3)
    act = count_activity(scaled, x, silent, weight_bits=None, state_bits=None)
    assert act.per_inference("synops_dense").tolist() == [3 * 2] and act.per_inference("synops_ac").tolist() == [2 * 2]
    direct = Graph.sequential(Input(shape=(3,)), lif(3), names=["input", "a"], dt=1e-3)
    act = count_activity(direct, x, silent, weight_bits=None, state_bits=None)
    assert act.per_inference("synops_dense").tolist() == [3 * 2] and act.per_inference("synops_ac").tolist() == [3 * 2]
