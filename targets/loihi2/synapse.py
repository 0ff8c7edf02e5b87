"""Integer synapses of the golden model: Lava's weight quantisation and a fast exact
spike accumulator for Dense / DelayDense (a Sparse process is Dense on its nonzeros).

Lava (``lava/proc/dense/models.py``, ``lava/utils/weightutils.py``), once at the first
step: derive the sign mode from the weight signs unless given, ``clip_weights`` to
[-256, 255] (mixed), [0, 255] (excitatory) or [-255, 0] (inhibitory), then
``truncate_weights``: ``W = (W >> k) << k`` with ``k = 8 - num_weight_bits + mixed``
(on ``-W`` for inhibitory). Each step: ``acc = sum of W[:, j] over active j`` and
``a = acc << weight_exp`` (``>> -weight_exp``, arithmetic, when negative).

Speed without changing a bit: after truncation every weight is ``M << k`` with
``M = W >> k`` spanning at most 256 consecutive integers, so ``M - c`` fits int8 for
one offset ``c`` per connection. Then ``acc = ((S @ (M - c)) + c * |S|) << k``
exactly, where ``S @ (M - c)`` is an int8 x int8 -> int32 matmul (batched) or an
int8 row gather summed in int32 (sparse / unbatched input). A batched connection whose
weights are mostly zero (a lowered convolution) multiplies ``M`` stored as a float32 CSR
matrix instead: its sums are integers below 2**24, so float32 holds them exactly in any
summation order.
"""
from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import scipy.sparse as sp

from snncc.targets.loihi2.netspec import Connection
from snncc.targets.loihi2.validate import effective_sign_mode, truncate_bits

__all__ = ["quantize_weights", "Accumulator", "matmul_threads"]

# Batches whose spike density is below 1/64 use the row gather instead of the matmul.
_SPARSE_DENSITY = 1 / 64
# Weights at most this dense are multiplied as CSR: measured on the NIR paper CNN (batch 64,
# 2 cores), a CSR product costs about 18x the dense int8 matmul per stored weight.
_CSR_WEIGHT_DENSITY = 1 / 16
_CSR_ROWS = 64  # spike rows per CSR product: 16x the rows took 40x the time


def quantize_weights(conn: Connection) -> np.ndarray:
    """The weight matrix Lava's fixed-point Dense actually uses (int64, (dst, src))."""
    mode = effective_sign_mode(conn)
    w = np.asarray(conn.weights, dtype=np.int64)
    mag = -w if mode == "inhibitory" else w
    mag = np.clip(mag, -256 if mode == "mixed" else 0, 255)
    k = truncate_bits(mode, conn.num_weight_bits)
    mag = (mag >> k) << k
    return -mag if mode == "inhibitory" else mag


@contextlib.contextmanager
def matmul_threads(threads: int | None) -> Iterator[None]:
    """Run batched accumulations on ``threads`` torch threads (None: leave as is).

    One thread is the default of :func:`golden.simulate`: the int8 matmuls are small and
    a spinning OpenMP pool loses badly on a shared, busy CPU.
    """
    torch, _ = _int_mm()
    if threads is None or torch is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _int_mm():  # torch is a core snncc dependency; imported only when batching
    try:
        import torch

        return torch, torch._int_mm
    except (ImportError, AttributeError):
        return None, None


