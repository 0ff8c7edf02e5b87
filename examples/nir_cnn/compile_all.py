"""The NIR paper's spiking CNN (02_cnn/cnn_sinabs.nir, N-MNIST-sized input 2x34x34) compiled
for every registered target and run on each target's backends against the float reference.

    .venv/bin/python examples/nir_cnn/compile_all.py [--nir PATH] [--out out/nir-cnn] [--samples 4] [--steps 20]

Input: random spikes (10 % per pixel and step); no dataset is downloaded. Vendor simulators
(Lava, iverilog) are skipped here: they take minutes on a network of this size.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from rich.console import Console

import snncc
from snncc.registry import TARGETS
from snncc.runtime.backend import backends_of
from snncc.runtime_cli import print_bench

DEFAULT_NIR = Path(__file__).resolve().parents[2].parent / "shared" / "nir-paper" / "02_cnn" / "cnn_sinabs.nir"
SKIP = {"lava", "rtl", "hw"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nir", type=Path, default=DEFAULT_NIR)
    parser.add_argument("--out", type=Path, default=Path("out") / "nir-cnn")
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args(argv)
    console = Console(highlight=False)
    x = (np.random.default_rng(0).random((args.samples, args.steps, 2, 34, 34)) < 0.1).astype(np.float32)
    ok = True
    for target in TARGETS.names():
        out = args.out / target
        console.rule(f"snncc compile {args.nir.name} --target {target} --dt 1e-3 -o {out}")
        try:
            snncc.compile(str(args.nir), target, out_dir=str(out), dt=1e-3)
        except snncc.diagnostics.SnnccError as exc:
            console.print(f"[red]{exc}[/red]")
            ok = False
            continue
        backends = [b for b in backends_of(snncc.load_artifact(str(out))) if b not in SKIP]
        report = snncc.bench(str(out), x, backends)
        print_bench(console, report)
        ok &= report.passed
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
