"""The layer-by-layer ANN -> SNN builder behind :func:`snncc.frontends.onnx_ann.ann_to_snn`.

Each ONNX tensor is either an ``_Act`` (carried by emitted IR nodes, in units of a known scale)
or a ``_Pending`` Conv/Gemm that is emitted only when its consumer is known, so that BN and
bias Adds fold into it and a following ReLU fixes its output scale (threshold balancing).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from snncc.diagnostics import SnnccError
from snncc.ir import (
    IF, Affine, AvgPool2d, BatchNorm, BatchNormParams, Comparator, Conv1d, Conv2d, Edge, Flatten,
    Graph, I, Input, Linear, Node, Output, ResetMode, Scale, verify,
)

from .onnx_model import OnnxModel, attributes, unsupported_attribute


@dataclass
class _Act:
    """A tensor carried by IR nodes: real value ~= scale * (sum of the outputs of ``srcs``)."""

    srcs: tuple[str, ...]
    scale: np.ndarray  # float64, the full batch-free shape
    shape: tuple[int, ...]


@dataclass
class _Pending:
    """A Conv/Gemm not emitted yet, so BN and bias Adds can still be folded into it."""

    kind: str  # "conv" or "gemm"
    weight: np.ndarray  # float64; gemm (out, in), conv (Cout, Cin/groups, *kernel)
    bias: np.ndarray | None  # float64 (out,) or None
    inp: _Act
    shape: tuple[int, ...]
    attrs: dict[str, Any]
    origin: str


def _channel_vector(scale: np.ndarray) -> np.ndarray | None:
    """The per-channel (axis 0) values of ``scale`` when it is constant within each channel."""
    rows = scale.reshape(scale.shape[0], -1) if scale.ndim else scale.reshape(1, 1)
    return rows[:, 0].copy() if np.all(rows == rows[:, :1]) else None


def _full(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Broadcast a scalar or per-channel vector to the batch-free ``shape``."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1 and len(shape) > 1:
        values = values.reshape(-1, *([1] * (len(shape) - 1)))
    return np.broadcast_to(values, shape).copy()


class Builder:
    def __init__(self, model: OnnxModel, lambdas: dict[str, np.ndarray]):
        self.model, self.lambdas = model, lambdas
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        self.vals: dict[str, _Act | _Pending] = {}
        self.counter = 0
        self.origin = ""

    # ------------------------------------------------------------------ emitting
    def add_input(self, tensor: str, shape: tuple[int, ...]) -> None:
        """The ANN input: fed as a constant current in its own units (scale 1)."""
        self.nodes["input"] = Input(shape=shape)
        self.vals[tensor] = _Act(("input",), np.ones(shape), shape)

    def add(self, kind: str, node: Node, inputs: _Act | None) -> str:
        name = f"{kind}{self.counter}"
        self.counter += 1
        self.nodes[name] = replace(node, metadata={"onnx_node": self.origin}) if self.origin else node
        for src in inputs.srcs if inputs is not None else ():
            self.edges.append(Edge(src, name))
        return name

    def rescale(self, act: _Act, scale: np.ndarray) -> _Act:
        """The same tensor in units of ``scale`` (a Scale node unless already so)."""
        if np.array_equal(act.scale, scale):
            return act
        factor = (act.scale / scale).astype(np.float32)
        name = self.add("scale", Scale(scale=factor), act)
        return _Act((name,), scale, act.shape)

    def channelwise(self, act: _Act) -> tuple[_Act, np.ndarray]:
        vector = _channel_vector(act.scale)
        if vector is None:
            act = self.rescale(act, np.ones(act.shape))
            vector = np.ones(act.shape[0])
        return act, vector

    def materialise(self, p: _Pending, out_scale: np.ndarray) -> _Act:
        """Emit ``p`` with weights rescaled from its input's units to ``out_scale``'s."""
        self.origin = p.origin
        out_c = _channel_vector(out_scale)
        if p.kind == "conv":
            inp, in_c = self.channelwise(p.inp)
            cout, cin_g = p.weight.shape[:2]
            groups = p.attrs["groups"]
            in_index = (np.arange(cout)[:, None] // (cout // groups)) * cin_g + np.arange(cin_g)[None, :]
            extra = (1,) * (p.weight.ndim - 2)
            weight = p.weight * in_c[in_index].reshape(cout, cin_g, *extra) / out_c.reshape(cout, 1, *extra)
            bias = np.zeros(cout) if p.bias is None else p.bias / out_c
            cls = Conv1d if p.weight.ndim == 3 else Conv2d
            node = cls(weight=weight.astype(np.float32), bias=bias.astype(np.float32), input_shape=inp.shape,
                       stride=p.attrs["strides"], padding=p.attrs["pads"], dilation=p.attrs["dilations"],
                       groups=groups)
            name = self.add("conv", node, inp)
        else:
            inp = p.inp
            weight = (p.weight * inp.scale.reshape(1, -1) / out_scale.reshape(-1, 1)).astype(np.float32)
            if p.bias is None:
                name = self.add("linear", Linear(weight=weight), inp)
            else:
                name = self.add("affine", Affine(weight=weight, bias=(p.bias / out_scale).astype(np.float32)), inp)
        return _Act((name,), out_scale, p.shape)

    def act(self, tensor: str) -> _Act:
        value = self.vals[tensor]
        if isinstance(value, _Pending):
            value = self.vals[tensor] = self.materialise(value, np.ones(value.shape))
        return value

    def foldable(self, tensor: str) -> _Pending | None:
        value = self.vals[tensor]
        return value if isinstance(value, _Pending) and self.model.consumers(tensor) == 1 else None

    def shape(self, tensor: str, node, index: int) -> tuple[int, ...]:
        if tensor not in self.model.shapes:
            raise unsupported_attribute(node, index, f"the shape of '{tensor}' is not static",
                                        "export the ANN with a fixed input shape (batch axis may be dynamic)")
        return self.model.shapes[tensor]

    def const(self, tensor: str, node, index: int) -> np.ndarray:
        if tensor not in self.model.consts:
            raise unsupported_attribute(node, index, f"input '{tensor}' must be a constant (initializer)",
                                        "only weights, biases and BN statistics may be constants")
        return self.model.consts[tensor].astype(np.float64)

    # ------------------------------------------------------------------ ops
    def convert(self, node, index: int) -> None:
        self.origin = node.name or f"{node.op_type}_{index}"
        getattr(self, f"op_{node.op_type}")(node, index)

    def op_Constant(self, node, index: int) -> None:
        pass  # its value is in model.consts

    def op_Identity(self, node, index: int) -> None:
        src = node.input[0]
        if isinstance(self.vals[src], _Pending) and self.model.consumers(src) > 1:
            self.act(src)
        self.vals[node.output[0]] = self.vals[src]

    op_Dropout = op_Identity  # inference mode: identity (its mask output is never read)

    def op_Conv(self, node, index: int) -> None:
        a = attributes(node)
        weight = self.const(node.input[1], node, index)
        nd = weight.ndim - 2
        pads = list(a.get("pads", [0] * 2 * nd))
        if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET") or pads[:nd] != pads[nd:] or nd not in (1, 2):
            raise unsupported_attribute(node, index, "only 1-D/2-D convolutions with explicit symmetric pads",
                                        "use padding=k//2 style symmetric padding in the ANN")
        bias = self.const(node.input[2], node, index) if len(node.input) > 2 and node.input[2] else None
        attrs = dict(strides=tuple(a.get("strides", [1] * nd)), pads=tuple(pads[:nd]),
                     dilations=tuple(a.get("dilations", [1] * nd)), groups=int(a.get("group", 1)))
        self.vals[node.output[0]] = _Pending("conv", weight, bias, self.act(node.input[0]),
                                             self.shape(node.output[0], node, index), attrs, self.origin)

    def _gemm(self, node, index: int, weight: np.ndarray, bias: np.ndarray | None) -> None:
        inp = self.act(node.input[0])
        if len(inp.shape) != 1:
            raise unsupported_attribute(node, index, f"input has shape {inp.shape}, expected a flat vector",
                                        "flatten before the fully connected layer")
        self.vals[node.output[0]] = _Pending("gemm", weight, bias, inp, (weight.shape[0],), {}, self.origin)

    def op_Gemm(self, node, index: int) -> None:
        a = attributes(node)
        if a.get("transA", 0):
            raise unsupported_attribute(node, index, "transA=1", "the activation must be the left operand")
        b = self.const(node.input[1], node, index)
        weight = (b if a.get("transB", 0) else b.T) * a.get("alpha", 1.0)
        bias = None
        if len(node.input) > 2 and node.input[2]:
            bias = np.broadcast_to(self.const(node.input[2], node, index) * a.get("beta", 1.0), (weight.shape[0],)).copy()
        self._gemm(node, index, weight, bias)

    def op_MatMul(self, node, index: int) -> None:
        if node.input[0] in self.model.consts:
            raise unsupported_attribute(node, index, "the constant is the left operand",
                                        "only activation @ weight products are fully connected layers")
        self._gemm(node, index, self.const(node.input[1], node, index).T, None)

    def op_Add(self, node, index: int) -> None:
        left, right = node.input[0], node.input[1]
        out = node.output[0]
        shape = self.shape(out, node, index)
        if left in self.model.consts or right in self.model.consts:
            tensor, constant = (right, left) if left in self.model.consts else (left, right)
            pending = self.foldable(tensor)
            full = np.broadcast_to(self.const(constant, node, index), (1, *shape)).reshape(shape)
            per_unit = full if pending is None or pending.kind == "gemm" else _channel_vector(full)
            if pending is None or per_unit is None:
                raise unsupported_attribute(node, index, "a constant is added to a tensor that is not a Conv/Gemm/MatMul output",
                                            "add constants only as the bias of a Conv/Gemm/MatMul")
            bias = per_unit if pending.bias is None else pending.bias + per_unit
            self.vals[out] = replace(pending, bias=bias)
            return
        if self.foldable(left) and not isinstance(self.vals[right], _Pending):
            left, right = right, left  # emit the pending Conv/Gemm straight into the other's units
        first = self.act(left)
        second = self.foldable(right)
        second_act = self.materialise(second, first.scale) if second else self.rescale(self.act(right), first.scale)
        self.vals[out] = _Act(first.srcs + second_act.srcs, first.scale, shape)

    def op_Relu(self, node, index: int) -> None:
        out = node.output[0]
        shape = self.shape(out, node, index)
        lam = _full(self.lambdas[out], shape)
        pending = self.foldable(node.input[0])
        current = self.materialise(pending, lam) if pending else self.rescale(self.act(node.input[0]), lam)
        self.origin = node.name or f"Relu_{index}"
        neuron = IF(r=np.ones(shape, np.float32), v_threshold=np.ones(shape, np.float32),
                    v_reset=np.zeros(shape, np.float32), reset=ResetMode.SUBTRACT, comparator=Comparator.GE)
        self.vals[out] = _Act((self.add("if", neuron, current),), lam, shape)

    def op_BatchNormalization(self, node, index: int) -> None:
        a = attributes(node)
        if a.get("training_mode", 0) or len([o for o in node.output if o]) > 1:
            raise unsupported_attribute(node, index, "training-mode batch norm", "export the model in eval() mode")
        gamma, beta, mean, var = (self.const(t, node, index) for t in node.input[1:5])
        factor = gamma / np.sqrt(var + a.get("epsilon", 1e-5))
        offset = beta - mean * factor
        pending = self.foldable(node.input[0])
        if pending is not None:  # exact fold into the preceding Conv/Gemm
            shape = (-1,) + (1,) * (pending.weight.ndim - 1)
            bias = offset if pending.bias is None else pending.bias * factor + offset
            self.vals[node.output[0]] = replace(pending, weight=pending.weight * factor.reshape(shape), bias=bias)
            return
        act, channel_scale = self.channelwise(self.act(node.input[0]))
        params = BatchNormParams(mean=np.zeros_like(factor), var=np.ones_like(factor), gamma=factor,
                                 beta=offset / channel_scale, eps=0.0)
        name = self.add("batchnorm", BatchNorm(params=params), act)
        self.vals[node.output[0]] = _Act((name,), act.scale, act.shape)

    def op_AveragePool(self, node, index: int) -> None:
        a = attributes(node)
        kernel = tuple(a["kernel_shape"])
        pads = list(a.get("pads", [0] * 2 * len(kernel)))
        include_pad = a.get("count_include_pad", 0) or not any(pads)
        if len(kernel) != 2 or a.get("ceil_mode", 0) or pads[:2] != pads[2:] or not include_pad \
                or a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            raise unsupported_attribute(node, index, "only 2-D pooling, floor mode, symmetric pads counted in the average",
                                        "use nn.AvgPool2d(k, stride, padding) with default ceil_mode/count_include_pad")
        act, channel_scale = self.channelwise(self.act(node.input[0]))
        pool = AvgPool2d(kernel_size=kernel, stride=tuple(a.get("strides", [1, 1])), padding=tuple(pads[:2]))
        name = self.add("avgpool", pool, act)
        shape = self.shape(node.output[0], node, index)
        self.vals[node.output[0]] = _Act((name,), _full(channel_scale, shape), shape)

    def _flatten(self, node, index: int) -> None:
        act = self.act(node.input[0])
        if len(act.shape) == 1:
            self.vals[node.output[0]] = act
            return
        name = self.add("flatten", Flatten(start_dim=0, end_dim=-1, input_shape=act.shape), act)
        self.vals[node.output[0]] = _Act((name,), act.scale.reshape(-1), (int(act.scale.size),))

    def op_Flatten(self, node, index: int) -> None:
        if attributes(node).get("axis", 1) != 1:
            raise unsupported_attribute(node, index, "axis != 1", "flatten everything but the batch axis")
        self._flatten(node, index)

    def op_Reshape(self, node, index: int) -> None:
        shape = self.shape(node.output[0], node, index)
        source = self.shape(node.input[0], node, index)
        if len(shape) != 1 or shape[0] != int(np.prod(source)):
            raise unsupported_attribute(node, index, f"reshape {source} -> {shape} is not a flatten",
                                        "only reshapes to [batch, -1] are supported")
        self._flatten(node, index)

    # ------------------------------------------------------------------ ends
    def finish(self, dt: float, metadata: dict[str, Any]) -> Graph:
        self.origin = ""
        for out in self.model.outputs:
            act = self.act(out)
            act = self.rescale(act, np.ones(act.shape))  # the readout integrates real ANN units
            readout = self.add("readout", I(r=np.ones(act.shape, np.float32)), act)
            name = out if out not in self.nodes else f"{out}_output"
            self.nodes[name] = Output(shape=act.shape)
            self.edges.append(Edge(readout, name))
        graph = Graph(self.nodes, tuple(self.edges), dt=dt, metadata=metadata)
        errors = [d for d in verify(graph) if d.severity.value == "error"]
        if errors:
            raise SnnccError(errors)
        return graph
