"""Test accuracy of the trained digits model on each hardware target across weight bit widths.

For every registered hardware target (loihi2, spinnaker2, fpga: those in
``snncc.registry.TARGETS``; the others are skipped) and every width B the digits model
(examples/digits/train.py, default settings, seeded) is compiled with the target's default
pipeline with ``quantize{weight_bits=B}`` in place of ``quantize`` and 64 calibration samples,
then the 450 test samples run on the target's ``golden`` backend (the bit-exact integer model)
when it has one, else on its own first backend (SpiNNaker 2's PE emulator), else on the
reference simulator of the compiled artifact (the float model of the integer network). A compile the target rejects is a row with its diagnostic codes.
Rows also carry quantize's per-layer spike agreement (float vs quantized, calibration data)
and, when the compile produced one, the energy estimate (each target's own cost table).

Run: ``.venv/bin/python -m benchmarks.accuracy_bits [--bits 2 3 4 5 6 7 8] [--targets ...] [--model DIR]``
Writes benchmarks/results/accuracy_bits.json and accuracy_bits.png.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks._digits import train_digits
from snncc.diagnostics import SnnccError

RESULTS = Path(__file__).resolve().parent / "results"
HARDWARE = ("loihi2", "spinnaker2", "fpga")
CALIBRATION = 64


def pipeline_with_bits(default: str, bits: int) -> str:
    items = default.split(",")
    if "quantize" not in items:
        raise ValueError(f"default pipeline has no quantize: {default}")
    return ",".join(f"quantize{{weight_bits={bits}}}" if item == "quantize" else item for item in items)


def measure(model_dir: Path, target: str, bits: int, work: Path) -> dict:
    from snncc.compiler import compile as compile_model
    from snncc.registry import TARGETS
    from snncc.runtime.backend import backends_of, load_artifact, run

    x, y = np.load(model_dir / "test_x.npy"), np.load(model_dir / "test_y.npy")
    row: dict = {"target": target, "weight_bits": bits}
    pipeline = pipeline_with_bits(TARGETS.get(target).default_pipeline, bits)
    out = work / f"{target}-{bits}"
    start = time.perf_counter()
    try:
        result = compile_model(str(model_dir / "model.pt"), target, pipeline=pipeline, out_dir=str(out),
                               calibration=x[:CALIBRATION])
    except SnnccError as error:
        row.update(accuracy=None, error=sorted({d.code for d in error.diagnostics}),
                   message=error.diagnostics[0].render()[:400], seconds=round(time.perf_counter() - start, 2))
        return row
    artifact = load_artifact(str(out))
    own = [b for b in backends_of(artifact) if b != "reference"]
    backend = "golden" if "golden" in own else (own[0] if own else "reference")
    output = run(artifact, x, backend).output
    row.update(accuracy=float((output.sum(1).argmax(1) == y).mean()), backend=backend, pipeline=pipeline)
    layers = result.manifest["reports"].get("quantize", {}).get("layers", {})
    row["spike_agreement"] = {k: v["spike_agreement"]["agreement"] for k, v in layers.items() if "spike_agreement" in v}
    row["cannot_fire"] = {k: v["cannot_fire"] for k, v in layers.items() if "cannot_fire" in v}
    row["rounded_to_zero"] = {p: q["rounded_to_zero"] for v in layers.values() for p, q in v["projections"].items()}
    energy = result.energy or {}
    totals = energy.get("totals") or {}
    if "energy_per_inference_j" in totals:
        row["energy_per_inference_j"] = totals["energy_per_inference_j"]
        row["cost_table"] = (energy.get("cost_table") or {}).get("id")
    row["seconds"] = round(time.perf_counter() - start, 2)
    return row


def plot(rows: list[dict], float_accuracy: float | None, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for target in sorted({r["target"] for r in rows}):
        mine = sorted((r for r in rows if r["target"] == target and r["accuracy"] is not None), key=lambda r: r["weight_bits"])
        failed = [r["weight_bits"] for r in rows if r["target"] == target and r["accuracy"] is None]
        label = target + (f" (no compile at {', '.join(map(str, failed))} bits)" if failed else "")
        ax.plot([r["weight_bits"] for r in mine], [r["accuracy"] for r in mine], "o-", label=label)
    if float_accuracy is not None:
        ax.axhline(float_accuracy, color="gray", linestyle="--", label="float model")
    ax.set_xlabel("weight bits")
    ax.set_ylabel("digits test accuracy")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120, metadata={"Software": None})
    plt.close(fig)


def main() -> None:
    from snncc.registry import TARGETS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bits", type=int, nargs="+", default=list(range(2, 9)))
    parser.add_argument("--targets", nargs="+", default=list(HARDWARE))
    parser.add_argument("--model", type=Path, default=None, help="a trained digits directory (default: train one)")
    args = parser.parse_args()
    registered = TARGETS.names()
    targets = [t for t in args.targets if t in registered]
    skipped = [t for t in args.targets if t not in registered]
    with tempfile.TemporaryDirectory(prefix="snncc-bits-") as scratch:
        work = Path(scratch)
        model_dir = args.model or train_digits(work / "digits", threads=torch.get_num_threads())
        meta = json.loads((model_dir / "meta.json").read_text())
        rows = []
        for target in targets:
            for bits in args.bits:
                row = measure(model_dir, target, bits, work)
                rows.append(row)
                shown = f"accuracy {row['accuracy']:.4f} ({row['backend']})" if row["accuracy"] is not None \
                    else f"not compiled: {', '.join(row['error'])}"
                print(f"{target:11s} {bits} bit: {shown} ({row['seconds']} s)", flush=True)
    RESULTS.mkdir(exist_ok=True)
    summary = {"description": __doc__.splitlines()[0], "model": "examples/digits (default training)",
               "float_accuracy": meta.get("accuracy"), "test_samples": int(meta.get("n_test", 0)),
               "calibration_samples": CALIBRATION, "skipped_targets": skipped,
               "note": "energies are estimates from each target's own cost table; do not compare them across targets",
               "rows": rows}
    (RESULTS / "accuracy_bits.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    plot(rows, meta.get("accuracy"), RESULTS / "accuracy_bits.png")
    print(f"wrote {RESULTS / 'accuracy_bits.json'}")


if __name__ == "__main__":
    main()
