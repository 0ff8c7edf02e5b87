"""Targets: a plain-data capability descriptor, a default pipeline, and an emitter.

Generic passes read :class:`Capabilities` and never branch on a target's name.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from .ir import Comparator, Graph, ResetMode


@dataclass(frozen=True)
class Capabilities:
    """What a target can run. ``None`` means unlimited / not applicable."""

    name: str
    cores_per_chip: int | None = None
    chips: int | None = None
    neurons_per_core: int | None = None
    synaptic_memory_bytes_per_core: int | None = None
    fan_in_per_core: int | None = None
    weight_bits: int | None = None  # None: float
    state_bits: int | None = None
    #: "neuron", "channel", "process" (one value per layer/process) or "float"
    threshold_granularity: str = "neuron"
    comparators: tuple[Comparator, ...] = (Comparator.GT, Comparator.GE)
    reset_modes: tuple[ResetMode, ...] = (ResetMode.VALUE, ResetMode.SUBTRACT, ResetMode.NONE)
    delay_range: tuple[int, int] | None = None  # in time steps
    neuron_kinds: tuple[str, ...] = ("LIF", "CubaLIF", "IF", "LI", "CubaLI", "I")
    #: free-form, sourced notes (e.g. energy table name)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """Base class: subclasses set ``capabilities`` and ``default_pipeline`` and implement emit."""

    name: str
    capabilities: Capabilities
    default_pipeline: str
    description: str = ""
    #: backend name -> "module:function" (see snncc.runtime.backend); "reference" is implicit
    backends: Mapping[str, str] = field(default_factory=dict)

    def emit(self, graph: Graph, out_dir: str, context: Any) -> list[str]:
        """Write the target's artifacts under ``out_dir``; return their relative paths."""
        raise TypeError(f"target {self.name} does not emit")
