"""Golden cases: the fixture builder, the expectations, the output checks, and real scripts run on every case."""

from __future__ import annotations

import datetime
import json
import random
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from promptgen.bake import bake_script
from promptgen.golden import (
    CaseOutcome,
    ExpectConversion,
    ExpectFailure,
    ExpectSplit,
    Mention,
    PreparedCase,
    check_outcome,
    diff_records,
    golden_cases,
    read_output,
    serialize_records,
    split_sizes,
)
from promptgen.golden.converter_layout import EMPTY, Row, expect_rows, place_columns, text
from promptgen.golden.splitter_cases import InputPositions, conversation, plan_split
from promptgen.golden.xlsx import (
    Blank,
    Boolean,
    DateSerial,
    ErrorValue,
    Formula,
    IsoDate,
    Number,
    RichText,
    Text,
    Worksheet,
    excel_serial,
    write_ole2,
    write_workbook,
)
from promptgen.sandbox import RunResult, run_script
from promptgen.spec import ConverterSettings, Settings, SplitterSettings, column_index

BAD_SCRIPTS = Path(__file__).parent / "bad_scripts"
MEDQA = Path(__file__).resolve().parents[2] / "shared" / "data" / "MedQA2019.xlsx"

CONVERTER_SETTINGS = {
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
    "mixed-columns": ConverterSettings(sheet="2019", input_col="Question", output_col="C", header_rows=3),
}

SPLITTER_SETTINGS = {
    "7:3-seed-42": SplitterSettings(ratio=(7, 3), seed=42),
    "8:2-seed-1": SplitterSettings(ratio=(8, 2), seed=1),
    "grouped": SplitterSettings(group_by="input"),
    "1:1-grouped-seed-7": SplitterSettings(ratio=(1, 1), seed=7, group_by="input"),
}


def assert_message(actual: str, expected_start: str) -> None:
    """Assert that ``actual`` starts with ``expected_start``, or is empty when that is empty."""
    if expected_start:
        assert actual.startswith(expected_start), actual
    else:
        assert actual == ""


def run(script: Path, prepared: PreparedCase, workdir: Path, timeout: float | None = None) -> RunResult:
    # A plain isolated subprocess: the sandbox has its own tests, and these test the golden checks alone.
    limit = prepared.timeout if timeout is None else timeout
    started = time.monotonic()
    try:
        completed = subprocess.run(
            [sys.executable, "-I", str(script), *prepared.args],
            cwd=workdir,
            capture_output=True,
            timeout=limit,
        )
    except subprocess.TimeoutExpired:
        return RunResult(returncode=None, stdout="", stderr="", timed_out=True, duration=limit)
    return RunResult(
        returncode=completed.returncode,
        stdout=completed.stdout.decode("utf-8", errors="replace"),
        stderr=completed.stderr.decode("utf-8", errors="replace"),
        timed_out=False,
        duration=time.monotonic() - started,
    )


def run_case(script: Path, settings: Settings, name: str, workdir: Path) -> CaseOutcome:
    kind = "converter" if isinstance(settings, ConverterSettings) else "splitter"
    case = next(case for case in golden_cases(kind) if case.name == name)
    prepared = case.prepare(settings, workdir)
    return check_outcome(prepared, run(script, prepared, workdir), workdir)


@pytest.fixture(scope="module")
def baked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("reference")
    scripts = {}
    for label, settings in {**CONVERTER_SETTINGS, **SPLITTER_SETTINGS}.items():
        script = folder / f"{label.replace(':', '-')}.py"
        script.write_text(bake_script(settings), encoding="utf-8")
        scripts[label] = script
    return scripts


# The fixture builder, read back through openpyxl 3.1.5 in read-only, data-only mode.

