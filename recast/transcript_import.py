"""`--transcript FILE`: use an existing transcript instead of recognising speech.

Reads WebVTT and SubRip as Zoom, Teams, YouTube and caption editors write them,
the Word document (.docx) Teams offers beside its WebVTT, and Whisper JSON
(openai-whisper's `result`, faster-whisper's segments, WhisperX, whisper.cpp).
Speaker names are kept: Teams writes `<v Jane Doe>text</v>`, Zoom writes
`Jane Doe: text`. YouTube's automatic captions (what `yt-dlp --write-auto-subs`
saves) time every word and show each line twice as it rolls up; each word is
kept once, with its time. Files without word timings get them spread over each
segment by character count, so every `Segment` has words like a recognised one.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from .captions import _TAG, ParsedCue, _clean, _parse_timing, parse_clock, parse_srt, parse_vtt
from .errors import ConfigError, RecastError
from .models import Cue, Segment, Transcript, Word
from .text import script_language
from .transcribe import spread_words, tidy_segments


# Common short words per language, to label a caption file that does not say its
# language. Only languages whose function words barely overlap are listed.
_STOPWORDS = {
    "en": "the and is of to in that it you we this for are with was",
    "fr": "le la les et est des un une que dans nous vous pour pas sur",
    "de": "der die das und ist nicht ein eine ich wir sie mit zu auf",
    "es": "el los las y es del una que en por para con se no lo",
    "it": "il la che di è e un una per non sono gli del della",
    "pt": "o os as e é do da um uma que em não para com se",
    "nl": "de het een en is van dat niet ik we zijn op te met",
}


def import_transcript(path: Path, *, duration: float | None = None) -> Transcript:
    """Read a WebVTT, SRT or Whisper JSON transcript as a `Transcript`.

    `duration` (seconds of the recording, when known) drops cues that start after
    the end and clips the ones that run past it.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError("transcript file not found" if not path.exists() else "transcript is not a file", path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"cannot read the transcript: {e.strerror or e}", path) from e
    suffix = path.suffix.lower()
    timed = False  # whether the file gives each word's time
    docx = raw[:4] == b"PK\x03\x04" or suffix == ".docx"
    text = _docx_text(raw, path) if docx else decode_text(raw)
    head = text.lstrip()[:200]
    if docx or (suffix == ".txt" and _teams_headers(text.split("\n"))):
        segments, language = _read_teams(text, path), None
        engine = "teams" if docx else "turns"
    elif suffix == ".json" or head.startswith(("{", "[")):
        segments, language = _read_json(text, path)
        engine = "whisper-json"
        timed = True
    elif (suffix == ".vtt" or head.startswith("WEBVTT")) and _INLINE_TIME.search(text):
        segments, language = _read_word_timed(text), _header_language(text)
        engine = "webvtt"
        timed = True
    elif suffix == ".vtt" or head.startswith("WEBVTT"):
        segments, language = _read_cues(text, path, vtt=True)
        engine = "webvtt"
    elif suffix == ".srt" or "-->" in head:
        segments, language = _read_cues(text, path, vtt=False)
        engine = "srt"
    else:
        raise ConfigError("unknown transcript format: expected WebVTT (.vtt), SubRip (.srt), Whisper JSON (.json) or a Teams transcript (.docx)", path)
    if duration is not None:
        late = [s for s in segments if s.start >= duration and s.text.strip()]
        segments = [s for s in segments if s.start < duration]
        if late and not any(s.text.strip() for s in segments):
            raise ConfigError(f"every cue starts after the recording ends ({duration:.1f} s): is it the transcript of another recording?", path)
        # A cue that runs past the end keeps all its words: caption words (synthetic)
        # are spread again over what is left; timed words are squeezed by tidy_segments.
        segments = [
            s if s.end <= duration or timed else Segment(s.start, duration, s.text, spread_words(s.text, s.start, duration), s.speaker)
            for s in segments
        ]
    segments = [s for s in segments if s.text.strip()]
    if not segments:
        raise ConfigError("the transcript has no text", path)
    tidy = tidy_segments(segments, end_limit=duration)
    return Transcript(
        segments=tidy,
        language=language or guess_language(s.text for s in tidy),
        language_probability=None,
        engine=engine,
        model=path.name,
        duration=duration if duration is not None else max(s.end for s in tidy),
    )


