"""recast: turn a recorded live session into chaptered microlearning and a static revisit site.

    >>> import recast
    >>> result = recast.process("webinar.mp4", "site", recast.Options(title="Onboarding"))
    >>> result.folder
    PosixPath('site/onboarding')
"""

from __future__ import annotations

__version__ = "0.1.0"

from .config import Options, load_options
from .errors import ConfigError, MediaError, OutputError, RecastError, TranscriptionError, TransientError
from .models import (
    Audio, Chapter, ChapterSpans, Clip, Cue, MediaInfo, Outline, Question, Segment, Session, Thumbnail, Transcript,
    VideoAnalysis, Word,
)


def process(*args, **kwargs):
    """Build one session; see `recast.pipeline.process`."""
    from .pipeline import process as _process

    return _process(*args, **kwargs)


__all__ = [
    "__version__", "process", "Options", "load_options",
    "RecastError", "ConfigError", "MediaError", "OutputError", "TranscriptionError", "TransientError",
    "Audio", "Chapter", "ChapterSpans", "Clip", "Cue", "MediaInfo", "Outline", "Question", "Segment", "Session",
    "Thumbnail", "Transcript", "VideoAnalysis", "Word",
]
