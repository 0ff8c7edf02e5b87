"""Architecture of the digits example: ``build()`` gives the untrained network.

Load a state dict with ``--arch examples/digits/model.py:build``. The network runs
on spike-coded sequences ``[B, T, 64]`` (see train.py's ``encode_spikes``):

    Linear(64, 128) -> MPBN-LIF(128, channel-wise) -> Linear(128, 10) -> LIF(10)

and the class is the output neuron with the most spikes.
"""
from __future__ import annotations

from torch import nn

import snncc.nn as snn

HIDDEN = 128
CLASSES = 10
DT = 1e-3  # seconds per step; only sets the exported time constants (tau = dt / (1 - beta))


def build() -> nn.Module:
    model = snn.Sequential(
        nn.Linear(64, HIDDEN),
        snn.MPBNLIF(HIDDEN, beta=0.8, threshold=1.0, mode="channel"),
        nn.Linear(HIDDEN, CLASSES),
        # reset to zero everywhere: the one reset Lava's LIF (and so Loihi 2) implements
        snn.LIF(beta=0.9, threshold=1.0, reset="zero"),
    )
    # snncc's .pt loader reads these, so `snncc compile model.pt` needs no --dt / --input-shape
    model.dt = DT
    model.input_shape = (64,)
    return model
