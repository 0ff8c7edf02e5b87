"""A Sequential that runs time-major sequences through mixed stateless/stateful layers."""
from __future__ import annotations

from typing import Iterator

from torch import Tensor, nn

from .neurons import SpikingNeuron


def named_layers(module: nn.Module, prefix: str = "") -> Iterator[tuple[str, nn.Module]]:
    """Leaf layers of (nested) Sequentials with their dotted paths, in execution order."""
    if isinstance(module, nn.Sequential):
        for name, child in module.named_children():
            yield from named_layers(child, f"{prefix}.{name}" if prefix else name)
    else:
        yield prefix, module


def apply_layer(layer: nn.Module, x: Tensor) -> Tensor:
    """Neurons see the whole ``[B, T, ...]`` sequence; every other layer sees the
    ``B * T`` steps folded into its batch, so Conv2d/BatchNorm/Flatten get per-step
    tensors ``[N, C, ...]`` exactly as the compiled graph applies them."""
    if isinstance(layer, SpikingNeuron):
        return layer(x)
    batch, steps = x.shape[:2]
    y = layer(x.reshape(batch * steps, *x.shape[2:]))
    return y.reshape(batch, steps, *y.shape[1:])


class Sequential(nn.Sequential):
    """``torch.nn.Sequential`` for ``[B, T, ...]`` inputs (see :func:`apply_layer`).

    It is still a ``torch.nn.Sequential``, so ``module_to_graph`` and every
    Sequential-walking tool accept it unchanged.
    """

    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
        for _, layer in named_layers(self):
            x = apply_layer(layer, x)
        return x

    def step(self, x_t: Tensor, state: dict[str, tuple[Tensor, ...]] | None = None
             ) -> tuple[Tensor, dict[str, tuple[Tensor, ...]]]:
        """One time step ``[B, ...]`` with explicit per-neuron state (keyed by layer path),
        for streaming; ``None`` starts from rest."""
        state = dict(state or {})
        for path, layer in named_layers(self):
            if isinstance(layer, SpikingNeuron):
                x_t, state[path] = layer.step(x_t, state.get(path))
            else:
                x_t = layer(x_t)
        return x_t, state

    def run(self, x: Tensor) -> tuple[Tensor, dict[str, dict[str, Tensor]]]:
        """Output plus, per neuron path, its ``spikes`` and state traces ``[B, T, ...]``."""
        traces: dict[str, dict[str, Tensor]] = {}
        for path, layer in named_layers(self):
            if isinstance(layer, SpikingNeuron):
                x, states = layer.run(x)
                traces[path] = {"spikes": x, **states}
            else:
                x = apply_layer(layer, x)
        return x, traces
