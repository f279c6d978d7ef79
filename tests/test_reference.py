"""The reference converter and splitter, run as real subprocesses on workbooks and files written here."""

from __future__ import annotations

import datetime
import json
import random
import subprocess
import sys
import tracemalloc
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

import openpyxl
import pytest
from openpyxl.styles import Font

from promptgen.bake import bake_constants
from promptgen.errors import SettingsError
from promptgen.reference import converter, reference_path, splitter

MEDQA = Path(__file__).resolve().parents[2] / "shared" / "data" / "MedQA2019.xlsx"
needs_medqa = pytest.mark.skipif(not MEDQA.exists(), reason=f"the MedQA2019 data set is not at {MEDQA}")

OLE2_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
HEADER = ["Question", "Focus (Drug)", "Question Type", "Answer", "Section Title", "URL"]


# Helpers ---------------------------------------------------------------------------------------


def write_script(folder: Path, kind: str, **constants: Any) -> Path:
    """Write the reference script for ``kind`` into ``folder`` with ``constants`` baked in."""
    source = reference_path(kind).read_text(encoding="utf-8")
    if constants:
        source = bake_constants(source, constants)
    script = folder / f"{kind}.py"
    script.write_text(source, encoding="utf-8")
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


def write_workbook(path: Path, rows: list[list[Any]], sheet: str = "DrugQA", others: tuple[str, ...] = ()) -> Path:
    """Write ``rows`` from row 1 into worksheet ``sheet``; an empty list leaves that row out."""
    workbook = openpyxl.Workbook()
    for name in others:
        workbook.create_sheet(name).append(["decoy question", None, None, "decoy answer"])
    worksheet = workbook.active
    worksheet.title = sheet
    for row in rows:
        worksheet.append(row)
    workbook.move_sheet(worksheet, offset=len(others))
    workbook.save(path)
    return path


def qa_rows(*pairs: tuple[Any, Any]) -> list[list[Any]]:
    """Return a header row and one row per (input, output) pair, in columns A and D."""
    return [HEADER] + [[question, "drug", "type", answer, "section", "url"] for question, answer in pairs]


def turn_records(*pairs: tuple[str, str], system: str = "") -> list[dict[str, Any]]:
    records = []
    for question, answer in pairs:
        turn = {"system": system} if system else {}
        turn.update({"input": question, "output": answer})
        records.append({"conversation": [turn]})
    return records


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def folder_names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for word in words:
        assert word in lines[0]


@pytest.fixture
def convert_script(tmp_path: Path) -> Path:
    return write_script(tmp_path, "converter")


@pytest.fixture
def split_script(tmp_path: Path) -> Path:
    return write_script(tmp_path, "splitter")


# reference_path --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["converter", "splitter"])
def test_reference_path_exists(kind: str) -> None:
    assert reference_path(kind).is_file()


def test_reference_path_unknown_kind() -> None:
    with pytest.raises(SettingsError, match="unknown script kind"):
        reference_path("merger")  # type: ignore[arg-type]


# Converter: cell values ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "strip", "text"),
    [
        (None, True, None),
        ("", True, None),
        ("", False, None),
        ("  padded  ", True, "padded"),
        ("  padded  ", False, "  padded  "),
        ("   ", True, None),
        ("   ", False, "   "),
        ("多行\n文本", True, "多行\n文本"),
        (True, True, "TRUE"),
        (False, True, "FALSE"),
        (0, True, "0"),
        (12, True, "12"),
        (12345678901234567890, True, "12345678901234567890"),
        (12.0, True, "12"),
        (-3.0, True, "-3"),
        (12.5, True, "12.5"),
        (0.1, True, "0.1"),
        (datetime.datetime(2024, 3, 5), True, "2024-03-05"),
        (datetime.datetime(2024, 3, 5, 14, 7, 9), True, "2024-03-05 14:07:09"),
        (datetime.date(2024, 3, 5), True, "2024-03-05"),
        (datetime.time(8, 30), True, "08:30:00"),
        (datetime.timedelta(hours=26, minutes=3), True, "26:03:00"),
        ("#NULL!", True, None),
        ("#DIV/0!", True, None),
        ("#VALUE!", True, None),
        ("#REF!", True, None),
        ("#NAME?", True, None),
        ("#NUM!", True, None),
        ("#N/A", True, None),
        ("#GETTING_DATA", True, None),
    ],
)
def test_cell_text_rules(value: object, strip: bool, text: str | None) -> None:
    assert converter.cell_text(value, strip) == text


def test_converter_cell_types(tmp_path: Path, convert_script: Path) -> None:
    values = [
        ("bool", True, "TRUE"),
        ("int", 12, "12"),
        ("integral float", 7.0, "7"),
        ("float", 12.5, "12.5"),
        ("large int", 123456789012345, "123456789012345"),
        ("midnight", datetime.datetime(2021, 12, 31), "2021-12-31"),
        ("datetime", datetime.datetime(2021, 12, 31, 23, 59, 58), "2021-12-31 23:59:58"),
        ("time", datetime.time(6, 5, 4), "06:05:04"),
        ("chinese", "阿司匹林", "阿司匹林"),
    ]
    rows = qa_rows(*((name, value) for name, value, _ in values))
    write_workbook(tmp_path / "in.xlsx", rows)

    result = run_python(convert_script, "in.xlsx", "out.jsonl")

    assert result.returncode == 0, result.stderr
    assert read_jsonl(tmp_path / "out.jsonl") == turn_records(*((name, text) for name, _, text in values))


