"""Core slots of a system and the hop cost between them.

A slot is a global core id ``chip * cores_per_chip + local``. Local cores fill the chip's
``mesh_shape`` grid row-major (SpiNNaker: four PEs per QPE grid position). The hop cost
of a message is the on-chip Manhattan distance of the two grid positions plus
``chip_link_cost`` per chip-to-chip link (Manhattan on a chip mesh, hexagonal distance
when chips have six links). FPGA engines are joined by dedicated streams: every pair of
distinct engines is one hop apart.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snncc.diagnostics import SnnccError

from .models import FpgaModel, ResourceModel


def chip_hops(dx: np.ndarray, dy: np.ndarray, hexagonal: bool) -> np.ndarray:
    """Chip-to-chip links between chips ``(dx, dy)`` apart on the chip grid."""
    if hexagonal:  # links E/W, N/S and the NE-SW diagonal
        return np.where(dx * dy > 0, np.maximum(abs(dx), abs(dy)), abs(dx) + abs(dy))
    return abs(dx) + abs(dy)


@dataclass(frozen=True)
class Topology:
    model: ResourceModel

    @property
    def per_slot(self) -> int:
        return getattr(self.model, "pes_per_qpe", 1)

    def chip(self, slot: np.ndarray) -> np.ndarray:
        return np.asarray(slot) // self.model.cores_per_chip

    def local_xy(self, slot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        local = (np.asarray(slot) % self.model.cores_per_chip) // self.per_slot
        cols = self.model.mesh_shape[0]
        return local % cols, local // cols

    def chip_xy(self, slot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        chip = self.chip(slot)
        cols = self.model.chip_grid[0]
        return chip % cols, chip // cols

    def chip_distance(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ax, ay = self.chip_xy(a)
        bx, by = self.chip_xy(b)
        return chip_hops(bx - ax, by - ay, self.model.hexagonal_chips)

    def cost(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Hop cost between slots ``a`` and ``b`` (broadcasting)."""
        a, b = np.asarray(a), np.asarray(b)
        if isinstance(self.model, FpgaModel):
            return (a != b).astype(float)
        ax, ay = self.local_xy(a)
        bx, by = self.local_xy(b)
        return (abs(ax - bx) + abs(ay - by)).astype(float) + self.model.chip_link_cost * self.chip_distance(a, b)

    def sequential_slots(self, n: int) -> np.ndarray:
        """Core ids 0, 1, 2, ...: what a mapper that fills cores in order uses."""
        self.check_capacity(n)
        return np.arange(n)

    def compact_slots(self, n: int) -> np.ndarray:
        """``n`` slots on the fewest chips: chips in square-growing order, full chips first,
        the remainder in the most square rectangle of grid positions that holds it."""
        self.check_capacity(n)
        m = self.model
        per_chip = m.cores_per_chip
        chips_needed = -(-n // per_chip)
        cx, cy = np.arange(m.chips) % m.chip_grid[0], np.arange(m.chips) // m.chip_grid[0]
        chip_order = np.lexsort((cx, cy, cx + cy, np.maximum(cx, cy)))[:chips_needed]
        slots = []
        for k, chip in enumerate(chip_order):
            take = per_chip if k < chips_needed - 1 else n - per_chip * (chips_needed - 1)
            slots.append(chip * per_chip + self._block(take))
        return np.concatenate(slots) if slots else np.zeros(0, dtype=np.int64)

    def _block(self, n: int) -> np.ndarray:
        """Local core ids of ``n`` slots filling the most square a x b block row by row."""
        local = np.arange(self.model.cores_per_chip)
        x, y = self.local_xy(local)
        positions = -(-n // self.per_slot)
        cols_max = int(x.max()) + 1
        best = None
        for a in range(1, cols_max + 1):
            b = -(-positions // a)
            inside = local[(x < a) & (y < b)]
            if inside.size >= n and (best is None or (a + b, -a) < best[0]):
                best = ((a + b, -a), inside)
        chosen = best[1] if best is not None else local
        xs, ys = self.local_xy(chosen)
        return np.sort(chosen[np.lexsort((chosen, xs, ys))][:n])

    def check_capacity(self, n: int) -> None:
        if n > self.model.max_cores:
            m = self.model
            raise SnnccError.single(
                "SNN453", f"the network needs {n:,} cores but the {m.name} system has "
                f"{m.max_cores:,} ({m.chips} chip(s) x {m.cores_per_chip} cores)",
                hint="raise 'chips' (map-cores{chips=N} or resource_overrides) or shrink the network")
