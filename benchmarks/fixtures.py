"""Build the benchmark inputs: MedQA-shaped workbooks and a JSON Lines file of conversations.

The workbook's sheet XML is written straight into the zip archive one row at a time,
so a million-row workbook takes about as much memory to build as a 10-row one.
Text lengths follow the MedQA2019 DrugQA sheet (mean characters per column: Question 40,
Focus 13, Question Type 10, Answer 395 with a long tail up to a few thousand, Section
Title 25, URL 76). Questions and answers are unique per row; the other four columns
repeat values from small pools, as they do in MedQA.
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import IO, Callable, Iterator, Literal
from xml.sax.saxutils import escape

SHEET = "DrugQA"
HEADER = ("Question", "Focus (Drug)", "Question Type", "Answer", "Section Title", "URL")
COLUMNS = "ABCDEF"
# Bump when the generated content changes, so that cached files are rebuilt.
GENERATOR_VERSION = 1

StringStorage = Literal["shared", "inline"]

WORDS = (
    "the of and to a in is for that with as your may be or are this by not it if on take "
    "doctor medicine medication dose doses tablet tablets capsule mg daily side effects "
    "pharmacist prescription nonprescription vitamins supplements herbal products allergic "
    "reaction blood pressure heart kidney liver disease pregnant breastfeeding symptoms "
    "treatment infection pain fever nausea headache dizziness sleep alcohol food water "
    "before after during morning evening weeks months hours tell call emergency serious "
    "increase decrease risk level levels monitor carefully especially children adults older"
).split()
DRUGS = ("rivastigmine", "metformin", "lisinopril", "atorvastatin", "warfarin", "ibuprofen", "insulin", "omeprazole")
QUESTION_TYPES = ("Interaction", "Usage", "Action", "Side effects", "Dose", "Storage", "Indication")
SECTIONS = (
    "What special precautions should I follow?",
    "How should this medicine be used?",
    "What side effects can this medication cause?",
    "Why is this medication prescribed?",
)


def random_text(rng: random.Random, length: int) -> str:
    """Return words from WORDS joined by spaces, about ``length`` characters long."""
    # A word drawn from WORDS averages about 7 characters with its space.
    words = rng.choices(WORDS, k=max(1, length // 7))
    return " ".join(words).capitalize()


def answer_length(rng: random.Random) -> int:
    # An exponential tail around the MedQA mean of 395, capped like its longest answer (4,322).
    return min(4300, 60 + int(rng.expovariate(1 / 335)))


def medqa_rows(count: int, seed: int = 2019) -> Iterator[tuple[str, ...]]:
    """Yield ``count`` MedQA-shaped data rows of six texts each."""
    rng = random.Random(seed)
    urls = [f"https://medlineplus.gov/druginfo/meds/a{number:06d}.html" for number in range(600)]
    for number in range(count):
        drug = rng.choice(DRUGS)
        question = f"{random_text(rng, 22)} {drug} ({number})?"
        answer = random_text(rng, answer_length(rng))
        # 148 of the 690 MedQA answers contain line breaks; here every fifth does.
        if number % 5 == 0:
            answer = answer.replace(" the ", ".\nThe ", 1)
        yield (question, drug, rng.choice(QUESTION_TYPES), answer + ".", rng.choice(SECTIONS), rng.choice(urls))


CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
{shared_strings_override}</Types>
"""
SHARED_STRINGS_OVERRIDE = (
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>\n'
)
PACKAGE_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>
"""
WORKBOOK = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="{SHEET}" sheetId="1" r:id="rId1"/></sheets>
</workbook>
"""
WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
{shared_strings_rel}</Relationships>
"""
SHARED_STRINGS_REL = (
    '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'sharedStrings" Target="sharedStrings.xml"/>\n'
)
STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="1"><fill><patternFill patternType="none"/></fill></fills>
<borders count="1"><border/></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>
"""
SHEET_START = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<dimension ref="A1:F{last_row}"/>
<sheetData>
"""
SHEET_END = "</sheetData>\n</worksheet>\n"


class SharedStrings:
    """The shared string table, spooled to a file as strings are added; repeated strings share an index."""

    def __init__(self, spool: Path) -> None:
        self.path = spool
        self.spool = spool.open("w", encoding="utf-8")
        self.indexes: dict[str, int] = {}
        self.count = 0
        self.unique = 0

    def index(self, text: str, repeated: bool) -> int:
        """Return the index of ``text``; only ``repeated`` strings are looked up, to keep the dict small."""
        self.count += 1
        if repeated and text in self.indexes:
            return self.indexes[text]
        index = self.unique
        self.unique += 1
        if repeated:
            self.indexes[text] = index
        self.spool.write(f'<si><t xml:space="preserve">{escape(text)}</t></si>\n')
        return index


def write_workbook(path: Path, rows: int, storage: StringStorage = "shared") -> None:
    """Write a workbook whose sheet DrugQA has a header row and ``rows`` MedQA-shaped data rows.

    ``shared`` stores text as Excel does, in one shared string table that every reader loads
    whole. ``inline`` stores each text in its cell, so a streaming reader keeps one row at a time.
    """
    with tempfile.TemporaryDirectory(prefix="promptgen-bench-") as folder:
        strings = SharedStrings(Path(folder) / "strings.xml") if storage == "shared" else None
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as package:
            package.writestr(
                "[Content_Types].xml",
                CONTENT_TYPES.format(shared_strings_override=SHARED_STRINGS_OVERRIDE if strings else ""),
            )
            package.writestr("_rels/.rels", PACKAGE_RELS)
            package.writestr("xl/workbook.xml", WORKBOOK)
            package.writestr(
                "xl/_rels/workbook.xml.rels",
                WORKBOOK_RELS.format(shared_strings_rel=SHARED_STRINGS_REL if strings else ""),
            )
            package.writestr("xl/styles.xml", STYLES)
            with package.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
                write_sheet(member, rows, strings)
            if strings is not None:
                strings.spool.close()
                with package.open("xl/sharedStrings.xml", "w", force_zip64=True) as member:
                    member.write(
                        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                        f'count="{strings.count}" uniqueCount="{strings.unique}">\n'.encode()
                    )
                    with strings.path.open("rb") as spool:
                        shutil.copyfileobj(spool, member, 1 << 20)
                    member.write(b"</sst>\n")


def write_sheet(member: IO[bytes], rows: int, strings: SharedStrings | None) -> None:
    member.write(SHEET_START.format(last_row=rows + 1).encode())
    buffer: list[str] = []
    for number, row in enumerate(_with_header(rows), start=1):
        cells = []
        for column, (letter, text) in enumerate(zip(COLUMNS, row)):
            reference = f"{letter}{number}"
            if strings is None:
                cells.append(f'<c r="{reference}" t="inlineStr"><is><t xml:space="preserve">{escape(text)}</t></is></c>')
            else:
                # Questions (A) and answers (D) are unique per row; the rest repeat.
                index = strings.index(text, repeated=number == 1 or column not in (0, 3))
                cells.append(f'<c r="{reference}" t="s"><v>{index}</v></c>')
        buffer.append(f'<row r="{number}">{"".join(cells)}</row>\n')
        if len(buffer) >= 1000:
            member.write("".join(buffer).encode())
            buffer.clear()
    member.write(("".join(buffer) + SHEET_END).encode())


def _with_header(rows: int) -> Iterator[tuple[str, ...]]:
    yield HEADER
    yield from medqa_rows(rows)


def write_conversations(path: Path, records: int) -> None:
    """Write ``records`` conversation records as JSON Lines, as the converter writes them."""
    with path.open("w", encoding="utf-8", newline="\n") as stream:
        buffer: list[str] = []
        for question, _, _, answer, _, _ in medqa_rows(records):
            record = {"conversation": [{"input": question, "output": answer}]}
            buffer.append(json.dumps(record, ensure_ascii=False) + "\n")
            if len(buffer) >= 10_000:
                stream.write("".join(buffer))
                buffer.clear()
        stream.write("".join(buffer))


def cached(folder: Path, name: str, build: Callable[[Path], None]) -> Path:
    """Return ``folder/name``, building it first with ``build`` unless it exists."""
    path = folder / name
    if not path.exists():
        partial = path.with_suffix(path.suffix + ".partial")
        build(partial)
        partial.replace(path)
    return path
