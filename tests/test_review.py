"""review_code on tables of scripts, the reference scripts, and the review command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import pytest
import typer
from typer.testing import CliRunner

from promptgen.bake import bake_constants, constant_values
from promptgen.cli_review import review_command
from promptgen.reference import reference_path
from promptgen.review import RULES, Finding, ReviewReport, review_code
from promptgen.spec import KINDS, ConverterSettings, Kind, Settings, SplitterSettings

# Each case: code, kind, and the expected findings as (rule, line, column).
Expected = list[tuple[str, int, int]]

IMPORTS = [
    pytest.param("import subprocess\n", None, [("PG102", 1, 7)], id="subprocess"),
    pytest.param("from subprocess import run\n", None, [("PG102", 1, 0)], id="from-subprocess"),
    pytest.param("import pty\n", None, [("PG102", 1, 7)], id="pty"),
    pytest.param("import socket\n", None, [("PG104", 1, 7)], id="socket"),
    pytest.param("import urllib.parse\n", None, [("PG104", 1, 7)], id="urllib-submodule"),
    pytest.param("from http import client\n", None, [("PG104", 1, 0)], id="http"),
    pytest.param("import importlib\n", None, [("PG103", 1, 7)], id="importlib"),
    pytest.param("import ctypes\n", None, [("PG105", 1, 7)], id="ctypes"),
    pytest.param("import pickle\nimport marshal\n", None, [("PG107", 1, 7), ("PG107", 2, 7)], id="pickle-marshal"),
    pytest.param("import builtins\n", None, [("PG109", 1, 7)], id="builtins"),
    pytest.param("import requests\n", None, [("PG101", 1, 7)], id="third-party"),
    pytest.param("import shutil\n", None, [("PG101", 1, 7)], id="shutil"),
    pytest.param("import xml.etree.ElementTree as ET\n", None, [("PG101", 1, 7)], id="stdlib-outside-list"),
    pytest.param("import json, requests\n", None, [("PG101", 1, 13)], id="second-alias"),
    pytest.param("from . import helpers\n", None, [("PG101", 1, 0)], id="relative"),
    pytest.param("from os import *\n", None, [("PG111", 1, 0)], id="star"),
    pytest.param(
        "from __future__ import annotations\n"
        "import argparse, sys, os, os.path, pathlib, json, csv, random, math, re, datetime, decimal\n"
        "import collections, itertools, functools, tempfile, io, typing, dataclasses, string\n"
        "import unicodedata, textwrap, enum, codecs, zipfile, warnings, contextlib, operator\n"
        "import statistics, hashlib, errno, stat, copy, heapq, bisect, time\n"
        "import openpyxl, openpyxl.utils.cell\n"
        "from python_calamine import CalamineWorkbook\n",
        None,
        [],
        id="allow-list",
    ),
]

CALLS = [
    pytest.param("import os\nos.system('ls')\n", None, [("PG102", 2, 0)], id="os-system"),
    pytest.param("import os as o\n\ndef f():\n    o.system('ls')\n", None, [("PG102", 4, 4)], id="alias"),
    pytest.param("from os import system\nsystem('ls')\n", None, [("PG102", 2, 0)], id="from-import"),
    pytest.param("from os import system as run\nrun('ls')\n", None, [("PG102", 2, 0)], id="from-import-alias"),
    pytest.param("import os\nshell = os.system\n", None, [("PG102", 2, 8)], id="reference-without-call"),
    pytest.param("import os\nos.popen('ls')\n", None, [("PG102", 2, 0)], id="os-popen"),
    pytest.param("import os\nos.execv(program, [])\n", None, [("PG102", 2, 0)], id="os-exec"),
    pytest.param("import os\nos.spawnlp(0, 'ls')\n", None, [("PG102", 2, 0)], id="os-spawn"),
    pytest.param("import os\nos.posix_spawnp('ls', [], {})\n", None, [("PG102", 2, 0)], id="os-posix-spawn"),
    pytest.param("import os\nos.fork()\nos.forkpty()\n", None, [("PG102", 2, 0), ("PG102", 3, 0)], id="os-fork"),
    pytest.param("import os\nos.kill(1, 9)\n", None, [("PG102", 2, 0)], id="os-kill"),
    pytest.param(
        "import subprocess\nsubprocess.run(['ls']).check_returncode()\n",
        None,
        [("PG102", 1, 7), ("PG102", 2, 0)],
        id="subprocess-call",
    ),
    pytest.param("eval('1')\nexec('x = 1')\n", None, [("PG103", 1, 0), ("PG103", 2, 0)], id="eval-exec"),
    pytest.param("compile('1', 'f', 'eval')\n", None, [("PG103", 1, 0)], id="compile"),
    pytest.param("__import__('os')\n", None, [("PG103", 1, 0)], id="dunder-import"),
    pytest.param("import re\nre.compile('x')\n", None, [], id="re-compile"),
    pytest.param("def eval(text):\n    return text\neval('1')\n", None, [], id="own-eval"),
    pytest.param("import sys\nsys.modules['os']\n", None, [("PG103", 2, 0)], id="sys-modules"),
    pytest.param("import sys\nsys._getframe(0)\n", None, [("PG110", 2, 0)], id="getframe"),
    pytest.param("import os\nos.remove('x')\n", None, [("PG106", 2, 0)], id="os-remove"),
    pytest.param("from os import unlink\nunlink('x')\n", None, [("PG106", 2, 0)], id="os-unlink"),
    pytest.param("import os\nos.rmdir('x')\n", None, [("PG106", 2, 0)], id="os-rmdir"),
    pytest.param(
        "import shutil\nshutil.rmtree('x')\n", None, [("PG101", 1, 7), ("PG106", 2, 0)], id="shutil-rmtree"
    ),
]

REFLECTION = [
    pytest.param("import os\ngetattr(os, 'system')('ls')\n", None, [("PG102", 2, 12)], id="getattr-literal"),
    pytest.param("import os as o\ngetattr(o, 'remove')\n", None, [("PG106", 2, 11)], id="getattr-alias"),
    pytest.param("getattr(object(), 'system')\n", None, [("PG102", 1, 18)], id="getattr-any-owner"),
    pytest.param("import os\ngetattr(os, 'sys' + 'tem')\n", None, [("PG108", 2, 12)], id="getattr-concatenated"),
    pytest.param("import os\nname = 'system'\ngetattr(os, name)\n", None, [("PG108", 3, 12)], id="getattr-variable"),
    pytest.param("import os\ngetattr(os, f'{1}')\n", None, [("PG108", 2, 12)], id="getattr-f-string"),
    pytest.param("import os\ngetattr(os, 'sep')\ngetattr(os, 'path')\n", None, [], id="getattr-harmless"),
    pytest.param(
        "import operator\noperator.attrgetter('path.system')\n", None, [("PG102", 2, 20)], id="attrgetter"
    ),
    pytest.param("from operator import methodcaller\nmethodcaller(NAME)\n", None, [("PG108", 2, 13)], id="methodcaller"),
    pytest.param("__builtins__['eval']\n", None, [("PG109", 1, 0)], id="builtins-name"),
    pytest.param("globals()['x']\n", None, [("PG109", 1, 0)], id="globals-subscript"),
    pytest.param("vars()['x']\n", None, [("PG109", 1, 0)], id="vars-subscript"),
    pytest.param("locals()['x']\n", None, [("PG109", 1, 0)], id="locals-subscript"),
    pytest.param("g = globals()\ng['__builtins__']\n", None, [("PG109", 2, 2)], id="builtins-string"),
    pytest.param("vars(args)['input']\n", None, [], id="vars-object"),
    pytest.param("import os\nvars(os)['system']\n", None, [("PG102", 2, 9)], id="vars-module"),
    pytest.param("import os\nos.__dict__['system']\n", None, [("PG102", 2, 12)], id="module-dict"),
    pytest.param("().__class__.__bases__[0].__subclasses__()\n", None, [("PG110", 1, 26)], id="subclasses"),
    pytest.param("def f():\n    pass\nf.__globals__\nf.__code__\n", None, [("PG110", 3, 2), ("PG110", 4, 2)], id="globals-code"),
    pytest.param("getattr(f, '__globals__')\n", None, [("PG110", 1, 11)], id="getattr-globals"),
    pytest.param("__loader__.load_module('os')\n", None, [("PG103", 1, 0)], id="loader"),
]

TEMPORARY_FILES = [
    pytest.param(
        "import os, tempfile\nfd, tmp = tempfile.mkstemp()\nos.unlink(tmp)\nos.remove(tmp)\n",
        None,
        [],
        id="mkstemp-unlink",
    ),
    pytest.param(
        "import tempfile\nfrom pathlib import Path\n_, name = tempfile.mkstemp()\npath = Path(name)\npath.unlink()\n",
        None,
        [],
        id="mkstemp-path-unlink",
    ),
    pytest.param(
        "import os, tempfile\ntmp = None\ntry:\n    fd, tmp = tempfile.mkstemp()\nexcept OSError:\n"
        "    if tmp is not None:\n        os.unlink(tmp)\n",
        None,
        [],
        id="none-then-mkstemp",
    ),
    pytest.param(
        "import os, tempfile\nname = tempfile.mkstemp()[1]\nos.unlink(name)\n", None, [], id="mkstemp-subscript"
    ),
    pytest.param(
        "import os, tempfile\nwith tempfile.NamedTemporaryFile('wb', delete=False) as handle:\n    pass\n"
        "os.remove(handle.name)\n",
        None,
        [],
        id="named-temporary-file",
    ),
    pytest.param(
        "import tempfile\nfrom pathlib import Path\npaths = []\nfor part in ('a', 'b'):\n"
        "    fd, name = tempfile.mkstemp()\n    paths.append(Path(name))\nfor path in paths:\n    path.unlink()\n",
        None,
        [],
        id="list-of-temporary-files",
    ),
    pytest.param(
        "import tempfile\nfrom pathlib import Path\npaths = []\nfd, name = tempfile.mkstemp()\n"
        "paths.append(Path(name))\nfor temp, out in zip(paths, ['x']):\n    temp.unlink()\n",
        None,
        [],
        id="zip-over-temporary-files",
    ),
    pytest.param(
        "import sys, tempfile\nfrom pathlib import Path\npaths = []\nfd, name = tempfile.mkstemp()\n"
        "paths.append(Path(name))\npaths.append(Path(sys.argv[1]))\nfor path in paths:\n    path.unlink()\n",
        None,
        [("PG106", 8, 9)],
        id="list-with-other-file",
    ),
    pytest.param(
        "from pathlib import Path\npaths = []\nfor path in paths:\n    path.unlink()\nmore(paths)\n",
        None,
        [("PG106", 4, 9)],
        id="list-passed-on",
    ),
    pytest.param("import os, sys\nos.unlink(sys.argv[1])\n", None, [("PG106", 2, 0)], id="unlink-argument"),
    pytest.param(
        "import os, tempfile\nfd, name = tempfile.mkstemp()\nname = 'other'\nos.unlink(name)\n",
        None,
        [("PG106", 4, 0)],
        id="name-rebound",
    ),
    pytest.param(
        "import os, tempfile\nfd, name = tempfile.mkstemp()\nos.unlink(fd)\n", None, [("PG106", 3, 0)], id="descriptor"
    ),
    pytest.param("import os\ndef clean(path):\n    os.unlink(path)\n", None, [("PG106", 3, 4)], id="parameter"),
    pytest.param(
        "import sys\nfrom pathlib import Path\nPath(sys.argv[2]).unlink()\n", None, [("PG106", 3, 18)], id="path-unlink"
    ),
    pytest.param("def f(folder):\n    folder.rmdir()\n", None, [("PG106", 2, 11)], id="rmdir-method"),
]

FILE_NAMES = [
    pytest.param("open('data.xlsx', 'rb')\n", None, [("PG201", 1, 5)], id="open"),
    pytest.param(
        "import openpyxl\nopenpyxl.load_workbook('in.xlsx', read_only=True)\n", None, [("PG201", 2, 23)], id="load-workbook"
    ),
    pytest.param(
        "from openpyxl import load_workbook as lw\nINPUT = 'in.xlsx'\n\ndef main():\n    lw(INPUT, read_only=True)\n",
        None,
        [("PG201", 2, 8)],
        id="constant-used-later",
    ),
    pytest.param("from pathlib import Path\nPath('out/train.jsonl')\n", None, [("PG201", 2, 5)], id="path"),
    pytest.param(
        "import sys\nfrom pathlib import Path\nPath(sys.argv[1]).parent / 'test.jsonl'\n",
        None,
        [("PG201", 3, 27)],
        id="path-join-operator",
    ),
    pytest.param("import os\nos.path.join('out', 'train.json')\n", None, [("PG201", 2, 20)], id="os-path-join"),
    pytest.param(
        "from python_calamine import CalamineWorkbook\nCalamineWorkbook.from_path('in.XLSX')\n",
        None,
        [("PG201", 2, 27)],
        id="calamine",
    ),
    pytest.param(
        "import sys\nsource = sys.argv[1] if len(sys.argv) > 1 else 'in.csv'\nopen(source, 'rb')\n",
        None,
        [("PG201", 2, 47)],
        id="fallback-after-else",
    ),
    pytest.param("import sys\nopen(sys.argv[1] or 'in.json', 'rb')\n", None, [("PG201", 2, 20)], id="fallback-after-or"),
    pytest.param(
        "import argparse\nparser = argparse.ArgumentParser()\nparser.add_argument('--out', default='train.jsonl')\n",
        None,
        [("PG201", 3, 37)],
        id="argparse-default",
    ),
    pytest.param(
        "import argparse\nDEFAULT = 'test.jsonl'\nparser = argparse.ArgumentParser()\nparser.set_defaults(out=DEFAULT)\n",
        None,
        [("PG201", 2, 10)],
        id="argparse-set-defaults",
    ),
    pytest.param("stem = 'x'\nopen(f'{stem}.jsonl', 'wb')\n", None, [("PG201", 2, 5)], id="f-string"),
    pytest.param(
        "import sys\nfrom pathlib import Path\nPath(sys.argv[1]).with_name('train.jsonl')\n",
        None,
        [("PG201", 3, 28)],
        id="with-name",
    ),
    pytest.param(
        "import sys\nfrom pathlib import Path\n"
        "path = Path(sys.argv[1])\n"
        "path.with_suffix('.jsonl')\n"
        "path.name.endswith('.xlsx')\n"
        "path.suffix == '.xlsx'\n"
        "print('usage: convert.py INPUT.xlsx OUTPUT.jsonl')\n"
        "open(sys.argv[1], 'rb')\n"
        "path.glob('*.xlsx')\n",
        None,
        [],
        id="names-not-opened",
    ),
]

COMMAND_LINE = [
    pytest.param("print(1)\n", "converter", [("PG202", 1, 0)], id="missing"),
    pytest.param("print(1)\n", None, [], id="missing-without-kind"),
    pytest.param("import sys\nprint(sys.argv[1])\n", "converter", [], id="sys-argv"),
    pytest.param("from sys import argv\nprint(argv)\n", "splitter", [], id="from-sys-argv"),
    pytest.param("import argparse\nargparse.ArgumentParser().parse_args()\n", "converter", [], id="argparse"),
    pytest.param("from argparse import ArgumentParser as P\nP()\n", "converter", [], id="argparse-alias"),
    pytest.param("import argparse\n", "converter", [("PG202", 1, 0)], id="argparse-imported-only"),
]

WARNINGS = [
    pytest.param("import json\njson.dumps({})\n", None, [("PG301", 2, 0)], id="dumps"),
    pytest.param("import json\njson.dump({}, f, ensure_ascii=True)\n", None, [("PG301", 2, 0)], id="dump-true"),
    pytest.param("from json import dumps\ndumps({}, ensure_ascii=False)\n", None, [], id="dumps-false"),
    pytest.param("import json\njson.dumps({}, **options)\n", None, [], id="dumps-star-arguments"),
    pytest.param("open(p)\nopen(p, 'w')\n", None, [("PG302", 1, 0), ("PG302", 2, 0)], id="open-text"),
    pytest.param("open(p, 'rb')\nopen(p, mode='wb')\n", None, [], id="open-binary"),
    pytest.param("open(p, encoding='utf-8')\nopen(p, 'w', -1, 'utf-8')\n", None, [], id="open-encoding"),
    pytest.param("open(p, mode)\n", None, [], id="open-computed-mode"),
    pytest.param("import io\nio.open(p, 'r')\n", None, [("PG302", 2, 0)], id="io-open"),
    pytest.param("import os\nos.fdopen(fd, 'w')\nos.fdopen(fd, 'wb')\n", None, [("PG302", 2, 0)], id="fdopen"),
    pytest.param(
        "import tempfile\ntempfile.NamedTemporaryFile('w')\ntempfile.NamedTemporaryFile()\n",
        None,
        [("PG302", 2, 0)],
        id="named-temporary-file",
    ),
    pytest.param(
        "from pathlib import Path\nPath(p).open('w')\nPath(p).open('rb')\n", None, [("PG302", 2, 0)], id="path-open"
    ),
    pytest.param(
        "p.read_text()\np.write_text(s)\np.read_text('utf-8')\np.write_text(s, encoding='utf-8')\n",
        None,
        [("PG302", 1, 0), ("PG302", 2, 0)],
        id="path-text-methods",
    ),
    pytest.param("import openpyxl\nopenpyxl.load_workbook(p)\n", None, [("PG303", 2, 0)], id="load-workbook"),
    pytest.param(
        "from openpyxl import load_workbook\nload_workbook(p, read_only=False)\n",
        None,
        [("PG303", 2, 0)],
        id="load-workbook-false",
    ),
    pytest.param(
        "from openpyxl import load_workbook\nload_workbook(p, read_only=True)\nload_workbook(p, True)\n",
        None,
        [],
        id="load-workbook-read-only",
    ),
]

SPLITTER = [
    pytest.param("n = 10\nint(n * 0.7)\n", "splitter", [("PG202", 1, 0), ("PG311", 2, 0)], id="int-of-product"),
    pytest.param("import sys\nn = len(sys.argv)\nround(n * 0.7)\n", "splitter", [("PG311", 3, 0)], id="round"),
    pytest.param("import sys\nn = len(sys.argv)\nsize = n * 0.3\n", "splitter", [("PG311", 3, 7)], id="float-literal"),
    pytest.param(
        "import math, sys\nmath.ceil(len(sys.argv) * 3 / 10)\n", "splitter", [("PG311", 2, 0)], id="ceil-of-quotient"
    ),
    pytest.param("import sys\nhalf = len(sys.argv) / 2\n", "splitter", [("PG311", 2, 7)], id="length-quotient"),
    pytest.param(
        "import sys\nn = len(sys.argv)\nn_test = -(-n * 3 // 10)\nn_train = n - n_test\n",
        "splitter",
        [],
        id="integer-sizes",
    ),
    pytest.param("import sys, random\nrandom.shuffle(sys.argv)\n", "splitter", [("PG312", 2, 0)], id="module-shuffle"),
    pytest.param("import sys\nfrom random import sample\nsample(sys.argv, 1)\n", "splitter", [("PG312", 3, 0)], id="module-sample"),
    pytest.param("import sys, random\nrandom.Random(42).shuffle(sys.argv)\n", "splitter", [], id="seeded-instance"),
    pytest.param("import sys, random\nrandom.Random().shuffle(sys.argv)\n", "splitter", [("PG312", 2, 0)], id="unseeded-instance"),
    pytest.param("import sys, random\nrandom.SystemRandom().shuffle(sys.argv)\n", "splitter", [("PG312", 2, 0)], id="system-random"),
    pytest.param(
        "import sys, random\nrandom.shuffle(sys.argv)\nint(len(sys.argv) * 0.7)\n", "converter", [], id="converter-kind"
    ),
]


def finding_positions(code: str, kind: Optional[Kind]) -> Expected:
    return [(finding.rule, finding.line, finding.column) for finding in review_code(code, kind).findings]


@pytest.mark.parametrize(("code", "kind", "expected"), IMPORTS)
def test_review_imports(code: str, kind: Optional[Kind], expected: Expected) -> None:
    assert finding_positions(code, kind) == expected


@pytest.mark.parametrize(("code", "kind", "expected"), CALLS)
def test_review_calls(code: str, kind: Optional[Kind], expected: Expected) -> None:
    assert finding_positions(code, kind) == expected


@pytest.mark.parametrize(("code", "kind", "expected"), REFLECTION)
def test_review_reflection(code: str, kind: Optional[Kind], expected: Expected) -> None:
    assert finding_positions(code, kind) == expected


@pytest.mark.parametrize(("code", "kind", "expected"), TEMPORARY_FILES)
def test_review_deletion(code: str, kind: Optional[Kind], expected: Expected) -> None:
    assert finding_positions(code, kind) == expected


@pytest.mark.parametrize(("code", "kind", "expected"), FILE_NAMES)
def test_review_file_names(code: str, kind: Optional[Kind], expected: Expected) -> None:
    assert finding_positions(code, kind) == expected


@pytest.mark.parametrize(("code", "kind", "expected"), COMMAND_LINE)
def test_review_command_line(code: str, kind: Optional[Kind], expected: Expected) -> None:
    assert finding_positions(code, kind) == expected


@pytest.mark.parametrize(("code", "kind", "expected"), WARNINGS)
def test_review_warnings(code: str, kind: Optional[Kind], expected: Expected) -> None:
    assert finding_positions(code, kind) == expected


@pytest.mark.parametrize(("code", "kind", "expected"), SPLITTER)
def test_review_splitter(code: str, kind: Optional[Kind], expected: Expected) -> None:
    assert finding_positions(code, kind) == expected


@pytest.mark.parametrize(
    ("code", "kind", "expected"), IMPORTS + CALLS + REFLECTION + TEMPORARY_FILES + FILE_NAMES + WARNINGS + SPLITTER
)
def test_review_rules_listed(code: str, kind: Optional[Kind], expected: Expected) -> None:
    for finding in review_code(code, kind).findings:
        assert finding.rule in RULES
        assert finding.severity == ("warning" if finding.rule.startswith("PG3") else "error")
        assert "\n" not in finding.message


def test_review_syntax_error() -> None:
    report = review_code("x = 1\nprint(x\n")
    assert [(finding.rule, finding.line) for finding in report.findings] == [("PG100", 2)]
    assert report.findings[0].message == "the code does not parse: '(' was never closed"


def test_review_null_character() -> None:
    report = review_code("x = 1\ny = '\x00'\n")
    assert [(finding.rule, finding.line, finding.column) for finding in report.findings] == [("PG100", 2, 5)]


def test_finding_format() -> None:
    finding = Finding("PG102", "error", 12, 4, "os.system starts a shell")
    assert finding.format() == "12:4 error PG102 os.system starts a shell"


def test_report_errors_and_warnings() -> None:
    report = review_code("import os, json\nos.system('ls')\njson.dumps({})\n")
    assert [finding.rule for finding in report.errors] == ["PG102"]
    assert [finding.rule for finding in report.warnings] == ["PG301"]
    assert report.passed is False


def test_report_warnings_pass() -> None:
    report = ReviewReport((Finding("PG301", "warning", 1, 0, "json.dumps without ensure_ascii=False"),))
    assert report.passed is True


def test_report_messages() -> None:
    report = review_code("import os as o\no.system('ls')\nopen(p)\n")
    assert [finding.format() for finding in report.findings] == [
        "2:0 error PG102 os.system starts a shell; a generated script must not start or signal processes, "
        "so do the work in Python",
        "3:0 warning PG302 open() in text mode without an encoding uses the locale's encoding; "
        'pass encoding="utf-8"',
    ]


CLEAN_CONVERTER = '''\
"""Convert one worksheet to XTuner conversations."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import openpyxl

