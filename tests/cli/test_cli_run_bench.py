"""`snncc run` and `snncc bench` on the reference backend: files in and out, events, JSON, errors."""
import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

import snncc
from snncc.cli import main


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _relay_net():
    """in -> identity -> IF (threshold 0.5, reset to 0): the output spikes exactly when the input does."""
    from snncc.ir import IF, Affine, Graph

    ones = np.ones(3)
    return Graph.sequential(Affine(weight=np.eye(3), bias=np.zeros(3)),
                            IF(r=ones, v_threshold=ones / 2, v_reset=np.zeros(3)), names=["fc", "relay"], dt=1e-3)


@pytest.fixture(scope="module")
def relay(tmp_path_factory):
    out = tmp_path_factory.mktemp("relay") / "OUT"
    snncc.compile(_relay_net(), "reference", pipeline="", out_dir=str(out))
    return out


def test_run_writes_the_output_spikes_in_the_input_layout_and_states(relay, tmp_path):
    x = np.zeros((6, 3), np.float32)          # one sample [T, 3]
    x[[1, 4], 0] = x[2, 2] = 1
    np.save(tmp_path / "x.npy", x)
    result = invoke("run", relay, "-i", tmp_path / "x.npy", "-o", tmp_path / "y.npy", "--record-state")
    assert result.exit_code == 0, result.stderr
    assert "relay" in result.stdout and "wrote" in result.stdout
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), x)   # [T, 3] in, [T, 3] out
    with np.load(tmp_path / "y.state.npz") as state:
        assert sorted(state.files) == ["relay.spikes", "relay.v"]
        np.testing.assert_array_equal(state["relay.spikes"][0], x)
        np.testing.assert_array_equal(state["relay.v"][0], np.zeros((6, 3)))  # reset to 0 after each spike


def test_bench_prints_accuracy_and_writes_json(relay, tmp_path):
    x = np.zeros((4, 5, 3), np.float32)
    for sample, unit in enumerate([0, 1, 2, 1]):
        x[sample, : 2 + sample, unit] = 1     # the class is the unit that fires
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.array([0, 1, 0, 1]))  # one label wrong on purpose: accuracy 0.75
    result = invoke("bench", relay, "-i", tmp_path / "x.npy", "--labels", tmp_path / "y.npy", "--json", tmp_path / "r.json")
    assert result.exit_code == 0, result.stderr
    assert "0.7500" in result.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["passed"] and report["baseline"] == "reference" and report["checks"] == []
    (backend,) = report["backends"]
    assert backend["accuracy"] == 0.75 and backend["spikes"] == {"relay": (2 + 3 + 4 + 5) / 4}
    assert backend["batch"] == 4 and backend["steps"] == 5
    # a float-only target: the generic 45 nm estimate of snncc.energy, labelled with its table and backend
    assert backend["energy"]["kind"] == "estimate" and backend["energy"]["model"].endswith(" on reference")
    assert backend["energy"]["joules_per_inference"] > 0


def test_event_stream_gives_the_same_result_as_the_equivalent_dense_array(paper, tmp_path):
    out = tmp_path / "cnn"
    assert invoke("compile", paper("02_cnn", "cnn_sinabs.nir"), "--dt", "1e-3", "-o", out).exit_code == 0
    rng = np.random.default_rng(3)
    n = 3000
    events = {"x": rng.integers(0, 34, n), "y": rng.integers(0, 34, n), "polarity": rng.integers(0, 2, n),
              "t": rng.integers(0, 12_000, n), "sample": rng.integers(0, 2, n)}   # microseconds: 12 steps of 1 ms
    np.savez(tmp_path / "events.npz", **events)
    dense = np.zeros((2, 12, 2, 34, 34), np.float32)
    for s, x, y, p, t in zip(events["sample"], events["x"], events["y"], events["polarity"], events["t"]):
        dense[s, t // 1000, p, y, x] = 1
    np.save(tmp_path / "dense.npy", dense)
    for name in ("events.npz", "dense.npy"):
        result = invoke("run", out, "-i", tmp_path / name, "-o", tmp_path / f"{name}.out.npy", "--record-state")
        assert result.exit_code == 0, result.stderr
    from_events, from_dense = np.load(tmp_path / "events.npz.out.npy"), np.load(tmp_path / "dense.npy.out.npy")
    assert from_dense.shape == (2, 12, 10) and from_dense.any()
    np.testing.assert_array_equal(from_events, from_dense)
    with np.load(tmp_path / "events.npz.out.state.npz") as a, np.load(tmp_path / "dense.npy.out.state.npz") as b:
        assert a.files == b.files and len(a.files) > 5
        for key in a.files:  # every layer's spikes and membrane
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.mark.parametrize("case, code", [("shape", "SNN603"), ("backend", "SNN602"), ("labels", "SNN604"),
                                        ("nodir", "SNN601"), ("tolerance", "SNN605"), ("baseline", "SNN605")])
def test_errors_are_one_line_and_exit_2(relay, tmp_path, case, code):
    np.save(tmp_path / "x.npy", np.zeros((2, 4, 3)))
    np.save(tmp_path / "bad.npy", np.zeros((4, 5)))
    np.save(tmp_path / "y.npy", np.zeros(3, int))
    args = {
        "shape": ("run", relay, "-i", tmp_path / "bad.npy"),
        "backend": ("run", relay, "-i", tmp_path / "x.npy", "--backend", "lava"),
        "labels": ("bench", relay, "-i", tmp_path / "x.npy", "--labels", tmp_path / "y.npy"),
        "nodir": ("run", tmp_path, "-i", tmp_path / "x.npy"),
        "tolerance": ("bench", relay, "-i", tmp_path / "x.npy", "--tolerance", "2"),
        "baseline": ("bench", relay, "-i", tmp_path / "x.npy", "--baseline", "golden"),
    }[case]
    result = invoke(*args)
    assert result.exit_code == 2, (case, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error[{code}]") and "Traceback" not in result.stderr
    assert not os.path.exists(tmp_path / "y.state.npz")
