"""report.html: one self-contained page (inline SVG plots, no scripts, no external files)."""
from __future__ import annotations

import html
from typing import Any, Callable

from . import plots

STYLE = """body{font-family:sans-serif;margin:1.5em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
.plot{margin:.5em 0 1.5em}.note{color:#555;font-size:13px}.estimate{color:#a15c00}"""


def si(value: float | None, unit: str, digits: int = 4) -> str:
    """1.234e-6, "J" -> "1.234 uJ"."""
    if value is None:
        return "-"
    for factor, prefix in ((1, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f")):
        if abs(value) >= factor:
            return f"{value / factor:.{digits}g} {prefix}{unit}"
    return f"{value:.{digits}g} {unit}" if value else f"0 {unit}"


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _table(headers: list[str], rows: list[list[Any]], numeric_from: int = 1, numeric_to: int | None = None) -> str:
    """Columns ``numeric_from`` to ``numeric_to`` (exclusive) are right-aligned numbers."""
    head = "".join(f"<th>{_esc(h)}</th>" for h in headers)
    stop = len(headers) if numeric_to is None else numeric_to
    body = "".join(
        "<tr>" + "".join(f"<td class='n'>{_esc(v)}</td>" if numeric_from <= i < stop else f"<td>{_esc(v)}</td>"
                         for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _plot(title: str, render: Callable[[], str]) -> str:
    try:
        svg = render()
    except ImportError:
        return f"<h3>{_esc(title)}</h3><p class='note'>matplotlib is not installed: plot omitted.</p>"
    return f"<h3>{_esc(title)}</h3><div class='plot'>{svg}</div>"


def _summary(r: dict) -> str:
    t = r["totals"]
    rows = [["target / backend", f"{r['target']} / {r['backend']}"],
            ["cost table", f"{r['cost_table']['id']} (model {r['cost_table']['model']}, sha256 {r['cost_table']['sha256'][:12]})"],
            ["input", f"{r['input']['source']}: {r['input']['samples']} sample(s) x {r['input']['steps']} steps"],
            ["energy per inference", si(t["energy_per_inference_j"], "J")], ["energy per step", si(t["energy_per_step_j"], "J")],
            ["dynamic / memory / static", " / ".join(si(t["energy_j"][k], "J") for k in ("dynamic_total", "memory", "static"))],
            ["time per step", si(t["time_per_step_s"], "s")], ["latency per inference", si(t["latency_per_inference_s"], "s")],
            ["cores", t["cores"]], ["kind", r["kind"]]]
    return _table(["quantity", "value"], rows, numeric_from=2)


def _cores(r: dict) -> str:
    kinds = sorted({k for c in r["cores"] for k in c["energy_j"]["dynamic"]})
    headers = ["core", "layers", "neurons", "synops", "spikes", "messages", *kinds, "memory", "static", "total", "busy/step", "util."]
    rows = []
    for c in [*r["cores"], {"core": "total", "populations": [], "neurons": sum(x["neurons"] for x in r["cores"]),
                            "counts": r["totals"]["counts"], "energy_j": r["totals"]["energy_j"], "time_s": None,
                            "utilisation": None}]:
        n = c["counts"]
        rows.append([c["core"], ", ".join(f"{p['name']}[{p['start']}:{p['stop']}]" for p in c["populations"]), c["neurons"],
                     f"{n['synops_ac'] + n['synops_mac']:.6g}", f"{n['spikes_out']:.6g}", f"{n['messages_out']:.6g}",
                     *(si(c["energy_j"]["dynamic"].get(k, 0.0), "J") for k in kinds),
                     si(c["energy_j"]["memory"], "J"), si(c["energy_j"]["static"], "J"), si(c["energy_j"]["total"], "J"),
                     si(c["time_s"]["busy_per_step_mean"], "s") if c["time_s"] else "-",
                     f"{c['utilisation']:.3f}" if c["utilisation"] is not None else "-"])
    return _table(headers, rows, numeric_from=2)


def _ann(r: dict) -> str:
    a = r["ann_comparison"]
    rows = [[side, si(a[side]["compute_j"], "J"), si(a[side]["memory_j"], "J"), si(a[side]["total_j"], "J")]
            for side in ("snn", "ann")]
    ratio = a["snn_over_ann"]
    verdict = ("the SNN pays" if a["snn_pays"] else "the SNN does <b>not</b> pay") if ratio is not None else "no ANN work"
    return (_table(["network", "compute", "memory", "total"], rows)
            + f"<p>SNN / ANN = {ratio if ratio is None else f'{ratio:.3g}'}: {verdict} (same estimator "
            f"{_esc(a['estimator'])}, {a['bits'] or 'float32'} bit operands).</p>")


def _constants(r: dict) -> str:
    out = ""
    for section in ("constants", "calibration"):
        entries = r["cost_table"].get(section) or {}
        if entries:
            out += f"<h3>{section}</h3>" + _table(
                ["name", "value", "unit", "confidence", "source"],
                [[k, f"{c['value']:.6g}", c["unit"], c["confidence"], c["source"]] for k, c in sorted(entries.items())],
                numeric_from=1, numeric_to=2)
    return out


def _mapping_map(mapping: dict | None) -> str:
    if not mapping:
        return ""
    from snncc.mapping.plot import core_map_svg  # pure SVG text: no plotting library needed

    return f"<h3>core map from map-cores (resource utilisation)</h3><div class='plot'>{core_map_svg(mapping)}</div>"


def render_html(r: dict, mapping: dict | None = None) -> str:
    """The page for report ``r``; ``mapping`` (OUT/mapping.json) adds the map-cores picture."""
    nb = r["neurobench"]
    accuracy = plots.accuracy_rows(r.get("accuracy_bits")) if r.get("accuracy_bits") else []
    if any(row["target"] == r["target"] for row in accuracy):  # one estimator per plot
        accuracy = [row for row in accuracy if row["target"] == r["target"]]
    accuracy_section = (_plot("energy vs accuracy across weight bits", lambda: plots.energy_vs_accuracy(accuracy))
                        if accuracy else "<h3>energy vs accuracy across weight bits</h3><p class='note'>omitted: "
                        "benchmarks/results/accuracy_bits.json was not found (or has no bits/accuracy rows) "
                        "when the report was built.</p>")
    caveats = "".join(f"<li>{_esc(c)}</li>" for c in r["caveats"])
    neurobench = _table(["metric", "value"], [
        ["synaptic ops (effective AC / MAC / dense)", " / ".join(f"{nb['synaptic_operations'][k]:.6g}" for k in ("effective_ac", "effective_mac", "dense"))],
        ["activation sparsity", f"{nb['activation_sparsity']:.4f}"], ["connection sparsity", f"{nb['connection_sparsity']:.4f}"],
        ["neuron updates", f"{nb['neuron_updates']:.6g}"], ["parameters", nb["parameter_count"]],
        ["footprint (deployed bits: weights / state / total)", " / ".join(str(nb["footprint_bits"][k]) for k in ("weights", "neuron_state", "total"))]])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>snncc energy report: {_esc(r['target'])}</title>
<style>{STYLE}</style></head><body>
<h1>Energy report: {_esc(r['target'])}</h1>
<p class="estimate">An <b>{_esc(r['kind'])}</b>: activity counted on the {_esc(r['backend'])} backend, costed with table
{_esc(r['cost_table']['id'])}. Figures are per inference (mean over the samples run).</p>
{_summary(r)}
<h2>Per core</h2>{_cores(r)}
{_plot("energy per core", lambda: plots.energy_per_core(r))}
{_plot("core map: energy and utilisation per core", lambda: plots.core_map(r))}
{_mapping_map(mapping)}
{_plot("spike raster", lambda: plots.raster(r))}
{accuracy_section}
<h2>SNN vs the same topology as a quantised ANN</h2>{_ann(r)}
<h2>NeuroBench-style metrics</h2>{neurobench}
<h2>Cost table</h2><p>{_esc(r['cost_table'].get('description', ''))}</p>{_constants(r)}
<h2>Caveats</h2><ul>{caveats}</ul>
<p class="note">snncc {_esc(r['snncc_version'])}, report schema {r['schema_version']}.</p>
</body></html>
"""