SHEET = "DrugQA"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("input", type=Path)
    parser.add_argument("output", type=Path)
    args = parser.parse_args()
    if args.input.suffix.lower() != ".xlsx":
        print(f"error: {args.input} is not an .xlsx file", file=sys.stderr)
        return 1
    workbook = openpyxl.load_workbook(args.input, read_only=True, data_only=True)
    rows = workbook[SHEET].iter_rows(min_row=2, values_only=True)
    records = [{"conversation": [{"input": str(row[0]), "output": str(row[3])}]} for row in rows]
    fd, temp_name = tempfile.mkstemp(dir=args.output.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\\n") as stream:
            for record in records:
                stream.write(json.dumps(record, ensure_ascii=False) + "\\n")
        os.replace(temp_name, args.output)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''


def test_review_clean_script() -> None:
    assert review_code(CLEAN_CONVERTER, "converter").findings == ()


@pytest.mark.parametrize("kind", KINDS)
def test_review_reference_clean(kind: Kind) -> None:
    code = reference_path(kind).read_text(encoding="utf-8")
    assert review_code(code, kind).findings == ()


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param(ConverterSettings(sheet="Sheet 1", input_col="Question", output_col="Answer", format="json"), id="converter-json"),
        pytest.param(ConverterSettings(sheet="DrugQA", system="You answer drug questions.", on_missing="keep"), id="converter-system"),
        pytest.param(SplitterSettings(ratio=(8, 2), seed=7, group_by="input"), id="splitter-grouped"),
    ],
)
def test_review_baked_reference_clean(settings: Settings) -> None:
    kind: Kind = "converter" if isinstance(settings, ConverterSettings) else "splitter"
    code = bake_constants(reference_path(kind).read_text(encoding="utf-8"), constant_values(settings))
    assert review_code(code, kind).findings == ()


