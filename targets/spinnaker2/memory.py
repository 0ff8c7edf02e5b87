"""Per-PE DTCM use (synapse rows, neuron state, recording x steps) and router entries."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .limits import SpiNNaker2Limits
from .netspec import CURR_EXP_MODELS, DELAY_MODELS, NetSpec, Population


@dataclass(frozen=True)
class PEMemory:
    pe: int
    population: str
    start: int
    stop: int
    fixed_bytes: int
    synapse_bytes: int
    neuron_bytes: int
    recording_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.fixed_bytes + self.synapse_bytes + self.neuron_bytes + self.recording_bytes


def recording_bytes(pop: Population, n: int, timesteps: int, lim: SpiNNaker2Limits) -> int:
    """Recording buffers for ``n`` neurons over ``timesteps`` (spinnaker2.md §3.3)."""
    words = 0
    if "spikes" in pop.record:
        words += (-(-n // 32) + 2) * timesteps
    if "v" in pop.record:
        words += (1 + n) * timesteps
    if "time_done" in pop.record:
        words += timesteps
    if "n_packets" in pop.record:
        words += lim.n_packets_words_per_step * timesteps
    if "v_last" in pop.record:
        words += n
    return 4 * words


def neuron_bytes(pop: Population, n: int, lim: SpiNNaker2Limits) -> int:
    if pop.neuron_model == "spike_list":
        return 4 * lim.spike_list_words_per_neuron * n
    per = lim.curr_exp_words_per_neuron if pop.neuron_model in CURR_EXP_MODELS else \
        lim.lif_words_per_neuron
    slots = lim.delay_max + 1 if pop.neuron_model in DELAY_MODELS else 1
    return 4 * (per + slots * lim.ring_types) * n


def _synapse_bytes(spec: NetSpec, post: Population, lim: SpiNNaker2Limits) -> list[int]:
    """Synapse memory of each PE of ``post``: rows per source neuron + MPT entries."""
    slices = post.slices()
    totals = [0] * len(slices)
    syn_bytes = lim.delay_synapse_bytes if post.neuron_model in DELAY_MODELS else \
        lim.no_delay_synapse_bytes
    for proj in spec.projections:
        if proj.post != post.name:
            continue
        pre = spec.population(proj.pre)
        if proj.kind == "conv2d":
            for p in range(len(slices)):
                totals[p] += int(proj.weights.size) + lim.conv_params_bytes + \
                    lim.mpt_entry_bytes * pre.n_cores
            continue
        conns = proj.connection_list()
        if not len(conns):
            continue
        pe_of = np.minimum(conns[:, 1] // max(post.max_atoms_per_core, 1), len(slices) - 1)
        # synapses per (source neuron, target PE): one row each, word aligned
        counts = np.bincount(conns[:, 0] * len(slices) + pe_of,
                             minlength=pre.size * len(slices)).reshape(pre.size, len(slices))
        row_words = -(-(counts * syn_bytes) // 4)
        rows = (counts > 0).sum(axis=0)
        # one master-population-table entry per source PE with a row on this PE
        pre_idx, pe_idx = np.nonzero(counts)
        src_pes = np.zeros((pre.n_cores, len(slices)), dtype=bool)
        src_pes[pre_idx // max(pre.max_atoms_per_core, 1), pe_idx] = True
        syn = rows * lim.row_header_bytes + 4 * row_words.sum(axis=0) + \
            lim.mpt_entry_bytes * src_pes.sum(axis=0)
        totals = [t + int(b) for t, b in zip(totals, syn)]
    return totals


def population_memory(spec: NetSpec, pop: Population, lim: SpiNNaker2Limits,
                      first_pe: int = 0) -> list[PEMemory]:
    """DTCM use of the PEs of one population (numbered from ``first_pe``)."""
    syn = _synapse_bytes(spec, pop, lim)
    return [PEMemory(pe=first_pe + k, population=pop.name, start=s, stop=e,
                     fixed_bytes=lim.pe_fixed_bytes, synapse_bytes=syn[k],
                     neuron_bytes=neuron_bytes(pop, e - s, lim),
                     recording_bytes=recording_bytes(pop, e - s, spec.run.timesteps, lim))
            for k, (s, e) in enumerate(pop.slices())]


def pe_memory(spec: NetSpec, lim: SpiNNaker2Limits) -> list[PEMemory]:
    """DTCM use of every PE, in :meth:`NetSpec.pe_layout` order."""
    out: list[PEMemory] = []
    for pop in spec.populations:
        out += population_memory(spec, pop, lim, len(out))
    return out


def router_entries_per_chip(spec: NetSpec, lim: SpiNNaker2Limits) -> list[int]:
    """Multicast entries per chip with PEs filled chip by chip in layout order: a sending
    PE needs one key/mask entry on its own chip and on every chip holding a target [INF]."""
    base, offset = {}, 0
    for pop in spec.populations:
        base[pop.name], offset = offset, offset + pop.n_cores
    n_chips = max(1, -(-offset // lim.pes_per_chip))
    pairs: set[tuple[int, int]] = set()
    for proj in spec.projections:
        pre, post = spec.population(proj.pre), spec.population(proj.post)
        for k in range(pre.n_cores):
            src = base[pre.name] + k
            pairs.add((src, src // lim.pes_per_chip))
            for q in range(post.n_cores):  # conservatively: every PE of post is a target
                pairs.add((src, (base[post.name] + q) // lim.pes_per_chip))
    counts = [0] * n_chips
    for _, chip in pairs:
        counts[chip] += 1
    return counts
