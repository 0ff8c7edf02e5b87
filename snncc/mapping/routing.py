"""Routing tables from placed traffic.

- ``axon`` (Loihi 2): per core, output axons per destination core and input axons per
  source core (one axon per source neuron and destination core).
- ``multicast`` (SpiNNaker 2): key = source PE << 8 | neuron index, mask 0xFFFFFF00;
  chip-level multicast trees by dimension-order routing (diagonal first on the hexagonal
  grid); a chip that only passes a packet straight on needs no entry (default route);
  entries with the same route merge into aligned power-of-two key blocks when every key
  in the block either shares that route or is never sent. Tables are checked against
  ``router_entries``.
- ``stream`` (FPGA): one event stream per pair of engines that exchange spikes.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import scipy.sparse as sp

from snncc.diagnostics import Diagnostic

from .topology import Topology

KEY_SHIFT = 8  # <= 256 neurons per PE: the neuron index fits in 8 bits
#: chip-grid link directions (dx, dy)
MESH_LINKS = {(1, 0): "E", (-1, 0): "W", (0, 1): "N", (0, -1): "S"}
HEX_LINKS = {**MESH_LINKS, (1, 1): "NE", (-1, -1): "SW"}


def axon_tables(count: sp.csr_matrix, slots: np.ndarray) -> dict[int, dict[str, list[list[int]]]]:
    """Per core id: ``out`` [[dst core, axons]], ``in`` [[src core, axons]] (placed sources;
    a core's recurrent connections use axons to itself)."""
    coo = count.tocoo()
    tables: dict[int, dict[str, list[list[int]]]] = {int(s): {"out": [], "in": []} for s in slots}
    for a, b, n in sorted(zip(slots[coo.row].tolist(), slots[coo.col].tolist(), coo.data.tolist())):
        tables[a]["out"].append([b, int(n)])
        tables[b]["in"].append([a, int(n)])
    return tables


def _chip_path(topology: Topology, src_chip: int, dst_chip: int) -> list[tuple[int, str]]:
    """[(chip, outgoing link)] from src to dst, diagonal steps first on hexagonal grids."""
    cols = topology.model.chip_grid[0]
    x, y = src_chip % cols, src_chip // cols
    tx, ty = dst_chip % cols, dst_chip // cols
    links = HEX_LINKS if topology.model.hexagonal_chips else MESH_LINKS
    path = []
    while (x, y) != (tx, ty):
        dx, dy = int(np.sign(tx - x)), int(np.sign(ty - y))
        if (dx, dy) not in links:  # opposite signs or a mesh: move along x first
            dx, dy = (dx, 0) if dx else (0, dy)
        path.append((y * cols + x, links[(dx, dy)]))
        x, y = x + dx, y + dy
    return path


def multicast_tables(topology: Topology, count: sp.csr_matrix, slots: np.ndarray
                     ) -> tuple[dict[int, list[dict]], list[Diagnostic]]:
    """Per chip, merged entries {key, mask, links, cores}; SNN454 per overflowing chip."""
    per_chip_core = topology.model.cores_per_chip
    coo = count.tocoo()
    targets: dict[int, set[int]] = defaultdict(set)
    for a, b in zip(slots[coo.row].tolist(), slots[coo.col].tolist()):
        if a != b:
            targets[a].add(b)
    routes: dict[int, dict[int, tuple]] = defaultdict(dict)  # chip -> source core -> route
    for src, dsts in targets.items():
        src_chip = src // per_chip_core
        hops: dict[int, set[str]] = defaultdict(set)
        local: dict[int, set[int]] = defaultdict(set)
        arrive: dict[int, str] = {}
        for dst in dsts:
            chip = dst // per_chip_core
            local[chip].add(dst)
            for via, link in _chip_path(topology, src_chip, chip):
                hops[via].add(link)
                arrive.setdefault(_next_chip(topology, via, link), link)
        for chip in set(hops) | set(local) | {src_chip}:
            out, here = hops.get(chip, set()), local.get(chip, set())
            passing = chip != src_chip and not here and len(out) == 1 and arrive.get(chip) in out
            if not passing:  # a straight pass-through uses the default route
                routes[chip][src] = (tuple(sorted(out)), tuple(sorted(here)))
    senders = set(targets)
    tables, problems = {}, []
    for chip in sorted(routes):
        entries = _merge(routes[chip], senders, topology.model.max_cores)
        tables[chip] = entries
        if len(entries) > topology.model.router_entries:
            problems.append(Diagnostic(
                "SNN454", f"chip {chip}: {len(entries):,} multicast router entries after merging > "
                f"{topology.model.router_entries:,} entries per chip",
                hint="place fewer source PEs per chip (more chips) or reduce the connectivity"))
    return tables, problems


def _next_chip(topology: Topology, chip: int, link: str) -> int:
    cols = topology.model.chip_grid[0]
    links = HEX_LINKS if topology.model.hexagonal_chips else MESH_LINKS
    dx, dy = next(d for d, name in links.items() if name == link)
    return (chip // cols + dy) * cols + chip % cols + dx


def _merge(routes: dict[int, tuple], senders: set[int], n_keys: int) -> list[dict]:
    """Aligned power-of-two blocks of source keys with one route; keys never sent are free
    (blocks stay within the ``n_keys`` core ids of the system)."""
    by_route: dict[tuple, list[int]] = defaultdict(list)
    for src, route in routes.items():
        by_route[route].append(src)
    entries = []
    for route, sources in sorted(by_route.items(), key=lambda item: min(item[1])):
        remaining = sorted(sources)
        mine = set(remaining)
        while remaining:
            base = remaining[0]
            size = 1
            while base % (2 * size) == 0 and base + 2 * size <= n_keys and all(
                    k in mine or k not in senders for k in range(base + size, base + 2 * size)):
                size *= 2
            block = set(range(base, base + size))
            remaining = [k for k in remaining if k not in block]
            entries.append({"key": base << KEY_SHIFT, "mask": (0xFFFFFFFF << (KEY_SHIFT + size.bit_length() - 1))
                            & 0xFFFFFFFF, "links": list(route[0]), "cores": list(route[1])})
    return sorted(entries, key=lambda e: e["key"])


def stream_wiring(count: sp.csr_matrix, slots: np.ndarray, neurons: np.ndarray) -> list[dict]:
    """FPGA: one stream per communicating engine pair; events carry the source index."""
    coo = count.tocoo()
    streams = []
    for a, b, n in zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist()):
        if a == b:
            continue
        streams.append({"src": int(slots[a]), "dst": int(slots[b]), "sources": int(n),
                        "index_bits": max(1, int(np.ceil(np.log2(max(int(neurons[a]), 2)))))})
    return sorted(streams, key=lambda s: (s["src"], s["dst"]))
