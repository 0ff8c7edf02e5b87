"""Sum-pool + 2-D convolution of flattened CHW spike vectors, as ``lif_conv2d`` computes it."""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .netspec import Conv2DParams


def _pooled_padded(x: np.ndarray, conv: Conv2DParams) -> np.ndarray:
    """[B, C_in*H*W] -> pooled and zero-padded [B, C_in, Hp+pads, Wp+pads]."""
    b = x.shape[0]
    c, h, w, py, px = conv.in_channels, conv.in_height, conv.in_width, conv.pool_y, conv.pool_x
    x = x.reshape(b, c, h, w)
    hp, wp = h // py, w // px
    x = x[:, :, : hp * py, : wp * px].reshape(b, c, hp, py, wp, px).sum(axis=(3, 5))
    pads = ((0, 0), (0, 0), (conv.pad_top, conv.pad_bottom), (conv.pad_left, conv.pad_right))
    return np.pad(x, pads)


def _windows(x: np.ndarray, conv: Conv2DParams, kh: int, kw: int) -> np.ndarray:
    """[B, C, Ho, Wo, kH, kW] view of the receptive fields."""
    win = sliding_window_view(x, (kh, kw), axis=(2, 3))
    return win[:, :, :: conv.stride_y, :: conv.stride_x]


def conv2d_forward(x: np.ndarray, weights: np.ndarray, conv: Conv2DParams) -> np.ndarray:
    """Synaptic input ``[B, C_out*Ho*Wo]`` for spikes ``x [B, C_in*H*W]`` and
    ``weights [C_in, C_out, kH, kW]`` (cross-correlation, as torch's conv2d)."""
    kh, kw = weights.shape[2:]
    win = _windows(_pooled_padded(x, conv), conv, kh, kw)
    out = np.einsum("bchwij,coij->bohw", win, weights.astype(x.dtype, copy=False))
    return out.reshape(x.shape[0], -1)


def conv2d_events(x: np.ndarray, conv: Conv2DParams, c_out: int, kh: int, kw: int) -> np.ndarray:
    """Multiply-accumulates with a non-zero pooled input, per output neuron ``[B, n_post]``."""
    win = _windows((_pooled_padded(x, conv) != 0).astype(np.int64), conv, kh, kw)
    per_pos = win.sum(axis=(1, 4, 5))  # [B, Ho, Wo]
    return np.broadcast_to(per_pos[:, None], (x.shape[0], c_out, *per_pos.shape[1:])).reshape(
        x.shape[0], -1)


def conv2d_receivers(conv: Conv2DParams, c_out: int, kh: int, kw: int,
                     slices: list[tuple[int, int]]) -> np.ndarray:
    """``[n_pre, n_pe]`` bool: does a spike of pre neuron i reach a neuron on target PE p."""
    ho, wo = conv.output_hw(kh, kw)
    hp, wp = conv.in_height // conv.pool_y, conv.in_width // conv.pool_x
    n_pre = conv.in_channels * conv.in_height * conv.in_width
    out = np.zeros((n_pre, len(slices)), dtype=bool)
    ys, xs = np.arange(conv.in_height), np.arange(conv.in_width)
    for p, (start, stop) in enumerate(slices):
        idx = np.arange(start, stop)
        pos = np.unique(idx % (ho * wo))
        oy, ox = pos // wo, pos % wo
        pooled = np.zeros((hp, wp), dtype=bool)
        for ky in range(kh):
            for kx in range(kw):
                iy = oy * conv.stride_y - conv.pad_top + ky
                ix = ox * conv.stride_x - conv.pad_left + kx
                ok = (iy >= 0) & (iy < hp) & (ix >= 0) & (ix < wp)
                pooled[iy[ok], ix[ok]] = True
        # a pixel belongs to pooled cell (y // pool_y, x // pool_x); edge rows beyond it are dropped
        valid_y, valid_x = ys < hp * conv.pool_y, xs < wp * conv.pool_x
        full = np.zeros((conv.in_height, conv.in_width), dtype=bool)
        full[np.ix_(valid_y, valid_x)] = pooled[np.ix_(ys[valid_y] // conv.pool_y,
                                                         xs[valid_x] // conv.pool_x)]
        out[:, p] = np.tile(full.ravel(), conv.in_channels)
    return out
