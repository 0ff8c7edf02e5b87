"""The compile-time fidelity summary (manifest["fidelity"]): how far the compiled network
is from the float model it came from, on the calibration input.

The float side is the reference simulator on the graph *before the first lossy pass*
(``PassContext.before_lossy``: the graph entering discretize/quantize/prune); the
compiled side is the target's ``golden`` backend (else its first) on the emitted
artifact. Per spiking layer: spike agreement (fraction of equal (sample, step, neuron)
entries) and spike counts of both; plus the share of samples whose predicted class
(output summed over time) is the same, and the quantize report's saturations and
zeroed weights per layer.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from snncc.diagnostics import Diagnostic, Severity, SnnccError
from snncc.ir import Graph
from snncc.runtime.backend import Artifact, RunResult, run, simulate_result
from snncc.runtime.bench import predictions
from snncc.runtime.compare import compare
from snncc.runtime.inputs import as_batch

__all__ = ["fidelity_summary", "quantize_counts", "MAX_SAMPLES"]

#: calibration samples the summary runs (enough for a rate estimate, cheap on every backend)
MAX_SAMPLES = 32


def _round(value: float) -> float:
    return float(f"{value:.6g}")


def fidelity_summary(float_graph: Graph, artifact: Artifact, calibration: np.ndarray,
                     reports: Mapping[str, Any], *, compiled: RunResult | None = None
                     ) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    """(summary, notes): None with a note saying why when it cannot be computed. ``compiled``:
    a run of the same calibration input (its first samples, at least as many as this summary
    uses) to reuse instead of running the backend again, when it comes from this summary's
    backend (the compiler passes the energy report's run)."""
    backends = list(getattr(artifact.target, "backends", {}) or {})
    if not backends:
        return None, []  # a float-only target: the compiled graph is the float model
    backend = "golden" if "golden" in backends else backends[0]
    try:
        names = float_graph.inputs()
        shape = float_graph.nodes[names[0]].shape if len(names) == 1 else None
        if shape is None:
            raise SnnccError.single("SNN606", f"the graph has {len(names)} inputs")
        x = as_batch(np.asarray(calibration), shape)[0][:MAX_SAMPLES]
        compiled = _reused(compiled, backend, x) or run(artifact, x, backend)
    except SnnccError as exc:
        why = exc.diagnostics[0].message if exc.diagnostics else str(exc)
        return None, [Diagnostic("SNN606", f"no fidelity summary: {why}", severity=Severity.NOTE,
                                 hint="calibration data must be spike input [B, T, *input_shape] the target's backends take")]
    reference = simulate_result(float_graph, x, "float")
    order = [n for n in artifact.graph.nodes if n in compiled.spikes]
    comparison = compare(reference, compiled, order)
    counts = quantize_counts(reports.get("quantize"))
    layers = {}
    for layer in comparison.layers:
        layers[layer.layer] = {"neurons": layer.neurons, "agreement": _round(layer.agreement),
                               "spikes_float": layer.spikes_a, "spikes_compiled": layer.spikes_b,
                               **counts.get(layer.layer, {})}
    same = predictions(reference.output) == predictions(compiled.output)
    summary = {"backend": backend, "samples": int(x.shape[0]), "steps": int(x.shape[1]),
               "prediction_agreement": _round(float(same.mean())), "layers": layers,
               "skipped": dict(comparison.skipped),
               "quantize": {k: v for k, v in counts.items() if k not in layers}}
    return summary, []


def _reused(result: RunResult | None, backend: str, x: np.ndarray) -> RunResult | None:
    """``result``'s spikes and output for the samples of ``x`` when it is ``backend``'s run of
    at least those samples and steps (backends run samples independently), else None."""
    if result is None or result.backend != backend or result.output.shape[0] < x.shape[0] \
            or result.output.shape[1] != x.shape[1]:
        return None
    n = x.shape[0]
    return RunResult(backend, {k: v[:n] for k, v in result.spikes.items()}, result.output[:n])


#: quantize report keys (docs/lowering-contract.md section 3) summed per layer, at any depth
SATURATED_KEYS = ("saturated", "bias_saturated")
ZEROED_KEYS = ("rounded_to_zero",)


def quantize_counts(report: Any) -> dict[str, dict[str, int]]:
    """Per layer of ``ctx.reports["quantize"]["layers"]``: values saturated (weights and
    biases) and weights rounded to zero, summed over the layer's projections."""
    layers = report.get("layers", {}) if isinstance(report, Mapping) else {}
    counts: dict[str, dict[str, int]] = {}
    for layer, entry in layers.items() if isinstance(layers, Mapping) else ():
        found = {"saturated": _sum(entry, SATURATED_KEYS), "zeroed_weights": _sum(entry, ZEROED_KEYS)}
        found = {k: v for k, v in found.items() if v is not None}
        if found:
            counts[str(layer)] = found
    return counts


def _sum(entry: Any, keys: tuple[str, ...]) -> int | None:
    """Sum of the integer values under ``keys`` anywhere in ``entry`` (None: no such key)."""
    if not isinstance(entry, Mapping):
        return None
    total = None
    for key, value in entry.items():
        if key in keys and isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            total = (total or 0) + int(value)
        elif isinstance(value, Mapping):
            inner = _sum(value, keys)
            total = total if inner is None else (total or 0) + inner
    return total
