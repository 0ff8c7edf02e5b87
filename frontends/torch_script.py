"""TorchScript archives (``torch.jit.save`` of a scripted or traced model) -> eager modules.

A TorchScript module keeps every submodule's class name, parameters and buffers. A
scripted one also keeps the layer attributes (stride, eps, ...); a traced one keeps only
the operator calls of its forward code, so the configuration is read from the one
operator each layer calls (``aten::_convolution``, ``aten::batch_norm``, ...). The
eager model is rebuilt layer by layer and converted like any other; a layer whose class
or configuration cannot be recovered is reported with its position (SNN112), all at once.
Only the archive's data is read: no TorchScript code runs.

snncc.nn models can be traced (not scripted: their step functions use Python typing and
an autograd Function that TorchScript cannot compile). Their neurons carry their reset
mode and other non-tensor arguments in the ``snncc_config`` buffer, which the archive keeps.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable

import torch
from torch import nn

from snncc.diagnostics import Diagnostic, SnnccError

_CONTAINERS = {"Sequential"}


def is_torchscript_archive(names: list[str]) -> bool:
    return any(n.endswith("constants.pkl") or "/code/" in n for n in names)


class _Missing(Exception):
    pass


def _constant(value: torch._C.Value) -> Any:
    node = value.node()
    if node.kind() == "prim::Constant":
        return value.toIValue()
    if node.kind() == "prim::ListConstruct":
        return [_constant(v) for v in node.inputs()]
    raise _Missing(f"argument {value.debugName()} is computed at run time")


def _config(module, attributes: tuple[str, ...], op: str, positions: tuple[int, ...]) -> dict[str, Any]:
    """Layer attributes of a scripted module, else the constant arguments of its one ``op`` call."""
    try:
        return {name: getattr(module, name) for name in attributes}
    except AttributeError:
        pass
    calls = [n for n in module.graph.nodes() if n.kind() == op]
    if len(calls) != 1:
        raise _Missing(f"no attributes and {len(calls)} calls of {op} in its traced code")
    inputs = list(calls[0].inputs())
    return {name: _constant(inputs[i]) for name, i in zip(attributes, positions)}


def _load(layer: nn.Module, module) -> nn.Module:
    state = {k: v for k, v in module.state_dict().items()}
    layer.load_state_dict(state, strict=True)
    return layer


def _linear(module) -> nn.Module:
    weight, bias = module.weight, getattr(module, "bias", None)
    return _load(nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None), module)


def _conv(module) -> nn.Module:
    cfg = _config(module, ("stride", "padding", "dilation", "groups"), "aten::_convolution", (3, 4, 5, 8))
    weight, bias = module.weight, getattr(module, "bias", None)
    cls = nn.Conv1d if weight.dim() == 3 else nn.Conv2d
    layer = cls(weight.shape[1] * int(cfg["groups"]), weight.shape[0], tuple(weight.shape[2:]), bias=bias is not None,
                stride=tuple(cfg["stride"]), padding=cfg["padding"] if isinstance(cfg["padding"], str) else tuple(cfg["padding"]),
                dilation=tuple(cfg["dilation"]), groups=int(cfg["groups"]))
    return _load(layer, module)


def _batchnorm(module) -> nn.Module:
    cfg = _config(module, ("eps",), "aten::batch_norm", (7,))
    features = module.running_mean.shape[0]
    cls = nn.BatchNorm2d if module.original_name == "BatchNorm2d" else nn.BatchNorm1d
    return _load(cls(features, eps=float(cfg["eps"]), affine=getattr(module, "weight", None) is not None), module)


def _avgpool(module) -> nn.Module:
    names = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")
    cfg = _config(module, names, "aten::avg_pool2d", (1, 2, 3, 4, 5, 6))
    as_pair = lambda v: tuple(v) if isinstance(v, (list, tuple)) else v  # noqa: E731
    return nn.AvgPool2d(as_pair(cfg["kernel_size"]), as_pair(cfg["stride"]) or None, as_pair(cfg["padding"]),
                        bool(cfg["ceil_mode"]), bool(cfg["count_include_pad"]), cfg["divisor_override"])


def _flatten(module) -> nn.Module:
    cfg = _config(module, ("start_dim", "end_dim"), "aten::flatten", (1, 2))
    return nn.Flatten(int(cfg["start_dim"]), int(cfg["end_dim"]))


REBUILDERS: dict[str, Callable[[Any], nn.Module]] = {
    "Linear": _linear, "Conv1d": _conv, "Conv2d": _conv, "BatchNorm1d": _batchnorm, "BatchNorm2d": _batchnorm,
    "AvgPool2d": _avgpool, "Flatten": _flatten, "Dropout": lambda m: nn.Dropout(), "Identity": lambda m: nn.Identity(),
}


def _snncc_neuron(module) -> nn.Module:
    """An snncc.nn neuron from its tensors and the constructor arguments it recorded."""
    from snncc import nn as snn
    from snncc.nn.neurons import CONFIG_BUFFER, recorded_config

    cls = {"LIF": snn.LIF, "CubaLIF": snn.CubaLIF, "MPBNLIF": snn.MPBNLIF}[module.original_name]
    state = module.state_dict()
    if CONFIG_BUFFER not in state:
        raise _Missing(f"no {CONFIG_BUFFER} buffer (the archive predates it or the class was changed); "
                       "the reset mode is not stored anywhere else")
    config = recorded_config(state.pop(CONFIG_BUFFER))
    decays = {name: state[name].detach().clone() for name in ("alpha", "beta") if name in state}
    if cls is snn.MPBNLIF:
        config["num_features"] = tuple(config["num_features"])
    layer = cls(**decays, **config)
    layer.load_state_dict(state, strict=True)
    return layer


def _qualified(module) -> str:
    """The module's Python class path, without TorchScript's ``___torch_mangle_N`` parts (added
    when one process compiles several variants of a class)."""
    name = module._c._type().qualified_name().removeprefix("__torch__.")
    return ".".join(part for part in name.split(".") if not part.startswith("___torch_mangle_"))


#: snncc.nn classes by qualified name (other libraries have classes called LIF too)
SNNCC_NEURONS = {f"snncc.nn.{file}.{name}": _snncc_neuron
                 for file, name in (("neurons", "LIF"), ("neurons", "CubaLIF"), ("mpbn", "MPBNLIF"))}


def script_to_module(script: torch.jit.ScriptModule) -> nn.Module:
    """The eager ``nn.Sequential`` equivalent of a TorchScript Sequential model."""
    problems: list[Diagnostic] = []

    def rebuild(module, path: str) -> nn.Module | None:
        name = module.original_name
        if name in _CONTAINERS:
            children = [(child_name, rebuild(child, f"{path}.{child_name}" if path else child_name))
                        for child_name, child in module.named_children()]
            if _qualified(module) == "snncc.nn.sequential.Sequential":  # runs [B, T, ...] like the original
                from snncc.nn import Sequential

                return Sequential(OrderedDict(children))
            return nn.Sequential(OrderedDict(children))
        where = f"position '{path}'" if path else "the top level"
        builder = SNNCC_NEURONS.get(_qualified(module)) or REBUILDERS.get(name)
        if builder is None:
            problems.append(Diagnostic(
                "SNN112", f"TorchScript layer {_qualified(module)} at {where}: snncc cannot rebuild this class "
                          f"from an archive", node=path or None,
                hint=f"rebuildable: {', '.join(sorted(REBUILDERS))} and snncc.nn LIF/CubaLIF/MPBNLIF in Sequential "
                     "containers; otherwise save the eager model (torch.save) or a state dict with --arch"))
            return None
        try:
            return builder(module)
        except (_Missing, RuntimeError, ValueError, TypeError) as exc:
            problems.append(Diagnostic("SNN112", f"TorchScript layer {name} at {where}: its configuration is not "
                                                 f"recoverable ({exc})", node=path or None,
                                       hint="trace the model again with this snncc version, or save the eager model"
                                            if builder is _snncc_neuron else
                                            "script the model (torch.jit.script) or save the eager model"))
            return None

    model = rebuild(script, "")
    if problems:
        raise SnnccError(problems)
    return model.eval()
