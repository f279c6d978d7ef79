# Convert worksheet 'DrugQA' of an .xlsx workbook into XTuner conversation records (JSON Lines).
# Usage: python convert_drugqa.py INPUT.xlsx OUTPUT.jsonl
# Written by promptgen 0.1.0 from template converter v1 (provider: reference).
# Settings: sheet='DrugQA', input_col='A', output_col='D', system='You are a careful pharmacist.',
#   header_rows=1, on_missing='skip', strip=True, format='jsonl', engine='openpyxl'
"""Convert one worksheet of an .xlsx workbook into XTuner single-turn conversations.

Usage: python converter.py INPUT.xlsx OUTPUT

Each data row becomes {"conversation": [{"system": ..., "input": ..., "output": ...}]},
written as JSON Lines or as one JSON array. Records are written as they are read to
a temporary file beside OUTPUT, which replaces OUTPUT only when the whole sheet has
been converted, so a failed run leaves no output behind. Errors are one line on
stderr with exit status 1 (2 for command-line mistakes, 130 when interrupted).

ENGINE = "calamine" reads the sheet with python_calamine, which is several times faster
than openpyxl but keeps the whole sheet in memory. Where python_calamine cannot give
the values openpyxl gives, the script reads the workbook with openpyxl instead.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import itertools
import json
import os
import re
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Callable, Iterator, NoReturn, Sequence, TextIO

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet
    from python_calamine import CalamineSheet

# Settings baked in when promptgen wrote this script.
SHEET = "DrugQA"
INPUT_COLUMN = "A"
OUTPUT_COLUMN = "D"
SYSTEM = "You are a careful pharmacist."
HEADER_ROWS = 1
ON_MISSING = "skip"
STRIP = True
OUTPUT_FORMAT = "jsonl"
ENGINE = "openpyxl"

# An old .xls workbook and an encrypted .xlsx workbook are both OLE2 compound files.
# The encrypted one contains a stream whose directory entry is named in UTF-16-LE.
OLE2_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
ENCRYPTION_STREAM_NAME = "EncryptionInfo".encode("utf-16-le")

# openpyxl returns a cell holding an Excel error as the error's text.
EXCEL_ERROR_CODES = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA"}
)

# json.dumps(record, ensure_ascii=False) builds a new JSONEncoder on every call and returns
# this encoder's encode(record); one shared encoder gives the same text without that cost.
RECORD_ENCODER = json.JSONEncoder(ensure_ascii=False)

# Excel's last column is XFD (16,384), so a longer run of capitals is header text.
COLUMN_LETTERS = re.compile(r"[A-Z]{1,3}")
MAX_COLUMN_INDEX = 16_384

# python_calamine (0.9.1 checked) returns every number as a 64-bit float, which represents
# whole numbers exactly only below 2**53. openpyxl returns an integer cell as an int with all its digits.
FLOAT_EXACT_INTEGER_LIMIT = 2**53

Row = Sequence[object]
# Each call starts a new pass over the worksheet's rows, from row 1.
SheetRows = Callable[[], Iterator[Row]]


class ConversionError(Exception):
    """A failure the user can fix. Its message is one line naming the value and the fix."""


class CalamineMismatch(Exception):
    """python_calamine cannot read the worksheet as openpyxl would. The message gives the reason."""


@dataclass(frozen=True)
class SheetLayout:
    """Width and last header row of a worksheet, which decide whether the column settings fit it."""

    width: int
    header_texts: tuple[str | None, ...]


class ArgumentParser(argparse.ArgumentParser):
    """An argparse parser that reports a usage mistake on one line, like every other error."""

    def error(self, message: str) -> NoReturn:
        usage = " ".join(self.format_usage().split())
        self.exit(2, f"error: {message} ({usage})\n")


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = ArgumentParser(
        description=f"Convert worksheet {SHEET!r} of an .xlsx workbook into XTuner conversation records."
    )
    parser.add_argument("input", type=Path, metavar="INPUT.xlsx", help="the workbook to read")
    written = "JSON Lines" if OUTPUT_FORMAT == "jsonl" else "JSON array"
    parser.add_argument(
        "output", type=Path, metavar="OUTPUT", help=f"the {written} file to write; its folder must exist"
    )
    return parser.parse_args(argv)


def check_settings() -> None:
    if ON_MISSING not in ("skip", "error", "keep"):
        raise ConversionError(f"invalid ON_MISSING {ON_MISSING!r}: set it to 'skip', 'error' or 'keep'")
    if OUTPUT_FORMAT not in ("jsonl", "json"):
        raise ConversionError(f"invalid OUTPUT_FORMAT {OUTPUT_FORMAT!r}: set it to 'jsonl' or 'json'")
    if ENGINE not in ("openpyxl", "calamine"):
        raise ConversionError(f"invalid ENGINE {ENGINE!r}: set it to 'openpyxl' or 'calamine'")
    if HEADER_ROWS < 0:
        raise ConversionError(f"invalid HEADER_ROWS {HEADER_ROWS}: set it to 0 or more")
    for setting, column in (("INPUT_COLUMN", INPUT_COLUMN), ("OUTPUT_COLUMN", OUTPUT_COLUMN)):
        if not is_column_letter(column) and HEADER_ROWS < 1:
            raise ConversionError(
                f"{setting} {column!r} is header text, but HEADER_ROWS is 0; "
                "give the column as a letter, or set HEADER_ROWS to the number of header rows"
            )


def is_column_letter(text: str) -> bool:
    return COLUMN_LETTERS.fullmatch(text) is not None and column_index(text) <= MAX_COLUMN_INDEX


def column_index(letters: str) -> int:
    """Return the 1-based index of a column given as letters: A is 1, AA is 27."""
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index


def column_letter(index: int) -> str:
    """Return the letters of a 1-based column index: 1 is A, 27 is AA."""
    letters = ""
    while index > 0:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def check_input_file(path: Path) -> None:
    """Reject a path that openpyxl cannot read, with a reason in the user's terms."""
    if not path.exists():
        raise ConversionError(f"input workbook {path} not found; check the path")
    if path.is_dir():
        raise ConversionError(f"input {path} is a folder; give the path of an .xlsx workbook")
    try:
        with path.open("rb") as stream:
            is_ole2 = stream.read(len(OLE2_SIGNATURE)) == OLE2_SIGNATURE
            is_encrypted = is_ole2 and stream_contains(stream, ENCRYPTION_STREAM_NAME)
    except OSError as error:
        raise ConversionError(f"cannot read input {path}: {error.strerror}; check its permissions") from error
    if is_encrypted:
        raise ConversionError(
            f"input {path} is an encrypted workbook; remove its password in Excel and save it as .xlsx"
        )
    if is_ole2:
        raise ConversionError(
            f"input {path} is an old Excel 97-2003 .xls workbook; open it in Excel and save it as .xlsx"
        )
    if not zipfile.is_zipfile(path):
        raise ConversionError(f"input {path} is not an .xlsx workbook; give a workbook saved as .xlsx")


