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
