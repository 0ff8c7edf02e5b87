"""Pool + conv layers bound by input axons (band tilings, the integer receptive-field bound)
and layers bound by output axons (weight-balanced runs), against hand counts and the
projection matrices of snncc.lowering (sparse)."""
import itertools

import numpy as np
import pytest

from snncc.ir import Conv2d, Edge, Graph, Input, Output, SumPool2d
from snncc.lowering import layer_graph
from snncc.mapping import map_network, resolve_model
from snncc.mapping.geometry import BoxWeights, weighted_runs
from snncc.mapping.synthetic import cnn, if_layer


def _pool_conv(c_in: int, side: int, c_out: int) -> Graph:
    """Input (c_in, side, side) -> 2x2 sum pool -> 3x3 'same' conv -> IF (c_out, side/2, side/2)."""
    rng = np.random.default_rng(0)
    half = side // 2
    nodes = {"in": Input(shape=(c_in, side, side)), "pool": SumPool2d(kernel_size=(2, 2), stride=(2, 2)),
             "conv": Conv2d(weight=rng.normal(size=(c_out, c_in, 3, 3)), bias=np.zeros(c_out),
                            input_shape=(c_in, half, half), padding=(1, 1)),
             "n": if_layer((c_out, half, half)), "out": Output(shape=(c_out, half, half))}
    edges = [Edge("in", "pool"), Edge("pool", "conv"), Edge("conv", "n"), Edge("n", "out")]
    return Graph(nodes, edges, dt=1e-3).with_inferred_output_shapes()


def _matrix(graph, dst="n"):
    """The projection into ``dst`` as a sparse [n_dst, n_src] matrix (snncc.lowering)."""
    layers = layer_graph(graph)
    (projection,) = layers.into(dst)
    matrix = layers.sparse_matrix(projection).tocsr()
    matrix.eliminate_zeros()
    return matrix


def _sources(matrix, rows) -> np.ndarray:
    """Per source: whether any of ``rows`` reads it."""
    return matrix[np.flatnonzero(rows) if rows.dtype == bool else rows].getnnz(axis=0) > 0


# Each output position reads a 6 x 6 input window (3 x 3 pool cells of 2 x 2), stride 2, so a
# set of n unclipped positions over p columns, <= lam per column, reads >= C_in * 4 *
# (n + 2p + 2 lam + 4) sources. (32, 32, 32) -> (8, 16, 16): 4096 axons allow n + 2p + 2 lam
# <= 28, at most n = 12 (p = lam = 4, or 3 x 4); 14 x 14 unclipped positions need >= 17 cores
# (the Minkowski relaxation gave 16). 17 is reached: bands of 5, 6 and 5 rows split into
# 5, 7 and 5 column blocks (the grid search alone found 20).
# (16, 64, 64) -> (32, 32, 32): n + 2p + 2 lam <= 60, n <= 36 (6 x 6); 30 x 30 / 36 = 25,
# reached by 5 x 5 blocks of [7, 6, 6, 6, 7] rows and columns (border blocks read 16 rows).
@pytest.mark.parametrize("c_in, side, c_out, bound", [(32, 32, 8, 17), (16, 64, 32, 25)])
def test_pool_conv_layer_reaches_the_integer_receptive_bound(c_in, side, c_out, bound):
    graph = _pool_conv(c_in, side, c_out)
    part = map_network(graph, resolve_model("loihi2")).parts["n"]
    assert part.bounds["input axons (receptive fields)"] == bound
    assert len(part.tiles) == bound
    matrix = _matrix(graph)
    labels = part.tiles.labels()
    assert labels.min() >= 0
    fan_in = [int(_sources(matrix, labels == i).sum()) for i in range(len(part.tiles))]
    assert max(fan_in) <= 4096
    assert np.array_equal(part.usage.fan_in, fan_in)


def test_receptive_count_inequality_on_random_position_sets():
    # the bound's inequality, sources >= 32 * 4 * (n + 2p + 2 lam + 4), for random sets of
    # unclipped positions (rows and columns 1..14 of 16), counted on the matrix;
    # equality for a rectangle
    graph = _pool_conv(32, 32, 8)
    matrix = _matrix(graph)
    rng = np.random.default_rng(1)
    interior = [(r, c) for r in range(1, 15) for c in range(1, 15)]

    def check(cells, exact=False):
        rows = [r * 16 + c for r, c in cells]  # channel 0
        sources = int(_sources(matrix, np.array(rows)).sum())
        columns = {}
        for r, c in cells:
            columns[c] = columns.get(c, 0) + 1
        n, p, lam = len(cells), len(columns), max(columns.values())
        formula = 32 * 4 * (n + 2 * p + 2 * lam + 4)
        assert sources == formula if exact else sources >= formula, (cells, sources, formula)

    for _ in range(300):
        n = int(rng.integers(1, 20))
        check([interior[i] for i in rng.choice(len(interior), size=n, replace=False)])
    check([(r, c) for r in range(5, 8) for c in range(3, 7)], exact=True)  # 3 x 4: 32 * 4 * 30 = 3840


def test_weighted_runs_minimise_the_largest_run_weight():
    weights = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8], dtype=float)
    tiles = weighted_runs((1, 1, 12), 1, 4, BoxWeights.of(weights, (1, 1, 12)))
    got = BoxWeights.of(weights, (1, 1, 12)).sums(tiles)
    best = min(max(part.sum() for part in np.split(weights, cuts))
               for cuts in itertools.combinations(range(1, 12), 3))  # brute force over 4 runs
    assert len(tiles) <= 4 and got.max() == best == 14  # [3 1 4 1 5] [9 2] [6 5 3] [5 8]
    assert np.array_equal(np.sort(tiles.labels()), np.repeat(np.arange(len(tiles)), np.bincount(tiles.labels())))


def test_output_axon_bound_layer_packs_to_its_bound():
    # lif1 (16, 64, 64) feeds pool + conv lif2: each lif1 neuron needs one output axon per
    # lif2 core reading it; recounted here from the matrix and the lif2 tiles
    graph = cnn((2, 64, 64), [16, 32], pool_every=1)
    result = map_network(graph, resolve_model("loihi2"))
    lif2 = result.parts["lif2"].tiles.labels()
    matrix = _matrix(graph, "lif2")
    destinations = np.zeros(matrix.shape[1], dtype=int)
    for i in range(lif2.max() + 1):
        destinations += _sources(matrix, lif2 == i)
    lif1 = result.parts["lif1"].tiles.labels()
    axons = np.bincount(lif1, weights=destinations)
    assert axons.max() <= 4096
    assert len(axons) == -(-int(destinations.sum()) // 4096)  # the output-axon bound, reached
