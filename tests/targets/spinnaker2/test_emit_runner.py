"""Emission: schema-valid deterministic netlist, round trip, and the generated runner
executed against a recording fake of the py-spinnaker2 API (conftest.FAKE)."""
import json

import numpy as np
import pytest

from snncc.diagnostics import SnnccError
from snncc.targets.spinnaker2 import (
    Conv2DParams, NetSpec, NeuronParams, Population, Projection, RunOptions,
)
from snncc.targets.spinnaker2.emit import emit, load, to_json, validate_netlist_json

def network(timesteps=5):
    rng = np.random.default_rng(1)
    dense = rng.integers(-15, 16, size=(16, 6))
    dense[0, :] = 0  # zero = no synapse
    return NetSpec("demo", (
        Population("in", 16, "spike_list", shape=(1, 4, 4)),
        Population("hid", 6, "lif", NeuronParams(threshold=rng.uniform(5, 9, 6),
                                                   alpha_decay=0.9, i_offset=0.25),
                   record=("spikes", "v"), max_atoms_per_core=4, v_scale=2.0),
        Population("cx", 3, "lif_curr_exp", NeuronParams(
            threshold=4.0, alpha_decay=0.8, exc_decay=0.5, inh_decay=0.25,
            reset="reset_to_v_reset", v_reset=-1.0, t_refrac=2), record=("spikes",)),
        Population("conv", 2 * 3 * 3, "lif_conv2d", NeuronParams(threshold=3.0, alpha_decay=1.0),
                   record=("spikes", "time_done", "n_packets")),
    ), (
        Projection("p_dense", "in", "hid", "dense", dense, weight_scale=0.01,
                   delays=rng.integers(0, 8, size=(16, 6))),
        Projection("p_sparse", "hid", "cx", "sparse", [5, -7, 3], pre_idx=[0, 2, 5],
                   post_idx=[1, 1, 2], delays=[1, 0, 7]),
        Projection("p_conv", "in", "conv", "conv2d", rng.integers(-127, 128, size=(1, 2, 2, 2)),
                   conv=Conv2DParams(in_channels=1, in_height=4, in_width=4)),
    ), RunOptions(timesteps=timesteps, sys_tick_in_s=2e-3, dvfs="auto", pl_threshold=30))


def test_runner_builds_the_netlist(tmp_path, run_on_fake_api):
    spec = network()
    files = emit(spec, tmp_path / "out")
    compile(files.runner.read_text(), str(files.runner), "exec")
    spikes = np.zeros((2, 4, 16), dtype=np.int8)
    spikes[0, 1, [2, 5]] = 1
    spikes[1, 3, 15] = 1
    np.savez(tmp_path / "inputs.npz", **{"in": spikes})
    calls = run_on_fake_api(files.runner, "--eth-ip", "10.0.0.7", "--input",
                            str(tmp_path / "inputs.npz"), "--out", str(tmp_path / "r.npz"))

    pops = [c for c in calls if c["kind"] == "Population"]
    assert [p["name"] for p in pops] == ["in", "hid", "cx", "conv"] * 2  # one build per sample
    assert pops[0]["params"] == {"2": [1], "5": [1]} | {str(i): [] for i in range(16)
                                                         if i not in (2, 5)}
    assert pops[4]["params"]["15"] == [3]
    hid = pops[1]
    assert hid["neuron_model"] == "lif" and hid["record"] == ["spikes", "v"]
    np.testing.assert_array_equal(np.float32(hid["params"]["threshold"]),
                                  spec.population("hid").params.threshold)
    assert hid["params"]["alpha_decay"] == float(np.float32(0.9))
    assert hid["params"]["reset"] == "reset_by_subtraction" and "exc_decay" not in hid["params"]
    cx = pops[2]["params"]
    assert (cx["exc_decay"], cx["inh_decay"], cx["t_refrac"], cx["reset"], cx["v_reset"]) == \
        (0.5, 0.25, 2, "reset_to_v_reset", -1.0)
    atoms = {c["name"]: c["n"] for c in calls if c["kind"] == "set_max_atoms_per_core"}
    assert atoms == {"in": 256, "hid": 4, "cx": 256, "conv": 256}

    projs = [c for c in calls if c["kind"] == "Projection"][:2]
    for call, proj in zip(projs, spec.projections[:2]):
        assert (call["pre"], call["post"]) == (proj.pre, proj.post)
        assert sorted(map(tuple, call["connections"])) == sorted(
            map(tuple, proj.connection_list().tolist()))
    assert len(projs[0]["connections"]) == int(np.count_nonzero(spec.projections[0].weights))
    conv = next(c for c in calls if c["kind"] == "Conv2DProjection")
    assert conv["dtype"] == "int8" and conv["weights"] == spec.projections[2].weights.tolist()
    assert conv["conv_params"] == {"in_height": 4, "in_width": 4, "stride_x": 1, "stride_y": 1,
                                   "pool_x": 1, "pool_y": 1, "pad_top": 0, "pad_bottom": 0,
                                   "pad_left": 0, "pad_right": 0}
    chips = [c for c in calls if c["kind"] == "SpiNNaker2Chip"]
    assert chips == [{"kind": "SpiNNaker2Chip", "eth_ip": "10.0.0.7"}] * 2
    runs = [c for c in calls if c["kind"] == "run"]
    assert runs[0] == {"kind": "run", "net": "demo", "timesteps": 5, "sys_tick_in_s": 2e-3,
                       "n_objects": 7}
    dvfs = {(c["app"], c["mode"], c["pl_threshold"]) for c in calls if c["kind"] == "dvfs"}
    assert dvfs == {("LIFNoDelayApplication", "PL_MODE_LOW", 30),
                    ("LIFConv2dApplication", "PL_MODE_LOW", 30)}

    with np.load(tmp_path / "r.npz") as r:
        assert sorted(r.files) == ["conv.n_packets", "conv.spikes", "conv.time_done",
                                   "cx.spikes", "hid.spikes", "hid.v", "hid.v_hw"]
        assert r["hid.spikes"].shape == (2, 5, 6)
        assert np.flatnonzero(r["hid.spikes"][0, :, 0]).tolist() == [1, 3]
        np.testing.assert_array_equal(r["hid.v"][1, :, 2], np.arange(5) * 3.0 / 2.0)
        assert r["conv.time_done"].shape == (2, 2, 5)


