"""Float reference simulator: runs any IR graph on batched input [B, T, ...] with torch.

Semantics per time step (``dt = graph.dt`` seconds; I = sum of a node's incoming edges):

- Affine / Linear / Conv1d / Conv2d / Scale / Flatten / AvgPool2d: PyTorch semantics on the batch
  (Flatten dims exclude the batch, as in NIR). SumPool2d = AvgPool2d x kernel area.
- BatchNorm: ``gamma * (x - mean) / sqrt(var + eps) + beta`` over channel axis 0.
- Threshold: ``x > threshold`` (or ``>=``).
- Delay: ``y(t) = x(t - round(delay / dt))`` per element, zeros before the start.
- LIF: ``v += dt/tau * (v_leak - v + r (I + bias))`` (forward Euler, as norse).
- IF: ``v += r (I + bias)``.
- CubaLIF: ``i += dt/tau_syn * (-i + w_in I)``, then ``v += dt/tau_mem * (v_leak - v + r (i + bias))``
  with the new ``i`` (as norse's CubaLIF and snnTorch's Synaptic).
- LI / CubaLI / I: the same updates without spiking; their output is ``v``.
- Spike ``s = v > v_threshold`` (``>=`` for Comparator.GE); with an MPBN ``membrane_bn`` the
  comparison is ``BN(v) > v_threshold`` while ``v`` itself stays un-normalised.
- Reset in the same step: VALUE ``v = v_reset``; SUBTRACT ``v -= v_threshold`` (with MPBN: the
  membrane-unit threshold ``mean + (v_threshold - beta) sqrt(var + eps) / gamma``); NONE: no reset.
- Refractory period (``refractory = k`` steps, spiking neurons): for the k steps after a spike
  ``v`` keeps its post-reset value (no leak, no input, no bias) and the neuron cannot spike; a
  CubaLIF's ``i`` keeps integrating. k = 1 with reset to 0 is snnTorch's delayed zero reset.
- An edge that closes a recurrent loop delivers its source's output of the previous step.

Recorded states are the values after the step's reset.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import torch
import torch.nn.functional as F

from snncc.diagnostics import SnnccError
from snncc.ir import (
    IF, LIF, Affine, AvgPool2d, BatchNorm, BatchNormParams, Comparator, Conv1d, Conv2d, CubaLI,
    CubaLIF, Delay, Flatten, Graph, I, Input, LI, Linear, Node, Output, ResetMode, Scale,
    SpikingNeuron, SumPool2d, Threshold, evaluation_order, infer_shapes,
)

Tensor = torch.Tensor


@dataclass
class SimResult:
    outputs: dict[str, Tensor] = field(default_factory=dict)
    spikes: dict[str, Tensor] = field(default_factory=dict)
    states: dict[str, dict[str, Tensor]] = field(default_factory=dict)
    #: every node's output per step, when simulate(..., record_all=True)
    values: dict[str, Tensor] = field(default_factory=dict)

    @property
    def output(self) -> Tensor:
        if len(self.outputs) != 1:
            raise ValueError(f"graph has {len(self.outputs)} outputs; use .outputs[name]")
        return next(iter(self.outputs.values()))


class _Kernel:
    """One node's per-step computation; stateful kernels keep their state between steps."""

    state_names: tuple[str, ...] = ()

    def reset(self, batch: int) -> None:  # noqa: B027 - stateless kernels need nothing
        pass

    def step(self, x: Tensor) -> Tensor:
        raise TypeError(type(self).__name__)

    def state(self) -> dict[str, Tensor]:
        return {}


class _Fn(_Kernel):
    def __init__(self, fn: Callable[[Tensor], Tensor]):
        self.fn = fn

    def step(self, x: Tensor) -> Tensor:
        return self.fn(x)


def _t(array, dtype) -> Tensor:
    return torch.tensor(np.asarray(array), dtype=dtype)  # copies: IR arrays are read-only


