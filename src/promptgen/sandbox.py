"""Run an untrusted script in a separate process that may write only to its working directory.

This module is the parent side. It starts ``python -I _sandbox_boot.py`` with a clean
environment in a new session and puts it in a pids cgroup when it can. It enforces the
wall-clock timeout, kills whatever the script left running and reads the report that the
bootstrap wrote. The bootstrap confines the child (namespaces, capabilities, resource
limits, audit hook) before the script starts. docs/security.md lists which protection
applies where and what none of them cover.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from promptgen.errors import PromptgenError

DEFAULT_TIMEOUT = 60.0
CPU_LIMIT_MARGIN = 5
BOOTSTRAP = Path(__file__).with_name("_sandbox_boot.py")
# Read at most this much of each output stream, so a script cannot exhaust the parent's memory.
MAX_CAPTURE_BYTES = 16 * 1024 * 1024
PARENT_PROTECTIONS = ("isolated-interpreter", "clean-environment", "process-group")


class SandboxError(PromptgenError):
    """A sandboxed run that could not start, or whose bootstrap failed before the script ran."""


@dataclass(frozen=True)
class Limits:
    """Resource limits applied to the script's process (each process it starts gets its own)."""

    memory_bytes: int = 4 * 1024**3
    """Address space (RLIMIT_AS)."""
    file_bytes: int = 2 * 1024**3
    """Largest file the script may write (RLIMIT_FSIZE). Stdout and stderr count as files."""
    open_files: int = 256
    processes: int = 64
    """pids.max of the run's cgroup, and RLIMIT_NPROC, which the kernel does not enforce for root."""
    cpu_seconds: int | None = None
    """CPU time (RLIMIT_CPU). None takes the wall-clock timeout, rounded up, plus CPU_LIMIT_MARGIN."""


@dataclass(frozen=True)
class RunResult:
    """Outcome of one sandboxed run: exit status, captured streams, blocked actions and protections."""

    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool
    duration: float
    blocked: tuple[str, ...] = field(default=())
    protections: tuple[str, ...] = field(default=())
    """Protections that applied, e.g. "network-namespace", "audit-hook"."""
    unavailable: tuple[str, ...] = field(default=())
    """Protections that could not apply here, as "NAME: REASON"."""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and not self.blocked


def run_script(
    script: Path,
    args: Sequence[str],
    *,
    workdir: Path,
    timeout: float = DEFAULT_TIMEOUT,
    limits: Limits = Limits(),
    namespaces: bool = True,
    audit_hook: bool = True,
) -> RunResult:
    """Run ``python -I SCRIPT ARGS`` confined to ``workdir``, a fresh folder the caller filled with the inputs.

    File arguments are relative to ``workdir``. When ``timeout`` (seconds of wall-clock
    time) runs out, the script's process group and cgroup are killed and ``returncode`` is
    None. ``namespaces`` and ``audit_hook`` turn single layers off so that tests can check
    each layer alone.
    """
    script = _existing_file(script)
    workdir = _existing_folder(workdir)
    token = secrets.token_hex(16)
    cgroup, cgroup_problem = PidsCgroup.create(limits.processes)
    setup = {
        "workdir": str(workdir),
        "script": str(script),
        "token": token,
        "cgroup": str(cgroup.path) if cgroup else None,
        "namespaces": namespaces,
        "audit_hook": audit_hook,
        "limits": _limit_values(limits, timeout),
    }
    (stdout_read, stdout_write), (stderr_read, stderr_write), (report_read, report_write) = (
        _private_file() for _ in range(3)
    )
    setup["report_fd"] = report_write
    setup_read, setup_write = os.pipe()
    os.write(setup_write, json.dumps(setup).encode("utf-8"))
    os.close(setup_write)
    child_ends = [setup_read, stdout_write, stderr_write, report_write]
    try:
        started = time.monotonic()
        try:
            process = subprocess.Popen(
                [sys.executable, "-I", str(BOOTSTRAP), str(setup_read), str(script), *args],
                cwd=workdir,
                env=_clean_environment(workdir),
                stdin=subprocess.DEVNULL,
                stdout=stdout_write,
                stderr=stderr_write,
                pass_fds=(setup_read, report_write),
                start_new_session=True,
            )
        finally:
            for fd in child_ends:
                os.close(fd)
        timed_out = _wait_for_exit(process, timeout)
        # The exited leader is not reaped yet, so its process group id cannot be reused.
        _kill_process_group(process.pid)
        if cgroup:
            cgroup.kill_all()
        returncode = process.wait()
        duration = time.monotonic() - started
        stdout, stderr, report = (_read_all(fd) for fd in (stdout_read, stderr_read, report_read))
    finally:
        for fd in (stdout_read, stderr_read, report_read):
            os.close(fd)
        if cgroup:
            cgroup.remove()

    parsed = parse_report(report, token, exited_normally=not timed_out and returncode >= 0)
    if not parsed.started and not timed_out:
        last_line = next((line for line in reversed(stderr.splitlines()) if line.strip()), "no output on stderr")
        raise SandboxError(
            f"sandbox setup failed before {script} started (exit status {returncode}): {last_line}; "
            f"run `{sys.executable} -I {BOOTSTRAP}` by hand to check the interpreter"
        )
    unavailable = parsed.unavailable if cgroup else (*parsed.unavailable, f"pids-cgroup: {cgroup_problem}")
    return RunResult(
        returncode=None if timed_out else returncode,
        stdout=stdout,
        stderr=stderr,
        timed_out=timed_out,
        duration=duration,
        blocked=parsed.blocked,
        protections=(*PARENT_PROTECTIONS, *parsed.protections),
        unavailable=unavailable,
    )


