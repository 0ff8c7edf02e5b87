"""Rebuild the ANN behind the NIR paper's N-MNIST CNN from its weights and export it to ONNX.

The state dict (``02_cnn/ann_pretraining/pretrained_ann_weights.pth``) has keys 0, 2, 5, 9, 11 of
an ``nn.Sequential``; the gaps are the parameter-free layers. Strides, padding and pooling come
from the paper's converted SNN (``cnn_sinabs.nir``): conv 5x5 stride 2 pad 1 (34 -> 16), conv 3x3
pad 1, 2x2 pooling (16 -> 8), conv 3x3 pad 1, 2x2 pooling (8 -> 4), so 8 x 4 x 4 = 128 features.
Sinabs sum-pools in the SNN; the ANN averages (a constant factor the threshold balancing absorbs).

N-MNIST itself is not available offline, so :func:`event_frames` makes event-like inputs: a
digit (scikit-learn's 8x8 digits, upscaled) moved by a small saccade, split into ON and OFF
event counts as a DVS sensor would report them.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

DEFAULT_WEIGHTS = Path(__file__).resolve().parents[3] / "shared" / "nir-paper" / "02_cnn" / "ann_pretraining" / "pretrained_ann_weights.pth"


def build_ann(weights: str | Path = DEFAULT_WEIGHTS) -> nn.Sequential:
    model = nn.Sequential(
        nn.Conv2d(2, 16, 5, stride=2, padding=1, bias=False), nn.ReLU(),   # 0, 1: 34 -> 16
        nn.Conv2d(16, 16, 3, padding=1, bias=False), nn.ReLU(),            # 2, 3
        nn.AvgPool2d(2),                                                   # 4: 16 -> 8
        nn.Conv2d(16, 8, 3, padding=1, bias=False), nn.ReLU(),             # 5, 6
        nn.AvgPool2d(2),                                                   # 7: 8 -> 4
        nn.Flatten(),                                                      # 8: 128
        nn.Linear(128, 256, bias=False), nn.ReLU(),                        # 9, 10
        nn.Linear(256, 10, bias=False),                                    # 11
    )
    model.load_state_dict(torch.load(str(weights), map_location="cpu", weights_only=True))
    return model.eval()


def event_frames(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """[count, 2, 34, 34] ON/OFF event counts of moving digits, and the digit labels."""
    from sklearn.datasets import load_digits

    rng = np.random.default_rng(seed)
    digits = load_digits()
    pick = rng.choice(len(digits.images), size=count, replace=False)
    frames = np.zeros((count, 2, 34, 34), np.float32)
    for k, index in enumerate(pick):
        image = np.zeros((34, 34))
        image[5:29, 5:29] = np.kron(digits.images[index] / 16.0, np.ones((3, 3)))
        dy, dx = rng.integers(-2, 3, size=2)
        moved = np.roll(image, (dy, dx), axis=(0, 1))
        counts = rng.poisson(4.0 * np.stack([np.clip(moved - image, 0, None), np.clip(image - moved, 0, None)]))
        frames[k] = counts
    return frames, digits.target[pick]


def export(out_dir: str | Path, weights: str | Path = DEFAULT_WEIGHTS) -> Path:
    from train_ann import export_onnx  # same folder

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "nir_paper_ann.onnx"
    export_onnx(build_ann(weights), (1, 2, 34, 34), path)
    return path


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    print(export(sys.argv[1] if len(sys.argv) > 1 else "build/ann_to_snn"))
