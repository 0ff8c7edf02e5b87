"""SpiNNaker 2 chip limits and the per-PE memory model, each with its source (the PE sizes
map-cores budgets with too are read from :class:`snncc.mapping.models.SpiNNaker2Model`).

Section numbers refer to /work/shared/reference/spinnaker2.md. Tags: [CODE] read in
source, [2ND] secondary notes, [INF] inferred (an estimate to override when measured).
"""
from __future__ import annotations

from dataclasses import dataclass

from snncc.mapping.models import SpiNNaker2Model

from .netspec import DELAY_MODELS

#: recording budget (steps) a compile validates; a backend re-checks its real run length
DEFAULT_TIMESTEPS = 1000


#: the map-cores resource model holds the PE sizes (with their sources); validation uses the same
_PE = SpiNNaker2Model()


@dataclass(frozen=True)
class SpiNNaker2Limits:
    #: delay models: 4-bit weight magnitude, sign from the exc/inh type bit (§3.2)
    delay_weight_max: int = 15
    #: *_no_delay and lif_conv2d: int8 [-127, 127] (§3.2, s2_nir scale 127/max|w|)
    int8_weight_max: int = 127
    #: 3-bit delay field in the delay-model synapse word (§3.2): one input ring slot per value
    delay_max: int = _PE.delay_slots - 1
    #: 8-bit target index in the delay-model synapse word (§3.2, §3.3)
    neurons_per_pe_delay: int = _PE.neurons_per_core
    dtcm_bytes: int = _PE.dtcm_bytes
    router_entries_per_chip: int = _PE.router_entries
    pes_per_chip: int = _PE.cores_per_chip
    n_chips: int = 1

    # --- memory model (§3.3 lists the regions; see SpiNNaker2Model for each size's source)
    pe_fixed_bytes: int = _PE.pe_fixed_bytes
    mpt_entry_bytes: int = _PE.mpt_entry_bytes
    row_header_bytes: int = _PE.row_header_bytes
    delay_synapse_bytes: int = _PE.delay_synapse_bytes
    no_delay_synapse_bytes: int = _PE.no_delay_synapse_bytes
    conv_params_bytes: int = _PE.conv_params_bytes
    #: float32 words per neuron: lif; lif_curr_exp
    lif_words_per_neuron: int = _PE.state_words["LIF"]
    curr_exp_words_per_neuron: int = _PE.state_words["CubaLIF"]
    #: input ring: (delay_max + 1) slots x exc/inh x one word per neuron; no-delay: 1 slot
    ring_types: int = _PE.ring_types
    #: recording words per step (§3.3): spikes ceil(n/32) + 2, v 1 + n, time_done 1;
    #: n_packets assumed 1 [INF]; v_last n words once [INF]
    n_packets_words_per_step: int = 1
    spike_list_words_per_neuron: int = _PE.spike_list_words

    def weight_limit(self, neuron_model: str) -> int:
        return self.delay_weight_max if neuron_model in DELAY_MODELS else self.int8_weight_max

    @property
    def max_pes(self) -> int:
        return self.pes_per_chip * self.n_chips
