"""PyTorch layers -> snncc IR: ``module_to_graph(model, input_shape, dt)``.

The model is a ``torch.nn.Sequential`` (nested Sequentials and the containers in
:data:`CONTAINERS` are flattened) applied per time step: stateless layers see
``[N, *input_shape]`` (batch first, no time), as ``snncc.nn.Sequential`` runs them.
Each layer type maps to IR nodes through a converter in :data:`CONVERTERS`, keyed
by module type and looked up along the class's MRO. The norse, snnTorch, sinabs and
rockpool converters live in ``torch_<library>.py`` and are imported on first sight
of one of that library's modules (:data:`LIBRARY_FRONTENDS`).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from .. import ir
from ..diagnostics import Diagnostic, SnnccError
from ..nn import SpikingNeuron

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


@dataclass(frozen=True)
class Block:
    """A converter's result with its own wiring, e.g. a neuron with recurrent loops.

    ``nodes`` are (local name, node) pairs; the previous layer feeds ``entry`` and the
    next layer reads ``exit``. ``edges`` are (src, dst) local names; an edge closing a
    loop delivers its source's value of the previous step (reference semantics).
    """

    nodes: tuple[tuple[str, ir.Node], ...]
    edges: tuple[tuple[str, str], ...]
    entry: str
    exit: str


#: converter(module, ctx) -> IR nodes in a chain (empty for layers dropped at inference) or a Block
Converter = Callable[[nn.Module, LayerContext], "Sequence[ir.Node] | Block"]
CONVERTERS: dict[type, Converter] = {}
#: container type -> its children as (name, module) in execution order ("" keeps the parent's path)
CONTAINERS: dict[type, Callable[[nn.Module], Iterable[tuple[str, nn.Module]]]] = {}
#: top-level package of a module class -> the snncc module registering its converters
LIBRARY_FRONTENDS = {
    "norse": "snncc.frontends.torch_norse",
    "snntorch": "snncc.frontends.torch_snntorch",
    "sinabs": "snncc.frontends.torch_sinabs",
    "rockpool": "snncc.frontends.torch_rockpool",
}


def register_converter(*module_types: type) -> Callable[[Converter], Converter]:
    """Decorator registering ``fn`` for ``module_types`` (and their subclasses)."""

    def decorate(fn: Converter) -> Converter:
        for module_type in module_types:
            CONVERTERS[module_type] = fn
        return fn

    return decorate


def register_container(*module_types: type):
    """Decorator registering ``fn(module) -> [(name, child), ...]`` for container types."""

    def decorate(fn):
        for module_type in module_types:
            CONTAINERS[module_type] = fn
        return fn

    return decorate


def _lookup(table: dict, module: nn.Module):
    for cls in type(module).__mro__:
        if cls in table:
            return table[cls]
    return None


def find_converter(module: nn.Module) -> Converter | None:
    return _lookup(CONVERTERS, module)


def load_library_converters(module: nn.Module) -> None:
    """Import the converters of every library whose modules occur in ``module``."""
    # nn.Module.modules, not module.modules(): rockpool modules override it with their own API
    packages = {type(m).__module__.split(".")[0] for m in nn.Module.modules(module)}
    for package in sorted(packages & set(LIBRARY_FRONTENDS)):
        importlib.import_module(LIBRARY_FRONTENDS[package])


def model_layers(module: nn.Module, prefix: str = "") -> Iterator[tuple[str, nn.Module]]:
    """Leaf layers of (nested) Sequentials and registered containers with dotted paths."""
    expand = _lookup(CONTAINERS, module)
    if expand is None and not isinstance(module, nn.Sequential):
        yield prefix, module
        return
    children = expand(module) if expand is not None else module.named_children()
    for name, child in children:
        yield from model_layers(child, ".".join(p for p in (prefix, name) if p))


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
    load_library_converters(module)
    layers = [(path or "0", layer) for path, layer in model_layers(module)]
    missing = [(path, layer) for path, layer in layers if find_converter(layer) is None]
    if missing:
        raise SnnccError(
            Diagnostic("SNN110", f"unsupported layer {_describe(layer)} at position '{path}' of the model",
                       node=path, hint=_hint(layer))
            for path, layer in missing
        )
    shape: Shape = tuple(int(d) for d in input_shape)
    nodes: dict[str, ir.Node] = {"input": ir.Input(shape=shape)}
    edges: list[ir.Edge] = []
    last = "input"
    problems: list[Diagnostic] = []
    with torch.no_grad():
        for path, layer in layers:
            ctx = LayerContext(path=path, input_shape=shape, dt=dt)
            try:
                converted = find_converter(layer)(layer, ctx)  # type: ignore[misc]
                block = converted if isinstance(converted, Block) else _chain(list(converted))
            except (Unsupported, ValueError) as exc:
                problems.append(Diagnostic("SNN110", f"cannot convert {_describe(layer)} at position '{path}': {exc}",
                                           node=path, hint=getattr(exc, "hint", None) or _hint(layer)))
                break  # later shapes are unknown after a failed layer
            except SnnccError as exc:
                problems.extend(Diagnostic(**{**d.__dict__, "node": d.node or path}) for d in exc.diagnostics)
                break
            if not block.nodes:
                continue
            names = {local: f"{local}_{path.replace('.', '_')}" for local, _ in block.nodes}
            for local, node in block.nodes:
                nodes[names[local]] = node.replace(metadata={**node.metadata, "torch_path": path,
                                                             "torch_type": type(layer).__name__})
            edges.append(ir.Edge(last, names[block.entry]))
            edges.extend(ir.Edge(names[a], names[b]) for a, b in block.edges)
            shape, last = _block_output_shape(block, shape), names[block.exit]
    if problems:
        raise SnnccError(problems)
    nodes["output"] = ir.Output(shape=shape)
    edges.append(ir.Edge(last, "output"))
    graph = ir.Graph(nodes, tuple(edges), dt=dt, metadata={"frontend": "torch_layers"})
    errors = [d for d in ir.verify(graph) if d.severity.value == "error"]
    if errors:
        raise SnnccError(errors)
    return graph


def _chain(converted: list[ir.Node]) -> Block:
    kinds = [node.kind.lower() for node in converted]
    locals_ = [kind if kinds.count(kind) == 1 else f"{kind}{k}" for k, kind in enumerate(kinds)]
    return Block(tuple(zip(locals_, converted)), tuple(zip(locals_, locals_[1:])),
                 locals_[0] if locals_ else "", locals_[-1] if locals_ else "")


def _block_output_shape(block: Block, shape: Shape) -> Shape:
    """Feed-forward shapes through the block (loops carry the same shapes back)."""
    nodes = dict(block.nodes)
    shapes = {block.entry: tuple(int(d) for d in nodes[block.entry].output_shape(shape))}
    pending = [name for name, _ in block.nodes if name != block.entry]
    while pending:
        ready = [n for n in pending if any(a in shapes and b == n for a, b in block.edges)]
        if not ready:
            raise ValueError(f"block nodes {pending} are not reachable from its entry")
        for name in ready:
            src = next(a for a, b in block.edges if b == name and a in shapes)
            shapes[name] = tuple(int(d) for d in nodes[name].output_shape(shapes[src]))
            pending.remove(name)
    return shapes[block.exit]


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
