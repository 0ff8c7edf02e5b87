"""Shared check of the library-converter tests: the reference simulation of an imported
graph against the library's own spikes, layer by layer. Also makes the shared helpers
(frontend_kit.py) importable: tests/ has no packages."""
from __future__ import annotations

import os
import sys

import pytest
import torch

from snncc import ir
from snncc.runtime import simulate

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def spiking_layers(graph: ir.Graph) -> list[str]:
    """Spiking neuron nodes in layer order (one per converted neuron layer)."""
    return [name for name, node in graph.items_of(ir.SpikingNeuron)]


@pytest.fixture
def agreement():
    """``agreement(graph, x, library_spikes)`` -> {node: fraction of equal spikes} after checking
    every layer fires at a rate where agreement means something (not silent, not saturated).
    ``library_spikes`` are the library's outputs [B, T, ...] of each neuron layer, in order;
    graded spikes are compared as spike / no spike."""

    def compare(graph: ir.Graph, x: torch.Tensor, library_spikes: list[torch.Tensor],
                min_rate: float = 0.01, max_rate: float = 0.9) -> dict[str, float]:
        result = simulate(graph, x.double(), dtype=torch.float64)
        names = spiking_layers(graph)
        assert len(names) == len(library_spikes), (names, len(library_spikes))
        fractions = {}
        for name, reference in zip(names, library_spikes):
            ours = result.spikes[name]
            reference = (reference.reshape(ours.shape) != 0).double()
            rate = float(reference.mean())
            assert min_rate < rate < max_rate, f"{name}: library firing rate {rate:.3f} makes the test meaningless"
            fractions[name] = float((ours == reference).double().mean())
        return fractions

    return compare
