"""The NIR paper's single LIF neuron (01_lif): the chip's recorded trace is reproduced.

lif_spinnaker2.csv has 1000 rows, columns (input, v, spike), no header; its writer
(NIR repo paper/01_lif/lif_spinnaker2.py) dropped the first recorded step and divided
v by the weight scale 102.02 it had folded into the graph, so row t holds hardware
step t + 1 and v = v_hw / 102.02.
"""
from pathlib import Path

import nir
import numpy as np
import pytest

from snncc.targets.spinnaker2 import (
    NetSpec, Population, RunOptions, dense_projection_from_nir, lif_population_from_nir,
    nir_weight_scale,
)
from snncc.targets.spinnaker2 import emulator

PAPER = Path("/work/shared/nir-paper/01_lif")
DT = 1e-4
CHIP_SPIKES = [460, 510, 710, 760]


@pytest.fixture(scope="module")
def trace():
    data = np.loadtxt(PAPER / "lif_spinnaker2.csv", delimiter=",")
    assert data.shape == (1000, 3)
    return data


@pytest.fixture(scope="module")
def graph():
    return nir.read(str(PAPER / "lif_norse.nir"))


def _spec(graph, w_scale, integrator="forward"):
    affine, lif = graph.nodes["0"], graph.nodes["1"]
    pop = lif_population_from_nir("lif", lif, dt=DT, w_scale=w_scale, bias=affine.bias,
                                  integrator=integrator)
    proj = dense_projection_from_nir("affine", "input", "lif", affine.weight, w_scale=w_scale)
    return NetSpec("lif_norse", (Population("input", 1, "spike_list"), pop), (proj,),
                   RunOptions(timesteps=1001, sys_tick_in_s=1e-3))


def test_csv_layout(trace):
    assert np.flatnonzero(trace[:, 2]).tolist() == CHIP_SPIKES
    assert set(np.unique(trace[:, 0])) == {0.0, 1.0}
    assert np.all(trace[trace[:, 2] == 1, 1] == 0.0)  # reset to zero, recorded after reset


def test_conversion_parameters(graph):
    # forward Euler: alpha = 1 - dt/tau = 0.96, r_factor = 0.04, threshold = 0.1*w/0.04
    spec = _spec(graph, 102.02)
    pop = spec.population("lif")
    assert pop.params.alpha_decay == np.float32(0.96)
    assert pop.params.threshold == np.float32(0.1 * 102.02 / 0.04)
    assert pop.v_scale == pytest.approx(102.02 / 0.04)
    assert spec.projections[0].weights.tolist() == [[102]]


@pytest.mark.parametrize("precision,tol", [("float32", 2e-6), ("float64", 1e-12)])
def test_reproduces_chip_trace(graph, trace, precision, tol):
    w_scale = 102.02  # the scale the paper's script folded into the NIR graph
    result = emulator.run(_spec(graph, w_scale), {"input": trace[:, :1]}, precision=precision)
    spikes = result.spikes["lif"][0, 1:, 0]  # drop step 0 as the CSV writer did
    assert np.flatnonzero(spikes).tolist() == CHIP_SPIKES
    v = result.v_hw["lif"][0, 1:, 0].astype(np.float64) / w_scale
    err = np.abs(v - trace[:, 1]) / np.maximum(np.abs(trace[:, 1]), 1.0)
    assert err.max() < tol


def test_int8_scale_keeps_spike_steps(graph, trace):
    # s2_nir's own scale 127/max|w| quantizes the weight differently (127 vs 102.02 -> 102),
    # so v agrees only to that rounding, the spike steps exactly
    w_scale = nir_weight_scale(graph.nodes["0"].weight)
    assert w_scale == 127.0
    result = emulator.run(_spec(graph, w_scale), {"input": trace[:, :1]})
    assert np.flatnonzero(result.spikes["lif"][0, 1:, 0]).tolist() == CHIP_SPIKES
    v = result.v_hw["lif"][0, 1:, 0] / w_scale
    assert np.abs(v - trace[:, 1]).max() < 1e-3


def test_exponential_integrator_differs_from_chip(graph, trace):
    # the trace decays by exactly 0.96 per step: the paper's importer used forward Euler
    ratio = trace[61, 1] / trace[60, 1]
    assert ratio == pytest.approx(float(np.float32(0.96)), abs=1e-9)
    result = emulator.run(_spec(graph, 102.02, "exponential"), {"input": trace[:, :1]})
    v = result.v_hw["lif"][0, 1:, 0] / 102.02
    assert np.abs(v - trace[:, 1]).max() > 1e-2


def test_batch_and_pe_counts(graph, trace):
    inp = np.stack([trace[:, :1], np.zeros_like(trace[:, :1])])  # [2, 1000, 1]
    result = emulator.run(_spec(graph, 102.02), {"input": inp})
    assert result.spikes["lif"].shape == (2, 1001, 1)
    assert not result.spikes["lif"][1].any()
    table = result.pe.table()
    assert [row["population"] for row in table] == ["input", "lif"]
    n_in = int(trace[:, 0].sum())
    assert table[0]["packets_sent"] == n_in  # lif has no outgoing projection: sends none
    assert table[1]["packets_received"] == n_in and table[1]["synaptic_events"] == n_in
    assert table[1]["overrun_steps"] == 0
