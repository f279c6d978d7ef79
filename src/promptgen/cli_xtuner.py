"""The ``promptgen check`` and ``promptgen xtuner-config`` commands.

Each command prints its own one-line error and exits 1 on a PromptgenError,
so it behaves the same however it is registered.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from promptgen.check import CheckReport, DatasetStats, Overlap, check_dataset
from promptgen.errors import PromptgenError


def _fail(exc: PromptgenError, json_output: bool = False) -> typer.Exit:
    if json_output:
        typer.echo(json.dumps({"ok": False, "error": str(exc)}, ensure_ascii=False))
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(exc.exit_code)


# --- check ----------------------------------------------------------------------------------


def check_command(
    dataset: Annotated[Path, typer.Argument(help="Training file: JSON Lines, or one JSON array.")],
    against: Annotated[
        Optional[Path], typer.Option("--against", help="Test file: report records and inputs that occur in both files.")
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print one JSON document instead of text.")] = False,
) -> None:
    """Check that XTuner can train on DATASET as it is (conversation format, dataset_map_fn=None).

    Prints one line per problem (LINE: severity: message), statistics and a
    verdict. Exits 0 when XTuner can use the file (warnings allowed), 1 otherwise.

    Example: promptgen check train.jsonl --against test.jsonl
    """
    try:
        report = check_dataset(dataset, against=against)
    except PromptgenError as exc:
        raise _fail(exc, json_) from None
    if json_:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        for line in render_report(report):
            typer.echo(line)
    if not report.ok:
        raise typer.Exit(1)


def render_report(report: CheckReport) -> list[str]:
    """Return the text output of ``promptgen check``: problems, statistics, overlap, verdict."""
    lines = [problem.format() for problem in report.problems]
    for kind, count in sorted(report.omitted.items()):
        lines.append(f"... and {count} more \"{kind}\" problems not shown")
    if report.layout == "json":
        lines.append(f"{report.path} is a JSON array, so it was read into memory whole")
    lines.extend(_render_stats(report.stats))
    if report.overlap is not None:
        lines.extend(_render_overlap(report.overlap, report.path))
    lines.append(_verdict(report))
    return lines


def _render_stats(stats: DatasetStats) -> list[str]:
    lines = [
        f"records: {stats.records}, turns: {stats.turns}, empty outputs: {stats.empty_outputs}",
        f"duplicate records: {stats.duplicate_records}, duplicate first inputs: {stats.duplicate_inputs}",
    ]
    for label, repeats in (("record", stats.duplicate_record_examples), ("first input", stats.duplicate_input_examples)):
        for repeat in repeats:
            lines.append(f"  {label} on {repeat.location.describe()} repeats {repeat.first.describe()}")
    lines.append(f"input length in characters: max {stats.input_length.max}, 95th percentile {stats.input_length.p95}")
    lines.append(f"output length in characters: max {stats.output_length.max}, 95th percentile {stats.output_length.p95}")
    return lines


def _render_overlap(overlap: Overlap, dataset: Path) -> list[str]:
    lines = [
        f"against {overlap.other}: {overlap.other_records} records; {overlap.shared_records} also in {dataset}, "
        f"{overlap.shared_inputs} with a first input that also opens a record of {dataset}"
    ]
    for example in overlap.examples:
        match = "same record" if example.same_record else "same first input"
        lines.append(
            f"  {match}: {overlap.other} {example.other.describe()} and {dataset} {example.dataset.describe()}: "
            f"\"{example.input_preview}\""
        )
    if overlap.unreadable:
        lines.append(f"  {overlap.unreadable} lines of {overlap.other} are not valid JSON; run promptgen check {overlap.other}")
    return lines


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _verdict(report: CheckReport) -> str:
    counts = f"{_plural(report.errors, 'error')}, {_plural(report.warnings, 'warning')}"
    if not report.ok:
        return f"FAILED: XTuner cannot use {report.path} as it is ({counts})"
    verdict = f"OK: XTuner can use {report.path} as it is ({counts})"
    if report.overlap is not None and report.overlap.shared_inputs:
        shared = _plural(report.overlap.shared_inputs, "record")
        verb = "shares" if report.overlap.shared_inputs == 1 else "share"
        verdict += f"; {shared} of {report.overlap.other} {verb} a first input with it"
    return verdict


# --- xtuner-config --------------------------------------------------------------------------


def xtuner_config_command(
    config: Annotated[Path, typer.Argument(help="Config copied with xtuner copy-cfg, such as internlm_chat_7b_qlora_oasst1_e3_copy.py.")],
    data_path: Annotated[
        str, typer.Option("--data-path", help="Training file (data_path), relative to the folder you run xtuner train in.")
    ],
    model: Annotated[
        Optional[str], typer.Option("--model", help="Base model folder or Hugging Face id (pretrained_model_name_or_path).")
    ] = None,
    epochs: Annotated[Optional[int], typer.Option("--epochs", help="Number of passes over the training file (max_epochs).")] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", help="Samples per GPU in each step (batch_size).")] = None,
    max_length: Annotated[
        Optional[int], typer.Option("--max-length", help="Maximum tokens in one sample; longer ones are cut (max_length).")
    ] = None,
    lr: Annotated[Optional[float], typer.Option("--lr", help="Learning rate (lr), for example 2e-4.")] = None,
    evaluation_inputs: Annotated[
        Optional[list[str]],
        typer.Option(
            "--evaluation-input",
            help="A question the model answers during training to show progress (evaluation_inputs); repeat for more.",
        ),
    ] = None,
    system: Annotated[
        Optional[str],
        typer.Option(
            "--system",
            help="System text of the evaluation chats during training (SYSTEM); use the \"system\" of your records.",
        ),
    ] = None,
    write: Annotated[bool, typer.Option("--write", help="Write the changes to CONFIG; without it, only print the diff.")] = False,
) -> None:
    """Point a copied XTuner config at a local conversation file and set its training settings.

    Sets the module-level settings, loads DATA_PATH with
    dataset=dict(type=load_dataset, path='json', data_files=dict(train=data_path)),
    sets dataset_map_fn=None and removes the map-function import left unused.
    Prints a unified diff; writes the file only with --write.

    Example: promptgen xtuner-config internlm_chat_7b_qlora_oasst1_e3_copy.py --data-path train.jsonl
    --model ./internlm-chat-7b --epochs 3 --write
    """
    from promptgen.xtuner_config import ConfigChanges, patch_config_file

    try:
        changes = ConfigChanges(
            data_path=data_path,
            model=model,
            epochs=epochs,
            batch_size=batch_size,
            max_length=max_length,
            lr=lr,
            evaluation_inputs=tuple(evaluation_inputs) if evaluation_inputs is not None else None,
            system=system,
        )
        result = patch_config_file(config, changes, write=write)
    except PromptgenError as exc:
        raise _fail(exc) from None

    typer.echo(result.diff(config.name), nl=False)
    if not Path(data_path).exists():
        where = "" if Path(data_path).is_absolute() else " in this folder, and xtuner train reads it relative to the folder it runs in"
        typer.echo(f"warning: {data_path} does not exist{where}; check --data-path", err=True)
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    if not result.changed:
        typer.echo(f"{config} already has these settings; nothing to change", err=True)
    elif write:
        typer.echo(f"wrote {config}", err=True)
    else:
        typer.echo(f"dry run: {config} is unchanged; add --write to apply the diff", err=True)