CELL_READS = [
    (Text("plain"), "plain"),
    (Text("  kept  "), "  kept  "),
    (Text("line\r\nbreak"), "line\r\nbreak"),
    (Text("inline", inline=True), "inline"),
    (RichText(("Bold ", "plain")), "Bold plain"),
    (Number("12"), 12),
    (Number("12.0"), 12.0),
    (Number("9007199254740993"), 9007199254740993),
    (Number("3E+2"), 300.0),
    (Boolean(True), True),
    (Boolean(False), False),
    (ErrorValue("#N/A"), "#N/A"),
    (ErrorValue("#GETTING_DATA"), "#GETTING_DATA"),
    (Formula("1+1", Number("2")), 2),
    (Formula('"a"&"b"', Text("ab")), "ab"),
    (Formula("1/0", ErrorValue("#DIV/0!")), "#DIV/0!"),
    (Formula("TRUE()", Boolean(True)), True),
    (Formula("TODAY()"), None),
    (DateSerial(datetime.date(2020, 1, 2), "date"), datetime.datetime(2020, 1, 2)),
    (DateSerial(datetime.datetime(2020, 2, 29, 13, 45, 30), "datetime"), datetime.datetime(2020, 2, 29, 13, 45, 30)),
    (DateSerial(datetime.time(18, 0), "time"), datetime.time(18, 0)),
    (DateSerial(datetime.time(0, 0), "time"), datetime.time(0, 0)),
    (DateSerial(datetime.date(2021, 5, 6), "custom-date"), datetime.datetime(2021, 5, 6)),
    (IsoDate("2020-03-04"), datetime.date(2020, 3, 4)),
    (IsoDate("13:45:30"), datetime.time(13, 45, 30)),
    (Blank(), None),
]


def read_back(path: Path, sheet: str) -> list[tuple[object, ...]]:
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    worksheet = workbook[sheet]
    worksheet.reset_dimensions()
    rows = list(worksheet.iter_rows(values_only=True))
    workbook.close()
    return rows


@pytest.mark.parametrize(("value", "expected"), CELL_READS, ids=[repr(value) for value, _ in CELL_READS])
def test_builder_cell_read(tmp_path: Path, value: object, expected: object) -> None:
    path = tmp_path / "cells.xlsx"
    write_workbook(path, [Worksheet("S", {(1, 1): Text("first"), (1, 2): value})])  # type: ignore[dict-item]
    rows = read_back(path, "S")
    got = rows[0][1] if len(rows[0]) > 1 else None
    assert got == expected
    assert type(got) is type(expected)


def test_builder_date1904(tmp_path: Path) -> None:
    path = tmp_path / "mac.xlsx"
    cell = DateSerial(datetime.date(2020, 1, 2), "date")
    write_workbook(path, [Worksheet("S", {(1, 1): cell})], date1904=True)
    assert read_back(path, "S")[0][0] == datetime.datetime(2020, 1, 2)


def test_builder_excel_serial() -> None:
    assert excel_serial(datetime.date(2020, 1, 2)) == "43832"
    assert excel_serial(datetime.time(18, 0)) == "0.75"
    assert excel_serial(datetime.datetime(2020, 1, 2, 12, 0)) == "43832.5"
    assert excel_serial(datetime.date(2020, 1, 2), date1904=True) == "42370"


def sheet_xml(path: Path, number: int = 1) -> str:
    with zipfile.ZipFile(path) as package:
        return package.read(f"xl/worksheets/sheet{number}.xml").decode("utf-8")


def test_builder_dimension(tmp_path: Path) -> None:
    cells = {(2, 1): Text("a"), (5, 4): Text("b")}
    write_workbook(tmp_path / "auto.xlsx", [Worksheet("S", cells)])
    write_workbook(tmp_path / "none.xlsx", [Worksheet("S", cells, dimension=None)])
    write_workbook(tmp_path / "inflated.xlsx", [Worksheet("S", cells, dimension="A1:XFD1048576")])
    assert '<dimension ref="A2:D5"/>' in sheet_xml(tmp_path / "auto.xlsx")
    assert "<dimension" not in sheet_xml(tmp_path / "none.xlsx")
    assert '<dimension ref="A1:XFD1048576"/>' in sheet_xml(tmp_path / "inflated.xlsx")


