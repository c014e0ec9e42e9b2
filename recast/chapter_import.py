"""Chapters a person marked, used instead of the ones recast would find.

`--chapters FILE` reads a chapter list in the formats recast writes and the tools
around it write:

- a YouTube description (`0:00 Welcome`, `12:34 - Budgets`, `1:02:03 Q&A`; other
  lines ignored), so that `youtube-chapters.txt`, edited, comes back as it was meant;
- WebVTT chapters (`chapters.vtt`), FFMETADATA (`chapters.ffmetadata`, ffmpeg),
  Podcasting 2.0 JSON (`chapters.json`), a yt-dlp `.info.json`, recast's
  `session.json`, Audacity's exported labels.

Without a file, chapter marks inside the recording are used (Camtasia's markers,
OBS's chapter hotkey, YouTube's chapters embedded by yt-dlp, recast's own player
copy), unless they are what an authoring tool or camera sets by itself: untitled
marks at a fixed interval; else a YouTube video's chapters from the `.info.json`
yt-dlp wrote beside it. `--chapters detect` ignores them all.

Times are seconds on the recording's timeline, as a player shows them. Where a mark
falls is trusted; chapters.py moves it to the pause between the words at it.
"""

from __future__ import annotations

import json
import logging
import re
import statistics
from pathlib import Path
from typing import Any

from .captions import clock_seconds, parse_srt, parse_vtt
from .errors import ConfigError
from .config import chapter_file
from .models import ChapterMarks, GivenChapter, MediaInfo
from .names import ytdlp_info_path
from .transcript_import import decode_text

log = logging.getLogger(__name__)

MAX_LIST_BYTES = 10_000_000  # a yt-dlp info.json with every format listed is 1-2 MB
MAX_GIVEN_TITLE = 100  # characters: YouTube's own limit for a chapter title
# A mark's title that says nothing a learner could use; the chapter gets recast's own
# (yt-dlp names a YouTube chapter without a title "<Untitled Chapter 1>")
GENERIC_TITLE = re.compile(
    r"^<?(?:(?:untitled\s+|unnamed\s+)?(?:chapter|chap|ch|kapitel|chapitre|cap[ií]tulo|capitolo|hoofdstuk|marker|mark|"
    r"unnamed|untitled|scene|track)\.?\s*#?\s*\d*|#?\s*\d+)>?$", re.IGNORECASE)
# Marks every few minutes, all untitled, are an authoring tool's or camera's (a DVD's
# "Chapter 01, 02, ..." every 5 minutes), not where the topics change
EVEN_SPACING = 1.0  # seconds: how far from the median length such marks stay

_CLOCK = r"(?:(\d{1,2}):)?(\d{1,3}):(\d{2})(?:[.,](\d{1,3}))?"
# "0:00 Welcome", "(1:02:03) Q&A", "12:34 - Budgets", "• 5:10 | Wrap-up"
_TIME_FIRST = re.compile(rf"^[^\w(\[]*[(\[]?{_CLOCK}[)\]]?(?:\s*[-–—:|.)]\s*|\s+|$)(.*)$")
# "Welcome - 0:00", "Q&A (1:02:03)"
_TIME_LAST = re.compile(rf"^(.*?\w.*?)\s*[-–—:|]?\s*[(\[]?{_CLOCK}[)\]]?\s*$")
# Audacity's labels: start, end, text, tab-separated, seconds
_LABEL = re.compile(r"^\s*(\d+(?:\.\d+)?)\t(\d+(?:\.\d+)?)\t(.*)$")


def chapter_marks(media: MediaInfo, chapters: str) -> ChapterMarks | None:
    """The chapters a person marked for this recording, or None to find them.

    `chapters`: "auto" (the recording's own marks, if it has any worth using),
    "detect" (always find them), or the path of a chapter file."""
    if (path := chapter_file(chapters)) is not None:
        return ChapterMarks(read_chapter_file(path, duration=media.start_time + media.duration), path.name)
    if chapters == "detect":
        return None
    return recording_marks(media) or _info_json_marks(media)


def recording_marks(media: MediaInfo) -> ChapterMarks | None:
    """The recording's own chapter marks, unless there is only one or they are an
    authoring tool's untitled marks at a fixed interval."""
    marks = media.chapters
    if marks and marks[0].start > media.start_time + 1.0:
        # a mark is where the presenter pressed a hotkey at a change of topic: what
        # came before the first one is a chapter too
        marks = (GivenChapter(media.start_time, marks[0].start, ""), *marks)
    if len(marks) < 2:
        return None
    titled = [m for m in marks if m.title and not GENERIC_TITLE.match(m.title)]
    lengths = [m.end - m.start for m in marks[:-1] if m.end is not None]
    if not titled and len(lengths) >= 2:
        median = statistics.median(lengths)
        if all(abs(n - median) <= EVEN_SPACING for n in lengths):
            log.info("%s: its %d chapter marks are untitled and %.0f s apart, as a camera or DVD sets them: "
                     "chapters are found from the talk", media.path, len(marks), median)
            return None
    return ChapterMarks(tuple(GivenChapter(m.start, m.end, _title(m.title)) for m in marks),
                        "the recording's chapter marks")


def _info_json_marks(media: MediaInfo) -> ChapterMarks | None:
    """The chapters of a YouTube video in the `.info.json` that yt-dlp's
    `--write-info-json` writes beside it, when it has any."""
    info = ytdlp_info_path(media.path)
    if not info.is_file():
        return None
    try:
        marks = read_chapter_file(info, duration=media.start_time + media.duration)
    except ConfigError as e:  # an info.json without chapters, or not yt-dlp's: nothing given
        log.info("%s: no chapters used from it (%s)", info, e)
        return None
    return ChapterMarks(marks, info.name) if len(marks) >= 2 else None


