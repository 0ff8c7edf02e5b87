"""Each integer rule of the golden model against hand-computed values (no Lava)."""
from __future__ import annotations

import numpy as np
import pytest

from snncc.targets.loihi2.golden import prepare, simulate
from snncc.targets.loihi2.netspec import Connection, InputPort, LifPopulation, NetSpec
from snncc.targets.loihi2.synapse import quantize_weights


def _one(weights, *, du=4095, dv=0, vth=131071, bias_mant=0, bias_exp=0, weight_exp=0,
         num_weight_bits=8, sign_mode=None, delays=None) -> NetSpec:
    w = np.atleast_2d(np.asarray(weights))
    n_out, n_in = w.shape
    return NetSpec([InputPort("x", n_in)],
                   [LifPopulation("p", n_out, du=du, dv=dv, vth=vth,
                                  bias_mant=bias_mant, bias_exp=bias_exp)],
                   [Connection("c", "x", "p", w, num_weight_bits=num_weight_bits,
                               weight_exp=weight_exp, sign_mode=sign_mode, delays=delays)])


def _pulse(n_in: int, steps: int, at=(0,)) -> dict[str, np.ndarray]:
    x = np.zeros((1, steps, n_in), np.int64)
    x[0, list(at), :] = 1
    return {"x": x}


@pytest.mark.parametrize("weights, kw, expected", [
    ([[3, -3, 255, -256, 1, -1]], {}, [[2, -4, 254, -256, 0, -2]]),       # mixed: LSB lost
    ([[255, 7, 300, 0]], {"num_weight_bits": 6}, [[252, 4, 252, 0]]),     # exc: k = 2, clip
    ([[-3, -255, -300]], {"num_weight_bits": 7}, [[-2, -254, -254]]),     # inh: on -W
    ([[5, 3]], {"sign_mode": "mixed"}, [[4, 2]]),                        # forced mixed
    ([[-5, 3]], {"sign_mode": "excitatory"}, [[0, 3]]),                  # clipped to >= 0
])
def test_weight_quantisation(weights, kw, expected):
    conn = Connection("c", "x", "p", weights, **kw)
    assert quantize_weights(conn).tolist() == expected


def test_one_step_synaptic_delay_and_strict_threshold():
    # a = 10 << 2 = 40 -> u = v = 40 << 6 = 2560 at index 1 (input at index 0)
    res = simulate(_one([[10]], weight_exp=2, vth=40), _pulse(1, 4))
    assert res.spikes["p"][0, :, 0].tolist() == [0, 0, 0, 0]     # 2560 > 2560 is false
    assert res.v["p"][0, 0] == 2560                               # dv = 0 keeps it
    res = simulate(_one([[10]], weight_exp=2, vth=39), _pulse(1, 4))
    assert res.spikes["p"][0, :, 0].tolist() == [0, 1, 0, 0]


def test_negative_weight_exp_is_an_arithmetic_shift():
    res = simulate(_one([[-7]], weight_exp=-2), _pulse(1, 2), record_uv=True)
    assert res.u_trace["p"][0, :, 0].tolist() == [0, -2 * 64]       # -7 >> 2 = -2


def test_current_decay_uses_du_plus_one_and_rounds_toward_zero():
    for sign in (1, -1):
        res = simulate(_one([[100 * sign]], du=0), _pulse(1, 4), record_uv=True)
        assert res.u_trace["p"][0, :, 0].tolist() == [0, 6400 * sign, 6398 * sign,
                                                       6396 * sign]


def test_voltage_decay_without_offset():
    # dv = 2048 halves v (toward zero); du = 4095 leaves only this step's input in u
    res = simulate(_one([[-51]], dv=2048, du=4095), _pulse(1, 4), record_uv=True)
    v = res.v_trace["p"][0, :, 0].tolist()
    assert v == [0, -3264, -1632, -816]
    res = simulate(_one([[1]], dv=0, du=0), _pulse(1, 3), record_uv=True)
    assert res.v_trace["p"][0, :, 0].tolist() == [0, 64, 64 + 63]    # dv = 0: no leak


def test_bias_mantissa_shifted_by_exponent():
    # bias 5 << 3 = 40 per step, vth 1 << 6 = 64: v = 40, 80 -> spike, reset, 40, 80 ...
    spec = _one([[0]], bias_mant=5, bias_exp=3, vth=1)
    res = simulate(spec, _pulse(1, 6, at=()))
    assert res.spikes["p"][0, :, 0].tolist() == [0, 1, 0, 1, 0, 1]
    assert res.v["p"][0, 0] == 0
    res = simulate(_one([[0], [0]], bias_mant=[-3, 7], bias_exp=[6, 0]), _pulse(1, 2, at=()))
    assert res.v["p"][0].tolist() == [-3 * 64 * 2, 14]