def test_builder_inflated_claim(tmp_path: Path) -> None:
    path = tmp_path / "inflated.xlsx"
    cells = {(1, 1): Text("a"), (1_048_576, 16_384): Blank()}
    write_workbook(path, [Worksheet("S", cells, dimension="A1:XFD1048576")])
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    assert workbook["S"].max_row == 1_048_576
    assert workbook["S"].max_column == 16_384
    workbook.close()


def test_builder_sheets_and_merges(tmp_path: Path) -> None:
    path = tmp_path / "sheets.xlsx"
    sheets = [
        Worksheet("Hidden", {(1, 1): Text("h")}, state="hidden"),
        Worksheet("Target", {(1, 1): Text("t"), (2, 1): Blank()}, merged=("A1:A2",)),
        Worksheet("Notes", {(1, 1): Text("n")}),
    ]
    write_workbook(path, sheets, active=2)
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["Hidden", "Target", "Notes"]
    assert workbook["Hidden"].sheet_state == "hidden"
    assert workbook.active.title == "Notes"
    assert [str(merged) for merged in workbook["Target"].merged_cells.ranges] == ["A1:A2"]


def test_builder_empty_rows(tmp_path: Path) -> None:
    path = tmp_path / "gaps.xlsx"
    write_workbook(path, [Worksheet("S", {(1, 1): Text("a"), (5, 1): Text("b")}, empty_rows=(3,))])
    assert '<row r="3"/>' in sheet_xml(path)
    assert [tuple(row[:1]) for row in read_back(path, "S")] == [("a",), (), (), (), ("b",)]


def test_builder_ole2(tmp_path: Path) -> None:
    write_ole2(tmp_path / "old.xls", ("Workbook",))
    write_ole2(tmp_path / "locked.xlsx", ("EncryptionInfo", "EncryptedPackage"))
    old = (tmp_path / "old.xls").read_bytes()
    locked = (tmp_path / "locked.xlsx").read_bytes()
    assert old.startswith(bytes.fromhex("D0CF11E0A1B11AE1"))
    assert locked.startswith(bytes.fromhex("D0CF11E0A1B11AE1"))
    assert "EncryptionInfo".encode("utf-16-le") in locked
    assert "EncryptionInfo".encode("utf-16-le") not in old
    assert "Workbook".encode("utf-16-le") in old


# Expectations derived from declarations and the contract's formulas.

ONE_SIDED = (
    Row(text("q1"), text("a1")),
    Row(text("q2"), EMPTY),
    Row(EMPTY, EMPTY),
    Row(text("  "), text("a4")),
)


@pytest.mark.parametrize(
    ("on_missing", "strip", "inputs", "skipped"),
    [
        ("skip", True, ["q1"], (3, 5)),
        ("keep", True, ["q1", "q2", ""], ()),
        ("skip", False, ["q1", "  "], (3,)),
        ("keep", False, ["q1", "q2", "  "], ()),
    ],
)
def test_expect_rows_policy(on_missing: str, strip: bool, inputs: list[str], skipped: tuple[int, ...]) -> None:
    settings = ConverterSettings(sheet="S", on_missing=on_missing, strip=strip)  # type: ignore[arg-type]
    expected = expect_rows(ONE_SIDED, (2, 3, 4, 5), settings)
    assert isinstance(expected, ExpectConversion)
    assert [record["conversation"][0]["input"] for record in expected.records] == inputs
    assert expected.skipped_rows == skipped
    assert expected.blank_rows == (4,)


def test_expect_rows_error_policy() -> None:
    settings = ConverterSettings(sheet="S", on_missing="error")
    expected = expect_rows(ONE_SIDED, (2, 3, 4, 5), settings)
    assert isinstance(expected, ExpectFailure)
    assert expected.mentions == (Mention(r"\b3\b", "row 3"),)