# --- the review command ---


@pytest.fixture()
def review_app() -> typer.Typer:
    app = typer.Typer()
    app.command()(review_command)
    return app


def invoke(app: typer.Typer, *arguments: str) -> tuple[int, list[str], list[str]]:
    result = CliRunner().invoke(app, list(arguments))
    return result.exit_code, result.stdout.splitlines(), result.stderr.splitlines()


def test_command_clean(review_app: typer.Typer, tmp_path: Path) -> None:
    script = tmp_path / "convert.py"
    script.write_text(CLEAN_CONVERTER, encoding="utf-8")
    code, stdout, stderr = invoke(review_app, str(script), "--kind", "converter")
    assert code == 0
    assert stdout == [f"{script}: review passed with 0 errors and 0 warnings"]
    assert stderr == []


def test_command_findings(review_app: typer.Typer, tmp_path: Path) -> None:
    script = tmp_path / "bad.py"
    script.write_text("import os\nos.system('ls')\nopen(p)\n", encoding="utf-8")
    code, stdout, _ = invoke(review_app, str(script))
    assert code == 1
    assert stdout[0].startswith(f"{script}:2:0: error PG102 os.system starts a shell")
    assert stdout[1].startswith(f"{script}:3:0: warning PG302 open() in text mode")
    assert stdout[2] == f"{script}: review failed with 1 error and 1 warning"


