"""Golden cases: declared inputs, expectations that follow from the script contract, and the checks.

Usage, for a script baked with ``settings``::

    for case in golden_cases(kind_of(settings)):
        prepared = case.prepare(settings, workdir)          # a fresh folder per case
        result = run_script(script, prepared.args, workdir=workdir, timeout=prepared.timeout)
        outcome = check_outcome(prepared, result, workdir)

Expected records come from each case's declaration and the contract's rules in
docs/script-contract.md, never from running the reference script.
"""

from __future__ import annotations

from promptgen.golden.converter_cases import converter_cases
from promptgen.golden.model import (
    CaseOutcome,
    Expected,
    ExpectConversion,
    ExpectFailure,
    ExpectSplit,
    GoldenCase,
    Mention,
    PreparedCase,
)
from promptgen.golden.outcome import check_outcome
from promptgen.golden.output import diff_records, read_output, serialize_records
from promptgen.golden.splitter_cases import split_sizes, splitter_cases
from promptgen.spec import KINDS, Kind

__all__ = [
    "CaseOutcome",
    "ExpectConversion",
    "ExpectFailure",
    "ExpectSplit",
    "Expected",
    "GoldenCase",
    "Mention",
    "PreparedCase",
    "check_outcome",
    "diff_records",
    "golden_cases",
    "read_output",
    "serialize_records",
    "split_sizes",
]


def golden_cases(kind: Kind) -> list[GoldenCase]:
    """Return the golden cases for scripts of ``kind``, "converter" or "splitter"."""
    if kind == "converter":
        return converter_cases()
    if kind == "splitter":
        return splitter_cases()
    raise ValueError(f"unknown script kind {kind!r}; choose one of {', '.join(KINDS)}")
