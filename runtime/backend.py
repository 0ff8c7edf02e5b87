"""Backends: run a compiled artifact directory on input and return spikes, uniformly.

A compiled directory ``OUT`` holds ``manifest.json`` (its ``target`` names the target),
``ir/graph.{json,npz}`` (the lowered graph, always) and the target's own folder. Every
target lists its backends as ``Target.backends``: name -> ``"module:function"``, imported
only when used. A backend function has the signature::

    run(artifact: Artifact, x: np.ndarray, *, record_state: bool = False) -> RunResult

``x`` is ``[B, T, *input_shape]`` for the graph's (single) Input. ``RunResult.spikes``
holds, per spiking neuron node of the lowered graph (IR node name), ``[B, T, N]`` spikes
**aligned to the reference simulator's time index**: a backend whose layers lag (Loihi's
one-step synapses) runs the extra steps and shifts them back, so ``spikes`` of every
backend are directly comparable. ``raw`` keeps what the backend produced unshifted.
The ``reference`` backend (the float simulator on ``ir/``) exists for every target.
"""
from __future__ import annotations

import importlib
import json
import os
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, TypeVar

import numpy as np

from snncc.diagnostics import SnnccError
from snncc.ir import Graph, SpikingNeuron

__all__ = ["Artifact", "RunResult", "load_artifact", "backends_of", "run"]

T = TypeVar("T")


@dataclass
class RunResult:
    backend: str
    #: per spiking IR node: spikes [B, T, N] (uint8), aligned to the reference time index
    spikes: dict[str, np.ndarray]
    #: the graph Output's values [B, T, n] (spikes, or potentials of a non-spiking readout)
    output: np.ndarray
    #: per IR node, state name -> array; final [B, N] or trace [B, T, N] (backend's units)
    states: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    #: the state's unit: real value = stored value * scale (1.0 for float backends)
    state_scale: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    #: backend measurements (e.g. cycles per step, packets per PE, per-core activity)
    extra: dict[str, Any] = field(default_factory=dict)
    #: spikes as produced, before time alignment (same keys as ``spikes``)
    raw: dict[str, np.ndarray] | None = None


@dataclass(frozen=True, eq=False)
class Artifact:
    path: str
    manifest: dict[str, Any]
    #: what :meth:`cached` computed from the artifact, by key
    _derived: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    @property
    def target_name(self) -> str:
        return self.manifest["target"]

    @cached_property
    def graph(self) -> Graph:
        from snncc.ir.serialize import load_graph

        return load_graph(os.path.join(self.path, "ir"))

    @property
    def target(self):
        from snncc.registry import TARGETS

        return TARGETS.get(self.target_name)

    def folder(self) -> str:
        """The target's own artifact folder, e.g. OUT/loihi2."""
        return os.path.join(self.path, self.target_name)

    def cached(self, key: str, make: Callable[[], T]) -> T:
        """``make()``, computed once per Artifact (as :attr:`graph` is): e.g. a target's
        lowering of the graph, which all its backends in a bench need."""
        if key not in self._derived:
            self._derived[key] = make()
        return self._derived[key]


def load_artifact(path: Artifact | str | os.PathLike) -> Artifact:
    """The compiled directory ``path``; an Artifact is returned as it is, so every function
    taking "an artifact or its path" calls this once."""
    if isinstance(path, Artifact):
        return path
    path = os.fspath(path)
    manifest_path = os.path.join(path, "manifest.json")
    if not os.path.isfile(manifest_path):
        raise SnnccError.single("SNN601", "not a compiled snncc directory (no manifest.json)", file=path,
                                hint="compile first: snncc compile MODEL --target T -o OUT")
    with open(manifest_path) as handle:
        return Artifact(path, json.load(handle))


def backends_of(artifact: Artifact) -> dict[str, str]:
    """Backend name -> "module:function" for this artifact (reference first)."""
    return {"reference": "snncc.runtime.backend:run_reference", **dict(getattr(artifact.target, "backends", {}))}


def _resolve(spec: str) -> Callable[..., RunResult]:
    module, _, function = spec.partition(":")
    return getattr(importlib.import_module(module), function)


def run(artifact: Artifact | str, x: np.ndarray, backend: str = "reference", *, record_state: bool = False) -> RunResult:
    """Run ``artifact`` (or its path) on ``x`` [B, T, ...] with ``backend``."""
    artifact = load_artifact(artifact)
    known = backends_of(artifact)
    if backend not in known:
        raise SnnccError.single("SNN602", f"target {artifact.target_name} has no backend '{backend}'",
                                hint=f"available: {', '.join(known)}")
    x = np.asarray(x)
    start = time.perf_counter()
    result = _resolve(known[backend])(artifact, x, record_state=record_state)
    result.seconds = result.seconds or time.perf_counter() - start
    return result


def run_reference(artifact: Artifact, x: np.ndarray, *, record_state: bool = False) -> RunResult:
    return simulate_result(artifact.graph, x, record_state=record_state)


def simulate_result(graph: Graph, x: np.ndarray, backend: str = "reference", *,
                    record_state: bool = False) -> RunResult:
    """The float reference simulator on ``graph`` (any IR graph, compiled or not) as a RunResult."""
    import torch

    from snncc.runtime.reference import simulate

    sim = simulate(graph, torch.as_tensor(x))
    spikes = {n: _flat(sim.spikes[n]).astype(np.uint8) for n, _ in graph.items_of(SpikingNeuron)}
    states = {n: {k: _flat(v) for k, v in d.items()} for n, d in sim.states.items()} if record_state else {}
    return RunResult(backend, spikes, _flat(sim.output), states, {n: 1.0 for n in states})


def _flat(tensor) -> np.ndarray:
    array = tensor.detach().cpu().numpy() if hasattr(tensor, "detach") else np.asarray(tensor)
    return array.reshape(*array.shape[:2], -1)
