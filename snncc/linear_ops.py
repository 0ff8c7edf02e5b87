"""Sparse matrices of the IR's stateless linear nodes, with the reference simulator's semantics.

``operator(node, in_shape)`` is the ``[n_out, n_in]`` scipy.sparse matrix of a node's linear
part (biases excluded), built by index arithmetic: a convolution costs one entry per
(output, kernel tap), never an identity batch pushed through the layer. PyTorch's conv and
pooling semantics (stride, padding, dilation, groups; AvgPool2d divides by the full kernel
area, padding included, as ``F.avg_pool2d`` does by default; SumPool2d = AvgPool2d x area).
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from snncc.ir import (
    Affine, AvgPool2d, BatchNorm, Conv1d, Conv2d, Delay, Flatten, Linear, Node, Scale, SumPool2d,
)
from snncc.ir.nodes import _conv_out

__all__ = ["operator"]


def operator(node: Node, in_shape: tuple[int, ...]) -> sp.csr_matrix:
    n_in = math.prod(in_shape)
    if isinstance(node, (Affine, Linear)):
        return sp.csr_matrix(np.asarray(node.weight, dtype=np.float64))
    if isinstance(node, (Flatten, Delay)):
        return sp.identity(n_in, format="csr")
    if isinstance(node, Scale):
        return sp.diags(np.broadcast_to(np.asarray(node.scale, np.float64), in_shape).reshape(-1), format="csr")
    if isinstance(node, BatchNorm):
        p = node.params
        gain = np.asarray(p.gamma, np.float64) / np.sqrt(np.asarray(p.var, np.float64) + p.eps)
        gain = gain.reshape(-1, *([1] * (len(in_shape) - 1))) if gain.size == in_shape[0] else gain
        return sp.diags(np.broadcast_to(gain, in_shape).reshape(-1), format="csr")
    if isinstance(node, (Conv1d, Conv2d)):
        return _conv(node, in_shape)
    if isinstance(node, (SumPool2d, AvgPool2d)):
        return _pool(node, in_shape)
    raise TypeError(f"{node.kind} is not a linear node")


def _conv(node, in_shape: tuple[int, ...]) -> sp.csr_matrix:
    weight = np.asarray(node.weight, np.float64)
    if isinstance(node, Conv1d):  # as a 2-D convolution of height 1
        weight, in_shape = weight[:, :, None, :], (in_shape[0], 1, in_shape[1])
        stride, padding, dilation = (1, *node.stride), (0, *node.padding), (1, *node.dilation)
    else:
        stride, padding, dilation = node.stride, node.padding, node.dilation
    c_out, c_in_group, kh, kw = weight.shape
    c_in, height, width = in_shape
    oh = _conv_out(height, kh, stride[0], padding[0], dilation[0])
    ow = _conv_out(width, kw, stride[1], padding[1], dilation[1])
    co, y, x, ci, ky, kx = np.meshgrid(np.arange(c_out), np.arange(oh), np.arange(ow), np.arange(c_in_group),
                                       np.arange(kh), np.arange(kw), indexing="ij")
    iy = y * stride[0] - padding[0] + ky * dilation[0]
    ix = x * stride[1] - padding[1] + kx * dilation[1]
    channel = (co // (c_out // node.groups)) * c_in_group + ci
    keep = (iy >= 0) & (iy < height) & (ix >= 0) & (ix < width)
    rows = ((co * oh + y) * ow + x)[keep]
    cols = ((channel * height + iy) * width + ix)[keep]
    values = weight[co, ci, ky, kx][keep]
    return sp.csr_matrix((values, (rows, cols)), shape=(c_out * oh * ow, c_in * height * width))


def _pool(node, in_shape: tuple[int, ...]) -> sp.csr_matrix:
    (kh, kw), (sy, sx), (py, px) = node.kernel_size, node.stride, node.padding
    channels, height, width = in_shape
    oh, ow = _conv_out(height, kh, sy, py, 1), _conv_out(width, kw, sx, px, 1)
    c, y, x, ky, kx = np.meshgrid(np.arange(channels), np.arange(oh), np.arange(ow), np.arange(kh), np.arange(kw),
                                  indexing="ij")
    iy, ix = y * sy - py + ky, x * sx - px + kx
    keep = (iy >= 0) & (iy < height) & (ix >= 0) & (ix < width)
    rows = ((c * oh + y) * ow + x)[keep]
    cols = ((c * height + iy) * width + ix)[keep]
    value = 1.0 if isinstance(node, SumPool2d) else 1.0 / (kh * kw)
    return sp.csr_matrix((np.full(rows.size, value), (rows, cols)), shape=(channels * oh * ow, channels * height * width))
