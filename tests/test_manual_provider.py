from __future__ import annotations

from pathlib import Path

import pytest

from promptgen.errors import PromptgenError, ProviderError
from promptgen.providers.base import Message
from promptgen.providers.manual import ManualPromptWritten, ManualProvider, format_prompt

MESSAGES: list[Message] = [
    {"role": "system", "content": "You write Python scripts."},
    {"role": "user", "content": "Write a converter for sheet DrugQA.\n\nUse openpyxl."},
]


def test_prompt_written_and_run_stops(tmp_path: Path) -> None:
    prompt_path = tmp_path / "prompt.md"
    with pytest.raises(ManualPromptWritten) as caught:
        ManualProvider(prompt_path, response=None).complete(MESSAGES)
    assert prompt_path.read_text(encoding="utf-8") == format_prompt(MESSAGES)
    assert str(prompt_path) in str(caught.value)
    assert "--response FILE" in str(caught.value)
    assert "--response - to read it from stdin" in str(caught.value)


def test_prompt_written_is_not_failure() -> None:
    assert issubclass(ManualPromptWritten, PromptgenError)
    assert ManualPromptWritten.exit_code == 0


def test_prompt_file_layout() -> None:
    assert format_prompt(MESSAGES) == (
        "## System message\n"
        "\n"
        "You write Python scripts.\n"
        "\n"
        "## User message\n"
        "\n"
        "Write a converter for sheet DrugQA.\n"
        "\n"
        "Use openpyxl.\n"
    )


def test_prompt_file_keeps_assistant_turns() -> None:
    conversation: list[Message] = [
        *MESSAGES,
        {"role": "assistant", "content": "print(1)"},
        {"role": "user", "content": "The script failed."},
    ]
    headings = [line for line in format_prompt(conversation).splitlines() if line.startswith("## ")]
    assert headings == ["## System message", "## User message", "## Assistant message", "## User message"]


def test_prompt_file_replaced(tmp_path: Path) -> None:
    prompt_path = tmp_path / "nested" / "prompt.md"
    prompt_path.parent.mkdir()
    prompt_path.write_text("an older prompt")
    with pytest.raises(ManualPromptWritten):
        ManualProvider(prompt_path, response=None).complete(MESSAGES)
    assert "an older prompt" not in prompt_path.read_text(encoding="utf-8")
    assert [path.name for path in prompt_path.parent.iterdir()] == ["prompt.md"]


def test_prompt_folder_created(tmp_path: Path) -> None:
    prompt_path = tmp_path / "new" / "prompt.md"
    with pytest.raises(ManualPromptWritten):
        ManualProvider(prompt_path, response=None).complete(MESSAGES)
    assert prompt_path.is_file()


def test_response_returned(tmp_path: Path) -> None:
    response = "Here is the script:\n```python\nprint(1)\n```\n"
    [reply] = ManualProvider(tmp_path / "prompt.md", response=response).complete(MESSAGES)
    assert reply.text == response
    assert reply.model == "manual"
    assert reply.finish_reason == "stop"
    assert reply.cached is False


def test_response_skips_prompt_file(tmp_path: Path) -> None:
    ManualProvider(tmp_path / "prompt.md", response="print(1)").complete(MESSAGES)
    assert not (tmp_path / "prompt.md").exists()


@pytest.mark.parametrize("response", ["", "  \n\t\n"])
def test_empty_response(tmp_path: Path, response: str) -> None:
    with pytest.raises(ProviderError, match="the response is empty"):
        ManualProvider(tmp_path / "prompt.md", response=response).complete(MESSAGES)


@pytest.mark.parametrize("response", [None, "print(1)"])
def test_several_samples_rejected(tmp_path: Path, response: str | None) -> None:
    with pytest.raises(ProviderError, match="--samples 1"):
        ManualProvider(tmp_path / "prompt.md", response=response).complete(MESSAGES, samples=3)
    assert not (tmp_path / "prompt.md").exists()
