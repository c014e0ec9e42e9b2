"""Write a transcript as YouTube's automatic captions, to test `--transcript` on them.

What `yt-dlp --write-auto-subs` saves for an English video: lower case, no
punctuation, lines of about 32 characters that roll up (each cue shows the line
before again, plain, above the line being spoken, which carries a time per word:
`so<00:00:05.300><c> let's</c>`), a 10 ms cue holding the finished line between
them, and a first row of a single space. `--srt` also writes what yt-dlp's
`--convert-subs srt` makes of it (ffmpeg keeps the rolled lines, drops the times).

    python -m benchmarks.youtube_captions SITE/SLUG/transcript.json OUT.en.vtt [--srt OUT.en.srt]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

LINE_CHARACTERS = 32
LINE_PAUSE = 1.2  # s: a pause this long starts a new line


def _clock(seconds: float, comma: bool = False) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{',' if comma else '.'}{ms:03d}"


def caption_lines(transcript: dict) -> list[list[tuple[float, float, str]]]:
    """The transcript's words as YouTube breaks them into lines: (start, end, word)."""
    words = []
    for seg in transcript["segments"]:
        for w in seg["words"]:
            token = re.sub(r"[^\w'%-]", "", w["word"].strip().lower())
            if token:
                words.append((w["start"], w["end"], token))
    lines: list[list[tuple[float, float, str]]] = []
    for word in words:
        if lines and len(" ".join(x[2] for x in lines[-1] + [word])) <= LINE_CHARACTERS and word[0] - lines[-1][-1][1] < LINE_PAUSE:
            lines[-1].append(word)
        else:
            lines.append([word])
    return lines


def youtube_vtt(transcript: dict) -> str:
    lines = caption_lines(transcript)
    out = ["WEBVTT", "Kind: captions", "Language: en", ""]
    shown = " "
    for i, line in enumerate(lines):
        start = line[0][0]
        end = max(start + 0.02, (lines[i + 1][0][0] if i + 1 < len(lines) else line[-1][1]) - 0.01)
        body = line[0][2] + "".join(f"<{_clock(t)}><c> {w}</c>" for t, _, w in line[1:])
        out += [f"{_clock(start)} --> {_clock(end)} align:start position:0%", shown, body, ""]
        shown = " ".join(w for _, _, w in line)
        out += [f"{_clock(end)} --> {_clock(end + 0.01)} align:start position:0%", shown, " ", ""]
    return "\n".join(out)


def rolled_srt(transcript: dict) -> str:
    """The same captions as ffmpeg converts them to SubRip: rolled lines, no word
    times (ffmpeg also ends the text lines with CRLF)."""
    lines = caption_lines(transcript)
    out = []
    shown = ""
    n = 0
    for i, line in enumerate(lines):
        start = line[0][0]
        end = max(start + 0.02, (lines[i + 1][0][0] if i + 1 < len(lines) else line[-1][1]) - 0.01)
        text = " ".join(w for _, _, w in line)
        for a, b, rows in ((start, end, [shown, text]), (end, end + 0.01, [text, " "])):
            n += 1
            out += [str(n), f"{_clock(a, True)} --> {_clock(b, True)}", *rows, ""]
        shown = text
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("transcript", type=Path, help="a session's transcript.json")
    ap.add_argument("vtt", type=Path)
    ap.add_argument("--srt", type=Path)
    args = ap.parse_args()
    data = json.loads(args.transcript.read_text(encoding="utf-8"))
    args.vtt.write_text(youtube_vtt(data), encoding="utf-8")
    if args.srt:
        args.srt.write_text(rolled_srt(data), encoding="utf-8")


if __name__ == "__main__":
    main()
