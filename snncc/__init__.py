"""snncc: a neuromorphic compiler for trained PyTorch SNNs."""
import os as _os

__version__ = "0.1.0"

# In a source checkout (python run from the repo root) this folder shadows the
# installed package; map the sibling folders frontends/, passes/, targets/ and
# runtime/ in as subpackages exactly as setup.py's package-dir does.
_here = _os.path.dirname(__file__)
_root = _os.path.dirname(_here)
if not _os.path.isdir(_os.path.join(_here, "passes")) and _os.path.isfile(_os.path.join(_root, "passes", "__init__.py")):
    __path__.append(_root)  # type: ignore[name-defined]

# The programmatic API (snncc/api.py), imported on first use so `import snncc` stays light.
_API = ("compile", "run", "bench", "load_artifact", "load_input", "make_pass")


def __getattr__(name):
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'snncc' has no attribute '{name}'")


def __dir__():
    return sorted(list(globals()) + list(_API))
