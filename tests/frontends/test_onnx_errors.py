"""Diagnostics of the ONNX ANN importer: unsupported ops (SNN120), attributes (SNN121), calibration (SNN122)."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from frontend_kit import export_onnx
from torch import nn

from snncc.diagnostics import SnnccError
from snncc.frontends.onnx_ann import ann_to_snn


def index_of(path: str, op_type: str) -> tuple[int, str]:
    nodes = list(onnx.load(path).graph.node)
    index = next(i for i, n in enumerate(nodes) if n.op_type == op_type)
    return index, nodes[index].name


def test_maxpool_is_snn120_with_op_name_and_index(tmp_path):
    path = export_onnx(nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 3)),
                       (1, 1, 8, 8), tmp_path / "maxpool.onnx")
    with pytest.raises(SnnccError) as info:
        ann_to_snn(path, np.zeros((4, 1, 8, 8)))
    index, name = index_of(path, "MaxPool")
    [diag] = info.value.diagnostics
    assert diag.code == "SNN120" and diag.node == name
    assert "'MaxPool'" in diag.message and f"index {index}" in diag.message and "AveragePool" in diag.hint


def test_every_unsupported_op_is_reported_at_once(tmp_path):
    class Recurrent(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(5, 7, batch_first=True)
            self.fc = nn.Linear(7, 2)

        def forward(self, x):
            return torch.sigmoid(self.fc(self.lstm(x)[0][:, -1]))

    path = export_onnx(Recurrent(), (1, 3, 5), tmp_path / "lstm.onnx")
    with pytest.raises(SnnccError) as info:
        ann_to_snn(path, np.zeros((2, 3, 5)))
    found = {d.message.split("'")[1]: d for d in info.value.diagnostics}
    assert {"LSTM", "Sigmoid"} <= set(found) and all(d.code == "SNN120" for d in found.values())
    index, name = index_of(path, "LSTM")
    assert f"index {index}" in found["LSTM"].message and found["LSTM"].node == name
    assert "SNN120" in str(info.value) and "LSTM" in str(info.value)


def test_unsupported_attribute_is_snn121(tmp_path):
    path = export_onnx(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.AvgPool2d(2, ceil_mode=True), nn.Flatten()),
                       (1, 1, 7, 7), tmp_path / "ceil.onnx")
    with pytest.raises(SnnccError) as info:
        ann_to_snn(path, np.ones((3, 1, 7, 7)))
    assert info.value.diagnostics[0].code == "SNN121" and "AveragePool" in info.value.diagnostics[0].message


def test_calibration_with_the_wrong_shape_is_snn122(tmp_path):
    path = export_onnx(nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), (1, 4), tmp_path / "mlp.onnx")
    with pytest.raises(SnnccError) as info:
        ann_to_snn(path, np.zeros((10, 5)))
    assert info.value.diagnostics[0].code == "SNN122" and "(10, 5)" in info.value.diagnostics[0].message
