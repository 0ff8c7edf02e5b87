"""The refractory period of spiking neurons: verify() accepts only a whole number of steps,
and targets whose neurons have none refuse it by name instead of silently dropping it."""
import numpy as np
import pytest

from snncc import compile as snncc_compile
from snncc import ir
from snncc.diagnostics import SnnccError


def graph_with(refractory):
    neuron = ir.LIF(tau=np.full(4, 0.01), r=np.ones(4), v_leak=np.zeros(4), v_threshold=np.ones(4),
                    v_reset=np.zeros(4), refractory=refractory)
    return ir.Graph.sequential(ir.Affine(weight=np.full((4, 3), 0.5), bias=np.zeros(4)), neuron, dt=1e-3)


@pytest.mark.parametrize("steps", [-1, 1.5, True, "1"])
def test_refractory_must_be_a_non_negative_whole_number_of_steps(steps):
    found = [d for d in ir.verify(graph_with(steps)) if d.code == "SNN208"]
    assert len(found) == 1 and found[0].node == "lif1" and "refractory" in found[0].message


def test_numpy_integer_steps_are_plain_ints():
    assert ir.verify(graph_with(np.int64(3))) == [] and type(graph_with(np.int64(3)).nodes["lif1"].refractory) is int


@pytest.mark.parametrize("target", ["loihi2", "spinnaker2", "fpga"])
def test_hardware_targets_refuse_a_refractory_period(target):
    with pytest.raises(SnnccError) as err:
        snncc_compile(graph_with(1), target)
    [diag] = err.value.diagnostics
    assert diag.code == "SNN400" and diag.node == "lif1" and target in diag.message and "refractory" in diag.message
    assert "reference" in diag.hint


def test_reference_target_compiles_it_and_keeps_it(tmp_path):
    result = snncc_compile(graph_with(2), "reference", out_dir=str(tmp_path / "out"))
    assert result.graph.nodes["lif1"].refractory == 2
    from snncc.ir.serialize import load_graph

    assert load_graph(str(tmp_path / "out" / "ir")).nodes["lif1"].refractory == 2
