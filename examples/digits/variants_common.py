"""Training loop shared by the norse and snnTorch digits variants.

Each variant gives ``build()`` (the untrained network, which is also its ``--arch``
factory) and ``run(model, x)`` (output spikes ``[B, T, 10]`` for spike-coded inputs
``[B, T, 64]``). The data and the spike coding are train.py's (``load_split``), the loss
is the cross-entropy of the output spike counts, as in train.py. The model is saved as a
state dict: norse and snnTorch modules hold closures/functions torch cannot pickle whole.
"""
from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

Run = Callable[[nn.Module, torch.Tensor], torch.Tensor]


def _digits_train_module():
    # train.py is loaded by path so the variants run from any directory without installing examples/.
    spec = importlib.util.spec_from_file_location("digits_train", Path(__file__).with_name("train.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def accuracy(run: Run, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        return float((run(model, x).sum(1).argmax(1) == y).float().mean())


def train_variant(build: Callable[[], nn.Module], run: Run, arch: str, out: Path, epochs: int, steps: int = 16,
                  seed: int = 0, lr: float = 1e-2, batch_size: int = 128, threads: int = 2) -> dict:
    """Train, then write model.pt (state dict), test_x.npy, test_y.npy and meta.json to ``out``."""
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    start = time.perf_counter()
    x_tr, y_tr, x_te, y_te = _digits_train_module().load_split(steps, seed)
    model = build()
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x_tr), generator=generator)
        total = 0.0
        for i in range(0, len(order), batch_size):
            idx = order[i : i + batch_size]
            loss = loss_fn(run(model, x_tr[idx]).sum(1), y_tr[idx])  # spike counts act as logits
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item() * len(idx)
        print(f"epoch {epoch + 1:3d}  loss {total / len(x_tr):.4f}", file=sys.stderr)
    acc = accuracy(run, model, x_te, y_te)
    out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), out / "model.pt")
    np.save(out / "test_x.npy", x_te.numpy().astype(np.float32))
    np.save(out / "test_y.npy", y_te.numpy().astype(np.int64))
    meta = {"dt": float(model.dt), "T": steps, "encoding": "spikes", "readout": "spike_count", "accuracy": acc,
            "input_shape": [64], "n_test": len(y_te), "epochs": epochs, "seed": seed,
            "train_seconds": round(time.perf_counter() - start, 2), "arch": arch}
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def main(description: str, build, run, arch: str, default_epochs: int, argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--epochs", type=int, default=default_epochs)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    meta = train_variant(build, run, arch, args.out, epochs=args.epochs, seed=args.seed)
    print(f"test accuracy {meta['accuracy']:.4f} in {meta['train_seconds']} s -> {args.out}")
    print(f"compile: snncc compile {args.out / 'model.pt'} --arch {arch}")
    return 0
