"""What a tile costs on a core of each resource model, and the per-layer lower bounds.

``usage`` turns per-tile neuron, synapse and source counts into memory by kind and the
limit checks of the model; ``lower_bound`` gives, per resource, a number of cores no
partition of the layer can go below (one layer per core).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .models import FpgaModel, Loihi2Model, ResourceModel, SpiNNaker2Model
from .patterns import ExplicitPattern, ProjectionInfo
from .stats import ProjectionStats


@dataclass(frozen=True)
class LayerInfo:
    name: str
    kind: str  # IR node kind ("Input" for a source population)
    shape: tuple[int, int, int]
    recorded: bool  # feeds an Output (its spikes are read back)

    @property
    def size(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class Check:
    measure: str  # what is counted, e.g. "fan-in"
    values: np.ndarray  # per tile
    cap: int
    limit: str  # what it is compared with, e.g. "input axons per core"
    hint: str


@dataclass
class Usage:
    neurons: np.ndarray
    synapses: np.ndarray
    fan_in: np.ndarray
    memory: dict[str, np.ndarray]
    checks: list[Check] = field(default_factory=list)

    def feasible(self) -> np.ndarray:
        ok = np.ones(self.neurons.shape, dtype=bool)
        for check in self.checks:
            ok &= check.values <= check.cap
        return ok


Projections = list[tuple[ProjectionInfo, ProjectionStats]]


def neuron_cap(model: ResourceModel, kind: str) -> int:
    if isinstance(model, Loihi2Model):
        words = model.state_words.get(kind, 2)
        return min(model.neurons_per_core, model.state_words_per_core // words)
    return model.neurons_per_core


def usage(model: ResourceModel, layer: LayerInfo, tiles, projections: Projections) -> Usage:
    neurons = tiles.neurons()
    channels = tiles.c1 - tiles.c0
    synapses = sum((s.synapses for _, s in projections), np.zeros_like(neurons))
    fan_in = sum((s.sources for _, s in projections), np.zeros_like(neurons))
    cap = neuron_cap(model, layer.kind)
    neuron_check = Check("neurons", neurons, cap, "neurons per core",
                         "a smaller neuron model state, or a target with larger cores")
    if isinstance(model, Loihi2Model):
        return _loihi(model, layer, neurons, channels, synapses, fan_in, projections, neuron_check)
    if isinstance(model, SpiNNaker2Model):
        return _spinnaker(model, layer, neurons, channels, synapses, fan_in, projections, neuron_check)
    if isinstance(model, FpgaModel):
        return _fpga(model, layer, tiles, neurons, channels, synapses, fan_in, projections, neuron_check)
    raise TypeError(type(model).__name__)


def _shared(model: ResourceModel, info: ProjectionInfo) -> bool:
    return model.conv_weight_sharing and info.kernel_per_channel is not None


def _loihi_bits(m: Loihi2Model, info: ProjectionInfo) -> int:
    """Bits per synapse: the weight plus the delay field when the projection has delays."""
    return info.weight_bits + (m.delay_bits if info.has_delay else 0)


def _spinnaker_synapse_bytes(m: SpiNNaker2Model, delays: bool) -> int:
    """One synapse word: the delay models' 16-bit word, or the no-delay models' word."""
    return m.delay_synapse_bytes if delays else m.no_delay_synapse_bytes


def _spinnaker_neuron_bytes(m: SpiNNaker2Model, kind: str, delays: bool) -> int:
    """DTCM per neuron: a spike source's spike-time index, else float32 state + input ring."""
    if kind == "Input":
        return 4 * m.spike_list_words
    slots = m.delay_slots if delays else 1
    return 4 * (m.state_words.get(kind, 5) + slots * m.ring_types)


