"""A converter written the usual way: the whole workbook in memory, then one json.dump.

Usage: python naive_convert.py INPUT.xlsx OUTPUT.jsonl
"""

import json
import sys

import openpyxl

workbook = openpyxl.load_workbook(sys.argv[1])
worksheet = workbook["DrugQA"]
records = []
for row in worksheet.iter_rows(min_row=2, values_only=True):
    records.append({"conversation": [{"input": row[0], "output": row[3]}]})
with open(sys.argv[2], "w", encoding="utf-8") as stream:
    json.dump(records, stream)
