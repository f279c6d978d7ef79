"""Re-verify the scripts recorded in a manifest, and write the results as JUnit XML.

``promptgen verify`` without a script and the pytest plugin run the same checks
with the same messages. A recorded script fails when its file is missing or was
edited since promptgen wrote it, when the review finds an error, when a golden
case fails, or when it disagrees with the reference on the user's data.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptgen.errors import ManifestError, SettingsError
from promptgen.fsutil import write_atomic
from promptgen.manifest import MANIFEST_NAME, edited_since_written, load_manifest
from promptgen.spec import KINDS, Kind, Settings, kind_of, settings_from_dict
from promptgen.verify import VerificationReport, verify_script

if TYPE_CHECKING:
    from promptgen.review import ReviewReport

# Check names shared by JUnit test cases and pytest items; golden cases use their own names.
EXISTS_CHECK = "exists"
UNEDITED_CHECK = "unedited"
REVIEW_CHECK = "review"
NOT_RUN_MESSAGE = "not run because the review failed"

# Characters that XML 1.0 does not allow anywhere, not even escaped, and lone
# surrogates, which UTF-8 cannot encode. A script's stderr quoted in a message may contain them.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class RecordedScript:
    """A script entry of a manifest, with the settings it was generated for."""

    path: Path
    settings: Settings
    entry: dict[str, Any]

    @property
    def kind(self) -> Kind:
        return kind_of(self.settings)


def recorded_scripts(out_dir: Path) -> list[RecordedScript]:
    """Return the scripts recorded in ``out_dir/manifest.json``, sorted by name; none without a manifest.

    Raises ManifestError when the manifest cannot be read or an entry lacks its kind or settings.
    """
    manifest = load_manifest(out_dir)
    return [_recorded_script(out_dir, name, entry) for name, entry in sorted(manifest.scripts.items())]


def _recorded_script(out_dir: Path, name: str, entry: Any) -> RecordedScript:
    manifest_path = out_dir / MANIFEST_NAME
    kind = entry.get("kind") if isinstance(entry, dict) else None
    settings = entry.get("settings") if isinstance(entry, dict) else None
    if kind not in KINDS or not isinstance(settings, dict):
        raise ManifestError(
            f"the entry for {name} in {manifest_path} has no valid kind and settings; "
            "regenerate the script with promptgen make --force"
        )
    try:
        typed = settings_from_dict(kind, settings)
    except SettingsError as exc:
        raise ManifestError(f"the entry for {name} in {manifest_path} has invalid settings: {exc}") from None
    return RecordedScript(path=out_dir / name, settings=typed, entry=entry)


def missing_message(script: Path) -> str:
    return f"{script} is recorded in {MANIFEST_NAME} but the file is missing; restore it, or run promptgen make again"


def edited_message(script: Path) -> str:
    return (
        f"{script}: edited since promptgen wrote it (its sha256 differs from {MANIFEST_NAME}); "
        "undo the edit, or regenerate it with promptgen make --force"
    )


def review_message(script: Path, review: ReviewReport) -> str:
    """Return a failed review as one line that names the script and each error finding."""
    findings = "; ".join(finding.format() for finding in review.errors)
    return f"{script} failed the review: {findings}"


@dataclass(frozen=True)
class ScriptResult:
    """Everything one regression run found about one script.

    ``edited`` is None when nothing recorded what the script should contain, and
    ``report`` is None when the file is missing.
    """

    script: Path
    kind: Kind
    case_names: tuple[str, ...]
    missing: bool = False
    edited: bool | None = None
    report: VerificationReport | None = None

    @property
    def passed(self) -> bool:
        return not self.missing and not self.edited and self.report is not None and self.report.passed


def check_script(
    script: Path,
    settings: Settings,
    *,
    data: Path | None = None,
    review: bool = True,
    edited: bool | None = None,
) -> ScriptResult:
    """Verify ``script`` as ``promptgen verify`` does, and keep what the JUnit report needs."""
    from promptgen.golden import golden_cases

    kind = kind_of(settings)
    case_names = tuple(case.name for case in golden_cases(kind))
    report = verify_script(script, settings, data=data, review=review)
    return ScriptResult(script=script, kind=kind, case_names=case_names, edited=edited, report=report)


def check_recorded_script(
    recorded: RecordedScript, *, data: Path | None = None, review: bool = True
) -> ScriptResult:
    """Verify a recorded script and compare its file with the sha256 in its manifest entry."""
    if not recorded.path.is_file():
        from promptgen.golden import golden_cases

        case_names = tuple(case.name for case in golden_cases(recorded.kind))
        return ScriptResult(script=recorded.path, kind=recorded.kind, case_names=case_names, missing=True)
    edited = edited_since_written(recorded.path, recorded.entry)
    return check_script(recorded.path, recorded.settings, data=data, review=review, edited=edited)


def junit_xml(results: list[ScriptResult], name: str = "promptgen verify") -> str:
    """Render the results as JUnit XML: one testsuite per script, one testcase per check and golden case."""
    root = ElementTree.Element("testsuites", name=name)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for result in results:
        suite = _testsuite(result)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


def write_junit(path: Path, results: list[ScriptResult]) -> None:
    write_atomic(path, junit_xml(results))


def _testsuite(result: ScriptResult) -> ElementTree.Element:
    suite = ElementTree.Element("testsuite", name=_xml_text(str(result.script)))
    classname = result.script.stem
    report = result.report

    if result.missing:
        _add_case(suite, classname, EXISTS_CHECK, failure=missing_message(result.script))
    if result.edited is not None:
        _add_case(suite, classname, UNEDITED_CHECK, failure=edited_message(result.script) if result.edited else "")
    if report is not None and report.review is not None:
        details = "\n".join(finding.format() for finding in report.review.findings)
        failure = "" if report.review.passed else review_message(result.script, report.review)
        _add_case(suite, classname, REVIEW_CHECK, failure=failure, details=details)

    outcomes = {case.name: case for case in report.cases} if report is not None else {}
    for case_name in result.case_names:
        outcome = outcomes.get(case_name)
        if outcome is None:
            # A missing script or a failed review means the golden cases never ran.
            skipped = "not run because the file is missing" if result.missing else NOT_RUN_MESSAGE
            _add_case(suite, classname, case_name, skipped=skipped)
        else:
            failure = "" if outcome.passed else f"{result.script} golden case {case_name}: {outcome.message}"
            _add_case(suite, classname, case_name, failure=failure)

    if report is not None and report.data is not None:
        data = report.data
        failure = "" if data.passed else f"{result.script} differs from the reference on {data.source}: {data.message}"
        _add_case(suite, classname, f"reference on {data.source}", failure=failure)

    if report is not None and report.blocked:
        system_out = ElementTree.SubElement(suite, "system-out")
        system_out.text = _xml_text("\n".join(f"the sandbox blocked {action}" for action in report.blocked))

    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(case.find("failure") is not None for case in cases)))
    suite.set("errors", "0")
    suite.set("skipped", str(sum(case.find("skipped") is not None for case in cases)))
    return suite


def _add_case(
    suite: ElementTree.Element, classname: str, name: str, *, failure: str = "", details: str = "", skipped: str = ""
) -> None:
    case = ElementTree.SubElement(suite, "testcase", classname=classname, name=_xml_text(name))
    if failure:
        element = ElementTree.SubElement(case, "failure", message=_xml_text(failure))
        element.text = _xml_text(details or failure)
    elif skipped:
        ElementTree.SubElement(case, "skipped", message=skipped)


def _xml_text(text: str) -> str:
    return _XML_INVALID.sub(lambda match: f"\\x{ord(match.group()):02x}", text)
