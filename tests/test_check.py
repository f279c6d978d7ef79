from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from promptgen.check import (
    MAX_PROBLEMS_PER_KIND,
    CheckReport,
    DatasetError,
    Problem,
    check_dataset,
    guess_encoding,
)
from promptgen.cli_xtuner import check_command, xtuner_config_command

FIXTURES = Path(__file__).parent / "fixtures" / "xtuner"
WORKBOOK = Path(__file__).resolve().parents[2] / "shared" / "data" / "MedQA2019.xlsx"

CHINESE = "酮咯酸滴眼液用于治疗过敏引起的眼睛发痒，医生会告诉你怎么用。"
TRADITIONAL = "酮咯酸滴眼液用於治療過敏引起的眼睛發癢，醫生會告訴你怎麼用。"
JAPANESE = "ケトロラク点眼液はアレルギーによる目のかゆみを治療します。"


def make_app() -> typer.Typer:
    app = typer.Typer()
    app.command("check")(check_command)
    app.command("xtuner-config")(xtuner_config_command)
    return app


def run_check(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(make_app(), ["check", *args])
    return result.exit_code, result.stdout, result.stderr


def record(question: str, answer: object, system: str | None = None) -> dict[str, object]:
    turn: dict[str, object] = {"input": question, "output": answer}
    if system is not None:
        turn = {"system": system, **turn}
    return {"conversation": [turn]}


def write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in records), encoding="utf-8")
    return path


def only_problem(report: CheckReport) -> Problem:
    assert len(report.problems) == 1, [problem.format() for problem in report.problems]
    return report.problems[0]


# Files XTuner can use


@pytest.mark.parametrize(
    "name", ["good_single_turn.jsonl", "good_no_system.jsonl", "good_multi_turn.jsonl", "good_array.json"]
)
def test_check_passes_good_file(name: str) -> None:
    report = check_dataset(FIXTURES / name)
    assert report.ok
    assert report.problems == ()


def test_check_array_layout() -> None:
    report = check_dataset(FIXTURES / "good_array.json")
    assert report.layout == "json"
    assert report.stats.records == 2


def test_check_converter_output_shape(tmp_path: Path) -> None:
    # The converter writes json.dumps(record, ensure_ascii=False) per line, "system" left out when empty.
    records = [record("What is aspirin?", "A pain reliever.", "You are a doctor."), record("什么是布洛芬？", "一种止痛药。")]
    report = check_dataset(write_jsonl(tmp_path / "train.jsonl", records))
    assert report.ok
    assert report.warnings == 0


# One fault per file, each at a known line


FAULTS = [
    ("number_output.jsonl", 2, "error", "not-string", 'changed from string to number'),
    ("null_output.jsonl", 2, "error", "null-value", 'v0.1.9 trains on the text "None"'),
    ("null_input.jsonl", 1, "error", "null-value", "reads it as empty text"),
    ("boolean_output.jsonl", 1, "error", "not-string", "is a boolean (true)"),
    ("list_output.jsonl", 1, "error", "not-string", "is an array"),
    ("missing_conversation.jsonl", 3, "error", "missing-conversation", '"question", "answer"'),
    ("openai_messages.jsonl", 1, "error", "openai-format", "dataset_map_fn=openai_map_fn"),
    ("empty_conversation.jsonl", 1, "error", "empty-conversation", '"conversation" is empty'),
    ("conversation_not_list.jsonl", 1, "error", "conversation-type", "is an object, not an array of turns"),
    ("turn_not_object.jsonl", 1, "error", "turn-type", "turn 1 is a string"),
    ("missing_output.jsonl", 2, "error", "missing-field", 'turn 1 has no "output"'),
    ("missing_input.jsonl", 1, "error", "missing-field", 'turn 1 has no "input"'),
    ("not_object.jsonl", 2, "error", "not-object", "record is an array"),
    ("invalid_line.jsonl", 3, "error", "invalid-json", "invalid JSON"),
    ("type_change.jsonl", 2, "error", "type-change", 'changed from number to string'),
    ("blank_line.jsonl", 2, "warning", "blank-line", "blank line"),
    ("late_system.jsonl", 1, "warning", "late-system", 'turn 2 has "system"'),
    ("unknown_turn_key.jsonl", 1, "warning", "unknown-key", 'unknown key "source" in turn 1'),
]


