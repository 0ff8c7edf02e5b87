"""Hand-computed traces for each neuron rule of the reference simulator (see runtime/reference.py)."""
import numpy as np
import pytest
import torch

from snncc import ir
from snncc.runtime import simulate

DT = 1e-3


def simulate_one(node, drive, dt=DT):
    """The simulation of ``node`` alone (named "n") on one sample of scalar ``drive``."""
    g = ir.Graph.sequential(node, names=["n"], dt=dt)
    return simulate(g, torch.tensor(drive, dtype=torch.float64).reshape(1, -1, 1))


def run(node, drive, dt=DT):
    result = simulate_one(node, drive, dt)
    return result.output[0, :, 0].tolist(), result.states["n"]["v"][0, :, 0].tolist()


def one(v):
    return np.array([v], dtype=float)


def synaptic_neuron(alpha=0.5, beta=0.9, threshold=1.5, **extra):
    """The CubaLIF whose step is ``i = alpha i + x; v = beta v + i`` (snnTorch's Synaptic)."""
    tau_syn, tau_mem = DT / (1 - alpha), DT / (1 - beta)
    return ir.CubaLIF(tau_syn=one(tau_syn), tau_mem=one(tau_mem), r=one(tau_mem / DT), v_leak=one(0),
                      v_threshold=one(threshold), v_reset=one(0), w_in=one(tau_syn / DT), **extra)


@pytest.mark.parametrize("reset,v3,v4", [("value", 0.0, 0.5), ("subtract", 0.355, 0.8195)])
def test_lif_forward_euler_and_reset(reset, v3, v4):
    node = ir.LIF(tau=one(0.01), r=one(1), v_leak=one(0), v_threshold=one(1), v_reset=one(0), reset=reset)
    spikes, v = run(node, [5, 5, 5, 5])
    assert spikes == [0, 0, 1, 0]
    assert v == pytest.approx([0.5, 0.95, v3, v4])


def test_if_comparator_at_equality():
    base = dict(r=one(1), v_threshold=one(1), v_reset=one(0))
    assert run(ir.IF(**base), [0.5, 0.5])[0] == [0, 0]
    assert run(ir.IF(**base, comparator=">="), [0.5, 0.5])[0] == [0, 1]


def test_if_bias_current_and_subtract():
    node = ir.IF(r=one(2), v_threshold=one(1), v_reset=one(0), reset="subtract", bias=one(0.1))
    spikes, v = run(node, [0.2, 0.2, 0.0])
    assert spikes == [0, 1, 0]
    assert v == pytest.approx([0.6, 0.2, 0.4])


def test_cubalif_matches_discrete_synaptic_neuron():
    spikes, v = run(synaptic_neuron(), [1, 1, 0])
    # i = 0.5 i + x: 1, 1.5, 0.75 ; v = 0.9 v + i: 1, 2.4 -> spike -> 0, 0.75
    assert spikes == [0, 1, 0]
    assert v == pytest.approx([1.0, 0.0, 0.75])


def test_recurrent_edge_delivers_previous_step():
    n = ir.IF(r=one(1), v_threshold=one(0.5), v_reset=one(0))
    g = ir.Graph({"input": ir.Input(shape=(1,)), "n": n, "rec": ir.Linear(weight=np.array([[0.3]])),
                  "output": ir.Output(shape=(1,))},
                 (ir.Edge("input", "n"), ir.Edge("n", "rec"), ir.Edge("rec", "n"), ir.Edge("n", "output")))
    result = simulate(g, torch.tensor([1.0, 0, 0]).reshape(1, 3, 1))
    assert result.output[0, :, 0].tolist() == [1, 0, 0]
    assert result.states["n"]["v"][0, :, 0].tolist() == pytest.approx([0.0, 0.3, 0.3])


