"""Training loop shared by the norse and snnTorch digits variants.

Each variant gives ``build()`` (the untrained network, which is also its ``--arch``
factory) and ``run(model, x)`` (output spikes ``[B, T, 10]`` for spike-coded inputs
``[B, T, 64]``). The data, the spike coding, the epoch loop (cross-entropy of the output
spike counts) and the saved files are train.py's. The model is saved as a state dict: norse
and snnTorch modules hold closures/functions torch cannot pickle whole.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from snncc.loading import import_file

Run = Callable[[nn.Module, torch.Tensor], torch.Tensor]


def _digits_train_module():
    # train.py is loaded by path so the variants run from any directory without installing examples/.
    return import_file(Path(__file__).with_name("train.py"), "digits_train")


def train_variant(build: Callable[[], nn.Module], run: Run, arch: str, out: Path, epochs: int, steps: int = 16,
                  seed: int = 0, lr: float = 1e-2, batch_size: int = 128, threads: int = 2) -> dict:
    """Train, then write model.pt (state dict), test_x.npy, test_y.npy and meta.json to ``out``."""
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    start = time.perf_counter()
    digits = _digits_train_module()
    x_tr, y_tr, x_te, y_te = digits.load_split(steps, seed)
    model = build()
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        model.train()
        loss = digits.train_epoch(model, run, x_tr, y_tr, optimiser, batch_size, generator)
        print(f"epoch {epoch + 1:3d}  loss {loss:.4f}", file=sys.stderr)
    acc = digits.accuracy(model, x_te, y_te, run)
    return digits.save_results(out, model.state_dict(), x_te, y_te, accuracy=acc, dt=model.dt, steps=steps,
                               epochs=epochs, seed=seed, seconds=time.perf_counter() - start, arch=arch)


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
