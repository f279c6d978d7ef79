"""The ``promptgen`` command line.

Heavy libraries (openai, libcst, openpyxl) are imported inside the commands
that use them, so ``promptgen --help`` stays fast.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Callable, NoReturn, Optional, TypeVar

import typer

from promptgen import __version__
from promptgen.errors import PromptgenError, SettingsError
from promptgen.progress import (
    FAIL_STYLE,
    PASS_STYLE,
    SEVERITY_STYLES,
    WARNING_STYLE,
    Line,
    Reporter,
    current_reporter,
    make_console,
    print_lines,
    reporting,
)
from promptgen.spec import (
    ENGINES,
    GROUP_BY,
    ON_MISSING,
    OUTPUT_FORMATS,
    SPLITTER_DEFAULT_SEED,
    ConverterSettings,
    Settings,
    SplitterSettings,
    parse_ratio,
)

if TYPE_CHECKING:
    from rich.console import Console

    from promptgen.pipeline import MakeResult
    from promptgen.regression import ScriptResult
    from promptgen.verify import VerificationReport

app = typer.Typer(
    help="Turn stepwise prompts into verified data-preparation scripts for fine-tuning with XTuner.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)
templates_app = typer.Typer(
    help="List and show the prompt templates.\n\nExample: promptgen templates show converter", no_args_is_help=True
)
render_app = typer.Typer(
    help="Print the exact prompt that make would send.\n\nExample: promptgen render converter --sheet DrugQA",
    no_args_is_help=True,
)
make_app = typer.Typer(
    help="Generate a script, verify it, and write it to the output folder.\n\n"
    "Example: promptgen make converter --sheet DrugQA --workbook data.xlsx",
    no_args_is_help=True,
)
app.add_typer(templates_app, name="templates")
app.add_typer(render_app, name="render")
app.add_typer(make_app, name="make")

_state = {"debug": False, "quiet": False}

F = TypeVar("F", bound=Callable[..., Any])


def echo_error(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


def log(message: str) -> None:
    """Print a one-line note on stderr unless --quiet is set."""
    current_reporter().info(message)


def echo_json(document: dict[str, Any]) -> None:
    typer.echo(json.dumps(document, ensure_ascii=False, indent=2))


def handle_errors(command: F) -> F:
    """Run a command with a reporter on stderr, and turn a PromptgenError or OSError into one line and exit 1.

    With --json, the command also prints {"ok": false, "error": MESSAGE} on stdout.
    --debug re-raises instead.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        json_output = bool(kwargs.get("json_"))
        try:
            with reporting(Reporter(sys.stderr, quiet=_state["quiet"])):
                return command(*args, **kwargs)
        except PromptgenError as exc:
            if _state["debug"]:
                raise
            _fail(str(exc), exc.exit_code, json_output)
        except OSError as exc:
            if _state["debug"]:
                raise
            where = f" {exc.filename}" if exc.filename else ""
            _fail(f"cannot access{where}: {exc.strerror or exc}; check the path and its permissions", 1, json_output)

    return wrapper  # type: ignore[return-value]


def _fail(message: str, exit_code: int, json_output: bool) -> NoReturn:
    if json_output:
        echo_json({"ok": False, "error": message})
    echo_error(message)
    raise typer.Exit(exit_code) from None


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"promptgen {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback when a command fails.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only results and errors, no progress.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    _state["debug"] = debug
    _state["quiet"] = quiet


