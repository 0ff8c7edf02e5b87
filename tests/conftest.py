"""Shared fixtures: the NIR paper data (../shared/nir-paper beside the repo)."""
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAPER = os.environ.get("SNNCC_NIR_PAPER", os.path.join(os.path.dirname(REPO), "shared", "nir-paper"))


@pytest.fixture(scope="session")
def paper():
    if not os.path.isdir(PAPER):
        pytest.fail(f"NIR paper data not found at {PAPER}; set SNNCC_NIR_PAPER")
    return lambda *parts: os.path.join(PAPER, *parts)


def pytest_configure(config):
    # Lava's compiler spawns processes; keep torch from oversubscribing the 2 cores.
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def digits(tmp_path_factory):
    """The trained digits example (examples/digits/train.py, default settings), trained once
    per test session and shared by xdist workers through a file lock. Returns the directory
    with model.pt, test_x.npy, test_y.npy and meta.json."""
    from pathlib import Path

    from filelock import FileLock

    root = tmp_path_factory.getbasetemp().parent
    out = root / "digits-trained"
    with FileLock(str(root / "digits.lock")):
        if not (out / "meta.json").exists():
            import torch

            from snncc.loading import import_file

            import_file(os.path.join(REPO, "examples", "digits", "train.py"), "digits_train").train(Path(out), threads=torch.get_num_threads())
    return out
