"""Typed settings for the two kinds of script, and the checks on their values.

A generated script has its settings baked in, so these values travel through
every stage: the prompt, the reference script, the golden cases and the manifest.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Literal, Union

from promptgen.errors import SettingsError

Kind = Literal["converter", "splitter"]
KINDS: tuple[Kind, ...] = ("converter", "splitter")

OnMissing = Literal["skip", "error", "keep"]
ON_MISSING: tuple[OnMissing, ...] = ("skip", "error", "keep")

OutputFormat = Literal["jsonl", "json"]
OUTPUT_FORMATS: tuple[OutputFormat, ...] = ("jsonl", "json")

Engine = Literal["openpyxl", "calamine"]
ENGINES: tuple[Engine, ...] = ("openpyxl", "calamine")

GroupBy = Literal["none", "input"]
GROUP_BY: tuple[GroupBy, ...] = ("none", "input")

# Excel's last column is XFD (16,384); a longer run of letters is header text.
_COLUMN_LETTERS = re.compile(r"[A-Z]{1,3}")
MAX_COLUMN_INDEX = 16_384

SPLITTER_DEFAULT_SEED = 42


def is_column_letter(text: str) -> bool:
    """Return True when ``text`` names a column by letters (A to XFD), not by header text."""
    return _COLUMN_LETTERS.fullmatch(text) is not None and column_index(text) <= MAX_COLUMN_INDEX


def column_index(letters: str) -> int:
    """Return the 1-based index of a column given as letters: A is 1, Z is 26, AA is 27."""
    index = 0
    for letter in letters:
        index = index * 26 + (ord(letter) - ord("A") + 1)
    return index


def column_letter(index: int) -> str:
    """Return the letters of a 1-based column index: 1 is A, 27 is AA."""
    letters = ""
    while index > 0:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def parse_ratio(text: str) -> tuple[int, int]:
    """Parse a train:test ratio such as ``7:3`` into two positive integers."""
    match = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", text)
    if match is None:
        raise SettingsError(
            f"invalid ratio {text!r}: give two whole numbers as TRAIN:TEST, for example --ratio 7:3"
        )
    train, test = int(match.group(1)), int(match.group(2))
    if train == 0 or test == 0:
        raise SettingsError(
            f"invalid ratio {text!r}: both parts must be at least 1, "
            "because an empty train or test part is useless; for example --ratio 7:3"
        )
    return train, test


def format_ratio(ratio: tuple[int, int]) -> str:
    return f"{ratio[0]}:{ratio[1]}"


def _check_choice(option: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise SettingsError(
            f"invalid {option} {value!r}: choose one of {', '.join(choices)}"
        )


def _check_column(option: str, value: str, header_rows: int) -> None:
    if not value.strip():
        raise SettingsError(
            f"invalid {option} {value!r}: give a column letter such as A, or the column's header text"
        )
    if _COLUMN_LETTERS.fullmatch(value) and column_index(value) > MAX_COLUMN_INDEX:
        raise SettingsError(
            f"invalid {option} {value!r}: Excel's last column is XFD; give a column from A to XFD"
        )
    if not is_column_letter(value) and header_rows < 1:
        raise SettingsError(
            f"{option} {value!r} is header text, but --header-rows is 0; "
            "give the column as a letter, or set --header-rows to the number of header rows"
        )


@dataclass(frozen=True)
class ConverterSettings:
    """Settings baked into a converter script: which cells become which turn fields."""

    sheet: str
    input_col: str = "A"
    output_col: str = "D"
    system: str = ""
    header_rows: int = 1
    on_missing: OnMissing = "skip"
    strip: bool = True
    format: OutputFormat = "jsonl"
    engine: Engine = "openpyxl"

    def __post_init__(self) -> None:
        if not self.sheet:
            raise SettingsError("missing --sheet: give the worksheet name, for example --sheet DrugQA")
        if self.header_rows < 0:
            raise SettingsError(
                f"invalid --header-rows {self.header_rows}: give 0 or more rows to skip above the data"
            )
        _check_column("--input-col", self.input_col, self.header_rows)
        _check_column("--output-col", self.output_col, self.header_rows)
        if self.input_col == self.output_col:
            raise SettingsError(
                f"--input-col and --output-col are both {self.input_col!r}: give two different columns"
            )
        _check_choice("--on-missing", self.on_missing, ON_MISSING)
        _check_choice("--format", self.format, OUTPUT_FORMATS)
        _check_choice("--engine", self.engine, ENGINES)

    @property
    def output_suffix(self) -> str:
        return ".json" if self.format == "json" else ".jsonl"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConverterSettings:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)


@dataclass(frozen=True)
class SplitterSettings:
    """Settings baked into a splitter script: the train:test ratio, seed and grouping."""

    ratio: tuple[int, int] = (7, 3)
    seed: int = SPLITTER_DEFAULT_SEED
    group_by: GroupBy = "none"

    def __post_init__(self) -> None:
        train, test = self.ratio
        if train < 1 or test < 1:
            raise SettingsError(
                f"invalid ratio {format_ratio(self.ratio)!r}: both parts must be at least 1, for example --ratio 7:3"
            )
        _check_choice("--group-by", self.group_by, GROUP_BY)

    def to_dict(self) -> dict[str, Any]:
        return {"ratio": format_ratio(self.ratio), "seed": self.seed, "group_by": self.group_by}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SplitterSettings:
        ratio = data.get("ratio", "7:3")
        parsed = parse_ratio(ratio) if isinstance(ratio, str) else (int(ratio[0]), int(ratio[1]))
        return cls(
            ratio=parsed,
            seed=int(data.get("seed", SPLITTER_DEFAULT_SEED)),
            group_by=data.get("group_by", "none"),
        )


Settings = Union[ConverterSettings, SplitterSettings]


def settings_from_dict(kind: Kind, data: dict[str, Any]) -> Settings:
    """Rebuild typed settings from the plain dict stored in a manifest entry."""
    if kind == "converter":
        return ConverterSettings.from_dict(data)
    return SplitterSettings.from_dict(data)


def kind_of(settings: Settings) -> Kind:
    return "converter" if isinstance(settings, ConverterSettings) else "splitter"
