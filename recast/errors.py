"""One error family. The CLI prints `str(error)` as a single line and exits 1."""

from __future__ import annotations

from pathlib import Path


class RecastError(Exception):
    """Base of every error recast reports to a user.

    `path` names the file the problem is about, so the message can lead with it.
    `retryable` marks transient failures (a killed worker, a full disk) that a
    batch may try again.
    """

    retryable = False

    def __init__(self, message: str, path: str | Path | None = None):
        self.message = message
        self.path = Path(path) if path is not None else None
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path is not None else self.message


class ConfigError(RecastError):
    """A bad option or setting: unknown model, impossible language, no GPU for --device cuda."""


class MediaError(RecastError):
    """The input cannot be read as a recording, or ffmpeg failed on it."""


class TranscriptionError(RecastError):
    """The speech engine failed or crashed."""


class OutputError(RecastError):
    """The output folder cannot be written (full disk, locked, permissions)."""


class TransientError(RecastError):
    """A failure worth retrying: full disk, killed worker."""

    retryable = True