def test_expect_rows_system() -> None:
    with_system = expect_rows(ONE_SIDED[:1], (2,), ConverterSettings(sheet="S", system="Be brief."))
    without = expect_rows(ONE_SIDED[:1], (2,), ConverterSettings(sheet="S"))
    assert isinstance(with_system, ExpectConversion)
    assert isinstance(without, ExpectConversion)
    assert list(with_system.records[0]["conversation"][0]) == ["system", "input", "output"]
    assert list(without.records[0]["conversation"][0]) == ["input", "output"]


@pytest.mark.parametrize(
    ("input_col", "output_col", "header_rows"),
    [("A", "D", 1), ("Question", "Answer", 1), ("Question", "C", 2), ("XFD", "A", 0), ("B", "Answer", 1)],
)
def test_place_columns_distinct(input_col: str, output_col: str, header_rows: int) -> None:
    settings = ConverterSettings(sheet="S", input_col=input_col, output_col=output_col, header_rows=header_rows)
    columns = place_columns(settings)
    placed = [columns.input, columns.output, *columns.decoys]
    assert len(set(placed)) == len(placed)
    assert all(1 <= index <= 16_384 for index in placed)
    assert columns.decoys
    if input_col.isupper() and len(input_col) <= 3:
        assert columns.input == column_index(input_col)


@pytest.mark.parametrize(
    ("records", "ratio", "sizes"),
    [
        (690, (7, 3), (483, 207)),
        (690, (8, 2), (552, 138)),
        (10, (7, 3), (7, 3)),
        (2, (7, 3), (1, 1)),
        (13, (7, 3), (9, 4)),
        (2, (1, 9), (0, 2)),
    ],
)
def test_split_sizes_table(records: int, ratio: tuple[int, int], sizes: tuple[int, int]) -> None:
    assert split_sizes(records, ratio) == sizes


def test_plan_split_grouped() -> None:
    records = [conversation(key, f"answer {number}") for number, key in enumerate("aabcbbdaeffg")]
    where = InputPositions("line", tuple(range(1, len(records) + 1)))
    expected = plan_split(records, (7, 3), 42, "input", where)
    assert isinstance(expected, ExpectSplit)
    train_keys = {records[position]["conversation"][0]["input"] for position in expected.train}
    test_keys = {records[position]["conversation"][0]["input"] for position in expected.test}
    assert not train_keys & test_keys
    assert sorted(expected.train + expected.test) == list(range(len(records)))
    assert expected.groups == 7


def test_plan_split_ungrouped_order() -> None:
    records = [conversation(f"q{number}", "a") for number in range(10)]
    where = InputPositions("line", tuple(range(1, 11)))
    expected = plan_split(records, (7, 3), 42, "none", where)
    order = list(range(10))
    random.Random(42).shuffle(order)
    assert isinstance(expected, ExpectSplit)
    assert expected.train == tuple(order[:7])
    assert expected.test == tuple(order[7:])


def test_plan_split_missing_key() -> None:
    records = [conversation("q", "a"), {"conversation": [{"output": "a"}]}]
    expected = plan_split(records, (1, 1), 42, "input", InputPositions("line", (1, 3)))
    assert isinstance(expected, ExpectFailure)
    assert expected.mentions == (Mention(r"\b3\b", "line 3"),)


# read_output and diff_records.

RECORDS = [
    {"conversation": [{"input": "阿司匹林", "output": "12"}]},
    {"conversation": [{"input": "line\u2028separator", "output": "x"}]},
]
JSONL = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in RECORDS)
ARRAY = json.dumps(RECORDS, ensure_ascii=False, indent=2) + "\n"

