"""The scripts checked in under generated/ still pass and match the hashes in the manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import EXAMPLE_WORKBOOK, REPO_ROOT

from promptgen.manifest import load_manifest, sha256_file
from promptgen.spec import ConverterSettings, settings_from_dict
from promptgen.verify import verify_script

GENERATED = REPO_ROOT / "generated"
ENTRIES = sorted(load_manifest(GENERATED).scripts.items())


def test_generated_has_both_kinds():
    kinds = {entry["kind"] for _name, entry in ENTRIES}
    assert kinds == {"converter", "splitter"}


@pytest.mark.parametrize("name, entry", ENTRIES, ids=[name for name, _entry in ENTRIES])
def test_generated_script_unedited(name, entry):
    assert sha256_file(GENERATED / name) == entry["code_sha256"]


@pytest.mark.parametrize("name, entry", ENTRIES, ids=[name for name, _entry in ENTRIES])
def test_generated_script_passes(name, entry):
    settings = settings_from_dict(entry["kind"], entry["settings"])
    data = EXAMPLE_WORKBOOK if isinstance(settings, ConverterSettings) else None
    report = verify_script(GENERATED / name, settings, data=data)
    assert report.failures() == []
    assert report.passed


def test_manifest_holds_no_secret():
    text = (GENERATED / "manifest.json").read_text(encoding="utf-8")
    document = json.loads(text)
    assert "api_key" not in text.lower()
    assert all("base_url" not in entry or "@" not in entry["base_url"] for entry in document["scripts"].values())
