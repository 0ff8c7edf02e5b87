"""snncc.nn neuron dynamics against hand-computed traces and torch's own BatchNorm."""
import pytest
import torch
from torch import nn

import snncc.nn as snn


def seq(*values, dtype=torch.float64):
    return torch.tensor(values, dtype=dtype).view(1, -1, 1)  # [B=1, T, 1]


@pytest.mark.parametrize("reset, spikes, v", [
    # v = 0.5 v + 0.6: 0.6, 0.9, 1.05 -> spike, then from 0 (zero) or 0.05 (subtract)
    ("zero", [0, 0, 1, 0, 0], [0.6, 0.9, 0.0, 0.6, 0.9]),
    ("subtract", [0, 0, 1, 0, 0], [0.6, 0.9, 0.05, 0.625, 0.9125]),
])
def test_lif_trace(reset, spikes, v):
    lif = snn.LIF(beta=0.5, threshold=1.0, reset=reset).double()
    s, states = lif.run(seq(0.6, 0.6, 0.6, 0.6, 0.6))
    assert s.flatten().tolist() == spikes
    assert torch.allclose(states["v"].flatten(), torch.tensor(v, dtype=torch.float64))


@pytest.mark.parametrize("reset, spikes, v", [
    # i = 0.5 i + x: 1, 1.5, 0.75, 0.375; v = 0.5 v + i; v = 1.0 at t=0 does not fire (strict >)
    ("zero", [0, 1, 0, 0], [1.0, 0.0, 0.75, 0.75]),
    ("subtract", [0, 1, 1, 0], [1.0, 1.0, 0.25, 0.5]),
])
def test_cubalif_trace(reset, spikes, v):
    neuron = snn.CubaLIF(alpha=0.5, beta=0.5, threshold=1.0, reset=reset).double()
    s, states = neuron.run(seq(1.0, 1.0, 0.0, 0.0))
    assert s.flatten().tolist() == spikes
    assert torch.allclose(states["i"].flatten(), torch.tensor([1.0, 1.5, 0.75, 0.375], dtype=torch.float64))
    assert torch.allclose(states["v"].flatten(), torch.tensor(v, dtype=torch.float64))


def test_stepwise_with_explicit_state_matches_sequence():
    torch.manual_seed(0)
    neuron = snn.CubaLIF(alpha=0.7, beta=0.9, threshold=0.5)
    x = torch.rand(3, 6, 4)
    whole = neuron(x)
    state = None
    for t in range(6):
        s, state = neuron.step(x[:, t], state)
        assert torch.equal(s, whole[:, t])
    assert isinstance(state, snn.CubaLIFState)


def _randomise(bn_like):
    """The same random gammas in [0.5, 1.5) for every parameter given."""
    values = torch.rand(bn_like[0].shape, generator=torch.Generator().manual_seed(1)) + 0.5
    with torch.no_grad():
        for p in bn_like:
            p.copy_(values)


def test_mpbn_channelwise_matches_batchnorm2d_in_train_and_eval():
    # beta = 0 makes v = x each step, so BN(v) must equal torch's BatchNorm2d on x_t.
    torch.manual_seed(0)
    neuron = snn.MPBNLIF(3, beta=0.0, threshold=0.3, mode="channel")
    reference = nn.BatchNorm2d(3)
    _randomise([neuron.bn_weight, reference.weight])
    with torch.no_grad():
        reference.bias.fill_(0.1)
        neuron.bn_bias.fill_(0.1)
    x = torch.randn(5, 4, 3, 2, 2) * 2 + 1
    spikes = neuron(x)
    expected = torch.stack([(reference(x[:, t]) > 0.3).float() for t in range(4)], 1)
    assert torch.equal(spikes, expected) and 0 < spikes.mean() < 1
    assert torch.allclose(neuron.running_mean, reference.running_mean, atol=1e-6)
    assert torch.allclose(neuron.running_var, reference.running_var, atol=1e-6)
    neuron.eval(), reference.eval()
    x2 = torch.randn(2, 3, 3, 2, 2)
    expected = torch.stack([(reference(x2[:, t]) > 0.3).float() for t in range(3)], 1)
    assert torch.equal(neuron(x2), expected)


