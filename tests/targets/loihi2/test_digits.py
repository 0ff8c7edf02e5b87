"""The trained digits model compiled for loihi2 with the default pipeline: golden (full test set)
within 1 point of the float model's accuracy, and Lava (8 samples) equal to golden in every spike
and final u, v.

The model's MPBN folds to hidden thresholds of both signs (71 of 128 <= 0, -2.6..6.3). Lava's
LIF has one unsigned vth per process and resets v to exactly 0, so the lowering realises them
with threshold offsets (targets/loihi2/offsets.py: a shifted membrane with an extra bias and a
one-step self-connection that restores the reset value)."""
from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from snncc.compiler import compile as compile_model
from snncc.runtime.backend import run


def _accuracy(spikes: np.ndarray, labels: np.ndarray) -> float:
    return float((spikes.sum(1).argmax(1) == labels).mean())


@pytest.mark.lava
@pytest.mark.skipif(importlib.util.find_spec("lava") is None, reason="lava-nc is not installed")
def test_digits_on_golden_and_lava(digits, tmp_path):
    x, y = np.load(digits / "test_x.npy"), np.load(digits / "test_y.npy")
    float_accuracy = json.loads((digits / "meta.json").read_text())["accuracy"]
    out = str(tmp_path / "OUT")
    compile_model(str(digits / "model.pt"), "loihi2", calibration=x[:64], out_dir=out)
    offsets = json.loads((tmp_path / "OUT" / "loihi2" / "network.json").read_text())["threshold_offsets"]
    assert offsets["lif_1"]["shifted"] > 64 and offsets["lif_1"]["reset_rounding_max"] <= 0.5
    gold = run(out, x, "golden", record_state=True)
    assert abs(_accuracy(gold.output, y) - float_accuracy) <= 0.01
    lava = run(out, x[:8], "lava", record_state=True)
    for name in gold.spikes:
        np.testing.assert_array_equal(lava.raw[name], gold.raw[name][:8])
        for state in ("u", "v"):
            np.testing.assert_array_equal(lava.states[name][state], gold.states[name][state][:8])
