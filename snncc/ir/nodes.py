"""Typed IR nodes.

The node set covers NIR's primitives (same names and fields, continuous-time
parameters in seconds) plus what hardware needs and NIR cannot say: the reset
mode, the threshold comparator, bias currents, a BatchNorm node and a membrane
BatchNorm (MPBN) on spiking neurons, and typed slots for quantized parameters and
core assignments filled in by later passes.

Nodes are frozen dataclasses holding read-only numpy arrays; passes build new
nodes with :func:`dataclasses.replace` (see :meth:`Node.replace`).
"""
from __future__ import annotations

import dataclasses
import enum
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

import numpy as np

Shape = tuple[int, ...]


class ResetMode(str, enum.Enum):
    """What happens to the membrane after a spike."""

    VALUE = "value"  #: v <- v_reset
    SUBTRACT = "subtract"  #: v <- v - v_threshold
    NONE = "none"  #: v keeps integrating


class Comparator(str, enum.Enum):
    """Spike condition; integer hardware makes equality common, so it is explicit."""

    GT = ">"
    GE = ">="


@dataclass(frozen=True)
class IntParam:
    """An integer parameter as the hardware stores it: real value = values * scale."""

    values: np.ndarray
    scale: float
    bits: int
    signed: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", _frozen(np.asarray(self.values, dtype=np.int64)))


@dataclass(frozen=True)
class Quantization:
    """Integer form of a node's parameters, keyed by field name (e.g. 'weight')."""

    params: Mapping[str, IntParam]
    #: target-specific integer fields that have no float counterpart (e.g. weight_exp)
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CoreSlice:
    """Neurons [start, stop) of a node placed on one core."""

    core: int
    start: int
    stop: int
    chip: int = 0


@dataclass(frozen=True)
class CoreAssignment:
    slices: tuple[CoreSlice, ...]


@dataclass(frozen=True)
class BatchNormParams:
    """Eval-mode batch norm y = gamma * (x - mean) / sqrt(var + eps) + beta, per channel
    (axis 0 of the neuron shape) or per element (same shape as the neurons)."""

    mean: np.ndarray
    var: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    eps: float = 1e-5

    def __post_init__(self) -> None:
        for name in ("mean", "var", "gamma", "beta"):
            object.__setattr__(self, name, _frozen(np.asarray(getattr(self, name))))


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class Node:
    """Base of all IR nodes. Equality is identity, so 'changed' is an identity test."""

    kind: ClassVar[str] = "node"
    #: fields holding numpy arrays (made read-only on construction)
    array_fields: ClassVar[tuple[str, ...]] = ()
    #: state variables the reference simulator records, in order
    state_names: ClassVar[tuple[str, ...]] = ()
    input_ports: ClassVar[tuple[str, ...]] = ("input",)
    output_ports: ClassVar[tuple[str, ...]] = ("output",)
    stateful: ClassVar[bool] = False

    quant: Quantization | None = field(default=None, kw_only=True)
    cores: CoreAssignment | None = field(default=None, kw_only=True)
    metadata: Mapping[str, Any] = field(default_factory=dict, kw_only=True)

    def __post_init__(self) -> None:
        for name in self.array_fields:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _frozen(np.asarray(value)))

    def replace(self, **changes: Any) -> "Node":
        """A copy with ``changes``; the same object when nothing changes."""
        if all(getattr(self, k) is v for k, v in changes.items()):
            return self
        return dataclasses.replace(self, **changes)

    def declared_input_shape(self) -> Shape | None:
        """Input shape fixed by the parameters, or None when it comes from the graph."""
        return None

    def output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def arrays(self) -> dict[str, np.ndarray]:
        return {n: getattr(self, n) for n in self.array_fields if getattr(self, n) is not None}


# ----------------------------------------------------------------------------- ports


@dataclass(frozen=True, eq=False)
class Input(Node):
    kind: ClassVar[str] = "Input"
    input_ports: ClassVar[tuple[str, ...]] = ()
    shape: Shape = ()

    def declared_input_shape(self) -> Shape:
        return tuple(self.shape)


