"""The reference simulator against recorded traces and against norse's own simulation
of the same NIR files.

Convention differences corrected for (both documented in docs/reference-simulator.md):
- norse's ``from_nir`` takes dt as an argument (NIR has none): the paper graphs use 1e-4 s.
- norse maps NIR Flatten dims (which exclude the batch) straight onto torch dims, so its
  Flatten(0) flattens the batch: norse is run one sample at a time for the CNN.
"""
import numpy as np
import pytest
import torch

from snncc.frontends.nir_import import ImportOptions, load_nir
from snncc.runtime import simulate


def test_lif_trace_matches_norse_recording(paper):
    data = np.loadtxt(paper("01_lif", "lif_norse.csv"), delimiter=",")
    graph = load_nir(paper("01_lif", "lif_norse.nir"), ImportOptions(dt=1e-4)).graph
    result = simulate(graph, torch.tensor(data[:, 0]).reshape(1, -1, 1))
    spikes = result.output[0, :, 0].numpy()
    assert np.nonzero(spikes)[0].tolist() == [460, 510, 710, 760]
    assert np.nonzero(data[:, 2])[0].tolist() == [460, 510, 710, 760]
    v = result.states["1"]["v"][0, :, 0].numpy()
    assert np.max(np.abs(v - data[:, 1])) < 1e-4


def _norse_run(path, x, reset="value", per_sample=False):
    import nir
    import norse.torch as norse
    import norse.torch.functional.reset as resets

    method = resets.reset_subtract if reset == "subtract" else resets.reset_value
    module = norse.from_nir(nir.read(path), dt=1e-4, reset_method=method)
    batches = [x[b : b + 1] for b in range(x.shape[0])] if per_sample else [x]
    outputs = []
    for xb in batches:
        state, steps = None, []
        for t in range(xb.shape[1]):
            out, state = module(xb[:, t], state)
            steps.append(out.reshape(xb.shape[0], -1))
        outputs.append(torch.stack(steps, 1))
    return torch.cat(outputs)


@pytest.mark.parametrize("name,reset", [("braille_noDelay_bias_zero.nir", "value"),
                                        ("braille_noDelay_noBias_subtract.nir", "subtract")])
def test_braille_rnn_agrees_with_norse(paper, name, reset):
    torch.manual_seed(1)
    x = (torch.rand(8, 200, 12) < 0.25).float()
    path = paper("03_rnn", name)
    ours = simulate(load_nir(path, ImportOptions(reset=reset)).graph, x, dtype=torch.float32).output
    theirs = _norse_run(path, x, reset)
    assert theirs.sum() > 100, "the test input must make the network spike"
    agreement = (ours == theirs).float().mean().item()
    assert agreement >= 0.999, agreement


def test_cnn_agrees_with_norse(paper):
    torch.manual_seed(2)
    x = (torch.rand(3, 30, 2, 34, 34) < 0.15).float()
    path = paper("02_cnn", "cnn_sinabs.nir")
    result = simulate(load_nir(path).graph, x, dtype=torch.float32)
    theirs = _norse_run(path, x, per_sample=True)
    assert all(s.sum() > 0 for s in result.spikes.values()), "every layer must be active"
    agreement = (result.output == theirs).float().mean().item()
    assert agreement >= 0.999, agreement
