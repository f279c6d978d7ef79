"""Static review of a candidate script with libcst, before the script runs anywhere.

The review is a first filter, not the safety boundary. It follows names
through imports, aliases and simple assignments, but not values through the
program, so sandbox.run_script still runs every candidate in its own process.

Rule ids are stable, and ``RULES`` lists them all. PG1xx errors are about what
the code can do: processes, network, native code, deletion, code built at run
time. PG2xx errors break the script contract, which takes file names from the
command line. PG30x warnings apply to every script, PG31x warnings to splitters.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Literal, Optional, Sequence

import libcst as cst
import libcst.matchers as m
from libcst.helpers import get_full_name_for_node
from libcst.metadata import (
    BaseAssignment,
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
    QualifiedNameProvider,
    ScopeProvider,
)

from promptgen.spec import Kind

Severity = Literal["error", "warning"]

RULES: dict[str, str] = {
    "PG100": "the code does not parse",
    "PG101": "import of a module outside the allow-list",
    "PG102": "starts or signals a process",
    "PG103": "runs or imports code chosen at run time",
    "PG104": "reaches the network",
    "PG105": "loads native code",
    "PG106": "deletes files",
    "PG107": "loads data in a format that can run code",
    "PG108": "attribute access by a computed name",
    "PG109": "access to builtins by name",
    "PG110": "introspection that reaches code objects or globals",
    "PG111": "star import",
    "PG201": "hard-coded input or output file name",
    "PG202": "never reads the command line",
    "PG203": "absolute file system path written into the code",
    "PG301": "json.dump or json.dumps without ensure_ascii=False",
    "PG302": "text file opened without an explicit encoding",
    "PG303": "load_workbook without read_only=True",
    "PG311": "float arithmetic for split sizes",
    "PG312": "random order that no seed controls",
}

# Modules a generated script may import. A submodule of one of them is allowed too.
ALLOWED_MODULES = frozenset(
    {
        "__future__",
        "argparse",
        "sys",
        # os is needed for os.replace, os.fsync and os.path. Its calls that start
        # processes or delete files are errors of their own.
        "os",
        "os.path",
        "pathlib",
        "json",
        "csv",
        "random",
        "math",
        "re",
        "datetime",
        "decimal",
        "collections",
        "itertools",
        "functools",
        # The temporary file beside the output, renamed into place on success.
        "tempfile",
        # TextIOWrapper and StringIO. io.open is checked like open().
        "io",
        "typing",
        "dataclasses",
        "string",
        "unicodedata",
        "textwrap",
        "enum",
        # codecs.BOM_UTF8 for skipping a byte order mark.
        "codecs",
        # An .xlsx file is a ZIP archive, so zipfile distinguishes it from an old .xls or a broken file.
        "zipfile",
        # To silence openpyxl's UserWarning about data validation and headers.
        "warnings",
        "contextlib",
        # operator.attrgetter and methodcaller are checked like getattr.
        "operator",
        "statistics",
        # Digests for group keys or duplicate checks. hashlib does no I/O.
        "hashlib",
        # Harmless modules that such scripts often use: errno and stat for OSError
        # codes and file modes, copy, heapq, bisect, and time for a duration.
        "errno",
        "stat",
        "copy",
        "heapq",
        "bisect",
        "time",
        "openpyxl",
        "python_calamine",
    }
)

# Qualified names (a module, or a module's attribute) that are errors wherever
# the code reaches them, with the rule and what they do.
_FORBIDDEN_NAMES: dict[str, tuple[str, str]] = {
    "subprocess": ("PG102", "starts processes"),
    "pty": ("PG102", "starts processes on a pseudo-terminal"),
    "os.system": ("PG102", "starts a shell"),
    "os.popen": ("PG102", "starts a shell"),
    "os.fork": ("PG102", "creates a process"),
    "os.forkpty": ("PG102", "creates a process"),
    "os.startfile": ("PG102", "starts a program"),
    "os.kill": ("PG102", "sends a signal to a process"),
    "os.killpg": ("PG102", "sends a signal to a process group"),
    "builtins.eval": ("PG103", "runs code from a string"),
    "builtins.exec": ("PG103", "runs code from a string"),
    "builtins.compile": ("PG103", "builds code from a string"),
    "builtins.__import__": ("PG103", "imports a module chosen at run time"),
    "importlib": ("PG103", "imports modules chosen at run time"),
    "sys.modules": ("PG103", "reaches any loaded module by name"),
    "socket": ("PG104", "opens network connections"),
    "urllib": ("PG104", "fetches URLs"),
    "http": ("PG104", "makes HTTP connections"),
    "ctypes": ("PG105", "loads native code"),
    "os.remove": ("PG106", "deletes a file"),
    "os.unlink": ("PG106", "deletes a file"),
    "os.rmdir": ("PG106", "deletes a folder"),
    "os.removedirs": ("PG106", "deletes folders"),
    "shutil.rmtree": ("PG106", "deletes a folder tree"),
    "pickle": ("PG107", "can run code while loading data"),
    "marshal": ("PG107", "loads code objects"),
    "builtins": ("PG109", "reaches eval, exec and __import__ by name"),
    "sys._getframe": ("PG110", "reaches the globals of any caller"),
}
# The os.exec* and os.spawn* families, os.posix_spawn and os.posix_spawnp.
_OS_PROCESS_FAMILY = re.compile(r"os\.((exec|spawn)(l|le|lp|lpe|v|ve|vp|vpe)|posix_spawnp?)")

_FIXES = {
    "PG102": "a generated script must not start or signal processes, so do the work in Python",
    "PG103": "a generated script must not run or import code chosen at run time",
    "PG104": "a generated script must not reach the network, so read only the files named on the command line",
    "PG105": "a generated script must not load native code",
    "PG106": "delete only the script's own temporary file from tempfile.mkstemp or NamedTemporaryFile",
    "PG107": "read JSON or the workbook instead",
    "PG109": "call the builtin by its plain name",
    "PG110": "a generated script needs no introspection",
}

# Attribute and global names that lead from any object to code objects,
# globals or builtins.
_ESCAPE_NAMES: dict[str, tuple[str, str]] = {
    "__builtins__": ("PG109", "reaches eval, exec and __import__ by name"),
    "__subclasses__": ("PG110", "reaches every loaded class"),
    "__globals__": ("PG110", "reaches a function's globals and builtins"),
    "__code__": ("PG110", "reaches a function's code object"),
    "__getattribute__": ("PG110", "reads attributes by a name chosen at run time"),
    "__loader__": ("PG103", "can load any module by name"),
}

# The first argument of these calls is a file path.
_FILE_PATH_CALLS = frozenset(
    {
        "builtins.open",
        "io.open",
        "codecs.open",
        "zipfile.ZipFile",
        "openpyxl.load_workbook",
        "openpyxl.reader.excel.load_workbook",
        "python_calamine.CalamineWorkbook.from_path",
        "python_calamine.load_workbook",
    }
)
# Every positional argument of these calls is part of a path.
_PATH_PART_CALLS = frozenset(
    {"pathlib.Path", "pathlib.PurePath", "os.path.join", "os.replace", "os.rename"}
)
_PATH_PART_METHODS = frozenset({"with_name", "joinpath"})
_FILE_PATH_KEYWORDS = frozenset({"file", "filename", "path"})
_DATA_FILE_SUFFIXES = frozenset({"xlsx", "xlsm", "xls", "jsonl", "json", "csv"})


@dataclass(frozen=True)
class _Opener:
    """Positions of the mode and encoding arguments of a file-opening call, and its default mode."""

    mode_position: int | None
    default_mode: str
    encoding_position: int


_OPENERS: dict[str, _Opener] = {
    "builtins.open": _Opener(1, "r", 3),
    "io.open": _Opener(1, "r", 3),
    "os.fdopen": _Opener(1, "r", 3),
    "codecs.open": _Opener(1, "r", 2),
    "tempfile.NamedTemporaryFile": _Opener(0, "w+b", 2),
    "tempfile.TemporaryFile": _Opener(0, "w+b", 2),
    "tempfile.SpooledTemporaryFile": _Opener(1, "w+b", 3),
    "io.TextIOWrapper": _Opener(None, "r", 1),
}
# pathlib.Path methods, recognised by name because the type of the receiver is unknown.
_TEXT_METHODS: dict[str, _Opener] = {
    "read_text": _Opener(None, "r", 0),
    "write_text": _Opener(None, "w", 1),
}
_PATH_OPEN = _Opener(0, "r", 2)

_LOAD_WORKBOOK = frozenset({"openpyxl.load_workbook", "openpyxl.reader.excel.load_workbook"})
_ROUNDING_CALLS = frozenset({"builtins.int", "builtins.round", "math.floor", "math.ceil", "math.trunc"})
_MODULE_RANDOM_ORDER = frozenset(
    {"random.shuffle", "random.sample", "random.choice", "random.choices", "random.random", "random.randint", "random.randrange"}
)
_TEMPORARY_FILE_CALLS = frozenset({"tempfile.NamedTemporaryFile", "tempfile.TemporaryFile"})
_PATH_CLASSES = frozenset({"pathlib.Path", "pathlib.PurePath"})
# Calls that only read a list passed to them.
_LIST_READING_CALLS = frozenset(
    {"builtins.zip", "builtins.enumerate", "builtins.len", "builtins.reversed", "builtins.sorted", "builtins.list", "builtins.tuple"}
)
# How many names and wrappers a check follows from a use back to a value.
_MAX_FOLLOW_DEPTH = 4


@dataclass(frozen=True)
class Finding:
    """One problem in a script. ``line`` is 1-based and ``column`` 0-based, as in ast and libcst."""

    rule: str
    severity: Severity
    line: int
    column: int
    message: str

    def format(self) -> str:
        return f"{self.line}:{self.column} {self.severity} {self.rule} {self.message}"


@dataclass(frozen=True)
class ReviewReport:
    """The findings of one review, ordered by position."""

    findings: tuple[Finding, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if finding.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if finding.severity == "warning")

    @property
    def passed(self) -> bool:
        """True when there is no error, because warnings do not fail a review."""
        return not self.errors


def review_code(code: str, kind: Optional[Kind] = None) -> ReviewReport:
    """Review ``code`` and return every finding, or a single PG100 error when it does not parse.

    With ``kind`` set, the script must also read its command line (PG202), and
    a splitter gets the PG31x warnings.
    """
    module, syntax_error = _parse(code)
    if module is None:
        assert syntax_error is not None
        return ReviewReport((syntax_error,))

    wrapper = MetadataWrapper(module)
    bindings = _BindingCollector()
    wrapper.visit(bindings)
    checker = _Checker(wrapper.module, bindings, kind)
    wrapper.visit(checker)

    findings = list(checker.findings)
    if kind is not None and not checker.reads_command_line:
        findings.append(
            Finding(
                "PG202",
                "error",
                1,
                0,
                "the script never reads its command line; take the input and output file names "
                "from sys.argv or argparse",
            )
        )
    return ReviewReport(_sorted_unique(findings))


def _parse(code: str) -> tuple[cst.Module | None, Finding | None]:
    # ast.parse runs first for CPython's own syntax error messages.
    null = code.find("\x00")
    if null >= 0:
        line = code.count("\n", 0, null) + 1
        column = null - (code.rfind("\n", 0, null) + 1)
        return None, Finding("PG100", "error", line, column, "the code contains a null character; remove it")
    try:
        ast.parse(code)
    except SyntaxError as error:
        column = max((error.offset or 1) - 1, 0)
        return None, Finding("PG100", "error", error.lineno or 1, column, f"the code does not parse: {error.msg}")

    try:
        return cst.parse_module(code), None
    except cst.ParserSyntaxError as error:
        message = f"libcst cannot parse this code ({error.message}); rewrite the line in syntax that Python 3.10 accepts"
        return None, Finding("PG100", "error", error.raw_line, error.raw_column, message)


def _sorted_unique(findings: list[Finding]) -> tuple[Finding, ...]:
    """Keep the first finding of each rule at each position, ordered by position."""
    unique: dict[tuple[int, int, str], Finding] = {}
    for finding in findings:
        unique.setdefault((finding.line, finding.column, finding.rule), finding)
    return tuple(sorted(unique.values(), key=lambda finding: (finding.line, finding.column, finding.rule)))


def _forbidden_reason(qualified_name: str) -> tuple[str, str] | None:
    """Return the rule and reason when ``qualified_name`` or one of its parent names is forbidden.

    ``subprocess.run`` is forbidden because ``subprocess`` is, and ``os.execv``
    because it belongs to the os.exec family.
    """
    parts = qualified_name.split(".")
    for end in range(1, len(parts) + 1):
        prefix = ".".join(parts[:end])
        # Every builtin has a qualified name under "builtins", so only the module itself is forbidden.
        if prefix == "builtins" and end < len(parts):
            continue
        if prefix in _FORBIDDEN_NAMES:
            return _FORBIDDEN_NAMES[prefix]
        if _OS_PROCESS_FAMILY.fullmatch(prefix):
            return ("PG102", "starts a process")
    return None


def _forbidden_attribute_name(name: str) -> tuple[str, str] | None:
    """Return the rule and reason for an attribute name that is dangerous on any object.

    Deletion names are left out because ``remove`` is also a list method.
    """
    if name in _ESCAPE_NAMES:
        return _ESCAPE_NAMES[name]
    for module in ("os", "builtins"):
        reason = _forbidden_reason(f"{module}.{name}")
        if reason is not None and reason[0] != "PG106" and f"{module}.{name}" != "builtins.compile":
            return reason
    if name == "rmtree":
        return _FORBIDDEN_NAMES["shutil.rmtree"]
    return None


def _string_value(node: cst.BaseExpression) -> str | None:
    """Return the text of a plain string literal, or None for anything else (bytes, f-strings, names)."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


