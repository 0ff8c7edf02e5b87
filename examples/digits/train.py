"""Train a spiking MLP with an MPBN-LIF layer on scikit-learn's 8x8 digits.

    .venv/bin/python examples/digits/train.py --out DIR

Spike coding: each pixel, scaled to [0, 1], drives a deterministic integrate-and-fire
encoder (a spike at step t when floor((t + 1) p) > floor(t p)), so a pixel of value p
spikes about p T times. Binary spikes are what every hardware target takes as input.
The prediction is the output neuron with the most spikes (ties go to the lowest index).
Writes to DIR: ``model.pt`` (the whole module, eval mode), ``test_x.npy`` ([N, T, 64]
float32 of 0/1), ``test_y.npy`` (int64) and ``meta.json``.
Seeded and deterministic on CPU.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

import snncc.nn as snn
from snncc.loading import import_file


def _build():
    # Loaded by path so the script runs from any directory without installing examples/.
    return import_file(Path(__file__).with_name("model.py"), "digits_model").build()


def load_split(steps: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Spike-coded train/test sequences [N, T, 64] and labels (stratified 75/25 split)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = (digits.data / 16.0).astype(np.float32)
    x_tr, x_te, y_tr, y_te = train_test_split(images, digits.target, test_size=0.25, random_state=seed,
                                              stratify=digits.target)
    encode = lambda a: torch.from_numpy(encode_spikes(a, steps))  # noqa: E731
    return encode(x_tr), torch.from_numpy(y_tr), encode(x_te), torch.from_numpy(y_te)


def encode_spikes(images: np.ndarray, steps: int) -> np.ndarray:
    """Deterministic rate code [N, 64] in [0, 1] -> [N, T, 64] float32 spikes."""
    counts = np.floor(np.arange(steps + 1)[None, :, None] * images[:, None, :] + 1e-9)
    return (np.diff(counts, axis=1) > 0).astype(np.float32)


Run = Callable[[nn.Module, torch.Tensor], torch.Tensor]


def forward(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Output spikes [B, T, 10] for inputs [B, T, 64]: snncc.nn models run whole sequences."""
    return model(x)


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, run: Run = forward) -> float:
    model.eval()
    with torch.no_grad():
        return float((run(model, x).sum(1).argmax(1) == y).float().mean())


def train_epoch(model: nn.Module, run: Run, x: torch.Tensor, y: torch.Tensor, optimiser: torch.optim.Optimizer,
                batch_size: int, generator: torch.Generator) -> float:
    """One pass over (x, y) in a seeded random order; the output spike counts act as logits.
    Returns the mean loss."""
    loss_fn = nn.CrossEntropyLoss()
    order = torch.randperm(len(x), generator=generator)
    total = 0.0
    for i in range(0, len(order), batch_size):
        idx = order[i : i + batch_size]
        loss = loss_fn(run(model, x[idx]).sum(1), y[idx])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        total += loss.item() * len(idx)
    return total / len(x)


def save_results(out: Path, saved_model: object, x_te: torch.Tensor, y_te: torch.Tensor, *, accuracy: float,
                 dt: float, steps: int, epochs: int, seed: int, seconds: float, arch: str) -> dict:
    """model.pt (``saved_model``: the module or its state dict), test_x.npy, test_y.npy and meta.json."""
    out.mkdir(parents=True, exist_ok=True)
    torch.save(saved_model, out / "model.pt")
    np.save(out / "test_x.npy", x_te.numpy().astype(np.float32))
    np.save(out / "test_y.npy", y_te.numpy().astype(np.int64))
    meta = {
        "dt": float(dt), "T": steps, "encoding": "spikes", "readout": "spike_count", "accuracy": accuracy,
        "input_shape": [64], "n_test": len(y_te), "epochs": epochs, "seed": seed,
        "train_seconds": round(seconds, 2), "arch": arch,
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def recalibrate(model: nn.Module, x: torch.Tensor, batch_size: int) -> None:
    """Membrane-BN running statistics as the plain average over all training batches and
    steps (the default EMA mostly remembers the last batch's last steps)."""
    layers = [m for m in model.modules() if isinstance(m, snn.MPBNLIF)]
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None
    model.train()
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            model(x[i : i + batch_size])
    for layer, momentum in zip(layers, momenta):
        layer.momentum = momentum


def train(out: Path, epochs: int = 30, steps: int = 16, seed: int = 0, lr: float = 5e-3,
          batch_size: int = 64, threads: int = 2, freeze_epochs: int | None = None,
          finetune_lr_scale: float = 0.1) -> dict:
    freeze_epochs = epochs // 3 if freeze_epochs is None else freeze_epochs
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    start = time.perf_counter()
    x_tr, y_tr, x_te, y_te = load_split(steps, seed)
    model = _build()
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        if epoch == epochs - freeze_epochs:
            recalibrate(model, x_tr, batch_size)
            for group in optimiser.param_groups:  # fine-tuning: frozen BN gains amplify updates
                group["lr"] = lr * finetune_lr_scale
        model.train()
        if epoch >= epochs - freeze_epochs:
            # Last epochs: membrane BN on its running statistics, as at inference, so the
            # weights adapt to the frozen normalisation (per-step batch statistics drift with t).
            for layer in model.modules():
                if isinstance(layer, snn.MPBNLIF):
                    layer.eval()
        loss = train_epoch(model, forward, x_tr, y_tr, optimiser, batch_size, generator)
        print(f"epoch {epoch + 1:3d}  loss {loss:.4f}", file=sys.stderr)
    acc = accuracy(model, x_te, y_te)  # leaves the model in eval mode, as it is saved
    return save_results(out, model, x_te, y_te, accuracy=acc, dt=model.dt, steps=steps, epochs=epochs, seed=seed,
                        seconds=time.perf_counter() - start, arch="examples/digits/model.py:build")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--steps", type=int, default=16, help="time steps T per sample")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    meta = train(args.out, epochs=args.epochs, steps=args.steps, seed=args.seed)
    print(f"test accuracy {meta['accuracy']:.4f} in {meta['train_seconds']} s -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
