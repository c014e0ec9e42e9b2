"""The words on the slides: names and terms for speech recognition, text for search.

tiny.en spells what it has not heard often by sound: "Agassi" becomes "Agassie",
"Kushans" "cushions", "Afroasiatic" "afroiciatic". A webinar's slides usually print
exactly those words while they are being said. Each still of the video analysis is
read whole by OCR, the words that are not everyday English (and the capitalised
names around them) are kept, and the 30-second chunks said while that slide was
shown are decoded with them as Whisper's prompt, as `--vocabulary` is. Only the
rare words go in, not the slide's sentences: given a sentence it is about to hear,
Whisper takes it as already said and skips it (whole sentences went missing when
the slides' bullets were the prompt; benchmarks/RESULTS.md, session 13).

The same reading gives the learner's search its slide text (`slide_text`): a word
that is on a slide but never said, a formula, a link, finds the moment it was shown.
"""

from __future__ import annotations

import bisect
import functools
import logging
import os
import re
import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from .engine_worker import release_memory
from .models import TimedText, VideoAnalysis
from .ocr import SlideLine, available, read_slide
from .text import STOPWORDS, english_words

log = logging.getLogger(__name__)

MIN_CONFIDENCE = 0.8  # recogniser score under which a line's spelling is not trusted
# Seconds either side of a slide's time on screen that still get its words: speakers
# name what the next slide shows just before they move on, and a chunk that starts
# in the last seconds of a slide is mostly about the next one anyway.
MARGIN = 5.0
STILL_SLACK = 0.5  # s: see slide_spans
# A still on screen for less than this is not read: a scroll, a demo, a passing
# window. Its words would cover under half a chunk, and a screen recording that
# changes every few seconds would otherwise cost a read per keyframe.
MIN_SHOWN = 10.0  # s
SLIDES_VERSION = 3  # bump when the stills read or the words chosen change: it keys the transcript and slide caches
# (3: stills of HEVC with open GOPs, of low-frame-rate screen recordings and of turned video)

# A word: starts with a letter; apostrophes, hyphens and dots only inside ("Prout's",
# "x-rays", "U.S.").
_WORD = re.compile(r"[^\W\d_](?:[\w'’.\-]*[^\W_])?")
_JOINER = re.compile(r"\s+")  # only spaces keep a capitalised run together
_POSSESSIVE = re.compile(r"['’]s$")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@functools.cache
def _tokenizer():
    """Whisper's English tokenizer (the bundled tiny.en's), or None."""
    try:
        from tokenizers import Tokenizer

        from .transcribe import _bundled_model_dir

        return Tokenizer.from_file(str(_bundled_model_dir() / "tokenizer.json"))
    except Exception as e:  # the rarity test falls back to the word list
        log.debug("no Whisper tokenizer for the slide words: %s", e)
        return None


@functools.cache
def _hard(word: str) -> bool:
    """A word Whisper is unlikely to spell by ear: its byte-pair encoding needs two
    tokens or more however it is capitalised (" Agassi", " Huxley", " protons"),
    where everyday words and well-known names take one (" Afghanistan", " London").
    Hyphenated words count by their parts. Without the tokenizer: not in the
    English word list."""
    parts = [p for p in re.split(r"[-.]", word) if len(p) >= 3]  # "five-set": each part on its own
    tokenizer = _tokenizer()
    if tokenizer is None:
        return any(p.lower() not in english_words() for p in parts)
    return any(min(len(tokenizer.encode(" " + w, add_special_tokens=False).ids) for w in (p, p.lower())) >= 2 for p in parts)


