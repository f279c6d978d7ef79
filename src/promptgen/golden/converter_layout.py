"""Lay out declared converter rows on a worksheet for one script's settings, and derive the expected records.

A converter case declares its data rows once: the cell written for the input and
the output, and the text each cell must become. The layout puts those cells in
the columns the settings name (by letter, or under a header text), writes
``header_rows`` header rows above them, and fills decoy columns that a correct
script never reads. The expected records then follow from the contract's row
rules: strip, both-missing rows skipped silently, and the ``on_missing`` policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from promptgen.golden.model import ExpectConversion, ExpectFailure, Mention
from promptgen.golden.xlsx import Blank, CellValue, Number, Text, Worksheet
from promptgen.spec import MAX_COLUMN_INDEX, ConverterSettings, column_index, column_letter, is_column_letter

Role = Literal["input", "output"]
ROLES: tuple[Role, ...] = ("input", "output")

# Columns tried, in order, for a column the settings give as header text. They
# leave column A empty, so a script that reads column A by default finds no data.
_HEADER_TEXT_POSITIONS = (3, 5, 2, 6, 4, 7, 8, 9, 10, 1)


@dataclass(frozen=True)
class Cell:
    """A declared cell: what is written (None: no cell at all) and the text it must become.

    ``text`` is the text with strip off; None means the cell is missing.
    """

    value: CellValue | None
    text: str | None


EMPTY = Cell(None, None)


def text(value: str) -> Cell:
    """Declare a shared-string cell, which becomes its own text."""
    return Cell(Text(value), value)


def number(literal: str, expected: str) -> Cell:
    """Declare a number cell written as ``literal`` in the XML."""
    return Cell(Number(literal), expected)


@dataclass(frozen=True)
class Row:
    """A declared data row; ``gap_before`` rows are left out of the XML before it."""

    input: Cell
    output: Cell
    gap_before: int = 0
    decoys: bool = True


@dataclass(frozen=True)
class Merge:
    """A vertical merged range in the input or output column, starting at declared row ``first``."""

    role: Role
    first: int
    rows: int


@dataclass(frozen=True)
class Columns:
    """1-based column positions of the input, the output and the decoy columns."""

    input: int
    output: int
    decoys: tuple[int, ...]

    def of(self, role: Role) -> int:
        return self.input if role == "input" else self.output


def column_setting(settings: ConverterSettings, role: Role) -> str:
    return settings.input_col if role == "input" else settings.output_col


def header_text(settings: ConverterSettings, role: Role) -> str | None:
    """Return the header text that names the ``role`` column, or None when it is given as a letter."""
    column = column_setting(settings, role)
    return None if is_column_letter(column) else column


def place_columns(settings: ConverterSettings) -> Columns:
    """Choose the column of each role, and up to three decoy columns around them."""
    used: set[int] = set()
    positions: dict[Role, int] = {}
    for role in ROLES:
        if header_text(settings, role) is None:
            positions[role] = column_index(column_setting(settings, role))
            used.add(positions[role])
    for role in ROLES:
        if role not in positions:
            positions[role] = next(index for index in _HEADER_TEXT_POSITIONS if index not in used)
            used.add(positions[role])

    low, high = min(used), max(used)
    candidates = [low - 1, *range(low + 1, high), high + 1]
    free = [index for index in candidates if 1 <= index <= MAX_COLUMN_INDEX and index not in used]
    decoys = tuple(free[:1] + free[-2:]) if len(free) > 3 else tuple(free)
    return Columns(input=positions["input"], output=positions["output"], decoys=tuple(sorted(set(decoys))))


def unused_label(label: str, settings: ConverterSettings) -> str:
    """Return ``label``, changed if it would equal a header text the settings look for."""
    searched_texts = {header_text(settings, "input"), header_text(settings, "output")}
    while label in searched_texts:
        label += " (other)"
    return label


def header_cells(settings: ConverterSettings, columns: Columns) -> dict[tuple[int, int], CellValue]:
    """Return the header rows' cells: a title row, then the column labels in row ``header_rows``.

    A header text the settings look for is also written in an earlier header row
    above a decoy column, so that only the last header row names the right column.
    The input's header cell has spaces around it, which header matching strips.
    """
    rows = settings.header_rows
    if rows == 0:
        return {}
    cells: dict[tuple[int, int], CellValue] = {}
    for row in range(1, rows):
        cells[(row, min(columns.input, columns.output))] = Text(f"Drug questions, header row {row}")
        for position, decoy in enumerate(columns.decoys):
            cells[(row, decoy)] = Text(header_text(settings, ROLES[position % 2]) or f"Group {row}")

    labels: dict[Role, str] = {"input": "Question", "output": "Answer"}
    for role in ROLES:
        searched = header_text(settings, role)
        label = searched if searched is not None else unused_label(labels[role], settings)
        if role == "input" and searched is not None:
            label = f"  {label} "
        cells[(rows, columns.of(role))] = Text(label)
    for position, decoy in enumerate(columns.decoys, start=1):
        cells[(rows, decoy)] = Text(unused_label(f"Note {position}", settings))
    return cells


@dataclass(frozen=True)
class LaidOutRows:
    """Declared rows placed on the sheet: the cells, each row's Excel number and the empty <row> elements."""

    cells: dict[tuple[int, int], CellValue]
    numbers: tuple[int, ...]
    empty_rows: tuple[int, ...]