# "/tmp/x", "/etc/passwd", "~/data", "C:\\Users\\x": one path without spaces. A lone "/" is not one.
_ABSOLUTE_PATH = re.compile(r"(?:~?/|[A-Za-z]:[\\/])[\w.-]+(?:[\\/][\w.-]*)*")


def _is_data_file_name(node: cst.BaseExpression) -> bool:
    """True for a string or f-string that ends in a data file name such as ``train.jsonl``.

    A bare suffix (``".jsonl"``, as passed to ``with_suffix``) or a glob is not a file name.
    """
    if isinstance(node, cst.FormattedString):
        last = node.parts[-1] if node.parts else None
        if not isinstance(last, cst.FormattedStringText):
            return False
        text = last.value
        has_stem = len(node.parts) > 1
    else:
        value = _string_value(node)
        if value is None:
            return False
        text = value
        has_stem = False

    base_name = re.split(r"[/\\]", text)[-1]
    stem, dot, suffix = base_name.rpartition(".")
    if not dot or suffix.lower() not in _DATA_FILE_SUFFIXES:
        return False
    if "*" in stem or "?" in stem:
        return False
    return bool(stem.strip()) or (has_stem and base_name == text)


def _arguments(call: cst.Call) -> tuple[list[cst.BaseExpression], dict[str, cst.BaseExpression], bool]:
    """Split a call's arguments into positional values, keyword values and whether ``*`` or ``**`` occurs."""
    positional: list[cst.BaseExpression] = []
    keywords: dict[str, cst.BaseExpression] = {}
    has_star = False
    for argument in call.args:
        if argument.star:
            has_star = True
        elif argument.keyword is not None:
            keywords[argument.keyword.value] = argument.value
        else:
            positional.append(argument.value)
    return positional, keywords, has_star