# Options shared by several commands, declared once.
Sheet = Annotated[str, typer.Option("--sheet", help="Worksheet name, exactly as Excel shows it (case and spaces count).")]
InputCol = Annotated[str, typer.Option("--input-col", help="Column of the question: a letter such as A, or its header text.")]
OutputCol = Annotated[str, typer.Option("--output-col", help="Column of the answer: a letter such as D, or its header text.")]
System = Annotated[str, typer.Option("--system", help="System text put in every conversation; empty leaves the key out.")]
HeaderRows = Annotated[int, typer.Option("--header-rows", help="Number of rows above the data to skip.")]
OnMissingOpt = Annotated[
    str, typer.Option("--on-missing", help=f"What to do with a row missing one of the two cells: {'|'.join(ON_MISSING)}.")
]
Strip = Annotated[bool, typer.Option("--strip/--no-strip", help="Strip spaces around cell text.")]
FormatOpt = Annotated[str, typer.Option("--format", help=f"Output format: {'|'.join(OUTPUT_FORMATS)}.")]
EngineOpt = Annotated[str, typer.Option("--engine", help=f"Workbook reader the script uses: {'|'.join(ENGINES)}.")]
Ratio = Annotated[str, typer.Option("--ratio", help="Train:test ratio as two whole numbers, such as 7:3.")]
SplitSeed = Annotated[int, typer.Option("--seed", help="Seed of the shuffle baked into the splitter.")]
GroupByOpt = Annotated[
    str, typer.Option("--group-by", help=f"Keep records with the same first input on one side: {'|'.join(GROUP_BY)}.")
]
Name = Annotated[Optional[str], typer.Option("--name", help="File name of the script in the output folder.")]
OutDir = Annotated[Path, typer.Option("--out-dir", help="Folder for the scripts and manifest.json.")]
Force = Annotated[bool, typer.Option("--force", help="Replace a script even if it was edited since it was written.")]
NoReview = Annotated[bool, typer.Option("--no-review", help="Skip the static review (to test the sandbox alone).")]
ProviderOpt = Annotated[
    str, typer.Option("--provider", help="Where the script comes from: auto|reference|openai|manual.")
]
BaseUrl = Annotated[Optional[str], typer.Option("--base-url", help="OpenAI-compatible endpoint; overrides OPENAI_BASE_URL.")]
ModelOpt = Annotated[Optional[str], typer.Option("--model", help="Model name; overrides PROMPTGEN_MODEL.")]
Temperature = Annotated[float, typer.Option("--temperature", help="Sampling temperature sent to the model.")]
ModelSeed = Annotated[Optional[int], typer.Option("--model-seed", help="Seed passed through to the model, where the server honours it.")]
Timeout = Annotated[float, typer.Option("--timeout", help="Seconds to wait for one model reply.")]
MaxRetries = Annotated[int, typer.Option("--max-retries", help="Retries after a connection error, 408, 429 or 5xx.", min=0)]
MaxRepairs = Annotated[int, typer.Option("--max-repairs", help="Rounds in which a failure goes back to the model.", min=0)]
Samples = Annotated[int, typer.Option("--samples", help="Candidates per round; the first that passes is kept.", min=1)]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the response cache.")]
Response = Annotated[
    Optional[str], typer.Option("--response", help="File with a pasted model reply, or - for stdin (manual provider).")
]
PromptFile = Annotated[Optional[Path], typer.Option("--prompt-file", help="Where the manual provider writes the prompt.")]
JsonOutput = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout instead of text; notes and progress stay on stderr.")
]


def converter_settings(
    sheet: str, input_col: str, output_col: str, system: str, header_rows: int, on_missing: str,
    strip: bool, format_: str, engine: str,
) -> ConverterSettings:
    return ConverterSettings(
        sheet=sheet, input_col=input_col, output_col=output_col, system=system, header_rows=header_rows,
        on_missing=on_missing, strip=strip, format=format_, engine=engine,  # type: ignore[arg-type]
    )


def splitter_settings(ratio: str, seed: int, group_by: str) -> SplitterSettings:
    return SplitterSettings(ratio=parse_ratio(ratio), seed=seed, group_by=group_by)  # type: ignore[arg-type]


# --- templates and render -------------------------------------------------------------------


@templates_app.command("list")
@handle_errors
def templates_list() -> None:
    """List the prompt templates with their version and description."""
    from promptgen.templates import list_templates

    for template in list_templates():
        typer.echo(f"{template.name:<12} v{template.version:<3} {template.description}")


