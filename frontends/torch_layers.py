"""PyTorch layers -> snncc IR: ``module_to_graph(model, input_shape, dt)``.

The model is a ``torch.nn.Sequential`` (nested Sequentials are flattened) applied
per time step: stateless layers see ``[N, *input_shape]`` (batch first, no time),
as ``snncc.nn.Sequential`` runs them. Each layer type maps to IR nodes through a
converter in :data:`CONVERTERS`, keyed by module type and looked up along the
class's MRO, so other libraries (norse, snnTorch, sinabs, rockpool) add theirs
with :func:`register_converter` without touching this file.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from .. import ir
from ..diagnostics import Diagnostic, SnnccError
from ..nn import SpikingNeuron, named_layers

Shape = tuple[int, ...]


@dataclass(frozen=True)
class LayerContext:
    """What a converter knows about the layer it converts."""

    path: str  #: dotted position in the model, e.g. "3" or "1.0"
    input_shape: Shape  #: per-step input shape without batch
    dt: float  #: time step in seconds


class Unsupported(Exception):
    """Raised by a converter for a layer configuration the IR cannot express."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


#: converter(module, ctx) -> IR nodes (empty for layers dropped at inference)
Converter = Callable[[nn.Module, LayerContext], Sequence[ir.Node]]
CONVERTERS: dict[type, Converter] = {}


def register_converter(*module_types: type) -> Callable[[Converter], Converter]:
    """Decorator registering ``fn`` for ``module_types`` (and their subclasses)."""

    def decorate(fn: Converter) -> Converter:
        for module_type in module_types:
            CONVERTERS[module_type] = fn
        return fn

    return decorate


def find_converter(module: nn.Module) -> Converter | None:
    for cls in type(module).__mro__:
        if cls in CONVERTERS:
            return CONVERTERS[cls]
    return None


def _supported_names() -> str:
    return ", ".join(sorted({t.__name__ for t in CONVERTERS}))


def _describe(module: nn.Module) -> str:
    return f"{type(module).__module__}.{type(module).__qualname__}"


def module_to_graph(module: nn.Module, input_shape: Sequence[int], dt: float = 1e-3) -> ir.Graph:
    """The IR graph of ``module`` for per-step inputs of ``input_shape`` (no batch, no time).

    Uses eval-mode semantics (BatchNorm running statistics, Dropout dropped) without
    changing the module. Raises :class:`SnnccError` with every unsupported layer
    (code SNN110, naming its type and path) before converting anything.
    """
    layers = list(named_layers(module)) if isinstance(module, nn.Sequential) else [("0", module)]
    missing = [(path, layer) for path, layer in layers if find_converter(layer) is None]
    if missing:
        raise SnnccError(
            Diagnostic("SNN110", f"unsupported layer {_describe(layer)} at position '{path}' of the model",
                       node=path, hint=_hint(layer))
            for path, layer in missing
        )
    shape: Shape = tuple(int(d) for d in input_shape)
    names, nodes = ["input"], [ir.Input(shape=shape)]
    problems: list[Diagnostic] = []
    with torch.no_grad():
        for path, layer in layers:
            ctx = LayerContext(path=path, input_shape=shape, dt=dt)
            try:
                converted = list(find_converter(layer)(layer, ctx))  # type: ignore[misc]
            except (Unsupported, ValueError) as exc:
                problems.append(Diagnostic("SNN110", f"cannot convert {_describe(layer)} at position '{path}': {exc}",
                                           node=path, hint=getattr(exc, "hint", None) or _hint(layer)))
                break  # later shapes are unknown after a failed layer
            except SnnccError as exc:
                problems.extend(Diagnostic(**{**d.__dict__, "node": d.node or path}) for d in exc.diagnostics)
                break
            for k, node in enumerate(converted):
                suffix = "" if len(converted) == 1 else f"_{k}"
                names.append(f"{node.kind.lower()}_{path.replace('.', '_')}{suffix}")
                nodes.append(node.replace(metadata={**node.metadata, "torch_path": path,
                                                    "torch_type": type(layer).__name__}))
                shape = tuple(int(d) for d in node.output_shape(shape))
    if problems:
        raise SnnccError(problems)
    names.append("output")
    nodes.append(ir.Output(shape=shape))
    edges = tuple(ir.Edge(a, b) for a, b in zip(names, names[1:]))
    graph = ir.Graph(dict(zip(names, nodes)), edges, dt=dt, metadata={"frontend": "torch_layers"})
    errors = [d for d in ir.verify(graph) if d.severity.value == "error"]
    if errors:
        raise SnnccError(errors)
    return graph


def _hint(layer: nn.Module) -> str:
    if isinstance(layer, (nn.RNNBase, nn.RNNCellBase)):
        return ("recurrent torch layers have no IR equivalent; build the recurrence from snncc.nn "
                f"neurons and Linear layers. Supported layers: {_supported_names()}")
    if isinstance(layer, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)):
        return f"spiking hardware has no max-pooling; use AvgPool2d. Supported layers: {_supported_names()}"
    return (f"supported layers: {_supported_names()}; other frameworks can add theirs with "
            "snncc.frontends.torch_layers.register_converter")


