"""Golden model vs an independent scalar transcription of Lava's fixed-point code
(Python ints, explicit int32 wrap), over random parameters incl. the extremes."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from snncc.targets.loihi2.golden import simulate
from snncc.targets.loihi2.netspec import Connection, InputPort, LifPopulation, NetSpec


def _i32(x: int) -> int:
    return (x + 2**31) % 2**32 - 2**31


def _trunc_div4096(p: int) -> int:
    return -((-p) >> 12) if p < 0 else p >> 12


def _quantize(w: int, mode: str, nwb: int) -> int:
    mag = -w if mode == "inhibitory" else w
    mag = min(max(mag, -256 if mode == "mixed" else 0), 255)
    k = 8 - nwb + (mode == "mixed")
    mag = (mag >> k) << k
    return -mag if mode == "inhibitory" else mag


def _reference(weights, x, du, dv, vth, bm, be, wexp, nwb):
    """One input port -> Dense -> LIF, exactly as Lava's models read, scalar by scalar."""
    n_out, n_in = len(weights), len(weights[0])
    flat = [w for row in weights for w in row]
    mode = "excitatory" if min(flat) >= 0 else "inhibitory" if max(flat) <= 0 else "mixed"
    wq = [[_quantize(w, mode, nwb) for w in row] for row in weights]
    bias = [b << e for b, e in zip(bm, be)]
    u, v, buf = [0] * n_out, [0] * n_out, [0] * n_out
    spikes = []
    for t in range(len(x)):
        a_in = buf                                    # Dense sends last step's buffer
        row = []
        for j in range(n_out):
            cur = _i32(_trunc_div4096(u[j] * (4096 - (du + 1))) + _i32(a_in[j] << 6))
            if cur > 2**23:
                cur -= 2**24
            elif cur <= -(2**23):
                cur += 2**24
            u[j] = cur
            vv = _i32(_trunc_div4096(v[j] * (4096 - dv)) + u[j] + bias[j])
            vv = min(max(vv, -(2**23 - 1)), 2**23 - 1)
            fire = vv > (vth << 6)
            v[j] = 0 if fire else vv
            row.append(int(fire))
        spikes.append(row)
        acc = [sum(wq[j][i] for i in range(n_in) if x[t][i]) for j in range(n_out)]
        buf = [_i32(a << wexp if wexp > 0 else a >> -wexp) for a in acc]
    return spikes, u, v


@settings(max_examples=40, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31), du=st.sampled_from([0, 1, 410, 2048, 4094, 4095]),
       dv=st.sampled_from([0, 1, 205, 4095]), vth=st.sampled_from([0, 1, 50, 3000, 131071]),
       wexp=st.integers(-8, 7), nwb=st.integers(1, 8),
       mode=st.sampled_from(["mixed", "excitatory", "inhibitory"]))
def test_golden_matches_scalar_transcription(seed, du, dv, vth, wexp, nwb, mode):
    rng = np.random.default_rng(seed)
    lo, hi = {"mixed": (-256, 256), "excitatory": (0, 256), "inhibitory": (-255, 1)}[mode]
    w = rng.integers(lo, hi, (5, 7))
    bm, be = rng.integers(-4096, 4096, 5), rng.integers(0, 8, 5)
    x = (rng.random((1, 12, 7)) < 0.5).astype(np.int64)
    spec = NetSpec([InputPort("x", 7)],
                   [LifPopulation("p", 5, du=du, dv=dv, vth=vth, bias_mant=bm, bias_exp=be)],
                   [Connection("c", "x", "p", w, num_weight_bits=nwb, weight_exp=wexp)])
    res = simulate(spec, {"x": x})
    spikes, u, v = _reference(w.tolist(), x[0].tolist(), du, dv, vth, bm.tolist(),
                              be.tolist(), wexp, nwb)
    assert res.spikes["p"][0].tolist() == spikes
    assert res.u["p"][0].tolist() == u
    assert res.v["p"][0].tolist() == v