def test_current_wraps_at_24_bits_with_single_correction():
    # 5 inputs x 255, weight_exp 7: a << 6 = 1275 * 2**13 = 10444800 > 2**23
    res = simulate(_one([[255] * 5], weight_exp=7), _pulse(5, 2), record_uv=True)
    assert res.u_trace["p"][0, 1, 0] == -6332416
    # exactly +2**23 is kept, exactly -2**23 becomes +2**23
    res = simulate(_one([[128] * 8], weight_exp=7), _pulse(8, 2), record_uv=True)
    assert res.u_trace["p"][0, 1, 0] == 2**23
    res = simulate(_one([[-128] * 8], weight_exp=7), _pulse(8, 2), record_uv=True)
    assert res.u_trace["p"][0, 1, 0] == 2**23


def test_voltage_saturates_at_24_bits():
    # u = -1020 << 13 = -8355840 each step; dv = 0 accumulates and saturates
    res = simulate(_one([[-255] * 4], weight_exp=7), _pulse(4, 3, at=(0, 1)), record_uv=True)
    assert res.v_trace["p"][0, :, 0].tolist() == [0, -8355840, -(2**23 - 1)]
    # positive saturation at 2**23 - 1 still exceeds vth = 131071 << 6 = 8388544
    res = simulate(_one([[255] * 4], weight_exp=7), _pulse(4, 3, at=(0, 1)), record_uv=True)
    assert res.v_trace["p"][0, :, 0].tolist() == [0, 8355840, 0]
    assert res.spikes["p"][0, :, 0].tolist() == [0, 0, 1]


def test_start_holds_v_at_zero_then_sets_v_init_and_the_bias():
    """bias_start k: bias 0 and v 0 before index k; at k v = v_init and the bias is on."""
    pop = LifPopulation("p", 2, du=4095, dv=2048, vth=100, bias_mant=64, bias_exp=0, v_init=[640, -640])
    spec = NetSpec([InputPort("x", 1)], [pop], [Connection("c", "x", "p", [[0], [0]])])
    res = simulate(spec, _pulse(1, 5, at=()), record_uv=True, bias_start={"p": 2})
    # index 2: v = 640 / 2 + 64 = 384; index 3: 192 + 64 = 256 (and -320 + 64 = -256, then -64)
    assert res.v_trace["p"][0, :, 0].tolist() == [0, 0, 384, 256, 192]
    assert res.v_trace["p"][0, :, 1].tolist() == [0, 0, -256, -64, 32]
    res = simulate(spec, _pulse(1, 2, at=()), record_uv=True)         # started at index 0
    assert res.v_trace["p"][0, :, 0].tolist() == [384, 256]


def test_layer_chain_timing():
    # x -> a -> b -> c; each hop costs one step (Dense buffer), first spikes at 1, 2, 3
    pops = [LifPopulation(n, 1, du=4095, dv=4095, vth=0) for n in "abc"]
    conns = [Connection(f"{s}{d}", s, d, [[10]]) for s, d in (("x", "a"), ("a", "b"), ("b", "c"))]
    res = simulate(NetSpec([InputPort("x", 1)], pops, conns), _pulse(1, 5))
    assert [int(np.argmax(res.spikes[n][0, :, 0])) for n in "abc"] == [1, 2, 3]
    assert [int(res.spikes[n].sum()) for n in "abc"] == [1, 1, 1]


def test_delay_dense_arrives_d_plus_one_steps_later():
    delays = [[0], [3], [62]]
    spec = _one([[20], [20], [20]], du=4095, dv=4095, vth=0, delays=delays)
    res = simulate(spec, _pulse(1, 66))
    firsts = [np.flatnonzero(res.spikes["p"][0, :, j]).tolist() for j in range(3)]
    assert firsts == [[1], [4], [63]]


def test_recurrent_self_connection_sees_previous_step():
    # bias drives one spike at index 1; the self connection then keeps it spiking
    pops = [LifPopulation("p", 1, du=4095, dv=4095, vth=10, bias_mant=400, bias_exp=1)]
    spec = NetSpec([InputPort("x", 1)], pops,
                   [Connection("c", "x", "p", [[0]]), Connection("r", "p", "p", [[-100]])])
    res = simulate(spec, _pulse(1, 6, at=()), record_uv=True)
    # index 0: v = 800 > 640 spike; index 1: u = -100 << 6 = -6400, v = -5600; repeat
    assert res.spikes["p"][0, :, 0].tolist() == [1, 0, 1, 0, 1, 0]
    assert res.v_trace["p"][0, :2, 0].tolist() == [0, -5600]


