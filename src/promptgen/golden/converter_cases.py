"""The converter's golden cases: each declared once, laid out for the settings of the script under test."""

from __future__ import annotations

import datetime
import json
import re
import zipfile
from functools import partial
from pathlib import Path

from promptgen.golden.converter_layout import (
    EMPTY,
    ROLES,
    Cell,
    Columns,
    Merge,
    Role,
    Row,
    column_setting,
    conversion_sheet,
    expect_rows,
    header_cells,
    header_text,
    lay_out_rows,
    number,
    place_columns,
    text,
    unused_label,
)
from promptgen.golden.model import (
    DEFAULT_TIMEOUT,
    Builder,
    Expected,
    ExpectFailure,
    GoldenCase,
    Mention,
    Preparation,
    output_name,
)
from promptgen.golden.xlsx import (
    LAST_ROW,
    Blank,
    Boolean,
    CellValue,
    DateSerial,
    DateStyle,
    ErrorValue,
    Formula,
    IsoDate,
    Number,
    RichText,
    SheetState,
    Text,
    Worksheet,
    write_ole2,
    write_workbook,
)
from promptgen.spec import MAX_COLUMN_INDEX, ConverterSettings, column_index, column_letter

WORKBOOK = "workbook.xlsx"

# The inflated-dimension workbook makes openpyxl yield about a million rows. The
# reference script reads them in under a second on a 2-core machine, but a script
# that fetches each cell by position (ws.cell in read-only mode) cannot finish.
INFLATED_TIMEOUT = 20.0
INFLATED_DIMENSION = f"A1:{column_letter(MAX_COLUMN_INDEX)}{LAST_ROW}"

QUESTIONS = (
    Row(text("What is aspirin used for?"), text("Pain, fever and inflammation.")),
    Row(text("How is ibuprofen taken?"), text("By mouth, with food or milk.")),
    Row(text("Can paracetamol be taken with alcohol?"), text("Avoid heavy drinking while taking it.")),
)


def _prepare_rows(
    settings: ConverterSettings,
    workdir: Path,
    rows: tuple[Row, ...],
    merges: tuple[Merge, ...] = (),
    dimension: str | None = "auto",
    extra_cells: dict[tuple[int, int], CellValue] | None = None,
    date1904: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
) -> Preparation:
    sheet, numbers = conversion_sheet(settings, rows, merges=merges, dimension=dimension, extra_cells=extra_cells)
    write_workbook(workdir / WORKBOOK, [sheet], date1904=date1904)
    return _preparation(settings, expect_rows(rows, numbers, settings), timeout)


def _preparation(
    settings: ConverterSettings,
    expected: Expected,
    timeout: float = DEFAULT_TIMEOUT,
    workbook: str = WORKBOOK,
    inputs: tuple[str, ...] = (WORKBOOK,),
) -> Preparation:
    output = output_name(settings)
    return Preparation(args=(workbook, output), outputs=(output,), expected=expected, inputs=inputs, timeout=timeout)


def _rows_case(name: str, description: str, rows: tuple[Row, ...], **options: object) -> GoldenCase:
    return GoldenCase(
        name=name,
        kind="converter",
        description=description,
        build=partial(_prepare_rows, rows=rows, **options),
    )


def _date(value: datetime.datetime | datetime.date | datetime.time, style: DateStyle, expected: str) -> Cell:
    return Cell(DateSerial(value, style), expected)


BLANK_ROWS = (
    Row(text("What is aspirin?"), text("A salicylate.")),
    Row(EMPTY, EMPTY),
    Row(text("What is ibuprofen?"), text("A propionic acid derivative."), gap_before=3),
    Row(Cell(Text(""), None), Cell(Text(""), None), decoys=False),
    Row(Cell(Blank(), None), Cell(Blank(), None), decoys=False),
    Row(text("What is naproxen?"), text("Another NSAID.")),
    Row(EMPTY, EMPTY, decoys=False),
    Row(Cell(Blank(), None), Cell(Blank(), None), decoys=False, gap_before=4),
    Row(EMPTY, EMPTY, decoys=False, gap_before=10),
    Row(Cell(Text(""), None), EMPTY, decoys=False),
)