def stream_contains(stream: BinaryIO, needle: bytes, chunk_size: int = 1 << 20) -> bool:
    """Search the rest of ``stream`` for ``needle`` one chunk at a time."""
    tail = b""
    while chunk := stream.read(chunk_size):
        window = tail + chunk
        if needle in window:
            return True
        # Keep enough of the end to find a needle that straddles two chunks.
        tail = window[-(len(needle) - 1) :]
    return False


def check_output_path(output: Path, input_path: Path) -> None:
    if output.is_dir():
        raise ConversionError(f"output {output} is a folder; give a file path inside it")
    if not output.parent.is_dir():
        raise ConversionError(
            f"output folder {output.parent} does not exist; create it or choose another output path"
        )
    if output.resolve() == input_path.resolve():
        raise ConversionError(f"output {output} is the input workbook; choose another output path")


def describe_failure(error: Exception) -> str:
    # KeyError's str() is the repr of its key, with quotes, so its first argument reads better.
    text = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
    return " ".join(text.split()) or type(error).__name__


def open_workbook(path: Path) -> Workbook:
    # Imported here, so that the calamine engine loads openpyxl only when it falls back to it.
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    # openpyxl 3.1.5 raises many exception types for a damaged workbook (seen here: BadZipFile,
    # KeyError, zlib.error, XML ParseError, InvalidFileException), so any failure inside it is one.
    except Exception as error:
        raise ConversionError(
            f"cannot read workbook {path}: {describe_failure(error)}; "
            "check that it opens in Excel and save it again"
        ) from error