def test_converter_error_cells(tmp_path: Path, convert_script: Path) -> None:
    # openpyxl writes a string that is an Excel error code as an error cell (t="e").
    rows = qa_rows(("fine", "answer"), ("broken", "#DIV/0!"), ("#N/A", "orphan answer"))
    write_workbook(tmp_path / "in.xlsx", rows)

    result = run_python(convert_script, "in.xlsx", "out.jsonl")

    assert result.returncode == 0, result.stderr
    assert read_jsonl(tmp_path / "out.jsonl") == turn_records(("fine", "answer"))
    assert "skipped row 3: output is missing" in result.stderr
    assert "skipped row 4: input is missing" in result.stderr


# Converter: rows, policies and output ----------------------------------------------------------


def test_converter_jsonl_exact(tmp_path: Path, convert_script: Path) -> None:
    write_workbook(tmp_path / "in.xlsx", qa_rows(("q1", "a1"), ("“q2”", "a2 ü")))

    result = run_python(convert_script, "in.xlsx", "out.jsonl")

    records = turn_records(("q1", "a1"), ("“q2”", "a2 ü"))
    expected = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.jsonl").read_bytes() == expected.encode("utf-8")
    assert result.stderr.splitlines() == ["wrote 2 records to out.jsonl; skipped 0 rows"]


@pytest.mark.parametrize(
    "pairs",
    [
        [("q1", "a1")],
        [("单", "行\n二"), ("q \"quoted\"", "a\\b"), ("q3", "a3")],
    ],
    ids=["one record", "three records"],
)
def test_converter_json_matches_dumps(tmp_path: Path, pairs: list[tuple[str, str]]) -> None:
    script = write_script(tmp_path, "converter", OUTPUT_FORMAT="json", SYSTEM="系统")
    write_workbook(tmp_path / "in.xlsx", qa_rows(*pairs))

    result = run_python(script, "in.xlsx", "out.json")

    expected = json.dumps(turn_records(*pairs, system="系统"), ensure_ascii=False, indent=2) + "\n"
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.json").read_bytes() == expected.encode("utf-8")


def test_converter_json_all_skipped(tmp_path: Path) -> None:
    script = write_script(tmp_path, "converter", OUTPUT_FORMAT="json")
    write_workbook(tmp_path / "in.xlsx", qa_rows(("q1", None), (None, "a2")))

    result = run_python(script, "in.xlsx", "out.json")

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.json").read_text(encoding="utf-8") == json.dumps([], indent=2) + "\n"
    assert result.stderr.splitlines()[-1] == "wrote 0 records to out.json; skipped 2 rows: 2, 3"


def test_converter_system_first(tmp_path: Path) -> None:
    script = write_script(tmp_path, "converter", SYSTEM="You are a pharmacist.")
    write_workbook(tmp_path / "in.xlsx", qa_rows(("q1", "a1")))

    result = run_python(script, "in.xlsx", "out.jsonl")

    line = (tmp_path / "out.jsonl").read_text(encoding="utf-8")
    assert result.returncode == 0, result.stderr
    assert line == '{"conversation": [{"system": "You are a pharmacist.", "input": "q1", "output": "a1"}]}\n'


@pytest.mark.parametrize(
    ("strip", "expected"),
    [
        (True, [("padded", "answer"), ("tab", "x")]),
        (False, [(" padded ", "answer"), ("tab", "\tx"), ("spaces", "   ")]),
    ],
)
def test_converter_strip(tmp_path: Path, strip: bool, expected: list[tuple[str, str]]) -> None:
    script = write_script(tmp_path, "converter", STRIP=strip)
    write_workbook(tmp_path / "in.xlsx", qa_rows((" padded ", "answer"), ("tab", "\tx"), ("spaces", "   ")))

    result = run_python(script, "in.xlsx", "out.jsonl")

    assert result.returncode == 0, result.stderr
    assert read_jsonl(tmp_path / "out.jsonl") == turn_records(*expected)


def test_converter_blank_rows_silent(tmp_path: Path, convert_script: Path) -> None:
    rows = qa_rows(("q1", "a1"))
    rows += [[], [None, "drug only", None, None], ["q4", None, None, "a4"], [], [None, None, None, "   "], []]
    write_workbook(tmp_path / "in.xlsx", rows)

    result = run_python(convert_script, "in.xlsx", "out.jsonl")

    assert result.returncode == 0, result.stderr
    assert read_jsonl(tmp_path / "out.jsonl") == turn_records(("q1", "a1"), ("q4", "a4"))
    assert result.stderr.splitlines() == ["wrote 2 records to out.jsonl; skipped 0 rows"]


