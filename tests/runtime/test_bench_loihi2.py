"""`snncc bench` on Loihi 2 artifacts: reference, golden and real Lava, and a corrupted netlist.

The loihi2 golden backend computes from the compiler's intent (OUT/ir lowered again), Lava
runs the emitted OUT/loihi2 files (the files that ship), so a weight changed there moves
only Lava, and bench names the layer, neuron and step where it leaves golden. An IF network
with weights on the integer grid is bit-exact between the reference and the integer core (no
decay rounding), so `--tolerance 1.0` checks all three.
"""
import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

import snncc
from snncc.cli import main
from snncc.ir import IF, Affine, Graph
from snncc.runtime.backend import load_artifact, run

pytest.importorskip("lava")
pytestmark = pytest.mark.lava


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _if_net() -> Graph:
    rng = np.random.default_rng(0)
    w1, w2 = rng.integers(-3, 6, (12, 8)) / 4, rng.integers(-3, 6, (5, 12)) / 4
    layer = lambda n: IF(r=np.ones(n), v_threshold=np.full(n, 2.0), v_reset=np.zeros(n))  # noqa: E731
    return Graph.sequential(Affine(weight=w1, bias=np.zeros(12)), layer(12), Affine(weight=w2, bias=np.zeros(5)), layer(5),
                            names=["fc1", "a", "fc2", "b"], dt=1e-3)


@pytest.fixture(scope="module")
def loihi2_if(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench-loihi2")
    snncc.compile(_if_net(), "loihi2", out_dir=str(root / "OUT"))
    x = (np.random.default_rng(1).random((3, 20, 8)) < 0.3).astype(np.float32)
    np.save(root / "x.npy", x)
    return root


def test_reference_golden_and_lava_agree_spike_for_spike(loihi2_if):
    result = invoke("bench", loihi2_if / "OUT", "-i", loihi2_if / "x.npy", "--backends", "reference,golden,lava",
                    "--tolerance", "1.0", "--json", loihi2_if / "clean.json")
    assert result.exit_code == 0, result.output
    report = json.loads((loihi2_if / "clean.json").read_text())
    assert report["passed"] and {(c["b"], c["exact"]) for c in report["comparisons"]} == {("reference", True), ("lava", True)}
    assert sum(b["spikes"]["a"] for b in report["backends"]) > 0


def test_a_corrupted_netlist_weight_is_named_by_layer_neuron_and_step(loihi2_if):
    bad = loihi2_if / "BAD"
    shutil.copytree(loihi2_if / "OUT", bad)
    with np.load(bad / "loihi2" / "params.npz") as params:
        arrays = dict(params)
    neuron, source = 3, 0
    arrays["input__a.weights"][neuron, source] = 127     # input 0 -> neuron 3 of layer 'a'
    np.savez(bad / "loihi2" / "params.npz", **arrays)
    x = np.load(loihi2_if / "x.npy")
    lava, golden, reference = (run(load_artifact(str(bad)), x, name).spikes["a"]
                               for name in ("lava", "golden", "reference"))
    np.testing.assert_array_equal(golden, reference)       # golden computes from OUT/ir
    differ = lava != golden
    assert differ.any() and not np.delete(differ, neuron, axis=2).any()   # only the corrupted neuron
    step, sample = min((t, b) for b, t in np.argwhere(differ[:, :, neuron]))
    result = invoke("bench", bad, "-i", loihi2_if / "x.npy", "--backends", "reference,golden,lava", "--tolerance", "1.0",
                    "--json", loihi2_if / "bad.json")
    assert result.exit_code == 1, result.output
    assert f"first divergence: layer 'a', neuron {neuron}, step {step}, sample {sample}" in result.stdout
    checks = {c["b"]: c["passed"] for c in json.loads((loihi2_if / "bad.json").read_text())["checks"]}
    assert checks == {"reference": True, "lava": False}   # only Lava reads the corrupted files


def test_digits_golden_vs_lava_exact_and_a_corrupted_netlist_diverges(digits, tmp_path):
    out = tmp_path / "OUT"
    result = invoke("compile", digits / "model.pt", "-t", "loihi2", "-o", out)
    assert result.exit_code == 0, result.output
    x = np.load(digits / "test_x.npy")[:8]
    np.save(tmp_path / "x.npy", x)
    clean = invoke("bench", out, "-i", tmp_path / "x.npy", "--backends", "golden,lava")
    assert clean.exit_code == 0 and "check lava vs golden: agreement 1.000000, required exact: ok" in clean.stdout
    shutil.copytree(out, tmp_path / "BAD")
    with np.load(tmp_path / "BAD" / "loihi2" / "params.npz") as params:
        arrays = dict(params)
    name = next(k for k in arrays if k.endswith(".weights") and k.startswith("input__"))
    arrays[name][1, int(np.flatnonzero(x[0, 0])[0])] = 127
    np.savez(tmp_path / "BAD" / "loihi2" / "params.npz", **arrays)
    bad = invoke("bench", tmp_path / "BAD", "-i", tmp_path / "x.npy", "--backends", "golden,lava")
    assert bad.exit_code == 1 and "first divergence: layer 'lif_1', neuron 1" in bad.stdout
