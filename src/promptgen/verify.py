"""Verify a candidate script: static review, golden cases in the sandbox, and the reference on real data."""

from __future__ import annotations

import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from promptgen.errors import WorkbookError
from promptgen.progress import current_reporter
from promptgen.sandbox import RunResult, run_script
from promptgen.spec import ConverterSettings, Settings, kind_of

if TYPE_CHECKING:
    from promptgen.golden import CaseOutcome
    from promptgen.review import ReviewReport

# Golden cases are small; two at a time keeps both cores busy without starving the parent.
PARALLEL_CASES = 2
# A run on the user's own data may take long on a large workbook.
DATA_TIMEOUT = 3600.0

ProgressCallback = Callable[[str], None]


@dataclass(frozen=True)
class DataComparison:
    """Candidate against reference on the user's own workbook (converter) or dataset (splitter)."""

    source: str
    passed: bool
    records: int
    message: str = ""
    blocked: tuple[str, ...] = ()


@dataclass(frozen=True)
class VerificationReport:
    """Everything verification found about one candidate script."""

    script: str
    kind: str
    review: ReviewReport | None
    cases: tuple[CaseOutcome, ...]
    data: DataComparison | None = None
    blocked: tuple[str, ...] = field(default=())

    @property
    def review_passed(self) -> bool:
        return self.review is None or self.review.passed

    @property
    def failed_cases(self) -> tuple[CaseOutcome, ...]:
        return tuple(case for case in self.cases if not case.passed)

    @property
    def passed(self) -> bool:
        data_ok = self.data is None or self.data.passed
        return self.review_passed and not self.failed_cases and data_ok

    def failure_kind(self) -> str:
        """Return the first stage that failed: review, golden or data ("" when all passed)."""
        if not self.review_passed:
            return "review"
        if self.failed_cases:
            return "golden"
        if self.data is not None and not self.data.passed:
            return "data"
        return ""

    def failures(self) -> list[str]:
        """Return the failures as plain sentences, free of temporary paths and timings."""
        lines: list[str] = []
        if self.review is not None:
            lines.extend(f"review: {finding.format()}" for finding in self.review.findings if finding.severity == "error")
        lines.extend(f"golden case {case.name}: {case.message}" for case in self.failed_cases)
        if self.data is not None and not self.data.passed:
            lines.append(f"real data {self.data.source}: {self.data.message}")
        return lines

    def summary(self) -> dict[str, Any]:
        """Return the facts stored in the manifest entry."""
        summary: dict[str, Any] = {
            "passed": self.passed,
            "golden_cases": len(self.cases),
            "golden_failed": [case.name for case in self.failed_cases],
        }
        if self.review is not None:
            summary["review"] = {"errors": len(self.review.errors), "warnings": len(self.review.warnings)}
        if self.data is not None:
            summary["data"] = {"source": self.data.source, "passed": self.data.passed, "records": self.data.records}
        if self.blocked:
            summary["blocked"] = list(self.blocked)
        return summary


def run_golden_cases(
    script: Path, settings: Settings, progress: ProgressCallback | None = None
) -> tuple[tuple[CaseOutcome, ...], tuple[str, ...]]:
    """Run ``script`` on every golden case of its kind, each in a fresh sandbox folder.

    The current reporter shows a bar over the cases, and ``progress``, when given,
    gets a "pass CASE" or "FAIL CASE" line for each. Returns the outcomes and what
    the sandbox blocked, as "CASE: ACTION" lines.
    """
    from promptgen.golden import check_outcome, golden_cases

    cases = golden_cases(kind_of(settings))

    def run_one(case: Any) -> tuple[CaseOutcome, RunResult]:
        with tempfile.TemporaryDirectory(prefix="promptgen-case-") as folder:
            workdir = Path(folder)
            prepared = case.prepare(settings, workdir)
            result = run_script(script, list(prepared.args), workdir=workdir, timeout=prepared.timeout)
            return check_outcome(prepared, result, workdir), result

    outcomes: list[CaseOutcome] = []
    blocked: list[str] = []
    with current_reporter().task(f"golden cases of {script.name}", total=len(cases)) as task:
        with ThreadPoolExecutor(max_workers=PARALLEL_CASES) as pool:
            for outcome, result in pool.map(run_one, cases):
                outcomes.append(outcome)
                blocked.extend(f"{outcome.name}: {action}" for action in result.blocked)
                line = f"{'pass' if outcome.passed else 'FAIL'} {outcome.name}"
                task.advance(line)
                if progress is not None:
                    progress(line)
    return tuple(outcomes), tuple(blocked)