def select_worksheet(workbook: Workbook, path: Path) -> ReadOnlyWorksheet:
    """Return the worksheet named exactly SHEET, or explain which sheets exist."""
    worksheets = {worksheet.title: worksheet for worksheet in workbook.worksheets}
    if SHEET in worksheets:
        return worksheets[SHEET]
    if SHEET in workbook.sheetnames:
        raise ConversionError(f"sheet {SHEET!r} in {path} is a chart sheet; set SHEET to a worksheet")

    listed = ", ".join(repr(name) for name in workbook.sheetnames)
    folded = SHEET.strip().casefold()
    near = [name for name in workbook.sheetnames if name.strip().casefold() == folded]
    hint = f"did you mean {near[0]!r}? " if near else ""
    raise ConversionError(
        f"sheet {SHEET!r} not found in {path}; {hint}the workbook has {listed}; set SHEET to the exact name"
    )


def read_rows(worksheet: ReadOnlyWorksheet, path: Path) -> Iterator[Row]:
    """Yield the value tuples of every row, from row 1, with read failures as ConversionError.

    Rows missing from the file come out empty, so a row's position is its Excel row number.
    """
    try:
        yield from worksheet.iter_rows(values_only=True)
    # A worksheet is parsed while it is read, so a damaged one fails here (see open_workbook).
    except Exception as error:
        raise ConversionError(
            f"cannot read sheet {SHEET!r} of {path}: {describe_failure(error)}; "
            "check that it opens in Excel and save it again"
        ) from error


def read_calamine_sheet(path: Path) -> CalamineSheet:
    """Read worksheet SHEET into memory with python_calamine.

    Raises CalamineMismatch when python_calamine fails on the workbook, or SHEET is not a
    worksheet in it, so that openpyxl reads it and reports any error in its own words.
    """
    # Imported here so that the openpyxl engine runs where python_calamine is not installed.
    try:
        import python_calamine
    except ImportError as error:
        raise ConversionError(
            "ENGINE is 'calamine', but python_calamine is not installed; "
            "install it with pip install python-calamine, or set ENGINE to 'openpyxl'"
        ) from error

    try:
        with python_calamine.CalamineWorkbook.from_path(path) as workbook:
            types = {metadata.name: metadata.typ for metadata in workbook.sheets_metadata}
            if types.get(SHEET) != python_calamine.SheetTypeEnum.WorkSheet:
                raise CalamineMismatch(f"{path} has no worksheet named {SHEET!r}")
            return workbook.get_sheet_by_name(SHEET)
    # python_calamine raises CalamineError subclasses for damaged workbooks, and 0.9.1 also
    # for a whole sheet that contains one #GETTING_DATA error cell.
    except python_calamine.CalamineError as error:
        raise CalamineMismatch(f"python_calamine cannot read {path}: {describe_failure(error)}") from error


def calamine_rows(sheet: CalamineSheet) -> Iterator[Row]:
    """Yield the value lists of every row, from row 1 and column A, with "" for an empty cell."""
    # NOTE: two known differences from openpyxl 3.1.5 remain. python_calamine decodes the
    # _xHHHH_ escapes of ECMA-376 text (Excel writes a carriage return as _x000D_), which openpyxl
    # keeps as written. And for a date-formatted number below 0 or after 9999-12-31, openpyxl
    # returns a 1899 date or the error text #VALUE!, where python_calamine returns a time or
    # the number. The values python_calamine returns do not show either case.
    # python_calamine 0.9.1's iter_rows yields the empty rows above the first cell with data,
    # but starts every row at the first column with data.
    first_column = sheet.start[1] if sheet.start is not None else 0
    if first_column == 0:
        yield from sheet.iter_rows()
        return
    padding = [""] * first_column
    for row in sheet.iter_rows():
        yield padding + row


