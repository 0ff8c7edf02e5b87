"""Export ONE time step of an IR graph as ONNX (opset 17) with explicit state.

The model maps (input at step t, state after step t-1) to (outputs, spikes, state after step t):

- ``x:<input>``            [B, *shape] per Input node
- ``state_in:<node>.<var>`` / ``state_out:<node>.<var>``  per neuron state variable (v, i) and
  per Delay (its ring buffer [B, max_steps + 1, N], as the simulator keeps it)
- ``prev_in:<src>`` / ``prev_out:<src>``  the source output of each edge that closes a recurrent
  loop (the reference simulator delivers the previous step's value there)
- ``out:<output>``          per Output node; ``spikes:<neuron>`` per spiking neuron

States start at zero (:func:`initial_state`). Stepping the model T times and feeding the state
outputs back reproduces :func:`snncc.runtime.simulate` with ``dtype=torch.float32`` exactly:
every elementwise update is written as the same sequence of float32 operations, and derived
constants (``dt / tau``, ``sqrt(var + eps)``, the MPBN membrane threshold) are computed with
torch exactly as the simulator computes them. Only the reductions inside Gemm/Conv/AveragePool
may round differently from PyTorch's (they are exact for spike inputs and dyadic weights).

The signature is stored in the model's ``metadata_props['snncc.step']`` (JSON), so
:func:`run_step_model` needs only the ONNX file. Same graph -> same bytes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

from snncc.diagnostics import Diagnostic, SnnccError
from snncc.ir import (
    IF, LIF, Affine, AvgPool2d, BatchNorm, BatchNormParams, Comparator, Conv1d, Conv2d, CubaLI,
    CubaLIF, Delay, Flatten, Graph, I, Input, LI, Linear, Node, Output, ResetMode, Scale, SpikingNeuron,
    SumPool2d, Threshold, evaluation_order, infer_shapes,
)
from snncc.runtime.reference import _BN

__all__ = ["OPSET", "StepRun", "StepSignature", "export_step_onnx", "initial_state", "run_step_model", "step_signature"]

OPSET = 17
_F32 = np.float32


def _torch32(array) -> torch.Tensor:
    return torch.tensor(np.asarray(array), dtype=torch.float32)


@dataclass(frozen=True)
class StateSlot:
    node: str
    var: str
    shape: tuple[int, ...]

    @property
    def in_name(self) -> str:
        return f"state_in:{self.node}.{self.var}"

    @property
    def out_name(self) -> str:
        return f"state_out:{self.node}.{self.var}"


@dataclass
class StepSignature:
    """Names and shapes of the step model's inputs and outputs (stored in the model as JSON)."""

    inputs: dict[str, str] = field(default_factory=dict)  # Input node -> ONNX input
    input_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # ONNX input -> shape
    states: list[StateSlot] = field(default_factory=list)
    previous: list[tuple[str, str, str, tuple[int, ...]]] = field(default_factory=list)  # src, in, out, shape
    outputs: dict[str, str] = field(default_factory=dict)  # Output node -> ONNX output
    spikes: dict[str, str] = field(default_factory=dict)  # spiking neuron -> ONNX output

    def add_input(self, node: str, onnx_name: str, shape: tuple[int, ...]) -> str:
        self.inputs[node], self.input_shapes[onnx_name] = onnx_name, tuple(shape)
        return onnx_name

    def add_state(self, node: str, var: str, shape: tuple[int, ...]) -> str:
        slot = StateSlot(node, var, tuple(shape))
        self.states.append(slot)
        return slot.in_name

    def to_json(self) -> dict:
        return {
            "inputs": self.inputs, "input_shapes": {k: list(v) for k, v in self.input_shapes.items()},
            "states": [[s.node, s.var, list(s.shape)] for s in self.states],
            "previous": [[a, b, c, list(d)] for a, b, c, d in self.previous],
            "outputs": self.outputs, "spikes": self.spikes,
        }

    @classmethod
    def from_json(cls, data: dict) -> "StepSignature":
        return cls(
            dict(data["inputs"]), {k: tuple(v) for k, v in data["input_shapes"].items()},
            [StateSlot(n, v, tuple(s)) for n, v, s in data["states"]],
            [(a, b, c, tuple(d)) for a, b, c, d in data["previous"]],
            dict(data["outputs"]), dict(data["spikes"]),
        )


