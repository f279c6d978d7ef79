"""The make, verify and render commands end to end with the offline reference provider.

Every test runs the installed CLI as a real subprocess, with no model endpoint
configured, so ``--provider auto`` falls back to the reference provider.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLE_WORKBOOK
from openpyxl import load_workbook

from promptgen.golden.xlsx import Text, Worksheet, write_ole2, write_workbook

DOCTOR = (
    "You are a professional, highly experienced doctor professor. You always provide accurate, "
    "comprehensive, and detailed answers based on the patients' questions."
)


def run_cli(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"OPENAI_API_KEY", "OPENAI_BASE_URL", "PROMPTGEN_MODEL"}
    }
    return subprocess.run(
        [sys.executable, "-m", "promptgen", *args],
        cwd=cwd,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
    )


def run_script(script: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def sheet_columns(workbook: Path, sheet: str, first: int, second: int) -> list[tuple[str, str]]:
    book = load_workbook(workbook, read_only=True, data_only=True)
    pairs = []
    for row in book[sheet].iter_rows(min_row=2, values_only=True):
        pairs.append((str(row[first]).strip(), str(row[second]).strip()))
    book.close()
    return pairs


def assert_one_line_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 1, result.stderr
    # Progress lines may come first; the error is the one line that starts with "error: ", and the last.
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert lines[-1] == errors[0]
    assert fragment in errors[0]
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def medqa_scripts(tmp_path_factory: pytest.TempPathFactory, medqa_workbook: Path) -> dict[str, Path]:
    """Make the converter and splitter of the README walk-through once for the module."""
    folder = tmp_path_factory.mktemp("medqa")
    converter = run_cli(
        "make", "converter", "--sheet", "DrugQA", "--workbook", str(medqa_workbook),
        "--input-col", "A", "--output-col", "D", "--system", DOCTOR, cwd=folder,
    )
    assert converter.returncode == 0, converter.stderr
    splitter = run_cli("make", "splitter", "--ratio", "7:3", "--seed", "42", cwd=folder)
    assert splitter.returncode == 0, splitter.stderr
    grouped = run_cli("make", "splitter", "--ratio", "7:3", "--seed", "42", "--group-by", "input", cwd=folder)
    assert grouped.returncode == 0, grouped.stderr
    generated = folder / "generated"
    return {
        "folder": folder,
        "converter": generated / "convert_drugqa.py",
        "splitter": generated / "split_7_3.py",
        "grouped": generated / "split_7_3_grouped.py",
        "converter_log": converter,
    }


def test_make_converter_reports_provider(medqa_scripts):
    log = medqa_scripts["converter_log"]
    assert "provider: reference" in log.stderr
    assert "wrote generated/convert_drugqa.py" in log.stdout
    assert "690 records on MedQA2019.xlsx match the reference" in log.stdout


def test_make_converter_manifest_entry(medqa_scripts):
    manifest = json.loads((medqa_scripts["folder"] / "generated" / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["scripts"]["convert_drugqa.py"]
    assert entry["kind"] == "converter"
    assert entry["template"]["name"] == "converter"
    assert entry["settings"]["system"] == DOCTOR
    assert entry["provider"] == "reference"
    assert entry["verification"]["passed"] is True
    assert entry["verification"]["data"]["records"] == 690
    assert entry["attempts"]["count"] == 1
    assert len(entry["code_sha256"]) == 64
    assert len(entry["prompt_sha256"]) == 64


def test_converter_script_header(medqa_scripts):
    text = medqa_scripts["converter"].read_text(encoding="utf-8")
    assert text.startswith("# Convert worksheet 'DrugQA'")
    assert "# Usage: python convert_drugqa.py INPUT.xlsx OUTPUT.jsonl" in text
    assert "template converter v1 (provider: reference)" in text


def test_converter_on_medqa_matches_columns(medqa_scripts, medqa_workbook, tmp_path):
    result = run_script(medqa_scripts["converter"], str(medqa_workbook), "medqa.jsonl", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    records = read_jsonl(tmp_path / "medqa.jsonl")
    expected = sheet_columns(medqa_workbook, "DrugQA", 0, 3)
    assert len(records) == 690
    assert [(r["conversation"][0]["input"], r["conversation"][0]["output"]) for r in records] == expected
    assert all(r["conversation"][0]["system"] == DOCTOR for r in records)
    assert all(list(r["conversation"][0]) == ["system", "input", "output"] for r in records)


@pytest.fixture(scope="module")
def medqa_jsonl(medqa_scripts, medqa_workbook, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("medqa-data")
    result = run_script(medqa_scripts["converter"], str(medqa_workbook), "medqa.jsonl", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder / "medqa.jsonl"


def test_splitter_on_medqa_483_207(medqa_scripts, medqa_jsonl, tmp_path):
    result = run_script(medqa_scripts["splitter"], str(medqa_jsonl), "train.jsonl", "test.jsonl", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    train_lines = (tmp_path / "train.jsonl").read_text(encoding="utf-8").splitlines()
    test_lines = (tmp_path / "test.jsonl").read_text(encoding="utf-8").splitlines()
    source_lines = medqa_jsonl.read_text(encoding="utf-8").splitlines()
    assert (len(train_lines), len(test_lines)) == (483, 207)
    assert sorted(train_lines + test_lines) == sorted(source_lines)


def test_splitter_on_medqa_disjoint_by_position(medqa_scripts, medqa_jsonl, tmp_path):
    # One question/answer pair appears twice in the data set, so disjointness is
    # checked on line positions: every source line is used exactly once.
    run_script(medqa_scripts["splitter"], str(medqa_jsonl), "train.jsonl", "test.jsonl", cwd=tmp_path)
    source_lines = medqa_jsonl.read_text(encoding="utf-8").splitlines()
    parts = (tmp_path / "train.jsonl").read_text(encoding="utf-8").splitlines() + (
        tmp_path / "test.jsonl"
    ).read_text(encoding="utf-8").splitlines()
    remaining = list(source_lines)
    for line in parts:
        remaining.remove(line)
    assert remaining == []


def test_splitter_on_medqa_repeatable(medqa_scripts, medqa_jsonl, tmp_path):
    for folder in ("first", "second"):
        (tmp_path / folder).mkdir()
        run_script(medqa_scripts["splitter"], str(medqa_jsonl), "train.jsonl", "test.jsonl", cwd=tmp_path / folder)
    for name in ("train.jsonl", "test.jsonl"):
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes()


def test_grouped_split_keeps_inputs_apart(medqa_scripts, medqa_jsonl, tmp_path):
    result = run_script(medqa_scripts["grouped"], str(medqa_jsonl), "train.jsonl", "test.jsonl", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    train_inputs = {r["conversation"][0]["input"] for r in read_jsonl(tmp_path / "train.jsonl")}
    test_inputs = {r["conversation"][0]["input"] for r in read_jsonl(tmp_path / "test.jsonl")}
    assert train_inputs.isdisjoint(test_inputs)
    assert len(read_jsonl(tmp_path / "train.jsonl")) + len(read_jsonl(tmp_path / "test.jsonl")) == 690


def test_grouped_split_passes_check_against(medqa_scripts, medqa_jsonl, tmp_path):
    run_script(medqa_scripts["grouped"], str(medqa_jsonl), "train.jsonl", "test.jsonl", cwd=tmp_path)
    result = run_cli("check", "train.jsonl", "--against", "test.jsonl", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["overlap"]["shared_inputs"] == 0


def test_ungrouped_split_shares_inputs(medqa_scripts, medqa_jsonl, tmp_path):
    run_script(medqa_scripts["splitter"], str(medqa_jsonl), "train.jsonl", "test.jsonl", cwd=tmp_path)
    result = run_cli("check", "train.jsonl", "--against", "test.jsonl", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["overlap"]["shared_inputs"] > 0


def test_check_passes_converter_output(medqa_jsonl, tmp_path):
    result = run_cli("check", str(medqa_jsonl), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_verify_converter_with_workbook(medqa_scripts, medqa_workbook):
    result = run_cli("verify", str(medqa_scripts["converter"]), "--workbook", str(medqa_workbook), cwd=medqa_scripts["folder"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pass MedQA2019.xlsx: 690 records equal the reference's" in result.stdout
    assert "PASSED" in result.stdout


def test_make_example_workbook(tmp_path):
    result = run_cli("make", "converter", "--sheet", "DrugQA", "--workbook", str(EXAMPLE_WORKBOOK), "--out-dir", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    script = tmp_path / "out" / "convert_drugqa.py"
    converted = run_script(script, str(EXAMPLE_WORKBOOK), "out.jsonl", cwd=tmp_path)
    assert converted.returncode == 0, converted.stderr
    assert len(read_jsonl(tmp_path / "out.jsonl")) == 19
    assert "skipped 1 row: 11" in converted.stderr


def test_make_refuses_edited_script(tmp_path):
    first = run_cli("make", "splitter", "--out-dir", "out", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    script = tmp_path / "out" / "split_7_3.py"
    script.write_text(script.read_text(encoding="utf-8") + "# my edit\n", encoding="utf-8")

    again = run_cli("make", "splitter", "--out-dir", "out", cwd=tmp_path)
    assert_one_line_error(again, "edited since promptgen wrote it")
    assert script.read_text(encoding="utf-8").endswith("# my edit\n")

    forced = run_cli("make", "splitter", "--out-dir", "out", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert not script.read_text(encoding="utf-8").endswith("# my edit\n")


def test_make_refuses_unknown_file(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "split_7_3.py").write_text("print('mine')\n", encoding="utf-8")
    result = run_cli("make", "splitter", "--out-dir", "out", cwd=tmp_path)
    assert_one_line_error(result, "is not in manifest.json")


def test_verify_reports_edited_script(tmp_path):
    assert run_cli("make", "splitter", "--out-dir", "out", cwd=tmp_path).returncode == 0
    script = tmp_path / "out" / "split_7_3.py"
    script.write_text(script.read_text(encoding="utf-8") + "# edit\n", encoding="utf-8")
    result = run_cli("verify", "--out-dir", "out", cwd=tmp_path)
    assert result.returncode == 1
    assert "split_7_3.py: edited since promptgen wrote it" in result.stdout


def test_verify_script_without_manifest_needs_kind(tmp_path):
    script = tmp_path / "loose.py"
    script.write_text("print('hi')\n", encoding="utf-8")
    result = run_cli("verify", str(script), cwd=tmp_path)
    assert_one_line_error(result, "pass --kind converter or --kind splitter")


def test_verify_failing_script_exits_1(tmp_path):
    script = tmp_path / "bad_splitter.py"
    script.write_text("import sys\nsys.exit(0)\n", encoding="utf-8")
    result = run_cli("verify", str(script), "--kind", "splitter", cwd=tmp_path)
    assert result.returncode == 1
    assert "FAIL" in result.stdout
    assert "FAILED" in result.stdout


def test_render_converter_prints_prompt(tmp_path):
    result = run_cli("render", "converter", "--sheet", "DrugQA", "--system", "Be brief.", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'SHEET = "DrugQA"' in result.stdout
    assert 'SYSTEM = "Be brief."' in result.stdout


def test_templates_list_and_show(tmp_path):
    listed = run_cli("templates", "list", cwd=tmp_path)
    assert listed.returncode == 0
    assert "converter" in listed.stdout
    assert "splitter" in listed.stdout
    shown = run_cli("templates", "show", "splitter", cwd=tmp_path)
    assert shown.returncode == 0
    assert "ratio: ratio" in shown.stdout


def write_text_file(path: Path) -> Path:
    path.write_text("Question,Answer\n", encoding="utf-8")
    return path


def write_xls(path: Path) -> Path:
    write_ole2(path, ("Workbook",))
    return path


def write_encrypted(path: Path) -> Path:
    write_ole2(path, ("EncryptionInfo", "EncryptedPackage"))
    return path


def write_sheets(path: Path, *sheets: Worksheet) -> Path:
    write_workbook(path, list(sheets))
    return path


def qa_sheet(name: str) -> Worksheet:
    return Worksheet(name=name, cells={(1, 1): Text("Question"), (1, 2): Text("Answer"), (2, 1): Text("q"), (2, 2): Text("a")})


BAD_WORKBOOKS = [
    ("missing", lambda folder: folder / "absent.xlsx", [], "not found"),
    ("folder", lambda folder: folder, [], "folder"),
    ("text", lambda folder: write_text_file(folder / "table.xlsx"), [], "not an .xlsx workbook"),
    ("xls", lambda folder: write_xls(folder / "old.xlsx"), [], ".xls"),
    ("encrypted", lambda folder: write_encrypted(folder / "locked.xlsx"), [], "encrypted"),
    ("near-sheet", lambda folder: write_sheets(folder / "near.xlsx", qa_sheet("DrugQA ")), [], "'DrugQA '"),
    ("case-sheet", lambda folder: write_sheets(folder / "case.xlsx", qa_sheet("drugqa")), [], "'drugqa'"),
    ("beyond-width", lambda folder: write_sheets(folder / "narrow.xlsx", qa_sheet("DrugQA")), ["--output-col", "F"], "F"),
    ("header-text", lambda folder: write_sheets(folder / "h.xlsx", qa_sheet("DrugQA")), ["--input-col", "Frage", "--output-col", "B"], "Frage"),
    (
        "no-data",
        lambda folder: write_sheets(folder / "empty.xlsx", Worksheet(name="DrugQA", cells={(1, 1): Text("Question"), (1, 2): Text("Answer")})),
        ["--output-col", "B"],
        "no data rows",
    ),
]


@pytest.mark.parametrize("label, build, extra, fragment", BAD_WORKBOOKS, ids=[case[0] for case in BAD_WORKBOOKS])
def test_make_converter_bad_workbook(tmp_path, label, build, extra, fragment):
    source = tmp_path / "inputs"
    source.mkdir()
    workbook = build(source)
    result = run_cli("make", "converter", "--sheet", "DrugQA", "--workbook", str(workbook), *extra, "--out-dir", "out", cwd=tmp_path)
    assert_one_line_error(result, fragment)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("ratio", ["7:0", "a:b", "0.7"])
def test_make_splitter_invalid_ratio(tmp_path, ratio):
    result = run_cli("make", "splitter", "--ratio", ratio, "--out-dir", "out", cwd=tmp_path)
    assert_one_line_error(result, repr(ratio))
    assert not (tmp_path / "out").exists()


def test_debug_shows_traceback(tmp_path):
    result = run_cli("--debug", "make", "splitter", "--ratio", "7:0", cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" in result.stderr
