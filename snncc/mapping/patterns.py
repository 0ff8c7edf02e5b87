"""Which source neurons reach which destination neurons, without dense matrices.

Every population is viewed as ``(C, H, W)``: flat ``(N,)`` as ``(1, 1, N)``, ``(C, L)`` as
``(C, 1, L)``. A projection through convolutions, pools, Scale, BatchNorm and Delay is a
:class:`KronPattern`: the connectivity is the Kronecker product of one small boolean
matrix per axis (channel, row, column), so counts over a box of destination neurons are
products of per-axis counts. Anything with an Affine/Linear or a Flatten that changes the
view becomes an :class:`ExplicitPattern`, a sparse ``[n_dst, n_src]`` boolean matrix.
Patterns are structural: every kernel tap counts as a synapse (an upper bound when
weights are zero).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from snncc.diagnostics import SnnccError
from snncc.ir import (
    Affine, AvgPool2d, BatchNorm, Conv1d, Conv2d, Delay, Flatten, Linear, Scale, SumPool2d,
)

#: an explicit pattern larger than this is refused (SNN457): it would not be analysed in time
MAX_EXPLICIT_NNZ = 300_000_000


def view(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """The (C, H, W) view of a population or tensor shape."""
    if len(shape) == 0:
        return (1, 1, 1)
    if len(shape) == 1:
        return (1, 1, int(shape[0]))
    if len(shape) == 2:
        return (int(shape[0]), 1, int(shape[1]))
    return (int(shape[0]), int(shape[1]), int(math.prod(shape[2:])) if len(shape) > 3 else int(shape[2]))


@dataclass(frozen=True, eq=False)
class AxisPattern:
    """One axis' boolean map ``[n_out, n_in]`` with per-row support intervals.

    ``exact``: every row's support is one interval, interval ends never decrease and
    consecutive rows' intervals touch, so the union over a row range is one interval.
    Otherwise intervals are bounding boxes and union sizes are upper bounds."""

    matrix: sp.csr_matrix
    lo: np.ndarray
    hi: np.ndarray  # inclusive; -1 for an empty row
    prefix: np.ndarray  # prefix sums of row nnz
    exact: bool

    @classmethod
    def of(cls, matrix: sp.spmatrix) -> "AxisPattern":
        m = sp.csr_matrix(matrix, dtype=np.float32)
        m.data[:] = 1
        m.sum_duplicates()
        counts = np.diff(m.indptr)
        n_out = m.shape[0]
        lo = np.full(n_out, m.shape[1], dtype=np.int64)
        hi = np.full(n_out, -1, dtype=np.int64)
        nonempty = counts > 0
        if m.nnz:
            rows = np.repeat(np.arange(n_out), counts)
            np.minimum.at(lo, rows, m.indices)
            np.maximum.at(hi, rows, m.indices)
        contiguous = bool(np.all((hi - lo + 1)[nonempty] == counts[nonempty]))
        lo_ne, hi_ne = lo[nonempty], hi[nonempty]
        monotone = bool(np.all(np.diff(lo_ne) >= 0) and np.all(np.diff(hi_ne) >= 0))
        touching = bool(np.all(lo_ne[1:] <= hi_ne[:-1] + 1))
        exact = contiguous and monotone and touching and bool(nonempty.all())
        if not (monotone and nonempty.all()):
            # bounding interval of everything (still a valid upper bound for unions)
            lo = np.full(n_out, int(lo_ne.min()) if lo_ne.size else 0)
            hi = np.full(n_out, int(hi_ne.max()) if hi_ne.size else -1)
        prefix = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(m, lo, hi, prefix, exact)

    @property
    def n_out(self) -> int:
        return self.matrix.shape[0]

    @property
    def n_in(self) -> int:
        return self.matrix.shape[1]

    def nnz(self, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
        return self.prefix[stop] - self.prefix[start]

    def interval(self, start: np.ndarray, stop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Union of the supports of rows [start, stop) as (lo, hi) inclusive; lo > hi when empty."""
        start, stop = np.asarray(start), np.asarray(stop)
        empty = stop <= start
        first = np.where(empty, 0, start)
        last = np.where(empty, 0, stop - 1)
        lo = np.where(empty, 1, self.lo[first])
        hi = np.where(empty, 0, self.hi[last])
        return lo, hi

    def step_and_extent(self) -> tuple[int, int] | None:
        """(min lo increment, min support size) over unclipped rows, for fan-in lower bounds."""
        if not self.exact or self.n_out < 1:
            return None
        sizes = self.hi - self.lo + 1
        full = sizes == sizes.max()
        steps = np.diff(self.lo[full])
        step = int(steps.min()) if steps.size else 0
        if step > int(sizes.max()):
            return None
        return step, int(sizes.max())


def _compose(second: sp.csr_matrix, first: sp.csr_matrix) -> sp.csr_matrix:
    out = sp.csr_matrix(second @ first)
    out.data[:] = 1
    out.eliminate_zeros()
    return out


def _identity(n: int) -> sp.csr_matrix:
    return sp.identity(n, dtype=np.float32, format="csr")


