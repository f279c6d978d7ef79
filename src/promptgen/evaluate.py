"""Model evaluation: how often each model writes a passing script from one template, and at what cost.

For every model, ``samples`` independent replies to the same prompt are judged as
``promptgen make`` judges a candidate (extraction, review, golden cases, and the
reference on the user's data when given). A failed sample gets its own repair
conversation of at most ``max_repairs`` more rounds. Each sample is scored twice:
without repair (did round 1 pass?) and with repair (did any round pass?).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from math import comb
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from promptgen.errors import ExtractionError, ProviderError
from promptgen.fsutil import write_atomic
from promptgen.progress import current_reporter
from promptgen.providers.base import Message, Provider, Reply
from promptgen.spec import Settings, kind_of

if TYPE_CHECKING:
    from promptgen.templates import RenderedPrompt
    from promptgen.verify import DataRun, VerificationReport

LogCallback = Callable[[str], None]

PASSED = "passed"
FAILURE_KINDS = ("extraction", "review", "run", "golden", "data")

# A golden case whose script crashed, timed out or was killed on input it should
# have converted: a fault of the run, not of the records. These are the leading
# words that golden/outcome.py gives such faults. "exited 0, but" and "exited N
# without an error message" are contract faults of cases that expect a failure.
_RUN_FAULT = re.compile(r"^(timed out after |was killed by signal |crashed with a traceback|exited -?\d+: )")


def pass_at_k(n: int, c: int, k: int) -> float:
    """Estimate the probability that at least one of ``k`` samples passes, from ``c`` passes in ``n`` samples.

    This is the unbiased estimator 1 - C(n-c, k) / C(n, k) from Chen et al.,
    "Evaluating Large Language Models Trained on Code", 2021 (arXiv:2107.03374,
    section 2.1). Python's integers are exact, so the estimate is computed as the
    single fraction (C(n, k) - C(n-c, k)) / C(n, k) and rounded once. That makes pass@1 exactly c / n.
    """
    if not 0 <= c <= n:
        raise ValueError(f"invalid pass count {c} for {n} samples: give 0 to {n}")
    if not 1 <= k <= n:
        raise ValueError(f"invalid k {k} for {n} samples: give 1 to {n}")
    if n - c < k:
        # Every draw of k samples contains a passing one.
        return 1.0
    total = comb(n, k)
    return (total - comb(n - c, k)) / total


def classify_failure(report: VerificationReport) -> str:
    """Return the failure kind of a report that did not pass: review, run, golden or data."""
    kind = report.failure_kind()
    if kind != "golden":
        return kind
    first = report.failed_cases[0]
    return "run" if _RUN_FAULT.match(first.message) else "golden"


@dataclass(frozen=True)
class EvalAttempt:
    """One judged reply: which model, sample and round it was, and where it failed (``stage`` "passed" if not).

    Token counts are None when the server reported none, and for every reply after
    the first of a request with several samples, whose first reply carries the request's counts.
    """

    model: str
    sample: int
    round: int
    stage: str
    reason: str = ""
    finish_reason: str = "stop"
    cached: bool = False
    prompt_tokens: int | None = None
    completion_tokens: int | None = None

    @property
    def passed(self) -> bool:
        return self.stage == PASSED


@dataclass(frozen=True)
class EvalTask:
    """The prompt that every model gets, and the settings and data its replies are judged on.

    ``reference`` is the reference script's run on ``data``, made once for all models.
    """

    prompt: RenderedPrompt
    settings: Settings
    samples: int
    max_repairs: int = 2
    data: Path | None = None
    reference: DataRun | None = None

    def __post_init__(self) -> None:
        if self.samples < 1:
            raise ValueError(f"invalid number of samples {self.samples}: give 1 or more")
        if self.max_repairs < 0:
            raise ValueError(f"invalid max_repairs {self.max_repairs}: give 0 or more")


@dataclass(frozen=True)
class ModelResult:
    """The attempts of one model, and the provider error that ended its evaluation early, if any."""

    model: str
    samples: int
    attempts: tuple[EvalAttempt, ...]
    error: str = ""

    def _first_pass_rounds(self) -> dict[int, int | None]:
        rounds: dict[int, int | None] = {sample: None for sample in range(1, self.samples + 1)}
        for attempt in self.attempts:
            if attempt.passed and rounds.get(attempt.sample) is None:
                rounds[attempt.sample] = attempt.round
        return rounds

    @property
    def passed_without_repair(self) -> int:
        return sum(round_number == 1 for round_number in self._first_pass_rounds().values())

    @property
    def passed_with_repair(self) -> int:
        return sum(round_number is not None for round_number in self._first_pass_rounds().values())

    def pass_at(self, k: int, *, repaired: bool) -> float:
        passed = self.passed_with_repair if repaired else self.passed_without_repair
        return pass_at_k(self.samples, passed, k)

    @property
    def mean_rounds_to_pass(self) -> float | None:
        """The mean round in which the passing samples first passed (1 is the first reply), or None."""
        rounds = [round_number for round_number in self._first_pass_rounds().values() if round_number is not None]
        return sum(rounds) / len(rounds) if rounds else None

    @property
    def failures(self) -> dict[str, int]:
        counts = dict.fromkeys(FAILURE_KINDS, 0)
        for attempt in self.attempts:
            if not attempt.passed:
                counts[attempt.stage] = counts.get(attempt.stage, 0) + 1
        return counts

    @property
    def prompt_tokens(self) -> int:
        return sum(attempt.prompt_tokens or 0 for attempt in self.attempts)

    @property
    def completion_tokens(self) -> int:
        return sum(attempt.completion_tokens or 0 for attempt in self.attempts)

    @property
    def cached_replies(self) -> int:
        return sum(attempt.cached for attempt in self.attempts)


def initial_messages(prompt: RenderedPrompt) -> list[Message]:
    from promptgen.templates import render_system_prompt

    return [
        {"role": "system", "content": render_system_prompt()},
        {"role": "user", "content": prompt.text},
    ]


def evaluate_model(provider: Provider, task: EvalTask, log: LogCallback = lambda message: None) -> ModelResult:
    """Judge ``task.samples`` replies of ``provider``, repairing each failed one in its own conversation.

    A ProviderError ends this model's evaluation; the result keeps the attempts
    judged so far and the error message.
    """
    messages = initial_messages(task.prompt)
    attempts: list[EvalAttempt] = []
    try:
        with current_reporter().task(f"{provider.model}: waiting for {task.samples} replies"):
            replies = provider.complete(messages, samples=task.samples)
        for sample, reply in enumerate(replies, start=1):
            _run_sample(provider, task, messages, sample, reply, attempts, log)
    except ProviderError as exc:
        log(f"{provider.model}: stopped, {exc}")
        return ModelResult(provider.model, task.samples, tuple(attempts), error=str(exc))
    return ModelResult(provider.model, task.samples, tuple(attempts))


def _run_sample(
    provider: Provider,
    task: EvalTask,
    messages: list[Message],
    sample: int,
    reply: Reply,
    attempts: list[EvalAttempt],
    log: LogCallback,
) -> None:
    from promptgen.templates import render_repair

    conversation = list(messages)
    last_round = 1 + task.max_repairs
    for round_number in range(1, last_round + 1):
        stage, faults = _judge(reply, provider.name, task)
        # The stage field already names "review" or "extraction", so the reason drops that prefix.
        reason = faults[0].removeprefix(f"{stage}: ") if faults else ""
        attempt = EvalAttempt(
            model=provider.model,
            sample=sample,
            round=round_number,
            stage=stage,
            reason=reason,
            finish_reason=reply.finish_reason,
            cached=reply.cached,
            prompt_tokens=reply.prompt_tokens,
            completion_tokens=reply.completion_tokens,
        )
        attempts.append(attempt)
        outcome = PASSED if attempt.passed else f"failed {stage}: {reason}"
        log(f"{provider.model} sample {sample} round {round_number}: {outcome}")
        if attempt.passed or round_number == last_round:
            return
        conversation = [
            *conversation,
            {"role": "assistant", "content": reply.text},
            {"role": "user", "content": render_repair(kind_of(task.settings), faults)},
        ]
        with current_reporter().task(f"{provider.model}: waiting for a repaired reply"):
            reply = provider.complete(conversation, samples=1)[0]


def _judge(reply: Reply, provider_name: str, task: EvalTask) -> tuple[str, list[str]]:
    """Return the stage a reply reached and its faults, as the repair message lists them."""
    from promptgen.pipeline import (
        MakeOptions,
        default_script_name,
        describe_failures,
        extract_candidate,
        scrub_text,
        verify_candidate,
    )

    try:
        code = extract_candidate(reply)
    except ExtractionError as exc:
        reason = scrub_text(str(exc))
        return "extraction", [f"extraction: {reason}"]

    options = MakeOptions(
        settings=task.settings, name=default_script_name(task.settings), out_dir=Path("."), data=task.data
    )
    final_code, report = verify_candidate(
        code, options, task.prompt, provider_name, task.reference, log=lambda message: None
    )
    if report.passed:
        return PASSED, []
    return classify_failure(report), describe_failures(report, code, final_code)


def evaluate_models(
    providers: Sequence[Provider],
    task: EvalTask,
    log: LogCallback = lambda message: None,
    on_result: Callable[[list[ModelResult]], None] = lambda results: None,
) -> list[ModelResult]:
    """Evaluate each provider in turn; ``on_result`` gets the results so far after each model."""
    results: list[ModelResult] = []
    for provider in providers:
        log(f"evaluating {provider.model}: {task.samples} sample(s), up to {task.max_repairs} repair round(s) each")
        results.append(evaluate_model(provider, task, log))
        on_result(results)
    return results


def attempt_record(attempt: EvalAttempt, prompt: RenderedPrompt, settings: Settings) -> dict[str, Any]:
    """Return one JSON Lines record: the attempt with the template and settings it was made for."""
    return {
        "model": attempt.model,
        "template": prompt.template,
        "template_version": prompt.version,
        "kind": kind_of(settings),
        "settings": settings.to_dict(),
        "sample": attempt.sample,
        "round": attempt.round,
        "stage": attempt.stage,
        "passed": attempt.passed,
        "reason": attempt.reason,
        "finish_reason": attempt.finish_reason,
        "cached": attempt.cached,
        "prompt_tokens": attempt.prompt_tokens,
        "completion_tokens": attempt.completion_tokens,
    }


def write_attempts(path: Path, results: Sequence[ModelResult], prompt: RenderedPrompt, settings: Settings) -> None:
    """Write every attempt of ``results`` to ``path`` as JSON Lines, replacing the file atomically."""
    lines = [
        json.dumps(attempt_record(attempt, prompt, settings), ensure_ascii=False) + "\n"
        for result in results
        for attempt in result.attempts
    ]
    write_atomic(path, "".join(lines))


@dataclass(frozen=True)
class _Column:
    title: str
    cells: list[str] = field(default_factory=list)
    align_left: bool = False


def format_table(results: Sequence[ModelResult], samples: int, *, with_data: bool = False) -> list[str]:
    """Render one row per model: pass rates without and with repair, failures by kind, and tokens.

    The table ends with a legend line, then one line per model whose evaluation ended with an error.
    ``with_data`` adds the column of failures on the user's data.
    """
    kinds = [kind for kind in FAILURE_KINDS if with_data or kind != "data"]
    ks = [1] if samples == 1 else [1, samples]
    columns = [_Column("model", align_left=True)]
    columns += [_Column(f"pass@{k}") for k in ks]
    columns += [_Column(f"pass@{k} repaired") for k in ks]
    columns += [_Column("mean rounds")]
    columns += [_Column(kind) for kind in kinds]
    columns += [_Column("prompt tokens"), _Column("completion tokens")]

    errors: list[str] = []
    for result in results:
        if result.error:
            errors.append(f"{result.model}: not scored, {result.error}")
            cells = [result.model] + ["-"] * (len(columns) - 1)
        else:
            mean_rounds = result.mean_rounds_to_pass
            cells = [result.model]
            cells += [_percent(result.pass_at(k, repaired=False)) for k in ks]
            cells += [_percent(result.pass_at(k, repaired=True)) for k in ks]
            cells += ["-" if mean_rounds is None else f"{mean_rounds:.2f}"]
            cells += [str(result.failures[kind]) for kind in kinds]
            cells += [str(result.prompt_tokens), str(result.completion_tokens)]
        for column, cell in zip(columns, cells):
            column.cells.append(cell)

    widths = [max(len(column.title), *(len(cell) for cell in column.cells)) for column in columns]
    lines = ["  ".join(_pad(column.title, width, column.align_left) for column, width in zip(columns, widths)).rstrip()]
    for row in range(len(results)):
        cells = (_pad(column.cells[row], width, column.align_left) for column, width in zip(columns, widths))
        lines.append("  ".join(cells).rstrip())
    lines.append(
        f"{', '.join(kinds)}: attempts that failed at that stage; "
        "mean rounds: the round in which passing samples first passed (1 means without repair)"
    )
    return lines + errors


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def _pad(text: str, width: int, align_left: bool) -> str:
    return text.ljust(width) if align_left else text.rjust(width)