MISSING_OUTPUT_ROWS = (
    Row(text("What is the usual dose of aspirin?"), text("300 to 600 mg.")),
    Row(text("Is aspirin safe in pregnancy?"), EMPTY),
    Row(text("Can children take aspirin?"), Cell(Text(""), None)),
    Row(text("How should aspirin be stored?"), text("Below 25 degrees.")),
    Row(text("Does aspirin interact with warfarin?"), EMPTY, gap_before=2),
    Row(text("When does aspirin start to work?"), text("Within an hour.")),
)

MISSING_INPUT_ROWS = (
    Row(text("What is metformin for?"), text("Type 2 diabetes.")),
    Row(EMPTY, text("An answer without a question.")),
    Row(Cell(Text(""), None), text("Another answer without a question.")),
    Row(text("Is metformin taken with food?"), text("Yes, to reduce stomach upset.")),
    Row(Cell(Blank(), None), text("An answer beside a formatted empty cell.")),
)

NUMBER_ROWS = (
    Row(number("12", "12"), number("12.0", "12")),
    Row(number("12.5", "12.5"), number("-3", "-3")),
    Row(number("9007199254740993", "9007199254740993"), number("123456789.0", "123456789")),
    Row(number("3E+2", "300"), number("0.1", "0.1")),
    Row(number("1E-7", "1e-07"), number("-0.5", "-0.5")),
    Row(number("0", "0"), number("0.0", "0")),
    Row(text("12.0"), number("2.50", "2.5")),
)

BOOLEAN_ROWS = (
    Row(Cell(Boolean(True), "TRUE"), Cell(Boolean(False), "FALSE")),
    Row(text("Is aspirin sold over the counter?"), Cell(Boolean(True), "TRUE")),
    Row(Cell(Boolean(False), "FALSE"), text("FALSE is written as text here.")),
)

DATE_ROWS = (
    Row(
        _date(datetime.date(2020, 1, 2), "date", "2020-01-02"),
        _date(datetime.datetime(2020, 1, 2), "datetime", "2020-01-02"),
    ),
    Row(
        _date(datetime.datetime(2020, 2, 29, 13, 45, 30), "datetime", "2020-02-29 13:45:30"),
        _date(datetime.time(18, 0, 0), "time", "18:00:00"),
    ),
    Row(
        _date(datetime.date(2021, 5, 6), "custom-date", "2021-05-06"),
        _date(datetime.time(0, 0, 0), "time", "00:00:00"),
    ),
    Row(Cell(IsoDate("2020-03-04"), "2020-03-04"), Cell(IsoDate("2020-03-04T05:06:07"), "2020-03-04 05:06:07")),
    Row(
        Cell(IsoDate("13:45:30"), "13:45:30"),
        _date(datetime.datetime(1999, 12, 31, 23, 59, 59), "datetime", "1999-12-31 23:59:59"),
    ),
)

DATE_1904_ROWS = (
    Row(
        _date(datetime.date(2020, 1, 2), "date", "2020-01-02"),
        _date(datetime.datetime(2020, 1, 2, 6, 30), "datetime", "2020-01-02 06:30:00"),
    ),
    Row(text("When was the label revised?"), _date(datetime.date(2011, 11, 11), "custom-date", "2011-11-11")),
)

FORMULA_ROWS = (
    Row(
        Cell(Formula("1+1", Number("2")), "2"),
        Cell(Formula('"Take "&"with food"', Text("Take with food")), "Take with food"),
    ),
    Row(Cell(Formula("TODAY()"), None), text("An answer beside an uncalculated formula.")),
    Row(text("What is one divided by zero?"), Cell(Formula("1/0", ErrorValue("#DIV/0!")), None)),
    Row(Cell(Formula("ISNUMBER(1)", Boolean(True)), "TRUE"), Cell(Formula("10/4", Number("2.5")), "2.5")),
    Row(Cell(Formula("SUM(1,2)"), None), Cell(Formula("A1"), None)),
    Row(text("What is six times two?"), Cell(Formula("6*2", Number("12")), "12")),
)

ERROR_ROWS = (
    Row(text("What does #N/A mean here?"), Cell(ErrorValue("#N/A"), None)),
    Row(Cell(ErrorValue("#DIV/0!"), None), Cell(ErrorValue("#VALUE!"), None)),
    Row(Cell(ErrorValue("#REF!"), None), text("An answer beside a broken reference.")),
    Row(Cell(ErrorValue("#NAME?"), None), Cell(ErrorValue("#NUM!"), None)),
    Row(Cell(ErrorValue("#NULL!"), None), Cell(ErrorValue("#GETTING_DATA"), None)),
    Row(text("Is the rest of the sheet readable?"), text("Yes.")),
)

