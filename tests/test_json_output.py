"""--json on make, verify, review and check: one JSON document on stdout with the facts of the text output.

Every test runs the installed CLI as a real subprocess, once with text output and
once with --json, and checks that both name the same scripts, cases, counts and verdicts.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO_ROOT

SYSTEM = "You are a careful pharmacist."
BAD_SCRIPTS = REPO_ROOT / "tests" / "bad_scripts"
HOSTILE = REPO_ROOT / "tests" / "hostile"
XTUNER_FIXTURES = REPO_ROOT / "tests" / "fixtures" / "xtuner"

# Environment variables that would make rich colour output on a pipe, or point make at a model.
_REMOVED_VARIABLES = {"OPENAI_API_KEY", "OPENAI_BASE_URL", "PROMPTGEN_MODEL", "FORCE_COLOR", "TTY_COMPATIBLE"}

_SUMMARY = re.compile(
    r"^wrote (?P<script>\S+) \((?P<cases>\d+) golden cases passed"
    r"(?:; (?P<records>\d+) records on (?P<source>.+) match the reference)?"
)
_REPORT_HEADER = re.compile(r"^(?P<script>\S+) \((?P<kind>converter|splitter)\)$")
_STATUS_LINE = re.compile(r"^  (?P<status>pass|FAIL) (?P<name>[^:]+)(?::.*)?$")
_VERDICT = re.compile(r"^(?P<verdict>PASSED|FAILED): (?P<passed>\d+)/(?P<total>\d+) golden cases$")
_REVIEW_FINDING = re.compile(r"^.+:(?P<line>\d+):(?P<column>\d+): (?P<severity>error|warning) (?P<rule>PG\d+) ")
_REVIEW_SUMMARY = re.compile(r"review (?:passed|failed) with (?P<errors>\d+) errors? and (?P<warnings>\d+) warnings?$")
_CHECK_PROBLEM = re.compile(r"^(?:\d+(?: \(item \d+\))?|file): (?P<severity>error|warning): ")
_CHECK_VERDICT = re.compile(r"^(?P<verdict>OK|FAILED): .* \((?P<errors>\d+) errors?, (?P<warnings>\d+) warnings?\)")


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key not in _REMOVED_VARIABLES}
    return subprocess.run(
        [sys.executable, "-m", "promptgen", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )


def parse_document(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """Parse stdout as exactly one JSON document; json.loads rejects anything after it."""
    document = json.loads(result.stdout)
    assert isinstance(document, dict), result.stdout
    return document


def parse_reports(stdout: str) -> list[dict[str, Any]]:
    """Split the text of verify or make into reports: header, status lines, review findings and verdict."""
    reports: list[dict[str, Any]] = []
    for line in stdout.splitlines():
        header = _REPORT_HEADER.match(line)
        if header:
            reports.append({"script": header["script"], "kind": header["kind"], "statuses": [], "findings": 0})
            continue
        if not reports:
            continue
        status = _STATUS_LINE.match(line)
        verdict = _VERDICT.match(line)
        if status:
            reports[-1]["statuses"].append((status["name"], status["status"] == "pass"))
        elif line.startswith("  review ") and not line.startswith("  review failed"):
            reports[-1]["findings"] += 1
        elif verdict:
            reports[-1]["passed"] = verdict["verdict"] == "PASSED"
            reports[-1]["golden_passed"] = int(verdict["passed"])
            reports[-1]["golden_total"] = int(verdict["total"])
    return reports


def document_statuses(verification: dict[str, Any]) -> list[tuple[str, bool]]:
    """Return (name, passed) for each golden case and the data comparison, in the order the text prints them."""
    statuses = [(case["name"], case["passed"]) for case in verification["golden"]["cases"]]
    if verification["data"] is not None:
        statuses.append((verification["data"]["source"], verification["data"]["passed"]))
    return statuses


def assert_report_matches(text: dict[str, Any], verification: dict[str, Any]) -> None:
    assert text["script"] == verification["script"]
    assert text["kind"] == verification["kind"]
    assert text["statuses"] == document_statuses(verification)
    assert text["passed"] == verification["passed"]
    assert text["golden_passed"] == verification["golden"]["passed"]
    assert text["golden_total"] == verification["golden"]["total"]
    findings = verification["review"]["findings"] if verification["review"] is not None else []
    assert text["findings"] == len(findings)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Make the converter and the splitter of the example workbook, each once with text output and once with --json."""
    folder = tmp_path_factory.mktemp("made")
    shutil.copytree(REPO_ROOT / "examples", folder / "examples")
    converter = ("make", "converter", "--sheet", "DrugQA", "--workbook", "examples/drugqa-sample.xlsx", "--system", SYSTEM)
    splitter = ("make", "splitter", "--ratio", "7:3", "--seed", "42")
    runs = {
        "converter_text": run_cli(*converter, cwd=folder),
        "converter_json": run_cli(*converter, "--json", cwd=folder),
        "splitter_text": run_cli(*splitter, cwd=folder),
        "splitter_json": run_cli(*splitter, "--json", cwd=folder),
    }
    for name, result in runs.items():
        assert result.returncode == 0, f"{name}: {result.stderr}"
    return {"folder": folder, **runs}


