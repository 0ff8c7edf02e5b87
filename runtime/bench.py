"""`snncc bench`: run several backends of one artifact on the same input and compare them.

Every backend is compared with a *baseline* (``golden`` when it runs, else the first
non-reference backend, else ``reference``). A pair is *checked* against a tolerance (the
worst layer's spike agreement, see :mod:`snncc.runtime.compare`): by default only pairs
of integer backends (neither is ``reference``, i.e. golden vs its vendor simulators) and
they must agree exactly; ``tolerance=x`` checks every pair at ``x``. On a mismatch the
first divergence is located and both backends are re-run on that one sample, cut after
the divergent step, to read their states there.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from snncc.diagnostics import SnnccError
from snncc.ir import evaluation_order
from snncc.runtime.backend import Artifact, RunResult, backends_of, load_artifact, run
from snncc.runtime.compare import Comparison, compare, state_at

__all__ = ["BackendSummary", "BenchReport", "Check", "bench", "energy_of", "predictions"]

REFERENCE = "reference"


@dataclass(frozen=True)
class BackendSummary:
    backend: str
    seconds: float
    batch: int
    steps: int
    #: layer -> spikes per sample (mean over the batch)
    spikes: dict[str, float]
    accuracy: float | None = None
    #: {"joules_per_inference", "kind" ("estimate"/"measured"), "model"} or None
    energy: dict[str, Any] | None = None

    @property
    def ms_per_step(self) -> float:
        """Wall-clock milliseconds per time step for the whole batch."""
        return 1e3 * self.seconds / max(self.steps, 1)

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "ms_per_step": self.ms_per_step}


@dataclass(frozen=True)
class Check:
    a: str
    b: str
    tolerance: float
    agreement: float

    @property
    def passed(self) -> bool:
        return self.agreement >= self.tolerance

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "passed": self.passed}


@dataclass(frozen=True, eq=False)
class BenchReport:
    artifact: str
    target: str
    baseline: str
    summaries: tuple[BackendSummary, ...]
    comparisons: tuple[Comparison, ...]
    checks: tuple[Check, ...]
    layers: tuple[str, ...]
    results: dict[str, RunResult] = field(default_factory=dict, repr=False)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"artifact": self.artifact, "target": self.target, "baseline": self.baseline, "passed": self.passed,
                "layers": list(self.layers), "backends": [s.to_dict() for s in self.summaries],
                "comparisons": [c.to_dict() for c in self.comparisons], "checks": [c.to_dict() for c in self.checks]}


def predictions(output: np.ndarray) -> np.ndarray:
    """Class per sample: the output unit with the largest sum over time (ties: lowest index)."""
    output = np.asarray(output, dtype=np.float64)
    return output.reshape(*output.shape[:2], -1).sum(axis=1).argmax(axis=1)


def energy_of(artifact: Artifact, x: np.ndarray, result: RunResult) -> dict[str, Any] | None:
    """Energy per inference of ``result`` (a run of ``x``): the backend's own figure
    (``extra["energy"]``: a mapping with ``joules_per_inference``, ``kind``, ``model``), else the
    estimate of :mod:`snncc.energy` (docs/energy.md) when ``result`` comes from the backend
    that estimator uses for the target (one estimator per table, never mixed), else None."""
    figure = result.extra.get("energy")
    if figure is not None:
        return {"joules_per_inference": float(figure["joules_per_inference"]),
                "kind": str(figure.get("kind", "measured")), "model": str(figure.get("model", result.backend))}
    from snncc.energy import energy_backend, energy_report, table_for_target

    try:
        table = table_for_target(artifact.target_name)
        if energy_backend(artifact, table) != result.backend:
            return None
        report = energy_report(artifact, x, table=table, result=result, input_source="bench")
    except SnnccError:
        return None  # no cost table for this target
    return {"joules_per_inference": float(report["totals"]["energy_per_inference_j"]), "kind": str(report["kind"]),
            "model": f"{report['cost_table']['id']} on {result.backend}"}


def _baseline(backends: Sequence[str], requested: str | None) -> str:
    if requested is not None:
        if requested not in backends:
            raise SnnccError.single("SNN605", f"baseline '{requested}' is not among the backends run",
                                    hint=f"backends: {', '.join(backends)}")
        return requested
    if "golden" in backends:
        return "golden"
    return next((b for b in backends if b != REFERENCE), backends[0])


def _layer_order(artifact: Artifact, result: RunResult) -> list[str]:
    order, _ = evaluation_order(artifact.graph)
    return [n for n in order if n in result.spikes] + [n for n in result.spikes if n not in order]


def bench(artifact: Artifact | str, x: np.ndarray, backends: Sequence[str] | None = None, *,
          labels: np.ndarray | None = None, baseline: str | None = None, tolerance: float | None = None,
          locate_states: bool = True) -> BenchReport:
    """Run ``backends`` (default: all of the artifact's) on ``x`` [B, T, ...] and compare them."""
    artifact = load_artifact(artifact)
    known = backends_of(artifact)
    backends = list(dict.fromkeys(backends or known))
    unknown = [b for b in backends if b not in known]
    if unknown:
        raise SnnccError.single("SNN602", f"target {artifact.target_name} has no backend(s) {', '.join(unknown)}",
                                hint=f"available: {', '.join(known)}")
    if tolerance is not None and not 0.0 <= tolerance <= 1.0:
        raise SnnccError.single("SNN605", f"tolerance {tolerance} is not an agreement fraction in [0, 1]",
                                hint="1.0 = exact, e.g. 0.999")
    x = np.asarray(x)
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if labels.shape[0] != x.shape[0]:
            raise SnnccError.single("SNN604", f"{labels.shape[0]} labels for {x.shape[0]} input samples",
                                    hint="give one integer label per sample")
    base = _baseline(backends, baseline)
    results = {name: run(artifact, x, name) for name in backends}
    order = _layer_order(artifact, results[base])
    summaries = tuple(_summary(artifact, x, results[name], labels) for name in backends)
    comparisons, checks = [], []
    for name in backends:
        if name == base:
            continue
        comparison = compare(results[base], results[name], order)
        if comparison.divergence is not None and locate_states:
            comparison = _with_states(artifact, x, comparison)
        comparisons.append(comparison)
        gate = tolerance if tolerance is not None else (1.0 if REFERENCE not in (base, name) else None)
        if gate is not None:
            checks.append(Check(base, name, gate, comparison.agreement))
    return BenchReport(artifact.path, artifact.target_name, base, summaries, tuple(comparisons), tuple(checks),
                       tuple(order), results)


def _summary(artifact: Artifact, x: np.ndarray, result: RunResult, labels: np.ndarray | None) -> BackendSummary:
    output = np.asarray(result.output)
    batch, steps = output.shape[:2]
    spikes = {layer: float(np.count_nonzero(s)) / max(batch, 1) for layer, s in result.spikes.items()}
    accuracy = float((predictions(output) == labels).mean()) if labels is not None else None
    return BackendSummary(result.backend, float(result.seconds), batch, steps, spikes, accuracy,
                          energy_of(artifact, x, result))


def _with_states(artifact: Artifact, x: np.ndarray, comparison: Comparison) -> Comparison:
    """Fill in both sides' states at the divergence: one sample, cut after the divergent step."""
    import dataclasses

    d = comparison.divergence
    cut = x[d.sample:d.sample + 1, :d.step + 1]
    states = []
    for backend in (comparison.a, comparison.b):
        try:
            states.append(state_at(run(artifact, cut, backend, record_state=True), d.layer, d.neuron, d.step))
        except SnnccError:
            states.append({})  # the spikes still say where; a backend may not record states
    return dataclasses.replace(comparison, divergence=dataclasses.replace(d, state_a=states[0], state_b=states[1]))
