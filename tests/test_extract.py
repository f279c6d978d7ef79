"""extract_code on tables of model replies: what is accepted, with the exact code, and what is rejected."""

from __future__ import annotations

import pytest

from promptgen.errors import ExtractionError
from promptgen.extract import extract_code

FENCE = "```"
FIX = "reply with the whole script in one ```python code block"
NOT_CLOSED = (
    "the code block is not closed; the reply may have been cut off, so reply with the whole script again "
    "in one ```python code block"
)
PLACEHOLDER_FIX = "reply with the complete script, with no placeholder comments or `...`"

WHOLE_SCRIPT = """\
import sys


def main() -> None:
    print(sys.argv[1])


if __name__ == "__main__":
    main()
"""

MAIN_WITH_ARGV = """\
import sys


def main():
    print(sys.argv[1:])


main()
"""

SHORT_SNIPPET = """\
import json
with open("out.jsonl", encoding="utf-8") as handle:
    print(json.loads(handle.readline()))
"""

LONG_SNIPPET = "".join(f"value_{number} = {number}\n" for number in range(16))


def fenced(code: str, info: str = "python", fence: str = FENCE) -> str:
    return f"{fence}{info}\n{code}{fence}\n"


PRINT_0 = fenced("print(0)\n")
PRINT_1 = fenced("print(1)\n")
PRINT_1_UNTAGGED = fenced("print(1)\n", "")


