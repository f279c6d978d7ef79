"""Prompt templates: Jinja2 files with a TOML front matter that declares their variables.

A template file is ``NAME.md.j2`` (rendered with Jinja2) or ``NAME.md`` (plain text).
It starts with a TOML block between two lines that are exactly ``+++``::

    +++
    name = "converter"
    version = 1
    kind = "converter"
    description = "..."

    [[variables]]
    name = "sheet"
    type = "str"
    help = "..."
    +++
    Step1: ...

A variable without ``default`` is required. Rendering checks every value against
its declared type, so a template body is rendered only with values of those types.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import jinja2
from jinja2 import meta

from promptgen.errors import SettingsError, TemplateError
from promptgen.spec import (
    ConverterSettings,
    Settings,
    column_index,
    format_ratio,
    is_column_letter,
    kind_of,
    parse_ratio,
)

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

FRONT_MATTER_FENCE = "+++"
JINJA_SUFFIX = ".md.j2"
TEXT_SUFFIX = ".md"
TEMPLATES_ENV = "PROMPTGEN_TEMPLATES"

# "list" is a list of strings, such as the failures sent in a repair message.
VARIABLE_TYPES = ("str", "int", "bool", "choice", "ratio", "list")
TEMPLATE_KINDS = ("converter", "splitter")

_TOP_LEVEL_KEYS = ("name", "version", "kind", "description", "variables")
_VARIABLE_KEYS = ("name", "type", "default", "help", "choices")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True)
class TemplateVariable:
    """A value that a template takes, as declared in its front matter."""

    name: str
    type: str
    default: Any
    """The value used when none is given; None makes the variable required."""
    help: str
    choices: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True)
class PromptTemplate:
    """A parsed template file: its front matter and the Jinja2 or plain-text body."""

    name: str
    version: int
    kind: str | None
    description: str
    variables: tuple[TemplateVariable, ...]
    body: str
    path: Path
    sha256: str
    """SHA-256 of the file's bytes, front matter included."""

    def variable(self, name: str) -> TemplateVariable | None:
        for variable in self.variables:
            if variable.name == name:
                return variable
        return None


@dataclass(frozen=True)
class RenderedPrompt:
    """The text of a rendered template and the versions that produced it, for the manifest."""

    template: str
    version: int
    template_sha256: str
    text: str
    sha256: str
    """SHA-256 of ``text`` encoded as UTF-8."""


class Ratio(NamedTuple):
    """A train:test ratio as templates see it: ``{{ ratio }}`` gives ``7:3``, ``{{ ratio.train }}`` gives 7."""

    train: int
    test: int

    def __str__(self) -> str:
        return format_ratio((self.train, self.test))


def _json_literal(value: Any) -> str:
    # A JSON string literal with ensure_ascii=False is also a valid Python string
    # literal, so quotes, backslashes and newlines in the value survive when the
    # model copies it into the script's constants block.
    return json.dumps(value, ensure_ascii=False)


def _make_environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["json_literal"] = _json_literal
    environment.filters["column_index"] = column_index
    environment.tests["column_letter"] = is_column_letter
    return environment


_ENVIRONMENT = _make_environment()


def templates_dir() -> Path:
    """Return the folder that contains the prompt templates.

    The folder named by PROMPTGEN_TEMPLATES wins. Otherwise a wheel install carries
    the templates inside the package, and an editable install reads them from the
    repository's top-level ``prompt_templates/``.
    """
    override = os.environ.get(TEMPLATES_ENV)
    if override:
        return Path(override)
    packaged = Path(__file__).resolve().parent / "prompt_templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "prompt_templates"