NON_ASCII_ROWS = (
    Row(text("阿司匹林的常用剂量是多少？"), text("成人每次口服300–600毫克。")),
    Row(text("Ibuprofène ou paracétamol ?"), text("Les deux, selon l’avis médical.")),
    Row(text("💊 and the line separator \u2028 stay as they are"), text("ДА — да")),
    Row(text('Quotes " and a backslash \\ are escaped by JSON'), text("tab\tinside")),
)

NEWLINE_ROWS = (
    Row(text("First line\nsecond line"), text("Answer line 1\r\nAnswer line 2")),
    Row(text("Ends with a newline\n"), text("\nStarts with a newline")),
    Row(text("A blank line\n\ninside"), text("Kept as it is.")),
)

SPACE_ROWS = (
    Row(text("  leading and trailing spaces  "), text("\tan answer between tabs\t")),
    Row(text("   "), text("An answer to a whitespace-only question.")),
    Row(text("Inner  spaces   stay"), text(" a ")),
    Row(text("A question with a whitespace-only answer"), text(" \n ")),
    Row(
        Cell(Text("inline string with a trailing space ", inline=True), "inline string with a trailing space "),
        text("ok"),
    ),
)

RICH_TEXT_ROWS = (
    Row(
        Cell(Text("An inline string", inline=True), "An inline string"),
        Cell(RichText(("Bold ", "and plain")), "Bold and plain"),
    ),
    Row(
        Cell(RichText(("中文", "富文本")), "中文富文本"),
        Cell(Text(" inline with spaces ", inline=True), " inline with spaces "),
    ),
)

MERGED_ROWS = (
    Row(text("Which brands contain paracetamol?"), text("Panadol.")),
    Row(Cell(Blank(), None), text("Tylenol.")),
    Row(text("Is paracetamol safe with alcohol?"), text("Avoid heavy drinking.")),
    Row(text("Is it safe with ibuprofen?"), Cell(Blank(), None)),
    Row(text("Is it safe with codeine?"), Cell(Blank(), None)),
    Row(text("What is the maximum daily dose?"), text("4 g for adults.")),
)
MERGES = (Merge("input", 0, 2), Merge("output", 2, 3))


def _decoy_rows(sheet_name: str) -> tuple[Row, ...]:
    return (
        Row(text(f"A decoy question on sheet {sheet_name!r}"), text("A decoy answer.")),
        Row(text("Another decoy question"), text("Another decoy answer.")),
    )


def _other_sheet_name(base: str, settings: ConverterSettings) -> str:
    name = base
    while name.strip().casefold() == settings.sheet.strip().casefold():
        name += " 2"
    return name


def _decoy_sheet(settings: ConverterSettings, name: str, state: SheetState = "visible") -> Worksheet:
    sheet, _ = conversion_sheet(settings, _decoy_rows(name), name=name)
    return Worksheet(name=sheet.name, cells=sheet.cells, state=state, empty_rows=sheet.empty_rows)


def _prepare_hidden_sheet(settings: ConverterSettings, workdir: Path) -> Preparation:
    target, numbers = conversion_sheet(settings, QUESTIONS)
    hidden = _decoy_sheet(settings, _other_sheet_name("Lookup", settings), state="hidden")
    notes = _decoy_sheet(settings, _other_sheet_name("Notes", settings))
    # The hidden sheet comes first and the decoy after the target is the active one,
    # so neither wb.worksheets[0] nor wb.active is the target.
    write_workbook(workdir / WORKBOOK, [hidden, target, notes], active=2)
    return _preparation(settings, expect_rows(QUESTIONS, numbers, settings))


def _case_variant(name: str) -> str | None:
    for variant in (name.swapcase(), name.upper(), name.lower()):
        if variant != name:
            return variant
    return None


def _near_miss(header: str, settings: ConverterSettings) -> str:
    """Return a header that differs from ``header`` only in case, or by a trailing "s"."""
    variant = _case_variant(header)
    return unused_label(variant if variant is not None else header + "s", settings)


def _near_names(settings: ConverterSettings) -> list[str]:
    """Return names equal to the sheet's after stripping spaces or ignoring case, but not equal to it."""
    names = [f"{settings.sheet} "]
    variant = _case_variant(settings.sheet)
    names.append(variant if variant is not None else f" {settings.sheet}")
    return names


