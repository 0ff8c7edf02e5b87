"""`.onnx` models: a trained ReLU ANN converted to an IF-neuron SNN (see onnx_ann.py)."""
from __future__ import annotations

from snncc.diagnostics import Diagnostic, Severity, SnnccError

from .nir_import import ImportResult


def load_with_options(path: str, options) -> ImportResult:
    from .onnx_ann import ann_to_snn

    if options.calibration is None:
        raise SnnccError.single("SNN122", "converting an ANN needs calibration inputs to balance the thresholds",
                                hint="pass --calibration X.npy with a few hundred typical inputs [N, *input_shape]")
    graph = ann_to_snn(path, options.calibration, dt=options.dt or 1e-3)
    note = Diagnostic("SNN109", "ANN converted to IF neurons (reset by subtraction, >=); feed the analog input as a "
                      "constant current every step and read the integrator outputs divided by t",
                      severity=Severity.NOTE)
    return ImportResult(graph, [note])
