"""snncc's graph IR: typed nodes, port-naming edges, verification."""
from .graph import Edge, Graph
from .nodes import (
    IF, LIF, NODE_TYPES, Affine, AvgPool2d, BatchNorm, BatchNormParams, Comparator, CoreAssignment,
    CoreSlice, Conv1d, Conv2d, CubaLI, CubaLIF, Delay, Flatten, I, Input, IntParam, LI, Linear,
    Neuron, Node, Output, Quantization, ResetMode, Scale, SpikingNeuron, SumPool2d, Threshold, per_neuron,
)
from .verify import evaluation_order, infer_shapes, verify

__all__ = [
    "Affine", "AvgPool2d", "BatchNorm", "BatchNormParams", "Comparator", "Conv1d", "Conv2d",
    "CoreAssignment", "CoreSlice", "CubaLI", "CubaLIF", "Delay", "Edge", "Flatten", "Graph", "I",
    "IF", "Input", "IntParam", "LI", "LIF", "Linear", "NODE_TYPES", "Neuron", "Node", "Output",
    "Quantization", "ResetMode", "Scale", "SpikingNeuron", "SumPool2d", "Threshold",
    "evaluation_order", "infer_shapes", "per_neuron", "verify",
]
