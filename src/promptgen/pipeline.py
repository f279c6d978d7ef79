"""The make pipeline, one stage per call:

settings -> rendered prompt -> provider replies -> extracted code -> review
findings -> sandboxed runs on golden cases and the user's data -> comparison
with the reference -> script in the output folder + manifest entry.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from promptgen import __version__
from promptgen.bake import add_header, script_header
from promptgen.errors import ExtractionError, ProviderError
from promptgen.fsutil import write_atomic
from promptgen.manifest import check_overwrite, load_manifest, save_manifest, sha256_text, utc_now
from promptgen.progress import current_reporter
from promptgen.providers.base import Message, Provider, Reply, public_url
from promptgen.spec import ConverterSettings, Settings, kind_of
from promptgen.verify import DataRun, VerificationReport, check_source, run_reference, verify_script

if TYPE_CHECKING:
    from promptgen.golden import CaseOutcome
    from promptgen.providers.openai_provider import OpenAISettings
    from promptgen.review import Finding
    from promptgen.templates import RenderedPrompt

LogCallback = Callable[[str], None]
PROVIDER_CHOICES = ("auto", "reference", "openai", "manual")

# A repair message lists at most this many golden-case faults, so that one broken
# habit (such as an unseeded shuffle) does not bury the review findings under dozens of lines.
MAX_GOLDEN_FAULTS = 8
# Golden case names listed before "and N more" in one grouped fault.
MAX_NAMED_CASES = 4

# verify.py and verify_candidate run candidates in tempfile folders with these
# prefixes. Their random names would make every repair message, and so every
# cache key after the first round, differ between runs.
_TEMP_FOLDER = re.compile(
    r"""[^\s'"`(),;]*promptgen-(?:case|candidate|data|reference)-[A-Za-z0-9_]+(?P<separator>[/\\])?"""
)
_TIMED_OUT = re.compile(r"timed out after (\d+\.\d+) s\b")
# Durations a script prints, such as "done in 0.42 s", differ from run to run.
_DURATION = re.compile(r"\b\d+\.\d+ ?(?:ms|s|sec|secs|seconds)\b")


@dataclass(frozen=True)
class MakeOptions:
    """Everything one ``promptgen make`` run needs, already validated."""

    settings: Settings
    name: str
    out_dir: Path
    provider: str = "auto"
    data: Path | None = None
    force: bool = False
    review: bool = True
    max_repairs: int = 2
    samples: int = 1
    openai: OpenAISettings | None = None
    use_cache: bool = True
    response_text: str | None = None
    prompt_file: Path | None = None


@dataclass(frozen=True)
class Attempt:
    """One candidate: its repair round and sample, the stage it failed at ("passed" if none) and its first fault."""

    round: int
    sample: int
    stage: str
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"round": self.round, "sample": self.sample, "stage": self.stage, "reason": self.reason}


@dataclass(frozen=True)
class MakeResult:
    """A written script, its manifest entry, and the attempts it took."""

    script: Path
    entry: dict[str, Any]
    report: VerificationReport
    attempts: tuple[Attempt, ...] = field(default=())


def default_script_name(settings: Settings) -> str:
    """Return ``convert_<sheet>.py`` or ``split_<a>_<b>.py``, reduced to a safe file name."""
    if isinstance(settings, ConverterSettings):
        slug = "".join(ch if ch.isalnum() else "_" for ch in settings.sheet.strip().lower()).strip("_")
        return f"convert_{slug or 'sheet'}.py"
    train, test = settings.ratio
    suffix = "_grouped" if settings.group_by == "input" else ""
    return f"split_{train}_{test}{suffix}.py"


def check_script_name(name: str) -> str:
    from promptgen.errors import SettingsError

    if "/" in name or "\\" in name or name in {"", ".", ".."} or name.startswith("."):
        raise SettingsError(f"invalid --name {name!r}: give a plain file name such as convert_drugqa.py")
    return name if name.endswith(".py") else name + ".py"


def build_messages(prompt: RenderedPrompt) -> list[Message]:
    from promptgen.templates import render_system_prompt

    return [
        {"role": "system", "content": render_system_prompt()},
        {"role": "user", "content": prompt.text},
    ]


