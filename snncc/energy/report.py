"""Assemble, validate and write ``report.json`` (schema: ``report.schema.json``).

Every figure is per inference (mean over the samples run). Per-core rows are additive:
the totals are the sums of the core rows, and a layer's row is the sum of its cores'
rows (a core shared by several layers is split in proportion to their neurons).
"""
from __future__ import annotations

import hashlib
import json
import os
from importlib import resources
from typing import Any

import numpy as np

from snncc import __version__
from snncc.artifacts import json_text
from snncc.diagnostics import SnnccError
from snncc.ir import SpikingNeuron

from . import ann, neurobench
from .activity import COUNTS, Activity, count_activity
from .cores import Core, Layout, layout_from_mapping
from .models import CoreEnergy, evaluate
from .tables import CostTable, load_table

SCHEMA_VERSION = 1
RASTER_EVENTS = 20_000


def layout_of(table: CostTable) -> Layout:
    per_tile = table.value("cores_per_tile", table.value("pes_per_router", 1))
    return Layout(int(per_tile) or 1, int(table.value("mesh_columns", 8)) or 8)


def backend_cores(extra: dict) -> list[Core] | None:
    """The PEs a backend reports (SpiNNaker 2's emulator splits populations itself)."""
    stats = extra.get("pe_stats")
    if stats is None:
        return None
    return [Core(0, pe, ((population, int(start), int(stop)),))
            for pe, (population, (start, stop)) in enumerate(zip(stats.population, stats.neuron_range))]


def _energy_rows(e: CoreEnergy, c: int) -> dict[str, Any]:
    dynamic = {k: float(v[c]) for k, v in sorted(e.dynamic.items())}
    dyn = sum(dynamic.values())
    total = dyn + float(e.memory[c]) + float(e.static[c])
    return {"dynamic": dynamic, "dynamic_total": dyn, "memory": float(e.memory[c]), "static": float(e.static[c]),
            "total": total}


def _core_rows(a: Activity, e: CoreEnergy) -> list[dict[str, Any]]:
    rows = []
    step_mean = float(e.step_time.mean()) if e.step_time is not None else None
    for c, core in enumerate(a.cores):
        x, y = a.layout.position(core)
        row = {
            "core": core.key, "chip": core.chip, "index": core.index, "x": x, "y": y, "neurons": core.neurons,
            "populations": [{"name": n, "start": s, "stop": t} for n, s, t in core.members],
            "counts": {k: float(a.per_inference(k)[c]) for k in COUNTS},
            "energy_j": _energy_rows(e, c), "time_s": None, "utilisation": None,
        }
        if e.busy is not None:
            busy = e.busy[..., c]
            row["time_s"] = {"busy_per_step_mean": float(busy.mean()), "busy_per_step_max": float(busy.max())}
            row["utilisation"] = float(busy.mean()) / step_mean if step_mean else None
        for key, values in sorted(e.per_core.items()):
            row[key] = values[c]
        rows.append(row)
    return rows


def _add(into: dict, row: dict, share: float = 1.0) -> None:
    for key, value in row.items():
        if isinstance(value, dict):
            _add(into.setdefault(key, {}), value, share)
        else:
            into[key] = into.get(key, 0.0) + value * share


def _totals(rows: list[dict], e: CoreEnergy, steps: int) -> dict[str, Any]:
    sums: dict[str, Any] = {}
    for row in rows:
        _add(sums, {"counts": row["counts"], "energy_j": row["energy_j"]})
    energy = sums.get("energy_j", {"total": 0.0, "dynamic_total": 0.0})
    time_step = float(e.step_time.mean()) if e.step_time is not None else None
    return {
        **sums, "cores": len(rows),
        "energy_per_inference_j": energy["total"], "energy_per_step_j": energy["total"] / steps,
        "time_per_step_s": time_step, "latency_per_inference_s": e.runtime if e.step_time is not None else None,
        "dynamic_fraction": energy["dynamic_total"] / energy["total"] if energy["total"] else 0.0,
    }