def read_chapter_file(path: Path, *, duration: float | None = None) -> tuple[GivenChapter, ...]:
    """Read a chapter list, or raise ConfigError naming the file and the problem."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError("no such chapter file" if not path.exists() else "is a folder, not a chapter file", path)
    if path.stat().st_size > MAX_LIST_BYTES:  # the recording itself given by mistake, say
        raise ConfigError(f"is {path.stat().st_size / 1e6:.0f} MB: too big for a chapter list", path)
    try:
        text = decode_text(path.read_bytes())
    except OSError as e:
        raise ConfigError(f"cannot read the chapter file: {e.strerror or e}", path) from e
    head = text.lstrip()[:200]
    if head.startswith(";FFMETADATA"):
        marks = _ffmetadata(text, path)
    elif path.suffix.lower() == ".json" or head.startswith(("{", "[")):
        marks = _json(text, path)
    elif head.startswith("WEBVTT") or "-->" in text:
        cues = parse_vtt(text, speakers=False) if head.startswith("WEBVTT") else parse_srt(text, speakers=False)
        marks = [GivenChapter(p.cue.start, p.cue.end, " ".join(p.cue.text.split())) for p in cues]
    elif any(_LABEL.match(line) for line in text.split("\n")):
        marks = [GivenChapter(float(m[1]), float(m[2]) if float(m[2]) > float(m[1]) else None, m[3])
                 for line in text.split("\n") if (m := _LABEL.match(line))]
    else:
        marks = _listing(text)
    if not marks:
        raise ConfigError("no chapters found: expected lines like '0:00 Welcome' (a YouTube description), "
                          "WebVTT or FFMETADATA chapters, or JSON chapters", path)
    marks = sorted((GivenChapter(m.start, m.end, _title(m.title)) for m in marks), key=lambda m: m.start)
    for a, b in zip(marks, marks[1:]):
        if b.start - a.start < 0.5:
            raise ConfigError(f"two chapters start at {_clock(a.start)} ({a.title or 'untitled'!r}, "
                              f"{b.title or 'untitled'!r})", path)
    if duration is not None and duration > 0:
        late = [m for m in marks if m.start >= duration]
        if late:
            raise ConfigError(f"chapter {marks.index(late[0]) + 1} ({late[0].title or 'untitled'!r}) starts at "
                              f"{_clock(late[0].start)}, after the recording ends ({_clock(duration)}): "
                              "is the list for another recording?", path)
    return tuple(marks)


def _title(text: str) -> str:
    text = " ".join(str(text).split())
    if GENERIC_TITLE.match(text):
        return ""
    return text if len(text) <= MAX_GIVEN_TITLE else text[: MAX_GIVEN_TITLE - 1].rstrip() + "…"


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _listing(text: str) -> list[GivenChapter]:
    """Lines with a time and a title, as in a YouTube description; others are not chapters."""
    marks = []
    for line in text.split("\n"):
        line = line.strip()
        if m := _TIME_FIRST.match(line):
            marks.append(GivenChapter(clock_seconds(*m.groups()[:4]), None, m.group(5)))
        elif m := _TIME_LAST.match(line):
            marks.append(GivenChapter(clock_seconds(*m.groups()[1:5]), None, m.group(1)))
    return marks


def _ffmetadata(text: str, path: Path) -> list[GivenChapter]:
    """`[CHAPTER]` blocks with TIMEBASE, START, END and title (ffmpeg's escapes undone)."""
    marks = []
    block: dict[str, str] | None = None

    def close() -> None:
        if block is None:
            return
        try:
            num, den = (int(x) for x in block.get("TIMEBASE", "1/1000000000").split("/"))
            start, end = int(block["START"]) * num / den, int(block["END"]) * num / den
        except (KeyError, ValueError, ZeroDivisionError) as e:
            raise ConfigError(f"a [CHAPTER] without a readable START, END or TIMEBASE ({e})", path) from e
        marks.append(GivenChapter(start, end if end > start else None, block.get("title", "")))

    lines = text.split("\n")
    k = 0
    while k < len(lines):
        line = lines[k]
        while line.endswith("\\") and not line.endswith("\\\\") and k + 1 < len(lines):  # an escaped line end
            k += 1
            line = line[:-1] + "\n" + lines[k]
        k += 1
        if line.startswith((";", "#")) or not line.strip():
            continue
        if line.startswith("["):
            close()
            block = {} if line.strip().upper() == "[CHAPTER]" else None
            continue
        if block is not None and "=" in line:
            key, value = re.split(r"(?<!\\)=", line, maxsplit=1) if re.search(r"(?<!\\)=", line) else (line, "")
            block[key.strip()] = re.sub(r"\\(.)", r"\1", value, flags=re.DOTALL)
    close()
    return marks


def _json(text: str, path: Path) -> list[GivenChapter]:
    """Podcasting 2.0 chapters, yt-dlp's info.json, recast's session.json, or a plain list."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"not valid JSON: {e}", path) from e
    items = data.get("chapters") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ConfigError("JSON chapters must be a list, or an object with a \"chapters\" list", path)
    marks = []
    for item in items:
        if not isinstance(item, dict) or item.get("toc") is False:  # Podcasting 2.0: not in the table of contents
            continue
        start = _number(item, "startTime", "start_time", "start")
        if start is None:
            raise ConfigError(f"a chapter without a start time: {json.dumps(item)[:80]}", path)
        end = _number(item, "endTime", "end_time", "end")
        marks.append(GivenChapter(start, end if end is not None and end > start else None,
                                  str(item.get("title") or item.get("name") or "")))
    return marks


def _number(item: dict[str, Any], *keys: str) -> float | None:
    for key in keys:
        value = item.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            return float(value)
    return None