def check_exact(value: object) -> None:
    """Raise CalamineMismatch for a number that python_calamine may have read with lost digits."""
    if isinstance(value, float) and abs(value) >= FLOAT_EXACT_INTEGER_LIMIT and value.is_integer():
        raise CalamineMismatch(
            f"python_calamine reads the number {value:.0f} as a float, "
            "which may have lost digits that openpyxl keeps"
        )


def cell_text(value: object, strip: bool) -> str | None:
    """Return a cell value as text, or None when the cell counts as missing."""
    if value is None:
        return None
    if isinstance(value, str):
        if value in EXCEL_ERROR_CODES:
            return None
        text = value.strip() if strip else value
        return text or None
    # bool before int, because a bool is an int in Python.
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    # datetime before date, because a datetime is a date.
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.time):
        return value.isoformat(timespec="seconds")
    if isinstance(value, datetime.timedelta):
        return duration_text(value)
    # openpyxl 3.1 returns no other type. str() keeps a type added later readable.
    return str(value)


def duration_text(value: datetime.timedelta) -> str:
    # NOTE: the script contract lists no rule for durations. openpyxl returns a timedelta
    # for a cell formatted as [h]:mm:ss, so this writes what Excel shows for that format.
    sign = "-" if value < datetime.timedelta(0) else ""
    minutes, seconds = divmod(round(abs(value.total_seconds())), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{sign}{hours}:{minutes:02d}:{seconds:02d}"


def value_at(row: Row, index: int) -> object:
    return row[index] if index < len(row) else None


def last_filled_column(row: Row) -> int:
    """Return the 1-based index of the last non-missing cell of ``row``, or 0 for none."""
    for index in range(len(row), 0, -1):
        if cell_text(row[index - 1], STRIP) is not None:
            return index
    return 0


def scan_sheet(rows: Iterator[Row]) -> SheetLayout:
    """Find the sheet's width and the texts of the last header row, holding one row at a time."""
    width = 0
    header_texts: tuple[str | None, ...] = ()
    for number, row in enumerate(rows, start=1):
        if number == HEADER_ROWS:
            header_texts = tuple(cell_text(value, strip=True) for value in row)
        width = max(width, last_filled_column(row))
    return SheetLayout(width=width, header_texts=header_texts)


def resolve_column(setting: str, column: str, layout: SheetLayout) -> int:
    """Return the 0-based position in a row of the column named by a letter or a header text."""
    if is_column_letter(column):
        index = column_index(column)
        if index > layout.width:
            last = column_letter(layout.width)
            raise ConversionError(
                f"{setting} {column} is beyond the last column with data ({last}) in sheet {SHEET!r}; "
                f"set {setting} to a column from A to {last}"
            )
        return index - 1

    if column in layout.header_texts:
        return layout.header_texts.index(column)
    headers = ", ".join(repr(text) for text in layout.header_texts if text is not None)
    found = f"the headers there are {headers}" if headers else "that row has no header texts"
    raise ConversionError(
        f"{setting} header {column!r} not found in row {HEADER_ROWS} of sheet {SHEET!r}; {found}; "
        f"set {setting} to one of them or to a column letter"
    )


def resolve_columns(layout: SheetLayout) -> tuple[int, int]:
    """Return the 0-based positions of the input and output columns, or raise the error that explains why not."""
    if layout.width == 0:
        raise no_data_rows_error()
    return (
        resolve_column("INPUT_COLUMN", INPUT_COLUMN, layout),
        resolve_column("OUTPUT_COLUMN", OUTPUT_COLUMN, layout),
    )


def make_record(input_text: str, output_text: str) -> dict[str, list[dict[str, str]]]:
    turn = {"system": SYSTEM} if SYSTEM else {}
    turn["input"] = input_text
    turn["output"] = output_text
    return {"conversation": [turn]}


class RecordWriter:
    """Writer of records, one at a time, as JSON Lines or as the text of one JSON array.

    The array form is byte-identical to json.dumps(records, ensure_ascii=False, indent=2),
    without holding the records: each record's indent=2 text is indented one more level.
    """

    def __init__(self, stream: TextIO, output_format: str) -> None:
        self.stream = stream
        self.output_format = output_format
        self.count = 0

    def write(self, record: dict[str, list[dict[str, str]]]) -> None:
        if self.output_format == "jsonl":
            self.stream.write(RECORD_ENCODER.encode(record) + "\n")
        else:
            self.stream.write("[\n" if self.count == 0 else ",\n")
            text = json.dumps(record, ensure_ascii=False, indent=2)
            self.stream.write("  " + text.replace("\n", "\n  "))
        self.count += 1

    def finish(self) -> None:
        if self.output_format == "json":
            self.stream.write("[]\n" if self.count == 0 else "\n]\n")


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[TextIO]:
    """Yield a UTF-8 text stream to a temporary file that replaces ``path`` on success.

    On any exception, KeyboardInterrupt included, the temporary file is deleted and
    ``path`` is left as it was.
    """
    descriptor, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temp_path = Path(temp_name)
    try:
        with open(descriptor, "w", encoding="utf-8", newline="\n") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp makes the file readable by its owner only; give it the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp_path, 0o666 & ~umask)
        os.replace(temp_path, path)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise


