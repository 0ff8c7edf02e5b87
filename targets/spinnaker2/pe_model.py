"""Per-PE activity counts and a cycle model for the time-per-step estimate.

All cycle costs are *estimates* (fidelity "estimate" in an energy report); each
names its basis. Override them with :class:`CycleCosts`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .conv import conv2d_events, conv2d_receivers
from .netspec import CURR_EXP_MODELS, NetSpec, Projection, RunOptions


@dataclass(frozen=True)
class CycleCosts:
    """Arm Cortex-M4F cycles per unit of work on one PE in one tick."""

    #: timer interrupt, recording DMA set-up, time_done bookkeeping [INF]
    tick_overhead: float = 1000.0
    #: float32 LIF update (about ten FPU instructions plus loads/stores) [INF]
    per_neuron: float = 20.0
    #: LIF plus two decaying synaptic currents and a refractory counter [INF]
    per_neuron_curr_exp: float = 35.0
    #: packet-received interrupt + master-population-table binary search (§3.2) [INF]
    per_packet_received: float = 40.0
    #: 300 MHz / ~12 M synaptic events/s per PE (spinnaker2.md §2, [2ND]) = 25 cycles
    per_synaptic_event: float = 25.0
    #: multicast send from the neuron loop [INF]
    per_packet_sent: float = 10.0
    #: lif_conv2d: 16x4 int8 MAC array = 64 MACs per cycle (spinnaker2.md §1, [2ND])
    per_conv_mac: float = 1.0 / 64.0
    #: DVFS performance levels 0.8 V / 300 MHz and 0.5 V / 150 MHz (spinnaker2.md §1, [CODE])
    clock_hz_high: float = 300e6
    clock_hz_low: float = 150e6


@dataclass(frozen=True, eq=False)
class PEStats:
    """Counts per batch item, step and PE: arrays ``[B, T, P]``."""

    population: tuple[str, ...]
    neuron_range: tuple[tuple[int, int], ...]
    packets_sent: np.ndarray
    packets_received: np.ndarray
    synaptic_events: np.ndarray
    conv_macs: np.ndarray
    cycles: np.ndarray
    clock_hz: np.ndarray
    time_per_step_s: np.ndarray
    sys_tick_in_s: float

    @property
    def overruns(self) -> np.ndarray:
        """``[B, T, P]`` bool: the PE needed longer than one tick (no barrier, §4)."""
        return self.time_per_step_s > self.sys_tick_in_s

    def table(self) -> list[dict]:
        """One row per PE, summed over batch and steps (means per step where noted)."""
        rows = []
        steps = self.cycles.shape[0] * self.cycles.shape[1]
        for p, (pop, (start, stop)) in enumerate(zip(self.population, self.neuron_range)):
            rows.append({
                "pe": p, "population": pop, "neurons": [start, stop],
                "packets_sent": int(self.packets_sent[..., p].sum()),
                "packets_received": int(self.packets_received[..., p].sum()),
                "synaptic_events": int(self.synaptic_events[..., p].sum()),
                "conv_macs": int(self.conv_macs[..., p].sum()),
                "mean_time_per_step_s": float(self.time_per_step_s[..., p].sum() / max(steps, 1)),
                "max_time_per_step_s": float(self.time_per_step_s[..., p].max(initial=0.0)),
                "overrun_steps": int(self.overruns[..., p].sum()),
            })
        return rows


class ProjectionRouting:
    """Which target PEs a pre spike reaches and how many synapses it triggers there."""

    def __init__(self, proj: Projection, spec: NetSpec):
        post = spec.population(proj.post)
        self.slices = post.slices()
        self.proj = proj
        n_pre = spec.population(proj.pre).size
        pe_of = np.zeros(post.size, dtype=np.int64)
        for p, (s, e) in enumerate(self.slices):
            pe_of[s:e] = p
        self.pe_of = pe_of
        if proj.kind == "conv2d":
            assert proj.conv is not None
            _, c_out, kh, kw = proj.weights.shape
            self.kernel = (c_out, kh, kw)
            self.receives = conv2d_receivers(proj.conv, c_out, kh, kw, self.slices).astype(np.int64)
            self.events = None
        else:
            conns = proj.connection_list()
            events = np.zeros((n_pre, len(self.slices)), dtype=np.int64)
            np.add.at(events, (conns[:, 0], pe_of[conns[:, 1]]), 1)
            self.events = events
            self.receives = (events > 0).astype(np.int64)

    def count(self, pre_spikes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(packets received, synaptic events, conv MACs) per target PE, ``[B, P_post]``."""
        s = pre_spikes.astype(np.int64)
        received = s @ self.receives
        if self.events is not None:
            return received, s @ self.events, np.zeros_like(received)
        c_out, kh, kw = self.kernel
        per_neuron = conv2d_events(s, self.proj.conv, c_out, kh, kw)
        macs = np.zeros_like(received)
        np.add.at(macs.T, self.pe_of, per_neuron.T)
        return received, np.zeros_like(received), macs


def estimate_time(spec: NetSpec, sent: np.ndarray, received: np.ndarray, events: np.ndarray,
                  macs: np.ndarray, costs: CycleCosts, run: RunOptions) -> tuple[np.ndarray, ...]:
    """(cycles, clock_hz, seconds) per ``[B, T, P]`` from the counts."""
    per_neuron = []
    for pop in spec.populations:
        cost = 0.0 if pop.neuron_model == "spike_list" else (
            costs.per_neuron_curr_exp if pop.neuron_model in CURR_EXP_MODELS else costs.per_neuron)
        per_neuron += [cost * (e - s) for s, e in pop.slices()]
    cycles = (costs.tick_overhead + np.asarray(per_neuron)[None, None, :]
              + costs.per_packet_received * received + costs.per_synaptic_event * events
              + costs.per_packet_sent * sent + costs.per_conv_mac * macs)
    if run.dvfs == "high":
        clock = np.full(cycles.shape, costs.clock_hz_high)
    elif run.dvfs == "low":
        clock = np.full(cycles.shape, costs.clock_hz_low)
    else:  # "auto": a PE goes to the high level in steps with more received packets than
        # pl_threshold (how the NIR examples' DVFSParams are used, spinnaker2.md §3) [INF]
        threshold = run.pl_threshold if run.pl_threshold is not None else 0
        clock = np.where(received > threshold, costs.clock_hz_high, costs.clock_hz_low)
    return cycles, clock, cycles / clock
