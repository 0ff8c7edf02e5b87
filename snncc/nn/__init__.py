"""Training-side spiking modules whose exact forward pass the compiler reproduces.

Inputs are time-major sequences ``[B, T, ...]``; neurons also run step-wise with an
explicit state (``neuron.step(x_t, state)``). Every neuron exports itself to an IR
node with ``neuron.to_ir(shape, dt)``; ``snncc.frontends.torch_layers.module_to_graph``
turns a whole model into an IR graph.
"""
from .mpbn import MPBNLIF
from .neurons import LIF, CubaLIF, CubaLIFState, LIFState, SpikingNeuron
from .sequential import Sequential, apply_layer, named_layers
from .surrogate import FastSigmoidSpike, spike_fn

__all__ = [
    "CubaLIF", "CubaLIFState", "FastSigmoidSpike", "LIF", "LIFState", "MPBNLIF", "Sequential",
    "SpikingNeuron", "apply_layer", "named_layers", "spike_fn",
]