@templates_app.command("show")
@handle_errors
def templates_show(name: Annotated[str, typer.Argument(help="Template name, such as converter.")]) -> None:
    """Show a template's variables and its text.

    Example: promptgen templates show converter
    """
    from promptgen.templates import load_template

    template = load_template(name)
    typer.echo(f"# {template.name} v{template.version}: {template.description}")
    typer.echo(f"# file: {template.path}")
    for variable in template.variables:
        default = "(required)" if variable.default is None else f"default {variable.default!r}"
        choices = f" [{'|'.join(variable.choices)}]" if variable.choices else ""
        typer.echo(f"#   {variable.name}: {variable.type}{choices}, {default}. {variable.help}")
    typer.echo(template.body, nl=False)


def _print_prompt(settings: Settings) -> None:
    """Print the system and user messages that make sends, in the layout the manual provider writes."""
    from promptgen.pipeline import build_messages
    from promptgen.providers.manual import format_prompt
    from promptgen.templates import render_for_settings

    typer.echo(format_prompt(build_messages(render_for_settings(settings))), nl=False)


@render_app.command("converter")
@handle_errors
def render_converter(
    sheet: Sheet,
    input_col: InputCol = "A",
    output_col: OutputCol = "D",
    system: System = "",
    header_rows: HeaderRows = 1,
    on_missing: OnMissingOpt = "skip",
    strip: Strip = True,
    format_: FormatOpt = "jsonl",
    engine: EngineOpt = "openpyxl",
) -> None:
    """Print the converter prompt for these settings.

    Example: promptgen render converter --sheet DrugQA --input-col A --output-col D
    """
    _print_prompt(converter_settings(sheet, input_col, output_col, system, header_rows, on_missing, strip, format_, engine))


@render_app.command("splitter")
@handle_errors
def render_splitter(ratio: Ratio = "7:3", seed: SplitSeed = SPLITTER_DEFAULT_SEED, group_by: GroupByOpt = "none") -> None:
    """Print the splitter prompt for these settings.

    Example: promptgen render splitter --ratio 7:3 --seed 42
    """
    _print_prompt(splitter_settings(ratio, seed, group_by))


# --- make -----------------------------------------------------------------------------------


def _read_response(response: Optional[str]) -> Optional[str]:
    if response is None:
        return None
    if response == "-":
        return decode_reply(sys.stdin.buffer.read(), "from stdin")
    path = Path(response)
    if path.is_dir():
        raise SettingsError(f"--response {response} is a folder; give the file that holds the model's reply")
    if not path.is_file():
        raise SettingsError(f"--response file not found: {response}; paste the model's reply into a file first")
    return decode_reply(path.read_bytes(), response)