def _prepare_near_sheet_names(settings: ConverterSettings, workdir: Path) -> Preparation:
    target, numbers = conversion_sheet(settings, QUESTIONS)
    before, after = (_decoy_sheet(settings, name) for name in _near_names(settings))
    write_workbook(workdir / WORKBOOK, [before, target, after], active=0)
    return _preparation(settings, expect_rows(QUESTIONS, numbers, settings))


def text_pattern(text: str) -> str:
    """Return a pattern for ``text`` as a one-line message may show it: as is, or escaped as repr() or JSON does.

    A name with a newline, tab or backslash cannot appear raw in a one-line
    error, so each escaped spelling counts as naming it.
    """
    spellings = {text, repr(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1]}
    return "(?:" + "|".join(re.escape(spelling) for spelling in sorted(spellings)) + ")"


def _prepare_missing_sheet(settings: ConverterSettings, workdir: Path) -> Preparation:
    names = _near_names(settings)
    write_workbook(workdir / WORKBOOK, [_decoy_sheet(settings, name) for name in names])
    # A name that differs only by outer spaces is already named by the requested name,
    # so only the names that differ in case need their own mention.
    requested = text_pattern(settings.sheet.strip())
    mentions = {requested: Mention(requested, f"the sheet {settings.sheet!r}")}
    for name in names:
        pattern = text_pattern(name.strip())
        mentions.setdefault(pattern, Mention(pattern, f"the sheet {name!r} that exists", case_sensitive=True))
    expected = ExpectFailure(
        reason=f"the workbook has no sheet named exactly {settings.sheet!r}, only {names[0]!r} and {names[1]!r}",
        mentions=tuple(mentions.values()),
    )
    return _preparation(settings, expected)


def _prepare_inflated_dimension(settings: ConverterSettings, workdir: Path) -> Preparation:
    return _prepare_rows(
        settings,
        workdir,
        QUESTIONS,
        dimension=INFLATED_DIMENSION,
        extra_cells={(LAST_ROW, MAX_COLUMN_INDEX): Blank()},
        timeout=INFLATED_TIMEOUT,
    )


def _header_decoys(settings: ConverterSettings, columns: Columns) -> dict[tuple[int, int], CellValue]:
    """Return decoy header cells: near misses of each header text, and each column letter as text."""
    labels = []
    for role in ROLES:
        searched = header_text(settings, role)
        labels.append(column_setting(settings, role) if searched is None else _near_miss(searched, settings))
    row = max(settings.header_rows, 1)
    return {(row, decoy): Text(label) for decoy, label in zip(columns.decoys, labels)}


def _prepare_header_text(settings: ConverterSettings, workdir: Path) -> Preparation:
    extra = _header_decoys(settings, place_columns(settings))
    return _prepare_rows(settings, workdir, QUESTIONS, extra_cells=extra)


def _prepare_header_not_found(settings: ConverterSettings, workdir: Path) -> Preparation:
    columns = place_columns(settings)
    searched_roles = [role for role in ROLES if header_text(settings, role) is not None]
    sheet, numbers = conversion_sheet(settings, QUESTIONS)
    if not searched_roles:
        # Columns given as letters need no header text: the label cells above them stay empty.
        cells = dict(sheet.cells)
        for role in ROLES:
            cells.pop((settings.header_rows, columns.of(role)), None)
        write_workbook(workdir / WORKBOOK, [Worksheet(settings.sheet, cells, empty_rows=sheet.empty_rows)])
        return _preparation(settings, expect_rows(QUESTIONS, numbers, settings))

    searched_role = searched_roles[0]
    searched = column_setting(settings, searched_role)
    near_miss = _near_miss(searched, settings)
    cells = dict(sheet.cells)
    cells[(settings.header_rows, columns.of(searched_role))] = Text(near_miss)
    write_workbook(workdir / WORKBOOK, [Worksheet(settings.sheet, cells, empty_rows=sheet.empty_rows)])

    existing = [
        value.value.strip()
        for (row, _), value in sorted(cells.items())
        if row == settings.header_rows and isinstance(value, Text)
    ]
    mentions = [Mention(text_pattern(searched), f"the header text {searched!r}", case_sensitive=True)]
    mentions.extend(
        Mention(text_pattern(label), f"the existing header {label!r}", case_sensitive=True) for label in existing
    )
    expected = ExpectFailure(
        reason=f"header row {settings.header_rows} has no cell {searched!r}, only near misses such as {near_miss!r}",
        mentions=tuple(mentions),
    )
    return _preparation(settings, expected)


