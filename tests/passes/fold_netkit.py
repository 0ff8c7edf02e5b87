"""Random networks and a before/after comparison through the reference simulator, shared by
the folding-pass tests (imported via tests/passes/conftest.py's sys.path entry)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from snncc import ir
from snncc.runtime import simulate

DT = 1e-3
STEPS, BATCH = 16, 3


def neuron(kind: str, shape, rng, reset="value", comparator=">", bias=True, **extra):
    """A random spiking neuron of ``shape`` (full per-neuron arrays)."""
    shape = tuple(shape)
    u = lambda lo, hi: rng.uniform(lo, hi, shape)  # noqa: E731
    common = dict(reset=ir.ResetMode(reset), comparator=ir.Comparator(comparator),
                  bias=u(-0.05, 0.15) if bias else None, **extra)
    if kind == "IF":
        return ir.IF(r=u(0.5, 1.5), v_threshold=u(0.5, 1.5), v_reset=u(-0.3, 0.1), **common)
    if kind == "LIF":
        return ir.LIF(tau=u(3e-3, 2e-2), r=u(0.5, 1.5), v_leak=u(-0.2, 0.2), v_threshold=u(0.3, 1.0),
                      v_reset=u(-0.3, 0.1), **common)
    return ir.CubaLIF(tau_syn=u(2e-3, 1e-2), tau_mem=u(3e-3, 2e-2), r=u(0.5, 1.5), v_leak=u(-0.2, 0.2),
                      v_threshold=u(0.1, 0.6), v_reset=u(-0.3, 0.1), w_in=u(0.5, 2.0), **common)


def bn_params(shape, rng, *, negative=0.3, tiny=0.0, zero=False) -> ir.BatchNormParams:
    """Random BN statistics; gamma has random sign (P(negative)), some |gamma| tiny (P(tiny))."""
    magnitude = np.exp(rng.uniform(np.log(0.2), np.log(3.0), shape))
    magnitude = np.where(rng.uniform(size=shape) < tiny, np.exp(rng.uniform(np.log(1e-6), np.log(1e-3), shape)), magnitude)
    sign = np.where(rng.uniform(size=shape) < negative, -1.0, 1.0)
    gamma = sign * magnitude
    if zero:
        gamma.flat[0] = 0.0
    return ir.BatchNormParams(mean=rng.normal(0, 0.3, shape), var=rng.uniform(0.05, 2.0, shape),
                              gamma=gamma, beta=rng.normal(0, 0.4, shape), eps=1e-5)


def layer(kind: str, rng, c_in: int = 2, c_out: int = 3):
    """(input shape, weight layer) for 'affine', 'linear', 'conv1d' or 'conv2d'."""
    if kind in ("affine", "linear"):
        n_in, n_out = 6, 8
        w = rng.normal(0, 1.2 / np.sqrt(n_in), (n_out, n_in))
        node = ir.Affine(weight=w, bias=rng.normal(0, 0.1, n_out)) if kind == "affine" else ir.Linear(weight=w)
        return (n_in,), node
    if kind == "conv1d":
        return (c_in, 10), ir.Conv1d(weight=rng.normal(0, 0.6, (c_out, c_in, 3)), bias=rng.normal(0, 0.1, c_out),
                                     input_shape=(c_in, 10))
    return (c_in, 6, 6), ir.Conv2d(weight=rng.normal(0, 0.4, (c_out, c_in, 3, 3)), bias=rng.normal(0, 0.1, c_out),
                                   input_shape=(c_in, 6, 6), padding=1)


def out_shape(node, in_shape):
    return tuple(node.output_shape(tuple(in_shape)))


def chain(*pairs, dt=DT) -> ir.Graph:
    """Graph.sequential with names: chain(("fc", node), ("bn", node), ...)."""
    return ir.Graph.sequential(*[n for _, n in pairs], names=[k for k, _ in pairs], dt=dt)


def spikes_in(shape, seed: int, p: float = 0.35) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.uniform(size=(BATCH, STEPS, *shape)) < p).astype(np.float64)


@dataclass
class Comparison:
    mismatches: int
    spikes: int
    events: int
    before: object
    after: object


def compare(before: ir.Graph, after: ir.Graph, x: np.ndarray) -> Comparison:
    """Spike mismatches over the spiking nodes both graphs share (by name)."""
    torch.set_num_threads(1)
    a, b = simulate(before, x), simulate(after, x)
    shared = sorted(set(a.spikes) & set(b.spikes))
    assert shared, "no spiking node to compare"
    mismatches = sum(int((a.spikes[n] != b.spikes[n]).sum()) for n in shared)
    spikes = sum(int(a.spikes[n].sum()) for n in shared)
    events = sum(a.spikes[n].numel() for n in shared)
    return Comparison(mismatches, spikes, events, a, b)


def full(values, shape):
    """Per-channel (axis 0) or per-element BN parameters broadcast to the neuron shape."""
    values = np.asarray(values, dtype=np.float64)
    if values.shape == tuple(shape):
        return values
    return np.broadcast_to(values.reshape(shape[0], *([1] * (len(shape) - 1))), shape)


def bn_gain(p: ir.BatchNormParams, shape):
    """BN(x) = a x + c: the gain a = gamma / sqrt(var + eps) at the neuron shape."""
    return full(p.gamma, shape) / np.sqrt(full(p.var, shape) + p.eps)


def mpbn_threshold(node):
    """(membrane-unit threshold, sign(gamma)) of a neuron's MPBN, from the paper's algebra
    (frontends.md §3.2); a negative gamma flips the comparison."""
    p, shape = node.membrane_bn, node.shape
    gamma, mean, beta = (full(getattr(p, k), shape) for k in ("gamma", "mean", "beta"))
    s = np.sqrt(full(p.var, shape) + p.eps)
    return mean + (np.asarray(node.v_threshold) - beta) * s / gamma, np.sign(gamma)


def per_channel_params(cell):
    """``cell`` with its time constants and gains constant within each channel (axis 0), as a
    convolution in front needs (one factor per channel: shared kernels)."""
    def one(values):
        rows = np.asarray(values).reshape(values.shape[0], -1)
        return np.broadcast_to(rows[:, :1], rows.shape).reshape(values.shape)
    keys = ("r", "tau", "tau_mem", "tau_syn", "w_in")
    return cell.replace(**{k: one(getattr(cell, k)) for k in keys if k in cell.array_fields})