ACCEPTED = [
    pytest.param("Here is the script:\n\n" + PRINT_1 + "\nRun it.", "print(1)\n", id="python-tag"),
    pytest.param(fenced("print(1)\n", "py"), "print(1)\n", id="py-tag"),
    pytest.param(fenced("print(1)\n", "python3"), "print(1)\n", id="python3-tag"),
    pytest.param(fenced("print(1)\n", " Python {.numberLines}"), "print(1)\n", id="info-with-attributes"),
    pytest.param(fenced("print(1)\n", "{.python}"), "print(1)\n", id="info-pandoc-class"),
    pytest.param(fenced("print(1)\n", "python title=convert.py"), "print(1)\n", id="info-with-words"),
    pytest.param("~~~python\nprint(1)\n~~~\n", "print(1)\n", id="tilde-fence"),
    pytest.param("````python\nx = '''\n```\n'''\n````\n", "x = '''\n```\n'''\n", id="longer-fence-holds-backticks"),
    pytest.param("~~~python\nx = '''\n```\n'''\n~~~\n", "x = '''\n```\n'''\n", id="backticks-inside-tildes"),
    pytest.param("```python\nprint(1)\n`````\n", "print(1)\n", id="longer-closing-fence"),
    pytest.param("```python\nprint(1)\n```   \n", "print(1)\n", id="closing-fence-trailing-spaces"),
    pytest.param("```python\r\nif True:\r\n    print(1)\r\n```\r\n", "if True:\n    print(1)\n", id="crlf"),
    pytest.param(
        "  ```python\n  if True:\n      print(1)\n print(2)\n  ```\n",
        "if True:\n    print(1)\nprint(2)\n",
        id="indented-fence-strips-indent",
    ),
    pytest.param("   ```python\n   print(1)\n   ```\n", "print(1)\n", id="three-space-indent"),
    pytest.param("```python\n\n\nprint(1)\n\n\n```\n", "print(1)\n", id="outer-blank-lines-dropped"),
    pytest.param(
        "<think>\nA draft:\n" + PRINT_0 + "</think>\n" + PRINT_1,
        "print(1)\n",
        id="think-block-with-draft",
    ),
    pytest.param(
        "<thinking>draft " + PRINT_0 + "</thinking>\n" + PRINT_1,
        "print(1)\n",
        id="thinking-block",
    ),
    pytest.param(
        "<REASONING>\n" + PRINT_0 + "\n</REASONING>" + PRINT_1,
        "print(1)\n",
        id="reasoning-block-any-case",
    ),
    pytest.param(
        "The prompt opened the reasoning.\n" + PRINT_0 + "</think>\n\n" + PRINT_1,
        "print(1)\n",
        id="closing-tag-without-opening",
    ),
    pytest.param(
        "Reasoning with a draft:\n" + PRINT_0 + "So the plan is clear.</think>\n" + PRINT_1,
        "print(1)\n",
        id="closing-tag-ends-text-line",
    ),
    pytest.param(
        PRINT_1 + "<think>\nan afterthought that never ends",
        "print(1)\n",
        id="unclosed-think-after-code",
    ),
    pytest.param(
        fenced('import re\nTHINK = re.compile(r"<think>.*?</think>", re.DOTALL)\n'),
        'import re\nTHINK = re.compile(r"<think>.*?</think>", re.DOTALL)\n',
        id="think-tags-inside-code-kept",
    ),
    pytest.param(
        fenced('text = "a</think>b".split("</think>")\n'),
        'text = "a</think>b".split("</think>")\n',
        id="closing-tag-inside-code-kept",
    ),
    pytest.param(
        fenced("pip install openpyxl\n", "bash") + PRINT_1,
        "print(1)\n",
        id="bash-block-ignored",
    ),
    pytest.param(
        fenced('{"conversation": []}\n', "json") + PRINT_1_UNTAGGED,
        "print(1)\n",
        id="json-block-ignored-untagged-taken",
    ),
    pytest.param(fenced("import sys\nprint(sys.argv)\n", ""), "import sys\nprint(sys.argv)\n", id="untagged-only"),
    pytest.param(
        fenced("python convert.py in.xlsx out.jsonl\n", "") + PRINT_1_UNTAGGED,
        "print(1)\n",
        id="untagged-shell-line-ignored",
    ),
    pytest.param(
        fenced('{"a": 1}\n', "") + fenced("ls\n", "") + PRINT_1_UNTAGGED,
        "print(1)\n",
        id="untagged-values-ignored",
    ),
    pytest.param(
        fenced("print(0)\n", "") + PRINT_1,
        "print(1)\n",
        id="tagged-beats-untagged",
    ),
    pytest.param(
        fenced(WHOLE_SCRIPT) + "To read the output:\n" + fenced(SHORT_SNIPPET),
        WHOLE_SCRIPT,
        id="whole-script-beats-snippet",
    ),
    pytest.param(
        fenced(SHORT_SNIPPET) + fenced(MAIN_WITH_ARGV),
        MAIN_WITH_ARGV,
        id="main-with-argv-is-whole",
    ),
    pytest.param(PRINT_1 + "Again:\n" + PRINT_1, "print(1)\n", id="identical-blocks"),
    pytest.param(
        PRINT_1 + "```bash\necho unfinished\n",
        "print(1)\n",
        id="unclosed-bash-after-python",
    ),
    pytest.param("Inline ```python``` is not a fence.\n" + PRINT_1, "print(1)\n", id="inline-backticks"),
    pytest.param("import sys\n\nprint(sys.argv)\n", "import sys\n\nprint(sys.argv)\n", id="bare-code"),
    pytest.param("\ufeffprint(1)", "print(1)\n", id="bare-code-with-bom"),
    pytest.param(
        fenced(
            "from typing import Protocol, overload\n"
            "from abc import ABC, abstractmethod\n"
            "class Reader(Protocol):\n"
            "    def read(self) -> str: ...\n"
            "class Base(ABC):\n"
            "    @abstractmethod\n"
            "    def run(self) -> None:\n"
            '        """Run."""\n'
            "        ...\n"
            "    def helper(self) -> int:\n"
            "        raise NotImplementedError\n"
            "@overload\n"
            "def f(x: int) -> int: ...\n"
            "@overload\n"
            "def f(x: str) -> str: ...\n"
            "def f(x):\n"
            "    return x\n"
            "class SplitError(Exception): ...\n"
        ),
        "from typing import Protocol, overload\n"
        "from abc import ABC, abstractmethod\n"
        "class Reader(Protocol):\n"
        "    def read(self) -> str: ...\n"
        "class Base(ABC):\n"
        "    @abstractmethod\n"
        "    def run(self) -> None:\n"
        '        """Run."""\n'
        "        ...\n"
        "    def helper(self) -> int:\n"
        "        raise NotImplementedError\n"
        "@overload\n"
        "def f(x: int) -> int: ...\n"
        "@overload\n"
        "def f(x: str) -> str: ...\n"
        "def f(x):\n"
        "    return x\n"
        "class SplitError(Exception): ...\n",
        id="stubs-keep-ellipsis",
    ),
    pytest.param(
        fenced("from typing import Tuple\nPair = Tuple[int, ...]\nMISSING = ...\ndef f(x=...):\n    return x is ...\n"),
        "from typing import Tuple\nPair = Tuple[int, ...]\nMISSING = ...\ndef f(x=...):\n    return x is ...\n",
        id="ellipsis-as-value",
    ),
    pytest.param(
        fenced(
            "# Keep the rest of the row unchanged.\n"
            "# Implement the 7:3 split with integers.\n"
            "# TODO: handle .xls files\n"
            "# Rows with a missing cell are omitted.\n"
            "# Columns such as A, B, ...\n"
            'x = "# ... rest of the code"\n'
        ),
        "# Keep the rest of the row unchanged.\n"
        "# Implement the 7:3 split with integers.\n"
        "# TODO: handle .xls files\n"
        "# Rows with a missing cell are omitted.\n"
        "# Columns such as A, B, ...\n"
        'x = "# ... rest of the code"\n',
        id="ordinary-comments",
    ),
]


