"""The ``promptgen eval`` command: compare models on one prompt template by how often their scripts pass.

The command prints its own one-line error and exits 1 on a PromptgenError, so it
behaves the same however it is registered. Heavy modules load only when it runs.
"""

from __future__ import annotations

import dataclasses
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from promptgen.errors import PromptgenError, SettingsError
from promptgen.spec import ENGINES, GROUP_BY, ON_MISSING, OUTPUT_FORMATS, SPLITTER_DEFAULT_SEED, Settings

if TYPE_CHECKING:
    from promptgen.evaluate import EvalTask, ModelResult
    from promptgen.providers.openai_provider import OpenAIProvider, OpenAISettings
    from promptgen.verify import DataRun

# Flags that set the settings of one kind of script. A flag of the other kind than the template's is an error.
CONVERTER_FLAGS = (
    "--sheet", "--input-col", "--output-col", "--system", "--header-rows", "--on-missing", "--strip/--no-strip",
    "--format", "--engine", "--workbook",
)
SPLITTER_FLAGS = ("--ratio", "--seed", "--group-by", "--dataset")


def default_out_path(now: datetime) -> Path:
    """Return eval-YYYYMMDDTHHMMSSZ.jsonl in the current folder, from the UTC time ``now``."""
    return Path(f"eval-{now.astimezone(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}.jsonl")


def parse_models(text: str) -> list[str]:
    """Split a comma-separated --models value into model names, rejecting empty and repeated names."""
    models = [name.strip() for name in text.split(",")]
    if not all(models):
        raise SettingsError(f"invalid --models {text!r}: give model names separated by commas, such as gpt-4o,qwen2.5-coder")
    repeated = sorted({name for name in models if models.count(name) > 1})
    if repeated:
        raise SettingsError(f"model {repeated[0]!r} is listed twice in --models; give each model once")
    return models


