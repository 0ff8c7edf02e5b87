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
@with_model_options
@_handle_errors
def compile_cmd(model, target, out, pipeline, dump_dir, no_verify, dt, reset, comparator, arch, trust_pickle, calibration, input_shape):
    """Compile MODEL (.nir, .pt, .onnx) for a target into OUT."""
    from .compiler import compile as compile_model
    from .report_cli import print_compile_summary

    console = _console()
    options = _load_options(dt, reset, comparator, arch, trust_pickle, _calibration(calibration), input_shape)
    with console.status("compiling") as status:
        result = compile_model(
            model, target, pipeline=pipeline, out_dir=out, load_options=options,
            calibration=options.calibration, dump_dir=dump_dir, verify_each=not no_verify,
            progress=lambda i, n, name: status.update(f"pass {i}/{n}: {name}"),
        )
    print_compile_summary(console, result)


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


if __name__ == "__main__":
    main()
