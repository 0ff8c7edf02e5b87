"""Limit checks: every violation of a network comes back from one call."""
import numpy as np
import pytest

from snncc.diagnostics import SnnccError
from snncc.targets.spinnaker2 import (
    Conv2DParams, NetSpec, NeuronParams, Population, Projection, RunOptions,
)
from snncc.targets.spinnaker2.limits import SpiNNaker2Limits
from snncc.targets.spinnaker2.memory import pe_memory
from snncc.targets.spinnaker2.validate import check, find_violations, validate

LIF = NeuronParams(threshold=10.0, alpha_decay=0.9)


def _net(populations, projections, timesteps=100):
    return NetSpec("net", tuple(populations), tuple(projections), RunOptions(timesteps=timesteps))


def over_limit_network():
    """(a) weight 20 in a delay model, (b) 300 lif neurons on one PE, (c) a PE over 96 KB."""
    rng = np.random.default_rng(0)
    w = rng.integers(-15, 16, size=(8, 300))
    w[3, 7] = 20
    return _net(
        [Population("in", 8, "spike_list"),
         Population("delay_lif", 300, "lif", LIF, max_atoms_per_core=300),
         # 256 neurons recording v for 100 steps: (1 + 256) * 100 words = 102,800 B
         Population("big", 512, "lif_no_delay", LIF, record=("v",), max_atoms_per_core=256)],
        [Projection("w_in", "in", "delay_lif", "dense", w, delays=3),
         Projection("w_big", "in", "big", "dense", np.ones((8, 512), dtype=int))],
    )


def test_all_three_violations_in_one_call():
    diags = validate(over_limit_network())
    codes = sorted(d.code for d in diags)
    assert codes == ["SNN441", "SNN443", "SNN444", "SNN444"]  # both PEs of 'big' overflow
    by_code = {d.code: d for d in diags}
    assert by_code["SNN441"].node == "w_in" and "measured 20, limit 15" in by_code["SNN441"].message
    assert by_code["SNN443"].node == "delay_lif" and "measured 300, limit 256" in \
        by_code["SNN443"].message
    assert by_code["SNN444"].node == "big" and "limit 98304" in by_code["SNN444"].message
    assert all(d.hint for d in diags)
    with pytest.raises(SnnccError) as err:
        check(over_limit_network())
    assert len(err.value.diagnostics) == 4


def test_recording_budget_grows_with_run_length():
    net = _net([Population("in", 4, "spike_list"),
                Population("p", 100, "lif_no_delay", LIF, record=("spikes", "v", "time_done"))],
               [Projection("j", "in", "p", "dense", np.ones((4, 100), dtype=int))], timesteps=10)
    mem = pe_memory(net, SpiNNaker2Limits())[1]
    # spikes (ceil(100/32) + 2) + v (1 + 100) + time_done 1 = 108 words per step
    assert mem.recording_bytes == 4 * 108 * 10
    # rows: 4 sources x (12 B header + 100 x 4 B), one MPT entry for the single source PE
    assert mem.synapse_bytes == 4 * (12 + 400) + 12
    assert validate(net) == []
    longer = NetSpec("net", net.populations, net.projections, RunOptions(timesteps=300))
    assert [d.code for d in validate(longer)] == ["SNN444"]


def test_delays_weights_and_scales():
    net = _net(
        [Population("in", 4, "spike_list"), Population("a", 4, "lif", LIF),
         Population("b", 4, "lif_no_delay", LIF)],
        [Projection("d8", "in", "a", "sparse", [1, 2], delays=[0, 8], pre_idx=[0, 1],
                    post_idx=[0, 1]),
         Projection("nd", "in", "b", "dense", np.full((4, 4), 100), delays=1),
         Projection("int8", "in", "b", "dense", np.full((4, 4), -128), weight_scale=0.5)])
    found = {(v.code, v.layer): v for v in find_violations(net)}
    assert found[("SNN442", "d8")].measured == 8
    assert found[("SNN442", "nd")].limit == 0  # no-delay model with a delay
    assert found[("SNN441", "int8")].measured == 128 and found[("SNN441", "int8")].limit == 127
    assert ("SNN441", "nd") not in found  # 100 fits int8
    assert ("SNN448", "b") in found  # scales 1.0 and 0.5 into one population
    assert len(found) == 4


def test_structure_errors_are_collected():
    net = _net(
        [Population("in", 3, "spike_list"), Population("x", 4, "izhikevich_typo", LIF),
         Population("c", 2 * 2 * 2, "lif_conv2d", NeuronParams(threshold=[1.0, 2.0],
                                                                 alpha_decay=1.0))],
        [Projection("ghost", "in", "nowhere", "dense", np.ones((3, 1))),
         Projection("conv", "in", "c", "conv2d", np.ones((1, 2, 2, 2), dtype=int),
                    conv=Conv2DParams(in_channels=1, in_height=3, in_width=1))])
    layers = sorted(v.layer for v in find_violations(net) if v.code == "SNN447")
    assert layers == ["c", "conv", "ghost", "x"]


def test_pe_and_router_limits():
    pops = [Population("in", 1000, "spike_list", max_atoms_per_core=1),
            Population("out", 10, "lif_no_delay", LIF, max_atoms_per_core=1)]
    net = _net(pops, [Projection("j", "in", "out", "dense", np.ones((1000, 10), dtype=int))])
    small = SpiNNaker2Limits(n_chips=4, router_entries_per_chip=100)
    found = {v.code: v for v in find_violations(net, small)}
    assert found["SNN446"].measured == 1010 and found["SNN446"].limit == 148 * 4
    assert found["SNN445"].limit == 100
    assert "SNN445" not in {v.code for v in find_violations(
        net, SpiNNaker2Limits(n_chips=8))}


def test_fractional_weights_are_refused():
    with pytest.raises(ValueError, match="integers"):
        Projection("j", "a", "b", "dense", np.array([[1.5]]))
    assert Projection("j", "a", "b", "dense", np.array([[2.0]])).weights.dtype == np.int64
