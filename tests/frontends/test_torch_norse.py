"""norse cells and sequence modules -> IR: the reference simulation of the imported graph
reproduces norse's own forward pass (spikes exactly, leaky-integrator outputs to float32
precision), including nonzero v_leak / v_reset start values, recurrent cells, Lift and
the module's own dt."""
from __future__ import annotations

import norse.torch as norse
import pytest
import torch
from frontend_kit import linear, random_spikes, recording
from norse.torch.functional.reset import reset_subtract
from torch import nn

from snncc import ir
from snncc.diagnostics import SnnccError
from snncc.frontends.torch_layers import model_layers, module_to_graph
from snncc.runtime import simulate

P = norse.LIFParameters
t = torch.tensor


def norse_layers(model) -> list[nn.Module]:
    return [m for _, m in model_layers(model) if type(m).__module__.startswith("norse")]


def run_cells(model, x):
    """norse's forward one step at a time (cells) -> each norse layer's output [B, T, ...]."""
    state = None
    with recording(norse_layers(model), pick=lambda out: out[0]) as outputs, torch.no_grad():
        for step in range(x.shape[1]):
            _, state = model(x[:, step], state)
    return [torch.stack(steps, 1) for steps in outputs]


def run_sequence(model, x):
    """norse's sequence modules on time-major input -> each norse layer's output [B, T, ...]."""
    with recording(norse_layers(model), pick=lambda out: out[0]) as outputs, torch.no_grad():
        model(x.transpose(0, 1))
    return [calls[-1].transpose(0, 1) for calls in outputs]


CELLS = {
    "lif": lambda: norse.SequentialState(
        linear(20, 120, 3), norse.LIFCell(P(tau_syn_inv=t(200.0), tau_mem_inv=t(100.0), v_th=t(0.3))),
        linear(120, 60, 3), norse.LIFCell(P(v_leak=t(0.2), v_th=t(0.5), v_reset=t(-0.1)))),
    "recurrent+box": lambda: norse.SequentialState(
        norse.LIFRecurrentCell(20, 100, P(tau_syn_inv=t(200.0), v_th=t(0.2)), autapses=True),
        linear(100, 60, 3), norse.LIFBoxCell(norse.LIFBoxParameters(tau_mem_inv=t(200.0), v_th=t(0.1), v_leak=t(0.05)))),
    "box-subtract+li": lambda: norse.SequentialState(
        linear(20, 120, 3), norse.LIFBoxCell(norse.LIFBoxParameters(tau_mem_inv=t(300.0), v_th=t(0.4),
                                                                    reset_method=reset_subtract)),
        linear(120, 10, 3), norse.LICell(norse.LIParameters(v_leak=t(0.3)))),
    "iaf+li-linear": lambda: norse.SequentialState(
        linear(20, 120, 1), norse.IAFCell(norse.IAFParameters(v_th=t(0.7), v_reset=t(0.2))), norse.LILinearCell(120, 10)),
    "li-box": lambda: norse.SequentialState(linear(20, 40, 1), norse.LIBoxCell(norse.LIBoxParameters(v_leak=t(-0.3)))),
    "conv": lambda: norse.SequentialState(
        nn.Conv2d(2, 4, 3, padding=1), norse.LIFCell(P(v_th=t(0.2))), nn.Flatten(), linear(4 * 36, 20, 3),
        norse.LIFCell(P(v_th=t(0.3)))),
}
SEQUENCES = {
    "lif+li": lambda: norse.SequentialState(
        linear(20, 120, 3), norse.LIF(P(tau_syn_inv=t(200.0), v_th=t(0.3), v_leak=t(0.1))), linear(120, 10, 3),
        norse.LI(norse.LIParameters(tau_mem_inv=t(50.0)))),
    "recurrent+iaf": lambda: norse.SequentialState(
        norse.LIFRecurrent(20, 100, P(v_th=t(0.2))), linear(100, 40, 2), norse.IAF(norse.IAFParameters(v_th=t(0.8)))),
    "lift-conv": lambda: norse.SequentialState(
        norse.Lift(nn.Conv2d(2, 4, 3, padding=1)), norse.LIF(P(v_th=t(0.2))), norse.Lift(nn.Flatten()),
        linear(4 * 36, 20, 3), norse.LIF(P(v_th=t(0.3)))),
}