@dataclass(frozen=True, eq=False)
class Output(Node):
    kind: ClassVar[str] = "Output"
    output_ports: ClassVar[tuple[str, ...]] = ()
    shape: Shape = ()  # () = taken from the graph

    def declared_input_shape(self) -> Shape | None:
        return tuple(self.shape) or None


# ----------------------------------------------------------------------------- synapses


@dataclass(frozen=True, eq=False)
class Affine(Node):
    """y = W x + b, W of shape (out, in)."""

    kind: ClassVar[str] = "Affine"
    array_fields: ClassVar[tuple[str, ...]] = ("weight", "bias")
    weight: np.ndarray
    bias: np.ndarray

    def declared_input_shape(self) -> Shape:
        return (int(self.weight.shape[1]),)

    def output_shape(self, input_shape: Shape) -> Shape:
        return (int(self.weight.shape[0]),)


@dataclass(frozen=True, eq=False)
class Linear(Node):
    """y = W x, W of shape (out, in)."""

    kind: ClassVar[str] = "Linear"
    array_fields: ClassVar[tuple[str, ...]] = ("weight",)
    weight: np.ndarray

    def declared_input_shape(self) -> Shape:
        return (int(self.weight.shape[1]),)

    def output_shape(self, input_shape: Shape) -> Shape:
        return (int(self.weight.shape[0]),)


@dataclass(frozen=True, eq=False)
class Scale(Node):
    """y = s * x elementwise."""

    kind: ClassVar[str] = "Scale"
    array_fields: ClassVar[tuple[str, ...]] = ("scale",)
    scale: np.ndarray

    def declared_input_shape(self) -> Shape:
        return tuple(int(d) for d in self.scale.shape)


@dataclass(frozen=True, eq=False)
class BatchNorm(Node):
    """Eval-mode BN on activations/currents (channel axis 0). Not expressible in NIR:
    fold it (fold-batchnorm) before exporting."""

    kind: ClassVar[str] = "BatchNorm"
    params: BatchNormParams