def select_provider(options: MakeOptions, log: LogCallback) -> Provider:
    """Build the provider that ``--provider`` names; ``auto`` picks openai when an endpoint is configured."""
    choice = options.provider
    if options.response_text is not None:
        choice = "manual"
    if choice == "auto":
        if options.openai is not None and options.openai.is_configured():
            choice = "openai"
            log(f"provider: openai ({public_url(options.openai.base_url) or 'OpenAI API'}), chosen because an endpoint or key is configured")
        else:
            choice = "reference"
            log("provider: reference (no OPENAI_BASE_URL, OPENAI_API_KEY or --base-url set, so the checked-in reference script is used)")
    if choice == "reference":
        from promptgen.providers.reference import ReferenceProvider

        return ReferenceProvider(options.settings)
    if choice == "manual":
        from promptgen.providers.manual import ManualProvider

        # The prompt goes to the current folder, not the output folder, which holds
        # only verified scripts and their manifest.
        prompt_file = options.prompt_file or Path(f"{Path(options.name).stem}.prompt.md")
        return ManualProvider(prompt_file, options.response_text)
    if choice == "openai":
        from promptgen.cache import ResponseCache
        from promptgen.providers.openai_provider import OpenAIProvider, OpenAISettings

        cache = ResponseCache.default() if options.use_cache else None
        return OpenAIProvider(options.openai or OpenAISettings.from_env({}), cache=cache)
    raise ProviderError(f"unknown provider {choice!r}: choose one of {', '.join(PROVIDER_CHOICES)}")


def extract_candidate(reply: Reply) -> str:
    """Return the code in ``reply``; raise ExtractionError when there is no single usable script."""
    if reply.finish_reason == "length":
        raise ExtractionError(
            "the reply was cut off by the token limit (finish_reason \"length\"), so the script is incomplete"
        )
    if reply.is_code:
        return reply.text
    from promptgen.extract import extract_code

    return extract_code(reply.text)


def verify_candidate(
    code: str, options: MakeOptions, prompt: RenderedPrompt, provider_name: str, reference: DataRun | None,
    log: LogCallback | None = None,
) -> tuple[str, VerificationReport]:
    """Add the header to ``code``, write it to a temporary file and verify it there.

    ``log``, when given, gets verification's "pass CASE" and "FAIL CASE" lines.
    """
    final_code = add_header(code, script_header(options.settings, options.name, prompt.template, prompt.version, provider_name))
    with tempfile.TemporaryDirectory(prefix="promptgen-candidate-") as folder:
        candidate = Path(folder) / options.name
        candidate.write_text(final_code, encoding="utf-8")
        report = verify_script(
            candidate, options.settings, data=options.data, review=options.review, reference=reference, progress=log
        )
    return final_code, report


def scrub_text(text: str) -> str:
    """Remove what changes from run to run: temporary folder paths and measured durations.

    A path inside a candidate's temporary folder keeps its part below that
    folder, which is the name the script was given. A timeout keeps the limit
    in whole seconds, and any other decimal duration becomes ``<duration>``.
    """
    text = _TEMP_FOLDER.sub(lambda match: "" if match.group("separator") else ".", text)
    text = _TIMED_OUT.sub(lambda match: f"timed out after {max(1, round(float(match.group(1))))} s", text)
    return _DURATION.sub("<duration>", text)


def describe_failures(report: VerificationReport, code: str, final_code: str) -> list[str]:
    """Return the faults of a failed candidate as the repair message lists them, scrubbed.

    ``code`` is the script as the model wrote it and ``final_code`` the same script
    with promptgen's header, which is what verification saw. Review lines are moved
    back to the line numbers of ``code``. Golden cases with the same fault share one
    line, and review warnings come last, as hints for the faults above them.
    """
    start, added = _header_span(code, final_code)
    findings = report.review.findings if report.review is not None else ()
    errors = [finding for finding in findings if finding.severity == "error"]
    warnings = [finding for finding in findings if finding.severity != "error"]

    faults = [f"review: {_finding_in_code(finding, start, added).format()}" for finding in errors]
    faults.extend(_golden_faults(report.failed_cases))
    if report.data is not None and not report.data.passed:
        faults.append(f"real data {report.data.source}: {report.data.message}")
    faults.extend(f"review: {_finding_in_code(finding, start, added).format()}" for finding in warnings)
    return [scrub_text(fault) for fault in faults]


def _header_span(code: str, final_code: str) -> tuple[int, int]:
    """Return how many lines of ``code`` come before the header in ``final_code``, and the header's length."""
    code_lines = code.splitlines()
    final_lines = final_code.splitlines()
    start = 0
    while start < len(code_lines) and code_lines[start] == final_lines[start]:
        start += 1
    return start, len(final_lines) - len(code_lines)


def _finding_in_code(finding: Finding, start: int, added: int) -> Finding:
    line = finding.line
    if line > start + added:
        line -= added
    elif line > start:
        # Inside the header: only a finding about the whole file (PG202) lands here.
        line = start + 1
    return dataclasses.replace(finding, line=line)


