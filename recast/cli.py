"""The command line: parse options, build an `Options`, call the library, and turn a
`RecastError` into one line on stderr and exit status 1. Heavy imports happen
inside the commands so `recast --help` is instant."""

from __future__ import annotations

import logging
import signal
import sys
import traceback
from pathlib import Path
from typing import Any, Callable

import click

from . import __version__
from .config import CHAPTER_SOURCES, CLIP_MODES, DEVICES, ENGINES, TASKS, TRANSCRIPT_BESIDE, WEB_VIDEO, load_options
from .errors import RecastError

log = logging.getLogger("recast")

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s" if verbose else "warning: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    if verbose < 2:  # third-party chatter only at -vv
        for name in ("faster_whisper", "httpx", "urllib3", "asyncio", "PIL", "numba"):
            logging.getLogger(name).setLevel(logging.WARNING)


def verbosity(f: Callable) -> Callable:
    f = click.option("-v", "--verbose", count=True, help="More detail on stderr (-vv for debugging).")(f)
    f = click.option("-q", "--quiet", is_flag=True, help="Nothing on stderr but errors.")(f)
    return f


def run_options(f: Callable) -> Callable:
    """The build options shared by `run` and `batch`."""
    opts = [
        click.option("--title", help="Session title (default: from the file name, or the folder Zoom made for it)."),
        click.option("--engine", type=click.Choice(ENGINES), help="Speech engine. [default: faster-whisper]"),
        click.option("--model", help="Model name (tiny.en, base, small, large-v3, turbo...) or a local model path. "
                                     "[default: the bundled tiny.en on CPU]"),
        click.option("--language", help="Spoken language code (en, de, fr...). [default: detect, or en for .en models]"),
        click.option("--task", type=click.Choice(TASKS), help="'translate' gives English captions of another language."),
        click.option("--device", type=click.Choice(DEVICES), help="Where speech recognition runs. [default: auto]"),
        click.option("--compute-type", help="CTranslate2 compute type (int8, float16, int8_float16...)."),
        click.option("--audio-track", type=click.IntRange(min=0), help="Audio stream to use, counting from 0. [default: 0]"),
        click.option("--vad/--no-vad", default=None, help="Voice-activity detection (skip silence and music). [default: on]"),
        click.option("--vocabulary", help="Names and terms said in the session, comma-separated "
                                          "(\"Agassi, Sampras, Wimbledon\"), or @FILE with one or more a line, "
                                          "so that speech recognition spells them."),
        click.option("--slide-vocabulary/--no-slide-vocabulary", default=None,
                     help="Read the names and terms on the slides (OCR) so that speech recognition spells them. "
                          "[default: on]"),
        click.option("--transcript", "transcript_file", type=click.Path(path_type=Path),
                     help="Use this transcript (WebVTT/SRT from Zoom, Teams or YouTube, a Teams .docx, or Whisper JSON) instead of "
                          "recognising speech; 'beside': the one saved beside each recording (talk.vtt, yt-dlp's talk.en.vtt, "
                          "Zoom's .transcript.vtt), else recognise."),
        click.option("--chapters", metavar="FILE|detect",
                     help="Use these chapters: a list of '0:00 Title' lines (a YouTube description; recast's "
                          "youtube-chapters.txt, edited), WebVTT, FFMETADATA or JSON chapters. 'detect' finds them "
                          "even when the recording has chapter marks of its own. [default: the recording's "
                          "chapter marks if it has any, else found]"),
        click.option("--min-chapter", type=float, help="Shortest chapter in seconds. [default: 30]"),
        click.option("--max-chapter", type=float, help="Longest chapter in seconds, a limit found chapters keep (only a single sentence longer than it runs over); "
                          "a part that titled slides show as one may run to twice this. [default: 480]"),
        click.option("--clips", type=click.Choice(CLIP_MODES), help="encode: frame-accurate clips; copy: stream copy "
                                                                    "snapped to keyframes; none: no clip files. [default: encode]"),
        click.option("--smart-cut/--no-smart-cut", default=None,
                     help="encode mode: re-encode only from each cut to the next keyframe and copy the rest "
                          "(falls back to a full re-encode when the source does not allow it). [default: on]"),
        click.option("--max-height", type=int, help="Scale clips down to at most this many pixels high."),
        click.option("--web-video", type=click.Choice(WEB_VIDEO),
                     help="wide: clips and player copy that every current browser plays, Safari on older iPhones, "
                          "iPads and Macs included (AV1 and VP8 are encoded to H.264). modern: AV1 and VP8 kept as "
                          "they are, seconds instead of an encode of the whole recording, for Chrome, Firefox, Edge "
                          "and Apple's newest devices only. [default: wide]"),
        click.option("--caption-chars", type=int, help="Characters per caption line. [default: 42]"),
        click.option("--caption-lines", type=int, help="Lines per caption. [default: 2]"),
        click.option("--embed-chapters/--no-embed-chapters", default=None,
                     help="Write chapter markers into the player copy of the recording. [default: on]"),
        click.option("--ocr/--no-ocr", default=None, help="Read slide titles from the video. [default: on]"),
        click.option("--llm-url", help="OpenAI-compatible endpoint for abstractive titles and summaries "
                                       "(key from RECAST_LLM_API_KEY). Off by default."),
        click.option("--llm-model", help="Model name at --llm-url."),
        click.option("--config", "config_file", type=click.Path(path_type=Path, exists=True, dir_okay=False),
                     help="Settings file. [default: ./recast.toml if present]"),
        click.option("-f", "--force", is_flag=True, default=None, help="Redo everything, ignoring cached transcripts and slide reads."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def options_from(kwargs: dict[str, Any]):
    config_file = kwargs.pop("config_file", None)
    return load_options(kwargs, config_file)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _fail(e: BaseException, verbose: int) -> None:
    if isinstance(e, RecastError):
        click.echo(f"Error: {e}", err=True)
        sys.exit(1)
    if isinstance(e, KeyboardInterrupt):
        click.echo("Error: interrupted; nothing half-written was kept", err=True)
        sys.exit(130)
    if verbose:
        traceback.print_exc()
    click.echo(f"Error: internal error: {type(e).__name__}: {e} (run with -v for details; please report it)", err=True)
    sys.exit(1)


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="recast")
@verbosity
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """recast turns a recorded live session into chaptered microlearning:
    a transcript, captions, chapter clips and a static revisit site that
    learners browse at their own pace. Everything runs offline.

    \b
    Examples:
      recast run webinar.mp4 -o site
      recast run class.m4a -o site --title "Week 3: Recursion"
      recast serve site
      recast package site/week-3-recursion -o week3.zip
    """
    # SIGTERM (a job scheduler, `kill`) unwinds like Ctrl-C, so work folders and
    # temporary audio files are removed on the way out.
    signal.signal(signal.SIGTERM, _terminate)
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
    ctx.obj["quiet"] = quiet


@main.command(context_settings=CONTEXT)
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("-o", "--output", "outdir", required=True, type=click.Path(path_type=Path),
              help="Output folder; the library page OUTDIR/index.html lists every session in it.")
@run_options
@verbosity
@click.pass_context
def run(ctx: click.Context, input_path: Path, outdir: Path, verbose: int, quiet: bool, **kwargs: Any) -> None:
    """Build the revisit session for one recording.

    Transcribes INPUT (video or audio), finds chapters, cuts clips and
    captions, and writes OUTDIR/<session>/index.html plus session.json.
    A second run on the same recording reuses its transcript.

    \b
    Examples:
      recast run samples/webinar.mp4 -o site
      recast run lecture.mkv -o site --title "Lecture 4" --clips copy
      recast run meeting.mp4 -o site --transcript meeting.vtt
      recast run talk.mp4 -o site --model ~/models/whisper-small-ct2 --language de
    """
    verbose = verbose or ctx.obj.get("verbose", 0)
    quiet = quiet or ctx.obj.get("quiet", False)
    _setup_logging(verbose, quiet)
    from .progress import Reporter

    reporter = Reporter(quiet=quiet)
    try:
        options = options_from(kwargs)
        from .pipeline import process

        result = process(input_path, outdir, options, progress=reporter)
    except BaseException as e:  # noqa: BLE001 - mapped to one line and an exit status
        if isinstance(e, SystemExit):
            raise
        reporter.clear()
        _fail(e, verbose)
        return
    if not quiet:
        s = result.session
        total = sum(result.timings.values())
        rtf = s.media.duration / total if total else 0.0
        from .text import amount_said

        chapters = len(s.chapters)
        click.echo(
            f"{s.title}: {chapters} chapter{'' if chapters == 1 else 's'}, {amount_said(s.transcript)}, "
            f"{s.media.duration / 60:.1f} min of recording in {total:.1f} s ({rtf:.1f}x real time)"
            f"{' - transcript reused' if result.transcript_reused else ''}",
            err=True,
        )
        click.echo(f"Open {result.folder / 'index.html'} (library: {Path(outdir) / 'index.html'})", err=True)


@main.command(context_settings=CONTEXT)
@click.argument("inputs", metavar="INPUT...", nargs=-1, type=click.Path(path_type=Path))
@click.option("--list", "list_file", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="CSV with a 'path' column (relative paths from the CSV's folder) and optional title, presenter, "
                   "date, course, language, vocabulary.")
@click.option("-o", "--output", "outdir", required=True, type=click.Path(path_type=Path), help="Output folder.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Recordings built at the same time on this machine (each worker loads the model once).")
@click.option("--scheduler", help="Run on an existing Dask cluster at this address (tcp://host:8786).")
@run_options
@verbosity
@click.pass_context
def batch(ctx: click.Context, inputs: tuple[Path, ...], list_file: Path | None, outdir: Path, jobs: int,
          scheduler: str | None, verbose: int, quiet: bool, **kwargs: Any) -> None:
    """Build many recordings into one OUTDIR: resumable, and a bad file never stops the rest.

    INPUT may be files or folders (searched recursively for audio and video).
    Sessions already built with the same content and settings are skipped, so
    an interrupted batch resumes where it stopped. OUTDIR/batch-report.json
    lists every recording with its status. Exit status 1 if anything failed.

    \b
    Examples:
      recast batch archive/ -o site --jobs 2
      recast batch --list sessions.csv -o site
      recast batch /shared/recordings -o /shared/site --scheduler tcp://10.0.0.5:8786
    """
    verbose = verbose or ctx.obj.get("verbose", 0)
    quiet = quiet or ctx.obj.get("quiet", False)
    _setup_logging(verbose, quiet)
    from .batch import discover, read_list, run_batch, summary_lines
    from .progress import BatchReporter

    try:
        if not inputs and list_file is None:
            raise click.UsageError("give recordings or folders, or --list FILE")
        if kwargs.get("title"):
            raise click.UsageError("--title names one session; use a --list CSV with a title column in a batch")
        if kwargs.get("transcript_file") not in (None, TRANSCRIPT_BESIDE):
            raise click.UsageError("--transcript FILE belongs to one recording; give it in a transcript column of a --list CSV,"
                                   " or use --transcript beside")
        if kwargs.get("chapters") not in (None, *CHAPTER_SOURCES):
            raise click.UsageError("a chapter list belongs to one recording; give it in a chapters column of a --list CSV")
        options = options_from(kwargs)
        items = (read_list(list_file) if list_file else []) + discover(inputs)
        reporter = BatchReporter(len(items), 0.0, quiet=quiet)
        reports = run_batch(items, outdir, options, jobs=jobs, scheduler=scheduler, progress=reporter)
    except click.UsageError:
        raise
    except BaseException as e:  # noqa: BLE001
        if isinstance(e, SystemExit):
            raise
        _fail(e, verbose)
        return
    for line in summary_lines(reports):
        if not quiet or line.startswith("FAILED"):
            click.echo(line, err=True)
    if any(r.status == "failed" for r in reports):
        sys.exit(1)


@main.command(context_settings=CONTEXT)
@click.argument("session", type=click.Path(path_type=Path))
@click.option("-o", "--output", "output", type=click.Path(path_type=Path),
              help="The .zip to write. [default: SESSION's folder name + -scorm.zip, in the current folder]")
@verbosity
@click.pass_context
def package(ctx: click.Context, session: Path, output: Path | None, verbose: int, quiet: bool) -> None:
    """Package one built session (OUTDIR/<session>) as a SCORM 1.2 zip for an LMS.

    Upload the zip to Moodle, Canvas, Blackboard or any SCORM 1.2 LMS: learners
    get the same pages, and the LMS records each learner's progress and marks the
    activity completed when every chapter is done.

    \b
    Example:
      recast package site/week-3-recursion -o week3.zip
    """
    _setup_logging(verbose or ctx.obj.get("verbose", 0), quiet or ctx.obj.get("quiet", False))
    from .scorm import package_session

    try:
        made = package_session(session, output or Path(f"{session.resolve().name}-scorm.zip"))
    except BaseException as e:
        _fail(e, verbose)
    if not (quiet or ctx.obj.get("quiet", False)):
        click.echo(f"{made.path}: SCORM 1.2 package of \"{made.title}\", {made.files} files, {made.size / 1e6:.1f} MB")


@main.command(context_settings=CONTEXT)
@click.argument("outdir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port (0 picks a free one).")
@verbosity
@click.pass_context
def serve(ctx: click.Context, outdir: Path, host: str, port: int, verbose: int, quiet: bool) -> None:
    """Serve OUTDIR on a local web server (the pages also work opened from disk).

    \b
    Example:
      recast serve site --port 8080
    """
    _setup_logging(verbose or ctx.obj.get("verbose", 0), quiet or ctx.obj.get("quiet", False))
    from .serve import serve as _serve

    try:
        _serve(outdir, host=host, port=port)
    except KeyboardInterrupt:
        pass
    except OSError as e:
        click.echo(f"Error: {host}:{port}: cannot listen: {e.strerror or e}", err=True)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