def _existing_file(script: Path) -> Path:
    if not script.is_file():
        raise SandboxError(f"script not found: {script}; pass the path of an existing Python file")
    return script.resolve()


def _existing_folder(workdir: Path) -> Path:
    if not workdir.is_dir():
        raise SandboxError(f"working directory not found: {workdir}; create it and copy the inputs in first")
    return workdir.resolve()


def _limit_values(limits: Limits, timeout: float) -> dict[str, int]:
    # The margin lets the wall-clock timeout end a single-threaded endless loop first, so it is
    # reported as a timeout. The CPU limit still stops threads that burn CPU faster than time passes.
    default_cpu = max(1, math.ceil(timeout)) + CPU_LIMIT_MARGIN
    cpu_seconds = limits.cpu_seconds if limits.cpu_seconds is not None else default_cpu
    return {
        "cpu_seconds": cpu_seconds,
        "memory_bytes": limits.memory_bytes,
        "file_bytes": limits.file_bytes,
        "open_files": limits.open_files,
        "processes": limits.processes,
    }


def _clean_environment(workdir: Path) -> dict[str, str]:
    # Nothing of the caller's environment passes: no API keys, no proxies, no PYTHON* variables.
    return {
        "HOME": str(workdir),
        "PATH": os.defpath,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "TMPDIR": str(workdir),
    }


def _private_file() -> tuple[int, int]:
    """Return a read descriptor and a write-only append descriptor of a new, already deleted file.

    The child gets only the write end, and no path leads to the file, so the script can
    neither read back nor reopen what it is given.
    """
    read_fd, path = tempfile.mkstemp(prefix="promptgen-sandbox-")
    try:
        write_fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    finally:
        os.unlink(path)
    return read_fd, write_fd


