"""`snncc compile ann.onnx --calibration X.npy` end to end through the CLI."""
import json

import numpy as np
import torch
from click.testing import CliRunner
from torch import nn

from snncc.cli import main


def _export(tmp_path):
    torch.manual_seed(0)
    ann = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)).eval()
    path = tmp_path / "ann.onnx"
    torch.onnx.export(ann, torch.zeros(1, 6), str(path), dynamo=False, input_names=["x"])
    np.save(tmp_path / "cal.npy", np.random.default_rng(0).random((64, 6)).astype(np.float32))
    return path


def test_onnx_compiles_with_calibration(tmp_path):
    path = _export(tmp_path)
    result = CliRunner().invoke(main, ["compile", str(path), "--calibration", str(tmp_path / "cal.npy"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["resources"]["neurons"] == 8 + 3


def test_onnx_without_calibration_is_one_clear_error(tmp_path):
    path = _export(tmp_path)
    result = CliRunner().invoke(main, ["compile", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and result.output.startswith("error[SNN122]") and "--calibration" in result.output
    assert not (tmp_path / "out").exists()
