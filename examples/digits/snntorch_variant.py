"""The digits classifier written with snnTorch (Leaky neurons, reset to zero).

    .venv/bin/python examples/digits/snntorch_variant.py --out build/digits-snntorch
    snncc compile build/digits-snntorch/model.pt --arch examples/digits/snntorch_variant.py:build

``Linear(64, 128) -> Leaky(beta 0.8) -> Linear(128, 10) -> Leaky(beta 0.9)``, both resetting
to zero, which snncc maps exactly onto the IR (and is the reset Loihi 2 implements).
"""
from __future__ import annotations

from pathlib import Path

import snntorch as snt
import torch
from snntorch import utils as snt_utils
from torch import nn

from snncc.loading import import_file

DT = 1e-3
EPOCHS = 8  # about half a minute of CPU time
ARCH = "examples/digits/snntorch_variant.py:build"


def build() -> nn.Module:
    model = nn.Sequential(
        nn.Linear(64, 128), snt.Leaky(beta=0.8, threshold=1.0, reset_mechanism="zero", init_hidden=True),
        nn.Linear(128, 10), snt.Leaky(beta=0.9, threshold=1.0, reset_mechanism="zero", init_hidden=True),
    )
    model.dt, model.input_shape = DT, (64,)  # read by snncc's loader: no --dt / --input-shape needed
    return model


def run(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Output spikes [B, T, 10] for spike-coded inputs [B, T, 64], from rest."""
    snt_utils.reset(model)
    return torch.stack([model(x[:, t]) for t in range(x.shape[1])], 1)


def _common():
    return import_file(Path(__file__).with_name("variants_common.py"), "digits_variants_common")


def train(out: Path, epochs: int = EPOCHS, seed: int = 0, threads: int = 2) -> dict:
    return _common().train_variant(build, run, ARCH, out, epochs=epochs, seed=seed, threads=threads)


if __name__ == "__main__":
    raise SystemExit(_common().main(__doc__.splitlines()[0], build, run, ARCH, default_epochs=EPOCHS))
