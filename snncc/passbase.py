"""Pass base class.

A pass is a small frozen dataclass whose fields are its typed options, with a
kebab-case ``name`` equal to its file name in passes/ (``fold-batchnorm`` lives in
passes/fold_batchnorm.py). ``run`` returns a :class:`PassResult`; a pass must
return the same graph object when it changes nothing, so re-running a pipeline
reaches a fixed point and "modified" is an identity test.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .diagnostics import Diagnostic
from .ir import Graph


@dataclass
class PassContext:
    """What a pass may read besides the graph: the target's capabilities, calibration
    data, and a place to put per-pass reports (e.g. a fidelity summary)."""

    capabilities: Any = None
    calibration: np.ndarray | None = None
    reports: dict[str, Any] = field(default_factory=dict)
    notes: list[Diagnostic] = field(default_factory=list)
    #: the graph entering the first lossy pass (set by the PassManager): the float model
    #: the compile-time fidelity summary compares the compiled network with
    before_lossy: Graph | None = None


@dataclass
class PassResult:
    graph: Graph
    modified: bool
    #: what changed, for the pass log (e.g. {"folded": ["bn1", "bn2"]})
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Pass:
    name: ClassVar[str] = ""
    #: True when the pass changes what the network computes (rounding, quantizing, pruning)
    lossy: ClassVar[bool] = False

    def run(self, graph: Graph, ctx: PassContext) -> PassResult:
        raise TypeError(f"{type(self).__name__} must implement run()")

    def options(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def spec(self) -> str:
        """The pipeline text for this pass, e.g. ``quantize{weight_bits=8}``."""
        changed = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != (f.default if f.default is not dataclasses.MISSING else object())
        }
        if not changed:
            return self.name
        return self.name + "{" + ",".join(f"{k}={_fmt(v)}" for k, v in changed.items()) + "}"


#: lossy by name until those passes set ``lossy = True`` themselves
LOSSY_PASSES = ("discretize", "quantize", "prune")


def is_lossy(pass_: Pass) -> bool:
    return pass_.lossy or pass_.name in LOSSY_PASSES


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
