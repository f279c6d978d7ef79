"""Shared fixtures: the loopback chat completions server and the path of the real data set."""

from pathlib import Path

import pytest

pytest_plugins = ["chat_server"]

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_WORKBOOK = REPO_ROOT.parent / "shared" / "data" / "MedQA2019.xlsx"
EXAMPLE_WORKBOOK = REPO_ROOT / "examples" / "drugqa-sample.xlsx"


@pytest.fixture(scope="session")
def medqa_workbook() -> Path:
    """The real Medication QA workbook, read from the shared folder beside the repository."""
    if not SHARED_WORKBOOK.is_file():
        pytest.skip(f"real data set not found at {SHARED_WORKBOOK}; put the shared folder beside the repository")
    return SHARED_WORKBOOK
