"""The plain data of golden cases: a declared case, a prepared run and its outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Union

from promptgen.spec import ConverterSettings, Kind, OutputFormat, Settings, kind_of

# Seconds a script may run on one golden case. The reference scripts need under a
# second per case on a 2-core machine, so the margin allows for loaded CI machines.
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class Mention:
    """Something the error message must name, as a regular expression; ``what`` names it in a message."""

    pattern: str
    what: str
    case_sensitive: bool = False


@dataclass(frozen=True)
class ExpectFailure:
    """The script must fail: non-zero exit, one line on stderr naming ``mentions``, no new output.

    ``unchanged_outputs`` lists output files that existed before the run, with
    their bytes, which the failed run must leave as they were.
    """

    reason: str
    mentions: tuple[Mention, ...] = ()
    unchanged_outputs: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True)
class ExpectConversion:
    """The converter must write exactly ``records`` and report ``skipped_rows`` on stderr."""

    records: tuple[dict[str, Any], ...]
    output_format: OutputFormat
    skipped_rows: tuple[int, ...] = ()
    blank_rows: tuple[int, ...] = ()


@dataclass(frozen=True)
class ExpectSplit:
    """The splitter must write the input records at these 0-based positions to train and test."""

    records: tuple[dict[str, Any], ...]
    train: tuple[int, ...]
    test: tuple[int, ...]
    ratio: tuple[int, int]
    seed: int
    groups: int | None = None


Expected = Union[ExpectFailure, ExpectConversion, ExpectSplit]


@dataclass(frozen=True)
class Preparation:
    """The run arguments, outputs and expectation a case builder returns, before they are tied to the case."""

    args: tuple[str, ...]
    outputs: tuple[str, ...]
    expected: Expected
    inputs: tuple[str, ...]
    timeout: float = DEFAULT_TIMEOUT


Builder = Callable[[Any, Path], Preparation]


@dataclass(frozen=True)
class GoldenCase:
    """One declared case: its inputs and expectations follow from the settings of the script under test."""

    name: str
    kind: Kind
    description: str
    build: Builder = field(repr=False, compare=False)

    def prepare(self, settings: Settings, workdir: Path) -> PreparedCase:
        """Write this case's input files into ``workdir`` for a script baked with ``settings``."""
        if kind_of(settings) != self.kind:
            raise ValueError(
                f"golden case {self.name!r} is a {self.kind} case; pass {self.kind} settings, "
                f"not {type(settings).__name__}"
            )
        preparation = self.build(settings, workdir)
        return PreparedCase(
            case=self,
            args=preparation.args,
            outputs=preparation.outputs,
            expected=preparation.expected,
            timeout=preparation.timeout,
            inputs=preparation.inputs,
        )


@dataclass(frozen=True)
class PreparedCase:
    """One case written into a working folder: how to run the script and what it must do.

    ``args`` and ``outputs`` are relative to the working folder. ``inputs`` are the
    files and folders the case wrote there, so that any other file the script
    leaves behind can be reported.
    """

    case: GoldenCase
    args: tuple[str, ...]
    outputs: tuple[str, ...]
    expected: Expected
    timeout: float
    inputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class CaseOutcome:
    """Whether a script passed one golden case; ``message`` names the first fault in plain words."""

    name: str
    passed: bool
    message: str = ""


def output_name(settings: ConverterSettings) -> str:
    return "conversations" + settings.output_suffix