def _layers(rows: list[dict]) -> list[dict]:
    layers: dict[str, dict] = {}
    for row in rows:
        for member in row["populations"]:
            share = (member["stop"] - member["start"]) / row["neurons"] if row["neurons"] else 0.0
            layer = layers.setdefault(member["name"], {"name": member["name"], "cores": 0})
            layer["cores"] += 1
            _add(layer, {"counts": row["counts"], "energy_j": row["energy_j"]}, share)
    return list(layers.values())


def _raster(spikes: dict[str, np.ndarray]) -> dict[str, Any]:
    populations, budget = {}, RASTER_EVENTS
    for name in sorted(spikes):
        sample = np.asarray(spikes[name])[0].reshape(np.asarray(spikes[name]).shape[1], -1)
        events = np.argwhere(sample != 0)[:budget]
        budget -= len(events)
        populations[name] = {"neurons": int(sample.shape[1]), "events": events.tolist()}
    return {"sample": 0, "populations": populations, "truncated": budget <= 0}


def _unverified(table: CostTable) -> list[str]:
    return [f"{k} ({c.confidence}): {c.source}" for k, c in sorted(table.constants.items()) if c.confidence == "estimate"]


def build_report(graph, target: str, capabilities, x: np.ndarray, result, table: CostTable, *,
                 input_source: str = "calibration", accuracy_bits: Any = None,
                 mapping: dict | None = None) -> dict[str, Any]:
    """The report for ``graph`` (lowered) run on ``x`` [B, T, ...] giving ``result`` (RunResult).
    ``mapping``: map-cores' mapping.json, whose core positions give the mesh hops."""
    x = np.asarray(x)
    weight_bits = getattr(capabilities, "weight_bits", None)
    state_bits = getattr(capabilities, "state_bits", None)
    cores = backend_cores(result.extra)
    layout = layout_of(table)
    if mapping and cores is None:  # a backend's own PE split has its own numbering
        layout = layout_from_mapping(mapping, layout)
    activity = count_activity(graph, x, result.spikes, weight_bits=weight_bits, state_bits=state_bits,
                              layout=layout, cores=cores)
    energy = evaluate(table, activity, graph, result.extra)
    rows = _core_rows(activity, energy)
    spiking = {n: node.size for n, node in graph.items_of(SpikingNeuron)}
    spikes = sum(float(np.asarray(s).sum()) for n, s in result.spikes.items() if n in spiking) / activity.samples
    bits = ann.network_weight_bits(graph, weight_bits)
    report = {
        "schema_version": SCHEMA_VERSION, "kind": "estimate", "snncc_version": __version__,
        "target": target, "backend": result.backend, "dt": graph.dt,
        "input": {"source": input_source, "samples": activity.samples, "steps": activity.steps,
                  "sha256": hashlib.sha256(np.ascontiguousarray(x, dtype=np.float64).tobytes()).hexdigest()},
        "cost_table": table.to_dict(),
        "cores": rows, "layers": _layers(rows), "totals": _totals(rows, energy, activity.steps),
        "neurobench": neurobench.metrics(activity, graph, spiking, spikes, weight_bits),
        "ann_comparison": ann.compare(load_table("ann45nm"), activity, graph, bits),
        "raster": _raster(result.spikes),
        "accuracy_bits": accuracy_bits,
        "caveats": [*activity.notes, *energy.notes,
                    *(f"estimate: {line}" for line in _unverified(table))],
    }
    validate_report(report)
    return report


def schema() -> dict:
    return json.loads(resources.files("snncc.energy").joinpath("report.schema.json").read_text())


def validate_report(report: dict, file: str | None = None) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(json.loads(json_text(report))), key=lambda e: list(e.path))
    if errors:
        raise SnnccError.single("SNN704", "energy report does not match report.schema.json: "
                                + "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5]), file=file)


def load_report(out_dir: str) -> dict:
    path = os.path.join(out_dir, "report.json")
    if not os.path.isfile(path):
        raise SnnccError.single("SNN703", "no energy report in this directory", file=out_dir,
                                hint="compile with --calibration DATA.npy, or run: snncc report OUT --input DATA.npy")
    try:
        with open(path) as handle:
            report = json.load(handle)
    except json.JSONDecodeError as exc:
        raise SnnccError.single("SNN704", f"report.json is not valid JSON: {exc}", file=path) from None
    validate_report(report, file=path)
    return report