@pytest.mark.parametrize(("name", "line", "severity", "kind", "text"), FAULTS)
def test_check_reports_fault_line(name: str, line: int, severity: str, kind: str, text: str) -> None:
    report = check_dataset(FIXTURES / name)
    matching = [problem for problem in report.problems if problem.kind == kind]
    assert len(matching) == 1, [problem.format() for problem in report.problems]
    problem = matching[0]
    assert problem.location is not None
    assert problem.location.line == line
    assert problem.severity == severity
    assert text in problem.message


@pytest.mark.parametrize(("name", "line", "severity", "kind", "text"), FAULTS)
def test_check_verdict_follows_severity(name: str, line: int, severity: str, kind: str, text: str) -> None:
    report = check_dataset(FIXTURES / name)
    assert report.ok is (severity == "warning")


def test_check_pretty_printed_record_hint() -> None:
    report = check_dataset(FIXTURES / "pretty_printed.jsonl")
    first = report.problems[0]
    assert first.location is not None
    assert first.location.line == 1
    assert "one whole record per line" in first.message


def test_check_unknown_record_key_warns() -> None:
    report = check_dataset(FIXTURES / "type_change.jsonl")
    warnings = [problem for problem in report.problems if problem.kind == "unknown-key"]
    assert [problem.location.line for problem in warnings if problem.location] == [1, 2]
    assert all(problem.severity == "warning" for problem in warnings)


def test_check_array_item_location() -> None:
    problem = only_problem(check_dataset(FIXTURES / "bad_array.json"))
    assert problem.kind == "null-value"
    assert problem.location is not None
    assert problem.location.line == 3
    assert problem.location.index == 1
    assert problem.format().startswith("3 (item 1): error: ")


def test_check_unclosed_array() -> None:
    report = check_dataset(FIXTURES / "unclosed_array.json")
    problem = only_problem(report)
    assert problem.kind == "invalid-json"
    assert "not closed" in problem.message
    assert report.stats.records == 2


