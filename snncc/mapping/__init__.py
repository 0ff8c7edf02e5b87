"""Core mapping: resource models, partitioning, placement and routing (docs/mapping.md).

``map_network(graph, resolve_model("loihi2"))`` partitions every neuron layer into
core-sized tiles, places them on the system's cores and builds routing tables;
``mapping_dict`` is the content of OUT/mapping.json and ``core_assignments`` the
per-node :class:`snncc.ir.CoreAssignment` the map-cores pass sets.

The mapper (and its torch-using layer view) loads on first use: the resource models are
plain data that targets import at start-up.
"""
from importlib import import_module

from .models import MODELS, FpgaModel, Loihi2Model, ResourceModel, SpiNNaker2Model, resolve_model

_LAZY = {"MappingResult": ".mapper", "map_network": ".mapper", "core_assignments": ".report",
         "mapping_dict": ".report", "utilisation_rows": ".report"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MODELS", "FpgaModel", "Loihi2Model", "MappingResult", "ResourceModel", "SpiNNaker2Model",
    "core_assignments", "map_network", "mapping_dict", "resolve_model", "utilisation_rows",
]
