"""The programmatic API, also reachable as ``snncc.compile``, ``snncc.run``, ``snncc.bench``.

    import snncc
    result = snncc.compile("model.pt", target="loihi2", out_dir="OUT", calibration=x[:64])
    ran = snncc.run("OUT", x, backend="golden")                # RunResult: spikes per layer, output
    report = snncc.bench("OUT", x, labels=y, backends=["reference", "golden", "lava"])
    assert report.passed, report.comparisons

A custom pipeline is a list of pass objects (``snncc.make_pass("quantize", weight_bits=6)``)
or pipeline text (``"fold-batchnorm,quantize{weight_bits=6}"``). See docs/api.md.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .compiler import CompileResult
from .compiler import compile as _compile
from .diagnostics import SnnccError
from .ir import Graph
from .loading import LoadOptions
from .passbase import Pass

__all__ = ["compile", "run", "bench", "load_artifact", "load_input", "make_pass", "input_shape_of"]


def compile(  # noqa: A001 - the public verb
    model: Any,
    target: str = "reference",
    *,
    pipeline: str | Sequence[Pass] | None = None,
    out_dir: str | None = None,
    calibration: np.ndarray | None = None,
    dt: float | None = None,
    input_shape: Sequence[int] | None = None,
    load_options: LoadOptions | None = None,
    **options: Any,
) -> CompileResult:
    """Compile ``model`` (a .nir/.pt/.onnx path, an IR :class:`Graph`, or a ``torch.nn.Module``)
    for ``target``. With ``out_dir`` the artifact is written there (atomically); with
    ``calibration`` ([B, T, *input_shape]) too, the manifest gets a fidelity summary.
    Other keyword options go to :func:`snncc.compiler.compile` (dump_dir, verify_each, progress)."""
    if load_options is None:
        load_options = LoadOptions(dt=dt, input_shape=tuple(input_shape) if input_shape else None, calibration=calibration)
    if not isinstance(model, (str, Graph)) and _is_module(model):
        model = _module_graph(model, load_options)
    if not isinstance(model, (str, Graph)):
        raise SnnccError.single("SNN108", f"cannot compile a {type(model).__name__}",
                                hint="pass a model file path, a snncc.ir.Graph or a torch.nn.Module")
    return _compile(str(model) if not isinstance(model, Graph) else model, target,
                    pipeline=list(pipeline) if pipeline is not None and not isinstance(pipeline, str) else pipeline,
                    out_dir=out_dir, load_options=load_options, calibration=calibration, **options)


def _is_module(model: Any) -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    return isinstance(model, torch.nn.Module)


def _module_graph(module: Any, options: LoadOptions) -> Graph:
    from .frontends.torch_layers import module_to_graph

    shape = options.input_shape or getattr(module, "input_shape", None)
    if shape is None:
        raise SnnccError.single("SNN114", "cannot tell the model's per-step input shape",
                                hint="pass input_shape=(C, H, W) or set an `input_shape` attribute on the model")
    dt = options.dt or getattr(module, "dt", None) or 1e-3
    was_training = module.training
    try:
        return module_to_graph(module.eval(), tuple(int(d) for d in shape), dt=float(dt))
    finally:
        module.train(was_training)


def load_artifact(path: str):
    """The compiled directory ``path`` (manifest, lowered graph, target folder)."""
    from .runtime.backend import load_artifact as load

    return load(path)


def input_shape_of(artifact) -> tuple[int, ...]:
    """The per-step input shape of an artifact's (single) Input node."""
    from .ir import Input

    graph = artifact.graph
    names = graph.inputs()
    if len(names) != 1:
        raise SnnccError.single("SNN603", f"the graph has {len(names)} inputs; run and bench take one")
    node = graph.nodes[names[0]]
    assert isinstance(node, Input)
    return tuple(int(d) for d in node.shape)


def load_input(path: str, artifact, **event_options: Any):
    """Read a dense array or event file as ``artifact``'s batched input (a LoadedInput).
    ``event_options``: time_unit, steps, mode, sensor (see snncc.runtime.inputs)."""
    from .runtime.inputs import EventOptions
    from .runtime.inputs import load_input as load

    artifact = load_artifact(artifact)
    return load(path, input_shape_of(artifact), artifact.manifest.get("dt"), EventOptions(**event_options))


def _batched(artifact, x: Any) -> np.ndarray:
    from .runtime.inputs import as_batch

    if isinstance(x, str):
        return load_input(x, artifact).x
    return as_batch(np.asarray(x), input_shape_of(artifact))[0]


def run(artifact, x: Any, backend: str = "reference", *, record_state: bool = False):
    """Run a compiled directory (path or Artifact) on ``x`` ([T, ...] or [B, T, ...] array,
    or an input file) with ``backend``; returns a :class:`snncc.runtime.backend.RunResult`."""
    from .runtime.backend import run as run_backend

    artifact = load_artifact(artifact)
    return run_backend(artifact, _batched(artifact, x), backend, record_state=record_state)


def bench(artifact, x: Any, backends: Sequence[str] | None = None, *, labels: Any = None,
          baseline: str | None = None, tolerance: float | None = None):
    """Run ``backends`` on the same input and compare them (a :class:`snncc.runtime.bench.BenchReport`)."""
    from .runtime.bench import bench as run_bench

    artifact = load_artifact(artifact)
    if isinstance(labels, str):
        labels = np.load(labels, allow_pickle=False)
    return run_bench(artifact, _batched(artifact, x), backends, labels=labels, baseline=baseline, tolerance=tolerance)


def make_pass(name: str, **options: Any) -> Pass:
    """A pass object by its pipeline name, e.g. ``make_pass("quantize", weight_bits=6)``."""
    import dataclasses

    from .registry import PASSES

    cls = PASSES.get(name)
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(options) - fields)
    if unknown:
        raise SnnccError.single("SNN304", f"pass '{name}' has no option(s) {', '.join(unknown)}",
                                hint=f"options: {', '.join(sorted(fields)) or 'none'}")
    return cls(**options)
