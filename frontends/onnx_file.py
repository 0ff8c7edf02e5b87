"""`.onnx` models: a trained ReLU ANN converted to an IF-neuron SNN (see onnx_ann.py)."""
from __future__ import annotations

from snncc.diagnostics import Diagnostic, Severity, SnnccError

from .nir_import import ImportResult


def load_with_options(path: str, options) -> ImportResult:
    from .onnx_ann import ann_to_snn
    from .onnx_model import load_model

    problems = []
    try:  # unsupported ops (load_model checks them) are reported whether or not calibration data was given
        model = load_model(path)
    except SnnccError as exc:
        problems += exc.diagnostics
    if options.calibration is None:
        problems.append(Diagnostic("SNN122", "converting an ANN needs calibration inputs to balance the thresholds",
                                   hint="pass --calibration X.npy with a few hundred typical inputs [N, *input_shape]"))
    if problems:
        raise SnnccError(problems)
    graph = ann_to_snn(model, options.calibration, dt=options.dt or 1e-3)  # read and shape-inferred once
    note = Diagnostic("SNN109", "ANN converted to IF neurons (reset by subtraction, >=); feed the analog input as a "
                      "constant current every step and read the integrator outputs divided by t",
                      severity=Severity.NOTE)
    return ImportResult(graph, [note])
