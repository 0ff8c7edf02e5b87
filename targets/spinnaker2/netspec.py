"""Plain-data SpiNNaker 2 netlist: what py-spinnaker2 needs to build a ``snn.Network``.

Units: neuron parameters are in *hardware* units, exactly as py-spinnaker2 receives
them (the NIR importer folds the weight scale into threshold and ``i_offset``,
spinnaker2.md §5). The neuron adds the integer weights unchanged, so

- ``Projection.weight_scale``: real weight = integer weight * weight_scale;
- ``Population.v_scale``: hardware voltage = v_scale * model voltage (un-scale
  recorded voltages by dividing, like py-spinnaker2's ``nir_v_scale``).

Projection latency: a spike sent at step t reaches the target's neuron update at
step t + 1 + delay (the one-step output offset the NIR paper observed, §5).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar, Literal

import numpy as np

NeuronModel = Literal[
    "spike_list", "lif", "lif_no_delay", "lif_curr_exp", "lif_curr_exp_no_delay", "lif_conv2d"
]
NEURON_MODELS: tuple[str, ...] = (
    "spike_list", "lif", "lif_no_delay", "lif_curr_exp", "lif_curr_exp_no_delay", "lif_conv2d",
)
#: models with the 16-bit weight|delay|type|index synapse word (spinnaker2.md §3.2)
DELAY_MODELS: frozenset[str] = frozenset({"lif", "lif_curr_exp"})
#: models with separate excitatory / inhibitory synaptic currents (§3.1)
CURR_EXP_MODELS: frozenset[str] = frozenset({"lif_curr_exp", "lif_curr_exp_no_delay"})
RESET_MODES: tuple[str, ...] = ("reset_by_subtraction", "reset_to_v_reset")
RECORDABLE: tuple[str, ...] = ("spikes", "v", "v_last", "time_done", "n_packets")
PROJECTION_KINDS: tuple[str, ...] = ("dense", "sparse", "conv2d")
DVFS_MODES: tuple[str, ...] = ("high", "low", "auto")


def _f32(value: float | np.ndarray) -> np.ndarray:
    array = np.array(value, dtype=np.float32, copy=True)
    array.setflags(write=False)
    return array


def _int(value: int | np.ndarray) -> np.ndarray:
    raw = np.asarray(value)
    if raw.dtype.kind == "f" and not np.array_equal(raw, np.round(raw)):
        raise ValueError("weights, delays and indices must be integers (quantize first)")
    array = np.array(raw, dtype=np.int64, copy=True)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class NeuronParams:
    """float32 parameters, each a scalar (shared) or one value per neuron."""

    threshold: np.ndarray
    alpha_decay: np.ndarray
    i_offset: np.ndarray = field(default_factory=lambda: _f32(0.0))
    v_reset: np.ndarray = field(default_factory=lambda: _f32(0.0))
    reset: str = "reset_by_subtraction"
    #: synaptic current decays, used only by the ``lif_curr_exp*`` models
    exc_decay: np.ndarray = field(default_factory=lambda: _f32(0.0))
    inh_decay: np.ndarray = field(default_factory=lambda: _f32(0.0))
    #: refractory steps, ``lif_curr_exp*`` only
    t_refrac: int = 0

    FLOAT_FIELDS: ClassVar[tuple[str, ...]] = ("threshold", "alpha_decay", "i_offset", "v_reset", "exc_decay", "inh_decay")

    def __post_init__(self) -> None:
        for name in self.FLOAT_FIELDS:
            object.__setattr__(self, name, _f32(getattr(self, name)))

    def per_neuron(self, name: str, size: int) -> np.ndarray:
        """Field ``name`` broadcast to ``size`` neurons (float32)."""
        return np.broadcast_to(getattr(self, name), (size,)).astype(np.float32)


@dataclass(frozen=True, eq=False)
class Population:
    name: str
    size: int
    neuron_model: str
    #: None for ``spike_list`` (its spikes are run-time input)
    params: NeuronParams | None = None
    record: tuple[str, ...] = ()
    max_atoms_per_core: int = 256
    #: hardware voltage = v_scale * model voltage
    v_scale: float = 1.0
    #: CHW shape of the neurons when a conv2d projection reads or writes them
    shape: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "record", tuple(self.record))
        if self.shape is not None:
            object.__setattr__(self, "shape", tuple(int(s) for s in self.shape))

    @property
    def n_cores(self) -> int:
        return -(-self.size // max(self.max_atoms_per_core, 1))

    def slices(self) -> list[tuple[int, int]]:
        """[start, stop) neuron ranges, one per PE, as set_max_atoms_per_core splits them."""
        step = max(self.max_atoms_per_core, 1)
        return [(s, min(s + step, self.size)) for s in range(0, self.size, step)]


@dataclass(frozen=True)
class Conv2DParams:
    """Geometry of a ``snn.Conv2DProjection`` (keys as in s2_nir's conv_params).

    ``*_x`` is the horizontal (width) axis, ``*_y`` the vertical (height) axis; the
    sum-pooling by ``pool_y x pool_x`` is applied to the input before the convolution.
    """

    in_channels: int
    in_height: int
    in_width: int
    stride_x: int = 1
    stride_y: int = 1
    pool_x: int = 1
    pool_y: int = 1
    pad_top: int = 0
    pad_bottom: int = 0
    pad_left: int = 0
    pad_right: int = 0

    def output_hw(self, kernel_h: int, kernel_w: int) -> tuple[int, int]:
        h = self.in_height // self.pool_y + self.pad_top + self.pad_bottom
        w = self.in_width // self.pool_x + self.pad_left + self.pad_right
        return (h - kernel_h) // self.stride_y + 1, (w - kernel_w) // self.stride_x + 1

    def as_s2_dict(self) -> dict[str, int]:
        return {k: int(v) for k, v in self.__dict__.items() if k != "in_channels"}


@dataclass(frozen=True, eq=False)
class Projection:
    """Integer synapses from ``pre`` to ``post``.

    - ``dense``: ``weights[n_pre, n_post]``; zero entries are absent synapses;
      ``delays`` scalar or the same shape.
    - ``sparse``: per-synapse ``pre_idx``, ``post_idx``, ``weights``, ``delays``.
    - ``conv2d``: ``weights[C_in, C_out, kH, kW]`` (py-spinnaker2 layout, NIR's
      ``(C_out, C_in, kH, kW)`` with axes 0 and 1 swapped), no delays.
    """

    name: str
    pre: str
    post: str
    kind: str
    weights: np.ndarray
    weight_scale: float = 1.0
    delays: np.ndarray = field(default_factory=lambda: _int(0))
    pre_idx: np.ndarray | None = None
    post_idx: np.ndarray | None = None
    conv: Conv2DParams | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", _int(self.weights))
        object.__setattr__(self, "delays", _int(self.delays))
        for name in ("pre_idx", "post_idx"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, _int(getattr(self, name)))

    def connection_list(self) -> np.ndarray:
        """``[n_syn, 4]`` rows ``[pre, post, weight, delay]`` (dense zeros dropped), read-only.
        Computed once: DTCM sizing, validation and the emulator all read it."""
        return self._connection_list

    @cached_property
    def _connection_list(self) -> np.ndarray:
        if self.kind == "sparse":
            if self.pre_idx is None or self.post_idx is None:
                raise ValueError(f"sparse projection '{self.name}' needs pre_idx and post_idx")
            pre, post, weights = self.pre_idx, self.post_idx, self.weights
            delays = np.broadcast_to(self.delays, self.weights.shape)
        elif self.kind == "dense":
            pre, post = np.nonzero(self.weights)
            weights = self.weights[pre, post]
            delays = np.broadcast_to(self.delays, self.weights.shape)[pre, post]
        else:
            raise ValueError(f"projection '{self.name}' of kind {self.kind} has no connection list")
        connections = np.stack([pre, post, weights, delays], axis=1)
        connections.setflags(write=False)
        return connections


@dataclass(frozen=True)
class RunOptions:
    timesteps: int
    sys_tick_in_s: float = 1e-3
    #: "high" = PL 0.8 V / 300 MHz, "low" = 0.5 V / 150 MHz, "auto" = start low and
    #: switch a PE to high above ``pl_threshold`` events in a step (spinnaker2.md §1, §3)
    dvfs: str = "high"
    pl_threshold: int | None = None


@dataclass(frozen=True, eq=False)
class NetSpec:
    name: str
    populations: tuple[Population, ...]
    projections: tuple[Projection, ...]
    run: RunOptions

    def __post_init__(self) -> None:
        object.__setattr__(self, "populations", tuple(self.populations))
        object.__setattr__(self, "projections", tuple(self.projections))

    def population(self, name: str) -> Population:
        for pop in self.populations:
            if pop.name == name:
                return pop
        raise KeyError(name)

    def pe_layout(self) -> list[tuple[str, int, int]]:
        """Global PE order: ``(population, start, stop)`` per PE, populations in order."""
        return [(p.name, s, e) for p in self.populations for s, e in p.slices()]