def _edits(word: str) -> set[str]:
    """Every string one deletion, transposition, replacement or insertion away."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ({a + b[1:] for a, b in splits if b}
            | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
            | {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
            | {a + c + b for a, b in splits for c in _LETTERS})


def _misread(word: str, counts: Counter[str]) -> bool:
    """A word the recogniser probably got wrong: seen once, and one edit away from a
    word seen more often on the slides ("Huxlsy" beside "Huxley"), or, in lower
    case and not English, from an English word ("novls", "fina" for "final").
    Names seen once stay: "Nadal" is one edit from "natal"."""
    key = word.lower()
    if counts[key] > 1:
        return False
    near = _edits(key)
    if any(counts[w] > 1 for w in near if w in counts):
        return True
    words = english_words()
    return word.islower() and key not in words and not near.isdisjoint(words)


def _runs(line: str) -> list[list[str]]:
    """The line's words in runs: consecutive capitalised words joined by spaces form
    one run (a name); every other word is a run of its own."""
    runs: list[list[str]] = []
    end = 0
    capital = False
    for m in _WORD.finditer(line):
        word = _POSSESSIVE.sub("", m.group())
        joined = _JOINER.fullmatch(line[end : m.start()]) is not None
        if word[0].isupper() and capital and joined:
            runs[-1].append(word)
        else:
            runs.append([word])
        capital = word[0].isupper()
        end = m.end()
    return runs


def slide_terms(slides: Sequence[Sequence[SlideLine]]) -> list[list[str]]:
    """The names and terms on each slide, in reading order, each once: runs of
    capitalised words that hold a hard word ("Mirwais Hotak", "Andre Agassi"),
    without stopwords at either end ("The Kushans" -> "Kushans"), and hard words in
    lower case ("endosymbiotic"). Words of three letters or fewer are left out, and
    so is what looks misread (`_misread`, counted over all the slides)."""
    read = [[run for line in lines if line.confidence >= MIN_CONFIDENCE for run in _runs(line.text)] for lines in slides]
    counts = Counter(w.lower() for runs in read for run in runs for w in run)
    out = []
    for runs in read:
        terms: dict[str, str] = {}
        for run in runs:
            while run and run[0].lower() in STOPWORDS:
                run = run[1:]
            while run and run[-1].lower() in STOPWORDS:
                run = run[:-1]
            hard = [w for w in run if len(w) > 3 and _hard(w)]
            if hard and not any(_misread(w, counts) for w in hard):
                term = " ".join(run)
                terms.setdefault(term.lower(), term)
        out.append(list(terms.values()))
    return out


def slide_spans(video: VideoAnalysis, end: float) -> list[tuple[float, float]]:
    """When each still's slide was on screen: from the scene change at or before the
    still to the next one (or `end`). A still taken where its change was placed may
    come a frame or two before the placed time (the sample's 42.4 s still, change
    at 42.48 s): STILL_SLACK allows for that."""
    changes = sorted(c.time for c in video.scene_changes)
    spans = []
    for frame in video.frames:
        i = bisect.bisect_right(changes, frame.time + STILL_SLACK)
        spans.append((changes[i - 1] if i > 0 else 0.0, changes[i] if i < len(changes) else end))
    return spans


class SlideReader:
    """Reads stills with OCR in background threads as soon as the video analysis has
    found them, before it has placed the changes between them: placing decodes video
    on one core, so the reading fills the other instead of waiting for it.

    Nothing is read until `start()`: the analysis offers its stills whether or not
    the transcript will be recognised, and a rebuild that reuses the transcript
    must not pay for the reading. Single use; `close()` stops what is left."""

    def __init__(self, threads: int = 0) -> None:
        self._workers = max(1, threads or os.cpu_count() or 1)
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._reads: dict[Path, Future] = {}
        self._offered: list[Path] = []
        self._started = self._closed = False

    def offer(self, stills: Iterable[tuple[Path, float]]) -> None:
        """Stills found, each with the longest time it can have been on screen
        (its change is not placed yet). Called from the video analysis thread."""
        with self._lock:
            if self._closed:  # the transcript came from the cache, or reading is over
                return
            self._offered.extend(Path(p) for p, shown in stills if shown >= MIN_SHOWN)
            if self._started:
                self._submit_offered()

    def start(self) -> None:
        with self._lock:
            if not self._closed:
                self._started = True
                self._submit_offered()

    def read(self, paths: Sequence[Path]) -> list[tuple[SlideLine, ...]]:
        """The lines of each still, in order; those not offered are read now."""
        with self._lock:
            self._started = True
            futures = [self._submit(Path(p)) for p in paths]
        return [f.result() for f in futures]

    def close(self) -> None:
        """Stop reading (stills offered but not needed are dropped) and give back
        the recogniser's buffers, which would otherwise stay in the threads' heaps
        through the transcription that follows."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
            release_memory()

    def _submit_offered(self) -> None:
        for path in self._offered:
            self._submit(path)
        self._offered.clear()

    def _submit(self, path: Path) -> Future:
        if path not in self._reads:
            if self._closed:
                raise RuntimeError("SlideReader used after close()")
            if self._pool is None:
                # ONNX Runtime releases the GIL: one still per thread, each run on one core
                self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="recast-ocr")
            self._reads[path] = self._pool.submit(read_slide, path)
        return self._reads[path]