READ_FAULTS = [
    ("exact-jsonl", JSONL.encode(), "jsonl", ""),
    ("exact-json", ARRAY.encode(), "json", ""),
    ("array-for-lines", ARRAY.encode(), "jsonl", "wrote a JSON array, but JSON Lines was requested"),
    ("lines-for-array", JSONL.encode(), "json", "wrote JSON Lines, but a JSON array was requested"),
    (
        "ascii",
        "".join(json.dumps(r) + "\n" for r in RECORDS).encode(),
        "jsonl",
        "escaped non-ASCII characters as \\uXXXX; use ensure_ascii=False",
    ),
    ("bom", b"\xef\xbb\xbf" + JSONL.encode(), "jsonl", "starts with a UTF-8 BOM; write UTF-8 without a BOM"),
    (
        "crlf",
        JSONL.replace("\n", "\r\n").encode(),
        "jsonl",
        'ends lines with CRLF; write "\\n" line ends (open the file with newline="\\n")',
    ),
    (
        "no-final-newline",
        JSONL.rstrip("\n").encode(),
        "jsonl",
        'does not end with a newline; write "\\n" after the last record',
    ),
    (
        "indent-4",
        (json.dumps(RECORDS, ensure_ascii=False, indent=4) + "\n").encode(),
        "json",
        "indents by 4 characters; use json.dumps(records, ensure_ascii=False, indent=2)",
    ),
    (
        "one-line-array",
        (json.dumps(RECORDS, ensure_ascii=False) + "\n").encode(),
        "json",
        "wrote the array on one line; use json.dumps(records, ensure_ascii=False, indent=2)",
    ),
    (
        "pretty-lines",
        "".join(json.dumps(r, ensure_ascii=False, indent=2) + "\n" for r in RECORDS).encode(),
        "jsonl",
        "wrote indented JSON over several lines; JSON Lines needs one record per line",
    ),
    (
        "blank-line",
        (JSONL + "\n").encode(),
        "jsonl",
        "line 3 is blank; JSON Lines has exactly one record on every line",
    ),
    (
        "compact",
        "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in RECORDS).encode(),
        "jsonl",
        "line 1 is not written as json.dumps(record, ensure_ascii=False) writes it",
    ),
    (
        "single-object",
        (json.dumps(RECORDS[0], ensure_ascii=False, indent=2) + "\n").encode(),
        "json",
        "wrote a single JSON object, but a JSON array was requested",
    ),
]


@pytest.mark.parametrize(("label", "data", "output_format", "fault"), READ_FAULTS, ids=[row[0] for row in READ_FAULTS])
def test_read_output_fault(tmp_path: Path, label: str, data: bytes, output_format: str, fault: str) -> None:
    path = tmp_path / "out"
    path.write_bytes(data)
    records, found = read_output(path, output_format)  # type: ignore[arg-type]
    assert_message(found, fault)
    if label != "single-object":
        assert records == RECORDS


