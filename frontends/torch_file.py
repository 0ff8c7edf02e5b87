"""`.pt` / `.pth` models: safe loading, then the torch-layer extractor.

A whole pickled module is loaded with ``torch.load(weights_only=True)`` and an
allowlist of the layer and neuron classes snncc can compile, so a file naming any
other class is refused *before* anything in it runs. ``--trust-pickle`` is the only
way to unpickle arbitrary classes. A state dict needs ``--arch file.py:factory``.
"""
from __future__ import annotations

import importlib.util
import os
import pickle
import re
import zipfile
from typing import Any

import torch
from torch import nn

from snncc import ir
from snncc.diagnostics import Diagnostic, Severity, SnnccError

from .nir_import import ImportResult

DEFAULT_DT = 1e-3


def allowed_classes() -> list[type]:
    """Classes a model file may name: torch layers and snncc.nn (frameworks add theirs)."""
    import snncc.nn as snn

    from .torch_layers import CONVERTERS

    torch_layers = [nn.Sequential, nn.Linear, nn.Conv1d, nn.Conv2d, nn.BatchNorm1d, nn.BatchNorm2d,
                    nn.AvgPool2d, nn.Flatten, nn.Dropout, nn.Identity, nn.ModuleList, nn.ReLU]
    found = set(torch_layers) | set(CONVERTERS) | {snn.Sequential, snn.LIF, snn.CubaLIF, snn.MPBNLIF}
    found |= {getattr(snn, n) for n in getattr(snn, "__all__", []) if isinstance(getattr(snn, n), type)}
    return sorted(found, key=lambda c: (c.__module__, c.__qualname__))


def _refused_class(message: str) -> str | None:
    # torch words this differently for unknown classes and for blocked modules (os, posix, ...)
    match = re.search(r"GLOBAL ([\w.]+)", message)
    return match.group(1) if match else None


def _torch_load(path: str, trust_pickle: bool) -> Any:
    if not zipfile.is_zipfile(path):
        raise SnnccError.single("SNN102", "not a PyTorch archive (torch.save writes a zip file) or truncated",
                                hint="save the model with torch.save(model, path) and check the copy completed")
    try:
        if trust_pickle:
            return torch.load(path, map_location="cpu", weights_only=False)
        with torch.serialization.safe_globals(allowed_classes()):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        name = _refused_class(str(exc))
        if name is None:
            raise SnnccError.single("SNN102", f"cannot unpickle the file: {str(exc).splitlines()[0]}") from None
        raise SnnccError.single(
            "SNN111", f"the file needs class {name}, which is not on snncc's allowlist; refused to unpickle it "
                      "(unpickling can run arbitrary code)",
            hint="pass --trust-pickle only if you trust the file, or save a state dict and use --arch file.py:factory",
        ) from None
    except RuntimeError as exc:
        if "TorchScript" in str(exc) or "constants.pkl" in str(exc):
            return torch.jit.load(path, map_location="cpu")
        raise SnnccError.single("SNN102", f"cannot read the archive: {str(exc).splitlines()[0]}",
                                hint="the file may be truncated; save it again") from None


def _build_arch(spec: str) -> nn.Module:
    file, _, factory = spec.rpartition(":")
    if not file or not factory or not os.path.isfile(file):
        raise SnnccError.single("SNN113", f"--arch '{spec}' must be path/to/file.py:factory", hint="e.g. --arch model.py:build")
    module_spec = importlib.util.spec_from_file_location("snncc_user_arch", file)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)  # the user's own architecture code, named explicitly
    if not hasattr(module, factory):
        raise SnnccError.single("SNN113", f"{file} has no function '{factory}'", hint="name a function returning the nn.Module")
    return getattr(module, factory)()


def _input_shape(module: nn.Module, given) -> tuple[int, ...]:
    if given:
        return tuple(int(d) for d in given)
    if getattr(module, "input_shape", None):
        return tuple(int(d) for d in module.input_shape)
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            return (layer.in_features,)
        if isinstance(layer, (nn.Conv1d, nn.Conv2d)):
            break
    raise SnnccError.single("SNN114", "cannot tell the model's per-step input shape",
                            hint="pass --input-shape C,H,W or set an `input_shape` attribute on the model")


def load_module(path: str, options) -> nn.Module:
    loaded = _torch_load(path, options.trust_pickle)
    if isinstance(loaded, torch.jit.ScriptModule):
        raise SnnccError.single("SNN112", "TorchScript archives carry no layer classes snncc can convert",
                                hint="save the eager module (torch.save(model, path)) or its state dict with --arch")
    if isinstance(loaded, dict) and all(isinstance(v, torch.Tensor) for v in loaded.values()):
        if not options.arch:
            raise SnnccError.single("SNN112", "the file holds a state dict, not a module",
                                    hint="pass --arch path/to/file.py:factory building the module")
        module = _build_arch(options.arch)
        result = module.load_state_dict(loaded, strict=False)
        if result.missing_keys or result.unexpected_keys:
            raise SnnccError.single("SNN112", f"state dict does not match the architecture (missing {result.missing_keys[:4]}, "
                                              f"unexpected {result.unexpected_keys[:4]})", hint="check --arch")
        return module
    if not isinstance(loaded, nn.Module):
        raise SnnccError.single("SNN112", f"the file holds a {type(loaded).__name__}, not a torch.nn.Module",
                                hint="torch.save the model itself, or a state dict with --arch")
    return loaded


def load_with_options(path: str, options) -> ImportResult:
    from .torch_layers import module_to_graph

    module = load_module(path, options).eval()
    notes = []
    dt = options.dt or getattr(module, "dt", None)
    if dt is None:
        dt = DEFAULT_DT
        notes.append(Diagnostic("SNN109", f"the model does not state dt; using {dt:g} s (discrete-time neurons behave the same for any dt)",
                                hint="pass --dt to set it", severity=Severity.NOTE))
    graph = module_to_graph(module, _input_shape(module, options.input_shape), dt=float(dt))
    graph = graph.replace(metadata={**graph.metadata, "source": os.path.basename(path)})
    if options.comparator is not None or options.reset is not None:
        graph = graph.map_nodes(lambda _, n: n.replace(**{k: v for k, v in (("comparator", options.comparator), ("reset", options.reset)) if v is not None})
                                if isinstance(n, ir.SpikingNeuron) else n)
    return ImportResult(graph, notes)