# --------------------------------------------------------------------------- converters


def _np(t: torch.Tensor | None, shape: Sequence[int] | None = None) -> np.ndarray:
    if t is None:
        return np.zeros(tuple(shape or ()))
    return t.detach().cpu().double().numpy().copy()


@register_converter(nn.Linear)
def _linear(layer: nn.Linear, ctx: LayerContext) -> list[ir.Node]:
    if len(ctx.input_shape) != 1:
        raise Unsupported(f"Linear needs a 1-D input per step, got shape {ctx.input_shape}",
                          hint="insert nn.Flatten() before the Linear layer")
    return [ir.Affine(weight=_np(layer.weight), bias=_np(layer.bias, (layer.out_features,)))]


def _conv_padding(layer: nn.modules.conv._ConvNd) -> tuple[int, ...]:
    if layer.padding_mode != "zeros":
        raise Unsupported(f"padding_mode={layer.padding_mode!r}", hint="use padding_mode='zeros'")
    if layer.padding == "valid":
        return (0,) * len(layer.kernel_size)
    if layer.padding == "same":
        total = [d * (k - 1) for d, k in zip(layer.dilation, layer.kernel_size)]
        if any(t % 2 for t in total):
            raise Unsupported("padding='same' with an even kernel pads asymmetrically",
                              hint="use an odd kernel size or explicit integer padding")
        return tuple(t // 2 for t in total)
    return tuple(int(p) for p in layer.padding)


@register_converter(nn.Conv1d, nn.Conv2d)
def _conv(layer: nn.modules.conv._ConvNd, ctx: LayerContext) -> list[ir.Node]:
    ndim = len(layer.kernel_size)
    if len(ctx.input_shape) != ndim + 1:
        raise Unsupported(f"Conv{ndim}d needs a ({ndim + 1})-D input per step (C, ...), got {ctx.input_shape}",
                          hint="check input_shape: it excludes batch and time")
    cls = ir.Conv1d if ndim == 1 else ir.Conv2d
    return [cls(weight=_np(layer.weight), bias=_np(layer.bias, (layer.out_channels,)),
                input_shape=ctx.input_shape, stride=tuple(layer.stride), padding=_conv_padding(layer),
                dilation=tuple(layer.dilation), groups=int(layer.groups))]


@register_converter(nn.BatchNorm1d, nn.BatchNorm2d)
def _batchnorm(layer: nn.modules.batchnorm._BatchNorm, ctx: LayerContext) -> list[ir.Node]:
    if layer.running_mean is None or layer.running_var is None:
        raise Unsupported("BatchNorm without running statistics (track_running_stats=False)",
                          hint="train with track_running_stats=True so eval statistics exist")
    c = layer.num_features
    gamma = _np(layer.weight) if layer.weight is not None else np.ones(c)
    beta = _np(layer.bias) if layer.bias is not None else np.zeros(c)
    return [ir.BatchNorm(params=ir.BatchNormParams(_np(layer.running_mean), _np(layer.running_var),
                                                   gamma, beta, eps=float(layer.eps)))]


@register_converter(nn.AvgPool2d)
def _avgpool(layer: nn.AvgPool2d, ctx: LayerContext) -> list[ir.Node]:
    padding = layer.padding if isinstance(layer.padding, tuple) else (layer.padding,) * 2
    if layer.ceil_mode or layer.divisor_override is not None:
        raise Unsupported("ceil_mode / divisor_override", hint="use the default AvgPool2d options")
    if any(padding) and not layer.count_include_pad:
        raise Unsupported("count_include_pad=False with padding", hint="use count_include_pad=True")
    return [ir.AvgPool2d(kernel_size=layer.kernel_size, stride=layer.stride or layer.kernel_size, padding=padding)]


@register_converter(nn.Flatten)
def _flatten(layer: nn.Flatten, ctx: LayerContext) -> list[ir.Node]:
    # torch dims count the batch, IR dims do not
    start, end = layer.start_dim, layer.end_dim
    batch = -len(ctx.input_shape) - 1  # the batch axis counted from the end
    if start in (0, batch) or end in (0, batch):
        raise Unsupported("Flatten over the batch dimension", hint="use nn.Flatten() (start_dim=1)")
    to_ir = lambda d: d - 1 if d > 0 else d  # noqa: E731
    return [ir.Flatten(start_dim=to_ir(start), end_dim=to_ir(end), input_shape=ctx.input_shape)]


@register_converter(nn.Dropout, nn.Identity)
def _dropped(layer: nn.Module, ctx: LayerContext) -> list[ir.Node]:
    return []  # identity at inference


@register_converter(SpikingNeuron)
def _snncc_neuron(layer: SpikingNeuron, ctx: LayerContext) -> list[ir.Node]:
    return [layer.to_ir(ctx.input_shape, ctx.dt)]
