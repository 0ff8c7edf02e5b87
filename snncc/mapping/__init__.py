"""Core mapping: resource models, partitioning, placement and routing (docs/mapping.md).

``map_network(graph, resolve_model("loihi2"))`` partitions every neuron layer into
core-sized tiles, places them on the system's cores and builds routing tables;
``mapping_dict`` is the content of OUT/mapping.json and ``core_assignments`` the
per-node :class:`snncc.ir.CoreAssignment` the map-cores pass sets.
"""
from .mapper import MappingResult, map_network
from .models import MODELS, FpgaModel, Loihi2Model, ResourceModel, SpiNNaker2Model, resolve_model
from .report import core_assignments, mapping_dict, utilisation_rows

__all__ = [
    "MODELS", "FpgaModel", "Loihi2Model", "MappingResult", "ResourceModel", "SpiNNaker2Model",
    "core_assignments", "map_network", "mapping_dict", "resolve_model", "utilisation_rows",
]
