"""Known-bad converter: writes straight to the output, so a failure leaves a partial file behind."""

import json
import sys

import openpyxl

SHEET = "DrugQA"
INPUT_COLUMN = "A"
OUTPUT_COLUMN = "D"
HEADER_ROWS = 1
ON_MISSING = "error"


def cell_text(value):
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def main(argv):
    source, target = argv
    workbook = openpyxl.load_workbook(source, read_only=True, data_only=True)
    sheet = workbook[SHEET]
    sheet.reset_dimensions()
    count = 0
    with open(target, "w", encoding="utf-8") as stream:
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number <= HEADER_ROWS:
                continue
            pair = [cell_text(row[index]) if index < len(row) else None for index in (0, 3)]
            if pair == [None, None]:
                continue
            if None in pair:
                print(f"error: row {number} has a missing cell; fill it in", file=sys.stderr)
                return 1
            record = {"conversation": [{"input": pair[0], "output": pair[1]}]}
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    print(f"wrote {count} records", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
