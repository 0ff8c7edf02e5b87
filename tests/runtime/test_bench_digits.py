"""`snncc bench` on the compiled digits model (issue #10 acceptance) and the compile-time
fidelity summary (issue #4), on the FPGA target (golden / fpga-sim / rtl) and Loihi 2."""
import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from snncc.cli import main
from snncc.runtime.backend import load_artifact, run


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def fpga_digits(digits, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench-fpga") / "OUT"
    result = invoke("compile", digits / "model.pt", "-t", "fpga", "-o", out, "--calibration", digits / "test_x.npy")
    assert result.exit_code == 0, result.output
    return out, result.stdout


def test_bench_every_backend_agrees_exactly_with_golden_at_the_trained_accuracy(fpga_digits, digits, tmp_path):
    out, _ = fpga_digits
    x, y = np.load(digits / "test_x.npy"), np.load(digits / "test_y.npy")
    np.save(tmp_path / "x24.npy", x[:24])
    # every backend, RTL included (iverilog is slow: 24 digits)
    result = invoke("bench", out, "-i", tmp_path / "x24.npy", "--backends", "reference,golden,fpga-sim,rtl",
                    "--json", tmp_path / "all.json")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "all.json").read_text())
    assert report["baseline"] == "golden"
    assert {(c["a"], c["b"], c["agreement"], c["passed"]) for c in report["checks"]} == {
        ("golden", "fpga-sim", 1.0, True), ("golden", "rtl", 1.0, True)}
    assert "check rtl vs golden: agreement 1.000000, required exact: ok" in result.stdout
    # the whole test set on the integer backends: accuracy as trained (quantization costs < 2 points)
    result = invoke("bench", out, "-i", digits / "test_x.npy", "--labels", digits / "test_y.npy",
                    "--backends", "golden,fpga-sim", "--json", tmp_path / "full.json")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "full.json").read_text())
    accuracy = {b["backend"]: b["accuracy"] for b in report["backends"]}
    trained = json.loads((digits / "meta.json").read_text())["accuracy"]
    assert accuracy["golden"] == accuracy["fpga-sim"] and abs(accuracy["golden"] - trained) < 0.02, (accuracy, trained)
    golden = run(load_artifact(str(out)), x, "golden")
    assert accuracy["golden"] == float((golden.output.sum(1).argmax(1) == y).mean())
    assert [(c["b"], c["exact"]) for c in report["comparisons"]] == [("fpga-sim", True)]


def _corrupt_one_weight(out, corrupt, neuron: int, source: int, value: int) -> None:
    """Set w[neuron, source] of engine 0 (lif_1) in the emitted weight image (docs: memimage.py layout)."""
    from pathlib import Path

    from snncc.targets.fpga.memimage import pack_lanes, read_hex, unpack_lanes, write_hex

    shutil.copytree(out, corrupt)
    engine = json.loads((Path(out) / "fpga" / "config.json").read_text())["engines"][0]
    assert engine["name"] == "lif_1"
    memory = engine["memories"]["w"]
    image = unpack_lanes(read_hex(Path(out) / "fpga" / memory["file"]), memory["lanes"], memory["lane_bits"])
    group, lane = divmod(neuron, engine["pe"])
    image[group * engine["n_in"] + source, lane] = value
    write_hex(Path(corrupt) / "fpga" / memory["file"], pack_lanes(image, memory["lane_bits"]), memory["width"])