@pytest.mark.parametrize(("reply", "code"), ACCEPTED)
def test_extract_accepts(reply: str, code: str) -> None:
    assert extract_code(reply) == code


REJECTED = [
    pytest.param("I cannot write this script.", f"no code block found in the reply; {FIX}", id="prose"),
    pytest.param("Sorry", f"no code block found in the reply; {FIX}", id="one-word"),
    pytest.param('"""Only a docstring."""\n', f"no code block found in the reply; {FIX}", id="bare-string"),
    pytest.param(
        "    ```python\n    print(1)\n    ```\n",
        f"no code block found in the reply; {FIX}",
        id="four-space-indent-is-no-fence",
    ),
    pytest.param(
        fenced("python convert.py in.xlsx out.jsonl\n", "bash"),
        f"no Python code block found in the reply; {FIX}",
        id="bash-only",
    ),
    pytest.param(
        fenced('{"conversation": []}\n', ""),
        f"no Python code block found in the reply; {FIX}",
        id="untagged-json-only",
    ),
    pytest.param(fenced("\n\n"), f"no Python code block found in the reply; {FIX}", id="empty-python-block"),
    pytest.param("```python\nimport sys\nprint(sys.ar", NOT_CLOSED, id="unclosed-python"),
    pytest.param("```\nimport sys\n", NOT_CLOSED, id="unclosed-untagged"),
    pytest.param("````python\nprint(1)\n```\n", NOT_CLOSED, id="closing-fence-too-short"),
    pytest.param("~~~python\nprint(1)\n```\n", NOT_CLOSED, id="closing-fence-other-character"),
    pytest.param("```python\nprint(1)\n``` python\n", NOT_CLOSED, id="closing-fence-with-info"),
    pytest.param(
        "<think>\nLet me plan.\n" + PRINT_0,
        "the reply is all reasoning in an unclosed <think> block and has no code; close the reasoning, "
        f"then {FIX}",
        id="unclosed-think",
    ),
    pytest.param(
        fenced(WHOLE_SCRIPT) + fenced(MAIN_WITH_ARGV),
        f"the reply has 2 Python code blocks and it is not clear which one is the script; {FIX}",
        id="two-whole-scripts",
    ),
    pytest.param(
        fenced(WHOLE_SCRIPT) + fenced(LONG_SNIPPET),
        f"the reply has 2 Python code blocks and it is not clear which one is the script; {FIX}",
        id="whole-script-and-long-block",
    ),
    pytest.param(
        PRINT_1 + fenced("print(2)\n"),
        f"the reply has 2 Python code blocks and it is not clear which one is the script; {FIX}",
        id="two-snippets",
    ),
    pytest.param(
        fenced("x = 1\n", "") + fenced("y = 2\n", ""),
        f"the reply has 2 Python code blocks and it is not clear which one is the script; {FIX}",
        id="two-untagged",
    ),
    pytest.param(fenced("x = 1\nprint(x\n"), "the code has a syntax error at line 2: '(' was never closed", id="syntax"),
    pytest.param(fenced("x = 1\nx = = 2\n"), "the code has a syntax error at line 2: invalid syntax", id="syntax-line"),
    pytest.param(
        fenced("x = '\x00'\n"),
        "the code contains a null character, which Python cannot parse; remove it",
        id="null-character",
    ),
    pytest.param(
        fenced("def main():\n    x = 1\n    # ... rest of the code\n"),
        f"the code leaves part of the script out at line 3 (# ... rest of the code); {PLACEHOLDER_FIX}",
        id="comment-rest-of-code",
    ),
    pytest.param(
        fenced("import sys\n# ...\n"),
        f"the code leaves part of the script out at line 2 (# ...); {PLACEHOLDER_FIX}",
        id="comment-dots",
    ),
    pytest.param(
        fenced("import sys\n# … existing code …\n"),
        f"the code leaves part of the script out at line 2 (# … existing code …); {PLACEHOLDER_FIX}",
        id="comment-unicode-ellipsis",
    ),
    pytest.param(
        fenced("import sys\n# (rest unchanged)\n"),
        f"the code leaves part of the script out at line 2 (# (rest unchanged)); {PLACEHOLDER_FIX}",
        id="comment-rest-unchanged",
    ),
    pytest.param(
        fenced("def split(records):\n    # TODO: implement\n    pass\n"),
        f"the code leaves part of the script out at line 2 (# TODO: implement); {PLACEHOLDER_FIX}",
        id="comment-todo-implement",
    ),
    pytest.param(
        fenced("def split(records):\n    pass  # implement\n"),
        f"the code leaves part of the script out at line 2 (# implement); {PLACEHOLDER_FIX}",
        id="pass-implement",
    ),
    pytest.param(
        fenced("def split(records):\n    # your code here\n    return records\n"),
        f"the code leaves part of the script out at line 2 (# your code here); {PLACEHOLDER_FIX}",
        id="comment-your-code-here",
    ),
    pytest.param(
        fenced("def read(path):\n    # reading code omitted for brevity\n"),
        f"the code leaves part of the script out at line 2 (# reading code omitted for brevity); {PLACEHOLDER_FIX}",
        id="comment-before-syntax-error",
    ),
    pytest.param(
        fenced("def main():\n    x = 1\n    ...\n    print(x)\n"),
        f"the code leaves part of the script out at line 3 (`...` stands for missing code); {PLACEHOLDER_FIX}",
        id="ellipsis-between-statements",
    ),
    pytest.param(
        fenced('def read_rows(path):\n    """Read the rows."""\n    ...\n'),
        f"the code leaves part of the script out at line 3 (`...` stands for missing code); {PLACEHOLDER_FIX}",
        id="ellipsis-function-body",
    ),
    pytest.param(
        fenced("def main(rows):\n    for row in rows:\n        ...\n"),
        f"the code leaves part of the script out at line 3 (`...` stands for missing code); {PLACEHOLDER_FIX}",
        id="ellipsis-loop-body",
    ),
    pytest.param(
        fenced("import sys\n...\n"),
        f"the code leaves part of the script out at line 2 (`...` stands for missing code); {PLACEHOLDER_FIX}",
        id="ellipsis-module-level",
    ),
    pytest.param(
        fenced("class Settings:\n    sheet = 'A'\n    ...\n"),
        f"the code leaves part of the script out at line 3 (`...` stands for missing code); {PLACEHOLDER_FIX}",
        id="ellipsis-among-class-members",
    ),
    pytest.param(
        fenced("def split(records):\n    raise NotImplementedError('later')\n"),
        "the function split at line 1 is not implemented, it only raises NotImplementedError; "
        "reply with the complete script",
        id="not-implemented",
    ),
]


@pytest.mark.parametrize(("reply", "message"), REJECTED)
def test_extract_rejects(reply: str, message: str) -> None:
    with pytest.raises(ExtractionError) as error:
        extract_code(reply)
    assert str(error.value) == message
    assert "\n" not in str(error.value)
