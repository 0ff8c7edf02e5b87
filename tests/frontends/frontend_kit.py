"""Helpers shared by the frontend tests (imported via tests/frontends/conftest.py's sys.path
entry: tests/ has no packages): random models and inputs, snnTorch's own forward pass, ONNX export."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator, Sequence

import torch
from torch import nn

from snncc import ir
from snncc.frontends.torch_layers import module_to_graph

#: batch and time steps of the library-agreement tests
B, T = 4, 50


def linear(n_in: int, n_out: int, gain: float = 2.0) -> nn.Linear:
    """A randomly initialised Linear with its weights scaled by ``gain`` (so the next layer fires)."""
    layer = nn.Linear(n_in, n_out)
    with torch.no_grad():
        layer.weight.mul_(gain)
    return layer


def random_spikes(shape) -> torch.Tensor:
    """0/1 inputs [B, T, *shape], each spike with probability 0.3."""
    return (torch.rand(B, T, *shape) < 0.3).float()


def random_case(factory: Callable[[], nn.Module], shape, seed: int) -> tuple[nn.Module, torch.Tensor, ir.Graph]:
    """After seeding torch with ``seed``: the model ``factory`` builds (eval mode), random spikes
    for it and its IR graph (dt = 1 ms)."""
    torch.manual_seed(seed)
    model = factory().eval()
    x = random_spikes(shape)
    return model, x, module_to_graph(model, shape, dt=1e-3)


@contextmanager
def recording(layers: Sequence[nn.Module], pick: Callable = lambda out: out) -> Iterator[list[list]]:
    """While the block runs, ``pick(output)`` of every forward call of each of ``layers``:
    one list per layer, in call order (how the library tests read each layer's own output)."""
    outputs: list[list] = [[] for _ in layers]
    hooks = [layer.register_forward_hook(lambda _m, _i, out, seen=seen: seen.append(pick(out)))
             for layer, seen in zip(layers, outputs)]
    try:
        yield outputs
    finally:
        for hook in hooks:
            hook.remove()


def run_snntorch(model: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """snnTorch's forward, step by step (init_hidden neurons), recording every neuron layer."""
    import snntorch as snt
    from snntorch import utils as snt_utils

    neurons = [m for m in model.modules() if isinstance(m, snt.SpikingNeuron)]
    with recording(neurons) as outputs, torch.no_grad():
        snt_utils.reset(model)
        for t in range(x.shape[1]):
            model(x[:, t])
    return [torch.stack(steps, 1) for steps in outputs]


def export_onnx(module: nn.Module, shape, path) -> str:
    """``module`` exported to ONNX at ``path`` for inputs of ``shape`` (batch included)."""
    torch.onnx.export(module.eval(), torch.zeros(shape), str(path), opset_version=17, dynamo=False,
                      input_names=["input"])
    return str(path)