def _window(n_out: int, n_in: int, taps: np.ndarray, stride: int, padding: int) -> sp.csr_matrix:
    """out i -> in i*stride - padding + tap for each tap offset, within [0, n_in)."""
    rows = np.repeat(np.arange(n_out), taps.size)
    cols = (rows * stride - padding) + np.tile(taps, n_out)
    keep = (cols >= 0) & (cols < n_in)
    data = np.ones(int(keep.sum()), dtype=np.float32)
    return sp.csr_matrix((data, (rows[keep], cols[keep])), shape=(n_out, n_in))


def _groups(c_out: int, c_in: int, groups: int) -> sp.csr_matrix:
    block = np.ones((c_out // groups, c_in // groups), dtype=np.float32)
    return sp.csr_matrix(sp.block_diag([block] * groups, format="csr"))


@dataclass(frozen=True, eq=False)
class KronPattern:
    src: tuple[int, int, int]
    dst: tuple[int, int, int]
    axes: tuple[AxisPattern, AxisPattern, AxisPattern]

    def to_explicit(self, node: str) -> "ExplicitPattern":
        nnz = math.prod(a.matrix.nnz for a in self.axes)
        if nnz > MAX_EXPLICIT_NNZ:
            raise SnnccError.single(
                "SNN457", f"the connectivity through {node} has {nnz:,} synapses, too many to "
                "analyse as an explicit matrix", node=node,
                hint="keep the Flatten directly before a small Affine, or split the layer")
        c, h, w = (a.matrix for a in self.axes)
        return ExplicitPattern(sp.csr_matrix(sp.kron(c, sp.kron(h, w, format="csr"), format="csr")))


@dataclass(frozen=True, eq=False)
class ExplicitPattern:
    matrix: sp.csr_matrix  # [n_dst, n_src], data all ones


@dataclass(frozen=True)
class ProjectionInfo:
    """One projection's connectivity and what its synapses cost."""

    name: str
    src: str
    dst: str
    pattern: KronPattern | ExplicitPattern
    weight_bits: int
    has_delay: bool
    #: weight entries per output channel when the chain is one shared-kernel convolution
    kernel_per_channel: int | None


def build_pattern(chain_nodes: list[tuple[str, object, tuple[int, ...]]],
                  src_shape: tuple[int, ...], dst_shape: tuple[int, ...]) -> KronPattern | ExplicitPattern:
    """``chain_nodes``: (name, node, input shape) in data-flow order."""
    current: KronPattern | ExplicitPattern
    v = view(src_shape)
    current = KronPattern(v, v, tuple(AxisPattern.of(_identity(n)) for n in v))
    for name, node, in_shape in chain_nodes:
        out_shape = tuple(node.output_shape(tuple(in_shape)))
        if isinstance(node, (Scale, BatchNorm, Delay)):
            continue
        if isinstance(node, (Conv1d, Conv2d, SumPool2d, AvgPool2d)) and isinstance(current, KronPattern):
            factors = _spatial_factors(node, tuple(in_shape), out_shape)
            axes = tuple(AxisPattern.of(_compose(f, a.matrix)) for f, a in zip(factors, current.axes))
            current = KronPattern(current.src, view(out_shape), axes)
            continue
        if isinstance(node, Flatten) and isinstance(current, KronPattern) and view(out_shape) == current.dst:
            continue
        explicit = current.to_explicit(name) if isinstance(current, KronPattern) else current
        if isinstance(node, Flatten):
            current = explicit
        elif isinstance(node, (Affine, Linear)):
            weight = sp.csr_matrix((np.asarray(node.weight) != 0).astype(np.float32))
            current = ExplicitPattern(_compose(weight, explicit.matrix))
        elif isinstance(node, (Conv1d, Conv2d, SumPool2d, AvgPool2d)):
            factors = _spatial_factors(node, tuple(in_shape), out_shape)
            kron = sp.kron(factors[0], sp.kron(factors[1], factors[2], format="csr"), format="csr")
            current = ExplicitPattern(_compose(sp.csr_matrix(kron), explicit.matrix))
        else:
            raise TypeError(f"{node.kind} in a projection chain")  # layer_graph already refused it
    if isinstance(current, KronPattern) and current.dst != view(dst_shape):
        current = current.to_explicit(chain_nodes[-1][0] if chain_nodes else "projection")
    return current


def _spatial_factors(node, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> list[sp.csr_matrix]:
    """Per-axis factors (channel, row, column) of a conv or pool in the (C, H, W) view."""
    cin, hin, win = view(in_shape)
    cout, hout, wout = view(out_shape)
    if isinstance(node, (Conv1d, Conv2d)):
        channel = _groups(cout, cin, int(node.groups))
        kernel = tuple(int(k) for k in node.weight.shape[2:])
        dil, stride, pad = node.dilation, node.stride, node.padding
    else:
        channel = _identity(cin)
        kernel, dil, stride, pad = node.kernel_size, (1, 1), node.stride, node.padding
    if len(kernel) == 1:  # 1-D: the row axis is trivial
        rows = _identity(1)
        cols = _window(wout, win, np.arange(kernel[0]) * dil[0], stride[0], pad[0])
    else:
        rows = _window(hout, hin, np.arange(kernel[0]) * dil[0], stride[0], pad[0])
        cols = _window(wout, win, np.arange(kernel[1]) * dil[1], stride[1], pad[1])
    return [channel, rows, cols]
