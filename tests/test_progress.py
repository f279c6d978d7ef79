"""Progress on stderr only on a terminal, notes unless --quiet, and colour only where the stream shows it.

The Reporter and the report printer are tested in-process with rich consoles on
StringIO. The commands run as real subprocesses, with their streams on pipes or
on pseudo-terminals (pty, so these tests are skipped where it is missing).
"""

from __future__ import annotations

import io
import os
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from rich.console import Console

from promptgen.cli import print_report
from promptgen.golden import CaseOutcome
from promptgen.progress import Reporter, current_reporter, reporting
from promptgen.review import Finding, ReviewReport
from promptgen.verify import DataComparison, VerificationReport

GREEN = "\x1b[32m"
RED = "\x1b[31m"
YELLOW = "\x1b[33m"
RESET = "\x1b[0m"

# Variables that would force or forbid colour, or point make at a model.
_REMOVED_VARIABLES = {
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "PROMPTGEN_MODEL", "FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TERM",
}

FAILING_REPORT = VerificationReport(
    script="split_7_3.py",
    kind="splitter",
    review=ReviewReport(
        findings=(
            Finding("PG312", "warning", 43, 4, "random.shuffle uses the module-level generator"),
            Finding("PG104", "error", 9, 9, "socket.socket opens network connections"),
        )
    ),
    cases=(CaseOutcome("split-690", True), CaseOutcome("split-10", False, "printed \x1b[2J on stderr")),
    data=DataComparison(source="data.jsonl", passed=False, records=0, message="exited 1"),
    blocked=("split-10: socket.connect",),
)

FAILING_REPORT_TEXT = """\
split_7_3.py (splitter)
  review 43:4 warning PG312 random.shuffle uses the module-level generator
  review 9:9 error PG104 socket.socket opens network connections
  review failed, so the script was not run
  pass split-690
  FAIL split-10: printed \\x1b[2J on stderr
  FAIL data.jsonl: exited 1
  blocked split-10: socket.connect
FAILED: 1/2 golden cases
"""


def cli_environment(**extra: str) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if key not in _REMOVED_VARIABLES}
    # A pseudo-terminal starts with no size; rich reads the width from COLUMNS then.
    environment.update({"TERM": "xterm-256color", "COLUMNS": "120"}, **extra)
    return environment


def run_cli(*args: str, cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "promptgen", *args],
        cwd=cwd,
        env=cli_environment(**extra),
        capture_output=True,
        text=True,
        timeout=600,
    )


def run_on_terminal(*args: str, cwd: Path, terminal: tuple[str, ...], **extra: str) -> tuple[int, str, str]:
    """Run promptgen with the streams named in ``terminal`` on pseudo-terminals and the others on pipes.

    Returns the exit status, stdout and stderr. A pty turns "\\n" into "\\r\\n".
    """
    pty = pytest.importorskip("pty")
    readers: dict[str, int] = {}
    writers: dict[str, int] = {}
    for name in ("stdout", "stderr"):
        readers[name], writers[name] = pty.openpty() if name in terminal else os.pipe()
    process = subprocess.Popen(
        [sys.executable, "-m", "promptgen", *args],
        cwd=cwd,
        env=cli_environment(**extra),
        stdin=subprocess.DEVNULL,
        stdout=writers["stdout"],
        stderr=writers["stderr"],
    )
    for descriptor in writers.values():
        os.close(descriptor)

    output = {name: bytearray() for name in readers}
    open_readers = {descriptor: name for name, descriptor in readers.items()}
    while open_readers:
        ready, _, _ = select.select(list(open_readers), [], [], 600)
        if not ready:
            process.kill()
            raise AssertionError(f"promptgen {' '.join(args)} wrote nothing for 600 s")
        for descriptor in ready:
            try:
                chunk = os.read(descriptor, 65536)
            except OSError:
                # Linux reports EIO on a pty once the child has closed its end.
                chunk = b""
            if chunk:
                output[open_readers[descriptor]] += chunk
            else:
                os.close(descriptor)
                del open_readers[descriptor]
    returncode = process.wait(timeout=60)
    return returncode, output["stdout"].decode("utf-8"), output["stderr"].decode("utf-8")