def write_records(
    rows: Iterator[Row], input_index: int, output_index: int, output: Path
) -> tuple[int, list[int]]:
    """Convert the data rows to records in ``output``. Return the record count and the skipped row numbers.

    One pass both writes the records and finds the sheet's layout. The checks that need the
    whole sheet run before the output replaces OUTPUT, in the order a first pass over the
    layout would run them, so that a failure reports the same error either way.
    """
    width = 0
    header_texts: tuple[str | None, ...] = ()
    skipped: list[tuple[int, str]] = []
    missing_error: ConversionError | None = None
    with atomic_output(output) as stream:
        writer = RecordWriter(stream, OUTPUT_FORMAT)
        for number, row in enumerate(rows, start=1):
            # Only a row longer than the width so far can widen the sheet.
            if len(row) > width:
                width = max(width, last_filled_column(row))
            if number <= HEADER_ROWS:
                if number == HEADER_ROWS:
                    header_texts = tuple(cell_text(value, strip=True) for value in row)
                continue
            if missing_error is not None:
                continue

            input_value = value_at(row, input_index)
            output_value = value_at(row, output_index)
            if ENGINE == "calamine":
                check_exact(input_value)
                check_exact(output_value)
            input_text = cell_text(input_value, STRIP)
            output_text = cell_text(output_value, STRIP)
            if input_text is None and output_text is None:
                continue
            if input_text is None or output_text is None:
                field, column = ("input", INPUT_COLUMN) if input_text is None else ("output", OUTPUT_COLUMN)
                if ON_MISSING == "error":
                    # Raised after the whole sheet is read, because a column beyond the
                    # sheet's width explains a missing cell better.
                    missing_error = ConversionError(
                        f"row {number}: {field} is missing (column {column}); "
                        "fill the cell, or set ON_MISSING to 'skip' or 'keep'"
                    )
                    continue
                if ON_MISSING == "skip":
                    skipped.append((number, field))
                    continue
            writer.write(make_record(input_text or "", output_text or ""))

        resolve_columns(SheetLayout(width=width, header_texts=header_texts))
        if missing_error is not None:
            raise missing_error
        # A sheet whose rows below the header all lack both input and output has no data
        # rows. Rows skipped for a missing input or output still count as data rows.
        if writer.count == 0 and not skipped:
            raise no_data_rows_error()
        writer.finish()

    # Printed only now, so that a failure prints nothing but its error line.
    for number, field in skipped:
        print(f"skipped row {number}: {field} is missing", file=sys.stderr)
    return writer.count, [number for number, _ in skipped]


