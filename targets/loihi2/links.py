"""Run-time state of one connection (Dense / DelayDense) in the golden simulator.

Values handed to the LIF are Lava's int32 ``a_out`` payloads already shifted left by
the LIF's activation shift (6). Shifting each connection's payload instead of their
sum is exact modulo 2**32, which is all Lava's int32 arithmetic keeps.
"""
from __future__ import annotations

import numpy as np

from snncc.targets.loihi2.lif import ACT_SHIFT
from snncc.targets.loihi2.netspec import Connection
from snncc.targets.loihi2.synapse import Accumulator

__all__ = ["Link"]

# Input-port connections are accumulated for many steps in one call (their spikes are
# known in advance); chunks hold at most this many int32 sums.
CHUNK_ELEMS = 1 << 22


class Link:
    """One connection's accumulator and its one-step (Dense) or ring (DelayDense) buffer.

    ``external`` (bool ``[B, T, n_src]``) marks a connection from an input port: its
    sums for a chunk of steps come from one batched accumulation instead of per step.
    """

    def __init__(self, conn: Connection, acc: Accumulator, batch: int,
                 external: np.ndarray | None = None, chunk_elems: int = CHUNK_ELEMS):
        self.conn = conn
        self.acc = acc
        self.total_shift = acc.k + int(conn.weight_exp)   # (sum M << k) << weight_exp
        n_dst = conn.weights.shape[0]
        self._zeros = np.zeros((batch, n_dst), np.int32)
        self._current = self._zeros                       # Dense: last step's payload
        depth = 1 if conn.delays is None else int(conn.delays.max()) + 1
        self.ring = np.zeros((depth, batch, n_dst), np.int32) if depth > 1 else None
        self.head = 0
        self.external = external
        self.chunk_elems = chunk_elems
        self._chunk: np.ndarray | None = None
        self._chunk_range = (0, 0)

    def _payload(self, acc: np.ndarray) -> np.ndarray:
        """``(acc << k) << weight_exp`` (``>>`` if negative), then ``<< 6``, in place.

        int32 keeps the low 32 bits, exactly as Lava's int64 ``a_buff`` cast to its
        int32 port; the right shift acts on the exact sum before any left shift.
        """
        if self.total_shift >= 0:
            return np.left_shift(acc, self.total_shift + ACT_SHIFT, out=acc)
        np.right_shift(acc, -self.total_shift, out=acc)
        return np.left_shift(acc, ACT_SHIFT, out=acc)

    def output(self) -> np.ndarray:
        """What Lava's ``a_out.send`` emits this step (computed at the previous step),
        pre-shifted by 6. Read-only for the caller."""
        return self._current if self.ring is None else self.ring[self.head]

    def _external_sums(self, i: int) -> np.ndarray | None:
        start, stop = self._chunk_range
        if not start <= i < stop:
            b, t, n = self.external.shape
            per_step = max(1, b * self.acc.mt8.shape[1])
            stop = min(t, i + max(1, self.chunk_elems // per_step))
            sums = self.acc(self.external[:, i:stop].reshape(b * (stop - i), n))
            self._chunk = None if sums is None else self._payload(
                sums.reshape(b, stop - i, self.acc.n_blocks, self.acc.n_dst))
            self._chunk_range = start, stop = i, stop
        return None if self._chunk is None else self._chunk[:, i - start]

    def advance(self, i: int, spikes: np.ndarray | None) -> None:
        """Accumulate step ``i``'s source spikes (bool ``[B, n_src]``, or None when
        the source is an input port). Lava sends first, then accumulates: what is
        computed here is delivered at step ``i + 1`` (``i + d + 1`` with delay ``d``)."""
        if self.external is not None:
            acc = self._external_sums(i)
        else:
            acc = self.acc(spikes)
            acc = None if acc is None else self._payload(acc)
        if self.ring is None:
            self._current = self._zeros if acc is None else acc[:, 0]
            return
        depth = self.ring.shape[0]
        self.ring[self.head] = 0
        self.head = (self.head + 1) % depth
        if acc is not None:
            for block, d in enumerate(self.acc.delay_values):
                slot = self.ring[(self.head + int(d)) % depth]
                np.add(slot, acc[:, block], out=slot)
