"""Acceptance on compiled models (the fpga target's default pipeline): the digits MLP, the NIR
paper's LIF neuron and a small CNN give golden == cycle simulator == iverilog RTL, spike for
spike and membrane for membrane, and the simulator's cycle counts are the RTL's measured ones.
The RTL runs a few samples only; the cycle simulator runs the whole digits test set."""
import json
from pathlib import Path

import numpy as np
import pytest

from snncc.compiler import compile
from snncc.diagnostics import SnnccError
from snncc.loading import LoadOptions
from snncc.runtime.backend import run
from snncc.targets.fpga.example_models import digit_images, small_cnn

from fpga_ir_nets import requires_iverilog


@pytest.fixture(scope="module")
def digits_fpga(digits, tmp_path_factory):
    out = tmp_path_factory.mktemp("digits-fpga") / "out"
    x = np.load(digits / "test_x.npy")
    compile(str(digits / "model.pt"), "fpga", out_dir=str(out), calibration=x[:32])
    return out


@pytest.fixture(scope="module")
def cnn_fpga(digits, tmp_path_factory):
    root = tmp_path_factory.mktemp("cnn-fpga")
    out = root / "out"
    compile(str(small_cnn(root / "cnn.pt")), "fpga", out_dir=str(out), calibration=digit_images(digits, 32))
    return out


def _backends(out, x, names=("golden", "fpga-sim", "rtl")):
    return {b: run(str(out), x, b, record_state=True) for b in names}


def _assert_bit_exact(results):
    gold = results["golden"]
    for name, other in results.items():
        assert other.spikes.keys() == gold.spikes.keys()
        for node in gold.spikes:
            np.testing.assert_array_equal(other.spikes[node], gold.spikes[node], err_msg=f"{name}: {node}")
            np.testing.assert_array_equal(other.states[node]["v"], gold.states[node]["v"], err_msg=f"{name}: {node}")
    sim, rtl = results["fpga-sim"].extra, results["rtl"].extra
    np.testing.assert_array_equal(sim["cycles"], rtl["cycles"])
    for node, cycles in sim["engine_cycles"].items():
        np.testing.assert_array_equal(cycles, rtl["engine_cycles"][node], err_msg=node)


@requires_iverilog
def test_digits_golden_equals_cycle_sim_equals_rtl(digits, digits_fpga):
    x = np.load(digits / "test_x.npy")[:3]
    results = _backends(digits_fpga, x)
    _assert_bit_exact(results)
    assert all(s.sum() > 10 for s in results["golden"].spikes.values())


def test_digits_accuracy_on_the_cycle_simulator(digits, digits_fpga):
    x, y = np.load(digits / "test_x.npy"), np.load(digits / "test_y.npy")
    float_accuracy = json.loads((digits / "meta.json").read_text())["accuracy"]
    sim = run(str(digits_fpga), x, "fpga-sim")
    accuracy = float((sim.output.sum(axis=1).argmax(axis=1) == y).mean())
    assert accuracy >= float_accuracy - 0.01, (accuracy, float_accuracy)
    gold = run(str(digits_fpga), x, "golden")
    for node, spikes in gold.spikes.items():
        np.testing.assert_array_equal(sim.spikes[node], spikes)
    assert sim.extra["cycles"].shape == x.shape[:2] and sim.extra["cycles"].min() > 0


@requires_iverilog
def test_nir_paper_lif(paper, tmp_path):
    trace = np.loadtxt(paper("01_lif", "lif_exact.csv"), delimiter=",")
    out = tmp_path / "out"
    compile(paper("01_lif", "lif_norse.nir"), "fpga", out_dir=str(out), load_options=LoadOptions(dt=1e-4))
    results = _backends(out, trace[:, 0].reshape(1, -1, 1))
    _assert_bit_exact(results)
    (spikes,) = results["rtl"].spikes.values()
    # the recorded analytic solution's spike steps (docs: NIR paper README)
    assert np.flatnonzero(spikes[0, :, 0]).tolist() == np.flatnonzero(trace[:, 2]).tolist() == [460, 510, 710, 760]


@requires_iverilog
def test_small_cnn_golden_equals_cycle_sim_equals_rtl(digits, cnn_fpga):
    results = _backends(cnn_fpga, digit_images(digits, 2))
    _assert_bit_exact(results)
    assert all(s.any() for s in results["golden"].spikes.values())
    config = json.loads((Path(cnn_fpga) / "fpga" / "config.json").read_text())
    assert [e["engine"] for e in config["engines"]] == ["conv", "conv", "dense"]


def test_unquantized_compile_writes_nothing(paper, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(SnnccError) as info:
        compile(paper("01_lif", "lif_norse.nir"), "fpga", pipeline="fold-batchnorm,discretize", out_dir=str(out),
                load_options=LoadOptions(dt=1e-4))
    assert {d.code for d in info.value.diagnostics} == {"SNN413"}
    assert not out.exists()
