"""The floor for the calamine engine: read every row with python_calamine and do nothing with it.

Usage: python bare_calamine.py INPUT.xlsx
"""

import sys

from python_calamine import CalamineWorkbook

sheet = CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_name("DrugQA")
for row in sheet.iter_rows():
    pass
