"""The energy report as a rich table in the terminal (after compile, and `snncc report`)."""
from __future__ import annotations

from rich import box
from rich.table import Table

from .html import si

MAX_ROWS = 40


def print_energy_report(console, report: dict, path: str | None = None) -> None:
    t = report["totals"]
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False,
                  title=f"energy estimate: {report['target']} ({report['cost_table']['id']}, {report['backend']} backend, "
                        f"{report['input']['samples']} sample(s) x {report['input']['steps']} steps), per inference")
    wide = console.width >= 100  # the layer names only where they fit
    for column in ("core", *(("layers",) if wide else ()), "synops", "spikes", "dynamic", "memory", "static", "total",
                   "busy/step"):
        if column == "layers":
            table.add_column(column, overflow="ellipsis", no_wrap=True, max_width=24)
        else:
            table.add_column(column, justify="left" if column == "core" else "right", no_wrap=True,
                             min_width=5 if column == "core" else 7)
    cores = report["cores"]
    shown = cores if len(cores) <= MAX_ROWS else cores[:MAX_ROWS]
    for c in shown:
        layers = ", ".join(p["name"] for p in c["populations"])
        _row(table, c["core"], layers if wide else None, c["counts"], c["energy_j"],
             si(c["time_s"]["busy_per_step_mean"], "s", 3) if c["time_s"] else "-")
    if len(cores) > len(shown):
        table.add_row(f"+{len(cores) - len(shown)}", *([""] * (len(table.columns) - 1)))
    table.add_section()
    _row(table, "total", f"{t['cores']} core(s)" if wide else None, t["counts"], t["energy_j"],
         si(t["time_per_step_s"], "s", 3))
    console.print(table)
    a = report["ann_comparison"]
    ratio = a["snn_over_ann"]
    verdict = "" if ratio is None else (" (the SNN pays)" if a["snn_pays"] else " (the SNN does not pay)")
    console.print(f"energy per inference {si(t['energy_per_inference_j'], 'J')}, per step {si(t['energy_per_step_j'], 'J')}, "
                  f"latency {si(t['latency_per_inference_s'], 's')}; same topology as a {a['bits'] or 32}-bit ANN: "
                  f"SNN/ANN = {'-' if ratio is None else f'{ratio:.3g}'}{verdict} [{a['estimator']}]")
    if path:
        console.print(f"wrote {path}/report.json and {path}/report.html")


def count(value: float) -> str:
    """Per-inference means: whole numbers when large, three digits when small."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _row(table: Table, core: str, layers: str | None, counts: dict, energy: dict, busy: str) -> None:
    table.add_row(core, *(() if layers is None else (layers,)), count(counts["synops_ac"] + counts["synops_mac"]), count(counts["spikes_out"]),
                  si(energy["dynamic_total"], "J", 3), si(energy["memory"], "J", 3), si(energy["static"], "J", 3),
                  si(energy["total"], "J", 3), busy)