def _golden_faults(cases: Sequence[CaseOutcome]) -> list[str]:
    names_by_fault: dict[str, list[str]] = {}
    for case in cases:
        names_by_fault.setdefault(scrub_text(case.message), []).append(case.name)
    groups = list(names_by_fault.items())
    faults = [f"{_name_cases(names)}: {fault}" for fault, names in groups[:MAX_GOLDEN_FAULTS]]
    hidden = sum(len(names) for _, names in groups[MAX_GOLDEN_FAULTS:])
    if hidden:
        faults.append(f"{hidden} more golden case(s) failed with other faults; fix the ones above first")
    return faults


def _name_cases(names: list[str]) -> str:
    if len(names) == 1:
        return f"golden case {names[0]}"
    shown = ", ".join(names[:MAX_NAMED_CASES])
    hidden = len(names) - MAX_NAMED_CASES
    return f"golden cases {shown} and {hidden} more" if hidden > 0 else f"golden cases {shown}"


@dataclass(frozen=True)
class _Judgement:
    """One reply after extraction and verification. ``faults`` is empty when it passed."""

    attempt: Attempt
    faults: list[str]
    final_code: str = ""
    report: VerificationReport | None = None

    @property
    def passed(self) -> bool:
        return not self.faults


def _judge_reply(
    reply: Reply, round_number: int, sample_number: int, options: MakeOptions, prompt: RenderedPrompt,
    provider_name: str, reference: DataRun | None, log: LogCallback,
) -> _Judgement:
    label = f"round {round_number}, sample {sample_number}"
    try:
        code = extract_candidate(reply)
    except ExtractionError as exc:
        fault = f"extraction: {scrub_text(str(exc))}"
        log(f"{label}: rejected, {fault}")
        return _Judgement(Attempt(round_number, sample_number, "extraction", fault), [fault])

    final_code, report = verify_candidate(code, options, prompt, provider_name, reference)
    if report.passed:
        log(f"{label}: passed")
        return _Judgement(Attempt(round_number, sample_number, "passed"), [], final_code, report)
    faults = describe_failures(report, code, final_code)
    log(f"{label}: failed, {faults[0]}")
    attempt = Attempt(round_number, sample_number, report.failure_kind(), faults[0])
    return _Judgement(attempt, faults, final_code, report)


def make_script(options: MakeOptions, log: LogCallback = lambda message: None) -> MakeResult:
    """Generate, verify and write one script. Nothing reaches the output folder unless a candidate passed.

    A failed round goes back to the model as a repair message, for at most
    ``options.max_repairs`` more rounds. The reference and manual providers get one round.
    """
    from promptgen.templates import render_for_settings, render_repair

    target = options.out_dir / options.name
    check_overwrite(target, load_manifest(options.out_dir), force=options.force, replacement=_identity(options))
    reference = _run_reference_on_data(options)

    prompt = render_for_settings(options.settings)
    messages = build_messages(prompt)
    provider = select_provider(options, log)

    attempts: list[Attempt] = []
    passing: list[_Judgement] = []
    repair = ""
    rounds = 1 + (options.max_repairs if provider.name not in {"reference", "manual"} else 0)
    reporter = current_reporter()
    for round_number in range(1, rounds + 1):
        with reporter.task(f"round {round_number}: waiting for {provider.name}"):
            replies = provider.complete(messages, samples=options.samples)
        cached = sum(reply.cached for reply in replies)
        if cached:
            log(
                f"round {round_number}: {cached} of {len(replies)} replies came from the response cache; "
                "--no-cache sends the request again"
            )
        judgements: list[_Judgement] = []
        with reporter.task(f"round {round_number}: checking samples", total=len(replies)) as task:
            for sample_number, reply in enumerate(replies, start=1):
                judgement = _judge_reply(
                    reply, round_number, sample_number, options, prompt, provider.name, reference, log
                )
                judgements.append(judgement)
                task.advance(f"sample {sample_number}: {judgement.attempt.stage}")
        attempts.extend(judgement.attempt for judgement in judgements)
        passing = [judgement for judgement in judgements if judgement.passed]
        if options.samples > 1:
            log(f"round {round_number}: {len(passing)} of {len(judgements)} samples passed")
        if passing:
            break
        # The first sample's reply and faults go back, so that the model gets its own code next to the faults.
        repair = render_repair(kind_of(options.settings), judgements[0].faults)
        if round_number < rounds:
            left = rounds - round_number
            log(f"round {round_number}: sending the faults back to the model, {left} repair round(s) left")
            messages = [
                *messages,
                {"role": "assistant", "content": replies[0].text},
                {"role": "user", "content": repair},
            ]

    if not passing:
        raise _no_candidate_error(attempts, provider, repair)

    kept = passing[0]
    assert kept.report is not None
    entry = build_entry(options, prompt, provider, kept.final_code, kept.report, attempts, len(passing))
    # Read the manifest again: another make may have written to the folder while the model worked.
    manifest = load_manifest(options.out_dir)
    check_overwrite(target, manifest, force=options.force, replacement=_identity(options))
    previous = manifest.entry(options.name)
    if previous is not None and previous.get("code_sha256") == entry["code_sha256"]:
        # The same code again: keep the first time, so regenerating leaves a clean checkout.
        entry["written_at"] = previous.get("written_at", entry["written_at"])
    write_atomic(target, kept.final_code)
    manifest.scripts[options.name] = entry
    save_manifest(manifest)
    return MakeResult(script=target, entry=entry, report=kept.report, attempts=tuple(attempts))


