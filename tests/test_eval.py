"""Model evaluation: the pass@k estimator, scoring, the table, and `promptgen eval` against the loopback server."""

from __future__ import annotations

import ast
import json
from datetime import datetime, timezone
from fractions import Fraction
from itertools import combinations
from pathlib import Path

import pytest
import typer
from chat_server import ChatServer, Completion, ErrorResponse
from typer.testing import CliRunner, Result

from promptgen.bake import bake_script
from promptgen.cli_eval import default_out_path, eval_command, parse_models
from promptgen.errors import SettingsError
from promptgen.evaluate import EvalAttempt, ModelResult, format_table, pass_at_k
from promptgen.spec import ConverterSettings, SplitterSettings


def insert_after_imports(code: str, text: str) -> str:
    """Insert ``text`` after the last top-level import, so the edit does not depend on the script's body."""
    last_import = max(
        node.end_lineno or node.lineno for node in ast.parse(code).body if isinstance(node, (ast.Import, ast.ImportFrom))
    )
    lines = code.splitlines(keepends=True)
    return "".join(lines[:last_import]) + text + "".join(lines[last_import:])


def reverse_shuffles(minimum: int) -> str:
    """Return code that reverses every list of at least ``minimum`` items after random.Random.shuffle."""
    return (
        "\n_shuffle = random.Random.shuffle\n\n\n"
        "def _shuffle_then_reverse(self, items):\n"
        "    _shuffle(self, items)\n"
        f"    if len(items) >= {minimum}:\n"
        "        items.reverse()\n\n\n"
        "random.Random.shuffle = _shuffle_then_reverse\n"
    )


GOOD_SPLITTER = bake_script(SplitterSettings())
# Seeded, so the review accepts it, but the order differs from the contract's shuffle.
WRONG_ORDER = insert_after_imports(GOOD_SPLITTER, reverse_shuffles(0))
# Passes every golden case (the largest has 690 records) but not a larger dataset.
LARGE_INPUT_BUG = insert_after_imports(GOOD_SPLITTER, reverse_shuffles(700))
CRASHING = insert_after_imports(GOOD_SPLITTER, '\nraise RuntimeError("the rest of the script is missing")\n')
NETWORK = insert_after_imports(GOOD_SPLITTER, "import socket\n")
PROSE = "I need to see a sample of the data before I can write this script."


def fenced(code: str) -> str:
    return f"Here is the script you asked for.\n\n```python\n{code}```\n\nRun it with python split.py IN TRAIN TEST.\n"


def eval_app() -> typer.Typer:
    app = typer.Typer()
    # A callback keeps "eval" a subcommand, as it is under the promptgen app.
    app.callback()(lambda: None)
    app.command("eval")(eval_command)
    return app


def run_eval(*arguments: str) -> Result:
    return CliRunner().invoke(eval_app(), ["eval", *arguments])


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "PROMPTGEN_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PROMPTGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)


def table_row(output: str, model: str) -> list[str]:
    rows = [line.split() for line in output.splitlines() if line.split()[:1] == [model]]
    assert len(rows) == 1, output
    return rows[0]


def read_attempts(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- pass@k ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (10, 3, 1, 0.3),
        (10, 0, 5, 0.0),
        (10, 10, 1, 1.0),
        (10, 3, 5, 1 - 21 / 252),
        (4, 2, 2, 5 / 6),
        (5, 1, 5, 1.0),
        (1, 1, 1, 1.0),
    ],
)
def test_pass_at_k_values(n: int, c: int, k: int, expected: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("n", "c", "k"), [(6, 2, 3), (7, 3, 2), (8, 1, 4), (5, 4, 2), (9, 0, 3)])
def test_pass_at_k_matches_enumeration(n: int, c: int, k: int) -> None:
    outcomes = [True] * c + [False] * (n - c)
    draws = list(combinations(outcomes, k))
    share = Fraction(sum(any(draw) for draw in draws), len(draws))
    assert pass_at_k(n, c, k) == pytest.approx(float(share), abs=1e-12)


