"""The ``spinnaker2`` target: capabilities, default pipeline, emitter and backends.

Imports nothing heavy at module level (the registry imports every target to list them).
"""
from __future__ import annotations

from dataclasses import dataclass

from snncc.diagnostics import Severity, SnnccError
from snncc.ir import Comparator, Graph, ResetMode
from snncc.target import Capabilities, Target

from .limits import DEFAULT_TIMESTEPS, SpiNNaker2Limits

_LIMITS = SpiNNaker2Limits()


@dataclass(frozen=True)
class SpiNNaker2Target(Target):
    def emit(self, graph: Graph, out_dir: str, context) -> list[str]:
        from .emit import ARRAYS, NETLIST, RUNNER_FILE, emit
        from .lower import lower
        from .validate import validate

        lowered = lower(graph)
        errors = [d for d in lowered.problems if d.severity is Severity.ERROR]
        if errors:  # with every limit violation too, before anything is written
            raise SnnccError(errors + validate(lowered.spec))
        emit(lowered.spec, out_dir)  # validates first: every violation at once, nothing written
        if context is not None:  # the manifest's reports (written after emit) carry the notes
            notes = [d for d in lowered.problems if d.severity is not Severity.ERROR]
            context.notes.extend(notes)
            context.reports["spinnaker2"] = {**lowered.report, "notes": [d.render() for d in notes]}
        return [f"spinnaker2/{name}" for name in (NETLIST, ARRAYS, RUNNER_FILE)]


CAPABILITIES = Capabilities(
    name="spinnaker2",
    cores_per_chip=_LIMITS.pes_per_chip,
    chips=_LIMITS.n_chips,
    neurons_per_core=_LIMITS.neurons_per_pe_delay,
    synaptic_memory_bytes_per_core=_LIMITS.dtcm_bytes,
    # int8 synapses of the *_no_delay and conv models; the delay models' 16-bit word has a
    # 4-bit magnitude (extra["weight_bits_with_delays"]), spinnaker2.md §3.2
    weight_bits=8,
    state_bits=None,  # float32 neuron state and parameters on the Cortex-M4F FPU
    threshold_granularity="neuron",
    comparators=(Comparator.GT, Comparator.GE),
    reset_modes=(ResetMode.SUBTRACT, ResetMode.VALUE),
    delay_range=(0, _LIMITS.delay_max),
    neuron_kinds=("LIF", "CubaLIF", "IF", "LI", "CubaLI", "I"),
    extra={
        "decay_format": "float32",
        "resource_model": "spinnaker2",
        "weight_bits_with_delays": 4,
        # weights are symmetric: int8 [-127, 127]; delay models sign + 4-bit magnitude ±15
        "weight_max": _LIMITS.int8_weight_max,
        "weight_max_with_delays": _LIMITS.delay_weight_max,
        "synaptic_latency_steps": 1,
        # map-cores budgets the same spike recording lower.py emits (Output layers)
        "resource_overrides": {"recording_steps": DEFAULT_TIMESTEPS},
        "energy_table": "spinnaker2",
    },
)

TARGET = SpiNNaker2Target(
    name="spinnaker2",
    capabilities=CAPABILITIES,
    default_pipeline="fold-batchnorm,fold-mpbn,simplify,discretize,quantize,prune,map-cores",
    description="SpiNNaker 2 via py-spinnaker2 (netlist + generated runner), PE-level emulator",
    backends={"spinnaker2-emu": "snncc.targets.spinnaker2.backends:run_emulator"},
)
