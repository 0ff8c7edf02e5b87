"""Bad model files through `snncc compile`: one line per problem naming the op or layer and
its position, exit status 2, nothing written (the .pt cases are in test_torch_file.py)."""
from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from frontend_kit import export_onnx
from torch import nn

from snncc.cli import main


@pytest.mark.parametrize("with_calibration", [True, False])
def test_onnx_op_outside_the_list_is_one_line_with_its_index(tmp_path, with_calibration):
    path = export_onnx(nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 3)),
                       (1, 1, 8, 8), tmp_path / "maxpool.onnx")
    args = ["compile", path, "-o", str(tmp_path / "out")]
    if with_calibration:
        np.save(tmp_path / "cal.npy", np.random.default_rng(0).random((8, 1, 8, 8), dtype=np.float32))
        args += ["--calibration", str(tmp_path / "cal.npy")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    maxpool = [line for line in lines if "SNN120" in line]
    assert len(maxpool) == 1 and maxpool[0].startswith(f"error[SNN120] {path}"), result.output
    assert "'MaxPool'" in maxpool[0] and "index 2" in maxpool[0]
    # without calibration data that is reported as well, each problem on its own line
    assert len(lines) == (1 if with_calibration else 2) and all(line.startswith("error[") for line in lines)
    assert not (tmp_path / "out").exists()
