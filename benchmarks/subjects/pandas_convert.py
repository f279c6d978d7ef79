"""A converter built on pandas: read_excel, then to_json as JSON Lines.

Usage: python pandas_convert.py INPUT.xlsx OUTPUT.jsonl
"""

import sys

import pandas

frame = pandas.read_excel(sys.argv[1], sheet_name="DrugQA", usecols=["Question", "Answer"])
frame = frame.rename(columns={"Question": "input", "Answer": "output"})
frame.to_json(sys.argv[2], orient="records", lines=True, force_ascii=False)
