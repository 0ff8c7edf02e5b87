"""Emitted files: deterministic bytes, hex images that decode back to the spec, and the
config the cycle simulator and RTL share."""
import json

import numpy as np
import torch

from snncc.targets.fpga.emit import emit
from snncc.targets.fpga.example_nets import small_conv_net
from snncc.targets.fpga.memimage import load_memory, pack_lanes, unpack_lanes


def test_byte_identical_output(tmp_path):
    a, b = emit(small_conv_net(), tmp_path / "a"), emit(small_conv_net(), tmp_path / "b")
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir()) and "tb.v" in names
    assert len(names) == 2 * 4 + 7  # 4 memories per engine + config + 6 Verilog files (3 modules, include, top, tb)
    for n in names:
        assert (a / n).read_bytes() == (b / n).read_bytes(), n


def test_lane_packing_two_complement():
    words = pack_lanes(np.array([[-1, 2], [-8, 7]]), 4)
    assert words == [0x2F, 0x78]
    assert unpack_lanes(words, 2, 4).tolist() == [[-1, 2], [-8, 7]]


def test_config_and_images_roundtrip(tmp_path):
    spec = small_conv_net()
    fpga = emit(spec, tmp_path)
    cfg = json.loads((fpga / "config.json").read_text())
    conv = cfg["engines"][0]
    assert (conv["kind"], conv["n_in"], conv["n_out"], conv["pe"], conv["nf"]) == \
        ("conv2d", 64, 256, 4, 64)
    assert conv["memories"]["w"]["depth"] == 64 * 64 and conv["memories"]["w"]["width"] == 16
    w = load_memory(fpga, conv["memories"]["w"])  # [NF * N_in, PE]
    dense = w.reshape(64, 64, 4).transpose(0, 2, 1).reshape(256, 64)
    np.testing.assert_array_equal(dense, spec.layers[0].dense_weights())


def test_conv_lowering_matches_torch():
    spec = small_conv_net()
    layer = spec.layers[0]
    dense = layer.dense_weights()
    x = np.random.default_rng(0).integers(0, 2, (3, 64))
    ref = torch.nn.functional.conv2d(torch.tensor(x, dtype=torch.float64).reshape(3, 1, 8, 8),
                                     torch.tensor(layer.weights, dtype=torch.float64), padding=1)
    np.testing.assert_array_equal(x @ dense.T, ref.reshape(3, -1).numpy().astype(np.int64))
