"""Write .xlsx fixtures as hand-written SpreadsheetML, and the non-workbook files the cases need.

openpyxl cannot write a formula's cached value, and it always writes its own
``<dimension>``, so the golden workbooks are zipped by hand: each cell is written
exactly as declared, including the quirks real workbooks carry.
"""

from __future__ import annotations

import datetime
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Mapping, Union
from xml.sax.saxutils import escape, quoteattr

from promptgen.spec import column_letter

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELATIONSHIPS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
DOCUMENT_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SPREADSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

LAST_ROW = 1_048_576

# The 1900 date system counts days from 1899-12-30 for every date after 1900-02-28.
EPOCH_1900 = datetime.datetime(1899, 12, 30)
# The 1904 date system (old Mac workbooks, workbookPr date1904) counts from 1904-01-01.
EPOCH_1904 = datetime.datetime(1904, 1, 1)

DateStyle = Literal["date", "datetime", "time", "custom-date"]

# Index of each cell style in styles.xml's <cellXfs>; numFmtId 14, 22 and 21 are
# Excel's built-in date, date-time and time formats, 164 is a custom date format.
STYLE_INDEX: dict[str, int] = {
    "general": 0,
    "date": 1,
    "datetime": 2,
    "time": 3,
    "custom-date": 4,
    "filled": 5,
}


@dataclass(frozen=True)
class Text:
    """A string cell: shared (t="s") by default, or inline (t="inlineStr")."""

    value: str
    inline: bool = False


@dataclass(frozen=True)
class RichText:
    """A shared string made of formatted runs; readers join the runs' text."""

    runs: tuple[str, ...]


@dataclass(frozen=True)
class Number:
    """A number cell, written exactly as ``literal`` (for example "12", "12.0" or "3E+2")."""

    literal: str


@dataclass(frozen=True)
class Boolean:
    value: bool


@dataclass(frozen=True)
class ErrorValue:
    """An error cell (t="e"), such as #N/A or #DIV/0!."""

    code: str


CachedValue = Union[Text, Number, Boolean, ErrorValue]


@dataclass(frozen=True)
class Formula:
    """A formula cell; ``cached`` is the value Excel stored at its last calculation, if any."""

    expression: str
    cached: CachedValue | None = None


@dataclass(frozen=True)
class DateSerial:
    """A date, date-time or time stored as a serial number with a date number format."""

    value: datetime.datetime | datetime.date | datetime.time
    style: DateStyle


@dataclass(frozen=True)
class IsoDate:
    """A cell of type t="d" holding an ISO 8601 text, as strict OOXML writers store dates."""

    literal: str


@dataclass(frozen=True)
class Blank:
    """An empty cell that carries only a fill style, as Excel leaves after formatting a range."""


CellValue = Union[Text, RichText, Number, Boolean, ErrorValue, Formula, DateSerial, IsoDate, Blank]

SheetState = Literal["visible", "hidden", "veryHidden"]


@dataclass(frozen=True)
class Worksheet:
    """One worksheet: cells keyed by 1-based (row, column), and the sheet-level XML quirks.

    ``dimension`` is "auto" for the true used range, None to leave the element
    out, or a literal range such as "A1:XFD1048576".
    """

    name: str
    cells: Mapping[tuple[int, int], CellValue]
    state: SheetState = "visible"
    dimension: str | None = "auto"
    merged: tuple[str, ...] = ()
    empty_rows: tuple[int, ...] = field(default=())