def _argument(
    positional: Sequence[cst.BaseExpression],
    keywords: dict[str, cst.BaseExpression],
    position: int | None,
    keyword: str,
) -> cst.BaseExpression | None:
    if keyword in keywords:
        return keywords[keyword]
    if position is not None and position < len(positional):
        return positional[position]
    return None


def _is_dotted_name(node: cst.BaseExpression) -> bool:
    while isinstance(node, cst.Attribute):
        node = node.value
    return isinstance(node, cst.Name)


def _is_name(node: cst.BaseExpression, value: str) -> bool:
    return isinstance(node, cst.Name) and node.value == value


def _binds_none(binding: _Binding) -> bool:
    return binding.item is None and not binding.element and _is_name(binding.value, "None")


@dataclass(frozen=True)
class _Binding:
    """The value bound to a name.

    ``item`` is the name's position when a tuple is unpacked (``a, b = value``),
    and ``element`` is True when the name is a loop variable over ``value``.
    """

    value: cst.BaseExpression
    item: int | None = None
    element: bool = False


class _BindingCollector(cst.CSTVisitor):
    """Record the value bound to each assignment target, for the checks that follow names."""

    def __init__(self) -> None:
        super().__init__()
        self.bindings: dict[cst.Name, _Binding] = {}

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._bind(node.target, node.value)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        # The context managers that matter here (open, NamedTemporaryFile) return themselves from __enter__.
        if node.asname is not None:
            self._bind(node.asname.name, node.item)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target, node.iter, element=True)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind(node.target, node.iter, element=True)

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression, element: bool = False) -> None:
        if isinstance(target, cst.Name):
            self.bindings[target] = _Binding(value, None, element)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for item, part in enumerate(target.elements):
                if isinstance(part.value, cst.Name) and not isinstance(part, cst.StarredElement):
                    self.bindings[part.value] = _Binding(value, item, element)


