"""SpiNNaker 2 target: plain-data netlist, validation against chip limits, emission of a
py-spinnaker2 runner, and a PE-level emulator (see /work/shared/reference/spinnaker2.md).

Typical use::

    spec = NetSpec(...)                       # lowered from the IR
    emit(spec, "OUT")                         # validates, writes OUT/spinnaker2/
    result = run_emitted("OUT", {"input": spikes})   # [B, T, n] per population
    result.pe.table()                         # per-PE packets, events, time per step

The compiler target is ``TARGET`` (target.py): ``lower.lower(graph)`` turns the canonical
integer IR into a NetSpec, ``emit`` writes it, backend ``spinnaker2-emu`` (backends.py)
runs the emulator on a compiled directory.
"""
from pathlib import Path
from typing import Mapping

import numpy as np

from .emit import emit, load, validate_netlist_json
from .emulator import EmulatorResult, run
from .limits import SpiNNaker2Limits
from .netspec import (
    Conv2DParams,
    NetSpec,
    NeuronParams,
    Population,
    Projection,
    RunOptions,
)
from .nir_import import dense_projection_from_nir, lif_population_from_nir, nir_weight_scale
from .pe_model import CycleCosts, PEStats
from .target import TARGET
from .validate import Violation, check, find_violations, validate


def run_emitted(out: str | Path, inputs: Mapping[str, np.ndarray], **kwargs) -> EmulatorResult:
    """Emulate an emitted ``OUT/spinnaker2/`` folder (the ``spinnaker2-emu`` backend)."""
    return run(load(out), inputs, **kwargs)


__all__ = [
    "Conv2DParams", "CycleCosts", "EmulatorResult", "NetSpec", "NeuronParams", "PEStats",
    "Population", "Projection", "RunOptions", "SpiNNaker2Limits", "TARGET", "Violation", "check",
    "dense_projection_from_nir", "emit", "find_violations", "lif_population_from_nir", "load",
    "nir_weight_scale", "run", "run_emitted", "validate", "validate_netlist_json",
]