def no_data_rows_error() -> ConversionError:
    return ConversionError(
        f"sheet {SHEET!r} has no data rows below its {HEADER_ROWS} header row(s) "
        f"in columns {INPUT_COLUMN!r} and {OUTPUT_COLUMN!r}; check SHEET, HEADER_ROWS and the columns"
    )


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def read_header_texts(rows: Iterator[Row]) -> tuple[str | None, ...]:
    """Return the texts of row HEADER_ROWS, the last header row, without reading further.

    Called only for a column given as header text, which check_settings allows only with
    HEADER_ROWS of 1 or more.
    """
    for row in itertools.islice(rows, HEADER_ROWS - 1, HEADER_ROWS):
        if ENGINE == "calamine":
            for value in row:
                check_exact(value)
        return tuple(cell_text(value, strip=True) for value in row)
    return ()


def find_column(column: str, header_texts: tuple[str | None, ...]) -> int | None:
    """Return the 0-based position of a column letter or header text, or None for a header text not found."""
    if is_column_letter(column):
        return column_index(column) - 1
    if column in header_texts:
        return header_texts.index(column)
    return None


def convert_sheet(sheet_rows: SheetRows, output: Path) -> tuple[int, list[int]]:
    """Convert the worksheet into ``output``. Return the record count and the skipped row numbers."""
    header_texts: tuple[str | None, ...] = ()
    if not (is_column_letter(INPUT_COLUMN) and is_column_letter(OUTPUT_COLUMN)):
        header_texts = read_header_texts(sheet_rows())
    input_index = find_column(INPUT_COLUMN, header_texts)
    output_index = find_column(OUTPUT_COLUMN, header_texts)
    if input_index is None or output_index is None:
        # A header text is not in the header row. This raises the error that the layout of
        # the whole sheet explains best, such as a sheet with no data rows at all.
        input_index, output_index = resolve_columns(scan_sheet(sheet_rows()))
    return write_records(sheet_rows(), input_index, output_index, output)


def convert_with_openpyxl(input_path: Path, output: Path) -> tuple[int, list[int]]:
    workbook = open_workbook(input_path)
    try:
        worksheet = select_worksheet(workbook, input_path)
        # Ignore the stored <dimension>: a missing one would drop rows, and an inflated one
        # (a formatted cell near row 1,048,576) would pad every row to the claimed width.
        worksheet.reset_dimensions()
        return convert_sheet(lambda: read_rows(worksheet, input_path), output)
    finally:
        workbook.close()


def convert_with_calamine(input_path: Path, output: Path) -> tuple[int, list[int]]:
    sheet = read_calamine_sheet(input_path)
    return convert_sheet(lambda: calamine_rows(sheet), output)


def convert(input_path: Path, output: Path) -> str:
    """Convert the workbook at ``input_path`` into ``output``. Return the summary line."""
    check_input_file(input_path)
    check_output_path(output, input_path)
    note = ""
    if ENGINE == "calamine":
        try:
            count, skipped = convert_with_calamine(input_path, output)
        except CalamineMismatch as mismatch:
            note = f"note: {mismatch}; the workbook was read with openpyxl instead"
            count, skipped = convert_with_openpyxl(input_path, output)
    else:
        count, skipped = convert_with_openpyxl(input_path, output)

    # Printed only on success, so that a failure prints nothing but its error line.
    if note:
        print(note, file=sys.stderr)
    summary = f"wrote {plural(count, 'record')} to {output}; skipped {plural(len(skipped), 'row')}"
    if skipped:
        summary += ": " + ", ".join(str(number) for number in skipped)
    return summary


def main(argv: Sequence[str]) -> int:
    arguments = parse_arguments(argv)
    try:
        check_settings()
        summary = convert(arguments.input, arguments.output)
    except ConversionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; no output was written", file=sys.stderr)
        return 130
    print(summary, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
