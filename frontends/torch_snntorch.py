"""snnTorch neurons -> IR: Leaky, Synaptic, RLeaky, RSynaptic (snnTorch 1.0).

snnTorch's step, with ``r = H(mem_prev - threshold)`` taken from the *previous* step's
membrane (``reset_delay=True``, the default) and ``H(0) = 0``::

    Leaky      mem = beta mem + x - r thr                    (subtract)
               mem = beta (1 - r) mem + x                    (zero)
    Synaptic   syn = alpha syn + x;  mem = beta mem + syn - r thr    (subtract)
               mem = (1 - r) (beta mem + syn)                        (zero)
    RLeaky, RSynaptic: x also gets recurrent(spk_prev) (Linear, Conv2d or V * spk);
               zero: mem = (1 - r) (beta mem + x + recurrent)
    spk = H(mem - thr) * graded_spikes_factor

IR forms: Leaky's zero reset is the IR's reset to 0 right after the spike (exact). The
delayed subtraction is the IR's immediate subtraction, which the next step's decay shrinks
to ``beta * thr``, plus a loop feeding the missing ``-(1 - beta) thr * spk_prev`` into the
membrane (exact; no loop when beta = 1). A CubaLIF takes loop input through its synaptic
current, so a second loop one step later adds ``alpha (1 - beta) thr``, cancelling what the
current would carry on.
The zero reset of Synaptic/RLeaky/RSynaptic leaves the membrane above threshold in the
spike step and forces it to 0 in the next step, dropping that step's input (feed-forward,
recurrent and bias) while the synaptic current ``syn`` keeps integrating: the IR's reset to 0
right after the spike plus ``refractory = 1`` (exact; the recorded membranes differ only in
spike steps, where the IR records the post-reset 0). During that held step snnTorch still
compares 0 with the threshold, so a negative threshold keeps the approximation warning.
snnTorch's own NIR export hard-codes dt = 1e-4 and omits the reset, so it is not used.
"""
from __future__ import annotations

import numpy as np
import snntorch
from snntorch._neurons.neurons import SpikingNeuron as SnnTorchNeuron
from torch import nn

from .. import ir
from .library_neurons import (
    APPROXIMATION, Block, constant_input, decay_to_tau, full_array, leaky_neuron, loop_block, spike_comparator,
)
from .torch_layers import LayerContext, Unsupported, find_converter, register_converter

#: RLeaky and RSynaptic each define their own RecurrentOneToOne (spk * V)
_ONE_TO_ONE = (snntorch._neurons.rleaky.RecurrentOneToOne, snntorch._neurons.rsynaptic.RecurrentOneToOne)
SAFE_CLASSES = (snntorch.Leaky, snntorch.Synaptic, snntorch.RLeaky, snntorch.RSynaptic, *_ONE_TO_ONE)
_RESETS = {"_base_sub": "subtract", "_base_zero": "zero", "_base_int": "none"}
_IR_RESET = {"subtract": ir.ResetMode.SUBTRACT, "zero": ir.ResetMode.VALUE, "none": ir.ResetMode.NONE}


def _reset_mode(layer: SnnTorchNeuron) -> str:
    # The forward pass calls the state function bound at construction; a state dict can
    # later overwrite reset_mechanism_val without changing it, so both must agree.
    used = _RESETS[layer.state_function.__name__]
    recorded = list(SnnTorchNeuron.reset_dict)[int(layer.reset_mechanism_val)]
    if used != recorded:
        raise Unsupported(f"reset_mechanism_val says '{recorded}' (e.g. from a loaded state dict) but the module "
                          f"was built with reset_mechanism='{used}', which its forward pass uses",
                          hint=f"build the module with reset_mechanism='{recorded}' in the --arch factory")
    return used


def _check_plain(layer: SnnTorchNeuron) -> None:
    if layer.inhibition:
        raise Unsupported("inhibition=True (only the largest membrane fires)", hint="train without inhibition")
    if layer.state_quant:
        raise Unsupported("state_quant (quantized states in the forward pass)",
                          hint="compile the float model; snncc quantizes for each target")
    spike_comparator(lambda v: layer.spike_grad(v - 1.0), f"spike_grad {layer.spike_grad!r}")


def _decay(value, shape) -> np.ndarray:
    return full_array(value.clamp(0, 1), shape)  # snnTorch clamps decays to [0, 1] in every step


