"""A few optimiser steps through the surrogate gradient lower the loss."""
import torch
from torch import nn

import snncc.nn as snn


def test_training_smoke_loss_decreases():
    torch.manual_seed(0)
    n, steps = 96, 8
    labels = torch.arange(n) % 3
    prototypes = torch.rand(3, 12)
    x = (prototypes[labels] + 0.1 * torch.randn(n, 12)).unsqueeze(1).repeat(1, steps, 1)
    model = snn.Sequential(
        nn.Linear(12, 32), snn.MPBNLIF(32, beta=0.8, mode="element"),
        nn.Linear(32, 16), snn.CubaLIF(alpha=0.5, beta=0.8, reset="subtract"),
        nn.Linear(16, 3), snn.LIF(beta=0.9, reset="subtract"),
    )
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(25):
        loss = nn.functional.cross_entropy(model(x).sum(1), labels)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert sum(losses[-5:]) / 5 < 0.7 * losses[0], losses
