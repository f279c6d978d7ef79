"""The sandbox runner against well-behaved and hostile scripts, one protection layer at a time.

Every hostile case runs with all layers on ("full"), with the audit hook alone
("tripwire", as on a machine without namespaces), and where the side effect is not the
hook's own business, with namespaces but no audit hook ("namespaces"). Each test asserts
that the side effect did not happen; where the audit hook ran it also asserts that
RunResult.blocked names the action.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from promptgen.sandbox import CPU_LIMIT_MARGIN, Limits, PidsCgroup, RunResult, SandboxError, parse_report, run_script

HOSTILE = Path(__file__).resolve().parent / "hostile"
MEDQA = Path(__file__).resolve().parents[2] / "shared" / "data" / "MedQA2019.xlsx"
REFERENCE_CONVERTER = Path(__file__).resolve().parents[1] / "src" / "promptgen" / "reference" / "converter.py"

MODES = {
    "full": {},
    "tripwire": {"namespaces": False},
    "namespaces": {"audit_hook": False},
}
HOOK_MODES = ["full", "tripwire"]
ALL_MODES = list(MODES)
SHORT_TIMEOUT = 3.0


@functools.lru_cache(maxsize=None)
def namespaces_available(scratch: Path) -> bool:
    """Run an empty script once to learn whether this machine grants both namespaces."""
    script = scratch / "probe.py"
    script.write_text("pass\n", encoding="utf-8")
    workdir = scratch / "probe-work"
    workdir.mkdir()
    result = run_script(script, [], workdir=workdir, audit_hook=False)
    return "filesystem-namespace" in result.protections and "network-namespace" in result.protections


def pids_cgroup_available() -> bool:
    cgroup, _ = PidsCgroup.create(4)
    if cgroup is None:
        return False
    cgroup.remove()
    return True


@pytest.fixture(params=ALL_MODES)
def mode(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "namespaces" and not namespaces_available(tmp_path_factory.getbasetemp()):
        pytest.skip("this kernel or user may not create network and mount namespaces")
    return request.param


@pytest.fixture(params=HOOK_MODES)
def hook_mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the working directory, where the tests keep secrets and sentinels."""
    folder = tmp_path / "outside"
    folder.mkdir()
    return folder.resolve()


def run_hostile(name: str, mode: str, tmp_path: Path, *args: str, **options: object) -> RunResult:
    """Run tests/hostile/NAME from a private copy, so its path names only this test's processes."""
    scripts = tmp_path / "scripts"
    scripts.mkdir(exist_ok=True)
    script = scripts / name
    shutil.copyfile(HOSTILE / name, script)
    options.setdefault("timeout", 20.0)
    return run_script(script, list(args), workdir=tmp_path / "work", **MODES[mode], **options)