def _neuron(layer: SnnTorchNeuron, ctx: LayerContext, reset: ir.ResetMode, bias=None, refractory: int = 0) -> ir.Node:
    shape, dt = ctx.input_shape, ctx.dt
    common = dict(v_threshold=full_array(layer.threshold, shape), v_reset=np.zeros(shape), reset=reset,
                  comparator=ir.Comparator.GT, bias=bias, refractory=refractory)
    beta = _decay(layer.beta, shape)
    if isinstance(layer, (snntorch.Synaptic, snntorch.RSynaptic)):
        tau_syn = decay_to_tau(_decay(layer.alpha, shape), dt, "alpha")
        tau_mem = decay_to_tau(beta, dt, "beta")
        return ir.CubaLIF(tau_syn=tau_syn, tau_mem=tau_mem, r=tau_mem / dt, v_leak=np.zeros(shape),
                          w_in=tau_syn / dt, **common)
    return leaky_neuron(beta, dt, **common)


def _recurrent(layer, ctx: LayerContext, gain: np.ndarray) -> tuple[list[ir.Node], np.ndarray | None]:
    """The recurrent synapse on (graded) spikes, without its bias, and that bias."""
    recurrent = layer.recurrent
    if isinstance(recurrent, _ONE_TO_ONE):
        return [ir.Scale(scale=full_array(recurrent.V, ctx.input_shape) * gain)], None
    if isinstance(recurrent, (nn.Linear, nn.Conv2d)):
        [synapse] = find_converter(recurrent)(recurrent, ctx)
        bias = full_array(synapse.bias, synapse.bias.shape)
        weight = np.asarray(synapse.weight) * gain.reshape(-1)[0]  # graded factor is one scalar
        if isinstance(recurrent, nn.Conv2d):
            bias = np.broadcast_to(bias.reshape(-1, 1, 1), ctx.input_shape)
        return [synapse.replace(weight=weight, bias=np.zeros_like(synapse.bias))], bias
    raise Unsupported(f"recurrent connection {type(recurrent).__name__}", hint="use Linear, Conv2d or one-to-one V")


@register_converter(snntorch.Leaky, snntorch.Synaptic, snntorch.RLeaky, snntorch.RSynaptic)
def _snntorch_neuron(layer: SnnTorchNeuron, ctx: LayerContext) -> Block:
    _check_plain(layer)
    mode, shape = _reset_mode(layer), ctx.input_shape
    cuba = isinstance(layer, (snntorch.Synaptic, snntorch.RSynaptic))
    # RSynaptic's reset_delay=False branch only edits local variables: it always resets late.
    delayed = getattr(layer, "reset_delay", True) or isinstance(layer, snntorch.RSynaptic)
    gain = full_array(layer.graded_spikes_factor, ())
    if np.size(np.unique(np.asarray(layer.graded_spikes_factor))) != 1:
        raise Unsupported("per-neuron graded_spikes_factor", hint="use one scalar graded_spikes_factor")
    loops, pre, bias, note, refractory = [], [], None, None, 0
    if isinstance(layer, (snntorch.RLeaky, snntorch.RSynaptic)):
        synapse, rec_bias = _recurrent(layer, ctx, gain)
        loops.append(synapse)
        if rec_bias is not None and np.any(rec_bias != 0):
            # snnTorch adds recurrent(0) = bias from the very first step, which a loop
            # (zero before the first step) would miss: feed it as a constant input instead.
            if cuba:
                pre.append(constant_input(rec_bias, shape))
            else:
                bias = np.broadcast_to(rec_bias, shape).astype(float)
    reset = _IR_RESET[mode]
    if mode == "subtract" and delayed:
        correction = (1.0 - _decay(layer.beta, shape)) * full_array(layer.threshold, shape)
        if np.any(correction != 0):
            loops.append([ir.Scale(scale=-correction)])
            if cuba:
                alpha = _decay(layer.alpha, shape)
                loops.append([ir.Delay(delay=np.full(shape, ctx.dt)), ir.Scale(scale=alpha * correction)])
    elif mode == "subtract":
        note = ("snnTorch's immediate subtraction (reset_delay=False) compares a membrane that is still above "
                "threshold after a reset only after subtracting again; the IR subtracts once per spike")
    elif mode == "zero" and delayed and not isinstance(layer, snntorch.Leaky):
        refractory = 1  # snnTorch forces the membrane to 0 in the step after a spike
        if np.any(full_array(layer.threshold, shape) < 0):
            note = ("snnTorch compares the membrane it holds at 0 after a spike with the threshold, so a negative "
                    "threshold fires again there; the IR's refractory step cannot spike")
    neuron = _neuron(layer, ctx, reset, bias, refractory)
    if note:
        neuron = neuron.replace(metadata={**neuron.metadata, APPROXIMATION: note})
    post = [ir.Scale(scale=np.full(shape, float(gain)))] if float(gain) != 1.0 else []
    return loop_block(neuron, loops, pre=pre, post=post)
