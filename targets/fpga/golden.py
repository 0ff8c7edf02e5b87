"""Vectorised numpy integer golden model of a :class:`NetSpec` (the reference the
cycle simulator and the RTL must match bit for bit)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snncc.diagnostics import SnnccError

from . import contract as C
from .netspec import NetSpec


@dataclass(frozen=True, eq=False)
class SimResult:
    """Per layer: spikes [B, T, N] (uint8) and membrane after each step [B, T, N] (int64).
    Cycle-accurate backends also fill total cycles [B, T] and per-engine cycles [B, T, L]."""

    spikes: tuple[np.ndarray, ...]
    v: tuple[np.ndarray, ...]
    cycles: np.ndarray | None = None
    engine_cycles: np.ndarray | None = None
    #: cycle simulator only: event counts [B, T, L] ('sops', 'weight_reads',
    #: 'neuron_updates', 'spikes_out')
    counters: dict[str, np.ndarray] | None = None


def check_input(spikes_in: np.ndarray, n_in: int) -> np.ndarray:
    s = np.asarray(spikes_in)
    if s.ndim != 3 or s.shape[2] != n_in or not np.isin(s, (0, 1)).all():
        raise SnnccError.single("SNN407", f"input spikes must be 0/1 of shape [B, T, {n_in}], "
                                f"got {s.shape}")
    return s.astype(np.int64)


def run_golden(spec: NetSpec, spikes_in: np.ndarray) -> SimResult:
    errors = spec.validate()
    if errors:
        raise SnnccError(errors)
    x = check_input(spikes_in, spec.n_in)
    b, t, _ = x.shape
    params = [(l, l.engine_weights(), l.thresholds(), l.biases(), l.leak_params())
              for l in spec.layers]
    v = [np.zeros((b, l.n_out), np.int64) for l in spec.layers]
    spikes = [np.zeros((b, t, l.n_out), np.uint8) for l in spec.layers]
    vs = [np.zeros((b, t, l.n_out), np.int64) for l in spec.layers]
    prev = [np.zeros((b, l.n_out), np.int64) for l in spec.layers]  # own spikes, t - 1
    for step in range(t):
        inp = x[:, step]
        for i, (l, w, th, bias, lp) in enumerate(params):
            if l.recurrent is not None:
                inp = np.hstack([inp, prev[i]])
            acc = inp @ w.T  # exact in int64; validation bounds it to acc_bits
            v[i], spk = C.neuron_update(v[i], acc, bias, th, l.leak.kind, lp, l.leak.frac_bits,
                                        l.reset, l.reset_value, l.comparator, l.v_bits)
            spikes[i][:, step] = spk
            vs[i][:, step] = v[i]
            inp = prev[i] = spk.astype(np.int64)
    return SimResult(tuple(spikes), tuple(vs))