def _read_all(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks: list[bytes] = []
    remaining = MAX_CAPTURE_BYTES
    while remaining > 0:
        chunk = os.read(fd, min(remaining, 1024 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks).decode("utf-8", errors="replace")


def _wait_for_exit(process: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait until ``process`` exits or ``timeout`` passes, without reaping it. Return True on timeout."""
    try:
        pidfd = os.pidfd_open(process.pid)
    except (AttributeError, OSError):
        # NOTE: without pidfd (not Linux, or Linux before 5.3) the leader is reaped here, so the
        # process group kill that follows could in theory reach a group that reused its id.
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            return True
        return False
    try:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        return not poller.poll(max(0, math.ceil(timeout * 1000)))
    finally:
        os.close(pidfd)


def _kill_process_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@dataclass(frozen=True)
class ParsedReport:
    """Contents of the bootstrap's report: protections, blocked actions, and whether the script started."""

    started: bool
    protections: tuple[str, ...]
    unavailable: tuple[str, ...]
    blocked: tuple[str, ...]


def parse_report(text: str, token: str, *, exited_normally: bool) -> ParsedReport:
    """Parse the report channel, adding a missing, forged or misplaced closing record to the blocked actions.

    Records before ``ready`` were written before the script ran and are trusted. After it,
    the script could write to the descriptor too, so only ``blocked`` lines and one final
    ``end TOKEN`` are expected.
    """
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    protections: list[str] = []
    unavailable: list[str] = []
    if "ready" not in lines:
        return ParsedReport(False, (), (), ())
    ready = lines.index("ready")
    for line in lines[:ready]:
        kind, _, rest = line.partition("\t")
        if kind == "protection":
            protections.append(rest)
        elif kind == "unavailable":
            name, _, reason = rest.partition("\t")
            unavailable.append(f"{name}: {reason}")

    blocked: list[str] = []
    problems: list[str] = []
    after = lines[ready + 1 :]
    closing = f"end\t{token}"
    for index, line in enumerate(after):
        kind, _, rest = line.partition("\t")
        if kind == "blocked" and rest:
            blocked.append(rest)
        elif line == closing and index == len(after) - 1:
            continue
        elif line == closing:
            problems.append("report channel tampered: records after the closing record")
        elif kind == "end":
            problems.append("report channel tampered: forged closing record")
        else:
            problems.append("report channel tampered: unexpected record")
    if exited_normally and closing not in after:
        problems.append("report channel incomplete: no closing record (descriptor closed, or os._exit called)")
    return ParsedReport(
        started=True,
        protections=tuple(protections),
        unavailable=tuple(unavailable),
        blocked=tuple(dict.fromkeys([*blocked, *problems])),
    )


class PidsCgroup:
    """A pids cgroup for one run: caps the number of processes and threads, and kills them all."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, max_processes: int) -> tuple[PidsCgroup | None, str]:
        """Create a child of this process's pids cgroup, or return None and the reason when that fails."""
        try:
            parent = _own_pids_cgroup()
            if parent is None:
                return None, "no pids controller is mounted, or none is delegated to this process"
            path = parent / f"promptgen-{os.getpid()}-{secrets.token_hex(4)}"
            path.mkdir()
        except OSError as error:
            return None, f"cannot create a cgroup: {error}"
        try:
            (path / "pids.max").write_text(str(max_processes), encoding="ascii")
        except OSError as error:
            path.rmdir()
            return None, f"cannot set pids.max: {error}"
        return cls(path), ""

    def kill_all(self) -> None:
        kill_file = self.path / "cgroup.kill"
        if kill_file.exists():
            kill_file.write_text("1", encoding="ascii")
            return
        # cgroup v1 has no cgroup.kill. pids.max bounds how many processes a fork loop can
        # add between two passes, so repeated passes empty the group.
        for _ in range(200):
            pids = self._pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.005)

    def remove(self) -> None:
        # Killed processes leave the cgroup only once they have fully exited.
        for _ in range(400):
            try:
                self.path.rmdir()
                return
            except OSError:
                self.kill_all()
                time.sleep(0.005)
        # NOTE: a cgroup that stays busy for two seconds is left behind, empty of our work but not removed.

    def _pids(self) -> list[int]:
        try:
            text = (self.path / "cgroup.procs").read_text(encoding="ascii")
        except OSError:
            return []
        return [int(pid) for pid in text.split()]


def _own_pids_cgroup() -> Path | None:
    """Return the folder of this process's pids cgroup (v1) or its cgroup v2 folder with pids delegated."""
    memberships: dict[str, str] = {}
    for line in Path("/proc/self/cgroup").read_text(encoding="utf-8").splitlines():
        hierarchy, controllers, path = line.split(":", 2)
        key = "v2" if hierarchy == "0" and not controllers else None
        for controller in controllers.split(","):
            if controller == "pids":
                key = "pids"
        if key:
            memberships[key] = path

    candidates: list[Path] = []
    for line in Path("/proc/self/mountinfo").read_text(encoding="utf-8").splitlines():
        left, _, right = line.partition(" - ")
        fields, (fstype, _source, options) = left.split(), right.split()[:3]
        root, mountpoint = fields[3], fields[4]
        if fstype == "cgroup" and "pids" in options.split(",") and "pids" in memberships:
            candidates.insert(0, _cgroup_folder(mountpoint, root, memberships["pids"]))
        elif fstype == "cgroup2" and "v2" in memberships:
            folder = _cgroup_folder(mountpoint, root, memberships["v2"])
            control = folder / "cgroup.subtree_control"
            if control.exists() and "pids" in control.read_text(encoding="ascii").split():
                candidates.append(folder)
    return candidates[0] if candidates else None


def _cgroup_folder(mountpoint: str, root: str, membership: str) -> Path:
    relative = membership[len(root) :] if root != "/" and membership.startswith(root) else membership
    return Path(mountpoint + relative.rstrip("/")) if relative != "/" else Path(mountpoint)
