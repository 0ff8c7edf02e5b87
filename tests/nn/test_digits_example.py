"""examples/digits/train.py end to end with a short schedule: files, accuracy, and the
compiled graph's spike counts on the saved test split equal the trained model's."""
import json
import os

import numpy as np
import torch

from snncc.frontends.torch_layers import module_to_graph
from snncc.loading import import_file
from snncc.runtime import simulate

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "digits", "train.py")


def _load_example():
    return import_file(EXAMPLE, "digits_train")


def test_short_training_run_saves_a_compilable_model(tmp_path):
    example = _load_example()
    # keep the worker's thread count (conftest pins it); results are deterministic per count
    meta = example.train(tmp_path, epochs=6, steps=16, seed=0, freeze_epochs=2, threads=torch.get_num_threads())
    assert sorted(os.listdir(tmp_path)) == ["meta.json", "model.pt", "test_x.npy", "test_y.npy"]
    saved = json.loads((tmp_path / "meta.json").read_text())
    assert saved["T"] == 16 and saved["dt"] == 1e-3 and saved["encoding"] == "spikes"
    x, y = np.load(tmp_path / "test_x.npy"), np.load(tmp_path / "test_y.npy")
    assert x.dtype == np.float32 and x.shape == (450, 16, 64) and y.shape == (450,)
    assert set(np.unique(x)) <= {0.0, 1.0}  # binary spikes
    # the rate code: a pixel's spike count over T is floor(T * p) (p = 1 spikes every step)
    coded = example.encode_spikes(np.array([[0.0, 0.5, 1.0, 0.25, 0.3]]), 16)
    assert coded.sum(1).tolist() == [[0.0, 8.0, 16.0, 4.0, 4.0]]
    assert coded[0, :, 2].tolist() == [1.0] * 16 and coded[0, :4, 3].tolist() == [0.0, 0.0, 0.0, 1.0]
    assert meta["accuracy"] >= 0.85, meta  # 6 epochs (the default 30 give about 0.94)

    model = torch.load(tmp_path / "model.pt", weights_only=False)
    assert not any(m.training for m in model.modules())
    model = model.double()
    xs = torch.from_numpy(x[:100]).double()
    with torch.no_grad():
        counts = model(xs).sum(1)
    graph = module_to_graph(model, (64,), dt=saved["dt"])
    sim_counts = simulate(graph, xs, dtype=torch.float64).output.sum(1)
    assert torch.equal(sim_counts, counts)
    accuracy = float((sim_counts.argmax(1) == torch.from_numpy(y[:100])).double().mean())
    assert accuracy >= 0.85