def test_command_warnings_exit_zero(review_app: typer.Typer, tmp_path: Path) -> None:
    script = tmp_path / "warn.py"
    script.write_text("import json\njson.dumps({})\n", encoding="utf-8")
    code, stdout, _ = invoke(review_app, str(script))
    assert code == 0
    assert stdout[-1] == f"{script}: review passed with 0 errors and 1 warning"


def test_command_kind_required_command_line(review_app: typer.Typer, tmp_path: Path) -> None:
    script = tmp_path / "plain.py"
    script.write_text("print(1)\n", encoding="utf-8")
    code, stdout, _ = invoke(review_app, str(script), "--kind", "splitter")
    assert code == 1
    assert stdout[0].startswith(f"{script}:1:0: error PG202 ")


def test_command_json(review_app: typer.Typer, tmp_path: Path) -> None:
    script = tmp_path / "bad.py"
    script.write_text("import os\nos.system('ls')\n", encoding="utf-8")
    code, stdout, _ = invoke(review_app, str(script), "--json")
    document = json.loads("\n".join(stdout))
    assert code == 1
    assert document["passed"] is False
    assert document["errors"] == 1
    assert document["findings"][0]["rule"] == "PG102"
    assert document["findings"][0]["line"] == 2


def test_command_syntax_error(review_app: typer.Typer, tmp_path: Path) -> None:
    script = tmp_path / "broken.py"
    script.write_text("def f(:\n", encoding="utf-8")
    code, stdout, _ = invoke(review_app, str(script))
    assert code == 1
    assert len(stdout) == 1
    assert stdout[0].startswith(f"{script}:1:")
    assert " error PG100 the code does not parse: " in stdout[0]


