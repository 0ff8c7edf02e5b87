"""The Python 3.11 shim: Lava fails to import without it, imports with it, and the
shim keeps rejecting genuinely mutable defaults. Each case runs in a fresh interpreter
because the shim patches the dataclasses module process-wide."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

import pytest

needs_lava = pytest.mark.skipif(importlib.util.find_spec("lava") is None,
                                reason="lava-nc is not installed")


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.lava
@needs_lava
@pytest.mark.skipif(sys.version_info < (3, 11), reason="the failure only exists on 3.11+")
def test_lava_import_fails_without_shim():
    res = _run("import lava.magma.compiler.var_model")
    assert res.returncode != 0
    assert "ValueError: mutable default" in res.stderr
    assert "ByteEncoder" in res.stderr


@pytest.mark.lava
@needs_lava
def test_lava_imports_with_shim():
    res = _run("""
        from snncc.targets.loihi2 import lava_compat
        assert lava_compat.apply() and lava_compat.apply()   # idempotent
        import lava.magma.compiler.var_model as vm
        import lava.magma.core.run_configs, lava.proc.lif.process, lava.proc.dense.models
        # 3.10 behaviour: the default instance is shared between encoders
        a, b = vm.CoreEncoder(), vm.CoreEncoder()
        assert a.x is b.x
        print("ok")
    """)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


@pytest.mark.skipif(sys.version_info < (3, 11), reason="shim is a no-op before 3.11")
def test_shim_still_rejects_list_dict_set_defaults():
    res = _run("""
        import dataclasses
        from snncc.targets.loihi2 import lava_compat
        lava_compat.apply()
        rejected = []
        for default in ([], {}, set()):
            try:
                dataclasses.make_dataclass("C", [("x", type(default), default)])
            except ValueError as e:
                rejected.append("mutable default" in str(e))
        @dataclasses.dataclass
        class Inner:
            y: int = 0
        @dataclasses.dataclass
        class Outer:
            x: Inner = Inner()
        print(rejected, Outer().x is Outer().x)
    """)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[True, True, True] True"


@pytest.mark.skipif(sys.version_info < (3, 11), reason="shim is a no-op before 3.11")
def test_without_shim_dataclass_instance_default_is_rejected():
    res = _run("""
        import dataclasses
        @dataclasses.dataclass
        class Inner:
            y: int = 0
        try:
            @dataclasses.dataclass
            class Outer:
                x: Inner = Inner()
            print("accepted")
        except ValueError:
            print("rejected")
    """)
    assert res.stdout.strip() == "rejected"


def test_package_import_does_not_import_lava():
    res = _run("""
        import sys
        import snncc.targets.loihi2, snncc.targets.loihi2.golden, snncc.targets.loihi2.netspec
        print(any(m == "lava" or m.startswith("lava.") for m in sys.modules))
    """)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "False"
