"""Safe loading of .pt models: allowlisted classes only, --trust-pickle, --arch, bad files."""
import os

import pytest
import torch
from click.testing import CliRunner
from torch import nn

import snncc.nn as snn
from snncc.cli import main
from snncc.diagnostics import SnnccError
from snncc.frontends.torch_file import load_with_options
from snncc.loading import LoadOptions

ARCH = '''
import snncc.nn as snn
from torch import nn
def build():
    return snn.Sequential(nn.Linear(4, 3), snn.LIF(beta=0.9, threshold=1.0))
'''


def small_model():
    torch.manual_seed(0)
    return snn.Sequential(nn.Linear(4, 3), snn.LIF(beta=0.9, threshold=1.0)).eval()


class Payload:
    """Unpickling this runs `touch <marker>`."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_whole_module_loads_with_weights_only(tmp_path):
    path = tmp_path / "m.pt"
    torch.save(small_model(), path)
    graph = load_with_options(str(path), LoadOptions()).graph
    assert [n.kind for n in graph.nodes.values()] == ["Input", "Affine", "LIF", "Output"]
    assert graph.nodes["input"].shape == (4,)


def test_malicious_pickle_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    model = small_model()
    model.payload = Payload(marker)  # an attribute the unpickler must not execute
    path = tmp_path / "evil.pt"
    torch.save(model, path)
    assert not marker.exists()
    with pytest.raises(SnnccError) as err:
        load_with_options(str(path), LoadOptions())
    diagnostic = err.value.diagnostics[0]
    assert diagnostic.code == "SNN111" and "system" in diagnostic.message and "--trust-pickle" in diagnostic.hint
    assert not marker.exists()
    result = CliRunner().invoke(main, ["compile", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and "SNN111" in result.output and not marker.exists()


def test_trust_pickle_is_the_explicit_way_in(tmp_path):
    marker = tmp_path / "ran"
    model = small_model()
    model.payload = Payload(marker)
    path = tmp_path / "trusted.pt"
    torch.save(model, path)
    load_with_options(str(path), LoadOptions(trust_pickle=True))
    assert marker.exists()


def test_state_dict_needs_arch_and_loads_with_it(tmp_path):
    path = tmp_path / "sd.pt"
    torch.save(small_model().state_dict(), path)
    with pytest.raises(SnnccError) as err:
        load_with_options(str(path), LoadOptions())
    assert err.value.diagnostics[0].code == "SNN112" and "--arch" in err.value.diagnostics[0].hint
    arch = tmp_path / "arch.py"
    arch.write_text(ARCH)
    graph = load_with_options(str(path), LoadOptions(arch=f"{arch}:build")).graph
    assert torch.equal(torch.tensor(graph.nodes["affine_0"].weight), small_model()[0].weight.detach().double().float()) or \
        (graph.nodes["affine_0"].weight == small_model()[0].weight.detach().numpy()).all()


@pytest.mark.parametrize("label", ["truncated", "not-a-module", "lstm", "maxpool-with-indices"])
def test_bad_pt_files(tmp_path, label):
    """Each bad file gives exactly one line: code, file, what is wrong and where; exit status 2."""
    path = tmp_path / f"{label}.pt"
    if label == "truncated":
        torch.save(small_model(), path)
        path.write_bytes(path.read_bytes()[:200])
        code, names = "SNN102", ["truncated"]
    elif label == "not-a-module":
        torch.save([1, 2, 3], path)
        code, names = "SNN112", ["list", "not a torch.nn.Module"]
    elif label == "lstm":
        # plain torch layers are on the allowlist, so the unsupported one is named with its position
        torch.save(nn.Sequential(nn.Linear(4, 3), nn.LSTM(3, 3)), path)
        code, names = "SNN110", ["torch.nn.modules.rnn.LSTM", "position '1'"]
    else:
        torch.save(nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2, return_indices=True), nn.Flatten()), path)
        code, names = "SNN110", ["MaxPool2d", "position '1'"]
    result = CliRunner().invoke(main, ["compile", str(path), "--input-shape", "1,8,8", "-o", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error[{code}] {path}"), result.output
    assert all(name in lines[0] for name in names), lines[0]
    assert not (tmp_path / "out").exists()
