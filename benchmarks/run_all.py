"""Run every benchmark module in benchmarks/ (each writes benchmarks/results/<name>.json).

A benchmark fails when it exits non-zero or leaves no fresh results file, so `make bench`
never reports success on stale results."""
from __future__ import annotations

import pkgutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def main() -> int:
    names = [m.name for m in pkgutil.iter_modules([str(HERE)]) if m.name != "run_all" and not m.name.startswith("_")]
    failed = []
    for name in sorted(names):
        print(f"== benchmarks.{name}", flush=True)
        started = time.time()
        code = subprocess.run([sys.executable, "-m", f"benchmarks.{name}"], cwd=HERE.parent).returncode
        result = RESULTS / f"{name}.json"
        if code != 0:
            failed.append(f"{name} (exit {code})")
        elif not result.is_file() or result.stat().st_mtime < started - 1:  # 1 s: coarse file-system clocks
            failed.append(f"{name} (wrote no fresh {result.relative_to(HERE.parent)})")
    print(f"{len(names) - len(failed)} passed, {len(failed)} failed" + (f": {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