@pytest.mark.parametrize(
    ("policy", "records", "stderr_lines"),
    [
        (
            "skip",
            [("q1", "a1"), ("q4", "a4")],
            ["skipped row 3: output is missing", "skipped row 6: input is missing"],
        ),
        ("keep", [("q1", "a1"), ("q2", ""), ("q4", "a4"), ("", "a5")], []),
    ],
)
def test_converter_on_missing(
    tmp_path: Path, policy: str, records: list[tuple[str, str]], stderr_lines: list[str]
) -> None:
    script = write_script(tmp_path, "converter", ON_MISSING=policy)
    rows = qa_rows(("q1", "a1"), ("q2", None), (None, None), ("q4", "a4"), (None, "a5"))
    write_workbook(tmp_path / "in.xlsx", rows)

    result = run_python(script, "in.xlsx", "out.jsonl")

    assert result.returncode == 0, result.stderr
    assert read_jsonl(tmp_path / "out.jsonl") == turn_records(*records)
    assert result.stderr.splitlines()[:-1] == stderr_lines


def test_converter_summary_skipped(tmp_path: Path, convert_script: Path) -> None:
    write_workbook(tmp_path / "in.xlsx", qa_rows(("q1", "a1"), ("q2", None), (None, "a3"), ("q4", "a4")))

    result = run_python(convert_script, "in.xlsx", "out.jsonl")

    assert result.stderr.splitlines()[-1] == "wrote 2 records to out.jsonl; skipped 2 rows: 3, 4"


def test_converter_on_missing_error(tmp_path: Path) -> None:
    script = write_script(tmp_path, "converter", ON_MISSING="error")
    write_workbook(tmp_path / "in.xlsx", qa_rows(("q1", "a1"), ("q2", None)))

    result = run_python(script, "in.xlsx", "out.jsonl")

    assert_one_line_error(result, "row 3", "output is missing", "ON_MISSING")
    assert folder_names(tmp_path) == ["converter.py", "in.xlsx"]


def test_converter_header_text_columns(tmp_path: Path) -> None:
    script = write_script(tmp_path, "converter", HEADER_ROWS=2, INPUT_COLUMN="Question", OUTPUT_COLUMN="Answer")
    rows = [
        ["Answer", "Question", "Answer"],  # decoys: only the last header row names columns
        ["Notes", " Answer ", "Draft", "Question"],
        ["note", "a1", "draft", "q1"],
        ["note", "a2", "draft", "q2"],
    ]
    write_workbook(tmp_path / "in.xlsx", rows)

    result = run_python(script, "in.xlsx", "out.jsonl")

    assert result.returncode == 0, result.stderr
    assert read_jsonl(tmp_path / "out.jsonl") == turn_records(("q1", "a1"), ("q2", "a2"))


def test_converter_header_rows_zero(tmp_path: Path) -> None:
    script = write_script(tmp_path, "converter", HEADER_ROWS=0, INPUT_COLUMN="B", OUTPUT_COLUMN="A")
    write_workbook(tmp_path / "in.xlsx", [["a1", "q1"], ["a2", "q2"]])

    result = run_python(script, "in.xlsx", "out.jsonl")

    assert result.returncode == 0, result.stderr
    assert read_jsonl(tmp_path / "out.jsonl") == turn_records(("q1", "a1"), ("q2", "a2"))


def test_converter_header_text_missing(tmp_path: Path) -> None:
    script = write_script(tmp_path, "converter", INPUT_COLUMN="Prompt")
    write_workbook(tmp_path / "in.xlsx", qa_rows(("q1", "a1")))

    result = run_python(script, "in.xlsx", "out.jsonl")

    assert_one_line_error(result, "'Prompt' not found in row 1", "'Question', 'Focus (Drug)'", "'URL'")
    assert folder_names(tmp_path) == ["converter.py", "in.xlsx"]


def test_converter_column_beyond_width(tmp_path: Path) -> None:
    script = write_script(tmp_path, "converter", OUTPUT_COLUMN="H")
    write_workbook(tmp_path / "in.xlsx", qa_rows(("q1", "a1")))

    result = run_python(script, "in.xlsx", "out.jsonl")

    assert_one_line_error(result, "OUTPUT_COLUMN H", "last column with data (F)")
    assert folder_names(tmp_path) == ["converter.py", "in.xlsx"]


def test_converter_width_counts_headers(tmp_path: Path) -> None:
    # Column G contains only a header, so it is inside the sheet, and every data row lacks its output.
    script = write_script(tmp_path, "converter", OUTPUT_COLUMN="G", ON_MISSING="keep")
    rows = [HEADER + ["Extra"], ["q1", "drug", "type", "a1"]]
    write_workbook(tmp_path / "in.xlsx", rows)

    result = run_python(script, "in.xlsx", "out.jsonl")

    assert result.returncode == 0, result.stderr
    assert read_jsonl(tmp_path / "out.jsonl") == turn_records(("q1", ""))


