"""norse neurons -> IR (norse 1.1): LIF, LIFBox, LI, LIBox, IAF cells, their sequence
forms and the recurrent LIF / linear LI cells, inside SequentialState or Lift.

norse integrates with forward Euler at the module's own ``dt`` (the graph must use it)::

    LIF      i' = i + x;  v = v + dt/tau_mem (v_leak - v + i');  i = i' (1 - dt/tau_syn)
    LIFBox   v = v + dt/tau_mem (v_leak - v + x)
    LI       as LIF without spikes, output v;  LIBox: as LIFBox without spikes
    IAF      v = v + x
    spike z = H(v - v_th) (H(0) = 0), then v = v_reset (LIFBox: or v - v_th)

The IR CubaLIF with ``r = 1`` and ``w_in = tau_syn/dt`` performs the same update on the
jumped current ``i'``. norse starts every membrane at ``v_leak`` (IAF at ``v_reset``)
where the IR starts at 0, so the IR membrane is norse's shifted by that start value:
thresholds and reset values move with it, and an LI's output gets it added back.
norse's own NIR export writes tau = dt/tau_mem_inv (norse #411), so it is not used.
"""
from __future__ import annotations

import numpy as np
import norse.torch as norse
from norse.torch.functional.reset import reset_subtract, reset_value
from norse.torch.functional.threshold import threshold as norse_threshold

from .. import ir
from .library_neurons import check_dt, constant_input, full_array, loop_block, spike_comparator
from .torch_layers import LayerContext, Unsupported, register_container, register_converter

SAFE_CLASSES = (norse.SequentialState, norse.Lift, norse.LIFCell, norse.LIF, norse.LIFRecurrentCell,
                norse.LIFRecurrent, norse.LIFBoxCell, norse.LICell, norse.LI, norse.LILinearCell,
                norse.LIBoxCell, norse.IAFCell, norse.IAF)


@register_container(norse.Lift)
def _lift(module: norse.Lift):
    return [("", module.lifted_module)]  # Lift runs a layer per time step: already the IR's view


def _inverse_tau(value, shape, name: str) -> np.ndarray:
    inv = full_array(value, shape)
    if np.any(inv <= 0):
        raise Unsupported(f"{name} must be positive (got {inv.min():g})", hint=f"use a positive {name}")
    return 1.0 / inv


def _comparator(p) -> ir.Comparator:
    return spike_comparator(lambda v: norse_threshold(v - 1.0, p.method, p.alpha), f"threshold method {p.method!r}")


def _spiking_common(p, shape, offset: np.ndarray, offset_name: str, reset: ir.ResetMode) -> dict:
    return dict(v_threshold=full_array(p.v_th, shape) - offset, v_reset=full_array(p.v_reset, shape) - offset,
                reset=reset, comparator=_comparator(p), metadata={"state_offset": offset_name})


def _lif(layer, ctx: LayerContext) -> ir.CubaLIF:
    check_dt(layer.dt, ctx)
    shape, p = ctx.input_shape, layer.p
    tau_syn = _inverse_tau(p.tau_syn_inv, shape, "tau_syn_inv")
    offset = full_array(p.v_leak, shape)  # norse's membrane starts at v_leak
    return ir.CubaLIF(tau_syn=tau_syn, tau_mem=_inverse_tau(p.tau_mem_inv, shape, "tau_mem_inv"), r=np.ones(shape),
                      w_in=tau_syn / ctx.dt, v_leak=np.zeros(shape),
                      **_spiking_common(p, shape, offset, "v_leak", ir.ResetMode.VALUE))


@register_converter(norse.LIFCell, norse.LIF)
def _lif_cell(layer, ctx: LayerContext) -> list[ir.Node]:
    return [_lif(layer, ctx)]