def surviving_processes(marker: str) -> list[int]:
    """Return the pids of live processes whose command line contains ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command_line = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in command_line and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


def assert_no_connection(server: socket.socket) -> None:
    with pytest.raises(BlockingIOError):
        connection, _ = server.accept()
        connection.close()


# ---------------------------------------------------------------- well-behaved scripts

WELL_BEHAVED = '''\
import sys
from pathlib import Path

print("name", __name__, "argv", sys.argv)
text = Path(sys.argv[1]).read_text(encoding="utf-8")
Path(sys.argv[2]).write_text(text.upper(), encoding="utf-8")
print("copied", len(text), "characters", file=sys.stderr)
sys.exit(3)
'''

FAILING_SCRIPTS = {
    "traceback": "def convert():\n    raise ValueError('bad cell')\n\nconvert()\n",
    "system_exit_message": "import sys\nsys.exit('input.xlsx: sheet DrugQA not found')\n",
    "syntax_error": "def broken(:\n    pass\n",
    "chained": "try:\n    {}['x']\nexcept KeyError as error:\n    raise RuntimeError('lookup failed') from error\n",
}


def run_plain(script: Path, args: list[str], workdir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-I", str(script.resolve()), *args],
        cwd=workdir, capture_output=True, text=True, env={"PATH": os.defpath, "LC_ALL": "C.UTF-8"}, check=False,
    )


def test_well_behaved_matches_plain_run(tmp_path: Path, workdir: Path, hook_mode: str) -> None:
    script = tmp_path / "upper.py"
    script.write_text(WELL_BEHAVED, encoding="utf-8")
    plain_folder = tmp_path / "plain"
    plain_folder.mkdir()
    for folder in (workdir, plain_folder):
        (folder / "input.txt").write_text("dosage\n", encoding="utf-8")

    plain = run_plain(script, ["input.txt", "output.txt"], plain_folder)
    result = run_script(script, ["input.txt", "output.txt"], workdir=workdir, **MODES[hook_mode])

    assert result.returncode == 3
    assert result.returncode == plain.returncode
    assert result.stdout == plain.stdout
    assert result.stderr == plain.stderr
    assert (workdir / "output.txt").read_text(encoding="utf-8") == "DOSAGE\n"
    assert result.blocked == ()
    assert result.timed_out is False


@pytest.mark.parametrize("case", sorted(FAILING_SCRIPTS))
def test_failure_output_matches_plain_run(tmp_path: Path, workdir: Path, case: str) -> None:
    script = tmp_path / f"{case}.py"
    script.write_text(FAILING_SCRIPTS[case], encoding="utf-8")

    plain = run_plain(script, [], workdir)
    result = run_script(script, [], workdir=workdir)

    assert result.returncode == plain.returncode
    assert result.stderr == plain.stderr
    assert result.stdout == plain.stdout


def test_openpyxl_workbook_matches_plain_run(tmp_path: Path, workdir: Path, hook_mode: str) -> None:
    script = tmp_path / "workbook.py"
    script.write_text(
        "import json, os, sys, tempfile, datetime, openpyxl\n"
        "book = openpyxl.Workbook()\n"
        "sheet = book.active\n"
        "sheet.title = 'DrugQA'\n"
        "sheet.append(['Question', 'Answer'])\n"
        "sheet.append(['dose?', datetime.datetime(2019, 5, 1)])\n"
        "book.save(sys.argv[1])\n"
        "book = openpyxl.load_workbook(sys.argv[1], read_only=True, data_only=True)\n"
        "rows = [[str(value) for value in row] for row in book['DrugQA'].iter_rows(values_only=True)]\n"
        "fd, temporary = tempfile.mkstemp(dir='.')\n"
        "with os.fdopen(fd, 'w') as handle:\n"
        "    json.dump(rows, handle)\n"
        "os.replace(temporary, sys.argv[2])\n"
        "with tempfile.TemporaryDirectory() as scratch:\n"
        "    open(os.path.join(scratch, 'part'), 'w').close()\n"
        "print(sorted(os.listdir('.')))\n",
        encoding="utf-8",
    )
    plain_folder = tmp_path / "plain"
    plain_folder.mkdir()

    plain = run_plain(script, ["book.xlsx", "rows.json"], plain_folder)
    result = run_script(script, ["book.xlsx", "rows.json"], workdir=workdir, **MODES[hook_mode])

    assert plain.returncode == 0, plain.stderr
    assert result.returncode == 0, result.stderr
    assert result.blocked == ()
    assert result.stdout == plain.stdout
    assert (workdir / "rows.json").read_text() == (plain_folder / "rows.json").read_text()


@pytest.mark.skipif(not MEDQA.exists(), reason="the MedQA2019.xlsx data set is not beside the repository")
@pytest.mark.skipif(not REFERENCE_CONVERTER.exists(), reason="the reference converter is not written yet")
def test_reference_converter_on_medqa(tmp_path: Path, workdir: Path) -> None:
    plain_folder = tmp_path / "plain"
    plain_folder.mkdir()
    for folder in (workdir, plain_folder):
        shutil.copyfile(MEDQA, folder / "input.xlsx")

    plain = run_plain(REFERENCE_CONVERTER, ["input.xlsx", "output.jsonl"], plain_folder)
    result = run_script(REFERENCE_CONVERTER, ["input.xlsx", "output.jsonl"], workdir=workdir)

    assert result.returncode == plain.returncode
    assert result.blocked == ()
    assert result.stderr == plain.stderr
    assert (workdir / "output.jsonl").read_bytes() == (plain_folder / "output.jsonl").read_bytes()


def test_environment_is_clean(tmp_path: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMPTGEN_TEST_VARIABLE", "leaked")
    script = tmp_path / "environment.py"
    script.write_text("import os\nprint(sorted(os.environ))\nprint(os.environ['HOME'])\n", encoding="utf-8")

    result = run_script(script, [], workdir=workdir)

    assert "PROMPTGEN_TEST_VARIABLE" not in result.stdout
    assert result.stdout.splitlines()[1] == str(workdir.resolve())


def test_protections_are_reported(tmp_path: Path, workdir: Path) -> None:
    script = tmp_path / "nothing.py"
    script.write_text("pass\n", encoding="utf-8")

    result = run_script(script, [], workdir=workdir)

    for name in ("isolated-interpreter", "clean-environment", "process-group", "resource-limits", "audit-hook"):
        assert name in result.protections
    assert result.ok is True


def test_missing_script_raises(workdir: Path, tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="script not found"):
        run_script(tmp_path / "absent.py", [], workdir=workdir)


def test_missing_workdir_raises(tmp_path: Path) -> None:
    script = tmp_path / "nothing.py"
    script.write_text("pass\n", encoding="utf-8")

    with pytest.raises(SandboxError, match="working directory not found"):
        run_script(script, [], workdir=tmp_path / "absent")


# ---------------------------------------------------------------- network


def test_connect_reaches_no_listener(tmp_path: Path, workdir: Path, mode: str, listener: socket.socket) -> None:
    port = listener.getsockname()[1]

    result = run_hostile("connect_tcp.py", mode, tmp_path, str(port))

    assert_no_connection(listener)
    assert "connected" not in result.stdout.splitlines()
    if mode in HOOK_MODES:
        assert f"socket.connect to 127.0.0.1:{port}" in result.blocked


def test_lookup_of_localhost_blocked(tmp_path: Path, workdir: Path, hook_mode: str) -> None:
    result = run_hostile("resolve_localhost.py", hook_mode, tmp_path)

    assert "resolved" not in result.stdout
    assert "socket.getaddrinfo localhost:80" in result.blocked


# ---------------------------------------------------------------- files outside the working directory


def test_secret_outside_not_read(tmp_path: Path, workdir: Path, outside: Path, mode: str) -> None:
    secret = outside / "secret.txt"
    secret.write_text("s3cr3t-value", encoding="utf-8")

    result = run_hostile("read_secret.py", mode, tmp_path, str(secret))

    assert "s3cr3t-value" not in result.stdout
    if mode in HOOK_MODES:
        assert f"open {secret} for reading" in result.blocked


def test_api_key_not_visible(tmp_path: Path, workdir: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-for-the-sandbox")

    result = run_hostile("read_environment.py", mode, tmp_path)

    assert "sk-test-not-for-the-sandbox" not in result.stdout
    assert "own: absent" in result.stdout
    if mode in HOOK_MODES:
        assert f"open /proc/{os.getpid()}/environ for reading" in result.blocked


def test_write_outside_prevented(tmp_path: Path, workdir: Path, outside: Path, mode: str) -> None:
    target = outside / "written.txt"

    result = run_hostile("write_outside.py", mode, tmp_path, str(target))

    assert not target.exists()
    if mode in HOOK_MODES:
        assert f"open {target} for writing" in result.blocked


def test_delete_outside_prevented(tmp_path: Path, workdir: Path, outside: Path, mode: str) -> None:
    sentinel = outside / "sentinel.txt"
    sentinel.write_text("keep", encoding="utf-8")

    result = run_hostile("delete_outside.py", mode, tmp_path, str(sentinel))

    assert sentinel.read_text(encoding="utf-8") == "keep"
    assert not (workdir / "stolen").exists()
    if mode in HOOK_MODES:
        assert f"os.remove {sentinel}" in result.blocked
        assert f"os.rename {sentinel}" in result.blocked


def test_symlink_escape_prevented(tmp_path: Path, workdir: Path, outside: Path, mode: str) -> None:
    sentinel = outside / "sentinel.txt"
    sentinel.write_text("keep", encoding="utf-8")

    result = run_hostile("symlink_escape.py", mode, tmp_path, str(sentinel))

    assert sentinel.read_text(encoding="utf-8") == "keep"
    if mode in HOOK_MODES:
        assert f"open {sentinel} for writing" in result.blocked


def test_patched_checks_still_block(tmp_path: Path, workdir: Path, outside: Path, hook_mode: str) -> None:
    target = outside / "written.txt"

    result = run_hostile("patch_checks.py", hook_mode, tmp_path, str(target))

    assert not target.exists()
    assert f"open {target} for writing" in result.blocked


# ---------------------------------------------------------------- starting programs

SHELL_ROUTES = {
    "shell_subprocess.py": "subprocess.Popen /bin/sh",
    "shell_os_system.py": "os.system",
    "shell_exec.py": "os.exec /bin/sh",
    "shell_pty.py": "os.forkpty",
}


@pytest.mark.parametrize("name", sorted(SHELL_ROUTES))
def test_shell_does_not_run(tmp_path: Path, workdir: Path, outside: Path, mode: str, name: str) -> None:
    sentinel = outside / "shell-ran"

    result = run_hostile(name, mode, tmp_path, str(sentinel))

    assert not sentinel.exists()
    if mode in HOOK_MODES:
        assert SHELL_ROUTES[name] in result.blocked


def test_ctypes_system_does_not_run(tmp_path: Path, workdir: Path, outside: Path, mode: str) -> None:
    sentinel = outside / "shell-ran"

    result = run_hostile("shell_ctypes.py", mode, tmp_path, str(sentinel))

    assert not sentinel.exists()
    if mode in HOOK_MODES:
        assert "ctypes.dlopen libc.so.6" in result.blocked
        assert "ctypes.dlopen None" in result.blocked
        assert "ctypes.dlsym" in result.blocked


def test_direct_fork_exec_blocked(tmp_path: Path, workdir: Path, outside: Path, hook_mode: str) -> None:
    sentinel = outside / "shell-ran"

    result = run_hostile("shell_fork_exec.py", hook_mode, tmp_path, str(sentinel))

    assert not sentinel.exists()
    assert "_posixsubprocess.fork_exec" in result.blocked


def test_computed_imports_cannot_act(
    tmp_path: Path, workdir: Path, outside: Path, mode: str, listener: socket.socket
) -> None:
    sentinel = outside / "shell-ran"
    port = listener.getsockname()[1]

    result = run_hostile("computed_import.py", mode, tmp_path, str(sentinel), str(port))

    assert not sentinel.exists()
    assert_no_connection(listener)
    if mode in HOOK_MODES:
        assert "subprocess.Popen /bin/sh" in result.blocked
        assert f"socket.connect to 127.0.0.1:{port}" in result.blocked


def test_fork_bomb_contained(tmp_path: Path, workdir: Path, mode: str) -> None:
    if mode == "namespaces" and not pids_cgroup_available():
        pytest.skip("without a pids cgroup nothing but the audit hook stops a fork bomb")
    processes = 16

    result = run_hostile("fork_bomb.py", mode, tmp_path, timeout=SHORT_TIMEOUT, limits=Limits(processes=processes))

    assert result.timed_out is True
    assert surviving_processes(str(tmp_path / "scripts")) == []
    children = (workdir / "pids.txt").read_text().split() if (workdir / "pids.txt").exists() else []
    assert len(children) < processes
    if mode in HOOK_MODES:
        assert children == []
        assert "os.fork" in result.blocked


def test_kill_outside_process_blocked(tmp_path: Path, workdir: Path, hook_mode: str) -> None:
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        result = run_hostile("kill_process.py", hook_mode, tmp_path, str(victim.pid))

        assert victim.poll() is None
        assert f"os.kill {victim.pid}" in result.blocked
    finally:
        victim.kill()
        victim.wait()


# ---------------------------------------------------------------- resource limits


def test_busy_loop_times_out(tmp_path: Path, workdir: Path, mode: str) -> None:
    result = run_hostile("busy_loop.py", mode, tmp_path, timeout=SHORT_TIMEOUT)

    assert result.timed_out is True
    assert result.returncode is None
    assert result.ok is False
    assert surviving_processes(str(tmp_path / "scripts")) == []


def test_cpu_limit_kills_busy_loop(tmp_path: Path, workdir: Path) -> None:
    result = run_hostile("busy_loop.py", "full", tmp_path, timeout=30.0, limits=Limits(cpu_seconds=1))

    assert result.timed_out is False
    assert result.returncode == -signal.SIGXCPU


def test_memory_limit_stops_allocation(tmp_path: Path, workdir: Path, mode: str) -> None:
    result = run_hostile("allocate_memory.py", mode, tmp_path, limits=Limits(memory_bytes=512 * 1024**2))

    assert result.timed_out is False
    assert result.returncode == 1
    assert "MemoryError" in result.stderr


def test_file_size_limit_stops_endless_file(tmp_path: Path, workdir: Path, mode: str) -> None:
    file_bytes = 4 * 1024 * 1024

    result = run_hostile("endless_file.py", mode, tmp_path, limits=Limits(file_bytes=file_bytes))

    assert (workdir / "endless.bin").stat().st_size <= file_bytes
    assert result.returncode == 1
    assert "File too large" in result.stderr


def test_file_size_limit_caps_stdout(tmp_path: Path, workdir: Path, mode: str) -> None:
    file_bytes = 1024 * 1024

    result = run_hostile("endless_stdout.py", mode, tmp_path, limits=Limits(file_bytes=file_bytes))

    assert len(result.stdout) <= file_bytes
    assert result.returncode != 0
    assert result.timed_out is False


def test_limits_cannot_be_raised(tmp_path: Path, workdir: Path, mode: str) -> None:
    result = run_hostile("raise_limits.py", mode, tmp_path, timeout=10.0)

    # The hard limit is one second above the soft one: 10 s of timeout plus the margin.
    assert f"cpu limit {10 + CPU_LIMIT_MARGIN + 1}" in result.stdout
    if mode in HOOK_MODES:
        assert "resource.setrlimit" in result.blocked


# ---------------------------------------------------------------- the report channel


def test_closed_report_detected(tmp_path: Path, workdir: Path, outside: Path, mode: str) -> None:
    sentinel = outside / "shell-ran"

    result = run_hostile("close_report.py", mode, tmp_path, str(sentinel))

    assert not sentinel.exists()
    assert any(action.startswith("report channel incomplete") for action in result.blocked)
    assert result.ok is False


def test_forged_closing_record_detected(tmp_path: Path, workdir: Path, mode: str) -> None:
    result = run_hostile("forge_report.py", mode, tmp_path)

    assert result.returncode == 0
    assert "report channel tampered: forged closing record" in result.blocked
    assert result.ok is False


def test_hook_introspection_blocked(tmp_path: Path, workdir: Path, hook_mode: str) -> None:
    result = run_hostile("introspect_hook.py", hook_mode, tmp_path)

    assert "succeeded" not in result.stdout
    assert "gc.get_objects" in result.blocked
    assert "sys.addaudithook" in result.blocked


REPORT_CASES = {
    "clean": ("protection\taudit-hook\nready\nend\tTOKEN\n", True, ()),
    "blocked": ("ready\nblocked\tos.system\nend\tTOKEN\n", True, ("os.system",)),
    "killed": ("ready\n", False, ()),
    "missing_end": ("ready\n", True, ("report channel incomplete",)),
    "after_end": ("ready\nend\tTOKEN\nblocked\tos.fork\n", True, ("os.fork", "report channel tampered")),
    "garbage": ("ready\nhello\nend\tTOKEN\n", True, ("report channel tampered",)),
}


@pytest.mark.parametrize("case", sorted(REPORT_CASES))
def test_parse_report(case: str) -> None:
    text, exited_normally, expected = REPORT_CASES[case]

    parsed = parse_report(text, "TOKEN", exited_normally=exited_normally)

    assert parsed.started is True
    assert len(parsed.blocked) == len(expected)
    for action, prefix in zip(parsed.blocked, expected):
        assert action.startswith(prefix)


def test_parse_report_without_ready() -> None:
    parsed = parse_report("protection\taudit-hook\n", "TOKEN", exited_normally=True)

    assert parsed.started is False
