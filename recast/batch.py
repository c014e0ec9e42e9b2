"""Batch over archives: many recordings into one OUTDIR, resumable and failure-isolated.

Local runs use `--jobs` worker processes of our own (not a process pool): the
driver hands each worker one recording at a time, so when a worker dies (native
crash, OOM kill, kill -9) it knows exactly which recording to retry, and starts
a fresh worker. Each worker keeps its speech model loaded across recordings.
With `--scheduler`, the same per-recording function runs as Dask tasks on an
existing cluster that shares the input and output storage.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import multiprocessing as mp
import os
import queue
import signal
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from .config import Options, read_vocabulary
from .errors import ConfigError, RecastError
from .names import companion_of
from .progress import ProgressEvent, ProgressFn

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # a transient failure (killed worker, full disk) is tried this many times in all
REPORT = "batch-report.json"

MEDIA_EXTENSIONS = {
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".wmv", ".flv", ".mpg", ".mpeg", ".ts", ".mts", ".m2ts",
    ".3gp", ".ogv", ".m4a", ".mp3", ".wav", ".flac", ".ogg", ".oga", ".opus", ".aac", ".wma", ".aif", ".aiff", ".amr",
}


def sniff_media(path: Path) -> bool:
    """True when the first bytes look like an audio/video container, whatever the name says."""
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    if len(head) < 12:
        return False
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"):
        return True  # ISO BMFF: mp4, mov, m4a, 3gp
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return True  # EBML: mkv, webm
    if head.startswith(b"RIFF") and head[8:12] in (b"WAVE", b"AVI "):
        return True
    if head.startswith((b"OggS", b"fLaC", b"FLV", b"ID3", b"#!AMR", b"FORM", b".RMF", b"\x00\x00\x01\xba")):
        return True
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return True  # ASF: wmv, wma
    if head[0] == 0x47 and len(head) > 376 and head[188] == 0x47 and head[376] == 0x47:
        return True  # MPEG transport stream
    if head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        return True  # MPEG audio / ADTS AAC frame sync
    return False


@dataclass(frozen=True)
class BatchItem:
    path: Path
    title: str | None = None
    presenter: str | None = None
    date: str | None = None
    course: str | None = None
    language: str | None = None
    vocabulary: str | None = None
    transcript: Path | None = None  # a transcript to import instead of recognising speech
    chapters: Path | None = None  # a chapter list (--chapters FILE)

    def metadata(self) -> dict[str, str]:
        return {k: v for k in ("title", "presenter", "date", "course") if (v := getattr(self, k))}


def discover(inputs: Iterable[Path]) -> list[BatchItem]:
    """Files as given; folders searched recursively for media, by extension or by content,
    leaving out a meeting tool's sound-only copies of a video that is there too."""
    seen: set[Path] = set()
    items: list[BatchItem] = []

    def add(p: Path) -> None:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            items.append(BatchItem(p))

    for inp in inputs:
        inp = Path(inp)
        if inp.is_dir():
            for root, dirs, files in os.walk(inp):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    p = Path(root) / name
                    if name.startswith("."):
                        continue
                    if video := companion_of(p, set(files)):
                        # Zoom saves the sound of a meeting again beside its video: one session a meeting
                        log.info("%s: left out, the sound of %s again", p, video)
                        continue
                    if p.suffix.lower() in MEDIA_EXTENSIONS or sniff_media(p):
                        add(p)
        else:
            add(inp)  # named explicitly: always tried, so a bad file is reported, not skipped
    return items