class _Checker(cst.CSTVisitor):
    """Collect the findings of one review; the lookups follow names to the values in ``collector``."""

    METADATA_DEPENDENCIES = (PositionProvider, QualifiedNameProvider, ScopeProvider, ParentNodeProvider)

    def __init__(self, module: cst.Module, collector: _BindingCollector, kind: Optional[Kind]) -> None:
        super().__init__()
        self.module = module
        self.bindings = collector.bindings
        self.kind = kind
        self.findings: list[Finding] = []
        self.reads_command_line = False
        self._checked_arithmetic: set[cst.CSTNode] = set()

    # --- reporting and lookups ---

    def report(self, node: cst.CSTNode, rule: str, severity: Severity, message: str) -> None:
        start = self.get_metadata(PositionProvider, node).start
        self.findings.append(Finding(rule, severity, start.line, start.column, message))

    def report_forbidden(self, node: cst.CSTNode, name: str, rule: str, reason: str) -> None:
        self.report(node, rule, "error", f"{name} {reason}; {_FIXES[rule]}")

    def source(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def qualified_names(self, node: cst.CSTNode) -> set[str]:
        return {name.name for name in self.get_metadata(QualifiedNameProvider, node, set())}

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.get_metadata(ParentNodeProvider, node, None)

    def referents(self, name: cst.Name) -> list[BaseAssignment]:
        """Return the assignments that the access ``name`` can read."""
        scope = self.get_metadata(ScopeProvider, name, None)
        if scope is None:
            return []
        referents: list[BaseAssignment] = []
        for access in scope.accesses[name]:
            if access.node is name:
                referents.extend(access.referents)
        return referents

    def bound_values(self, name: cst.Name) -> list[_Binding] | None:
        """Return what the access ``name`` can be bound to, or None when any binding is unknown (a parameter)."""
        referents = self.referents(name)
        if not referents:
            return None
        values: list[_Binding] = []
        for referent in referents:
            binding = self.binding_of(referent)
            if binding is None:
                return None
            values.append(binding)
        return values

    def binding_of(self, referent: BaseAssignment) -> _Binding | None:
        target = getattr(referent, "node", None)
        return self.bindings.get(target) if isinstance(target, cst.Name) else None

    # --- imports ---

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            self.check_module(alias, get_full_name_for_node(alias.name) or "")

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative:
            self.report(
                node,
                "PG101",
                "error",
                "relative import in a standalone script; import only standard modules and openpyxl by their full names",
            )
            return
        module = get_full_name_for_node(node.module) if node.module is not None else ""
        self.check_module(node, module or "")
        if isinstance(node.names, cst.ImportStar):
            self.report(
                node,
                "PG111",
                "error",
                f"from {module} import * hides which names the script uses; import each name you need",
            )

    def check_module(self, node: cst.CSTNode, module: str) -> None:
        reason = _forbidden_reason(module)
        if reason is not None:
            rule, text = reason
            self.report(
                node, rule, "error", f"import of {module} is not allowed because it {text}; {_FIXES[rule]}"
            )
            return
        parts = module.split(".")
        if not any(".".join(parts[:end]) in ALLOWED_MODULES for end in range(1, len(parts) + 1)):
            self.report(
                node,
                "PG101",
                "error",
                f"import of {module} is not allowed in a generated script; use the standard modules "
                "a data script needs and openpyxl",
            )

    # --- names and attributes ---

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in _ESCAPE_NAMES:
            rule, reason = _ESCAPE_NAMES[node.value]
            self.report_forbidden(node, node.value, rule, reason)
        self.check_reference(node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value in _ESCAPE_NAMES:
            rule, reason = _ESCAPE_NAMES[node.attr.value]
            self.report_forbidden(node.attr, node.attr.value, rule, reason)
        self.check_reference(node)

    def check_reference(self, node: cst.Name | cst.Attribute) -> None:
        """Check the whole dotted name that ``node`` ends, such as ``os.path.join``, by its qualified names."""
        parent = self.parent(node)
        if isinstance(parent, cst.Attribute) and (parent.value is node or parent.attr is node):
            return
        if isinstance(parent, (cst.ImportAlias, cst.ImportFrom)):
            return
        if not _is_dotted_name(node):
            return  # In subprocess.run().stdout, the call's own dotted name is checked.

        for name in sorted(self.qualified_names(node)):
            if name == "sys.argv" or name.startswith(("sys.argv.", "argparse.")):
                self.reads_command_line = True
            reason = _forbidden_reason(name)
            if reason is None:
                continue
            if reason[0] == "PG106" and self.deletes_temporary_file(node, parent):
                continue
            self.report_forbidden(node, name, *reason)

    def deletes_temporary_file(self, node: cst.CSTNode, parent: cst.CSTNode | None) -> bool:
        """True for ``os.remove(TMP)`` or ``os.unlink(TMP)`` on the script's own temporary file."""
        if not isinstance(parent, cst.Call) or parent.func is not node:
            return False
        if not self.qualified_names(node) & {"os.remove", "os.unlink"}:
            return False
        positional, keywords, _ = _arguments(parent)
        target = _argument(positional, keywords, 0, "path")
        return target is not None and self.is_temporary_file(target)

    def is_temporary_file(self, node: cst.BaseExpression, depth: int = 0) -> bool:
        """True when ``node`` is the path of a temporary file that this script created.

        That is the second item of ``tempfile.mkstemp()``, the ``.name`` of a
        ``tempfile.NamedTemporaryFile``, ``Path()`` of either, a loop variable
        over a list of them (see ``is_temporary_list``), or a name bound only to
        these and None. A parameter never counts, because its value is unknown here.
        """
        if depth > _MAX_FOLLOW_DEPTH:
            return False
        if isinstance(node, cst.Name):
            # ``tmp = None`` before a try block is a common second binding.
            bindings = [binding for binding in self.bound_values(node) or [] if not _binds_none(binding)]
            return bool(bindings) and all(self.is_temporary_binding(binding, depth + 1) for binding in bindings)
        if isinstance(node, cst.Call) and self.qualified_names(node.func) & _PATH_CLASSES:
            return len(node.args) == 1 and not node.args[0].star and self.is_temporary_file(node.args[0].value, depth + 1)
        if isinstance(node, cst.Attribute) and node.attr.value == "name":
            return self.is_temporary_file_object(node.value)
        if isinstance(node, cst.Subscript) and len(node.slice) == 1:
            index = node.slice[0].slice
            return (
                isinstance(index, cst.Index)
                and m.matches(index.value, m.Integer("1"))
                and self.calls(node.value, "tempfile.mkstemp")
            )
        return False

    def is_temporary_binding(self, binding: _Binding, depth: int) -> bool:
        if binding.element:
            iterable = binding.value if binding.item is None else self.zipped_iterable(binding.value, binding.item)
            return iterable is not None and self.is_temporary_list(iterable, depth)
        if binding.item is not None:
            return binding.item == 1 and self.calls(binding.value, "tempfile.mkstemp")
        return self.is_temporary_file(binding.value, depth)

    def zipped_iterable(self, value: cst.BaseExpression, item: int) -> cst.BaseExpression | None:
        """Return the iterable that gives item ``item`` of ``for a, b in zip(x, y)`` or ``enumerate(x)``."""
        if not isinstance(value, cst.Call) or any(argument.star or argument.keyword for argument in value.args):
            return None
        if self.calls(value, "builtins.zip") and item < len(value.args):
            return value.args[item].value
        if self.calls(value, "builtins.enumerate") and item == 1 and len(value.args) == 1:
            return value.args[0].value
        return None

    def is_temporary_list(self, node: cst.BaseExpression, depth: int) -> bool:
        """True for a list name that only ever contains temporary files of this script.

        The name must be bound only to list literals of temporary files (usually
        ``[]``), and every other use must be ``.append()`` of a temporary file or
        a read: a for loop, a comprehension or a call in _LIST_READING_CALLS.
        """
        if depth > _MAX_FOLLOW_DEPTH or not isinstance(node, cst.Name):
            return False
        referents = self.referents(node)
        if not referents:
            return False
        for referent in referents:
            binding = self.binding_of(referent)
            if binding is None or binding.item is not None or binding.element:
                return False
            if not isinstance(binding.value, cst.List):
                return False
            if not all(self.is_temporary_file(element.value, depth + 1) for element in binding.value.elements):
                return False
            if not all(self.is_temporary_list_use(access.node, depth) for access in referent.references):
                return False
        return True

    def is_temporary_list_use(self, name: cst.CSTNode, depth: int) -> bool:
        parent = self.parent(name)
        if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is name:
            return True
        if isinstance(parent, cst.Arg):
            call = self.parent(parent)
            return isinstance(call, cst.Call) and bool(self.qualified_names(call.func) & _LIST_READING_CALLS)
        if isinstance(parent, cst.Attribute) and parent.value is name and parent.attr.value == "append":
            call = self.parent(parent)
            return (
                isinstance(call, cst.Call)
                and call.func is parent
                and len(call.args) == 1
                and not call.args[0].star
                and self.is_temporary_file(call.args[0].value, depth + 1)
            )
        return False

    def is_temporary_file_object(self, node: cst.BaseExpression) -> bool:
        """True for ``tempfile.NamedTemporaryFile(...)`` or a name bound only to one."""
        if any(self.calls(node, name) for name in _TEMPORARY_FILE_CALLS):
            return True
        if not isinstance(node, cst.Name):
            return False
        bindings = self.bound_values(node)
        return bool(bindings) and all(
            binding.item is None
            and not binding.element
            and any(self.calls(binding.value, name) for name in _TEMPORARY_FILE_CALLS)
            for binding in bindings or []
        )

    def calls(self, node: cst.BaseExpression, qualified_name: str) -> bool:
        return isinstance(node, cst.Call) and qualified_name in self.qualified_names(node.func)

    # --- calls ---

    def visit_Call(self, node: cst.Call) -> None:
        names = self.qualified_names(node.func)
        positional, keywords, has_star = _arguments(node)

        if "builtins.getattr" in names and len(positional) >= 2:
            self.check_attribute_name(node, positional[0], positional[1])
        if "operator.attrgetter" in names:
            for argument in positional:
                self.check_attribute_name(node, None, argument)
        if "operator.methodcaller" in names and positional:
            self.check_attribute_name(node, None, positional[0])
        self.check_method_deletion(node, names)

        self.check_file_name_arguments(node, names, positional, keywords)
        self.check_encoding(node, names, positional, keywords, has_star)
        if names & {"json.dump", "json.dumps"} and not has_star:
            self.check_ensure_ascii(node, names, keywords)
        if names & _LOAD_WORKBOOK and not has_star:
            read_only = _argument(positional, keywords, 1, "read_only")
            if read_only is None or _is_name(read_only, "False"):
                self.report(
                    node,
                    "PG303",
                    "warning",
                    "load_workbook without read_only=True loads every cell into memory; pass read_only=True",
                )

        if self.kind == "splitter":
            self.check_split_size_call(node, names)
            self.check_random_order(node, names, positional, keywords)

    def check_attribute_name(
        self, call: cst.Call, owner: cst.BaseExpression | None, name_node: cst.BaseExpression
    ) -> None:
        """Check an attribute read by name: getattr(os, "system") is os.system."""
        name = _string_value(name_node)
        if name is None:
            function = self.source(call.func)
            self.report(
                name_node,
                "PG108",
                "error",
                f"{function} with a computed attribute name cannot be reviewed; write the attribute name as a string literal",
            )
            return

        forbidden = self.forbidden_attribute(owner, name)
        if forbidden is not None:
            self.report_forbidden(name_node, *forbidden)

    def forbidden_attribute(self, owner: cst.BaseExpression | None, name: str) -> tuple[str, str, str] | None:
        """Return a label, the rule and the reason when reading attribute ``name`` of ``owner`` is forbidden.

        ``owner`` is None when the object is not in the code, as for operator.attrgetter.
        """
        for part in name.split("."):
            reason = _forbidden_attribute_name(part)
            if reason is not None:
                return (f"attribute {part!r}", *reason)
        if owner is None:
            return None
        for owner_name in sorted(self.qualified_names(owner)):
            reason = _forbidden_reason(f"{owner_name}.{name}")
            if reason is not None:
                return (f"{owner_name}.{name}", *reason)
        return None

    def check_method_deletion(self, call: cst.Call, names: set[str]) -> None:
        """Flag ``path.unlink()`` and ``path.rmdir()`` unless the path is the script's temporary file."""
        function = call.func
        if not isinstance(function, cst.Attribute) or function.attr.value not in ("unlink", "rmdir"):
            return
        if any(_forbidden_reason(name) for name in names):
            return  # check_reference reports os.unlink and the other forbidden functions.
        if self.is_temporary_file(function.value):
            return
        self.report_forbidden(
            function.attr, f"{self.source(function)}()", "PG106", "deletes a file or folder"
        )

    def visit_Subscript(self, node: cst.Subscript) -> None:
        value = node.value
        if isinstance(value, cst.Call) and self.qualified_names(value.func) & {
            "builtins.globals",
            "builtins.locals",
        }:
            self.report_forbidden(node, f"{self.source(value)}[...]", "PG109", "reaches any global or builtin by name")
        elif isinstance(value, cst.Call) and "builtins.vars" in self.qualified_names(value.func) and not value.args:
            self.report_forbidden(node, "vars()[...]", "PG109", "reaches any local or builtin by name")
        elif len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            # vars(module)["system"] and module.__dict__["system"] read attributes by name.
            key = node.slice[0].slice.value
            owner: cst.BaseExpression | None = None
            if isinstance(value, cst.Attribute) and value.attr.value == "__dict__":
                owner = value.value
            elif isinstance(value, cst.Call) and "builtins.vars" in self.qualified_names(value.func):
                owner = value.args[0].value
            name = _string_value(key)
            forbidden = self.forbidden_attribute(owner, name) if owner is not None and name is not None else None
            if forbidden is not None:
                self.report_forbidden(key, *forbidden)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if not isinstance(self.parent(node), cst.ConcatenatedString):
            self.check_escape_string(node)

    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> None:
        if not isinstance(self.parent(node), cst.ConcatenatedString):
            self.check_escape_string(node)

    def check_escape_string(self, node: cst.SimpleString | cst.ConcatenatedString) -> None:
        # A string such as "__globals__" only serves to reach that attribute by name.
        value = _string_value(node)
        if value in _ESCAPE_NAMES:
            rule, reason = _ESCAPE_NAMES[value]
            self.report_forbidden(node, f"the string {value!r}", rule, reason)
        elif value is not None and _ABSOLUTE_PATH.fullmatch(value):
            self.report(
                node,
                "PG203",
                "error",
                f"absolute path {value!r} in the code; a data script reads and writes only the files "
                "named on its command line",
            )

    # --- hard-coded file names ---

    def check_file_name_arguments(
        self,
        call: cst.Call,
        names: set[str],
        positional: list[cst.BaseExpression],
        keywords: dict[str, cst.BaseExpression],
    ) -> None:
        paths: list[cst.BaseExpression] = []
        function = call.func
        if names & _FILE_PATH_CALLS:
            paths.extend(positional[:1])
            paths.extend(value for keyword, value in keywords.items() if keyword in _FILE_PATH_KEYWORDS)
        if names & _PATH_PART_CALLS:
            paths.extend(positional)
        if isinstance(function, cst.Attribute) and function.attr.value in _PATH_PART_METHODS:
            paths.extend(positional)
        if isinstance(function, cst.Attribute) and function.attr.value == "add_argument" and "default" in keywords:
            paths.append(keywords["default"])
        if isinstance(function, cst.Attribute) and function.attr.value == "set_defaults":
            paths.extend(keywords.values())
        for path in paths:
            self.report_file_names(path)

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if isinstance(node.operator, cst.Divide):
            # A string literal on either side of / can only be part of a pathlib path.
            for side in (node.left, node.right):
                if _is_data_file_name(side):
                    self.report_file_name(side)
        if self.kind == "splitter":
            self.check_split_size_operation(node)

    def report_file_names(self, node: cst.BaseExpression, depth: int = 0) -> None:
        """Report each file-name literal that ``node`` can evaluate to, following names and fallbacks."""
        if depth > _MAX_FOLLOW_DEPTH:
            return
        if _is_data_file_name(node):
            self.report_file_name(node)
        elif isinstance(node, cst.IfExp):
            self.report_file_names(node.body, depth + 1)
            self.report_file_names(node.orelse, depth + 1)
        elif isinstance(node, cst.BooleanOperation):
            self.report_file_names(node.left, depth + 1)
            self.report_file_names(node.right, depth + 1)
        elif isinstance(node, cst.Name):
            for binding in self.bound_values(node) or []:
                if binding.item is None:
                    self.report_file_names(binding.value, depth + 1)

    def report_file_name(self, node: cst.BaseExpression) -> None:
        self.report(
            node,
            "PG201",
            "error",
            f"hard-coded file name {self.source(node)}; take input and output file names from the "
            "command line (sys.argv or argparse)",
        )

    # --- warnings ---

    def check_ensure_ascii(self, call: cst.Call, names: set[str], keywords: dict[str, cst.BaseExpression]) -> None:
        ensure_ascii = keywords.get("ensure_ascii")
        if ensure_ascii is None or _is_name(ensure_ascii, "True"):
            function = "json.dumps" if "json.dumps" in names else "json.dump"
            self.report(
                call,
                "PG301",
                "warning",
                f"{function} without ensure_ascii=False writes non-ASCII text as \\u escapes; pass ensure_ascii=False",
            )

    def check_encoding(
        self,
        call: cst.Call,
        names: set[str],
        positional: list[cst.BaseExpression],
        keywords: dict[str, cst.BaseExpression],
        has_star: bool,
    ) -> None:
        if has_star:
            return
        function = call.func
        opener = next((_OPENERS[name] for name in sorted(names) if name in _OPENERS), None)
        if opener is None and isinstance(function, cst.Attribute):
            if function.attr.value in _TEXT_METHODS:
                opener = _TEXT_METHODS[function.attr.value]
            elif function.attr.value == "open" and isinstance(function.value, cst.Call) and (
                self.qualified_names(function.value.func) & _PATH_CLASSES
            ):
                opener = _PATH_OPEN
        if opener is None:
            return
        # NOTE: path.open() on a variable is not checked, because without types the
        # review cannot tell a pathlib.Path from a ZipFile, whose open() is binary.

        mode_node = _argument(positional, keywords, opener.mode_position, "mode")
        if mode_node is None:
            mode = opener.default_mode
        else:
            literal = _string_value(mode_node)
            if literal is None:
                return
            mode = literal
        if "b" in mode:
            return
        if _argument(positional, keywords, opener.encoding_position, "encoding") is None:
            self.report(
                call,
                "PG302",
                "warning",
                f"{self.source(function)}() in text mode without an encoding uses the locale's encoding; "
                'pass encoding="utf-8"',
            )

    def check_split_size_call(self, call: cst.Call, names: set[str]) -> None:
        if not names & _ROUNDING_CALLS:
            return
        operations = [
            operation
            for argument in call.args
            for operation in m.findall(argument.value, m.BinaryOperation(operator=m.Multiply() | m.Divide()))
        ]
        if not operations:
            return
        self._checked_arithmetic.update(operations)
        self.report(
            call,
            "PG311",
            "warning",
            f"{self.source(call.func)}() of a product or quotient computes a split size with floats, which can round "
            "the wrong way; use integers, as in n_test = -(-n * test // (train + test))",
        )

    def check_split_size_operation(self, node: cst.BinaryOperation) -> None:
        if node in self._checked_arithmetic or not isinstance(node.operator, (cst.Multiply, cst.Divide)):
            return
        has_float = isinstance(node.left, cst.Float) or isinstance(node.right, cst.Float)
        divides_length = isinstance(node.operator, cst.Divide) and any(
            isinstance(side, cst.Call) and "builtins.len" in self.qualified_names(side.func)
            for side in (node.left, node.right)
        )
        if has_float or divides_length:
            self.report(
                node,
                "PG311",
                "warning",
                f"{self.source(node)} computes a split size with floats, which can round the wrong way; "
                "use integers, as in n_test = -(-n * test // (train + test))",
            )

    def check_random_order(
        self,
        call: cst.Call,
        names: set[str],
        positional: list[cst.BaseExpression],
        keywords: dict[str, cst.BaseExpression],
    ) -> None:
        module_function = sorted(names & _MODULE_RANDOM_ORDER)
        if module_function:
            method = module_function[0].split(".")[1]
            self.report(
                call,
                "PG312",
                "warning",
                f"{module_function[0]} uses the module-level generator that any import can reseed; "
                f"use a seeded instance, as in random.Random(SEED).{method}(...)",
            )
        elif "random.Random" in names and not positional and "x" not in keywords:
            self.report(
                call,
                "PG312",
                "warning",
                "random.Random() without a seed gives a different split on every run; pass the seed, as in random.Random(SEED)",
            )
        elif "random.SystemRandom" in names:
            self.report(
                call,
                "PG312",
                "warning",
                "random.SystemRandom cannot be seeded, so the split is not reproducible; use random.Random(SEED)",
            )