def test_converter_exact_sheet(tmp_path: Path, convert_script: Path) -> None:
    path = write_workbook(tmp_path / "in.xlsx", qa_rows(("q1", "a1")), others=("DrugQA ", "Hidden"))
    workbook = openpyxl.load_workbook(path)
    workbook["Hidden"].sheet_state = "hidden"
    workbook.save(path)

    result = run_python(convert_script, "in.xlsx", "out.jsonl")

    assert result.returncode == 0, result.stderr
    assert read_jsonl(tmp_path / "out.jsonl") == turn_records(("q1", "a1"))


def test_converter_sheet_missing(tmp_path: Path, convert_script: Path) -> None:
    write_workbook(tmp_path / "in.xlsx", qa_rows(("q1", "a1")), sheet=" drugqa ", others=("Notes",))

    result = run_python(convert_script, "in.xlsx", "out.jsonl")

    assert_one_line_error(result, "sheet 'DrugQA' not found", "did you mean ' drugqa '", "'Notes'")
    assert folder_names(tmp_path) == ["converter.py", "in.xlsx"]


@pytest.mark.parametrize("rows", [[HEADER], []], ids=["header only", "empty sheet"])
def test_converter_no_data_rows(tmp_path: Path, convert_script: Path, rows: list[list[Any]]) -> None:
    write_workbook(tmp_path / "in.xlsx", rows)

    result = run_python(convert_script, "in.xlsx", "out.jsonl")

    assert_one_line_error(result, "sheet 'DrugQA' has no data rows")
    assert folder_names(tmp_path) == ["converter.py", "in.xlsx"]


def rewrite_member(path: Path, member: str, rewrite: Any) -> None:
    """Rewrite one member of the zip archive at ``path`` with ``rewrite(text) -> text``."""
    with zipfile.ZipFile(path) as archive:
        contents = {info.filename: archive.read(info) for info in archive.infolist()}
    contents[member] = rewrite(contents[member].decode("utf-8")).encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents.items():
            archive.writestr(name, data)


def drop_dimension(xml: str) -> str:
    element = '<dimension ref="A1:F3" />'
    assert element in xml
    return xml.replace(element, "")


def test_converter_no_dimension(tmp_path: Path, convert_script: Path) -> None:
    path = write_workbook(tmp_path / "in.xlsx", qa_rows(("q1", "a1"), ("q2", "a2")))
    rewrite_member(path, "xl/worksheets/sheet1.xml", drop_dimension)

    result = run_python(convert_script, "in.xlsx", "out.jsonl")

    assert result.returncode == 0, result.stderr
    assert read_jsonl(tmp_path / "out.jsonl") == turn_records(("q1", "a1"), ("q2", "a2"))


def test_converter_inflated_dimension(tmp_path: Path, convert_script: Path) -> None:
    path = write_workbook(tmp_path / "in.xlsx", qa_rows(("q1", "a1"), ("q2", "a2")))
    workbook = openpyxl.load_workbook(path)
    workbook["DrugQA"].cell(row=1_048_576, column=30).font = Font(bold=True)
    workbook.save(path)

    result = run_python(convert_script, "in.xlsx", "out.jsonl")

    assert result.returncode == 0, result.stderr
    assert read_jsonl(tmp_path / "out.jsonl") == turn_records(("q1", "a1"), ("q2", "a2"))


# Converter: input and output errors ------------------------------------------------------------


def make_bad_input(folder: Path, case: str) -> str:
    """Create the input for one bad-input case in ``folder`` and return its name."""
    if case == "missing":
        return "absent.xlsx"
    if case == "folder":
        (folder / "book.xlsx").mkdir()
    elif case == "text":
        (folder / "book.xlsx").write_text("Question,Answer\n", encoding="utf-8")
    elif case == "xls":
        (folder / "book.xlsx").write_bytes(OLE2_SIGNATURE + bytes(504) + "Workbook".encode("utf-16-le"))
    elif case == "encrypted":
        (folder / "book.xlsx").write_bytes(OLE2_SIGNATURE + bytes(70_000) + "EncryptionInfo".encode("utf-16-le"))
    elif case == "no parts":
        with zipfile.ZipFile(folder / "book.xlsx", "w") as archive:
            archive.writestr("readme.txt", "not a workbook")
    elif case == "damaged sheet":
        path = write_workbook(folder / "book.xlsx", qa_rows(("q1", "a1")))
        rewrite_member(path, "xl/worksheets/sheet1.xml", lambda xml: xml[: len(xml) // 2])
    return "book.xlsx"


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("missing", ["absent.xlsx not found"]),
        ("folder", ["book.xlsx is a folder"]),
        ("text", ["book.xlsx is not an .xlsx workbook"]),
        ("xls", ["old Excel 97-2003 .xls workbook", "save it as .xlsx"]),
        ("encrypted", ["encrypted workbook", "remove its password"]),
        ("no parts", ["cannot read workbook book.xlsx", "[Content_Types].xml"]),
        ("damaged sheet", ["cannot read sheet 'DrugQA' of book.xlsx"]),
    ],
)
def test_converter_bad_input(tmp_path: Path, convert_script: Path, case: str, words: list[str]) -> None:
    name = make_bad_input(tmp_path, case)
    before = folder_names(tmp_path)

    result = run_python(convert_script, name, "out.jsonl")

    assert_one_line_error(result, *words)
    assert folder_names(tmp_path) == before


