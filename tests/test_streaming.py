"""Memory of the reference scripts stays flat as the data grows, measured on real child processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from promptgen.bake import bake_script
from promptgen.golden.xlsx import Blank, Text, Worksheet, write_workbook
from promptgen.spec import ConverterSettings, SplitterSettings

# Runs the command given after it and prints the command's peak resident memory in KiB.
# Linux carries a process's peak across exec, so a script started straight from pytest would
# report at least pytest's own size. This launcher runs as python -I -S, a few MiB, and forks
# the script from there, so os.wait4 reports the script's own peak.
LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execv(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""

# Peak memory at the larger size may exceed that at the smaller by at most this factor. A
# read_only converter that collects its records in a list peaked 4.7 times as high at 100,000
# rows as at 10,000 (Python 3.11, openpyxl 3.1.5), so holding rows or records fails the check.
# A streaming converter on a workbook without a <dimension> element measured 1.33 times in a
# fresh virtual environment, so the bound leaves room for that and still fails at 4.7.
FLAT_FACTOR = 2.0


def peak_memory_kib(script: Path, *args: str | Path) -> int:
    """Run ``script`` with ``args`` in its folder and return its peak resident memory in KiB."""
    # The timeout only stops a hung script from hanging the suite; no test checks speed.
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", LAUNCHER, sys.executable, str(script), *(str(arg) for arg in args)],
        cwd=script.parent,
        capture_output=True,
        encoding="utf-8",
        timeout=300,
    )
    status, peak = result.stdout.split()
    assert status == "0", result.stderr
    return int(peak)


def answer(number: int) -> str:
    # About 600 characters, so that 100,000 rows hold some 60 MB of text.
    return f"answer {number}: " + "take it with food and tell your doctor " * 15


def qa_workbook(path: Path, rows: int, dimension: str | None = "auto", formatted_corner: bool = False) -> Path:
    """Write a sheet DrugQA with a header row and ``rows`` rows of inline text in columns A and D."""
    cells: dict[tuple[int, int], object] = {(1, 1): Text("Question"), (1, 4): Text("Answer")}
    for number in range(2, rows + 2):
        # Inline strings, so that no shared string table grows with the row count.
        cells[(number, 1)] = Text(f"question {number}", inline=True)
        cells[(number, 4)] = Text(answer(number), inline=True)
    if formatted_corner:
        cells[(1_048_576, 16_384)] = Blank()
    write_workbook(path, [Worksheet(name="DrugQA", cells=cells, dimension=dimension)])  # type: ignore[arg-type]
    return path


def bake(folder: Path, settings: ConverterSettings | SplitterSettings, name: str) -> Path:
    script = folder / name
    script.write_text(bake_script(settings), encoding="utf-8")
    return script


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("workbooks")
    return {
        "10k": qa_workbook(folder / "10k.xlsx", 10_000),
        "100k": qa_workbook(folder / "100k.xlsx", 100_000),
        "100k-no-dimension": qa_workbook(folder / "100k-no-dimension.xlsx", 100_000, dimension=None),
        "100k-inflated": qa_workbook(
            folder / "100k-inflated.xlsx", 100_000, dimension="A1:XFD1048576", formatted_corner=True
        ),
    }


@pytest.mark.parametrize("large", ["100k", "100k-no-dimension", "100k-inflated"])
def test_converter_memory_flat(tmp_path: Path, workbooks: dict[str, Path], large: str) -> None:
    script = bake(tmp_path, ConverterSettings(sheet="DrugQA"), "converter.py")

    small_peak = peak_memory_kib(script, workbooks["10k"], "small.jsonl")
    large_peak = peak_memory_kib(script, workbooks[large], "large.jsonl")

    with (tmp_path / "large.jsonl").open(encoding="utf-8") as stream:
        lines = stream.readlines()
    assert len(lines) == 100_000
    assert json.loads(lines[-1]) == {"conversation": [{"input": "question 100001", "output": answer(100_001).strip()}]}
    assert large_peak < FLAT_FACTOR * small_peak


def test_converter_json_memory_flat(tmp_path: Path, workbooks: dict[str, Path]) -> None:
    script = bake(tmp_path, ConverterSettings(sheet="DrugQA", format="json"), "converter.py")

    small_peak = peak_memory_kib(script, workbooks["10k"], "small.json")
    large_peak = peak_memory_kib(script, workbooks["100k"], "large.json")

    records = json.loads((tmp_path / "large.json").read_text(encoding="utf-8"))
    assert len(records) == 100_000
    assert large_peak < FLAT_FACTOR * small_peak


def conversations(path: Path, count: int, output_length: int) -> Path:
    with path.open("w", encoding="utf-8") as stream:
        for number in range(count):
            turn = {"input": f"question {number % (count // 3)}", "output": f"{number} " + "a" * output_length}
            stream.write(json.dumps({"conversation": [turn]}, ensure_ascii=False) + "\n")
    return path


@pytest.mark.parametrize("group_by", ["none", "input"])
def test_splitter_memory_record_count(tmp_path: Path, group_by: str) -> None:
    # The same number of records, once with outputs 20 times as long: memory follows the count.
    script = bake(tmp_path, SplitterSettings(group_by=group_by), "splitter.py")  # type: ignore[arg-type]
    short = conversations(tmp_path / "short.jsonl", 50_000, 100)
    long = conversations(tmp_path / "long.jsonl", 50_000, 2_000)

    short_peak = peak_memory_kib(script, short, "short-train.jsonl", "short-test.jsonl")
    long_peak = peak_memory_kib(script, long, "long-train.jsonl", "long-test.jsonl")

    assert long.stat().st_size > 10 * short.stat().st_size
    assert len((tmp_path / "long-train.jsonl").read_text(encoding="utf-8").splitlines()) == 35_000
    assert long_peak < FLAT_FACTOR * short_peak


def test_splitter_noncanonical_lines(tmp_path: Path) -> None:
    # Lines that are not already json.dumps(record, ensure_ascii=False) are written re-serialized.
    source = tmp_path / "records.jsonl"
    lines = ['{"conversation":[{"input":"caf\\u00e9","output":"1"}]}', '{"conversation": [{"input": "b", "output": "2"}]}  ']
    source.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    script = bake(tmp_path, SplitterSettings(ratio=(1, 1)), "splitter.py")

    result = subprocess.run(
        [sys.executable, str(script), str(source), "train.jsonl", "test.jsonl"],
        cwd=tmp_path,
        capture_output=True,
        encoding="utf-8",
        timeout=120,
    )

    written = sorted(
        (tmp_path / "train.jsonl").read_text(encoding="utf-8").splitlines()
        + (tmp_path / "test.jsonl").read_text(encoding="utf-8").splitlines()
    )
    assert result.returncode == 0, result.stderr
    assert written == [
        '{"conversation": [{"input": "b", "output": "2"}]}',
        '{"conversation": [{"input": "café", "output": "1"}]}',
    ]