def excel_serial(value: datetime.datetime | datetime.date | datetime.time, *, date1904: bool = False) -> str:
    """Return the serial number Excel stores for ``value``, as the text of a ``<v>`` element."""
    if isinstance(value, datetime.time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        return repr(seconds / 86_400)
    if not isinstance(value, datetime.datetime):
        value = datetime.datetime(value.year, value.month, value.day)
    delta = value - (EPOCH_1904 if date1904 else EPOCH_1900)
    if delta.seconds == 0 and delta.microseconds == 0:
        return str(delta.days)
    return repr(delta.days + delta.seconds / 86_400)


class _SharedStrings:
    def __init__(self) -> None:
        self.items: list[str] = []
        self._index: dict[str, int] = {}

    def add(self, xml: str) -> int:
        if xml not in self._index:
            self._index[xml] = len(self.items)
            self.items.append(xml)
        return self._index[xml]


def _text_element(text: str) -> str:
    # Excel keeps leading and trailing whitespace only under xml:space="preserve". A
    # literal CR would be normalised to LF by any XML parser, so it is a character
    # reference.
    body = escape(text).replace("\r", "&#13;")
    if text != text.strip():
        return f'<t xml:space="preserve">{body}</t>'
    return f"<t>{body}</t>"


def _value_xml(value: CellValue, strings: _SharedStrings, date1904: bool) -> tuple[str, str]:
    """Return the cell's attributes (after r=) and its inner XML."""
    if isinstance(value, Text):
        if value.inline:
            return ' t="inlineStr"', f"<is>{_text_element(value.value)}</is>"
        return ' t="s"', f"<v>{strings.add(_text_element(value.value))}</v>"
    if isinstance(value, RichText):
        runs = "".join(f"<r><rPr><b/></rPr>{_text_element(run)}</r>" for run in value.runs)
        return ' t="s"', f"<v>{strings.add(runs)}</v>"
    if isinstance(value, Number):
        return "", f"<v>{value.literal}</v>"
    if isinstance(value, Boolean):
        return ' t="b"', f"<v>{int(value.value)}</v>"
    if isinstance(value, ErrorValue):
        return ' t="e"', f"<v>{escape(value.code)}</v>"
    if isinstance(value, Formula):
        return _formula_xml(value)
    if isinstance(value, DateSerial):
        style = STYLE_INDEX[value.style]
        return f' s="{style}"', f"<v>{excel_serial(value.value, date1904=date1904)}</v>"
    if isinstance(value, IsoDate):
        return f' s="{STYLE_INDEX["date"]}" t="d"', f"<v>{escape(value.literal)}</v>"
    return f' s="{STYLE_INDEX["filled"]}"', ""


def _formula_xml(value: Formula) -> tuple[str, str]:
    formula = f"<f>{escape(value.expression)}</f>"
    cached = value.cached
    if cached is None:
        return "", formula
    if isinstance(cached, Text):
        # A formula's string result is stored in the cell (t="str"), never in sharedStrings.
        return ' t="str"', f"{formula}<v>{escape(cached.value)}</v>"
    if isinstance(cached, Boolean):
        return ' t="b"', f"{formula}<v>{int(cached.value)}</v>"
    if isinstance(cached, ErrorValue):
        return ' t="e"', f"{formula}<v>{escape(cached.code)}</v>"
    return "", f"{formula}<v>{cached.literal}</v>"


def _used_range(cells: Mapping[tuple[int, int], CellValue]) -> str:
    if not cells:
        return "A1"
    last_row = max(row for row, _ in cells)
    last_column = max(column for _, column in cells)
    first_row = min(row for row, _ in cells)
    first_column = min(column for _, column in cells)
    return f"{column_letter(first_column)}{first_row}:{column_letter(last_column)}{last_row}"


def _worksheet_xml(sheet: Worksheet, strings: _SharedStrings, date1904: bool) -> str:
    rows: dict[int, list[tuple[int, CellValue]]] = {number: [] for number in sheet.empty_rows}
    for (row, column), value in sheet.cells.items():
        rows.setdefault(row, []).append((column, value))

    parts = [XML_DECLARATION, f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{RELATIONSHIPS_NS}">']
    if sheet.dimension == "auto":
        parts.append(f'<dimension ref="{_used_range(sheet.cells)}"/>')
    elif sheet.dimension is not None:
        parts.append(f'<dimension ref="{sheet.dimension}"/>')
    parts.append("<sheetData>")
    for row in sorted(rows):
        cells = sorted(rows[row], key=lambda item: item[0])
        if not cells:
            parts.append(f'<row r="{row}"/>')
            continue
        parts.append(f'<row r="{row}">')
        for column, value in cells:
            attributes, inner = _value_xml(value, strings, date1904)
            reference = f"{column_letter(column)}{row}"
            if inner:
                parts.append(f'<c r="{reference}"{attributes}>{inner}</c>')
            else:
                parts.append(f'<c r="{reference}"{attributes}/>')
        parts.append("</row>")
    parts.append("</sheetData>")
    if sheet.merged:
        merges = "".join(f'<mergeCell ref="{reference}"/>' for reference in sheet.merged)
        parts.append(f'<mergeCells count="{len(sheet.merged)}">{merges}</mergeCells>')
    parts.append("</worksheet>")
    return "".join(parts)


def _shared_strings_xml(strings: _SharedStrings) -> str:
    items = "".join(f"<si>{item}</si>" for item in strings.items)
    count = len(strings.items)
    return f'{XML_DECLARATION}<sst xmlns="{MAIN_NS}" count="{count}" uniqueCount="{count}">{items}</sst>'


def _styles_xml() -> str:
    return (
        f'{XML_DECLARATION}<styleSheet xmlns="{MAIN_NS}">'
        '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/></numFmts>'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="3"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill>'
        '<fill><patternFill patternType="solid"><fgColor rgb="FFFFFF00"/><bgColor indexed="64"/></patternFill></fill>'
        "</fills>"
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="6">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="22" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="21" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="0" fontId="0" fillId="2" borderId="0" xfId="0" applyFill="1"/>'
        "</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


def _workbook_xml(sheets: list[Worksheet], date1904: bool, active: int) -> str:
    entries = []
    for number, sheet in enumerate(sheets, start=1):
        state = "" if sheet.state == "visible" else f' state="{sheet.state}"'
        entries.append(f'<sheet name={quoteattr(sheet.name)} sheetId="{number}"{state} r:id="rId{number}"/>')
    properties = '<workbookPr date1904="1"/>' if date1904 else "<workbookPr/>"
    return (
        f'{XML_DECLARATION}<workbook xmlns="{MAIN_NS}" xmlns:r="{RELATIONSHIPS_NS}">{properties}'
        f'<bookViews><workbookView activeTab="{active}"/></bookViews>'
        f'<sheets>{"".join(entries)}</sheets></workbook>'
    )


def _workbook_rels_xml(sheet_count: int) -> str:
    relations = [
        f'<Relationship Id="rId{number}" Type="{DOCUMENT_TYPE}/worksheet" Target="worksheets/sheet{number}.xml"/>'
        for number in range(1, sheet_count + 1)
    ]
    relations.append(
        f'<Relationship Id="rId{sheet_count + 1}" Type="{DOCUMENT_TYPE}/styles" Target="styles.xml"/>'
    )
    relations.append(
        f'<Relationship Id="rId{sheet_count + 2}" Type="{DOCUMENT_TYPE}/sharedStrings" Target="sharedStrings.xml"/>'
    )
    return f'{XML_DECLARATION}<Relationships xmlns="{PACKAGE_RELATIONSHIPS_NS}">{"".join(relations)}</Relationships>'


def _content_types_xml(sheet_count: int) -> str:
    overrides = [
        f'<Override PartName="/xl/workbook.xml" ContentType="{SPREADSHEET_TYPE}.sheet.main+xml"/>',
        f'<Override PartName="/xl/styles.xml" ContentType="{SPREADSHEET_TYPE}.styles+xml"/>',
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SPREADSHEET_TYPE}.sharedStrings+xml"/>',
    ]
    overrides.extend(
        f'<Override PartName="/xl/worksheets/sheet{number}.xml" ContentType="{SPREADSHEET_TYPE}.worksheet+xml"/>'
        for number in range(1, sheet_count + 1)
    )
    return (
        f'{XML_DECLARATION}<Types xmlns="{CONTENT_TYPES_NS}">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'{"".join(overrides)}</Types>'
    )


def _package_rels_xml() -> str:
    return (
        f'{XML_DECLARATION}<Relationships xmlns="{PACKAGE_RELATIONSHIPS_NS}">'
        f'<Relationship Id="rId1" Type="{DOCUMENT_TYPE}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    )


def write_workbook(
    path: Path, sheets: list[Worksheet], *, date1904: bool = False, active: int | None = None
) -> None:
    """Write ``sheets`` to ``path`` as an .xlsx package.

    ``active`` is the index of the sheet Excel opens on (openpyxl's ``wb.active``);
    by default the first visible sheet.
    """
    if active is None:
        active = next((index for index, sheet in enumerate(sheets) if sheet.state == "visible"), 0)
    strings = _SharedStrings()
    sheet_parts = [_worksheet_xml(sheet, strings, date1904) for sheet in sheets]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", _content_types_xml(len(sheets)))
        package.writestr("_rels/.rels", _package_rels_xml())
        package.writestr("xl/workbook.xml", _workbook_xml(sheets, date1904, active))
        package.writestr("xl/_rels/workbook.xml.rels", _workbook_rels_xml(len(sheets)))
        package.writestr("xl/styles.xml", _styles_xml())
        package.writestr("xl/sharedStrings.xml", _shared_strings_xml(strings))
        for number, part in enumerate(sheet_parts, start=1):
            package.writestr(f"xl/worksheets/sheet{number}.xml", part)


OLE2_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
_FREE_SECTOR = 0xFFFFFFFF
_END_OF_CHAIN = 0xFFFFFFFE
_FAT_SECTOR = 0xFFFFFFFD
_NO_STREAM = 0xFFFFFFFF


def _directory_entry(name: str, entry_type: int, child: int = _NO_STREAM, right: int = _NO_STREAM) -> bytes:
    encoded = (name + "\0").encode("utf-16-le")
    return struct.pack(
        "<64sHBBIII16sIQQIQ",
        encoded,
        len(encoded),
        entry_type,
        1,  # black node in the red-black tree of directory entries
        _NO_STREAM,
        right,
        child,
        b"\0" * 16,
        0,
        0,
        0,
        _END_OF_CHAIN,
        0,
    )


def write_ole2(path: Path, streams: tuple[str, ...]) -> None:
    """Write a minimal OLE2 compound file whose directory lists empty ``streams``.

    An old .xls workbook contains a "Workbook" stream, and an encrypted .xlsx
    contains "EncryptionInfo" and "EncryptedPackage". The stream contents are left empty
    because the scripts only look at the signature and the directory names.
    """
    header = bytearray(512)
    header[0:8] = OLE2_SIGNATURE
    struct.pack_into(
        "<HHHHH6sIIIIIIIII",
        header,
        24,
        0x003E,  # minor version
        0x0003,  # major version 3: 512-byte sectors
        0xFFFE,  # byte order mark: little-endian
        9,  # sector size 2**9
        6,  # mini sector size 2**6
        b"\0" * 6,
        0,  # directory sectors (always 0 in version 3)
        1,  # FAT sectors
        1,  # first directory sector
        0,  # transaction signature
        4096,  # mini stream cutoff size
        _END_OF_CHAIN,  # first mini FAT sector
        0,  # mini FAT sectors
        _END_OF_CHAIN,  # first DIFAT sector
        0,  # DIFAT sectors
    )
    difat = [0] + [_FREE_SECTOR] * 108
    struct.pack_into("<109I", header, 76, *difat)

    fat = [_FAT_SECTOR, _END_OF_CHAIN] + [_FREE_SECTOR] * 126
    fat_sector = struct.pack("<128I", *fat)

    entries = [_directory_entry("Root Entry", 5, child=1 if streams else _NO_STREAM)]
    for position, name in enumerate(streams, start=1):
        right = position + 1 if position < len(streams) else _NO_STREAM
        entries.append(_directory_entry(name, 2, right=right))
    directory = b"".join(entries).ljust(512, b"\0")
    if len(directory) > 512:
        raise ValueError(f"too many streams for one directory sector: {len(streams)}; give at most 3")
    path.write_bytes(bytes(header) + fat_sector + directory)
