"""sinabs IAF / LIF / ExpLeak (plain, Squeeze, recurrent) -> IR: the reference simulation of
the imported graph reproduces sinabs's own forward pass; multi-spike and clipped neurons
are refused by name and position; whole sinabs models load through the weights-only allowlist."""
from __future__ import annotations

import pytest
import sinabs.activation as sa
import sinabs.layers as sl
import torch
from click.testing import CliRunner
from frontend_kit import B, T, linear, random_case, recording
from torch import nn

from snncc import ir
from snncc.cli import main
from snncc.diagnostics import SnnccError
from snncc.frontends.torch_file import load_with_options
from snncc.frontends.torch_layers import model_layers, module_to_graph
from snncc.loading import LoadOptions
from snncc.runtime import simulate

SINGLE = sa.SingleSpike


def run_sinabs(model, x):
    """sinabs's forward on [B, T, ...] -> each stateful layer's output as [B, T, ...]."""
    layers = [m for _, m in model_layers(model) if isinstance(m, sl.StatefulLayer)]
    for layer in layers:
        layer.reset_states()
    with recording(layers) as outputs, torch.no_grad():
        model(x)
    unfold = lambda out: out.reshape(x.shape[0], x.shape[1], *out.shape[1:])  # noqa: E731 - (B*T, ...) of Squeeze
    return [unfold(calls[-1]) if isinstance(m, sl.SqueezeMixin) else calls[-1] for m, calls in zip(layers, outputs)]


def mlp():
    return nn.Sequential(
        linear(20, 120, 2), sl.IAF(spike_fn=SINGLE, spike_threshold=torch.tensor(0.7)),
        linear(120, 80, 2), sl.LIF(tau_mem=8.0, spike_fn=SINGLE, reset_fn=sa.MembraneReset(), norm_input=False),
        linear(80, 60, 2), sl.LIF(tau_mem=torch.rand(60) * 10 + 2, tau_syn=3.0, norm_input=False, spike_fn=sa.MaxSpike(1)),
        linear(60, 40, 3), sl.LIF(tau_mem=3.0, spike_fn=SINGLE, spike_threshold=torch.tensor(0.3)),
        linear(40, 5, 1), sl.ExpLeak(tau_mem=5.0),
    )


def recurrent():
    return nn.Sequential(linear(20, 100, 2), sl.LIFRecurrent(tau_mem=6.0, rec_connect=linear(100, 100, 1), spike_fn=SINGLE,
                                                             norm_input=False),
                         linear(100, 50, 2), sl.IAFRecurrent(rec_connect=linear(50, 50, 1), spike_fn=SINGLE))


def squeezed():
    return nn.Sequential(
        sl.FlattenTime(), nn.Conv2d(2, 4, 3, padding=1), sl.IAFSqueeze(batch_size=B, spike_fn=SINGLE,
                                                                       spike_threshold=torch.tensor(0.5)),
        sl.SumPool2d(2), nn.Conv2d(4, 4, 3, padding=1), sl.LIFSqueeze(tau_mem=5.0, num_timesteps=T, spike_fn=SINGLE,
                                                                      norm_input=False),
        nn.Flatten(), linear(36, 20, 2), sl.IAFSqueeze(batch_size=B, spike_fn=SINGLE), sl.UnflattenTime(batch_size=B),
    )


CASES = {"mlp": (mlp, (20,)), "recurrent": (recurrent, (20,)), "squeeze-conv": (squeezed, (2, 6, 6))}


@pytest.mark.parametrize("case", sorted(CASES))
def test_graph_reproduces_sinabs(case, agreement):
    model, x, graph = random_case(*CASES[case], seed=0)
    library = run_sinabs(model, x)
    layers = [m for _, m in model_layers(model) if isinstance(m, sl.StatefulLayer)]
    spiking = [out for out, m in zip(library, layers) if not isinstance(m, sl.ExpLeak)]
    fractions = agreement(graph, x, spiking)
    assert all(f == 1.0 for f in fractions.values()), fractions
    assert all(graph.nodes[n].comparator is ir.Comparator.GE for n in fractions)  # sinabs fires at v >= threshold
    if case == "mlp":  # ExpLeak read-out: the membrane
        torch.testing.assert_close(simulate(graph, x).output.float(), library[-1], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("layer, words", [
    (sl.IAF(), ["MultiSpike", "one spike per step"]),  # sinabs's default
    (sl.LIF(tau_mem=5.0, spike_fn=SINGLE, min_v_mem=-1.0), ["min_v_mem=-1"]),
    (sl.LIF(tau_mem=5.0, spike_fn=SINGLE, reset_fn=sa.MembraneReset(reset_value=0.5)), ["reset_value=0.5"]),
])
def test_unexpressible_neurons_are_refused_by_position(layer, words):
    with pytest.raises(SnnccError) as err:
        module_to_graph(nn.Sequential(nn.Linear(4, 3), layer), (4,))
    [diag] = err.value.diagnostics
    assert diag.code == "SNN110" and "position '1'" in diag.message
    assert all(word in diag.message for word in words), diag.message


def test_whole_sinabs_model_loads_weights_only_and_compiles(tmp_path):
    torch.manual_seed(0)
    model = mlp().eval()
    path = tmp_path / "sinabs.pt"
    torch.save(model, path)  # sinabs layers pickle whole; the allowlist admits them without --trust-pickle
    graph = load_with_options(str(path), LoadOptions(input_shape=(20,))).graph
    expected = module_to_graph(model, (20,), dt=1e-3)
    assert list(graph.nodes) == list(expected.nodes)
    x = (torch.rand(2, 20, 20) < 0.3).float()
    assert torch.equal(simulate(graph, x).output, simulate(expected, x).output)
    result = CliRunner().invoke(main, ["compile", str(path), "--input-shape", "20", "--target", "reference",
                                       "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