def decode_text(raw: bytes) -> str:
    """A text file's bytes as text with "\n" line ends: UTF-8, UTF-16 with its mark, else Windows-1252."""
    for encoding in ("utf-8-sig", "utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig",):
        try:
            return raw.decode(encoding).replace("\r\n", "\n").replace("\r", "\n")
        except UnicodeDecodeError:
            continue
    # Older caption tools write Windows-1252; every byte decodes, so this never fails.
    return raw.decode("cp1252", errors="replace").replace("\r\n", "\n").replace("\r", "\n")


def guess_language(texts: Iterable[str]) -> str:
    """Chinese, Japanese or Korean by their scripts; else the language whose common
    words occur most often ("en" when nothing stands out)."""
    texts = list(texts)
    by_script = script_language("".join(texts))
    if by_script is not None:
        return by_script
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(re.findall(r"[^\W\d_]+", text.lower()))
    scores = {lang: sum(counts[w] for w in words.split()) for lang, words in _STOPWORDS.items()}
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] >= 3 else "en"


# --------------------------------------------------------------------------- Teams .docx

# Teams offers its transcript "as .docx" beside "as .vtt". Since 2023 each turn is a
# line "Jane Doe   1:02:03" (the speaker and when the turn starts) over what was
# said; before, a turn was "0:1:2.3 --> 0:1:5.8", the speaker's name and the text.
_TEAMS_HEADER = re.compile(r"^(?P<name>\S.{0,80}?)[ \t\u00a0]+(?P<at>\d{1,2}:\d{2}(?::\d{2})?)\s*$")
_TEAMS_NOTICE = re.compile(r"(?i)\b(?:started|stopped) transcription\s*$")
# A turn's words are spread over the time to the next turn, but no slower than this:
# the next turn may come after a long silence.
_SECONDS_PER_WORD = 0.6
_DOCX_LIMIT = 100_000_000  # bytes of document.xml: a transcript of a day's meeting is a few MB


def _docx_text(raw: bytes, path: Path) -> str:
    """The paragraphs of a Word document, one a line (stdlib only: a .docx is a zip of XML)."""
    import io
    import xml.etree.ElementTree as ET
    import zipfile

    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            info = z.getinfo("word/document.xml")
            if info.file_size > _DOCX_LIMIT:
                raise ConfigError(f"the document is too large for a transcript ({info.file_size // 1_000_000} MB of text)", path)
            root = ET.fromstring(z.read(info))
    except KeyError as e:
        raise ConfigError("not a Word document (.docx): it has no word/document.xml", path) from e
    except (zipfile.BadZipFile, ET.ParseError, OSError) as e:
        raise ConfigError(f"not a readable Word document (.docx): {e}", path) from e
    lines = []
    for para in root.iter(f"{w}p"):
        parts = []
        for node in para.iter():
            if node.tag == f"{w}t" and node.text:
                parts.append(node.text)
            elif node.tag == f"{w}tab":
                parts.append("\t")
            elif node.tag in (f"{w}br", f"{w}cr"):
                parts.append("\n")
        lines.extend("".join(parts).split("\n"))
    return "\n".join(lines)


def _teams_headers(lines: list[str]) -> dict[int, tuple[str, float]]:
    """The lines that open a turn, by index: (speaker, start).

    "Let's meet at 3:30" has the shape of "Jane Doe 3:30", so the name must look like
    one (no word in lower case but a particle: "Maria de la Cruz", "Doe, Jane
    (Guest)") and the times of the turns must not go back: of the lines that look
    like headers, the longest run in time order is kept.
    """
    found = []
    for i, line in enumerate(lines):
        m = _TEAMS_HEADER.match(line.strip())
        if m and i + 1 < len(lines) and lines[i + 1].strip() and _name_like(m["name"]):
            found.append((i, m["name"].strip(), parse_clock(m["at"]) or 0.0))
    return {i: (name, at) for i, name, at in _non_decreasing(found)}


_PARTICLES = frozenset("van von der den de del della di da dos das du la le bin ibn al el ter ten".split())


def _name_like(name: str) -> bool:
    words = re.sub(r"\([^)]*\)|\[[^]]*\]", " ", name).replace(",", " ").split()
    return 0 < len(words) <= 6 and all(not w[:1].islower() or w.lower() in _PARTICLES for w in words)


def _non_decreasing(found: list[tuple[int, str, float]]) -> list[tuple[int, str, float]]:
    """The longest subsequence whose times never go back (patience sorting)."""
    import bisect

    tails: list[float] = []  # the smallest last time of a run of each length
    tail_at: list[int] = []  # which item ends it
    before = [-1] * len(found)
    for k, (_, _, at) in enumerate(found):
        n = bisect.bisect_right(tails, at)
        before[k] = tail_at[n - 1] if n else -1
        if n == len(tails):
            tails.append(at)
            tail_at.append(k)
        else:
            tails[n], tail_at[n] = at, k
    out = []
    k = tail_at[-1] if tail_at else -1
    while k >= 0:
        out.append(found[k])
        k = before[k]
    return out[::-1]


