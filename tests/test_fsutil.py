import os

import pytest

from promptgen.fsutil import write_atomic


def test_write_atomic_new_file_mode(tmp_path):
    previous = os.umask(0o022)
    try:
        write_atomic(tmp_path / "a.txt", "text")
    finally:
        os.umask(previous)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644


def test_write_atomic_keeps_existing_mode(tmp_path):
    target = tmp_path / "script.py"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o755)
    write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "new"
    assert target.stat().st_mode & 0o777 == 0o755


def test_write_atomic_leaves_no_temp_on_failure(tmp_path):
    target = tmp_path / "folder-in-the-way"
    target.mkdir()
    with pytest.raises(OSError):
        write_atomic(target, "data")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["folder-in-the-way"]


def test_write_atomic_creates_parents(tmp_path):
    write_atomic(tmp_path / "a" / "b" / "c.json", b"{}")
    assert (tmp_path / "a" / "b" / "c.json").read_bytes() == b"{}"
