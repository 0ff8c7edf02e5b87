"""One import root: snncc.* only; the core never imports a frontend or a target directly."""
import ast
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_no_top_level_packages_named_like_the_folders(tmp_path):
    code = ("import importlib.util, sys; "
            "print([n for n in ('passes','targets','runtime','frontends') if importlib.util.find_spec(n)])")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_subpackages_live_under_snncc(tmp_path):
    code = "import snncc.passes, snncc.targets, snncc.runtime, snncc.frontends; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def test_core_imports_targets_and_frontends_only_lazily():
    """Module-level imports in snncc/ never name snncc.targets or snncc.frontends."""
    offenders = []
    for root, _, files in os.walk(os.path.join(REPO, "snncc")):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(root, name)
            tree = ast.parse(open(path).read())
            for node in tree.body:
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                    if module and module.startswith(("snncc.targets", "snncc.frontends")):
                        offenders.append(f"{path}: {module}")
    assert offenders == []
