"""Train a small ReLU CNN on scikit-learn's bundled 8x8 digits and export it to ONNX.

    .venv/bin/python examples/ann_to_snn/train_ann.py [out_dir]

Writes ``digits_cnn.onnx``, ``calibration.npy`` (training inputs for threshold balancing),
``x_test.npy`` and ``y_test.npy`` into ``out_dir`` (default: ``build/ann_to_snn``). No download:
``load_digits`` ships with scikit-learn. Seeded; a few seconds on one core.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class TrainedANN:
    onnx_path: Path
    calibration: Path
    x_test: Path
    y_test: Path
    test_accuracy: float


def digits_cnn() -> nn.Sequential:
    """Conv-BN-ReLU, Conv-ReLU, AvgPool, FC-ReLU, FC: every op the converter supports on one path."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 10),
    )


def load_split(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]  # [N, 1, 8, 8] in [0, 1]
    return train_test_split(x, digits.target.astype(np.int64), test_size=0.2, random_state=seed,
                            stratify=digits.target)


def train(out_dir: str | Path, seed: int = 0, epochs: int = 30) -> TrainedANN:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny convs: thread hand-off costs more than it saves (10x on 2 cores)
    try:
        return _train(Path(out_dir), seed, epochs)
    finally:
        torch.set_num_threads(threads)


def _train(out: Path, seed: int, epochs: int) -> TrainedANN:
    torch.manual_seed(seed)
    out.mkdir(parents=True, exist_ok=True)
    x_train, x_test, y_train, y_test = load_split(seed)
    model = digits_cnn()
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        for batch in torch.randperm(len(xt), generator=generator).split(64):
            optimiser.zero_grad()
            nn.functional.cross_entropy(model(xt[batch]), yt[batch]).backward()
            optimiser.step()
    model.eval()
    with torch.no_grad():
        accuracy = float((model(torch.from_numpy(x_test)).argmax(1).numpy() == y_test).mean())
    onnx_path = out / "digits_cnn.onnx"
    export_onnx(model, (1, 1, 8, 8), onnx_path)
    paths = TrainedANN(onnx_path, out / "calibration.npy", out / "x_test.npy", out / "y_test.npy", accuracy)
    np.save(paths.calibration, x_train[:500])
    np.save(paths.x_test, x_test)
    np.save(paths.y_test, y_test)
    return paths


def export_onnx(model: nn.Module, input_shape: tuple[int, ...], path: Path) -> None:
    """TorchScript-based exporter (dynamo=False): works offline without onnxscript."""
    torch.onnx.export(
        model.eval(), torch.zeros(input_shape), str(path), input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17, dynamo=False,
    )


if __name__ == "__main__":
    result = train(sys.argv[1] if len(sys.argv) > 1 else "build/ann_to_snn")
    print(f"ANN test accuracy {result.test_accuracy:.4f}; wrote {result.onnx_path}")
