"""`.pt` / `.pth` models: safe loading, then the torch-layer extractor.

A whole pickled module is loaded with ``torch.load(weights_only=True)`` and an
allowlist of the layer and neuron classes snncc can compile (plus common torch layers
it cannot, so those are reported by name and position), so a file naming any other
class is refused *before* anything in it runs. The norse / snnTorch / sinabs / rockpool
classes are allowed when the pickle names that library (read without unpickling).
``--trust-pickle`` is the only way to unpickle arbitrary classes. A state dict needs
``--arch file.py:factory``. TorchScript archives are rebuilt by ``torch_script``.
"""
from __future__ import annotations

import importlib
import os
import pickle
import pickletools
import re
import zipfile
from typing import Any

import torch
from torch import nn

from snncc import ir
from snncc.diagnostics import Diagnostic, Severity, SnnccError
from snncc.loading import import_file

from .nir_import import ImportResult

DEFAULT_DT = 1e-3


#: torch layers snncc cannot compile but may unpickle (plain torch classes run no code when
#: unpickled), so that they are reported as unsupported with their position (SNN110)
UNSUPPORTED_TORCH_LAYERS = (
    nn.LSTM, nn.GRU, nn.RNN, nn.LSTMCell, nn.GRUCell, nn.RNNCell, nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d,
    nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.Sigmoid,
    nn.Tanh, nn.LeakyReLU, nn.GELU, nn.Softmax, nn.LayerNorm, nn.GroupNorm, nn.Embedding, nn.Upsample,
)


def allowed_classes(libraries: tuple[str, ...] = ()) -> list[type]:
    """Classes a model file may name: torch layers, snncc.nn and the given libraries' modules."""
    import snncc.nn as snn

    from .torch_layers import CONVERTERS, LIBRARY_FRONTENDS

    torch_layers = [nn.Sequential, nn.Linear, nn.Conv1d, nn.Conv2d, nn.BatchNorm1d, nn.BatchNorm2d,
                    nn.AvgPool2d, nn.Flatten, nn.Dropout, nn.Identity, nn.ModuleList, nn.ReLU]
    found = set(torch_layers) | set(UNSUPPORTED_TORCH_LAYERS)
    found |= {c for c in CONVERTERS if c.__module__.split(".")[0] in ("torch", "snncc")}
    found |= {getattr(snn, n) for n in snn.__all__ if isinstance(getattr(snn, n), type)}  # Sequential, LIF, ...
    for library in libraries:
        try:
            frontend = importlib.import_module(LIBRARY_FRONTENDS[library])
        except ModuleNotFoundError as exc:
            raise SnnccError.single("SNN108", f"the model file uses {library}, which is not installed ({exc.name} missing)",
                                    hint=f"pip install {library}") from None
        found |= set(frontend.SAFE_CLASSES)
    return sorted(found, key=lambda c: (c.__module__, c.__qualname__))


def pickled_libraries(path: str) -> tuple[str, ...]:
    """Libraries with converters whose modules the file's pickle names (read, not run)."""
    from .torch_layers import LIBRARY_FRONTENDS

    with zipfile.ZipFile(path) as archive:
        name = next((n for n in archive.namelist() if n.endswith("data.pkl")), None)
        data = archive.read(name) if name else b""
    found = set()
    try:
        for _, arg, _ in pickletools.genops(data):
            if isinstance(arg, str):
                found.add(arg.split(" ")[0].split(".")[0])
    except Exception:  # noqa: BLE001 - a damaged pickle is reported by torch.load itself
        pass
    return tuple(sorted(found & set(LIBRARY_FRONTENDS)))


def _refused_class(message: str) -> str | None:
    # torch words this differently for unknown classes and for blocked modules (os, posix, ...)
    match = re.search(r"GLOBAL ([\w.]+)", message)
    return match.group(1) if match else None


def _torch_load(path: str, trust_pickle: bool) -> Any:
    from .torch_script import is_torchscript_archive

    if not zipfile.is_zipfile(path):
        raise SnnccError.single("SNN102", "not a PyTorch archive (torch.save writes a zip file) or truncated",
                                hint="save the model with torch.save(model, path) and check the copy completed")
    with zipfile.ZipFile(path) as archive:
        if is_torchscript_archive(archive.namelist()):
            return _jit_load(path)
    try:
        if trust_pickle:
            return torch.load(path, map_location="cpu", weights_only=False)
        with torch.serialization.safe_globals(allowed_classes(pickled_libraries(path))):
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
        raise SnnccError.single("SNN102", f"cannot read the archive: {str(exc).splitlines()[0]}",
                                hint="the file may be truncated; save it again") from None


def _jit_load(path: str) -> nn.Module:
    from .torch_script import script_to_module

    try:
        script = torch.jit.load(path, map_location="cpu")
    except RuntimeError as exc:
        raise SnnccError.single("SNN102", f"cannot read the TorchScript archive: {str(exc).splitlines()[0]}",
                                hint="the file may be truncated; save it again") from None
    return script_to_module(script)


def _build_arch(spec: str) -> nn.Module:
    file, _, factory = spec.rpartition(":")
    if not file or not factory or not os.path.isfile(file):
        raise SnnccError.single("SNN113", f"--arch '{spec}' must be path/to/file.py:factory", hint="e.g. --arch model.py:build")
    module = import_file(file, "snncc_user_arch")  # the user's own architecture code, named explicitly
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


def module_dt(module: nn.Module) -> float | None:
    """The time step the model's layers integrate with (norse, rockpool store one per layer).

    Raises SNN110 when layers disagree, since one graph has one dt."""
    from .torch_layers import find_converter, load_library_converters, model_layers

    load_library_converters(module)
    found = {}
    for path, layer in model_layers(module):
        dt = getattr(layer, "dt", None) if find_converter(layer) is not None else None
        if isinstance(dt, (int, float)) and not isinstance(dt, bool):
            found.setdefault(float(dt), path)
    if len(found) > 1:
        listed = ", ".join(f"{dt:g} s at '{path}'" for dt, path in found.items())
        raise SnnccError.single("SNN110", f"the layers integrate with different time steps ({listed})",
                                hint="build every layer with the same dt")
    return next(iter(found), None)


def load_with_options(path: str, options) -> ImportResult:
    from .library_neurons import APPROXIMATION
    from .torch_layers import module_to_graph

    module = load_module(path, options).eval()
    notes = []
    dt = options.dt or getattr(module, "dt", None) or module_dt(module)
    if dt is None:
        dt = DEFAULT_DT
        notes.append(Diagnostic("SNN109", f"the model does not state dt; using {dt:g} s (discrete-time neurons behave the same for any dt)",
                                hint="pass --dt to set it", severity=Severity.NOTE))
    graph = module_to_graph(module, _input_shape(module, options.input_shape), dt=float(dt))
    graph = graph.replace(metadata={**graph.metadata, "source": os.path.basename(path)})
    notes += [Diagnostic("SNN115", f"{node.metadata['torch_type']} at position '{node.metadata['torch_path']}': "
                                   f"{node.metadata[APPROXIMATION]}", node=name, severity=Severity.WARNING,
                         hint="compiled spikes can differ from the library's; for exact results use a reset the "
                              "converter maps exactly (its module docstring lists them)")
              for name, node in graph.nodes.items() if APPROXIMATION in node.metadata]
    if options.comparator is not None or options.reset is not None:
        graph = graph.map_nodes(lambda _, n: n.replace(**{k: v for k, v in (("comparator", options.comparator), ("reset", options.reset)) if v is not None})
                                if isinstance(n, ir.SpikingNeuron) else n)
    return ImportResult(graph, notes)
