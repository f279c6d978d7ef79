"""Run a command as a child process and measure its wall time and peak resident memory."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence


@dataclass(frozen=True)
class Run:
    """One run of a command: wall and CPU time in seconds, peak resident memory in MiB, and how it ended.

    CPU time (user plus system) changes less than wall time when other processes load the machine.
    """

    seconds: float
    cpu_seconds: float
    peak_mib: float
    returncode: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0


# Starts the command and reports its wall time and resource usage as one line on stdout.
# Linux carries a process's peak resident memory across exec, so a child forked from this
# benchmark (which has promptgen, libcst and openpyxl loaded) would report at least this
# process's size. This launcher runs as python -I -S, so the floor is its own few MiB.
LAUNCHER = """
import os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
cpu = usage.ru_utime + usage.ru_stime
print(time.perf_counter() - started, cpu, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def run_child(argv: Sequence[str], cwd: Path, timeout: float) -> Run:
    """Run ``argv`` in ``cwd`` and return its wall time and its own ru_maxrss.

    The launcher's os.wait4 returns the resource usage of that one child, so the figure is
    the peak of the command itself, not of this process or of earlier children.
    """
    launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, *argv]
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(launcher, cwd=cwd, stdout=subprocess.PIPE, stderr=stderr, start_new_session=True)
        try:
            report, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return Run(
                seconds=timeout, cpu_seconds=0.0, peak_mib=0.0, returncode=-signal.SIGKILL,
                error=f"timed out after {timeout:g} s",
            )
        stderr.seek(0)
        lines = stderr.read().decode("utf-8", "replace").strip().splitlines()
    seconds, cpu_seconds, max_rss, returncode = report.split()
    error = ""
    if int(returncode) != 0:
        error = lines[-1] if lines else f"exit status {returncode}"
    # Linux reports ru_maxrss in KiB.
    return Run(
        seconds=float(seconds),
        cpu_seconds=float(cpu_seconds),
        peak_mib=int(max_rss) / 1024,
        returncode=int(returncode),
        error=error,
    )


@dataclass(frozen=True)
class Summary:
    """The median wall time, CPU time and peak memory of a command's runs."""

    name: str
    runs: tuple[Run, ...]

    @property
    def ok(self) -> bool:
        return bool(self.runs) and all(run.ok for run in self.runs)

    @property
    def seconds(self) -> float:
        return statistics.median(run.seconds for run in self.runs)

    @property
    def cpu_seconds(self) -> float:
        return statistics.median(run.cpu_seconds for run in self.runs)

    @property
    def peak_mib(self) -> float:
        return statistics.median(run.peak_mib for run in self.runs)

    @property
    def error(self) -> str:
        return next((run.error for run in self.runs if not run.ok), "")
