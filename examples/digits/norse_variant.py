"""The digits classifier written with norse (current-based LIF cells).

    .venv/bin/python examples/digits/norse_variant.py --out build/digits-norse
    snncc compile build/digits-norse/model.pt --arch examples/digits/norse_variant.py:build

``SequentialState(Linear(64, 128), LIFCell, Linear(128, 10), LIFCell)`` (no biases) at dt = 1 ms
(tau_syn 5 ms, tau_mem 10 ms, threshold 0.5), run one step at a time.
"""
from __future__ import annotations

from pathlib import Path

import norse.torch as norse
import torch
from torch import nn

from snncc.loading import import_file

DT = 1e-3
EPOCHS = 8  # about half a minute of CPU time
ARCH = "examples/digits/norse_variant.py:build"


def build() -> nn.Module:
    params = norse.LIFParameters(tau_syn_inv=torch.tensor(200.0), tau_mem_inv=torch.tensor(100.0),
                                 v_th=torch.tensor(0.5))
    # no Linear biases: a constant current into a current-based neuron has no Loihi 2 equivalent
    model = norse.SequentialState(nn.Linear(64, 128, bias=False), norse.LIFCell(params, dt=DT),
                                  nn.Linear(128, 10, bias=False), norse.LIFCell(params, dt=DT))
    model.dt, model.input_shape = DT, (64,)  # read by snncc's loader: no --dt / --input-shape needed
    return model


def run(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Output spikes [B, T, 10] for spike-coded inputs [B, T, 64], from rest."""
    state, out = None, []
    for t in range(x.shape[1]):
        z, state = model(x[:, t], state)
        out.append(z)
    return torch.stack(out, 1)


def _common():
    return import_file(Path(__file__).with_name("variants_common.py"), "digits_variants_common")


def train(out: Path, epochs: int = EPOCHS, seed: int = 0, threads: int = 2) -> dict:
    return _common().train_variant(build, run, ARCH, out, epochs=epochs, seed=seed, threads=threads)


if __name__ == "__main__":
    raise SystemExit(_common().main(__doc__.splitlines()[0], build, run, ARCH, default_epochs=EPOCHS))
