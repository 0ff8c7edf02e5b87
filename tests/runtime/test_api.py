"""The top-level API: snncc.compile / run / bench / make_pass, as docs/api.md shows them."""
import numpy as np
import pytest
import torch
from torch import nn

import snncc
import snncc.nn as snn
from snncc.diagnostics import SnnccError


def _module():
    model = snn.Sequential(nn.Linear(4, 3), snn.LIF(beta=0.5, threshold=0.5, reset="zero"))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[0.8, 0.0, 0.0, 0.3], [0.0, 0.4, 0.0, 0.0], [0.0, 0.0, 0.6, -0.2]]))
        model[0].bias.fill_(0.05)
    model.dt, model.input_shape = 1e-3, (4,)
    return model.train()


def test_compile_a_module_runs_like_the_module(tmp_path):
    model = _module()
    result = snncc.compile(model, "reference", out_dir=str(tmp_path / "OUT"))
    assert model.training  # the caller's mode is left alone
    x = (torch.rand(5, 12, 4, generator=torch.Generator().manual_seed(1)) < 0.5).float()
    with torch.no_grad():
        expected = model.eval()(x).numpy()
    np.testing.assert_array_equal(snncc.run(str(tmp_path / "OUT"), x.numpy()).output, expected)
    assert expected.any() and result.graph.dt == 1e-3


def test_a_module_without_input_shape_is_one_diagnostic():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), snn.LIF(beta=0.5))
    with pytest.raises(SnnccError) as info:
        snncc.compile(model)
    assert info.value.diagnostics[0].code == "SNN114" and "input_shape=" in info.value.diagnostics[0].hint
    with pytest.raises(SnnccError) as info:
        snncc.compile(42)
    assert info.value.diagnostics[0].code == "SNN108"


def test_pipelines_from_pass_objects_equal_pipeline_text(paper):
    path = paper("03_rnn", "braille_noDelay_bias_zero.nir")
    text = snncc.compile(path, pipeline="fold-batchnorm,simplify")
    objects = snncc.compile(path, pipeline=[snncc.make_pass("fold-batchnorm"), snncc.make_pass("simplify")])
    assert objects.pipeline == text.pipeline == "fold-batchnorm,simplify"
    assert [r.name for r in objects.records] == ["fold-batchnorm", "simplify"]
    with pytest.raises(SnnccError) as info:
        snncc.make_pass("simplify", bogus=1)
    assert info.value.diagnostics[0].code == "SNN304" and "bogus" in info.value.diagnostics[0].message
    with pytest.raises(SnnccError) as info:
        snncc.make_pass("no-such-pass")
    assert info.value.diagnostics[0].code == "SNN303"


def test_run_and_bench_take_arrays_in_either_layout_and_input_files(tmp_path):
    snncc.compile(_module(), "reference", out_dir=str(tmp_path / "OUT"))
    out = str(tmp_path / "OUT")
    x = (np.random.default_rng(2).random((3, 9, 4)) < 0.5).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    batched = snncc.run(out, x).output
    assert snncc.run(out, x[1]).output.shape == (1, 9, 3)
    np.testing.assert_array_equal(snncc.run(out, x[1]).output[0], batched[1])
    np.testing.assert_array_equal(snncc.run(out, str(tmp_path / "x.npy")).output, batched)
    labels = batched.sum(1).argmax(1)
    report = snncc.bench(out, x, labels=labels)
    assert report.passed and report.summaries[0].accuracy == 1.0 and report.to_dict()["baseline"] == "reference"
    assert snncc.load_artifact(out).target_name == "reference"
    # a pathlib path or a loaded Artifact wherever a compiled directory is taken
    np.testing.assert_array_equal(snncc.run(tmp_path / "OUT", x).output, batched)
    np.testing.assert_array_equal(snncc.run(snncc.load_artifact(out), x).output, batched)