def _turn_bodies(lines: list[str], opening: Iterable[int]) -> list[tuple[int, list[str]]]:
    """For each line that opens a turn (by index), the non-empty lines up to the next one."""
    starts = sorted(opening)
    ends = starts[1:] + [len(lines)]
    return [(i, [line.strip() for line in lines[i + 1 : end] if line.strip()]) for i, end in zip(starts, ends)]


def _read_teams(text: str, path: Path) -> list[Segment]:
    """Turns of a Teams transcript (.docx, or its text pasted into a .txt), one segment each."""
    lines = text.split("\n")
    turns: list[tuple[str | None, float, float | None, list[str]]] = []
    headers = _teams_headers(lines)
    arrows = {i: times for i, line in enumerate(lines) if "-->" in line and (times := _parse_timing(line))}
    if arrows and len(arrows) >= len(headers):
        for i, body in _turn_bodies(lines, arrows):
            a, b = arrows[i]
            speaker = body.pop(0) if len(body) >= 2 else None
            turns.append((speaker, a, b, body))
    elif headers:
        for i, body in _turn_bodies(lines, headers):
            turns.append((headers[i][0], headers[i][1], None, body))
    else:
        raise ConfigError("no turns found: a Teams transcript has lines like \"Jane Doe   0:03\" over what was said", path)
    segments = []
    for k, (speaker, start, end, body) in enumerate(turns):
        said = " ".join(line for line in body if not _TEAMS_NOTICE.search(line))
        said = re.sub(r"\s+", " ", said).strip()
        if not said:
            continue
        if end is None:
            following = next((t[1] for t in turns[k + 1 :] if t[1] > start), None)
            longest = start + 1.0 + _SECONDS_PER_WORD * len(said.split())
            end = min(following, longest) if following is not None else longest
        end = max(end, start + 0.1)
        segments.append(Segment(start, end, said, spread_words(said, start, end), speaker))
    return segments


# --------------------------------------------------------------------------- VTT / SRT


def _read_cues(text: str, path: Path, *, vtt: bool) -> tuple[list[Segment], str | None]:
    """Cues through the caption parsers of recast.captions (Teams `<v Name>` and Zoom
    `Name: text` speakers kept), one segment per cue with words spread over it."""
    try:
        parsed = parse_vtt(text) if vtt else parse_srt(text)
    except RecastError:
        parsed = []  # no cue timings at all: explained below
    if not parsed:
        timing = next((line.strip() for line in text.split("\n") if "-->" in line), None)
        if timing is None:
            raise ConfigError("no cues found in the transcript", path)
        if _parse_timing(timing) is None:
            raise ConfigError(f"unreadable cue timing {timing!r}", path)
        raise ConfigError("the transcript has no text", path)
    segments = []
    for p in _unroll(parsed):
        # A cue often breaks a line mid-sentence; the text is kept as one line.
        line = _SPEAKER_CHANGE.sub(" ", p.cue.text)
        line = re.sub(r"\s+", " ", line).strip()
        if line:
            segments.append(Segment(p.cue.start, p.cue.end, line, spread_words(line, p.cue.start, p.cue.end), p.speaker))
    return segments, _header_language(text) if vtt else None


# ">>" marks a new speaker in YouTube's and broadcast captions; it is not a word.
# (A lone "»" is not taken for one: French sets its quotes off with spaces.)
_SPEAKER_CHANGE = re.compile(r"(?:^|(?<=\s))(?:>>|&gt;&gt;)(?=\s|$)")


def _unroll(parsed: list) -> list:
    """Roll-up captions with each line once.

    Roll-up captions (YouTube's automatic ones converted to SRT, live captioners)
    show the line before again above the new one, and YouTube's put the finished
    line alone in a 10 ms cue between the two. Read as they are, every word would
    be there two or three times. A file is taken for roll-up when most cues open
    with the line the cue before ended with; then a cue's opening lines that the
    cue before ended with are dropped, and a cue with nothing new is left out.
    """
    repeats = sum(1 for a, b in zip(parsed, parsed[1:]) if b.cue.lines[0] == a.cue.lines[-1])
    if len(parsed) < 4 or repeats * 2 < len(parsed) - 1:
        return parsed
    out = []
    before: tuple[str, ...] = ()
    for p in parsed:
        lines = p.cue.lines
        # the longest run of opening lines that the cue before ended with
        shown = max((k for k in range(len(lines) + 1) if k <= len(before) and lines[:k] == before[len(before) - k :]), default=0)
        if lines[shown:]:
            out.append(ParsedCue(Cue(p.cue.start, p.cue.end, lines[shown:]), p.speaker))
        before = lines
    return out


