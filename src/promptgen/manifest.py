"""The manifest in the output folder: what produced each script, and how it was verified."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from promptgen.errors import ManifestError
from promptgen.fsutil import write_atomic

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class Manifest:
    """All entries of one output folder, keyed by script file name."""

    path: Path
    scripts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def entry(self, name: str) -> dict[str, Any] | None:
        return self.scripts.get(name)

    def to_json(self) -> str:
        document = {"format": MANIFEST_FORMAT, "scripts": dict(sorted(self.scripts.items()))}
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def load_manifest(out_dir: Path) -> Manifest:
    """Read ``out_dir/manifest.json``; a folder without one has an empty manifest."""
    path = out_dir / MANIFEST_NAME
    if not path.exists():
        return Manifest(path=path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(
            f"cannot read {path}: {exc}; restore it from version control or move it away to start a new one"
        ) from exc
    scripts = document.get("scripts") if isinstance(document, dict) else None
    if not isinstance(scripts, dict):
        raise ManifestError(
            f"{path} has no \"scripts\" object; restore it from version control or move it away to start a new one"
        )
    return Manifest(path=path, scripts=scripts)


def save_manifest(manifest: Manifest) -> None:
    write_atomic(manifest.path, manifest.to_json())


def edited_since_written(script: Path, entry: dict[str, Any] | None) -> bool:
    """Return True when ``script`` exists and differs from the code hash in its manifest entry."""
    if not script.exists():
        return False
    if entry is None:
        return True
    return sha256_file(script) != entry.get("code_sha256")


def check_overwrite(
    script: Path, manifest: Manifest, *, force: bool, replacement: dict[str, Any] | None = None
) -> None:
    """Raise unless writing ``script`` would lose nothing: it is absent, unedited, or ``force`` is set.

    With ``replacement`` (the new entry's "kind" and "settings"), an unedited script made
    for other settings is not replaced either, so two sheets whose names give the same
    file name cannot silently take each other's place.
    """
    if force or not script.exists():
        return
    entry = manifest.entry(script.name)
    if entry is None:
        raise ManifestError(
            f"{script} exists but is not in {manifest.path.name}; "
            "choose another --name, move the file away, or pass --force to replace it"
        )
    if edited_since_written(script, entry):
        raise ManifestError(
            f"{script} was edited since promptgen wrote it (its sha256 differs from {manifest.path.name}); "
            "choose another --name, or pass --force to replace your edits"
        )
    if replacement is not None:
        differing = [key for key in ("kind", "settings") if entry.get(key) != replacement.get(key)]
        if differing:
            old_settings = entry.get("settings") or {}
            new_settings = replacement.get("settings") or {}
            changed = sorted(
                name for name in set(old_settings) | set(new_settings) if old_settings.get(name) != new_settings.get(name)
            )
            detail = f"; it differs in {', '.join(changed)}" if changed and "kind" not in differing else ""
            raise ManifestError(
                f"{script} was made for other {' and '.join(differing)} ({_describe(entry)}{detail}); "
                "choose another --name, or pass --force to replace it"
            )


def _describe(entry: dict[str, Any]) -> str:
    settings = entry.get("settings") or {}
    if entry.get("kind") == "converter":
        return f"a converter for sheet {settings.get('sheet')!r}"
    return f"a {entry.get('kind', 'script')} with ratio {settings.get('ratio')!r}"
