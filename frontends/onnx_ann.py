"""ANN -> SNN conversion of a trained ReLU network read from ONNX.

``ann_to_snn(model, calibration)`` returns an IR graph whose rate-coded output approximates
the ANN's output. The conversion (Rueckauer et al. 2017, "data-based normalisation"):

- **Neurons.** Every ReLU becomes a layer of ``IF`` neurons: r = 1, v_reset = 0, reset by
  SUBTRACTion, threshold 1, comparator GE. With GE and subtraction an IF neuron that starts at
  v = 0 and receives a constant current ``x`` in [0, 1] has fired exactly ``floor(t * x)``
  times after t steps (GT would give ``ceil(t * x) - 1``, one spike late at every integer), so
  its rate is the ReLU output clipped to [0, 1] with a truncation error below 1/t.
- **Threshold balancing.** lambda_l = ``percentile`` of the positive ReLU outputs of layer l on
  the calibration data (per layer, or per channel/feature with ``per_channel``), computed by
  onnxruntime on the real model. Weights and biases are rescaled layer by layer,
  ``W_l <- W_l * lambda_{l-1} / lambda_l`` and ``b_l <- b_l / lambda_l``, so that all thresholds
  are 1 and a spike of layer l stands for the activation lambda_l. Activations above lambda_l
  saturate at one spike per step, which is why a robust percentile beats the maximum.
- **Biases** stay on the synapse node (Affine / Conv bias), which adds them every step: a
  constant per-step current.
- **BatchNormalization** after Conv/Gemm is folded exactly (``a = gamma / sqrt(var + eps)``,
  ``W <- a W``, ``b <- a (b - mean) + beta``); elsewhere it becomes an IR ``BatchNorm`` node.
- **Input encoding:** constant current: the analog input is fed unchanged at every step
  (:func:`encode_constant`).
- **Readout:** every ANN output feeds an ``I`` integrator (r = 1, non-spiking) in the ANN's
  own units, so ``v(t) / t`` approximates the ANN output (:func:`rate_readout`).

Shapes are NCHW without the batch axis. Ops outside :data:`SUPPORTED_OPS` raise SNN120,
unsupported attribute values SNN121, bad calibration data SNN122.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from snncc.diagnostics import SnnccError
from snncc.ir import Graph

from .onnx_calibrate import check_calibration, robust_max, run_with_intermediates
from .onnx_convert import Builder
from .onnx_model import SUPPORTED_OPS, load_model

__all__ = ["SUPPORTED_OPS", "ann_to_snn", "encode_constant", "rate_readout"]


def ann_to_snn(
    onnx_path_or_model: str | Path | Any,
    calibration: np.ndarray,
    *,
    percentile: float = 99.9,
    per_channel: bool = False,
    dt: float = 1e-3,
) -> Graph:
    """Convert a trained ReLU ANN (ONNX file, ModelProto or loaded OnnxModel) into an IF-neuron SNN graph.

    ``calibration`` is a batch of ANN inputs [N, *input_shape]; thresholds are balanced on
    its ``percentile`` of positive ReLU outputs, per layer or ``per_channel``.
    """
    model = load_model(onnx_path_or_model)
    if len(model.inputs) != 1:
        raise SnnccError.single("SNN121", f"the ANN has {len(model.inputs)} inputs, expected 1",
                                hint="export a model with a single input tensor")
    calibration = check_calibration(model, calibration)
    relus = [n.output[0] for n in model.nodes if n.op_type == "Relu"]
    activations = run_with_intermediates(model, calibration, relus)
    lambdas = {name: robust_max(activations[name], percentile, per_channel) for name in relus}
    builder = Builder(model, lambdas)
    shape = model.shapes[model.inputs[0]]
    builder.add_input(model.inputs[0], shape)
    for index, node in enumerate(model.nodes):
        builder.convert(node, index)
    metadata = {
        "frontend": "onnx-ann",
        "encoding": "constant-current",
        "readout": "integrator: output v(t) / t approximates the ANN output",
        "percentile": float(percentile),
        "per_channel": bool(per_channel),
        "activation_scales": {k: np.atleast_1d(v).tolist() for k, v in lambdas.items()},
    }
    return builder.finish(dt, metadata)


def encode_constant(x: np.ndarray, steps: int) -> np.ndarray:
    """Constant-current encoding: [B, *shape] -> [B, steps, *shape], the input repeated each step."""
    x = np.asarray(x)
    return np.repeat(x[:, None], steps, axis=1)


def rate_readout(output: Any) -> np.ndarray:
    """Per-step estimate of the ANN output from the integrator output [B, T, ...]: v(t) / t."""
    output = np.asarray(output, dtype=np.float64)
    steps = np.arange(1, output.shape[1] + 1).reshape(1, -1, *([1] * (output.ndim - 2)))
    return output / steps
