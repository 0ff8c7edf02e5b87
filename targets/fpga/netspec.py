"""Plain-data network spec for the FPGA target: a feed-forward chain of layer engines.

The lead lowers compiled IR graphs into :class:`NetSpec`; everything below (golden
model, emitted memories and Verilog, cycle simulator) starts from here. Conv layers
are lowered to an equivalent dense connectivity matrix inside their engine
(:meth:`LayerSpec.dense_weights`), which the event-driven engine visits column-wise.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from snncc.diagnostics import Diagnostic
from snncc.mapping.models import FpgaModel

#: the map-cores resource model budgets engines with the same default widths and folding
_ENGINE = FpgaModel()


@dataclass(frozen=True)
class LeakSpec:
    """kind 'none' | 'shift' (param = k, beta = 1 - 2^-k) | 'mul' (param = m, beta = m / 2^f).
    ``param`` is a scalar or one value per neuron (per output channel for conv)."""

    kind: str = "none"
    param: object = 0
    frac_bits: int = 0


@dataclass(frozen=True)
class Conv2dGeometry:
    in_shape: tuple[int, int, int]  # (Cin, H, W), flattened C-major like torch
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)


@dataclass(frozen=True, eq=False)
class LayerSpec:
    """One engine. ``weights`` is (N_out, N_in) for dense or (Cout, Cin, kh, kw) with
    ``conv`` set. threshold/bias: scalar, per neuron, or per output channel (conv).
    ``recurrent`` (N_out, N_out), optional: weights from this layer's own spikes of the
    previous time step (same w_bits). ``engine``: 'dense' (conv lowered to a dense matrix)
    or 'conv' (conv layers only: shared kernel memory, PE output channels, SIMD 1)."""

    name: str
    weights: np.ndarray
    threshold: object
    bias: object = 0
    leak: LeakSpec = field(default_factory=LeakSpec)
    reset: str = "subtract"
    reset_value: int = 0
    comparator: str = ">="
    w_bits: int = _ENGINE.weight_bits
    v_bits: int = _ENGINE.v_bits
    acc_bits: int = _ENGINE.acc_bits
    pe: int = _ENGINE.pe
    simd: int = _ENGINE.simd
    conv: Conv2dGeometry | None = None
    recurrent: np.ndarray | None = None
    engine: str = "dense"

    # --- derived shapes -------------------------------------------------
    @property
    def out_shape(self) -> tuple[int, ...]:
        w = np.asarray(self.weights)
        if self.conv is None:
            return (int(w.shape[0]),)
        cin, h, wd = self.conv.in_shape
        (sh, sw), (ph, pw) = self.conv.stride, self.conv.padding
        ho = (h + 2 * ph - w.shape[2]) // sh + 1
        wo = (wd + 2 * pw - w.shape[3]) // sw + 1
        return (int(w.shape[0]), int(ho), int(wo))

    @property
    def n_out(self) -> int:
        return int(np.prod(self.out_shape))

    @property
    def n_in(self) -> int:
        w = np.asarray(self.weights)
        return int(np.prod(self.conv.in_shape)) if self.conv else int(w.shape[1])

    @property
    def n_rec(self) -> int:
        return 0 if self.recurrent is None else self.n_out

    @property
    def n_cols(self) -> int:
        """Columns of the engine's weight memory: feed-forward inputs, then own spikes."""
        return self.n_in + self.n_rec

    def engine_weights(self) -> np.ndarray:
        """(N_out, N_in + N_rec): dense feed-forward weights, then the recurrent ones."""
        if self.recurrent is None:
            return self.dense_weights()
        return np.hstack([self.dense_weights(), np.asarray(self.recurrent, dtype=np.int64)])

    def _per_neuron(self, value: object) -> np.ndarray:
        a = np.asarray(value, dtype=np.int64)
        if a.ndim == 0:
            return np.full(self.n_out, int(a), dtype=np.int64)
        if self.conv is not None and a.shape == (self.out_shape[0],):
            return np.repeat(a, self.out_shape[1] * self.out_shape[2])
        return a.reshape(-1)

    def thresholds(self) -> np.ndarray:
        return self._per_neuron(self.threshold)

    def biases(self) -> np.ndarray:
        return self._per_neuron(self.bias)

    def leak_params(self) -> np.ndarray:
        return self._per_neuron(self.leak.param if self.leak.kind != "none" else 0)

    def synaptic_range(self) -> tuple[int, int]:
        """(lowest, highest) synaptic sum one neuron can reach in a step (all its negative or
        all its positive weights at once): what the accumulator must hold."""
        neg, pos = self.synaptic_row_sums()
        return int(neg.min(initial=0)), int(pos.max(initial=0))

    def synaptic_row_sums(self) -> tuple[np.ndarray, np.ndarray]:
        """:func:`row_sums` of :meth:`engine_weights`; a conv layer's without building the dense
        matrix (neuron (co, y, x) sums the kernel taps whose input pixel lies inside the image)."""
        if self.conv is None:
            return row_sums(self.engine_weights())
        w = np.asarray(self.weights, dtype=np.int64)
        _, _, kh, kw = w.shape
        _, h, wd = self.conv.in_shape
        (sh, sw), (ph, pw) = self.conv.stride, self.conv.padding
        _, ho, wo = self.out_shape
        iy = np.arange(ho)[:, None] * sh - ph + np.arange(kh)  # (ho, kh)
        ix = np.arange(wo)[:, None] * sw - pw + np.arange(kw)  # (wo, kw)
        inside = (((iy >= 0) & (iy < h))[:, None, :, None]
                  & ((ix >= 0) & (ix < wd))[None, :, None, :]).astype(np.int64)  # (ho, wo, kh, kw)
        neg, pos = (np.einsum("yxab,cab->cyx", inside, part.sum(axis=1)).reshape(-1)
                    for part in (np.minimum(w, 0), np.maximum(w, 0)))
        if self.recurrent is not None:
            rec_neg, rec_pos = row_sums(self.recurrent)
            neg, pos = neg + rec_neg, pos + rec_pos
        return neg, pos

    def dense_weights(self) -> np.ndarray:
        """(N_out, N_in) int64 connectivity; conv lowered with zero padding."""
        w = np.asarray(self.weights, dtype=np.int64)
        if self.conv is None:
            return w
        cout, cin, kh, kw = w.shape
        _, h, wd = self.conv.in_shape
        (sh, sw), (ph, pw) = self.conv.stride, self.conv.padding
        _, ho, wo = self.out_shape
        dense = np.zeros((cout, ho, wo, cin, h, wd), dtype=np.int64)
        for y in range(ho):
            for x in range(wo):
                for dy in range(kh):
                    for dx in range(kw):
                        iy, ix = y * sh - ph + dy, x * sw - pw + dx
                        if 0 <= iy < h and 0 <= ix < wd:
                            dense[:, y, x, :, iy, ix] = w[:, :, dy, dx]
        return dense.reshape(cout * ho * wo, cin * h * wd)


def row_sums(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the sum of its negative and the sum of its positive entries."""
    m = np.asarray(matrix, dtype=np.int64)
    return np.minimum(m, 0).sum(axis=1), np.maximum(m, 0).sum(axis=1)


@dataclass(frozen=True, eq=False)
class NetSpec:
    """Feed-forward chain; layer l+1 sees layer l's spikes of the same time step."""

    n_in: int
    layers: tuple[LayerSpec, ...]
    max_mem_depth: int = 1 << 20

    def validate(self) -> list[Diagnostic]:
        from .validate import validate_netspec

        return validate_netspec(self)


__all__ = ["LeakSpec", "Conv2dGeometry", "LayerSpec", "NetSpec"]
