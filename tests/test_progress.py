"""Progress on stderr: a bar on a terminal, plain lines otherwise, nothing with --quiet."""

from __future__ import annotations

import io

from recast.progress import ProgressEvent, Reporter


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(reporter: Reporter) -> None:
    reporter(ProgressEvent("probe"))
    reporter(ProgressEvent("probe", finished=True, seconds=0.2))
    reporter(ProgressEvent("transcribe"))
    for done in (0, 900, 1800, 3600):
        reporter(ProgressEvent("transcribe", done=done, total=3600))
    reporter(ProgressEvent("transcribe", finished=True, seconds=95.0, message="9000 words, en"))


def test_terminal_draws_a_bar_with_audio_done():
    out = Tty()
    run(Reporter(out))
    text = out.getvalue()
    assert "\r" in text and "[" in text and "#" in text
    assert "30:00 of 1:00:00" in text  # how much of the audio is done
    assert "Transcribing: done in 95.0 s (9000 words, en)" in text


def test_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    run(Reporter(out))
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue() and "\033" not in out.getvalue()
    assert lines[0] == "Reading the recording: done in 0.2 s"
    assert any(l.startswith("Transcribing: 0% (0:00 of 1:00:00)") for l in lines)
    assert any(l.startswith("Transcribing: 100%") for l in lines)  # the end always shows
    assert lines[-1].startswith("Transcribing: done in 95.0 s")


def test_quiet_prints_nothing():
    out = Tty()
    run(Reporter(out, quiet=True))
    assert out.getvalue() == ""
