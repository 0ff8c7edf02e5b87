"""Energy cost tables: data with provenance, one JSON file per table.

Every constant carries ``value``, ``unit`` (SI: J, s, W, Hz, J/bit, cycles, count, V),
``source`` and ``confidence`` (``measured`` / ``published`` / ``estimate``). Built-in
tables live in :mod:`snncc.energy.data` (``loihi2.json`` ...); a user table is any
JSON file of the same form (``--energy-table FILE``). A table names the ``model`` that
reads it (see :mod:`snncc.energy.models`), which fixes the constants it must provide.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Mapping

from snncc.diagnostics import Diagnostic, SnnccError

CONFIDENCE = ("measured", "published", "estimate")

#: target name -> built-in table file (the reference target gets the generic estimate)
DEFAULT_TABLE = {"loihi2": "loihi2", "spinnaker2": "spinnaker2", "fpga": "fpga", "reference": "generic45nm"}
BUILTIN = ("loihi2", "loihi1", "spinnaker2", "fpga", "generic45nm", "ann45nm")

#: per model: required constants and their units; optional ones cost nothing when absent
_E, _T = "J", "s"
REQUIRED: dict[str, dict[str, str]] = {
    "loihi": {"e_synop": _E, "e_neuron_active": _E, "e_neuron_idle": _E, "t_synop": _T,
              "t_neuron_active": _T, "t_neuron_idle": _T, "p_static_core": "W"},
    "spinnaker2": {"c_tick_overhead": "cycles", "c_neuron": "cycles", "c_packet_in": "cycles",
                   "c_synop": "cycles", "c_packet_out": "cycles", "clock_hz_high": "Hz",
                   "clock_hz_low": "Hz", "p_pe_active_high": "W", "p_pe_active_low": "W",
                   "p_static_core": "W", "sys_tick": _T},
    "fpga": {"e_synop": _E, "p_static_device": "W", "f_clk": "Hz", "sops_per_cycle": "count",
             "updates_per_cycle": "count", "engine_overhead_cycles": "cycles"},
    "generic": {"e_synop": _E, "e_neuron_active": _E, "e_neuron_idle": _E},
    "ann": {"e_mult_int8": _E, "e_add_int8": _E, "e_mult_int32": _E, "e_add_int32": _E,
            "e_mult_fp32": _E, "e_add_fp32": _E, "e_mem_bit": "J/bit"},
}
OPTIONAL: dict[str, dict[str, str]] = {
    "loihi": {"e_synop_mac": _E, "e_spike_out": _E, "e_message_out": _E, "e_hop_ew": _E, "e_hop_ns": _E,
              "t_spike_out": _T, "t_message_out": _T, "t_barrier_1_tile": _T, "t_barrier_per_extra_tile": _T,
              "e_mem_bit_read": "J/bit", "e_mem_bit_write": "J/bit", "cores_per_tile": "count",
              "mesh_columns": "count"},
    "spinnaker2": {"c_neuron_curr_exp": "cycles", "voltage_high": "V", "voltage_low": "V",
                   "pes_per_router": "count", "mesh_columns": "count"},
    "fpga": {"e_neuron_update": _E, "e_synop_mac": _E, "e_spike_out": _E},
    "generic": {"e_synop_mac": _E, "e_mem_bit_read": "J/bit", "e_mem_bit_write": "J/bit", "p_static_core": "W"},
    "ann": {},
}


@dataclass(frozen=True)
class Constant:
    name: str
    value: float
    unit: str
    source: str
    confidence: str
    notes: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = {"value": self.value, "unit": self.unit, "source": self.source, "confidence": self.confidence}
        return {**out, "notes": self.notes} if self.notes else out


@dataclass(frozen=True)
class CostTable:
    id: str
    model: str
    target: str
    description: str
    constants: Mapping[str, Constant]
    calibration: Mapping[str, Constant] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    #: sha256 of the file's bytes, so a report names exactly which table it used
    sha256: str = ""
    origin: str = ""

    def value(self, name: str, default: float = 0.0) -> float:
        constant = self.constants.get(name)
        return float(constant.value) if constant is not None else default

    def has(self, name: str) -> bool:
        return name in self.constants

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "model": self.model, "target": self.target, "description": self.description,
            "sha256": self.sha256, "origin": self.origin, "settings": dict(self.settings),
            "constants": {k: c.to_dict() for k, c in sorted(self.constants.items())},
            "calibration": {k: c.to_dict() for k, c in sorted(self.calibration.items())},
        }


def _constants(section: Any, where: str, problems: list[Diagnostic], file: str) -> dict[str, Constant]:
    if section is None:
        return {}
    if not isinstance(section, Mapping):
        problems.append(Diagnostic("SNN701", f"'{where}' must be an object of constants", file=file))
        return {}
    out = {}
    for name, entry in section.items():
        if not isinstance(entry, Mapping):
            problems.append(Diagnostic("SNN701", f"{where}.{name} must be an object with value, unit, source, confidence", file=file))
            continue
        missing = [k for k in ("value", "unit", "source", "confidence") if k not in entry]
        if missing:
            problems.append(Diagnostic("SNN701", f"{where}.{name} lacks {', '.join(missing)}", file=file,
                                       hint="every constant needs its value, unit, source and confidence"))
            continue
        value = entry["value"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            problems.append(Diagnostic("SNN701", f"{where}.{name}: value must be a non-negative number, got {value!r}", file=file))
            continue
        if entry["confidence"] not in CONFIDENCE:
            problems.append(Diagnostic("SNN701", f"{where}.{name}: confidence '{entry['confidence']}' is not one of {', '.join(CONFIDENCE)}", file=file))
            continue
        if not str(entry["source"]).strip():
            problems.append(Diagnostic("SNN701", f"{where}.{name}: empty source", file=file, hint="say where the number comes from"))
            continue
        out[name] = Constant(name, value, str(entry["unit"]), str(entry["source"]), entry["confidence"], str(entry.get("notes", "")))
    return out


def parse_table(data: Any, file: str = "<table>", sha256: str = "") -> CostTable:
    """Validate ``data`` (the JSON object) and build a table; SNN701 lists every problem."""
    problems: list[Diagnostic] = []
    if not isinstance(data, Mapping):
        raise SnnccError.single("SNN701", "an energy table must be a JSON object", file=file)
    model = data.get("model")
    if model not in REQUIRED:
        problems.append(Diagnostic("SNN701", f"unknown model {model!r}", file=file, hint=f"one of {', '.join(REQUIRED)}"))
    for key in ("id", "constants"):
        if key not in data:
            problems.append(Diagnostic("SNN701", f"missing '{key}'", file=file))
    constants = _constants(data.get("constants"), "constants", problems, file)
    calibration = _constants(data.get("calibration"), "calibration", problems, file)
    if model in REQUIRED:
        units = {**REQUIRED[model], **OPTIONAL[model]}
        for name in REQUIRED[model]:
            if name not in constants and not any(p.message.startswith(f"constants.{name}") for p in problems):
                problems.append(Diagnostic("SNN701", f"model '{model}' needs constant '{name}' ({units[name]})", file=file))
        for name, constant in constants.items():
            if name in units and constant.unit != units[name]:
                problems.append(Diagnostic("SNN701", f"constants.{name}: unit '{constant.unit}', expected '{units[name]}'", file=file))
    if problems:
        raise SnnccError(problems)
    return CostTable(str(data["id"]), model, str(data.get("target", "any")), str(data.get("description", "")),
                     constants, calibration, dict(data.get("settings", {})), sha256, file)


def load_table(name_or_path: str) -> CostTable:
    """A built-in table by name (``loihi2``) or a JSON file by path."""
    if name_or_path in BUILTIN:
        raw = resources.files("snncc.energy.data").joinpath(f"{name_or_path}.json").read_bytes()
        origin = f"builtin:{name_or_path}"
    else:
        if not os.path.isfile(name_or_path):
            raise SnnccError.single("SNN701", "energy table not found", file=name_or_path,
                                    hint=f"a JSON file or a built-in table: {', '.join(BUILTIN)}")
        with open(name_or_path, "rb") as handle:
            raw = handle.read()
        origin = os.path.basename(name_or_path)
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnnccError.single("SNN701", f"energy table is not valid JSON: {exc}", file=name_or_path) from None
    table = parse_table(data, file=name_or_path, sha256=hashlib.sha256(raw).hexdigest())
    return dataclasses.replace(table, origin=origin)


def table_for_target(target: str, override: str | None = None) -> CostTable:
    """The table a report for ``target`` uses: ``override`` if given, else the target's default."""
    if override:
        return load_table(override)
    return load_table(DEFAULT_TABLE.get(target, "generic45nm"))
