"""The NIR paper CNN compiles for the FPGA target (dense layers get the PE lanes their weight
memories need) and the cycle simulator equals the golden model on it."""
import numpy as np

from snncc.compiler import compile as compile_model
from snncc.lowering import layer_graph
from snncc.runtime.backend import run

MAX_DEPTH = 1 << 20  # words per weight memory (targets/fpga/netspec.py NetSpec.max_mem_depth)


def test_nir_paper_cnn_compiles_and_fpga_sim_equals_golden(paper, tmp_path):
    out = tmp_path / "cnn"
    result = compile_model(paper("02_cnn", "cnn_sinabs.nir"), "fpga", out_dir=str(out))
    layers = layer_graph(result.graph)
    for engine in result.context.reports["fpga"]["fold"]["engines"]:
        (proj,) = layers.into(engine["node"])
        if not any(result.graph.nodes[n].kind == "Conv2d" for n in proj.chain):  # dense engine
            n_out, n_in = layers.size(engine["node"]), layers.size(proj.src)
            assert n_out % engine["pe"] == 0 and (n_out // engine["pe"]) * n_in <= MAX_DEPTH
    assert any(e["pe"] > 1 for e in result.context.reports["fpga"]["fold"]["engines"])  # 512 x 4096 needs 2 lanes
    x = (np.random.default_rng(0).random((1, 4, 2, 34, 34)) < 0.1).astype(np.float32)
    golden, sim = run(str(out), x, "golden"), run(str(out), x, "fpga-sim")
    assert set(golden.spikes) == set(sim.spikes) and sum(int(v.sum()) for v in golden.spikes.values()) > 0
    for name in golden.spikes:
        np.testing.assert_array_equal(sim.spikes[name], golden.spikes[name])
