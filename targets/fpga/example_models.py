"""Small untrained PyTorch models (seeded) that the tests and benchmarks compile through the
fpga target's whole default pipeline. Imports torch: not imported by the package itself."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

import snncc.nn as snn

CNN_INPUT = (1, 8, 8)


def small_cnn(path: Path, seed: int = 0) -> Path:
    """conv 1->4 3x3 + BatchNorm -> LIF (reset subtract) -> conv 4->6 3x3 stride 2 -> IF (beta 1)
    -> flatten -> linear 96->10 -> LIF: two weight-shared conv engines (one with a folded BN,
    one strided) and a dense readout. (No AvgPool: its 1/4 makes the weights non-integral at
    the layer's scale; quantize warns SNN332 and the FPGA lowering refuses, SNN410.)"""
    torch.manual_seed(seed)
    model = snn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), snn.LIF(beta=0.85, threshold=1.0, reset="subtract"),
        nn.Conv2d(4, 6, 3, stride=2, padding=1), snn.LIF(beta=1.0, threshold=1.0, reset="zero"),
        nn.Flatten(), nn.Linear(6 * 4 * 4, 10), snn.LIF(beta=0.9, threshold=1.0, reset="zero"))
    generator = np.random.default_rng(seed)
    with torch.no_grad():
        bn = model[1]
        bn.running_mean.copy_(torch.from_numpy(generator.normal(0, 0.1, 4)))
        bn.running_var.copy_(torch.from_numpy(generator.uniform(0.5, 2.0, 4)))
        bn.weight.copy_(torch.from_numpy(generator.uniform(0.5, 1.5, 4)))
        bn.bias.copy_(torch.from_numpy(generator.normal(0.1, 0.1, 4)))
        for layer, gain in ((model[0], 3.0), (model[3], 2.0), (model[6], 4.0)):  # enough drive to spike
            layer.weight.mul_(gain)
    model.eval()
    model.dt = 1e-3
    model.input_shape = CNN_INPUT
    torch.save(model, path)
    return path


def digit_images(digits_dir: Path, count: int) -> np.ndarray:
    """The digits test spikes as 1x8x8 images per step: [count, T, 1, 8, 8]."""
    x = np.load(Path(digits_dir) / "test_x.npy")[:count]
    return x.reshape(x.shape[0], x.shape[1], *CNN_INPUT).astype(np.uint8)
