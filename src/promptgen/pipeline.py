"""The make pipeline, one stage per call:

settings -> rendered prompt -> provider replies -> extracted code -> review
findings -> sandboxed runs on golden cases and the user's data -> comparison
with the reference -> script in the output folder + manifest entry.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlsplit, urlunsplit

from promptgen import __version__
from promptgen.bake import add_header, script_header
from promptgen.errors import ExtractionError, ProviderError
from promptgen.fsutil import write_atomic
from promptgen.manifest import check_overwrite, load_manifest, save_manifest, sha256_text, utc_now
from promptgen.providers.base import Message, Provider, Reply
from promptgen.spec import ConverterSettings, Settings, format_ratio, kind_of
from promptgen.verify import DataRun, VerificationReport, check_source, run_reference, verify_script

if TYPE_CHECKING:
    from promptgen.providers.openai_provider import OpenAISettings
    from promptgen.templates import RenderedPrompt

LogCallback = Callable[[str], None]
PROVIDER_CHOICES = ("auto", "reference", "openai", "manual")


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
    """One candidate: which repair round and sample it was, and where it failed ("passed" if it did not)."""

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
            log(f"provider: openai ({_public_url(options.openai.base_url) or 'OpenAI API'}), chosen because an endpoint or key is configured")
        else:
            choice = "reference"
            log("provider: reference (no OPENAI_BASE_URL, OPENAI_API_KEY or --base-url set, so the checked-in reference script is used)")
    if choice == "reference":
        from promptgen.providers.reference import ReferenceProvider

        return ReferenceProvider(options.settings)
    if choice == "manual":
        from promptgen.providers.manual import ManualProvider

        prompt_file = options.prompt_file or options.out_dir / f"{Path(options.name).stem}.prompt.md"
        return ManualProvider(prompt_file, options.response_text)
    if choice == "openai":
        from promptgen.cache import ResponseCache
        from promptgen.providers.openai_provider import OpenAIProvider, OpenAISettings

        cache = ResponseCache.default() if options.use_cache else None
        return OpenAIProvider(options.openai or OpenAISettings.from_env({}), cache=cache)
    raise ProviderError(f"unknown provider {choice!r}: choose one of {', '.join(PROVIDER_CHOICES)}")


def _public_url(url: str | None) -> str:
    # A base URL may carry user:password@; never store or print that part.
    if not url:
        return ""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


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
    log: LogCallback,
) -> tuple[str, VerificationReport]:
    """Add the header to ``code``, write it to a temporary file and verify it there."""
    final_code = add_header(code, script_header(options.settings, options.name, prompt.template, prompt.version, provider_name))
    with tempfile.TemporaryDirectory(prefix="promptgen-candidate-") as folder:
        candidate = Path(folder) / options.name
        candidate.write_text(final_code, encoding="utf-8")
        report = verify_script(
            candidate, options.settings, data=options.data, review=options.review, reference=reference, progress=log
        )
    return final_code, report


def make_script(options: MakeOptions, log: LogCallback = lambda message: None) -> MakeResult:
    """Generate, verify and write one script; nothing reaches the output folder unless it passed."""
    from promptgen.templates import render_for_settings, render_repair

    manifest = load_manifest(options.out_dir)
    target = options.out_dir / options.name
    check_overwrite(target, manifest, force=options.force)

    reference = None
    if options.data is not None:
        check_source(options.data, "workbook" if isinstance(options.settings, ConverterSettings) else "dataset")
        log(f"checking {options.data.name} with the reference script")
        reference = run_reference(options.settings, options.data)
        if reference.records is None:
            from promptgen.errors import WorkbookError

            raise WorkbookError(reference.fault)

    prompt = render_for_settings(options.settings)
    messages = build_messages(prompt)
    provider = select_provider(options, log)

    attempts: list[Attempt] = []
    passing: tuple[str, VerificationReport] | None = None
    passed_samples = 0
    rounds = 1 + (options.max_repairs if provider.name not in {"reference", "manual"} else 0)
    for round_number in range(1, rounds + 1):
        replies = provider.complete(messages, samples=options.samples)
        first_failures: list[str] = []
        for sample_number, reply in enumerate(replies, start=1):
            label = f"round {round_number}, sample {sample_number}"
            try:
                code = extract_candidate(reply)
            except ExtractionError as exc:
                log(f"{label}: rejected, {exc}")
                attempts.append(Attempt(round_number, sample_number, "extraction", str(exc)))
                first_failures = first_failures or [f"extraction: {exc}"]
                continue
            final_code, report = verify_candidate(code, options, prompt, provider.name, reference, log)
            if report.passed:
                passed_samples += 1
                attempts.append(Attempt(round_number, sample_number, "passed"))
                log(f"{label}: passed")
                if passing is None:
                    passing = (final_code, report)
                continue
            failures = report.failures()
            attempts.append(Attempt(round_number, sample_number, report.failure_kind(), failures[0] if failures else ""))
            log(f"{label}: failed {report.failure_kind()}, {failures[0] if failures else ''}")
            first_failures = first_failures or failures
        if passing is not None:
            break
        if round_number < rounds:
            messages = [
                *messages,
                {"role": "assistant", "content": replies[0].text},
                {"role": "user", "content": render_repair(kind_of(options.settings), first_failures)},
            ]

    if passing is None:
        reasons = "; ".join(f"{attempt.stage}: {attempt.reason}" for attempt in attempts[-3:])
        raise ProviderError(
            f"no candidate passed after {len(attempts)} attempt(s), so nothing was written ({reasons}); "
            "see the log above, or raise --max-repairs or --samples"
        )

    final_code, report = passing
    entry = build_entry(options, prompt, provider, final_code, report, attempts, passed_samples)
    check_overwrite(target, load_manifest(options.out_dir), force=options.force)
    write_atomic(target, final_code)
    manifest.scripts[options.name] = entry
    save_manifest(manifest)
    return MakeResult(script=target, entry=entry, report=report, attempts=tuple(attempts))


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
    if "ratio" in settings:
        settings["ratio"] = format_ratio(options.settings.ratio)  # type: ignore[union-attr]
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
        entry["base_url"] = _public_url(options.openai.base_url)
    return entry
