"""Deterministic, atomic artifact writing.

Same input and options give byte-identical files: JSON with sorted keys, and .npz
archives written with a fixed zip timestamp (numpy's savez stamps the current time).
An output directory is built in a temporary sibling and renamed into place only
when everything succeeded, so a failed compile leaves nothing half-written.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from typing import Any, Iterator, Mapping

import numpy as np

_EPOCH = (1980, 1, 1, 0, 0, 0)


def to_jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "value") and isinstance(getattr(value, "value"), str):  # enums
        return value.value
    return value


def json_text(obj: Any) -> str:
    return json.dumps(to_jsonable(obj), indent=2, sort_keys=True) + "\n"


def write_json(path: str, obj: Any) -> None:
    with open(path, "w") as handle:
        handle.write(json_text(obj))


def write_npz(path: str, arrays: Mapping[str, np.ndarray]) -> None:
    """np.savez-compatible archive with fixed timestamps and sorted members."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, buffer.getvalue())


@contextlib.contextmanager
def atomic_directory(path: str) -> Iterator[str]:
    """Yield a temporary directory that replaces ``path`` only if the block succeeds."""
    parent = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.", dir=parent)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = None
    if os.path.exists(path):
        old = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.old.", dir=parent)
        os.rmdir(old)
        os.rename(path, old)
    os.rename(staging, path)
    os.chmod(path, 0o755)
    if old:
        shutil.rmtree(old, ignore_errors=True)
