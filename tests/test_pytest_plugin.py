"""Regression runs of recorded scripts: `pytest --promptgen` and `promptgen verify` without a script.

Each test copies a repository with two generated splitters (made once per module
with the reference provider) and runs the real commands in it as subprocesses.
A broken golden expectation reaches the subprocess through a conftest.py in the
repository, and the in-process verify run through monkeypatch.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from typer.testing import CliRunner

import promptgen.golden
from promptgen.cli import app
from promptgen.golden import GoldenCase
from promptgen.regression import ScriptResult, junit_xml

SCRIPTS = ("split_7_3.py", "split_8_2_grouped.py")
SPLITTER_CASES = len(promptgen.golden.golden_cases("splitter"))
# Per script: unedited, review and every golden case.
ITEMS_PER_SCRIPT = 2 + SPLITTER_CASES

# Breaks the expectation of golden case split-10 for every splitter: train must come
# out reversed. reverse_expected_train below does the same for in-process runs.
BREAKING_CONFTEST = '''
import dataclasses

import promptgen.golden

_golden_cases = promptgen.golden.golden_cases


def _reverse_train(case):
    def build(settings, workdir):
        preparation = case.build(settings, workdir)
        expected = dataclasses.replace(preparation.expected, train=preparation.expected.train[::-1])
        return dataclasses.replace(preparation, expected=expected)

    return dataclasses.replace(case, build=build)


def golden_cases(kind):
    return [_reverse_train(case) if case.name == "split-10" else case for case in _golden_cases(kind)]


promptgen.golden.golden_cases = golden_cases
'''


def reverse_expected_train(case: GoldenCase) -> GoldenCase:
    def build(settings: object, workdir: Path) -> object:
        preparation = case.build(settings, workdir)
        expected = dataclasses.replace(preparation.expected, train=preparation.expected.train[::-1])
        return dataclasses.replace(preparation, expected=expected)

    return dataclasses.replace(case, build=build)


def _environment(home: Path) -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"OPENAI_BASE_URL", "OPENAI_API_KEY", "PROMPTGEN_MODEL", "PYTEST_ADDOPTS"}
    }
    environment["PROMPTGEN_CACHE_DIR"] = str(home / "cache")
    return environment


def _plugin_arguments() -> list[str]:
    # Before `pip install -e .` has registered the entry point, load the plugin by its module name.
    installed = any(entry.value == "promptgen.pytest_plugin" for entry in entry_points(group="pytest11"))
    return [] if installed else ["-p", "promptgen.pytest_plugin"]


def run_pytest(repo: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest", *_plugin_arguments(), "-p", "no:cacheprovider", *arguments]
    return subprocess.run(command, cwd=repo, env=_environment(repo), capture_output=True, text=True, timeout=600)


def run_promptgen(repo: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "promptgen", *arguments]
    return subprocess.run(command, cwd=repo, env=_environment(repo), capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def source_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("repo")
    for arguments in (["--ratio", "7:3"], ["--ratio", "8:2", "--group-by", "input"]):
        generated = run_promptgen(repo, "--quiet", "make", "splitter", *arguments, "--provider", "reference")
        assert generated.returncode == 0, generated.stderr
    return repo


@pytest.fixture
def repo(source_repo: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(source_repo, copy)
    return copy


def rewrite_script(repo: Path, name: str, old: str, new: str) -> None:
    """Change a generated script and record the new sha256, as if promptgen had written it that way."""
    script = repo / "generated" / name
    code = script.read_text(encoding="utf-8")
    assert old in code
    code = code.replace(old, new, 1)
    script.write_text(code, encoding="utf-8")
    manifest_path = repo / "generated" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["scripts"][name]["code_sha256"] = hashlib.sha256(code.encode("utf-8")).hexdigest()
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")


def add_forbidden_import(repo: Path, name: str) -> None:
    """Import socket after the script's last top-level import, which the review rejects (PG104)."""
    code = (repo / "generated" / name).read_text(encoding="utf-8")
    last_import = max(
        node.end_lineno or node.lineno for node in ast.parse(code).body if isinstance(node, (ast.Import, ast.ImportFrom))
    )
    lines = code.splitlines(keepends=True)
    rewrite_script(repo, name, "".join(lines[:last_import]), "".join(lines[:last_import]) + "import socket\n")


def junit_cases(path: Path) -> dict[tuple[str, str], ElementTree.Element]:
    root = ElementTree.parse(path).getroot()
    return {
        (suite.get("name", ""), case.get("name", "")): case
        for suite in root.iter("testsuite")
        for case in suite.iter("testcase")
    }


# --- pytest --promptgen ---------------------------------------------------------------------


def test_plugin_passes_unchanged_scripts(repo: Path) -> None:
    result = run_pytest(repo, "--promptgen")
    assert result.returncode == 0, result.stdout
    assert f"{2 * ITEMS_PER_SCRIPT} passed" in result.stdout


