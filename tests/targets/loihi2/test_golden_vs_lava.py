"""Golden model vs the real Lava 0.10.0 fixed_pt simulator: every spike, final u and v.

Each Lava run costs about a second, so each network packs several cases (several
weight exponents, sign modes, decays and bias exponents side by side)."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from snncc.targets.loihi2 import lava_runner
from snncc.targets.loihi2.golden import GoldenResult, simulate
from snncc.targets.loihi2.netspec import Connection, InputPort, LifPopulation, NetSpec

pytestmark = [pytest.mark.lava, pytest.mark.skipif(importlib.util.find_spec("lava") is None,
                                                   reason="lava-nc is not installed")]

SIGNS = {"mixed": (-256, 256), "excitatory": (0, 256), "inhibitory": (-255, 1)}


def _w(rng, shape, mode: str, scale: float = 1.0) -> np.ndarray:
    lo, hi = SIGNS[mode]
    w = rng.integers(lo, hi, shape)
    return np.round(w * scale).astype(np.int64)


def _pop(rng, name, size, du, dv, vth, bias=30):
    return LifPopulation(name, size, du=du, dv=dv, vth=vth,
                         bias_mant=rng.integers(-bias, bias + 1, size),
                         bias_exp=np.arange(size) % 7)          # bias_exp 0..6


def _inputs(rng, batch, steps, n, density):
    return {"x": (rng.random((batch, steps, n)) < density).astype(np.int64)}


def _assert_same(gold: GoldenResult, lava: GoldenResult, spec: NetSpec) -> None:
    for pop in spec.populations:
        n = pop.name
        g, l = gold.spikes[n], lava.spikes[n]
        assert g.shape == l.shape, (n, g.shape, l.shape)
        if not np.array_equal(g, l):
            b, t, j = np.argwhere(g != l)[0]
            pytest.fail(f"{n}: first spike mismatch at sample {b}, step {t}, neuron {j}")
        assert np.array_equal(gold.u[n], lava.u[n]), (n, gold.u[n], lava.u[n])
        assert np.array_equal(gold.v[n], lava.v[n]), (n, gold.v[n], lava.v[n])


def _compare(spec, inputs):
    gold = simulate(spec, inputs, record_uv=True)
    lava = lava_runner.run_lava(spec, inputs)
    _assert_same(gold, lava, spec)
    return gold


def test_feedforward_sign_modes_weight_exp_bias_exp():
    rng = np.random.default_rng(10)
    h1, h2 = _pop(rng, "h1", 28, 410, 205, 80), _pop(rng, "h2", 28, 1200, 30, 150)
    conns = [  # weight_exp -3..+3 across sign modes and weight widths
        Connection("m3", "x", "h1", _w(rng, (28, 24), "mixed"), weight_exp=-3),
        Connection("m2", "x", "h1", _w(rng, (28, 24), "excitatory"), 6, weight_exp=-2),
        Connection("m1", "x", "h1", _w(rng, (28, 24), "inhibitory"), weight_exp=-1),
        Connection("z0", "x", "h1", _w(rng, (28, 24), "mixed"), 5, weight_exp=0),
        Connection("p1", "x", "h2", _w(rng, (28, 24), "mixed", 0.5), 7, weight_exp=1),
        Connection("p2", "x", "h2", _w(rng, (28, 24), "excitatory", 0.3), 3, weight_exp=2),
        Connection("p3", "x", "h2", _w(rng, (28, 24), "inhibitory", 0.1), weight_exp=3),
        Connection("o1", "h1", "o", _w(rng, (12, 28), "mixed"), weight_exp=1),
        Connection("o2", "h2", "o", _w(rng, (12, 28), "excitatory"), 4, weight_exp=0,
                   sign_mode="excitatory"),
    ]
    spec = NetSpec([InputPort("x", 24)], [h1, h2, _pop(rng, "o", 12, 2048, 2048, 1500)], conns)
    gold = _compare(spec, _inputs(rng, 2, 40, 24, 0.3))
    for n in ("h1", "h2", "o"):
        assert 0 < gold.spikes[n].sum() < gold.spikes[n].size // 2, n


def test_recurrent_network():
    """Also an initial v per neuron (v_init, both signs) on the recurrent population."""
    rng = np.random.default_rng(11)
    r = _pop(rng, "r", 40, 300, 100, 90)
    r = LifPopulation("r", 40, r.du, r.dv, r.vth, r.bias_mant, r.bias_exp, v_init=rng.integers(-9000, 9000, 40))
    spec = NetSpec(
        [InputPort("x", 16)],
        [r, _pop(rng, "o", 10, 4095, 400, 60)],
        [Connection("in", "x", "r", _w(rng, (40, 16), "mixed"), weight_exp=1),
         Connection("rr", "r", "r", _w(rng, (40, 40), "mixed", 0.6)),       # self
         Connection("ro", "r", "o", _w(rng, (10, 40), "excitatory")),
         Connection("or", "o", "r", _w(rng, (40, 10), "inhibitory"), weight_exp=2)],  # back
    )
    gold = _compare(spec, _inputs(rng, 1, 60, 16, 0.25))
    assert gold.spikes["r"].sum() > 20 and gold.spikes["o"].sum() > 5
    assert gold.spikes["r"][0, 0].any()                # v_init above vth << 6 fires at the first step


def test_delay_dense_network():
    rng = np.random.default_rng(12)
    d2 = rng.integers(0, 9, (8, 20))
    d2[:, :3] = 62                                    # longest legal delay
    spec = NetSpec(
        [InputPort("x", 12)],
        [_pop(rng, "d1", 20, 600, 300, 50), _pop(rng, "d2", 8, 2000, 100, 40, bias=0)],
        [Connection("c1", "x", "d1", _w(rng, (20, 12), "mixed"), weight_exp=1,
                    delays=rng.integers(0, 12, (20, 12))),
         Connection("c2", "d1", "d2", _w(rng, (8, 20), "excitatory"), 6, delays=d2),
         Connection("rec", "d2", "d1", _w(rng, (20, 8), "inhibitory"), delays=5)],
    )
    x = _inputs(rng, 1, 75, 12, 0.2)
    x["x"][:, 50:] = 0                                # late spikes only via the long delays
    gold = _compare(spec, x)
    assert gold.spikes["d1"].sum() > 10 and gold.spikes["d2"][:, 60:].sum() > 0


def test_decay_extremes_current_wrap_and_voltage_saturation():
    rng = np.random.default_rng(13)
    pops = [
        _pop(rng, "d00", 8, 0, 0, 131071, bias=0),          # integrators: u wraps, v saturates
        _pop(rng, "dmax", 8, 4095, 4095, 20),
        _pop(rng, "dmid", 8, 1, 4094, 10),
        _pop(rng, "sat", 8, 4095, 0, 131071, bias=0),        # v saturates negative
    ]
    conns = [
        Connection("a", "x", "d00", _w(rng, (8, 16), "excitatory"), weight_exp=3),
        Connection("b", "x", "dmax", _w(rng, (8, 16), "mixed"), weight_exp=-1),
        Connection("c", "x", "dmid", _w(rng, (8, 16), "mixed"), weight_exp=0),
        Connection("d", "x", "sat", _w(rng, (8, 16), "inhibitory"), weight_exp=7),
    ]
    spec = NetSpec([InputPort("x", 16)], pops, conns)
    gold = _compare(spec, _inputs(rng, 1, 40, 16, 0.4))
    u = gold.u_trace["d00"].astype(np.int64)
    assert (np.diff(u, axis=1) < -(2**23)).any(), "no 24-bit wrap of u exercised"
    assert (gold.v_trace["d00"] == 2**23 - 1).any() or gold.spikes["d00"].any()
    assert (gold.v_trace["sat"] == -(2**23 - 1)).any(), "no negative v saturation exercised"
    assert gold.spikes["dmax"].any() and gold.spikes["dmid"].any()


def test_hand_computed_edge_cases_match_lava():
    """The boundary cases of test_golden_rules.py, run through Lava in one network."""
    one = dict(du=4095, dv=0, bias_mant=0, bias_exp=0)
    pops = [LifPopulation("pos", 1, vth=131071, **one),      # u = +2**23 kept
            LifPopulation("neg", 1, vth=131071, **one),      # u = -2**23 -> +2**23
            LifPopulation("eq", 2, vth=40, **one),           # v == vth << 6: no spike
            LifPopulation("late", 2, du=4095, dv=4095, vth=0, bias_mant=0, bias_exp=0),
            LifPopulation("forced", 1, vth=131071, **one)]  # mixed mode on >= 0 weights
    conns = [Connection("p", "x", "pos", [[128] * 8], weight_exp=7),
             Connection("n", "x", "neg", [[-128] * 8], weight_exp=7),
             Connection("e", "x", "eq", [[10] + [0] * 7, [0] * 7 + [-7]], weight_exp=2),
             Connection("l", "x", "late", [[20] + [0] * 7] * 2,
                        delays=[[0] * 8, [62] * 8]),
             Connection("f", "x", "forced", [[5, 3] + [0] * 6], sign_mode="mixed")]
    spec = NetSpec([InputPort("x", 8)], pops, conns)
    x = np.zeros((1, 66, 8), np.int64)
    x[0, 0] = 1
    gold = _compare(spec, {"x": x})
    assert gold.u_trace["pos"][0, 1, 0] == gold.u_trace["neg"][0, 1, 0] == 2**23
    # mixed signs: -7 loses its LSB to -8; (-8 << 2) << 6 = -2048
    assert gold.v["eq"][0].tolist() == [2560, -2048]
    assert not gold.spikes["eq"].any()
    assert gold.v["forced"][0, 0] == (4 + 2) << 6     # 5 -> 4, 3 -> 2 under mixed
    assert [np.flatnonzero(gold.spikes["late"][0, :, j]).tolist() for j in (0, 1)] == [[1], [63]]


def test_int32_overflow_far_outside_24_bits():
    """Two 1200-input connections at weight_exp 7: a << 6 overflows int32 and u leaves
    the 24-bit range (Lava corrects only once); both models wrap identically."""
    rng = np.random.default_rng(3)
    n = 1200
    spec = NetSpec(
        [InputPort("x", n)],
        [LifPopulation("ovf", 4, du=0, dv=0, vth=131071),
         LifPopulation("neg", 4, du=4095, dv=100, vth=1000)],
        [Connection("a", "x", "ovf", rng.integers(200, 256, (4, n)), weight_exp=7),
         Connection("b", "x", "ovf", rng.integers(200, 256, (4, n)), weight_exp=7),
         Connection("c", "x", "neg", -rng.integers(200, 256, (4, n)), weight_exp=7)],
    )
    x = {"x": (rng.random((1, 12, n)) < 0.9).astype(np.int64)}
    gold = _compare(spec, x)
    u = gold.u_trace["ovf"].astype(np.int64)
    assert np.abs(u).max() > 2**30                     # far outside 24 bits
    assert (np.diff(u, axis=1) > 2**31).any()          # an int32 wrap happened
    assert (gold.v["neg"] == -(2**23 - 1)).all()


def test_sparse_and_delay_sparse_equal_dense_semantics():
    """Lava's Sparse / DelaySparse against the golden model, which treats them as Dense
    on the nonzero pattern (about 30 % of the synapses present, mixed / exc / inh)."""
    rng = np.random.default_rng(14)

    def sparse_w(shape, mode, scale=1.0):
        return _w(rng, shape, mode, scale) * (rng.random(shape) < 0.3)

    spec = NetSpec(
        [InputPort("x", 20)],
        [_pop(rng, "s1", 24, 500, 200, 40), _pop(rng, "s2", 10, 3000, 50, 30)],
        [Connection("a", "x", "s1", sparse_w((24, 20), "mixed"), weight_exp=1, sparse=True),
         Connection("b", "x", "s1", sparse_w((24, 20), "inhibitory"), 6, weight_exp=-1,
                    sparse=True),
         Connection("c", "s1", "s2", sparse_w((10, 24), "excitatory"), weight_exp=2,
                    delays=rng.integers(0, 6, (10, 24)), sparse=True),
         Connection("r", "s2", "s1", sparse_w((24, 10), "mixed", 0.5), sparse=True)],
    )
    gold = _compare(spec, _inputs(rng, 1, 40, 20, 0.3))
    assert gold.spikes["s1"].sum() > 10 and gold.spikes["s2"].sum() > 5
