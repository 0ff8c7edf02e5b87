"""Activation statistics of the real ANN (onnxruntime) for threshold balancing.

The model is copied with every requested intermediate tensor (the ReLU outputs) added as a
graph output, run on the calibration data in chunks, and reduced to a robust maximum per
layer or per channel: the ``percentile`` of the *positive* activations (zeros are the ReLU's
dead half and would drag the percentile down; snn_toolbox does the same).
"""
from __future__ import annotations

import numpy as np

from snncc.diagnostics import SnnccError

from .onnx_model import OnnxModel


def run_with_intermediates(model: OnnxModel, x: np.ndarray, names: list[str], chunk: int = 256) -> dict[str, np.ndarray]:
    """The values of ``names`` (plus the graph outputs) for input ``x`` [N, *input_shape]."""
    import onnx
    import onnxruntime as ort

    proto = onnx.ModelProto()
    proto.CopyFrom(model.proto)
    known = {o.name for o in proto.graph.output}
    infos = {v.name: v for v in proto.graph.value_info}
    for name in names:
        if name not in known:
            proto.graph.output.append(infos.get(name) or onnx.helper.make_empty_tensor_value_info(name))
            known.add(name)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])
    input_name = model.inputs[0]
    batch_dim = next(i for i in proto.graph.input if i.name == input_name).type.tensor_type.shape.dim[0]
    fixed = batch_dim.HasField("dim_value") and batch_dim.dim_value > 0
    if fixed:
        chunk = batch_dim.dim_value  # exported with a fixed batch size: feed it that many at a time
    wanted = list(dict.fromkeys([*names, *model.outputs]))
    parts: dict[str, list[np.ndarray]] = {n: [] for n in wanted}
    x = np.asarray(x, dtype=np.float32)
    count = len(x)
    if fixed and len(x) % chunk:
        x = np.concatenate([x, np.repeat(x[:1], chunk - len(x) % chunk, axis=0)])  # pad, cut below
    for start in range(0, len(x), chunk):
        values = session.run(wanted, {input_name: x[start : start + chunk]})
        for name, value in zip(wanted, values):
            parts[name].append(value)
    return {n: np.concatenate(v)[:count] for n, v in parts.items()}


def robust_max(activations: np.ndarray, percentile: float, per_channel: bool) -> np.ndarray:
    """Percentile of the positive activations [N, C, ...]: a scalar, or one value per channel.

    Channels (or layers) that never fire get 1.0 so their weights are left unscaled.
    """
    if per_channel:
        channels = np.moveaxis(activations, 1, 0).reshape(activations.shape[1], -1)
        return np.array([robust_max(c[None], percentile, False) for c in channels])
    positive = activations[activations > 0]
    if positive.size == 0:
        return np.asarray(1.0)
    return np.asarray(float(np.percentile(positive.astype(np.float64), percentile)))


def check_calibration(model: OnnxModel, calibration: np.ndarray) -> np.ndarray:
    calibration = np.asarray(calibration, dtype=np.float32)
    expected = model.shapes.get(model.inputs[0])
    if calibration.ndim < 2 or (expected is not None and tuple(calibration.shape[1:]) != expected):
        raise SnnccError.single(
            "SNN122",
            f"calibration data has shape {calibration.shape}, the model input is [N, {', '.join(map(str, expected or ()))}]",
            hint="pass a batch of real inputs (N samples, without the time axis) as --calibration X.npy",
        )
    if len(calibration) == 0 or not np.all(np.isfinite(calibration)):
        raise SnnccError.single("SNN122", "calibration data is empty or has NaN/infinite values",
                                hint="use a few hundred finite training samples")
    return calibration
