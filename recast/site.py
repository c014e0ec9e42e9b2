"""The revisit site: HTML pages for a session and the library page over all sessions.

Layout of an output folder (OUTDIR):

    OUTDIR/index.html                 library: every session, search across all of them
    OUTDIR/_static/                   CSS and JS shared by every page
    OUTDIR/<slug>/session.json        manifest (written by `recast.manifest`)
    OUTDIR/<slug>/index.html          session page: full recording, chapters, transcript
    OUTDIR/<slug>/chapters/NN-x.html  one page per chapter (a microlearning unit)
    OUTDIR/<slug>/search.js           the session's search index for the library page

Pages must work when opened from disk (`file://`): browsers refuse `<track src>` and
`fetch()` there, so every page embeds the data it needs as JSON in a
`<script type="application/json">` block and builds its caption tracks in script.
The library page loads each session's `search.js` with `<script src>`, which file:// allows.
Nothing on a page points outside the output folder (no CDN, fonts or analytics),
and a Content-Security-Policy in every page keeps it so.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import quote

import jinja2
from markupsafe import Markup

from .errors import OutputError
from .publish import slugify
from .models import Chapter, Segment, Session, TimedText

log = logging.getLogger(__name__)

STATIC_DIR_NAME = "_static"
MANIFEST_NAME = "session.json"
SEARCH_INDEX_NAME = "search.js"
SLIDE_IN_CHAPTER = 3.0  # s: see chapter_slides
SCHEMA_PREFIX = "recast.session/"
SKIP_WAIT = 10.0  # s of waiting before the talk from which the session player starts at the talk

# Labels for the download list; keys are the names `Session.files` uses.
DOWNLOAD_LABELS = {
    "captions.vtt": "Captions (WebVTT)",
    "captions.srt": "Captions (SRT)",
    "transcript.txt": "Transcript (plain text)",
    "transcript.json": "Transcript with word timings (JSON)",
    "chapters.vtt": "Chapters (WebVTT)",
    "chapters.json": "Chapters (Podcasting 2.0 JSON)",
    "youtube-chapters.txt": "Chapters for a YouTube description",
    "chapters.ffmetadata": "Chapters (FFMETADATA, for ffmpeg)",
    "session.json": "Session manifest (JSON)",
}
_CHAPTER_FILE = re.compile(r"^chapter-(\d+)\.(vtt|srt)$")
_LANG = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")


# --------------------------------------------------------------------------- helpers


def templates_dir() -> Path:
    """Where the templates are: inside the installed package (the wheel ships
    `templates/` as `recast/templates`), else the repository's `templates/`."""
    packaged = Path(__file__).resolve().parent / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "templates"


_SCRIPT_JSON_ESCAPES = str.maketrans(
    {
        "<": "\\u003c",  # no `</script>` or `<!--` can end the block early
        ">": "\\u003e",
        "&": "\\u0026",
        "\u2028": "\\u2028",  # line separators are newlines to older JS parsers
        "\u2029": "\\u2029",
    }
)


def script_json(value: Any) -> Markup:
    """`value` as JSON that is safe inside a `<script>` element (or a .js file).

    The escapes keep the JSON valid (JSON.parse reads `\\u003c` as `<`) while no
    sequence in it can close the element or start an HTML comment.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return Markup(text.translate(_SCRIPT_JSON_ESCAPES))


def chapter_page_path(chapter: Chapter) -> str:
    """The chapter page's path relative to the session folder: `chapters/01-intro.html`."""
    return f"chapters/{chapter.index:02d}-{slugify(chapter.title, 48, fallback='chapter')}.html"


def url(path: str | Path | None, prefix: str = "") -> str | None:
    """A relative URL for a relative file path: percent-encoded, with `prefix`
    (`""`, `"../"`, `"../../"`) for the depth of the page that links to it."""
    if path is None or str(path) == "":
        return None
    posix = Path(path).as_posix() if isinstance(path, Path) else str(path).replace("\\", "/")
    return prefix + quote(posix, safe="/")


def format_time(seconds: float) -> str:
    """`75.4` -> `"1:15"`, `3725` -> `"1:02:05"` (what a player's clock shows)."""
    total = max(0, int(seconds))
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def format_duration(seconds: float) -> str:
    """`42` -> `"42 s"`, `330` -> `"5 min"`, `5400` -> `"1 h 30 min"`."""
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{round(seconds)} s"
    minutes = round(seconds / 60)
    h, m = divmod(minutes, 60)
    if h:
        return f"{h} h {m:02d} min" if m else f"{h} h"
    return f"{m} min"


