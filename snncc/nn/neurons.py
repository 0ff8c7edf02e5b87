"""Discrete-time spiking neurons for training: LIF and current-based LIF.

All neurons take time-major sequences ``[B, T, *shape]`` in ``forward`` and one
step ``[B, *shape]`` plus an explicit state in ``step``. Within a step the
membrane is updated, compared (``v > threshold``) and reset right away, which is
the order the IR and the reference simulator use.
"""
from __future__ import annotations

import abc
import json
from typing import Any, NamedTuple, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from .. import ir
from ..diagnostics import SnnccError
from .surrogate import spike_fn

RESETS = ("zero", "subtract")
_IR_RESET = {"zero": ir.ResetMode.VALUE, "subtract": ir.ResetMode.SUBTRACT}
#: non-persistent buffer with a neuron's non-tensor constructor arguments (JSON bytes)
CONFIG_BUFFER = "snncc_config"


def remember_config(module: nn.Module, **config: Any) -> None:
    """Keep the constructor arguments that are not tensors (reset, mode, eps, ...) as a uint8
    buffer. Traced TorchScript archives keep only tensors, so this is how
    ``frontends/torch_script.py`` rebuilds the neuron; it is not part of state dicts."""
    data = json.dumps(config, sort_keys=True).encode()
    module.register_buffer(CONFIG_BUFFER, torch.tensor(list(data), dtype=torch.uint8), persistent=False)


def recorded_config(buffer: Tensor) -> dict[str, Any]:
    """The arguments :func:`remember_config` stored."""
    return json.loads(bytes(buffer.tolist()).decode())


def full_array(value: Tensor | float, shape: Sequence[int]) -> np.ndarray:
    """A parameter broadcast to the full neuron shape as float64 (IR arrays are per neuron)."""
    array = value.detach().cpu().double().numpy() if isinstance(value, Tensor) else np.asarray(value, float)
    return np.broadcast_to(array, tuple(shape)).astype(np.float64).copy()


def decay_to_tau(decay: np.ndarray, dt: float, name: str) -> np.ndarray:
    """tau = dt / (1 - decay): the continuous time constant whose Euler step is ``decay``."""
    if np.any(decay < 0) or np.any(decay >= 1):
        raise SnnccError.single(
            "SNN110", f"{name} must lie in [0, 1) to export as a leaky neuron (got {decay.min():g}..{decay.max():g})",
            hint=f"{name} = 1 is a non-leaky integrator; clamp {name} below 1 or use a smaller value",
        )
    return dt / (1.0 - decay)


def leaky_neuron(beta: np.ndarray, dt: float, name: str = "beta", gain: np.ndarray | float = 1.0,
                 **spiking: Any) -> ir.Node:
    """``v = beta v + gain x`` per step, then spike and reset as ``spiking`` says, as an IR node:
    IF where ``beta`` is 1 everywhere (no leak), else LIF with tau = dt / (1 - beta)."""
    if np.all(beta == 1.0):
        return ir.IF(r=np.ones(beta.shape) * gain, **spiking)
    tau = decay_to_tau(beta, dt, name)
    return ir.LIF(tau=tau, r=gain * tau / dt, v_leak=np.zeros(beta.shape), **spiking)


class LIFState(NamedTuple):
    v: Tensor


class CubaLIFState(NamedTuple):
    i: Tensor
    v: Tensor


