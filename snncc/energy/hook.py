"""The compile step that writes OUT/report.json and OUT/report.html from calibration data."""
from __future__ import annotations

import numpy as np

from snncc.diagnostics import Diagnostic, Severity, SnnccError


def compile_report(artifact, calibration: np.ndarray, energy_table: str | None
                   ) -> tuple[dict | None, list[Diagnostic], list[str], object]:
    """(report, notes, files written into ``artifact.path``, the backend's RunResult on the
    calibration input's first samples, for the compiler's fidelity summary to reuse). A bad
    table is an error (SNN701); input the backend cannot take only skips the report, with a note."""
    from snncc.runtime.backend import run
    from snncc.runtime.inputs import as_batch

    from . import MAX_SAMPLES, energy_backend, energy_report, find_accuracy_bits, table_for_target, write_report

    table = table_for_target(artifact.target_name, energy_table)
    try:
        (name,) = artifact.graph.inputs()
        x, _ = as_batch(np.asarray(calibration), artifact.graph.nodes[name].shape)
        x = x[:MAX_SAMPLES]
        result = run(artifact, x, energy_backend(artifact, table))
        report = energy_report(artifact, x, table=table, result=result, input_source="calibration",
                               accuracy_bits=find_accuracy_bits())
    except (SnnccError, ValueError) as exc:
        why = exc.diagnostics[0].message if isinstance(exc, SnnccError) and exc.diagnostics else str(exc)
        return None, [Diagnostic("SNN702", f"no energy report: {why}", severity=Severity.NOTE,
                                 hint="calibration data must be input [B, T, *input_shape] the target's backends take")], [], None
    return report, [], write_report(artifact.path, report), result