def _conv_out(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _pair(value: Any, n: int) -> tuple[int, ...]:
    array = np.atleast_1d(np.asarray(value)).astype(int).tolist()
    return tuple(array * n if len(array) == 1 else array)


@dataclass(frozen=True, eq=False)
class _Conv(Node):
    array_fields: ClassVar[tuple[str, ...]] = ("weight", "bias")
    ndim: ClassVar[int] = 2
    weight: np.ndarray  # (Cout, Cin/groups, *kernel)
    bias: np.ndarray  # (Cout,)
    input_shape: Shape = ()  # (Cin, *spatial), without batch
    stride: tuple[int, ...] = (1, 1)
    padding: tuple[int, ...] = (0, 0)
    dilation: tuple[int, ...] = (1, 1)
    groups: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("stride", "padding", "dilation"):
            object.__setattr__(self, name, _pair(getattr(self, name), self.ndim))
        object.__setattr__(self, "input_shape", tuple(int(d) for d in self.input_shape))

    def declared_input_shape(self) -> Shape | None:
        return self.input_shape or None

    def output_shape(self, input_shape: Shape) -> Shape:
        kernel = self.weight.shape[2:]
        spatial = tuple(
            _conv_out(size, k, s, p, d)
            for size, k, s, p, d in zip(input_shape[1:], kernel, self.stride, self.padding, self.dilation)
        )
        return (int(self.weight.shape[0]), *spatial)


@dataclass(frozen=True, eq=False)
class Conv1d(_Conv):
    kind: ClassVar[str] = "Conv1d"
    ndim: ClassVar[int] = 1
    stride: tuple[int, ...] = (1,)
    padding: tuple[int, ...] = (0,)
    dilation: tuple[int, ...] = (1,)


@dataclass(frozen=True, eq=False)
class Conv2d(_Conv):
    kind: ClassVar[str] = "Conv2d"


@dataclass(frozen=True, eq=False)
class _Pool2d(Node):
    kernel_size: tuple[int, int] = (2, 2)
    stride: tuple[int, int] = (2, 2)
    padding: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("kernel_size", "stride", "padding"):
            object.__setattr__(self, name, _pair(getattr(self, name), 2))

    def output_shape(self, input_shape: Shape) -> Shape:
        spatial = tuple(
            _conv_out(size, k, s, p, 1)
            for size, k, s, p in zip(input_shape[1:], self.kernel_size, self.stride, self.padding)
        )
        return (input_shape[0], *spatial)


@dataclass(frozen=True, eq=False)
class SumPool2d(_Pool2d):
    kind: ClassVar[str] = "SumPool2d"


@dataclass(frozen=True, eq=False)
class AvgPool2d(_Pool2d):
    kind: ClassVar[str] = "AvgPool2d"


@dataclass(frozen=True, eq=False)
class Flatten(Node):
    """Flattens dims [start_dim, end_dim] of the (batch-free) input."""

    kind: ClassVar[str] = "Flatten"
    start_dim: int = 0
    end_dim: int = -1
    input_shape: Shape = ()

    def declared_input_shape(self) -> Shape | None:
        return tuple(int(d) for d in self.input_shape) or None

    def output_shape(self, input_shape: Shape) -> Shape:
        n = len(input_shape)
        start, end = self.start_dim % max(n, 1), self.end_dim % max(n, 1)
        middle = math.prod(input_shape[start : end + 1])
        return (*input_shape[:start], middle, *input_shape[end + 1 :])


@dataclass(frozen=True, eq=False)
class Delay(Node):
    """y(t) = x(t - delay), delay in seconds per element."""

    kind: ClassVar[str] = "Delay"
    array_fields: ClassVar[tuple[str, ...]] = ("delay",)
    state_names: ClassVar[tuple[str, ...]] = ("buffer",)
    stateful: ClassVar[bool] = True
    delay: np.ndarray

    def declared_input_shape(self) -> Shape:
        return tuple(int(d) for d in self.delay.shape)


@dataclass(frozen=True, eq=False)
class Threshold(Node):
    """Heaviside: z = 1 if x > threshold (or >= with comparator GE)."""

    kind: ClassVar[str] = "Threshold"
    array_fields: ClassVar[tuple[str, ...]] = ("threshold",)
    threshold: np.ndarray
    comparator: Comparator = Comparator.GT

    def declared_input_shape(self) -> Shape:
        return tuple(int(d) for d in self.threshold.shape)


# ----------------------------------------------------------------------------- neurons


def per_neuron(values: Any, shape: Shape, default: float = 0.0) -> np.ndarray:
    """A neuron parameter as a full float64 array of the neuron ``shape``: ``values`` of one
    value or one per neuron (what verify allows; a flat array of the right size too), None
    as ``default`` everywhere. A new array, free to modify."""
    if values is None:
        return np.full(shape, default, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if values.size == math.prod(shape):
        return values.reshape(shape).copy()
    return np.broadcast_to(values, shape).copy()


@dataclass(frozen=True, eq=False)
class Neuron(Node):
    """Stateful neuron; parameters are full per-neuron arrays (shared when all equal)."""

    stateful: ClassVar[bool] = True
    spiking: ClassVar[bool] = False

    def declared_input_shape(self) -> Shape:
        return tuple(int(d) for d in getattr(self, self.array_fields[0]).shape)

    @property
    def shape(self) -> Shape:
        return self.declared_input_shape()

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def is_shared(self, name: str) -> bool:
        """True when a parameter has one value for all neurons."""
        values = getattr(self, name)
        if values is None or np.size(values) == 0:
            return True
        return bool(np.all(values == values.flat[0]))


@dataclass(frozen=True, eq=False)
class SpikingNeuron(Neuron):
    """Fields every spiking neuron has besides its NIR parameters.

    ``bias`` is a constant current added to the input every step (None: none).
    ``membrane_bn`` is an MPBN batch norm applied to the membrane before the
    comparison only (Guo et al., ICCV 2023); fold-mpbn folds it into the threshold.
    ``refractory`` is a number of time steps: for that many steps after a spike the
    membrane keeps its post-reset value (no leak, no input, no bias) and cannot spike;
    a CubaLIF's synaptic current keeps evolving (snnTorch's delayed zero reset is 1).
    """

    spiking: ClassVar[bool] = True
    reset: ResetMode = field(default=ResetMode.VALUE, kw_only=True)
    comparator: Comparator = field(default=Comparator.GT, kw_only=True)
    bias: np.ndarray | None = field(default=None, kw_only=True)
    membrane_bn: BatchNormParams | None = field(default=None, kw_only=True)
    refractory: int = field(default=0, kw_only=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "reset", ResetMode(self.reset))
        object.__setattr__(self, "comparator", Comparator(self.comparator))
        if isinstance(self.refractory, np.integer):  # verify() rejects anything but a non-negative int
            object.__setattr__(self, "refractory", int(self.refractory))
        if self.bias is not None:
            object.__setattr__(self, "bias", _frozen(np.asarray(self.bias)))


@dataclass(frozen=True, eq=False)
class LIF(SpikingNeuron):
    r"""tau dv/dt = (v_leak - v) + r I; spike if v > v_threshold."""

    kind: ClassVar[str] = "LIF"
    array_fields: ClassVar[tuple[str, ...]] = ("tau", "r", "v_leak", "v_threshold", "v_reset")
    state_names: ClassVar[tuple[str, ...]] = ("v",)
    tau: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray
    v_threshold: np.ndarray
    v_reset: np.ndarray


@dataclass(frozen=True, eq=False)
class CubaLIF(SpikingNeuron):
    r"""tau_syn dI/dt = -I + w_in S; tau_mem dv/dt = (v_leak - v) + r I; spike if v > v_threshold."""

    kind: ClassVar[str] = "CubaLIF"
    array_fields: ClassVar[tuple[str, ...]] = (
        "tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in",
    )
    state_names: ClassVar[tuple[str, ...]] = ("i", "v")
    tau_syn: np.ndarray
    tau_mem: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray
    v_threshold: np.ndarray
    v_reset: np.ndarray
    w_in: np.ndarray


@dataclass(frozen=True, eq=False)
class IF(SpikingNeuron):
    r"""dv/dt = r I (per step v += r I); spike if v > v_threshold."""

    kind: ClassVar[str] = "IF"
    array_fields: ClassVar[tuple[str, ...]] = ("r", "v_threshold", "v_reset")
    state_names: ClassVar[tuple[str, ...]] = ("v",)
    r: np.ndarray
    v_threshold: np.ndarray
    v_reset: np.ndarray


@dataclass(frozen=True, eq=False)
class CubaLI(Neuron):
    kind: ClassVar[str] = "CubaLI"
    array_fields: ClassVar[tuple[str, ...]] = ("tau_syn", "tau_mem", "r", "v_leak", "w_in")
    state_names: ClassVar[tuple[str, ...]] = ("i", "v")
    tau_syn: np.ndarray
    tau_mem: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray
    w_in: np.ndarray


@dataclass(frozen=True, eq=False)
class LI(Neuron):
    kind: ClassVar[str] = "LI"
    array_fields: ClassVar[tuple[str, ...]] = ("tau", "r", "v_leak")
    state_names: ClassVar[tuple[str, ...]] = ("v",)
    tau: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray


@dataclass(frozen=True, eq=False)
class I(Neuron):  # noqa: E742 - NIR's name for the integrator
    kind: ClassVar[str] = "I"
    array_fields: ClassVar[tuple[str, ...]] = ("r",)
    state_names: ClassVar[tuple[str, ...]] = ("v",)
    r: np.ndarray


NODE_TYPES: dict[str, type[Node]] = {
    cls.kind: cls
    for cls in (
        Input, Output, Affine, Linear, Scale, BatchNorm, Conv1d, Conv2d, SumPool2d, AvgPool2d,
        Flatten, Delay, Threshold, LIF, CubaLIF, IF, CubaLI, LI, I,
    )
}
