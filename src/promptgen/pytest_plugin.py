"""A pytest plugin that turns every script recorded in a promptgen manifest into test items.

``pytest --promptgen`` adds, for each script in ``generated/manifest.json``
(``--promptgen-dir`` names another folder), the items ``SCRIPT::unedited``,
``SCRIPT::review`` and one ``SCRIPT::CASE`` per golden case, so a failure shows as
an ordinary pytest failure that names the script, the case and the first fault.

Without ``--promptgen`` the plugin only registers its options. promptgen's modules
(and through them libcst, openpyxl and the sandbox) are imported once the option
is given, so that installing promptgen does not slow down every pytest start.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import pytest

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr

    from promptgen.golden import GoldenCase
    from promptgen.regression import RecordedScript
    from promptgen.review import ReviewReport

DEFAULT_DIR = "generated"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("promptgen", "promptgen generated scripts")
    group.addoption(
        "--promptgen",
        action="store_true",
        default=False,
        help="Verify every script in the promptgen manifest: one item per golden case, plus review and unedited.",
    )
    group.addoption(
        "--promptgen-dir",
        default=DEFAULT_DIR,
        metavar="DIR",
        help=f"Folder with the generated scripts and manifest.json, relative to the current directory (default: {DEFAULT_DIR}).",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("promptgen"):
        # libcst 1.0 imports the deprecated mypy_extensions.TypedDict when the review
        # loads its metadata providers; that warning concerns promptgen, not the user's tests.
        config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:libcst.*")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    # tryfirst: the items must exist before -k, -m and --deselect filter the list.
    if not config.getoption("promptgen"):
        return
    for recorded in _recorded_scripts(config):
        collector = GeneratedScript.from_parent(session, path=recorded.path, recorded=recorded)
        # genitems reports the collection as pytest's own collection does, so
        # --collect-only, the item count and collection errors work as usual.
        items.extend(session.genitems(collector))


def _recorded_scripts(config: pytest.Config) -> list[RecordedScript]:
    from promptgen.errors import PromptgenError
    from promptgen.regression import recorded_scripts

    folder = Path(config.invocation_params.dir, config.getoption("promptgen_dir"))
    if not folder.is_dir():
        raise pytest.UsageError(
            f"--promptgen-dir {folder} does not exist or is not a folder; give the folder that holds the scripts and manifest.json"
        )
    try:
        scripts = recorded_scripts(folder)
    except PromptgenError as exc:
        raise pytest.UsageError(f"--promptgen: {exc}") from None
    if not scripts:
        raise pytest.UsageError(
            f"--promptgen: no scripts recorded in {folder / 'manifest.json'}; "
            "run promptgen make first, or give the folder of the manifest with --promptgen-dir"
        )
    return scripts


class ScriptCheckFailed(Exception):
    """A failed check of a generated script; the message is the whole report."""


class GeneratedScript(pytest.File):
    """The items of one recorded script: unedited, review and its golden cases."""

    def __init__(self, *, recorded: RecordedScript, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.recorded = recorded
        self._review: ReviewReport | None = None

    def collect(self) -> Iterator[pytest.Item]:
        from promptgen.golden import golden_cases
        from promptgen.regression import EXISTS_CHECK, REVIEW_CHECK, UNEDITED_CHECK

        if not self.path.is_file():
            yield ExistsItem.from_parent(self, name=EXISTS_CHECK)
            return
        yield UneditedItem.from_parent(self, name=UNEDITED_CHECK)
        yield ReviewItem.from_parent(self, name=REVIEW_CHECK)
        for case in golden_cases(self.recorded.kind):
            yield GoldenCaseItem.from_parent(self, name=case.name, case=case)

    def review(self) -> ReviewReport:
        """Review the script once; the review item and every golden case item share the result."""
        if self._review is None:
            from promptgen.review import review_code

            self._review = review_code(self.path.read_text(encoding="utf-8"), self.recorded.kind)
        return self._review


class ScriptItem(pytest.Item):
    """One check of a generated script, reported by its message alone instead of a traceback."""

    parent: GeneratedScript

    @property
    def script(self) -> GeneratedScript:
        return self.parent

    def display_path(self) -> str:
        """Return the script's path relative to the current directory, or as it is when it lies outside."""
        try:
            return str(self.path.relative_to(self.config.invocation_params.dir))
        except ValueError:
            return str(self.path)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | TerminalRepr:
        if isinstance(excinfo.value, ScriptCheckFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.display_path()}::{self.name}"


class ExistsItem(ScriptItem):
    def runtest(self) -> None:
        from promptgen.regression import missing_message

        raise ScriptCheckFailed(missing_message(Path(self.display_path())))


class UneditedItem(ScriptItem):
    def runtest(self) -> None:
        from promptgen.manifest import edited_since_written
        from promptgen.regression import edited_message

        if edited_since_written(self.path, self.script.recorded.entry):
            raise ScriptCheckFailed(edited_message(Path(self.display_path())))


class ReviewItem(ScriptItem):
    def runtest(self) -> None:
        from promptgen.regression import review_message

        review = self.script.review()
        if not review.passed:
            raise ScriptCheckFailed(review_message(Path(self.display_path()), review))


class GoldenCaseItem(ScriptItem):
    """One golden case, run on the script in a fresh sandbox folder."""

    def __init__(self, *, case: GoldenCase, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case

    def runtest(self) -> None:
        from promptgen.golden import check_outcome
        from promptgen.regression import NOT_RUN_MESSAGE
        from promptgen.sandbox import run_script

        label = f"{self.display_path()} golden case {self.name}"
        # Like promptgen verify, never run a script that failed the review, even in the sandbox.
        if not self.script.review().passed:
            raise ScriptCheckFailed(f"{label}: {NOT_RUN_MESSAGE} (see {self.display_path()}::review)")
        with tempfile.TemporaryDirectory(prefix="promptgen-case-") as folder:
            workdir = Path(folder)
            prepared = self.case.prepare(self.script.recorded.settings, workdir)
            result = run_script(self.path, list(prepared.args), workdir=workdir, timeout=prepared.timeout)
            outcome = check_outcome(prepared, result, workdir)
        if not outcome.passed:
            blocked = f"; the sandbox blocked {', '.join(result.blocked)}" if result.blocked else ""
            raise ScriptCheckFailed(f"{label}: {outcome.message}{blocked}")
