"""The emitted artifact (OUT/loihi2/network.py on Lava's fixed_pt CPU models) against the
golden backend: every spike (aligned and raw) and the final u and v of every population.
And the NIR paper's LIF neuron, in the integers the paper's Lava converter used, against
the recorded Lava CPU and Loihi 2 chip traces."""
from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
from loihi2_kit import DT, compile_graph, cuba_neuron, lif_neuron, spikes, synapse

from snncc import ir
from snncc.runtime.backend import run
from snncc.targets.loihi2.backends import run_golden

pytestmark = [pytest.mark.lava, pytest.mark.skipif(importlib.util.find_spec("lava") is None,
                                                   reason="lava-nc is not installed")]


def _kitchen_sink(rng) -> ir.Graph:
    """Sparse input synapses, LIF processes split by their decays, with biases, self-recurrence
    and threshold offsets (thresholds of both signs: shifted initial v, extra bias, diagonal
    self-connections), a delayed sparse projection (DelaySparse) into CubaLIF neurons."""
    n_in, n_hid, n_cuba = 150, 100, 90
    theta = np.where(np.arange(n_hid) % 3 == 0, 400, 250) - np.where(np.arange(n_hid) % 7 == 0, 700, 0)
    dv = np.where(np.arange(n_hid) % 2 == 0, 300, 700)
    hidden = lif_neuron(400, dv=dv, n=n_hid, bias_int=rng.integers(-2000, 2000, n_hid))
    hidden = hidden.replace(v_threshold=theta * hidden.v_threshold[0] / 400)
    sparse_in = rng.integers(-128, 128, (n_hid, n_in)) * (rng.random((n_hid, n_in)) < 0.15)
    sparse_out = rng.integers(0, 128, (n_cuba, n_hid)) * (rng.random((n_cuba, n_hid)) < 0.2)
    nodes = {"input": ir.Input(shape=(n_in,)), "fc1": synapse(sparse_in, exp=2), "hidden": hidden,
             "rec": synapse(rng.integers(-40, 40, (n_hid, n_hid))), "delay": ir.Delay(delay=np.full(n_hid, 3 * DT)),
             "fc2": synapse(sparse_out, exp=1), "cuba": cuba_neuron(900, d_syn=800, dv=200, n=n_cuba),
             "output": ir.Output(shape=(n_cuba,))}
    edges = [ir.Edge(a, b) for a, b in [("input", "fc1"), ("fc1", "hidden"), ("hidden", "rec"), ("rec", "hidden"),
                                         ("hidden", "delay"), ("delay", "fc2"), ("fc2", "cuba"), ("cuba", "output")]]
    return ir.Graph(nodes, edges, dt=DT)


def test_emitted_network_on_lava_equals_golden(tmp_path):
    rng = np.random.default_rng(11)
    out = compile_graph(_kitchen_sink(rng), tmp_path / "out")
    x = spikes(rng, 2, 25, 150, density=0.4)
    gold = run(out, x, "golden", record_state=True)
    lava = run(out, x, "lava", record_state=True)
    meta = json.loads((tmp_path / "out" / "loihi2" / "network.json").read_text())
    assert {(c["sparse"], c["delays"]) for c in meta["connections"]} >= {(True, False), (True, True)}
    assert len(meta["nodes"][0]["processes"]) == 2
    assert set(meta["threshold_offsets"]) == set(meta["nodes"][0]["processes"])
    assert any(c["src"] == c["dst"] and c["name"].endswith("__offset") for c in meta["connections"])
    for name in ("hidden", "cuba"):
        assert gold.spikes[name].sum() > 20, "both layers must spike"
        np.testing.assert_array_equal(lava.spikes[name], gold.spikes[name])
        np.testing.assert_array_equal(lava.raw[name], gold.raw[name])
        for state in ("u", "v"):
            np.testing.assert_array_equal(lava.states[name][state], gold.states[name][state])
    assert np.any(gold.states["cuba"]["u"] != 0)
    np.testing.assert_array_equal(lava.output, gold.output)


def _nir_paper_lif(tmp_path):
    """lif_norse.nir as the NIR paper's Lava converter wrote it in integers: weight 10,
    vth 25, dv = int(dt/tau * 4096) = 163, du = 4095 (recorded trace: +640 per input)."""
    scale = 0.1 / 25  # threshold 0.1 = 25 units
    lif = lif_neuron(25, dv=163, n=1, scale=scale)
    graph = ir.Graph.sequential(ir.Input(shape=(1,)), synapse([[10]], scale=scale), lif,
                                names=["input", "0", "1"], dt=DT)
    return compile_graph(graph, tmp_path / "lif")


def test_nir_paper_lif_in_the_papers_integers_reproduces_lava_cpu_and_chip(tmp_path, paper):
    cpu = np.loadtxt(paper("01_lif", "lif_lava_cpu_fixed.csv"), delimiter=",")
    chip = np.loadtxt(paper("01_lif", "lif_lava_loihi_fixed.csv"), delimiter=",")
    out = _nir_paper_lif(tmp_path)
    x = cpu[:, 0].reshape(1, -1, 1)
    from snncc.runtime.backend import load_artifact

    gold = run_golden(load_artifact(out), x, trace=True)
    lava = run(out, x, "lava", record_state=True)
    steps = [461, 511, 711, 761]
    assert np.flatnonzero(cpu[:, 2]).tolist() == np.flatnonzero(chip[:, 2]).tolist() == steps
    assert np.flatnonzero(gold.raw["1"][0, :1000, 0]).tolist() == steps
    assert np.flatnonzero(lava.raw["1"][0, :1000, 0]).tolist() == steps
    np.testing.assert_array_equal(gold.extra["trace"]["1"]["v"][0, :1000, 0], cpu[:, 1])
    # the chip's trace differs from the CPU model only on spike steps (128 instead of 0)
    differs = np.flatnonzero(chip[:, 1] != cpu[:, 1]).tolist()
    assert differs == steps
    assert lava.states["1"]["v"][0, 0] == gold.extra["trace"]["1"]["v"][0, 1000, 0]


def test_braille_rnn_compiled_with_the_default_pipeline_runs_alike_on_lava(tmp_path, paper):
    """The NIR paper's recurrent CubaLIF network (snnTorch; the variant without synapse
    biases: a constant current into a CubaLIF synapse has no Lava form, SNN434), end to end:
    the emitted module on Lava equals golden; golden follows the quantized float reference."""
    from snncc.compiler import compile as compile_model

    x = spikes(np.random.default_rng(12), 3, 60, 12, density=0.3)
    out = str(tmp_path / "out")
    compile_model(paper("03_rnn", "braille_noDelay_noBias_subtract.nir"), "loihi2", calibration=x, out_dir=out)
    gold = run(out, x, "golden", record_state=True)
    lava = run(out, x[:2], "lava", record_state=True)
    ref = run(out, x, "reference")
    assert sum(s.sum() for s in gold.spikes.values()) > 5
    for name in gold.spikes:
        np.testing.assert_array_equal(lava.raw[name], gold.raw[name][:2])
        for state in ("u", "v"):
            np.testing.assert_array_equal(lava.states[name][state], gold.states[name][state][:2])
        assert (gold.spikes[name] == ref.spikes[name]).mean() > 0.99
