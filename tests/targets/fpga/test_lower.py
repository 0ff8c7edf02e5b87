"""Lowering canonical integer graphs to the FPGA engines, through `snncc.compile` and the
backends: golden == cycle simulator == iverilog RTL (spikes, membranes, cycles), and for
integrate-and-fire networks (no rounding anywhere) also == the float reference simulator."""
import json
import os

import numpy as np
import pytest

from snncc.compiler import compile
from snncc.runtime.backend import run

from fpga_ir_nets import S, conv_net, dense_if_net, lif_recurrent_net, requires_iverilog


def _spikes(rng, graph, batch=2, steps=12, rate=0.4):
    shape = graph.nodes["in"].shape
    return (rng.random((batch, steps, *shape)) < rate).astype(np.uint8)


def _compile(graph, tmp_path, pipeline="fold-fpga"):
    out = str(tmp_path / "out")
    compile(graph, "fpga", pipeline=pipeline, out_dir=out)
    return out


def _assert_same(a, b):
    assert a.spikes.keys() == b.spikes.keys()
    for name in a.spikes:
        np.testing.assert_array_equal(a.spikes[name], b.spikes[name], err_msg=f"{a.backend} vs {b.backend}: {name}")
        np.testing.assert_array_equal(a.states[name]["v"], b.states[name]["v"], err_msg=name)


@requires_iverilog
def test_integrate_and_fire_net_is_exact_on_every_backend(tmp_path):
    graph = dense_if_net()
    out = _compile(graph, tmp_path)
    x = _spikes(np.random.default_rng(0), graph)
    ref, gold, sim, rtl = (run(out, x, b, record_state=True) for b in ("reference", "golden", "fpga-sim", "rtl"))
    _assert_same(gold, sim)
    _assert_same(gold, rtl)
    for name, spikes in ref.spikes.items():
        np.testing.assert_array_equal(gold.spikes[name], spikes)
        np.testing.assert_array_equal(gold.states[name]["v"] * gold.state_scale[name], ref.states[name]["v"])
    assert sum(int(s.sum()) for s in ref.spikes.values()) > 20  # the comparison saw activity
    np.testing.assert_array_equal(gold.output, ref.output)
    np.testing.assert_array_equal(sim.extra["cycles"], rtl.extra["cycles"])
    for name in sim.extra["engine_cycles"]:
        np.testing.assert_array_equal(sim.extra["engine_cycles"][name], rtl.extra["engine_cycles"][name])


@requires_iverilog
@pytest.mark.parametrize("build", [lif_recurrent_net, conv_net, lambda: conv_net(readout="i")],
                         ids=["lif-recurrent", "conv-lif", "conv-integrator-readout"])
def test_golden_equals_cycle_sim_equals_rtl(build, tmp_path):
    graph = build()
    out = _compile(graph, tmp_path)
    x = _spikes(np.random.default_rng(1), graph)
    gold, sim, rtl = (run(out, x, b, record_state=True) for b in ("golden", "fpga-sim", "rtl"))
    _assert_same(gold, sim)
    _assert_same(gold, rtl)
    assert all(s.any() for s in gold.spikes.values())
    np.testing.assert_array_equal(sim.extra["cycles"], rtl.extra["cycles"])
    np.testing.assert_array_equal(gold.output, rtl.output)
    # the LIF decay is m / 4096 with floor rounding: close to the float reference, not equal
    ref = run(out, x, "reference", record_state=True)
    first = next(iter(gold.spikes))
    agree = (gold.spikes[first] == ref.spikes[first]).mean()
    assert agree > 0.8


def test_engines_follow_the_graph(tmp_path):
    out = _compile(conv_net(readout="i"), tmp_path)
    config = json.load(open(os.path.join(out, "fpga", "config.json")))
    conv, head = config["engines"]
    assert (conv["name"], conv["engine"], conv["out_shape"], conv["leak"]) == ("lif1", "conv", [4, 6, 6], "mul")
    assert (head["name"], head["engine"], head["leak"], head["comparator"]) == ("head", "dense", "none", ">")
    out2 = _compile(lif_recurrent_net(), tmp_path / "rec")
    lif1, lif2 = json.load(open(os.path.join(out2, "fpga", "config.json")))["engines"]
    assert lif1["n_rec"] == 12 and lif2["n_rec"] == 0
    assert (lif2["reset"], lif2["comparator"]) == ("value", ">=")
    manifest = json.load(open(os.path.join(out2, "manifest.json")))
    engines = manifest["reports"]["fpga"]["engines"]
    assert [e["state_scale"] for e in engines] == [S, S]
    assert manifest["reports"]["fpga"]["fold"]["engines"][0]["node"] == "lif1"


def test_emission_is_deterministic(tmp_path):
    graph = lif_recurrent_net()
    a, b = _compile(graph, tmp_path / "a"), _compile(graph, tmp_path / "b")
    files = sorted(os.listdir(os.path.join(a, "fpga")))
    assert files == sorted(os.listdir(os.path.join(b, "fpga")))
    for name in files:
        assert open(os.path.join(a, "fpga", name), "rb").read() == open(os.path.join(b, "fpga", name), "rb").read()
