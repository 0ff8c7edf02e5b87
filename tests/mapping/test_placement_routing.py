"""Placement beats the sequential fill; routing tables deliver every spike exactly where
its synapses are (multicast packets simulated chip by chip; axons counted from the dense
projection matrices)."""
import numpy as np
import pytest

from snncc.diagnostics import SnnccError
from snncc.lowering import layer_graph
from snncc.mapping import core_assignments, map_network, mapping_dict, resolve_model
from snncc.mapping.synthetic import cnn, mlp

HEX = {"E": (1, 0), "W": (-1, 0), "N": (0, 1), "S": (0, -1), "NE": (1, 1), "SW": (-1, -1)}
#: SpiNNaker 2 with 8 PEs per chip, so a small network spans several chips
SMALL_CHIPS = {"cores_per_chip": 8, "mesh_shape": (1, 2)}


def _targets(result):
    """Placed core -> the other cores holding a synapse target of one of its neurons."""
    coo = result.traffic.count.tocoo()
    out = {}
    for a, b in zip(result.slots[coo.row], result.slots[coo.col]):
        if a != b:
            out.setdefault(int(a), set()).add(int(b))
    return out


def _deliver(mapping, src):
    """Cores a packet from ``src`` reaches, following the chips' tables (default route:
    straight on when no entry matches away from the source chip)."""
    model = mapping["resource_model"]
    per_chip, cols = model["cores_per_chip"], model["chip_grid"][0]
    tables = {int(c): e for c, e in mapping["routing"]["chips"].items()}
    key = src << 8 | 5
    delivered, frontier, seen = set(), [(src // per_chip, None)], set()
    while frontier:
        chip, arrived = frontier.pop()
        assert (chip, arrived) not in seen, "routing loop"
        seen.add((chip, arrived))
        hits = [e for e in tables.get(chip, []) if key & e["mask"] == e["key"] & e["mask"]]
        assert len(hits) <= 1
        if hits:
            delivered |= set(hits[0]["cores"])
            links = hits[0]["links"]
        else:
            assert arrived is not None, "no entry on the source chip"
            links = [arrived]
        for link in links:
            dx, dy = HEX[link]
            frontier.append(((chip // cols + dy) * cols + chip % cols + dx, link))
    return delivered


@pytest.mark.parametrize("graph", [cnn((4, 32, 32), [8, 8]), mlp([300, 600, 600, 10])], ids=["cnn", "mlp"])
def test_multicast_tables_deliver_exactly_to_the_targets(graph):
    result = map_network(graph, resolve_model("spinnaker2", SMALL_CHIPS))
    mapping = mapping_dict(result)
    assert mapping["summary"]["chips_used"] > 1
    targets = _targets(result)
    for src, dsts in targets.items():
        assert _deliver(mapping, src) == dsts
    entries = sum(len(t) for t in mapping["routing"]["chips"].values())
    unmerged = sum(len(d) for d in targets.values())
    assert entries < unmerged  # merging and default routes save entries


def test_router_overflow_is_reported():
    with pytest.raises(SnnccError) as info:
        map_network(mlp([200, 300, 300, 10]), resolve_model("spinnaker2", {**SMALL_CHIPS, "router_entries": 2}))
    assert {d.code for d in info.value.diagnostics} == {"SNN454"}
    assert "multicast router entries after merging > 2 entries per chip" in info.value.diagnostics[0].message


def test_loihi_axon_tables_count_source_neurons_per_destination_core():
    graph = cnn((3, 20, 20), [12, 8], pool_every=1, dense=[30])
    # 4,800 lif1 neurons each reach >= 1 lif2 core: 1,500 output axons per core binds
    result = map_network(graph, resolve_model("loihi2", {"input_axons": 1000, "output_axons": 1500}))
    assert len(result.parts["lif1"].tiles) >= 4 and len(result.parts["lif2"].tiles) > 1
    mapping = mapping_dict(result)
    core_of = {}  # (layer, neuron) -> core, from the CoreAssignments
    for name, assignment in core_assignments(result).items():
        for s in assignment.slices:
            for n in range(s.start, s.stop):
                core_of[name, n] = s.core
    expected = {}
    layers = layer_graph(graph)
    for p in layers.projections:
        if p.src not in result.parts or p.dst not in result.parts:
            continue
        nz = layers.matrix(p) != 0
        for j in range(nz.shape[1]):
            for core in {core_of[p.dst, int(i)] for i in np.flatnonzero(nz[:, j])}:
                key = (core_of[p.src, j], core)
                expected[key] = expected.get(key, 0) + 1
    got = {(int(a), b): n for a, t in mapping["routing"]["cores"].items() for b, n in t["out"]}
    assert got == expected
    assert all(c["out_axons"] <= 1500 for c in mapping["cores"])
    per_core = {}
    for (a, _), n in expected.items():
        per_core[a] = per_core.get(a, 0) + n
    assert max(per_core.values()) <= 1500


def test_placement_is_deterministic_and_beats_the_sequential_fill():
    graph = cnn((4, 32, 32), [8, 8, 8])
    first = map_network(graph, resolve_model("spinnaker2"))
    second = map_network(graph, resolve_model("spinnaker2"))
    assert np.array_equal(first.slots, second.slots)
    assert len(set(first.slots.tolist())) == first.cores
    assert first.hop_traffic() <= 0.7 * first.hop_traffic(sequential=True)
    sequential = map_network(graph, resolve_model("spinnaker2"), placement="sequential")
    assert np.array_equal(sequential.slots, np.arange(sequential.cores))


def test_multi_chip_loihi_and_a_system_that_is_too_small():
    graph = cnn((8, 48, 48), [16, 16])
    small = {"cores_per_chip": 6, "mesh_shape": (3, 2)}
    result = map_network(graph, resolve_model("loihi2", small))
    mapping = mapping_dict(result)
    assert mapping["summary"]["chips_used"] == -(-result.cores // 6) > 1
    assert all(c["chip"] == c["core"] // 6 for c in mapping["cores"])
    with pytest.raises(SnnccError) as info:
        map_network(graph, resolve_model("loihi2", {**small, "chips": 1}))
    (d,) = info.value.diagnostics
    assert d.code == "SNN453" and f"needs {result.cores:,} cores" in d.message and "has 6" in d.message