def test_mpbn_elementwise_matches_batchnorm1d_per_neuron():
    torch.manual_seed(0)
    neuron = snn.MPBNLIF((3, 4), beta=0.0, threshold=0.2, mode="element")
    reference = nn.BatchNorm1d(12)
    _randomise([neuron.bn_weight, reference.weight])
    x = torch.randn(6, 5, 3, 4)
    spikes = neuron(x)
    expected = torch.stack([(reference(x[:, t].reshape(6, 12)) > 0.2).float().view(6, 3, 4) for t in range(5)], 1)
    assert torch.equal(spikes, expected) and 0 < spikes.mean() < 1
    assert torch.allclose(neuron.running_var.view(12), reference.running_var, atol=1e-6)


def test_mpbn_keeps_membrane_unnormalised_and_resets_to_zero():
    neuron = snn.MPBNLIF(1, beta=0.5, threshold=0.0, mode="channel").double().eval()
    with torch.no_grad():
        neuron.running_mean.fill_(2.0)  # BN(v) = v - 2 (var + eps ~ 1): fires iff v > 2
        neuron.running_var.fill_(1.0 - 1e-5)
    s, states = neuron.run(torch.full((1, 4, 1), 1.5, dtype=torch.float64))
    # v: 1.5, 2.25 -> fire -> 0, 1.5, 2.25 -> fire -> 0
    assert s.flatten().tolist() == [0, 1, 0, 1]
    assert torch.allclose(states["v"].flatten(), torch.tensor([1.5, 0.0, 1.5, 0.0], dtype=torch.float64))


def test_surrogate_gradient_reaches_input_and_learned_beta():
    torch.manual_seed(0)
    neuron = snn.LIF(beta=0.8, learn_beta=True)
    x = (torch.rand(4, 5, 3) * 2).requires_grad_()
    neuron(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0 and torch.isfinite(x.grad).all()
    assert neuron.beta.grad is not None and neuron.beta.grad.abs() > 0


def test_invalid_arguments_are_rejected():
    with pytest.raises(ValueError, match="reset"):
        snn.LIF(beta=0.9, reset="soft")
    with pytest.raises(ValueError, match="beta"):
        snn.LIF(beta=1.5)
    with pytest.raises(ValueError, match="mode"):
        snn.MPBNLIF(4, beta=0.5, mode="layer")


def test_mpbn_cumulative_statistics_match_batchnorm_momentum_none():
    torch.manual_seed(0)
    neuron = snn.MPBNLIF(3, beta=0.0, mode="channel", momentum=None)
    reference = nn.BatchNorm1d(3, momentum=None)
    x = torch.randn(8, 6, 3) * 3 - 1
    neuron(x)
    for t in range(6):
        reference(x[:, t])
    assert int(neuron.num_batches_tracked) == 6
    assert torch.allclose(neuron.running_mean, reference.running_mean, atol=1e-6)
    assert torch.allclose(neuron.running_var, reference.running_var, atol=1e-6)
    neuron.reset_running_stats()
    assert neuron.running_mean.abs().sum() == 0 and int(neuron.num_batches_tracked) == 0


def test_sequential_stepwise_matches_sequence_run():
    torch.manual_seed(0)
    model = snn.Sequential(
        nn.Conv2d(1, 2, 3), snn.MPBNLIF(2, beta=0.8, threshold=0.2), nn.Flatten(),
        nn.Linear(8, 3), snn.CubaLIF(alpha=0.5, beta=0.9, threshold=0.1, reset="subtract"),
    ).eval()
    x = torch.rand(2, 7, 1, 4, 4) * 3
    whole = model(x)
    state, outputs = None, []
    for t in range(7):
        y, state = model.step(x[:, t], state)
        outputs.append(y)
    assert torch.equal(torch.stack(outputs, 1), whole) and whole.sum() > 0
    assert sorted(state) == ["1", "4"] and isinstance(state["4"], snn.CubaLIFState)