def _beyond_width_layout(settings: ConverterSettings) -> tuple[Role, Columns] | None:
    """Return the letter column to leave beyond the data, and where the other columns go."""
    letters = [
        (column_index(column_setting(settings, role)), role) for role in ROLES if header_text(settings, role) is None
    ]
    if not letters:
        return None
    beyond_index, beyond_role = max(letters)
    if beyond_index < 2:
        return None
    other_role: Role = "output" if beyond_role == "input" else "input"
    if header_text(settings, other_role) is None:
        other_index = column_index(column_setting(settings, other_role))
    else:
        other_index = 1
    decoys = tuple(index for index in (1, beyond_index - 1) if index != other_index and index < beyond_index)
    positions = {beyond_role: beyond_index, other_role: other_index}
    return beyond_role, Columns(input=positions["input"], output=positions["output"], decoys=tuple(sorted(set(decoys))))


def _prepare_column_beyond_width(settings: ConverterSettings, workdir: Path) -> Preparation:
    layout = _beyond_width_layout(settings)
    if layout is None:
        # Both columns are header texts, or the only letter column is A: instead the
        # rows stop short of the output column, which must read as missing cells.
        rows = (
            Row(text("A row that ends at the input column"), EMPTY, decoys=False),
            *QUESTIONS,
            Row(EMPTY, text("A row that holds only the output")),
        )
        return _prepare_rows(settings, workdir, rows)

    beyond_role, columns = layout
    rows = tuple(
        Row(row.input, EMPTY) if beyond_role == "output" else Row(EMPTY, row.output) for row in QUESTIONS
    )
    cells = header_cells(settings, columns)
    cells.pop((settings.header_rows, columns.of(beyond_role)), None)
    laid_out = lay_out_rows(rows, columns, settings.header_rows + 1)
    cells.update(laid_out.cells)
    last = column_letter(max(column for _, column in cells))
    # The dimension claims every column and a formatted empty cell sits at the end, so
    # the sheet's width must come from the cells holding values, not from max_column.
    cells[(LAST_ROW, MAX_COLUMN_INDEX)] = Blank()
    sheet = Worksheet(settings.sheet, cells, dimension=INFLATED_DIMENSION, empty_rows=laid_out.empty_rows)
    write_workbook(workdir / WORKBOOK, [sheet])

    beyond = column_letter(columns.of(beyond_role))
    expected = ExpectFailure(
        reason=f"column {beyond} is beyond the sheet's last column with data, {last}",
        mentions=(
            Mention(rf"\b{beyond}\b", f"the column {beyond}", case_sensitive=True),
            Mention(rf"\b{last}\b", f"the last column with data, {last}", case_sensitive=True),
        ),
    )
    return _preparation(settings, expected)


def _prepare_header_only_column(settings: ConverterSettings, workdir: Path) -> Preparation:
    if settings.header_rows == 0:
        # Without header rows no column can hold a header alone; plain rows still convert.
        return _prepare_rows(settings, workdir, QUESTIONS)

    placed = place_columns(settings)
    empty_role: Role = "output" if placed.output > placed.input else "input"
    empty_index = placed.of(empty_role)
    # Decoys stay left of the header-only column, so only its header puts it within the width.
    columns = Columns(
        input=placed.input, output=placed.output, decoys=tuple(index for index in placed.decoys if index < empty_index)
    )
    rows = tuple(Row(EMPTY, row.output) if empty_role == "input" else Row(row.input, EMPTY) for row in QUESTIONS)
    cells = header_cells(settings, columns)
    laid_out = lay_out_rows(rows, columns, settings.header_rows + 1)
    cells.update(laid_out.cells)
    write_workbook(workdir / WORKBOOK, [Worksheet(settings.sheet, cells, empty_rows=laid_out.empty_rows)])
    return _preparation(settings, expect_rows(rows, laid_out.numbers, settings))


