"""Judge one run of a script on a prepared golden case, and name its first fault in plain words."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path
from typing import Any

from promptgen.golden.model import CaseOutcome, ExpectConversion, ExpectFailure, ExpectSplit, PreparedCase
from promptgen.golden.output import count, diff_records, read_output, serialize_records, show_value
from promptgen.golden.splitter_cases import split_sizes
from promptgen.sandbox import RunResult

TRACEBACK_HEADER = "Traceback (most recent call last)"

# Characters of a stderr line quoted in a message: enough for a typical one-line error.
LINE_LIMIT = 160


def check_outcome(prepared: PreparedCase, result: RunResult, workdir: Path) -> CaseOutcome:
    """Compare what the script did in ``workdir`` with what the case expects."""
    fault = _first_fault(prepared, result, workdir)
    return CaseOutcome(name=prepared.case.name, passed=not fault, message=fault)


def _stderr_lines(result: RunResult) -> list[str]:
    return [line.strip() for line in result.stderr.splitlines() if line.strip()]


def _last_line(result: RunResult) -> str:
    lines = _stderr_lines(result)
    return lines[-1] if lines else ""


# Reasons for the signals with which the sandbox's resource limits end a script.
_SIGNAL_REASONS = {
    "SIGXCPU": ": it used more CPU time than the sandbox allows; look for an endless loop",
    "SIGXFSZ": ": it wrote a file larger than the sandbox allows",
}


def _first_fault(prepared: PreparedCase, result: RunResult, workdir: Path) -> str:
    if result.timed_out:
        return f"timed out after {prepared.timeout:g} s"
    if result.returncode is not None and result.returncode < 0:
        number = -result.returncode
        try:
            name = signal.Signals(number).name
        except ValueError:
            return f"was killed by signal {number}"
        reason = _SIGNAL_REASONS.get(name, "")
        return f"was killed by signal {number} ({name}){reason}"
    if isinstance(prepared.expected, ExpectFailure):
        return _failure_fault(prepared, prepared.expected, result, workdir)
    return _success_fault(prepared, result, workdir)


def _failure_fault(prepared: PreparedCase, expected: ExpectFailure, result: RunResult, workdir: Path) -> str:
    if result.returncode == 0:
        return f"exited 0, but {expected.reason}"
    if TRACEBACK_HEADER in result.stderr:
        return f"printed a traceback instead of a one-line error: {show_value(_last_line(result), LINE_LIMIT)}"
    lines = _stderr_lines(result)
    if not lines:
        return f"exited {result.returncode} without an error message on stderr; {expected.reason}"
    if len(lines) > 1:
        return f"printed {len(lines)} lines on stderr; a failure prints one line that names the value and the fix"
    for mention in expected.mentions:
        flags = 0 if mention.case_sensitive else re.IGNORECASE
        if not re.search(mention.pattern, lines[0], flags):
            return f"the error message does not name {mention.what}: {show_value(lines[0], LINE_LIMIT)}"
    return _overwrite_fault(expected, workdir) or _leftover_fault(prepared, workdir, failed=True)


def _overwrite_fault(expected: ExpectFailure, workdir: Path) -> str:
    for name, data in expected.unchanged_outputs:
        path = workdir / name
        if not path.exists():
            return f"deleted the existing {name} although it failed; replace an output only after success"
        if path.read_bytes() != data:
            return (
                f"overwrote the existing {name} although it failed; "
                "write to a temporary file and rename it on success"
            )
    return ""


def _leftover_fault(prepared: PreparedCase, workdir: Path, *, failed: bool) -> str:
    earlier: set[str] = set()
    if isinstance(prepared.expected, ExpectFailure):
        earlier = {name for name, _ in prepared.expected.unchanged_outputs}
    if failed:
        for name in prepared.outputs:
            if name not in earlier and (workdir / name).exists():
                which = "a partial output file" if len(prepared.outputs) == 1 else f"a partial output file ({name})"
                return f"left {which} behind after failing"
    known = set(prepared.inputs) | set(prepared.outputs)
    for entry in sorted(workdir.iterdir()):
        # The caller may put the script itself or its own folders here, so only other files count.
        if entry.name in known or entry.is_dir() or entry.suffix in (".py", ".pyc"):
            continue
        when = "after failing" if failed else "after writing its output"
        return (
            f"left the file {entry.name!r} behind {when}; write only the outputs, "
            "through a temporary file that is renamed on success or deleted on failure"
        )
    return ""


def _success_fault(prepared: PreparedCase, result: RunResult, workdir: Path) -> str:
    if result.returncode != 0:
        if TRACEBACK_HEADER in result.stderr:
            return f"crashed with a traceback: {show_value(_last_line(result), LINE_LIMIT)}"
        return f"exited {result.returncode}: {show_value(_last_line(result) or 'no message on stderr', LINE_LIMIT)}"
    if TRACEBACK_HEADER in result.stderr:
        return f"printed a traceback: {show_value(_last_line(result), LINE_LIMIT)}"

    expected = prepared.expected
    output_format = expected.output_format if isinstance(expected, ExpectConversion) else "jsonl"
    parts: list[list[Any]] = []
    for name in prepared.outputs:
        records, fault = read_output(workdir / name, output_format)
        if fault:
            return fault if len(prepared.outputs) == 1 else f"{name}: {fault}"
        parts.append(records)

    if isinstance(expected, ExpectConversion):
        fault = _conversion_fault(expected, parts[0], result)
        wanted = [list(expected.records)]
    elif isinstance(expected, ExpectSplit):
        fault = _split_fault(expected, prepared.outputs, parts, result)
        wanted = [[expected.records[position] for position in part] for part in (expected.train, expected.test)]
    else:
        raise TypeError(f"unexpected expectation {type(expected).__name__}; add a check for it")
    if fault:
        return fault

    # With no layout fault and equal records the bytes already match, so this check of
    # the contract's exact bytes only guards against a difference diff_records misses.
    for name, records in zip(prepared.outputs, wanted):
        written = (workdir / name).read_bytes()
        exact = serialize_records(records, output_format)
        if written != exact:
            offset = next((index for index, pair in enumerate(zip(written, exact)) if pair[0] != pair[1]), None)
            where = f"byte {offset}" if offset is not None else f"length {len(written)}, expected {len(exact)}"
            return f"{name} differs from the exact expected serialization at {where}"
    return _leftover_fault(prepared, workdir, failed=False)


def _mentions_number(text: str, number: int) -> bool:
    return re.search(rf"(?<![\d.]){number}(?![\d.])", text) is not None


def _conversion_fault(expected: ExpectConversion, records: list[Any], result: RunResult) -> str:
    difference = diff_records(list(expected.records), records)
    if difference:
        return difference

    lines = _stderr_lines(result)
    if not lines:
        return "printed no summary on stderr; end with a line giving the records written and the rows skipped"
    written = len(expected.records)
    if not _mentions_number(lines[-1], written):
        return (
            f"the last line on stderr does not give the {count(written, 'record')} written: "
            f"{show_value(lines[-1], LINE_LIMIT)}"
        )
    for row in expected.skipped_rows:
        if not _mentions_number(result.stderr, row):
            return f"did not report the skipped row {row} on stderr (on_missing=skip)"
    for row in expected.blank_rows:
        if re.search(rf"\brow\s+{row}\b", result.stderr, re.IGNORECASE):
            return f"reported row {row} on stderr, but a row with both cells missing is skipped silently"
    return ""


def _canonical(record: Any) -> str:
    return json.dumps(record, sort_keys=True, ensure_ascii=False)


def _split_fault(expected: ExpectSplit, names: tuple[str, ...], parts: list[list[Any]], result: RunResult) -> str:
    positions = {_canonical(record): position for position, record in enumerate(expected.records)}
    found: list[list[int]] = []
    seen: dict[int, str] = {}
    for name, records in zip(names, parts):
        part_positions = []
        for number, record in enumerate(records, start=1):
            position = positions.get(_canonical(record))
            if position is None:
                return f"{name} record {number} is not one of the input records: {show_value(record)}"
            where = f"{name} record {number}"
            if position in seen:
                return f"input record {position + 1} was written twice, as {seen[position]} and as {where}"
            seen[position] = where
            part_positions.append(position)
        found.append(part_positions)
    missing = sorted(set(range(len(expected.records))) - set(seen))
    if missing:
        return f"input record {missing[0] + 1} is in neither output; the two parts together must hold every record"

    train, test = found
    if len(train) != len(expected.train):
        return (
            f"wrote {len(train)} train and {len(test)} test records; expected {len(expected.train)} and "
            f"{len(expected.test)} ({_size_rule(expected)})"
        )
    for name, actual, wanted in ((names[0], train, expected.train), (names[1], test, expected.test)):
        for number, (got, want) in enumerate(zip(actual, wanted), start=1):
            if got != want:
                return (
                    f"{name} record {number} is input record {got + 1}, expected input record {want + 1}; "
                    f"{_order_rule(expected)}"
                )
    for name, records, wanted in ((names[0], parts[0], expected.train), (names[1], parts[1], expected.test)):
        difference = diff_records([expected.records[position] for position in wanted], records)
        if difference:
            return f"{name}: {difference}"
    return _split_summary_fault(expected, result)


def _size_rule(expected: ExpectSplit) -> str:
    train_share, test_share = expected.ratio
    total = len(expected.records)
    if expected.groups is not None:
        n_train, _ = split_sizes(total, expected.ratio)
        return f"whole groups of equal input go to train while it holds fewer than {n_train} records"
    return f"test is ceil({total} * {test_share} / {train_share + test_share}) in integer arithmetic"


def _order_rule(expected: ExpectSplit) -> str:
    if expected.groups is not None:
        return f"walk the group keys in random.Random({expected.seed}).shuffle(keys) order"
    return f"shuffle list(range(n)) with random.Random({expected.seed}).shuffle"


def _split_summary_fault(expected: ExpectSplit, result: RunResult) -> str:
    lines = _stderr_lines(result)
    if not lines:
        return "printed no summary on stderr; end with a line giving both sizes"
    last = lines[-1]
    for size in (len(expected.train), len(expected.test)):
        if not _mentions_number(last, size):
            return (
                f"the last line on stderr does not give both sizes, {len(expected.train)} and "
                f"{len(expected.test)}: {show_value(last, LINE_LIMIT)}"
            )
    if expected.groups is not None and not _mentions_number(last, expected.groups):
        return (
            f"the last line on stderr does not give the number of groups, {expected.groups}: "
            f"{show_value(last, LINE_LIMIT)}"
        )
    return ""
