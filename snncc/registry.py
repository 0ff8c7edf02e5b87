"""Lazy registries for passes and targets.

In-repo passes are the modules of ``snncc.passes`` (file ``fold_batchnorm.py`` holds
the pass named ``fold-batchnorm``); in-repo targets are the modules or packages of
``snncc.targets`` exposing ``TARGET``. Third-party ones register entry points in the
groups ``snncc.passes`` / ``snncc.targets``. Nothing is imported until asked for.
"""
from __future__ import annotations

import importlib
import pkgutil
from functools import cached_property
from importlib.metadata import entry_points
from typing import Any, Callable

from .diagnostics import SnnccError


class Registry:
    def __init__(self, kind: str, package: str, group: str, attribute: Callable[[Any, str], Any]):
        self.kind, self.package, self.group, self._attribute = kind, package, group, attribute
        self._cache: dict[str, Any] = {}

    # listed once per registry: scanning every installed distribution's entry points costs ~10 ms
    @cached_property
    def _builtin(self) -> dict[str, str]:
        package = importlib.import_module(self.package)
        return {
            info.name.replace("_", "-"): f"{self.package}.{info.name}"
            for info in pkgutil.iter_modules(package.__path__)
            if not info.name.startswith("_")
        }

    @cached_property
    def _plugins(self) -> dict[str, Any]:
        return {ep.name: ep for ep in entry_points(group=self.group)}

    def names(self) -> list[str]:
        found = [n for n in self._builtin if self._try_get(n) is not None]
        return sorted(set(found) | set(self._plugins))

    def _try_get(self, name: str) -> Any:
        try:
            return self.get(name)
        except SnnccError:
            return None

    def get(self, name: str) -> Any:
        if name in self._cache:
            return self._cache[name]
        builtin, plugins = self._builtin, self._plugins
        if name in builtin and name in plugins:
            raise SnnccError.single("SNN302", f"{self.kind} '{name}' is defined twice (snncc and plugin {plugins[name].value})",
                                    hint="rename the plugin's entry point")
        if name in builtin:
            found = self._attribute(importlib.import_module(builtin[name]), name)
        elif name in plugins:
            found = plugins[name].load()
        else:
            found = None
        if found is None:
            known = ", ".join(n for n in sorted(set(builtin) | set(plugins)) if n in plugins or self._attribute(importlib.import_module(builtin[n]), n) is not None)
            raise SnnccError.single("SNN303", f"unknown {self.kind} '{name}'", hint=f"available: {known}")
        self._cache[name] = found
        return found


def _pass_class(module: Any, name: str) -> Any:
    from .passbase import Pass

    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, Pass) and value is not Pass and value.name == name:
            return value
    return None


def _target(module: Any, name: str) -> Any:
    target = getattr(module, "TARGET", None)
    if target is None:
        return None
    return target() if callable(target) and isinstance(target, type) else target


PASSES = Registry("pass", "snncc.passes", "snncc.passes", _pass_class)
TARGETS = Registry("target", "snncc.targets", "snncc.targets", _target)