def eval_command(
    template: Annotated[str, typer.Option("--template", help="Prompt template to evaluate, such as converter or splitter.")],
    models: Annotated[str, typer.Option("--models", help="Models to compare, separated by commas: gpt-4o,qwen2.5-coder.")],
    samples: Annotated[int, typer.Option("--samples", help="Independent replies per model (n in pass@k).", min=1)] = 5,
    sheet: Annotated[Optional[str], typer.Option("--sheet", help="Converter: worksheet name, exactly as Excel shows it.")] = None,
    input_col: Annotated[Optional[str], typer.Option("--input-col", help="Converter: column of the question, a letter or header text (default A).")] = None,
    output_col: Annotated[Optional[str], typer.Option("--output-col", help="Converter: column of the answer, a letter or header text (default D).")] = None,
    system: Annotated[Optional[str], typer.Option("--system", help="Converter: system text in every conversation (default none).")] = None,
    header_rows: Annotated[Optional[int], typer.Option("--header-rows", help="Converter: rows above the data to skip (default 1).", min=0)] = None,
    on_missing: Annotated[
        Optional[str], typer.Option("--on-missing", help=f"Converter: a row missing one cell, {'|'.join(ON_MISSING)} (default skip).")
    ] = None,
    strip: Annotated[Optional[bool], typer.Option("--strip/--no-strip", help="Converter: strip spaces around cell text (default on).")] = None,
    format_: Annotated[Optional[str], typer.Option("--format", help=f"Converter: output format, {'|'.join(OUTPUT_FORMATS)} (default jsonl).")] = None,
    engine: Annotated[Optional[str], typer.Option("--engine", help=f"Converter: workbook reader, {'|'.join(ENGINES)} (default openpyxl).")] = None,
    workbook: Annotated[
        Optional[Path], typer.Option("--workbook", help="Converter: also compare every candidate with the reference on this workbook.")
    ] = None,
    ratio: Annotated[Optional[str], typer.Option("--ratio", help="Splitter: train:test ratio such as 7:3 (default 7:3).")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help=f"Splitter: seed of the shuffle (default {SPLITTER_DEFAULT_SEED}).")] = None,
    group_by: Annotated[
        Optional[str], typer.Option("--group-by", help=f"Splitter: keep equal first inputs together, {'|'.join(GROUP_BY)} (default none).")
    ] = None,
    dataset: Annotated[
        Optional[Path], typer.Option("--dataset", help="Splitter: also compare every candidate with the reference on this JSON Lines file.")
    ] = None,
    base_url: Annotated[Optional[str], typer.Option("--base-url", help="OpenAI-compatible endpoint; overrides OPENAI_BASE_URL.")] = None,
    temperature: Annotated[
        float, typer.Option("--temperature", help="Sampling temperature; at 0 the samples of a model often repeat one reply.")
    ] = 0.0,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for one model reply.")] = 120.0,
    max_retries: Annotated[int, typer.Option("--max-retries", help="Retries after a connection error, 408, 429 or 5xx.", min=0)] = 3,
    max_repairs: Annotated[int, typer.Option("--max-repairs", help="Repair rounds per failed sample.", min=0)] = 2,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the response cache.")] = False,
    out: Annotated[
        Optional[Path], typer.Option("--out", help="JSON Lines file for every attempt (default eval-<UTC time>.jsonl).")
    ] = None,
) -> None:
    """Compare models on one template: pass@1 and pass@N without and with repair, failures by kind, tokens.

    Every model gets the same prompt. Each of its N replies is checked like a
    promptgen make candidate, and a failed one is repaired in its own conversation.
    Exits 1 when a model could not be reached, but low pass rates still exit 0.

    Example: promptgen eval --template converter --models gpt-4o,qwen2.5-coder --samples 5 --sheet DrugQA
    """
    values = {
        "--sheet": sheet, "--input-col": input_col, "--output-col": output_col, "--system": system,
        "--header-rows": header_rows, "--on-missing": on_missing, "--strip/--no-strip": strip, "--format": format_,
        "--engine": engine, "--workbook": workbook, "--ratio": ratio, "--seed": seed, "--group-by": group_by,
        "--dataset": dataset,
    }
    try:
        complete = _run_eval(
            template, parse_models(models), samples, values, base_url=base_url, temperature=temperature,
            timeout=timeout, max_retries=max_retries, max_repairs=max_repairs, use_cache=not no_cache, out=out,
        )
    except PromptgenError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        typer.echo(f"error: cannot access{where}: {exc.strerror or exc}; check the path and its permissions", err=True)
        raise typer.Exit(1) from None
    if not complete:
        raise typer.Exit(1)


def _log(message: str) -> None:
    from promptgen.progress import current_reporter

    current_reporter().info(message)


def _run_eval(
    template_name: str, models: list[str], samples: int, values: dict[str, Any], *, base_url: Optional[str],
    temperature: float, timeout: float, max_retries: int, max_repairs: int, use_cache: bool, out: Optional[Path],
) -> bool:
    """Run the evaluation and print the table; return False when a model's evaluation ended with an error."""
    from promptgen.evaluate import EvalTask, evaluate_models, write_attempts
    from promptgen.providers.openai_provider import OpenAISettings
    from promptgen.templates import load_template, render_template, settings_values

    # Every check that can fail runs before the reference script and the first request.
    out_path = out or default_out_path(datetime.now(timezone.utc))
    if out_path.is_dir():
        raise SettingsError(f"--out {out_path} is a folder; give the path of a JSON Lines file, such as eval.jsonl")
    template = load_template(template_name)
    settings = _settings_for(template.name, template.kind, values)
    prompt = render_template(template, settings_values(settings))
    connection = OpenAISettings.from_env(
        os.environ, base_url=base_url, temperature=temperature, timeout=timeout, max_retries=max_retries
    )
    providers = _build_providers(connection, models, use_cache)

    data = values["--workbook"] if template.kind == "converter" else values["--dataset"]
    reference = _reference_run(settings, data)
    task = EvalTask(prompt=prompt, settings=settings, samples=samples, max_repairs=max_repairs, data=data, reference=reference)
    # Rewriting the file after each model keeps the finished models' attempts if a later one is interrupted.
    results = evaluate_models(
        providers, task, log=_log, on_result=lambda so_far: write_attempts(out_path, so_far, prompt, settings)
    )

    _print_results(results, task, out_path)
    return not any(result.error for result in results)


