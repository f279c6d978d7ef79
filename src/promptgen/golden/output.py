"""Read a script's output file, name its format faults in plain words, and compare records."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Sequence

from promptgen.spec import OutputFormat

UTF8_BOM = b"\xef\xbb\xbf"

# A \uXXXX escape of a non-ASCII character, not preceded by an escaped backslash.
# json.dumps escapes control characters as \u00XX even with ensure_ascii=False,
# so only code points from U+0080 up count as escaped non-ASCII text.
_ESCAPED_NON_ASCII = re.compile(r"(?<!\\)(?:\\\\)*\\u(?!00[0-7][0-9a-fA-F])[0-9a-fA-F]{4}")

# Long values are cut in messages so that each message stays one readable line.
_SHOWN_CHARACTERS = 60

ESCAPED_NON_ASCII_FAULT = "escaped non-ASCII characters as \\uXXXX; use ensure_ascii=False"


def serialize_records(records: Sequence[Any], output_format: OutputFormat) -> bytes:
    """Return the exact bytes the contract prescribes for ``records`` in ``output_format``."""
    if output_format == "json":
        text = json.dumps(list(records), ensure_ascii=False, indent=2) + "\n"
    else:
        text = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    return text.encode("utf-8")


def read_output(path: Path, expected_format: OutputFormat) -> tuple[list[Any], str]:
    """Parse an output file and return its records and its first format fault ("" when exact).

    The records are returned whenever the file parses, even with a fault such as a
    BOM or escaped non-ASCII text, so callers can still compare them. A fault is
    one plain sentence without the file name.
    """
    if not path.exists():
        return [], "wrote no output file"
    if path.is_dir():
        return [], "the output path is a folder, not a file"
    data = path.read_bytes()

    faults: list[str] = []
    if data.startswith(UTF8_BOM):
        faults.append("starts with a UTF-8 BOM; write UTF-8 without a BOM")
        data = data[len(UTF8_BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return [], f"is not valid UTF-8 (byte {error.start}); write the file as UTF-8"

    if expected_format == "json":
        records, fault = _parse_array(text)
    else:
        records, fault = _parse_lines(text)
    if records is None:
        return [], fault
    if fault:
        faults.append(fault)
    faults.extend(_layout_faults(text, records, expected_format))
    return records, faults[0] if faults else ""


def _parse_array(text: str) -> tuple[list[Any] | None, str]:
    if not text.strip():
        return None, "is empty, but a JSON array was requested"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        values = _parse_json_sequence(text)
        if values is not None and len(values) > 1:
            return values, "wrote JSON Lines, but a JSON array was requested"
        return None, f"is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
    if not isinstance(value, list):
        return [value], f"wrote a single JSON {_json_type(value)}, but a JSON array was requested"
    return value, ""


def _parse_lines(text: str) -> tuple[list[Any] | None, str]:
    if text.lstrip().startswith("["):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, list):
            return value, "wrote a JSON array, but JSON Lines was requested"

    records: list[Any] = []
    fault = ""
    # Split on "\n" only: str.splitlines() would also split inside records at
    # U+2028 and other characters that json.dumps leaves unescaped.
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            fault = fault or f"line {number} is blank; JSON Lines has exactly one record on every line"
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as error:
            values = _parse_json_sequence(text)
            if values is not None:
                return values, "wrote indented JSON over several lines; JSON Lines needs one record per line"
            return None, f"line {number} is not valid JSON: {error.msg} at column {error.colno}"
    return records, fault


def _parse_json_sequence(text: str) -> list[Any] | None:
    """Parse whitespace-separated JSON values, as pretty-printed records written one after another."""
    decoder = json.JSONDecoder()
    values: list[Any] = []
    position = 0
    while True:
        while position < len(text) and text[position] in " \t\r\n":
            position += 1
        if position == len(text):
            return values
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            return None
        values.append(value)


def _layout_faults(text: str, records: list[Any], expected_format: OutputFormat) -> list[str]:
    """Compare the text with the exact serialization of its own records, and name the difference."""
    expected = serialize_records(records, expected_format).decode("utf-8")
    if text == expected:
        return []
    if "\r\n" in text:
        return ['ends lines with CRLF; write "\\n" line ends (open the file with newline="\\n")']
    if _ESCAPED_NON_ASCII.search(text):
        return [ESCAPED_NON_ASCII_FAULT]
    if not text.endswith("\n"):
        return ['does not end with a newline; write "\\n" after the last record']
    if expected_format == "json":
        return [_json_layout_fault(text, expected)]
    return [_lines_layout_fault(text, records)]


def _json_layout_fault(text: str, expected: str) -> str:
    if "\n" not in text.rstrip("\n"):
        return "wrote the array on one line; use json.dumps(records, ensure_ascii=False, indent=2)"
    first_indent = _first_indent(text)
    if first_indent != "  ":
        return (
            f"indents by {len(first_indent)} characters; "
            "use json.dumps(records, ensure_ascii=False, indent=2)"
        )
    return (
        f"is not laid out as json.dumps(records, ensure_ascii=False, indent=2) writes it "
        f"(first difference at {_first_difference(expected, text)})"
    )


def _first_indent(text: str) -> str:
    for line in text.split("\n")[1:]:
        if line.strip():
            return line[: len(line) - len(line.lstrip(" \t"))]
    return ""


def _lines_layout_fault(text: str, records: list[Any]) -> str:
    for number, (line, record) in enumerate(zip(text.split("\n"), records), start=1):
        expected = json.dumps(record, ensure_ascii=False)
        if line != expected:
            return (
                f"line {number} is not written as json.dumps(record, ensure_ascii=False) writes it: "
                f"expected {_shorten(expected)}, got {_shorten(line)}"
            )
    return "is not written as json.dumps(record, ensure_ascii=False) per line"


def _first_difference(expected: str, actual: str) -> str:
    line = 1
    for position, (left, right) in enumerate(zip(expected, actual)):
        if left != right:
            return f"line {line}, character {position + 1}"
        if left == "\n":
            line += 1
    return f"line {line}"


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return "number"


def _shorten(text: str, limit: int = _SHOWN_CHARACTERS) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 3] + "..."


def count(number: int, noun: str) -> str:
    """Return "1 record" or "3 records"."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def show_value(value: Any, limit: int = _SHOWN_CHARACTERS) -> str:
    """Return ``repr(value)``, cut to ``limit`` characters so that a message stays one short line."""
    return _shorten(repr(value), limit)


