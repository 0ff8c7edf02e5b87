"""Compiling for spinnaker2 in tests: each model once per session, with the target's pipeline."""
import os
import sys

import pytest

from snncc.compiler import compile as compile_model
from snncc.diagnostics import SnnccError
from snncc.registry import PASSES, TARGETS

# tests/ has no packages: test_compiled_artifacts reuses test_emit_runner's py-spinnaker2 fake
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def s2_pipeline() -> str:
    default = TARGETS.get("spinnaker2").default_pipeline
    try:
        PASSES.get("prune")
    except SnnccError:  # prune is not merged yet: everything before it
        return default.replace(",prune", "")
    return default


@pytest.fixture(scope="session")
def s2_compiled(tmp_path_factory):
    """``s2_compiled(model, load_options=None)`` -> (OUT path, CompileResult), compiled once
    per session with the spinnaker2 target's pipeline (tests must not write into OUT)."""
    cache = {}

    def get(model, load_options=None):
        key = (str(model), repr(load_options))
        if key not in cache:
            out = tmp_path_factory.mktemp("s2") / "out"
            result = compile_model(str(model), "spinnaker2", pipeline=s2_pipeline(),
                                   load_options=load_options, out_dir=str(out))
            cache[key] = (out, result)
        return cache[key]

    return get