@pytest.mark.parametrize(
    ("output", "words"),
    [
        ("missing/out.jsonl", ["output folder missing does not exist"]),
        ("existing", ["output existing is a folder"]),
        ("in.xlsx", ["output in.xlsx is the input workbook"]),
    ],
)
def test_converter_bad_output(tmp_path: Path, convert_script: Path, output: str, words: list[str]) -> None:
    write_workbook(tmp_path / "in.xlsx", qa_rows(("q1", "a1")))
    (tmp_path / "existing").mkdir()
    before = folder_names(tmp_path)

    result = run_python(convert_script, "in.xlsx", output)

    assert_one_line_error(result, *words)
    assert folder_names(tmp_path) == before


def test_converter_failure_keeps_output(tmp_path: Path) -> None:
    script = write_script(tmp_path, "converter", ON_MISSING="error")
    write_workbook(tmp_path / "in.xlsx", qa_rows(("q1", "a1"), (None, "a2")))
    (tmp_path / "out.jsonl").write_text("previous\n", encoding="utf-8")

    result = run_python(script, "in.xlsx", "out.jsonl")

    assert result.returncode == 1
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8") == "previous\n"
    assert folder_names(tmp_path) == ["converter.py", "in.xlsx", "out.jsonl"]


def test_converter_success_replaces_output(tmp_path: Path, convert_script: Path) -> None:
    write_workbook(tmp_path / "in.xlsx", qa_rows(("q1", "a1")))
    (tmp_path / "out.jsonl").write_text("previous\n", encoding="utf-8")

    result = run_python(convert_script, "in.xlsx", "out.jsonl")

    assert result.returncode == 0, result.stderr
    assert read_jsonl(tmp_path / "out.jsonl") == turn_records(("q1", "a1"))
    assert folder_names(tmp_path) == ["converter.py", "in.xlsx", "out.jsonl"]


def test_converter_invalid_setting(tmp_path: Path) -> None:
    script = write_script(tmp_path, "converter", ON_MISSING="sometimes")
    write_workbook(tmp_path / "in.xlsx", qa_rows(("q1", "a1")))

    result = run_python(script, "in.xlsx", "out.jsonl")

    assert_one_line_error(result, "invalid ON_MISSING 'sometimes'")


def test_converter_usage_one_line(convert_script: Path) -> None:
    result = run_python(convert_script, "only-one.xlsx")

    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert "the following arguments are required: OUTPUT" in result.stderr


# Converter: streaming --------------------------------------------------------------------------


def test_atomic_output_interrupt(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        with converter.atomic_output(tmp_path / "out.jsonl") as stream:
            stream.write("partial\n")
            raise KeyboardInterrupt

    assert folder_names(tmp_path) == []


def test_converter_memory_flat(tmp_path: Path) -> None:
    row_count = 50_000

    def rows() -> Iterator[tuple[object, ...]]:
        yield tuple(HEADER)
        for number in range(row_count):
            yield (f"question {number} " + "q" * 40, "drug", "type", f"answer {number} " + "a" * 40)

    tracemalloc.start()
    try:
        count, skipped = converter.write_records(rows(), 0, 3, tmp_path / "out.jsonl")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    size = (tmp_path / "out.jsonl").stat().st_size
    assert count == row_count
    assert skipped == []
    # The output is over 5 MB; holding the rows or records would need far more than 1 MB.
    assert size > 5_000_000
    assert peak < 1_000_000


# Converter: the real data set ------------------------------------------------------------------


@needs_medqa
def test_converter_medqa(tmp_path: Path, convert_script: Path) -> None:
    workbook = openpyxl.load_workbook(MEDQA, read_only=True, data_only=True)
    rows = list(workbook["DrugQA"].iter_rows(min_row=2, max_row=691, values_only=True))
    workbook.close()
    expected = [(row[0].strip(), row[3].strip()) for row in rows]

    result = run_python(convert_script, MEDQA, "medqa.jsonl")

    assert result.returncode == 0, result.stderr
    assert read_jsonl(tmp_path / "medqa.jsonl") == turn_records(*expected)
    assert result.stderr.splitlines() == ["wrote 690 records to medqa.jsonl; skipped 0 rows"]


# Splitter --------------------------------------------------------------------------------------


def make_records(count: int, inputs: list[str] | None = None) -> list[dict[str, Any]]:
    inputs = inputs or [f"question {number}" for number in range(count)]
    return [
        {"conversation": [{"input": text, "output": f"answer {number}"}], "id": number}
        for number, text in enumerate(inputs)
    ]


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records), encoding="utf-8")
    return path


