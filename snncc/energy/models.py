"""Per-core energy and time per step, one model per kind of machine.

Every model turns an :class:`Activity` and a :class:`CostTable` into a
:class:`CoreEnergy`: dynamic energy per event kind, memory energy, static energy
(static power x run time) per core, all per inference, and the busy time of every core
in every step with the step time the machine needs:

- ``loihi``: events x per-event energy and time; step = slowest core + barrier
  (``t_barrier_1_tile + (tiles - 1) t_barrier_per_extra_tile``).
- ``spinnaker2``: Cortex-M4F cycles per unit of work at the PE's DVFS level; energy =
  cycles x PE active power / clock; step = max(sys tick, slowest PE) (no barrier: a PE
  that overruns drifts); a backend's measured per-PE time replaces the estimate.
- ``fpga``: SOPs x pJ/SOP + device static power x cycles / clock; engines run one
  after another; a backend's cycle counts replace the fallback cycle estimate.
- ``generic``: operation and memory energies only; no time model.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from snncc.ir import CubaLI, CubaLIF, Input

from .activity import Activity, mean_per_inference
from .tables import CostTable


@dataclass(frozen=True, eq=False)
class CoreEnergy:
    #: event kind -> [C] joules per inference
    dynamic: dict[str, np.ndarray]
    memory: np.ndarray
    static: np.ndarray
    #: [B, T, C] seconds each core is busy per step (None: no time model)
    busy: np.ndarray | None
    #: [B, T] seconds per step (None: no time model)
    step_time: np.ndarray | None
    per_core: dict[str, list[Any]] = field(default_factory=dict)  # e.g. DVFS level per PE
    notes: tuple[str, ...] = ()

    @property
    def runtime(self) -> float:
        """Seconds per inference (mean over samples); 0 without a time model."""
        return 0.0 if self.step_time is None else _runtime(self.step_time)


def _runtime(step_time: np.ndarray) -> float:
    """``[B, T]`` seconds per step -> seconds per inference (mean over samples)."""
    return float(step_time.sum(axis=1).mean())


def _neuron_energy(table: CostTable, a: Activity) -> np.ndarray:
    return (a.per_inference("neuron_updates_active") * table.value("e_neuron_active")
            + a.per_inference("neuron_updates_idle") * table.value("e_neuron_idle"))


def _memory(table: CostTable, a: Activity, notes: list[str]) -> np.ndarray:
    if not (table.has("e_mem_bit_read") or table.has("e_mem_bit_write")):
        notes.append("memory energy is part of the per-event figures of this table (no separate term)")
        return np.zeros(len(a.cores))
    reads = a.per_inference("mem_read_bits_weight") + a.per_inference("mem_read_bits_state")
    return reads * table.value("e_mem_bit_read") + a.per_inference("mem_write_bits_state") * table.value("e_mem_bit_write")


def _absent(table: CostTable, names: tuple[str, ...], notes: list[str]) -> None:
    missing = [n for n in names if not table.has(n)]
    if missing:
        notes.append(f"not modelled by table {table.id}: {', '.join(missing)}")


def _synop_energy(table: CostTable, a: Activity, notes: list[str]) -> np.ndarray:
    if not table.has("e_synop_mac") and a.counts["synops_mac"].any():
        notes.append("graded-input synaptic ops costed as binary ones (table has no e_synop_mac)")
    return (a.per_inference("synops_ac") * table.value("e_synop")
            + a.per_inference("synops_mac") * table.value("e_synop_mac", table.value("e_synop")))


def loihi(table: CostTable, a: Activity, graph, extra: dict) -> CoreEnergy:
    notes: list[str] = []
    _absent(table, ("e_spike_out", "e_message_out", "e_hop_ew", "e_hop_ns"), notes)
    c = a.counts
    synops = c["synops_ac"] + c["synops_mac"]
    busy = (synops * table.value("t_synop") + c["neuron_updates_active"] * table.value("t_neuron_active")
            + c["neuron_updates_idle"] * table.value("t_neuron_idle") + c["spikes_out"] * table.value("t_spike_out")
            + c["messages_out"] * table.value("t_message_out"))
    tiles = a.layout.tiles(list(a.cores))
    barrier = table.value("t_barrier_1_tile") + (tiles - 1) * table.value("t_barrier_per_extra_tile")
    step = busy.max(axis=2) + barrier
    dynamic = {
        "synop": _synop_energy(table, a, notes),
        "neuron": _neuron_energy(table, a),
        "spike": a.per_inference("spikes_out") * table.value("e_spike_out"),
        "message": a.per_inference("messages_out") * table.value("e_message_out"),
        "hop": a.per_inference("hops_ew") * table.value("e_hop_ew") + a.per_inference("hops_ns") * table.value("e_hop_ns"),
    }
    runtime = _runtime(step)
    static = np.full(len(a.cores), table.value("p_static_core") * runtime)
    return CoreEnergy(dynamic, _memory(table, a, notes), static, busy, step, {}, tuple(notes))


def _neuron_cycles(table: CostTable, a: Activity, graph) -> np.ndarray:
    per_core = []
    for core in a.cores:
        cycles = 0.0
        for name, start, stop in core.members:
            if isinstance(graph.nodes[name], Input):  # a spike source: no neuron state
                continue
            cuba = isinstance(graph.nodes[name], (CubaLIF, CubaLI))
            cost = table.value("c_neuron_curr_exp", table.value("c_neuron")) if cuba else table.value("c_neuron")
            cycles += (stop - start) * cost
        per_core.append(cycles)
    return np.array(per_core)


def _measured_pe(extra: dict, n_cores: int):
    stats = extra.get("pe_stats")
    if stats is None or np.shape(getattr(stats, "cycles", None))[-1:] != (n_cores,):
        return None
    return stats


def spinnaker2(table: CostTable, a: Activity, graph, extra: dict) -> CoreEnergy:
    notes = ["hops: the NoC energy is not modelled (no per-hop figure); spikes leave a PE as one multicast packet"]
    c = a.counts
    cycles = {
        "tick": np.full(c["spikes_out"].shape, table.value("c_tick_overhead")),
        "neuron": np.broadcast_to(_neuron_cycles(table, a, graph), c["spikes_out"].shape),
        "packet_in": c["messages_in"] * table.value("c_packet_in"),
        "synop": (c["synops_ac"] + c["synops_mac"]) * table.value("c_synop"),
        "packet_out": c["spikes_out"] * table.value("c_packet_out"),
    }
    total = sum(cycles.values())
    tick = table.value("sys_tick")
    high, low = table.value("clock_hz_high"), table.value("clock_hz_low")
    p_high, p_low = table.value("p_pe_active_high"), table.value("p_pe_active_low")
    stats = _measured_pe(extra, len(a.cores))
    if stats is not None:  # the emulator's per-PE time and DVFS clock of every step
        tick = float(getattr(stats, "sys_tick_in_s", tick))
        busy = np.asarray(stats.time_per_step_s, dtype=np.float64)
        clock = np.asarray(stats.clock_hz, dtype=np.float64)
        joules_per_cycle = (np.where(clock >= high, p_high, p_low) / clock).mean(axis=(0, 1))
        at_low = (clock < high).mean(axis=(0, 1))
        levels = ["low" if f == 1 else "high" if f == 0 else "auto" for f in at_low]
        notes.append("time and DVFS level per PE and step: measured by the backend (time_done, clock)")
    else:
        policy = str(table.settings.get("dvfs", "high"))
        if policy == "auto":  # lowest level whose slowest step still fits in the tick
            use_low = (total.max(axis=(0, 1)) / low) <= tick
        else:
            use_low = np.full(len(a.cores), policy == "low")
        clock_pe = np.where(use_low, low, high)
        busy = total / clock_pe
        joules_per_cycle = np.where(use_low, p_low, p_high) / clock_pe
        levels = ["low" if u else "high" for u in use_low]
    step = np.maximum(busy.max(axis=2), tick)
    if (busy > tick).any():
        notes.append(f"{int((busy > tick).sum())} PE-steps overrun the {tick * 1e3:g} ms tick (the PE drifts)")
    dynamic = {k: mean_per_inference(v) * joules_per_cycle for k, v in cycles.items()}
    runtime = _runtime(step)
    static = np.full(len(a.cores), table.value("p_static_core") * runtime)
    return CoreEnergy(dynamic, _memory(table, a, notes), static, busy, step, {"dvfs": levels}, tuple(notes))


def _per_core(a: Activity, by_node: Any) -> np.ndarray | None:
    """A backend's ``{node: [B, T]}`` as ``[B, T, C]`` when every core is one whole node."""
    if not isinstance(by_node, dict):
        return None
    columns = []
    for core in a.cores:
        if len(core.members) != 1 or core.members[0][0] not in by_node:
            return None
        columns.append(np.asarray(by_node[core.members[0][0]], dtype=np.float64))
    return np.stack(columns, axis=2)


