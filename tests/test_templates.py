"""Tests for promptgen.templates and the prompt templates in prompt_templates/."""

from __future__ import annotations

import ast
import hashlib
import json
import re
from fractions import Fraction
from math import ceil
from pathlib import Path

import pytest

from promptgen.bake import bake_script
from promptgen.errors import SettingsError, TemplateError
from promptgen.spec import ConverterSettings, SplitterSettings
from promptgen.templates import (
    TEMPLATES_ENV,
    list_templates,
    load_template,
    render_for_settings,
    render_repair,
    render_system_prompt,
    render_template,
    settings_values,
    templates_dir,
)

REPO = Path(__file__).resolve().parents[1]

EXCEL_ERROR_CODES = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA")

MINIMAL_FRONT_MATTER = '+++\nname = "{name}"\nversion = 1\ndescription = "A test template."\n'


@pytest.fixture(autouse=True)
def _real_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TEMPLATES_ENV, raising=False)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty template folder that templates_dir() points at."""
    path = tmp_path / "templates"
    path.mkdir()
    monkeypatch.setenv(TEMPLATES_ENV, str(path))
    return path


def write(folder: Path, file_name: str, text: str) -> Path:
    path = folder / file_name
    path.write_text(text, encoding="utf-8")
    return path


def constants_block(prompt: str) -> str:
    """Return the settings block from Step1 of a rendered prompt."""
    match = re.search(r"```python\n(# Settings baked in.*?)```", prompt, re.DOTALL)
    assert match is not None, "the prompt has no settings block"
    return match.group(1)


def script_constants_block(script: str) -> str:
    start = script.index("# Settings baked in")
    end = script.index("\n\n", start)
    return script[start : end + 1]


def system_literal(prompt: str) -> str:
    match = re.search(r"^SYSTEM = (.*)$", prompt, re.MULTILINE)
    assert match is not None, "the prompt has no SYSTEM constant"
    return match.group(1)


def converter_prompt(**values: object) -> str:
    return render_template(load_template("converter"), {"sheet": "DrugQA", **values}).text


def splitter_prompt(**values: object) -> str:
    return render_template(load_template("splitter"), values).text


# --- finding and loading templates -------------------------------------------------


def test_templates_dir_env_override(folder: Path) -> None:
    assert templates_dir() == folder


def test_templates_dir_editable_install() -> None:
    assert templates_dir() == REPO / "prompt_templates"


def test_list_templates_names() -> None:
    assert [template.name for template in list_templates()] == ["converter", "repair", "splitter", "system"]


def test_list_templates_missing_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TEMPLATES_ENV, str(tmp_path / "absent"))
    with pytest.raises(TemplateError, match="does not exist"):
        list_templates()


def test_load_template_converter_fields() -> None:
    template = load_template("converter")
    assert template.version == 1
    assert template.kind == "converter"
    assert template.path == REPO / "prompt_templates" / "converter.md.j2"
    assert template.sha256 == hashlib.sha256(template.path.read_bytes()).hexdigest()
    assert [variable.name for variable in template.variables] == [
        "sheet", "input_col", "output_col", "system", "header_rows", "on_missing", "strip", "format", "engine",
    ]


def test_load_template_sheet_required() -> None:
    sheet = load_template("converter").variable("sheet")
    assert sheet is not None
    assert sheet.required


def test_load_template_choices() -> None:
    template = load_template("converter")
    on_missing = template.variable("on_missing")
    engine = template.variable("engine")
    assert on_missing is not None and on_missing.choices == ("skip", "error", "keep")
    assert engine is not None and engine.choices == ("openpyxl", "calamine")


@pytest.mark.parametrize(
    ("settings", "template_name"),
    [(ConverterSettings(sheet="DrugQA"), "converter"), (SplitterSettings(), "splitter")],
)
def test_template_defaults_match_settings(settings: ConverterSettings | SplitterSettings, template_name: str) -> None:
    template = load_template(template_name)
    for name, value in settings_values(settings).items():
        variable = template.variable(name)
        assert variable is not None, f"{template_name} declares no variable {name}"
        if not variable.required:
            assert variable.default == value, f"default of {name}"


def test_load_template_unknown_lists_available() -> None:
    with pytest.raises(TemplateError) as caught:
        load_template("nope")
    assert "'nope'" in str(caught.value)
    assert "converter, repair, splitter, system" in str(caught.value)


def test_load_template_two_files_same_name(folder: Path) -> None:
    write(folder, "twin.md", MINIMAL_FRONT_MATTER.format(name="twin") + "+++\nplain\n")
    write(folder, "twin.md.j2", MINIMAL_FRONT_MATTER.format(name="twin") + "+++\njinja\n")
    with pytest.raises(TemplateError, match="twin.md and twin.md.j2"):
        load_template("twin")


def test_load_template_plain_text_not_rendered(folder: Path) -> None:
    write(folder, "plain.md", MINIMAL_FRONT_MATTER.format(name="plain") + "+++\nKeep {{ this }} as it is.\n")
    assert render_template(load_template("plain"), {}).text == "Keep {{ this }} as it is.\n"


def test_load_template_crlf_front_matter(folder: Path) -> None:
    text = MINIMAL_FRONT_MATTER.format(name="crlf") + "+++\nBody\n"
    (folder / "crlf.md.j2").write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    assert render_template(load_template("crlf"), {}).text == "Body\n"


# --- malformed front matter ----------------------------------------------------------

MALFORMED = [
    ("no-opening-fence", 'name = "bad"\n+++\nbody\n', "first line exactly +++"),
    ("no-closing-fence", '+++\nname = "bad"\nversion = 1\ndescription = "d"\nbody\n', "no closing +++ line"),
    ("bad-toml", '+++\nname = "bad\nversion = 1\n+++\nbody\n', "invalid TOML"),
    ("missing-version", '+++\nname = "bad"\ndescription = "d"\n+++\nbody\n', "version = None"),
    ("version-zero", '+++\nname = "bad"\nversion = 0\ndescription = "d"\n+++\nbody\n', "at least 1"),
    ("missing-description", '+++\nname = "bad"\nversion = 1\n+++\nbody\n', "description"),
    ("name-mismatch", '+++\nname = "other"\nversion = 1\ndescription = "d"\n+++\nbody\n', "make the two the same"),
    ("bad-kind", '+++\nname = "bad"\nversion = 1\nkind = "merger"\ndescription = "d"\n+++\nbody\n', "kind = 'merger'"),
    ("unknown-key", '+++\nname = "bad"\nversion = 2\ndescription = "d"\nauthor = "me"\n+++\nbody\n', "unknown key(s) author"),
    (
        "unknown-type",
        '+++\nname = "bad"\nversion = 1\ndescription = "d"\n[[variables]]\nname = "x"\ntype = "float"\n+++\n{{ x }}\n',
        "unknown type 'float'",
    ),
    (
        "choice-without-choices",
        '+++\nname = "bad"\nversion = 1\ndescription = "d"\n[[variables]]\nname = "x"\ntype = "choice"\n+++\n{{ x }}\n',
        "without choices",
    ),
    (
        "default-not-in-choices",
        '+++\nname = "bad"\nversion = 1\ndescription = "d"\n[[variables]]\nname = "x"\ntype = "choice"\n'
        'choices = ["a", "b"]\ndefault = "c"\n+++\n{{ x }}\n',
        "invalid default",
    ),
    (
        "choices-on-str",
        '+++\nname = "bad"\nversion = 1\ndescription = "d"\n[[variables]]\nname = "x"\ntype = "str"\n'
        'choices = ["a"]\n+++\n{{ x }}\n',
        "remove choices",
    ),
    (
        "int-default-is-text",
        '+++\nname = "bad"\nversion = 1\ndescription = "d"\n[[variables]]\nname = "x"\ntype = "int"\n'
        'default = "many"\n+++\n{{ x }}\n',
        "invalid default",
    ),
    (
        "duplicate-variable",
        '+++\nname = "bad"\nversion = 1\ndescription = "d"\n[[variables]]\nname = "x"\ntype = "str"\n'
        '[[variables]]\nname = "x"\ntype = "int"\n+++\n{{ x }}\n',
        "declares variable 'x' twice",
    ),
    (
        "variable-bad-name",
        '+++\nname = "bad"\nversion = 1\ndescription = "d"\n[[variables]]\nname = "two words"\ntype = "str"\n+++\nbody\n',
        "Python identifier",
    ),
    (
        "variables-not-tables",
        '+++\nname = "bad"\nversion = 1\ndescription = "d"\nvariables = ["x"]\n+++\nbody\n',
        "[[variables]] table",
    ),
    (
        "undeclared-variable",
        '+++\nname = "bad"\nversion = 1\ndescription = "d"\n+++\n{% if mood %}{{ mood }}{% endif %}\n',
        "undeclared variable(s) mood",
    ),
]


@pytest.mark.parametrize(("text", "fragment"), [case[1:] for case in MALFORMED], ids=[case[0] for case in MALFORMED])
def test_load_template_malformed(folder: Path, text: str, fragment: str) -> None:
    write(folder, "bad.md.j2", text)
    with pytest.raises(TemplateError) as caught:
        load_template("bad")
    message = str(caught.value)
    assert str(folder / "bad.md.j2") in message
    assert fragment in message
    assert "\n" not in message


def test_load_template_not_utf8(folder: Path) -> None:
    (folder / "latin.md").write_bytes(b'+++\nname = "latin"\nversion = 1\ndescription = "caf\xe9"\n+++\n')
    with pytest.raises(TemplateError, match="is not UTF-8 text"):
        load_template("latin")


def test_load_template_toml_error_line(folder: Path) -> None:
    # Line 3 of the file contains the unclosed string.
    write(folder, "bad.md.j2", '+++\nname = "bad"\nversion = "1\ndescription = "d"\n+++\nbody\n')
    with pytest.raises(TemplateError, match=r"line 3"):
        load_template("bad")


def test_load_template_jinja_syntax_error_line(folder: Path) -> None:
    text = MINIMAL_FRONT_MATTER.format(name="bad") + "+++\nline 6\nline 7 {{ oops }\nline 8\n"
    write(folder, "bad.md.j2", text)
    with pytest.raises(TemplateError) as caught:
        load_template("bad")
    assert f"{folder / 'bad.md.j2'}, line 7:" in str(caught.value)
    assert "Jinja2 syntax error" in str(caught.value)


def test_render_strict_undefined_attribute(folder: Path) -> None:
    text = (
        MINIMAL_FRONT_MATTER.format(name="strict")
        + '[[variables]]\nname = "ratio"\ntype = "ratio"\ndefault = "7:3"\n+++\n{{ ratio.validation }}\n'
    )
    write(folder, "strict.md.j2", text)
    template = load_template("strict")
    with pytest.raises(TemplateError) as caught:
        render_template(template, {})
    assert "validation" in str(caught.value)
    assert str(folder / "strict.md.j2") in str(caught.value)


# --- validating values ------------------------------------------------------------------


def test_render_unknown_variables() -> None:
    with pytest.raises(SettingsError) as caught:
        render_template(load_template("converter"), {"sheet": "DrugQA", "colour": "red", "size": 3})
    message = str(caught.value)
    assert "colour, size" in message
    assert "sheet, input_col, output_col, system, header_rows, on_missing, strip, format, engine" in message


def test_render_missing_required() -> None:
    with pytest.raises(SettingsError) as caught:
        render_template(load_template("converter"), {})
    assert "missing required variable 'sheet'" in str(caught.value)
    assert "'converter'" in str(caught.value)


INVALID_VALUES = [
    ("converter", "sheet", 5, "give a string"),
    ("converter", "header_rows", "two", "whole number"),
    ("converter", "header_rows", True, "whole number"),
    ("converter", "header_rows", 1.5, "whole number"),
    ("converter", "strip", "maybe", "true or false"),
    ("converter", "strip", 1, "true or false"),
    ("converter", "on_missing", "drop", "one of skip, error, keep"),
    ("converter", "format", "csv", "one of jsonl, json"),
    ("converter", "engine", "pandas", "one of openpyxl, calamine"),
    ("splitter", "ratio", "7-3", "TRAIN:TEST"),
    ("splitter", "ratio", "0:3", "at least 1"),
    ("splitter", "ratio", 0.7, "TRAIN:TEST"),
    ("splitter", "seed", "forty-two", "whole number"),
    ("splitter", "group_by", "output", "one of none, input"),
    ("repair", "failures", "one fault", "a list of strings"),
    ("repair", "failures", ["ok", 3], "a list of strings"),
]


@pytest.mark.parametrize(
    ("template_name", "name", "value", "fragment"),
    INVALID_VALUES,
    ids=[f"{case[1]}-{case[2]!r}" for case in INVALID_VALUES],
)
def test_render_invalid_value(template_name: str, name: str, value: object, fragment: str) -> None:
    values = {"converter": {"sheet": "DrugQA"}, "splitter": {}, "repair": {"kind": "converter", "failures": ["x"]}}
    with pytest.raises(SettingsError) as caught:
        render_template(load_template(template_name), {**values[template_name], name: value})
    assert f"'{name}'" in str(caught.value)
    assert fragment in str(caught.value)


def test_render_values_from_text() -> None:
    prompt = converter_prompt(header_rows="2", strip="false")
    assert "HEADER_ROWS = 2\n" in prompt
    assert "STRIP = False\n" in prompt


def test_render_ratio_as_tuple() -> None:
    assert "RATIO = (8, 2)\n" in splitter_prompt(ratio=(8, 2))


def test_render_fills_defaults() -> None:
    block = constants_block(converter_prompt())
    assert block == (
        "# Settings baked in when promptgen wrote this script.\n"
        'SHEET = "DrugQA"\n'
        'INPUT_COLUMN = "A"\n'
        'OUTPUT_COLUMN = "D"\n'
        'SYSTEM = ""\n'
        "HEADER_ROWS = 1\n"
        'ON_MISSING = "skip"\n'
        "STRIP = True\n"
        'OUTPUT_FORMAT = "jsonl"\n'
        'ENGINE = "openpyxl"\n'
    )


# --- rules stated in the rendered prompts ----------------------------------------------------

SETTINGS_COMBINATIONS = [
    pytest.param(ConverterSettings(sheet="DrugQA"), id="converter-defaults"),
    pytest.param(
        ConverterSettings(
            sheet="Drug QA ",
            input_col="Question",
            output_col="Answer",
            system='You are a "careful" pharmacist.\nAnswer in 中文.',
            header_rows=2,
            on_missing="keep",
            strip=False,
            format="json",
        ),
        id="converter-header-text-json-keep",
    ),
    pytest.param(
        ConverterSettings(sheet="DrugQA", input_col="B", output_col="AB", header_rows=0, on_missing="error"),
        id="converter-letters-no-header",
    ),
    pytest.param(ConverterSettings(sheet="DrugQA", engine="calamine"), id="converter-calamine"),
    pytest.param(SplitterSettings(), id="splitter-defaults"),
    pytest.param(SplitterSettings(ratio=(8, 2), seed=1, group_by="input"), id="splitter-grouped"),
]


@pytest.mark.parametrize("settings", SETTINGS_COMBINATIONS)
def test_constants_match_baked_reference(settings: ConverterSettings | SplitterSettings) -> None:
    prompt = render_for_settings(settings).text
    assert constants_block(prompt) == script_constants_block(bake_script(settings))


@pytest.mark.parametrize("settings", SETTINGS_COMBINATIONS)
def test_rendered_prompt_clean(settings: ConverterSettings | SplitterSettings) -> None:
    prompt = render_for_settings(settings).text
    assert "{{" not in prompt
    assert "{%" not in prompt
    assert "\n\n\n" not in prompt
    assert not prompt.startswith("\n")
    assert prompt.endswith(".\n")


CONVERTER_RULES = [
    "`python SCRIPT INPUT.xlsx OUTPUT`",
    "argparse",
    "never hard-code a file name",
    "Import only openpyxl and these standard library modules",
    "error: MESSAGE",
    "No traceback",
    "bare `except:`",
    "KeyboardInterrupt",
    "D0 CF 11 E0",
    '"EncryptionInfo".encode("utf-16-le")',
    "`.xls`",
    "zipfile.is_zipfile",
    "openpyxl.load_workbook(INPUT, read_only=True, data_only=True)",
    ".strip().casefold()",
    "ws.reset_dimensions()",
    "ws.iter_rows(values_only=True)",
    "wb.close()",
    "`bool` is an `int`",
    "`datetime` is a `date`",
    "`TRUE` or `FALSE`",
    "str(int(value))",
    "repr(value)",
    "YYYY-MM-DD HH:MM:SS",
    "`HH:MM:SS`",
    "`XFD`",
    "last column with data",
    "lists the header texts",
    "both missing is skipped silently",
    "no data rows",
    '{"conversation": [',
    "ensure_ascii=False",
    'encoding="utf-8", newline="\\n"',
    "tempfile.mkstemp",
    "os.replace",
    "Never collect the rows or the records in a list",
    "wrote 690 records to out.jsonl; skipped 2 rows: 5, 9",
    "one ```python fenced block containing the whole script",
    *EXCEL_ERROR_CODES,
]


@pytest.mark.parametrize("rule", CONVERTER_RULES)
def test_converter_prompt_states_rule(rule: str) -> None:
    assert rule in converter_prompt()


@pytest.mark.parametrize(
    ("choice", "own", "others"),
    [
        ("skip", 'ON_MISSING is "skip"', ('ON_MISSING is "error"', 'ON_MISSING is "keep"')),
        ("error", 'ON_MISSING is "error"', ('ON_MISSING is "skip"', 'ON_MISSING is "keep"')),
        ("keep", 'ON_MISSING is "keep"', ('ON_MISSING is "skip"', 'ON_MISSING is "error"')),
    ],
)
def test_converter_on_missing_branch(choice: str, own: str, others: tuple[str, str]) -> None:
    prompt = converter_prompt(on_missing=choice)
    assert own in prompt
    for other in others:
        assert other not in prompt


def test_converter_skip_prints_row() -> None:
    assert "skipped row N: input is missing" in converter_prompt(on_missing="skip")


def test_converter_keep_uses_empty_text() -> None:
    assert 'the missing field becomes `""`' in converter_prompt(on_missing="keep")


def test_converter_strip_on() -> None:
    prompt = converter_prompt(strip=True)
    assert "STRIP is True" in prompt
    assert "STRIP is False" not in prompt
    assert "`value.strip()`" in prompt


def test_converter_strip_off() -> None:
    prompt = converter_prompt(strip=False)
    assert "STRIP is False" in prompt
    assert "STRIP is True" not in prompt
    assert "`value.strip()`" not in prompt


def test_converter_format_jsonl() -> None:
    prompt = converter_prompt(format="jsonl")
    assert 'json.dumps(record, ensure_ascii=False) + "\\n"' in prompt
    assert "indent=2" not in prompt


def test_converter_format_json() -> None:
    prompt = converter_prompt(format="json")
    assert 'json.dumps(records, ensure_ascii=False, indent=2) + "\\n"' in prompt
    assert '`"[]\\n"`' in prompt
    assert "JSON Lines" not in prompt


def test_converter_system_empty() -> None:
    prompt = converter_prompt(system="")
    assert 'SYSTEM = ""\n' in prompt
    assert 'no "system" key' in prompt
    assert '{"system": SYSTEM' not in prompt


@pytest.mark.parametrize(
    "system",
    ['Say "hi"\nthen stop.', "back\\slash and\ttab", "中文 system text", "{{ not jinja }}"],
)
def test_converter_system_literal(system: str) -> None:
    prompt = converter_prompt(system=system)
    literal = system_literal(prompt)
    assert json.loads(literal) == system
    assert ast.literal_eval(literal) == system
    assert '{"system": SYSTEM, "input": INPUT_TEXT, "output": OUTPUT_TEXT}' in prompt


def test_converter_column_letters() -> None:
    prompt = converter_prompt(input_col="B", output_col="AB")
    assert 'INPUT_COLUMN "B" is a column letter: column 2.' in prompt
    assert 'OUTPUT_COLUMN "AB" is a column letter: column 28.' in prompt


def test_converter_column_header_text() -> None:
    prompt = converter_prompt(input_col="Question", output_col="XFE", header_rows=2)
    assert 'INPUT_COLUMN "Question" is header text: find it in row 2.' in prompt
    assert 'OUTPUT_COLUMN "XFE" is header text: find it in row 2.' in prompt


@pytest.mark.parametrize(
    ("header_rows", "sentence"),
    [
        (0, "HEADER_ROWS is 0, so every row is data, starting at row 1."),
        (1, "Skip the first row, the header row; data starts at row 2."),
        (3, "Skip the first 3 rows, the header rows; data starts at row 4."),
    ],
)
def test_converter_header_rows(header_rows: int, sentence: str) -> None:
    assert sentence in converter_prompt(header_rows=header_rows)


def test_converter_engine_openpyxl() -> None:
    prompt = converter_prompt(engine="openpyxl")
    assert "openpyxl.load_workbook" in prompt
    assert "python_calamine" not in prompt


def test_converter_engine_calamine() -> None:
    prompt = converter_prompt(engine="calamine")
    assert "CalamineWorkbook.from_path(INPUT)" in prompt
    assert "get_sheet_by_name(SHEET).to_python(skip_empty_area=False)" in prompt
    assert "Import only python_calamine, openpyxl and these standard library modules" in prompt
    assert "read with openpyxl instead" in prompt


SPLITTER_RULES = [
    "`python SCRIPT INPUT TRAIN_OUT TEST_OUT [--seed N]`",
    "`--seed`",
    "never hard-code a file name",
    "Import only these standard library modules: argparse, sys, os",
    "error: MESSAGE",
    "No traceback",
    "bare `except:`",
    "KeyboardInterrupt",
    'encoding="utf-8-sig"',
    "is `[`",
    "0-based array index",
    'newline="\\n"',
    'trailing `"\\r"`',
    "empty or only whitespace is skipped",
    "not valid JSON is an error naming its line number",
    "not a JSON object is an error naming its line number",
    "n < 2 is an error",
    "`n_test = -(-n * b // (a + b))`",
    "`n_train = n - n_test`",
    "Never use `int(n * 0.7)`, `round()`",
    "690 records at 7:3 give n_train 483 and n_test 207",
    "random.Random(seed).shuffle(order)",
    "order[:n_train]",
    "order[n_train:]",
    "ensure_ascii=False",
    "never sort them",
    "tempfile.mkstemp",
    "os.replace",
    "neither output file is left behind",
    "wrote 483 records to train.jsonl and 207 records to test.jsonl from 690 records, ratio 7:3, seed 42",
    "one ```python fenced block containing the whole script",
]


@pytest.mark.parametrize("rule", SPLITTER_RULES)
def test_splitter_prompt_states_rule(rule: str) -> None:
    assert rule in splitter_prompt()


def test_splitter_group_by_none() -> None:
    prompt = splitter_prompt(group_by="none")
    assert 'GROUP_BY is "none", so records are split one by one' in prompt
    assert "shuffle(keys)" not in prompt


GROUP_RULES = [
    'GROUP_BY = "input"',
    'the `"input"` of the first turn',
    "exact strings",
    "order of first appearance",
    "random.Random(seed).shuffle(keys)",
    "a group goes to train while train holds fewer than n_train records, otherwise to test",
    "less than the largest group",
    "all records form one group",
    "groups of equal input",
]


@pytest.mark.parametrize("rule", GROUP_RULES)
def test_splitter_group_by_input(rule: str) -> None:
    assert rule in splitter_prompt(group_by="input")


def test_splitter_group_by_input_no_order_shuffle() -> None:
    assert "shuffle(order)" not in splitter_prompt(group_by="input")


@pytest.mark.parametrize(("train", "test"), [(8, 2), (1, 1), (9, 1), (2, 3)])
def test_splitter_ratio_example(train: int, test: int) -> None:
    n_test_690 = ceil(Fraction(690 * test, train + test))
    n_test_10 = ceil(Fraction(10 * test, train + test))
    prompt = splitter_prompt(ratio=f"{train}:{test}")
    assert f"RATIO = ({train}, {test})\n" in prompt
    assert f"690 records give n_train {690 - n_test_690} and n_test {n_test_690}" in prompt
    assert f"10 records give n_train {10 - n_test_10} and n_test {n_test_10}" in prompt


def test_splitter_seed_value() -> None:
    prompt = splitter_prompt(seed=7)
    assert "SEED = 7\n" in prompt
    assert "seed 7`" in prompt


# --- rendering results --------------------------------------------------------------------


def test_render_deterministic() -> None:
    settings = ConverterSettings(sheet="DrugQA", system="Be brief.")
    first = render_for_settings(settings)
    second = render_for_settings(settings)
    assert first.sha256 == second.sha256
    assert first.text == second.text


def test_render_result_fields() -> None:
    rendered = render_for_settings(SplitterSettings())
    template = load_template("splitter")
    assert rendered.template == "splitter"
    assert rendered.version == template.version
    assert rendered.template_sha256 == template.sha256
    assert rendered.sha256 == hashlib.sha256(rendered.text.encode("utf-8")).hexdigest()


def test_render_settings_change_hash() -> None:
    first = render_for_settings(ConverterSettings(sheet="DrugQA"))
    second = render_for_settings(ConverterSettings(sheet="DrugQA", on_missing="error"))
    assert first.sha256 != second.sha256


def test_system_prompt_text() -> None:
    text = render_system_prompt()
    assert text.startswith("You write standalone Python data scripts")
    assert "exactly one fenced python block" in text
    assert "+++" not in text


def test_repair_lists_failures() -> None:
    failures = [
        "golden case numbers: record 3, field 'output': expected '12', got '12.0'",
        "review: 4:0 error PG101 import of requests is not allowed",
    ]
    text = render_repair("converter", failures)
    for failure in failures:
        assert f"- {failure}\n" in text


def test_repair_indents_multiline_failure() -> None:
    text = render_repair("splitter", ["first line\nsecond line"])
    assert "- first line\n  second line\n" in text


def test_repair_states_contract() -> None:
    text = render_repair("converter", ["x"])
    assert "golden fixtures and their expected output are correct" in text
    assert "`python SCRIPT INPUT.xlsx OUTPUT`" in text
    assert "whole corrected script in one ```python fenced block" in text


def test_repair_splitter_command_line() -> None:
    assert "`python SCRIPT INPUT TRAIN_OUT TEST_OUT [--seed N]`" in render_repair("splitter", ["x"])


def test_repair_no_failures() -> None:
    with pytest.raises(ValueError):
        render_repair("converter", [])


def test_repair_unknown_kind() -> None:
    with pytest.raises(SettingsError, match="one of converter, splitter"):
        render_repair("merger", ["x"])