def test_delay_shifts_by_rounded_steps():
    g = ir.Graph.sequential(ir.Delay(delay=np.array([2 * DT, 0.0])), dt=DT)
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]).reshape(1, 4, 2)
    out = simulate(g, x).output[0].tolist()
    assert out == [[0, 2], [0, 4], [1, 6], [3, 8]]


@pytest.mark.parametrize("reset,v2", [("value", 0.0), ("subtract", 0.05)])
def test_mpbn_compares_normalised_membrane_and_resets_raw(reset, v2):
    bn = ir.BatchNormParams(mean=one(0.5), var=one(0.25), gamma=one(2.0), beta=one(0.0), eps=0.0)
    node = ir.IF(r=one(1), v_threshold=one(1), v_reset=one(0), reset=reset, membrane_bn=bn)
    # BN(v) = 4 (v - 0.5) > 1  <=>  v > 0.75 ; subtract removes theta = 0.75
    spikes, v = run(node, [0.4, 0.4])
    assert spikes == [0, 1]
    assert v == pytest.approx([0.4, v2])


def test_batch_and_conv_shapes():
    w = np.zeros((2, 1, 3, 3))
    w[0, 0, 1, 1] = 1.0  # channel 0 copies the centre pixel
    w[1] = 1.0 / 9  # channel 1 averages
    g = ir.Graph.sequential(ir.Conv2d(weight=w, bias=np.zeros(2), input_shape=(1, 4, 4), padding=1),
                            ir.SumPool2d(kernel_size=2, stride=2), ir.Flatten(start_dim=0), dt=DT)
    x = torch.arange(32, dtype=torch.float64).reshape(2, 1, 1, 4, 4)
    out = simulate(g, x).output
    assert out.shape == (2, 1, 8)
    # top-left 2x2 block of sample 0: 0 + 1 + 4 + 5
    assert out[0, 0, 0].item() == pytest.approx(10.0)


def test_refractory_holds_the_reset_membrane_and_drops_input_and_bias():
    node = ir.IF(r=one(1), v_threshold=one(1), v_reset=one(0.25), bias=one(0.1), refractory=2)
    spikes, v = run(node, [0.6, 0.6, 5, 5, 0.6])
    # 0.7 ; 1.4 -> spike -> 0.25 ; held twice (the 5s and the bias dropped) ; 0.25 + 0.7
    assert spikes == [0, 1, 0, 0, 0]
    assert v == pytest.approx([0.7, 0.25, 0.25, 0.25, 0.95])


def test_refractory_neuron_neither_leaks_nor_spikes():
    node = ir.LIF(tau=one(0.01), r=one(1), v_leak=one(0), v_threshold=one(1), v_reset=one(0), reset="none",
                  refractory=1)
    spikes, v = run(node, [15, 0, 0])
    # v = 0.1 * 15 = 1.5 -> spike (no reset) ; held at 1.5 above threshold, no spike ; 1.5 - 0.15 -> spike
    assert spikes == [1, 0, 1]
    assert v == pytest.approx([1.5, 1.5, 1.35])


def test_refractory_after_subtraction_holds_the_subtracted_membrane():
    node = ir.IF(r=one(1), v_threshold=one(1), v_reset=one(0), reset="subtract", refractory=1)
    spikes, v = run(node, [1.5, 0.4, 0.4])
    assert spikes == [1, 0, 0]
    assert v == pytest.approx([0.5, 0.5, 0.9])


def test_refractory_cubalif_current_keeps_integrating():
    result = simulate_one(synaptic_neuron(refractory=1), [1, 1, 0, 0])
    # i = 0.5 i + x: 1, 1.5, 0.75, 0.375 ; v: 1, 2.4 -> spike -> 0, held 0, 0.9 * 0 + 0.375
    assert result.output[0, :, 0].tolist() == [0, 1, 0, 0]
    assert result.states["n"]["i"][0, :, 0].tolist() == pytest.approx([1.0, 1.5, 0.75, 0.375])
    assert result.states["n"]["v"][0, :, 0].tolist() == pytest.approx([1.0, 0.0, 0.0, 0.375])