def _channel_view(params: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Broadcast per-channel (axis 0) or per-element parameters to ``shape``."""
    if tuple(params.shape) == tuple(shape) or params.ndim == 0:
        return params
    return params.reshape(params.shape[0], *([1] * (len(shape) - 1)))


class _BN:
    def __init__(self, p: BatchNormParams, shape, dtype):
        self.mean, self.var, self.gamma, self.beta = (
            _channel_view(_t(a, dtype), shape) for a in (p.mean, p.var, p.gamma, p.beta)
        )
        self.std = torch.sqrt(self.var + p.eps)

    def __call__(self, v: Tensor) -> Tensor:
        return self.gamma * (v - self.mean) / self.std + self.beta

    def membrane_threshold(self, v_threshold: Tensor) -> Tensor:
        return self.mean + (v_threshold - self.beta) * self.std / self.gamma


class _Neuron(_Kernel):
    def __init__(self, node, dt: float | None, dtype):
        self.node, self.dtype, self.shape = node, dtype, node.shape
        self.p = {name: _t(value, dtype) for name, value in node.arrays().items()}
        self.bias = _t(node.bias, dtype) if getattr(node, "bias", None) is not None else 0.0
        self.dt = dt
        self.state_names = node.state_names
        bn = getattr(node, "membrane_bn", None)
        self.bn = _BN(bn, self.shape, dtype) if bn is not None else None
        self.refractory = int(getattr(node, "refractory", 0))

    def reset(self, batch: int) -> None:
        self.s = {name: torch.zeros(batch, *self.shape, dtype=self.dtype) for name in self.state_names}
        #: refractory steps left per neuron (not a recorded state: no library reports it)
        self.left = torch.zeros(batch, *self.shape, dtype=torch.int64)

    def state(self) -> dict[str, Tensor]:
        return dict(self.s)

    def integrate(self, x: Tensor) -> None:
        p, s, dt, node = self.p, self.s, self.dt, self.node
        if isinstance(node, (LIF, LI)):
            s["v"] = s["v"] + dt / p["tau"] * (p["v_leak"] - s["v"] + p["r"] * (x + self.bias))
        elif isinstance(node, (IF, I)):
            s["v"] = s["v"] + p["r"] * (x + self.bias)
        else:  # CubaLIF, CubaLI
            s["i"] = s["i"] + dt / p["tau_syn"] * (-s["i"] + p["w_in"] * x)
            s["v"] = s["v"] + dt / p["tau_mem"] * (p["v_leak"] - s["v"] + p["r"] * (s["i"] + self.bias))

    def step(self, x: Tensor) -> Tensor:
        held, v_before = None, self.s["v"]
        if self.refractory:
            held = self.left > 0
            self.left = self.left - held.to(torch.int64)
        self.integrate(x)
        node, v = self.node, self.s["v"]
        if not isinstance(node, SpikingNeuron):
            return v
        if held is not None:
            v = torch.where(held, v_before, v)
        threshold = self.p["v_threshold"]
        compared = self.bn(v) if self.bn is not None else v
        spikes = compared >= threshold if node.comparator is Comparator.GE else compared > threshold
        if held is not None:
            spikes = spikes & ~held
            self.left = torch.where(spikes, self.refractory, self.left)
        if node.reset is ResetMode.VALUE:
            v = torch.where(spikes, self.p["v_reset"].expand_as(v), v)
        elif node.reset is ResetMode.SUBTRACT:
            amount = self.bn.membrane_threshold(threshold) if self.bn is not None else threshold
            v = v - spikes.to(v.dtype) * amount
        self.s["v"] = v
        return spikes.to(self.dtype)


class _Delay(_Kernel):
    state_names = ("buffer",)

    def __init__(self, node: Delay, dt: float | None, dtype):
        if dt is None:
            raise _missing_dt()
        self.steps = torch.as_tensor(np.rint(np.asarray(node.delay) / dt).astype(np.int64)).reshape(-1)
        self.shape, self.dtype = tuple(node.delay.shape), dtype
        self.depth = int(self.steps.max()) + 1 if self.steps.numel() else 1

    def reset(self, batch: int) -> None:
        self.buffer = torch.zeros(batch, self.depth, int(np.prod(self.shape)), dtype=self.dtype)

    def state(self) -> dict[str, Tensor]:
        return {"buffer": self.buffer.clone()}

    def step(self, x: Tensor) -> Tensor:
        self.buffer = torch.roll(self.buffer, 1, dims=1)
        self.buffer[:, 0] = x.reshape(x.shape[0], -1)
        index = self.steps.view(1, 1, -1).expand(x.shape[0], 1, -1)
        return self.buffer.gather(1, index).reshape(x.shape[0], *self.shape)


def _missing_dt() -> SnnccError:
    return SnnccError.single(
        "SNN501", "the graph has no time step dt but has time constants or delays",
        hint="pass dt (e.g. --dt 1e-4) or import the graph with a dt",
    )


def _kernel(node: Node, dt: float | None, dtype) -> _Kernel:
    if isinstance(node, (LIF, CubaLIF, LI, CubaLI)) and dt is None:
        raise _missing_dt()
    if isinstance(node, (LIF, CubaLIF, IF, LI, CubaLI, I)):
        return _Neuron(node, dt, dtype)
    if isinstance(node, Delay):
        return _Delay(node, dt, dtype)
    if isinstance(node, (Input, Output)):
        return _Fn(lambda x: x)
    if isinstance(node, Affine):
        w, b = _t(node.weight, dtype), _t(node.bias, dtype)
        return _Fn(lambda x: F.linear(x, w, b))
    if isinstance(node, Linear):
        w = _t(node.weight, dtype)
        return _Fn(lambda x: F.linear(x, w))
    if isinstance(node, (Conv1d, Conv2d)):
        conv = F.conv1d if isinstance(node, Conv1d) else F.conv2d
        w, b = _t(node.weight, dtype), _t(node.bias, dtype)
        args = dict(stride=node.stride, padding=node.padding, dilation=node.dilation, groups=node.groups)
        return _Fn(lambda x: conv(x, w, b, **args))
    if isinstance(node, (SumPool2d, AvgPool2d)):
        area = node.kernel_size[0] * node.kernel_size[1] if isinstance(node, SumPool2d) else 1
        args = dict(kernel_size=node.kernel_size, stride=node.stride, padding=node.padding)
        return _Fn(lambda x: F.avg_pool2d(x, **args) * area)
    if isinstance(node, Flatten):
        end = node.end_dim + 1 if node.end_dim >= 0 else node.end_dim
        return _Fn(lambda x: x.flatten(node.start_dim + 1, end))
    if isinstance(node, Scale):
        s = _t(node.scale, dtype)
        return _Fn(lambda x: x * s)
    if isinstance(node, BatchNorm):
        cache: dict = {}

        def batchnorm(x: Tensor) -> Tensor:
            bn = cache.get("bn") or cache.setdefault("bn", _BN(node.params, tuple(x.shape[1:]), dtype))
            return bn(x)

        return _Fn(batchnorm)
    if isinstance(node, Threshold):
        th = _t(node.threshold, dtype)
        ge = node.comparator is Comparator.GE
        return _Fn(lambda x: ((x >= th) if ge else (x > th)).to(dtype))
    raise SnnccError.single("SNN201", f"the reference simulator has no semantics for {node.kind}")


def simulate(
    graph: Graph,
    x: Tensor | np.ndarray | Mapping[str, Tensor | np.ndarray],
    *,
    dtype: torch.dtype = torch.float64,
    dt: float | None = None,
    record_all: bool = False,
) -> SimResult:
    """Run ``graph`` on ``x`` of shape [B, T, *input_shape] (or a dict per Input node)."""
    dt = graph.dt if dt is None else dt
    order, back_edges = evaluation_order(graph)
    shapes = infer_shapes(graph)
    kernels = {name: _kernel(graph.nodes[name], dt, dtype) for name in order}
    inputs = x if isinstance(x, Mapping) else {name: x for name in graph.inputs()}
    inputs = {name: torch.as_tensor(np.asarray(v) if not isinstance(v, Tensor) else v).to(dtype) for name, v in inputs.items()}
    batch, steps = next(iter(inputs.values())).shape[:2]
    for kernel in kernels.values():
        kernel.reset(batch)
    incoming = {name: graph.incoming(name) for name in order}
    result = SimResult()
    spiking = [n for n in order if isinstance(graph.nodes[n], SpikingNeuron)]
    stateful = [n for n in order if kernels[n].state_names]
    rec_out: dict[str, list] = {n: [] for n in graph.outputs()}
    rec_spk: dict[str, list] = {n: [] for n in spiking}
    rec_state: dict[str, dict[str, list]] = {n: {s: [] for s in kernels[n].state_names} for n in stateful}
    rec_all: dict[str, list] = {n: [] for n in order} if record_all else {}
    previous = {
        src: torch.zeros(batch, *shapes.output_shapes[src], dtype=dtype) for src, _ in back_edges
    }
    for t in range(steps):
        values: dict[str, Tensor] = {}
        for name in order:
            node = graph.nodes[name]
            if isinstance(node, Input):
                drive = inputs[name][:, t]
            else:
                terms = [previous[e.src] if (e.src, name) in back_edges else values[e.src] for e in incoming[name]]
                drive = terms[0] if len(terms) == 1 else torch.stack([_fit(v, terms[0]) for v in terms]).sum(0)
            in_shape = shapes.input_shapes.get(name)
            if in_shape is not None and tuple(drive.shape[1:]) != in_shape:
                drive = drive.reshape(batch, *in_shape)
            values[name] = kernels[name].step(drive)
        for src in previous:
            previous[src] = values[src]
        for name in rec_out:
            rec_out[name].append(values[name])
        for name in rec_spk:
            rec_spk[name].append(values[name])
        for name in rec_state:
            for key, value in kernels[name].state().items():
                rec_state[name][key].append(value)
        for name in rec_all:
            rec_all[name].append(values[name])
    stack = lambda seq: torch.stack(seq, dim=1)  # noqa: E731
    result.outputs = {n: stack(v) for n, v in rec_out.items()}
    result.spikes = {n: stack(v) for n, v in rec_spk.items()}
    result.states = {n: {k: stack(v) for k, v in d.items()} for n, d in rec_state.items()}
    result.values = {n: stack(v) for n, v in rec_all.items()}
    return result


def _fit(value: Tensor, like: Tensor) -> Tensor:
    return value if value.shape == like.shape else value.reshape(like.shape)