@dataclass(frozen=True)
class DataRun:
    """One sandboxed run of a script on the user's data, with what it wrote."""

    result: RunResult
    records: list[dict[str, Any]] | None
    fault: str


def run_on_data(script: Path, settings: Settings, source: Path) -> DataRun:
    """Run ``script`` on the user's workbook (converter) or dataset (splitter) in a sandbox folder."""
    from promptgen.golden import read_output

    with tempfile.TemporaryDirectory(prefix="promptgen-data-") as folder:
        workdir = Path(folder)
        if isinstance(settings, ConverterSettings):
            outputs = ["output" + settings.output_suffix]
            output_format = settings.format
        else:
            outputs = ["train.jsonl", "test.jsonl"]
            output_format = "jsonl"
        # The copy keeps the user's file name, so the script's messages name the file they know.
        input_name = source.name if source.name not in outputs else f"input-{source.name}"
        shutil.copyfile(source, workdir / input_name)
        result = run_script(script, [input_name, *outputs], workdir=workdir, timeout=DATA_TIMEOUT)
        if not result.ok:
            return DataRun(result=result, records=None, fault=_failure_message(result))
        records: list[dict[str, Any]] = []
        for name in outputs:
            part, fault = read_output(workdir / name, output_format)
            if fault:
                return DataRun(result=result, records=None, fault=f"{name}: {fault}")
            records.extend(part)
        return DataRun(result=result, records=records, fault="")


def _failure_message(result: RunResult) -> str:
    if result.timed_out:
        return "timed out"
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    if not lines:
        return f"exited with status {result.returncode} and no message on stderr"
    return lines[-1].removeprefix("error: ")


def check_source(source: Path, what: str) -> None:
    """Raise a one-line error when the user's workbook or dataset path cannot be read at all."""
    if not source.exists():
        raise WorkbookError(f"{what} not found: {source}; check the path")
    if source.is_dir():
        raise WorkbookError(f"{what} {source} is a folder; give the path of a file")


def run_reference(settings: Settings, source: Path) -> DataRun:
    """Run the reference script for ``settings`` on the user's data; its error is the user's error."""
    from promptgen.bake import bake_script

    with tempfile.TemporaryDirectory(prefix="promptgen-reference-") as folder:
        script = Path(folder) / f"reference_{kind_of(settings)}.py"
        script.write_text(bake_script(settings), encoding="utf-8")
        return run_on_data(script, settings, source)


def compare_on_data(
    script: Path, settings: Settings, source: Path, reference: DataRun | None = None
) -> DataComparison:
    """Run candidate and reference on the same real data and compare their records in order."""
    from promptgen.golden import diff_records

    check_source(source, "workbook" if isinstance(settings, ConverterSettings) else "dataset")
    if reference is None:
        reference = run_reference(settings, source)
    if reference.records is None:
        raise WorkbookError(reference.fault)
    candidate = run_on_data(script, settings, source)
    if candidate.records is None:
        return DataComparison(
            source=source.name, passed=False, records=0, message=candidate.fault, blocked=candidate.result.blocked
        )
    difference = diff_records(reference.records, candidate.records)
    return DataComparison(
        source=source.name,
        passed=not difference,
        records=len(candidate.records),
        message=difference,
        blocked=candidate.result.blocked,
    )


def verify_script(
    script: Path,
    settings: Settings,
    *,
    data: Path | None = None,
    review: bool = True,
    reference: DataRun | None = None,
    progress: ProgressCallback | None = None,
) -> VerificationReport:
    """Review ``script``, run it on every golden case, and compare it with the reference on ``data``.

    A script that fails review is not run: the review is what stops obviously
    hostile code before it reaches even the sandbox.
    """
    kind = kind_of(settings)
    review_report = None
    if review:
        from promptgen.review import review_code

        review_report = review_code(script.read_text(encoding="utf-8"), kind)
        if not review_report.passed:
            return VerificationReport(script=script.name, kind=kind, review=review_report, cases=())

    cases, blocked = run_golden_cases(script, settings, progress)
    comparison = None
    # A script that failed a golden case has already failed. Running it on a large workbook
    # as well would only cost time, up to DATA_TIMEOUT for an endless loop.
    if data is not None and all(case.passed for case in cases):
        step = f"comparing with the reference on {data.name}"
        if progress is not None:
            progress(step)
        with current_reporter().task(step):
            comparison = compare_on_data(script, settings, data, reference)
    if comparison is not None:
        blocked += tuple(f"{comparison.source}: {action}" for action in comparison.blocked)
    return VerificationReport(
        script=script.name, kind=kind, review=review_report, cases=cases, data=comparison, blocked=blocked
    )