def test_a_corrupted_weight_fails_bench_naming_layer_neuron_and_step(fpga_digits, digits, tmp_path):
    out, _ = fpga_digits
    x = np.load(digits / "test_x.npy")[:8]
    np.save(tmp_path / "x.npy", x)
    neuron, source = 1, int(np.flatnonzero(x[0, 0])[0])
    _corrupt_one_weight(out, tmp_path / "BAD", neuron, source, 127)
    # where the emitted network now differs from golden, straight from the two backends
    golden = run(load_artifact(str(tmp_path / "BAD")), x, "golden").spikes
    sim = run(load_artifact(str(tmp_path / "BAD")), x, "fpga-sim").spikes
    differ = golden["lif_1"] != sim["lif_1"]
    assert differ.any() and not np.delete(differ, neuron, axis=2).any()   # only the corrupted neuron
    first = min((t, b) for b, t in np.argwhere(differ[:, :, neuron]))
    result = invoke("bench", tmp_path / "BAD", "-i", tmp_path / "x.npy", "--backends", "golden,fpga-sim",
                    "--json", tmp_path / "bad.json")
    assert result.exit_code == 1, result.output
    assert f"first divergence: layer 'lif_1', neuron {neuron}, step {first[0]}, sample {first[1]}" in result.stdout
    assert "required exact: FAILED" in result.stdout
    (comparison,) = json.loads((tmp_path / "bad.json").read_text())["comparisons"]
    d = comparison["divergence"]
    assert (d["layer"], d["neuron"], d["step"], d["sample"]) == ("lif_1", neuron, *first)
    assert (d["spike_a"], d["spike_b"]) == (int(golden["lif_1"][first[1], first[0], neuron]),
                                            int(sim["lif_1"][first[1], first[0], neuron]))
    assert set(d["state_a"]) == set(d["state_b"]) == {"v"}   # both membranes at that step, in model units
    layers = {layer["layer"]: layer["mismatches"] for layer in comparison["layers"]}
    assert layers["lif_1"] == int(differ.sum())


def _fidelity_of(out, digits, tmp_path, backend):
    """OUT's manifest fidelity summary, checked layer by layer against ``backend`` and the float
    model (the same model compiled without lossy passes, on the reference simulator) run apart."""
    fidelity = json.loads((out / "manifest.json").read_text())["fidelity"]
    assert fidelity["backend"] == backend and fidelity["samples"] == 32 and set(fidelity["layers"]) == {"lif_1", "lif_3"}
    assert invoke("compile", digits / "model.pt", "-o", tmp_path / "float").exit_code == 0
    x = np.load(digits / "test_x.npy")[:32]
    floating = run(load_artifact(str(tmp_path / "float")), x).spikes
    compiled = run(load_artifact(str(out)), x, backend).spikes
    for name, layer in fidelity["layers"].items():
        assert layer["spikes_float"] == int(floating[name].sum()) and layer["spikes_compiled"] == int(compiled[name].sum())
        assert layer["agreement"] == pytest.approx(float((floating[name] == compiled[name]).mean()), abs=1e-6)
    return fidelity


def test_compile_prints_and_stores_the_fidelity_summary(fpga_digits, digits, tmp_path):
    out, stdout = fpga_digits
    assert "fidelity: golden vs float model on 32 calibration sample(s) x 16 steps" in stdout
    fidelity = _fidelity_of(out, digits, tmp_path, "golden")
    quantize = json.loads((out / "manifest.json").read_text())["reports"]["quantize"]["layers"]
    for name, layer in fidelity["layers"].items():
        zeroed = sum(p["rounded_to_zero"] for p in quantize[name]["projections"].values())
        assert layer["zeroed_weights"] == zeroed and layer["saturated"] == 0
    assert 0.9 <= fidelity["prediction_agreement"] <= 1.0


def test_fidelity_summary_reads_its_samples_from_the_energy_run_of_the_same_backend(digits, tmp_path):
    """On spinnaker2 the energy report (64 samples) and the fidelity summary (32) both run
    spinnaker2-emu: the summary takes its samples from the energy report's run."""
    from snncc.compiler import compile as compile_model

    out = tmp_path / "OUT"
    compile_model(str(digits / "model.pt"), "spinnaker2", out_dir=str(out), calibration=np.load(digits / "test_x.npy"))
    report = json.loads((out / "report.json").read_text())
    assert report["backend"] == "spinnaker2-emu" and report["input"]["samples"] == 64
    _fidelity_of(out, digits, tmp_path, "spinnaker2-emu")


def test_assert_backends_agree_reports_the_divergence(fpga_digits, digits, tmp_path):
    from snncc.testing import assert_backends_agree

    out, _ = fpga_digits
    x = np.load(digits / "test_x.npy")[:8]
    _corrupt_one_weight(out, tmp_path / "BAD", 1, int(np.flatnonzero(x[0, 0])[0]), 127)
    assert_backends_agree(str(out), x, backends=["golden", "fpga-sim"])
    with pytest.raises(AssertionError) as info:
        assert_backends_agree(str(tmp_path / "BAD"), x, backends=["golden", "fpga-sim"])
    message = str(info.value)
    assert "fpga-sim vs golden: agreement" in message and "first divergence: layer 'lif_1', neuron 1," in message