def format_date(value: str | None) -> str:
    """An ISO date or timestamp as `"2 May 2024"`; anything else as given."""
    if not value:
        return ""
    try:
        day = _dt.date.fromisoformat(value[:10])
    except ValueError:
        return value
    months = ("January", "February", "March", "April", "May", "June", "July",
              "August", "September", "October", "November", "December")
    return f"{day.day} {months[day.month - 1]} {day.year}"


def shown_date(given: str | None, built: str | None) -> str:
    """The date a page shows: the session's own (given in a batch list or read from the
    recording), else the build date, said to be one ("Published 2 May 2024")."""
    if given:
        return format_date(given)
    return f"Published {format_date(built)}" if built else ""


def format_size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} bytes"  # pragma: no cover


def page_lang(language: str | None) -> str:
    """The `lang` attribute: the transcript language when it is a plausible tag."""
    if language and _LANG.match(language):
        return language
    return "en"


def _t(x: float) -> float:
    """Times are rounded to centiseconds in embedded data: enough for seeking, half the bytes."""
    return round(float(x), 2)


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same folder, so a
    reader never sees half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fp:
            fp.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise OutputError(f"cannot write: {e.strerror or e}", path) from e
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def static_files() -> list[Path]:
    """The CSS/JS assets every site (and every SCORM package) carries in `_static/`."""
    return [item for item in sorted((templates_dir() / "static").iterdir()) if item.is_file()]


def copy_static(dest: Path) -> None:
    """Copy the CSS/JS assets into `dest` (OUTDIR/_static), replacing changed files."""
    try:
        dest.mkdir(parents=True, exist_ok=True)
        for item in static_files():
            target = dest / item.name
            data = item.read_bytes()
            if target.is_file() and target.read_bytes() == data:
                continue
            fd, tmp = tempfile.mkstemp(prefix=f".{item.name}.", dir=dest)
            with os.fdopen(fd, "wb") as fp:
                fp.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
    except OSError as e:
        raise OutputError(f"cannot copy the site's static files: {e.strerror or e}", dest) from e


