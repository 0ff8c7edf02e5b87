"""The arithmetic contract on hand-computed values."""
import numpy as np

from snncc.targets.fpga.contract import int_range, leak, neuron_update, saturate


def upd(v, acc, b=0, th=100, kind="none", p=0, f=0, reset="subtract", rv=0, cmp=">=", vb=12):
    vn, s = neuron_update(np.array([v]), np.array([acc]), np.array([b]), np.array([th]), kind,
                          np.array([p]), f, reset, rv, cmp, vb)
    return int(vn[0]), bool(s[0])


def test_ranges_and_saturation():
    assert int_range(12) == (-2048, 2047)
    assert saturate(np.array([3000, -3000, 5]), 12).tolist() == [2047, -2048, 5]


def test_leak_floor_rounding():
    # -7 >>> 1 = -4 (floor), so -7 - (-4) = -3; 7 - 3 = 4
    assert leak(np.array([-7, 7]), "shift", np.array([1, 1]), 0).tolist() == [-3, 4]
    # (-7 * 3) >>> 2 = floor(-5.25) = -6; (7 * 3) >>> 2 = 5
    assert leak(np.array([-7, 7]), "mul", np.array([3, 3]), 2).tolist() == [-6, 5]


def test_order_leak_add_bias_saturate_compare_reset():
    assert upd(100, 0, th=100) == (0, True)            # equality fires with >=
    assert upd(100, 0, th=100, cmp=">") == (100, False)
    assert upd(40, 30, b=5, kind="shift", p=2, th=60) == (65 - 60, True)  # 40-10+30+5
    assert upd(2000, 2000, th=2000, vb=12) == (47, True)  # saturate to 2047 first, then reset
    assert upd(2000, 2000, th=2047, cmp=">", reset="none") == (2047, False)   # saturated
    assert upd(-2000, -2000, th=0) == (-2048, False)
    assert upd(2047, 0, th=-2048) == (2047, True)      # 2047 + 2048 saturates at 2047
    assert upd(150, 0, th=100, reset="value", rv=-7) == (-7, True)
    assert upd(150, 0, th=100, reset="none") == (150, True)
