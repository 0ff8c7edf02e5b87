"""Terminal rendering (rich) for `snncc run` and `snncc bench`."""
from __future__ import annotations

from rich.table import Table


def _agreement(value: float, mismatches: int) -> str:
    return "exact" if mismatches == 0 else f"{value:.6f} ({mismatches:,} differ)"


def print_run(console, artifact, result, batch: int, steps: int) -> None:
    table = Table(title=f"snncc run {artifact.path} --backend {result.backend}: {batch} sample(s) x {steps} steps")
    for column in ("layer", "neurons", "spikes/sample"):
        table.add_column(column, justify="right" if column != "layer" else "left")
    for layer, spikes in result.spikes.items():
        table.add_row(layer, f"{spikes.shape[-1]:,}", f"{spikes.astype(bool).sum() / max(batch, 1):,.1f}")
    console.print(table)
    console.print(f"{result.seconds:.3f} s ({1e3 * result.seconds / max(steps, 1):.3f} ms per step for the batch)")


def _energy(summary) -> str:
    if summary.energy is None:
        return "-"
    return f"{summary.energy['joules_per_inference'] * 1e6:.3f} uJ"


def print_bench(console, report) -> None:
    by_backend = {c.b: c for c in report.comparisons}
    table = Table(title=f"snncc bench {report.artifact} ({report.target}), baseline {report.baseline}")
    for column in ("backend", "accuracy", f"agreement vs {report.baseline}", "spikes/sample", "ms/step", "energy/inference"):
        table.add_column(column, justify="left" if column == "backend" else "right")
    for s in report.summaries:
        c = by_backend.get(s.backend)
        agreement = "baseline" if c is None else _agreement(c.agreement, sum(x.mismatches for x in c.layers))
        table.add_row(s.backend, "-" if s.accuracy is None else f"{s.accuracy:.4f}", agreement,
                      f"{sum(s.spikes.values()):,.1f}", f"{s.ms_per_step:.3f}", _energy(s))
    console.print(table)
    for s in report.summaries:
        if s.energy is not None:
            console.print(f"energy/inference of {s.backend}: {s.energy['kind']}, {s.energy['model']}")
    if report.comparisons:
        layers = Table(title="spike agreement per layer")
        layers.add_column("layer")
        layers.add_column("neurons", justify="right")
        for c in report.comparisons:
            layers.add_column(f"{c.b} vs {c.a}", justify="right")
        for name in report.layers:
            rows = [next((x for x in c.layers if x.layer == name), None) for c in report.comparisons]
            size = next((x.neurons for x in rows if x is not None), 0)
            layers.add_row(name, f"{size:,}", *[c.skipped.get(name, "-") if x is None else _agreement(x.agreement, x.mismatches)
                                              for c, x in zip(report.comparisons, rows)])
        console.print(layers)
    for c in report.comparisons:
        if c.divergence is not None:
            console.print(f"{c.b} vs {c.a}: {c.divergence.describe(c.a, c.b)}", markup=False)
    for check in report.checks:
        need = "exact" if check.tolerance >= 1.0 else f">= {check.tolerance:g}"
        verdict = "[green]ok[/green]" if check.passed else "[red]FAILED[/red]"
        console.print(f"check {check.b} vs {check.a}: agreement {check.agreement:.6f}, required {need}: {verdict}")
