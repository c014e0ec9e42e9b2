"""A realistic session built by hand, for the site and browser tests.

`build_session` writes what the pipeline would leave in OUTDIR/<slug>: a short real
MP4 (ffmpeg lavfi test pattern with a tone), two chapter clips (the third chapter
has none, so its page plays the full recording with a media fragment), WebP
thumbnails, caption and transcript downloads, session.json in the manifest
shape, and then the pages through `recast.site.write_session_pages`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

from recast.ffmpeg import ffmpeg_exe
from recast.models import (
    AudioStream,
    Chapter,
    Clip,
    Cue,
    MediaInfo,
    Outline,
    Question,
    Segment,
    Session,
    Thumbnail,
    TimedText,
    Transcript,
    Word,
)
from recast.site import chapter_page_path, write_session_pages

XSS = '</script><img src=x onerror="window.__xss=1;alert(1)">'
DURATION = 60.0  # seconds of synthetic recording
SLIDE_LINK = "https://www.w3.org/WAI/WCAG22/Understanding/captions-prerecorded.html"  # a slide's text, not a request

# Three topics, about 200 words, as a presenter would say them.
TOPICS = (
    (
        "Why captions matter",
        "Welcome everyone and thanks for joining this session on accessible course videos. "
        "Captions help learners who are deaf or hard of hearing, but they also help anyone "
        "watching in a noisy train or a quiet library. Research on engagement shows that "
        "students rewatch short parts of a lecture, and captions make those parts easy to find.",
    ),
    (
        "Writing a transcript people can search",
        "A transcript is more than captions glued together. Think of it as a lighthouse for the "
        "whole recording: a learner scans it, spots the moment they need, and jumps straight "
        "there. Keep speaker names, fix the technical terms the recogniser got wrong, and split "
        "the text into readable paragraphs that follow the structure of the talk.",
    ),
    (
        "Questions and next steps",
        "We have a few minutes for questions. Someone asked how long each clip should be. Aim "
        "for five to eight minutes, one idea per clip, with a clear title. Next week we will "
        "look at quizzes that check understanding after every chapter. Thank you all for "
        "coming, and see you next time.",
    ),
)


def _words(text: str, start: float, end: float) -> tuple[Word, ...]:
    tokens = text.split()
    step = (end - start) / len(tokens)
    return tuple(
        Word(start + i * step, start + (i + 0.85) * step, " " + tok, 0.9) for i, tok in enumerate(tokens)
    )


def make_media(cache: Path) -> Path:
    """A 60 s 160x90 H.264/AAC test recording, encoded once per cache folder."""
    cache.mkdir(parents=True, exist_ok=True)
    out = cache / "recording.mp4"
    if out.is_file():
        return out
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
         "-f", "lavfi", "-i", f"testsrc2=size=160x90:rate=10:duration={DURATION:g}",
         "-f", "lavfi", "-i", f"sine=frequency=440:duration={DURATION:g}",
         "-c:v", "libx264", "-preset", "ultrafast", "-crf", "36", "-pix_fmt", "yuv420p", "-g", "10",
         "-c:a", "aac", "-b:a", "48k", "-movflags", "+faststart", "-shortest", str(out)],
        check=True, timeout=120,
    )
    return out


def _cut(src: Path, dest: Path, start: float, end: float) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-ss", f"{start:.3f}",
         "-i", str(src), "-t", f"{end - start:.3f}", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "36",
         "-c:a", "aac", "-movflags", "+faststart", str(dest)],
        check=True, timeout=120,
    )


def _thumb(path: Path, label: str, hue: int) -> None:
    from PIL import Image, ImageDraw

    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", (320, 180), (30 + hue % 120, 70 + (hue * 3) % 100, 140 + (hue * 7) % 100))
    draw = ImageDraw.Draw(img)
    draw.rectangle((16, 16, 304, 164), outline=(255, 255, 255), width=3)
    draw.text((28, 80), label[:40], fill=(255, 255, 255))
    img.save(path, "WEBP", quality=80)


def _vtt_time(t: float) -> str:
    ms = round(t * 1000)
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _write_vtt(cues, path: Path, shift: float = 0.0) -> None:
    parts = ["WEBVTT", ""]
    for c in cues:
        text = c.text.replace("&", "&amp;").replace("<", "&lt;")
        parts += [f"{_vtt_time(max(0.0, c.start - shift))} --> {_vtt_time(c.end - shift)}", text, ""]
    path.write_text("\n".join(parts), encoding="utf-8")


def _write_srt(cues, path: Path, shift: float = 0.0) -> None:
    parts = []
    for n, c in enumerate(cues, 1):
        a, b = _vtt_time(max(0.0, c.start - shift)).replace(".", ","), _vtt_time(c.end - shift).replace(".", ",")
        parts += [str(n), f"{a} --> {b}", c.text, ""]
    path.write_text("\n".join(parts), encoding="utf-8")


def _cues(segments) -> tuple[Cue, ...]:
    cues = []
    for seg in segments:
        line: list[Word] = []
        for w in seg.words:
            if line and len("".join(x.word for x in line + [w]).strip()) > 42:
                cues.append(Cue(line[0].start, line[-1].end, ("".join(x.word for x in line).strip(),)))
                line = []
            line.append(w)
        if line:
            cues.append(Cue(line[0].start, line[-1].end, ("".join(x.word for x in line).strip(),)))
    return tuple(cues)


def build_session(
    outdir: Path,
    slug: str = "accessible-video",
    title: str = "Accessible course videos",
    *,
    course: str | None = None,
    date: str = "2024-05-02",
    xss: bool = False,
    media_cache: Path | None = None,
    with_media: bool = True,
    spans: tuple[tuple[float, float], ...] = ((2.0, 20.0), (20.0, 40.0), (40.0, 58.0)),
) -> Session:
    """Write a complete synthetic session into outdir/slug and return its Session.

    `with_media=False` skips ffmpeg (no recording or clip files), for fast page tests.
    `spans`: the three chapters' (start, end), a break left between two if wanted."""
    folder = outdir / slug
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "media").mkdir(exist_ok=True)
    if with_media:
        media = make_media(media_cache or outdir.parent / (outdir.name + "-media"))
        shutil.copyfile(media, folder / "media" / "recording.mp4")

    segments, chapters = [], []
    for n, ((chapter_title, text), (a, b)) in enumerate(zip(TOPICS, spans), 1):
        if xss:
            chapter_title = f"{chapter_title} {XSS}"
            text = f"{text} {XSS}" if n == 2 else text
        sentences = [s.strip() + "." for s in text.split(". ") if s.strip()]
        sentences = [s[:-1] if s.endswith("..") else s for s in sentences]
        step = (b - a) / len(sentences)
        for k, sentence in enumerate(sentences):
            s0, s1 = a + k * step, a + (k + 1) * step - 0.2
            words = _words(sentence, s0, s1)
            segments.append(Segment(s0, s1, "".join(w.word for w in words), words))
        chapters.append(
            Chapter(
                index=n, start=a, end=b, title=chapter_title,
                summary=sentences[0] + (" " + sentences[1] if len(sentences) > 1 else ""),
                keywords=tuple(w.strip(".,").lower() for w in chapter_title.split()[:2]),
                key_points=tuple(sentences[1:3]),
            )
        )
    transcript = Transcript(tuple(segments), "en", 0.99, "faster-whisper", "tiny.en", DURATION)
    cues = _cues(segments)
    question = Question(44.0, "How long should each clip be?" + (f" {XSS}" if xss else ""), 45.0, 50.0,
                        "Five to eight minutes, one idea per clip.")
    outline = Outline(
        chapters=tuple(chapters), talk_start=spans[0][0], talk_end=spans[-1][1],
        summary=("A short talk on making course videos accessible: why captions matter, how to write a "
                 "searchable transcript, and how long microlearning clips should be." + (f" {XSS}" if xss else "")),
        key_points=("Captions help every learner, not only those who cannot hear.",
                    "A transcript lets learners jump to the moment they need.",
                    "Keep clips to five to eight minutes, one idea each."),
        keywords=("captions", "transcript", "microlearning") + ((XSS,) if xss else ()),
        questions=(question,),
    )

    files: dict[str, str] = {}
    _write_vtt(cues, folder / "captions.vtt")
    _write_srt(cues, folder / "captions.srt")
    files["captions.vtt"], files["captions.srt"] = "captions.vtt", "captions.srt"
    (folder / "transcript.txt").write_text(transcript.text + "\n", encoding="utf-8")
    files["transcript.txt"] = "transcript.txt"
    (folder / "transcript.json").write_text(json.dumps({
        "language": "en",
        "segments": [{"start": s.start, "end": s.end, "text": s.text,
                      "words": [{"start": w.start, "end": w.end, "word": w.word} for w in s.words]}
                     for s in segments]}), encoding="utf-8")
    files["transcript.json"] = "transcript.json"
    (folder / "chapters.json").write_text(json.dumps({"version": "1.2.0", "chapters": [
        {"startTime": c.start, "endTime": c.end, "title": c.title} for c in chapters]}), encoding="utf-8")
    files["chapters.json"] = "chapters.json"

    clips, thumbs = [], [Thumbnail(0, Path("thumbs/poster.webp"), 5.0, 320, 180)]
    _thumb(folder / "thumbs" / "poster.webp", title, 11)
    for ch in chapters:
        rel = Path(f"thumbs/chapter-{ch.index:02d}.webp")
        _thumb(folder / rel, ch.title, ch.index * 40)
        thumbs.append(Thumbnail(ch.index, rel, ch.start + 1, 320, 180))
        if ch.index < 3:
            clip_rel = Path(f"clips/{ch.index:02d}.mp4")
            if with_media:
                _cut(media, folder / clip_rel, ch.start, ch.end)
            (folder / "clips").mkdir(exist_ok=True)
            clips.append(Clip(ch.index, clip_rel, ch.start, ch.end, "video"))
            in_clip = [replace(c, start=max(c.start, ch.start), end=min(c.end, ch.end))
                       for c in cues if c.end > ch.start and c.start < ch.end]
            _write_vtt(in_clip, folder / f"clips/{ch.index:02d}.vtt", shift=ch.start)
            _write_srt(in_clip, folder / f"clips/{ch.index:02d}.srt", shift=ch.start)
            files[f"chapter-{ch.index}.vtt"] = f"clips/{ch.index:02d}.vtt"
            files[f"chapter-{ch.index}.srt"] = f"clips/{ch.index:02d}.srt"
        else:
            clips.append(Clip(ch.index, None, ch.start, ch.end, "none"))

    recording = folder / "media" / "recording.mp4"
    info = MediaInfo(
        path=recording, size=recording.stat().st_size if recording.exists() else 0,
        format_name="mov,mp4,m4a,3gp,3g2,mj2", duration=DURATION, start_time=0.0,
        audio_streams=(AudioStream(0, 1, "aac", 1, 44100, 0.0, DURATION),),
        has_video=True, width=160, height=90, fps=10.0, video_codec="h264",
    )
    metadata = {"presenter": "Dr. Ada Byron" + (f" {XSS}" if xss else ""), "date": date}
    if course:
        metadata["course"] = course
    session = Session(
        slug=slug, title=title + (f" {XSS}" if xss else ""), media=info, source_sha256="ab" * 32,
        created=f"{date}T10:00:00Z", transcript=transcript, outline=outline, cues=cues,
        clips=tuple(clips), thumbnails=tuple(thumbs), player=Path("media/recording.mp4"),
        metadata=metadata, files=files,
        slides=(TimedText(spans[0][0], spans[1][0], f"Why captions matter\nWCAG 2.2 success criterion 1.2.2\n{SLIDE_LINK}"
                          + (f"\n{XSS}" if xss else "")),),
    )
    write_manifest(session, folder)
    write_session_pages(session, folder)
    return session


