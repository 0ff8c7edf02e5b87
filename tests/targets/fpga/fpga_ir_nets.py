"""Hand-built graphs in the canonical integer form (docs/lowering-contract.md §2-3), as the
discretize/quantize passes produce them: per-step gain 1, realised decays, float fields equal
to integer values times the neuron's state scale (a power of two, so float64 is exact)."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from snncc.ir import (
    IF, LIF, Affine, Conv2d, Edge, Flatten, Graph, I, Input, IntParam, Output, Quantization,
)

requires_iverilog = pytest.mark.skipif(shutil.which("iverilog") is None,
                                       reason="iverilog not installed (make sysdeps)")
DT = 1e-3
S = 2.0 ** -6  # state scale: real membrane = integer * S


def quant(scale: float = S, **extra) -> Quantization:
    return Quantization({}, {"state_scale": scale, **extra})


def weights(rng, shape, bits=6, scale=S):
    values = rng.integers(-(1 << (bits - 1)) + 1, 1 << (bits - 1), shape)
    return values * scale, Quantization({"weight": IntParam(values, scale, bits)})


def if_layer(n, theta, reset="subtract", comparator=">=", scale=S, v_reset=0):
    return IF(r=np.ones(n), v_threshold=np.asarray(theta, float) * scale * np.ones(n), v_reset=np.full(n, v_reset * scale),
              reset=reset, comparator=comparator, quant=quant(scale))


def lif_layer(n, theta, m, reset="subtract", comparator=">", scale=S, bias=None):
    """LIF whose per-step decay is exactly m / 4096 (what discretize leaves for fraction-12)."""
    a = np.asarray(m, float) / 4096 * np.ones(n)
    tau = DT / (1 - a)
    return LIF(tau=tau, r=tau / DT, v_leak=np.zeros(n), v_threshold=np.asarray(theta, float) * scale * np.ones(n),
               v_reset=np.zeros(n), reset=reset, comparator=comparator,
               bias=None if bias is None else np.asarray(bias, float) * scale,
               quant=quant(scale, dv=(4096 - np.asarray(m) * np.ones(n, int)).astype(int).tolist()))


def affine(rng, n_out, n_in, bits=6, bias_range=3):
    w, q = weights(rng, (n_out, n_in), bits)
    return Affine(weight=w, bias=rng.integers(-bias_range, bias_range + 1, n_out) * S, quant=q)


def dense_if_net(seed=0, sizes=(12, 10, 6)) -> Graph:
    """Input -> Affine -> IF -> Affine -> IF -> Output: the integer model is exact in float64."""
    rng = np.random.default_rng(seed)
    nodes = [Input(shape=(sizes[0],))]
    names = ["in"]
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        nodes += [affine(rng, n_out, n_in), if_layer(n_out, rng.integers(20, 60, n_out))]
        names += [f"fc{i}", f"if{i}"]
    return Graph.sequential(*nodes, names=names, dt=DT)


def lif_recurrent_net(seed=1) -> Graph:
    """Input(8) -> Affine -> LIF(12, self-recurrent through an Affine) -> Affine -> LIF(4)."""
    rng = np.random.default_rng(seed)
    w_rec, q_rec = weights(rng, (12, 12), 5)
    nodes = {
        "in": Input(shape=(8,)), "fc1": affine(rng, 12, 8),
        "lif1": lif_layer(12, rng.integers(30, 60, 12), rng.integers(3000, 4000, 12), bias=rng.integers(-2, 3, 12)),
        "rec": Affine(weight=w_rec, bias=np.zeros(12), quant=q_rec),
        "fc2": affine(rng, 4, 12), "lif2": lif_layer(4, 40, 3686, reset="value", comparator=">="),
        "out": Output(shape=(4,)),
    }
    edges = [Edge("in", "fc1"), Edge("fc1", "lif1"), Edge("lif1", "rec"), Edge("rec", "lif1"),
             Edge("lif1", "fc2"), Edge("fc2", "lif2"), Edge("lif2", "out")]
    return Graph(nodes, edges, dt=DT)


def conv_net(seed=2, readout: str = "lif") -> Graph:
    """Input(2,6,6) -> Conv2d 3x3 (4 ch, pad 1) -> LIF -> Flatten -> Affine -> LIF(5) or I(5)."""
    rng = np.random.default_rng(seed)
    w, q = weights(rng, (4, 2, 3, 3), 5)
    conv = Conv2d(weight=w, bias=rng.integers(-2, 3, 4) * S, input_shape=(2, 6, 6), padding=(1, 1), quant=q)
    th = np.repeat(rng.integers(15, 30, 4), 36)
    lif = lif_layer(144, th, 3500)
    lif = lif.replace(**{k: np.asarray(getattr(lif, k)).reshape(4, 6, 6)
                         for k in ("tau", "r", "v_leak", "v_threshold", "v_reset")})
    head = (lif_layer(5, 60, 3900) if readout == "lif"
            else I(r=np.ones(5), quant=quant()))
    return Graph.sequential(
        Input(shape=(2, 6, 6)), conv, lif, Flatten(input_shape=(4, 6, 6)), affine(rng, 5, 144), head,
        names=["in", "conv", "lif1", "flat", "fc", "head"], dt=DT)
