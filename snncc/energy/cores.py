"""Which neurons sit on which core, and where the cores are on the mesh.

The map-cores pass stores a :class:`snncc.ir.CoreAssignment` on every neuron node;
without one (e.g. the reference target) each neuron population is one core. Mesh
positions: ``cores_per_tile`` cores share a router, tiles fill rows of
``mesh_columns``, and chips sit side by side (hop counts only; the tables say how
exact the layout is).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from snncc.lowering import LayerGraph


@dataclass(frozen=True)
class Core:
    chip: int
    index: int
    #: (population, first neuron, stop) placed on this core
    members: tuple[tuple[str, int, int], ...]

    @property
    def key(self) -> str:
        return f"{self.chip}.{self.index}"

    @property
    def neurons(self) -> int:
        return sum(stop - start for _, start, stop in self.members)


@dataclass(frozen=True)
class Layout:
    cores_per_tile: int = 1
    mesh_columns: int = 8
    #: (chip, core) -> mesh (x, y), e.g. from the map-cores pass; other cores use the rule above
    positions: Mapping[tuple[int, int], tuple[int, int]] = field(default_factory=dict)

    def position(self, core: Core) -> tuple[int, int]:
        if (core.chip, core.index) in self.positions:
            return self.positions[(core.chip, core.index)]
        tile = core.index // max(self.cores_per_tile, 1)
        columns = max(self.mesh_columns, 1)
        return tile % columns + core.chip * columns, tile // columns

    def tiles(self, cores: list[Core]) -> int:
        return len({(c.chip, c.index // max(self.cores_per_tile, 1)) for c in cores})


def layout_from_mapping(mapping: Mapping[str, Any], base: Layout) -> Layout:
    """Mesh positions of the cores map-cores placed (OUT/mapping.json); chips side by side
    on their chip grid, each ``mesh_shape`` wide and high."""
    model = mapping.get("resource_model", {})
    cols, rows = (list(model.get("mesh_shape", [base.mesh_columns, 1])) + [1, 1])[:2]
    chip_cols = int((model.get("chip_grid") or [1])[0]) or 1
    positions = {}
    for core in mapping.get("cores", []):
        chip = int(core["chip"])
        positions[(chip, int(core["core"]))] = (int(core["x"]) + (chip % chip_cols) * int(cols),
                                                int(core["y"]) + (chip // chip_cols) * int(rows))
    return Layout(base.cores_per_tile, base.mesh_columns, positions)


def cores_of(layers: LayerGraph) -> list[Core]:
    """Cores in (chip, index) order; populations without an assignment get one core each,
    numbered after the highest assigned index."""
    placed: dict[tuple[int, int], list[tuple[str, int, int]]] = {}
    unplaced = []
    for name in layers.neurons():
        assignment = layers.graph.nodes[name].cores
        if assignment is None or not assignment.slices:
            unplaced.append(name)
            continue
        for s in assignment.slices:
            placed.setdefault((s.chip, s.core), []).append((name, s.start, s.stop))
    next_index = max((index for _, index in placed), default=-1) + 1
    for offset, name in enumerate(unplaced):
        placed[(0, next_index + offset)] = [(name, 0, layers.size(name))]
    return [Core(chip, index, tuple(members)) for (chip, index), members in sorted(placed.items())]


def placement(layers: LayerGraph, cores: list[Core]) -> dict[str, np.ndarray]:
    """Per population, the core position (row in ``cores``) of each neuron; -1 for Input
    (spikes from the host) and for neurons no core holds."""
    out = {p: np.full(layers.size(p), -1, dtype=np.int64) for p in layers.populations}
    for row, core in enumerate(cores):
        for name, start, stop in core.members:
            out[name][start:stop] = row
    return out


def hop_matrices(cores: list[Core], layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    """``[C, C]`` east-west and north-south hop counts between cores (0 within a tile)."""
    xy = np.array([layout.position(c) for c in cores], dtype=np.int64).reshape(-1, 2)
    return np.abs(xy[:, None, 0] - xy[None, :, 0]), np.abs(xy[:, None, 1] - xy[None, :, 1])