@functools.cache
def environment() -> jinja2.Environment:
    """The one Jinja2 environment. Autoescaping is on for every template:
    titles and transcripts are untrusted text."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["time"] = format_time
    env.filters["duration"] = format_duration
    env.filters["date"] = format_date
    env.filters["script_json"] = script_json
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


# --------------------------------------------------------------------------- page data


def segment_line(segment: Segment) -> tuple[str, list[float]]:
    """A transcript line's text and its word timings as a flat list
    `[char offset, start, char offset, start, ...]` (offsets into the text), so a
    search hit can seek to the word itself rather than the start of the line."""
    if not segment.words:
        return " ".join(segment.text.split()), []
    raw = "".join(w.word for w in segment.words)
    lead = len(raw) - len(raw.lstrip())
    text = raw.strip()
    marks: list[float] = []
    pos = 0
    for w in segment.words:
        inner = len(w.word) - len(w.word.lstrip())
        offset = pos + inner - lead
        if w.word.strip() and 0 <= offset < len(text):
            marks.extend((offset, _t(w.start)))
        pos += len(w.word)
    return text, marks


def transcript_lines(segments: Iterable[Segment]) -> list[list[Any]]:
    """`[[start, end, text, word marks], ...]` for the non-empty segments."""
    lines = []
    for seg in segments:
        text, marks = segment_line(seg)
        if text:
            lines.append([_t(seg.start), _t(seg.end), text, marks])
    return lines


@dataclass(frozen=True)
class ChapterView:
    """What a template needs about one chapter; URLs relative to the session folder."""

    index: int
    title: str
    start: float
    end: float
    summary: str
    key_points: tuple[str, ...]
    keywords: tuple[str, ...]
    page: str  # chapters/NN-x.html
    thumbnail: str | None
    clip: str | None
    clip_kind: str
    clip_start: float
    captions_vtt: str | None
    captions_srt: str | None

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Download:
    label: str
    href: str  # relative to the session folder
    size: str = ""


@dataclass(frozen=True)
class QuestionView:
    time: float
    text: str
    answer_start: float
    answer_end: float
    answer: str


@dataclass(frozen=True)
class SessionView:
    """The context of session.html and chapter.html (besides the per-page fields)."""

    slug: str
    title: str
    lang: str
    duration: float
    date: str
    presenter: str
    course: str
    summary: str
    key_points: tuple[str, ...]
    keywords: tuple[str, ...]
    chapters: tuple[ChapterView, ...]
    questions: tuple[QuestionView, ...]
    downloads: tuple[Download, ...]
    chapter_downloads: tuple[tuple[ChapterView, tuple[Download, ...]], ...]
    player: str | None
    player_kind: str  # "video", "audio" or "none"
    poster: str | None
    player_start: float  # where the player starts: the talk, past a long wait before it
    lines: list[list[Any]] = field(repr=False)
    cues: list[list[Any]] = field(repr=False)
    slides: tuple[TimedText, ...] = ()  # what each slide said while it was shown


def _file_size(folder: Path, rel: str | None) -> str:
    if not rel:
        return ""
    try:
        return format_size((folder / rel).stat().st_size)
    except OSError:
        return ""


def session_view(session: Session, folder: Path) -> SessionView:
    thumbs = {t.chapter: t for t in session.thumbnails}
    clips = {c.chapter: c for c in session.clips}
    files = dict(session.files)
    chapters = []
    for ch in session.chapters:
        clip = clips.get(ch.index)
        clip_path = clip.path if clip is not None and clip.kind != "none" else None
        thumb = thumbs.get(ch.index)
        chapters.append(
            ChapterView(
                index=ch.index,
                title=ch.title,
                start=ch.start,
                end=ch.end,
                summary=ch.summary,
                key_points=tuple(ch.key_points),
                keywords=tuple(ch.keywords),
                page=chapter_page_path(ch),
                thumbnail=url(thumb.path) if thumb else None,
                clip=url(clip_path),
                clip_kind=(clip.kind if clip_path is not None else "none") if clip else "none",
                clip_start=clip.start if clip_path is not None else 0.0,
                captions_vtt=url(files.get(f"chapter-{ch.index}.vtt")),
                captions_srt=url(files.get(f"chapter-{ch.index}.srt")),
            )
        )

    player = url(session.player)
    player_kind = "none"
    if session.player is not None:
        player_kind = "audio" if session.media.is_audio_only else "video"

    downloads = []
    if session.player is not None:
        suffix = Path(session.player).suffix.lstrip(".").upper() or "media"
        downloads.append(Download(f"Full recording ({suffix})", player, _file_size(folder, str(session.player))))
    ordered = [k for k in DOWNLOAD_LABELS if k in files] + sorted(
        k for k in files if k not in DOWNLOAD_LABELS and not _CHAPTER_FILE.match(k)
    )
    for key in ordered:
        downloads.append(Download(DOWNLOAD_LABELS.get(key, key), url(files[key]), _file_size(folder, files[key])))

    chapter_downloads = []
    for view in chapters:
        items = []
        if view.clip:
            kind = "audio" if view.clip_kind == "audio" else "video"
            items.append(Download(f"Clip ({kind})", view.clip, _file_size(folder, clips[view.index].path and str(clips[view.index].path))))
        if view.captions_vtt:
            items.append(Download("Captions (WebVTT)", view.captions_vtt))
        if view.captions_srt:
            items.append(Download("Captions (SRT)", view.captions_srt))
        if items:
            chapter_downloads.append((view, tuple(items)))

    outline = session.outline
    questions = tuple(
        QuestionView(q.time, q.text, q.answer_start, q.answer_end, q.answer) for q in outline.questions
    )
    poster = thumbs.get(0)
    meta = session.metadata or {}
    return SessionView(
        slug=session.slug,
        title=session.title,
        lang=page_lang(session.transcript.language),
        duration=session.media.duration,
        date=shown_date(meta.get("date"), session.created),
        presenter=meta.get("presenter", ""),
        course=meta.get("course", ""),
        summary=outline.summary,
        key_points=tuple(outline.key_points),
        keywords=tuple(outline.keywords),
        chapters=tuple(chapters),
        questions=questions,
        downloads=tuple(downloads),
        chapter_downloads=tuple(chapter_downloads),
        player=player,
        player_kind=player_kind,
        poster=url(poster.path) if poster else None,
        # A learner who presses play wants the talk, not the minutes of waiting before
        # it; the transcript and a seek still reach them.
        player_start=_t(outline.talk_start) if outline.talk_start >= SKIP_WAIT else 0.0,
        lines=transcript_lines(session.transcript.segments),
        cues=[[_t(c.start), _t(c.end), c.text] for c in session.cues if c.text.strip()],
        slides=session.slides,
    )


def _chapter_data(view: SessionView, prefix: str = "") -> list[dict[str, Any]]:
    return [
        {"index": c.index, "title": c.title, "start": _t(c.start), "end": _t(c.end), "page": prefix + c.page}
        for c in view.chapters
    ]


def session_page_data(view: SessionView) -> dict[str, Any]:
    """What the session page's script reads from its embedded JSON."""
    return {
        "page": "session",
        "slug": view.slug,
        "lang": view.lang,
        "duration": _t(view.duration),
        "chapters": _chapter_data(view),
        "lines": view.lines,
        "slides": slide_lines(view.slides),
        "cues": view.cues,
    }


