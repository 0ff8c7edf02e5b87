"""PE-level SpiNNaker 2 emulator for the LIF family, vectorised over a batch.

Per step t, every neuron population (spinnaker2.md §3.1):

- ``lif``/``lif_no_delay``/``lif_conv2d``: ``v <- alpha_decay*v + i_offset + I``
- ``lif_curr_exp*``: ``i_exc <- exc_decay*i_exc + I_exc``, same for ``i_inh``, then
  ``v <- alpha_decay*v + i_offset + i_exc - i_inh``; refractory neurons hold ``v`` [INF]
- spike if ``v > threshold``; reset ``v - threshold`` or ``v_reset``.

``I`` is the sum of *integer* weights read from a per-population delay ring: a spike
sent at step t lands in slot t + 1 + delay (the importer's one-step output offset).
State and parameters are float32 as in PE memory; ``precision="float64"`` keeps the
float32 parameter values but computes in double, as the Brian2 backend does (the NIR
paper's lif_spinnaker2.csv matches that to 1e-15).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Mapping

import numpy as np

from snncc.diagnostics import SnnccError

from .conv import conv2d_forward
from .limits import SpiNNaker2Limits
from .netspec import CURR_EXP_MODELS, NetSpec, Population, Projection
from .pe_model import CycleCosts, PEStats, ProjectionRouting, estimate_time


@dataclass(frozen=True, eq=False)
class EmulatorResult:
    """Per population ``[B, T, n]``: spikes (bool), hardware voltage after reset, and
    voltage in model units (``v_hw / v_scale``); per-PE counts in ``pe``."""

    spikes: dict[str, np.ndarray]
    v_hw: dict[str, np.ndarray]
    v: dict[str, np.ndarray]
    pe: PEStats


class _Synapses:
    """Integer weights of one projection, grouped by delay, in the compute dtype."""

    def __init__(self, proj: Projection, n_pre: int, n_post: int, split_sign: bool, dtype):
        self.proj, self.dtype = proj, dtype
        self.by_delay: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}
        if proj.kind == "conv2d":
            self.weights = proj.weights.astype(dtype)
            self.split_sign = split_sign
            return
        conns = proj.connection_list()
        for d in np.unique(conns[:, 3]):
            rows = conns[conns[:, 3] == d]
            w = np.zeros((n_pre, n_post), dtype=dtype)
            np.add.at(w, (rows[:, 0], rows[:, 1]), rows[:, 2].astype(dtype))
            if split_sign:  # exc/inh synapse type by sign, inhibitory magnitude (§3.2)
                self.by_delay[int(d)] = (np.maximum(w, 0), np.maximum(-w, 0))
            else:
                self.by_delay[int(d)] = (w, None)

    def deliver(self, s: np.ndarray, t: int, ring_e: np.ndarray, ring_i: np.ndarray | None):
        depth = ring_e.shape[0]
        if self.proj.kind == "conv2d":
            x = conv2d_forward(s, self.weights, self.proj.conv)
            slot = (t + 1) % depth
            if ring_i is None:
                ring_e[slot] += x
            else:
                ring_e[slot] += np.maximum(x, 0)
                ring_i[slot] += np.maximum(-x, 0)
            return
        for d, (w_e, w_i) in self.by_delay.items():
            slot = (t + 1 + d) % depth
            ring_e[slot] += s @ w_e
            if w_i is not None and ring_i is not None:
                ring_i[slot] += s @ w_i


class _Neurons:
    def __init__(self, pop: Population, batch: int, depth: int, dtype):
        p = pop.params
        if p is None:
            raise ValueError(f"population '{pop.name}' ({pop.neuron_model}) has no parameters")
        n, self.pop = pop.size, pop
        get = lambda name: p.per_neuron(name, n).astype(dtype)  # noqa: E731
        self.threshold, self.alpha, self.i_offset = get("threshold"), get("alpha_decay"), get("i_offset")
        self.v_reset, self.subtract = get("v_reset"), p.reset == "reset_by_subtraction"
        self.curr_exp = pop.neuron_model in CURR_EXP_MODELS
        self.v = np.zeros((batch, n), dtype=dtype)
        self.ring_e = np.zeros((depth, batch, n), dtype=dtype)
        self.ring_i = np.zeros((depth, batch, n), dtype=dtype) if self.curr_exp else None
        if self.curr_exp:
            self.exc_decay, self.inh_decay = get("exc_decay"), get("inh_decay")
            self.i_exc = np.zeros((batch, n), dtype=dtype)
            self.i_inh = np.zeros((batch, n), dtype=dtype)
            self.t_refrac = int(p.t_refrac)
            self.refrac = np.zeros((batch, n), dtype=np.int64)

    def step(self, t: int) -> np.ndarray:
        slot = t % self.ring_e.shape[0]
        inp_e = self.ring_e[slot].copy()
        self.ring_e[slot] = 0
        if not self.curr_exp:
            self.v = self.alpha * self.v + self.i_offset + inp_e
            active = None
        else:
            inp_i = self.ring_i[slot].copy()
            self.ring_i[slot] = 0
            self.i_exc = self.exc_decay * self.i_exc + inp_e
            self.i_inh = self.inh_decay * self.i_inh + inp_i
            active = self.refrac == 0
            v_new = self.alpha * self.v + self.i_offset + self.i_exc - self.i_inh
            self.v = np.where(active, v_new, self.v)
            self.refrac = np.maximum(self.refrac - 1, 0)
        spikes = self.v > self.threshold
        if active is not None:
            spikes &= active
            self.refrac = np.where(spikes, self.t_refrac, self.refrac)
        if self.subtract:
            self.v = np.where(spikes, self.v - self.threshold, self.v)
        else:
            self.v = np.where(spikes, self.v_reset, self.v)
        return spikes


def _sources(spec: NetSpec, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Input spikes per spike_list population as bool ``[B, T, n]``; SNN541 lists every
    missing or misshaped one."""
    out, problems = {}, []
    for pop in spec.populations:
        if pop.neuron_model != "spike_list":
            continue
        if pop.name not in inputs:
            problems.append(f"no input for spike_list population '{pop.name}'")
            continue
        array = np.asarray(inputs[pop.name])
        array = array[None] if array.ndim == 2 else array
        if array.ndim != 3 or array.shape[2] != pop.size:
            problems.append(f"input '{pop.name}' must be [B, T, {pop.size}] or [T, {pop.size}], "
                            f"got {np.shape(inputs[pop.name])}")
            continue
        out[pop.name] = array != 0
    if len({a.shape[0] for a in out.values()}) > 1:
        problems.append("inputs have different batch sizes")
    if problems:
        raise SnnccError.single("SNN541", "; ".join(problems), node=spec.name,
                                hint="pass one array per spike_list population")
    return out


