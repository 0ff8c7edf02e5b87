"""Resource models: what one core, one chip and one system of a target hold.

Plain frozen dataclasses keyed by name. A target names its model in
``Capabilities.extra["resource_model"]``; ``Capabilities.extra["resource_overrides"]``
and the map-cores pass options override single fields (e.g. ``chips``).

Every constant names its source. Section numbers refer to the notes in
``/work/shared/reference/`` (loihi2.md, spinnaker2.md, fpga.md); tags as there:
[P] primary source, [T] paper via transcription, [S] secondary, [D] derived,
[CODE] read in source, [2ND] secondary notes, [INF]/[A] inferred or assumed (an
estimate to override when a measured value is known).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

from snncc.diagnostics import Diagnostic, SnnccError


@dataclass(frozen=True)
class ResourceModel:
    """Fields every model has. ``mesh_shape`` is the (columns, rows) grid of core slots on a
    chip, ``chip_grid`` the (columns, rows) grid of chips in the system."""

    name: str = ""
    cores_per_chip: int = 1
    mesh_shape: tuple[int, int] = (1, 1)
    chips: int = 1
    chip_grid: tuple[int, int] = (1, 1)
    #: chips joined by six links on a hexagonal grid (SpiNNaker) instead of four (mesh)
    hexagonal_chips: bool = False
    #: cost of one chip-to-chip link, in on-chip hops
    chip_link_cost: float = 1.0
    neurons_per_core: int = 1
    weight_bits: int = 8
    #: Input populations occupy cores (SpiNNaker spike sources) or arrive from the host
    inputs_on_cores: bool = False
    #: a projection that is one convolution stores its kernel once per core
    conv_weight_sharing: bool = False
    #: which routing tables to build: "axon" (Loihi), "multicast" (SpiNNaker), "stream" (FPGA)
    routing: str = "axon"

    @property
    def max_cores(self) -> int:
        return self.cores_per_chip * self.chips


@dataclass(frozen=True)
class Loihi2Model(ResourceModel):
    name: str = "loihi2"
    #: Lava's mapper: NUM_VIRTUAL_CORES_L3 = 120 per N3 chip (loihi2.md §2.2 [P]; 128 physical)
    cores_per_chip: int = 120
    #: [A] the physical layout of the usable cores is not public; 8 x 15 = 120 slots
    mesh_shape: tuple[int, int] = (8, 15)
    #: Kapoho Point = 8 chips (loihi2.md §2.2 [P] lava-dl; Lava's resources.py says 4)
    chips: int = 8
    #: [A] Kapoho Point board arrangement taken as 4 x 2
    chip_grid: tuple[int, int] = (4, 2)
    #: [A] an off-chip link costs like 8 on-chip hops (no public Loihi 2 figure, loihi2.md §7.3)
    chip_link_cost: float = 8.0
    #: <= 8192 neurons per core (loihi2.md §2.2 [S/D])
    neurons_per_core: int = 8192
    #: [D] the 8192 limit read as state memory for 2 words (u, v) per neuron (loihi2.md §2.2)
    state_words_per_core: int = 16384
    #: Lava's LIF keeps u and v for every variant (loihi2.md §3.1 [P]); per IR neuron kind
    state_words: Mapping[str, int] = field(default_factory=lambda: {
        "LIF": 2, "CubaLIF": 2, "IF": 2, "LI": 2, "CubaLI": 2, "I": 2})
    #: bytes per state word: u, v are 24-bit (loihi2.md §2.2 [P])
    state_word_bytes: int = 3
    #: synaptic memory per core: "128 KB flexibly partitioned" (loihi2.md §2.2 [S], unverified)
    synaptic_memory_bytes: int = 128 * 1024
    #: input axons per core: Loihi 1 Naxin = 4096 (loihi2.md §2.1 [T]); Loihi 2 not public [A]
    input_axons: int = 4096
    #: output axons per core: Loihi 1 Naxout = 4096 (loihi2.md §2.1 [T]); Loihi 2 not public [A]
    output_axons: int = 4096
    #: Lava num_weight_bits <= 8 (loihi2.md §2.2 [P])
    weight_bits: int = 8
    #: 6-bit delay field per synapse when a projection has delays (loihi2.md §2.2 [P])
    delay_bits: int = 6
    #: [D] sparse synapse entry: weight + target index, log2(8192) = 13 bits
    sparse_index_bits: int = 13
    #: [A] per input axon: the synapse-list pointer / length word
    axon_bytes: int = 4
    #: [D] PilotNet packs 2048 conv neurons per core (loihi2.md §2.2 [P]), impossible with
    #: expanded 8-bit synapses in 128 KB, so convolutions share their kernel
    conv_weight_sharing: bool = True
    routing: str = "axon"


@dataclass(frozen=True)
class SpiNNaker2Model(ResourceModel):
    """Also the source of the PE sizes the spinnaker2 target validates against
    (``targets/spinnaker2/limits.py`` reads them from here)."""

    name: str = "spinnaker2"
    #: 152 application PEs, 148 usable by py-spinnaker2 (spinnaker2.md §1 [CODE]/[2ND])
    cores_per_chip: int = 148
    #: [A] 37 usable QPEs of 4 PEs placed on an 8 x 5 grid; PEs of a QPE share a slot position
    mesh_shape: tuple[int, int] = (8, 5)
    pes_per_qpe: int = 4
    #: one 48-chip board (spinnaker2.md §1 [CODE] SpiNNMachine version_248)
    chips: int = 48
    #: [A] board layout taken as 8 x 6 chips
    chip_grid: tuple[int, int] = (8, 6)
    #: 6 links per chip, hexagonal mesh (spinnaker2.md §1 [2ND])
    hexagonal_chips: bool = True
    #: [A] a chip-to-chip link costs like 8 on-chip hops
    chip_link_cost: float = 8.0
    #: at most 256 neurons per PE: 8-bit target index of the synapse word (spinnaker2.md §3.2-3)
    neurons_per_core: int = 256
    #: DTCM per PE: 128 kB SRAM = 32 kB ITCM + 96 kB DTCM (spinnaker2.md §1 [CODE] NESTML qpe.ld)
    dtcm_bytes: int = 96 * 1024
    #: multicast router entries per chip (spinnaker2.md §1 [CODE] SpiNNMachine n_router_entries)
    router_entries: int = 16_384
    #: int8 weights (spinnaker2.md §3.2)
    weight_bits: int = 8
    # --- DTCM model (§3.3 lists the regions; sizes are [INF] unless noted)
    #: routing table, timer config, global params, MPT info, log region [INF]
    pe_fixed_bytes: int = 2048
    #: master population table entry per incoming source PE (key, mask, address) [INF]
    mpt_entry_bytes: int = 12
    #: synapse row header: 3 words (spinnaker2.md §3.2 [CODE])
    row_header_bytes: int = 12
    #: delay models: 16-bit word weight|delay|type|index (spinnaker2.md §3.2)
    delay_synapse_bytes: int = 2
    #: no-delay models: word format not verified, one 32-bit word assumed (§3.2 [INF])
    no_delay_synapse_bytes: int = 4
    #: lif_conv2d: conv_params block besides the int8 kernel held once per PE [INF]
    conv_params_bytes: int = 64
    #: float32 words per neuron: lif 5 (threshold, alpha, i_offset, v_reset, v), lif_curr_exp
    #: 10 (+ exc/inh decay, i_exc, i_inh, refractory counter) [INF from §3.1 params]
    state_words: Mapping[str, int] = field(default_factory=lambda: {
        "LIF": 5, "IF": 5, "LI": 5, "I": 5, "CubaLIF": 10, "CubaLI": 10})
    #: input ring: slots x exc/inh x one word per neuron [INF]; delay models have a slot per
    #: value of the 3-bit delay field (0..7, §3.2), no-delay models one
    ring_types: int = 2
    delay_slots: int = 8
    #: spike_list source: words per neuron for its spike-time index [INF]
    spike_list_words: int = 2
    #: steps of spike recording budgeted for layers that feed an Output (§3.3); 0 = none
    recording_steps: int = 0
    inputs_on_cores: bool = True
    #: lif_conv2d holds the int8 kernel once per PE (spinnaker2.md §3.2, §5)
    conv_weight_sharing: bool = True
    routing: str = "multicast"


@dataclass(frozen=True)
class FpgaModel(ResourceModel):
    """An engine per layer slice (fpga.md §1); engines form a pipeline on one device. Also the
    source of the engine defaults of the fpga target's ``LayerSpec`` (``targets/fpga/netspec.py``
    reads weight_bits, v_bits, acc_bits, pe and simd from here)."""

    name: str = "fpga"
    #: engines are limited by the device's resources, not by a slot count
    cores_per_chip: int = 4096
    mesh_shape: tuple[int, int] = (4096, 1)
    #: 16-bit neuron/event index in the FPGA target's config (targets/fpga emit index_bits)
    neurons_per_core: int = 1 << 16
    index_bits: int = 16
    #: the engines' default widths (weights, membrane, accumulator)
    weight_bits: int = 8
    v_bits: int = 16
    acc_bits: int = 24
    leak: str = "shift"
    #: folding is chosen later by the target; the mapper budgets the unfolded engines
    pe: int = 1
    simd: int = 1
    #: Zynq XC7Z020 (PYNQ-Z2, fpga.md §4): 140 BRAM36 = 280 BRAM_18K, 53,200 LUT,
    #: 106,400 FF, 220 DSP (Xilinx DS190 product table)
    device: str = "xc7z020"
    device_bram18: int = 280
    device_lut: int = 53_200
    device_ff: int = 106_400
    device_dsp: int = 220
    conv_weight_sharing: bool = True
    routing: str = "stream"


MODELS: dict[str, type[ResourceModel]] = {
    "loihi2": Loihi2Model, "spinnaker2": SpiNNaker2Model, "fpga": FpgaModel}


def resolve_model(name: str, *overrides: Mapping[str, Any] | None) -> ResourceModel:
    """The model ``name`` with ``overrides`` applied in order; SNN450 unknown model,
    SNN451 for every bad override (unknown field, wrong type, not positive)."""
    if name not in MODELS:
        raise SnnccError.single("SNN450", f"unknown resource model '{name}'",
                                hint=f"known: {', '.join(sorted(MODELS))}")
    cls = MODELS[name]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    defaults = cls()
    changes: dict[str, Any] = {}
    problems: list[Diagnostic] = []
    for mapping in overrides:
        for key, value in (mapping or {}).items():
            if key not in fields or key == "name":
                problems.append(Diagnostic(
                    "SNN451", f"resource model '{name}' has no field '{key}'",
                    hint="fields: " + ", ".join(sorted(k for k in fields if k != "name"))))
                continue
            converted = _convert(getattr(defaults, key), value)
            if converted is None:
                problems.append(Diagnostic(
                    "SNN451", f"resource override {key}={value!r} is not a valid "
                    f"{type(getattr(defaults, key)).__name__}",
                    hint=f"the default is {getattr(defaults, key)!r}; numbers must be positive"))
                continue
            changes[key] = converted
    if problems:
        raise SnnccError(problems)
    model = dataclasses.replace(defaults, **changes)
    if model.mesh_shape[0] * model.mesh_shape[1] * getattr(model, "pes_per_qpe", 1) < model.cores_per_chip:
        raise SnnccError.single("SNN451", f"mesh {model.mesh_shape} has fewer slots than "
                                f"cores_per_chip = {model.cores_per_chip}",
                                hint="override mesh_shape together with cores_per_chip")
    if model.chip_grid[0] * model.chip_grid[1] < model.chips:
        grid = (model.chips, 1)  # a longer board: keep the chips in one row
        model = dataclasses.replace(model, chip_grid=grid)
    return model


def _convert(default: Any, value: Any) -> Any:
    """``value`` as the type of ``default`` (strings from pipeline text allowed), or None."""
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                if value.lower() not in ("true", "false", "1", "0"):
                    return None
                return value.lower() in ("true", "1")
            return bool(value)
        if isinstance(default, int):
            number = int(value)
            return number if number > 0 or (number == 0 and default == 0) else None
        if isinstance(default, float):
            number = float(value)
            return number if number > 0 else None
        if isinstance(default, tuple):
            items = value.replace("x", " ").split() if isinstance(value, str) else list(value)
            result = tuple(int(v) for v in items)
            return result if len(result) == len(default) and min(result) > 0 else None
        if isinstance(default, str):
            return str(value)
        if isinstance(default, Mapping):
            return dict(default) | dict(value) if isinstance(value, Mapping) else None
    except (TypeError, ValueError):
        return None
    return None


def model_fields(model: ResourceModel) -> dict[str, Any]:
    """All fields as JSON-friendly values, for mapping.json."""
    out = {}
    for f in dataclasses.fields(model):
        value = getattr(model, f.name)
        out[f.name] = dict(value) if isinstance(value, Mapping) else (
            list(value) if isinstance(value, tuple) else value)
    return out
