import glob
import os

import numpy as np
import pytest

from snncc import ir
from snncc.frontends.nir_export import write_nir
from snncc.frontends.nir_import import ImportOptions, load_nir

PAPER_FILES = [
    "01_lif/lif_norse.nir", "01_lif/lif_rockpool.nir", "01_lif/debug_spike_representation/two_lif_neurons.nir",
    "02_cnn/cnn_sinabs.nir", "03_rnn/braille_noDelay_bias_zero.nir", "03_rnn/braille_noDelay_noBias_subtract.nir",
    "03_rnn/extras/braille_noDelay_bias_zero_subgraph.nir", "03_rnn/extras/braille_noDelay_noBias_subtract_subgraph.nir",
]


def assert_same_graph(a: ir.Graph, b: ir.Graph):
    assert list(a.nodes) == list(b.nodes)
    assert sorted(map(str, a.edges)) == sorted(map(str, b.edges))
    assert a.dt == b.dt
    for name in a.nodes:
        x, y = a.nodes[name], b.nodes[name]
        assert type(x) is type(y), name
        assert x.arrays().keys() == y.arrays().keys()
        for field, value in x.arrays().items():
            other = y.arrays()[field]
            assert value.dtype == other.dtype and np.array_equal(value, other), (name, field)
        if isinstance(x, ir.SpikingNeuron):
            assert (x.reset, x.comparator, x.refractory) == (y.reset, y.comparator, y.refractory)


@pytest.mark.parametrize("rel", PAPER_FILES)
def test_paper_graph_round_trips_exactly(paper, rel, tmp_path):
    graph = load_nir(paper(*rel.split("/"))).graph
    out = tmp_path / "g.nir"
    write_nir(graph, str(out))
    assert_same_graph(graph, load_nir(str(out)).graph)


def test_all_paper_graphs_are_covered(paper):
    found = {os.path.relpath(p, paper()) for p in glob.glob(paper("**", "*.nir"), recursive=True)}
    assert found == set(PAPER_FILES)


def test_subgraph_file_is_repaired_and_flattened(paper):
    result = load_nir(paper("03_rnn", "extras", "braille_noDelay_bias_zero_subgraph.nir"))
    assert any("renamed" in n.message for n in result.notes)
    flat = load_nir(paper("03_rnn", "braille_noDelay_bias_zero.nir")).graph
    sub = result.graph
    assert {n.kind for n in sub.nodes.values()} == {n.kind for n in flat.nodes.values()}
    assert np.array_equal(sub.nodes["lif1.lin"].weight, flat.nodes["lif1.w_rec"].weight)
    assert ("lif1.lin", "lif1.lif") in {(e.src, e.dst) for e in sub.edges}


def test_metadata_round_trip_and_assumption_notes(paper, tmp_path):
    imported = load_nir(paper("03_rnn", "braille_noDelay_noBias_subtract.nir"), ImportOptions(reset=ir.ResetMode.SUBTRACT, comparator=ir.Comparator.GE))
    assert any("inferred dt" in n.message for n in imported.notes)
    graph = imported.graph.replace(dt=2.5e-4)
    write_nir(graph, str(tmp_path / "g.nir"))
    again = load_nir(str(tmp_path / "g.nir"))
    assert again.graph.dt == 2.5e-4
    assert not any("dt" in n.message or "reset" in n.message for n in again.notes)
    neuron = again.graph.nodes["lif2"]
    assert neuron.reset is ir.ResetMode.SUBTRACT and neuron.comparator is ir.Comparator.GE


def test_export_is_readable_by_the_nir_library(paper, tmp_path):
    import nir

    write_nir(load_nir(paper("02_cnn", "cnn_sinabs.nir")).graph, str(tmp_path / "cnn.nir"))
    graph = nir.read(str(tmp_path / "cnn.nir"))
    assert sum(isinstance(n, nir.IF) for n in graph.nodes.values()) == 5


def test_export_refuses_what_nir_cannot_say(tmp_path):
    from snncc.diagnostics import SnnccError

    bn = ir.BatchNormParams(mean=np.zeros(2), var=np.ones(2), gamma=np.ones(2), beta=np.zeros(2))
    node = ir.IF(r=np.ones(2), v_threshold=np.ones(2), v_reset=np.zeros(2), membrane_bn=bn)
    with pytest.raises(SnnccError) as err:
        write_nir(ir.Graph.sequential(node), str(tmp_path / "x.nir"))
    assert err.value.diagnostics[0].code == "SNN301" and "fold-mpbn" in err.value.diagnostics[0].hint
    assert not os.path.exists(tmp_path / "x.nir")


def test_refractory_period_round_trips_through_nir_and_the_native_format(tmp_path):
    """NIR cannot say it: it travels as node metadata, like the reset mode."""
    from snncc.ir.printer import print_graph
    from snncc.ir.serialize import load_graph, save_graph

    held = ir.IF(r=np.ones(3), v_threshold=np.ones(3), v_reset=np.zeros(3), refractory=2)
    graph = ir.Graph.sequential(ir.Affine(weight=np.ones((3, 2)), bias=np.zeros(3)), held,
                                ir.IF(r=np.ones(3), v_threshold=np.ones(3), v_reset=np.zeros(3)), dt=1e-3)
    write_nir(graph, str(tmp_path / "g.nir"))
    save_graph(graph, str(tmp_path / "native"))
    for again in (load_nir(str(tmp_path / "g.nir")).graph, load_graph(str(tmp_path / "native"))):
        assert_same_graph(graph, again)
        assert [n.refractory for _, n in again.items_of(ir.SpikingNeuron)] == [2, 0]
    assert print_graph(graph).count("refractory=2") == 1 and "refractory=0" not in print_graph(graph)