def _template_files(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        raise TemplateError(
            f"template folder {str(folder)!r} does not exist: "
            f"create it, or point {TEMPLATES_ENV} at the folder that holds the templates"
        )
    files: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        name = _template_name(path)
        if name is None:
            continue
        if name in files:
            raise TemplateError(
                f"template {name!r} has two files, {files[name].name} and {path.name}, in {folder}: "
                "delete one of them"
            )
        files[name] = path
    return files


def _template_name(path: Path) -> str | None:
    """Return the template name of a file, or None when the file is not a template."""
    for suffix in (JINJA_SUFFIX, TEXT_SUFFIX):
        if path.name.endswith(suffix) and len(path.name) > len(suffix):
            return path.name[: -len(suffix)]
    return None


def list_templates() -> list[PromptTemplate]:
    """Load every template in templates_dir(), sorted by name."""
    return [_parse_template_file(path) for path in _template_files(templates_dir()).values()]


def load_template(name: str) -> PromptTemplate:
    folder = templates_dir()
    files = _template_files(folder)
    path = files.get(name)
    if path is None:
        available = ", ".join(files) or "none"
        raise TemplateError(
            f"template {name!r} not found in {folder}: choose one of the available templates ({available})"
        )
    return _parse_template_file(path)


def _split_front_matter(path: Path, text: str) -> tuple[str, str, int]:
    """Split a template into front matter and body, and return the line number where the body starts."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip("\n") != FRONT_MATTER_FENCE:
        raise TemplateError(
            f"template {path} does not start with front matter: "
            f"make the first line exactly {FRONT_MATTER_FENCE}, then the TOML settings, then another {FRONT_MATTER_FENCE} line"
        )
    for index in range(1, len(lines)):
        if lines[index].rstrip("\n") == FRONT_MATTER_FENCE:
            front_matter = "".join(lines[1:index])
            body = "".join(lines[index + 1 :])
            return front_matter, body, index + 2
    raise TemplateError(
        f"template {path} has no closing {FRONT_MATTER_FENCE} line: "
        f"end the front matter with a line that is exactly {FRONT_MATTER_FENCE}"
    )


def _parse_template_file(path: Path) -> PromptTemplate:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise TemplateError(f"template {path} is not UTF-8 text ({error.reason}): save it as UTF-8") from None
    text = text.replace("\r\n", "\n")

    front_matter_text, body, body_line = _split_front_matter(path, text)
    try:
        # The leading newline stands for the opening +++ line, so the line
        # numbers in TOML errors match the file.
        front_matter = tomllib.loads("\n" + front_matter_text)
    except tomllib.TOMLDecodeError as error:
        raise TemplateError(f"template {path} has invalid TOML front matter: {error}; fix the TOML") from None

    _check_unknown_keys(path, "front matter", front_matter, _TOP_LEVEL_KEYS)
    template = PromptTemplate(
        name=_check_name(path, front_matter, _template_name(path) or path.name),
        version=_check_version(path, front_matter),
        kind=_check_kind(path, front_matter),
        description=_check_text_field(path, front_matter, "description"),
        variables=_parse_variables(path, front_matter),
        body=body,
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
    )
    if path.name.endswith(JINJA_SUFFIX):
        _check_jinja_body(template, body_line)
    return template


def _check_unknown_keys(path: Path, where: str, table: dict[str, Any], known: tuple[str, ...]) -> None:
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise TemplateError(
            f"template {path} has unknown key(s) {', '.join(unknown)} in its {where}: "
            f"use only {', '.join(known)}"
        )


def _check_text_field(path: Path, table: dict[str, Any], key: str) -> str:
    value = table.get(key, "")
    if not isinstance(value, str) or not value.strip():
        raise TemplateError(
            f"template {path} has a missing or empty {key}: add {key} = \"...\" to its front matter"
        )
    return value


def _check_name(path: Path, front_matter: dict[str, Any], expected: str) -> str:
    name = _check_text_field(path, front_matter, "name")
    if name != expected:
        raise TemplateError(
            f"template {path} declares name = {name!r}, but its file name gives {expected!r}: "
            "make the two the same"
        )
    return name


def _check_version(path: Path, front_matter: dict[str, Any]) -> int:
    version = front_matter.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise TemplateError(
            f"template {path} has version = {version!r}: give a whole number of at least 1, such as version = 1"
        )
    return version


def _check_kind(path: Path, front_matter: dict[str, Any]) -> str | None:
    kind = front_matter.get("kind")
    if kind is not None and kind not in TEMPLATE_KINDS:
        raise TemplateError(
            f"template {path} has kind = {kind!r}: use one of {', '.join(TEMPLATE_KINDS)}, "
            "or leave kind out for a template that asks for no script"
        )
    return kind


def _parse_variables(path: Path, front_matter: dict[str, Any]) -> tuple[TemplateVariable, ...]:
    tables = front_matter.get("variables", [])
    if not isinstance(tables, list) or not all(isinstance(table, dict) for table in tables):
        raise TemplateError(
            f"template {path} declares variables in the wrong form: write each one as a [[variables]] table"
        )
    variables: list[TemplateVariable] = []
    for table in tables:
        variable = _parse_variable(path, table)
        if any(existing.name == variable.name for existing in variables):
            raise TemplateError(f"template {path} declares variable {variable.name!r} twice: keep one")
        variables.append(variable)
    return tuple(variables)


def _parse_variable(path: Path, table: dict[str, Any]) -> TemplateVariable:
    name = table.get("name")
    if not isinstance(name, str) or _IDENTIFIER.fullmatch(name) is None:
        raise TemplateError(
            f"template {path} has a variable with name = {name!r}: give a Python identifier such as name = \"sheet\""
        )
    _check_unknown_keys(path, f"variable {name!r}", table, _VARIABLE_KEYS)

    type_name = table.get("type")
    if type_name not in VARIABLE_TYPES:
        raise TemplateError(
            f"template {path} gives variable {name!r} the unknown type {type_name!r}: "
            f"use one of {', '.join(VARIABLE_TYPES)}"
        )
    help_text = table.get("help", "")
    if not isinstance(help_text, str):
        raise TemplateError(f"template {path} gives variable {name!r} a help that is not a string: quote it")

    choices = table.get("choices")
    if type_name == "choice":
        if not isinstance(choices, list) or not choices or not all(isinstance(c, str) for c in choices):
            raise TemplateError(
                f"template {path} declares choice variable {name!r} without choices: "
                "add choices = [\"...\", \"...\"] with at least one string"
            )
    elif choices is not None:
        raise TemplateError(
            f"template {path} gives choices to variable {name!r} of type {type_name!r}: "
            "remove choices, or set type = \"choice\""
        )

    variable = TemplateVariable(
        name=name,
        type=type_name,
        default=table.get("default"),
        help=help_text,
        choices=tuple(choices or ()),
    )
    if variable.default is not None:
        try:
            _coerce(variable, variable.default)
        except SettingsError as error:
            raise TemplateError(f"template {path} has an invalid default: {error}") from None
    return variable


def _check_jinja_body(template: PromptTemplate, body_line: int) -> None:
    try:
        parsed = _ENVIRONMENT.parse(template.body)
    except jinja2.TemplateSyntaxError as error:
        line = body_line + error.lineno - 1
        raise TemplateError(
            f"template {template.path}, line {line}: Jinja2 syntax error: {error.message}; fix the template"
        ) from None
    declared = {variable.name for variable in template.variables}
    undeclared = sorted(meta.find_undeclared_variables(parsed) - declared)
    if undeclared:
        raise TemplateError(
            f"template {template.path} uses undeclared variable(s) {', '.join(undeclared)}: "
            "declare each in a [[variables]] table, or remove it from the body"
        )


def _coerce(variable: TemplateVariable, value: Any) -> Any:
    """Check ``value`` against the variable's type and return it in the form templates use.

    Text such as ``"2"`` or ``"true"`` is accepted for int and bool variables,
    because values may come straight from the command line.
    """
    if variable.type == "str":
        if isinstance(value, str):
            return value
        expected = "a string"
    elif variable.type == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
            return int(value)
        expected = "a whole number such as 1"
    elif variable.type == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        expected = "true or false"
    elif variable.type == "choice":
        if value in variable.choices:
            return value
        expected = f"one of {', '.join(variable.choices)}"
    elif variable.type == "ratio":
        return _coerce_ratio(variable, value)
    else:
        if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
            return list(value)
        expected = "a list of strings"
    raise SettingsError(f"invalid value {value!r} for template variable {variable.name!r}: give {expected}")


def _coerce_ratio(variable: TemplateVariable, value: Any) -> Ratio:
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(type(part) is int for part in value):
        value = format_ratio((value[0], value[1]))
    if not isinstance(value, str):
        raise SettingsError(
            f"invalid value {value!r} for template variable {variable.name!r}: give TRAIN:TEST, such as 7:3"
        )
    try:
        train, test = parse_ratio(value)
    except SettingsError as error:
        raise SettingsError(f"template variable {variable.name!r}: {error}") from None
    return Ratio(train, test)


def _resolve_values(template: PromptTemplate, values: dict[str, Any]) -> dict[str, Any]:
    declared = [variable.name for variable in template.variables]
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise SettingsError(
            f"unknown variable(s) {', '.join(unknown)} for template {template.name!r}: "
            f"its variables are {', '.join(declared) or 'none'}"
        )
    resolved: dict[str, Any] = {}
    for variable in template.variables:
        if variable.name in values:
            resolved[variable.name] = _coerce(variable, values[variable.name])
        elif variable.required:
            raise SettingsError(
                f"missing required variable {variable.name!r} for template {template.name!r} "
                f"({variable.help or variable.type}): give a value for it"
            )
        else:
            resolved[variable.name] = _coerce(variable, variable.default)
    return resolved


def render_template(template: PromptTemplate, values: dict[str, Any]) -> RenderedPrompt:
    """Render ``template`` with ``values`` after checking them, filling in defaults.

    Raises SettingsError for an unknown, missing or invalid value, and
    TemplateError when the body fails, such as on an undefined attribute.
    """
    context = _resolve_values(template, values)
    if template.path.name.endswith(JINJA_SUFFIX):
        try:
            text = _ENVIRONMENT.from_string(template.body).render(context)
        except jinja2.TemplateError as error:
            raise TemplateError(
                f"template {template.path} failed to render: {error}; "
                "use only the declared variables and their attributes"
            ) from None
    else:
        text = template.body
    return RenderedPrompt(
        template=template.name,
        version=template.version,
        template_sha256=template.sha256,
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def settings_values(settings: Settings) -> dict[str, Any]:
    """Map typed settings to the variables of the template of their kind."""
    if isinstance(settings, ConverterSettings):
        return {
            "sheet": settings.sheet,
            "input_col": settings.input_col,
            "output_col": settings.output_col,
            "system": settings.system,
            "header_rows": settings.header_rows,
            "on_missing": settings.on_missing,
            "strip": settings.strip,
            "format": settings.format,
            "engine": settings.engine,
        }
    return {
        "ratio": format_ratio(settings.ratio),
        "seed": settings.seed,
        "group_by": settings.group_by,
    }


def render_for_settings(settings: Settings) -> RenderedPrompt:
    """Render the converter or splitter template with the values of ``settings``."""
    return render_template(load_template(kind_of(settings)), settings_values(settings))


def render_system_prompt() -> str:
    return render_template(load_template("system"), {}).text


def render_repair(kind: str, failures: list[str]) -> str:
    """Render the user message that sends the failures of an attempt back to the model."""
    if not failures:
        raise ValueError("render_repair needs at least one failure to report")
    return render_template(load_template("repair"), {"kind": kind, "failures": failures}).text
