import numpy as np
import pytest

from snncc import ir
from snncc.diagnostics import Severity


def lif(n, **kw):
    return ir.LIF(tau=np.full(n, 0.01), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.ones(n),
                  v_reset=np.zeros(n), **kw)


def codes(graph):
    return {d.code for d in ir.verify(graph) if d.severity is Severity.ERROR}


def test_well_formed_graph_has_no_errors():
    g = ir.Graph.sequential(ir.Affine(weight=np.ones((3, 2)), bias=np.zeros(3)), lif(3), dt=1e-3)
    assert codes(g) == set()
    assert g.nodes["output"].shape == (3,)


def test_dangling_edge_and_unknown_port():
    g = ir.Graph({"input": ir.Input(shape=(2,)), "a": ir.Affine(weight=np.ones((2, 2)), bias=np.zeros(2))},
                 (ir.Edge("input", "a"), ir.Edge("a", "ghost"), ir.Edge("input", "a", dst_port="bias")))
    found = ir.verify(g)
    assert {"SNN202", "SNN203"} <= {d.code for d in found}
    assert any(d.node == "ghost" for d in found)


def test_shape_mismatch_names_node():
    g = ir.Graph.sequential(ir.Affine(weight=np.ones((3, 2)), bias=np.zeros(3)),
                            ir.Affine(weight=np.ones((4, 5)), bias=np.zeros(4)), names=["a", "b"])
    problems = [d for d in ir.verify(g) if d.code == "SNN204"]
    assert problems and problems[0].node == "b" and "(3,)" in problems[0].message


def test_cycle_without_stateful_node_is_rejected_but_recurrent_neuron_is_fine():
    a = ir.Affine(weight=np.eye(2), bias=np.zeros(2))
    b = ir.Affine(weight=np.eye(2), bias=np.zeros(2))
    bad = ir.Graph({"input": ir.Input(shape=(2,)), "a": a, "b": b, "output": ir.Output(shape=(2,))},
                   (ir.Edge("input", "a"), ir.Edge("a", "b"), ir.Edge("b", "a"), ir.Edge("b", "output")))
    assert "SNN205" in codes(bad)
    good = ir.Graph({"input": ir.Input(shape=(2,)), "n": lif(2), "rec": b, "output": ir.Output(shape=(2,))},
                    (ir.Edge("input", "n"), ir.Edge("n", "rec"), ir.Edge("rec", "n"), ir.Edge("n", "output")), dt=1e-3)
    assert codes(good) == set()


@pytest.mark.parametrize("field", ["tau", "v_threshold"])
def test_non_finite_parameters(field):
    node = lif(3)
    values = np.array(getattr(node, field), dtype=float)
    values[1] = np.nan if field == "tau" else np.inf
    g = ir.Graph.sequential(node.replace(**{field: values}), dt=1e-3)
    problems = [d for d in ir.verify(g) if d.code == "SNN206"]
    assert len(problems) == 1 and field in problems[0].message and problems[0].hint


def test_negative_time_constant():
    g = ir.Graph.sequential(ir.LIF(tau=-np.ones(2), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2),
                                   v_reset=np.zeros(2)), dt=1e-3)
    assert "SNN208" in codes(g)


def test_unknown_node_type():
    class Mystery(ir.Node):
        kind = "Mystery"

    g = ir.Graph({"input": ir.Input(shape=(1,)), "m": Mystery()}, (ir.Edge("input", "m"),))
    assert codes(g) == {"SNN201"}


def test_nodes_are_immutable_and_replace_is_identity_when_unchanged():
    node = lif(2)
    with pytest.raises(ValueError):
        node.tau[0] = 1.0
    assert node.replace(tau=node.tau) is node
    assert node.replace(tau=np.ones(2)) is not node


def test_evaluation_order_marks_recurrent_edge_as_back_edge():
    g = ir.Graph({"input": ir.Input(shape=(2,)), "n": lif(2), "rec": ir.Linear(weight=np.eye(2)),
                  "output": ir.Output(shape=(2,))},
                 (ir.Edge("input", "n"), ir.Edge("n", "rec"), ir.Edge("rec", "n"), ir.Edge("n", "output")), dt=1e-3)
    order, back = ir.evaluation_order(g)
    assert back == {("rec", "n")}
    assert order.index("n") < order.index("rec")


def test_is_shared_detects_per_neuron_values():
    node = lif(3)
    assert node.is_shared("tau") and node.is_shared("bias")
    assert not node.replace(v_threshold=np.array([1.0, 2.0, 1.0])).is_shared("v_threshold")


def test_per_neuron_gives_every_neuron_its_value_in_a_new_array():
    shape = (2, 3)
    assert ir.per_neuron(np.float32(0.5), shape).tolist() == [[0.5] * 3] * 2
    assert ir.per_neuron(None, shape, default=7.0).tolist() == [[7.0] * 3] * 2
    flat = np.arange(6, dtype=np.int64)  # one per neuron, but flat: reshaped, not broadcast
    assert ir.per_neuron(flat, shape).tolist() == [[0, 1, 2], [3, 4, 5]]
    frozen = lif(3).v_threshold  # read-only IR array
    out = ir.per_neuron(frozen, (3,))
    out[0] = 9.0
    assert out.dtype == np.float64 and frozen[0] == 1.0
