"""Bake settings into a script's constants block, and write the header every emitted script carries."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from promptgen import __version__
from promptgen.spec import ConverterSettings, Settings, format_ratio, kind_of

# Settings field -> module-level constant in the reference scripts and in what the templates ask for.
CONVERTER_CONSTANTS = {
    "sheet": "SHEET",
    "input_col": "INPUT_COLUMN",
    "output_col": "OUTPUT_COLUMN",
    "system": "SYSTEM",
    "header_rows": "HEADER_ROWS",
    "on_missing": "ON_MISSING",
    "strip": "STRIP",
    "format": "OUTPUT_FORMAT",
    "engine": "ENGINE",
}
SPLITTER_CONSTANTS = {"ratio": "RATIO", "seed": "SEED", "group_by": "GROUP_BY"}


def constant_values(settings: Settings) -> dict[str, Any]:
    """Return the constants a script for ``settings`` must define, by constant name."""
    mapping = CONVERTER_CONSTANTS if isinstance(settings, ConverterSettings) else SPLITTER_CONSTANTS
    return {constant: getattr(settings, field) for field, constant in mapping.items()}


def python_literal(value: Any) -> str:
    """Return Python source for a str, int, bool or tuple of ints.

    Strings use JSON's escaping, which is also valid Python and keeps
    non-ASCII text readable in the emitted script.
    """
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple):
        return "(" + ", ".join(python_literal(item) for item in value) + ")"
    raise TypeError(f"cannot write {value!r} as a Python literal")


def bake_constants(source: str, values: dict[str, Any]) -> str:
    """Replace the module-level ``NAME = literal`` assignments named in ``values``.

    Raises ValueError when an expected constant is missing, so a template or
    reference change that renames a constant cannot go unnoticed.
    """
    import libcst as cst

    module = cst.parse_module(source)
    found: set[str] = set()

    class _Baker(cst.CSTTransformer):
        def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
            if len(updated_node.targets) != 1:
                return updated_node
            target = updated_node.targets[0].target
            if not isinstance(target, cst.Name) or target.value not in values:
                return updated_node
            found.add(target.value)
            return updated_node.with_changes(value=cst.parse_expression(python_literal(values[target.value])))

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return False  # only module-level constants are settings

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

    baked = module.visit(_Baker())
    missing = sorted(set(values) - found)
    if missing:
        raise ValueError(f"the script defines no module-level constant {', '.join(missing)}")
    return baked.code


def bake_script(settings: Settings) -> str:
    """Return the reference script for ``settings`` with its settings baked in (no header)."""
    from promptgen.reference import reference_path

    source = reference_path(kind_of(settings)).read_text(encoding="utf-8")
    return bake_constants(source, constant_values(settings))


def describe_settings(settings: Settings) -> str:
    # SplitterSettings.to_dict already gives the ratio as "7:3".
    return ", ".join(f"{key}={value!r}" for key, value in settings.to_dict().items())


def script_header(settings: Settings, script_name: str, template: str, template_version: int, provider: str) -> str:
    """Return the comment block that opens every script promptgen writes."""
    if isinstance(settings, ConverterSettings):
        what = (
            f"Convert worksheet {settings.sheet!r} of an .xlsx workbook into XTuner conversation "
            f"records ({'JSON Lines' if settings.format == 'jsonl' else 'a JSON array'})."
        )
        usage = f"python {script_name} INPUT.xlsx OUTPUT{settings.output_suffix}"
    else:
        what = (
            f"Split XTuner conversation records {format_ratio(settings.ratio)} into train and test "
            "JSON Lines files."
        )
        usage = f"python {script_name} INPUT.jsonl train.jsonl test.jsonl [--seed N]"
    lines = [
        f"# {what}",
        f"# Usage: {usage}",
        f"# Written by promptgen {__version__} from template {template} v{template_version} "
        f"(provider: {provider}).",
        f"# Settings: {describe_settings(settings)}",
    ]
    return "\n".join(_wrap_comment(line) for line in lines) + "\n"


def _wrap_comment(line: str, width: int = 100) -> str:
    # Long system texts would make one very long comment line; continue it on "#   " lines.
    return "\n".join(textwrap.wrap(line, width, subsequent_indent="#   ", break_on_hyphens=False))


def strip_header(code: str) -> str:
    """Remove a header that promptgen wrote earlier, as in a script pasted back as a reply."""
    lines = code.splitlines(keepends=True)
    settings_line = next(
        (index for index, line in enumerate(lines[:12]) if line.startswith("# Settings: ")), None
    )
    if settings_line is None or not any(line.startswith("# Written by promptgen ") for line in lines[:settings_line]):
        return code
    end = settings_line + 1
    while end < len(lines) and lines[end].startswith("#   "):
        end += 1
    return "".join(lines[end:])


def add_header(code: str, header: str) -> str:
    """Put ``header`` at the top of ``code``, after a shebang or encoding line if there is one.

    A header that promptgen wrote earlier is replaced, not repeated.
    """
    lines = strip_header(code).splitlines(keepends=True)
    keep = 0
    while keep < len(lines) and keep < 2 and (
        lines[keep].startswith("#!") or "coding" in lines[keep] and lines[keep].startswith("#")
    ):
        keep += 1
    return "".join(lines[:keep]) + header + "".join(lines[keep:])
