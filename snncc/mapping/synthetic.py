"""Synthetic IR graphs for mapping tests and benchmarks (random weights, IF neurons)."""
from __future__ import annotations

import numpy as np

from snncc.ir import IF, Affine, Conv2d, Edge, Flatten, Graph, Input, Output, SumPool2d


def if_layer(shape: tuple[int, ...]) -> IF:
    return IF(r=np.ones(shape), v_threshold=np.ones(shape), v_reset=np.zeros(shape))


def mlp(sizes: list[int], seed: int = 0, recurrent: bool = False) -> Graph:
    """Input(sizes[0]) -> Affine -> IF per further size; ``recurrent`` adds a self loop
    on the first hidden layer."""
    rng = np.random.default_rng(seed)
    nodes = {"input": Input(shape=(sizes[0],))}
    edges, prev = [], "input"
    for k, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]), 1):
        nodes[f"fc{k}"] = Affine(weight=rng.normal(size=(n_out, n_in)) / np.sqrt(n_in), bias=np.zeros(n_out))
        nodes[f"lif{k}"] = if_layer((n_out,))
        edges += [Edge(prev, f"fc{k}"), Edge(f"fc{k}", f"lif{k}")]
        if recurrent and k == 1:
            nodes["rec1"] = Affine(weight=rng.normal(size=(n_out, n_out)) / np.sqrt(n_out), bias=np.zeros(n_out))
            edges += [Edge("lif1", "rec1"), Edge("rec1", "lif1")]
        prev = f"lif{k}"
    nodes["output"] = Output(shape=(sizes[-1],))
    edges.append(Edge(prev, "output"))
    return Graph(nodes, tuple(edges), dt=1e-3)


def cnn(input_shape: tuple[int, int, int], channels: list[int], kernel: int = 3, pool_every: int = 0,
        dense: list[int] | None = None, seed: int = 0) -> Graph:
    """Conv(kernel, 'same' padding) -> IF per entry of ``channels``; a 2x2 sum pool after
    every ``pool_every`` conv layers (0: none); then Flatten -> Affine -> IF per ``dense``."""
    rng = np.random.default_rng(seed)
    c, h, w = input_shape
    nodes = {"input": Input(shape=input_shape)}
    edges, prev = [], "input"
    for k, c_out in enumerate(channels, 1):
        if pool_every and k > 1 and (k - 1) % pool_every == 0:
            nodes[f"pool{k}"] = SumPool2d(kernel_size=(2, 2), stride=(2, 2))
            edges.append(Edge(prev, f"pool{k}"))
            prev, h, w = f"pool{k}", h // 2, w // 2
        weight = rng.normal(size=(c_out, c, kernel, kernel)) / np.sqrt(c * kernel * kernel)
        nodes[f"conv{k}"] = Conv2d(weight=weight, bias=np.zeros(c_out), input_shape=(c, h, w),
                                   padding=(kernel // 2, kernel // 2))
        nodes[f"lif{k}"] = if_layer((c_out, h, w))
        edges += [Edge(prev, f"conv{k}"), Edge(f"conv{k}", f"lif{k}")]
        prev, c = f"lif{k}", c_out
    n = c * h * w
    if dense:
        nodes["flat"] = Flatten(input_shape=(c, h, w))
        edges.append(Edge(prev, "flat"))
        prev = "flat"
        for k, n_out in enumerate(dense, 1):
            nodes[f"fc{k}"] = Affine(weight=rng.normal(size=(n_out, n)) / np.sqrt(n), bias=np.zeros(n_out))
            nodes[f"dense{k}"] = if_layer((n_out,))
            edges += [Edge(prev, f"fc{k}"), Edge(f"fc{k}", f"dense{k}")]
            prev, n = f"dense{k}", n_out
    nodes["output"] = Output(shape=())
    edges.append(Edge(prev, "output"))
    return Graph(nodes, tuple(edges), dt=1e-3).with_inferred_output_shapes()