def _path_label(path: tuple[str | int, ...]) -> str:
    # In a conversation record, conversation[0].output reads best as plain 'output'.
    if len(path) == 3 and path[0] == "conversation" and path[1] == 0:
        return f"field {path[2]!r}"
    label = ""
    for step in path:
        if isinstance(step, int):
            label += f"[{step}]"
        else:
            label += f".{step}" if label else step
    return f"field {label!r}"


def _show_pair(expected: Any, actual: Any) -> str:
    both_strings = isinstance(expected, str) and isinstance(actual, str)
    if not both_strings or max(len(expected), len(actual)) <= _SHOWN_CHARACTERS:
        return f"expected {show_value(expected)}, got {show_value(actual)}"
    index = next(
        (position for position, (left, right) in enumerate(zip(expected, actual)) if left != right),
        min(len(expected), len(actual)),
    )
    start = max(0, index - 20)
    return (
        f"first difference at character {index + 1}: "
        f"expected ...{show_value(expected[start : index + 20])}, got ...{show_value(actual[start : index + 20])}"
    )


def _diff_value(expected: Any, actual: Any, path: tuple[str | int, ...]) -> str:
    """Return the first difference below ``path`` as "field 'x': ..." or a bare phrase at the top."""
    prefix = f"{_path_label(path)}: " if path else ""
    if isinstance(expected, dict) and isinstance(actual, dict):
        return _diff_dict(expected, actual, path)
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return f"{prefix}expected {len(expected)} items, got {len(actual)}"
        for index, (left, right) in enumerate(zip(expected, actual)):
            fault = _diff_value(left, right, (*path, index))
            if fault:
                return fault
        return ""
    # True == 1 and 1 == 1.0 in Python, but they are different JSON values.
    if type(expected) is not type(actual) or expected != actual:
        return f"{prefix}{_show_pair(expected, actual)}"
    return ""


def _diff_dict(expected: dict[str, Any], actual: dict[str, Any], path: tuple[str | int, ...]) -> str:
    prefix = f"{_path_label(path)}: " if path else ""
    missing = [key for key in expected if key not in actual]
    if missing:
        return f"{prefix}key {missing[0]!r} is missing"
    extra = [key for key in actual if key not in expected]
    if extra:
        return f"{prefix}unexpected key {extra[0]!r}"
    for key in expected:
        fault = _diff_value(expected[key], actual[key], (*path, key))
        if fault:
            return fault
    if list(expected) != list(actual):
        return f"{prefix}keys are in the order {list(actual)}, expected {list(expected)}"
    return ""


def diff_records(expected: Sequence[Any], actual: Sequence[Any]) -> str:
    """Return the first difference between two record lists in plain words, or "" when equal.

    Records are numbered from 1. When one list lacks a record the other has, the
    message names the missing or extra record instead of comparing the records
    that follow it field by field.
    """
    for index, (left, right) in enumerate(zip(expected, actual)):
        fault = _diff_value(left, right, ())
        if not fault:
            continue
        number = index + 1
        if len(actual) < len(expected) and _contains(expected[index + 1 :], right):
            return f"record {number} is missing: expected {show_value(left)}"
        if len(actual) > len(expected) and _contains(actual[index + 1 :], left):
            return f"record {number} is not expected: got {show_value(right)}"
        separator = ", " if fault.startswith("field") else ": "
        return f"record {number}{separator}{fault}"
    if len(actual) < len(expected):
        return (
            f"expected {count(len(expected), 'record')}, got {len(actual)}; "
            f"record {len(actual) + 1} is missing: expected {show_value(expected[len(actual)])}"
        )
    if len(actual) > len(expected):
        return (
            f"expected {count(len(expected), 'record')}, got {len(actual)}; "
            f"record {len(expected) + 1} is not expected: got {show_value(actual[len(expected)])}"
        )
    return ""


def _contains(records: Sequence[Any], record: Any) -> bool:
    return any(not _diff_value(candidate, record, ()) for candidate in records)
