"""The whole run for one recording: probe → audio → transcribe (+ video analysis
alongside) → chapters → summaries → captions → clips + thumbnails → pages →
publish. Everything is collected into a `Session` before any page is written,
and the session folder appears in OUTDIR only when complete.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from . import __version__
from .config import TRANSCRIPT_BESIDE, Options
from .errors import OutputError, RecastError
from .models import ChapterMarks, Clip, Session, Thumbnail, TimedText, Transcript, VideoAnalysis
from .names import name_facts
from .progress import ProgressEvent, ProgressFn
from .publish import (
    WORK_DIR, OutdirLock, check_disk_error, choose_slug, clear_stale_work, discard, make_outdir, new_work_dir, publish,
    remove_work_root,
)
from .text import amount_said, unpunctuated

if TYPE_CHECKING:
    from .slides import ReadSlide

log = logging.getLogger(__name__)

# In a session's work folder, never published: the decoded audio (a file the
# speech engine reads) and the video analysis's stills.
SCRATCH = ".scratch"

TRANSCRIPT_CACHE_VERSION = 3  # bump when the stored transcript format or post-processing changes


@dataclass
class BuildResult:
    folder: Path
    session: Session
    timings: dict[str, float] = field(default_factory=dict)
    transcript_reused: bool = False
    fast_cues: int = 0  # caption cues above 20 characters a second


class _Stages:
    def __init__(self, progress: ProgressFn | None, item: str):
        self.progress = progress
        self.item = item
        self.timings: dict[str, float] = {}

    def emit(self, stage: str, **kw: Any) -> None:
        if self.progress is not None:
            self.progress(ProgressEvent(stage, item=self.item, **kw))

    @contextmanager
    def stage(self, name: str, message: str = "") -> Iterator[dict[str, str]]:
        self.emit(name, message=message)
        start = time.perf_counter()
        note: dict[str, str] = {}
        yield note
        elapsed = time.perf_counter() - start
        self.timings[name] = self.timings.get(name, 0.0) + elapsed
        self.emit(name, finished=True, seconds=elapsed, message=note.get("message", ""))


NO_SPEECH = "no speech found (silent, or nothing recognisable as speech): the session has no transcript"


def _cache_file(options: Options, folder: str, key: dict[str, Any]) -> Path:
    """The cache entry for `key` (everything its content depends on) in `folder`."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
    return options.cache_dir / folder / digest[:2] / f"{digest}.json"


def _store(path: Path, data: dict[str, Any], what: str) -> None:
    """Write a cache entry; a cache we cannot write is not worth failing the run."""
    from .manifest import write_json_atomic

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(data, path)
    except OSError as e:
        log.warning("could not cache the %s in %s: %s", what, path.parent, e)


def transcript_cache_path(options: Options, audio_sha256: str, slides: str | None = None) -> Path:
    """`slides`: what the words read on the slides depend on, when they steer recognition."""
    return _cache_file(options, "transcripts", {"v": TRANSCRIPT_CACHE_VERSION, "audio": audio_sha256,
                                                **options.transcript_key(), **({"slides": slides} if slides else {})})


@dataclass(frozen=True)
class SlideWords:
    """The words on a recording's slides, read only when speech must be recognised."""

    key: str  # what they depend on (the source file, the way they are chosen): part of the cache key
    read: Callable[[], Sequence[TimedText]]


def _slides_cache_path(options: Options, key: str) -> Path:
    return _cache_file(options, "slides", {"v": 1, "slides": key})


