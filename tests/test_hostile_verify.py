"""Hostile scripts run as candidates through ``promptgen verify``, with the review on and off.

With the review on, the review rejects them before they run. With ``--no-review``
the sandbox alone must hold: the side effect does not happen, verification
fails, and the report names what was blocked.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT

HOSTILE = REPO_ROOT / "tests" / "hostile"
# The hostile scripts aim here when verify gives them relative file names.
TARGETS = Path("/tmp/promptgen-hostile")

# script, the file its attack would create or delete under TARGETS, and whether the file exists beforehand
CASES = [
    ("write_outside.py", "written", False),
    ("delete_outside.py", "sentinel", True),
    ("shell_os_system.py", "shell", False),
    ("shell_subprocess.py", "shell", False),
    ("shell_ctypes.py", "shell", False),
    ("shell_pty.py", "shell", False),
    ("shell_exec.py", "shell", False),
]


def run_verify(script: Path, *extra: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("OPENAI")}
    return subprocess.run(
        [sys.executable, "-m", "promptgen", "verify", str(script), "--kind", "splitter", *extra],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture()
def targets():
    TARGETS.mkdir(exist_ok=True)
    for name in ("written", "shell", "sentinel"):
        (TARGETS / name).unlink(missing_ok=True)
    yield TARGETS
    for name in ("written", "shell", "sentinel"):
        (TARGETS / name).unlink(missing_ok=True)


@pytest.mark.parametrize("script, target, exists_before", CASES, ids=[case[0] for case in CASES])
def test_hostile_candidate_without_review(tmp_path, targets, script, target, exists_before):
    if exists_before:
        (targets / target).write_text("keep me", encoding="utf-8")
    result = run_verify(HOSTILE / script, "--no-review", cwd=tmp_path)

    assert result.returncode == 1, result.stdout
    assert "FAILED" in result.stdout
    if exists_before:
        assert (targets / target).read_text(encoding="utf-8") == "keep me"
    else:
        assert not (targets / target).exists()
    assert "blocked" in result.stdout


@pytest.mark.parametrize("script, target, exists_before", CASES, ids=[case[0] for case in CASES])
def test_hostile_candidate_rejected_by_review(tmp_path, targets, script, target, exists_before):
    if exists_before:
        (targets / target).write_text("keep me", encoding="utf-8")
    result = run_verify(HOSTILE / script, cwd=tmp_path)

    assert result.returncode == 1, result.stdout
    assert "review failed, so the script was not run" in result.stdout
    if exists_before:
        assert (targets / target).read_text(encoding="utf-8") == "keep me"
    else:
        assert not (targets / target).exists()
