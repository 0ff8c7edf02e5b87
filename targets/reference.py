"""The `reference` target: runs the pipeline and emits only the lowered graph (NIR and
snncc's native format). Float, unlimited: the NULL target every other one is checked against."""
from __future__ import annotations

import os
from dataclasses import dataclass

from snncc.ir import Graph
from snncc.ir.printer import print_graph
from snncc.ir.serialize import save_graph
from snncc.target import Capabilities, Target


@dataclass(frozen=True)
class ReferenceTarget(Target):
    def emit(self, graph: Graph, out_dir: str, context) -> list[str]:
        from snncc.frontends.nir_export import write_nir

        folder = os.path.join(out_dir, "reference")
        os.makedirs(folder)
        save_graph(graph, folder)
        write_nir(graph, os.path.join(folder, "graph.nir"))
        with open(os.path.join(folder, "graph.snnir"), "w") as handle:
            handle.write(print_graph(graph))
        return [f"reference/{name}" for name in ("graph.json", "graph.npz", "graph.nir", "graph.snnir")]


TARGET = ReferenceTarget(
    name="reference",
    capabilities=Capabilities(name="reference", threshold_granularity="float", extra={"refractory": True}),
    default_pipeline="fold-batchnorm,fold-mpbn,simplify",
    description="float reference: lowered graph as NIR + snncc graph, simulated by snncc.runtime",
)
