"""Cycle-simulator event counters and the energy estimate, on hand-computed values."""
import numpy as np
import pytest

from snncc.targets.fpga.cycle_sim import run_cycle_sim
from snncc.targets.fpga.emit import emit
from snncc.targets.fpga.energy import EnergyModel, estimate_energy
from snncc.targets.fpga.example_nets import one_neuron_lif, small_conv_net
from snncc.targets.fpga.golden import run_golden


def test_one_neuron_counts_and_energy(tmp_path):
    x = np.array([1, 1, 0], dtype=np.uint8).reshape(1, 3, 1)
    sim = run_cycle_sim(emit(one_neuron_lif(), tmp_path), x)
    assert sim.counters["sops"][0, :, 0].tolist() == [1, 1, 0]
    assert sim.counters["neuron_updates"][0, :, 0].tolist() == [1, 1, 1]
    assert sim.cycles[0].tolist() == [4, 4, 3]
    rep = estimate_energy(sim, EnergyModel(e_sop_pj=31.0, p_static_w=0.11, f_clk_hz=100e6))
    assert rep.dynamic_uj[0] == pytest.approx(2 * 31e-6)
    assert rep.static_uj[0] == pytest.approx(0.11 * 11 / 100e6 * 1e6)
    assert rep.latency_us[0] == pytest.approx(0.11)


def test_conv_sops_equal_active_inputs_times_fanout(tmp_path):
    spec = small_conv_net()
    x = (np.random.default_rng(5).random((2, 3, 64)) < 0.3).astype(np.uint8)
    sim = run_cycle_sim(emit(spec, tmp_path), x)
    gold = run_golden(spec, x)
    # the dense-lowered engine touches all N_out synapses of an active input
    np.testing.assert_array_equal(sim.counters["sops"][..., 0], x.sum(axis=2) * 256)
    np.testing.assert_array_equal(sim.counters["sops"][..., 1],
                                  gold.spikes[0].astype(np.int64).sum(axis=2) * 10)
    np.testing.assert_array_equal(sim.counters["spikes_out"][..., 1],
                                  gold.spikes[1].astype(np.int64).sum(axis=2))
