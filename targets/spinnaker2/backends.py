"""The ``spinnaker2-emu`` backend: the PE-level emulator on a compiled ``OUT/spinnaker2``.

It runs the emitted netlist (not a re-lowering), ``lag`` extra steps so every population
produces all reference steps, and aligns spikes by the lags :func:`lower.timing` gives
(``raw`` keeps them unshifted). States are the hardware voltages ``v`` (float32; real
value = ``v * state_scale``). ``extra``: ``pe`` (one row per PE: packets sent/received,
synaptic events, conv MACs, mean/max time per step, overrun steps; summed over batch and
steps), ``pe_stats`` (the :class:`PEStats` arrays ``[B, T, P]``), ``steps``, ``lags``.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from snncc.diagnostics import SnnccError
from snncc.ir import SpikingNeuron
from snncc.runtime.backend import Artifact, RunResult

from . import emulator
from .emit import load
from .lower import timing


def _input(artifact: Artifact, x: np.ndarray) -> tuple[str, np.ndarray]:
    names = artifact.graph.inputs()
    if len(names) != 1:
        raise SnnccError.single("SNN542", f"the graph has {len(names)} inputs; the backend "
                                "takes one")
    x = np.asarray(x)
    if x.ndim < 2:
        raise SnnccError.single("SNN542", f"input must be [B, T, ...], got shape {x.shape}")
    flat = x.reshape(*x.shape[:2], -1)
    if not np.isin(flat, (0, 1)).all():
        raise SnnccError.single("SNN542", "SpiNNaker 2 spike sources take binary spikes (0/1)",
                                node=names[0], hint="encode the input as spikes (e.g. rate coding)")
    return names[0], flat.astype(bool)


def _output(artifact: Artifact, layers, values: dict[str, np.ndarray]) -> np.ndarray:
    """The graph Output from the aligned population values (spikes, or v for LI/I)."""
    outputs = artifact.graph.outputs()
    if len(outputs) != 1:
        raise SnnccError.single("SNN542", f"the graph has {len(outputs)} outputs; the backend "
                                "returns one", hint="merge the outputs into one Output node")
    return layers.readout(outputs[0], values)


def _compiled(artifact: Artifact):
    """(the emitted netlist, the layer view, the lags), read and checked once per Artifact."""
    def make():
        spec = load(artifact.folder())
        layers, lags, _ = timing(artifact.graph)
        return spec, layers, lags

    return artifact.cached("spinnaker2.netlist", make)


def run_emulator(artifact: Artifact, x: np.ndarray, *, record_state: bool = False) -> RunResult:
    spec, layers, lags = _compiled(artifact)
    name, flat = _input(artifact, x)
    batch, steps = flat.shape[:2]
    total = steps + max(lags.values(), default=0)
    # the recording budget is checked for this run's length (it grows with the steps)
    spec = dataclasses.replace(spec, run=dataclasses.replace(spec.run, timesteps=total))
    result = emulator.run(spec, {name: flat})

    def aligned(array: np.ndarray, pop: str) -> np.ndarray:
        return array[:, lags[pop]:lags[pop] + steps]

    spiking = [n for n, _ in artifact.graph.items_of(SpikingNeuron)]
    raw = {n: result.spikes[n].astype(np.uint8) for n in spiking}
    spikes = {n: aligned(raw[n], n) for n in spiking}
    values = {name: flat}
    for pop in spec.populations:  # what a population passes on: spikes, or v for LI/I
        if pop.name in spikes:
            values[pop.name] = spikes[pop.name]
        elif pop.neuron_model != "spike_list":
            values[pop.name] = aligned(result.v[pop.name], pop.name)
    states, scales = {}, {}
    if record_state:
        for pop in spec.populations:
            if pop.neuron_model != "spike_list":
                states[pop.name] = {"v": aligned(result.v_hw[pop.name], pop.name)}
                scales[pop.name] = 1.0 / pop.v_scale
    pe = result.pe
    extra = {"pe": pe.table(), "pe_stats": pe, "steps": total, "lags": dict(lags)}
    return RunResult("spinnaker2-emu", spikes, _output(artifact, layers, values), states, scales,
                     extra=extra, raw=raw)
