"""The NIR paper's snnTorch Braille SRNN state dicts (03_rnn/data) load through --arch into
snnTorch RSynaptic modules, compile for the reference target, and the compiled graph's
simulation agrees with snnTorch's own forward pass on random taxel spike trains."""
from __future__ import annotations

import os

import pytest
import torch
from click.testing import CliRunner
from frontend_kit import run_snntorch

from snncc import ir
from snncc.cli import main
from snncc.ir.serialize import load_graph
from snncc.loading import import_file

ARCH = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "braille", "arch.py")


def snntorch_model(factory: str, state_dict: str) -> torch.nn.Module:
    model = getattr(import_file(ARCH, "braille_arch"), factory)()
    model.load_state_dict(torch.load(state_dict, map_location="cpu", weights_only=True))
    return model.eval()


@pytest.mark.parametrize("name, factory", [("noDelay_noBias_ref_subtract", "nobias_subtract"),
                                           ("noDelay_bias_ref_zero", "bias_zero")])
def test_braille_state_dict_compiles_and_agrees_with_snntorch(paper, tmp_path, agreement, name, factory):
    state_dict = paper("03_rnn", "data", f"model_{name}.pt")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["compile", state_dict, "--arch", f"{ARCH}:{factory}", "--target", "reference",
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    graph = load_graph(str(out / "ir"))
    assert graph.dt == 1e-4 and graph.nodes["input"].shape == (12,)
    torch.manual_seed(0)
    x = (torch.rand(8, 256, 12) < 0.1).float()
    fractions = agreement(graph, x, run_snntorch(snntorch_model(factory, state_dict), x), min_rate=0.002)
    hidden, output = fractions["cubalif_lif1"], fractions["cubalif_lif2"]
    # exact arithmetic up to float32 (snnTorch) vs float64 (reference) rounding
    assert result.output.count("warning[SNN115]") == 0, result.output
    assert hidden >= 0.999 and output >= 0.999, fractions
    # the delayed zero reset is a reset to 0 plus one refractory step; subtraction needs none
    expected = 1 if factory == "bias_zero" else 0
    assert [n.refractory for _, n in graph.items_of(ir.SpikingNeuron)] == [expected, expected]