def expected_split(
    records: list[dict[str, Any]], ratio: tuple[int, int], seed: int
) -> tuple[list[Any], list[Any]]:
    """Split ``records`` with the contract's formulas, independently of the script."""
    count = len(records)
    test_size = -(-count * ratio[1] // sum(ratio))
    order = list(range(count))
    random.Random(seed).shuffle(order)
    train_size = count - test_size
    return [records[i] for i in order[:train_size]], [records[i] for i in order[train_size:]]


def expected_grouped_split(
    records: list[dict[str, Any]], ratio: tuple[int, int], seed: int
) -> tuple[list[Any], list[Any]]:
    count = len(records)
    train_size = count - -(-count * ratio[1] // sum(ratio))
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(record["conversation"][0]["input"], []).append(record)
    keys = list(groups)
    random.Random(seed).shuffle(keys)
    train: list[Any] = []
    test: list[Any] = []
    for key in keys:
        (train if len(train) < train_size else test).extend(groups[key])
    return train, test


@pytest.mark.parametrize(
    ("count", "ratio", "sizes"),
    [(690, (7, 3), (483, 207)), (10, (7, 3), (7, 3)), (2, (7, 3), (1, 1)), (3, (1, 1), (1, 2)), (11, (8, 2), (8, 3))],
)
def test_split_sizes(
    monkeypatch: pytest.MonkeyPatch, count: int, ratio: tuple[int, int], sizes: tuple[int, int]
) -> None:
    monkeypatch.setattr(splitter, "RATIO", ratio)

    assert splitter.split_sizes(count) == sizes


@pytest.mark.parametrize(
    ("ratio", "seed", "args"),
    [((7, 3), 42, []), ((8, 2), 1, []), ((7, 3), 42, ["--seed", "7"])],
)
def test_splitter_order(tmp_path: Path, ratio: tuple[int, int], seed: int, args: list[str]) -> None:
    script = write_script(tmp_path, "splitter", RATIO=ratio, SEED=seed)
    records = make_records(23)
    write_jsonl(tmp_path / "all.jsonl", records)

    result = run_python(script, "all.jsonl", "train.jsonl", "test.jsonl", *args)

    train, test = expected_split(records, ratio, int(args[1]) if args else seed)
    assert result.returncode == 0, result.stderr
    assert read_jsonl(tmp_path / "train.jsonl") == train
    assert read_jsonl(tmp_path / "test.jsonl") == test


def test_splitter_summary(tmp_path: Path, split_script: Path) -> None:
    write_jsonl(tmp_path / "all.jsonl", make_records(10))

    result = run_python(split_script, "all.jsonl", "train.jsonl", "test.jsonl")

    assert result.stderr.splitlines() == [
        "wrote 7 records to train.jsonl and 3 records to test.jsonl from 10 records, ratio 7:3, seed 42"
    ]


def input_variants(records: list[dict[str, Any]]) -> dict[str, bytes]:
    lines = [json.dumps(record, ensure_ascii=False) for record in records]
    escaped_spaced = [json.dumps(record, separators=(" ,", " : ")) for record in records]
    return {
        "jsonl": ("\n".join(lines) + "\n").encode("utf-8"),
        "no final newline": "\n".join(lines).encode("utf-8"),
        "array": json.dumps(records, ensure_ascii=False, indent=2).encode("utf-8"),
        "compact array": ("  \n" + json.dumps(records, ensure_ascii=False) + "\n\n").encode("utf-8"),
        "bom": b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode("utf-8"),
        "bom array": b"\xef\xbb\xbf" + json.dumps(records, ensure_ascii=False).encode("utf-8"),
        "crlf": ("\r\n".join(lines) + "\r\n").encode("utf-8"),
        "blank lines": ("\n\n" + "\n \n".join(lines) + "\n\t\n").encode("utf-8"),
        "escaped and spaced": "\n".join(escaped_spaced).encode("utf-8"),
    }


@pytest.mark.parametrize("variant", list(input_variants([])))
def test_splitter_input_forms(tmp_path: Path, split_script: Path, variant: str) -> None:
    records = make_records(12, [f"问题 {number}" for number in range(12)])
    (tmp_path / "all.data").write_bytes(input_variants(records)[variant])

    result = run_python(split_script, "all.data", "train.jsonl", "test.jsonl")

    train, test = expected_split(records, (7, 3), 42)
    expected_train = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in train)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "train.jsonl").read_bytes() == expected_train.encode("utf-8")
    assert read_jsonl(tmp_path / "test.jsonl") == test