@pytest.fixture(scope="module")
def splitter_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with generated/split_7_3.py and its manifest, made once for the module."""
    folder = tmp_path_factory.mktemp("splitter")
    result = run_cli("make", "splitter", "--ratio", "7:3", "--seed", "42", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder


# --- Reporter -------------------------------------------------------------------------------


def test_reporter_info_on_pipe() -> None:
    stream = io.StringIO()
    Reporter(stream).info("provider: reference")
    assert stream.getvalue() == "provider: reference\n"


def test_reporter_quiet_drops_info() -> None:
    stream = io.StringIO()
    Reporter(stream, quiet=True).info("provider: reference")
    assert stream.getvalue() == ""


def test_reporter_task_silent_on_pipe() -> None:
    stream = io.StringIO()
    reporter = Reporter(stream)
    with reporter.task("golden cases of x.py", total=2) as task:
        task.advance("pass a")
        task.advance("pass b")
    assert reporter.live is False
    assert stream.getvalue() == ""


def test_reporter_task_quiet_on_terminal() -> None:
    stream = io.StringIO()
    reporter = Reporter(stream, quiet=True, terminal=True)
    with reporter.task("golden cases of x.py", total=2) as task:
        task.advance("pass a")
    assert reporter.live is False
    assert stream.getvalue() == ""


def test_reporter_task_draws_on_terminal() -> None:
    stream = io.StringIO()
    with Reporter(stream, terminal=True).task("golden cases of x.py", total=2) as task:
        task.advance("pass a")
    output = stream.getvalue()
    assert "golden cases of x.py" in output
    assert "\x1b[" in output


def test_reporter_info_during_task() -> None:
    stream = io.StringIO()
    reporter = Reporter(stream, terminal=True)
    with reporter.task("outer", total=2):
        with reporter.task("inner"):
            pass
        reporter.info("middle")
    reporter.info("after")
    output = stream.getvalue()
    # The outer task is drawn again below the note, so the inner task's end left the display running.
    assert "outer" in output.split("middle")[1]
    assert output.endswith("after\n")


def test_current_reporter_default_silent(capsys: pytest.CaptureFixture[str]) -> None:
    reporter = current_reporter()
    reporter.info("provider: reference")
    with reporter.task("golden cases", total=1) as task:
        task.advance("pass a")
    captured = capsys.readouterr()
    assert reporter.live is False
    assert captured.out == ""
    assert captured.err == ""


def test_reporting_sets_and_restores() -> None:
    before = current_reporter()
    reporter = Reporter(io.StringIO())
    with reporting(reporter):
        assert current_reporter() is reporter
    assert current_reporter() is before


# --- colour in verification output ----------------------------------------------------------


def test_report_plain_without_terminal() -> None:
    stream = io.StringIO()
    print_report(FAILING_REPORT, Console(file=stream, force_terminal=False, soft_wrap=True))
    assert stream.getvalue() == FAILING_REPORT_TEXT


@pytest.mark.parametrize(
    "coloured",
    [
        f"  {GREEN}pass{RESET} split-690",
        f"  {RED}FAIL{RESET} split-10",
        f"  {RED}FAIL{RESET} data.jsonl",
        f"  review 43:4 {YELLOW}warning{RESET} PG312",
        f"  review 9:9 {RED}error{RESET} PG104",
        f"  {YELLOW}blocked{RESET} split-10",
        f"{RED}FAILED{RESET}: 1/2 golden cases",
    ],
)
def test_report_colours_on_terminal(monkeypatch: pytest.MonkeyPatch, coloured: str) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    stream = io.StringIO()
    print_report(FAILING_REPORT, Console(file=stream, force_terminal=True, color_system="standard", soft_wrap=True))
    assert coloured in stream.getvalue()


def test_report_escapes_script_output_on_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    stream = io.StringIO()
    print_report(FAILING_REPORT, Console(file=stream, force_terminal=True, color_system="standard", soft_wrap=True))
    assert "\x1b[2J" not in stream.getvalue()
    assert "printed \\x1b[2J on stderr" in stream.getvalue()


# --- the commands ---------------------------------------------------------------------------


def test_make_pipe_keeps_notes_only(tmp_path: Path) -> None:
    result = run_cli("make", "splitter", cwd=tmp_path)
    lines = result.stderr.splitlines()
    assert result.returncode == 0, result.stderr
    assert any(line.startswith("provider: reference (") for line in lines)
    assert "round 1, sample 1: passed" in lines
    assert not any(line.startswith(("pass ", "FAIL ")) for line in lines)
    assert "\x1b" not in result.stderr


def test_make_quiet_prints_result_only(tmp_path: Path) -> None:
    result = run_cli("--quiet", "make", "splitter", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == "wrote generated/split_7_3.py (22 golden cases passed)\n"


def test_make_terminal_shows_progress(tmp_path: Path) -> None:
    returncode, stdout, stderr = run_on_terminal("make", "splitter", cwd=tmp_path, terminal=("stderr",))
    assert returncode == 0, stderr
    assert "golden cases of split_7_3.py" in stderr
    assert "round 1, sample 1: passed" in stderr
    assert stdout == "wrote generated/split_7_3.py (22 golden cases passed)\n"


def test_make_quiet_terminal_shows_nothing(tmp_path: Path) -> None:
    returncode, _, stderr = run_on_terminal("--quiet", "make", "splitter", cwd=tmp_path, terminal=("stderr",))
    assert returncode == 0, stderr
    assert stderr == ""


def test_verify_pipe_has_no_escape_codes(splitter_repo: Path) -> None:
    result = run_cli("verify", "generated/split_7_3.py", cwd=splitter_repo)
    assert result.returncode == 0, result.stderr
    assert "  pass split-690\n" in result.stdout
    assert "\x1b" not in result.stdout
    assert "\x1b" not in result.stderr


def test_verify_terminal_gets_colour(splitter_repo: Path) -> None:
    returncode, stdout, stderr = run_on_terminal(
        "verify", "generated/split_7_3.py", cwd=splitter_repo, terminal=("stdout", "stderr")
    )
    assert returncode == 0, stderr
    assert f"  {GREEN}pass{RESET} split-690\r\n" in stdout
    assert f"{GREEN}PASSED{RESET}: 22/22 golden cases" in stdout
    assert "golden cases of split_7_3.py" in stderr


def test_verify_no_color_on_terminal(splitter_repo: Path) -> None:
    returncode, stdout, stderr = run_on_terminal(
        "verify", "generated/split_7_3.py", cwd=splitter_repo, terminal=("stdout",), NO_COLOR="1"
    )
    assert returncode == 0, stderr
    assert "  pass split-690\r\n" in stdout
    assert "\x1b" not in stdout


def test_verify_all_terminal_colours_verdict(splitter_repo: Path) -> None:
    returncode, stdout, stderr = run_on_terminal("verify", cwd=splitter_repo, terminal=("stdout",))
    assert returncode == 0, stderr
    assert f"{GREEN}all 1 scripts passed{RESET}" in stdout


def test_verify_all_failure_red(splitter_repo: Path, tmp_path: Path) -> None:
    shutil.copytree(splitter_repo / "generated", tmp_path / "generated")
    (tmp_path / "generated" / "split_7_3.py").write_text("import socket\n", encoding="utf-8")
    returncode, stdout, _ = run_on_terminal("verify", cwd=tmp_path, terminal=("stdout",))
    assert returncode == 1
    assert f"{RED}FAILED{RESET}: split_7_3.py" in stdout
    assert f"{RED}error{RESET} PG104" in stdout


def test_cli_import_skips_rich_progress() -> None:
    # promptgen imports rich.progress only when a task starts on a terminal, so --help never pays for it.
    code = "import sys, promptgen.cli; print(sorted({'rich.progress', 'rich.live'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.stdout == "[]\n", result.stderr
