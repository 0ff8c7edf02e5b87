"""Folding search and resource estimates."""
import shutil

import numpy as np
import pytest

from snncc.targets.fpga.cycle_sim import run_cycle_sim
from snncc.targets.fpga.emit import emit
from snncc.targets.fpga.example_nets import one_neuron_lif, random_dense_net
from snncc.targets.fpga.folding import divisors, engine_cycles, fold, step_cycles
from snncc.targets.fpga.resources import Resources, bram18_count, estimate_engine, yosys_stat

KW = dict(w_bits=8, v_bits=16, pe=1, simd=1, leak="shift", reset="subtract", comparator=">=",
          saturate=False)


def net():
    return random_dense_net(0, (24, 32, 10), [KW, KW])


def test_formulas_on_hand_values():
    assert divisors(12) == [1, 2, 3, 4, 6, 12]
    assert engine_cycles(128, 4, 8, 20) == 32 * (3 + 1) + 1
    assert engine_cycles(10, 1, 4, 0) == 10 * 1 + 1
    # FINN BRAM_18K table
    assert bram18_count(1024, 18) == 1 and bram18_count(2048, 8) == 1
    assert bram18_count(4096, 4) == 1 and bram18_count(600, 36) == 2
    assert bram18_count(512, 36) == 1 and bram18_count(20000, 1) == 2


def test_resources_grow_with_parallelism():
    small = estimate_engine(64, 128, 1, 1, 8, 16, 16)
    big = estimate_engine(64, 128, 16, 4, 8, 16, 16)
    assert big.lut > 5 * small.lut and big.ff > small.ff
    assert estimate_engine(64, 128, 4, 1, 8, 16, 16, leak="mul").dsp == 4
    assert (small + big).lut == small.lut + big.lut


@pytest.mark.parametrize("target", [400, 120, 40])
def test_fold_meets_target_and_matches_cycle_sim(target, tmp_path):
    res = fold(net(), target)
    assert res.target_met and res.cycles_per_step <= target
    assert res.spec.validate() == []
    assert res.cycles_per_step == step_cycles(res.spec, [24, 32])
    # the closed form predicts the simulated count given each step's activity
    x = np.ones((1, 3, 24), np.uint8)
    sim = run_cycle_sim(emit(res.spec, tmp_path), x)
    for t in range(3):
        hidden = int(sim.spikes[0][0, t].sum())
        assert sim.cycles[0, t] == step_cycles(res.spec, [24, hidden])
    assert sim.cycles.max() <= res.cycles_per_step


def test_tighter_target_costs_more_and_budget_is_respected():
    loose, tight = fold(net(), 400), fold(net(), 40)
    assert tight.resources.lut > loose.resources.lut
    budget = Resources(lut=3000, ff=10**6, bram18=100, dsp=0)
    capped = fold(net(), 10, budget=budget)
    assert not capped.target_met and capped.resources.fits(budget)
    assert capped.cycles_per_step < fold(net(), None).cycles_per_step


@pytest.mark.skipif(shutil.which("yosys") is None, reason="yosys not installed")
def test_yosys_stat_on_one_neuron(tmp_path):
    cells = yosys_stat(emit(one_neuron_lif(), tmp_path))
    assert cells["cells"] > 50
    assert any("DFF" in name for name in cells)


def test_fold_conv_engine_raises_pe_over_output_channels(tmp_path):
    from snncc.targets.fpga.example_nets import conv_stack

    spec = conv_stack()
    res = fold(spec, 300, activity=0.3)
    conv_pes = [e.pe for e in res.engines[:2]]
    assert all(l.simd == 1 for l in res.spec.layers[:2]) and res.spec.validate() == []
    assert conv_pes[0] in (1, 2, 4) and conv_pes[1] in (1, 2, 3, 6)
    # the closed form equals the simulated count at the realised activity
    x = (np.random.default_rng(0).random((1, 3, 162)) < 0.3).astype(np.uint8)
    sim = run_cycle_sim(emit(res.spec, tmp_path), x)
    for t in range(3):
        active = [int(x[0, t].sum())] + [int(s[0, t].sum()) for s in sim.spikes[:-1]]
        assert sim.cycles[0, t] == step_cycles(res.spec, active)
