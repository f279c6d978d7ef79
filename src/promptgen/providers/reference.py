"""The offline provider: the checked-in reference script with the task's settings baked in."""

from __future__ import annotations

from promptgen.bake import bake_script
from promptgen.providers.base import Message, Reply
from promptgen.spec import Settings


class ReferenceProvider:
    """Returns the reference implementation as the candidate; it ignores the prompt."""

    name = "reference"
    model = "reference"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def complete(self, messages: list[Message], *, samples: int = 1) -> list[Reply]:
        # The reference is deterministic, so extra samples would only repeat it.
        return [Reply(text=bake_script(self._settings), model=self.model, is_code=True)]
