"""Randomised specs: golden == cycle simulator (many, fast, hypothesis) and == RTL (a few)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snncc.targets.fpga.cosim import cosimulate
from snncc.targets.fpga.cycle_sim import run_cycle_sim
from snncc.targets.fpga.emit import emit
from snncc.targets.fpga.example_nets import random_layer
from snncc.targets.fpga.folding import divisors
from snncc.targets.fpga.golden import run_golden
from snncc.targets.fpga.netspec import NetSpec

from fpga_ir_nets import requires_iverilog


def random_spec(seed: int) -> NetSpec:
    rng = np.random.default_rng(seed)
    sizes = [int(n) for n in rng.integers(1, 13, int(rng.integers(2, 5)))]
    layers = []
    for i in range(len(sizes) - 1):
        w_bits = int(rng.integers(4, 17))
        layers.append(random_layer(
            f"l{i}", rng, sizes[i], sizes[i + 1], w_bits=w_bits,
            v_bits=int(rng.integers(max(12, w_bits), 25)),
            pe=int(rng.choice(divisors(sizes[i + 1]))), simd=int(rng.integers(1, sizes[i] + 1)),
            leak=str(rng.choice(["none", "shift", "mul"])),
            reset=str(rng.choice(["value", "subtract", "none"])),
            comparator=str(rng.choice([">=", ">"])), saturate=bool(rng.integers(0, 2)),
            recurrent=bool(rng.integers(0, 2))))
    return NetSpec(sizes[0], tuple(layers))


@settings(max_examples=40, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31 - 1))
def test_golden_equals_cycle_sim(seed, tmp_path_factory):
    spec = random_spec(seed)
    assert spec.validate() == []
    rng = np.random.default_rng(seed + 1)
    x = (rng.random((2, 6, spec.n_in)) < rng.random()).astype(np.uint8)
    gold = run_golden(spec, x)
    sim = run_cycle_sim(emit(spec, tmp_path_factory.mktemp("p")), x)
    for a, b in zip(gold.spikes + gold.v, sim.spikes + sim.v):
        np.testing.assert_array_equal(a, b)


@requires_iverilog
@pytest.mark.parametrize("seed", [11, 22, 33, 44])
def test_random_designs_in_rtl(seed, tmp_path):
    spec = random_spec(seed)
    x = (np.random.default_rng(seed).random((2, 6, spec.n_in)) < 0.5).astype(np.uint8)
    rep = cosimulate(spec, x, tmp_path)
    assert rep.ok, (rep.rtl_spike_mismatches, rep.rtl_state_mismatches, rep.rtl_cycles_equal)