def chapter_page_data(view: SessionView, chapter: ChapterView) -> dict[str, Any]:
    """The chapter page's data. Times stay on the source timeline; `offset` is
    where the played media starts on it (the clip's cut time, or 0 for the full
    recording played with a `#t=start,end` fragment)."""
    offset = chapter.clip_start if chapter.clip else 0.0
    lines = [ln for ln in view.lines if chapter.start <= ln[0] < chapter.end]
    cues = [c for c in view.cues if c[1] > chapter.start and c[0] < chapter.end]
    return {
        "page": "chapter",
        "slug": view.slug,
        "lang": view.lang,
        "chapter": chapter.index,
        "start": _t(chapter.start),
        "end": _t(chapter.end),
        "offset": _t(offset),
        "chapters": _chapter_data(view, "../"),
        "lines": lines,
        "slides": slide_lines(chapter_slides(view, chapter)),
        "cues": cues,
    }


def chapter_slides(view: SessionView, chapter: ChapterView) -> list[TimedText]:
    """The slides on screen during the chapter; one put up before it starts counts
    from the chapter's start. A chapter ends in the pause before the next one's first
    sentence, which may come a moment after the next slide went up: a slide must be
    shown for SLIDE_IN_CHAPTER of the chapter to be one of its slides."""
    return [TimedText(max(sl.start, chapter.start), sl.end, sl.text) for sl in view.slides
            if min(sl.end, chapter.end) - max(sl.start, chapter.start) >= SLIDE_IN_CHAPTER]


def slide_lines(slides: Iterable[TimedText]) -> list[list[Any]]:
    """[start, text] of each slide for the pages' search: one search line a slide, its
    lines joined, so that a query may match across them."""
    return [[_t(sl.start), " \u00b7 ".join(sl.text.splitlines())] for sl in slides]


def search_index(view: SessionView) -> dict[str, Any]:
    """The session's entry in the library's cross-session search."""
    return {
        "slug": view.slug,
        "title": view.title,
        "summary": view.summary,
        "keywords": list(view.keywords),
        "chapters": [[_t(c.start), c.title] for c in view.chapters],
        "lines": [[ln[0], ln[2]] for ln in view.lines],
        "slides": slide_lines(view.slides),
    }


# --------------------------------------------------------------------------- writers


def write_session_pages(session: Session, folder: Path) -> None:
    """Write a session's pages into `folder` (OUTDIR/<slug>): `index.html`, one page
    per chapter under `chapters/`, and `search.js` for the library. The pages use
    the shared assets in OUTDIR/_static, which `copy_static` puts there before a
    session is published (the pipeline does it) and `write_library` refreshes."""
    folder = Path(folder)
    view = session_view(session, folder)

    html = render("session.html", s=view, lang=view.lang, static="../" + STATIC_DIR_NAME + "/", root="../",
                  data=session_page_data(view))
    write_text_atomic(folder / "index.html", html)

    pages = set()
    for i, chapter in enumerate(view.chapters):
        prev_ch = view.chapters[i - 1] if i > 0 else None
        next_ch = view.chapters[i + 1] if i + 1 < len(view.chapters) else None
        media = None
        if chapter.clip:
            media = "../" + chapter.clip
        elif view.player:
            # The full recording limited to the chapter by a media fragment.
            media = f"../{view.player}#t={_t(chapter.start):g},{_t(chapter.end):g}"
        kind = ("audio" if chapter.clip_kind == "audio" else "video") if chapter.clip else view.player_kind
        html = render(
            "chapter.html", s=view, lang=view.lang, c=chapter, prev=prev_ch, next=next_ch, media=media,
            slides=[(sl.start, sl.text.splitlines()) for sl in chapter_slides(view, chapter)],
            media_kind=kind if media else "none", static="../../" + STATIC_DIR_NAME + "/",
            root="../../", data=chapter_page_data(view, chapter),
        )
        write_text_atomic(folder / chapter.page, html)
        pages.add((folder / chapter.page).name)

    # A rebuild with other chapters must not leave the old pages behind.
    chapters_dir = folder / "chapters"
    if chapters_dir.is_dir():
        for old in chapters_dir.glob("*.html"):
            if old.name not in pages and re.match(r"^\d+-[a-z0-9-]*\.html$", old.name):
                old.unlink()

    index = "(window.RECAST_SEARCH = window.RECAST_SEARCH || []).push(" + script_json(search_index(view)) + ");\n"
    write_text_atomic(folder / SEARCH_INDEX_NAME, index)