def test_brian2_backend_flag(tmp_path, run_on_fake_api):
    files = emit(network(), tmp_path / "out")
    calls = run_on_fake_api(files.runner, "--backend", "brian2",
                            "--out", str(tmp_path / "r.npz"), "--timesteps", "9")
    assert [c["kind"] for c in calls if c["kind"] in ("Brian2Backend", "SpiNNaker2Chip")] == \
        ["Brian2Backend"]
    run = next(c for c in calls if c["kind"] == "run")
    assert run["timesteps"] == 9 and run["sys_tick_in_s"] is None


def test_netlist_is_schema_valid_deterministic_and_round_trips(tmp_path):
    spec = network()
    a, b = emit(spec, tmp_path / "a"), emit(network(), tmp_path / "b")
    assert a.netlist.read_bytes() == b.netlist.read_bytes()
    assert a.arrays.read_bytes() == b.arrays.read_bytes()
    doc = json.loads(a.netlist.read_text())
    validate_netlist_json(doc)
    assert doc["populations"][1]["params"]["threshold"] == {"ref": "pop1.threshold"}
    assert doc["populations"][1]["params"]["alpha_decay"] == float(np.float32(0.9))
    back = load(tmp_path / "a")
    assert to_json(back)[0] == doc
    for x, y in zip(back.projections, spec.projections):
        np.testing.assert_array_equal(x.weights, y.weights)
        np.testing.assert_array_equal(x.delays, y.delays)


@pytest.mark.parametrize("mutate,where", [
    (lambda d: d["populations"][1].update(neuron_model="lif_typo"), "/populations/1"),
    (lambda d: d["projections"][0].pop("weights"), "/projections/0"),
    (lambda d: d["run"].update(timesteps=0), "/run/timesteps"),
    (lambda d: d["projections"][2].update(delays=3), "/projections/2"),
    (lambda d: d["populations"][0].update(params={"threshold": 1.0}), "/populations/0"),
])
def test_invalid_netlist_rejected(mutate, where):
    doc, _ = to_json(network())
    mutate(doc)
    with pytest.raises(SnnccError) as err:
        validate_netlist_json(doc)
    assert err.value.diagnostics[0].code == "SNN447" and where in str(err.value)


def test_emit_refuses_over_limit_network(tmp_path):
    spec = network()
    bad = NetSpec(spec.name, spec.populations, (Projection(
        "p_dense", "in", "hid", "dense", np.full((16, 6), 40), delays=9),), spec.run)
    with pytest.raises(SnnccError) as err:
        emit(bad, tmp_path)
    assert sorted(d.code for d in err.value.diagnostics) == ["SNN441", "SNN442"]
    assert not (tmp_path / "spinnaker2").exists()


def test_emulate_emitted_folder(tmp_path):
    from snncc.targets.spinnaker2 import run, run_emitted

    spec = network(timesteps=30)
    emit(spec, tmp_path)
    x = np.random.default_rng(2).random((2, 25, 16)) < 0.5
    a, b = run(spec, {"in": x}), run_emitted(tmp_path, {"in": x})
    for name in ("hid", "cx", "conv"):
        np.testing.assert_array_equal(a.spikes[name], b.spikes[name])
        np.testing.assert_array_equal(a.v_hw[name], b.v_hw[name])
    assert a.spikes["hid"].any() and a.spikes["conv"].any()
    np.testing.assert_array_equal(a.pe.cycles, b.pe.cycles)
    with pytest.raises(SnnccError) as err:
        run(spec, {"wrong": x})
    assert err.value.diagnostics[0].code == "SNN541"


def test_emulator_refuses_what_the_chip_cannot_hold():
    from snncc.targets.spinnaker2 import run

    spec = network()
    bad = NetSpec(spec.name, spec.populations, spec.projections[:1] + (Projection(
        "p_sparse", "hid", "cx", "sparse", [16], pre_idx=[0], post_idx=[1]),), spec.run)
    with pytest.raises(SnnccError) as err:
        run(bad, {"in": np.zeros((3, 16))})
    assert [d.code for d in err.value.diagnostics] == ["SNN441"]