@dataclass(frozen=True)
class ReadSlide:
    """One still's lines and when its slide was on screen."""

    start: float
    end: float
    lines: tuple[SlideLine, ...]


def read_slides(video: VideoAnalysis, end: float, threads: int = 0, reader: SlideReader | None = None) -> tuple[ReadSlide, ...]:
    """Every still shown for MIN_SHOWN or longer, read whole, in time order. Empty
    when OCR is not installed. `reader` may already have read the stills during the
    video analysis; it is closed here."""
    reader = reader or SlideReader(threads)
    try:
        if not video.frames or not available():
            return ()
        shown = [(frame, span) for frame, span in zip(video.frames, slide_spans(video, end))
                 if span[1] - span[0] >= MIN_SHOWN]
        read = reader.read([frame.path for frame, _ in shown])
    finally:
        reader.close()
    return tuple(ReadSlide(start, stop, lines) for (_, (start, stop)), lines in zip(shown, read))


def slide_prompts(slides: Sequence[ReadSlide]) -> tuple[TimedText, ...]:
    """Each slide's names and terms with the time it was on screen (widened by
    MARGIN), for `transcribe(prompts=...)`."""
    prompts = []
    for slide, terms in zip(slides, slide_terms([s.lines for s in slides])):
        if terms:
            prompts.append(TimedText(max(0.0, slide.start - MARGIN), slide.end + MARGIN, ", ".join(terms) + "."))
    log.info("%d of %d slides read have names or terms for speech recognition", len(prompts), len(slides))
    return tuple(prompts)


# A line on more than this share of the slides is the template's (the course name, the
# presenter, a logo's words), not what one slide says: searching it would find every slide.
BOILERPLATE_SHARE = 0.5
_LETTER_RUN = re.compile(r"[^\W\d_]{2}")  # a line needs a word of two letters: "4", "3/6" and "W" are not text


def slide_text(slides: Sequence[ReadSlide]) -> tuple[TimedText, ...]:
    """What each slide says, for search: its lines read with confidence, one a text
    line, without the template's lines that the slides repeat. A slide that says
    what the one before it said and perhaps more (a pointer moving, a build step
    that adds a bullet) extends it, so each bullet is found once, where it first
    came up, and the slide is listed once with all its bullets."""
    read = [TimedText(s.start, s.end, "\n".join(
        line.text for line in s.lines if line.confidence >= MIN_CONFIDENCE and _LETTER_RUN.search(line.text)))
        for s in slides]
    # The template is what distinct slides share, so it is counted over the slides
    # with their build steps joined: the five steps of a one-slide talk share every line.
    distinct = _joined(read)
    seen = Counter(line for t in distinct for line in set(t.text.split("\n")))
    if len(distinct) >= 3:
        template = {line for line, n in seen.items() if n > BOILERPLATE_SHARE * len(distinct)}
        # joined again without it: a screen with only the template on it (a break)
        # must not pass for the first step of the slide after it
        read = [TimedText(t.start, t.end, _without(t.text, template)) for t in read]
        distinct = _joined(read)
    return tuple(distinct)


def _without(text: str, template: set[str]) -> str:
    """The slide's lines without one of each template line: a slide whose own title
    is the header's words (the talk is named after its first part) keeps its title."""
    lines = text.split("\n")
    for line in template & set(lines):
        lines.remove(line)
    return "\n".join(lines)


def _joined(read: Sequence[TimedText]) -> list[TimedText]:
    """Slides with their text, each build step joined to the slide it builds on."""
    out: list[TimedText] = []
    for t in read:
        if not t.text:
            continue
        if out and set(out[-1].text.split("\n")) <= set(t.text.split("\n")) and t.start - out[-1].end < MIN_SHOWN:
            out[-1] = TimedText(out[-1].start, t.end, t.text)
        else:
            out.append(t)
    return out
