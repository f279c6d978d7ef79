"""The reference converter's two engines, openpyxl and python_calamine, give the same bytes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from promptgen.bake import bake_script
from promptgen.golden.xlsx import Blank, ErrorValue, Number, Text, Worksheet, write_workbook
from promptgen.sandbox import run_script
from promptgen.spec import ConverterSettings, Engine
from promptgen.verify import run_golden_cases

pytest.importorskip("python_calamine", reason="python-calamine is not installed; pip install -e .[calamine]")

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = REPO_ROOT / "examples" / "drugqa-sample.xlsx"
MEDQA = Path(__file__).resolve().parents[2] / "shared" / "data" / "MedQA2019.xlsx"
needs_medqa = pytest.mark.skipif(not MEDQA.exists(), reason=f"the MedQA2019 data set is not at {MEDQA}")

SETTINGS = {
    "defaults": ConverterSettings(sheet="DrugQA"),
    "header-text": ConverterSettings(
        sheet="Drug QA",
        input_col="Question",
        output_col="Answer",
        header_rows=2,
        strip=False,
        on_missing="keep",
        format="json",
        system="You are a careful pharmacist. 请用中文回答。",
    ),
    "error-policy": ConverterSettings(sheet="DrugQA", on_missing="error"),
    "no-header": ConverterSettings(sheet="data", input_col="AB", output_col="A", header_rows=0),
}


def with_engine(settings: ConverterSettings, engine: Engine) -> ConverterSettings:
    return ConverterSettings(**{**settings.to_dict(), "engine": engine})


def bake(folder: Path, settings: ConverterSettings) -> Path:
    script = folder / f"converter_{settings.engine}.py"
    script.write_text(bake_script(settings), encoding="utf-8")
    return script


def run_python(script: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    # The timeout only stops a hung script from hanging the suite; no test checks speed.
    return subprocess.run(
        [sys.executable, str(script), *(str(arg) for arg in args)],
        cwd=script.parent,
        capture_output=True,
        encoding="utf-8",
        timeout=120,
    )


def convert_both(folder: Path, settings: ConverterSettings, workbook: Path) -> dict[str, tuple[int, bytes, str]]:
    """Run the reference baked with each engine on ``workbook``: exit status, output bytes and stderr.

    Each engine runs in a folder of its own and writes an output of the same relative name,
    so that the two summaries on stderr can be compared as they are.
    """
    outcomes = {}
    for engine in ("openpyxl", "calamine"):
        engine_folder = folder / engine
        engine_folder.mkdir()
        script = bake(engine_folder, with_engine(settings, engine))
        output = "conversations" + settings.output_suffix
        result = run_python(script, workbook, output)
        written = (engine_folder / output).read_bytes() if (engine_folder / output).exists() else b""
        outcomes[engine] = (result.returncode, written, result.stderr)
    return outcomes


def notes(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("note: ")]


# The golden suite ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["defaults", "header-text", "error-policy"])
def test_calamine_golden_cases(tmp_path: Path, name: str) -> None:
    settings = with_engine(SETTINGS[name], "calamine")
    script = bake(tmp_path, settings)

    outcomes, blocked = run_golden_cases(script, settings)

    failures = [f"{outcome.name}: {outcome.message}" for outcome in outcomes if not outcome.passed]
    assert failures == []
    assert blocked == ()


# Byte for byte on real workbooks ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["defaults", "header-text"])
def test_engines_example_workbook(tmp_path: Path, name: str) -> None:
    settings = SETTINGS[name]
    if name == "header-text":
        settings = ConverterSettings(**{**settings.to_dict(), "sheet": "DrugQA", "header_rows": 1})

    outcomes = convert_both(tmp_path, settings, EXAMPLE)

    assert outcomes["openpyxl"][0] == 0, outcomes["openpyxl"][2]
    assert outcomes["calamine"][0] == 0, outcomes["calamine"][2]
    assert outcomes["calamine"][1] == outcomes["openpyxl"][1]
    assert notes(outcomes["calamine"][2]) == []


@needs_medqa
@pytest.mark.parametrize("output_format", ["jsonl", "json"])
def test_engines_medqa(tmp_path: Path, output_format: str) -> None:
    settings = ConverterSettings(sheet="DrugQA", format=output_format)  # type: ignore[arg-type]

    outcomes = convert_both(tmp_path, settings, MEDQA)

    assert outcomes["openpyxl"][0] == 0, outcomes["openpyxl"][2]
    assert outcomes["calamine"][0] == 0, outcomes["calamine"][2]
    assert outcomes["calamine"][1] == outcomes["openpyxl"][1]
    assert outcomes["calamine"][2] == outcomes["openpyxl"][2]


@needs_medqa
def test_calamine_in_sandbox(tmp_path: Path) -> None:
    settings = ConverterSettings(sheet="DrugQA", engine="calamine")
    script = bake(tmp_path, settings)
    workdir = tmp_path / "work"
    workdir.mkdir()
    shutil.copyfile(MEDQA, workdir / "input.xlsx")

    result = run_script(script, ["input.xlsx", "output.jsonl"], workdir=workdir, timeout=120)

    # No note on stderr means python_calamine's native module loaded and read the sheet.
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["wrote 690 records to output.jsonl; skipped 0 rows"]
    assert result.blocked == ()


# Where python_calamine cannot match openpyxl -----------------------------------------------------


def qa_sheet(name: str, extra: dict[tuple[int, int], object]) -> Worksheet:
    cells: dict[tuple[int, int], object] = {(1, 1): Text("Question"), (1, 4): Text("Answer")}
    for row in range(2, 6):
        cells[(row, 1)] = Text(f"question {row}")
        cells[(row, 4)] = Text(f"answer {row}")
    cells.update(extra)
    return Worksheet(name=name, cells=cells)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("case", "cells", "reason"),
    [
        ("large-integer", {(3, 4): Number("12345678901234567890")}, "as a float"),
        ("getting-data", {(4, 2): ErrorValue("#GETTING_DATA")}, "Unsupported cell error value '#GETTING_DATA'"),
    ],
)
def test_calamine_falls_back(tmp_path: Path, case: str, cells: dict[tuple[int, int], object], reason: str) -> None:
    workbook = tmp_path / f"{case}.xlsx"
    write_workbook(workbook, [qa_sheet("DrugQA", cells)])

    outcomes = convert_both(tmp_path, SETTINGS["defaults"], workbook)

    calamine_notes = notes(outcomes["calamine"][2])
    assert outcomes["calamine"][0] == 0, outcomes["calamine"][2]
    assert outcomes["calamine"][1] == outcomes["openpyxl"][1]
    assert len(calamine_notes) == 1
    assert reason in calamine_notes[0]
    assert outcomes["calamine"][2].splitlines()[-1] == outcomes["openpyxl"][2].splitlines()[-1]


def test_calamine_large_integer_elsewhere(tmp_path: Path) -> None:
    # A column that is neither input nor output does not make the script read the workbook again.
    workbook = tmp_path / "ids.xlsx"
    write_workbook(workbook, [qa_sheet("DrugQA", {(row, 2): Number(f"9{row}345678901234567890") for row in range(2, 6)})])

    outcomes = convert_both(tmp_path, SETTINGS["defaults"], workbook)

    assert outcomes["calamine"][1] == outcomes["openpyxl"][1]
    assert notes(outcomes["calamine"][2]) == []


def test_calamine_sheet_offset(tmp_path: Path) -> None:
    # python_calamine's rows start at the first column with data; the script pads them back.
    cells = {(3, 3): Text("Question"), (3, 5): Text("Answer"), (5, 3): Text("q"), (5, 5): Text("a"), (6, 5): Text("b")}
    workbook = tmp_path / "offset.xlsx"
    write_workbook(workbook, [Worksheet(name="DrugQA", cells=cells)])
    settings = ConverterSettings(sheet="DrugQA", input_col="C", output_col="E", header_rows=3)

    outcomes = convert_both(tmp_path, settings, workbook)

    assert outcomes["calamine"][0] == 0, outcomes["calamine"][2]
    assert outcomes["calamine"][1] == outcomes["openpyxl"][1]
    assert outcomes["calamine"][2] == outcomes["openpyxl"][2]


@pytest.mark.parametrize(
    ("case", "sheets", "sheet_name"),
    [
        ("empty-sheet", [Worksheet(name="DrugQA", cells={})], "DrugQA"),
        ("missing-sheet", [qa_sheet("drugqa ", {})], "DrugQA"),
        ("formatted-only", [Worksheet(name="DrugQA", cells={(4, 4): Blank()})], "DrugQA"),
    ],
)
def test_engines_same_error(tmp_path: Path, case: str, sheets: list[Worksheet], sheet_name: str) -> None:
    workbook = tmp_path / f"{case}.xlsx"
    write_workbook(workbook, sheets)

    outcomes = convert_both(tmp_path, ConverterSettings(sheet=sheet_name), workbook)

    assert outcomes["openpyxl"][0] == 1
    assert outcomes["calamine"][0] == 1
    assert outcomes["calamine"][2] == outcomes["openpyxl"][2]


def test_engines_differ_escaped_text(tmp_path: Path) -> None:
    # NOTE: a known difference. Excel stores a carriage return in text as _x000D_ (ECMA-376
    # ST_Xstring escaping). python_calamine decodes it; openpyxl 3.1.5 keeps the six characters.
    workbook = tmp_path / "escaped.xlsx"
    write_workbook(workbook, [qa_sheet("DrugQA", {(2, 4): Text("line one_x000D_\nline two")})])

    outcomes = convert_both(tmp_path, SETTINGS["defaults"], workbook)

    first = {engine: json.loads(outcome[1].splitlines()[0]) for engine, outcome in outcomes.items()}
    assert first["openpyxl"]["conversation"][0]["output"] == "line one_x000D_\nline two"
    assert first["calamine"]["conversation"][0]["output"] == "line one\r\nline two"


# Lazy imports and a missing engine ---------------------------------------------------------------


IMPORT_PROBE = """
import runpy, sys
sys.argv = sys.argv[1:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit as exit:
    status = exit.code
print(status, "openpyxl" in sys.modules, "python_calamine" in sys.modules)
"""


@pytest.mark.parametrize(("engine", "loaded"), [("openpyxl", "True False"), ("calamine", "False True")])
def test_engine_imported_lazily(tmp_path: Path, engine: Engine, loaded: str) -> None:
    script = bake(tmp_path, ConverterSettings(sheet="DrugQA", engine=engine))

    result = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE, str(script), str(EXAMPLE), str(tmp_path / "out.jsonl")],
        capture_output=True,
        encoding="utf-8",
        timeout=120,
    )

    assert result.stdout.split() == ["0", *loaded.split()], result.stderr


def test_calamine_not_installed(tmp_path: Path) -> None:
    # A stand-in package earlier on sys.path makes "import python_calamine" fail, as it does
    # where python-calamine is not installed.
    shadow = tmp_path / "shadow" / "python_calamine"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('stand-in for a missing package')\n", encoding="utf-8")
    script = bake(tmp_path, ConverterSettings(sheet="DrugQA", engine="calamine"))

    result = subprocess.run(
        [sys.executable, str(script), str(EXAMPLE), str(tmp_path / "out.jsonl")],
        capture_output=True,
        encoding="utf-8",
        timeout=120,
        env={"PYTHONPATH": str(shadow.parent), "PATH": "/usr/bin:/bin"},
    )

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: ENGINE is 'calamine', but python_calamine is not installed; "
        "install it with pip install python-calamine, or set ENGINE to 'openpyxl'"
    ]
    assert not (tmp_path / "out.jsonl").exists()
