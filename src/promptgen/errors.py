"""Exceptions that end a command with a one-line message and exit status 1."""

from __future__ import annotations


class PromptgenError(Exception):
    """A failure the user can fix; its message is one line naming the value and the fix."""

    exit_code = 1


class SettingsError(PromptgenError):
    """An invalid option or template variable."""


class WorkbookError(PromptgenError):
    """A workbook that cannot be read, or lacks the requested sheet or column."""


class TemplateError(PromptgenError):
    """A missing or malformed prompt template."""


class ManifestError(PromptgenError):
    """A manifest that cannot be read, or a script that was edited since it was written."""


class ProviderError(PromptgenError):
    """A model provider that failed or returned an unusable reply."""


class ExtractionError(PromptgenError):
    """A reply from which no single runnable Python script could be taken."""