# YouTube's automatic captions time each word inline: "so<00:00:05.300><c> let's</c>".
_INLINE_TIME = re.compile(r"<((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})>")
# No word lasts longer than this plus a per-character allowance: the last word of a
# line is given until the cue ends, which runs on through any pause after it.
_LAST_WORD_SECONDS, _SECONDS_PER_CHARACTER = 0.1, 0.05


def _read_word_timed(text: str) -> list[Segment]:
    """The segments of a WebVTT file that times its words, one per line spoken.

    YouTube writes each cue as the line before it (plain) over the line being
    spoken (timed), with a 10 ms cue holding the finished line between them; the
    cue's first row is a single space so that players keep two rows. Only an empty
    line ends a cue here, and a plain line that repeats the one just taken is
    skipped. A plain line that is new ("[Music]", a line of one word) is kept with
    its words spread over the cue.
    """
    cues: list[tuple[float, float, list[str]]] = []
    in_cue = False
    for line in text.split("\n"):
        times = _parse_timing(line) if "-->" in line else None
        if times is not None:
            cues.append((times[0], times[1], []))
            in_cue = True
        elif not line:
            in_cue = False
        elif in_cue:
            cues[-1][2].append(line)
    segments = []
    last = ""
    for start, end, rows in cues:
        for row in rows:
            plain = _row_text(row)
            if not plain:
                continue
            if not _INLINE_TIME.search(row):
                if plain != last:
                    segments.append(Segment(start, max(end, start), plain, spread_words(plain, start, max(end, start))))
                    last = plain
                continue
            # "first<t1><c> second</c><t2><c> third</c>": the first piece starts with the cue.
            parts = _INLINE_TIME.split(row)
            pieces = [(start, parts[0])] + [(parse_clock(parts[k]) or start, parts[k + 1]) for k in range(1, len(parts) - 1, 2)]
            words: list[Word] = []
            for k, (at, raw) in enumerate(pieces):
                tokens = _row_text(raw).split()
                if not tokens:
                    continue
                nxt = pieces[k + 1][0] if k + 1 < len(pieces) else end
                at = max(at, words[-1].end if words else start)
                stop = min(max(nxt, at), at + _LAST_WORD_SECONDS + _SECONDS_PER_CHARACTER * len(" ".join(tokens)))
                words.extend(spread_words(" ".join(tokens), at, stop))
            if words:
                segments.append(Segment(words[0].start, words[-1].end, plain, tuple(words)))
                last = plain
    return segments


def _row_text(row: str) -> str:
    """A caption row as plain text: tags, entities and ">>" speaker changes gone."""
    return _clean(_SPEAKER_CHANGE.sub(" ", html.unescape(_TAG.sub("", row))))


def _header_language(text: str) -> str | None:
    """`Language: en` in a WebVTT header (YouTube writes it)."""
    header = text.split("\n\n", 1)[0]
    for line in header.split("\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == "language" and value.strip():
            return value.strip().split("-")[0].lower()
    return None


def _read_json(text: str, path: Path) -> tuple[list[Segment], str | None]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"not valid JSON: {e}", path) from e
    language = None
    if isinstance(data, dict):
        info = data.get("info") if isinstance(data.get("info"), dict) else {}
        language = data.get("language") or info.get("language")
        items = data.get("segments")
        if items is None and "chunks" in data:  # Hugging Face pipeline output
            items = [{"start": c["timestamp"][0], "end": c["timestamp"][1], "text": c["text"]} for c in data["chunks"]]
        if items is None and isinstance(data.get("transcription"), list):  # whisper.cpp's -oj / -ojf
            result = data.get("result") if isinstance(data.get("result"), dict) else {}
            language = result.get("language") or language
            items = [_whisper_cpp_segment(item) for item in data["transcription"]]
    else:
        items = data
    if not isinstance(items, list):
        raise ConfigError("Whisper JSON must have a list of segments", path)
    segments = []
    for i, item in enumerate(items):
        seg = _json_segment(item)
        if seg is None:
            raise ConfigError(f"segment {i} has no start/end/text", path)
        segments.append(seg)
    if isinstance(language, str):
        language = language.strip().lower() or None
        # openai-whisper's CLI writes names ("english") when the language was given that way.
        language = _LANGUAGE_NAMES.get(language, language)
    return segments, language


