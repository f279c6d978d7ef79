import pytest

from promptgen.errors import SettingsError
from promptgen.spec import (
    ConverterSettings,
    SplitterSettings,
    column_index,
    column_letter,
    is_column_letter,
    parse_ratio,
    settings_from_dict,
)


@pytest.mark.parametrize("text, expected", [("7:3", (7, 3)), (" 8 : 2 ", (8, 2)), ("1:1", (1, 1)), ("70:30", (70, 30))])
def test_parse_ratio_valid(text, expected):
    assert parse_ratio(text) == expected


@pytest.mark.parametrize("text", ["7:0", "0:3", "a:b", "0.7", "7", "7:3:1", "-7:3", ""])
def test_parse_ratio_invalid_names_value(text):
    with pytest.raises(SettingsError) as excinfo:
        parse_ratio(text)
    message = str(excinfo.value)
    assert repr(text) in message
    assert "--ratio 7:3" in message
    assert "\n" not in message


@pytest.mark.parametrize("letters, index", [("A", 1), ("Z", 26), ("AA", 27), ("AZ", 52), ("XFD", 16384)])
def test_column_letters_round_trip(letters, index):
    assert column_index(letters) == index
    assert column_letter(index) == letters


@pytest.mark.parametrize("text, expected", [("A", True), ("XFD", True), ("XFE", False), ("a", False), ("Answer", False), ("AAAA", False)])
def test_is_column_letter(text, expected):
    assert is_column_letter(text) is expected


def test_converter_settings_defaults():
    settings = ConverterSettings(sheet="DrugQA")
    assert (settings.input_col, settings.output_col, settings.header_rows) == ("A", "D", 1)
    assert settings.output_suffix == ".jsonl"


@pytest.mark.parametrize(
    "changes, fragment",
    [
        ({"sheet": ""}, "--sheet"),
        ({"header_rows": -1}, "--header-rows"),
        ({"input_col": "D"}, "two different columns"),
        ({"input_col": "ZZZZ9"}, None),
        ({"on_missing": "drop"}, "skip, error, keep"),
        ({"format": "csv"}, "jsonl, json"),
        ({"engine": "pandas"}, "openpyxl, calamine"),
        ({"input_col": "Question", "header_rows": 0}, "--header-rows"),
        ({"input_col": "XFE"}, "XFD"),
        ({"input_col": "  "}, "column letter"),
    ],
)
def test_converter_settings_invalid(changes, fragment):
    values = {"sheet": "DrugQA", **changes}
    if fragment is None:
        # Header text that is not a column letter is valid with a header row.
        ConverterSettings(**values)
        return
    with pytest.raises(SettingsError) as excinfo:
        ConverterSettings(**values)
    assert fragment in str(excinfo.value)


def test_splitter_settings_round_trip():
    settings = SplitterSettings(ratio=(8, 2), seed=7, group_by="input")
    assert settings_from_dict("splitter", settings.to_dict()) == settings


def test_converter_settings_round_trip():
    settings = ConverterSettings(sheet="Q&A ", input_col="Question", system="Be brief.", strip=False, format="json")
    assert settings_from_dict("converter", settings.to_dict()) == settings


def test_splitter_settings_rejects_zero_part():
    with pytest.raises(SettingsError):
        SplitterSettings(ratio=(7, 0))
