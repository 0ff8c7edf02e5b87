"""The quantised-ANN comparison and the NeuroBench-style counts of the tiny network, by hand."""
import math

import pytest
from energy_kit import X, Caps, constants, tiny_graph, tiny_result

from snncc.energy import build_report, load_table
from snncc.energy.ann import op_energy


def _report(caps):
    return build_report(tiny_graph(), "test", caps, X, tiny_result(), load_table("generic45nm"))


def test_op_energy_hits_the_published_points_and_interpolates_by_power_law():
    c, table = constants("ann45nm"), load_table("ann45nm")
    assert op_energy(table, 8) == pytest.approx((c["e_mult_int8"], c["e_add_int8"]))
    assert op_energy(table, 32) == pytest.approx((c["e_mult_int32"], c["e_add_int32"]))
    assert op_energy(table, None) == pytest.approx((c["e_mult_fp32"], c["e_add_fp32"]))
    p_mult = math.log(3.1 / 0.2) / math.log(4)
    assert op_energy(table, 4)[0] == pytest.approx(0.2e-12 * 0.5 ** p_mult)


def test_float_snn_against_the_same_topology_as_an_ann():
    c = constants("ann45nm")
    a = _report(Caps())["ann_comparison"]
    mac, add, bit = c["e_mult_fp32"] + c["e_add_fp32"], c["e_add_fp32"], c["e_mem_bit"]
    # SNN: 6 binary synops (adds), 8 neuron updates (a multiply-add each); memory: 6 weights, 8 state
    # reads and 8 writes of 32 bits, 3 one-bit spikes
    assert a["snn"]["compute_j"] == pytest.approx(6 * add + 8 * mac)
    assert a["snn"]["memory_bits"] == 6 * 32 + 8 * 32 + 8 * 32 + 3
    assert a["snn"]["memory_j"] == pytest.approx((6 * 32 + 16 * 32 + 3) * bit)
    # ANN: one pass, 5 deployed synapses = 5 MACs, a bias add per neuron; 5 weights + 4 activations read/written
    assert a["ann"]["macs"] == 5 and a["ann"]["weights"] == 5 and a["ann"]["activations"] == 4
    assert a["ann"]["compute_j"] == pytest.approx(5 * mac + 4 * add)
    assert a["ann"]["memory_j"] == pytest.approx((5 + 4) * 32 * bit)
    ratio = (6 * add + 8 * mac + 707 * bit) / (5 * mac + 4 * add + 9 * 32 * bit)
    assert a["snn_over_ann"] == pytest.approx(ratio) and a["snn_pays"] is (ratio < 1)
    assert a["bits"] is None


def test_8_bit_comparison_uses_8_bit_operands_on_both_sides():
    c = constants("ann45nm")
    a = _report(Caps(8, 24))["ann_comparison"]
    mac, add = c["e_mult_int8"] + c["e_add_int8"], c["e_add_int8"]
    assert a["bits"] == 8
    assert a["snn"]["memory_bits"] == 6 * 8 + 16 * 24 + 3
    assert a["ann"]["memory_bits"] == (5 + 4) * 8
    assert a["ann"]["compute_j"] == pytest.approx(5 * mac + 4 * add)
    assert a["snn"]["compute_j"] == pytest.approx(6 * add + 8 * mac)


def test_neurobench_counts():
    nb = _report(Caps(8, 24))["neurobench"]
    assert nb["synaptic_operations"] == {"effective_ac": 6, "effective_mac": 0, "dense": 18}
    assert nb["activation_sparsity"] == pytest.approx(1 - 3 / (4 * 2))  # 3 spikes in 4 neurons x 2 steps
    assert nb["connection_sparsity"] == pytest.approx(4 / 9)  # 3 zeros in W1, 1 in W2
    assert nb["neuron_updates"] == 8
    assert nb["footprint_bits"] == {"weights": 9 * 8, "neuron_state": 4 * 24, "total": 9 * 8 + 4 * 24}
    params = 6 + 3 + 5 * 3 + 5 * 1  # W1, W2, and LIF's five per-neuron arrays
    assert nb["parameter_count"] == params
