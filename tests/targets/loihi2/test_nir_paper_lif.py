"""The NIR paper's LIF neuron (01_lif/lif_norse.nir, dt 0.1 ms) compiled for loihi2 with the
default pipeline and driven by the recorded input: it spikes at the steps Lava's CPU
model and the Loihi 2 chip recorded (461, 511, 711, 761), on golden and on Lava, and its
v trace is the recorded one times the integer the compile chose.

That factor follows from the manifest: one input spike adds dt/tau * w = 0.04 to v, which
the paper's converter stored as 640 Lava units (CSV unit 0.04/640), while ours is
``v_scale`` per Lava unit. With the default pipeline the trace equals factor x CSV up to
decay rounding: discretize picks dv = 164 (nearest to 4096 * 0.04 = 163.84), the paper's
converter truncated to 163, and Lava truncates each decay product at its own magnitude, so
no factor but 1 can be exact (floor(k v a) != k floor(v a)). With the converter's rounding
(``discretize{decay_rounding=floor}``) and its scale (``quantize{state_scale=0.004}``: 0.1
threshold = 25 mantissa units) the compile chooses factor 1 and the trace is the CSV's,
integer for integer, on golden and on Lava."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from click.testing import CliRunner

from snncc.cli import main
from snncc.compiler import compile as compile_model
from snncc.loading import LoadOptions
from snncc.runtime.backend import load_artifact, run
from snncc.targets.loihi2.backends import run_golden

SPIKES = [461, 511, 711, 761]
CSV_UNIT = 0.04 / 640  # real membrane value per unit of the recorded v


@pytest.fixture(scope="module")
def compiled(paper, tmp_path_factory):
    cpu = np.loadtxt(paper("01_lif", "lif_lava_cpu_fixed.csv"), delimiter=",")
    x = cpu[:, 0].reshape(1, -1, 1)
    out = str(tmp_path_factory.mktemp("lif") / "out")
    result = compile_model(paper("01_lif", "lif_norse.nir"), "loihi2", load_options=LoadOptions(dt=1e-4),
                           calibration=x, out_dir=out)
    return out, result.manifest, cpu, x


def test_spike_steps_and_scaled_v_trace_match_the_recordings(compiled, paper):
    out, manifest, cpu, x = compiled
    chip = np.loadtxt(paper("01_lif", "lif_lava_loihi_fixed.csv"), delimiter=",")
    node = manifest["reports"]["loihi2"]["nodes"]["1"]
    assert np.flatnonzero(cpu[:, 2]).tolist() == np.flatnonzero(chip[:, 2]).tolist() == SPIKES
    gold = run_golden(load_artifact(out), x, trace=True)
    assert np.flatnonzero(gold.raw["1"][0, :, 0]).tolist() == SPIKES
    # aligned to the reference index: one step earlier, where norse and the exact solution spike
    assert np.flatnonzero(gold.spikes["1"][0, :, 0]).tolist() == [s - 1 for s in SPIKES]
    factor = CSV_UNIT / node["v_scale"]
    assert abs(factor - round(factor)) < 1e-3 * factor and round(factor) > 1
    v = gold.extra["trace"]["1"]["v"][0, :1000, 0]
    threshold = node["processes"]["n_1"]["vth"] * 64
    assert np.all(v[SPIKES] == 0) and np.all(v[:61] == 0) and v[61] > 0  # reset; first input
    assert np.abs(v - round(factor) * cpu[:, 1]).max() < 0.01 * threshold


PAPER_PIPELINE = ("fold-batchnorm,fold-mpbn,simplify,discretize{decay_rounding=floor},"
                  "quantize{state_scale=0.004},prune,map-cores")


@pytest.fixture(scope="module")
def compiled_in_paper_integers(paper, tmp_path_factory):
    cpu = np.loadtxt(paper("01_lif", "lif_lava_cpu_fixed.csv"), delimiter=",")
    tmp = tmp_path_factory.mktemp("lif_paper")
    np.save(tmp / "x.npy", cpu[:, 0].reshape(1, -1, 1))
    out = tmp / "out"
    result = CliRunner().invoke(main, ["compile", paper("01_lif", "lif_norse.nir"), "-t", "loihi2", "--dt", "1e-4",
                                       "--pipeline", PAPER_PIPELINE, "--calibration", str(tmp / "x.npy"),
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    return str(out), cpu


def test_converter_rounding_and_scale_reproduce_the_recorded_v_trace_exactly(compiled_in_paper_integers, paper):
    out, cpu = compiled_in_paper_integers
    manifest = json.loads((Path(out) / "manifest.json").read_text())
    node = manifest["reports"]["loihi2"]["nodes"]["1"]
    assert node["processes"]["n_1"] == {"size": 1, "du": 4095, "dv": 163, "vth": 25}   # the converter's
    assert node["v_scale"] == pytest.approx(CSV_UNIT, rel=1e-12)                        # factor 1
    gold = run_golden(load_artifact(out), cpu[:, 0].reshape(1, -1, 1), trace=True)
    assert np.flatnonzero(gold.raw["1"][0, :, 0]).tolist() == SPIKES
    np.testing.assert_array_equal(gold.extra["trace"]["1"]["v"][0, :1000, 0], cpu[:, 1])


@pytest.mark.lava
@pytest.mark.skipif(importlib.util.find_spec("lava") is None, reason="lava-nc is not installed")
def test_lava_reproduces_the_recorded_v_trace_in_the_paper_integers(compiled_in_paper_integers):
    out, cpu = compiled_in_paper_integers
    x = cpu[:, 0].reshape(1, -1, 1)
    lava = run(out, x[:, :700], "lava", record_state=True)
    assert np.flatnonzero(lava.raw["1"][0, :, 0]).tolist() == SPIKES[:2]
    # 700 input steps run for 700 + lag (1) steps: the final v is the CSV's row 700
    assert lava.states["1"]["v"][0, 0] == cpu[700, 1] == 927


@pytest.mark.lava
@pytest.mark.skipif(importlib.util.find_spec("lava") is None, reason="lava-nc is not installed")
def test_lava_runs_the_compiled_neuron_like_golden(compiled):
    out, _, _, x = compiled
    gold = run(out, x, "golden", record_state=True)
    lava = run(out, x, "lava", record_state=True)
    assert np.flatnonzero(lava.raw["1"][0, :, 0]).tolist() == SPIKES
    np.testing.assert_array_equal(lava.states["1"]["v"], gold.states["1"]["v"])
    np.testing.assert_array_equal(lava.states["1"]["u"], gold.states["1"]["u"])
