"""sinabs layers -> IR (sinabs 2.0): IAF, LIF, ExpLeak, their Squeeze forms and the
recurrent IAF/LIF, plus SumPool2d, FlattenTime/UnflattenTime and Repeat.

sinabs's discrete step (``alpha = exp(-1/tau)``, tau in steps; IAF: alpha_mem = 1)::

    i = alpha_syn (i + x)          (or i = x without tau_syn)
    v = alpha_mem v + k i          (k = 1 - alpha_mem with norm_input, else 1)
    spikes = spike_fn(v, threshold); v = reset_fn(spikes, v)

The IR LIF/CubaLIF with ``tau = dt / (1 - alpha)`` performs the same step for any dt.
SingleSpike fires when ``v >= threshold`` (comparator '>='). The default MultiSpike
emits floor(v / threshold) spikes in one step, which no IR neuron does, so it is
refused rather than silently read as one spike (sinabs's own NIR export does that and
also drops the reset mode).
"""
from __future__ import annotations

import numpy as np
import sinabs.activation as sa
import sinabs.layers as sl
from torch import nn

from .. import ir
from .library_neurons import decay_to_tau, full_array, leaky_neuron, loop_block, spike_comparator
from .torch_layers import LayerContext, Unsupported, find_converter, register_container, register_converter

_NEURONS = (sl.IAF, sl.IAFSqueeze, sl.IAFRecurrent, sl.LIF, sl.LIFSqueeze, sl.LIFRecurrent)
SAFE_CLASSES = (*_NEURONS, sl.ExpLeak, sl.ExpLeakSqueeze, sl.SumPool2d, sl.FlattenTime, sl.UnflattenTime,
                sl.Repeat, sa.SingleSpike, sa.MultiSpike, sa.MaxSpike, sa.spike_generation.MaxSpikeInner, sa.MembraneSubtract,
                sa.MembraneReset, sa.SingleExponential, sa.PeriodicExponential, sa.Heaviside, sa.Gaussian)


@register_container(sl.Repeat)
def _repeat(module: sl.Repeat):
    return [("", module.module)]  # Repeat folds time into the batch: per step it is the inner module


@register_converter(sl.FlattenTime, sl.UnflattenTime)
def _time_folding(layer: nn.Module, ctx: LayerContext) -> list[ir.Node]:
    return []  # (B, T) <-> (B*T) reshapes; the IR works per step


@register_converter(sl.SumPool2d)
def _sum_pool(layer: sl.SumPool2d, ctx: LayerContext) -> list[ir.Node]:
    if layer.ceil_mode:
        raise Unsupported("ceil_mode=True", hint="use ceil_mode=False")
    return [ir.SumPool2d(kernel_size=layer.kernel_size, stride=layer.stride or layer.kernel_size, padding=0)]


def _reset(layer, threshold: np.ndarray) -> tuple[ir.ResetMode, ir.Comparator]:
    spike_fn = layer.spike_fn
    comparator = spike_comparator(lambda v: spike_fn.apply(v, 1.0, layer.surrogate_grad_fn),
                                  f"spike_fn {getattr(spike_fn, '__name__', spike_fn)!r}")
    reset_fn = layer.reset_fn
    if isinstance(reset_fn, sa.MembraneSubtract):
        value = reset_fn.subtract_value
        if value is not None and np.any(full_array(value, threshold.shape) != threshold):
            raise Unsupported(f"MembraneSubtract(subtract_value={value}) differs from the threshold",
                              hint="subtract the threshold (subtract_value=None)")
        return ir.ResetMode.SUBTRACT, comparator
    if isinstance(reset_fn, sa.MembraneReset):
        if reset_fn.reset_value != 0:  # sinabs then adds reset_value to *every* neuron each step
            raise Unsupported(f"MembraneReset(reset_value={reset_fn.reset_value})", hint="reset to 0")
        return ir.ResetMode.VALUE, comparator
    raise Unsupported(f"reset_fn {reset_fn!r}", hint="use MembraneSubtract or MembraneReset")


def _decays(layer) -> tuple[object, object]:
    return layer.alpha_mem_calculated, layer.alpha_syn_calculated


def _neuron(layer, ctx: LayerContext, spiking: bool) -> ir.Node:
    shape, dt = ctx.input_shape, ctx.dt
    if layer.min_v_mem is not None:
        raise Unsupported(f"min_v_mem={float(layer.min_v_mem):g} clips the membrane every step",
                          hint="build the layer with min_v_mem=None")
    alpha_mem, alpha_syn = (None if a is None else full_array(a, shape) for a in _decays(layer))
    gain = (1.0 - alpha_mem) if layer.norm_input else np.ones(shape)
    if spiking:
        threshold = full_array(layer.spike_threshold, shape)
        reset, comparator = _reset(layer, threshold)
        common = dict(v_threshold=threshold, v_reset=np.zeros(shape), reset=reset, comparator=comparator)
    if alpha_syn is None and spiking:
        return leaky_neuron(alpha_mem, dt, "alpha_mem", gain, **common)
    if np.all(alpha_mem == 1.0):
        raise Unsupported("an integrator with tau_syn or without spikes", hint="use LIF or drop tau_syn")
    tau_mem = decay_to_tau(alpha_mem, dt, "alpha_mem")
    if alpha_syn is not None:
        tau_syn = decay_to_tau(alpha_syn, dt, "alpha_syn")
        return ir.CubaLIF(tau_syn=tau_syn, tau_mem=tau_mem, r=gain * tau_mem / dt, v_leak=np.zeros(shape),
                          w_in=alpha_syn * tau_syn / dt, **common)
    return ir.LI(tau=tau_mem, r=gain * tau_mem / dt, v_leak=np.zeros(shape))


@register_converter(*_NEURONS)
def _spiking(layer, ctx: LayerContext):
    neuron = _neuron(layer, ctx, spiking=True)
    if not isinstance(layer, (sl.IAFRecurrent, sl.LIFRecurrent)):
        return [neuron]
    rec = layer.rec_connect
    converter = find_converter(rec)
    if converter is None or len(ctx.input_shape) != 1 and isinstance(rec, nn.Linear):
        raise Unsupported(f"rec_connect {type(rec).__name__}", hint="use nn.Linear or nn.Conv2d for rec_connect")
    # sinabs feeds rec_connect(spikes) back from the next step on, bias included: a plain loop.
    return loop_block(neuron, loops=[list(converter(rec, ctx))])


@register_converter(sl.ExpLeak, sl.ExpLeakSqueeze)
def _exp_leak(layer, ctx: LayerContext) -> list[ir.Node]:
    return [_neuron(layer, ctx, spiking=False)]