_LANGUAGE_NAMES = {"english": "en", "french": "fr", "german": "de", "spanish": "es", "italian": "it", "portuguese": "pt", "dutch": "nl", "japanese": "ja", "chinese": "zh", "russian": "ru"}


def _whisper_cpp_segment(item: Any) -> Any:
    """A segment of whisper.cpp's JSON in openai-whisper's shape.

    Times are `offsets` in milliseconds. With `-ojf` each segment lists its tokens,
    word pieces with their own offsets: a piece that opens with a space starts a
    word, and "[_BEG_]"-like control tokens are left out.
    """
    if not isinstance(item, dict) or not isinstance(item.get("offsets"), dict):
        return item
    ms = item["offsets"]
    out: dict[str, Any] = {"start": _num(ms.get("from")), "end": _num(ms.get("to")), "text": item.get("text")}
    out = {k: v / 1000 if k != "text" and v is not None else v for k, v in out.items()}
    words: list[dict[str, Any]] = []
    for token in item.get("tokens") or ():
        piece = token.get("text") if isinstance(token, dict) else None
        times = token.get("offsets") if isinstance(token, dict) else None
        if not isinstance(piece, str) or piece.startswith("[_") or not isinstance(times, dict):
            continue
        a, b = _num(times.get("from")), _num(times.get("to"))
        if a is None or b is None:
            return out  # a token without times: the words are spread instead
        if piece.startswith(" ") or not words:
            words.append({"word": piece, "start": a / 1000, "end": b / 1000, "probability": token.get("p", 1.0)})
        else:
            words[-1]["word"] += piece
            words[-1]["end"] = b / 1000
    if words and "".join(w["word"] for w in words).split() == str(out["text"]).split():
        out["words"] = words
    return out


def _num(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _json_segment(item: Any) -> Segment | None:
    if isinstance(item, (list, tuple)):
        # faster-whisper's Segment serialised as a list: id, seek, start, end, text, tokens, ..., words
        if len(item) >= 5:
            item = {"start": item[2], "end": item[3], "text": item[4], "words": item[-1] if isinstance(item[-1], list) else None}
        else:
            return None
    if not isinstance(item, dict):
        return None
    start, end, text = _num(item.get("start")), _num(item.get("end")), item.get("text")
    if start is None or end is None or not isinstance(text, str):
        return None
    end = max(end, start)
    words = []
    timed = True
    for w in item.get("words") or ():
        if isinstance(w, (list, tuple)) and len(w) >= 3:  # faster-whisper's Word as a list
            w = {"start": w[0], "end": w[1], "word": w[2], "probability": w[3] if len(w) > 3 else 1.0}
        if not isinstance(w, dict):
            continue
        token = w.get("word", w.get("text"))
        if not isinstance(token, str) or not token.strip():
            continue
        ws, we = _num(w.get("start")), _num(w.get("end"))
        probability = _num(w.get("probability", w.get("score", 1.0)))
        if ws is None or we is None:
            timed = False  # WhisperX leaves numbers and symbols it cannot align untimed
        words.append((ws, we, token if token.startswith(" ") else " " + token, 1.0 if probability is None else probability))
    speaker = item.get("speaker") if isinstance(item.get("speaker"), str) else None
    if words and timed:
        return Segment(start, end, text.strip(), tuple(Word(a, max(a, b), t, p) for a, b, t, p in words), speaker)
    if words:
        return Segment(start, end, text.strip(), _fill_untimed(words, start, end), speaker)
    return Segment(start, end, text.strip(), spread_words(text, start, end), speaker)


def _fill_untimed(words: list[tuple[float | None, float | None, str, float]], start: float, end: float) -> tuple[Word, ...]:
    """Give untimed words times between their timed neighbours, by character count."""
    out: list[Word] = []
    i = 0
    while i < len(words):
        ws, we, token, p = words[i]
        if ws is not None and we is not None:
            out.append(Word(ws, max(ws, we), token, p))
            i += 1
            continue
        j = i
        while j < len(words) and (words[j][0] is None or words[j][1] is None):
            j += 1
        lo = out[-1].end if out else start
        hi = words[j][0] if j < len(words) and words[j][0] is not None else end
        run = spread_words(" ".join(t.strip() for _, _, t, _ in words[i:j]), lo, max(lo, hi))
        out.extend(Word(w.start, w.end, w.word, src[3]) for w, src in zip(run, words[i:j]))
        i = j
    return tuple(out)