def _loihi(m: Loihi2Model, layer, neurons, channels, synapses, fan_in, projections, neuron_check) -> Usage:
    weights = np.zeros_like(neurons)
    for info, s in projections:
        bits = _loihi_bits(m, info)
        if _shared(m, info):
            weights = weights + -(-channels * info.kernel_per_channel * bits // 8)
        else:
            dense = s.sources * -(-neurons * bits // 8)
            sparse = -(-s.synapses * (bits + m.sparse_index_bits) // 8)
            weights = weights + np.minimum(dense, sparse)
    axons = fan_in * m.axon_bytes
    state = neurons * m.state_words.get(layer.kind, 2) * m.state_word_bytes
    checks = [neuron_check,
              Check("fan-in", fan_in, m.input_axons, "input axons per core",
                    "split the kernel or reduce channels"),
              Check("synaptic memory", weights + axons, m.synaptic_memory_bytes, "bytes per core",
                    "use fewer weight bits, prune weights or reduce the fan-in")]
    return Usage(neurons, synapses, fan_in,
                 {"weights": weights, "axons": axons, "neuron_state": state}, checks)


def _spinnaker(m: SpiNNaker2Model, layer, neurons, channels, synapses, fan_in, projections, neuron_check) -> Usage:
    rows = np.zeros_like(neurons)
    kernels = np.zeros_like(neurons)
    mpt = np.zeros_like(neurons)
    delays = any(info.has_delay for info, _ in projections)
    syn_bytes = _spinnaker_synapse_bytes(m, delays)
    for info, s in projections:
        # source PEs are not known while partitioning: at least ceil(sources / 256) of them
        mpt = mpt + m.mpt_entry_bytes * -(-s.sources // m.neurons_per_core)
        if _shared(m, info):
            kernels = kernels + -(-channels * info.kernel_per_channel * info.weight_bits // 8) + m.conv_params_bytes
        else:  # rows: header + word-aligned synapse words (<= 2 bytes of padding per row)
            pad = 2 if syn_bytes % 4 else 0
            rows = rows + s.sources * (m.row_header_bytes + pad) + s.synapses * syn_bytes
    state = _spinnaker_neuron_bytes(m, layer.kind, delays) * neurons
    record = 4 * (-(-neurons // 32) + 2) * m.recording_steps if layer.recorded else np.zeros_like(neurons)
    fixed = np.full_like(neurons, m.pe_fixed_bytes)
    memory = {"fixed": fixed, "synapse_rows": rows, "kernels": kernels, "master_population_table": mpt,
              "neuron_state": state, "recording": record}
    total = sum(memory.values())
    checks = [neuron_check,
              Check("DTCM use", total, m.dtcm_bytes, "bytes per PE",
                    "reduce the fan-in, record fewer steps, or use a convolution (shared kernel)")]
    return Usage(neurons, synapses, fan_in, memory, checks)


def _fpga(m: FpgaModel, layer, tiles, neurons, channels, synapses, fan_in, projections, neuron_check) -> Usage:
    from snncc.targets.fpga.resources import Resources, estimate_conv_engine, estimate_engine

    lut, ff, bram, dsp = (np.zeros_like(neurons) for _ in range(4))
    for i in range(len(neurons)):
        total = Resources()
        for info, s in projections or [(None, None)]:
            n_in = int(s.sources[i]) if s is not None else 1
            bits = info.weight_bits if info is not None else m.weight_bits
            if info is not None and _shared(m, info):
                c = int(channels[i])
                total += estimate_conv_engine(info.kernel_per_channel, c, 1, 1, int(neurons[i]) // max(c, 1), n_in,
                                              m.pe, bits, m.v_bits, m.acc_bits, m.leak, m.index_bits)
            else:
                total += estimate_engine(max(n_in, 1), int(neurons[i]), m.pe, m.simd, bits, m.v_bits,
                                         m.acc_bits, m.leak, m.index_bits)
        lut[i], ff[i], bram[i], dsp[i] = total.lut, total.ff, total.bram18, total.dsp
    memory = {"bram18": bram, "lut": lut, "ff": ff, "dsp": dsp}
    return Usage(neurons, synapses, fan_in, memory, [neuron_check])


def lower_bound(model: ResourceModel, layer: LayerInfo, projections: list[ProjectionInfo],
                sources: int, min_fan_in: list[int]) -> dict[str, int]:
    """Per resource, cores no partition of ``layer`` goes below. ``sources``: distinct source
    neurons of the whole layer; ``min_fan_in``: per projection, the fewest sources of any one
    neuron. Memory: every core pays at least a fixed part (one neuron's sources) plus each
    of its neurons' own synapses, so no core holds more neurons than the cheapest ones that
    fit; cores >= neurons / that count."""
    n = layer.size
    bounds = {"neurons": -(-n // neuron_cap(model, layer.kind))}
    per_neuron = np.zeros(n)
    if isinstance(model, Loihi2Model):
        bounds["input axons"] = -(-sources // model.input_axons)
        per_tile = sum(f * model.axon_bytes for f in min_fan_in)
        for info in projections:
            bits = _loihi_bits(model, info)
            if _shared(model, info):
                per_tile += -(-info.kernel_per_channel * bits // 8)
            else:  # any format stores >= `bits` per synapse (dense rows at density 1)
                per_neuron += neuron_degrees(info) * bits / 8
        bounds["synaptic memory"] = _memory_bound(per_neuron, model.synaptic_memory_bytes - per_tile)
    elif isinstance(model, SpiNNaker2Model):
        delays = any(info.has_delay for info in projections)
        syn_bytes = _spinnaker_synapse_bytes(model, delays)
        per_tile = model.pe_fixed_bytes
        for info, f in zip(projections, min_fan_in):
            per_tile += model.mpt_entry_bytes if f > 0 else 0
            if _shared(model, info):
                per_tile += -(-info.kernel_per_channel * info.weight_bits // 8) + model.conv_params_bytes
            else:
                per_tile += f * model.row_header_bytes
                per_neuron += neuron_degrees(info) * syn_bytes
        per_neuron += _spinnaker_neuron_bytes(model, layer.kind, delays)
        if layer.recorded:
            per_tile += 8 * model.recording_steps
            per_neuron += 4 * model.recording_steps / 32
        bounds["DTCM"] = _memory_bound(per_neuron, model.dtcm_bytes - per_tile)
    return bounds


def _memory_bound(per_neuron: np.ndarray, room: float) -> int:
    n = per_neuron.size
    if room <= 0:
        return n
    cheapest = np.cumsum(np.sort(per_neuron))
    fit = int(np.searchsorted(cheapest, room * (1 + 1e-12), side="right"))
    return -(-n // max(fit, 1)) if fit < n else 1


def neuron_degrees(info: ProjectionInfo) -> np.ndarray:
    """Synapses into each destination neuron (flat order)."""
    if isinstance(info.pattern, ExplicitPattern):
        return np.diff(info.pattern.matrix.indptr).astype(float)
    c, h, w = (np.diff(a.prefix).astype(float) for a in info.pattern.axes)
    return (c[:, None, None] * h[None, :, None] * w[None, None, :]).ravel()


def single_neuron_fan_in(info: ProjectionInfo) -> int:
    """The smallest number of sources of one destination neuron of the projection."""
    if isinstance(info.pattern, ExplicitPattern):
        degrees = np.diff(info.pattern.matrix.indptr)
        return int(degrees.min()) if degrees.size else 0
    return int(np.prod([np.diff(a.prefix).min() for a in info.pattern.axes]))
