"""The reference converter and splitter: standalone scripts that follow docs/script-contract.md.

They are the oracle that generated scripts are compared against, and the ``reference``
provider emits them, with settings baked into their constants block, as finished scripts.
"""

from __future__ import annotations

from pathlib import Path

from promptgen.errors import SettingsError
from promptgen.spec import KINDS, Kind

_SCRIPT_FOLDER = Path(__file__).resolve().parent


def reference_path(kind: Kind) -> Path:
    """Return the path of the reference script for ``kind``: converter.py or splitter.py."""
    if kind not in KINDS:
        raise SettingsError(f"unknown script kind {kind!r}: choose one of {', '.join(KINDS)}")
    return _SCRIPT_FOLDER / f"{kind}.py"
