"""NIR -> SpiNNaker 2 populations by the discretisation py-spinnaker2's importer uses.

Formulas from ``spinnaker2.s2_nir.convert_LIF`` / ``convert_CubaLIF`` (spinnaker2.md §5):
``r_factor = k * r`` with ``k = dt/tau`` (forward Euler) or ``1 - exp(-dt/tau)``
(exponential Euler); ``scale = w_scale / r_factor``; ``threshold = v_th * scale``;
``i_offset = k * v_leak * scale + bias * w_scale``; ``alpha_decay = 1 - dt/tau`` or
``exp(-dt/tau)``. The NIR paper's LIF trace (01_lif/lif_spinnaker2.csv) decays by
exactly float32(0.96) = 1 - 1e-4/2.5e-3 per step, i.e. it was made with forward Euler.
"""
from __future__ import annotations

from typing import Literal

import numpy as np

from .limits import SpiNNaker2Limits
from .netspec import NeuronParams, Population, Projection

Integrator = Literal["forward", "exponential"]
#: int8 range of the no-delay / conv synapses (spinnaker2.md §3.2)
INT8_MAX = SpiNNaker2Limits.int8_weight_max


def nir_weight_scale(weights: np.ndarray, limit: int = INT8_MAX) -> float:
    """``limit / max|w|`` as ``s2_nir`` picks it with ``scale_weights=True`` (§5)."""
    max_abs = float(np.max(np.abs(weights))) if np.size(weights) else 0.0
    return limit / max_abs if max_abs > 0 else 1.0


def _decay(dt: float, tau: np.ndarray, integrator: Integrator) -> tuple[np.ndarray, np.ndarray]:
    """(alpha_decay, input factor k) for one time constant."""
    tau = np.asarray(tau, dtype=np.float64).ravel()
    if integrator == "forward":
        return 1.0 - dt / tau, dt / tau
    if integrator == "exponential":
        return np.exp(-dt / tau), 1.0 - np.exp(-dt / tau)
    raise ValueError(f"unknown integrator {integrator!r}")


#: node kinds (NIR's class names, which snncc's IR shares) -> the family they convert as
_FAMILY = {"LIF": "lif", "LI": "lif", "IF": "if", "I": "if", "CubaLIF": "cuba", "CubaLI": "cuba"}
#: the threshold of a non-spiking node (LI, I, CubaLI): never reached, finite for JSON
NEVER = float(np.finfo(np.float32).max)
_CURR_EXP = {"lif": "lif_curr_exp", "lif_no_delay": "lif_curr_exp_no_delay"}


def _array(node, field: str, default=None) -> np.ndarray:
    value = getattr(node, field, None)
    return np.asarray(default if value is None else value, dtype=np.float64).ravel()


