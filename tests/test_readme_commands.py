"""The commands that README.md and README.zh-CN.md document, run in order on the example workbook.

The test reads the fenced ```sh blocks, joins backslash-continued lines and skips
comment lines. It runs the Quick start's main job (the promptgen part, without
creating a virtual environment) and every command of the walk-through to
``xtuner train`` in a temporary folder that contains a copy of examples/ and an empty
generated/. promptgen and python commands run for real, with python mapped to
the interpreter running the tests. XTuner is not installed here, so
``xtuner copy-cfg`` is replaced by writing a config fixture of the v0.1.9 shape
under the name it would produce, and ``xtuner train`` is checked only for its
argument. A command of another shape fails the test with a message that names it.

The last tests check that the shell completion the README describes installs and completes.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO_ROOT

README_FILES = ("README.md", "README.zh-CN.md")
XTUNER_CONFIG_FIXTURE = REPO_ROOT / "tests" / "fixtures" / "xtuner" / "oasst1_config.py"
# The walk-through is the section whose heading names the command it leads to, in every language.
WALK_THROUGH_HEADING = "`xtuner train`"
# A block right after this comment is the test command, which the test suite does not run itself.
TEST_COMMAND_MARKER = "<!-- test-command -->"
SHELL_OPERATORS = {"&&", "||", "|", ";", ">", ">>", "<", "&", "(", ")"}
QUICK_START_SHAPE = "python3 -m venv .venv && .venv/bin/pip install ... && .venv/bin/promptgen make ..."
# Variables that would point make at a model instead of the offline reference provider.
_REMOVED_VARIABLES = {"OPENAI_API_KEY", "OPENAI_BASE_URL", "PROMPTGEN_MODEL"}


@dataclass(frozen=True)
class ShellBlock:
    """A fenced ```sh block: the ## heading above it, whether it is the test command, and its commands."""

    heading: str
    test_command: bool
    commands: tuple[str, ...]


def shell_blocks(markdown: str) -> list[ShellBlock]:
    """Return the ```sh blocks of ``markdown`` in order, with continued lines joined and comment lines left out."""
    blocks: list[ShellBlock] = []
    heading = ""
    previous = ""
    lines = iter(markdown.splitlines())
    for line in lines:
        stripped = line.strip()
        if line.startswith("## "):
            heading = line[3:].strip()
        if stripped == "```sh":
            body = []
            for inner in lines:
                if inner.strip() == "```":
                    break
                body.append(inner)
            blocks.append(ShellBlock(heading, previous == TEST_COMMAND_MARKER, tuple(join_commands(body))))
        if stripped:
            previous = stripped
    return blocks


def join_commands(lines: list[str]) -> list[str]:
    """Join lines that end with a backslash to the next one, and drop blank and comment lines."""
    commands: list[str] = []
    pending = ""
    for line in lines:
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1].rstrip() + " "
            continue
        commands.append(pending + stripped)
        pending = ""
    if pending:
        commands.append(pending.strip())
    return commands


def split_command(command: str, readme: str) -> list[str]:
    """Split a documented command into words, failing on shell syntax that the test cannot run."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words = list(lexer)
    operators = [word for word in words if word in SHELL_OPERATORS]
    if operators:
        pytest.fail(f"{readme}: the command {command!r} uses {operators[0]!r}; this test runs one plain command per line")
    return words


def quick_start_command(readme: str, blocks: list[ShellBlock]) -> list[str]:
    """Return the promptgen part of the Quick start's main job, as words."""
    walk_through = next(
        (index for index, block in enumerate(blocks) if WALK_THROUGH_HEADING in block.heading), len(blocks)
    )
    candidates = [
        command
        for block in blocks[:walk_through]
        if not block.test_command
        for command in block.commands
        if "promptgen make" in command
    ]
    if len(candidates) != 1:
        pytest.fail(f"{readme}: expected one Quick start command with `promptgen make`, found {len(candidates)}")
    parts = [part.strip() for part in candidates[0].split("&&")]
    shaped = len(parts) == 3 and parts[0].startswith("python3 -m venv") and parts[2].startswith(".venv/bin/promptgen make ")
    if not shaped:
        pytest.fail(
            f"{readme}: the Quick start main job changed shape; expected {QUICK_START_SHAPE!r}, found {candidates[0]!r}"
        )
    return ["promptgen", *split_command(parts[2], readme)[1:]]


def walk_through_commands(readme: str, blocks: list[ShellBlock]) -> list[str]:
    commands = [command for block in blocks if WALK_THROUGH_HEADING in block.heading for command in block.commands]
    if not commands:
        pytest.fail(f"{readme}: no ```sh block under a heading that contains {WALK_THROUGH_HEADING}")
    return commands


def run(arguments: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key not in _REMOVED_VARIABLES}
    return subprocess.run(arguments, cwd=cwd, env=environment, capture_output=True, text=True, timeout=600)


