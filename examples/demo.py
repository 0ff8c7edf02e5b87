"""`make demo`: train (or reuse) the spiking digits model, compile it for every
registered target, run the compiled graph on the held-out digits and print a summary.

    .venv/bin/python examples/demo.py [--work examples/digits/artifacts]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
from rich.console import Console

import snncc
from snncc.compiler import compile as compile_model
from snncc.registry import TARGETS
from snncc.report_cli import print_compile_summary
from snncc.runtime import simulate

HERE = Path(__file__).resolve().parent


def ensure_model(work: Path, console: Console) -> dict:
    meta_path = work / "meta.json"
    if not meta_path.exists():
        console.print(f"[bold]training[/bold] the spiking digits model (snncc.nn, MPBN-LIF) into {work}")
        subprocess.run([sys.executable, str(HERE / "digits" / "train.py"), "--out", str(work)], check=True)
    else:
        console.print(f"reusing the trained model in {work} (delete it to retrain)")
    return json.loads(meta_path.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=HERE / "digits" / "artifacts")
    parser.add_argument("--out", type=Path, default=Path("out"))
    args = parser.parse_args(argv)
    console = Console(highlight=False)
    torch.set_num_threads(2)
    meta = ensure_model(args.work, console)
    x = np.load(args.work / "test_x.npy")
    y = np.load(args.work / "test_y.npy")
    console.print(f"trained float accuracy (snncc.nn, T={meta['T']}): {meta['accuracy']:.3f}")
    for target in TARGETS.names():
        out = args.out / f"digits-{target}"
        console.rule(f"snncc compile model.pt --target {target} -o {out}")
        try:
            result = compile_model(str(args.work / "model.pt"), target, out_dir=str(out))
        except snncc.diagnostics.SnnccError as exc:
            console.print(f"[red]{exc}[/red]")
            continue
        print_compile_summary(console, result)
        spikes = simulate(result.graph, torch.from_numpy(x)).output.sum(1)
        accuracy = float((spikes.argmax(1).numpy() == y).mean())
        console.print(f"reference simulation of the compiled graph: accuracy {accuracy:.3f} on {len(y)} test digits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