def test_plugin_names_items_by_script_and_case(repo: Path) -> None:
    result = run_pytest(repo, "--promptgen", "--collect-only", "-q")
    listed = set(result.stdout.split())
    assert "generated/split_7_3.py::unedited" in listed
    assert "generated/split_7_3.py::review" in listed
    assert "generated/split_8_2_grouped.py::split-690" in listed
    assert "generated/split_8_2_grouped.py::existing-outputs" in listed


def test_plugin_fails_edited_script(repo: Path) -> None:
    with (repo / "generated" / "split_7_3.py").open("a", encoding="utf-8") as script:
        script.write("# a local change\n")
    result = run_pytest(repo, "--promptgen", "-k", "unedited or split-10")
    assert result.returncode == 1
    assert "FAILED generated/split_7_3.py::unedited" in result.stdout
    assert "generated/split_7_3.py: edited since promptgen wrote it" in result.stdout
    assert "1 failed, 3 passed" in result.stdout


def test_plugin_fails_broken_golden_expectation(repo: Path) -> None:
    (repo / "conftest.py").write_text(BREAKING_CONFTEST, encoding="utf-8")
    result = run_pytest(repo, "--promptgen", "-k", "split-10 or split-2")
    assert result.returncode == 1
    assert "FAILED generated/split_7_3.py::split-10" in result.stdout
    assert "FAILED generated/split_8_2_grouped.py::split-10" in result.stdout
    assert "generated/split_7_3.py golden case split-10: train.jsonl record 1 is input record" in result.stdout
    assert "2 failed, 2 passed" in result.stdout
    assert "Traceback" not in result.stdout
    assert "ScriptCheckFailed" not in result.stdout


def test_plugin_fails_missing_script(repo: Path) -> None:
    (repo / "generated" / "split_7_3.py").unlink()
    result = run_pytest(repo, "--promptgen", "-k", "exists or unedited")
    assert result.returncode == 1
    assert "FAILED generated/split_7_3.py::exists" in result.stdout
    assert "is recorded in manifest.json but the file is missing" in result.stdout


def test_plugin_review_failure_blocks_cases(repo: Path) -> None:
    add_forbidden_import(repo, "split_7_3.py")
    result = run_pytest(repo, "--promptgen", "-k", "split_7_3 and (review or split-690)")
    assert "FAILED generated/split_7_3.py::review" in result.stdout
    assert "PG104" in result.stdout
    assert "generated/split_7_3.py golden case split-690: not run because the review failed" in result.stdout


def test_plugin_reads_promptgen_dir(repo: Path) -> None:
    (repo / "generated").rename(repo / "scripts")
    result = run_pytest(repo, "--promptgen", "--promptgen-dir", "scripts", "-k", "unedited")
    assert result.returncode == 0, result.stdout
    assert "2 passed" in result.stdout


def test_plugin_rejects_missing_dir(repo: Path) -> None:
    result = run_pytest(repo, "--promptgen", "--promptgen-dir", "nowhere")
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert "--promptgen-dir" in result.stderr
    assert "nowhere does not exist or is not a folder" in result.stderr


def test_plugin_rejects_empty_manifest(repo: Path) -> None:
    (repo / "generated" / "manifest.json").write_text('{"format": 1, "scripts": {}}', encoding="utf-8")
    result = run_pytest(repo, "--promptgen")
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert "no scripts recorded in" in result.stderr


def test_plugin_idle_without_option(repo: Path) -> None:
    result = run_pytest(repo)
    assert result.returncode == pytest.ExitCode.NO_TESTS_COLLECTED
    assert "generated/" not in result.stdout