def test_check_invalid_array_item(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[\n  {"conversation": []},\n  {"conversation": [}\n]\n', encoding="utf-8")
    report = check_dataset(path)
    invalid = [problem for problem in report.problems if problem.kind == "invalid-json"]
    assert len(invalid) == 1
    assert invalid[0].location is not None
    assert invalid[0].location.line == 3
    assert invalid[0].location.index == 1


def test_check_number_before_string(tmp_path: Path) -> None:
    # Only the number is wrong, so the later string must not be reported a second time.
    path = write_jsonl(tmp_path / "train.jsonl", [record("q1", 7), record("q2", "seven")])
    problem = only_problem(check_dataset(path))
    assert problem.location is not None
    assert problem.location.line == 1
    assert "changed from" not in problem.message


def test_check_null_system_warns(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "train.jsonl", [{"conversation": [{"system": None, "input": "q", "output": "a"}]}])
    report = check_dataset(path)
    problem = only_problem(report)
    assert problem.kind == "null-system"
    assert report.ok


def test_check_crlf_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(b'{"conversation": [{"input": "q", "output": "a"}]}\r\n' * 2)
    report = check_dataset(path)
    assert report.ok
    assert report.stats.records == 2


# Encodings


def test_check_utf8_bom(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(record("q", "a")).encode() + b"\n")
    report = check_dataset(path)
    problem = only_problem(report)
    assert problem.kind == "bom"
    assert problem.location is not None
    assert problem.location.line == 1
    assert report.stats.records == 1


def test_check_utf8_bom_array(tmp_path: Path) -> None:
    path = tmp_path / "train.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps([record("q", "a")]).encode())
    report = check_dataset(path)
    assert only_problem(report).kind == "bom"
    assert report.layout == "json"


@pytest.mark.parametrize(
    ("text", "encoding", "name"),
    [(CHINESE, "gbk", "GBK"), (TRADITIONAL, "big5", "Big5"), (JAPANESE, "shift_jis", "Shift_JIS")],
)
def test_check_legacy_encoding_line(tmp_path: Path, text: str, encoding: str, name: str) -> None:
    path = tmp_path / "train.jsonl"
    ascii_line = json.dumps(record("What is aspirin?", "A pain reliever.")) + "\n"
    cjk_line = json.dumps(record(text, text), ensure_ascii=False) + "\n"
    path.write_bytes((ascii_line + cjk_line).encode(encoding))
    report = check_dataset(path)
    problem = only_problem(report)
    assert problem.kind == "not-utf8"
    assert problem.location is not None
    assert problem.location.line == 2
    assert f"looks like {name}" in problem.message
    assert report.stats.records == 2


def test_check_utf16_bom(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(json.dumps(record(CHINESE, "a"), ensure_ascii=False).encode("utf-16") + "\n".encode("utf-16-le"))
    report = check_dataset(path)
    problem = only_problem(report)
    assert problem.kind == "not-utf8"
    assert "UTF-16" in problem.message
    assert report.stats.records == 1


def test_check_gbk_array(tmp_path: Path) -> None:
    path = tmp_path / "train.json"
    path.write_bytes(json.dumps([record("q", "a"), record(CHINESE, "a")], ensure_ascii=False, indent=2).encode("gbk"))
    problem = only_problem(check_dataset(path))
    assert problem.location is not None
    assert problem.location.line == 13
    assert "looks like GBK" in problem.message


JSON_LINE = json.dumps(record(CHINESE, "a"), ensure_ascii=False)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param("café au lait".encode("cp1252"), "Windows-1252", id="cp1252"),
        pytest.param(JSON_LINE.encode("utf-16-le"), "UTF-16LE", id="utf16le-no-bom"),
        pytest.param(JSON_LINE.encode("utf-16-be"), "UTF-16BE", id="utf16be-no-bom"),
        pytest.param(JSON_LINE.encode("utf-32"), "UTF-32", id="utf32-bom"),
        pytest.param(JSON_LINE.encode("utf-16"), "UTF-16", id="utf16-bom"),
        pytest.param(bytes([0x81, 0x20, 0x81, 0x20]), None, id="unknown"),
    ],
)
def test_guess_encoding_table(data: bytes, expected: str | None) -> None:
    assert guess_encoding(data) == expected


# Caps, statistics and duplicates


def test_check_caps_repeated_problems(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "train.jsonl", [record(f"q{number}", None) for number in range(12)])
    report = check_dataset(path)
    assert len(report.problems) == MAX_PROBLEMS_PER_KIND
    assert report.omitted == {"null-value": 12 - MAX_PROBLEMS_PER_KIND}
    assert report.errors == 12


def test_check_stats_lengths(tmp_path: Path) -> None:
    # 20 outputs of lengths 1..20: the 95th percentile by nearest rank is the 19th value.
    records = [record("q" * number, "a" * number) for number in range(1, 21)]
    stats = check_dataset(write_jsonl(tmp_path / "train.jsonl", records)).stats
    assert stats.records == 20
    assert stats.turns == 20
    assert stats.output_length.max == 20
    assert stats.output_length.p95 == 19
    assert stats.input_length.max == 20
    assert stats.input_length.p95 == 19


def test_check_stats_empty_outputs(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "train.jsonl", [record("q1", ""), record("q2", "  "), record("q3", "a")])
    stats = check_dataset(path).stats
    assert stats.empty_outputs == 2


def test_check_stats_duplicates(tmp_path: Path) -> None:
    records = [record("q1", "a1"), record("q2", "a2"), record("q1", "a1"), record("q1", "other answer")]
    stats = check_dataset(write_jsonl(tmp_path / "train.jsonl", records)).stats
    assert stats.duplicate_records == 1
    assert stats.duplicate_inputs == 2
    assert stats.duplicate_record_examples[0].location.line == 3
    assert stats.duplicate_record_examples[0].first.line == 1


def test_check_duplicates_ignore_key_order(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text(
        '{"conversation": [{"input": "q", "output": "a"}]}\n{"conversation": [{"output": "a", "input": "q"}]}\n',
        encoding="utf-8",
    )
    assert check_dataset(path).stats.duplicate_records == 1


def test_check_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(b"")
    report = check_dataset(path)
    problem = only_problem(report)
    assert problem.kind == "no-records"
    assert problem.location is None
    assert problem.format().startswith("file: error: ")


# --against


def test_against_counts_shared(tmp_path: Path) -> None:
    train = write_jsonl(tmp_path / "train.jsonl", [record("q1", "a1"), record("q2", "a2"), record("q3", "a3")])
    test = write_jsonl(tmp_path / "test.jsonl", [record("q9", "a9"), record("q2", "a2"), record("q3", "other")])
    overlap = check_dataset(train, against=test).overlap
    assert overlap is not None
    assert overlap.other_records == 3
    assert overlap.shared_records == 1
    assert overlap.shared_inputs == 2
    assert overlap.examples[0].other.line == 2
    assert overlap.examples[0].dataset.line == 2
    assert overlap.examples[0].same_record
    assert not overlap.examples[1].same_record


def test_against_counts_unreadable(tmp_path: Path) -> None:
    train = write_jsonl(tmp_path / "train.jsonl", [record("q1", "a1")])
    test = tmp_path / "test.jsonl"
    test.write_text('{"conversation": [{"input": "q1", "output": "a1"}]}\n{broken\n', encoding="utf-8")
    overlap = check_dataset(train, against=test).overlap
    assert overlap is not None
    assert overlap.unreadable == 1
    assert overlap.shared_records == 1


def test_against_leaves_verdict(tmp_path: Path) -> None:
    train = write_jsonl(tmp_path / "train.jsonl", [record("q1", "a1")])
    report = check_dataset(train, against=train)
    assert report.overlap is not None
    assert report.overlap.shared_records == 1
    assert report.ok


# Missing files


def test_check_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="dataset not found"):
        check_dataset(tmp_path / "absent.jsonl")


def test_check_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="is a folder"):
        check_dataset(tmp_path)


