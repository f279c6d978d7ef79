"""The floor for the openpyxl engine: read every row in read-only mode and do nothing with it.

Usage: python bare_openpyxl.py INPUT.xlsx
"""

import sys

import openpyxl

workbook = openpyxl.load_workbook(sys.argv[1], read_only=True, data_only=True)
for row in workbook["DrugQA"].iter_rows(values_only=True):
    pass
workbook.close()
