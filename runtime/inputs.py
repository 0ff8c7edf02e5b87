"""Input for `snncc run` / `bench`: dense arrays and event files, as ``[B, T, *input_shape]``.

Dense arrays (``.npy``, or a ``.npz`` with one array or one named ``input``) are
``[T, *shape]`` (one sample) or ``[B, T, *shape]``; the per-step part may also be
flattened to ``prod(shape)``. Values pass through unchanged: binary spikes or currents.

Event files hold ``x, y, polarity, t`` per event (DVS style): a structured ``.npy``, a
``.npz`` with those arrays (``p`` or ``polarity``), or a ``.csv``/``.txt`` with those
columns (a header names them; without one the order is x, y, polarity, t). An optional
``sample`` field puts events into batch rows. Event ``k`` lands in time step
``floor(t_k / dt)`` (bins ``[k dt, (k+1) dt)`` from t = 0) and in channel ``polarity``
(``> 0`` -> 1, else 0) of a ``(2, H, W)`` input, channel 0 of a ``(1, H, W)`` input, or
the pixel of an ``(H, W)`` input; a flat ``(n,)`` input needs the sensor size and is
the ``(C, H, W)`` layout flattened. Several events in one bin give one spike
(``mode="binary"``, what the chips take) or their count (``mode="count"``).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from snncc.diagnostics import SnnccError

__all__ = ["EventOptions", "LoadedInput", "as_batch", "bin_events", "load_input"]

TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6}
_EVENT_FIELDS = ("x", "y", "polarity", "t")


@dataclass(frozen=True)
class EventOptions:
    #: unit of the event timestamps: "s", "ms" or "us" (tonic / DVS files use microseconds)
    time_unit: str = "us"
    #: number of steps T (default: up to the last event)
    steps: int | None = None
    #: "binary" (one spike per bin) or "count" (events per bin)
    mode: str = "binary"
    #: (width, height) of the sensor; needed only for a flat input shape
    sensor: tuple[int, int] | None = None


@dataclass(frozen=True, eq=False)
class LoadedInput:
    x: np.ndarray  # [B, T, *input_shape] float32
    #: False when the file held one unbatched sample ([T, ...]): outputs drop the batch axis again
    batched: bool
    notes: list[str] = field(default_factory=list)


def _error(message: str, file: str | None = None, hint: str | None = None) -> SnnccError:
    return SnnccError.single("SNN603", message, file=file, hint=hint)


def as_batch(x: np.ndarray, input_shape: Sequence[int], file: str | None = None) -> tuple[np.ndarray, bool]:
    """``x`` as ``[B, T, *input_shape]`` float32, and whether it had a batch axis."""
    shape, x = tuple(int(d) for d in input_shape), np.asarray(x)
    size, k = math.prod(shape), len(shape)
    if x.dtype.kind not in "biuf":
        raise _error(f"input array has dtype {x.dtype}; expected numbers (spikes or currents)", file)
    for batched, lead in ((False, 1), (True, 2)):
        if x.ndim == lead + k and x.shape[lead:] == shape:
            out = x
        elif k > 1 and x.ndim == lead + 1 and x.shape[lead] == size:
            out = x.reshape(*x.shape[:lead], *shape)
        else:
            continue
        out = (out if batched else out[None]).astype(np.float32)
        if not np.isfinite(out).all():
            raise _error("input array contains NaN or infinite values", file)
        return out, batched
    dims = ", ".join(map(str, shape))
    raise _error(f"input of shape {tuple(x.shape)} does not fit the model's per-step input shape {shape}", file,
                 hint=f"give [T, {dims}] for one sample or [B, T, {dims}] for a batch")


def load_input(path: str, input_shape: Sequence[int], dt: float | None,
               events: EventOptions = EventOptions()) -> LoadedInput:
    """Read ``path`` (dense array or event file) as the model's batched input."""
    if not os.path.isfile(path):
        raise SnnccError.single("SNN101", "file not found", file=path, hint="check the path")
    suffix = os.path.splitext(path)[1].lower()
    if suffix in (".csv", ".txt"):
        return bin_events(_read_csv(path), input_shape, dt, events, file=path)
    if suffix not in (".npy", ".npz"):
        raise _error(f"unsupported input file type '{suffix or '(none)'}'", path,
                     hint="give a .npy/.npz array, or events as .npz/.npy (x, y, polarity, t) or .csv")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise _error(f"cannot read input: {exc}", path, hint="save arrays with numpy.save / numpy.savez") from None
    if suffix == ".npy":
        if loaded.dtype.names:
            return bin_events({n: loaded[n] for n in loaded.dtype.names}, input_shape, dt, events, file=path)
        x, batched = as_batch(loaded, input_shape, path)
        return LoadedInput(x, batched)
    with loaded:
        arrays = {name: loaded[name] for name in loaded.files}
    if {"x", "y", "t"} <= set(arrays) and ({"p", "polarity"} & set(arrays)):
        return bin_events(arrays, input_shape, dt, events, file=path)
    if len(arrays) != 1 and "input" not in arrays:
        raise _error(f"the archive holds {sorted(arrays)}; cannot tell which is the input", path,
                     hint="store one array, or name it 'input', or store events as x, y, polarity, t")
    x, batched = as_batch(arrays.get("input", next(iter(arrays.values()))), input_shape, path)
    return LoadedInput(x, batched)