def write_manifest(session: Session, folder: Path) -> None:
    """session.json in the shape recast.manifest writes (recast.session/1)."""
    clips = {c.chapter: c for c in session.clips}
    thumbs = {t.chapter: t for t in session.thumbnails}
    o = session.outline
    data = {
        "schema": "recast.session/1",
        "slug": session.slug,
        "title": session.title,
        "created": session.created,
        "source": {"file": session.media.path.name, "sha256": session.source_sha256,
                   "duration": session.media.duration},
        "language": session.transcript.language,
        "engine": {"name": session.transcript.engine, "model": session.transcript.model},
        "summary": o.summary,
        "key_points": list(o.key_points),
        "keywords": list(o.keywords),
        "talk": {"start": o.talk_start, "end": o.talk_end},
        "poster": thumbs[0].path.as_posix() if 0 in thumbs else None,
        "player": session.player.as_posix() if session.player else None,
        "metadata": dict(session.metadata),
        "chapters": [
            {
                "index": c.index, "title": c.title, "start": c.start, "end": c.end, "summary": c.summary,
                "keywords": list(c.keywords), "key_points": list(c.key_points),
                "clip": clips[c.index].path.as_posix() if c.index in clips and clips[c.index].path else None,
                "captions": {"vtt": session.files.get(f"chapter-{c.index}.vtt"),
                             "srt": session.files.get(f"chapter-{c.index}.srt")},
                "thumbnail": thumbs[c.index].path.as_posix() if c.index in thumbs else None,
                "page": chapter_page_path(c),
            }
            for c in session.chapters
        ],
        "questions": [{"time": q.time, "text": q.text, "answer_start": q.answer_start,
                       "answer_end": q.answer_end, "answer": q.answer} for q in o.questions],
        "slides": [{"start": sl.start, "end": sl.end, "text": sl.text} for sl in session.slides],
        "transcript": "transcript.json",
        "files": dict(session.files),
    }
    (folder / "session.json").write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
