"""Chapter markers for players and platforms: WebVTT chapters, YouTube, Podcasting 2.0, FFMETADATA.

Chapters carry source-recording times. Every writer takes an `offset`, the
seconds to subtract, so the same chapters serve the full recording (offset 0)
and a copy trimmed to the talk (offset = talk start). Chapters that end before
the offset are left out; one that straddles it starts at 0.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO

from .captions import format_timestamp
from .models import Chapter

# YouTube's rules for description chapters (support.google.com/youtube/answer/9884579):
# the first at 0:00, at least three, ascending, each at least 10 seconds long.
YOUTUBE_MIN_CHAPTERS = 3
YOUTUBE_MIN_LENGTH = 10  # seconds
YOUTUBE_TITLE_SHOWN = 49  # characters YouTube shows on hover before cutting a title off

PODCAST_CHAPTERS_VERSION = "1.2.0"


def _ms(seconds: float) -> int:
    return max(0, math.floor(seconds * 1000 + 0.5))


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _spans(chapters: Sequence[Chapter], offset: float) -> list[tuple[Chapter, int, int]]:
    """(chapter, start ms, end ms) shifted by `offset`, in time order, never overlapping.

    A chapter that ends where the next starts is the norm; if one runs past the next
    one's start it is cut there, because chapter tracks must not overlap.
    """
    shifted = []
    for ch in sorted(chapters, key=lambda c: (c.start, c.index)):
        start, end = _ms(ch.start - offset), _ms(ch.end - offset)
        if ch.end - offset <= 0:
            continue  # entirely before the part of the recording these markers are for
        shifted.append([ch, start, end])
    for k, span in enumerate(shifted):
        if k + 1 < len(shifted):
            span[2] = min(span[2], shifted[k + 1][1])
        span[2] = max(span[2], span[1] + 1)
    return [(ch, s, e) for ch, s, e in shifted]


def write_vtt_chapters(chapters: Sequence[Chapter], fp: TextIO, *, offset: float = 0.0) -> None:
    """A WebVTT chapters track (`<track kind="chapters">`): one cue per chapter, titled."""
    fp.write("WEBVTT\n")
    for ch, start, end in _spans(chapters, offset):
        title = _one_line(ch.title).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        fp.write(
            f"\nchapter-{ch.index}\n"
            f"{format_timestamp(start / 1000)} --> {format_timestamp(end / 1000)}\n"
            f"{title or f'Chapter {ch.index}'}\n"
        )


def _youtube_time(seconds: int) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def youtube_chapters(
    chapters: Sequence[Chapter],
    *,
    offset: float = 0.0,
    lead_in: str | None = "Welcome",
    pause: str = "Break",
) -> tuple[str, list[str]]:
    """Chapters for a YouTube description, one a line (`0:00 Title`), and what breaks YouTube's rules.

    YouTube needs the first chapter at 0:00. When the first chapter starts later
    (the waiting before a webinar begins), a `lead_in` entry at 0:00 covers the
    gap if it is at least 10 s long; otherwise, or with `lead_in=None`, the first
    chapter is moved to 0:00. A break left out between two chapters gets a `pause`
    entry of its own when it is that long too, since a YouTube chapter runs until
    the next one. Times are whole seconds, rounded down so a link never skips the
    first words. An empty problem list means YouTube will show these as chapters.
    """
    entries: list[tuple[int, str, float]] = []  # (second, title, end in seconds)
    for ch, start, end in _spans(chapters, offset):
        if entries and start // 1000 - math.ceil(entries[-1][2]) >= YOUTUBE_MIN_LENGTH:
            entries.append((math.ceil(entries[-1][2]), _one_line(pause), start / 1000))
        entries.append((start // 1000, _one_line(ch.title) or f"Chapter {ch.index}", end / 1000))
    if not entries:
        return "", ["there are no chapters"]
    first = entries[0][0]
    if first > 0:
        if lead_in and first >= YOUTUBE_MIN_LENGTH:
            entries.insert(0, (0, _one_line(lead_in), float(first)))
        else:
            entries[0] = (0, entries[0][1], entries[0][2])
    problems = []
    if len(entries) < YOUTUBE_MIN_CHAPTERS:
        problems.append(f"YouTube needs at least {YOUTUBE_MIN_CHAPTERS} chapters; there are {len(entries)}")
    for k, (second, title, end) in enumerate(entries):
        nxt = entries[k + 1][0] if k + 1 < len(entries) else end
        if k + 1 < len(entries) and nxt <= second:
            problems.append(f"chapter {k + 1} ({title!r}) does not start after the one before it")
        elif nxt - second < YOUTUBE_MIN_LENGTH:
            length = max(nxt - second, 0)
            problems.append(
                f"chapter {k + 1} ({title!r}) is {length:.0f} s long; YouTube needs at least {YOUTUBE_MIN_LENGTH} s"
            )
    text = "".join(f"{_youtube_time(second)} {title}\n" for second, title, _ in entries)
    return text, problems


def _seconds(ms: int) -> int | float:
    """Seconds for JSON: 12 rather than 12.0, else three decimals."""
    return ms // 1000 if ms % 1000 == 0 else round(ms / 1000, 3)


def podcast_chapters(
    chapters: Sequence[Chapter],
    *,
    img: str | Mapping[int, str] | Callable[[Chapter], str | None] | None = None,
    url: str | Mapping[int, str] | Callable[[Chapter], str | None] | None = None,
    offset: float = 0.0,
) -> dict[str, Any]:
    """Podcasting 2.0 JSON chapters (v1.2.0), ready for `json.dump`.

    `img` and `url` are one value for every chapter, a mapping from chapter index,
    or a function of the chapter; chapters without one get no such key.
    """

    def pick(value, ch: Chapter) -> str | None:
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, Mapping):
            return value.get(ch.index)
        return value(ch)

    out = []
    for ch, start, end in _spans(chapters, offset):
        entry: dict[str, Any] = {
            "startTime": _seconds(start),
            "endTime": _seconds(end),
            "title": _one_line(ch.title) or f"Chapter {ch.index}",
        }
        for key, value in (("img", pick(img, ch)), ("url", pick(url, ch))):
            if value:
                entry[key] = value
        out.append(entry)
    return {"version": PODCAST_CHAPTERS_VERSION, "chapters": out}


def write_podcast_chapters(chapters: Sequence[Chapter], fp: TextIO, **kwargs: Any) -> None:
    """`podcast_chapters` written as UTF-8 JSON (`application/json+chapters`)."""
    json.dump(podcast_chapters(chapters, **kwargs), fp, ensure_ascii=False, indent=2)
    fp.write("\n")


def _ffmeta_escape(value: str) -> str:
    # ffmpeg's metadata format: "=", ";", "#", "\" and newlines are escaped with a backslash.
    out = []
    for c in str(value).replace("\r\n", "\n").replace("\r", "\n"):
        if c in "=;#\\\n":
            out.append("\\")
        out.append(c)
    return "".join(out)


def write_ffmetadata(
    chapters: Sequence[Chapter],
    fp: TextIO,
    *,
    title: str | None = None,
    offset: float = 0.0,
) -> None:
    """An ffmpeg metadata file (`-i chapters.txt -map_metadata 1`) with one [CHAPTER] per chapter."""
    fp.write(";FFMETADATA1\n")
    if title:
        fp.write(f"title={_ffmeta_escape(title)}\n")
    for ch, start, end in _spans(chapters, offset):
        name = ch.title.strip() or f"Chapter {ch.index}"
        fp.write(f"\n[CHAPTER]\nTIMEBASE=1/1000\nSTART={start}\nEND={end}\ntitle={_ffmeta_escape(name)}\n")