def load_manifest(path: Path) -> dict[str, Any]:
    """Read a session.json, checking that it is one (raises OutputError)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise OutputError(f"cannot read the session manifest: {e}", path) from e
    if not isinstance(data, dict) or not str(data.get("schema", "")).startswith(SCHEMA_PREFIX):
        raise OutputError("not a recast session manifest (no recast.session schema)", path)
    return data


@dataclass(frozen=True)
class LibraryCard:
    """One session on the library page; URLs relative to OUTDIR."""

    slug: str
    title: str
    href: str
    poster: str | None
    date: str
    sort_date: str
    presenter: str
    course: str
    duration: float
    chapter_count: int
    summary: str
    keywords: tuple[str, ...]
    search: str | None
    chapters: tuple[dict[str, Any], ...]


def library_card(folder: Path, data: dict[str, Any]) -> LibraryCard:
    base = quote(folder.name, safe="") + "/"
    meta = data.get("metadata") or {}
    chapters = []
    for ch in data.get("chapters") or []:
        chapters.append({
            "index": int(ch.get("index", len(chapters) + 1)),
            "start": _t(ch.get("start") or 0.0),
            "end": _t(ch.get("end") or 0.0),
            "page": url(ch.get("page"), base) if ch.get("page") else None,
        })
    source = data.get("source") or {}
    date = str(meta.get("date") or data.get("created") or "")
    return LibraryCard(
        slug=str(data.get("slug") or folder.name),
        title=str(data.get("title") or folder.name),
        href=base + "index.html",
        poster=url(data["poster"], base) if data.get("poster") else None,
        date=shown_date(meta.get("date"), data.get("created")),
        sort_date=date,
        presenter=str(meta.get("presenter") or ""),
        course=str(meta.get("course") or ""),
        duration=float(source.get("duration") or 0.0),
        chapter_count=len(chapters),
        summary=str(data.get("summary") or ""),
        keywords=tuple(str(k) for k in data.get("keywords") or ()),
        search=base + SEARCH_INDEX_NAME if (folder / SEARCH_INDEX_NAME).is_file() else None,
        chapters=tuple(chapters),
    )


def library_cards(outdir: Path) -> list[LibraryCard]:
    """Every session in OUTDIR, newest first; folders with a broken manifest are skipped."""
    cards = []
    for manifest in sorted(Path(outdir).glob(f"*/{MANIFEST_NAME}")):
        if manifest.parent.name.startswith("."):
            continue  # a session being written (atomic publish) or a hidden folder
        try:
            cards.append(library_card(manifest.parent, load_manifest(manifest)))
        except (OutputError, TypeError, ValueError, KeyError) as e:
            log.warning("skipping %s in the library: %s", manifest.parent, e)
    cards.sort(key=lambda c: c.title.lower())
    cards.sort(key=lambda c: c.sort_date, reverse=True)
    return cards


def write_library(outdir: Path) -> None:
    """(Re)write OUTDIR/index.html from every OUTDIR/*/session.json, and the shared assets."""
    outdir = Path(outdir)
    cards = library_cards(outdir)
    copy_static(outdir / STATIC_DIR_NAME)
    write_text_atomic(outdir / "index.html", library_html(cards))


def library_html(cards: list[LibraryCard]) -> str:
    """The library page over `cards` (hrefs relative to the page's folder)."""
    courses = sorted({c.course for c in cards if c.course}, key=str.lower)
    groups: list[tuple[str, list[LibraryCard]]] = []
    if courses:
        for course in courses:
            groups.append((course, [c for c in cards if c.course == course]))
        rest = [c for c in cards if not c.course]
        if rest:
            groups.append(("", rest))
    else:
        groups.append(("", cards))
    data = {
        "page": "library",
        "sessions": [
            {"slug": c.slug, "title": c.title, "href": c.href, "search": c.search, "course": c.course,
             "chapters": list(c.chapters)}
            for c in cards
        ],
    }
    total = sum(c.duration for c in cards)
    return render("library.html", lang="en", cards=cards, groups=groups, courses=courses, total=total,
                  static=STATIC_DIR_NAME + "/", root="", data=data)