def _identity(options: MakeOptions) -> dict[str, Any]:
    """Return what a manifest entry must match for ``make`` to replace its script without --force."""
    return {"kind": kind_of(options.settings), "settings": options.settings.to_dict()}


def _run_reference_on_data(options: MakeOptions) -> DataRun | None:
    """Run the reference on the user's data first, so that a problem with the data is reported as such."""
    if options.data is None:
        return None
    check_source(options.data, "workbook" if isinstance(options.settings, ConverterSettings) else "dataset")
    with current_reporter().task(f"checking {options.data.name} with the reference script"):
        reference = run_reference(options.settings, options.data)
    if reference.records is None:
        from promptgen.errors import WorkbookError

        raise WorkbookError(_option_names(reference.fault))
    return reference


# The reference names its settings by their constants, but a user of make sets them as options.
_OPTION_NAMES = {
    "SHEET": "--sheet",
    "INPUT_COLUMN": "--input-col",
    "OUTPUT_COLUMN": "--output-col",
    "HEADER_ROWS": "--header-rows",
    "ON_MISSING": "--on-missing",
    "ENGINE": "--engine",
}


def _option_names(message: str) -> str:
    return re.sub(r"\b(" + "|".join(_OPTION_NAMES) + r")\b", lambda match: _OPTION_NAMES[match.group(1)], message)


def _no_candidate_error(attempts: list[Attempt], provider: Provider, repair: str) -> ProviderError:
    """Build the error for a run in which no candidate passed; for the manual provider, write the repair message too."""
    from promptgen.providers.manual import ManualProvider

    if isinstance(provider, ManualProvider):
        write_atomic(provider.prompt_path, repair)
        return ProviderError(
            f"the pasted reply failed ({attempts[-1].reason}), so nothing was written; "
            f"the repair message is in {provider.prompt_path}: paste it into the same chat, save the new reply "
            "to a file and run again with --response FILE"
        )
    # Repeated rounds often fail the same way; each reason is listed once.
    reasons = "; ".join(dict.fromkeys(attempt.reason for attempt in attempts[-3:]))
    return ProviderError(
        f"no candidate passed after {len(attempts)} attempt(s), so nothing was written ({reasons}); "
        "see the log above, or raise --max-repairs or --samples"
    )


def build_entry(
    options: MakeOptions,
    prompt: RenderedPrompt,
    provider: Provider,
    code: str,
    report: VerificationReport,
    attempts: list[Attempt],
    passed_samples: int,
) -> dict[str, Any]:
    """Return the manifest entry for a written script. No API key ever goes in here."""
    settings = options.settings.to_dict()
    entry: dict[str, Any] = {
        "kind": kind_of(options.settings),
        "template": {"name": prompt.template, "version": prompt.version, "sha256": prompt.template_sha256},
        "settings": settings,
        "provider": provider.name,
        "model": provider.model,
        "prompt_sha256": prompt.sha256,
        "code_sha256": sha256_text(code),
        "verification": report.summary(),
        "attempts": {"count": len(attempts), "history": [attempt.to_dict() for attempt in attempts]},
        "samples": {"requested": options.samples, "passed": passed_samples},
        "promptgen_version": __version__,
        "written_at": utc_now(),
    }
    if provider.name == "openai" and options.openai is not None:
        entry["base_url"] = public_url(options.openai.base_url)
    return entry


def summarize_result(result: MakeResult) -> str:
    """Return the line the command line prints for a written script."""
    verification = result.entry["verification"]
    details = [f"{verification['golden_cases']} golden cases passed"]
    if "data" in verification:
        data = verification["data"]
        details.append(f"{data['records']} records on {data['source']} match the reference")
    samples = result.entry["samples"]
    if samples["requested"] > 1:
        details.append(f"{samples['passed']} of {samples['requested']} samples passed")
    attempts = result.entry["attempts"]["count"]
    if attempts > 1:
        details.append(f"{attempts} attempts")
    return f"wrote {result.script} ({'; '.join(details)})"
