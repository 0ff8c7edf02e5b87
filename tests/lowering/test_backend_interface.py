"""snncc.runtime.backend: compiled directories run on the reference backend; clear errors."""
import numpy as np
import pytest
import torch

from snncc.compiler import compile as compile_model
from snncc.diagnostics import SnnccError
from snncc.runtime import simulate
from snncc.runtime.backend import Artifact, run


def test_reference_backend_runs_the_lowered_graph_of_a_compiled_directory(paper, tmp_path):
    out = tmp_path / "out"
    result = compile_model(paper("03_rnn", "braille_noDelay_bias_zero.nir"), "reference", out_dir=str(out))
    x = (np.random.default_rng(0).random((3, 40, 12)) < 0.3).astype(np.float32)
    ran = run(str(out), x, "reference", record_state=True)
    direct = simulate(result.graph, torch.from_numpy(x))
    assert ran.output.shape == (3, 40, 7)
    np.testing.assert_array_equal(ran.output, direct.output.numpy())
    for name, spikes in direct.spikes.items():
        np.testing.assert_array_equal(ran.spikes[name], spikes.numpy().reshape(3, 40, -1))
    assert set(ran.states) == set(direct.states) and ran.seconds > 0


def test_unknown_backend_and_missing_directory_are_diagnosed(paper, tmp_path):
    out = tmp_path / "out"
    compile_model(paper("03_rnn", "braille_noDelay_bias_zero.nir"), "reference", out_dir=str(out))
    with pytest.raises(SnnccError) as info:
        run(str(out), np.zeros((1, 2, 12)), "lava")
    assert info.value.diagnostics[0].code == "SNN602" and "reference" in info.value.diagnostics[0].hint
    with pytest.raises(SnnccError) as info:
        run(str(tmp_path / "nothing"), np.zeros((1, 2, 12)))
    assert info.value.diagnostics[0].code == "SNN601"


def test_artifact_cached_computes_once_per_artifact_and_key():
    calls = []

    def make(tag):
        calls.append(tag)
        return [tag]

    a, b = Artifact("OUT", {"target": "reference"}), Artifact("OUT", {"target": "reference"})
    first = a.cached("lowering", lambda: make("a"))
    assert a.cached("lowering", lambda: make("again")) is first and first == ["a"]
    assert a.cached("other", lambda: make("other")) == ["other"]
    assert b.cached("lowering", lambda: make("b")) == ["b"]  # another Artifact: its own values
    assert calls == ["a", "other", "b"]
