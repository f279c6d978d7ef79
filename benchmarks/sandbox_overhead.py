"""Measure what promptgen's sandbox adds to the start-up of a trivial script.

Runs a script that prints one line N times as ``python -I SCRIPT`` and N times through
``promptgen.sandbox.run_script``, alternating the two, and prints the median wall-clock
time of each and their difference. Not part of the test suite.

Usage: python benchmarks/sandbox_overhead.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from promptgen.sandbox import run_script


def time_call(action: Callable[[], None]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="runs of each kind (default 30)")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="promptgen-bench-") as folder:
        script = Path(folder) / "trivial.py"
        script.write_text("print('done')\n", encoding="utf-8")
        workdir = Path(folder) / "work"
        workdir.mkdir()

        def plain() -> None:
            subprocess.run([sys.executable, "-I", str(script)], cwd=workdir, capture_output=True, check=True)

        def sandboxed() -> None:
            result = run_script(script, [], workdir=workdir)
            if not result.ok:
                raise SystemExit(f"sandboxed run failed: {result}")

        plain_times: list[float] = []
        sandbox_times: list[float] = []
        for _ in range(options.runs):
            plain_times.append(time_call(plain))
            sandbox_times.append(time_call(sandboxed))
        protections = run_script(script, [], workdir=workdir).protections

    plain_median = statistics.median(plain_times)
    sandbox_median = statistics.median(sandbox_times)
    print(f"runs of each kind:  {options.runs}")
    print(f"protections:        {', '.join(protections)}")
    print(f"plain python -I:    {plain_median * 1000:.1f} ms median")
    print(f"run_script:         {sandbox_median * 1000:.1f} ms median")
    print(f"overhead per run:   {(sandbox_median - plain_median) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
