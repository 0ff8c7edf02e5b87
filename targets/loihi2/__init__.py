"""Loihi 2 integer core: plain-data network spec, bit-exact golden simulator, Lava runner.

Importing this package never imports Lava; use :mod:`.lava_runner` (which applies the
Python 3.11 shim in :mod:`.lava_compat`) when the real simulator is wanted.
"""
from snncc.targets.loihi2.golden import GoldenResult, simulate
from snncc.targets.loihi2.netspec import Connection, InputPort, LifPopulation, NetSpec

__all__ = ["Connection", "GoldenResult", "InputPort", "LifPopulation", "NetSpec", "simulate"]
