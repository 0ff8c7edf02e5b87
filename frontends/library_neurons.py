"""Shared pieces of the norse, snnTorch, sinabs and rockpool converters.

Each library converter reads the module's own parameters (not the library's NIR
exporter, whose known bugs are listed in docs: norse writes tau = dt/tau_mem_inv,
rockpool drops the bias, snnTorch hard-codes dt and omits the reset mode) and maps
the library's per-step update onto the IR neuron whose reference-simulator update
is the same arithmetic. Where a library's update has no exact IR form, the node
carries an ``approximation`` note that the loader turns into a warning.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
import torch

from .. import ir
from ..nn.neurons import decay_to_tau, full_array, leaky_neuron
from .torch_layers import Block, LayerContext, Unsupported

__all__ = ["APPROXIMATION", "Block", "check_dt", "constant_input", "decay_to_tau", "full_array",
           "leaky_neuron", "loop_block", "spike_comparator"]

#: node metadata key: why the node only approximates the library's forward pass
APPROXIMATION = "approximation"


def spike_comparator(spikes_of_membrane: Callable[[torch.Tensor], torch.Tensor], what: str) -> ir.Comparator:
    """The comparator of a library's spike function, probed around a threshold of 1.

    ``spikes_of_membrane(v)`` gives the spikes for membrane values ``v`` with threshold 1.
    Anything other than a 0/1 step at the threshold (multi-spike, stochastic, graded)
    has no IR form and raises :class:`Unsupported`.
    """
    tiny = 1e-9
    v = torch.tensor([-3.0, 0.0, 1.0 - tiny, 1.0, 1.0 + tiny, 2.5, 7.0], dtype=torch.float64)
    with torch.no_grad():
        out = [float(s) for s in spikes_of_membrane(v).reshape(-1)]
    if out == [0, 0, 0, 0, 1, 1, 1]:
        return ir.Comparator.GT
    if out == [0, 0, 0, 1, 1, 1, 1]:
        return ir.Comparator.GE
    raise Unsupported(f"{what} is not a single 0/1 spike at the threshold (membrane 1+, 2.5, 7 with threshold 1 "
                      f"gave {out[4:]}); snncc neurons emit at most one spike per step",
                      hint="use the library's single-spike function (e.g. sinabs SingleSpike, rockpool "
                           "max_spikes_per_dt=1) and fine-tune")


def check_dt(layer_dt: float, ctx: LayerContext) -> None:
    """Continuous-time libraries integrate with their own dt; the graph must use the same."""
    if not math.isclose(float(layer_dt), ctx.dt, rel_tol=1e-9):
        raise Unsupported(f"the layer integrates with dt={float(layer_dt):g} s but the graph uses dt={ctx.dt:g} s",
                          hint=f"omit --dt (the model's own dt is used) or pass --dt {float(layer_dt):g}")


def constant_input(bias: np.ndarray, shape: Sequence[int]) -> ir.Node:
    """An identity synapse adding ``bias`` to a neuron's input current every step.

    Needed where a library adds a constant *into the synaptic current* (a neuron's
    ``bias`` field enters the membrane); ``prune`` merges it with the previous layer."""
    shape = tuple(int(d) for d in shape)
    if len(shape) == 1:
        return ir.Affine(weight=np.eye(shape[0]), bias=np.broadcast_to(bias, shape).astype(float))
    channel_bias = np.broadcast_to(bias, shape).reshape(shape[0], -1)
    if len(shape) == 3 and np.all(channel_bias == channel_bias[:, :1]):
        eye = np.eye(shape[0]).reshape(shape[0], shape[0], 1, 1)
        return ir.Conv2d(weight=eye, bias=channel_bias[:, 0].astype(float), input_shape=shape)
    raise Unsupported(f"a constant input current of shape {np.shape(bias)} into neurons of shape {shape}",
                      hint="use per-channel biases")


def loop_block(neuron: ir.Node, loops: Sequence[Sequence[ir.Node]] = (), pre: Sequence[ir.Node] = (),
               post: Sequence[ir.Node] = ()) -> Block:
    """``pre`` -> neuron -> ``post``; each loop is a chain from the neuron's output back
    into its input, so it delivers the previous step's spikes."""
    nodes: list[tuple[str, ir.Node]] = []
    edges: list[tuple[str, str]] = []

    def chain(prefix: str, chain_nodes: Sequence[ir.Node], start: str | None) -> str | None:
        previous = start
        for k, node in enumerate(chain_nodes):
            name = f"{prefix}_{k}_{node.kind.lower()}" if len(chain_nodes) > 1 else f"{prefix}_{node.kind.lower()}"
            nodes.append((name, node))
            if previous is not None:
                edges.append((previous, name))
            previous = name
        return previous

    pre_last = chain("in", pre, None)
    core = neuron.kind.lower()
    nodes.append((core, neuron))
    if pre_last is not None:
        edges.append((pre_last, core))
    exit_name = chain("out", post, core) or core
    for k, loop in enumerate(loops):
        edges.append((chain(f"rec{k}", loop, core), core))
    entry = nodes[0][0]
    return Block(tuple(nodes), tuple(edges), entry, exit_name)
