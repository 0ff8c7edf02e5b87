"""mapping.json (default split and from map-cores' node.cores), the target's capabilities,
and that importing the target never imports Lava."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from loihi2_kit import compile_graph, lif_neuron, two_layer

from snncc import ir
from snncc.registry import TARGETS
from snncc.targets.loihi2.lower import lower
from snncc.targets.loihi2.mapping import core_mapping


def test_default_split_fills_cores_in_order_up_to_the_neuron_limit():
    graph = two_layer(np.random.default_rng(0))           # hidden 20, out 6
    mapping = core_mapping(graph, lower(graph), neurons_per_core=8, cores_per_chip=3)
    parts = mapping["partitioning"]
    assert mapping["source"] == "default" and mapping["cores_used"] == 4
    assert [(c["chip"], c["core"], c["start"], c["stop"]) for c in parts["hidden"]["cores"]] == [
        (0, 0, 0, 8), (0, 1, 8, 16), (0, 2, 16, 20)]
    assert [(c["chip"], c["core"], c["start"], c["stop"]) for c in parts["out"]["cores"]] == [(1, 0, 0, 6)]


def test_core_assignment_of_map_cores_is_used_and_follows_split_processes(tmp_path):
    rng = np.random.default_rng(1)
    dv = np.r_[np.full(10, 300), np.full(10, 120)]        # neurons 10..19 become a second process
    cores = ir.CoreAssignment((ir.CoreSlice(5, 0, 15), ir.CoreSlice(6, 15, 20, chip=1)))
    graph = two_layer(rng, hidden=lif_neuron(300, dv, 20, cores=cores))
    graph = graph.with_node("out", graph.nodes["out"].replace(cores=ir.CoreAssignment((ir.CoreSlice(7, 0, 6),))))
    out = compile_graph(graph, tmp_path / "out")
    mapping = json.loads((tmp_path / "out" / "loihi2" / "mapping.json").read_text())
    assert mapping["source"] == "map-cores" and mapping["cores_used"] == 3
    parts = mapping["partitioning"]
    processes = json.loads((tmp_path / "out" / "loihi2" / "network.json").read_text())["processes"]
    by_dv = {p["dv"]: p["name"] for p in processes if p["name"].startswith("hidden")}
    # the dv=300 process holds node neurons 0..9: all on core 5; dv=120 holds 10..19: 10..14 on 5, 15..19 on 6
    assert [(c["core"], c["start"], c["stop"]) for c in parts[by_dv[300]]["cores"]] == [(5, 0, 10)]
    assert [(c["chip"], c["core"], c["start"], c["stop"]) for c in parts[by_dv[120]]["cores"]] == [
        (0, 5, 0, 5), (1, 6, 5, 10)]
    assert out


def test_capabilities_pipeline_and_backends():
    target = TARGETS.get("loihi2")
    caps = target.capabilities
    assert caps.threshold_granularity == "process" and caps.weight_bits == 8 and caps.state_bits == 24
    assert caps.reset_modes == (ir.ResetMode.VALUE,) and caps.comparators == (ir.Comparator.GT,)
    assert caps.extra["decay_format"] == {"kind": "fraction", "bits": 12}
    assert caps.extra["resource_model"] == "loihi2"
    assert target.default_pipeline == "fold-batchnorm,fold-mpbn,simplify,discretize,quantize,prune,map-cores"
    assert {"golden", "lava"} <= set(target.backends)


def test_importing_the_target_does_not_import_lava():
    code = ("import sys; from snncc.registry import TARGETS; t = TARGETS.get('loihi2'); dict(t.backends); "
            "print(sorted(m for m in sys.modules if m == 'lava' or m.startswith('lava.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
