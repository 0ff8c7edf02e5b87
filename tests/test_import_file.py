"""snncc.loading.import_file: a file run as a module, registered like an import."""
import sys

import pytest

from snncc.loading import import_file


def test_the_module_is_registered_so_its_dataclasses_work_and_a_failing_file_is_not(tmp_path):
    good = tmp_path / "arch_ok.py"
    good.write_text("from __future__ import annotations\nfrom dataclasses import dataclass\n"
                    "@dataclass\nclass Box:\n    size: int = 3\n")
    module = import_file(good)
    assert module.__name__ == "arch_ok" and sys.modules["arch_ok"] is module and module.Box().size == 3
    bad = tmp_path / "arch_bad.py"
    bad.write_text("raise ValueError('broken')\n")
    with pytest.raises(ValueError, match="broken"):
        import_file(bad, "snncc_test_bad")
    assert "snncc_test_bad" not in sys.modules
