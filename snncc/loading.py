"""Model loading: dispatch on the file type to a frontend, lazily.

Every frontend returns an :class:`~snncc.frontends.nir_import.ImportResult`
(graph + notes about anything it had to assume).
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from .diagnostics import SnnccError
from .ir import Comparator, ResetMode

#: file suffix -> "module:function(path, LoadOptions) -> ImportResult"
LOADERS: dict[str, str] = {
    ".nir": "snncc.frontends.nir_import:load_with_options",
    ".pt": "snncc.frontends.torch_file:load_with_options",
    ".pth": "snncc.frontends.torch_file:load_with_options",
    ".onnx": "snncc.frontends.onnx_file:load_with_options",
}


@dataclass(frozen=True)
class LoadOptions:
    dt: float | None = None
    reset: ResetMode | None = None
    comparator: Comparator | None = None
    #: "path/to/file.py:factory" building the module a state dict belongs to
    arch: str | None = None
    #: allow unpickling arbitrary classes from a .pt file (runs code from the file!)
    trust_pickle: bool = False
    #: calibration inputs (.npy) for ANN -> SNN conversion
    calibration: Any = None
    input_shape: tuple[int, ...] | None = None


def load_model(path: str, options: LoadOptions | None = None):
    options = options or LoadOptions()
    if not os.path.exists(path):
        raise SnnccError.single("SNN101", "file not found", file=path, hint="check the path")
    suffix = os.path.splitext(path)[1].lower()
    target = LOADERS.get(suffix)
    if target is None:
        raise SnnccError.single("SNN108", f"unsupported model file type '{suffix or '(none)'}'", file=path,
                                hint=f"supported: {', '.join(sorted(LOADERS))}")
    module_name, function = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        hint = ("the snncc installation is stale: reinstall it (make install)" if (exc.name or "").startswith("snncc")
                else "install snncc with its framework extras: pip install 'snncc[frameworks]'")
        raise SnnccError.single("SNN108", f"the {suffix} frontend is not available ({exc.name} missing)", file=path,
                                hint=hint) from None
    try:
        return getattr(module, function)(path, options)
    except SnnccError as exc:
        raise exc.with_file(path) from None


def import_file(path: str | os.PathLike, name: str | None = None) -> ModuleType:
    """Run the Python file ``path`` as module ``name`` (default: the file's stem) and return it.

    Registered in ``sys.modules`` first, as an import would be (dataclasses look their module
    up there). It runs the file's code: only for files the caller names explicitly (an
    ``--arch`` file, an emitted network module, an example)."""
    name = name or Path(path).stem
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    except BaseException:
        del sys.modules[name]
        raise
    return module