@pytest.mark.parametrize("kind", ["converter", "splitter"])
def test_make_json_matches_summary(made: dict[str, Any], kind: str) -> None:
    summary = _SUMMARY.match(made[f"{kind}_text"].stdout)
    assert summary is not None, made[f"{kind}_text"].stdout
    document = parse_document(made[f"{kind}_json"])
    verification = document["verification"]

    assert document["ok"] is True
    assert document["script"] == summary["script"]
    assert document["kind"] == kind
    assert verification["passed"] is True
    assert verification["golden"]["total"] == int(summary["cases"])
    assert verification["golden"]["passed"] == int(summary["cases"])
    if summary["records"] is None:
        assert verification["data"] is None
    else:
        assert verification["data"]["records"] == int(summary["records"])
        assert verification["data"]["source"] == summary["source"]


def test_make_json_records_origin(made: dict[str, Any]) -> None:
    document = parse_document(made["converter_json"])
    manifest = json.loads((made["folder"] / "generated" / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["scripts"]["convert_drugqa.py"]

    assert document["provider"] == "reference"
    assert document["model"] == entry["model"]
    assert document["settings"] == entry["settings"]
    assert document["settings"]["system"] == SYSTEM
    assert document["template"] == entry["template"]
    assert document["code_sha256"] == entry["code_sha256"]
    assert document["attempts"] == [{"round": 1, "sample": 1, "stage": "passed", "reason": ""}]
    assert document["samples"] == {"requested": 1, "passed": 1}


def test_make_json_keeps_notes_on_stderr(made: dict[str, Any]) -> None:
    result = made["converter_json"]
    assert "provider: reference" in result.stderr
    assert "round 1, sample 1: passed" in result.stderr
    assert result.stdout.startswith("{")


def test_make_json_failure_document(tmp_path: Path) -> None:
    shutil.copytree(REPO_ROOT / "examples", tmp_path / "examples")
    result = run_cli(
        "make", "converter", "--sheet", "Nope", "--workbook", "examples/drugqa-sample.xlsx", "--json", cwd=tmp_path
    )
    document = parse_document(result)
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]

    assert result.returncode == 1
    assert document["ok"] is False
    assert "sheet 'Nope' not found" in document["error"]
    assert error_lines == [f"error: {document['error']}"]
    assert not (tmp_path / "generated" / "convert_nope.py").exists()


def test_verify_script_json_matches_text(made: dict[str, Any]) -> None:
    folder = made["folder"]
    text = run_cli("verify", "generated/split_7_3.py", cwd=folder)
    result = run_cli("verify", "generated/split_7_3.py", "--json", cwd=folder)
    document = parse_document(result)
    [report] = parse_reports(text.stdout)
    [script] = document["scripts"]

    assert text.returncode == 0, text.stderr
    assert result.returncode == 0, result.stderr
    assert document["ok"] is True
    assert document["failed"] == []
    assert script["script"] == "generated/split_7_3.py"
    assert script["passed"] is True
    assert script["edited"] is False
    assert_report_matches(report, script["verification"])


@pytest.mark.parametrize(
    ("script", "failed_stage"),
    [(BAD_SCRIPTS / "splitter_json_array.py", "golden"), (HOSTILE / "connect_tcp.py", "review")],
    ids=["golden", "review"],
)
def test_verify_failure_json_matches_text(tmp_path: Path, script: Path, failed_stage: str) -> None:
    shutil.copy(script, tmp_path / script.name)
    text = run_cli("verify", script.name, "--kind", "splitter", cwd=tmp_path)
    result = run_cli("verify", script.name, "--kind", "splitter", "--json", cwd=tmp_path)
    document = parse_document(result)
    [report] = parse_reports(text.stdout)
    verification = document["scripts"][0]["verification"]

    assert text.returncode == 1
    assert result.returncode == 1
    assert document["ok"] is False
    assert document["failed"] == [script.name]
    assert document["scripts"][0]["edited"] is None
    assert_report_matches(report, verification)
    if failed_stage == "review":
        assert verification["review"]["passed"] is False
        assert verification["golden"]["cases"] == []
    else:
        assert verification["golden"]["failed"] > 0


def test_verify_all_json_matches_text(made: dict[str, Any]) -> None:
    folder = made["folder"]
    arguments = ("verify", "--workbook", "examples/drugqa-sample.xlsx")
    text = run_cli(*arguments, cwd=folder)
    result = run_cli(*arguments, "--json", cwd=folder)
    document = parse_document(result)
    reports = parse_reports(text.stdout)

    assert text.returncode == 0, text.stderr
    assert result.returncode == 0, result.stderr
    assert f"all {document['passed']} scripts passed" in text.stdout
    assert document["ok"] is True
    assert [Path(script["script"]).name for script in document["scripts"]] == [report["script"] for report in reports]
    for report, script in zip(reports, document["scripts"]):
        assert_report_matches(report, script["verification"])


def test_verify_json_error_document(tmp_path: Path) -> None:
    result = run_cli("verify", "absent.py", "--json", cwd=tmp_path)
    document = parse_document(result)

    assert result.returncode == 1
    assert document == {"ok": False, "error": "script not found: absent.py; give the path of a .py file"}
    assert result.stderr.splitlines()[-1] == f"error: {document['error']}"


@pytest.mark.parametrize(
    "script", [HOSTILE / "connect_tcp.py", BAD_SCRIPTS / "splitter_unseeded.py"], ids=["errors", "warning"]
)
def test_review_json_matches_text(script: Path) -> None:
    text = run_cli("review", str(script), "--kind", "splitter", cwd=REPO_ROOT)
    result = run_cli("review", str(script), "--kind", "splitter", "--json", cwd=REPO_ROOT)
    document = parse_document(result)
    findings = [match for match in map(_REVIEW_FINDING.match, text.stdout.splitlines()) if match]
    summary = _REVIEW_SUMMARY.search(text.stdout.splitlines()[-1])

    assert result.returncode == text.returncode
    assert summary is not None, text.stdout
    assert document["errors"] == int(summary["errors"])
    assert document["warnings"] == int(summary["warnings"])
    assert document["passed"] == (text.returncode == 0)
    assert [
        (finding["line"], finding["column"], finding["severity"], finding["rule"]) for finding in document["findings"]
    ] == [(int(match["line"]), int(match["column"]), match["severity"], match["rule"]) for match in findings]


@pytest.mark.parametrize("dataset", ["type_change.jsonl", "late_system.jsonl"])
def test_check_json_matches_text(dataset: str) -> None:
    path = str(XTUNER_FIXTURES / dataset)
    text = run_cli("check", path, cwd=REPO_ROOT)
    result = run_cli("check", path, "--json", cwd=REPO_ROOT)
    document = parse_document(result)
    problems = [match["severity"] for match in map(_CHECK_PROBLEM.match, text.stdout.splitlines()) if match]
    verdict = _CHECK_VERDICT.match(text.stdout.splitlines()[-1])

    assert result.returncode == text.returncode
    assert verdict is not None, text.stdout
    assert document["ok"] == (verdict["verdict"] == "OK")
    assert document["errors"] == int(verdict["errors"])
    assert document["warnings"] == int(verdict["warnings"])
    assert [problem["severity"] for problem in document["problems"]] == problems
    assert f"records: {document['stats']['records']}," in text.stdout


def test_make_json_manual_prompt(tmp_path: Path) -> None:
    result = run_cli("make", "splitter", "--provider", "manual", "--json", cwd=tmp_path)
    document = parse_document(result)

    assert result.returncode == 0, result.stderr
    assert document["ok"] is True
    assert document["script"] is None
    assert document["message"].startswith("wrote the prompt to split_7_3.prompt.md")
    assert (tmp_path / "split_7_3.prompt.md").is_file()