class _Emitter:
    def __init__(self) -> None:
        self.nodes: list = []
        self.initializers: list = []
        self.count = 0

    def const(self, name: str, array: Any, dtype=_F32) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(np.asarray(array, dtype=dtype)), name))
        return name

    def op(self, op_type: str, inputs: list[str], prefix: str, output: str | None = None, **attrs) -> str:
        from onnx import helper

        self.count += 1
        out = output or f"{prefix}/{op_type}_{self.count}"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=f"{prefix}/{op_type}_{self.count}", **attrs))
        return out


class _LazyConsts(dict):
    """Parameters become initializers on first use only (ORT warns about unused ones)."""

    def __init__(self, e: _Emitter, prefix: str, arrays: dict[str, np.ndarray]):
        super().__init__()
        self.e, self.prefix, self.arrays = e, prefix, arrays

    def __missing__(self, key: str) -> str:
        self[key] = self.e.const(f"{self.prefix}.{key}", self.arrays[key])
        return self[key]


class _BNConsts(_BN):
    """The simulator's float32 batch norm, its constants emitted as initializers."""

    def __init__(self, p: BatchNormParams, shape: tuple[int, ...]):
        super().__init__(p, shape, torch.float32)

    def emit(self, e: _Emitter, x: str, prefix: str) -> str:
        c = {k: e.const(f"{prefix}.bn_{k}", getattr(self, k).numpy()) for k in ("mean", "gamma", "std", "beta")}
        centred = e.op("Sub", [x, c["mean"]], prefix)
        return e.op("Add", [e.op("Div", [e.op("Mul", [c["gamma"], centred], prefix), c["std"]], prefix), c["beta"]], prefix)

    def membrane_threshold(self, v_threshold: torch.Tensor) -> np.ndarray:
        return super().membrane_threshold(v_threshold).numpy()


def _neuron(e: _Emitter, name: str, node: Node, x: str, dt: float | None, states: dict[str, str]) -> tuple[str, dict[str, str]]:
    """Emit one neuron update; returns (output tensor, new state tensors)."""
    p = _LazyConsts(e, name, node.arrays())
    bias = getattr(node, "bias", None)
    drive = e.op("Add", [x, e.const(f"{name}.bias", bias)], name) if bias is not None else x
    new: dict[str, str] = {}
    if isinstance(node, (LIF, LI, CubaLIF, CubaLI)) and dt is None:
        raise SnnccError.single("SNN501", f"node '{name}' has time constants but the graph has no dt",
                                node=name, hint="import or compile the graph with a dt")
    if isinstance(node, (IF, I)):
        new["v"] = e.op("Add", [states["v"], e.op("Mul", [p["r"], drive], name)], name)
    elif isinstance(node, (LIF, LI)):
        k = e.const(f"{name}.dt_over_tau", (dt / _torch32(node.tau)).numpy())
        inner = e.op("Add", [e.op("Sub", [p["v_leak"], states["v"]], name), e.op("Mul", [p["r"], drive], name)], name)
        new["v"] = e.op("Add", [states["v"], e.op("Mul", [k, inner], name)], name)
    else:  # CubaLIF / CubaLI: synaptic current first, the membrane sees the new current
        ks = e.const(f"{name}.dt_over_tau_syn", (dt / _torch32(node.tau_syn)).numpy())
        km = e.const(f"{name}.dt_over_tau_mem", (dt / _torch32(node.tau_mem)).numpy())
        syn = e.op("Add", [e.op("Neg", [states["i"]], name), e.op("Mul", [p["w_in"], x], name)], name)
        new["i"] = e.op("Add", [states["i"], e.op("Mul", [ks, syn], name)], name)
        current = e.op("Add", [new["i"], e.const(f"{name}.bias", bias)], name) if bias is not None else new["i"]
        inner = e.op("Add", [e.op("Sub", [p["v_leak"], states["v"]], name), e.op("Mul", [p["r"], current], name)], name)
        new["v"] = e.op("Add", [states["v"], e.op("Mul", [km, inner], name)], name)
    if not isinstance(node, SpikingNeuron):
        return new["v"], new
    v = new["v"]
    bn = _BNConsts(node.membrane_bn, node.shape) if node.membrane_bn is not None else None
    compared = bn.emit(e, v, name) if bn is not None else v
    spikes = e.op("GreaterOrEqual" if node.comparator is Comparator.GE else "Greater", [compared, p["v_threshold"]], name)
    spikes_f = e.op("Cast", [spikes], name, to=1)
    if node.reset is ResetMode.VALUE:
        v = e.op("Where", [spikes, p["v_reset"], v], name)
    elif node.reset is ResetMode.SUBTRACT:
        amount = p["v_threshold"]
        if bn is not None:
            amount = e.const(f"{name}.membrane_threshold", bn.membrane_threshold(_torch32(node.v_threshold)))
        v = e.op("Sub", [v, e.op("Mul", [spikes_f, amount], name)], name)
    new["v"] = v
    return spikes_f, new


