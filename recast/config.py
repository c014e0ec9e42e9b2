"""Options: one validated dataclass.

Precedence: command line > `RECAST_*` environment > `recast.toml` > defaults.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError

log = logging.getLogger(__name__)

CLIP_MODES = ("encode", "copy", "none")
CHAPTER_SOURCES = ("auto", "detect")  # else --chapters names a chapter file
TRANSCRIPT_BESIDE = Path("beside")  # --transcript beside
WEB_VIDEO = ("wide", "modern")
ENGINES = ("faster-whisper", "openai-whisper")
DEVICES = ("auto", "cpu", "cuda")
TASKS = ("transcribe", "translate")

# Microlearning: research on video engagement (Guo, Kim & Rubin 2014, edX) found
# viewers stop watching after about 6 minutes, so 8 minutes is the ceiling that
# leaves room for a topic that runs a little long. The floor is 30 s: one short
# explanation still makes a unit worth linking to (YouTube accepts 10 s), and a
# one-hour webinar is still kept from splintering by the length prior in chapters.py.
DEFAULT_MIN_CHAPTER = 30.0  # seconds
DEFAULT_MAX_CHAPTER = 480.0  # seconds


def default_cache_dir() -> Path:
    if os.environ.get("RECAST_CACHE_DIR"):
        return Path(os.environ["RECAST_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "recast"


@dataclass(frozen=True)
class Options:
    """Every setting of a run. Fields that change the transcript are listed in
    `TRANSCRIPT_FIELDS`; they form the transcript cache key."""

    title: str | None = None
    engine: str = "faster-whisper"
    model: str | None = None  # None: bundled tiny.en on CPU, a larger one on CUDA
    language: str | None = None  # None: detect (multilingual models) / "en"
    task: str = "transcribe"
    device: str = "auto"
    compute_type: str | None = None  # None: int8 on CPU, float16 on CUDA
    vad: bool = True
    audio_track: int = 0
    # Beam 3 against greedy decoding, tiny.en on two cores: 0.3-0.8 points fewer word
    # errors on the synthetic hours and 2.56% -> 2.09% on the real lecture, for
    # 16-20% more decoding time (64.9x -> 55.8x real time; benchmarks/RESULTS.md)
    beam_size: int = 3
    # Names and terms said in the session ("Agassi, Sampras, Wimbledon"), given to
    # Whisper as the text before each chunk so that it spells them
    vocabulary: str | None = None
    # Names and terms read on the slides (OCR) steer recognition of what is said
    # while each slide is shown (recast/slides.py)
    slide_vocabulary: bool = True
    # import instead of recognising speech; TRANSCRIPT_BESIDE: the one a tool saved
    # beside each recording (names.transcript_beside), when there is one
    transcript_file: Path | None = None
    # "auto": chapter marks inside the recording when it has them (Camtasia, OBS,
    # yt-dlp), else found; "detect": always found; else a chapter file's path
    chapters: str = "auto"
    min_chapter: float = DEFAULT_MIN_CHAPTER
    max_chapter: float = DEFAULT_MAX_CHAPTER
    clips: str = "encode"
    max_height: int | None = None
    caption_chars: int = 42  # Netflix/BBC: 42 characters a line
    caption_lines: int = 2
    embed_chapters: bool = True
    llm_url: str | None = None
    llm_model: str | None = None
    ocr: bool = True
    force: bool = False
    cache_dir: Path = field(default_factory=default_cache_dir)
    threads: int = 0  # 0: all cores
    smart_cut: bool = True  # encode clips: re-encode only the partial GOPs at the cuts (clips.py)
    # "wide": clips and player copy in codecs every current browser plays, Safari on
    # older Apple devices included (H.264, or VP9 + Opus in WebM); "modern": VP8 and
    # AV1 kept as they are too, sparing an encode of the whole recording
    web_video: str = "wide"

    def __post_init__(self) -> None:
        def bad(msg: str) -> None:
            raise ConfigError(msg)

        if self.engine not in ENGINES:
            bad(f"unknown engine {self.engine!r} (choose from {', '.join(ENGINES)})")
        if self.device not in DEVICES:
            bad(f"unknown device {self.device!r} (choose from {', '.join(DEVICES)})")
        if self.task not in TASKS:
            bad(f"unknown task {self.task!r} (choose from {', '.join(TASKS)})")
        if self.web_video not in WEB_VIDEO:
            bad(f"unknown --web-video {self.web_video!r} (choose from {', '.join(WEB_VIDEO)})")
        if self.clips not in CLIP_MODES:
            bad(f"unknown clip mode {self.clips!r} (choose from {', '.join(CLIP_MODES)})")
        if not 0 < self.min_chapter <= self.max_chapter:
            bad(f"--min-chapter ({self.min_chapter:g} s) must be positive and at most --max-chapter ({self.max_chapter:g} s)")
        if self.caption_chars < 10 or self.caption_lines < 1:
            bad("--caption-chars must be at least 10 and --caption-lines at least 1")
        if self.audio_track < 0:
            bad("--audio-track counts from 0")
        if self.max_height is not None and self.max_height < 64:
            bad("--max-height must be at least 64 pixels")

    def replace(self, **changes: Any) -> "Options":
        return dataclasses.replace(self, **changes)

    @property
    def chapters_file(self) -> Path | None:
        """The chapter list `--chapters` names, if it names one rather than a keyword."""
        return chapter_file(self.chapters)

    def transcript_key(self) -> dict[str, Any]:
        """The settings that change the transcript (the rest only change what is built from it)."""
        return {name: _plain(getattr(self, name)) for name in TRANSCRIPT_FIELDS}


TRANSCRIPT_FIELDS = ("engine", "model", "language", "task", "device", "compute_type", "vad", "audio_track", "beam_size",
                     "vocabulary")


def chapter_file(chapters: str) -> Path | None:
    """The chapter list a `--chapters` value names; None for "auto" and "detect"."""
    return None if chapters in CHAPTER_SOURCES else Path(chapters).expanduser()


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value


def _coerce(name: str, raw: Any, where: str, path: Path | None = None) -> Any:
    """A setting's value from `where` (an environment variable, or a key of
    recast.toml at `path`) as the type its field has; a ConfigError naming both
    when it is not one."""
    kind = str({f.name: f.type for f in fields(Options)}[name])
    expected = ("true or false" if "bool" in kind else "a number" if "float" in kind
                else "a whole number" if "int" in kind else "text")

    def wrong() -> ConfigError:
        return ConfigError(f"{where}: expected {expected}, got {raw!r}", path)

    if isinstance(raw, str):
        if "bool" in kind:
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise wrong()
        try:
            if "float" in kind:
                return float(raw)
            if "int" in kind:
                return int(raw)
        except ValueError:
            raise wrong() from None
        return Path(raw).expanduser() if "Path" in kind else raw
    # recast.toml gives typed values: take the ones that fit the field
    if isinstance(raw, bool):
        if "bool" in kind:
            return raw
    elif isinstance(raw, int | float):
        if "float" in kind:
            return float(raw)
        if "int" in kind and isinstance(raw, int):
            return raw
    raise wrong()


# Settings named as their command-line option where the field name differs.
_ALIASES = {"transcript": "transcript_file"}
# RECAST_* variables that are not settings (read where they are used).
_OTHER_VARIABLES = frozenset(
    "CACHE_DIR LLM_API_KEY ENGINE_TIMEOUT ENGINE_LOG FFMPEG OCR_THREADS SEARCH "
    "TEST_ENGINE_CRASH TEST_KILL_WORKER BROWSER_SITE REGEN_GOLDEN".split()
)


def load_options(cli: dict[str, Any] | None = None, config_file: Path | None = None) -> Options:
    """Merge defaults < recast.toml < RECAST_* environment < command line (None = not given)."""
    names = {f.name for f in fields(Options)}
    merged: dict[str, Any] = {}
    path = config_file or (Path("recast.toml") if Path("recast.toml").is_file() else None)
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise ConfigError(f"cannot read settings: {e}", path) from e
        table = data.get("recast", data)
        for key, value in table.items():
            name = key.replace("-", "_")
            name = _ALIASES.get(name, name)
            if name not in names:
                raise ConfigError(f"unknown setting {key!r}", path)
            merged[name] = _coerce(name, value, f"{key} in the settings file", path)
    for var, env in os.environ.items():
        if not var.startswith("RECAST_") or var[7:] in _OTHER_VARIABLES:  # RECAST_CACHE_DIR: default_cache_dir
            continue
        name = _ALIASES.get(var[7:].lower(), var[7:].lower())
        if name not in names:
            log.warning("%s is not a recast setting and is ignored (settings: %s)", var,
                        ", ".join(f"RECAST_{n.upper()}" for n in sorted(names) if n != "cache_dir"))
            continue
        merged[name] = _coerce(name, env, var)
    for name, value in (cli or {}).items():
        if value is not None:
            merged[name] = value
    if isinstance(merged.get("vocabulary"), str):
        merged["vocabulary"] = read_vocabulary(merged["vocabulary"])
    return Options(**merged)


def read_vocabulary(value: str, base: Path | None = None) -> str:
    """A vocabulary setting: the names and terms themselves, or `@FILE`, a text file
    of them, one or more a line (a relative FILE is taken from `base`, else from the
    current folder)."""
    if not value.startswith("@"):
        return value
    path = Path(value[1:]).expanduser()
    if base is not None and not path.is_absolute():
        path = base / path
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError("no such vocabulary file", path) from None
    except IsADirectoryError:
        raise ConfigError("is a folder, not a vocabulary file", path) from None
    except UnicodeDecodeError:
        raise ConfigError("the vocabulary file is not UTF-8 text", path) from None
    except OSError as e:
        raise ConfigError(f"cannot read the vocabulary file: {e.strerror}", path) from e
