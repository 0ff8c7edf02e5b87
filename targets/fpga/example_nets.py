"""Small reference networks used by the tests and benchmarks (deterministic per seed)."""
from __future__ import annotations

import numpy as np

from . import contract as C
from .netspec import Conv2dGeometry, LayerSpec, LeakSpec, NetSpec
from .validate import required_acc_bits


def _leak(kind: str, rng: np.random.Generator, n: int, v_bits: int) -> LeakSpec:
    if kind == "shift":
        return LeakSpec("shift", rng.integers(1, min(8, v_bits), n), 0)
    if kind == "mul":
        return LeakSpec("mul", rng.integers(0, (1 << 8) + 1, n), 8)
    return LeakSpec()


def random_layer(name: str, rng: np.random.Generator, n_in: int, n_out: int, *, w_bits: int,
                 v_bits: int, pe: int, simd: int, leak: str, reset: str, comparator: str,
                 saturate: bool = True, recurrent: bool = False) -> LayerSpec:
    """Random dense layer; with ``saturate`` a few neurons get extreme biases/thresholds so
    the membrane hits both saturation rails and reset-subtract can overflow."""
    wlo, whi = C.int_range(w_bits)
    vlo, vhi = C.int_range(v_bits)
    w = rng.integers(wlo, whi + 1, (n_out, n_in))
    scale = max(1, whi * n_in // 8)
    th = rng.integers(scale // 4, scale + 1, n_out)
    bias = rng.integers(-scale // 16, scale // 16 + 1, n_out)
    th, bias = np.clip(th, vlo, vhi), np.clip(bias, vlo, vhi)  # wide weights, narrow v
    if saturate and n_out >= 3:
        bias[0], th[0] = vhi, vhi      # drives v to +rail; '>' never fires there
        bias[1], th[1] = vlo, vlo // 2  # drives v to -rail
        th[2] = vlo                     # always fires; v - theta overflows upwards
    rec = rng.integers(wlo, whi + 1, (n_out, n_out)) if recurrent else None
    cols = w if rec is None else np.hstack([w, rec])
    return LayerSpec(name, w, threshold=th, bias=bias, leak=_leak(leak, rng, n_out, v_bits),
                     reset=reset, reset_value=int(rng.integers(vlo // 64, vhi // 64)),
                     comparator=comparator, w_bits=w_bits, v_bits=v_bits,
                     acc_bits=max(8, required_acc_bits(cols)), pe=pe, simd=simd, recurrent=rec)


def random_dense_net(seed: int, sizes: tuple[int, ...], layer_kw: list[dict]) -> NetSpec:
    rng = np.random.default_rng(seed)
    layers = tuple(random_layer(f"fc{i}", rng, sizes[i], sizes[i + 1], **kw)
                   for i, kw in enumerate(layer_kw))
    return NetSpec(sizes[0], layers)


def one_neuron_recurrent(w_in: int = 60, w_rec: int = -50, threshold: int = 100) -> NetSpec:
    """One integrate-and-fire neuron inhibiting itself through a recurrent weight."""
    layer = LayerSpec("rif", np.array([[w_in]]), threshold=threshold, reset="subtract",
                      comparator=">=", w_bits=8, v_bits=12, acc_bits=8,
                      recurrent=np.array([[w_rec]]))
    return NetSpec(1, (layer,))


def one_neuron_lif(weight: int = 40, threshold: int = 100, k: int = 2) -> NetSpec:
    """One input, one LIF neuron: shift leak k, reset by subtraction, v >= theta."""
    layer = LayerSpec("lif", np.array([[weight]]), threshold=threshold,
                      leak=LeakSpec("shift", k), reset="subtract", comparator=">=",
                      w_bits=8, v_bits=12, acc_bits=8)
    return NetSpec(1, (layer,))


def small_conv_net(seed: int = 0, pe: tuple[int, int] = (4, 2),
                   simd: tuple[int, int] = (2, 8), engine: str = "dense") -> NetSpec:
    """1x8x8 input -> conv 4x3x3 (stride 1, padding 1) -> dense 10. ``engine='conv'`` uses
    the weight-shared conv engine (then SIMD of the conv layer is forced to 1)."""
    rng = np.random.default_rng(seed)
    conv_w = rng.integers(-8, 8, (4, 1, 3, 3))
    conv = LayerSpec("conv", conv_w, threshold=rng.integers(6, 14, 4), bias=rng.integers(-1, 2, 4),
                     leak=LeakSpec("shift", 3), reset="subtract", comparator=">=", w_bits=4,
                     v_bits=12, acc_bits=10, pe=pe[0], simd=1 if engine == "conv" else simd[0],
                     conv=Conv2dGeometry((1, 8, 8), (1, 1), (1, 1)), engine=engine)
    fc_w = rng.integers(-8, 8, (10, 256))
    fc = LayerSpec("fc", fc_w, threshold=rng.integers(20, 60, 10), leak=LeakSpec("mul", 230, 8),
                   reset="value", reset_value=0, comparator=">", w_bits=4, v_bits=16,
                   acc_bits=required_acc_bits(fc_w), pe=pe[1], simd=simd[1])
    return NetSpec(64, (conv, fc))


def conv_stack(seed: int = 0, pe: tuple[int, int, int] = (2, 3, 5)) -> NetSpec:
    """2x9x9 -> conv 4x3x3 stride 2 pad 1 (conv engine) -> conv 6x2x2 stride 1 pad 0
    (conv engine) -> dense 5: chained conv engines, strided and unpadded geometry."""
    rng = np.random.default_rng(seed)
    c1 = LayerSpec("conv1", rng.integers(-8, 8, (4, 2, 3, 3)), threshold=rng.integers(4, 12, 4),
                   bias=rng.integers(-1, 2, 4), leak=LeakSpec("shift", 2), reset="subtract",
                   w_bits=4, v_bits=12, acc_bits=10, pe=pe[0],
                   conv=Conv2dGeometry((2, 9, 9), (2, 2), (1, 1)), engine="conv")
    c2 = LayerSpec("conv2", rng.integers(-8, 8, (6, 4, 2, 2)), threshold=rng.integers(3, 9, 6),
                   leak=LeakSpec("mul", 200, 8), reset="value", reset_value=-2, comparator=">",
                   w_bits=4, v_bits=12, acc_bits=10, pe=pe[1],
                   conv=Conv2dGeometry((4, 5, 5), (1, 1), (0, 0)), engine="conv")
    fc_w = rng.integers(-8, 8, (5, 6 * 4 * 4))
    fc = LayerSpec("fc", fc_w, threshold=rng.integers(10, 30, 5), reset="subtract", w_bits=4,
                   v_bits=14, acc_bits=required_acc_bits(fc_w), pe=pe[2], simd=4)
    return NetSpec(2 * 9 * 9, (c1, c2, fc))
