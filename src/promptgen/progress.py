"""Notes and progress on stderr, and output lines that are coloured only on a terminal.

A command installs a Reporter with ``reporting``. The pipeline stages find it
with ``current_reporter``, which returns a silent reporter when no command
installed one (library use, the pytest plugin). rich is imported only when a
progress display or a console is created, so ``promptgen --help`` never loads it here.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

# TERM values of terminals that cannot move the cursor, where a live display would print garbage.
DUMB_TERMINALS = frozenset({"dumb", "unknown"})

# rich styles of status words, shown only where the console shows colour.
PASS_STYLE = "green"
FAIL_STYLE = "red"
WARNING_STYLE = "yellow"
SEVERITY_STYLES = {"error": FAIL_STYLE, "warning": WARNING_STYLE}

# A line of output as (text, rich style) pieces; the style "" leaves a piece plain.
Line = list[tuple[str, str]]

# Control characters in a message quoted from a script could move the cursor or recolour the terminal.
_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f]")


class Task:
    """One running piece of work, shown as a bar when its total is known and as a spinner otherwise.

    Without a display it does nothing.
    """

    def __init__(self, progress: Progress | None = None, task_id: TaskID | None = None) -> None:
        self._progress = progress
        self._task_id = task_id

    def advance(self, status: str = "") -> None:
        """Count one more item as done and show ``status``, such as the item's name, beside the bar."""
        if self._progress is not None and self._task_id is not None:
            self._progress.update(self._task_id, advance=1, status=status)


class Reporter:
    """The output of a running command besides its result: one-line notes, and a live progress display on a terminal.

    Notes go to ``stream`` unless ``quiet`` is set or ``stream`` is None. The
    progress display appears only when ``terminal`` is true, which by default
    means that ``stream`` is a terminal that can move the cursor, and never with ``quiet``.
    """

    def __init__(self, stream: TextIO | None, *, quiet: bool = False, terminal: bool | None = None) -> None:
        self._stream = stream
        self._quiet = quiet or stream is None
        if terminal is None:
            terminal = stream is not None and is_interactive(stream)
        self._live = terminal and not self._quiet
        self._progress: Progress | None = None
        self._running = 0

    @property
    def live(self) -> bool:
        """Whether tasks show on a live progress display."""
        return self._live

    def info(self, message: str) -> None:
        """Print a one-line note, above the progress display while one is shown."""
        if self._quiet or self._stream is None:
            return
        if self._progress is not None:
            self._progress.console.print(message, markup=False, highlight=False, emoji=False, soft_wrap=True)
        else:
            # typer.echo, like click.echo that it comes from, drops ANSI escapes when the stream is not a terminal,
            # so a note that quotes a script's message stays plain text in a log.
            typer.echo(message, file=self._stream)

    @contextlib.contextmanager
    def task(self, description: str, total: int | None = None) -> Iterator[Task]:
        """Show ``description`` while the block runs, with a bar of ``total`` items or a spinner when ``total`` is None.

        Tasks nest: they share one display, which disappears when the outermost task ends.
        """
        if not self._live:
            yield Task()
            return
        progress = self._start()
        task_id = progress.add_task(description, total=total, status="")
        try:
            yield Task(progress, task_id)
        finally:
            progress.remove_task(task_id)
            # Redraw now, or a note printed before the next automatic refresh shows the finished task again.
            progress.refresh()
            self._stop()

    def _start(self) -> Progress:
        if self._progress is None:
            self._progress = _new_progress(make_console(self._stream, terminal=True))
            self._progress.start()
        self._running += 1
        return self._progress

    def _stop(self) -> None:
        self._running -= 1
        if self._running == 0 and self._progress is not None:
            self._progress.stop()
            self._progress = None


_SILENT = Reporter(None)
_current: contextvars.ContextVar[Reporter] = contextvars.ContextVar("promptgen_reporter", default=_SILENT)


def current_reporter() -> Reporter:
    """Return the reporter of the running command, or a silent one outside a command."""
    return _current.get()


@contextlib.contextmanager
def reporting(reporter: Reporter) -> Iterator[Reporter]:
    """Make ``reporter`` the current reporter while the block runs."""
    token = _current.set(reporter)
    try:
        yield reporter
    finally:
        _current.reset(token)


def is_interactive(stream: TextIO) -> bool:
    """Return whether ``stream`` is a terminal that can show a live display."""
    isatty = getattr(stream, "isatty", None)
    if isatty is None or not isatty():
        return False
    return os.environ.get("TERM", "").strip().lower() not in DUMB_TERMINALS


def make_console(stream: TextIO | None, *, terminal: bool | None = None) -> Console:
    """Return a rich console on ``stream`` that prints text as given: no markup, highlighting, emoji or wrapping.

    Colour follows rich's rules: only on a terminal (or with ``terminal`` true),
    never with NO_COLOR set, and also on a pipe with FORCE_COLOR set.
    """
    from rich.console import Console

    return Console(
        file=stream, force_terminal=terminal, markup=False, highlight=False, emoji=False, soft_wrap=True
    )


def print_lines(lines: list[Line], console: Console | None = None) -> None:
    """Print ``lines`` on stdout, or on ``console``, in colour only where the console shows colour.

    Control characters are printed as \\xNN escapes.
    """
    from rich.text import Text

    console = console or make_console(sys.stdout)
    for line in lines:
        text = Text()
        for piece, style in line:
            text.append(_CONTROL_CHARACTERS.sub(_escape_character, piece), style=style or None)
        console.print(text)


def _escape_character(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def _new_progress(console: Console) -> Progress:
    from rich.progress import BarColumn, Progress, ProgressColumn, SpinnerColumn, Task, TextColumn, TimeElapsedColumn
    from rich.text import Text

    class CountColumn(ProgressColumn):
        """Items done out of the total, such as 12/33; empty for a spinner."""

        def render(self, task: Task) -> Text:
            if task.total is None:
                return Text("")
            return Text(f"{int(task.completed)}/{int(task.total)}")

    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        CountColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
        console=console,
        transient=True,
        # Output on stdout (a JSON document, a report) must never land in the display on stderr.
        redirect_stdout=False,
    )