@pytest.mark.parametrize(("n", "c", "k"), [(3, 4, 1), (3, -1, 1), (3, 1, 0), (3, 1, 4)])
def test_pass_at_k_rejects_invalid(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


# --- scoring and the table ------------------------------------------------------------------


def scored_model() -> ModelResult:
    attempts = (
        EvalAttempt("m", sample=1, round=1, stage="passed", prompt_tokens=100, completion_tokens=40),
        EvalAttempt("m", sample=2, round=1, stage="golden", prompt_tokens=None, completion_tokens=None),
        EvalAttempt("m", sample=2, round=2, stage="passed", prompt_tokens=150, completion_tokens=45),
        EvalAttempt("m", sample=3, round=1, stage="run", prompt_tokens=90, completion_tokens=30, cached=True),
        EvalAttempt("m", sample=3, round=2, stage="run", prompt_tokens=140, completion_tokens=35),
        EvalAttempt("m", sample=3, round=3, stage="extraction", prompt_tokens=170, completion_tokens=5),
    )
    return ModelResult("m", samples=3, attempts=attempts)


def test_model_result_counts_passes() -> None:
    result = scored_model()
    assert result.passed_without_repair == 1
    assert result.passed_with_repair == 2


def test_model_result_mean_rounds() -> None:
    assert scored_model().mean_rounds_to_pass == 1.5


def test_model_result_failures_by_kind() -> None:
    assert scored_model().failures == {"extraction": 1, "review": 0, "run": 2, "golden": 1, "data": 0}


def test_model_result_sums_tokens() -> None:
    result = scored_model()
    assert result.prompt_tokens == 650
    assert result.completion_tokens == 155
    assert result.cached_replies == 1


def test_model_result_pass_at_n() -> None:
    result = scored_model()
    assert result.pass_at(3, repaired=False) == 1.0
    assert result.pass_at(2, repaired=False) == pytest.approx(2 / 3)


def test_table_single_sample_hides_pass_at_n() -> None:
    result = ModelResult("m", samples=1, attempts=(EvalAttempt("m", sample=1, round=1, stage="passed"),))
    header, row, _legend = format_table([result], samples=1)
    assert "pass@1 repaired" in header
    assert "pass@2" not in header
    assert row.split()[:3] == ["m", "100.0%", "100.0%"]


def test_table_shows_provider_error() -> None:
    failed = ModelResult("ghost", samples=2, attempts=(), error="model 'ghost' was not found")
    lines = format_table([failed], samples=2)
    assert lines[1].split() == ["ghost"] + ["-"] * 11
    assert lines[3] == "ghost: not scored, model 'ghost' was not found"


def test_table_data_column() -> None:
    result = ModelResult("m", samples=1, attempts=(EvalAttempt("m", sample=1, round=1, stage="data"),))
    header, row, legend = format_table([result], samples=1, with_data=True)
    assert header.split()[-5:] == ["data", "prompt", "tokens", "completion", "tokens"]
    assert row.split()[-3] == "1"
    assert legend.startswith("extraction, review, run, golden, data: attempts that failed")


def test_default_out_path_uses_utc() -> None:
    moment = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert default_out_path(moment) == Path("eval-20250102T030405Z.jsonl")


@pytest.mark.parametrize("text", ["a,,b", " ", "a,a"])
def test_parse_models_rejects(text: str) -> None:
    with pytest.raises(SettingsError):
        parse_models(text)


# --- promptgen eval against the loopback server ---------------------------------------------


def test_eval_scores_two_models(chat_server: ChatServer, tmp_path: Path) -> None:
    chat_server.enqueue(
        # alpha: one sample passes at once, the other after one repair.
        Completion.of(fenced(GOOD_SPLITTER), fenced(WRONG_ORDER), usage=(100, 200)),
        Completion.of(fenced(GOOD_SPLITTER), usage=(150, 210)),
        # beta: prose, then a forbidden import; a crash, then the same crash.
        Completion.of(PROSE, fenced(CRASHING), usage=(100, 50)),
        Completion.of(fenced(NETWORK), usage=(120, 60)),
        Completion.of(fenced(CRASHING), usage=(130, 70)),
    )
    result = run_eval(
        "--template", "splitter", "--models", "alpha,beta", "--samples", "2", "--max-repairs", "1",
        "--base-url", chat_server.base_url, "--out", "runs/attempts.jsonl",
    )

    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[1]
    assert header.split()[:3] == ["model", "pass@1", "pass@2"]
    assert table_row(result.stdout, "alpha") == [
        "alpha", "50.0%", "100.0%", "100.0%", "100.0%", "1.50", "0", "0", "0", "1", "250", "410",
    ]
    assert table_row(result.stdout, "beta") == [
        "beta", "0.0%", "0.0%", "0.0%", "0.0%", "-", "1", "1", "2", "0", "350", "180",
    ]
    assert chat_server.pending == 0

    attempts = read_attempts(tmp_path / "runs" / "attempts.jsonl")
    assert [(a["model"], a["sample"], a["round"], a["stage"]) for a in attempts] == [
        ("alpha", 1, 1, "passed"),
        ("alpha", 2, 1, "golden"),
        ("alpha", 2, 2, "passed"),
        ("beta", 1, 1, "extraction"),
        ("beta", 1, 2, "review"),
        ("beta", 2, 1, "run"),
        ("beta", 2, 2, "run"),
    ]
    assert attempts[0]["template"] == "splitter"
    assert attempts[0]["settings"] == {"ratio": "7:3", "seed": 42, "group_by": "none"}
    assert attempts[0]["prompt_tokens"] == 100
    assert attempts[1]["prompt_tokens"] is None
    assert str(attempts[1]["reason"]).startswith("golden case split-690: train.jsonl record 1 is input record")
    assert str(attempts[3]["reason"]).startswith("no code block found in the reply")
    assert "PG104" in str(attempts[4]["reason"])
    assert "crashed with a traceback" in str(attempts[5]["reason"])

    requests = chat_server.chat_requests
    assert [request.body["model"] for request in requests] == ["alpha", "alpha", "beta", "beta", "beta"]
    assert requests[0].body["n"] == 2
    # alpha's second sample is repaired in its own conversation: its reply, then its faults.
    assert "n" not in requests[1].body
    assert requests[1].body["messages"][-2] == {"role": "assistant", "content": fenced(WRONG_ORDER)}
    assert requests[1].body["messages"][-1]["role"] == "user"
    assert "golden case split-690" in requests[1].body["messages"][-1]["content"]


def test_eval_compares_dataset(chat_server: ChatServer, tmp_path: Path) -> None:
    records = [{"conversation": [{"input": f"question {number}", "output": "answer"}]} for number in range(800)]
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    chat_server.enqueue(Completion.of(fenced(LARGE_INPUT_BUG)), Completion.of(fenced(GOOD_SPLITTER)))
    result = run_eval(
        "--template", "splitter", "--models", "alpha", "--samples", "1", "--max-repairs", "1",
        "--dataset", "data.jsonl", "--base-url", chat_server.base_url, "--out", "attempts.jsonl",
    )

    assert result.exit_code == 0, result.output
    attempts = read_attempts(tmp_path / "attempts.jsonl")
    assert [attempt["stage"] for attempt in attempts] == ["data", "passed"]
    assert str(attempts[0]["reason"]).startswith("real data data.jsonl:")
    assert table_row(result.stdout, "alpha")[-3] == "1"


def test_eval_converter_table(chat_server: ChatServer) -> None:
    good = bake_script(ConverterSettings(sheet="DrugQA"))
    chat_server.enqueue(Completion.of(fenced(good)), Completion.of(PROSE))
    result = run_eval(
        "--template", "converter", "--models", "alpha,beta", "--samples", "1", "--max-repairs", "0",
        "--sheet", "DrugQA", "--base-url", chat_server.base_url, "--out", "attempts.jsonl",
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "template converter v1, 1 sample(s) per model, up to 0 repair round(s) per sample"
    assert table_row(result.stdout, "alpha")[:3] == ["alpha", "100.0%", "100.0%"]
    assert table_row(result.stdout, "beta")[:3] == ["beta", "0.0%", "0.0%"]
    assert [request.body["model"] for request in chat_server.chat_requests] == ["alpha", "beta"]


def test_eval_reports_provider_error(chat_server: ChatServer, tmp_path: Path) -> None:
    not_found = {"error": {"message": "The model `ghost` does not exist", "type": "invalid_request_error", "code": "model_not_found"}}
    chat_server.enqueue(Completion.of(fenced(GOOD_SPLITTER)), ErrorResponse(404, not_found))
    result = run_eval(
        "--template", "splitter", "--models", "alpha,ghost", "--samples", "1",
        "--base-url", chat_server.base_url,
    )

    assert result.exit_code == 1
    assert table_row(result.stdout, "alpha")[:2] == ["alpha", "100.0%"]
    assert "ghost: not scored, model 'ghost' was not found at" in result.stdout
    written = list(tmp_path.glob("eval-*.jsonl"))
    assert len(written) == 1
    assert [attempt["model"] for attempt in read_attempts(written[0])] == ["alpha"]


def test_eval_counts_cached_replies(chat_server: ChatServer) -> None:
    chat_server.enqueue(Completion.of(fenced(GOOD_SPLITTER)))
    arguments = ("--template", "splitter", "--models", "alpha", "--samples", "1", "--base-url", chat_server.base_url)
    first = run_eval(*arguments, "--out", "first.jsonl")
    second = run_eval(*arguments, "--out", "second.jsonl")

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert len(chat_server.chat_requests) == 1
    assert "1 reply came from the response cache" in second.stdout
    assert read_attempts(Path("second.jsonl"))[0]["cached"] is True


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--template", "converter", "--sheet", "DrugQA", "--ratio", "8:2"], "--ratio does not apply to the converter template"),
        (["--template", "splitter", "--sheet", "DrugQA"], "--sheet does not apply to the splitter template"),
        (["--template", "converter"], "missing --sheet"),
        (["--template", "nope"], "template 'nope' not found"),
        (["--template", "repair"], "does not generate a script"),
        (["--template", "splitter", "--ratio", "7"], "invalid ratio '7'"),
        (["--template", "splitter", "--out", "."], "--out . is a folder"),
    ],
)
def test_eval_rejects_settings(chat_server: ChatServer, arguments: list[str], message: str) -> None:
    result = run_eval(*arguments, "--models", "alpha", "--base-url", chat_server.base_url)
    assert result.exit_code == 1
    assert message in result.stderr
    assert chat_server.chat_requests == []


def test_eval_requires_endpoint() -> None:
    result = run_eval("--template", "splitter", "--models", "alpha")
    assert result.exit_code == 1
    assert "no API key and no base URL" in result.stderr