def test_command_missing_file(review_app: typer.Typer, tmp_path: Path) -> None:
    script = tmp_path / "absent.py"
    code, stdout, stderr = invoke(review_app, str(script))
    assert code == 1
    assert stdout == []
    assert stderr == [f"error: script not found: {script}; give the path of a Python file"]


def test_command_folder(review_app: typer.Typer, tmp_path: Path) -> None:
    code, _, stderr = invoke(review_app, str(tmp_path))
    assert code == 1
    assert stderr == [f"error: {tmp_path} is a folder; give the path of a Python file"]


def test_command_not_utf8(review_app: typer.Typer, tmp_path: Path) -> None:
    script = tmp_path / "latin.py"
    script.write_bytes("x = 'caf\u00e9'\n".encode("latin-1"))
    code, _, stderr = invoke(review_app, str(script))
    assert code == 1
    assert stderr == [f"error: {script} is not UTF-8 text (invalid byte at offset 8); save it as UTF-8"]


def test_command_byte_order_mark(review_app: typer.Typer, tmp_path: Path) -> None:
    script = tmp_path / "bom.py"
    script.write_bytes(b"\xef\xbb\xbfprint(1)\n")
    code, stdout, _ = invoke(review_app, str(script))
    assert code == 0
    assert stdout == [f"{script}: review passed with 0 errors and 0 warnings"]


def test_command_invalid_kind(review_app: typer.Typer, tmp_path: Path) -> None:
    script = tmp_path / "x.py"
    script.write_text("print(1)\n", encoding="utf-8")
    code, _, stderr = invoke(review_app, str(script), "--kind", "merger")
    assert code == 1
    assert stderr == ["error: invalid --kind 'merger': choose one of converter, splitter"]


@pytest.mark.parametrize(
    "code",
    [
        'open("/tmp/promptgen-hostile/written", "w", encoding="utf-8")\n',
        'import sys\npath = sys.argv[1] if len(sys.argv) > 1 else "/etc/passwd"\n',
        'from pathlib import Path\nPath("~/secrets")\n',
    ],
)
def test_absolute_path_is_error(code):
    report = review_code(code)
    assert [finding.rule for finding in report.findings if finding.rule == "PG203"] == ["PG203"]
    assert not report.passed


@pytest.mark.parametrize("code", ['SEPARATOR = "/"\n', 'URL = "http://example.org/a"\n', 'TEXT = "a / b"\n'])
def test_absolute_path_not_flagged(code):
    assert "PG203" not in [finding.rule for finding in review_code(code).findings]
