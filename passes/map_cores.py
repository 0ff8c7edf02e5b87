"""map-cores: split every neuron layer into core-sized slices, place them on the target's
cores (minimising hop-weighted spike traffic) and build routing tables.

Reads ``Capabilities.extra["resource_model"]`` (a name in :mod:`snncc.mapping.models`);
without one (the reference target) the pass does nothing. Sets ``cores`` on every placed
node, puts the full mapping in ``ctx.reports["mapping"]`` (written as OUT/mapping.json)
and raises one SnnccError listing every violated limit when the network does not fit.
Options: ``model`` (use another resource model), ``chips`` (system size),
``placement`` (``metis`` or ``sequential``), ``overrides`` (``key:value;key:value``
resource-model fields, applied after ``Capabilities.extra["resource_overrides"]``).
See docs/mapping.md.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from snncc.diagnostics import SnnccError
from snncc.ir import Graph
from snncc.mapping import core_assignments, map_network, mapping_dict, resolve_model
from snncc.passbase import Pass, PassContext, PassResult

PLACEMENTS = ("metis", "sequential")


@dataclass(frozen=True)
class MapCores(Pass):
    name: ClassVar[str] = "map-cores"
    model: str = ""
    chips: int | None = None
    placement: str = "metis"
    overrides: str = ""

    def run(self, graph: Graph, ctx: PassContext) -> PassResult:
        caps = ctx.capabilities
        extra = dict(getattr(caps, "extra", None) or {})
        name = self.model or extra.get("resource_model")
        if not name:
            return PassResult(graph, False)
        if self.placement not in PLACEMENTS:
            raise SnnccError.single("SNN451", f"placement '{self.placement}' is not one of {', '.join(PLACEMENTS)}")
        model = resolve_model(name, extra.get("resource_overrides"), _parse(self.overrides),
                              {"chips": self.chips} if self.chips is not None else None)
        bits = getattr(caps, "weight_bits", None) or model.weight_bits
        result = map_network(graph, model, ctx.calibration, self.placement, bits)
        ctx.notes.extend(result.notes)
        mapping = mapping_dict(result)
        ctx.reports["mapping"] = mapping
        assignments = core_assignments(result)
        nodes, changed = {}, []
        for node_name, node in graph.nodes.items():
            new = assignments.get(node_name)
            if new is not None and node.cores != new:
                node = node.replace(cores=new)
                changed.append(node_name)
            nodes[node_name] = node
        summary = mapping["summary"]
        changes = {"cores": summary["cores"], "lower_bound": summary["lower_bound"],
                   "chips": summary["chips_used"], "traffic_reduction": summary["traffic_reduction"]}
        if not changed:
            return PassResult(graph, False, changes)
        return PassResult(graph.replace(nodes=nodes), True, changes)


def _parse(text: str) -> dict[str, str]:
    out = {}
    for item in filter(None, (part.strip() for part in text.split(";"))):
        key, sep, value = item.partition(":")
        if not sep:
            raise SnnccError.single("SNN451", f"resource override '{item}' is not key:value",
                                    hint="write overrides=chips:16;input_axons:2048")
        out[key.strip()] = value.strip()
    return out