def _random_net(seed: int) -> NetSpec:
    rng = np.random.default_rng(seed)
    return NetSpec(
        [InputPort("x", 40)],
        [LifPopulation("h", 64, du=300, dv=150, vth=60, bias_mant=rng.integers(-20, 20, 64)),
         LifPopulation("o", 16, du=900, dv=0, vth=100)],
        [Connection("c1", "x", "h", rng.integers(-256, 256, (64, 40))),
         Connection("c2", "h", "o", rng.integers(-100, 256, (16, 64)), weight_exp=-1,
                    delays=rng.integers(0, 4, (16, 64))),
         Connection("r", "o", "h", rng.integers(-255, 1, (64, 16)), num_weight_bits=5)],
    )


def _assert_rows_equal_one_by_one(spec: NetSpec, x: np.ndarray, batched) -> None:
    """Every row of the batched run has the spikes and final u, v of that sample run alone."""
    for b in range(x.shape[0]):
        single = simulate(spec, {"x": x[b:b + 1]})
        for n in ("h", "o"):
            assert np.array_equal(batched.spikes[n][b], single.spikes[n][0])
            assert np.array_equal(batched.u[n][b], single.u[n][0])
            assert np.array_equal(batched.v[n][b], single.v[n][0])


def test_batched_equals_one_by_one_for_dense_and_sparse_inputs():
    spec = _random_net(3)
    rng = np.random.default_rng(4)
    for density in (0.3, 0.005):      # matmul path and gather path
        x = (rng.random((6, 30, 40)) < density).astype(np.int64)
        batched = simulate(spec, {"x": x}, record_uv=True)
        _assert_rows_equal_one_by_one(spec, x, batched)
        assert batched.spikes["h"].sum() > 0 and batched.spikes["o"].sum() > 0 or density < 0.01
        assert np.array_equal(batched.u_trace["h"][:, -1], batched.u["h"])


def test_sparse_weights_take_the_csr_path_and_equal_the_one_by_one_gather():
    """Weights under 1/16 dense (lowered convolutions) are multiplied as float32 CSR when
    batched; unbatched runs gather int8 rows. Extreme weights (-256 after the mixed LSB
    loss, 255), a fan-in of 300 and delay blocks must not change a bit."""
    rng = np.random.default_rng(8)

    def sparse(shape, lo, hi):
        w = rng.integers(lo, hi, shape)
        w[rng.random(shape) > 0.03] = 0
        w[0, :300] = hi - 1                      # one dense row: fan-in 300, sums near 2**17
        return w

    spec = NetSpec(
        [InputPort("x", 400)],
        [LifPopulation("h", 300, du=500, dv=100, vth=40), LifPopulation("o", 200, du=4095, dv=20, vth=90)],
        [Connection("c1", "x", "h", sparse((300, 400), -256, 256)),
         Connection("c2", "h", "o", sparse((200, 300), 0, 256), delays=rng.integers(0, 3, (200, 300))),
         Connection("r", "o", "h", -sparse((300, 200), 0, 256), num_weight_bits=6)])
    assert all(acc.csr is not None for acc in prepare(spec))
    x = (rng.random((5, 40, 400)) < 0.2).astype(np.int64)
    batched = simulate(spec, {"x": x}, threads=2)
    assert batched.spikes["h"].sum() > 100 and batched.spikes["o"].sum() > 100
    _assert_rows_equal_one_by_one(spec, x, batched)


def test_chunked_input_accumulation_and_threads_do_not_change_results():
    spec = _random_net(5)
    x = (np.random.default_rng(6).random((3, 25, 40)) < 0.2).astype(np.int64)
    ref = simulate(spec, {"x": x})                           # all 25 steps in one chunk
    for threads, chunk in ((1, 1), (2, 7 * 3 * 64), (None, 1)):   # 1 and 7 steps per chunk
        res = simulate(spec, {"x": x}, threads=threads, chunk_elems=chunk)
        for n in ("h", "o"):
            assert np.array_equal(res.spikes[n], ref.spikes[n])
            assert np.array_equal(res.u[n], ref.u[n]) and np.array_equal(res.v[n], ref.v[n])


def test_bad_inputs_are_reported_together():
    from snncc.diagnostics import SnnccError

    spec = NetSpec([InputPort("x", 2), InputPort("y", 3)],
                   [LifPopulation("p", 1, du=0, dv=0, vth=1)],
                   [Connection("c", "x", "p", [[1, 1]]), Connection("d", "y", "p", [[1, 1, 1]])])
    with pytest.raises(SnnccError) as info:
        simulate(spec, {"x": np.zeros((1, 4, 3))})
    assert [d.code for d in info.value.diagnostics] == ["SNN510", "SNN510"]