def test_splitter_keeps_key_order(tmp_path: Path, split_script: Path) -> None:
    lines = ['{"z": 1, "conversation": [{"output": "o", "input": "\\u00e9"}], "a": 2}'] * 2
    (tmp_path / "all.jsonl").write_text("\n".join(lines), encoding="utf-8")

    result = run_python(split_script, "all.jsonl", "train.jsonl", "test.jsonl")

    assert result.returncode == 0, result.stderr
    expected = '{"z": 1, "conversation": [{"output": "o", "input": "é"}], "a": 2}\n'
    assert (tmp_path / "train.jsonl").read_text(encoding="utf-8") == expected


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'{"a": 1}\n\n{"a": 2\n', ["line 3 of all.data is not valid JSON"]),
        (b'{"a": 1}\n[1, 2]\n', ["line 2 of all.data is a JSON array, not an object"]),
        (b'{"a": 1}\n"text"\n', ["line 2 of all.data is a JSON string, not an object"]),
        (b'[{"a": 1}, {"a": 2}, 3]', ["record 2 (0-based index) of the JSON array", "a JSON number"]),
        (b'[{"a": 1}, {"a": 2}', ["not a valid JSON array", "line 1 column 20"]),
        (b'[{"a": 1} {"a": 2}]', ["not a valid JSON array", "Expecting ',' delimiter"]),
        (b'[{"a": 1}, {"a": 2}]\n{"a": 3}', ["not a valid JSON array", "Extra data", "line 2 column 1"]),
        (b'{"a": 1}\n', ["the input has 1 record", "at least 2"]),
        (b"", ["the input has 0 records"]),
        (b"[]", ["the input has 0 records"]),
        (b'{"a": "\xff"}\n{"a": 2}\n', ["all.data is not UTF-8 text"]),
    ],
)
def test_splitter_bad_input(tmp_path: Path, split_script: Path, content: bytes, words: list[str]) -> None:
    (tmp_path / "all.data").write_bytes(content)

    result = run_python(split_script, "all.data", "train.jsonl", "test.jsonl")

    assert_one_line_error(result, *words)
    assert folder_names(tmp_path) == ["all.data", "splitter.py"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["absent.jsonl", "train.jsonl", "test.jsonl"], ["input absent.jsonl not found"]),
        (["sub", "train.jsonl", "test.jsonl"], ["input sub is a folder"]),
        (["all.jsonl", "missing/train.jsonl", "test.jsonl"], ["output folder missing does not exist"]),
        (["all.jsonl", "train.jsonl", "sub"], ["output sub is a folder"]),
        (["all.jsonl", "same.jsonl", "same.jsonl"], ["both same.jsonl"]),
        (["all.jsonl", "all.jsonl", "test.jsonl"], ["output all.jsonl is the input file"]),
    ],
)
def test_splitter_bad_paths(tmp_path: Path, split_script: Path, args: list[str], words: list[str]) -> None:
    write_jsonl(tmp_path / "all.jsonl", make_records(5))
    (tmp_path / "sub").mkdir()

    result = run_python(split_script, *args)

    assert_one_line_error(result, *words)
    assert folder_names(tmp_path) == ["all.jsonl", "splitter.py", "sub"]


def test_splitter_empty_train(tmp_path: Path) -> None:
    script = write_script(tmp_path, "splitter", RATIO=(1, 3))
    write_jsonl(tmp_path / "all.jsonl", make_records(2))

    result = run_python(script, "all.jsonl", "train.jsonl", "test.jsonl")

    assert_one_line_error(result, "2 records at ratio 1:3 leave the train part empty")
    assert folder_names(tmp_path) == ["all.jsonl", "splitter.py"]


def test_splitter_failure_keeps_outputs(tmp_path: Path, split_script: Path) -> None:
    (tmp_path / "all.jsonl").write_text('{"a": 1}\nnot json\n', encoding="utf-8")
    (tmp_path / "train.jsonl").write_text("old train\n", encoding="utf-8")
    (tmp_path / "test.jsonl").write_text("old test\n", encoding="utf-8")

    result = run_python(split_script, "all.jsonl", "train.jsonl", "test.jsonl")

    assert result.returncode == 1
    assert (tmp_path / "train.jsonl").read_text(encoding="utf-8") == "old train\n"
    assert (tmp_path / "test.jsonl").read_text(encoding="utf-8") == "old test\n"
    assert folder_names(tmp_path) == ["all.jsonl", "splitter.py", "test.jsonl", "train.jsonl"]


def test_splitter_interrupt_removes_temps(tmp_path: Path) -> None:
    class Interrupting(list):
        def __getitem__(self, index: Any) -> Any:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        texts = Interrupting(["{}"])
        splitter.write_outputs(texts, tmp_path / "train.jsonl", [0], tmp_path / "test.jsonl", [0])

    assert folder_names(tmp_path) == []


