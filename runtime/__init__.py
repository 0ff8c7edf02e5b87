"""snncc.runtime: simulators and runners (the float reference simulator first)."""
from .reference import SimResult, simulate

__all__ = ["SimResult", "simulate"]
