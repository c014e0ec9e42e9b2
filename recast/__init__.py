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


# The stages, importable as `recast.transcribe(...)` etc. They load on first use,
# so `import recast` (and `recast --help`) stays fast.
_LAZY = {
    "process": "pipeline", "BuildResult": "pipeline",
    # (probe and transcribe share their module's name, so they are imported from
    # recast.probe / recast.transcribe directly)
    "load_audio": "audio", "import_transcript": "transcript_import",
    "analyze_video": "video", "find_chapters": "chapters", "describe": "summarize",
    "make_cues": "captions", "write_vtt": "captions", "write_srt": "captions",
    "make_clips": "clips", "make_web_copy": "clips", "make_thumbnails": "thumbnails",
    "write_session_pages": "site", "write_library": "site", "run_batch": "batch",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'recast' has no attribute {name!r}")


__all__ = [
    "__version__", "Options", "load_options", *_LAZY,
    "RecastError", "ConfigError", "MediaError", "OutputError", "TranscriptionError", "TransientError",
    "Audio", "Chapter", "ChapterSpans", "Clip", "Cue", "MediaInfo", "Outline", "Question", "Segment", "Session",
    "Thumbnail", "Transcript", "VideoAnalysis", "Word",
]