@pytest.mark.parametrize(
    ("form", "group_by", "limit"),
    [("jsonl", "none", 1.5), ("array", "none", 2.5), ("jsonl", "input", 3.0)],
)
def test_splitter_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, form: str, group_by: str, limit: float
) -> None:
    records = make_records(20_000, [f"question {number} " + "q" * 200 for number in range(20_000)])
    path = tmp_path / "all.data"
    if form == "array":
        path.write_text(json.dumps(records, indent=2), encoding="utf-8")
    else:
        write_jsonl(path, records)
    del records
    monkeypatch.setattr(splitter, "GROUP_BY", group_by)

    tracemalloc.start()
    try:
        loaded = splitter.read_records(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # json.load of these records peaks at 2.5 to 3 times the file size (Python 3.11). Records kept
    # as text cost about the file size. Reading an array adds its whole text while it is parsed,
    # and group keys, here most of each record, add about as much again.
    assert len(loaded.texts) == 20_000
    assert peak < limit * path.stat().st_size


# Splitter: grouping by input -------------------------------------------------------------------


def grouped_records() -> list[dict[str, Any]]:
    # Group sizes 1 to 6, interleaved, so the train boundary falls inside some group.
    inputs = [f"input {size}" for size in range(1, 7) for _ in range(size)]
    random.Random(3).shuffle(inputs)
    return make_records(len(inputs), inputs)


def inputs_of(records: list[dict[str, Any]]) -> set[str]:
    return {record["conversation"][0]["input"] for record in records}


@pytest.mark.parametrize(("ratio", "seed"), [((7, 3), 42), ((8, 2), 1), ((1, 1), 5)])
def test_splitter_groups(tmp_path: Path, ratio: tuple[int, int], seed: int) -> None:
    script = write_script(tmp_path, "splitter", RATIO=ratio, SEED=seed, GROUP_BY="input")
    records = grouped_records()
    write_jsonl(tmp_path / "all.jsonl", records)

    result = run_python(script, "all.jsonl", "train.jsonl", "test.jsonl")

    train, test = expected_grouped_split(records, ratio, seed)
    assert result.returncode == 0, result.stderr
    assert read_jsonl(tmp_path / "train.jsonl") == train
    assert read_jsonl(tmp_path / "test.jsonl") == test
    assert not inputs_of(train) & inputs_of(test)
    assert "from 21 records in 6 groups of equal input" in result.stderr


def test_splitter_distinct_groups(tmp_path: Path) -> None:
    script = write_script(tmp_path, "splitter", GROUP_BY="input")
    write_jsonl(tmp_path / "all.jsonl", make_records(10))

    result = run_python(script, "all.jsonl", "train.jsonl", "test.jsonl")

    assert result.returncode == 0, result.stderr
    assert len(read_jsonl(tmp_path / "train.jsonl")) == 7
    assert len(read_jsonl(tmp_path / "test.jsonl")) == 3


def test_splitter_one_group(tmp_path: Path) -> None:
    script = write_script(tmp_path, "splitter", GROUP_BY="input")
    write_jsonl(tmp_path / "all.jsonl", make_records(4, ["same"] * 4))

    result = run_python(script, "all.jsonl", "train.jsonl", "test.jsonl")

    assert_one_line_error(result, "all 4 records (1 group) into train", "test part is empty")
    assert folder_names(tmp_path) == ["all.jsonl", "splitter.py"]


@pytest.mark.parametrize(
    "bad_record",
    [{"conversation": []}, {"conversation": [{"output": "o"}]}, {"conversation": [{"input": 3}]}, {"text": "x"}],
)
def test_splitter_group_key_missing(tmp_path: Path, bad_record: dict[str, Any]) -> None:
    script = write_script(tmp_path, "splitter", GROUP_BY="input")
    write_jsonl(tmp_path / "all.jsonl", make_records(3) + [bad_record])

    result = run_python(script, "all.jsonl", "train.jsonl", "test.jsonl")

    assert_one_line_error(result, 'line 4 of all.jsonl has no string "input"')


# Splitter: the real data set -------------------------------------------------------------------


@needs_medqa
def test_splitter_medqa(tmp_path: Path, convert_script: Path, split_script: Path) -> None:
    converted = run_python(convert_script, MEDQA, "medqa.jsonl")
    assert converted.returncode == 0, converted.stderr
    lines = (tmp_path / "medqa.jsonl").read_text(encoding="utf-8").splitlines()

    first = run_python(split_script, "medqa.jsonl", "train.jsonl", "test.jsonl")
    train = (tmp_path / "train.jsonl").read_text(encoding="utf-8").splitlines()
    test = (tmp_path / "test.jsonl").read_text(encoding="utf-8").splitlines()
    second = run_python(split_script, "medqa.jsonl", "train2.jsonl", "test2.jsonl")

    assert first.returncode == 0, first.stderr
    assert len(train) == 483
    assert len(test) == 207
    # Every input record lands in exactly one part; identical records may sit on both sides.
    assert Counter(train) + Counter(test) == Counter(lines)
    assert set(train) & set(test) <= {line for line, count in Counter(lines).items() if count > 1}
    assert second.returncode == 0, second.stderr
    assert (tmp_path / "train2.jsonl").read_text(encoding="utf-8").splitlines() == train
    assert (tmp_path / "test2.jsonl").read_text(encoding="utf-8").splitlines() == test


@needs_medqa
def test_splitter_medqa_grouped(tmp_path: Path, convert_script: Path) -> None:
    script = write_script(tmp_path, "splitter", GROUP_BY="input")
    converted = run_python(convert_script, MEDQA, "medqa.jsonl")
    assert converted.returncode == 0, converted.stderr
    records = read_jsonl(tmp_path / "medqa.jsonl")

    result = run_python(script, "medqa.jsonl", "train.jsonl", "test.jsonl")

    train = read_jsonl(tmp_path / "train.jsonl")
    test = read_jsonl(tmp_path / "test.jsonl")
    assert result.returncode == 0, result.stderr
    assert len(train) + len(test) == 690
    assert not inputs_of(train) & inputs_of(test)
    assert (train, test) == expected_grouped_split(records, (7, 3), 42)
    assert f"in {len(inputs_of(records))} groups of equal input" in result.stderr