def _read_csv(path: str) -> dict[str, np.ndarray]:
    with open(path) as handle:
        first = handle.readline()
    header = [c.strip().lower() for c in first.replace(";", ",").split(",")]
    has_header = any(c and not _is_number(c) for c in header)
    try:
        table = np.loadtxt(path, delimiter=",", skiprows=1 if has_header else 0, ndmin=2)
    except ValueError as exc:
        raise _error(f"cannot read events: {exc}", path, hint="comma-separated numbers: x,y,polarity,t") from None
    names = header if has_header else list(_EVENT_FIELDS)
    if table.shape[1] != len(names):
        raise _error(f"event table has {table.shape[1]} columns for {len(names)} names ({', '.join(names)})", path,
                     hint="columns x,y,polarity,t (optionally sample)")
    return {name: table[:, i] for i, name in enumerate(names)}


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _event_layout(shape: tuple[int, ...], sensor: tuple[int, int] | None, file: str | None) -> tuple[int, int, int]:
    """(channels, height, width) of the per-step input an event stream fills."""
    if len(shape) == 3 and shape[0] in (1, 2):
        return shape
    if len(shape) == 2:
        return (1, *shape)
    if len(shape) == 1 and sensor is not None:
        width, height = sensor
        for channels in (2, 1):
            if channels * width * height == shape[0]:
                return channels, height, width
        raise _error(f"a {width}x{height} sensor does not fill the flat input of {shape[0]} values", file,
                     hint="the flat input must be 2*W*H (polarity channels) or W*H")
    raise _error(f"cannot place events into the model's input shape {shape}", file,
                 hint="events need an input of shape (2, H, W), (1, H, W) or (H, W); "
                      "for a flat input pass the sensor size (--sensor W,H)")


def bin_events(fields: Mapping[str, np.ndarray], input_shape: Sequence[int], dt: float | None,
               options: EventOptions = EventOptions(), file: str | None = None) -> LoadedInput:
    """Bin events ``x, y, polarity (or p), t [, sample]`` into ``[B, T, *input_shape]``."""
    shape = tuple(int(d) for d in input_shape)
    if dt is None:
        raise _error("events need the model's time step, but the artifact has no dt", file)
    if options.time_unit not in TIME_UNITS or options.mode not in ("binary", "count"):
        raise _error(f"bad event options: time unit '{options.time_unit}', mode '{options.mode}'", file,
                     hint=f"time units: {', '.join(TIME_UNITS)}; modes: binary, count")
    polarity = fields.get("polarity", fields.get("p"))
    missing = [n for n in ("x", "y", "t") if n not in fields] + (["polarity"] if polarity is None else [])
    if missing:
        raise _error(f"events lack field(s) {', '.join(missing)}", file, hint="events need x, y, polarity, t")
    x, y, t = (np.asarray(fields[n], dtype=np.float64).reshape(-1) for n in ("x", "y", "t"))
    sample = np.asarray(fields.get("sample", np.zeros_like(x)), dtype=np.float64).reshape(-1)
    polarity = np.asarray(polarity, dtype=np.float64).reshape(-1)
    channels, height, width = _event_layout(shape, options.sensor, file)
    problems = []
    for name, values, bound in (("x", x, width), ("y", y, height), ("sample", sample, None)):
        bad = (values < 0) | (values != np.floor(values)) | ((values >= bound) if bound else False)
        if bad.any():
            limit = f" in [0, {bound})" if bound else ""
            problems.append(f"{int(bad.sum())} event(s) with {name} not an integer{limit}")
    if (t < 0).any() or not np.isfinite(t).all():
        problems.append("events with negative or non-finite timestamps")
    if problems:
        raise _error("; ".join(problems), file, hint=f"the model's input is {shape}; check the sensor size and fields")
    # a tiny epsilon so t = k*dt lands in bin k despite float rounding of the unit conversion
    step = np.floor(t * TIME_UNITS[options.time_unit] / dt + 1e-9).astype(np.int64)
    steps = options.steps if options.steps is not None else int(step.max()) + 1 if step.size else 1
    notes = []
    keep = step < steps
    if not keep.all():
        notes.append(f"{int((~keep).sum())} event(s) after the last of {steps} steps were dropped")
    batch = int(sample.max()) + 1 if sample.size else 1
    dense = np.zeros((batch, steps, channels, height, width), dtype=np.float32)
    channel = (polarity > 0).astype(np.int64) if channels == 2 else np.zeros(x.shape, np.int64)
    index = (sample.astype(np.int64)[keep], step[keep], channel[keep], y.astype(np.int64)[keep], x.astype(np.int64)[keep])
    np.add.at(dense, index, 1.0)
    if options.mode == "binary":
        np.minimum(dense, 1.0, out=dense)
    return LoadedInput(dense.reshape(batch, steps, *shape), batched="sample" in fields, notes=notes)
