"""Known-bad converter: json.dumps without ensure_ascii=False escapes non-ASCII text."""

import datetime
import json
import os
import sys
import tempfile

import openpyxl

SHEET = "DrugQA"
INPUT_COLUMN = "A"
OUTPUT_COLUMN = "D"
HEADER_ROWS = 1

ERROR_CODES = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA"}


def cell_text(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return None if not value or value in ERROR_CODES else value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d" if value.time() == datetime.time(0) else "%Y-%m-%d %H:%M:%S")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


def read_records(path):
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    if SHEET not in workbook.sheetnames:
        raise SystemExit(f"error: sheet {SHEET!r} not found; the workbook has {workbook.sheetnames}")
    sheet = workbook[SHEET]
    sheet.reset_dimensions()
    records = []
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        if number <= HEADER_ROWS:
            continue
        pair = [cell_text(row[index]) if index < len(row) else None for index in (0, 3)]
        if None in pair:
            continue
        records.append({"conversation": [{"input": pair[0], "output": pair[1]}]})
    return records


def main(argv):
    source, target = argv
    records = read_records(source)
    descriptor, temporary = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(target)))
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        for record in records:
            stream.write(json.dumps(record) + "\n")
    os.replace(temporary, target)
    print(f"wrote {len(records)} records", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
