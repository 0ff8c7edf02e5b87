"""SpiNNaker 2 chip limits and the per-PE memory model, each with its source.

Section numbers refer to /work/shared/reference/spinnaker2.md. Tags: [CODE] read in
source, [2ND] secondary notes, [INF] inferred (an estimate to override when measured).
"""
from __future__ import annotations

from dataclasses import dataclass

from .netspec import DELAY_MODELS

#: recording budget (steps) a compile validates; a backend re-checks its real run length
DEFAULT_TIMESTEPS = 1000


@dataclass(frozen=True)
class SpiNNaker2Limits:
    #: delay models: 4-bit weight magnitude, sign from the exc/inh type bit (§3.2)
    delay_weight_max: int = 15
    #: *_no_delay and lif_conv2d: int8 [-127, 127] (§3.2, s2_nir scale 127/max|w|)
    int8_weight_max: int = 127
    #: 3-bit delay field in the delay-model synapse word (§3.2)
    delay_max: int = 7
    #: 8-bit target index in the delay-model synapse word (§3.2, §3.3)
    neurons_per_pe_delay: int = 256
    #: DTCM per PE: 128 kB SRAM = 32 kB ITCM + 96 kB DTCM (§1 [CODE] NESTML qpe.ld)
    dtcm_bytes: int = 96 * 1024
    #: multicast router entries per chip (§1 [CODE] SpiNNMachine n_router_entries)
    router_entries_per_chip: int = 16_384
    #: PEs py-spinnaker2 can use per chip (§1 [2ND]; 152 application PEs exist)
    pes_per_chip: int = 148
    n_chips: int = 1

    # --- memory model (§3.3 lists the regions; sizes are [INF] unless noted)
    #: routing table, timer config, global params, MPT info, log region [INF]
    pe_fixed_bytes: int = 2048
    #: master population table entry per incoming source PE (key, mask, address) [INF]
    mpt_entry_bytes: int = 12
    #: synapse row header: 3 words (§3.2 [CODE])
    row_header_bytes: int = 12
    #: delay models: 16-bit word weight|delay|type|index (§3.2)
    delay_synapse_bytes: int = 2
    #: no-delay models: format not verified (§3.2); assume one 32-bit word [INF]
    no_delay_synapse_bytes: int = 4
    #: lif_conv2d: int8 kernel held once per PE plus the conv_params block [INF]
    conv_params_bytes: int = 64
    #: float32 words per neuron: threshold, alpha, i_offset, v_reset, v [INF from §3.1 params]
    lif_words_per_neuron: int = 5
    #: + exc/inh decay, i_exc, i_inh, refractory counter [INF]
    curr_exp_words_per_neuron: int = 10
    #: input ring: (delay_max + 1) slots x exc/inh x one word per neuron; no-delay: 1 slot [INF]
    ring_types: int = 2
    #: recording words per step (§3.3): spikes ceil(n/32) + 2, v 1 + n, time_done 1;
    #: n_packets assumed 1 [INF]; v_last n words once [INF]
    n_packets_words_per_step: int = 1
    #: spike_list source: words per neuron for its spike-time index [INF]
    spike_list_words_per_neuron: int = 2

    def weight_limit(self, neuron_model: str) -> int:
        return self.delay_weight_max if neuron_model in DELAY_MODELS else self.int8_weight_max

    @property
    def max_pes(self) -> int:
        return self.pes_per_chip * self.n_chips
