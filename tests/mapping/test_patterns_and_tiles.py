"""Connectivity patterns and per-tile counts against the dense projection matrices of
snncc.lowering (the reference's own linear maps), on small graphs."""
import numpy as np
import pytest

from snncc.ir import Affine, Conv2d, Edge, Flatten, Graph, Input, Output, SumPool2d
from snncc.lowering import layer_graph
from snncc.mapping.geometry import blocks, box_sums, extent_split, runs
from snncc.mapping.network import network_of
from snncc.mapping.patterns import KronPattern
from snncc.mapping.stats import projection_stats, receptive_indices
from snncc.mapping.synthetic import if_layer


def _graph(dilation=1):
    rng = np.random.default_rng(3)
    nodes = {
        "in": Input(shape=(2, 9, 9)),
        "conv1": Conv2d(weight=rng.normal(size=(4, 2, 3, 3)), bias=np.zeros(4), input_shape=(2, 9, 9), padding=(1, 1)),
        "a": if_layer((4, 9, 9)),
        "pool": SumPool2d(kernel_size=(2, 2), stride=(2, 2)),
        "conv2": Conv2d(weight=rng.normal(size=(6, 2, 3, 3)), bias=np.zeros(6), input_shape=(4, 4, 4),
                        padding=(dilation, dilation), dilation=(dilation, dilation), groups=2),
        "b": if_layer((6, 4, 4)),
        "flat": Flatten(input_shape=(6, 4, 4)),
        "fc": Affine(weight=rng.normal(size=(10, 96)), bias=np.zeros(10)),
        "c": if_layer((10,)),
        "rec": Affine(weight=rng.normal(size=(10, 10)), bias=np.zeros(10)),
        "out": Output(shape=(10,)),
    }
    edges = [Edge("in", "conv1"), Edge("conv1", "a"), Edge("a", "pool"), Edge("pool", "conv2"), Edge("conv2", "b"),
             Edge("b", "flat"), Edge("flat", "fc"), Edge("fc", "c"), Edge("c", "rec"), Edge("rec", "c"), Edge("c", "out")]
    return Graph(nodes, edges, dt=1e-3)


def _dense(pattern):
    if isinstance(pattern, KronPattern):
        pattern = pattern.to_explicit("test")
    return pattern.matrix.toarray() != 0


def _tilings(shape):
    c, h, w = shape
    out = [runs(shape, 1, 1), runs(shape, 1, min(5, h * w)), runs(shape, min(2, c), min(3, h * w))]
    if h > 1:
        out += [blocks(shape, 1, 2, 2), blocks(shape, min(3, c), 3, 1), blocks(shape, 2, 1, 3)]
    return out


@pytest.mark.parametrize("dilation", [1, 2])
def test_patterns_equal_the_nonzeros_of_the_projection_matrices(dilation):
    graph = _graph(dilation)
    layers = layer_graph(graph)
    network = network_of(graph, 8)
    assert {p.dst for p in network.projections} == {"a", "b", "c"}
    for info in network.projections:
        proj = next(p for p in layers.projections if f"{p.src}->{p.dst}" == info.name)
        np.testing.assert_array_equal(_dense(info.pattern), layers.matrix(proj) != 0)
    kinds = {p.name: type(p.pattern).__name__ for p in network.projections}
    assert kinds == {"in->a": "KronPattern", "a->b": "KronPattern", "b->c": "ExplicitPattern",
                     "c->c": "ExplicitPattern"}
    # a single convolution shares its kernel: entries per output channel = Cin/groups x kh x kw
    assert {p.name: p.kernel_per_channel for p in network.projections} == {
        "in->a": 18, "a->b": 18, "b->c": None, "c->c": None}


@pytest.mark.parametrize("dilation", [1, 2])
def test_tile_counts_equal_dense_counts(dilation):
    graph = _graph(dilation)
    network = network_of(graph, 8)
    for info in network.projections:
        dense = _dense(info.pattern)
        shape = network.layer(info.dst).shape
        for tiles in _tilings(shape):
            labels = tiles.labels()
            assert labels.min() >= 0 and np.array_equal(np.bincount(labels), tiles.neurons())
            stats = projection_stats(info.pattern, tiles)
            for i in range(len(tiles)):
                rows = dense[labels == i]
                sources = np.flatnonzero(rows.any(axis=0))
                assert stats.synapses[i] == rows.sum()
                exact = not isinstance(info.pattern, KronPattern) or all(a.exact for a in info.pattern.axes)
                assert stats.sources[i] == sources.size if exact else stats.sources[i] >= sources.size
                np.testing.assert_array_equal(np.sort(receptive_indices(info.pattern, tiles, i)), sources)


def test_runs_cover_positions_in_row_major_order_and_blocks_are_rectangles():
    tiles = runs((2, 4, 5), 1, 3)  # 20 positions in runs of 7, 7, 6, both channels
    assert [tiles.flat_ranges(i) for i in range(3)] == [
        [(0, 7), (20, 27)], [(7, 14), (27, 34)], [(14, 20), (34, 40)]]
    grid = blocks((1, 4, 6), 1, 2, 2)
    assert grid.flat_ranges(0) == [(0, 3), (6, 9)] and grid.flat_ranges(3) == [(15, 18), (21, 24)]


def test_extent_split_gives_border_ranges_more_rows():
    network = network_of(_graph(), 8)
    rows = network.projections[0].pattern.axes[1]  # 3x3 'same' conv rows: border rows see 2 inputs
    # 3 ranges need a 5-row field: 4 border rows (input rows 0..4), then 3 rows (3..7), the rest
    starts, stops = extent_split([rows], 9, 3)
    assert list(zip(starts.tolist(), stops.tolist())) == [(0, 4), (4, 7), (7, 9)]
    # 4 ranges fit a 4-row field: 3 rows at the border, 2 inside (balanced splits need 5 rows)
    starts, stops = extent_split([rows], 9, 4)
    assert list(zip(starts.tolist(), stops.tolist())) == [(0, 3), (3, 5), (5, 7), (7, 9)]


def test_box_sums_equal_per_tile_sums():
    values = np.random.default_rng(0).random(3 * 7 * 9)
    for tiles in _tilings((3, 7, 9)):
        expected = np.bincount(tiles.labels(), weights=values, minlength=len(tiles))
        np.testing.assert_allclose(box_sums(values, tiles), expected, rtol=1e-12)