def lif_population_from_nir(
    name: str,
    lif,
    *,
    dt: float,
    w_scale: float = 1.0,
    bias: np.ndarray | float = 0.0,
    integrator: Integrator = "exponential",
    reset: str = "reset_to_v_reset",
    neuron_model: str = "lif_no_delay",
    record: tuple[str, ...] = ("spikes", "v"),
    max_atoms_per_core: int = 256,
    v_reset: np.ndarray | float = 0.0,
    membrane_bias: np.ndarray | float = 0.0,
) -> Population:
    """A population for a LIF/IF/CubaLIF node (or non-spiking LI/I/CubaLI, which get a
    threshold they never reach), from NIR or from snncc's IR (same class and field names).

    ``w_scale`` multiplies the incoming real weights into integers (use
    :func:`nir_weight_scale`); ``bias`` is the summed bias of the incoming Affine
    nodes (a current into the synapse); ``membrane_bias`` a constant current straight
    into the membrane (snncc's ``SpikingNeuron.bias``); ``v_reset`` in model units (NIR
    has no reset value and s2_nir resets to 0, §5). The returned ``v_scale`` is s2_nir's
    ``nir_v_scale`` (``w_scale / r_factor``). With ``integrator="forward"`` this is
    snncc's reference simulator's arithmetic (spinnaker2.md §5).
    """
    family = _FAMILY.get(type(lif).__name__)
    if family is None:
        raise TypeError(f"{type(lif).__name__} is not a LIF, IF or CubaLIF node")
    bias = np.asarray(bias, dtype=np.float64).ravel()
    membrane_bias = np.asarray(membrane_bias, dtype=np.float64).ravel()
    extra: dict[str, np.ndarray] = {}
    if family == "if":
        r_factor = _array(lif, "r")
        alpha = np.ones_like(r_factor)
        scale = w_scale / r_factor
        i_offset = (bias + membrane_bias) * w_scale
    elif family == "cuba":
        alpha, k_mem = _decay(dt, lif.tau_mem, integrator)
        syn_decay, k_syn = _decay(dt, lif.tau_syn, integrator)
        r_factor = k_mem * _array(lif, "r")
        w_in_factor = k_syn * _array(lif, "w_in")
        scale = w_scale / (r_factor * w_in_factor)
        # the Affine bias charges the synaptic current: its steady state, as s2_nir does
        i_offset = (k_mem * _array(lif, "v_leak") * scale
                    + bias * _array(lif, "w_in") / w_in_factor * w_scale
                    + r_factor * membrane_bias * scale)
        extra = {"exc_decay": syn_decay, "inh_decay": syn_decay}
        neuron_model = _CURR_EXP.get(neuron_model, neuron_model)
    else:
        alpha, k = _decay(dt, lif.tau, integrator)
        r_factor = k * _array(lif, "r")
        scale = w_scale / r_factor
        i_offset = k * _array(lif, "v_leak") * scale + (bias + membrane_bias) * w_scale

    spiking = hasattr(lif, "v_threshold")
    threshold = _array(lif, "v_threshold") * scale if spiking else np.full(np.shape(scale), NEVER)
    size = int(np.size(threshold))
    params = NeuronParams(threshold=threshold, alpha_decay=alpha, i_offset=i_offset,
                          v_reset=np.asarray(v_reset, dtype=np.float64).ravel() * scale,
                          reset=reset, **extra)
    v_scale = np.unique(np.asarray(scale, dtype=np.float64))
    if v_scale.size != 1:
        raise ValueError(f"'{name}': per-neuron voltage scales {v_scale} are not supported; "
                         "one v_scale per population")
    return Population(name=name, size=size, neuron_model=neuron_model, params=params,
                      record=tuple(record), max_atoms_per_core=max_atoms_per_core,
                      v_scale=float(v_scale[0]))


def dense_projection_from_nir(
    name: str, pre: str, post: str, weight: np.ndarray, *, w_scale: float,
    delay: int | np.ndarray = 0,
) -> Projection:
    """Dense projection for a NIR ``Affine``/``Linear`` weight ``(out, in)``, rounded
    to integers after multiplying by ``w_scale``; ``delay`` in steps, scalar or ``(in, out)``."""
    ints = np.rint(np.asarray(weight, dtype=np.float64).T * w_scale).astype(np.int64)
    return Projection(name=name, pre=pre, post=post, kind="dense", weights=ints,
                      weight_scale=1.0 / w_scale, delays=delay)


def _pair(value) -> tuple[int, int]:
    array = np.broadcast_to(np.asarray(value, dtype=np.int64).ravel(), (2,))
    return int(array[0]), int(array[1])


def conv2d_projection_from_nir(
    name: str, pre: str, post: str, conv, *, in_channels: int, w_scale: float,
    pool: tuple[int, int] = (1, 1), in_hw: tuple[int, int] | None = None,
) -> Projection:
    """``snn.Conv2DProjection`` for a ``nir.Conv2d`` or snncc ``Conv2d`` (optionally after
    a fused SumPool2d with kernel = stride ``pool``), weights rounded after multiplying
    by ``w_scale``.

    ``in_hw`` is (H, W) of the conv input, i.e. after pooling; by default the last two
    entries of the node's ``input_shape`` (NIR: (H, W); snncc: (C, H, W)).
    """
    from .netspec import Conv2DParams

    if _pair(conv.dilation) != (1, 1) or int(conv.groups) != 1:
        raise ValueError(f"'{name}': lif_conv2d supports dilation 1 and groups 1 only")
    if isinstance(conv.padding, str):
        raise ValueError(f"'{name}': give explicit padding, not {conv.padding!r}")
    (pad_y, pad_x), (stride_y, stride_x) = _pair(conv.padding), _pair(conv.stride)
    height, width = in_hw if in_hw is not None else _pair(np.ravel(conv.input_shape)[-2:])
    params = Conv2DParams(in_channels=in_channels, in_height=height * pool[0],
                          in_width=width * pool[1], stride_x=stride_x, stride_y=stride_y,
                          pool_x=pool[1], pool_y=pool[0], pad_top=pad_y, pad_bottom=pad_y,
                          pad_left=pad_x, pad_right=pad_x)
    ints = np.rint(np.asarray(conv.weight, dtype=np.float64) * w_scale).astype(np.int64)
    return Projection(name=name, pre=pre, post=post, kind="conv2d", weights=ints.swapaxes(0, 1),
                      weight_scale=1.0 / w_scale, conv=params)