def _build_providers(connection: OpenAISettings, models: list[str], use_cache: bool) -> list[OpenAIProvider]:
    """Build one provider per model, sharing the connection settings and the response cache."""
    from promptgen.providers.openai_provider import OpenAIProvider

    cache = None
    if use_cache:
        from promptgen.cache import ResponseCache

        cache = ResponseCache.default()
    return [OpenAIProvider(dataclasses.replace(connection, model=model), cache=cache) for model in models]


def _print_results(results: list[ModelResult], task: EvalTask, out_path: Path) -> None:
    from promptgen.evaluate import format_table

    typer.echo(
        f"template {task.prompt.template} v{task.prompt.version}, {task.samples} sample(s) per model, "
        f"up to {task.max_repairs} repair round(s) per sample"
    )
    for line in format_table(results, task.samples, with_data=task.data is not None):
        typer.echo(line)
    cached = sum(result.cached_replies for result in results)
    if cached:
        replies = "1 reply" if cached == 1 else f"{cached} replies"
        typer.echo(
            f"{replies} came from the response cache; the tokens shown were spent when they were first generated "
            "(--no-cache asks the models again)"
        )
    typer.echo(f"wrote every attempt to {out_path}")


def _settings_for(template_name: str, kind: Optional[str], values: dict[str, Any]) -> Settings:
    """Build the settings of the template's kind from the flags, rejecting flags of the other kind."""
    from promptgen.spec import ConverterSettings, SplitterSettings, parse_ratio

    if kind not in ("converter", "splitter"):
        raise SettingsError(
            f"template {template_name!r} does not generate a script (its kind is {kind or 'not set'}); "
            "choose a converter or splitter template"
        )
    other_flags = SPLITTER_FLAGS if kind == "converter" else CONVERTER_FLAGS
    misplaced = [flag for flag in other_flags if values[flag] is not None]
    if misplaced:
        raise SettingsError(f"{misplaced[0]} does not apply to the {kind} template {template_name!r}; remove it")

    if kind == "splitter":
        splitter: dict[str, Any] = {"ratio": parse_ratio(values["--ratio"] or "7:3")}
        if values["--seed"] is not None:
            splitter["seed"] = values["--seed"]
        if values["--group-by"] is not None:
            splitter["group_by"] = values["--group-by"]
        return SplitterSettings(**splitter)

    if values["--sheet"] is None:
        raise SettingsError(f"missing --sheet: the converter template {template_name!r} needs the worksheet name")
    fields = {
        "input_col": "--input-col", "output_col": "--output-col", "system": "--system", "header_rows": "--header-rows",
        "on_missing": "--on-missing", "strip": "--strip/--no-strip", "format": "--format", "engine": "--engine",
    }
    converter = {name: values[flag] for name, flag in fields.items() if values[flag] is not None}
    return ConverterSettings(sheet=values["--sheet"], **converter)


def _reference_run(settings: Settings, data: Optional[Path]) -> Optional[DataRun]:
    """Run the reference script on the user's data once, so every candidate is compared with the same records."""
    if data is None:
        return None
    from promptgen.errors import WorkbookError
    from promptgen.spec import ConverterSettings
    from promptgen.verify import check_source, run_reference

    check_source(data, "workbook" if isinstance(settings, ConverterSettings) else "dataset")
    _log(f"checking {data.name} with the reference script")
    reference = run_reference(settings, data)
    if reference.records is None:
        raise WorkbookError(f"{data}: the reference script failed on it, {reference.fault}")
    return reference