def _delay_steps(node: Delay, dt: float | None, name: str) -> np.ndarray:
    if dt is None:
        raise SnnccError.single("SNN501", f"node '{name}' has delays but the graph has no dt", node=name,
                                hint="import or compile the graph with a dt")
    return np.rint(np.asarray(node.delay) / dt).astype(np.int64).reshape(-1)


def _delay(e: _Emitter, name: str, node: Delay, x: str, steps: np.ndarray, buffer: str) -> tuple[str, dict[str, str]]:
    """The simulator's ring buffer [B, depth, N]: shift by one, write x at 0, read slot steps[n]."""
    depth, size = int(steps.max()) + 1, steps.size
    current = e.op("Unsqueeze", [e.op("Reshape", [x, e.const(f"{name}.flat", [0, -1], np.int64)], name),
                                 e.const(f"{name}.axis1", [1], np.int64)], name)
    new = current
    if depth > 1:
        kept = e.op("Slice", [buffer, e.const(f"{name}.start", [0], np.int64),
                              e.const(f"{name}.stop", [depth - 1], np.int64), e.const(f"{name}.axes", [1], np.int64)], name)
        new = e.op("Concat", [current, kept], name, axis=1)
    batch = e.op("Slice", [e.op("Shape", [new], name), e.const(f"{name}.zero", [0], np.int64),
                           e.const(f"{name}.one", [1], np.int64)], name)
    index_shape = e.op("Concat", [batch, e.const(f"{name}.tail", [1, size], np.int64)], name, axis=0)
    index = e.op("Expand", [e.const(f"{name}.steps", steps.reshape(1, 1, size), np.int64), index_shape], name)
    picked = e.op("GatherElements", [new, index], name, axis=1)
    out = e.op("Reshape", [picked, e.const(f"{name}.shape", [0, *node.delay.shape], np.int64)], name)
    return out, {"buffer": new}