def run(spec: NetSpec, inputs: Mapping[str, np.ndarray], *, timesteps: int | None = None,
        precision: Literal["float32", "float64"] = "float32",
        costs: CycleCosts = CycleCosts(), limits: SpiNNaker2Limits | None = None,
        check_limits: bool = True) -> EmulatorResult:
    """Emulate ``spec`` for ``timesteps`` (default ``spec.run.timesteps``) steps.

    ``inputs`` maps each ``spike_list`` population to spikes ``[B, T_in, n]`` (or
    ``[T_in, n]``); input step t is sent at step t. Steps beyond T_in get no input.
    With ``check_limits`` the network must pass :func:`validate.check` first: the
    emulator models the chip, so it refuses what the chip cannot hold.
    """
    if check_limits:
        from .validate import check

        check(spec, limits)
    dtype = np.float32 if precision == "float32" else np.float64
    steps = spec.run.timesteps if timesteps is None else timesteps
    sources = _sources(spec, inputs)
    batch = next(iter(sources.values())).shape[0] if sources else 1
    depth = 2 + max((int(j.delays.max(initial=0)) for j in spec.projections), default=0)
    neurons = {p.name: _Neurons(p, batch, depth, dtype)
               for p in spec.populations if p.neuron_model != "spike_list"}
    synapses = [(j, _Synapses(j, spec.population(j.pre).size, spec.population(j.post).size,
                              spec.population(j.post).neuron_model in CURR_EXP_MODELS, dtype))
                for j in spec.projections]
    routing = [ProjectionRouting(j, spec) for j in spec.projections]

    layout = spec.pe_layout()
    pe_base, base = {}, 0
    for pop in spec.populations:
        pe_base[pop.name], base = base, base + pop.n_cores
    shape = (batch, steps, len(layout))
    sent, received, events, macs = (np.zeros(shape, dtype=np.int64) for _ in range(4))
    has_targets = {j.pre for j in spec.projections}

    spikes = {p.name: np.zeros((batch, steps, p.size), dtype=bool) for p in spec.populations}
    v_hw = {name: np.zeros((batch, steps, n.pop.size), dtype=dtype) for name, n in neurons.items()}
    for t in range(steps):
        now: dict[str, np.ndarray] = {}
        for pop in spec.populations:
            if pop.neuron_model == "spike_list":
                src = sources[pop.name]
                now[pop.name] = src[:, t] if t < src.shape[1] else np.zeros((batch, pop.size), bool)
            else:
                now[pop.name] = neurons[pop.name].step(t)
                v_hw[pop.name][:, t] = neurons[pop.name].v
            spikes[pop.name][:, t] = now[pop.name]
            if pop.name in has_targets:
                for k, (s, e) in enumerate(pop.slices()):
                    sent[:, t, pe_base[pop.name] + k] = now[pop.name][:, s:e].sum(axis=1)
        for (proj, syn), route in zip(synapses, routing):
            post = neurons[proj.post]
            s = now[proj.pre].astype(dtype)
            syn.deliver(s, t, post.ring_e, post.ring_i)
            rx, ev, mac = route.count(now[proj.pre])
            lo = pe_base[proj.post]
            received[:, t, lo:lo + rx.shape[1]] += rx
            events[:, t, lo:lo + rx.shape[1]] += ev
            macs[:, t, lo:lo + rx.shape[1]] += mac

    cycles, clock, seconds = estimate_time(spec, sent, received, events, macs, costs, spec.run)
    stats = PEStats(population=tuple(n for n, _, _ in layout),
                    neuron_range=tuple((s, e) for _, s, e in layout),
                    packets_sent=sent, packets_received=received, synaptic_events=events,
                    conv_macs=macs, cycles=cycles, clock_hz=clock, time_per_step_s=seconds,
                    sys_tick_in_s=spec.run.sys_tick_in_s)
    v = {name: (arr / dtype(spec.population(name).v_scale)).astype(dtype)
         for name, arr in v_hw.items()}
    return EmulatorResult(spikes=spikes, v_hw=v_hw, v=v, pe=stats)
