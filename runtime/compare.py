"""Spike-by-spike comparison of two backends' :class:`RunResult`s, and the first divergence.

Both results hold per spiking IR node spikes ``[B, T, N]`` aligned to the reference time
index (see :mod:`snncc.runtime.backend`), so they compare entry by entry. A layer's
*agreement* is the fraction of its ``B * T * N`` entries that are equal. The *first
divergence* is the earliest step at which any layer differs; among layers differing at
that step the earliest in the graph's evaluation order (the cause, not its echo
downstream), then the lowest sample and neuron index.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from snncc.runtime.backend import RunResult

__all__ = ["Comparison", "Divergence", "LayerAgreement", "compare", "state_at"]


@dataclass(frozen=True)
class LayerAgreement:
    layer: str
    neurons: int
    #: fraction of equal (sample, step, neuron) entries
    agreement: float
    mismatches: int
    spikes_a: int
    spikes_b: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Divergence:
    layer: str
    neuron: int
    step: int
    sample: int
    spike_a: int
    spike_b: int
    #: state name -> {"real": value in model units, "raw": the backend's stored value}, at ``step``
    state_a: dict[str, dict[str, float]] = field(default_factory=dict)
    state_b: dict[str, dict[str, float]] = field(default_factory=dict)

    def describe(self, a: str, b: str) -> str:
        text = (f"first divergence: layer '{self.layer}', neuron {self.neuron}, step {self.step}, sample {self.sample}: "
                f"{a} spike={self.spike_a}, {b} spike={self.spike_b}")
        for name, state in ((a, self.state_a), (b, self.state_b)):
            if state:
                text += f"; {name} " + ", ".join(f"{k}={_fmt(v)}" for k, v in sorted(state.items()))
        return text

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _fmt(value: dict[str, float]) -> str:
    real, raw = value["real"], value["raw"]
    return f"{real:.6g}" if raw == real else f"{real:.6g} (raw {raw:.10g})"


@dataclass(frozen=True)
class Comparison:
    a: str
    b: str
    layers: tuple[LayerAgreement, ...]
    divergence: Divergence | None
    #: layer -> why it was not compared (missing on one side, different shapes)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def agreement(self) -> float:
        """The worst layer's agreement (1.0 when nothing was compared)."""
        return min((layer.agreement for layer in self.layers), default=1.0)

    @property
    def exact(self) -> bool:
        return all(layer.mismatches == 0 for layer in self.layers)

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "agreement": self.agreement, "exact": self.exact,
                "layers": [layer.to_dict() for layer in self.layers],
                "divergence": self.divergence.to_dict() if self.divergence else None, "skipped": dict(self.skipped)}


def compare(a: RunResult, b: RunResult, order: Sequence[str] | None = None) -> Comparison:
    """Per-layer agreement of ``a`` and ``b`` and their first divergence (states not filled in)."""
    names = [n for n in (order or a.spikes) if n in a.spikes and n in b.spikes]
    skipped = {n: f"only {r.backend} has it" for r, other in ((a, b), (b, a)) for n in r.spikes if n not in other.spikes}
    layers, first = [], None  # first: (step, layer position, sample, neuron)
    for position, name in enumerate(names):
        sa, sb = (np.asarray(r.spikes[name]) for r in (a, b))
        if sa.shape != sb.shape:
            skipped[name] = f"shapes differ: {a.backend} {sa.shape}, {b.backend} {sb.shape}"
            continue
        differ = (sa != 0) != (sb != 0)
        layers.append(LayerAgreement(name, int(sa.shape[-1]) if sa.ndim else 0,
                                     float(1.0 - differ.mean()) if differ.size else 1.0, int(differ.sum()),
                                     int(np.count_nonzero(sa)), int(np.count_nonzero(sb))))
        if differ.any():
            sample, step, neuron = _earliest(differ)
            key = (step, position, sample, neuron)
            if first is None or key < first[0]:
                first = (key, Divergence(name, neuron, step, sample, int(sa[sample, step, neuron] != 0),
                                         int(sb[sample, step, neuron] != 0)))
    return Comparison(a.backend, b.backend, tuple(layers), first[1] if first else None, skipped)


def _earliest(differ: np.ndarray) -> tuple[int, int, int]:
    """(sample, step, neuron) of the earliest-step mismatch; ties -> lowest sample, neuron."""
    step = int(np.argmax(differ.any(axis=(0, 2))))
    sample = int(np.argmax(differ[:, step].any(axis=1)))
    return sample, step, int(np.argmax(differ[sample, step]))


def state_at(result: RunResult, layer: str, neuron: int, step: int, sample: int = 0) -> dict[str, dict[str, float]]:
    """``layer``'s state of ``neuron`` after ``step`` from a run with ``record_state=True``.

    A trace ``[B, T, N]`` is read at ``step``; a final state ``[B, N]`` is used as is, so
    callers run the input truncated to ``step + 1`` steps (what :func:`snncc.runtime.bench`
    does) to get the state at the step for backends that only report final states.
    """
    scale = float(result.state_scale.get(layer, 1.0))
    found = {}
    for name, value in result.states.get(layer, {}).items():
        array = np.asarray(value)
        if array.ndim == 3 and array.shape[1] > step:
            raw = array[sample, step].reshape(-1)[neuron]
        elif array.ndim == 2:
            raw = array[sample].reshape(-1)[neuron]
        else:
            continue
        found[name] = {"real": float(raw) * scale, "raw": float(raw)}
    return found
