"""The norse and snnTorch variants of the digits example train (one short epoch here), save a
state dict, compile with ``--arch``, and the compiled graph reproduces the library's output
spikes on the spike-coded test set."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from snncc.cli import main
from snncc.ir.serialize import load_graph
from snncc.loading import import_file
from snncc.runtime import simulate

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "digits")


def load(name: str):
    return import_file(os.path.join(EXAMPLES, f"{name}.py"), f"digits_{name}")


@pytest.mark.parametrize("variant", ["norse_variant", "snntorch_variant"])
def test_variant_trains_compiles_and_matches_its_library(tmp_path, variant):
    example = load(variant)
    meta = example.train(tmp_path, epochs=1, threads=torch.get_num_threads())
    assert json.loads((tmp_path / "meta.json").read_text())["arch"] == f"examples/digits/{variant}.py:build"
    assert meta["accuracy"] > 0.5  # one epoch; the default run reaches ~96 %
    arch = os.path.join(EXAMPLES, f"{variant}.py")
    result = CliRunner().invoke(main, ["compile", str(tmp_path / "model.pt"), "--arch", f"{arch}:build",
                                       "--target", "reference", "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    graph = load_graph(str(tmp_path / "out" / "ir"))
    x = torch.from_numpy(np.load(tmp_path / "test_x.npy"))
    model = example.build()
    model.load_state_dict(torch.load(tmp_path / "model.pt", weights_only=True))
    with torch.no_grad():
        reference = example.run(model.eval(), x)
    ours = simulate(graph, x.double()).output
    assert 0.01 < float(reference.mean()) < 0.9
    assert float((ours == reference.double()).double().mean()) >= 0.999
    y = torch.from_numpy(np.load(tmp_path / "test_y.npy"))
    compiled_accuracy = float((ours.sum(1).argmax(1) == y).double().mean())
    assert compiled_accuracy == pytest.approx(meta["accuracy"], abs=1 / len(y))
