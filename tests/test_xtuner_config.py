from __future__ import annotations

import ast
import builtins
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from promptgen.cli_xtuner import check_command, xtuner_config_command
from promptgen.errors import SettingsError
from promptgen.xtuner_config import ConfigChanges, ConfigError, patch_config, patch_config_file

FIXTURES = Path(__file__).parent / "fixtures" / "xtuner"
CONFIGS = ["oasst1_config.py", "alpaca_config.py", "json_config.py", "no_system_config.py"]

ALL_CHANGES = ConfigChanges(
    data_path="train.jsonl",
    model="./internlm-chat-7b",
    epochs=5,
    batch_size=2,
    max_length=1024,
    lr=1e-4,
    evaluation_inputs=("What is aspirin?", "布洛芬有什么副作用？"),
    system="You are a careful pharmacist.",
)


class StandIn:
    """Any object a config imports: attributes are further stand-ins, equal when their dotted names are."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, attribute: str) -> StandIn:
        return StandIn(f"{self.name}.{attribute}")

    def __call__(self, *args: Any, **kwargs: Any) -> StandIn:
        return StandIn(f"{self.name}()")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StandIn) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"StandIn({self.name!r})"


def execute_config(source: str) -> dict[str, Any]:
    """Run config source with every import (xtuner, mmengine, torch, datasets...) replaced by stand-ins."""

    def stand_in_import(name: str, *args: Any, **kwargs: Any) -> StandIn:
        return StandIn(name)

    namespace: dict[str, Any] = {"__builtins__": {**vars(builtins), "__import__": stand_in_import}}
    exec(compile(source, "config.py", "exec"), namespace)
    return namespace


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def make_app() -> typer.Typer:
    app = typer.Typer()
    app.command("check")(check_command)
    app.command("xtuner-config")(xtuner_config_command)
    return app


def imported_names(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


# The v0.1.9 oasst1 config, every option given


@pytest.fixture(scope="module")
def oasst1_patched() -> tuple[str, dict[str, Any]]:
    patched = patch_config(fixture_text("oasst1_config.py"), ALL_CHANGES, filename="oasst1_config.py").patched
    return patched, execute_config(patched)


def test_oasst1_module_settings(oasst1_patched: tuple[str, dict[str, Any]]) -> None:
    _, namespace = oasst1_patched
    assert namespace["pretrained_model_name_or_path"] == "./internlm-chat-7b"
    assert namespace["data_path"] == "train.jsonl"
    assert namespace["max_epochs"] == 5
    assert namespace["batch_size"] == 2
    assert namespace["max_length"] == 1024
    assert namespace["lr"] == 1e-4
    assert namespace["evaluation_inputs"] == ["What is aspirin?", "布洛芬有什么副作用？"]
    assert namespace["SYSTEM"] == "You are a careful pharmacist."


def test_oasst1_dataset_loads_json(oasst1_patched: tuple[str, dict[str, Any]]) -> None:
    _, namespace = oasst1_patched
    dataset = namespace["train_dataset"]
    assert dataset["dataset"] == {
        "type": StandIn("datasets.load_dataset"),
        "path": "json",
        "data_files": {"train": "train.jsonl"},
    }
    assert dataset["dataset_map_fn"] is None
    assert dataset["template_map_fn"]["type"] == StandIn("xtuner.dataset.map_fns.template_map_fn_factory")
    assert namespace["train_dataloader"]["dataset"] is dataset


def test_oasst1_derived_values(oasst1_patched: tuple[str, dict[str, Any]]) -> None:
    _, namespace = oasst1_patched
    assert namespace["train_cfg"]["max_epochs"] == 5
    assert namespace["train_dataloader"]["batch_size"] == 2
    assert namespace["custom_hooks"][1]["system"] == "You are a careful pharmacist."
    assert namespace["optim_wrapper"]["optimizer"]["lr"] == 1e-4


def test_oasst1_map_fn_import_removed(oasst1_patched: tuple[str, dict[str, Any]]) -> None:
    patched, _ = oasst1_patched
    names = imported_names(patched)
    assert "oasst1_map_fn" not in names
    assert "template_map_fn_factory" in names
    assert "from xtuner.dataset.map_fns import template_map_fn_factory\n" in patched


def test_oasst1_keeps_comments(oasst1_patched: tuple[str, dict[str, Any]]) -> None:
    patched, _ = oasst1_patched
    assert "batch_size = 2  # per_device\n" in patched
    assert "max_norm = 1  # grad clip\n" in patched
    assert "# Part 3: dataset and dataloader\n" in patched


def test_oasst1_diff_lines(oasst1_patched: tuple[str, dict[str, Any]]) -> None:
    result = patch_config(fixture_text("oasst1_config.py"), ALL_CHANGES, filename="oasst1_config.py")
    diff = result.diff("oasst1_config.py")
    assert diff.startswith("--- a/oasst1_config.py\n+++ b/oasst1_config.py\n")
    assert "-    dataset_map_fn=oasst1_map_fn,\n+    dataset_map_fn=None,\n" in diff
    assert "+    dataset=dict(type=load_dataset, path='json', data_files=dict(train=data_path)),\n" in diff


def test_oasst1_only_data_path() -> None:
    source = fixture_text("oasst1_config.py")
    result = patch_config(source, ConfigChanges(data_path="train.jsonl"))
    namespace = execute_config(result.patched)
    assert namespace["data_path"] == "train.jsonl"
    assert namespace["max_epochs"] == 3
    assert namespace["SYSTEM"] == ""
    assert namespace["pretrained_model_name_or_path"] == "internlm/internlm-chat-7b"


# Other config shapes


def test_alpaca_renames_data_path() -> None:
    result = patch_config(fixture_text("alpaca_config.py"), ALL_CHANGES, filename="alpaca_config.py")
    namespace = execute_config(result.patched)
    assert namespace["data_path"] == "train.jsonl"
    assert "alpaca_en_path" not in namespace
    assert namespace["alpaca_en"]["dataset"]["data_files"] == {"train": "train.jsonl"}
    assert namespace["alpaca_en"]["dataset_map_fn"] is None
    assert namespace["train_dataloader"]["dataset"] is namespace["alpaca_en"]
    assert "renamed alpaca_en_path to data_path" in result.notes


def test_alpaca_system_template_import() -> None:
    result = patch_config(fixture_text("alpaca_config.py"), ALL_CHANGES)
    names = imported_names(result.patched)
    assert "SYSTEM_TEMPLATE" not in names
    assert "alpaca_map_fn" not in names
    assert "PROMPT_TEMPLATE" in names
    assert execute_config(result.patched)["SYSTEM"] == "You are a careful pharmacist."


def test_alpaca_system_kept_without_option() -> None:
    result = patch_config(fixture_text("alpaca_config.py"), ConfigChanges(data_path="train.jsonl"))
    assert "SYSTEM = SYSTEM_TEMPLATE.alpaca\n" in result.patched
    assert "SYSTEM_TEMPLATE" in imported_names(result.patched)


def test_json_config_changes_data_path_only() -> None:
    source = fixture_text("json_config.py")
    result = patch_config(source, ConfigChanges(data_path="train.jsonl"))
    changed = [line for line in result.diff("json_config.py").splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == ["-data_path = './MedQA2019/train.jsonl'", "+data_path = 'train.jsonl'"]


def test_json_config_same_values_no_diff() -> None:
    source = fixture_text("json_config.py")
    changes = ConfigChanges(
        data_path="./MedQA2019/train.jsonl",
        model="./internlm-chat-7b",
        epochs=3,
        batch_size=1,
        max_length=2048,
        lr=0.0002,
        evaluation_inputs=("What are ketorolac eye drops?", "What medicines raise blood sugar?"),
        system="You are a careful pharmacist.",
    )
    result = patch_config(source, changes)
    assert not result.changed
    assert result.diff("json_config.py") == ""


def test_no_system_adds_variable() -> None:
    result = patch_config(fixture_text("no_system_config.py"), ALL_CHANGES)
    namespace = execute_config(result.patched)
    assert namespace["SYSTEM"] == "You are a careful pharmacist."
    assert namespace["custom_hooks"][0]["system"] == "You are a careful pharmacist."
    assert "added SYSTEM after evaluation_inputs" in result.notes
    lines = result.patched.splitlines()
    assert lines[lines.index("]") + 1] == "SYSTEM = 'You are a careful pharmacist.'"


def test_no_system_hook_argument_layout() -> None:
    result = patch_config(fixture_text("no_system_config.py"), ALL_CHANGES)
    assert "        evaluation_inputs=evaluation_inputs,\n        system=SYSTEM)\n" in result.patched


def test_no_system_import_removed_whole() -> None:
    result = patch_config(fixture_text("no_system_config.py"), ALL_CHANGES)
    assert "map_fns" not in result.patched


@pytest.mark.parametrize("name", CONFIGS)
def test_second_run_no_change(name: str) -> None:
    first = patch_config(fixture_text(name), ALL_CHANGES)
    second = patch_config(first.patched, ALL_CHANGES)
    assert first.changed
    assert second.diff(name) == ""
    assert second.notes == ()


@pytest.mark.parametrize("name", CONFIGS)
def test_patched_config_parses(name: str) -> None:
    patched = patch_config(fixture_text(name), ALL_CHANGES).patched
    assert isinstance(ast.parse(patched), ast.Module)


def test_keeps_crlf_line_endings() -> None:
    source = fixture_text("oasst1_config.py").replace("\n", "\r\n")
    patched = patch_config(source, ALL_CHANGES).patched
    assert "\r\n" in patched
    assert "\n" not in patched.replace("\r\n", "")


# Failures


@pytest.mark.parametrize(
    ("removed", "changes", "named"),
    [
        ("max_epochs = 3\n", ConfigChanges(data_path="t.jsonl", epochs=2), "max_epochs"),
        ("lr = 2e-4\n", ConfigChanges(data_path="t.jsonl", lr=1e-4), "lr"),
        ("batch_size = 1  # per_device\n", ConfigChanges(data_path="t.jsonl", batch_size=2), "batch_size"),
        ("max_length = 2048\n", ConfigChanges(data_path="t.jsonl", max_length=512), "max_length"),
        ("pretrained_model_name_or_path = 'internlm/internlm-chat-7b'\n", ConfigChanges(data_path="t.jsonl", model="m"), "pretrained_model_name_or_path"),
        ("    dataset_map_fn=oasst1_map_fn,\n", ConfigChanges(data_path="t.jsonl"), "dataset_map_fn"),
        ("data_path = 'timdettmers/openassistant-guanaco'\n", ConfigChanges(data_path="t.jsonl"), "data_path"),
    ],
)
def test_missing_setting_named(removed: str, changes: ConfigChanges, named: str) -> None:
    source = fixture_text("oasst1_config.py")
    assert removed in source
    with pytest.raises(ConfigError, match=f"cannot find .*{named}"):
        patch_config(source.replace(removed, ""), changes)


def test_missing_settings_all_listed() -> None:
    source = fixture_text("oasst1_config.py").replace("max_epochs = 3\n", "").replace("lr = 2e-4\n", "")
    with pytest.raises(ConfigError, match="cannot find max_epochs, lr;"):
        patch_config(source, ConfigChanges(data_path="t.jsonl", epochs=2, lr=1e-4))


def test_missing_setting_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "config.py"
    source = fixture_text("oasst1_config.py").replace("max_epochs = 3\n", "")
    path.write_text(source, encoding="utf-8")
    with pytest.raises(ConfigError):
        patch_config_file(path, ConfigChanges(data_path="t.jsonl", epochs=2), write=True)
    assert path.read_text(encoding="utf-8") == source


def test_syntax_error_names_line() -> None:
    lines = fixture_text("oasst1_config.py").splitlines(keepends=True)
    lines[29] = "max_length = = 2048\n"
    with pytest.raises(ConfigError, match=r"^broken\.py: line 30: not valid Python") as caught:
        patch_config("".join(lines), ALL_CHANGES, filename="broken.py")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"data_path": " "}, "empty --data-path"),
        ({"data_path": "t.jsonl", "epochs": 0}, "invalid --epochs 0"),
        ({"data_path": "t.jsonl", "batch_size": -1}, "invalid --batch-size -1"),
        ({"data_path": "t.jsonl", "lr": 0.0}, "invalid --lr"),
        ({"data_path": "t.jsonl", "evaluation_inputs": ()}, "no --evaluation-input"),
    ],
)
def test_changes_reject_invalid(options: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        ConfigChanges(**options)


# Files and the command


def test_file_written_only_with_write(tmp_path: Path) -> None:
    path = tmp_path / "config.py"
    source = fixture_text("oasst1_config.py")
    path.write_text(source, encoding="utf-8")
    patch_config_file(path, ALL_CHANGES, write=False)
    assert path.read_text(encoding="utf-8") == source
    patch_config_file(path, ALL_CHANGES, write=True)
    assert "data_path = 'train.jsonl'\n" in path.read_text(encoding="utf-8")


def test_cli_prints_diff_dry_run(tmp_path: Path) -> None:
    path = tmp_path / "config.py"
    source = fixture_text("oasst1_config.py")
    path.write_text(source, encoding="utf-8")
    result = CliRunner().invoke(make_app(), ["xtuner-config", str(path), "--data-path", "train.jsonl", "--epochs", "4"])
    assert result.exit_code == 0
    assert "+max_epochs = 4\n" in result.stdout
    assert "add --write" in result.stderr
    assert "train.jsonl does not exist in this folder" in result.stderr
    assert path.read_text(encoding="utf-8") == source


def test_cli_write_then_no_change(tmp_path: Path) -> None:
    path = tmp_path / "config.py"
    path.write_text(fixture_text("oasst1_config.py"), encoding="utf-8")
    arguments = [
        "xtuner-config", str(path), "--data-path", "train.jsonl", "--model", "./internlm-chat-7b", "--epochs", "3",
        "--evaluation-input", "What is aspirin?", "--evaluation-input", "What is ibuprofen?", "--system", "Be brief.", "--write",
    ]
    first = CliRunner().invoke(make_app(), arguments)
    second = CliRunner().invoke(make_app(), arguments)
    assert first.exit_code == 0
    assert "wrote" in first.stderr
    assert execute_config(path.read_text(encoding="utf-8"))["evaluation_inputs"] == ["What is aspirin?", "What is ibuprofen?"]
    assert second.exit_code == 0
    assert second.stdout == ""
    assert "nothing to change" in second.stderr


def test_cli_missing_setting_exit_one(tmp_path: Path) -> None:
    path = tmp_path / "config.py"
    path.write_text(fixture_text("oasst1_config.py").replace("max_epochs = 3\n", ""), encoding="utf-8")
    result = CliRunner().invoke(make_app(), ["xtuner-config", str(path), "--data-path", "t.jsonl", "--epochs", "2", "--write"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "max_epochs" in result.stderr


def test_cli_missing_config(tmp_path: Path) -> None:
    result = CliRunner().invoke(make_app(), ["xtuner-config", str(tmp_path / "absent.py"), "--data-path", "t.jsonl"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: config not found")


def test_cli_invalid_option_one_line(tmp_path: Path) -> None:
    path = tmp_path / "config.py"
    path.write_text(fixture_text("oasst1_config.py"), encoding="utf-8")
    result = CliRunner().invoke(make_app(), ["xtuner-config", str(path), "--data-path", "t.jsonl", "--epochs", "0"])
    assert result.exit_code == 1
    assert result.stderr == "error: invalid --epochs 0: give a whole number of at least 1\n"


def test_cli_syntax_error_one_line(tmp_path: Path) -> None:
    path = tmp_path / "config.py"
    path.write_text("max_epochs = (3\n", encoding="utf-8")
    result = CliRunner().invoke(make_app(), ["xtuner-config", str(path), "--data-path", "t.jsonl"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert f"{path}: line " in result.stderr
