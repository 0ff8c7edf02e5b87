"""Surrogate-gradient spike functions.

The forward pass is an exact Heaviside step (``x > 0``), so a trained model's
spikes are the ones the compiled graph produces; only the backward pass is smoothed.
"""
from __future__ import annotations

import torch


class FastSigmoidSpike(torch.autograd.Function):
    """Heaviside forward, fast-sigmoid derivative ``1 / (slope |x| + 1)^2`` backward
    (Zenke & Ganguli, SuperSpike, 2018)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, slope: float) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(x)
        ctx.slope = slope
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        (x,) = ctx.saved_tensors
        return grad / (ctx.slope * x.abs() + 1.0) ** 2, None


def spike_fn(x: torch.Tensor, slope: float = 25.0) -> torch.Tensor:
    """1.0 where ``x > 0`` else 0.0, differentiable through the fast-sigmoid surrogate.

    While ``torch.jit.trace`` records, the plain step is used: a Python autograd Function
    cannot be saved in a TorchScript archive, and an archive is for inference."""
    if torch.jit.is_tracing():
        return (x > 0).to(x.dtype)
    return FastSigmoidSpike.apply(x, slope)