class SpikingNeuron(nn.Module, abc.ABC):
    """Base class: sequence loop, state recording and the surrogate spike."""

    state_names: tuple[str, ...] = ("v",)

    def __init__(self, threshold: float, reset: str, slope: float, detach_reset: bool) -> None:
        super().__init__()
        if reset not in RESETS:
            raise ValueError(f"reset must be one of {RESETS}, got {reset!r}")
        self.reset = reset
        self.slope = float(slope)
        self.detach_reset = detach_reset
        self.register_buffer("threshold", torch.as_tensor(float(threshold)))

    def initial_state(self, x_t: Tensor) -> tuple[Tensor, ...]:
        return tuple(torch.zeros_like(x_t) for _ in self.state_names)

    @abc.abstractmethod
    def step(self, x_t: Tensor, state: tuple[Tensor, ...] | None = None) -> tuple[Tensor, tuple[Tensor, ...]]:
        """One time step: ``(spikes, new_state)`` for input ``[B, *shape]``."""

    @abc.abstractmethod
    def to_ir(self, shape: Sequence[int], dt: float = 1e-3) -> ir.Node:
        """The IR neuron node for neurons of ``shape`` (no batch) at time step ``dt`` seconds."""

    # -- shared
    def _apply_reset(self, v: Tensor, s: Tensor, theta: Tensor) -> Tensor:
        # Detaching the reset keeps the surrogate gradient on the membrane path only (snnTorch default).
        s_r = s.detach() if self.detach_reset else s
        if self.reset == "zero":
            return v * (1.0 - s_r)
        return v - s_r * theta

    def run(self, x: Tensor, state: tuple[Tensor, ...] | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        """Spikes ``[B, T, ...]`` and every state variable after each step's reset."""
        if x.dim() < 2:
            raise ValueError(f"{type(self).__name__} expects [B, T, ...] input, got shape {tuple(x.shape)}")
        spikes, trace = [], {n: [] for n in self.state_names}
        for t in range(x.shape[1]):
            s, state = self.step(x[:, t], state)
            spikes.append(s)
            for name, value in zip(self.state_names, state):
                trace[name].append(value)
        return torch.stack(spikes, 1), {n: torch.stack(v, 1) for n, v in trace.items()}

    def forward(self, x: Tensor) -> Tensor:
        return self.run(x)[0]

    def extra_repr(self) -> str:
        return f"threshold={float(self.threshold):g}, reset={self.reset!r}"


def _decay_param(module: nn.Module, name: str, value: float | Tensor, learn: bool) -> None:
    tensor = torch.as_tensor(value, dtype=torch.get_default_dtype()).clone()
    if torch.any(tensor < 0) or torch.any(tensor > 1):
        raise ValueError(f"{name} must lie in [0, 1], got {value}")
    if learn:
        module.register_parameter(name, nn.Parameter(tensor))
    else:
        module.register_buffer(name, tensor)


class LIF(SpikingNeuron):
    """``v = beta * v + x``; spike ``s = v > threshold``; reset to 0 or by subtracting
    the threshold where ``s``. ``beta`` is a scalar or broadcastable per-neuron tensor."""

    state_names = ("v",)

    def __init__(self, beta: float | Tensor, threshold: float = 1.0, reset: str = "zero",
                 learn_beta: bool = False, slope: float = 25.0, detach_reset: bool = True) -> None:
        super().__init__(threshold, reset, slope, detach_reset)
        _decay_param(self, "beta", beta, learn_beta)
        remember_config(self, reset=reset, learn_beta=learn_beta, slope=slope, detach_reset=detach_reset)

    def decay(self) -> Tensor:
        # A learned beta is kept inside [0, 1] so the neuron stays a (non-growing) leaky integrator.
        return self.beta.clamp(0.0, 1.0) if isinstance(self.beta, nn.Parameter) else self.beta

    def step(self, x_t: Tensor, state: tuple[Tensor, ...] | None = None) -> tuple[Tensor, LIFState]:
        (v,) = state if state is not None else self.initial_state(x_t)
        v = self.decay() * v + x_t
        s = spike_fn(v - self.threshold, self.slope)
        return s, LIFState(self._apply_reset(v, s, self.threshold))

    def to_ir(self, shape: Sequence[int], dt: float = 1e-3) -> ir.Node:
        return leaky_neuron(full_array(self.decay(), shape), dt, v_threshold=full_array(self.threshold, shape),
                            v_reset=np.zeros(shape), reset=_IR_RESET[self.reset])

    def extra_repr(self) -> str:
        return f"beta={self.decay().detach().cpu().numpy()}, " + super().extra_repr()


class CubaLIF(SpikingNeuron):
    """Current-based LIF: ``i = alpha * i + x``; ``v = beta * v + i``; spike; reset ``v``."""

    state_names = ("i", "v")

    def __init__(self, alpha: float | Tensor, beta: float | Tensor, threshold: float = 1.0,
                 reset: str = "zero", learn_alpha: bool = False, learn_beta: bool = False,
                 slope: float = 25.0, detach_reset: bool = True) -> None:
        super().__init__(threshold, reset, slope, detach_reset)
        _decay_param(self, "alpha", alpha, learn_alpha)
        _decay_param(self, "beta", beta, learn_beta)
        remember_config(self, reset=reset, learn_alpha=learn_alpha, learn_beta=learn_beta, slope=slope,
                        detach_reset=detach_reset)

    def decays(self) -> tuple[Tensor, Tensor]:
        return tuple(  # type: ignore[return-value]
            p.clamp(0.0, 1.0) if isinstance(p, nn.Parameter) else p for p in (self.alpha, self.beta)
        )

    def step(self, x_t: Tensor, state: tuple[Tensor, ...] | None = None) -> tuple[Tensor, CubaLIFState]:
        i, v = state if state is not None else self.initial_state(x_t)
        alpha, beta = self.decays()
        i = alpha * i + x_t
        v = beta * v + i
        s = spike_fn(v - self.threshold, self.slope)
        return s, CubaLIFState(i, self._apply_reset(v, s, self.threshold))

    def to_ir(self, shape: Sequence[int], dt: float = 1e-3) -> ir.Node:
        alpha, beta = (full_array(d, shape) for d in self.decays())
        tau_syn = decay_to_tau(alpha, dt, "alpha")
        tau_mem = decay_to_tau(beta, dt, "beta")
        return ir.CubaLIF(
            tau_syn=tau_syn, tau_mem=tau_mem, r=tau_mem / dt, v_leak=np.zeros(shape),
            v_threshold=full_array(self.threshold, shape), v_reset=np.zeros(shape), w_in=tau_syn / dt,
            reset=_IR_RESET[self.reset],
        )

    def extra_repr(self) -> str:
        alpha, beta = (d.detach().cpu().numpy() for d in self.decays())
        return f"alpha={alpha}, beta={beta}, " + super().extra_repr()
