"""Energy per inference from the cycle simulator's counts (an estimate, fpga.md §4):

    E = N_SOP * e_SOP + N_update * e_update + P_static * cycles / f_clk

Defaults come from snncc's FPGA cost table (snncc/energy/data/fpga.json, each constant
with its source): e_SOP = 31 pJ, the system-level figure of ESSA (Kuang et al., TVLSI
2022, 32.1 GSOP/W) on a Kintex UltraScale; Corradi et al. 2021 report 151 pJ/SOP (use as
the pessimistic bound); P_static = 0.11 W at 100 MHz, the low end of the edge Artix-7 /
Zynq-7000 range (0.11-0.43 W) in /work/shared/reference/fpga.md §4. System-level pJ/SOP
figures already include neuron updates, so e_update defaults to 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .golden import SimResult


def _table_value(name: str) -> float:
    from snncc.energy.tables import load_table

    return load_table("fpga").value(name)


@dataclass(frozen=True)
class EnergyModel:
    e_sop_pj: float = round(_table_value("e_synop") * 1e12, 9)  # J -> pJ without float noise
    e_update_pj: float = round(_table_value("e_neuron_update") * 1e12, 9)
    p_static_w: float = _table_value("p_static_device")
    f_clk_hz: float = _table_value("f_clk")


@dataclass(frozen=True, eq=False)
class EnergyReport:
    dynamic_uj: np.ndarray  # [B] per inference
    static_uj: np.ndarray   # [B]
    latency_us: np.ndarray  # [B]

    @property
    def total_uj(self) -> np.ndarray:
        return self.dynamic_uj + self.static_uj


def estimate_energy(result: SimResult, model: EnergyModel = EnergyModel()) -> EnergyReport:
    if result.counters is None or result.cycles is None:
        raise ValueError("energy needs the cycle simulator's counters and cycles")
    sops = result.counters["sops"].sum(axis=(1, 2))
    updates = result.counters["neuron_updates"].sum(axis=(1, 2))
    dyn = (sops * model.e_sop_pj + updates * model.e_update_pj) * 1e-6
    seconds = result.cycles.sum(axis=1) / model.f_clk_hz
    return EnergyReport(dyn, model.p_static_w * seconds * 1e6, seconds * 1e6)
