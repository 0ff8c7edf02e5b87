"""SpiNNaker 2 target: plain-data netlist, validation against chip limits, emission of a
py-spinnaker2 runner, and a PE-level emulator (see /work/shared/reference/spinnaker2.md)."""
from .netspec import (
    Conv2DParams,
    NetSpec,
    NeuronParams,
    Population,
    Projection,
    RunOptions,
)
from .nir_import import dense_projection_from_nir, lif_population_from_nir, nir_weight_scale

__all__ = [
    "Conv2DParams", "NetSpec", "NeuronParams", "Population", "Projection", "RunOptions",
    "dense_projection_from_nir", "lif_population_from_nir", "nir_weight_scale",
]
