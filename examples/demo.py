"""`make demo`: train (or reuse) the spiking digits model, compile it for every registered
target with calibration data, run every backend of each target on the held-out digits,
compare them spike by spike, and print the per-core energy report.

    .venv/bin/python examples/demo.py [--work examples/digits/artifacts] [--out out]

The vendor simulators are slow (Lava's CPU model, iverilog), so they run on a few
samples; snncc's own backends run the whole test set.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from rich.console import Console

import snncc
from snncc.registry import TARGETS
from snncc.report_cli import print_compile_summary
from snncc.runtime.backend import backends_of
from snncc.runtime_cli import print_bench

HERE = Path(__file__).resolve().parent
#: samples for backends that run a vendor simulator (everything else runs all test digits)
SLOW_BACKENDS = {"lava": 8, "rtl": 2, "hw": 8}
CALIBRATION_SAMPLES = 64


def ensure_model(work: Path, console: Console) -> dict:
    meta_path = work / "meta.json"
    if not meta_path.exists():
        console.print(f"[bold]training[/bold] the spiking digits model (snncc.nn, MPBN-LIF) into {work}")
        subprocess.run([sys.executable, str(HERE / "digits" / "train.py"), "--out", str(work)], check=True)
    else:
        console.print(f"reusing the trained model in {work} (delete it to retrain)")
    return json.loads(meta_path.read_text())


def demo_target(target: str, work: Path, out: Path, x: np.ndarray, y: np.ndarray, console: Console) -> dict:
    console.rule(f"snncc compile model.pt --target {target} --calibration ... -o {out}")
    start = time.perf_counter()
    result = snncc.compile(str(work / "model.pt"), target, out_dir=str(out), calibration=x[:CALIBRATION_SAMPLES])
    print_compile_summary(console, result)
    console.print(f"compiled in {time.perf_counter() - start:.1f} s; report: {out / 'report.html'}")
    backends = list(backends_of(snncc.load_artifact(str(out))))
    fast = [b for b in backends if b not in SLOW_BACKENDS]
    summary = {"backends": {}}
    console.print(f"[bold]snncc bench {out} --backends {','.join(fast)}[/bold] on {len(y)} test digits")
    report = snncc.bench(str(out), x, fast, labels=y)
    print_bench(console, report)
    summary["passed"] = report.passed
    summary["backends"].update({s.backend: s.accuracy for s in report.summaries})
    slow = [b for b in backends if b in SLOW_BACKENDS]
    for backend in slow:
        n = SLOW_BACKENDS[backend]
        baseline = "golden" if "golden" in backends else fast[-1]
        console.print(f"[bold]snncc bench {out} --backends {baseline},{backend}[/bold] on {n} digits (vendor simulator)")
        report = snncc.bench(str(out), x[:n], [baseline, backend], labels=y[:n])
        print_bench(console, report)
        summary["passed"] = summary["passed"] and report.passed
    return summary


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
    results, failed = {}, False
    for target in TARGETS.names():
        try:
            results[target] = demo_target(target, args.work, args.out / f"digits-{target}", x, y, console)
        except snncc.diagnostics.SnnccError as exc:
            console.print(f"[red]{exc}[/red]")
            failed = True
            continue
        failed |= not results[target]["passed"]
    console.rule("summary: test accuracy per target and backend")
    for target, summary in results.items():
        accuracies = ", ".join(f"{b} {a:.3f}" for b, a in summary["backends"].items() if a is not None)
        verdict = "[green]backends agree[/green]" if summary["passed"] else "[red]backends disagree[/red]"
        console.print(f"{target:<11} {accuracies}  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
