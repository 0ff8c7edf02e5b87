"""MPBN-LIF: batch normalisation of the membrane potential before the firing function.

Guo et al., "Membrane Potential Batch Normalization for Spiking Neural Networks",
ICCV 2023 (repo yfguo91/MPBN ``models/spike_layer.py``): ``v = beta * v + x``; fire
iff ``BN(v) > threshold``; the stored membrane is reset un-normalised. The BN only
feeds the comparator, so after training it folds exactly into a per-channel (or
per-neuron) threshold; the export keeps it as the neuron's ``membrane_bn``.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor, nn

from .. import ir
from .neurons import LIF, LIFState, remember_config
from .surrogate import spike_fn

MODES = ("channel", "element")


class MPBNLIF(LIF):
    """LIF whose spike condition is ``BN(v) > threshold``.

    ``mode="channel"``: ``num_features`` is the channel count C (axis 1 of ``[B, C, ...]``
    steps), statistics over batch and spatial dims, like BatchNorm1d/2d.
    ``mode="element"``: ``num_features`` is the neuron shape (int or tuple), one
    mean/var/gamma/beta per neuron, statistics over the batch.
    Train mode normalises with the step's batch statistics and updates the running
    ones (unbiased variance, as torch BatchNorm; ``momentum=None`` gives the cumulative
    average over all steps seen, useful to recalibrate after training); eval mode uses
    the running ones.
    """

    def __init__(self, num_features: int | Sequence[int], beta: float | Tensor, threshold: float = 1.0,
                 mode: str = "channel", reset: str = "zero", eps: float = 1e-5, momentum: float | None = 0.1,
                 learn_beta: bool = False, slope: float = 25.0, detach_reset: bool = True) -> None:
        super().__init__(beta, threshold, reset, learn_beta, slope, detach_reset)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.mode = mode
        dims = (num_features,) if isinstance(num_features, int) else tuple(int(d) for d in num_features)
        # channel mode only needs C; element mode remembers the neuron shape for the export
        self.feature_shape = dims[:1] if mode == "channel" else dims
        n = math.prod(self.feature_shape)
        self.eps = float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.bn_weight = nn.Parameter(torch.ones(n))
        self.bn_bias = nn.Parameter(torch.zeros(n))
        self.register_buffer("running_mean", torch.zeros(n))
        self.register_buffer("running_var", torch.ones(n))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        remember_config(self, num_features=list(dims), mode=mode, reset=reset, eps=self.eps, momentum=self.momentum,
                        learn_beta=learn_beta, slope=slope, detach_reset=detach_reset)

    def reset_running_stats(self) -> None:
        self.running_mean.zero_()
        self.running_var.fill_(1.0)
        self.num_batches_tracked.zero_()

    def _view(self, p: Tensor, v: Tensor) -> Tensor:
        if self.mode == "channel":
            return p.view(1, -1, *([1] * (v.dim() - 2)))
        return p.view(1, *v.shape[1:])

    def _statistics(self, v: Tensor) -> tuple[Tensor, Tensor]:
        if not self.training:
            return self._view(self.running_mean, v), self._view(self.running_var, v)
        dims = [0] + (list(range(2, v.dim())) if self.mode == "channel" else [])
        mean = v.mean(dims, keepdim=True)
        var = v.var(dims, unbiased=False, keepdim=True)
        with torch.no_grad():
            n = v.numel() // self.running_mean.numel()
            unbiased = var * (n / (n - 1)) if n > 1 else var
            self.num_batches_tracked.add_(1)
            m = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
            self.running_mean.mul_(1 - m).add_(m * mean.reshape(-1))
            self.running_var.mul_(1 - m).add_(m * unbiased.reshape(-1))
        return mean, var

    def step(self, x_t: Tensor, state: tuple[Tensor, ...] | None = None) -> tuple[Tensor, LIFState]:
        (v,) = state if state is not None else self.initial_state(x_t)
        v = self.decay() * v + x_t
        mean, var = self._statistics(v)
        gamma, shift = self._view(self.bn_weight, v), self._view(self.bn_bias, v)
        std = torch.sqrt(var + self.eps)
        normalised = gamma * (v - mean) / std + shift  # same expression order as the IR contract
        s = spike_fn(normalised - self.threshold, self.slope)
        # Subtract reset removes the threshold in membrane units: theta = mean + (V - beta) * std / gamma.
        theta = mean + (self.threshold - shift) * std / gamma if self.reset == "subtract" else self.threshold
        return s, LIFState(self._apply_reset(v, s, theta))

    def batchnorm_params(self, shape: Sequence[int]) -> ir.BatchNormParams:
        """Eval statistics as IR BN parameters for neurons of ``shape``."""
        shape = tuple(int(d) for d in shape)
        if self.mode == "channel":
            if not shape or shape[0] != self.feature_shape[0]:
                raise ValueError(f"channel-wise MPBN with {self.feature_shape[0]} channels got neurons {shape}")
            target: tuple[int, ...] = (shape[0],)
        else:
            if math.prod(shape) != math.prod(self.feature_shape):
                raise ValueError(f"element-wise MPBN for {self.feature_shape} got neurons {shape}")
            target = shape
        arrays = [p.detach().cpu().double().numpy().reshape(target)
                  for p in (self.running_mean, self.running_var, self.bn_weight, self.bn_bias)]
        return ir.BatchNormParams(*arrays, eps=self.eps)

    def to_ir(self, shape: Sequence[int], dt: float = 1e-3) -> ir.Node:
        node = super().to_ir(shape, dt)
        return node.replace(membrane_bn=self.batchnorm_params(shape))

    def extra_repr(self) -> str:
        return f"{self.feature_shape}, mode={self.mode!r}, " + super().extra_repr()