def read_list(path: Path) -> list[BatchItem]:
    """A CSV with a `path` column and optional title, presenter, date, course, language,
    vocabulary, transcript and chapters (files, as `--transcript` and `--chapters`).
    Relative paths are taken relative to the CSV's folder."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            header = [k.strip().lower() for k in reader.fieldnames or () if k]
    except OSError as e:
        raise ConfigError(f"cannot read the list: {e.strerror}", path) from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"the list is not UTF-8 text (byte {e.start}); save it as CSV UTF-8", path) from e
    except csv.Error as e:
        raise ConfigError(f"the list is not valid CSV: {e}", path) from e
    if "path" not in header:
        raise ConfigError("the list needs a header row with a 'path' column", path)
    if not rows:
        raise ConfigError("the list names no recordings (a header row and nothing under it)", path)
    items = []
    for n, row in enumerate(rows, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        if not row.get("path"):
            raise ConfigError(f"line {n}: empty path", path)
        def beside(cell: str) -> Path:
            p = Path(cell).expanduser()
            return p if p.is_absolute() else path.parent / p

        item = BatchItem(beside(row["path"]),
                         *(row.get(k) or None for k in ("title", "presenter", "date", "course", "language", "vocabulary")),
                         *(beside(row[k]) if row.get(k) else None for k in ("transcript", "chapters")))
        if item.vocabulary:  # "@glossary.txt": a file beside the list
            item = dataclasses.replace(item, vocabulary=read_vocabulary(item.vocabulary, base=path.parent))
        items.append(item)
    return items


@dataclass
class ItemReport:
    path: str
    status: str = "pending"  # built, skipped, failed
    reason: str = ""
    attempts: int = 0
    folder: str | None = None
    chapters: int = 0
    duration: float = 0.0  # seconds of recording
    stages: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0  # wall time of the successful attempt


def build_one(item: BatchItem, outdir: str, options: Options, progress: ProgressFn | None = None) -> dict[str, Any]:
    """Build one recording; never raises for a bad recording. Runs in a worker
    process or a Dask task. Returns a dict for the report."""
    from .pipeline import NO_SPEECH, find_existing_build, process, transcript_beside
    from .probe import check_path, file_sha256

    start = time.perf_counter()
    opts = options
    if item.language:
        opts = opts.replace(language=item.language)
    if item.vocabulary:
        opts = opts.replace(vocabulary=item.vocabulary)
    if item.transcript:
        opts = opts.replace(transcript_file=item.transcript)
    if item.chapters:
        opts = opts.replace(chapters=str(item.chapters))
    try:
        check_path(item.path, folder_hint=False)  # a missing or empty file is reported before it is hashed
        sha = file_sha256(item.path)  # once: both the skip check and the build use it
        opts = transcript_beside(item.path, opts)  # the file found is part of what was built
        if not opts.force:
            done = find_existing_build(Path(outdir), item.path, opts, item.metadata(), sha=sha)
            if done is not None:
                return {"status": "skipped", "reason": "already built with the same content and settings",
                        "folder": done["folder"], "chapters": done["chapters"], "duration": done["duration"]}
        result = process(item.path, outdir, opts, progress=progress, metadata=item.metadata(), lock=False,
                         rebuild_library=False, source_sha256=sha)
    except RecastError as e:
        return {"status": "failed", "reason": str(e), "retryable": e.retryable}
    except MemoryError:
        return {"status": "failed", "reason": f"{item.path}: out of memory", "retryable": True}
    except Exception as e:  # a bug must not stop the batch
        log.debug("internal error on %s", item.path, exc_info=True)
        return {"status": "failed", "reason": f"{item.path}: internal error: {type(e).__name__}: {e}",
                "retryable": False, "traceback": traceback.format_exc(limit=5)}
    words = sum(len(seg.words) for seg in result.session.transcript.segments)
    return {
        "status": "built",
        "reason": "" if words else NO_SPEECH,
        "folder": result.folder.name,
        "chapters": len(result.session.chapters),
        "duration": result.session.media.duration,
        "stages": {k: round(v, 3) for k, v in result.timings.items()},
        "seconds": round(time.perf_counter() - start, 3),
    }


# --- local workers -----------------------------------------------------------

def _worker_main(wid: int, inbox: Any, events: Any, outdir: str, options: Options) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver decides when to stop
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="warning: %(message)s")
    while True:
        task = inbox.get()
        if task is None:
            return
        idx, item = task
        _test_crash_hook(item)

        def progress(ev: ProgressEvent, idx: int = idx) -> None:
            if not ev.finished:
                events.put(("stage", wid, idx, ev.stage, ev.done, ev.total))

        result = build_one(item, outdir, options, progress)
        events.put(("result", wid, idx, result))


def _test_crash_hook(item: BatchItem) -> None:
    """For the test suite only: RECAST_TEST_KILL_WORKER=NAME:MARKER makes the worker
    kill itself with SIGKILL on recording NAME once (until MARKER exists), to prove
    that a dead worker's recording is retried."""
    spec = os.environ.get("RECAST_TEST_KILL_WORKER")
    if not spec:
        return
    name, _, marker = spec.partition(":")
    if item.path.name == name and marker and not os.path.exists(marker):
        Path(marker).write_text("killed once\n")
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class _Worker:
    wid: int
    process: Any
    inbox: Any
    item: int | None = None
    stage: str = ""


