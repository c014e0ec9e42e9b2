"""Progress events from the library, and the CLI's way of showing them.

The library never prints: each stage reports `ProgressEvent`s to a callback.
The CLI draws one bar on a terminal, writes plain lines otherwise, and nothing
with --quiet.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import IO, Callable


@dataclass(frozen=True)
class ProgressEvent:
    stage: str  # probe, audio, video, slides, transcribe, chapters, summarize, captions, clips, thumbnails, site, publish
    done: float | None = None  # units of `total` (seconds of audio, clips made...)
    total: float | None = None
    message: str = ""
    finished: bool = False
    seconds: float = 0.0  # wall time of a finished stage
    item: str = ""  # which recording, in a batch


ProgressFn = Callable[[ProgressEvent], None]


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Reporter:
    """Renders ProgressEvents on a stream (stderr)."""

    LABELS = {
        "probe": "Reading the recording",
        "audio": "Decoding audio",
        "transcribe": "Transcribing",
        "video": "Analysing video",
        "slides": "Reading slides",
        "chapters": "Finding chapters",
        "summarize": "Writing titles and summaries",
        "captions": "Cutting captions",
        "clips": "Making clips",
        "thumbnails": "Making thumbnails",
        "media": "Preparing the player copy",
        "site": "Writing pages",
        "publish": "Publishing",
    }

    def __init__(self, stream: IO[str] | None = None, *, quiet: bool = False, bar: bool | None = None):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        is_tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.bar = is_tty and os.environ.get("TERM") != "dumb" if bar is None else bar
        self._last_line = 0.0
        self._open_bar = False

    def __call__(self, ev: ProgressEvent) -> None:
        if self.quiet:
            return
        label = self.LABELS.get(ev.stage, ev.stage)
        prefix = f"{ev.item}: " if ev.item else ""
        if ev.finished:
            self._end_bar()
            extra = f" ({ev.message})" if ev.message else ""
            self.stream.write(f"{prefix}{label}: done in {ev.seconds:.1f} s{extra}\n")
            self.stream.flush()
            return
        if ev.total and ev.done is not None:
            frac = max(0.0, min(1.0, ev.done / ev.total)) if ev.total else 0.0
            amount = (
                f"{_clock(ev.done)} of {_clock(ev.total)}" if ev.stage in ("transcribe", "audio")
                else f"{ev.done:g} of {ev.total:g}"
            )
            if self.bar:
                width = 28
                filled = int(frac * width)
                self._end_bar()
                line = f"\r{prefix}{label} [{'#' * filled}{'.' * (width - filled)}] {frac:4.0%} {amount} "
                self.stream.write(line)
                self._open_bar = True
            else:
                now = time.monotonic()
                if now - self._last_line < 5.0 and frac < 1.0:
                    return  # plain logs: a line every few seconds is enough
                self._last_line = now
                self.stream.write(f"{prefix}{label}: {frac:.0%} ({amount})\n")
            self.stream.flush()
            return
        # A stage starting: on a terminal a status line that the next event
        # overwrites; in logs nothing, so that a failure reads as one line.
        if self.bar:
            self._end_bar()
            self.stream.write(f"\r{prefix}{label}{': ' + ev.message if ev.message else ''}...")
            self.stream.flush()
            self._open_bar = True

    def _end_bar(self) -> None:
        if self._open_bar:
            self.stream.write("\r\033[K")  # clear the transient line
            self._open_bar = False

    def clear(self) -> None:
        """Remove a transient line before an error message is printed."""
        if not self.quiet:
            self._end_bar()
            self.stream.flush()


class BatchReporter:
    """The overall view of a batch: recordings done / total, hours of audio done,
    an ETA, and what each worker is doing. A bar line on a terminal; plain log
    lines otherwise (one per finished recording)."""

    def __init__(self, total: int, total_seconds: float, stream: IO[str] | None = None, *, quiet: bool = False):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.total = total
        self.total_seconds = total_seconds  # seconds of audio, when known
        self.bar = hasattr(self.stream, "isatty") and self.stream.isatty() and os.environ.get("TERM") != "dumb"
        self.started = time.monotonic()
        self._finished: set[str] = set()

    def __call__(self, update: dict) -> None:
        if self.quiet:
            return
        reports = update.get("reports")
        if reports is None:
            return
        done = [r for r in reports if r.status != "pending"]
        audio_done = sum(r.duration for r in done)
        elapsed = time.monotonic() - self.started
        built = [r for r in done if r.status == "built"]
        eta = ""
        if built and len(done) < self.total:
            per_item = elapsed / len(done)
            eta = f", about {_clock(per_item * (self.total - len(done)))} left"
        head = f"[{len(done)}/{self.total}] {audio_done / 3600:.2f} h of audio done{eta}"
        if self.bar:
            workers = update.get("workers", {})
            busy = "; ".join(f"w{wid}: {name} ({stage})" for wid, (name, stage) in workers.items() if name)
            self.stream.write(f"\r\033[K{head}{' | ' + busy if busy else ''}")
        for r in done:
            if r.path not in self._finished:
                self._finished.add(r.path)
                line = f"{r.status:7s} {r.path}" + (f" ({r.chapters} chapters, {r.seconds:.0f} s)" if r.status == "built" else "")
                if r.status == "failed":
                    line = f"failed  {r.reason}"
                self.stream.write(("\r\033[K" if self.bar else "") + line + "\n")
                if not self.bar:
                    self.stream.write(head + "\n")
        self.stream.flush()