@dataclass
class Accumulator:
    """Exact ``sum of quantised weight columns of active inputs`` for one connection.

    ``mt8`` holds ``(M - offset)^T`` with, for a DelayDense, one block of ``n_dst``
    columns per distinct delay value (``delay_values``, sorted). :meth:`__call__` returns int32
    ``[B, n_blocks, n_dst]`` sums of ``M``; the caller shifts by ``k + weight_exp``.
    """

    mt8: np.ndarray          # (n_src, n_blocks * n_dst) int8, = M - offset
    offset: int
    k: int
    n_blocks: int
    n_dst: int
    delay_values: np.ndarray | None = None
    csr: object = None       # torch float32 CSR of M, (n_blocks * n_dst, n_src), if sparse
    _torch_w: object = None

    @classmethod
    def build(cls, conn: Connection) -> "Accumulator":
        delay_values = None if conn.delays is None else np.unique(conn.delays)
        wq = quantize_weights(conn)
        k = truncate_bits(effective_sign_mode(conn), conn.num_weight_bits)
        m = (wq >> k).T.astype(np.int16)  # (n_src, n_dst); exact: wq is a multiple of 2**k
        n_src, n_dst = m.shape
        lo, hi = (int(m.min()), int(m.max())) if m.size else (0, 0)
        if delay_values is not None:      # delay blocks also hold zeros
            lo, hi = min(lo, 0), max(hi, 0)
        offset = 0 if (lo >= -128 and hi <= 127) else lo + 128
        if delay_values is None:
            mt8 = np.ascontiguousarray((m - offset).astype(np.int8))
            return cls(mt8, offset, k, 1, n_dst, csr=_sparse_weights(m.T))
        # one int8 block of n_dst columns per distinct delay value, built in place
        mt8 = np.empty((n_src, len(delay_values) * n_dst), np.int8)
        delays_t = conn.delays.T
        for b, d in enumerate(delay_values):
            mt8[:, b * n_dst:(b + 1) * n_dst] = np.where(delays_t == d, m - offset, -offset)
        blocks = np.concatenate([np.where(conn.delays == d, m.T, 0) for d in delay_values])
        return cls(mt8, offset, k, len(delay_values), n_dst, delay_values, _sparse_weights(blocks))

    def __call__(self, spikes: np.ndarray) -> np.ndarray | None:
        """``spikes``: bool ``[B, n_src]``. Returns int32 ``[B, n_blocks, n_dst]`` holding
        ``sum(M) = sum(W) >> k`` (exact), or None if nothing fired."""
        batch = spikes.shape[0]
        if batch == 1:
            idx = np.flatnonzero(spikes)
            if idx.size == 0:
                return None
            acc = self.mt8[idx].sum(axis=0, dtype=np.int32)[None]
            if self.offset:
                acc += self.offset * idx.size
            return acc.reshape(1, self.n_blocks, self.n_dst)
        counts = np.count_nonzero(spikes, axis=1)
        total = int(counts.sum())
        if total == 0:
            return None
        if total <= _SPARSE_DENSITY * spikes.size:
            acc = np.zeros((batch, self.mt8.shape[1]), np.int32)
            for b in np.flatnonzero(counts):
                acc[b] = self.mt8[np.flatnonzero(spikes[b])].sum(axis=0, dtype=np.int32)
        elif self.csr is not None:
            return self._csr_matmul(spikes).reshape(batch, self.n_blocks, self.n_dst)
        else:
            acc = self._matmul(spikes)
        if self.offset:
            acc += (self.offset * counts.astype(np.int32))[:, None]
        return acc.reshape(batch, self.n_blocks, self.n_dst)

    def _csr_matmul(self, spikes: np.ndarray) -> np.ndarray:
        """``spikes @ M`` (no offset) through the float32 CSR weights; int32 ``[B, cols]``."""
        torch, _ = _int_mm()
        out = np.empty((spikes.shape[0], self.csr.shape[0]), np.int32)
        for start in range(0, spikes.shape[0], _CSR_ROWS):  # larger blocks fall out of cache
            s = torch.from_numpy(spikes[start:start + _CSR_ROWS]).to(torch.float32).t()
            out[start:start + _CSR_ROWS] = torch.sparse.mm(self.csr, s).t().numpy()
        return out

    def _matmul(self, spikes: np.ndarray) -> np.ndarray:
        torch, int_mm = _int_mm()
        s8 = np.ascontiguousarray(spikes, dtype=np.int8)
        if int_mm is not None:
            if self._torch_w is None:
                self._torch_w = torch.from_numpy(self.mt8)
            return int_mm(torch.from_numpy(s8), self._torch_w).numpy()
        # float32 sums of |values| <= 128 * n_src are exact below 2**24
        dtype = np.float32 if 128 * self.mt8.shape[0] < 2**24 else np.float64
        return (s8.astype(dtype) @ self.mt8.astype(dtype)).astype(np.int32)


def _sparse_weights(m: np.ndarray):
    """``m`` ((rows, n_src), integers of magnitude <= 256) as a torch float32 CSR matrix when
    at most :data:`_CSR_WEIGHT_DENSITY` of it is nonzero and every row sum stays exact in
    float32 (below 2**24); otherwise None."""
    nnz = np.count_nonzero(m, axis=1)
    if m.size == 0 or nnz.sum() > _CSR_WEIGHT_DENSITY * m.size or 256 * nnz.max() >= 2**24:
        return None
    torch, _ = _int_mm()
    if torch is None:
        return None
    w = sp.csr_matrix(m.astype(np.float32))
    with warnings.catch_warnings():  # "Sparse CSR tensor support is in beta state"
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(torch.from_numpy(w.indptr.astype(np.int64)),
                                       torch.from_numpy(w.indices.astype(np.int64)),
                                       torch.from_numpy(w.data), size=w.shape)
