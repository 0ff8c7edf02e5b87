"""Narrow Python 3.11 compatibility shim for lava-nc 0.10.0.

Lava 0.10.0 declares ``Requires-Python <3.11``. On 3.11 importing it fails in
``lava/magma/compiler/var_model.py`` with ``ValueError: mutable default <class
'...ByteEncoder'> for field x``: plain dataclasses there use *instances* of another
plain dataclass as field defaults. Python 3.11 rejects every unhashable default
(a plain ``@dataclass`` has ``__hash__ = None``); 3.10 rejected only list/dict/set.

:func:`apply` wraps ``dataclasses._get_field`` so that, when a class-level default
is an instance of a class whose ``__hash__`` is None and which is not a
list/dict/set, that class is first made hashable by identity. The 3.11 check then
passes and behaviour matches 3.10 (including the shared default instance).
list/dict/set defaults are still rejected. On Python < 3.11 nothing is patched.
"""
from __future__ import annotations

import dataclasses
import importlib
import sys
from types import ModuleType
from typing import Any

__all__ = ["apply", "is_applied", "import_lava"]

_MARK = "_snncc_lava_compat"
_STILL_MUTABLE = (list, dict, set)


def _needs_identity_hash(default: Any) -> bool:
    cls = type(default)
    return cls.__hash__ is None and not isinstance(default, _STILL_MUTABLE)


def is_applied() -> bool:
    return bool(getattr(dataclasses._get_field, _MARK, False))  # type: ignore[attr-defined]


def apply() -> bool:
    """Install the shim (idempotent). Returns True when the patch is active."""
    if sys.version_info < (3, 11):
        return False
    if is_applied():
        return True
    original = dataclasses._get_field  # type: ignore[attr-defined]

    def _get_field(cls: type, a_name: str, *args: Any, **kwargs: Any) -> Any:
        default = cls.__dict__.get(a_name, dataclasses.MISSING)
        if isinstance(default, dataclasses.Field):
            default = default.default
        if default is not dataclasses.MISSING and _needs_identity_hash(default):
            # Identity hash, as object has: enough for the 3.11 check, no semantic change.
            type(default).__hash__ = object.__hash__  # type: ignore[method-assign]
        return original(cls, a_name, *args, **kwargs)

    setattr(_get_field, _MARK, True)
    _get_field.__wrapped__ = original  # type: ignore[attr-defined]
    dataclasses._get_field = _get_field  # type: ignore[attr-defined]
    return True


def import_lava(module: str = "lava.magma.core.run_configs") -> ModuleType:
    """Apply the shim, then import and return a Lava module."""
    apply()
    return importlib.import_module(module)
