"""session.json and transcript.json: the machine-readable output contract.

Schema `recast.session/1` (documented in README.md). Every path is relative to
session.json; every time is seconds from the start of the source recording.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any

from .models import Segment, Session, Transcript, Word

SCHEMA = "recast.session/1"
TRANSCRIPT_SCHEMA = "recast.transcript/1"


def _t(x: float) -> float:
    return round(float(x), 3)


def transcript_to_dict(t: Transcript) -> dict[str, Any]:
    return {
        "schema": TRANSCRIPT_SCHEMA,
        "language": t.language,
        "language_probability": None if t.language_probability is None else round(t.language_probability, 4),
        "engine": t.engine,
        "model": t.model,
        "duration": _t(t.duration),
        "segments": [
            {
                "start": _t(s.start),
                "end": _t(s.end),
                "text": s.text.strip(),
                **({"speaker": s.speaker} if s.speaker else {}),
                "words": [
                    {"start": _t(w.start), "end": _t(w.end), "word": w.word, "probability": round(w.probability, 4)}
                    for w in s.words
                ],
            }
            for s in t.segments
        ],
    }


def transcript_from_dict(d: dict[str, Any]) -> Transcript:
    return Transcript(
        segments=tuple(
            Segment(
                start=s["start"],
                end=s["end"],
                text=s["text"],
                words=tuple(Word(w["start"], w["end"], w["word"], w.get("probability", 1.0)) for w in s.get("words", ())),
                speaker=s.get("speaker"),
            )
            for s in d["segments"]
        ),
        language=d.get("language") or "en",
        language_probability=d.get("language_probability"),
        engine=d.get("engine", ""),
        model=d.get("model", ""),
        duration=d.get("duration", 0.0),
    )


def session_to_dict(session: Session, *, build: dict[str, Any] | None = None) -> dict[str, Any]:
    """The session.json document. `session.files` names every other file."""
    from .site import chapter_page_path

    o = session.outline
    clips = {c.chapter: c for c in session.clips}
    thumbs = {t.chapter: t for t in session.thumbnails}
    poster = thumbs.get(0)
    tr = session.transcript
    chapters = []
    for ch in o.chapters:
        clip = clips.get(ch.index)
        thumb = thumbs.get(ch.index)
        chapters.append(
            {
                "index": ch.index,
                "title": ch.title,
                "title_source": ch.title_source,
                "start": _t(ch.start),
                "end": _t(ch.end),
                "duration": _t(ch.duration),
                "summary": ch.summary,
                "key_points": list(ch.key_points),
                "keywords": list(ch.keywords),
                "clip": clip.path.as_posix() if clip and clip.path else None,
                "clip_start": _t(clip.start) if clip else _t(ch.start),
                "clip_end": _t(clip.end) if clip else _t(ch.end),
                "captions": {
                    "vtt": session.files.get(f"chapter-{ch.index}.vtt"),
                    "srt": session.files.get(f"chapter-{ch.index}.srt"),
                },
                "thumbnail": thumb.path.as_posix() if thumb else None,
                "page": chapter_page_path(ch),
            }
        )
    audio = session.media.audio_streams[session.audio_track] if session.media.audio_streams else None
    return {
        "schema": SCHEMA,
        "slug": session.slug,
        "title": session.title,
        "created": session.created,
        "source": {
            "file": session.media.path.name,
            "sha256": session.source_sha256,
            "duration": _t(session.media.duration),
            "size": session.media.size,
            "format": session.media.format_name,
            "video": (
                {"codec": session.media.video_codec, "width": session.media.width, "height": session.media.height,
                 "fps": round(session.media.fps, 3)}
                if session.media.has_video else None
            ),
            "audio_track": session.audio_track,
            "audio": {"codec": audio.codec, "channels": audio.channels, "sample_rate": audio.sample_rate} if audio else None,
        },
        "language": tr.language,
        "language_probability": None if tr.language_probability is None else round(tr.language_probability, 4),
        "engine": {"name": tr.engine, "model": tr.model},
        "talk": {"start": _t(o.talk_start), "end": _t(o.talk_end)},
        "chapters_from": o.chapters_given or "recast",
        "summary": o.summary,
        "key_points": list(o.key_points),
        "keywords": list(o.keywords),
        "poster": poster.path.as_posix() if poster else None,
        "player": session.player.as_posix() if session.player else None,
        "metadata": dict(session.metadata),
        "chapters": chapters,
        "questions": [
            {"time": _t(q.time), "text": q.text, "answer_start": _t(q.answer_start), "answer_end": _t(q.answer_end),
             "answer": q.answer}
            for q in o.questions
        ],
        "slides": [{"start": _t(sl.start), "end": _t(sl.end), "text": sl.text} for sl in session.slides],
        "transcript": session.files.get("transcript.json", "transcript.json"),
        "files": dict(session.files),
        **({"build": build} if build else {}),
    }


def dump_json(data: Any, fp: IO[str]) -> None:
    json.dump(data, fp, ensure_ascii=False, indent=1)
    fp.write("\n")


def write_json_atomic(data: Any, path: Path) -> None:
    """Write JSON next to its final name, then rename, so readers never see half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as fp:
        dump_json(data, fp)
    os.replace(tmp, path)


def read_manifest(path: Path) -> dict[str, Any]:
    with Path(path).open(encoding="utf-8") as fp:
        data = json.load(fp)
    if data.get("schema") != SCHEMA:
        raise ValueError(f"{path}: not a recast session manifest (schema {data.get('schema')!r})")
    return data
