"""Runs every benchmark script in bench/ (each bench/*.py but this one) and prints what each reports.

    DJANGO_ENV=test .venv/bin/python bench/run_all.py      (or: make bench)

Each script runs in its own process with this Python, so one cannot disturb another's settings or
database. Exits non-zero when any benchmark fails or misses its budget.
"""

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    scripts = sorted(p for p in HERE.glob("*.py") if p.name not in ("run_all.py", "__init__.py"))
    results = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        started = time.perf_counter()
        finished = subprocess.run([sys.executable, str(script)], cwd=HERE.parent, check=False)
        results.append((script.name, finished.returncode, time.perf_counter() - started))
    print("== summary")
    for name, code, seconds in results:
        print(f"  {name:24} {'ok' if code == 0 else f'FAILED ({code})':12} {seconds:8.1f} s wall")
    return 0 if all(code == 0 for _, code, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