def run_batch(
    items: list[BatchItem],
    outdir: Path,
    options: Options,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> list[ItemReport]:
    """Build every item into `outdir`; write OUTDIR/batch-report.json; rebuild the library once."""
    from .publish import WORK_DIR, OutdirLock, clear_stale_work, make_outdir, remove_work_root
    from .site import write_library

    if not items:
        raise ConfigError("no recordings found in the given inputs")
    outdir = Path(outdir)
    make_outdir(outdir)
    reports = [ItemReport(str(it.path)) for it in items]
    with OutdirLock(outdir):
        clear_stale_work(outdir)
        started = time.perf_counter()
        try:
            if scheduler:
                _run_dask(items, reports, outdir, options, scheduler, progress)
            else:
                _run_local(items, reports, outdir, options, max(1, jobs), progress)
        finally:
            clear_stale_work(outdir)  # work folders of builds that never finished
            remove_work_root(outdir / WORK_DIR)
            _write_report(outdir, reports, time.perf_counter() - started)
            if any(r.status in ("built", "skipped") for r in reports) or any(outdir.glob("*/session.json")):
                write_library(outdir)
    return reports


def _apply(report: ItemReport, result: dict[str, Any]) -> None:
    report.status = result["status"]
    report.reason = result.get("reason", "")
    for key in ("folder", "chapters", "duration", "stages", "seconds"):
        if key in result:
            setattr(report, key, result[key])


def _run_local(items, reports, outdir: Path, options: Options, jobs: int, progress) -> None:
    ctx = mp.get_context("spawn")  # no inherited threads or model state; safe with ctranslate2
    events = ctx.Queue()
    cores = os.cpu_count() or 1
    # Split the cores between workers so two engines do not fight over them.
    worker_options = options.replace(threads=options.threads or max(1, cores // jobs))
    pending = list(range(len(items)))
    workers: dict[int, _Worker] = {}
    next_wid = 0

    def start_worker() -> None:
        nonlocal next_wid
        inbox = ctx.Queue()
        p = ctx.Process(target=_worker_main, args=(next_wid, inbox, events, str(outdir), worker_options),
                        name=f"recast-worker-{next_wid}")
        p.start()
        workers[next_wid] = _Worker(next_wid, p, inbox)
        next_wid += 1

    def dispatch() -> None:
        for w in workers.values():
            if w.item is None and pending:
                idx = pending.pop(0)
                w.item, w.stage = idx, "starting"
                reports[idx].attempts += 1
                w.inbox.put((idx, items[idx]))

    def notify() -> None:
        if progress:
            progress({"reports": reports, "workers": {w.wid: (items[w.item].path.name if w.item is not None else None,
                                                              w.stage) for w in workers.values()}})

    for _ in range(min(jobs, len(items))):
        start_worker()
    try:
        dispatch()
        while any(w.item is not None for w in workers.values()) or pending:
            try:
                ev = events.get(timeout=0.5)
            except queue.Empty:
                ev = None
            if ev is not None:
                kind, wid, idx = ev[0], ev[1], ev[2]
                w = workers.get(wid)
                if kind == "stage" and w is not None and w.item == idx:
                    w.stage = ev[3]
                    if progress:
                        progress({"event": ProgressEvent(ev[3], ev[4], ev[5], item=items[idx].path.name)})
                elif kind == "result" and w is not None and w.item == idx:
                    result = ev[3]
                    if result["status"] == "failed" and result.get("retryable") and reports[idx].attempts < MAX_ATTEMPTS:
                        log.warning("%s (attempt %d of %d; retrying)", result["reason"], reports[idx].attempts, MAX_ATTEMPTS)
                        pending.append(idx)
                    else:
                        _apply(reports[idx], result)
                    w.item, w.stage = None, ""
                    notify()
            # A worker that died took its recording with it: retry that one elsewhere.
            for wid, w in list(workers.items()):
                if not w.process.is_alive() and w.process.exitcode is not None:
                    code = w.process.exitcode
                    del workers[wid]
                    if w.item is not None:
                        idx = w.item
                        why = f"{items[idx].path}: worker died ({_exit_text(code)})"
                        if reports[idx].attempts < MAX_ATTEMPTS:
                            log.warning("%s; retrying", why)
                            pending.append(idx)
                        else:
                            _apply(reports[idx], {"status": "failed", "reason": why})
                    if pending or any(x.item is not None for x in workers.values()):
                        start_worker()
            if pending and not workers:
                start_worker()
            dispatch()
    finally:
        for w in workers.values():
            if w.process.is_alive():
                w.inbox.put(None)
        deadline = time.monotonic() + 10
        for w in workers.values():
            w.process.join(timeout=max(0.1, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join()
        for r in reports:
            if r.status == "pending":
                r.status, r.reason = "failed", "interrupted before it finished"


def _exit_text(code: int | None) -> str:
    if code is None:
        return "unknown"
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit status {code}"


# --- Dask --------------------------------------------------------------------

def _run_dask(items, reports, outdir: Path, options: Options, scheduler: str, progress) -> None:
    try:
        from distributed import Client, as_completed
    except ImportError as e:
        raise ConfigError('--scheduler needs Dask: pip install "recast[dask]"') from e
    try:
        client = Client(scheduler, timeout="20s")
    except (OSError, TimeoutError) as e:
        raise ConfigError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from e
    with client:
        # retries: Dask reruns a task whose worker was lost; build_one itself never
        # raises for a bad recording, so retries only cover infrastructure failures.
        futures = {}
        for idx, item in enumerate(items):
            fut = client.submit(build_one, item, str(outdir.resolve()), options, None, key=f"recast-{idx}-{os.getpid()}",
                                retries=MAX_ATTEMPTS - 1, pure=False)
            futures[fut] = idx
            reports[idx].attempts = 1
        for fut in as_completed(futures):
            idx = futures[fut]
            try:
                result = fut.result()
            except Exception as e:  # the task failed on every try (e.g. workers kept dying)
                result = {"status": "failed", "reason": f"{items[idx].path}: {type(e).__name__}: {e}"}
            _apply(reports[idx], result)
            if progress:
                progress({"reports": reports, "workers": {}})


def _write_report(outdir: Path, reports: list[ItemReport], seconds: float) -> None:
    from .manifest import write_json_atomic

    summary = {s: sum(1 for r in reports if r.status == s) for s in ("built", "skipped", "failed")}
    write_json_atomic(
        {
            "schema": "recast.batch-report/1",
            "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "seconds": round(seconds, 3),
            "summary": summary,
            "audio_hours_built": round(sum(r.duration for r in reports if r.status == "built") / 3600, 4),
            "items": [asdict(r) for r in reports],
        },
        outdir / REPORT,
    )


def summary_lines(reports: list[ItemReport]) -> list[str]:
    lines = []
    for r in reports:
        if r.status == "failed":
            lines.append(f"FAILED  {r.reason or r.path}")
        elif r.status == "built" and r.reason:
            lines.append(f"NOTE    {r.path}: {r.reason}")
    built = sum(r.status == "built" for r in reports)
    skipped = sum(r.status == "skipped" for r in reports)
    failed = sum(r.status == "failed" for r in reports)
    lines.append(f"{len(reports)} recordings: {built} built, {skipped} already built, {failed} failed")
    return lines
