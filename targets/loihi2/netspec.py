"""Plain-data integer network spec for the Loihi 2 target.

A :class:`NetSpec` is what the compiler lowers an IR graph into and what both the
golden simulator (:mod:`.golden`) and the Lava runner (:mod:`.lava_runner`) consume.
All values are Lava's integer parameters, unscaled: weights are the int matrix given
to ``Dense(weights=...)`` (shape ``(dst, src)``), ``vth`` is the 17-bit mantissa, etc.
Ranges are checked by :func:`snncc.targets.loihi2.validate.validate`.

Persistence: ``save(prefix)`` writes ``prefix.json`` (structure and scalars) and
``prefix.npz`` (arrays), both byte-for-byte deterministic.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from snncc.artifacts import write_json, write_npz
from snncc.diagnostics import Diagnostic

__all__ = ["InputPort", "LifPopulation", "Connection", "NetSpec", "SignModeName"]

SignModeName = Literal["mixed", "excitatory", "inhibitory"]
SIGN_MODES: tuple[str, ...] = ("mixed", "excitatory", "inhibitory")
FORMAT = "snncc.loihi2.netspec/1"


def _int_array(value: object, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Read-only int64 copy; scalars broadcast to ``shape``. Non-integers are kept
    as given (float) so that validation can report them instead of silently rounding."""
    arr = np.asarray(value)
    if shape is not None and arr.ndim == 0:
        arr = np.full(shape, arr.item())
    if arr.dtype.kind in "iub":
        arr = arr.astype(np.int64)
    else:
        arr = arr.astype(np.float64)
    arr = arr.copy()
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True)
class InputPort:
    """Binary spike input of ``size`` channels (a Lava source ``RingBuffer``)."""

    name: str
    size: int


@dataclass(frozen=True, eq=False)
class LifPopulation:
    """One Lava ``LIF`` process: du, dv, vth shared; bias and initial ``v`` per neuron.

    ``v_init`` is Lava's ``v`` at the population's start (unscaled, i.e. already
    including the << 6 of the activation; default 0). The lowering uses it for the
    threshold offsets (a membrane stored shifted by ``-v_init``).
    """

    name: str
    size: int
    du: int
    dv: int
    vth: int
    bias_mant: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    bias_exp: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    v_init: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def __post_init__(self) -> None:
        shape = (int(self.size),)
        for name in ("bias_mant", "bias_exp", "v_init"):
            value = getattr(self, name)
            object.__setattr__(self, name, _int_array(value if np.size(value) else 0, shape))


@dataclass(frozen=True, eq=False)
class Connection:
    """Dense (or, with ``delays``, DelayDense) synapses ``src -> dst``.

    ``weights`` has shape ``(dst.size, src.size)`` as in Lava. ``sign_mode`` None
    means "derive from the weight signs", as Lava does. ``delays`` (same shape,
    0..62) turns the connection into a ``DelayDense``. ``sparse`` emits Lava's
    ``Sparse`` / ``DelaySparse`` instead: the same arithmetic on the nonzero pattern.
    """

    name: str
    src: str
    dst: str
    weights: np.ndarray
    num_weight_bits: int = 8
    weight_exp: int = 0
    sign_mode: SignModeName | None = None
    delays: np.ndarray | None = None
    sparse: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", _int_array(self.weights))
        if self.delays is not None:
            object.__setattr__(self, "delays", _int_array(self.delays, self.weights.shape))


