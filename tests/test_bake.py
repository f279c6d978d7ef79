import ast

import pytest

from promptgen.bake import add_header, bake_constants, bake_script, python_literal, script_header, strip_header
from promptgen.spec import ConverterSettings, SplitterSettings


@pytest.mark.parametrize("value", ["DrugQA", 'quote " and \\ backslash', "line\nbreak", "中文", 0, 42, True, False, (7, 3)])
def test_python_literal_round_trip(value):
    assert ast.literal_eval(python_literal(value)) == value


def test_bake_constants_replaces_module_level_only():
    source = 'SEED = 1\n\ndef f():\n    SEED = 2\n    return SEED\n'
    baked = bake_constants(source, {"SEED": 42})
    assert baked.startswith("SEED = 42\n")
    assert "    SEED = 2\n" in baked


def test_bake_constants_missing_raises():
    with pytest.raises(ValueError, match="RATIO"):
        bake_constants("SEED = 1\n", {"SEED": 2, "RATIO": (7, 3)})


def test_bake_script_converter_settings():
    settings = ConverterSettings(sheet="Q&A", input_col="Question", output_col="C", system="Be brief.", strip=False)
    namespace: dict = {}
    source = bake_script(settings)
    constants = [node for node in ast.parse(source).body if isinstance(node, ast.Assign)]
    for node in constants:
        target = node.targets[0]
        if isinstance(target, ast.Name) and target.id.isupper():
            try:
                namespace[target.id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    assert namespace["SHEET"] == "Q&A"
    assert namespace["INPUT_COLUMN"] == "Question"
    assert namespace["SYSTEM"] == "Be brief."
    assert namespace["STRIP"] is False


def test_header_added_once():
    settings = SplitterSettings()
    header = script_header(settings, "split.py", "splitter", 1, "reference")
    once = add_header(bake_script(settings), header)
    assert add_header(once, header) == once
    assert once.count("# Written by promptgen") == 1


def test_header_after_shebang():
    header = script_header(SplitterSettings(), "split.py", "splitter", 1, "reference")
    code = add_header("#!/usr/bin/env python3\nprint(1)\n", header)
    assert code.startswith("#!/usr/bin/env python3\n# Split")


def test_strip_header_keeps_other_comments():
    code = "# my own comment\nprint(1)\n"
    assert strip_header(code) == code


def test_header_wraps_long_system_text():
    settings = ConverterSettings(sheet="DrugQA", system="word " * 60)
    header = script_header(settings, "c.py", "converter", 1, "reference")
    assert all(len(line) <= 100 for line in header.splitlines())
    assert all(line.startswith("#") for line in header.splitlines())