def run_documented(words: list[str], command: str, readme: str, cwd: Path) -> subprocess.CompletedProcess[str] | None:
    """Run one documented command in ``cwd``; return None for the XTuner commands, which are only checked."""
    program, *arguments = words
    if program == "promptgen":
        return run([sys.executable, "-m", "promptgen", *arguments], cwd)
    if program in {"python", "python3"}:
        return run([sys.executable, *arguments], cwd)
    if program == "xtuner" and arguments[:1] == ["copy-cfg"] and len(arguments) == 3:
        # xtuner copy-cfg NAME FOLDER writes FOLDER/NAME_copy.py.
        config_name, folder = arguments[1], arguments[2]
        shutil.copyfile(XTUNER_CONFIG_FIXTURE, cwd / folder / f"{config_name}_copy.py")
        return None
    if program == "xtuner" and arguments[:1] == ["train"] and len(arguments) == 2:
        config = cwd / arguments[1]
        assert config.is_file(), f"{readme}: {command!r} trains a config that the commands above did not write"
        return None
    pytest.fail(f"{readme}: the command {command!r} is not one this test can run; teach test_readme_commands.py about it")


def example_folder(tmp_path: Path) -> Path:
    shutil.copytree(REPO_ROOT / "examples", tmp_path / "examples")
    (tmp_path / "generated").mkdir()
    return tmp_path


def documented_output(section: str) -> re.Pattern[str] | None:
    """Return a pattern for the `wrote …` line that the README quotes as make's last line, or None when it quotes none.

    Each … in the quoted line matches any text.
    """
    match = re.search(r"`(wrote [^`]+)`", section)
    if match is None:
        return None
    pieces = [re.escape(piece) for piece in match.group(1).split("…")]
    return re.compile("^" + ".+".join(pieces) + "$", re.MULTILINE)


def read_readme(name: str) -> str:
    path = REPO_ROOT / name
    if not path.is_file():
        pytest.fail(f"{name} not found in {REPO_ROOT}; the README tests run the commands of every README")
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("readme", README_FILES)
def test_readme_quick_start(readme: str, tmp_path: Path) -> None:
    text = read_readme(readme)
    words = quick_start_command(readme, shell_blocks(text))
    folder = example_folder(tmp_path)

    result = run_documented(words, shlex.join(words), readme, folder)
    assert result is not None
    assert result.returncode == 0, f"{readme}: {shlex.join(words)} failed:\n{result.stderr}"
    assert (folder / "generated" / "convert_drugqa.py").is_file()
    expected = documented_output(text.split(WALK_THROUGH_HEADING)[0])
    if expected is not None:
        assert expected.search(result.stdout), f"{readme} promises {expected.pattern!r}, but make printed {result.stdout!r}"


@pytest.mark.parametrize("readme", README_FILES)
def test_readme_walk_through(readme: str, tmp_path: Path) -> None:
    commands = walk_through_commands(readme, shell_blocks(read_readme(readme)))
    folder = example_folder(tmp_path)

    for command in commands:
        result = run_documented(split_command(command, readme), command, readme, folder)
        if result is not None:
            assert result.returncode == 0, f"{readme}: {command} exited {result.returncode}:\n{result.stdout}{result.stderr}"

    for produced in ("drugqa.jsonl", "train.jsonl", "test.jsonl", "generated/split_7_3_grouped.py"):
        assert (folder / produced).is_file(), f"{readme}: the walk-through did not produce {produced}"


def test_readme_translations_same_commands() -> None:
    english, chinese = (shell_blocks(read_readme(name)) for name in README_FILES)
    assert [block.commands for block in chinese] == [block.commands for block in english]


# --- shell completion -----------------------------------------------------------------------


def promptgen_executable() -> Path:
    """Return the installed promptgen console script, the program that completion is registered for."""
    scripts = Path(sysconfig.get_path("scripts"))
    for name in ("promptgen", "promptgen.exe"):
        if (scripts / name).is_file():
            return scripts / name
    pytest.skip(f"the promptgen console script is not in {scripts}; install the package with pip install -e .")


def run_in_bash(script: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in bash, with the promptgen console script first on PATH.

    The script must not end with promptgen itself: bash would replace itself with the
    last command, and typer finds the shell by looking at promptgen's parent process.
    """
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed, so its completion cannot be tried")
    path = f"{promptgen_executable().parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(
        [bash, "--norc", "--noprofile", "-c", script],
        env={**os.environ, "PATH": path, "SHELL": bash, **environment},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_show_completion_bash() -> None:
    result = run_in_bash("promptgen --show-completion bash; exit $?")
    assert result.returncode == 0, result.stderr
    assert "_PROMPTGEN_COMPLETE=complete_bash" in result.stdout
    assert "complete -o default -F _promptgen_completion promptgen" in result.stdout


def test_show_completion_python_m() -> None:
    result = run_in_bash(f"{shlex.quote(sys.executable)} -m promptgen --show-completion bash; exit $?")
    assert result.returncode == 0, result.stderr
    assert "complete -o default -F _promptgen_completion promptgen" in result.stdout


def test_completion_completes_commands() -> None:
    script = (
        'eval "$(promptgen --show-completion bash; exit $?)"\n'
        "COMP_WORDS=(promptgen ma)\n"
        "COMP_CWORD=1\n"
        "_promptgen_completion promptgen\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    result = run_in_bash(script)
    assert result.returncode == 0, result.stderr
    assert "make" in result.stdout.split()


def test_install_completion_bash(tmp_path: Path) -> None:
    result = run_in_bash("promptgen --install-completion bash; exit $?", HOME=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "_PROMPTGEN_COMPLETE=complete_bash" in (tmp_path / ".bash_completions" / "promptgen.sh").read_text()
    assert "source" in (tmp_path / ".bashrc").read_text()