def _prepare_existing_output(settings: ConverterSettings, workdir: Path) -> Preparation:
    write_workbook(workdir / WORKBOOK, [_decoy_sheet(settings, _other_sheet_name("Other", settings))])
    output = output_name(settings)
    old = '{"conversation": [{"input": "from an earlier run", "output": "kept"}]}\n'.encode("utf-8")
    (workdir / output).write_bytes(old)
    expected = ExpectFailure(
        reason=f"the workbook has no sheet named {settings.sheet!r}",
        mentions=(Mention(text_pattern(settings.sheet.strip()), f"the sheet {settings.sheet!r}"),),
        unchanged_outputs=((output, old),),
    )
    return _preparation(settings, expected, inputs=(WORKBOOK, output))


def _prepare_no_data_rows(settings: ConverterSettings, workdir: Path) -> Preparation:
    cells = header_cells(settings, place_columns(settings))
    write_workbook(workdir / WORKBOOK, [Worksheet(settings.sheet, cells)])
    if settings.header_rows == 0:
        # An empty sheet: a script may report either that it has no data rows or that
        # the columns lie beyond its width, so no particular word is required.
        return _preparation(settings, ExpectFailure(reason="the sheet is empty"))
    expected = ExpectFailure(
        reason=f"the sheet has no rows below its {settings.header_rows} header rows",
        mentions=(Mention(text_pattern(settings.sheet.strip()), f"the sheet {settings.sheet!r}"),),
    )
    return _preparation(settings, expected)


def _prepare_missing_file(settings: ConverterSettings, workdir: Path) -> Preparation:
    expected = ExpectFailure(
        reason="the input workbook does not exist",
        mentions=(Mention(re.escape("missing.xlsx"), "the missing path"),),
    )
    return _preparation(settings, expected, workbook="missing.xlsx", inputs=())


def _prepare_folder(settings: ConverterSettings, workdir: Path) -> Preparation:
    (workdir / "exports.xlsx").mkdir()
    expected = ExpectFailure(
        reason="the input path is a folder",
        mentions=(Mention(re.escape("exports.xlsx"), "the folder"),),
    )
    return _preparation(settings, expected, workbook="exports.xlsx", inputs=("exports.xlsx",))


def _prepare_text_file(settings: ConverterSettings, workdir: Path) -> Preparation:
    (workdir / "notes.xlsx").write_text("Question,Answer\nWhat is aspirin?,A salicylate.\n", encoding="utf-8")
    expected = ExpectFailure(
        reason="the input is a text file, not a workbook",
        mentions=(Mention(re.escape("notes.xlsx"), "the file"),),
    )
    return _preparation(settings, expected, workbook="notes.xlsx", inputs=("notes.xlsx",))


def _prepare_foreign_zip(settings: ConverterSettings, workdir: Path) -> Preparation:
    with zipfile.ZipFile(workdir / "archive.xlsx", "w") as archive:
        archive.writestr("readme.txt", "This zip archive holds no workbook.\n")
    expected = ExpectFailure(
        reason="the input is a zip archive without a workbook in it",
        mentions=(Mention(re.escape("archive.xlsx"), "the file"),),
    )
    return _preparation(settings, expected, workbook="archive.xlsx", inputs=("archive.xlsx",))


def _prepare_old_xls(settings: ConverterSettings, workdir: Path) -> Preparation:
    # The name ends in .xlsx, as after a careless rename, so only the content shows the format.
    write_ole2(workdir / "legacy.xlsx", ("Workbook",))
    expected = ExpectFailure(
        reason="the input is an old .xls workbook",
        mentions=(Mention(r"\bxls\b", "that it is an old .xls workbook"),),
    )
    return _preparation(settings, expected, workbook="legacy.xlsx", inputs=("legacy.xlsx",))


def _prepare_encrypted(settings: ConverterSettings, workdir: Path) -> Preparation:
    write_ole2(workdir / "protected.xlsx", ("EncryptionInfo", "EncryptedPackage"))
    expected = ExpectFailure(
        reason="the input is an encrypted workbook",
        mentions=(Mention(r"encrypt|password", "that the workbook is encrypted"),),
    )
    return _preparation(settings, expected, workbook="protected.xlsx", inputs=("protected.xlsx",))


def _case(name: str, description: str, build: Builder) -> GoldenCase:
    return GoldenCase(name=name, kind="converter", description=description, build=build)


