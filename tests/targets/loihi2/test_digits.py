"""The trained digits model compiled for loihi2: golden (full test set) within 1 point of the
float model's accuracy, and Lava (8 samples) equal to golden in every spike and final u, v.

Pending: the trained model folds to membrane thresholds <= 0 in 71 of its 128 hidden
channels (the MPBN running mean is negative there). Lava's LIF has an unsigned vth and
resets v to exactly 0, so those neurons have no exact Loihi 2 form: fold-mpbn stops the
compile with SNN316. (Clipping them to 0 costs 3.3 points in the float model, 93.8 % ->
90.4 %; resetting them to theta - 0.01 instead of 0, which a shifted membrane with threshold
0.01 realises, gives 94.0 %.) The test turns into a failure (strict xfail) as soon as the
compile succeeds, so the marker is removed together with the fix."""
from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from snncc.compiler import compile as compile_model
from snncc.diagnostics import SnnccError
from snncc.runtime.backend import run


def _accuracy(spikes: np.ndarray, labels: np.ndarray) -> float:
    return float((spikes.sum(1).argmax(1) == labels).mean())


@pytest.mark.xfail(strict=True, raises=SnnccError,
                   reason="digits folds to thresholds <= 0 (fold-mpbn SNN316): no exact Loihi 2 form")
@pytest.mark.lava
@pytest.mark.skipif(importlib.util.find_spec("lava") is None, reason="lava-nc is not installed")
def test_digits_on_golden_and_lava(digits, tmp_path):
    x, y = np.load(digits / "test_x.npy"), np.load(digits / "test_y.npy")
    float_accuracy = json.loads((digits / "meta.json").read_text())["accuracy"]
    out = str(tmp_path / "OUT")
    compile_model(str(digits / "model.pt"), "loihi2", calibration=x[:64], out_dir=out)
    gold = run(out, x, "golden", record_state=True)
    assert abs(_accuracy(gold.output, y) - float_accuracy) <= 0.01
    lava = run(out, x[:8], "lava", record_state=True)
    for name in gold.spikes:
        np.testing.assert_array_equal(lava.raw[name], gold.raw[name][:8])
        for state in ("u", "v"):
            np.testing.assert_array_equal(lava.states[name][state], gold.states[name][state][:8])