@register_converter(norse.LIFRecurrentCell, norse.LIFRecurrent)
def _lif_recurrent(layer, ctx: LayerContext):
    if ctx.input_shape != (int(layer.input_size),):
        raise Unsupported(f"input shape {ctx.input_shape} does not match input_size {int(layer.input_size)}",
                          hint="flatten the input first")
    hidden = LayerContext(ctx.path, (int(layer.hidden_size),), ctx.dt)
    neuron = _lif(layer, hidden)
    return loop_block(neuron, loops=[[ir.Linear(weight=full_array(layer.recurrent_weights, layer.recurrent_weights.shape))]],
                      pre=[ir.Linear(weight=full_array(layer.input_weights, layer.input_weights.shape))])


@register_converter(norse.LIFBoxCell)
def _lif_box(layer, ctx: LayerContext) -> list[ir.Node]:
    check_dt(layer.dt, ctx)
    p, shape = layer.p, ctx.input_shape
    offset = full_array(p.v_leak, shape)
    if p.reset_method is reset_value:
        reset = ir.ResetMode.VALUE
    elif p.reset_method is reset_subtract:
        if np.any(offset != 0):  # the IR subtracts its (shifted) threshold, norse the unshifted one
            raise Unsupported("reset_subtract with a nonzero v_leak", hint="use v_leak = 0 or reset_value")
        reset = ir.ResetMode.SUBTRACT
    else:
        raise Unsupported(f"reset_method {p.reset_method!r}", hint="use reset_value or reset_subtract")
    return [ir.LIF(tau=_inverse_tau(p.tau_mem_inv, shape, "tau_mem_inv"), r=np.ones(shape), v_leak=np.zeros(shape),
                   **_spiking_common(p, shape, offset, "v_leak", reset))]


@register_converter(norse.IAFCell, norse.IAF)
def _iaf(layer, ctx: LayerContext) -> list[ir.Node]:
    p, shape = layer.p, ctx.input_shape
    offset = full_array(p.v_reset, shape)  # norse's IAF membrane starts at v_reset
    return [ir.IF(r=np.ones(shape), **_spiking_common(p, shape, offset, "v_reset", ir.ResetMode.VALUE))]


def _with_output_offset(neuron: ir.Node, offset: np.ndarray, shape) -> list[ir.Node]:
    """A non-spiking neuron's output is its membrane: add back the start value the IR shifted off."""
    if not np.any(offset != 0):
        return [neuron]
    if len(shape) != 1:
        raise Unsupported("a nonzero v_leak on a multi-dimensional leaky integrator", hint="use v_leak = 0")
    return [neuron, constant_input(offset, shape)]


def _li(layer, ctx: LayerContext, shape) -> list[ir.Node]:
    check_dt(layer.dt, ctx)
    p = layer.p
    offset = full_array(p.v_leak, shape)
    tau_syn = _inverse_tau(p.tau_syn_inv, shape, "tau_syn_inv")
    neuron = ir.CubaLI(tau_syn=tau_syn, tau_mem=_inverse_tau(p.tau_mem_inv, shape, "tau_mem_inv"), r=np.ones(shape),
                       v_leak=np.zeros(shape), w_in=tau_syn / ctx.dt, metadata={"state_offset": "v_leak"})
    return _with_output_offset(neuron, offset, shape)


@register_converter(norse.LICell, norse.LI)
def _li_cell(layer, ctx: LayerContext) -> list[ir.Node]:
    return _li(layer, ctx, ctx.input_shape)


@register_converter(norse.LILinearCell)
def _li_linear(layer, ctx: LayerContext) -> list[ir.Node]:
    weight = full_array(layer.input_weights, layer.input_weights.shape)
    return [ir.Linear(weight=weight), *_li(layer, ctx, (int(weight.shape[0]),))]


@register_converter(norse.LIBoxCell)
def _li_box(layer, ctx: LayerContext) -> list[ir.Node]:
    check_dt(layer.dt, ctx)
    p, shape = layer.p, ctx.input_shape
    offset = full_array(p.v_leak, shape)
    neuron = ir.LI(tau=_inverse_tau(p.tau_mem_inv, shape, "tau_mem_inv"), r=np.ones(shape), v_leak=np.zeros(shape),
                   metadata={"state_offset": "v_leak"})
    return _with_output_offset(neuron, offset, shape)