def lay_out_rows(rows: tuple[Row, ...], columns: Columns, first_row: int) -> LaidOutRows:
    """Place ``rows`` from Excel row ``first_row`` on, with decoy values in the decoy columns."""
    cells: dict[tuple[int, int], CellValue] = {}
    numbers: list[int] = []
    empty_rows: list[int] = []
    number = first_row - 1
    for row in rows:
        number += 1 + row.gap_before
        numbers.append(number)
        written = 0
        for column, cell in ((columns.input, row.input), (columns.output, row.output)):
            if cell.value is not None:
                cells[(number, column)] = cell.value
                written += 1
        if row.decoys:
            for position, decoy in enumerate(columns.decoys):
                cells[(number, decoy)] = Number(str(number)) if position % 2 else Text(f"decoy {number}")
                written += 1
        if written == 0:
            empty_rows.append(number)
    return LaidOutRows(cells=cells, numbers=tuple(numbers), empty_rows=tuple(empty_rows))


def merged_ranges(
    merges: tuple[Merge, ...], rows: tuple[Row, ...], laid_out: LaidOutRows, columns: Columns
) -> tuple[str, ...]:
    """Return the merged ranges as A1 references, after checking that the covered cells are declared blank."""
    references = []
    for merge in merges:
        for covered in rows[merge.first + 1 : merge.first + merge.rows]:
            cell = covered.input if merge.role == "input" else covered.output
            if not isinstance(cell.value, Blank) or cell.text is not None:
                raise ValueError("a cell covered by a merged range must be declared as Cell(Blank(), None)")
        letter = column_letter(columns.of(merge.role))
        first = laid_out.numbers[merge.first]
        last = laid_out.numbers[merge.first + merge.rows - 1]
        references.append(f"{letter}{first}:{letter}{last}")
    return tuple(references)


def conversion_sheet(
    settings: ConverterSettings,
    rows: tuple[Row, ...],
    *,
    merges: tuple[Merge, ...] = (),
    name: str | None = None,
    dimension: str | None = "auto",
    extra_cells: dict[tuple[int, int], CellValue] | None = None,
) -> tuple[Worksheet, tuple[int, ...]]:
    """Build the worksheet holding ``rows`` for ``settings``; also return each row's Excel number."""
    columns = place_columns(settings)
    cells = header_cells(settings, columns)
    laid_out = lay_out_rows(rows, columns, settings.header_rows + 1)
    cells.update(laid_out.cells)
    if extra_cells:
        cells.update(extra_cells)
    sheet = Worksheet(
        name=settings.sheet if name is None else name,
        cells=cells,
        dimension=dimension,
        merged=merged_ranges(merges, rows, laid_out, columns),
        empty_rows=laid_out.empty_rows,
    )
    return sheet, laid_out.numbers


def _final_text(text: str | None, strip: bool) -> str | None:
    if text is None:
        return None
    if strip:
        text = text.strip()
    return text if text else None


def conversation_record(system: str, input_text: str, output_text: str) -> dict[str, object]:
    """Return one record in the contract's shape, leaving "system" out when it is empty."""
    turn: dict[str, str] = {}
    if system:
        turn["system"] = system
    turn["input"] = input_text
    turn["output"] = output_text
    return {"conversation": [turn]}


def expect_rows(
    rows: tuple[Row, ...], numbers: tuple[int, ...], settings: ConverterSettings
) -> ExpectConversion | ExpectFailure:
    """Apply the contract's row rules to the declared rows."""
    records = []
    skipped: list[int] = []
    blank: list[int] = []
    for row, number in zip(rows, numbers):
        input_text = _final_text(row.input.text, settings.strip)
        output_text = _final_text(row.output.text, settings.strip)
        if input_text is None and output_text is None:
            blank.append(number)
            continue
        if input_text is None or output_text is None:
            missing = "input" if input_text is None else "output"
            if settings.on_missing == "skip":
                skipped.append(number)
                continue
            if settings.on_missing == "error":
                return ExpectFailure(
                    reason=f"row {number} has a missing {missing} and on_missing is 'error'",
                    mentions=(Mention(rf"\b{number}\b", f"row {number}"),),
                )
        records.append(conversation_record(settings.system, input_text or "", output_text or ""))
    # Rows skipped for a missing cell are still data rows, so a sheet of only such rows
    # converts to zero records. A case without any such row is declared wrongly.
    if not records and not skipped:
        raise ValueError("a golden conversion case must declare at least one row with a value")
    return ExpectConversion(
        records=tuple(records),
        output_format=settings.format,
        skipped_rows=tuple(skipped),
        blank_rows=tuple(blank),
    )
