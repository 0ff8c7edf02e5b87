"""TorchScript archives: scripted and traced torch.nn Sequentials are rebuilt from their
parameters plus attributes (scripted) or operator arguments (traced) and compile to the
same graph as the eager model; unrecoverable layers are named with their position."""
from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner
from torch import nn

from snncc import ir
from snncc.cli import main
from snncc.diagnostics import SnnccError
from snncc.frontends.torch_file import load_with_options
from snncc.frontends.torch_layers import module_to_graph
from snncc.loading import LoadOptions
from snncc.runtime import simulate

SHAPE = (2, 9, 9)


def model() -> nn.Sequential:
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(2, 4, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(4, eps=1e-3), nn.AvgPool2d(2, stride=1),
        nn.Conv2d(4, 3, 2, dilation=2, groups=1), nn.Dropout(0.3), nn.Flatten(), nn.Linear(3 * 2 * 2, 5),
        nn.BatchNorm1d(5), nn.Sequential(nn.Identity(), nn.Linear(5, 3)),
    )
    with torch.no_grad():
        for bn in (net[1], net[7]):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.uniform_(0.5, 1.5)
    return net.eval()


@pytest.mark.parametrize("how", ["script", "trace"])
def test_torchscript_archive_compiles_like_the_eager_model(tmp_path, how):
    eager = model()
    script = torch.jit.script(eager) if how == "script" else torch.jit.trace(eager, torch.rand(2, *SHAPE))
    path = tmp_path / f"{how}.pt"
    torch.jit.save(script, str(path))
    graph = load_with_options(str(path), LoadOptions(input_shape=SHAPE, dt=1e-3)).graph
    expected = module_to_graph(eager, SHAPE, dt=1e-3)
    assert [n.kind for n in graph.nodes.values()] == [n.kind for n in expected.nodes.values()]
    x = torch.rand(3, 4, *SHAPE, dtype=torch.float64)
    out = simulate(graph, x).output
    with torch.no_grad():  # the archive's own forward, one step at a time
        reference = torch.stack([script(x[:, k].float()) for k in range(x.shape[1])], 1).double()
    torch.testing.assert_close(out, reference, rtol=1e-5, atol=1e-5)
    result = CliRunner().invoke(main, ["compile", str(path), "--input-shape", "2,9,9", "--target", "reference",
                                       "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return x + self.fc(x)


def test_unrecoverable_layers_are_named_with_position(tmp_path):
    net = nn.Sequential(nn.Linear(4, 4), Residual(), nn.ReLU(), nn.Linear(4, 2))
    path = tmp_path / "custom.pt"
    torch.jit.save(torch.jit.script(net), str(path))
    with pytest.raises(SnnccError) as err:
        load_with_options(str(path), LoadOptions(input_shape=(4,)))
    found = {d.node: d for d in err.value.diagnostics}
    assert set(found) == {"1", "2"} and all(d.code == "SNN112" for d in found.values())
    assert "Residual" in found["1"].message and "position '1'" in found["1"].message
    assert "ReLU" in found["2"].message
    result = CliRunner().invoke(main, ["compile", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and result.output.count("error[SNN112]") == 2, result.output


def test_truncated_torchscript_archive_is_snn102(tmp_path):
    path = tmp_path / "cut.pt"
    torch.jit.save(torch.jit.script(nn.Sequential(nn.Linear(4, 2))), str(path))
    path.write_bytes(path.read_bytes()[:-300])
    result = CliRunner().invoke(main, ["compile", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and result.output.startswith("error[SNN102]"), result.output


def snncc_model() -> torch.nn.Module:
    from snncc import nn as snn

    torch.manual_seed(2)
    mpbn = snn.MPBNLIF(4, beta=0.7, threshold=0.4, mode="channel", reset="subtract", eps=1e-3)
    with torch.no_grad():
        mpbn.running_mean.uniform_(-0.2, 0.2)
        mpbn.running_var.uniform_(0.5, 1.5)
        mpbn.bn_weight.uniform_(0.5, 1.5)
    net = snn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), mpbn, nn.Flatten(), nn.Linear(4 * 9 * 9, 30),
        snn.LIF(beta=torch.rand(30) * 0.5 + 0.4, threshold=0.6, reset="zero", learn_beta=True), nn.Linear(30, 10),
        snn.CubaLIF(alpha=0.5, beta=0.8, threshold=0.5, reset="subtract"),
    )
    with torch.no_grad():
        net[3].weight.mul_(3.0)
        net[5].weight.mul_(3.0)
    return net.eval()


def test_traced_snncc_model_rebuilds_with_its_resets_and_reproduces_the_archive(tmp_path):
    """torch.jit.trace of an snncc.nn model saves (the surrogate's autograd Function is bypassed
    while tracing); the neurons' reset modes, MPBN mode and eps come back from their recorded
    config, and the compiled graph reproduces the archive's own forward pass spike for spike."""
    eager = snncc_model()
    x = (torch.rand(3, 12, *SHAPE) < 0.4).float()
    path = tmp_path / "traced.pt"
    torch.jit.save(torch.jit.trace(eager, x), str(path))
    archive = torch.jit.load(str(path))
    graph = load_with_options(str(path), LoadOptions(input_shape=SHAPE, dt=1e-3)).graph
    neurons = [node for _, node in graph.items_of(ir.SpikingNeuron)]
    assert [(n.kind, n.reset) for n in neurons] == [("LIF", ir.ResetMode.SUBTRACT), ("LIF", ir.ResetMode.VALUE),
                                                    ("CubaLIF", ir.ResetMode.SUBTRACT)]
    assert neurons[0].membrane_bn is not None and neurons[0].membrane_bn.eps == 1e-3
    with torch.no_grad():
        theirs = archive(x)
    assert 0.02 < float(theirs.mean()) < 0.9
    ours = simulate(graph, x.double()).output
    assert torch.equal(ours, theirs.double())
    result = CliRunner().invoke(main, ["compile", str(path), "--input-shape", "2,9,9", "--dt", "1e-3",
                                       "--target", "reference", "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output


def test_traced_snncc_neuron_without_its_config_is_named(tmp_path):
    """Without the recorded config the reset mode is nowhere in a traced archive: SNN112, not a guess."""
    from snncc import nn as snn

    lif = snn.LIF(beta=0.5, reset="subtract")
    del lif._buffers["snncc_config"]
    path = tmp_path / "old.pt"
    torch.jit.save(torch.jit.trace(snn.Sequential(nn.Linear(4, 3), lif).eval(), torch.rand(2, 5, 4)), str(path))
    with pytest.raises(SnnccError) as err:
        load_with_options(str(path), LoadOptions(input_shape=(4,)))
    [diag] = err.value.diagnostics
    assert diag.code == "SNN112" and diag.node == "1" and "reset mode" in diag.message
