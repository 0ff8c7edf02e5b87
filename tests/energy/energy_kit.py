"""A tiny network whose activity is counted by hand in the tests.

    input(2) --W1 (3x2)--> a: LIF(3) --W2 (1x3)--> b: LIF(1) --> output

W1 = [[1, 0], [2, 3], [0, 0]] (3 deployed synapses, 3 zeros); W2 = [[0.5, 0, 1]] (2 deployed,
1 zero). One sample, two steps: input [1, 0] then [1, 1]; a spikes [1, 0, 0] then [0, 1, 0];
b spikes 0 then 1. No biases, v_leak = 0.
"""
import json
from dataclasses import dataclass
from importlib import resources

import numpy as np

from snncc.ir import LIF, CoreAssignment, CoreSlice, Graph, Input, Linear
from snncc.runtime.backend import RunResult

W1 = np.array([[1.0, 0.0], [2.0, 3.0], [0.0, 0.0]])
W2 = np.array([[0.5, 0.0, 1.0]])
X = np.array([[[1.0, 0.0], [1.0, 1.0]]])  # [B=1, T=2, 2]
SPIKES = {"a": np.array([[[1, 0, 0], [0, 1, 0]]], np.uint8), "b": np.array([[[0], [1]]], np.uint8)}
#: a split over two cores of different tiles, b on a third core (tiny_graph's ``cores``)
LOIHI_CORES = {"a": [(0, 0, 2), (5, 2, 3)], "b": [(36, 0, 1)]}


def lif(n):
    return LIF(tau=np.full(n, 1e-2), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.ones(n), v_reset=np.zeros(n))


def tiny_graph(cores=None) -> Graph:
    """``cores``: {population: [(core index, start, stop), ...]} for a CoreAssignment."""
    def placed(name, node):
        if cores and name in cores:
            return node.replace(cores=CoreAssignment(tuple(CoreSlice(c, s, e) for c, s, e in cores[name])))
        return node

    return Graph.sequential(Input(shape=(2,)), Linear(weight=W1), placed("a", lif(3)), Linear(weight=W2),
                            placed("b", lif(1)), names=["input", "w1", "a", "w2", "b"], dt=1e-3)


def tiny_result(backend="golden", extra=None) -> RunResult:
    return RunResult(backend, {k: v.copy() for k, v in SPIKES.items()}, SPIKES["b"].astype(float), extra=extra or {})


@dataclass(frozen=True)
class Caps:
    weight_bits: int | None = None
    state_bits: int | None = None


def constants(table: str) -> dict[str, float]:
    """The raw values of a built-in table, read from its JSON (not through snncc.energy)."""
    raw = json.loads(resources.files("snncc.energy.data").joinpath(f"{table}.json").read_text())
    return {k: float(v["value"]) for k, v in raw["constants"].items()}
