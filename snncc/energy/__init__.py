"""Per-core energy and latency reports (issue #9, docs/energy.md).

    report = energy_report(artifact, x)          # run the target's golden backend on x, count, cost
    write_report(out_dir, report)                # OUT/report.json and report.html

Activity per core (:mod:`.activity`) x a cost table with provenance (:mod:`.tables`)
through the target's model (:mod:`.models`), with NeuroBench-style counts and a
side-by-side quantised-ANN estimate (:mod:`.ann`).
"""
from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from .report import build_report, load_report, validate_report
from .tables import CostTable, load_table, table_for_target

__all__ = ["energy_backend", "energy_report", "write_report", "read_mapping", "load_report", "build_report",
           "validate_report", "load_table", "table_for_target", "CostTable", "find_accuracy_bits", "MAX_SAMPLES"]

#: samples of the input the report runs (the mean per inference converges fast; keeps compile quick)
MAX_SAMPLES = 64
ACCURACY_BITS = os.path.join("benchmarks", "results", "accuracy_bits.json")


def energy_backend(artifact, table: CostTable) -> str:
    """The table's preferred backend if the target has it, else ``golden``, else the target's
    first backend, else ``reference`` (a float-only target)."""
    backends = list(artifact.target.backends)
    preferred = table.settings.get("backend")
    if preferred in backends:
        return preferred
    if "golden" in backends:
        return "golden"
    return backends[0] if backends else "reference"


def find_accuracy_bits(path: str | None = None) -> Any:
    """benchmarks/results/accuracy_bits.json (from the working directory or the repository)."""
    here = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    for candidate in ([path] if path else [ACCURACY_BITS, os.path.join(os.path.dirname(here), ACCURACY_BITS)]):
        if candidate and os.path.isfile(candidate):
            with open(candidate) as handle:
                return json.load(handle)
    return None


def energy_report(artifact, x: np.ndarray, *, table: CostTable | None = None, result=None,
                  input_source: str = "input", accuracy_bits: Any = None) -> dict[str, Any]:
    """Report for a compiled ``artifact`` on ``x`` [B, T, ...]: its first :data:`MAX_SAMPLES`
    samples run on the table's backend, or ``result``, a RunResult of all of ``x`` to reuse."""
    from snncc.runtime.backend import run

    table = table or table_for_target(artifact.target_name)
    if result is None:
        x = np.asarray(x)[:MAX_SAMPLES]
        result = run(artifact, x, energy_backend(artifact, table))
    capabilities = artifact.target.capabilities
    return build_report(artifact.graph, artifact.target_name, capabilities, x, result, table,
                        input_source=input_source, accuracy_bits=accuracy_bits, mapping=read_mapping(artifact.path))


def read_mapping(out_dir: str) -> dict | None:
    """OUT/mapping.json written by the map-cores pass, if any."""
    path = os.path.join(out_dir, "mapping.json")
    if not os.path.isfile(path):
        return None
    with open(path) as handle:
        return json.load(handle)


def write_report(out_dir: str, report: dict[str, Any]) -> list[str]:
    """Write report.json and report.html, each through a temporary sibling so a
    failure leaves the old files or none; returns the file names written."""
    from snncc.artifacts import json_text

    from .html import render_html

    texts = {"report.json": json_text(report), "report.html": render_html(report, read_mapping(out_dir))}
    for name, text in texts.items():
        path = os.path.join(out_dir, name)
        with open(f"{path}.partial", "w") as handle:
            handle.write(text)
        os.replace(f"{path}.partial", path)
    return list(texts)
