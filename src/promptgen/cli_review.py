"""The ``promptgen review`` command: static review of one script file."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, NoReturn, Optional, cast

import typer

from promptgen.spec import KINDS, Kind


class _ScriptNotReadable(Exception):
    """A script file that cannot be reviewed; the message is the one line to print."""


def review_command(
    script: Annotated[Path, typer.Argument(help="Python script to review.", show_default=False)],
    kind: Annotated[
        Optional[str],
        typer.Option(
            "--kind",
            help=f"Script kind ({'|'.join(KINDS)}): also require a command line, and for a splitter check the split.",
        ),
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object instead of text.")] = False,
) -> None:
    """Review a script without running it: forbidden imports and calls, hard-coded file names, risky defaults.

    Prints one line per finding as PATH:LINE:COL: SEVERITY RULE MESSAGE (the
    column is 0-based), then a summary. Exits 1 when there is an error.

    Example: promptgen review generated/convert_drugqa.py --kind converter
    """
    from promptgen.review import review_code

    if kind is not None and kind not in KINDS:
        _fail(f"invalid --kind {kind!r}: choose one of {', '.join(KINDS)}", json_)
    try:
        code = _read_script(script)
    except _ScriptNotReadable as error:
        _fail(str(error), json_)

    report = review_code(code, cast(Optional[Kind], kind))

    if json_:
        document = {
            "script": str(script),
            "kind": kind,
            "passed": report.passed,
            "errors": len(report.errors),
            "warnings": len(report.warnings),
            "findings": [asdict(finding) for finding in report.findings],
        }
        typer.echo(json.dumps(document, ensure_ascii=False))
    else:
        from promptgen.progress import SEVERITY_STYLES, print_lines

        print_lines(
            [
                [
                    (f"{script}:{finding.line}:{finding.column}: ", ""),
                    (finding.severity, SEVERITY_STYLES.get(finding.severity, "")),
                    (f" {finding.rule} {finding.message}", ""),
                ]
                for finding in report.findings
            ]
        )
        # A file that does not parse gets its one PG100 line and no summary.
        if not any(finding.rule == "PG100" for finding in report.findings):
            typer.echo(_summary(script, len(report.errors), len(report.warnings)))

    if not report.passed:
        raise typer.Exit(1)


def _read_script(path: Path) -> str:
    if not path.exists():
        raise _ScriptNotReadable(f"script not found: {path}; give the path of a Python file")
    if path.is_dir():
        raise _ScriptNotReadable(f"{path} is a folder; give the path of a Python file")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise _ScriptNotReadable(f"cannot read {path}: {error.strerror}; check its permissions") from None
    try:
        # utf-8-sig drops a byte order mark, which Python itself also accepts in a source file.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _ScriptNotReadable(
            f"{path} is not UTF-8 text (invalid byte at offset {error.start}); save it as UTF-8"
        ) from None


def _summary(script: Path, errors: int, warnings: int) -> str:
    verdict = "failed" if errors else "passed"
    return f"{script}: review {verdict} with {_count(errors, 'error')} and {_count(warnings, 'warning')}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _fail(message: str, json_output: bool = False) -> NoReturn:
    if json_output:
        typer.echo(json.dumps({"ok": False, "error": message}, ensure_ascii=False))
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)
