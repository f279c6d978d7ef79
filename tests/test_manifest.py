import json

import pytest

from promptgen.errors import ManifestError
from promptgen.manifest import (
    Manifest,
    check_overwrite,
    edited_since_written,
    load_manifest,
    save_manifest,
    sha256_text,
)


def test_load_manifest_missing_is_empty(tmp_path):
    manifest = load_manifest(tmp_path)
    assert manifest.scripts == {}
    assert manifest.path == tmp_path / "manifest.json"


def test_manifest_save_and_load(tmp_path):
    manifest = Manifest(path=tmp_path / "manifest.json", scripts={"b.py": {"code_sha256": "x"}, "a.py": {"k": 1}})
    save_manifest(manifest)
    document = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert list(document["scripts"]) == ["a.py", "b.py"]
    assert load_manifest(tmp_path).scripts == manifest.scripts


@pytest.mark.parametrize("content", ["{not json", "[]", '{"scripts": []}'])
def test_load_manifest_corrupt_raises(tmp_path, content):
    (tmp_path / "manifest.json").write_text(content, encoding="utf-8")
    with pytest.raises(ManifestError) as excinfo:
        load_manifest(tmp_path)
    assert "manifest.json" in str(excinfo.value)


def test_edited_since_written(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("print(1)\n", encoding="utf-8")
    entry = {"code_sha256": sha256_text("print(1)\n")}
    assert edited_since_written(script, entry) is False
    script.write_text("print(2)\n", encoding="utf-8")
    assert edited_since_written(script, entry) is True


def test_check_overwrite_rules(tmp_path):
    manifest = Manifest(path=tmp_path / "manifest.json")
    script = tmp_path / "s.py"
    check_overwrite(script, manifest, force=False)  # absent: fine

    script.write_text("print(1)\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="not in manifest.json"):
        check_overwrite(script, manifest, force=False)

    manifest.scripts["s.py"] = {"code_sha256": sha256_text("print(1)\n")}
    check_overwrite(script, manifest, force=False)  # unedited: fine

    script.write_text("print(2)\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="edited since"):
        check_overwrite(script, manifest, force=False)
    check_overwrite(script, manifest, force=True)


def test_check_overwrite_other_settings(tmp_path):
    script = tmp_path / "convert_drugqa.py"
    script.write_text("print(1)\n", encoding="utf-8")
    entry = {"kind": "converter", "settings": {"sheet": "DrugQA"}, "code_sha256": sha256_text("print(1)\n")}
    manifest = Manifest(path=tmp_path / "manifest.json", scripts={"convert_drugqa.py": entry})

    check_overwrite(script, manifest, force=False, replacement={"kind": "converter", "settings": {"sheet": "DrugQA"}})
    with pytest.raises(ManifestError, match="sheet 'DrugQA'"):
        check_overwrite(script, manifest, force=False, replacement={"kind": "converter", "settings": {"sheet": "DrugQA "}})
    with pytest.raises(ManifestError, match="other kind and settings"):
        check_overwrite(script, manifest, force=False, replacement={"kind": "splitter", "settings": {"ratio": "7:3"}})
    check_overwrite(script, manifest, force=True, replacement={"kind": "splitter", "settings": {}})