def fpga(table: CostTable, a: Activity, graph, extra: dict) -> CoreEnergy:
    notes: list[str] = []
    c = a.counts
    f_clk = table.value("f_clk")
    cycles = _per_core(a, extra.get("engine_cycles"))
    if cycles is not None:
        notes.append("cycles per engine and step: measured by the backend (cycle simulator)")
        total = np.asarray(extra.get("cycles", cycles.sum(axis=2)), dtype=np.float64)
    else:
        neurons = np.array([core.neurons for core in a.cores], dtype=np.float64)
        cycles = (np.ceil((c["synops_ac"] + c["synops_mac"]) / table.value("sops_per_cycle"))
                  + np.ceil(neurons / table.value("updates_per_cycle")) + table.value("engine_overhead_cycles"))
        total = cycles.sum(axis=2)  # engines take turns within a step
        notes.append("cycles estimated from the table's fallback rates (the backend reported none)")
    busy, step = cycles / f_clk, total / f_clk
    hardware_sops = _per_core(a, (extra.get("counters") or {}).get("sops"))
    if hardware_sops is not None:
        synop = mean_per_inference(hardware_sops) * table.value("e_synop")
        notes.append("synaptic ops as the engines execute them (a dense engine adds zero weights too)")
    else:
        synop = _synop_energy(table, a, notes)
    dynamic = {
        "synop": synop,
        "neuron": (a.per_inference("neuron_updates_active") + a.per_inference("neuron_updates_idle"))
        * table.value("e_neuron_update"),
        "spike": a.per_inference("spikes_out") * table.value("e_spike_out"),
    }
    runtime = _runtime(step)
    static = np.full(len(a.cores), table.value("p_static_device") * runtime / max(len(a.cores), 1))
    return CoreEnergy(dynamic, _memory(table, a, notes), static, busy, step, {}, tuple(notes))


def generic(table: CostTable, a: Activity, graph, extra: dict) -> CoreEnergy:
    notes = ["no time model for this table: latency and static energy are not estimated"]
    dynamic = {
        "synop": _synop_energy(table, a, notes),
        "neuron": _neuron_energy(table, a),
    }
    static = np.zeros(len(a.cores))
    return CoreEnergy(dynamic, _memory(table, a, notes), static, None, None, {}, tuple(notes))


MODELS: dict[str, Callable[..., CoreEnergy]] = {"loihi": loihi, "spinnaker2": spinnaker2, "fpga": fpga, "generic": generic}


def evaluate(table: CostTable, activity: Activity, graph, extra: dict | None = None) -> CoreEnergy:
    return MODELS[table.model](table, activity, graph, extra or {})
