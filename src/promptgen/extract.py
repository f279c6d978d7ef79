"""Take the Python script out of a model's Markdown reply.

Every ExtractionError message is one plain sentence, because the repair loop
sends it back to the model and the CLI shows it to the user.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass

from promptgen.errors import ExtractionError

# Info-string languages that mark a fenced block as Python.
PYTHON_LANGUAGES = frozenset({"python", "py", "python3", "py3"})

# A block with at most this many code lines (not blank, not only a comment)
# counts as a snippet next to a whole script.
SNIPPET_MAX_LINES = 15

_ONE_PYTHON_BLOCK = "reply with the whole script in one ```python code block"

_REASONING_OPEN = re.compile(r"^[ \t]*<(think|thinking|reasoning)>", re.IGNORECASE | re.MULTILINE)
_REASONING_CLOSE_AT_LINE_END = re.compile(r"</(think|thinking|reasoning)>[ \t]*$", re.IGNORECASE | re.MULTILINE)
_OPENING_FENCE = re.compile(r"( {0,3})(`{3,}|~{3,})(.*)")
_LANGUAGE = re.compile(r"\{?\.?([A-Za-z0-9_+#-]+)")

# Comment texts (lowercased, without the leading "#") that mark left-out code.
_ELISION_COMMENTS = tuple(
    re.compile(pattern)
    for pattern in (
        r"^(\.\s*){3}",
        r"^…",
        r"\b(rest|remainder) of (the |your )?(code|script|file|functions?|implementation|program|module|class|logic|body)\b",
        r"\b(rest|code|everything else|other functions|remaining code) (is |are |stays |remains )?(unchanged|as before|the same)\b",
        r"\b(existing|previous|remaining|unchanged) code\b",
        r"\bfor brevity\b",
        r"\b(code|implementation|details|body|logic) (is |are )?omitted\b",
        r"^\(?(same as (before|above)|as before|unchanged)\)?\.?$",
        r"^(todo|fixme)\b[:\s]*(implement|add|write|fill|complete|finish)\b",
        r"^(implement|fill in|complete|finish)( (this|me|it|here|later|the rest|this part|this function))?\s*[.!]?$",
        r"\b(your|the) (code|logic|implementation) (goes )?here\b",
        r"\badd (your |the )?(code|logic|implementation) here\b",
    )
)

_STUB_DECORATORS = frozenset(
    {"overload", "abstractmethod", "abstractproperty", "abstractclassmethod", "abstractstaticmethod"}
)
_STUB_BASES = frozenset({"Protocol", "ABC"})


@dataclass(frozen=True)
class _FencedBlock:
    language: str
    has_info: bool
    code: str
    closed: bool


def extract_code(reply_text: str) -> str:
    """Return the one Python script in a model's reply, or raise ExtractionError.

    Reasoning blocks (``<think>``, ``<thinking>``, ``<reasoning>``) are removed
    first. The script is then chosen among the fenced code blocks:

    - Blocks whose info string names Python (python, py, python3, py3) are the
      candidates. Only when there are none, untagged blocks that parse as Python
      and contain a statement that does something are the candidates. Blocks with
      any other language (bash, json, text, ...) never are.
    - One candidate, or several with the same code: that code.
    - Several: the one that looks like a whole script, if exactly one does and
      every other has at most SNIPPET_MAX_LINES code lines. A whole script has an
      ``if __name__ == "__main__":`` block, or defines ``main`` and reads ``sys.argv``.
      Otherwise the reply is ambiguous.
    - No fenced block at all: the whole reply, if it parses as Python and
      contains a statement that does something.

    The code must parse and must not leave code out (see ``_find_elision``).
    It is returned without leading and trailing blank lines, ending in one newline.
    """
    text = reply_text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    text = _remove_reasoning(text)
    blocks = _find_fenced_blocks(text)

    if blocks:
        code = _choose_block(blocks)
    elif _is_python_code(text):
        code = text
    else:
        raise ExtractionError(f"no code block found in the reply; {_ONE_PYTHON_BLOCK}")

    # Candidates are never blank, so the stripped code still has a statement.
    code = code.strip("\n") + "\n"
    _check_code(code)
    return code


def _remove_reasoning(text: str) -> str:
    """Drop reasoning blocks, which may contain drafts of the code.

    An opening tag counts only at the start of a line, so that a script that
    handles such tags in its strings keeps them. A closing tag at the end of a
    line with no opening tag before it ends reasoning that began with the reply,
    because some chat templates put the opening ``<think>`` into the prompt.
    """
    stray_close = _REASONING_CLOSE_AT_LINE_END.search(text)
    first_open = _REASONING_OPEN.search(text)
    if stray_close is not None and (first_open is None or stray_close.start() < first_open.start()):
        text = text[stray_close.end():]

    kept: list[str] = []
    position = 0
    while True:
        opening = _REASONING_OPEN.search(text, position)
        if opening is None:
            kept.append(text[position:])
            break
        kept.append(text[position:opening.start()])
        closing = re.compile(rf"</{opening.group(1)}>", re.IGNORECASE).search(text, opening.end())
        if closing is None:
            if not "".join(kept).strip():
                raise ExtractionError(
                    f"the reply is all reasoning in an unclosed <{opening.group(1)}> block and has no code; "
                    f"close the reasoning, then {_ONE_PYTHON_BLOCK}"
                )
            break
        position = closing.end()
    return "".join(kept)


def _find_fenced_blocks(text: str) -> list[_FencedBlock]:
    """Find the fenced code blocks as CommonMark defines them.

    An opening fence is three or more backticks or tildes after at most three
    spaces, with an optional info string (no backtick in it after a backtick
    fence). Up to as many spaces as the opening fence is indented are removed
    from each content line. A closing fence uses the same character, is at
    least as long and has nothing after it but spaces. An unclosed block runs
    to the end of the text.
    """
    # NOTE: fences inside block quotes, or in list items indented four or
    # more spaces, are not recognised; such a reply gets "no code block found".
    lines = text.split("\n")
    blocks: list[_FencedBlock] = []
    index = 0
    while index < len(lines):
        opening = _OPENING_FENCE.fullmatch(lines[index])
        index += 1
        if opening is None:
            continue
        indent, fence, info = len(opening.group(1)), opening.group(2), opening.group(3).strip()
        if fence[0] == "`" and "`" in info:
            continue

        closing = re.compile(rf" {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*")
        content: list[str] = []
        closed = False
        while index < len(lines):
            line = lines[index]
            index += 1
            if closing.fullmatch(line):
                closed = True
                break
            content.append(_remove_indent(line, indent))

        language = _LANGUAGE.match(info)
        blocks.append(
            _FencedBlock(
                language=language.group(1).lower() if language else "",
                has_info=bool(info),
                code="\n".join(content),
                closed=closed,
            )
        )
    return blocks


def _remove_indent(line: str, width: int) -> str:
    spaces = len(line) - len(line.lstrip(" "))
    return line[min(spaces, width):]


def _choose_block(blocks: list[_FencedBlock]) -> str:
    last = blocks[-1]
    if not last.closed and (last.language in PYTHON_LANGUAGES or not last.has_info):
        raise ExtractionError(
            "the code block is not closed; the reply may have been cut off, so reply with the whole "
            "script again in one ```python code block"
        )

    tagged = [block.code for block in blocks if block.language in PYTHON_LANGUAGES and block.code.strip()]
    if tagged:
        candidates = tagged
    else:
        candidates = [block.code for block in blocks if not block.has_info and _is_python_code(block.code)]
    candidates = list(dict.fromkeys(candidates))

    if not candidates:
        raise ExtractionError(f"no Python code block found in the reply; {_ONE_PYTHON_BLOCK}")
    if len(candidates) == 1:
        return candidates[0]

    whole_scripts = [code for code in candidates if _is_whole_script(code)]
    snippets = [code for code in candidates if code not in whole_scripts]
    if len(whole_scripts) == 1 and all(_count_code_lines(code) <= SNIPPET_MAX_LINES for code in snippets):
        return whole_scripts[0]
    raise ExtractionError(
        f"the reply has {len(candidates)} Python code blocks and it is not clear which one is the script; {_ONE_PYTHON_BLOCK}"
    )


def _parse_or_none(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError):
        return None


def _is_python_code(code: str) -> bool:
    """Tell Python code from prose, JSON or a shell command that happens to parse.

    True when ``code`` parses and has a statement other than a bare value:
    ``ls``, ``OK`` or ``{"a": 1}`` parse as expressions but are not code, while
    an assignment, an import, a definition or a call are.
    """
    module = _parse_or_none(code)
    if module is None:
        return False
    for statement in module.body:
        if not isinstance(statement, ast.Expr):
            return True
        if isinstance(statement.value, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)):
            return True
    return False


def _is_whole_script(code: str) -> bool:
    module = _parse_or_none(code)
    if module is None:
        return False
    for statement in module.body:
        if isinstance(statement, ast.If) and _is_main_guard(statement.test):
            return True
    defines_main = any(
        isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and statement.name == "main"
        for statement in module.body
    )
    reads_argv = any(
        isinstance(node, ast.Attribute)
        and node.attr == "argv"
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
        for node in ast.walk(module)
    )
    return defines_main and reads_argv


def _is_main_guard(test: ast.expr) -> bool:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    has_name = any(isinstance(side, ast.Name) and side.id == "__name__" for side in sides)
    has_main = any(isinstance(side, ast.Constant) and side.value == "__main__" for side in sides)
    return has_name and has_main


def _count_code_lines(code: str) -> int:
    return sum(1 for line in code.split("\n") if line.strip() and not line.strip().startswith("#"))


def _check_code(code: str) -> None:
    """Raise ExtractionError when the code leaves part of the script out or does not parse.

    Elision comments are checked before parsing because an elided body is
    often also a syntax error, and the elision is the more useful message.
    """
    comment = _find_elision_comment(code)
    if comment is not None:
        line, text = comment
        raise ExtractionError(
            f"the code leaves part of the script out at line {line} ({_shorten(text)}); "
            "reply with the complete script, with no placeholder comments or `...`"
        )

    # Python versions differ in how they reject a null character (ValueError or SyntaxError without a line).
    if "\x00" in code:
        raise ExtractionError("the code contains a null character, which Python cannot parse; remove it")
    try:
        module = ast.parse(code)
    except SyntaxError as error:
        raise ExtractionError(f"the code has a syntax error at line {error.lineno}: {error.msg}") from None

    elision = _find_elision(module)
    if elision is not None:
        raise ExtractionError(elision)


def _shorten(text: str, limit: int = 60) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _find_elision_comment(code: str) -> tuple[int, str] | None:
    for line, text in _comments(code):
        body = text.lstrip("#").strip().lower()
        if any(pattern.search(body) for pattern in _ELISION_COMMENTS):
            return line, text
    return None


def _comments(code: str) -> list[tuple[int, str]]:
    """Return each comment's line number and text.

    tokenize keeps a ``#`` inside a string out of the result. On code it cannot
    tokenize, every line that starts with ``#`` counts as a comment instead.
    """
    try:
        return [
            (token.start[0], token.string)
            for token in tokenize.generate_tokens(io.StringIO(code).readline)
            if token.type == tokenize.COMMENT
        ]
    except (tokenize.TokenError, SyntaxError):
        return [
            (number, line.strip())
            for number, line in enumerate(code.split("\n"), start=1)
            if line.strip().startswith("#")
        ]


def _find_elision(module: ast.Module) -> str | None:
    """Return a message when a statement replaces left-out code.

    ``...`` as a statement counts as an elision, with two exceptions where
    Python code uses it for real. The first is the whole body of a class
    (``class Error(Exception): ...``). The second is the whole body of a stub:
    a function decorated with ``overload`` or ``abstractmethod``, or a method
    of a ``Protocol`` or ``ABC`` class. A function outside those stubs whose
    whole body is ``raise NotImplementedError`` is not implemented.
    """
    return _find_elision_in_body(module.body, owner=None, stub_class=False)


def _find_elision_in_body(body: list[ast.stmt], owner: ast.AST | None, stub_class: bool) -> str | None:
    statements = _without_docstring(body)

    if isinstance(owner, (ast.FunctionDef, ast.AsyncFunctionDef)) and len(statements) == 1:
        is_stub = stub_class or _has_stub_decorator(owner)
        sole_statement = statements[0]
        if _is_ellipsis(sole_statement) and is_stub:
            return None
        if _raises_not_implemented(sole_statement) and not is_stub:
            return (
                f"the function {owner.name} at line {owner.lineno} is not implemented, it only raises "
                "NotImplementedError; reply with the complete script"
            )
    if isinstance(owner, ast.ClassDef) and len(statements) == 1 and _is_ellipsis(statements[0]):
        return None

    for statement in statements:
        if _is_ellipsis(statement):
            return (
                f"the code leaves part of the script out at line {statement.lineno} (`...` stands for "
                "missing code); reply with the complete script, with no placeholder comments or `...`"
            )
        for child_owner, child_body, child_stub_class in _child_bodies(statement, stub_class):
            message = _find_elision_in_body(child_body, child_owner, child_stub_class)
            if message is not None:
                return message
    return None


def _child_bodies(statement: ast.stmt, stub_class: bool) -> list[tuple[ast.AST, list[ast.stmt], bool]]:
    """Return the statement lists nested in ``statement``, each with its owner.

    ``stub_class`` is True when a function owner is a method of a Protocol or ABC class.
    """
    if isinstance(statement, ast.ClassDef):
        return [(statement, statement.body, _is_stub_class(statement))]
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return [(statement, statement.body, stub_class)]

    bodies: list[tuple[ast.AST, list[ast.stmt], bool]] = []
    for field in ("body", "orelse", "finalbody"):
        nested = getattr(statement, field, None)
        if isinstance(nested, list) and nested:
            bodies.append((statement, nested, False))
    for handler in getattr(statement, "handlers", []):
        bodies.append((handler, handler.body, False))
    for case in getattr(statement, "cases", []):
        bodies.append((case, case.body, False))
    return bodies


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return body[1:]
    return body


def _is_ellipsis(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and statement.value.value is Ellipsis
    )


def _raises_not_implemented(statement: ast.stmt) -> bool:
    if not isinstance(statement, ast.Raise) or statement.exc is None:
        return False
    raised = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
    return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"


def _last_name(node: ast.expr) -> str:
    """Return the final name of ``x``, ``a.b.x`` or ``x(...)``, or "" for anything else."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _has_stub_decorator(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(_last_name(decorator) in _STUB_DECORATORS for decorator in function.decorator_list)


def _is_stub_class(cls: ast.ClassDef) -> bool:
    bases = {_last_name(base.value if isinstance(base, ast.Subscript) else base) for base in cls.bases}
    metaclasses = {_last_name(keyword.value) for keyword in cls.keywords if keyword.arg == "metaclass"}
    return bool(bases & _STUB_BASES) or "ABCMeta" in metaclasses
