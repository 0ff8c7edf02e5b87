"""The NIR paper's LIF neuron compiled for spinnaker2 and run on the ``spinnaker2-emu``
backend reproduces the SpiNNaker 2 chip's recording (01_lif/lif_spinnaker2.csv).

The CSV's writer folded weight scale 102.02 into the graph (integer weight 102 on the
chip) and wrote v_hw / 102.02 with the first step dropped (test_nir_lif.py), so
``csv_v * 102.02 / 102`` is the chip's voltage in units of one input synapse. The
compiled netlist's integer weight plays the same role for the emulator.
"""
import json

import numpy as np
import pytest

from snncc.loading import LoadOptions
from snncc.runtime.backend import run

CHIP_SPIKES = [460, 510, 710, 760]
CHIP_WEIGHT_SCALE, CHIP_WEIGHT = 102.02, 102
DT = 1e-4


@pytest.fixture(scope="module")
def compiled(paper, s2_compiled):
    out, result = s2_compiled(paper("01_lif", "lif_norse.nir"), LoadOptions(dt=DT))
    csv = np.loadtxt(paper("01_lif", "lif_spinnaker2.csv"), delimiter=",")
    return out, result, csv


def test_chip_spike_steps_and_voltage(compiled):
    out, result, csv = compiled
    ran = run(str(out), csv[None, :, :1], "spinnaker2-emu", record_state=True)
    (lif,) = ran.spikes
    # aligned to the reference: chip row t is hardware step t + 1 = this population's lag
    assert np.flatnonzero(ran.spikes[lif][0, :, 0]).tolist() == CHIP_SPIKES
    assert np.flatnonzero(ran.raw[lif][0, :, 0]).tolist() == [t + 1 for t in CHIP_SPIKES]

    manifest = json.loads((out / "manifest.json").read_text())
    report = manifest["reports"]["spinnaker2"]
    assert report["populations"][lif]["lag"] == 1
    (proj,) = report["projections"].values()
    with np.load(out / "spinnaker2" / "weights.npz") as arrays:
        (weight,) = arrays["proj0.weights"].ravel()
    # the compile's one scale factor: integer weight = discretized weight (dt/tau = 0.04)
    # / weight_scale, and v_scale = 1 / weight_scale (hardware volts per model volt)
    assert weight == pytest.approx(0.04 / proj["weight_scale"], rel=1e-6)
    assert report["populations"][lif]["v_scale"] == pytest.approx(1 / proj["weight_scale"])
    v_units = ran.states[lif]["v"][0, :, 0].astype(np.float64) / weight
    chip_units = csv[:, 1] * CHIP_WEIGHT_SCALE / CHIP_WEIGHT
    err = np.abs(v_units - chip_units) / np.maximum(np.abs(chip_units), 1.0)
    assert err.max() < 1e-6  # float32 rounding of two different integer weights
    np.testing.assert_allclose(ran.states[lif]["v"][0, :, 0] * ran.state_scale[lif],
                               chip_units * 0.04, rtol=0, atol=1e-6)


def test_reference_backend_agrees_on_the_spike_steps(compiled):
    out, _, csv = compiled
    ref = run(str(out), csv[None, :, :1], "reference")
    emu = run(str(out), csv[None, :, :1], "spinnaker2-emu")
    for name, spikes in ref.spikes.items():
        np.testing.assert_array_equal(emu.spikes[name], spikes)
    np.testing.assert_array_equal(emu.output, ref.output)


def test_per_pe_counts_for_the_energy_report(compiled):
    out, _, csv = compiled
    ran = run(str(out), csv[None, :, :1], "spinnaker2-emu")
    table = ran.extra["pe"]
    n_in = int(csv[:, 0].sum())
    assert [row["population"] for row in table] == ["input", next(iter(ran.spikes))]
    assert table[0]["packets_sent"] == n_in and table[1]["packets_received"] == n_in
    assert ran.extra["steps"] == 1001  # one extra step for the lag
    assert all(0 < row["mean_time_per_step_s"] < 1e-3 for row in table)
