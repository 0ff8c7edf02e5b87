import json
import os
import subprocess
import sys

import h5py
import nir
import numpy as np
import pytest
from click.testing import CliRunner

from snncc.cli import main


def invoke(*args):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("rel", ["02_cnn/cnn_sinabs.nir", "03_rnn/braille_noDelay_bias_zero.nir",
                                 "03_rnn/braille_noDelay_noBias_subtract.nir"])
def test_compile_paper_graphs_for_reference(paper, tmp_path, rel):
    out = tmp_path / "OUT"
    result = invoke("compile", paper(*rel.split("/")), "--target", "reference", "-o", str(out))
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["target"] == "reference"
    assert len(manifest["input"]["sha256"]) == 64
    assert manifest["resources"]["neurons"] > 0 and manifest["resources"]["synapses"] > 0
    assert all((out / a).is_file() for a in manifest["artifacts"])
    assert [p["name"] for p in manifest["passes"]] == manifest["pipeline"].split(",") or manifest["pipeline"] == ""


def _graph(nodes, edges):
    """A NIR graph built without nir's own type check (nir >= 1.0.5 checks on construction)."""
    import inspect

    kwargs = {"type_check": False} if "type_check" in inspect.signature(nir.NIRGraph).parameters else {}
    return nir.NIRGraph(nodes=nodes, edges=edges, **kwargs)


def _write_nir(path, graph):
    nir.write(str(path), graph)
    return str(path)


def _bad_inputs(tmp_path, paper):
    cases = {}
    cases["missing"] = ("SNN101", str(tmp_path / "nope.nir"))
    with h5py.File(tmp_path / "other.nir", "w") as f:
        f.create_dataset("data", data=np.arange(3))
    cases["hdf5-not-nir"] = ("SNN103", str(tmp_path / "other.nir"))
    blob = open(paper("01_lif", "lif_norse.nir"), "rb").read()
    (tmp_path / "truncated.nir").write_bytes(blob[: len(blob) // 2])
    cases["truncated"] = ("SNN102", str(tmp_path / "truncated.nir"))
    with h5py.File(tmp_path / "unknown.nir", "w") as f:
        f.create_dataset("version", data="1.0.4")
        node = f.create_group("node")
        node.create_dataset("type", data="NIRGraph", dtype=h5py.string_dtype())
        nodes = node.create_group("nodes")
        for name, kind in (("input", "Input"), ("lstm", "LSTM"), ("output", "Output")):
            g = nodes.create_group(name)
            g.create_dataset("type", data=kind, dtype=h5py.string_dtype())
            g.create_dataset("shape", data=np.array([2]))
        node.create_dataset("edges", data=np.array([[b"input", b"lstm"], [b"lstm", b"output"]]))
    cases["unknown-node"] = ("SNN201", str(tmp_path / "unknown.nir"))
    eye = np.eye(2, dtype=np.float32)
    cycle = _graph(
        nodes={"input": nir.Input(input_type={"input": np.array([2])}), "a": nir.Affine(eye, np.zeros(2, np.float32)),
               "b": nir.Affine(eye, np.zeros(2, np.float32)), "output": nir.Output(output_type={"output": np.array([2])})},
        edges=[("input", "a"), ("a", "b"), ("b", "a"), ("b", "output")])
    cases["stateless-cycle"] = ("SNN205", _write_nir(tmp_path / "cycle.nir", cycle))
    mismatch = _graph(
        nodes={"input": nir.Input(input_type={"input": np.array([2])}),
               "a": nir.Affine(np.ones((3, 2), np.float32), np.zeros(3, np.float32)),
               "b": nir.Affine(np.ones((4, 5), np.float32), np.zeros(4, np.float32)),
               "output": nir.Output(output_type={"output": np.array([4])})},
        edges=[("input", "a"), ("a", "b"), ("b", "output")])
    cases["shape-mismatch"] = ("SNN204", _write_nir(tmp_path / "mismatch.nir", mismatch))
    tau = np.array([0.01, np.nan], np.float32)
    nan = _graph(
        nodes={"input": nir.Input(input_type={"input": np.array([2])}),
               "lif": nir.LIF(tau=tau, r=np.ones(2, np.float32), v_leak=np.zeros(2, np.float32), v_threshold=np.ones(2, np.float32)),
               "output": nir.Output(output_type={"output": np.array([2])})},
        edges=[("input", "lif"), ("lif", "output")])
    cases["nan"] = ("SNN206", _write_nir(tmp_path / "nan.nir", nan))
    return cases


def test_bad_inputs_give_one_clear_line_and_exit_2(tmp_path, paper):
    for label, (code, path) in _bad_inputs(tmp_path, paper).items():
        out = tmp_path / f"out-{label}"
        result = invoke("compile", path, "--dt", "1e-3", "-o", str(out))
        assert result.exit_code == 2, (label, result.output)
        lines = [line for line in result.output.splitlines() if line.startswith("error[")]
        assert lines and lines[0].startswith(f"error[{code}]"), (label, result.output)
        assert "Traceback" not in result.output
        assert os.path.basename(path) in lines[0] or code == "SNN101" and path in lines[0]
        assert "hint:" in lines[0], (label, lines[0])
        assert not out.exists(), label
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(f".out-{label}")], label


def test_error_exit_code_and_no_traceback_in_a_real_process(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "snncc.cli", "compile", str(tmp_path / "x.nir"), "-o", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error[SNN101]") and "Traceback" not in proc.stderr
    debug = subprocess.run([sys.executable, "-m", "snncc.cli", "--debug", "compile", str(tmp_path / "x.nir"), "-o", str(tmp_path / "o")],
                           capture_output=True, text=True)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_missing_dt_is_reported(paper, tmp_path):
    result = invoke("compile", paper("01_lif", "lif_norse.nir"), "-o", str(tmp_path / "o"))
    assert result.exit_code == 2 and "SNN105" in result.output and "--dt" in result.output


def test_inspect_and_listings(paper):
    result = invoke("inspect", paper("02_cnn", "cnn_sinabs.nir"))
    assert result.exit_code == 0 and "Conv2d" in result.output and "SumPool2d" in result.output
    assert "reference" in invoke("targets").output
    listing = invoke("passes")
    assert listing.exit_code == 0


def test_same_input_gives_byte_identical_artifacts(paper, tmp_path):
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert invoke("compile", paper("03_rnn", "braille_noDelay_bias_zero.nir"), "-o", str(out)).exit_code == 0
        outs.append(out)
    files = sorted(p.relative_to(outs[0]) for p in outs[0].rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(outs[1]) for p in outs[1].rglob("*") if p.is_file())
    for rel in files:
        a, b = (outs[0] / rel).read_bytes(), (outs[1] / rel).read_bytes()
        if rel.name == "manifest.json":
            a, b = (json.loads(x) for x in (a, b))
            a.pop("timings"), b.pop("timings")
        assert a == b, rel
