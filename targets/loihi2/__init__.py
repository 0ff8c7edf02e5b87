"""Loihi 2 target: lowering of canonical integer IR graphs to Lava processes, the emitted
artifact, a bit-exact golden simulator, and Lava / hardware backends.

Importing this package never imports Lava; use :mod:`.lava_runner` (which applies the
Python 3.11 shim in :mod:`.lava_compat`) when the real simulator is wanted.
"""
from snncc.targets.loihi2.golden import GoldenResult, simulate
from snncc.targets.loihi2.netspec import Connection, InputPort, LifPopulation, NetSpec
from snncc.targets.loihi2.target import CAPABILITIES, TARGET

__all__ = ["CAPABILITIES", "Connection", "GoldenResult", "InputPort", "LifPopulation", "NetSpec", "TARGET",
           "simulate"]
