"""Model-backed ``promptgen make``, end to end: the CLI runs as a subprocess against the loopback chat server.

Each file in tests/replies/ is a canned model reply. ``{script}`` in it is a placeholder for
the reference script baked with the test's settings, and EDITS turns that script into the
mistake the reply is named after, the way models make it. Every run gets its own
response cache under tmp_path through PROMPTGEN_CACHE_DIR.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from chat_server import ChatServer, Completion, ErrorResponse

from promptgen.bake import add_header, bake_script
from promptgen.golden import CaseOutcome
from promptgen.golden.model import DEFAULT_TIMEOUT
from promptgen.pipeline import (
    MAX_GOLDEN_FAULTS,
    MakeOptions,
    MakeResult,
    describe_failures,
    scrub_text,
    select_provider,
    summarize_result,
)
from promptgen.providers.openai_provider import OpenAIProvider, OpenAISettings
from promptgen.review import ReviewReport, review_code
from promptgen.spec import ConverterSettings, Settings, SplitterSettings
from promptgen.templates import render_for_settings
from promptgen.verify import VerificationReport

REPLIES = Path(__file__).resolve().parent / "replies"
CONVERTER = ConverterSettings(sheet="DrugQA", input_col="A", output_col="D")
SPLITTER = SplitterSettings()
CONVERTER_ARGS = ("--sheet", "DrugQA", "--input-col", "A", "--output-col", "D")
CONVERTER_SCRIPT = "convert_drugqa.py"
SPLITTER_SCRIPT = "split_7_3.py"
MODEL = "test-model"

# Reply name -> (text in the reference script, what the model wrote instead). Each text
# must occur exactly once, so a change to the reference shows up here instead of
# silently turning a bad reply into a good one.
EDITS: dict[str, tuple[tuple[str, str], ...]] = {
    "converter_json_array": (
        ("writer = RecordWriter(stream, OUTPUT_FORMAT)", 'writer = RecordWriter(stream, "json")'),
    ),
    "converter_hardcoded_paths": (
        (
            "summary = convert(arguments.input, arguments.output)",
            'summary = convert(Path("MedQA2019.xlsx"), Path("output.jsonl"))',
        ),
    ),
    "converter_syntax_error": (
        ("def plural(count: int, noun: str) -> str:", "def plural(count: int, noun: str) -> str"),
    ),
    "converter_imports_requests": (("\nimport json\n", "\nimport json\nimport requests\n"),),
    "splitter_float_unseeded": (
        (
            "    test_size = -(-count * test_share // (train_share + test_share))\n"
            "    train_size = count - test_size\n",
            "    train_size = int(count * 0.7)\n    test_size = count - train_size\n",
        ),
        ("random.Random(seed).shuffle(order)", "random.shuffle(order)"),
    ),
    # The loop never assigns the new name to candidate, so an existing output keeps it spinning.
    "splitter_endless_loop": (
        (
            "def main(argv: Sequence[str]) -> int:\n    arguments = parse_arguments(argv)\n",
            "def free_path(path: Path) -> Path:\n"
            "    number = 0\n"
            "    candidate = path\n"
            "    while candidate.exists():\n"
            "        number += 1\n"
            '        path.with_name(f"{path.stem}_{number}{path.suffix}")\n'
            "    return candidate\n"
            "\n"
            "\n"
            "def main(argv: Sequence[str]) -> int:\n"
            "    arguments = parse_arguments(argv)\n"
            "    arguments.train = free_path(arguments.train)\n"
            "    arguments.test = free_path(arguments.test)\n",
        ),
    ),
}

# Reply name -> the text before which the reply stops, as when the token limit cuts it off.
CUTS = {"converter_truncated": "def convert("}


def edited_script(name: str, settings: Settings) -> str:
    script = bake_script(settings)
    for old, new in EDITS.get(name, ()):
        assert script.count(old) == 1, f"{name}: the reference script no longer contains {old!r} once; update EDITS"
        script = script.replace(old, new)
    return script


def reply_text(name: str, settings: Settings) -> str:
    text = (REPLIES / f"{name}.md").read_text(encoding="utf-8")
    text = text.replace("{script}", edited_script(name, settings).rstrip("\n"))
    if name in CUTS:
        text = text[: text.index(CUTS[name])]
    return text


def line_of(text: str, name: str, settings: Settings) -> int:
    """Return the 1-based line of ``text`` in the script of reply ``name``."""
    lines = edited_script(name, settings).splitlines()
    return next(number for number, line in enumerate(lines, start=1) if text in line)


def run_make(
    tmp_path: Path, kind: str, *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``promptgen make KIND --out-dir out ARGS`` in ``tmp_path``, with no OpenAI settings from this process."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"OPENAI_BASE_URL", "OPENAI_API_KEY", "PROMPTGEN_MODEL"}
    }
    environment["PROMPTGEN_CACHE_DIR"] = str(tmp_path / "cache")
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "promptgen", "make", kind, "--out-dir", "out", *args],
        cwd=tmp_path,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


def model_args(server: ChatServer) -> tuple[str, ...]:
    return ("--base-url", server.base_url, "--model", MODEL)


def out_dir_files(tmp_path: Path) -> list[str]:
    """Return the names in the output folder. The command line may create the folder before the model replies."""
    out_dir = tmp_path / "out"
    return sorted(path.name for path in out_dir.iterdir()) if out_dir.exists() else []


def manifest_entry(tmp_path: Path, script: str) -> dict[str, Any]:
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    return manifest["scripts"][script]


def last_message(server: ChatServer, request: int) -> dict[str, str]:
    return server.chat_requests[request].body["messages"][-1]


# --- the repair loop ---------------------------------------------------------------------------


def test_make_repairs_json_array(chat_server: ChatServer, medqa_workbook: Path, tmp_path: Path) -> None:
    bad = reply_text("converter_json_array", CONVERTER)
    chat_server.enqueue(Completion.of(bad), Completion.of(reply_text("converter_good", CONVERTER)))

    result = run_make(
        tmp_path, "converter", *CONVERTER_ARGS, "--workbook", str(medqa_workbook), *model_args(chat_server)
    )

    assert result.returncode == 0, result.stderr
    assert len(chat_server.chat_requests) == 2
    messages = chat_server.chat_requests[1].body["messages"]
    assert messages[-2] == {"role": "assistant", "content": bad}
    repair = messages[-1]
    assert repair["role"] == "user"
    assert "wrote a JSON array, but JSON Lines was requested" in repair["content"]
    assert "fixtures and their expected output are correct" in repair["content"]
    assert "Keep the command-line contract" in repair["content"]
    assert "promptgen-" not in repair["content"]
    assert (tmp_path / "out" / CONVERTER_SCRIPT).is_file()
    entry = manifest_entry(tmp_path, CONVERTER_SCRIPT)
    assert entry["attempts"]["count"] == 2
    history = entry["attempts"]["history"]
    assert [attempt["stage"] for attempt in history] == ["golden", "passed"]
    assert "wrote a JSON array, but JSON Lines was requested" in history[0]["reason"]
    assert entry["verification"]["data"]["passed"] is True
    assert entry["base_url"] == chat_server.base_url


# Reply name, finish_reason, the stage it fails at, and texts the repair message must contain.
REJECTED_REPLIES = [
    ("converter_no_fence", "stop", "extraction", ("extraction: no code block found in the reply",)),
    ("converter_two_blocks", "stop", "extraction", ("extraction: the reply has 2 Python code blocks",)),
    ("converter_truncated", "length", "extraction", ("extraction: the reply was cut off by the token limit",)),
    (
        "converter_syntax_error",
        "stop",
        "extraction",
        (f"the code has a syntax error at line {line_of('def plural(', 'converter_syntax_error', CONVERTER)}",),
    ),
    (
        "converter_imports_requests",
        "stop",
        "review",
        (f"review: {line_of('import requests', 'converter_imports_requests', CONVERTER)}:7 error PG101",),
    ),
    (
        "converter_hardcoded_paths",
        "stop",
        "review",
        (
            f"review: {line_of('MedQA2019.xlsx', 'converter_hardcoded_paths', CONVERTER)}:31 error PG201",
            'error PG201 hard-coded file name "MedQA2019.xlsx"',
            'error PG201 hard-coded file name "output.jsonl"',
        ),
    ),
]


@pytest.mark.parametrize(
    ("reply", "finish_reason", "stage", "faults"), REJECTED_REPLIES, ids=[row[0] for row in REJECTED_REPLIES]
)
def test_make_rejects_reply(
    chat_server: ChatServer, tmp_path: Path, reply: str, finish_reason: str, stage: str, faults: tuple[str, ...]
) -> None:
    text = reply_text(reply, CONVERTER)
    chat_server.enqueue(*(Completion.of(text, finish_reason=finish_reason) for _ in range(2)))

    result = run_make(tmp_path, "converter", *CONVERTER_ARGS, "--max-repairs", "1", *model_args(chat_server))

    assert result.returncode == 1
    assert "no candidate passed after 2 attempt(s), so nothing was written" in result.stderr
    assert f"({stage}: " in result.stderr
    assert len(chat_server.chat_requests) == 2
    repair = last_message(chat_server, 1)["content"]
    for fault in faults:
        assert fault in repair
    assert out_dir_files(tmp_path) == []


def test_make_unseeded_float_splitter(chat_server: ChatServer, tmp_path: Path) -> None:
    text = reply_text("splitter_float_unseeded", SPLITTER)
    chat_server.enqueue(Completion.of(text), Completion.of(text))

    result = run_make(tmp_path, "splitter", "--max-repairs", "1", *model_args(chat_server))

    assert result.returncode == 1
    repair = last_message(chat_server, 1)["content"]
    assert "golden case split-690: wrote 482 train and 208 test records; expected 483 and 207" in repair
    assert "PG311" in repair
    assert "PG312" in repair
    assert out_dir_files(tmp_path) == []


def test_make_endless_loop_times_out(chat_server: ChatServer, tmp_path: Path) -> None:
    chat_server.enqueue(Completion.of(reply_text("splitter_endless_loop", SPLITTER)))

    result = run_make(tmp_path, "splitter", "--max-repairs", "0", *model_args(chat_server))

    assert result.returncode == 1
    assert f"golden case existing-outputs: timed out after {DEFAULT_TIMEOUT:g} s" in result.stderr
    assert out_dir_files(tmp_path) == []


# --- HTTP failures ------------------------------------------------------------------------------


def test_make_retries_429(chat_server: ChatServer, tmp_path: Path) -> None:
    chat_server.enqueue(
        ErrorResponse(429, retry_after="0"), Completion.of(reply_text("splitter_good", SPLITTER))
    )

    result = run_make(tmp_path, "splitter", *model_args(chat_server))

    assert result.returncode == 0, result.stderr
    assert len(chat_server.chat_requests) == 2
    assert manifest_entry(tmp_path, SPLITTER_SCRIPT)["attempts"]["count"] == 1


def test_make_repeated_500(chat_server: ChatServer, tmp_path: Path) -> None:
    chat_server.enqueue(*(ErrorResponse(500, retry_after="0") for _ in range(3)))

    result = run_make(tmp_path, "splitter", "--max-retries", "2", *model_args(chat_server))

    assert result.returncode == 1
    assert "failed 3 attempts, the last with HTTP 500" in result.stderr
    assert len(chat_server.chat_requests) == 3
    assert out_dir_files(tmp_path) == []


def test_make_rejected_key(chat_server: ChatServer, tmp_path: Path) -> None:
    key = "sk-test-rejected-key"
    chat_server.enqueue(ErrorResponse(401, {"error": {"message": f"Incorrect API key provided: {key}"}}))

    result = run_make(
        tmp_path, "splitter", *model_args(chat_server),
        env={"OPENAI_API_KEY": key, "OPENAI_BASE_URL": chat_server.base_url},
    )

    assert result.returncode == 1
    assert "rejected the API key (401): check OPENAI_API_KEY" in result.stderr
    assert key not in result.stderr
    assert len(chat_server.chat_requests) == 1
    assert out_dir_files(tmp_path) == []


def test_make_withholds_key_from_other_server(chat_server: ChatServer, tmp_path: Path) -> None:
    key = "sk-test-withheld-key"
    chat_server.enqueue(ErrorResponse(401, {"error": {"message": "missing key"}}))

    result = run_make(tmp_path, "splitter", *model_args(chat_server), env={"OPENAI_API_KEY": key})

    assert result.returncode == 1
    assert f"set OPENAI_BASE_URL={chat_server.base_url}" in result.stderr
    assert key not in (chat_server.chat_requests[0].authorization or "")


# --- samples and the response cache -----------------------------------------------------------


def test_make_samples_in_one_request(chat_server: ChatServer, tmp_path: Path) -> None:
    chat_server.enqueue(
        Completion.of(reply_text("splitter_float_unseeded", SPLITTER), reply_text("splitter_good", SPLITTER))
    )

    result = run_make(tmp_path, "splitter", "--samples", "2", "--max-repairs", "0", *model_args(chat_server))

    assert result.returncode == 0, result.stderr
    assert [request.body.get("n") for request in chat_server.chat_requests] == [2]
    assert "round 1: 1 of 2 samples passed" in result.stderr
    entry = manifest_entry(tmp_path, SPLITTER_SCRIPT)
    assert entry["samples"] == {"requested": 2, "passed": 1}
    assert [attempt["stage"] for attempt in entry["attempts"]["history"]] == ["golden", "passed"]


def test_make_samples_without_n(chat_server: ChatServer, tmp_path: Path) -> None:
    # A server that ignores n sends one choice, so the provider requests the second sample separately.
    good = reply_text("splitter_good", SPLITTER)
    bare = reply_text("splitter_bare_code", SPLITTER)
    chat_server.enqueue(Completion.of(good), Completion.of(bare))

    result = run_make(tmp_path, "splitter", "--samples", "2", *model_args(chat_server))

    assert result.returncode == 0, result.stderr
    assert [request.body.get("n") for request in chat_server.chat_requests] == [2, None]
    assert manifest_entry(tmp_path, SPLITTER_SCRIPT)["samples"] == {"requested": 2, "passed": 2}


def test_make_cache_sends_nothing(chat_server: ChatServer, tmp_path: Path) -> None:
    good = reply_text("splitter_good", SPLITTER)
    chat_server.enqueue(Completion.of(good))
    first = run_make(tmp_path, "splitter", *model_args(chat_server))
    assert first.returncode == 0, first.stderr

    again = run_make(tmp_path, "splitter", *model_args(chat_server))

    assert again.returncode == 0, again.stderr
    assert len(chat_server.chat_requests) == 1
    assert "came from the response cache" in again.stderr
    assert list((tmp_path / "cache").rglob("*.json"))

    chat_server.enqueue(Completion.of(good))
    uncached = run_make(tmp_path, "splitter", "--no-cache", *model_args(chat_server))

    assert uncached.returncode == 0, uncached.stderr
    assert len(chat_server.chat_requests) == 2


# --- the manual provider --------------------------------------------------------------------


def test_manual_writes_prompt(tmp_path: Path) -> None:
    result = run_make(tmp_path, "splitter", "--provider", "manual")

    assert result.returncode == 0, result.stderr
    prompt_file = tmp_path / "split_7_3.prompt.md"
    assert "split_7_3.prompt.md" in result.stderr
    assert render_for_settings(SPLITTER).text.strip() in prompt_file.read_text(encoding="utf-8")
    assert out_dir_files(tmp_path) == []


def test_manual_response_file(tmp_path: Path) -> None:
    (tmp_path / "reply.md").write_text(reply_text("splitter_good", SPLITTER), encoding="utf-8")

    result = run_make(tmp_path, "splitter", "--provider", "manual", "--response", "reply.md")

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / SPLITTER_SCRIPT).is_file()
    assert manifest_entry(tmp_path, SPLITTER_SCRIPT)["provider"] == "manual"


def test_manual_response_stdin_fails(tmp_path: Path) -> None:
    text = reply_text("converter_imports_requests", CONVERTER)

    result = run_make(tmp_path, "converter", *CONVERTER_ARGS, "--provider", "manual", "--response", "-", stdin=text)

    assert result.returncode == 1
    assert "the pasted reply failed (review: " in result.stderr
    repair = (tmp_path / "convert_drugqa.prompt.md").read_text(encoding="utf-8")
    assert "PG101" in repair
    assert "Keep the command-line contract" in repair
    assert out_dir_files(tmp_path) == []


# --- choosing the provider -------------------------------------------------------------------


def test_auto_without_endpoint(tmp_path: Path) -> None:
    result = run_make(tmp_path, "splitter")

    assert result.returncode == 0, result.stderr
    assert "provider: reference (" in result.stderr
    assert manifest_entry(tmp_path, SPLITTER_SCRIPT)["provider"] == "reference"


def test_auto_with_base_url_env(chat_server: ChatServer, tmp_path: Path) -> None:
    chat_server.enqueue(Completion.of(reply_text("converter_no_fence", CONVERTER)))
    env = {"OPENAI_BASE_URL": chat_server.base_url, "PROMPTGEN_MODEL": MODEL}

    result = run_make(tmp_path, "converter", *CONVERTER_ARGS, "--max-repairs", "0", env=env)

    assert result.returncode == 1
    assert f"provider: openai ({chat_server.base_url})" in result.stderr
    assert len(chat_server.chat_requests) == 1


def test_auto_with_key_only(tmp_path: Path) -> None:
    # Only the choice is checked: building the provider sends no request.
    settings = OpenAISettings(api_key="sk-test-key-only", model=MODEL)
    options = MakeOptions(settings=SPLITTER, name=SPLITTER_SCRIPT, out_dir=tmp_path, openai=settings)
    messages: list[str] = []

    provider = select_provider(options, messages.append)

    assert isinstance(provider, OpenAIProvider)
    assert messages[0].startswith("provider: openai (OpenAI API)")
    assert "sk-test-key-only" not in messages[0]


# --- repair text, in process ----------------------------------------------------------------

SCRUBBED = [
    ("/tmp/promptgen-case-k2j_3x9a/workbook.xlsx not found", "workbook.xlsx not found"),
    ("cannot write '/tmp/promptgen-data-abc123/out.jsonl'", "cannot write 'out.jsonl'"),
    ("folder /tmp/promptgen-candidate-q1w2e3 is read-only", "folder . is read-only"),
    (r"C:\Temp\promptgen-case-abc\in.xlsx is locked", "in.xlsx is locked"),
    ("timed out after 10.3 s", "timed out after 10 s"),
    ("timed out after 30 s", "timed out after 30 s"),
    ("'wrote 3 records in 0.42s'", "'wrote 3 records in <duration>'"),
    ("done in 12.5 seconds", "done in <duration>"),
    ("record 2, field 'output': expected '1.5', got '1.50'", "record 2, field 'output': expected '1.5', got '1.50'"),
]


@pytest.mark.parametrize(("text", "expected"), SCRUBBED)
def test_scrub_text(text: str, expected: str) -> None:
    assert scrub_text(text) == expected


def golden_report(*cases: CaseOutcome, review: ReviewReport | None = None) -> VerificationReport:
    return VerificationReport(script=CONVERTER_SCRIPT, kind="converter", review=review, cases=cases)


def test_failures_grouped_by_fault() -> None:
    array = "wrote a JSON array, but JSON Lines was requested"
    report = golden_report(
        *(CaseOutcome(name, False, array) for name in ("a", "b", "c", "d", "e", "f")),
        CaseOutcome("g", True),
        CaseOutcome("h", False, "timed out after 10.3 s"),
    )

    faults = describe_failures(report, "", "")

    assert faults == [f"golden cases a, b, c, d and 2 more: {array}", "golden case h: timed out after 10 s"]


def test_golden_faults_capped() -> None:
    report = golden_report(*(CaseOutcome(f"case-{number}", False, f"fault {number}") for number in range(20)))

    faults = describe_failures(report, "", "")

    assert len(faults) == MAX_GOLDEN_FAULTS + 1
    hidden = 20 - MAX_GOLDEN_FAULTS
    assert faults[-1] == f"{hidden} more golden case(s) failed with other faults; fix the ones above first"


def test_failures_review_lines_match_reply() -> None:
    code = "import sys\nimport requests\n\nprint(sys.argv)\n"
    final_code = add_header(code, "# header line 1\n# header line 2\n# header line 3\n")
    report = golden_report(review=review_code(final_code, "converter"))

    faults = describe_failures(report, code, final_code)

    assert faults[0].startswith("review: 2:7 error PG101 ")


def test_summary_line() -> None:
    entry = {
        "verification": {"golden_cases": 22},
        "samples": {"requested": 3, "passed": 2},
        "attempts": {"count": 4},
    }
    result = MakeResult(script=Path("out") / SPLITTER_SCRIPT, entry=entry, report=golden_report())

    line = summarize_result(result)

    assert line == f"wrote {Path('out') / SPLITTER_SCRIPT} (22 golden cases passed; 2 of 3 samples passed; 4 attempts)"
