"""Compiling for spinnaker2 in tests: one place that builds the canonical integer graph."""
import os
import sys

import pytest

from snncc.compiler import compile as compile_model

# tests/ has no packages: make the helper modules beside this file importable
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="session")
def s2_compile():
    """``s2_compile(model, out_dir=None, load_options=None)`` -> CompileResult for spinnaker2.

    The float pipeline runs first, then s2_canonical.py stands in for
    discretize + quantize (hand-made per-step integer form), then the target emits."""
    from s2_canonical import canonical

    def run(model, out_dir=None, load_options=None, limit=127):
        floated = compile_model(model, "reference", load_options=load_options).graph
        return compile_model(canonical(floated, limit), "spinnaker2", pipeline="",
                             out_dir=None if out_dir is None else str(out_dir))

    return run