def decode_reply(data: bytes, source: str) -> str:
    """Decode a pasted reply: UTF-8, or UTF-16 with a byte order mark as Windows Notepad saves it."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SettingsError(
            f"--response {source} is not UTF-8 (invalid byte at offset {exc.start}); save the reply as UTF-8 and try again"
        ) from None


def check_out_dir(out_dir: Path) -> None:
    """Fail before any model request when the output folder cannot take the script."""
    import tempfile

    if out_dir.exists() and not out_dir.is_dir():
        raise SettingsError(f"--out-dir {out_dir} is a file; give a folder for the scripts and manifest.json")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".promptgen-probe-", dir=out_dir)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise SettingsError(
            f"cannot write to --out-dir {out_dir}: {exc.strerror or exc}; choose a folder you can write to"
        ) from None


def _run_make(
    settings: Settings, *, data: Optional[Path], name: Optional[str], out_dir: Path, provider: str, force: bool,
    no_review: bool, base_url: Optional[str], model: Optional[str], temperature: float, model_seed: Optional[int],
    timeout: float, max_retries: int, max_repairs: int, samples: int, no_cache: bool, response: Optional[str],
    prompt_file: Optional[Path], json_output: bool,
) -> None:
    from promptgen.pipeline import (
        PROVIDER_CHOICES,
        MakeOptions,
        check_script_name,
        default_script_name,
        make_script,
        summarize_result,
    )
    from promptgen.providers.openai_provider import OpenAISettings

    if provider not in PROVIDER_CHOICES:
        raise SettingsError(f"invalid --provider {provider!r}: choose one of {', '.join(PROVIDER_CHOICES)}")
    check_out_dir(out_dir)
    openai_settings = OpenAISettings.from_env(
        os.environ, base_url=base_url, model=model, temperature=temperature, seed=model_seed,
        timeout=timeout, max_retries=max_retries,
    )
    options = MakeOptions(
        settings=settings,
        name=check_script_name(name or default_script_name(settings)),
        out_dir=out_dir,
        provider=provider,
        data=data,
        force=force,
        review=not no_review,
        max_repairs=max_repairs,
        samples=samples,
        openai=openai_settings,
        use_cache=not no_cache,
        response_text=_read_response(response),
        prompt_file=prompt_file,
    )
    try:
        result = make_script(options, log=log)
    except PromptgenError as exc:
        if type(exc).__name__ == "ManualPromptWritten":
            if json_output:
                echo_json({"ok": True, "script": None, "message": str(exc)})
            typer.echo(str(exc), err=True)
            raise typer.Exit(0) from None
        raise
    if json_output:
        echo_json(make_document(result))
    else:
        typer.echo(summarize_result(result))


@make_app.command("converter")
@handle_errors
def make_converter(
    sheet: Sheet,
    workbook: Annotated[
        Optional[Path], typer.Option("--workbook", help="Your workbook: checked first, then both scripts run on it and must agree.")
    ] = None,
    input_col: InputCol = "A",
    output_col: OutputCol = "D",
    system: System = "",
    header_rows: HeaderRows = 1,
    on_missing: OnMissingOpt = "skip",
    strip: Strip = True,
    format_: FormatOpt = "jsonl",
    engine: EngineOpt = "openpyxl",
    name: Name = None,
    out_dir: OutDir = Path("generated"),
    provider: ProviderOpt = "auto",
    force: Force = False,
    no_review: NoReview = False,
    base_url: BaseUrl = None,
    model: ModelOpt = None,
    temperature: Temperature = 0.0,
    model_seed: ModelSeed = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Same as --model-seed.")] = None,
    timeout: Timeout = 120.0,
    max_retries: MaxRetries = 3,
    max_repairs: MaxRepairs = 2,
    samples: Samples = 1,
    no_cache: NoCache = False,
    response: Response = None,
    prompt_file: PromptFile = None,
    json_: JsonOutput = False,
) -> None:
    """Generate a converter (worksheet to XTuner JSON Lines), verify it, and write it.

    Example: promptgen make converter --sheet DrugQA --workbook data.xlsx --input-col A --output-col D
    """
    settings = converter_settings(sheet, input_col, output_col, system, header_rows, on_missing, strip, format_, engine)
    _run_make(
        settings, data=workbook, name=name, out_dir=out_dir, provider=provider, force=force, no_review=no_review,
        base_url=base_url, model=model, temperature=temperature, model_seed=model_seed if model_seed is not None else seed,
        timeout=timeout, max_retries=max_retries, max_repairs=max_repairs, samples=samples, no_cache=no_cache,
        response=response, prompt_file=prompt_file, json_output=json_,
    )


@make_app.command("splitter")
@handle_errors
def make_splitter(
    ratio: Ratio = "7:3",
    seed: SplitSeed = SPLITTER_DEFAULT_SEED,
    group_by: GroupByOpt = "none",
    dataset: Annotated[
        Optional[Path], typer.Option("--dataset", help="Your converted JSON Lines file: both scripts split it and must agree.")
    ] = None,
    name: Name = None,
    out_dir: OutDir = Path("generated"),
    provider: ProviderOpt = "auto",
    force: Force = False,
    no_review: NoReview = False,
    base_url: BaseUrl = None,
    model: ModelOpt = None,
    temperature: Temperature = 0.0,
    model_seed: ModelSeed = None,
    timeout: Timeout = 120.0,
    max_retries: MaxRetries = 3,
    max_repairs: MaxRepairs = 2,
    samples: Samples = 1,
    no_cache: NoCache = False,
    response: Response = None,
    prompt_file: PromptFile = None,
    json_: JsonOutput = False,
) -> None:
    """Generate a splitter (train/test JSON Lines), verify it, and write it.

    Example: promptgen make splitter --ratio 7:3 --seed 42
    """
    _run_make(
        splitter_settings(ratio, seed, group_by), data=dataset, name=name, out_dir=out_dir, provider=provider,
        force=force, no_review=no_review, base_url=base_url, model=model, temperature=temperature,
        model_seed=model_seed, timeout=timeout, max_retries=max_retries, max_repairs=max_repairs, samples=samples,
        no_cache=no_cache, response=response, prompt_file=prompt_file, json_output=json_,
    )


# --- verify ---------------------------------------------------------------------------------


@app.command("verify")
@handle_errors
def verify(
    script: Annotated[
        Optional[Path], typer.Argument(help="Script to verify; without it, every script in the output folder's manifest.")
    ] = None,
    kind: Annotated[Optional[str], typer.Option("--kind", help="converter|splitter, for a script without a manifest entry.")] = None,
    workbook: Annotated[Optional[Path], typer.Option("--workbook", help="Also compare converters with the reference on this workbook.")] = None,
    dataset: Annotated[Optional[Path], typer.Option("--dataset", help="Also compare splitters with the reference on this file.")] = None,
    sheet: Annotated[Optional[str], typer.Option("--sheet", help="Settings for a script without a manifest entry: worksheet name.")] = None,
    input_col: InputCol = "A",
    output_col: OutputCol = "D",
    system: System = "",
    header_rows: HeaderRows = 1,
    on_missing: OnMissingOpt = "skip",
    strip: Strip = True,
    format_: FormatOpt = "jsonl",
    engine: EngineOpt = "openpyxl",
    ratio: Ratio = "7:3",
    seed: SplitSeed = SPLITTER_DEFAULT_SEED,
    group_by: GroupByOpt = "none",
    out_dir: OutDir = Path("generated"),
    no_review: NoReview = False,
    junit: Annotated[
        Optional[Path], typer.Option("--junit", help="Also write the results to this file as JUnit XML, for CI.")
    ] = None,
    json_: JsonOutput = False,
) -> None:
    """Review a script and run it on every golden case (and on your data); exit 0 only if all pass.

    Settings come from the manifest entry beside the script, or from the flags.
    Without SCRIPT, every script recorded in the output folder's manifest is verified,
    and a script edited since promptgen wrote it counts as a failure.
    Example: promptgen verify generated/convert_drugqa.py --workbook data.xlsx
    Example: promptgen verify --workbook data.xlsx --junit promptgen-junit.xml
    """
    from promptgen.manifest import edited_since_written, load_manifest
    from promptgen.regression import check_script, write_junit
    from promptgen.spec import KINDS, settings_from_dict

    if junit is not None and junit.is_dir():
        raise SettingsError(f"--junit {junit} is a folder; give the path of an XML file, such as promptgen-junit.xml")
    if script is None:
        _verify_all(out_dir, review=not no_review, workbook=workbook, dataset=dataset, junit=junit, json_output=json_)
        return
    if not script.is_file():
        raise SettingsError(f"script not found: {script}; give the path of a .py file")
    entry = load_manifest(script.parent).entry(script.name)
    edited = None
    if entry is not None:
        settings = settings_from_dict(entry["kind"], entry["settings"])
        edited = edited_since_written(script, entry)
        if edited:
            log(f"note: {script} was edited since promptgen wrote it; verifying the edited file")
    else:
        if kind not in KINDS:
            raise SettingsError(
                f"{script} has no entry in {script.parent / 'manifest.json'}; pass --kind converter or --kind splitter with its settings"
            )
        if kind == "converter":
            if sheet is None:
                raise SettingsError("missing --sheet: a converter without a manifest entry needs its settings as flags")
            settings = converter_settings(sheet, input_col, output_col, system, header_rows, on_missing, strip, format_, engine)
        else:
            settings = splitter_settings(ratio, seed, group_by)
    data = workbook if isinstance(settings, ConverterSettings) else dataset
    if isinstance(settings, ConverterSettings) and dataset is not None:
        raise SettingsError("--dataset is for splitters; give a converter's workbook with --workbook")
    if isinstance(settings, SplitterSettings) and workbook is not None:
        raise SettingsError("--workbook is for converters; give a splitter's JSON Lines file with --dataset")
    result = check_script(script, settings, data=data, review=not no_review)
    if not json_:
        print_report(result.report)
    if junit is not None:
        write_junit(junit, [result])
        log(f"wrote {junit}")
    if json_:
        echo_json(verify_document([result], [script_document(result, edited)]))
    if not result.passed:
        raise typer.Exit(1)


def _verify_all(
    out_dir: Path, *, review: bool, workbook: Optional[Path], dataset: Optional[Path], junit: Optional[Path],
    json_output: bool,
) -> None:
    from promptgen.regression import check_recorded_script, edited_message, missing_message, recorded_scripts, write_junit
    from promptgen.verify import check_source

    scripts = recorded_scripts(out_dir)
    if not scripts:
        raise SettingsError(f"no scripts recorded in {out_dir / 'manifest.json'}; run promptgen make first, or give a SCRIPT")
    # A wrong data path fails before any script runs, not after the first half of them.
    for source, what, kind in ((workbook, "workbook", "converter"), (dataset, "dataset", "splitter")):
        if source is None:
            continue
        check_source(source, what)
        if not any(recorded.kind == kind for recorded in scripts):
            log(f"note: no {kind} is recorded in {out_dir / 'manifest.json'}, so the {what} {source} is not used")

    console = make_console(sys.stdout)
    results = []
    for recorded in scripts:
        data = workbook if recorded.kind == "converter" else dataset
        result = check_recorded_script(recorded, data=data, review=review)
        results.append(result)
        if result.missing:
            echo_error(missing_message(recorded.path))
            continue
        if json_output:
            # stdout holds only the JSON document, so the message goes to stderr.
            if result.edited:
                log(edited_message(recorded.path))
            continue
        if result.edited:
            typer.echo(edited_message(recorded.path))
        print_report(result.report, console)

    if junit is not None:
        write_junit(junit, results)
        log(f"wrote {junit}")
    failed = [result.script.name for result in results if not result.passed]
    if json_output:
        echo_json(verify_document(results, [script_document(result, result.edited) for result in results]))
    elif failed:
        print_lines([[("FAILED", FAIL_STYLE), (f": {', '.join(failed)}", "")]], console)
    else:
        print_lines([[(f"all {len(results)} scripts passed", PASS_STYLE)]], console)
    if failed:
        raise typer.Exit(1)


# --- human and machine-readable output ------------------------------------------------------

def report_lines(report: VerificationReport) -> list[Line]:
    """Return the text of a verification report: review findings, one line per golden case, the data comparison."""
    lines: list[Line] = [[(f"{report.script} ({report.kind})", "")]]
    if report.review is not None:
        for finding in report.review.findings:
            position = f"{finding.line}:{finding.column} "
            rest = finding.format()[len(position) + len(finding.severity):]
            lines.append(
                [(f"  review {position}", ""), (finding.severity, SEVERITY_STYLES.get(finding.severity, "")), (rest, "")]
            )
        if not report.review.passed:
            lines.append([("  review failed", FAIL_STYLE), (", so the script was not run", "")])
    for case in report.cases:
        detail = f": {case.message}" if case.message else ""
        lines.append([("  ", ""), _status(case.passed), (f" {case.name}{detail}", "")])
    if report.data is not None:
        detail = report.data.message or f"{report.data.records} records equal the reference's"
        lines.append([("  ", ""), _status(report.data.passed), (f" {report.data.source}: {detail}", "")])
    for action in report.blocked:
        lines.append([("  ", ""), ("blocked", WARNING_STYLE), (f" {action}", "")])
    passed = sum(case.passed for case in report.cases)
    verdict = ("PASSED", PASS_STYLE) if report.passed else ("FAILED", FAIL_STYLE)
    lines.append([verdict, (f": {passed}/{len(report.cases)} golden cases", "")])
    return lines


def _status(passed: bool) -> tuple[str, str]:
    return ("pass", PASS_STYLE) if passed else ("FAIL", FAIL_STYLE)


def print_report(report: VerificationReport, console: Optional[Console] = None) -> None:
    """Print a verification report on stdout, or on ``console``: review findings, golden cases, the data comparison."""
    print_lines(report_lines(report), console)


def report_document(report: VerificationReport) -> dict[str, Any]:
    """Return the facts of a verification report as JSON types, the same facts that print_report shows."""
    review = None
    if report.review is not None:
        review = {
            "passed": report.review.passed,
            "errors": len(report.review.errors),
            "warnings": len(report.review.warnings),
            "findings": [dataclasses.asdict(finding) for finding in report.review.findings],
        }
    data = None
    if report.data is not None:
        data = {
            "source": report.data.source,
            "passed": report.data.passed,
            "records": report.data.records,
            "message": report.data.message,
        }
    return {
        "script": report.script,
        "kind": report.kind,
        "passed": report.passed,
        "review": review,
        "golden": {
            "total": len(report.cases),
            "passed": sum(case.passed for case in report.cases),
            "failed": len(report.failed_cases),
            "cases": [{"name": case.name, "passed": case.passed, "message": case.message} for case in report.cases],
        },
        "data": data,
        "blocked": list(report.blocked),
    }


def make_document(result: MakeResult) -> dict[str, Any]:
    """Return what ``make --json`` prints: the written script, where it came from, its attempts and its verification."""
    entry = result.entry
    document = {
        "ok": True,
        "script": str(result.script),
        "kind": entry["kind"],
        "settings": entry["settings"],
        "template": entry["template"],
        "provider": entry["provider"],
        "model": entry["model"],
        "code_sha256": entry["code_sha256"],
        "attempts": entry["attempts"]["history"],
        "samples": entry["samples"],
        "verification": report_document(result.report),
    }
    if "base_url" in entry:
        document["base_url"] = entry["base_url"]
    return document


def script_document(result: ScriptResult, edited: Optional[bool]) -> dict[str, Any]:
    """Return what verify found about one script.

    ``edited`` is None when no manifest entry records what the script should contain.
    ``verification`` is None when the file is missing.
    """
    return {
        "script": str(result.script),
        "kind": result.kind,
        "passed": result.passed,
        "missing": result.missing,
        "edited": edited,
        "verification": report_document(result.report) if result.report is not None else None,
    }


def verify_document(results: list[ScriptResult], scripts: list[dict[str, Any]]) -> dict[str, Any]:
    """Return what ``verify --json`` prints: the overall verdict, the names of failed scripts, and each script's facts."""
    failed = [result.script.name for result in results if not result.passed]
    return {"ok": not failed, "passed": len(results) - len(failed), "failed": failed, "scripts": scripts}


# Commands that live in their own modules; each imports its heavy libraries only when it runs.
from promptgen.cli_eval import eval_command  # noqa: E402
from promptgen.cli_review import review_command  # noqa: E402
from promptgen.cli_xtuner import check_command, xtuner_config_command  # noqa: E402

app.command("review")(handle_errors(review_command))
app.command("eval")(handle_errors(eval_command))
app.command("check")(handle_errors(check_command))
app.command("xtuner-config")(handle_errors(xtuner_config_command))


def main() -> None:
    # A fixed program name gives the same usage line and a working completion script under python -m promptgen.
    app(prog_name="promptgen")


if __name__ == "__main__":
    main()