@dataclass(frozen=True, eq=False)
class NetSpec:
    """Inputs, LIF populations and connections; names are unique across all three."""

    inputs: tuple[InputPort, ...]
    populations: tuple[LifPopulation, ...]
    connections: tuple[Connection, ...]

    def __post_init__(self) -> None:
        for name in ("inputs", "populations", "connections"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    # -- lookup -----------------------------------------------------------------
    def population(self, name: str) -> LifPopulation:
        return next(p for p in self.populations if p.name == name)

    def source_size(self, name: str) -> int | None:
        for item in (*self.inputs, *self.populations):
            if item.name == name:
                return item.size
        return None

    def validate(self) -> list[Diagnostic]:
        """Every violation of Lava / Loihi 2 ranges and structure (see validate.py)."""
        from snncc.targets.loihi2.validate import validate

        return validate(self)

    def check(self) -> None:
        """Raise :class:`snncc.diagnostics.SnnccError` with all errors, if any."""
        from snncc.diagnostics import DiagnosticList

        found = DiagnosticList()
        found.extend(self.validate())
        found.raise_if_errors()

    # -- equality (arrays compared by value) --------------------------------------
    def equals(self, other: "NetSpec") -> bool:
        a_meta, a_arrays = self._to_plain()
        b_meta, b_arrays = other._to_plain()
        return a_meta == b_meta and a_arrays.keys() == b_arrays.keys() and all(
            a_arrays[k].dtype == b_arrays[k].dtype and np.array_equal(a_arrays[k], b_arrays[k])
            for k in a_arrays
        )

    # -- persistence --------------------------------------------------------------
    def _to_plain(self) -> tuple[dict, dict[str, np.ndarray]]:
        arrays: dict[str, np.ndarray] = {}
        pops = []
        for i, p in enumerate(self.populations):
            arrays[f"pop{i}.bias_mant"] = p.bias_mant
            arrays[f"pop{i}.bias_exp"] = p.bias_exp
            if p.v_init.any():
                arrays[f"pop{i}.v_init"] = p.v_init
            pops.append({"name": p.name, "size": int(p.size), "du": int(p.du),
                         "dv": int(p.dv), "vth": int(p.vth)})
        conns = []
        for i, c in enumerate(self.connections):
            arrays[f"conn{i}.weights"] = c.weights
            if c.delays is not None:
                arrays[f"conn{i}.delays"] = c.delays
            conns.append({"name": c.name, "src": c.src, "dst": c.dst,
                          "num_weight_bits": int(c.num_weight_bits),
                          "weight_exp": int(c.weight_exp), "sign_mode": c.sign_mode,
                          "has_delays": c.delays is not None, "sparse": bool(c.sparse)})
        meta = {"format": FORMAT,
                "inputs": [{"name": p.name, "size": int(p.size)} for p in self.inputs],
                "populations": pops, "connections": conns}
        return meta, arrays

    def save(self, prefix: str | Path) -> tuple[Path, Path]:
        """Write ``prefix.json`` and ``prefix.npz`` deterministically."""
        prefix = Path(prefix)
        meta, arrays = self._to_plain()
        json_path = prefix.with_name(prefix.name + ".json")
        npz_path = prefix.with_name(prefix.name + ".npz")
        write_json(str(json_path), meta)
        write_npz(str(npz_path), arrays)
        return json_path, npz_path

    @classmethod
    def load(cls, prefix: str | Path) -> "NetSpec":
        prefix = Path(prefix)
        meta = json.loads(prefix.with_name(prefix.name + ".json").read_text())
        if meta.get("format") != FORMAT:
            from snncc.diagnostics import SnnccError

            raise SnnccError.single("SNN102", f"not a {FORMAT} file: format={meta.get('format')!r}",
                                    file=str(prefix) + ".json",
                                    hint="write it with NetSpec.save")
        with np.load(prefix.with_name(prefix.name + ".npz"), allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        inputs = tuple(InputPort(d["name"], d["size"]) for d in meta["inputs"])
        pops = tuple(
            LifPopulation(d["name"], d["size"], d["du"], d["dv"], d["vth"],
                          arrays[f"pop{i}.bias_mant"], arrays[f"pop{i}.bias_exp"],
                          arrays.get(f"pop{i}.v_init", 0))
            for i, d in enumerate(meta["populations"]))
        conns = tuple(
            Connection(d["name"], d["src"], d["dst"], arrays[f"conn{i}.weights"],
                       d["num_weight_bits"], d["weight_exp"], d["sign_mode"],
                       arrays[f"conn{i}.delays"] if d["has_delays"] else None,
                       d.get("sparse", False))
            for i, d in enumerate(meta["connections"]))
        return cls(inputs, pops, conns)
