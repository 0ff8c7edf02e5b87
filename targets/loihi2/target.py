"""The ``loihi2`` target: capabilities, default pipeline, emitter and backends.

Importing this never imports Lava: the "hw" backend is listed only when Intel's Loihi
extension (the NeuroCore compiler Lava imports behind a guard) is on the path, which
is checked by looking for its file, on first access of ``TARGET.backends``.
"""
from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Iterator

from snncc.ir import Comparator, Graph, ResetMode
from snncc.target import Capabilities, Target

__all__ = ["Loihi2Target", "TARGET", "CAPABILITIES", "hardware_available"]

_BACKENDS = "snncc.targets.loihi2.backends"

CAPABILITIES = Capabilities(
    name="loihi2",
    cores_per_chip=120,          # Lava's mapper: NUM_VIRTUAL_CORES_L3 (loihi2.md 2.2)
    chips=1,                     # the public Lava mapper has no multi-chip support
    neurons_per_core=8192,       # upper bound per core (loihi2.md 2.2)
    synaptic_memory_bytes_per_core=128 * 1024,  # "flexibly partitioned", unverified
    weight_bits=8,
    state_bits=24,               # u, v are 24-bit; v saturates, u wraps
    threshold_granularity="process",
    comparators=(Comparator.GT,),
    reset_modes=(ResetMode.VALUE,),  # to v = 0 only
    delay_range=(0, 62),
    neuron_kinds=("LIF", "CubaLIF", "IF"),
    extra={
        "decay_format": {"kind": "fraction", "bits": 12},
        "weight_exp_range": (0, 7),      # negative exponents floor the sum: not exact
        "weight_mixed_sign_lsb": True,   # Lava drops the LSB of mixed-sign weights
        "synaptic_latency_steps": 1,
        "threshold_bits": 17,            # vth mantissa, unsigned
        "positive_threshold": True,      # Lava's vth is unsigned ...
        "threshold_offsets": True,       # ... but LIF/IF membranes are shifted per neuron (offsets.py)
        "threshold_offset_max": 255 << 7,  # reset correction: an 8-bit self weight << weight_exp 7
        "v_reset": 0.0,
        "bias_mant_bits": 13, "bias_exp_range": (0, 7),
        "state_frac_bits": 6,            # Lava v = 64 * integer state
        "resource_model": "loihi2",
    },
)


def hardware_available() -> bool:
    """True when Lava's NeuroCore compiler (Intel's Loihi extension) is installed."""
    spec = importlib.util.find_spec("lava")
    for root in (spec.submodule_search_locations or []) if spec else []:
        folder = os.path.join(root, "magma", "compiler", "subcompilers", "nc")
        if os.path.isdir(folder) and any(f.startswith("ncproc_compiler") for f in os.listdir(folder)):
            return True
    return False


class _Backends(Mapping):
    """golden and lava always; hw only with the Loihi extension (checked lazily)."""

    def __init__(self) -> None:
        self._table: dict[str, str] | None = None

    def _get(self) -> dict[str, str]:
        if self._table is None:
            table = {"golden": f"{_BACKENDS}:run_golden", "lava": f"{_BACKENDS}:run_lava"}
            if hardware_available():
                table["hw"] = f"{_BACKENDS}:run_hw"
            self._table = table
        return self._table

    def __getitem__(self, key: str) -> str:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


@dataclass(frozen=True)
class Loihi2Target(Target):
    def emit(self, graph: Graph, out_dir: str, context: Any) -> list[str]:
        from snncc.targets.loihi2.emit import emit

        caps = self.capabilities
        return emit(graph, out_dir, context, caps.neurons_per_core, caps.cores_per_chip)


TARGET = Loihi2Target(
    name="loihi2",
    capabilities=CAPABILITIES,
    default_pipeline="fold-batchnorm,fold-mpbn,simplify,discretize,quantize,prune,map-cores",
    description="Intel Loihi 2 via Lava: LIF processes, Dense/Sparse/DelayDense synapses, 8-bit weights",
    backends=_Backends(),
)
