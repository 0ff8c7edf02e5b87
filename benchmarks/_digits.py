"""The trained digits example (examples/digits/train.py), for the benchmarks that use it."""
from __future__ import annotations

from pathlib import Path

from snncc.loading import import_file

TRAIN = Path(__file__).resolve().parent.parent / "examples" / "digits" / "train.py"


def train_digits(folder: Path, **options) -> Path:
    """Train the digits model into ``folder`` (``train``'s options, e.g. epochs, threads)."""
    import_file(TRAIN, "digits_train").train(folder, **options)
    return folder