def check(model, shape, outputs, agreement):
    torch.manual_seed(2)
    x = random_spikes(shape)
    graph = module_to_graph(model, shape, dt=1e-3)
    library = outputs(model, x)
    spiking = [out for out, m in zip(library, norse_layers(model)) if not isinstance(m, (norse.LICell, norse.LI,
                                                                                         norse.LILinearCell, norse.LIBoxCell))]
    fractions = agreement(graph, x, spiking)
    assert all(f == 1.0 for f in fractions.values()), fractions
    # leaky integrators: the graph output is the membrane, shifted back to norse's v_leak
    if not isinstance(norse_layers(model)[-1], (norse.LIFCell, norse.LIF, norse.IAF, norse.LIFBoxCell)):
        torch.testing.assert_close(simulate(graph, x).output.float(), library[-1], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("case", sorted(CELLS))
def test_cells_match_norse(case, agreement):
    torch.manual_seed(0)
    check(CELLS[case]().eval(), (2, 6, 6) if case == "conv" else (20,), run_cells, agreement)


@pytest.mark.parametrize("case", sorted(SEQUENCES))
def test_sequence_modules_match_norse(case, agreement):
    torch.manual_seed(0)
    check(SEQUENCES[case]().eval(), (2, 6, 6) if case == "lift-conv" else (20,), run_sequence, agreement)


def test_parameters_are_the_modules_not_the_exporters():
    """norse's to_nir writes tau = dt / tau_mem_inv (norse #411); the IR gets 1 / tau_mem_inv."""
    cell = norse.LIFCell(P(tau_syn_inv=t(400.0), tau_mem_inv=t(250.0), v_leak=t(0.25), v_th=t(1.0)), dt=1e-4)
    graph = module_to_graph(norse.SequentialState(nn.Linear(2, 3), cell), (2,), dt=1e-4)
    node = graph.nodes["cubalif_1"]
    assert node.tau_mem == pytest.approx(1 / 250.0) and node.tau_syn == pytest.approx(1 / 400.0)
    assert node.w_in == pytest.approx((1 / 400.0) / 1e-4) and (node.r == 1).all()
    # the membrane starts at v_leak in norse and at 0 in the IR: the threshold moves with it
    assert node.v_threshold == pytest.approx(0.75) and node.v_reset == pytest.approx(-0.25)


def test_graph_dt_must_be_the_modules():
    model = norse.SequentialState(nn.Linear(2, 3), norse.LIFCell(dt=1e-4))
    with pytest.raises(SnnccError) as err:
        module_to_graph(model, (2,), dt=1e-3)
    [diag] = err.value.diagnostics
    assert diag.code == "SNN110" and diag.node == "1" and "dt=0.0001" in diag.message and "--dt" in diag.hint


def test_subtract_reset_with_leak_offset_is_refused():
    params = norse.LIFBoxParameters(v_leak=t(0.1), reset_method=reset_subtract)
    with pytest.raises(SnnccError, match="reset_subtract with a nonzero v_leak"):
        module_to_graph(norse.SequentialState(nn.Linear(2, 3), norse.LIFBoxCell(params)), (2,))


def test_graph_is_what_it_claims():
    graph = module_to_graph(CELLS["recurrent+box"](), (20,))
    kinds = {name: node.kind for name, node in graph.nodes.items()}
    assert kinds == {"input": "Input", "in_linear_0": "Linear", "cubalif_0": "CubaLIF", "rec0_linear_0": "Linear",
                     "affine_1": "Affine", "lif_2": "LIF", "output": "Output"}
    assert ir.Edge("rec0_linear_0", "cubalif_0") in graph.edges
