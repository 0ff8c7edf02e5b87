"""`snncc.compile`: load -> verify -> pipeline -> emit, atomically, with a manifest."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from . import __version__
from .analysis import resource_summary
from .artifacts import atomic_directory, write_json
from .diagnostics import Diagnostic, DiagnosticList, SnnccError
from .ir import Graph, SpikingNeuron, verify
from .ir.serialize import save_graph
from .loading import LoadOptions, load_model
from .passbase import Pass, PassContext
from .pipeline import PassManager, PassRecord, parse_pipeline, pipeline_spec
from .registry import TARGETS


@dataclass
class CompileResult:
    graph: Graph
    target: str
    pipeline: str
    records: list[PassRecord]
    notes: list[Diagnostic]
    manifest: dict[str, Any]
    out_dir: str | None = None
    artifacts: list[str] = field(default_factory=list)
    context: PassContext | None = None
    #: the energy report (OUT/report.json) when calibration data was given
    energy: dict[str, Any] | None = None


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _needs_dt(graph: Graph) -> bool:
    from snncc.frontends.nir_import import needs_dt

    return needs_dt(graph)


def check_target_features(graph: Graph, capabilities) -> list[Diagnostic]:
    """SNN400 for each IR feature the target's lowering would otherwise silently drop: a
    refractory period beyond ``capabilities.extra["refractory"]`` (True: any, int: the most
    steps, absent: none)."""
    limit = capabilities.extra.get("refractory", 0)
    problems = DiagnosticList()
    for name, node in graph.items_of(SpikingNeuron):
        if node.refractory and limit is not True and node.refractory > int(limit):
            have = f"at most {int(limit)} refractory step(s)" if limit else "no refractory period"
            problems.add("SNN400", f"refractory period of {node.refractory} step(s) (the membrane is held after a "
                                   f"spike); the {capabilities.name} target's neurons have {have}", node=name,
                         hint="compile for --target reference, or train with a reset the target has (for snnTorch "
                              "Synaptic/RLeaky: reset_delay=False or reset_mechanism='subtract')")
    return problems.items


def compile(  # noqa: A001 - the public verb
    model: str | Graph,
    target: str = "reference",
    *,
    pipeline: str | list[Pass] | None = None,
    out_dir: str | None = None,
    load_options: LoadOptions | None = None,
    calibration: np.ndarray | None = None,
    dump_dir: str | None = None,
    verify_each: bool = True,
    progress: Callable[[int, int, str], None] | None = None,
    energy_table: str | None = None,
) -> CompileResult:
    """Compile ``model`` (a file path or an IR graph) for ``target``; write ``out_dir`` if given."""
    load_options = load_options or LoadOptions()
    if isinstance(model, Graph):
        graph, notes, source = model, [], {"path": None, "sha256": None}
        if load_options.dt is not None:
            graph = graph.replace(dt=load_options.dt)
    else:
        imported = load_model(model, load_options)
        graph, notes = imported.graph, list(imported.notes)
        source = {"path": os.path.basename(model), "sha256": _sha256(model)}
    problems = DiagnosticList()
    problems.extend(verify(graph))
    if graph.dt is None and _needs_dt(graph):
        problems.add("SNN105", "the model has time constants but no time step dt", hint="pass --dt (seconds), e.g. --dt 1e-3")
    problems.raise_if_errors()
    tgt = TARGETS.get(target)
    unsupported = check_target_features(graph, tgt.capabilities)
    if unsupported:
        raise SnnccError(unsupported)
    if pipeline is None:
        pipeline = tgt.default_pipeline
    passes = parse_pipeline(pipeline) if isinstance(pipeline, str) else list(pipeline)
    context = PassContext(capabilities=tgt.capabilities, calibration=calibration)
    lowered, records = PassManager(passes, verify_each=verify_each, dump_dir=dump_dir, progress=progress).run(graph, context)
    notes += context.notes
    manifest = {
        "snncc_version": __version__,
        "input": source,
        "target": tgt.name,
        "pipeline": pipeline_spec(passes),
        "dt": lowered.dt,
        "passes": [
            {"name": r.name, "spec": r.spec, "modified": r.modified, "changes": r.changes} for r in records
        ],
        # wall-clock seconds per pass: the one field that differs between identical compiles
        "timings": {f"{i:02d}_{r.name}": round(r.seconds, 6) for i, r in enumerate(records)},
        "resources": resource_summary(lowered),
        "reports": context.reports,  # targets add theirs while emitting
        "notes": [n.render() for n in notes],
    }
    result = CompileResult(lowered, tgt.name, manifest["pipeline"], records, notes, manifest, context=context)
    if out_dir is not None:
        with atomic_directory(out_dir) as staging:
            # the lowered graph, for `snncc run OUT --backend reference` on every target
            save_graph(lowered, os.path.join(staging, "ir"))
            artifacts = ["ir/graph.json", "ir/graph.npz", *tgt.emit(lowered, staging, context)]
            if "mapping" in context.reports:  # the core map from map-cores (docs/mapping.md)
                write_json(os.path.join(staging, "mapping.json"), context.reports["mapping"])
                artifacts.append("mapping.json")
            manifest["artifacts"] = sorted(artifacts)
            if calibration is not None:  # per-core energy (issue #9) and compiled vs float model (issue #4)
                from .energy.hook import compile_report
                from .runtime.backend import Artifact
                from .runtime.fidelity import fidelity_summary

                artifact = Artifact(staging, manifest)
                # the energy run (more samples) serves the fidelity summary too when both use one backend
                result.energy, energy_notes, written, energy_run = compile_report(artifact, calibration, energy_table)
                manifest["artifacts"] = sorted(manifest["artifacts"] + written)
                fidelity, fidelity_notes = fidelity_summary(context.before_lossy or lowered, artifact, calibration,
                                                            context.reports, compiled=energy_run)
                if fidelity is not None:
                    manifest["fidelity"] = fidelity
                result.notes = result.notes + fidelity_notes + energy_notes
                manifest["notes"] += [n.render() for n in fidelity_notes + energy_notes]
            # the full core map is OUT/mapping.json; the manifest file keeps its summary
            reports = {k: (v["summary"] if k == "mapping" else v) for k, v in context.reports.items()}
            write_json(os.path.join(staging, "manifest.json"), {**manifest, "reports": reports})
        result.out_dir, result.artifacts = out_dir, manifest["artifacts"]
    return result