def _cached_slides(path: Path) -> tuple[ReadSlide, ...] | None:
    """The slides read by an earlier build of the same recording: a rebuild that
    reuses the transcript does not read them again for search."""
    from .ocr import SlideLine
    from .slides import ReadSlide

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return tuple(ReadSlide(float(s["start"]), float(s["end"]),
                               tuple(SlideLine(str(t), float(c)) for t, c in s["lines"])) for s in data["slides"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as e:
        log.warning("ignoring a damaged slide cache entry %s: %s", path, e)
        return None


def _cache_slides(path: Path, slides: Sequence[ReadSlide]) -> None:
    _store(path, {"slides": [{"start": s.start, "end": s.end, "lines": [[ln.text, ln.confidence] for ln in s.lines]}
                             for s in slides]}, "slides read")


def get_transcript(audio, options: Options, stages: _Stages, slides: SlideWords | None = None) -> tuple[Transcript, bool]:
    """Import, reuse from the cache, or recognise (with `slides` as prompts).
    Returns (transcript, reused)."""
    from .manifest import transcript_from_dict, transcript_to_dict

    if options.transcript_file is not None:
        from .transcript_import import import_transcript

        with stages.stage("transcribe", message=f"importing {options.transcript_file.name}"):
            imported = import_transcript(options.transcript_file, duration=audio.offset + audio.duration)
        if unpunctuated(w.word for seg in imported.segments for w in seg.words):
            log.warning("%s: the transcript has no punctuation (YouTube's automatic captions?), so its sentences are"
                        " cut where the speaker pauses and summaries read without it; without --transcript, recast"
                        " recognises the speech with punctuation", options.transcript_file)
        return imported, False
    cache = transcript_cache_path(options, audio.sha256, slides.key if slides else None)
    if cache.is_file() and not options.force:
        try:
            with stages.stage("transcribe", message="reusing the cached transcript") as note:
                t = transcript_from_dict(json.loads(cache.read_text(encoding="utf-8")))
                note["message"] = "reused from cache"
            return t, True
        except (OSError, ValueError, KeyError) as e:
            log.warning("ignoring a damaged transcript cache entry %s: %s", cache, e)
    from .transcribe import transcribe

    prompts = slides.read() if slides else ()
    with stages.stage("transcribe") as note:
        def on_progress(done: float, total: float) -> None:
            stages.emit("transcribe", done=done, total=total)

        t = transcribe(audio, options, on_progress, prompts)
        note["message"] = f"{amount_said(t)}, {t.language}"
    _store(cache, transcript_to_dict(t), "transcript")
    return t, False


def session_title(source: Path, options: Options, metadata: dict[str, str] | None) -> str:
    title = (options.title or (metadata or {}).get("title") or name_facts(source).title).strip()
    return title or "Untitled session"


def transcript_beside(source: Path, options: Options) -> Options:
    """`options` with `--transcript beside` replaced by the transcript a tool saved
    beside `source` (`names.transcript_beside`), or by none: then speech is recognised."""
    if options.transcript_file != TRANSCRIPT_BESIDE:
        return options
    from .names import transcript_beside as find

    found = find(source, options.language)
    log.info("%s: %s", source, f"using the transcript beside it, {found.name}" if found else "no transcript beside it; recognising the speech")
    return options.replace(transcript_file=found)


def build_key(source_sha256: str, options: Options, title: str, metadata: dict[str, str] | None) -> str:
    """Identifies a build: the same input content with the same settings gives the same key."""
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(options).items()
                if k not in ("force", "cache_dir", "title", "threads")}
    # a transcript or chapter list edited since is another build, though its path is the same
    files = {name: hashlib.sha256(path.read_bytes()).hexdigest()
             for name, path in (("transcript_file", options.transcript_file), ("chapters", options.chapters_file))
             if path is not None and path.is_file()}
    blob = json.dumps({"recast": __version__, "source": source_sha256, "settings": settings, "title": title,
                       "metadata": metadata or {}, **({"files": files} if files else {})}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def find_existing_build(outdir: Path, source: Path, options: Options,
                        metadata: dict[str, str] | None = None, *, sha: str) -> dict[str, Any] | None:
    """The session in `outdir` built from content `sha` with these settings, if any.
    Completion is what session.json records (it is written last), never "a folder exists"."""
    from .publish import slugify
    title = session_title(source, options, metadata)
    key = build_key(sha, options, title, metadata)
    base = slugify(title)
    for folder in sorted(Path(outdir).glob(f"{base}*")):
        try:
            data = json.loads((folder / "session.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if data.get("build", {}).get("key") == key:
            return {"folder": folder.name, "chapters": len(data.get("chapters", [])),
                    "duration": data.get("source", {}).get("duration", 0.0)}
    return None


def process(
    source: str | Path,
    outdir: str | Path,
    options: Options | None = None,
    *,
    progress: ProgressFn | None = None,
    metadata: dict[str, str] | None = None,
    lock: bool = True,
    rebuild_library: bool = True,
    source_sha256: str | None = None,
) -> BuildResult:
    """Build the revisit session for one recording into `outdir` and return what was built.

    Raises RecastError (MediaError, ConfigError, TranscriptionError, OutputError)
    with a one-line message; on any failure nothing is left in `outdir` that was
    not there before.
    """

    options = options or Options()
    source = Path(source)
    outdir = Path(outdir).absolute()  # stages return absolute paths; relative ones are made against this
    try:
        return _process(source, outdir, options, progress, metadata, lock, rebuild_library, source_sha256)
    except RecastError as e:
        if e.path is None:  # a problem of this recording's run ("speech engine crashed"): name it
            e.path = source
        raise


def _process(source: Path, outdir: Path, options: Options, progress: ProgressFn | None, metadata: dict[str, str] | None,
             lock: bool, rebuild_library: bool, source_sha256: str | None) -> BuildResult:
    from .audio import choose_track
    from .probe import file_sha256, probe

    stages = _Stages(progress, item="")
    with stages.stage("probe") as note:
        media = probe(source)
        if options.transcript_file == TRANSCRIPT_BESIDE:
            options = transcript_beside(source, options)
            found = options.transcript_file
            note["message"] = f"transcript beside it: {found.name}" if found else "no transcript beside it: the speech is recognised"
        track = choose_track(media, options.audio_track)
        if len(media.audio_streams) > 1:
            s = media.audio_streams[track]
            note["message"] = (f"using audio track {track} of {len(media.audio_streams)}: {s.codec}, {s.channels} channels"
                               f"{', language ' + s.language if s.language not in (None, 'und') else ''}; --audio-track picks another")
        if options.transcript_file is not None and not options.transcript_file.is_file():
            what = "is a folder, not a transcript file" if options.transcript_file.is_dir() else "no such transcript file"
            raise RecastError(what, options.transcript_file)
        if options.transcript_file is not None:
            from .transcript_import import import_transcript

            # read once now so that a file recast cannot read is said before the
            # audio of a long recording is decoded; it is read again against the
            # audio's own start and length
            import_transcript(options.transcript_file)
        if options.transcript_file is None:
            # a model, language or device that cannot work is said now, not after
            # minutes of decoding a long recording
            from .transcribe import preflight

            preflight(options)
        from .chapter_import import chapter_marks

        marks = chapter_marks(media, options.chapters)  # a bad chapter file, too, is said before any work

    created_outdir = make_outdir(outdir)
    work: Path | None = None
    lock_cm = OutdirLock(outdir) if lock else None
    try:
        if lock_cm:
            lock_cm.__enter__()  # a folder another run is writing to is said before the audio is decoded
            clear_stale_work(outdir)
        sha = source_sha256 or file_sha256(source)  # a batch has hashed it already
        title = session_title(source, options, metadata)
        slug = choose_slug(outdir, title, sha)
        work = new_work_dir(outdir, slug)
        (work / SCRATCH).mkdir()
        result = _build(media, track, sha, title, slug, work, options, stages, metadata or {}, marks)
        with stages.stage("publish"):
            from .site import STATIC_DIR_NAME, copy_static

            # The shared CSS/JS first, so a published session is never without them.
            copy_static(outdir / STATIC_DIR_NAME)
            dest = outdir / slug
            publish(work, dest)
            work = None
            remove_work_root(outdir / WORK_DIR)
            if rebuild_library:
                from .site import write_library

                write_library(outdir)
        result.folder = dest
        result.timings = stages.timings
        return result
    except OSError as e:
        check_disk_error(e, outdir)
        raise OutputError(f"cannot write the output: {e.strerror or e}", getattr(e, "filename", None) or outdir) from e
    finally:
        discard(work)
        if lock_cm:
            lock_cm.__exit__(None, None, None)
            if created_outdir and _only_lock_left(outdir):
                shutil.rmtree(outdir, ignore_errors=True)


def _only_lock_left(outdir: Path) -> bool:
    try:
        return {p.name for p in outdir.iterdir()} <= {".recast.lock", ".recast-work"}
    except OSError:
        return False


def _build(media, track: int, sha, title, slug, work: Path, options: Options, stages: _Stages, metadata,
           marks: ChapterMarks | None = None) -> BuildResult:
    from . import captions as cap
    from .audio import load_audio
    from . import markers
    from .chapters import find_chapters, given_spans
    from .clips import make_clips, make_web_copy
    from .thumbnails import make_thumbnails
    from .manifest import session_to_dict, transcript_to_dict, write_json_atomic
    from .site import write_session_pages
    from .summarize import describe
    from .ocr import available as ocr_available
    from .engine_worker import release_memory
    from .slides import SLIDES_VERSION, SlideReader, read_slides, slide_prompts, slide_text
    from .video import analyze_video

    # Video analysis (scene changes, slide stills, keyframes) starts first and runs
    # beside the audio decoding (an ffmpeg process) and speech recognition. The
    # slides are read with OCR for search; when their words are also to steer
    # recognition, the analysis is waited for first, and the stills are read while
    # it places the changes between them.
    reader = SlideReader(options.threads) if media.has_video and options.ocr and ocr_available() else None
    slides_key = f"{sha}:{SLIDES_VERSION}"
    read: tuple[ReadSlide, ...] | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="recast-video") as pool, ExitStack() as done:
        if reader is not None:
            done.callback(reader.close)
        # set once the video is known to be camera footage (nothing to read) or analysed
        settled = threading.Event()
        # set when this build fails or is interrupted: the analysis stops within a
        # second of video instead of holding the error back until it is done
        stop = threading.Event()
        done.callback(stop.set)
        video_future = pool.submit(_timed, analyze_video, media, work / SCRATCH,
                                   reader.offer if reader else None, settled.set, stop) if media.has_video else None
        if video_future is not None:
            video_future.add_done_callback(lambda _: settled.set())
        video: VideoAnalysis | None = None

        with stages.stage("audio") as note:
            audio = load_audio(media, track, progress=lambda d, t: stages.emit("audio", done=d, total=t),
                               folder=work / SCRATCH)
            note["message"] = f"{audio.duration:.1f} s"

        def wait_for_video(when: str, unless_footage: bool = False) -> VideoAnalysis | None:
            """The analysis, once done; with `unless_footage`, None as soon as the
            video is known to be camera footage, its analysis still running."""
            nonlocal video
            assert video_future is not None
            with stages.stage("video") as note:
                if unless_footage:
                    settled.wait()
                    if not video_future.done():
                        note["message"] = "camera footage, analysed beside transcription"
                        return None
                video, seconds = video_future.result()
                note["message"] = f"{len(video.scene_changes)} scene changes, {seconds:.1f} s {when} transcription"
            # the decoder's frames were freed in the video thread's own heap, which
            # would otherwise hold them through everything that follows
            release_memory()
            return video

        def slides_read(when: str) -> tuple[ReadSlide, ...]:
            """The slides, read once (or found in the cache)."""
            nonlocal read
            assert reader is not None
            if read is None and not options.force:
                read = _cached_slides(_slides_cache_path(options, slides_key))
            if read is not None:
                return read
            reader.start()
            found = wait_for_video(when, unless_footage=True)
            if found is None:
                # Camera footage with rare keyframes is decoded whole, a minute or
                # two an hour: recognition does not wait for slides it has none of.
                with stages.stage("slides") as note:
                    note["message"] = "camera footage: no slides to read"
                read = ()
                return read
            with stages.stage("slides") as note:
                read = read_slides(found, media.duration or float("inf"), reader=reader)
                note["message"] = f"{len(read)} of {len(found.frames)} stills read"
            _cache_slides(_slides_cache_path(options, slides_key), read)
            return read

        words = (SlideWords(slides_key, lambda: slide_prompts(slides_read("before")))
                 if reader is not None and options.slide_vocabulary else None)
        transcript, reused = get_transcript(audio, options, stages, words)
        shown = slide_text(slides_read("alongside")) if reader is not None else ()
        if video_future is not None and video is None:
            video = wait_for_video("alongside")
    if not any(seg.words for seg in transcript.segments):
        # Not an error: a silent screen demo still has its slides to chapter and its
        # video to play, and a muted microphone is better seen on a page than lost.
        others = len(media.audio_streams) - 1
        hint = (f"; audio track {audio.track} was used, and the recording has {others} other"
                f"{'s' if others > 1 else ''}: --audio-track picks another (OBS records the microphone on"
                " a track of its own)") if others else ""
        log.warning("%s: %s%s", media.path, NO_SPEECH, hint)

    with stages.stage("chapters") as note:
        if marks is not None:
            spans = given_spans(transcript, audio, marks)
            note["message"] = f"{len(spans.spans)} chapters, from {marks.source}"
        else:
            spans = find_chapters(transcript, audio, video, options)
            note["message"] = f"{len(spans.spans)} chapters"
    with stages.stage("summarize"):
        outline = describe(transcript, spans, video, options)

    files: dict[str, str] = {}

    def write_text(name: str, writer, *args) -> None:
        with (work / name).open("w", encoding="utf-8", newline="\n") as fp:
            writer(*args, fp)
        files[name] = name

    with stages.stage("captions") as note:
        cues = cap.make_cues(transcript.words, max_chars=cap.line_chars(transcript.language, options.caption_chars),
                             max_lines=options.caption_lines,
                             breaks=[ch.start for ch in outline.chapters[1:]], language=transcript.language)
        stats = cap.caption_stats(cues)
        note["message"] = f"{len(cues)} cues, {stats.over_speed} above 20 characters a second"
        write_text("captions.vtt", cap.write_vtt, cues)
        write_text("captions.srt", cap.write_srt, cues)
        write_text("chapters.vtt", markers.write_vtt_chapters, outline.chapters)
        yt_text, yt_problems = markers.youtube_chapters(outline.chapters)
        (work / "youtube-chapters.txt").write_text(yt_text + "\n", encoding="utf-8")
        files["youtube-chapters.txt"] = "youtube-chapters.txt"
        if yt_problems:
            # Said, not fixed: the chapters are right for learners even when YouTube would reject them.
            note["message"] += f"; youtube-chapters.txt breaks YouTube's rules: {'; '.join(yt_problems)}"
        (work / "chapters.json").write_text(json.dumps(markers.podcast_chapters(outline.chapters), indent=1), encoding="utf-8")
        files["chapters.json"] = "chapters.json"
        ffmeta = io.StringIO()
        markers.write_ffmetadata(outline.chapters, ffmeta, title=title)
        (work / "chapters.ffmetadata").write_text(ffmeta.getvalue(), encoding="utf-8")
        files["chapters.ffmetadata"] = "chapters.ffmetadata"
        write_json_atomic(transcript_to_dict(transcript), work / "transcript.json")
        files["transcript.json"] = "transcript.json"
        (work / "transcript.txt").write_text(_plain_transcript(transcript, outline), encoding="utf-8")
        files["transcript.txt"] = "transcript.txt"

    with stages.stage("clips") as note:
        reused_clips = _reuse_clips(work.parent.parent / slug, sha, outline.chapters, work, options)
        todo = [ch for ch in outline.chapters if ch.index not in reused_clips]
        made = make_clips(media, todo, video, work / "clips", options,
                          progress=lambda d, t: stages.emit("clips", done=d, total=t)) if todo else []
        clips = sorted([*reused_clips.values(), *(_relative_clip(c, work) for c in made)], key=lambda c: c.chapter)
        for clip in clips:
            chapter_cues = cap.slice_cues(cues, clip.start, clip.end)
            stem = (Path(clip.path).with_suffix("") if clip.path else Path("clips") / f"{clip.chapter:02d}").as_posix()
            for ext, writer in (("vtt", cap.write_vtt), ("srt", cap.write_srt)):
                (work / stem).parent.mkdir(parents=True, exist_ok=True)
                with (work / f"{stem}.{ext}").open("w", encoding="utf-8", newline="\n") as fp:
                    writer(chapter_cues, fp)
                files[f"chapter-{clip.chapter}.{ext}"] = f"{stem}.{ext}"
        note["message"] = f"{sum(1 for c in clips if c.path)} clips ({options.clips})" + (
            f", {len(reused_clips)} reused from the previous build" if reused_clips else "")
    with stages.stage("thumbnails"):
        thumbs = [_relative_thumb(t, work) for t in make_thumbnails(media, outline.chapters, video, work / "thumbs")]
    with stages.stage("media") as note:
        player_path = make_web_copy(
            media, work / "media" / "recording",
            chapters_ffmetadata=ffmeta.getvalue() if options.embed_chapters else None,
            audio_track=audio.track,
            modern=options.web_video == "modern",
        )
        player = player_path.relative_to(work) if player_path else None
        note["message"] = str(player) if player else "none"
    shutil.rmtree(work / SCRATCH, ignore_errors=True)

    session = Session(
        slug=slug,
        title=title,
        media=media,
        source_sha256=sha,
        created=datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        transcript=transcript,
        outline=outline,
        cues=tuple(cues),
        clips=tuple(clips),
        thumbnails=tuple(thumbs),
        player=player,
        slides=shown,
        audio_track=audio.track,
        # the date the name (a meeting tool's, a recorder's) or else the container says
        # the session was recorded, unless one was given
        metadata={**({"date": recorded} if (recorded := name_facts(media.path).date or media.recorded) else {}),
                  **metadata},
        files=files,
    )
    with stages.stage("site"):
        write_session_pages(session, work)
        manifest = session_to_dict(session, build={"key": build_key(sha, options, title, metadata), "recast": __version__,
                                                   "options": _options_record(options)})
        write_json_atomic(manifest, work / "session.json")
    return BuildResult(folder=work, session=session, transcript_reused=reused, fast_cues=stats.over_speed)


# Settings that change a clip file; with these and the chapter's times unchanged,
# a rebuild (new caption limits, new titles...) reuses the clip instead of cutting it again.
_CLIP_SETTINGS = ("clips", "smart_cut", "max_height", "audio_track")


def _reuse_clips(previous: Path, sha: str, chapters, work: Path, options: Options) -> dict[int, Clip]:
    """Clips of the build already published at `previous` that this build would cut
    identically, hard-linked (or copied) into the work folder under their new names."""
    from .clips import clip_name

    if options.force or options.clips == "none":
        return {}
    try:
        old = json.loads((previous / "session.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    old_options = old.get("build", {}).get("options", {})
    if old.get("source", {}).get("sha256") != sha or any(
        old_options.get(k) != (str(v) if isinstance(v, Path) else v)
        for k, v in ((k, getattr(options, k)) for k in _CLIP_SETTINGS)
    ):
        return {}
    by_span = {(round(c["start"], 3), round(c["end"], 3)): c for c in old.get("chapters", []) if c.get("clip")}
    reused: dict[int, Clip] = {}
    for ch in chapters:
        found = by_span.get((round(ch.start, 3), round(ch.end, 3)))
        if found is None or not (previous / found["clip"]).is_file():
            continue
        rel = Path("clips") / clip_name(ch, Path(found["clip"]).suffix)
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(previous / found["clip"], work / rel)
        except OSError:
            shutil.copy2(previous / found["clip"], work / rel)
        kind = "audio" if rel.suffix in (".m4a", ".mp3", ".aac") else "video"
        reused[ch.index] = Clip(ch.index, rel, found["clip_start"], found["clip_end"], kind)
    return reused


def _timed(fn, *args):
    start = time.perf_counter()
    value = fn(*args)
    return value, time.perf_counter() - start


def _relative_clip(clip: Clip, work: Path) -> Clip:
    if clip.path is None or not clip.path.is_absolute():
        return clip
    return Clip(clip.chapter, clip.path.relative_to(work), clip.start, clip.end, clip.kind)


def _relative_thumb(t: Thumbnail, work: Path) -> Thumbnail:
    if not t.path.is_absolute():
        return t
    return Thumbnail(t.chapter, t.path.relative_to(work), t.time, t.width, t.height)


def _options_record(options: Options) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(options).items()
            if k not in ("cache_dir", "force")}


def _plain_transcript(transcript: Transcript, outline) -> str:
    """The transcript as text with chapter headings, for reading and search tools."""
    from .captions import format_timestamp

    lines: list[str] = []
    chapters = list(outline.chapters)
    ci = 0
    for seg in transcript.segments:
        while ci < len(chapters) and seg.start >= chapters[ci].start - 0.01:
            lines.append(f"\n## {chapters[ci].title} [{format_timestamp(chapters[ci].start)}]\n")
            ci += 1
        speaker = f"{seg.speaker}: " if seg.speaker else ""
        lines.append(f"[{format_timestamp(seg.start)}] {speaker}{seg.text.strip()}")
    return "\n".join(lines).lstrip("\n") + "\n"
