"""rockpool torch modules -> IR (rockpool 3.1): LIFTorch (and LIFBitshiftTorch),
LinearTorch, inside rockpool's torch Sequential.

LIFTorch's step at the module's own ``dt`` (alpha = exp(-dt/tau_mem), beta = exp(-dt/tau_syn),
or the decays / bitshifts it was built with)::

    isyn = beta (isyn + x + spikes_prev @ w_rec)
    vmem = alpha vmem + isyn + bias
    spikes = (vmem >= threshold) * floor(vmem / threshold), at most max_spikes_per_dt
    vmem = vmem - spikes * threshold

With ``max_spikes_per_dt = 1`` this is the IR CubaLIF with tau = dt/(1 - decay),
``w_in = beta tau_syn/dt``, the bias as the neuron's bias current, comparator '>=' and
subtractive reset; more spikes per step have no IR form and are refused. rockpool's own
NIR export drops the bias, so it is not used.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def _without_samna_installer() -> None:
    """rockpool runs ``import samna`` at import time; the PyPI ``samna`` stub then calls
    ``pip install`` from GitLab (a network call that hangs offline). Make that import fail
    fast instead, unless samna is already imported or a real one is installed."""
    if "samna" in sys.modules:
        return
    spec = importlib.util.find_spec("samna")
    if spec is not None and spec.origin and "install_real_samna" in Path(spec.origin).read_text(errors="ignore"):
        sys.modules["samna"] = None  # type: ignore[assignment]  # import samna -> ImportError


_without_samna_installer()

import numpy as np  # noqa: E402
from rockpool.nn.combinators.sequential import TorchSequential  # noqa: E402
from rockpool.nn.modules import LIFBitshiftTorch, LIFTorch, LinearTorch  # noqa: E402
from torch import nn  # noqa: E402

from .. import ir  # noqa: E402
from .library_neurons import check_dt, decay_to_tau, full_array, loop_block, spike_comparator  # noqa: E402
from .torch_layers import LayerContext, Unsupported, register_container, register_converter  # noqa: E402

SAFE_CLASSES = (TorchSequential, LIFTorch, LIFBitshiftTorch, LinearTorch)


@register_container(TorchSequential)
def _sequential(module: TorchSequential):
    return list(nn.Module.named_children(module))


@register_converter(LinearTorch)
def _linear(layer: LinearTorch, ctx: LayerContext) -> list[ir.Node]:
    weight = full_array(layer.weight, layer.weight.shape).T  # rockpool stores (in, out)
    if ctx.input_shape != (weight.shape[1],):
        raise Unsupported(f"LinearTorch needs input shape ({weight.shape[1]},), got {ctx.input_shape}",
                          hint="flatten the input first")
    bias = full_array(layer.bias, (weight.shape[0],)) if getattr(layer, "bias", None) is not None else np.zeros(weight.shape[0])
    return [ir.Affine(weight=weight, bias=bias)]


def _per_neuron(value, n: int) -> np.ndarray:
    return full_array(value.detach().reshape(-1) if value.numel() == n else value, (n,))


@register_converter(LIFTorch)
def _lif(layer: LIFTorch, ctx: LayerContext):
    check_dt(layer.dt, ctx)
    n = int(layer.size_out)
    if int(layer.n_synapses) != 1:
        raise Unsupported(f"{int(layer.n_synapses)} synapses per neuron (shape {tuple(layer.shape)})",
                          hint="use one synapse per neuron: LIFTorch(N)")
    if float(layer.noise_std) != 0.0:
        raise Unsupported(f"noise_std={float(layer.noise_std):g} adds random noise", hint="set noise_std=0")
    if ctx.input_shape != (n,):
        raise Unsupported(f"input shape {ctx.input_shape} does not match the {n} neurons", hint="check the layer sizes")
    threshold = _per_neuron(layer.threshold, n)
    comparator = spike_comparator(
        lambda v: layer.spike_generation_fn(v, v.new_tensor(1.0), layer.learning_window,
                                            layer.max_spikes_per_dt.to(v.dtype)),
        f"spike generation with max_spikes_per_dt={float(layer.max_spikes_per_dt):g}")
    dt, shape = ctx.dt, (n,)
    alpha, beta = _per_neuron(layer.alpha, n), _per_neuron(layer.beta, n)
    tau_mem, tau_syn = decay_to_tau(alpha, dt, "alpha (membrane decay)"), decay_to_tau(beta, dt, "beta (synaptic decay)")
    neuron = ir.CubaLIF(tau_syn=tau_syn, tau_mem=tau_mem, r=tau_mem / dt, v_leak=np.zeros(shape),
                        v_threshold=threshold, v_reset=np.zeros(shape), w_in=beta * tau_syn / dt,
                        reset=ir.ResetMode.SUBTRACT, comparator=comparator, bias=_per_neuron(layer.bias, n))
    if not layer._has_rec:
        return [neuron]
    w_rec = full_array(layer.w_rec, layer.w_rec.shape)  # spikes @ w_rec: (from, to)
    return loop_block(neuron, loops=[[ir.Linear(weight=w_rec.T)]])