def converter_cases() -> list[GoldenCase]:
    """Return every converter case, in the order they are run."""
    return [
        _rows_case("header-rows", "The first header_rows rows never become records.", QUESTIONS),
        _rows_case(
            "blank-rows",
            "Blank rows, rows left out of the XML and trailing formatted rows are skipped silently.",
            BLANK_ROWS,
        ),
        _rows_case(
            "missing-output",
            "A row without an output follows on_missing and is reported by its Excel row number.",
            MISSING_OUTPUT_ROWS,
        ),
        _rows_case("missing-input", "A row without an input follows on_missing.", MISSING_INPUT_ROWS),
        _rows_case(
            "numbers", "Integers keep their digits, integral floats lose .0, other floats use repr.", NUMBER_ROWS
        ),
        _rows_case("booleans", "Booleans become TRUE and FALSE, not 1 and 0.", BOOLEAN_ROWS),
        _rows_case("dates", "Dates, date-times and times become ISO text, midnight without a time.", DATE_ROWS),
        _rows_case(
            "dates-1904",
            "Serial dates in a 1904-based workbook become the same ISO text.",
            DATE_1904_ROWS,
            date1904=True,
        ),
        _rows_case("formulas", "A formula reads as its cached value, and without one as missing.", FORMULA_ROWS),
        _rows_case("error-cells", "Every Excel error code reads as missing.", ERROR_ROWS),
        _rows_case("non-ascii", "Chinese, accented and emoji text is written unescaped.", NON_ASCII_ROWS),
        _rows_case("newlines", "Line breaks inside cells are kept; strip removes them only at the ends.", NEWLINE_ROWS),
        _rows_case("spaces", "strip removes outer whitespace, and whitespace-only cells are then missing.", SPACE_ROWS),
        _rows_case("rich-text", "Inline strings and rich-text runs read as their plain text.", RICH_TEXT_ROWS),
        _rows_case("merged-cells", "Cells covered by a merged range read as missing.", MERGED_ROWS, merges=MERGES),
        _case(
            "hidden-sheet",
            "The sheet is taken by name, not by position, past a hidden sheet and an active decoy.",
            _prepare_hidden_sheet,
        ),
        _case(
            "near-sheet-names",
            "Sheets whose names differ only in spaces or case are not the target.",
            _prepare_near_sheet_names,
        ),
        _rows_case(
            "no-dimension", "A worksheet without a <dimension> element is read in full.", QUESTIONS, dimension=None
        ),
        _rows_case(
            "stale-dimension",
            "A <dimension> of A1:A1 left by another writer does not cut the sheet short.",
            QUESTIONS,
            dimension="A1:A1",
        ),
        _case(
            "inflated-dimension",
            "A dimension claiming A1:XFD1048576 with a formatted cell at the end is read quickly.",
            _prepare_inflated_dimension,
        ),
        _case(
            "header-text",
            "Header text picks the column by the last header row; letters are letters even where a header holds them.",
            _prepare_header_text,
        ),
        _case(
            "header-not-found",
            "Header text missing from the last header row fails naming it and the headers there.",
            _prepare_header_not_found,
        ),
        _case(
            "column-beyond-width",
            "A column letter beyond the last column with data fails naming both; "
            "where no letter column can lie beyond, rows cut short read as missing cells.",
            _prepare_column_beyond_width,
        ),
        _case(
            "header-only-column",
            "A column whose only value is its header is within the width, so its rows are one-sided.",
            _prepare_header_only_column,
        ),
        _case("no-data-rows", "A sheet with header rows only fails naming the sheet.", _prepare_no_data_rows),
        _case(
            "existing-output",
            "A failed run leaves an output file from an earlier run unchanged.",
            _prepare_existing_output,
        ),
        _case(
            "missing-sheet", "A missing sheet fails naming it and the near matches that exist.", _prepare_missing_sheet
        ),
        _case("missing-file", "A workbook path that does not exist fails naming it.", _prepare_missing_file),
        _case("folder", "A folder given as the workbook fails naming it.", _prepare_folder),
        _case("not-a-workbook", "A text file named .xlsx fails naming it.", _prepare_text_file),
        _case("foreign-zip", "A zip archive without a workbook fails naming it.", _prepare_foreign_zip),
        _case("old-xls", "An old .xls workbook is reported as .xls, whatever its name.", _prepare_old_xls),
        _case("encrypted", "An encrypted workbook is reported as encrypted.", _prepare_encrypted),
    ]