def _stateless(e: _Emitter, name: str, node: Node, x: str, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> str:
    if isinstance(node, (Input, Output)):
        return x
    if isinstance(node, (Affine, Linear)):
        inputs = [x, e.const(f"{name}.weight", node.weight)]
        if isinstance(node, Affine):
            inputs.append(e.const(f"{name}.bias", node.bias))
        return e.op("Gemm", inputs, name, transB=1)
    if isinstance(node, (Conv1d, Conv2d)):
        return e.op("Conv", [x, e.const(f"{name}.weight", node.weight), e.const(f"{name}.bias", node.bias)], name,
                    strides=list(node.stride), pads=list(node.padding) * 2, dilations=list(node.dilation),
                    group=int(node.groups))
    if isinstance(node, (AvgPool2d, SumPool2d)):
        y = e.op("AveragePool", [x], name, kernel_shape=list(node.kernel_size), strides=list(node.stride),
                 pads=list(node.padding) * 2, count_include_pad=1)
        if isinstance(node, SumPool2d):
            y = e.op("Mul", [y, e.const(f"{name}.area", node.kernel_size[0] * node.kernel_size[1])], name)
        return y
    if isinstance(node, Flatten):
        return e.op("Reshape", [x, e.const(f"{name}.shape", [0, *out_shape], np.int64)], name)
    if isinstance(node, Scale):
        return e.op("Mul", [x, e.const(f"{name}.scale", node.scale)], name)
    if isinstance(node, BatchNorm):
        return _BNConsts(node.params, in_shape).emit(e, x, name)
    if isinstance(node, Threshold):
        op = "GreaterOrEqual" if node.comparator is Comparator.GE else "Greater"
        return e.op("Cast", [e.op(op, [x, e.const(f"{name}.threshold", node.threshold)], name)], name, to=1)
    raise SnnccError.single("SNN520", f"node kind {node.kind} cannot be exported as an ONNX step", node=name,
                            hint="supported: Affine, Linear, Conv1d/2d, Flatten, AvgPool2d, SumPool2d, Scale, "
                                 "BatchNorm, Threshold, Delay, LIF, CubaLIF, IF, LI, CubaLI, I")


def _value_info(name: str, shape: tuple[int, ...]):
    from onnx import TensorProto, helper

    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", *shape])


def export_step_onnx(graph: Graph, path: str | Path | None = None):
    """Build (and write to ``path`` when given) the one-step ONNX model of ``graph``."""
    from onnx import helper

    held = [name for name, node in graph.items_of(SpikingNeuron) if node.refractory]
    if held:  # the step model has no refractory counter state
        raise SnnccError([Diagnostic("SNN520", f"refractory period of {graph.nodes[n].refractory} step(s) cannot be "
                                     "exported as an ONNX step", node=n, hint="simulate it with snncc.runtime instead")
                          for n in held])
    order, back_edges = evaluation_order(graph)
    shapes = infer_shapes(graph)
    e = _Emitter()
    sig = StepSignature()
    values: dict[str, str] = {}
    previous = {src: f"prev_in:{src}" for src, _ in sorted(back_edges)}
    for name in order:
        node = graph.nodes[name]
        in_shape = shapes.input_shapes.get(name, ())
        out_shape = shapes.output_shapes.get(name, ())
        if isinstance(node, Input):
            x = sig.add_input(name, f"x:{name}", in_shape)
        else:
            terms = [(previous[edge.src] if (edge.src, name) in back_edges else values[edge.src], edge.src)
                     for edge in graph.incoming(name)]
            x, first_shape = terms[0][0], shapes.output_shapes[terms[0][1]]
            for term, src in terms[1:]:  # summed in edge order, as the simulator's stack().sum(0)
                if shapes.output_shapes[src] != first_shape:
                    term = e.op("Reshape", [term, e.const(f"{name}.fit_{src}", [0, *first_shape], np.int64)], name)
                x = e.op("Add", [x, term], name)
            if first_shape != in_shape:
                x = e.op("Reshape", [x, e.const(f"{name}.in_shape", [0, *in_shape], np.int64)], name)
        if node.stateful:
            if isinstance(node, Delay):
                steps = _delay_steps(node, graph.dt, name)
                buffer = sig.add_state(name, "buffer", (int(steps.max()) + 1, steps.size))
                values[name], new = _delay(e, name, node, x, steps, buffer)
            elif isinstance(node, (LIF, CubaLIF, IF, LI, CubaLI, I)):
                state_in = {var: sig.add_state(name, var, node.shape) for var in node.state_names}
                values[name], new = _neuron(e, name, node, x, graph.dt, state_in)
            else:
                _stateless(e, name, node, x, in_shape, out_shape)  # raises SNN520
            for var in node.state_names:
                e.op("Identity", [new[var]], name, output=f"state_out:{name}.{var}")
            if isinstance(node, SpikingNeuron):
                sig.spikes[name] = e.op("Identity", [values[name]], name, output=f"spikes:{name}")
        else:
            values[name] = _stateless(e, name, node, x, in_shape, out_shape)
        if isinstance(node, Output):
            sig.outputs[name] = e.op("Identity", [values[name]], name, output=f"out:{name}")
    for src, prev_in in previous.items():
        sig.previous.append((src, prev_in, e.op("Identity", [values[src]], src, output=f"prev_out:{src}"),
                             shapes.output_shapes[src]))
    inputs = [_value_info(n, s) for n, s in sig.input_shapes.items()]
    inputs += [_value_info(s.in_name, s.shape) for s in sig.states]
    inputs += [_value_info(p[1], p[3]) for p in sig.previous]
    outputs = [_value_info(v, shapes.input_shapes[k]) for k, v in sig.outputs.items()]
    outputs += [_value_info(v, graph.nodes[k].shape) for k, v in sig.spikes.items()]
    outputs += [_value_info(s.out_name, s.shape) for s in sig.states]
    outputs += [_value_info(p[2], p[3]) for p in sig.previous]
    proto = helper.make_graph(e.nodes, "snncc_step", inputs, outputs, e.initializers)
    model = helper.make_model(proto, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="snncc",
                              producer_version="1", ir_version=8)
    helper.set_model_props(model, {"snncc.step": json.dumps(sig.to_json(), sort_keys=True)})
    if path is not None:
        Path(path).write_bytes(model.SerializeToString(deterministic=True))
    return model


def step_signature(model) -> StepSignature:
    props = {p.key: p.value for p in model.metadata_props}
    if "snncc.step" not in props:
        raise SnnccError.single("SNN521", "the ONNX model is not an snncc step model (no 'snncc.step' metadata)",
                                hint="write it with snncc.runtime.onnx_export.export_step_onnx")
    return StepSignature.from_json(json.loads(props["snncc.step"]))


def initial_state(sig: StepSignature, batch: int) -> dict[str, np.ndarray]:
    """Zero state (as the reference simulator starts) for every state and previous-value input."""
    state = {s.in_name: np.zeros((batch, *s.shape), _F32) for s in sig.states}
    state.update({p[1]: np.zeros((batch, *p[3]), _F32) for p in sig.previous})
    return state


@dataclass
class StepRun:
    """Per-step records [B, T, ...] of a stepped ONNX model, keyed like SimResult."""

    outputs: dict[str, np.ndarray]
    spikes: dict[str, np.ndarray]
    states: dict[str, dict[str, np.ndarray]]


def run_step_model(model_or_path: Any, x: np.ndarray | Mapping[str, np.ndarray], *, session_options=None) -> StepRun:
    """Step the exported model over x [B, T, *shape] (or a dict per Input node) with onnxruntime."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(model_or_path)) if isinstance(model_or_path, (str, Path)) else model_or_path
    sig = step_signature(model)
    session = ort.InferenceSession(model.SerializeToString(), session_options, providers=["CPUExecutionProvider"])
    feeds = x if isinstance(x, Mapping) else {node: x for node in sig.inputs}
    feeds = {sig.inputs[node]: np.asarray(v, _F32) for node, v in feeds.items()}
    batch, steps = next(iter(feeds.values())).shape[:2]
    state = initial_state(sig, batch)
    names = [*sig.outputs.values(), *sig.spikes.values(), *(s.out_name for s in sig.states), *(p[2] for p in sig.previous)]
    records: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for t in range(steps):
        values = dict(zip(names, session.run(names, {**{k: v[:, t] for k, v in feeds.items()}, **state})))
        state = {s.in_name: values[s.out_name] for s in sig.states}
        state.update({p[1]: values[p[2]] for p in sig.previous})
        for n in names:
            records[n].append(values[n])
    stack = {n: np.stack(v, axis=1) for n, v in records.items()}
    states: dict[str, dict[str, np.ndarray]] = {}
    for s in sig.states:
        states.setdefault(s.node, {})[s.var] = stack[s.out_name]
    return StepRun({k: stack[v] for k, v in sig.outputs.items()}, {k: stack[v] for k, v in sig.spikes.items()}, states)
