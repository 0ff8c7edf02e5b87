"""Check a :class:`NetSpec` against SpiNNaker 2 limits, reporting every violation at once.

Codes (SNN44x = SpiNNaker 2 target limits):

- SNN441 weight outside the synapse format's range
- SNN442 delay outside 0..7, or non-zero on a model without delays
- SNN443 more than 256 neurons per PE on a delay model (8-bit index)
- SNN444 PE DTCM budget exceeded (synapse rows + neuron state + recording x steps)
- SNN445 router table entries per chip exceeded
- SNN446 more PEs than the chips provide
- SNN447 malformed or unsupported netlist (unknown names, models, shapes)
- SNN448 incoming projections of one population with different weight scales
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snncc.diagnostics import Diagnostic, SnnccError

from .limits import SpiNNaker2Limits
from .memory import pe_memory, router_entries_per_chip
from .netspec import (
    DELAY_MODELS, DVFS_MODES, NEURON_MODELS, PROJECTION_KINDS, RECORDABLE, RESET_MODES, NetSpec,
    NeuronParams, Population, Projection,
)


@dataclass(frozen=True)
class Violation:
    code: str
    layer: str
    message: str
    measured: float | int | str | None = None
    limit: float | int | str | None = None
    hint: str | None = None

    def to_diagnostic(self) -> Diagnostic:
        detail = "" if self.measured is None else f" (measured {self.measured}, limit {self.limit})"
        return Diagnostic(self.code, self.message + detail, node=self.layer, hint=self.hint)


def _check_population(pop: Population, out: list[Violation], lim: SpiNNaker2Limits) -> None:
    bad = lambda msg, hint=None: out.append(Violation("SNN447", pop.name, msg, hint=hint))  # noqa
    if pop.neuron_model not in NEURON_MODELS:
        bad(f"unknown neuron model '{pop.neuron_model}'", f"use one of {', '.join(NEURON_MODELS)}")
    if pop.size < 1 or pop.max_atoms_per_core < 1:
        bad(f"size {pop.size} and max_atoms_per_core {pop.max_atoms_per_core} must be >= 1")
    for rec in pop.record:
        if rec not in RECORDABLE:
            bad(f"cannot record '{rec}'", f"recordable: {', '.join(RECORDABLE)}")
    if pop.neuron_model == "spike_list":
        return
    if pop.params is None:
        bad(f"{pop.neuron_model} population has no neuron parameters")
        return
    if pop.params.reset not in RESET_MODES:
        bad(f"unknown reset '{pop.params.reset}'", f"use one of {', '.join(RESET_MODES)}")
    for name in NeuronParams.FLOAT_FIELDS:
        size = getattr(pop.params, name).size
        if size not in (1, pop.size):
            bad(f"parameter {name} has {size} values for {pop.size} neurons",
                "give one shared value or one per neuron")
    if pop.neuron_model in DELAY_MODELS and pop.max_atoms_per_core > lim.neurons_per_pe_delay:
        per_pe = min(pop.size, pop.max_atoms_per_core)
        if per_pe > lim.neurons_per_pe_delay:
            out.append(Violation(
                "SNN443", pop.name, f"{pop.neuron_model} puts too many neurons on one PE",
                per_pe, lim.neurons_per_pe_delay,
                "set max_atoms_per_core <= 256: the synapse word has an 8-bit target index"))


def _check_structure(spec: NetSpec, proj: Projection, out: list[Violation]) -> bool:
    """Names, kinds and shapes; False when the projection is too broken to check further."""
    names = {p.name: p for p in spec.populations}
    bad = lambda msg, hint=None: out.append(Violation("SNN447", proj.name, msg, hint=hint))  # noqa
    if proj.pre not in names or proj.post not in names:
        bad(f"connects unknown population(s) {proj.pre!r} -> {proj.post!r}")
        return False
    pre, post = names[proj.pre], names[proj.post]
    if post.neuron_model == "spike_list":
        bad(f"targets spike_list population '{post.name}'", "spike sources take no synapses")
        return False
    if proj.kind not in PROJECTION_KINDS:
        bad(f"unknown projection kind '{proj.kind}'")
        return False
    if proj.kind == "dense" and proj.weights.shape != (pre.size, post.size):
        bad(f"dense weights {proj.weights.shape} do not match ({pre.size}, {post.size})")
        return False
    if proj.kind == "sparse":
        if proj.pre_idx is None or proj.post_idx is None or not (
                proj.pre_idx.shape == proj.post_idx.shape == proj.weights.shape):
            bad("sparse projection needs pre_idx, post_idx, weights of one length")
            return False
        if proj.pre_idx.size and (proj.pre_idx.min() < 0 or proj.pre_idx.max() >= pre.size
                                  or proj.post_idx.min() < 0 or proj.post_idx.max() >= post.size):
            bad("sparse indices fall outside the populations")
            return False
    if proj.kind in ("dense", "sparse") and proj.delays.ndim and \
            proj.delays.shape != proj.weights.shape:
        bad(f"delays {proj.delays.shape} do not match weights {proj.weights.shape}")
        return False
    if proj.kind == "conv2d":
        conv = proj.conv
        if conv is None or proj.weights.ndim != 4 or post.neuron_model != "lif_conv2d":
            bad("conv2d needs conv params, weights [C_in, C_out, kH, kW] and a lif_conv2d target",
                "Conv2DProjection only feeds lif_conv2d (spinnaker2.md §5)")
            return False
        c_in, c_out, kh, kw = proj.weights.shape
        ho, wo = conv.output_hw(kh, kw)
        if c_in != conv.in_channels or pre.size != c_in * conv.in_height * conv.in_width \
                or post.size != c_out * ho * wo:
            bad(f"conv shapes disagree: pre {pre.size} vs {c_in}x{conv.in_height}x"
                f"{conv.in_width}, post {post.size} vs {c_out}x{ho}x{wo}")
            return False
    return True


def _check_synapses(spec: NetSpec, proj: Projection, out: list[Violation],
                    lim: SpiNNaker2Limits) -> None:
    post = spec.population(proj.post)
    limit = lim.weight_limit(post.neuron_model)
    over = np.abs(proj.weights) > limit
    if over.any():
        fmt = "4-bit weight | 3-bit delay" if post.neuron_model in DELAY_MODELS else "int8"
        out.append(Violation(
            "SNN441", proj.name,
            f"{int(over.sum())} weight(s) outside ±{limit} for {post.neuron_model} ({fmt} synapses)",
            int(np.abs(proj.weights).max()), limit,
            "quantize to the format's range (smaller weight scale) or use a *_no_delay model "
            "for int8 weights"))
    delays = proj.delays
    if post.neuron_model in DELAY_MODELS:
        if delays.size and (delays.min() < 0 or delays.max() > lim.delay_max):
            worst = int(delays.max()) if delays.max() > lim.delay_max else int(delays.min())
            out.append(Violation(
                "SNN442", proj.name, f"delay outside 0..{lim.delay_max} steps", worst,
                f"0..{lim.delay_max}", "split long delays into relay populations"))
    elif delays.size and np.any(delays != 0):
        out.append(Violation(
            "SNN442", proj.name, f"{post.neuron_model} has no synaptic delays",
            int(np.abs(delays).max()), 0, "use the delay model (lif, lif_curr_exp)"))


def find_violations(spec: NetSpec, limits: SpiNNaker2Limits | None = None) -> list[Violation]:
    """Every limit violation of ``spec`` (empty when it fits)."""
    lim = limits or SpiNNaker2Limits()
    out: list[Violation] = []
    seen: set[str] = set()
    for pop in spec.populations:
        if pop.name in seen:
            out.append(Violation("SNN447", pop.name, "duplicate population name"))
        seen.add(pop.name)
        _check_population(pop, out, lim)
    if spec.run.timesteps < 1 or spec.run.dvfs not in DVFS_MODES:
        out.append(Violation("SNN447", spec.name, f"run options: timesteps "
                             f"{spec.run.timesteps}, dvfs '{spec.run.dvfs}'",
                             hint=f"timesteps >= 1, dvfs in {DVFS_MODES}"))
    well_formed = [j for j in spec.projections if _check_structure(spec, j, out)]
    for proj in well_formed:
        _check_synapses(spec, proj, out, lim)
    scales: dict[str, set[float]] = {}
    for proj in well_formed:
        scales.setdefault(proj.post, set()).add(float(proj.weight_scale))
    for post, found in scales.items():
        if len(found) > 1:
            out.append(Violation(
                "SNN448", post, "incoming projections use different weight scales",
                ", ".join(f"{s:.6g}" for s in sorted(found)), "one",
                "the neuron adds raw integers: requantize with one scale per target population"))
    if any(v.code == "SNN447" for v in out):
        return out  # memory and routing need a well-formed netlist
    total_pes = sum(p.n_cores for p in spec.populations)
    if total_pes > lim.max_pes:
        out.append(Violation("SNN446", spec.name, "network needs more PEs than available",
                             total_pes, lim.max_pes, "raise max_atoms_per_core or use more chips"))
    for mem in pe_memory(spec, lim):
        if mem.total_bytes > lim.dtcm_bytes:
            out.append(Violation(
                "SNN444", mem.population,
                f"PE {mem.pe} (neurons {mem.start}..{mem.stop - 1}) exceeds DTCM: synapses "
                f"{mem.synapse_bytes} B, neurons {mem.neuron_bytes} B, recording "
                f"{mem.recording_bytes} B over {spec.run.timesteps} steps, fixed "
                f"{mem.fixed_bytes} B", mem.total_bytes, lim.dtcm_bytes,
                "record fewer variables or steps, or lower max_atoms_per_core"))
    for chip, entries in enumerate(router_entries_per_chip(spec, lim)):
        if entries > lim.router_entries_per_chip:
            out.append(Violation("SNN445", spec.name, f"chip {chip} needs too many router entries",
                                 entries, lim.router_entries_per_chip,
                                 "use larger slices so fewer source PEs need keys"))
    return out


def validate(spec: NetSpec, limits: SpiNNaker2Limits | None = None) -> list[Diagnostic]:
    """All violations as diagnostics (empty list when the network fits)."""
    return [v.to_diagnostic() for v in find_violations(spec, limits)]


def check(spec: NetSpec, limits: SpiNNaker2Limits | None = None) -> None:
    """Raise :class:`SnnccError` carrying every violation, if any."""
    diagnostics = validate(spec, limits)
    if diagnostics:
        raise SnnccError(diagnostics)