def test_plugin_import_stays_light(tmp_path: Path) -> None:
    probe = (
        "import sys, promptgen.pytest_plugin\n"
        "heavy = ('openai', 'libcst', 'openpyxl', 'jinja2', 'promptgen.verify', 'promptgen.golden')\n"
        "print(sorted(name for name in sys.modules if name.startswith(heavy)))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert result.stdout.strip() == "[]"


# --- promptgen verify -----------------------------------------------------------------------


def test_verify_all_passes_unchanged_scripts(repo: Path) -> None:
    result = run_promptgen(repo, "verify", "--junit", "reports/junit.xml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all 2 scripts passed" in result.stdout
    root = ElementTree.parse(repo / "reports" / "junit.xml").getroot()
    suites = root.findall("testsuite")
    assert [suite.get("name") for suite in suites] == [f"generated/{name}" for name in SCRIPTS]
    assert [suite.get("tests") for suite in suites] == [str(ITEMS_PER_SCRIPT)] * 2
    assert root.get("tests") == str(2 * ITEMS_PER_SCRIPT)
    assert root.get("failures") == "0"


def test_verify_all_fails_edited_script(repo: Path) -> None:
    with (repo / "generated" / "split_7_3.py").open("a", encoding="utf-8") as script:
        script.write("# a local change\n")
    result = run_promptgen(repo, "verify", "--junit", "junit.xml")
    assert result.returncode == 1
    assert "generated/split_7_3.py: edited since promptgen wrote it" in result.stdout
    assert "FAILED: split_7_3.py" in result.stdout
    failure = junit_cases(repo / "junit.xml")[("generated/split_7_3.py", "unedited")].find("failure")
    assert failure is not None
    assert ": edited since promptgen wrote it" in failure.get("message", "")


def test_verify_all_fails_broken_case(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = promptgen.golden.golden_cases
    monkeypatch.setattr(
        promptgen.golden,
        "golden_cases",
        lambda kind: [reverse_expected_train(case) if case.name == "split-10" else case for case in original(kind)],
    )
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(app, ["verify", "--junit", "junit.xml"])

    assert result.exit_code == 1
    assert "FAIL split-10: train.jsonl record 1 is input record" in result.stdout
    assert "FAILED: split_7_3.py, split_8_2_grouped.py" in result.stdout
    cases = junit_cases(repo / "junit.xml")
    failure = cases[("generated/split_7_3.py", "split-10")].find("failure")
    assert failure is not None
    assert failure.get("message", "").startswith("generated/split_7_3.py golden case split-10: train.jsonl record 1")
    assert cases[("generated/split_7_3.py", "split-2")].find("failure") is None


def test_verify_all_fails_missing_script(repo: Path) -> None:
    (repo / "generated" / "split_7_3.py").unlink()
    result = run_promptgen(repo, "verify", "--junit", "junit.xml")
    assert result.returncode == 1
    assert "generated/split_7_3.py is recorded in manifest.json but the file is missing" in result.stderr
    assert "all 2 scripts" not in result.stdout
    cases = junit_cases(repo / "junit.xml")
    assert cases[("generated/split_7_3.py", "exists")].find("failure") is not None
    assert cases[("generated/split_7_3.py", "split-690")].find("skipped") is not None


def test_verify_all_skips_cases_after_review(repo: Path) -> None:
    add_forbidden_import(repo, "split_7_3.py")
    result = run_promptgen(repo, "verify", "--junit", "junit.xml")
    assert result.returncode == 1
    cases = junit_cases(repo / "junit.xml")
    review_failure = cases[("generated/split_7_3.py", "review")].find("failure")
    assert review_failure is not None
    assert "PG104" in review_failure.get("message", "")
    skipped = cases[("generated/split_7_3.py", "split-690")].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "not run because the review failed"


def test_verify_all_compares_dataset(repo: Path) -> None:
    records = [{"conversation": [{"input": f"question {number}", "output": f"answer {number}"}]} for number in range(20)]
    (repo / "data.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    result = run_promptgen(repo, "verify", "--dataset", "data.jsonl", "--junit", "junit.xml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pass data.jsonl: 20 records equal the reference's" in result.stdout
    cases = junit_cases(repo / "junit.xml")
    assert ("generated/split_7_3.py", "reference on data.jsonl") in cases
    assert ("generated/split_8_2_grouped.py", "reference on data.jsonl") in cases


def test_verify_all_rejects_missing_dataset(repo: Path) -> None:
    result = run_promptgen(repo, "verify", "--dataset", "absent.jsonl")
    assert result.returncode == 1
    assert "dataset not found: absent.jsonl" in result.stderr
    assert "golden cases" not in result.stdout


def test_verify_all_rejects_empty_folder(tmp_path: Path) -> None:
    result = run_promptgen(tmp_path, "verify")
    assert result.returncode == 1
    assert "no scripts recorded in generated/manifest.json" in result.stderr


def test_verify_rejects_junit_folder(repo: Path) -> None:
    result = run_promptgen(repo, "verify", "--junit", "generated")
    assert result.returncode == 1
    assert "--junit generated is a folder" in result.stderr


def test_verify_one_writes_junit(repo: Path) -> None:
    result = run_promptgen(repo, "verify", "generated/split_7_3.py", "--junit", "junit.xml")
    assert result.returncode == 0, result.stdout + result.stderr
    root = ElementTree.parse(repo / "junit.xml").getroot()
    assert [suite.get("name") for suite in root.iter("testsuite")] == ["generated/split_7_3.py"]
    # A single script is verified as it is, so the unedited check is left out.
    assert ("generated/split_7_3.py", "unedited") not in junit_cases(repo / "junit.xml")


# --- JUnit rendering ------------------------------------------------------------------------


def test_junit_escapes_control_characters() -> None:
    from promptgen.golden import CaseOutcome
    from promptgen.verify import VerificationReport

    report = VerificationReport(
        script="x.py", kind="splitter", review=None, cases=(CaseOutcome("split-2", False, "printed \x1b[31m & <b>"),)
    )
    result = ScriptResult(script=Path("generated/x.py"), kind="splitter", case_names=("split-2",), report=report)
    root = ElementTree.fromstring(junit_xml([result]))
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert failure.get("message") == "generated/x.py golden case split-2: printed \\x1b[31m & <b>"