def test_read_output_invalid(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text(JSONL + '{"conversation": [\n', encoding="utf-8")
    records, fault = read_output(path, "jsonl")
    assert records == []
    assert fault.startswith("line 3 is not valid JSON")


def test_read_output_missing(tmp_path: Path) -> None:
    assert read_output(tmp_path / "absent.jsonl", "jsonl") == ([], "wrote no output file")


def test_serialize_records_forms() -> None:
    assert serialize_records(RECORDS, "jsonl") == JSONL.encode("utf-8")
    assert serialize_records(RECORDS, "json") == ARRAY.encode("utf-8")


def turn(input_text: str, output_text: str, system: str = "") -> dict[str, object]:
    fields = {"system": system} if system else {}
    return {"conversation": [{**fields, "input": input_text, "output": output_text}]}


DIFFS = [
    ("equal", [turn("a", "1")], [turn("a", "1")], ""),
    ("field", [turn("a", "12")], [turn("a", "12.0")], "record 1, field 'output': expected '12', got '12.0'"),
    ("type", [{"n": 1}], [{"n": True}], "record 1, field 'n': expected 1, got True"),
    (
        "missing",
        [turn("a", "1"), turn("b", "2"), turn("c", "3")],
        [turn("a", "1"), turn("c", "3")],
        "record 2 is missing: expected",
    ),
    ("extra", [turn("a", "1")], [turn("a", "1"), turn("b", "2")], "expected 1 record, got 2; record 2 is not expected"),
    (
        "inserted",
        [turn("a", "1"), turn("c", "3")],
        [turn("a", "1"), turn("b", "2"), turn("c", "3")],
        "record 2 is not expected",
    ),
    ("system", [turn("a", "1")], [turn("a", "1", "S")], "record 1, field 'conversation[0]': unexpected key 'system'"),
    (
        "key-order",
        [{"a": 1, "b": 2}],
        [{"b": 2, "a": 1}],
        "record 1: keys are in the order ['b', 'a'], expected ['a', 'b']",
    ),
    (
        "long",
        [turn("a", "x" * 100)],
        [turn("a", "x" * 70 + "y" + "x" * 29)],
        "record 1, field 'output': first difference at character 71",
    ),
]


@pytest.mark.parametrize(("label", "expected", "actual", "message"), DIFFS, ids=[row[0] for row in DIFFS])
def test_diff_records_message(label: str, expected: list, actual: list, message: str) -> None:
    assert_message(diff_records(expected, actual), message)


# check_outcome on hand-made results.


def prepared_failure(tmp_path: Path) -> PreparedCase:
    case = next(case for case in golden_cases("converter") if case.name == "missing-sheet")
    return case.prepare(ConverterSettings(sheet="DrugQA"), tmp_path)


def result(returncode: int | None, stderr: str, timed_out: bool = False) -> RunResult:
    return RunResult(returncode=returncode, stdout="", stderr=stderr, timed_out=timed_out, duration=0.1)


OUTCOMES = [
    ("timed-out", result(None, "", timed_out=True), "timed out after 30 s"),
    ("exit-0", result(0, "done\n"), "exited 0, but the workbook has no sheet named exactly 'DrugQA'"),
    (
        "traceback",
        result(1, "Traceback (most recent call last):\n  File x\nKeyError: 'DrugQA'\n"),
        "printed a traceback instead of a one-line error: \"KeyError: 'DrugQA'\"",
    ),
    ("silent", result(1, ""), "exited 1 without an error message on stderr"),
    ("two-lines", result(1, "error: one\nerror: two\n"), "printed 2 lines on stderr"),
    ("unnamed", result(1, "error: sheet not found\n"), "the error message does not name the sheet 'DrugQA'"),
    (
        "no-near-match",
        result(1, "error: no sheet DrugQA\n"),
        "the error message does not name the sheet 'dRUGqa' that exists",
    ),
    ("good", result(1, "error: sheet 'DrugQA' not found; the workbook has 'DrugQA ', 'dRUGqa'\n"), ""),
]


@pytest.mark.parametrize(("label", "run_result", "message"), OUTCOMES, ids=[row[0] for row in OUTCOMES])
def test_check_outcome_failure_case(tmp_path: Path, label: str, run_result: RunResult, message: str) -> None:
    outcome = check_outcome(prepared_failure(tmp_path), run_result, tmp_path)
    assert outcome.name == "missing-sheet"
    assert_message(outcome.message, message)
    assert outcome.passed is (message == "")


def test_check_outcome_leftovers(tmp_path: Path) -> None:
    prepared = prepared_failure(tmp_path)
    good = result(1, "error: sheet 'DrugQA' not found; the workbook has 'DrugQA ', 'dRUGqa'\n")
    (tmp_path / ".conversations.jsonl.x1.tmp").write_text("{}", encoding="utf-8")
    assert check_outcome(prepared, good, tmp_path).message.startswith(
        "left the file '.conversations.jsonl.x1.tmp' behind after failing; write only the outputs"
    )
    (tmp_path / "conversations.jsonl").write_text("{}\n", encoding="utf-8")
    assert check_outcome(prepared, good, tmp_path).message == "left a partial output file behind after failing"


def test_prepare_wrong_kind(tmp_path: Path) -> None:
    case = golden_cases("splitter")[0]
    with pytest.raises(ValueError, match="pass splitter settings"):
        case.prepare(ConverterSettings(sheet="S"), tmp_path)


@pytest.mark.parametrize("kind", ["converter", "splitter"])
def test_golden_cases_declared(kind: str) -> None:
    cases = golden_cases(kind)  # type: ignore[arg-type]
    names = [case.name for case in cases]
    assert len(names) == len(set(names))
    assert all(case.kind == kind for case in cases)
    assert all(case.description.endswith(".") for case in cases)


# The reference scripts pass every case under several settings.


@pytest.mark.parametrize("label", list(CONVERTER_SETTINGS))
@pytest.mark.parametrize("name", [case.name for case in golden_cases("converter")])
def test_reference_converter_case(baked: dict[str, Path], tmp_path: Path, label: str, name: str) -> None:
    outcome = run_case(baked[label], CONVERTER_SETTINGS[label], name, tmp_path)
    assert outcome.message == ""
    assert outcome.passed


@pytest.mark.parametrize("label", list(SPLITTER_SETTINGS))
@pytest.mark.parametrize("name", [case.name for case in golden_cases("splitter")])
def test_reference_splitter_case(baked: dict[str, Path], tmp_path: Path, label: str, name: str) -> None:
    outcome = run_case(baked[label], SPLITTER_SETTINGS[label], name, tmp_path)
    assert outcome.message == ""
    assert outcome.passed


@pytest.mark.parametrize(("kind", "label"), [("converter", "defaults"), ("splitter", "7:3-seed-42")])
def test_sandboxed_reference_passes(baked: dict[str, Path], tmp_path: Path, kind: str, label: str) -> None:
    # The same loop verify runs, through the real sandbox, with one fresh folder per case.
    settings = {**CONVERTER_SETTINGS, **SPLITTER_SETTINGS}[label]
    failures = []
    for case in golden_cases(kind):  # type: ignore[arg-type]
        workdir = tmp_path / case.name
        workdir.mkdir()
        prepared = case.prepare(settings, workdir)
        result = run_script(baked[label], list(prepared.args), workdir=workdir, timeout=prepared.timeout)
        outcome = check_outcome(prepared, result, workdir)
        if not outcome.passed:
            failures.append(f"{outcome.name}: {outcome.message}")
    assert failures == []


def test_split_690_expectation(tmp_path: Path) -> None:
    case = next(case for case in golden_cases("splitter") if case.name == "split-690")
    expected = case.prepare(SplitterSettings(), tmp_path).expected
    assert isinstance(expected, ExpectSplit)
    assert (len(expected.train), len(expected.test)) == (483, 207)
    assert sorted(expected.train + expected.test) == list(range(690))


def test_seed_override_args(tmp_path: Path) -> None:
    case = next(case for case in golden_cases("splitter") if case.name == "seed-override")
    (tmp_path / "baked-42").mkdir()
    (tmp_path / "baked-7").mkdir()
    assert case.prepare(SplitterSettings(seed=42), tmp_path / "baked-42").args[-2:] == ("--seed", "7")
    assert case.prepare(SplitterSettings(seed=7), tmp_path / "baked-7").args[-2:] == ("--seed", "8")


# Known-bad scripts fail with the fault named in plain words.

BAD_CONVERTERS = [
    (
        "converter_json_array.py",
        "header-rows",
        ConverterSettings(sheet="DrugQA"),
        "wrote a JSON array, but JSON Lines was requested",
    ),
    (
        "converter_ascii_escapes.py",
        "non-ascii",
        ConverterSettings(sheet="DrugQA"),
        "escaped non-ASCII characters as \\uXXXX; use ensure_ascii=False",
    ),
    (
        "converter_float_text.py",
        "numbers",
        ConverterSettings(sheet="DrugQA"),
        "record 1, field 'output': expected '12', got '12.0'",
    ),
    (
        "converter_missing_sheet_traceback.py",
        "missing-sheet",
        ConverterSettings(sheet="DrugQA"),
        "printed a traceback instead of a one-line error",
    ),
    (
        "converter_partial_output.py",
        "missing-output",
        ConverterSettings(sheet="DrugQA", on_missing="error"),
        "left a partial output file behind after failing",
    ),
    (
        "converter_no_reset_dimensions.py",
        "column-beyond-width",
        ConverterSettings(sheet="DrugQA"),
        "exited 0, but column D is beyond the sheet's last column with data, C",
    ),
]


@pytest.mark.parametrize(
    ("script", "name", "settings", "message"), BAD_CONVERTERS, ids=[row[0] for row in BAD_CONVERTERS]
)
def test_bad_converter_fails(tmp_path: Path, script: str, name: str, settings: ConverterSettings, message: str) -> None:
    outcome = run_case(BAD_SCRIPTS / script, settings, name, tmp_path)
    assert not outcome.passed
    assert outcome.message.startswith(message)


@pytest.mark.parametrize("script", [row[0] for row in BAD_CONVERTERS if row[0] != "converter_json_array.py"])
def test_bad_converter_control(tmp_path: Path, script: str) -> None:
    # Each bad converter is correct apart from its one fault, so a plain case passes;
    # the failures above are then due to that fault.
    settings = ConverterSettings(sheet="DrugQA", on_missing="error" if "partial" in script else "skip")
    outcome = run_case(BAD_SCRIPTS / script, settings, "header-rows", tmp_path)
    assert outcome.message == ""


def test_bad_converter_stale_dimension(tmp_path: Path) -> None:
    script = BAD_SCRIPTS / "converter_no_reset_dimensions.py"
    outcome = run_case(script, ConverterSettings(sheet="DrugQA"), "stale-dimension", tmp_path)
    assert outcome.message == "exited 1: 'error: column D is beyond the last column with data'"


BAD_SPLITTERS = [
    (
        "splitter_float_ratio.py",
        "split-690",
        r"wrote 482 train and 208 test records; expected 483 and 207 \(test is ceil\(690 \* 3 / 10\)",
    ),
    (
        "splitter_unseeded.py",
        "split-690",
        r"train\.jsonl record \d+ is input record \d+, expected input record \d+; "
        r"shuffle list\(range\(n\)\) with random\.Random\(42\)\.shuffle",
    ),
    ("splitter_json_array.py", "split-10", r"train\.jsonl: wrote a JSON array, but JSON Lines was requested"),
]


@pytest.mark.parametrize(("script", "name", "pattern"), BAD_SPLITTERS, ids=[row[0] for row in BAD_SPLITTERS])
def test_bad_splitter_fails(tmp_path: Path, script: str, name: str, pattern: str) -> None:
    outcome = run_case(BAD_SCRIPTS / script, SplitterSettings(), name, tmp_path)
    assert not outcome.passed
    assert re.match(pattern, outcome.message), outcome.message


# The real workbook, as verify compares candidate and reference output on it.


@pytest.mark.skipif(not MEDQA.exists(), reason=f"the real data set {MEDQA} is not present")
def test_real_workbook_output(baked: dict[str, Path], tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-I", str(baked["defaults"]), str(MEDQA), "out.jsonl"],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    assert completed.returncode == 0
    records, fault = read_output(tmp_path / "out.jsonl", "jsonl")
    assert fault == ""
    assert len(records) == 690
    changed = json.loads(json.dumps(records))
    changed[41]["conversation"][0]["output"] += " "
    assert diff_records(records, records) == ""
    assert diff_records(records, changed).startswith("record 42, field 'output': ")


@pytest.mark.parametrize(
    "settings",
    [
        ConverterSettings(sheet="Data", input_col="Back\\slash", output_col="E"),
        ConverterSettings(sheet="Data", input_col="Answer\n(text)", output_col="A"),
        ConverterSettings(sheet="Tab\tQA"),
    ],
    ids=["backslash-header", "newline-header", "tab-sheet"],
)
def test_reference_passes_escaped_names(tmp_path, settings):
    from promptgen.bake import bake_script
    from promptgen.verify import run_golden_cases

    script = tmp_path / "converter.py"
    script.write_text(bake_script(settings), encoding="utf-8")
    outcomes, _blocked = run_golden_cases(script, settings)
    assert [(outcome.name, outcome.message) for outcome in outcomes if not outcome.passed] == []
