"""Convert the trained digits ANN to an SNN and compare them over the number of time steps.

    .venv/bin/python examples/ann_to_snn/train_ann.py build/ann_to_snn
    .venv/bin/python examples/ann_to_snn/convert.py build/ann_to_snn [--per-channel] [--nir-paper] \
        [--step-onnx build/ann_to_snn/digits_snn_step.onnx]

Prints ANN accuracy (onnxruntime), SNN accuracy, ANN/SNN classification agreement and the mean
absolute error of the rate-coded output for T = 8 ... 128. ``--nir-paper`` also converts the
NIR paper's N-MNIST ANN (rebuilt from its weights) on synthetic event frames.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

sys.path.insert(0, str(Path(__file__).parent))

from snncc.frontends.onnx_ann import ann_to_snn, encode_constant, rate_readout  # noqa: E402
from snncc.runtime import simulate  # noqa: E402

STEPS = (8, 16, 32, 64, 128)


def compare(onnx_path: Path, calibration: np.ndarray, x: np.ndarray, y: np.ndarray | None, per_channel: bool):
    graph = ann_to_snn(onnx_path, calibration, per_channel=per_channel)
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    ann = session.run(None, {session.get_inputs()[0].name: x.astype(np.float32)})[0]
    estimate = rate_readout(simulate(graph, encode_constant(x, max(STEPS)), dtype=torch.float32).output.numpy())
    ann_acc = f"{(ann.argmax(1) == y).mean():.4f}" if y is not None else "-"
    print(f"{onnx_path.name}: {len(x)} samples, ANN accuracy {ann_acc}, per_channel={per_channel}")
    print("     T  SNN acc  agreement  mean |SNN - ANN|")
    for steps in STEPS:
        out = estimate[:, steps - 1]
        acc = f"{(out.argmax(1) == y).mean():.4f}" if y is not None else "     -"
        print(f"{steps:6d}  {acc}  {(out.argmax(1) == ann.argmax(1)).mean():9.4f}  {np.abs(out - ann).mean():16.4f}")
    return graph


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", default="build/ann_to_snn")
    parser.add_argument("--per-channel", action="store_true")
    parser.add_argument("--nir-paper", action="store_true")
    parser.add_argument("--step-onnx", type=Path, help="also write one SNN time step as ONNX (explicit state)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    folder = Path(args.folder)
    graph = compare(folder / "digits_cnn.onnx", np.load(folder / "calibration.npy"), np.load(folder / "x_test.npy"),
            np.load(folder / "y_test.npy"), args.per_channel)
    if args.step_onnx:
        from snncc.runtime.onnx_export import export_step_onnx

        export_step_onnx(graph, args.step_onnx)
        print(f"wrote {args.step_onnx} (step it with snncc.runtime.onnx_export.run_step_model)")
    if args.nir_paper:
        import nir_paper_ann

        path = nir_paper_ann.export(folder)
        calibration, _ = nir_paper_ann.event_frames(300, seed=1)
        frames, _ = nir_paper_ann.event_frames(200, seed=2)
        compare(path, calibration, frames, None, args.per_channel)


if __name__ == "__main__":
    main()
