"""The `snncc` command line.

Errors are printed as one line per diagnostic (code, file, node, message, hint) and
exit with status 2; a traceback only with --debug.
"""
from __future__ import annotations

import functools
import sys
from typing import Any, Callable

import click

from . import __version__
from .diagnostics import SnnccError

EXIT_USAGE = 2


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _handle_errors(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = click.get_current_context().find_root().params.get("debug", False)
        try:
            return fn(*args, **kwargs)
        except SnnccError as exc:
            if debug:
                raise
            for diagnostic in exc.diagnostics:
                click.echo(diagnostic.render(), err=True)
            sys.exit(EXIT_USAGE)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # noqa: BLE001 - last line of defence, reported not hidden
            if debug:
                raise
            click.echo(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for a traceback and report it)", err=True)
            sys.exit(1)

    return wrapper


def _load_options(dt, reset, comparator, arch=None, trust_pickle=False, calibration=None, input_shape=None):
    from .ir import Comparator, ResetMode
    from .loading import LoadOptions

    return LoadOptions(
        dt=dt,
        reset=ResetMode(reset) if reset else None,
        comparator=Comparator(comparator) if comparator else None,
        arch=arch,
        trust_pickle=trust_pickle,
        calibration=calibration,
        input_shape=tuple(int(d) for d in input_shape.split(",")) if input_shape else None,
    )


model_options = [
    click.option("--dt", type=float, default=None, help="Time step in seconds (when the model does not say)."),
    click.option("--reset", type=click.Choice(["value", "subtract", "none"]), default=None,
                 help="Reset mode when the model file cannot say it (NIR)."),
    click.option("--comparator", type=click.Choice([">", ">="]), default=None, help="Threshold comparison."),
    click.option("--arch", default=None, help="file.py:factory building the module for a state-dict .pt."),
    click.option("--trust-pickle", is_flag=True, help="Allow arbitrary classes in a .pt pickle (runs code from the file)."),
    click.option("--calibration", type=click.Path(dir_okay=False), default=None, help="Calibration inputs (.npy)."),
    click.option("--input-shape", default=None, help="Per-step input shape without batch, e.g. 1,8,8 (.pt models)."),
]


def with_model_options(fn):
    for option in reversed(model_options):
        fn = option(fn)
    return fn


def _calibration(path):
    if path is None:
        return None
    import numpy as np

    from .diagnostics import SnnccError as Err

    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise Err.single("SNN110", f"cannot read calibration array: {exc}", file=path, hint="save it with numpy.save") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(__version__, prog_name="snncc")
def main(debug: bool) -> None:
    """snncc: compile trained SNNs for Loihi 2, SpiNNaker 2 and FPGAs."""


@main.command("compile")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--target", "-t", default="reference", show_default=True, help="Target name (see `snncc targets`).")
@click.option("--output", "-o", "out", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option("--pipeline", "-p", default=None, help="Pass pipeline text (default: the target's).")
@click.option("--dump-dir", default=None, type=click.Path(file_okay=False), help="Dump the IR after every pass here.")
@click.option("--no-verify", is_flag=True, help="Skip verification between passes.")
@click.option("--energy-table", default=None, help="Energy cost table: a JSON file or a built-in name (docs/energy.md).")
@with_model_options
@_handle_errors
def compile_cmd(model, target, out, pipeline, dump_dir, no_verify, energy_table, dt, reset, comparator, arch, trust_pickle,
                calibration, input_shape):
    """Compile MODEL (.nir, .pt, .onnx) for a target into OUT (with --calibration: also OUT/report.json, .html)."""
    from .compiler import compile as compile_model
    from .energy.terminal import print_energy_report
    from .report_cli import print_compile_summary

    console = _console()
    options = _load_options(dt, reset, comparator, arch, trust_pickle, _calibration(calibration), input_shape)
    with console.status("compiling") as status:
        result = compile_model(
            model, target, pipeline=pipeline, out_dir=out, load_options=options,
            calibration=options.calibration, dump_dir=dump_dir, verify_each=not no_verify,
            progress=lambda i, n, name: status.update(f"pass {i}/{n}: {name}"), energy_table=energy_table,
        )
    print_compile_summary(console, result)
    if result.energy:
        print_energy_report(console, result.energy, out)


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--ir", "show_ir", is_flag=True, help="Print the full IR text.")
@with_model_options
@_handle_errors
def inspect(model, show_ir, dt, reset, comparator, arch, trust_pickle, calibration, input_shape):
    """Show MODEL's nodes: kind, shapes, parameters, neurons, synapses."""
    from .loading import load_model
    from .report_cli import print_inspect

    options = _load_options(dt, reset, comparator, arch, trust_pickle, _calibration(calibration), input_shape)
    imported = load_model(model, options)
    print_inspect(_console(), imported, show_ir)


@main.command()
@_handle_errors
def passes():
    """List the available passes and their options."""
    from rich.table import Table

    from .registry import PASSES

    table = Table(title="passes")
    for column in ("name", "options", "summary"):
        table.add_column(column)
    for name in PASSES.names():
        cls = PASSES.get(name)
        import dataclasses

        options = ", ".join(f"{f.name}={f.default!r}" for f in dataclasses.fields(cls))
        doc = cls.__doc__ or ""
        if doc.startswith(f"{cls.__name__}("):  # dataclass's generated signature, not prose
            doc = sys.modules[cls.__module__].__doc__ or ""
        table.add_row(name, options, doc.strip().splitlines()[0] if doc.strip() else "")
    _console().print(table)


@main.command()
@_handle_errors
def targets():
    """List the available targets and their capabilities."""
    from rich.table import Table

    from .registry import TARGETS

    table = Table(title="targets")
    for column in ("name", "default pipeline", "neurons/core", "weight bits", "thresholds", "description"):
        table.add_column(column)
    for name in TARGETS.names():
        t = TARGETS.get(name)
        caps = t.capabilities
        table.add_row(name, t.default_pipeline, str(caps.neurons_per_core or "-"), str(caps.weight_bits or "float"),
                      caps.threshold_granularity, t.description)
    _console().print(table)


# ----------------------------------------------------------------------------- run / bench

input_options = [
    click.option("--input", "-i", "input_path", required=True, type=click.Path(dir_okay=False),
                 help="Input: .npy/.npz array [T, ...] or [B, T, ...], or events (x, y, polarity, t) as .npz/.npy/.csv."),
    click.option("--time-unit", type=click.Choice(["s", "ms", "us"]), default="us", show_default=True,
                 help="Unit of event timestamps."),
    click.option("--steps", type=int, default=None, help="Time steps for events (default: up to the last event)."),
    click.option("--event-mode", type=click.Choice(["binary", "count"]), default="binary", show_default=True,
                 help="Several events in one step: one spike, or their count."),
    click.option("--sensor", default=None, help="Sensor W,H for events into a flat input."),
    click.option("--limit", type=int, default=None, help="Use only the first N samples."),
]


def with_input_options(fn):
    for option in reversed(input_options):
        fn = option(fn)
    return fn


def _read_input(artifact, path, time_unit, steps, event_mode, sensor, limit):
    from .api import load_input

    size = tuple(int(d) for d in sensor.split(",")) if sensor else None
    loaded = load_input(path, artifact, time_unit=time_unit, steps=steps, mode=event_mode, sensor=size)
    for note in loaded.notes:
        click.echo(f"note: {note}", err=True)
    return loaded.x[:limit] if limit else loaded.x, loaded


def _save_npy(path: str, array) -> None:
    """np.save through a temporary sibling, so a failed run leaves no half-written file."""
    import os

    import numpy as np

    partial = f"{path}.partial"
    with open(partial, "wb") as handle:
        np.save(handle, array)
    os.replace(partial, path)


@main.command("run")
@click.argument("artifact", type=click.Path(file_okay=False))
@with_input_options
@click.option("--backend", "-b", default="reference", show_default=True, help="Backend (see the target's list).")
@click.option("--output", "-o", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Write the graph output [B, T, n] (spikes) here as .npy.")
@click.option("--record-state", is_flag=True, help="Also write per-layer spikes and states (model units) to OUTPUT.state.npz.")
@_handle_errors
def run_cmd(artifact, input_path, time_unit, steps, event_mode, sensor, limit, backend, out_path, record_state):
    """Run a compiled ARTIFACT directory on an input with one backend."""
    from .api import load_artifact
    from .runtime.backend import run
    from .runtime_cli import print_run

    art = load_artifact(artifact)
    x, loaded = _read_input(art, input_path, time_unit, steps, event_mode, sensor, limit)
    result = run(art, x, backend, record_state=record_state)
    print_run(_console(), art, result, *x.shape[:2])
    if out_path:
        output = result.output if loaded.batched else result.output[0]
        _save_npy(out_path, output)
        if record_state:
            from .artifacts import write_npz

            arrays = {f"{layer}.spikes": s for layer, s in result.spikes.items()}
            for layer, states in result.states.items():
                scale = float(result.state_scale.get(layer, 1.0))
                arrays.update({f"{layer}.{name}": value.astype("float64") * scale for name, value in states.items()})
            write_npz(out_path[:-4] + ".state.npz" if out_path.endswith(".npy") else out_path + ".state.npz", arrays)
        click.echo(f"wrote {out_path}")


@main.command("bench")
@click.argument("artifact", type=click.Path(file_okay=False))
@with_input_options
@click.option("--labels", type=click.Path(dir_okay=False), default=None, help="Integer labels [B] (.npy) for accuracy.")
@click.option("--backends", default=None, help="Comma-separated backends (default: all of the target's).")
@click.option("--baseline", default=None, help="Backend the others are compared with (default: golden, else the first).")
@click.option("--tolerance", type=float, default=None,
              help="Minimum per-layer spike agreement for every pair (default: exact between integer backends).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None, help="Write the report as JSON.")
@_handle_errors
def bench_cmd(artifact, input_path, time_unit, steps, event_mode, sensor, limit, labels, backends, baseline, tolerance, json_path):
    """Run several backends on the same input; compare spikes layer by layer (exit 1 on disagreement)."""
    from .api import load_artifact
    from .artifacts import write_json
    from .runtime.bench import bench
    from .runtime_cli import print_bench

    art = load_artifact(artifact)
    x, _ = _read_input(art, input_path, time_unit, steps, event_mode, sensor, limit)
    y = _labels(labels, limit)
    report = bench(art, x, [b.strip() for b in backends.split(",") if b.strip()] if backends else None,
                   labels=y, baseline=baseline, tolerance=tolerance)
    print_bench(_console(), report)
    if json_path:
        write_json(json_path, report.to_dict())
    if not report.passed:
        sys.exit(1)


def _labels(path, limit):
    if path is None:
        return None
    import numpy as np

    try:
        labels = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise SnnccError.single("SNN604", f"cannot read labels: {exc}", file=path, hint="save them with numpy.save") from None
    return labels[:limit] if limit else labels


@main.command("report")
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--input", "-i", "input_path", default=None, type=click.Path(dir_okay=False),
              help="Recompute on this input (.npy/.npz [B, T, ...] or events) instead of re-rendering OUT/report.json.")
@click.option("--energy-table", default=None, help="Energy cost table: a JSON file or a built-in name (needs --input).")
@click.option("--accuracy-bits", default=None, type=click.Path(dir_okay=False, exists=True),
              help="Accuracy per weight bit width (default: benchmarks/results/accuracy_bits.json).")
@_handle_errors
def report_cmd(out, input_path, energy_table, accuracy_bits):
    """Show OUT's energy report and re-render OUT/report.html; with --input, recompute it."""
    from .energy import energy_report, find_accuracy_bits, load_report, table_for_target, write_report
    from .energy.terminal import print_energy_report
    from .runtime.backend import load_artifact

    if input_path is None:
        if energy_table:
            raise SnnccError.single("SNN705", "a new cost table needs the input again", hint="add --input DATA.npy")
        report = load_report(out)
        if accuracy_bits:
            report["accuracy_bits"] = find_accuracy_bits(accuracy_bits)
    else:
        art = load_artifact(out)
        x, _ = _read_input(art, input_path, "us", None, "binary", None, None)
        report = energy_report(art, x, table=table_for_target(art.target_name, energy_table),
                               input_source=input_path.rsplit("/", 1)[-1], accuracy_bits=find_accuracy_bits(accuracy_bits))
    write_report(out, report)
    print_energy_report(_console(), report, out)


if __name__ == "__main__":
    main()