def test_check_missing_against(tmp_path: Path) -> None:
    train = write_jsonl(tmp_path / "train.jsonl", [record("q1", "a1")])
    with pytest.raises(DatasetError, match="--against file not found"):
        check_dataset(train, against=tmp_path / "test.jsonl")


# The command


def test_cli_good_file_exit_zero() -> None:
    code, stdout, _ = run_check(str(FIXTURES / "good_single_turn.jsonl"))
    assert code == 0
    assert stdout.splitlines()[-1].startswith("OK: XTuner can use")


def test_cli_problem_line_format() -> None:
    code, stdout, _ = run_check(str(FIXTURES / "null_output.jsonl"))
    lines = stdout.splitlines()
    assert code == 1
    assert lines[0].startswith('2: error: turn 1 "output" is null')
    assert lines[-1].startswith("FAILED: XTuner cannot use")


def test_cli_warning_exit_zero() -> None:
    code, stdout, _ = run_check(str(FIXTURES / "blank_line.jsonl"))
    assert code == 0
    assert stdout.splitlines()[0].startswith("2: warning: blank line")


def test_cli_omitted_count(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "train.jsonl", [record(f"q{number}", None) for number in range(8)])
    _, stdout, _ = run_check(str(path))
    assert f'... and {8 - MAX_PROBLEMS_PER_KIND} more "null-value" problems not shown' in stdout


def test_cli_json_document(tmp_path: Path) -> None:
    train = write_jsonl(tmp_path / "train.jsonl", [record("q1", "a1"), record("q2", None)])
    test = write_jsonl(tmp_path / "test.jsonl", [record("q1", "a1")])
    code, stdout, _ = run_check(str(train), "--against", str(test), "--json")
    document = json.loads(stdout)
    assert code == 1
    assert document["ok"] is False
    assert document["problems"][0]["line"] == 2
    assert document["problems"][0]["kind"] == "null-value"
    assert document["stats"]["records"] == 2
    assert document["overlap"]["shared_records"] == 1


def test_cli_against_examples(tmp_path: Path) -> None:
    train = write_jsonl(tmp_path / "train.jsonl", [record("What is aspirin?", "a1")])
    test = write_jsonl(tmp_path / "test.jsonl", [record("What is aspirin?", "a1")])
    code, stdout, _ = run_check(str(train), "--against", str(test))
    assert code == 0
    assert '"What is aspirin?"' in stdout
    assert "1 record of" in stdout.splitlines()[-1]


def test_cli_missing_file_one_line(tmp_path: Path) -> None:
    code, stdout, stderr = run_check(str(tmp_path / "absent.jsonl"))
    assert code == 1
    assert stdout == ""
    assert stderr.count("\n") == 1
    assert stderr.startswith("error: dataset not found")


def test_cli_folder_one_line(tmp_path: Path) -> None:
    code, _, stderr = run_check(str(tmp_path))
    assert code == 1
    assert stderr.count("\n") == 1
    assert "is a folder" in stderr


# The real data set, converted here the way the converter contract describes


def test_check_medqa_conversion(tmp_path: Path) -> None:
    if not WORKBOOK.is_file():
        pytest.skip(f"real data set not present at {WORKBOOK}")
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.load_workbook(WORKBOOK, read_only=True, data_only=True)
    rows = list(workbook["DrugQA"].iter_rows(min_row=2, values_only=True))
    workbook.close()
    records = [record(str(row[0]).strip(), str(row[3]).strip(), "You are a careful pharmacist.") for row in rows if row[0] and row[3]]
    questions = [item["conversation"][0]["input"] for item in records]  # type: ignore[index]
    report = check_dataset(write_jsonl(tmp_path / "train.jsonl", records))
    assert report.ok
    assert report.stats.records == len(records)
    assert report.stats.duplicate_inputs == len(questions) - len(set(questions))
