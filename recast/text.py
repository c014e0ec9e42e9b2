"""Text utilities shared by the chapters and summarize stages.

Sentences are rebuilt from the transcript's words (Whisper's segments are cut by
time, not by grammar), so each sentence keeps the time of its first and last word.
Tokens are lower-cased, stopwords dropped and plurals folded to the singular, which
is all the lemmatising that TF-IDF over one session needs.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import re
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple, TypeVar

import numpy as np

from .models import Transcript, Word

QUESTION_MARKS = ("?", "？")  # Latin, and full-width as Chinese and Japanese write it

# Words that end with "." without ending a sentence.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st vs etc e.g i.e fig eq no approx cf al inc ltd jr sr dept".split()
)
_SENTENCE_END = re.compile(r"[.?!…。？！]+[\"')\]”’»]*$")
# letters of any alphabet ("Sánchez", "Poincaré"), digits, inner apostrophes and hyphens
_TOKEN = re.compile(r"[^\W\d_](?:(?:[^\W_]|['\-])*[^\W_])?")
# Hesitations that carry no meaning; removed from quoted sentences ("um, so" -> "so").
_FILLER = re.compile(r"(?i)(?<![\w'])(?:u+m+|u+h+|e+r+m*|a+h+|h+m+|mm+)(?![\w'])[,.]?\s*")
# Whisper's marks for non-speech: [Music], (applause), ♪ ... ♪
NON_SPEECH = re.compile(r"^\s*(?:[\[(][^\])]*[\])]|[♪♫#*\s.,!-]+)\s*$")

STOPWORDS = frozenset(
    """a about above after again against ago all almost also although always am among an and another any anybody
    anyone anything anyway anywhere are aren't around as ask asked at away back be became because become been
    before being below between both but by came can can't cannot could couldn't did didn't do does doesn't doing
    don't done down during each either else enough etc even ever every everybody everyone everything exactly
    example far few first for found from further get gets getting give given go goes going gone got gotten had
    hadn't has hasn't have haven't having he he'd he'll he's her here here's hers herself him himself his how
    however i i'd i'll i'm i've if in indeed instead into is isn't it it's its itself just keep kind know known
    last later least less let let's like likely little look lot lots made make makes making many may maybe me
    might mine more most mostly much must my myself need needs never new next no nobody none nor not nothing now
    of off often oh ok okay on once one ones only onto or other others otherwise our ours ourselves out over own
    particular perhaps please point pretty probably put quite rather really right said same saw say saying says
    see seem seemed seems seen several shall she she'd she'll she's should shouldn't show since so some somebody
    someone something sometimes somewhat soon sort still such sure take taken taking tell than thank thanks that
    that's the their theirs them themselves then there there's these they they'd they'll they're they've thing
    things think this those though through thus to today together too took toward towards try trying two under
    until up upon us use used uses using usually very via want wanted wants was wasn't way ways we we'd we'll
    we're we've well went were weren't what what's whatever when where whether which while who who's whole whom
    whose why will with within without won't would wouldn't yeah yes yet you you'd you'll you're you've your
    yours yourself yourselves um uh er erm ah hmm mm gonna wanna gotta actually basically simply just also thing
    stuff bit three four five six seven eight nine ten hundred thousand time times called call calls
    mean means meant talk talked talking going come comes coming good great nice fine able different important
    start started end whatever etc'""".split()
)


# ---------------------------------------------------------------------------- languages

# The language of the text being read. Stopwords, word folding and stems depend on
# it, and they are used dozens of calls deep in the chapter and summary stages; the
# stage entry points set it from the transcript (`in_transcript_language`) rather
# than every helper taking it as an argument. English unless set.
_LANGUAGE: ContextVar[str] = ContextVar("recast_text_language", default="en")

# ISO 639-1 codes (Whisper's) -> the Snowball stemmer of that language
_SNOWBALL = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "cs": "czech", "da": "danish",
    "nl": "dutch", "et": "estonian", "fi": "finnish", "fr": "french", "de": "german", "el": "greek",
    "hi": "hindi", "hu": "hungarian", "id": "indonesian", "ga": "irish", "it": "italian", "lt": "lithuanian",
    "ne": "nepali", "no": "norwegian", "nb": "norwegian", "nn": "norwegian", "fa": "persian", "pl": "polish",
    "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian", "es": "spanish", "sv": "swedish",
    "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}
# Whisper's code -> the stop-words package's, where they differ
_STOPWORD_CODES = {"no": "nb", "nn": "nb", "yue": "zh"}
# "l'eau", "d'une", "qu'il", "dell'arte", "s'ha": the elided article or pronoun is a
# word of its own, not part of the noun
_ELISION = {
    "fr": re.compile(r"(?i)^(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu)['\u2019](?=\w)"),
    "it": re.compile(r"(?i)^(?:l|d|un|dell|all|dall|nell|sull|coll|quell|quest|c|s|m|t|v|n)['\u2019](?=\w)"),
    "ca": re.compile(r"(?i)^(?:l|d|s|n|m|t)['\u2019](?=\w)"),
}


def language() -> str:
    """The language code the text helpers work in now ("en" unless set)."""
    return _LANGUAGE.get()


def is_english() -> bool:
    return _LANGUAGE.get() == "en"


@contextlib.contextmanager
def in_language(code: str | None) -> Iterator[None]:
    """Work in the language `code` (an ISO 639-1 code, as Whisper gives) inside the block."""
    token = _LANGUAGE.set(base_language(code))
    try:
        yield
    finally:
        _LANGUAGE.reset(token)


def base_language(code: str | None) -> str:
    base = (code or "en").strip().lower().replace("_", "-").split("-")[0]
    return base if base.isalpha() else "en"


_F = TypeVar("_F", bound=Callable[..., Any])


def in_transcript_language(fn: _F) -> _F:
    """Run a stage `fn(transcript, ...)` in the transcript's language."""

    @functools.wraps(fn)
    def wrapper(transcript: Transcript, *args: Any, **kwargs: Any) -> Any:
        with in_language(transcript.language):
            return fn(transcript, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


@functools.cache
def _stopwords_of(code: str) -> frozenset[str]:
    """English stopwords, and those of `code` (speakers mix in English: "okay",
    "so"), from the stop-words package (BSD-3-Clause) when it has the language."""
    if code == "en":
        return STOPWORDS
    from stop_words import StopWordError, get_stop_words

    try:
        own = {w.strip().lower().replace("\u2019", "'") for w in get_stop_words(_STOPWORD_CODES.get(code, code))}
    except StopWordError:  # a language it has no list for (Latin, Welsh, ...)
        return STOPWORDS
    words = STOPWORDS | frozenset(w for w in own if w)
    if code in ("zh", "yue"):
        return words | _ZH_SPOKEN
    return _JapaneseStopwords(words) if code == "ja" else words


def stopwords() -> frozenset[str]:
    """The stopwords of the current language (English ones included)."""
    return _stopwords_of(_LANGUAGE.get())


@functools.cache
def _snowball(code: str) -> Any:
    name = _SNOWBALL.get(code)
    if name is None:
        return None
    import snowballstemmer  # BSD-3-Clause

    return snowballstemmer.stemmer(name)


@functools.lru_cache(maxsize=1 << 16)  # a batch over an archive meets many words
def _snowball_stem(code: str, word: str) -> str:
    stemmer = _snowball(code)
    return word if stemmer is None else stemmer.stemWord(word)


def lemma(word: str) -> str:
    """The form under which a lower-case word is counted: English plurals folded to
    the singular (`singular`), other languages' words stemmed (Snowball: "volcans"
    -> "volcan", "Pflanzen" -> "pflanz"). A key, not always a word."""
    code = _LANGUAGE.get()
    return singular(word) if code == "en" else _snowball_stem(code, word)


@dataclass(frozen=True)
class Sentence:
    start: float  # first word's start
    end: float  # last word's end
    text: str  # as spoken, with Whisper's punctuation
    speaker: str | None = None

    @property
    def duration(self) -> float:
        return self.end - self.start


def word_tokens(text: str) -> list[str]:
    """Word tokens as written (letters, digits, inner apostrophes and hyphens); in
    French, Italian and Catalan without an elided article ("l'eau" -> "eau"); in
    Chinese and Japanese, the words a segmenter finds (`unspaced_words`)."""
    code = _LANGUAGE.get()
    if code in UNSPACED:
        out: list[str] = []
        at = 0
        for run in _CJK_RUN.finditer(text):
            out += _TOKEN.findall(text[at : run.start()])  # Latin words and numbers in between
            out += unspaced_words(run.group(), code)
            at = run.end()
        return out + _TOKEN.findall(text[at:])
    tokens = _TOKEN.findall(text)
    elision = _ELISION.get(code)
    return tokens if elision is None else [t for t in (elision.sub("", t) for t in tokens) if t]


# ---------------------------------------------------------------------------- Chinese, Japanese

# Languages written without spaces between words (Whisper's codes; Korean spaces its
# phrases). Their words come from a segmenter: jieba (MIT) for Chinese, Janome
# (Apache-2.0, pure Python with its dictionary) for Japanese.
UNSPACED = frozenset({"zh", "yue", "ja"})
# Han (with the compatibility and extension A blocks), kana, half-width katakana; not
# CJK punctuation, which ends a run as a comma does.
CJK_LETTERS = "\u3041-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
CJK_LETTER = re.compile(f"[{CJK_LETTERS}]")  # one Han or kana character
_CJK_RUN = re.compile(f"[{CJK_LETTERS}]+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3041-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_HIRAGANA_ONLY = re.compile(r"^[\u3041-\u309f\u30fc]+$")
# Chinese numerals, alone or counting something ("一七八九年", "三个", "十四日", Japanese
# "二つ"): numbers, not topics
_HAN_NUMBER = re.compile(r"^[〇零一二三四五六七八九十百千万亿两几第]+[年月日号个次种位条名岁点つ]?$")
# Spoken Chinese's common words that the stop-words list (mostly single characters) lacks
_ZH_SPOKEN = frozenset(
    "我们 你们 他们 她们 它们 咱们 大家 这个 那个 这些 那些 这样 那样 这里 那里 这种 那种 一个 一些 一下 一点 "
    "今天 现在 时候 然后 所以 因为 但是 就是 还是 或者 如果 已经 非常 比较 通常 可以 能够 没有 什么 怎么 为什么 "
    "其实 而且 还有 另外 首先 其次 接下来 最后 好了 谢谢 来讲 来说 谈谈 讲讲 看看 一起 应该 需要 知道 觉得 "
    "问题 东西 事情 很多 一样 不是 也是 都是 主要 同时 之后 之前 当时 随后".split()
)


def script_language(text: str) -> str | None:
    """"zh", "ja" or "ko" when CJK letters make up most of `text`'s letters (kana
    anywhere in it makes it Japanese, as Chinese has none), else None."""
    han, kana, hangul = len(_HAN.findall(text)), len(_KANA.findall(text)), len(_HANGUL.findall(text))
    letters = sum(ch.isalpha() for ch in text)
    if not letters or han + kana + hangul < letters / 2:
        return None
    if hangul >= han + kana:
        return "ko"
    return "ja" if kana >= 0.05 * (han + kana) else "zh"


@functools.lru_cache(maxsize=1 << 16)
def unspaced_words(run: str, code: str) -> tuple[str, ...]:
    """The words of a run of Han or kana characters, in Chinese (`code` zh, yue) or
    Japanese (ja)."""
    segmenter = _segmenter(code)
    return (run,) if segmenter is None else tuple(w for w in segmenter(run) if w.strip())


@functools.cache
def _segmenter(code: str) -> Callable[[str], list[str]] | None:
    import logging

    try:
        if code == "ja":
            from janome.tokenizer import Tokenizer

            tokenizer = Tokenizer(wakati=True)
            return lambda run: list(tokenizer.tokenize(run))
        import jieba

        jieba.setLogLevel(logging.WARNING)  # it announces building its dictionary on stderr
        return lambda run: jieba.lcut(run)
    except ImportError as e:  # a broken install: a run of characters is read as one word
        logging.getLogger(__name__).warning("%s text is read without its word segmenter (%s)", "Japanese" if code == "ja" else "Chinese", e)
        return None


class _JapaneseStopwords(frozenset):
    """Japanese stopwords: the listed ones, and every word written in hiragana only,
    which in Japanese is grammar (particles, endings, auxiliaries: "ます", "ている",
    "こと"); the topics are in kanji and katakana."""

    def __contains__(self, word: object) -> bool:
        return super().__contains__(word) or (isinstance(word, str) and _HIRAGANA_ONLY.match(word) is not None)


def amount_said(transcript: Transcript) -> str:
    """"412 words", or in Chinese and Japanese "1203 characters", their usual measure
    (Whisper's "words" there are a character or a few); a Latin word among them
    counts as one."""
    if base_language(transcript.language) in UNSPACED:
        said = [w.word for s in transcript.segments for w in s.words]
        n = sum(len(_TOKEN.findall(_CJK_RUN.sub(" ", w))) + sum(map(len, _CJK_RUN.findall(w))) for w in said)
        unit = "character"
    else:
        n, unit = sum(len(s.words) for s in transcript.segments), "word"
    return f"{n} {unit}{'' if n == 1 else 's'}"


def is_unspaced() -> bool:
    """Is the current language written without spaces between words?"""
    return _LANGUAGE.get() in UNSPACED


def join_words(words: Iterable[str]) -> str:
    """Words set as the current language writes them: with spaces, or none in Chinese and Japanese."""
    return ("" if is_unspaced() else " ").join(words)


def is_number(token: str) -> bool:
    """Digits, or a Chinese numeral ("一七八九年", "三个")."""
    return token.isdigit() or _HAN_NUMBER.match(token) is not None


def short_token(token: str) -> bool:
    """Too short to be a content word: under 3 letters, or in Chinese and Japanese
    one character (their words are mostly two)."""
    return len(token) < (2 if is_unspaced() and _CJK_RUN.match(token) else 3)


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens."""
    return [t.lower() for t in word_tokens(text)]


_SAME_IN_PLURAL = frozenset("species series means news".split())


@functools.cache
def singular(word: str) -> str:
    """Fold an English plural to its singular, conservatively (light lemmatising).

    A word the SPECIALIST lexicon knows as a noun takes its lemma from there, through
    lemminflect: "physics", "atlas" and "bias" are singular, "movies" is "movie". A
    word it does not know is a name or a term: its "-s" is dropped by rule, but not
    from "-as" or "-os" unless that leaves an English word ("Thomas", "Texas" and
    "Aquinas" stay whole)."""
    w = word
    if len(w) <= 3 or not w.endswith("s") or w.endswith("'s") or w in _SAME_IN_PLURAL:
        return w[:-2] if w.endswith("'s") else w
    from lemminflect import getAllLemmas  # MIT; loads its tables on first use (0.3 s)

    known = getAllLemmas(w, upos="NOUN").get("NOUN")
    if known:
        # a field of study is singular ("mechanics", not "mechanic"; "movies" is plural)
        return w if w.endswith("ics") and w in known else known[0]
    if w.endswith(("ss", "us", "is")) or (w.endswith(("as", "os")) and w[:-1] not in english_words()):
        return w
    if w.endswith("uses") and len(w) > 5 and w[:-2] in english_words():
        return w[:-2]  # "campuses", "viruses", "bonuses"
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("sses", "shes", "ches", "xes", "zes")):
        return w[:-2]
    if w.endswith("oes") and len(w) > 5:
        return w[:-2]
    return w[:-1]


def content_words(text: str) -> list[str]:
    """Tokens that carry meaning: no stopwords, no numbers-only, folded (`lemma`)."""
    out = []
    stop = stopwords()
    for t in tokenize(text):
        if t in stop or short_token(t) or is_number(t):
            continue
        s = lemma(t)
        if s not in stop:
            out.append(s)
    return out


@functools.cache
def english_words() -> frozenset[str]:
    """73,604 lower-case English words (SCOWL size 50, shipped in recast/data;
    its notices in english-words.LICENSE): enough to tell a slide title read by OCR
    ("Taxonomy", "Distribution and habitat") from text the recogniser made up."""
    path = Path(__file__).parent / "data" / "english-words.txt.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fp:
        return frozenset(fp.read().split())


def remove_fillers(text: str) -> str:
    """Drop hesitations ("um", "uh") and tidy the spacing left behind."""
    cleaned = _FILLER.sub("", text)
    cleaned = re.sub(r"\s+([,.;:?!])", r"\1", cleaned)
    cleaned = re.sub(r"([,;:])(?=[,.;:?!])", "", cleaned)
    cleaned = re.sub(r"\s{2,}", " ", cleaned).strip(" ,;")
    if cleaned and cleaned[0].islower():
        cleaned = cleaned[0].upper() + cleaned[1:]
    return cleaned


_INITIALS = re.compile(r"^(?:[A-Z]\.){2,}$")  # "U.S.", "D.C."


INITIAL_PAUSE = 0.3  # s: nobody pauses this long after the initial inside a name


def _ends_sentence(token: str, following: str | None = None, pause: float = 0.0) -> bool:
    """Does the word `token` end a sentence? `following`: the next word, if any, and
    `pause` the silence before it."""
    token = token.strip()
    if not _SENTENCE_END.search(token):
        return False
    if not token.endswith("."):
        return True
    bare = token.rstrip(".")
    last = bare.rsplit("-", 1)[-1].lower()  # "world-no."
    if last in _ABBREVIATIONS:
        return False
    if len(bare) == 1 and bare.isupper() and bare not in "AI":
        # an initial ("John F. Kennedy", "D. H. Lawrence"), unless a pause follows:
        # a lecture's "about point C. Now I take another example"
        return pause >= INITIAL_PAUSE and (following or "").strip()[:1].isupper()
    # "the U.S. Open", "Washington, D.C. In 1990 ..." (which it cannot tell apart)
    nxt = (following or "").strip()
    return not (_INITIALS.match(bare + ".") and nxt[:1].isupper())


def sentences(transcript: Transcript, max_gap: float = 2.0, max_words: int = 60) -> list[Sentence]:
    """Sentences over the transcript's words, in time order.

    A sentence ends at terminal punctuation, at a pause longer than `max_gap` seconds
    (speech recognisers often drop the full stop before a pause), where the speaker
    changes, or after `max_words` words (unpunctuated speech). It runs on across
    Whisper's segments, which end wherever a decoding chunk or a timestamp did
    ("... ranked world No." / "91. He won..."; "... near Godalming, Surrey," /
    "England."), and a "sentence" that opens in lower case is the rest of the one
    before it. Segments without word timings are split by punctuation, with times
    shared out in proportion to characters. A transcript without punctuation is cut
    at its pauses instead (`_by_pauses`).
    """
    out: list[Sentence] = []
    words: list[tuple[Word, str | None]] = []
    for seg in transcript.segments:
        timed = [w for w in seg.words if w.word.strip() and not NON_SPEECH.match(w.word)]
        if timed:
            words += [(w, seg.speaker) for w in timed]
        elif seg.text.strip() and not NON_SPEECH.match(seg.text):
            out.extend(_split_untimed(seg.text, seg.start, seg.end, seg.speaker))
    words.sort(key=lambda ws: ws[0].start)
    if not out and unpunctuated(w.word for w, _ in words):
        line_ends = {id(seg.words[-1]) for seg in transcript.segments if seg.words}
        return _by_pauses(words, line_ends, max_gap, english=(transcript.language or "en").startswith("en"))
    current: list = []
    speaker: str | None = None
    for i, (w, who) in enumerate(words):
        if current and (w.start - current[-1].end > max_gap or len(current) >= max_words or who != speaker):
            out.append(_make(current, speaker))
            current = []
        current.append(w)
        speaker = who
        # Whisper's words can split an abbreviation: " U" ".S."
        token = current[-2].word.strip() + w.word.strip() if len(current) > 1 and w.word.startswith(".") else w.word
        nxt = words[i + 1][0] if i + 1 < len(words) else None
        if _ends_sentence(token, nxt.word if nxt else None, nxt.start - w.end if nxt else 0.0):
            out.append(_make(current, speaker))
            current = []
    if current:
        out.append(_make(current, speaker))
    out.sort(key=lambda s: s.start)
    return _merge_fragments(out, max_gap)


# Fewer sentence ends than this per word means the text has no punctuation to go
# by: YouTube's automatic captions, live captioners, some meeting tools.
UNPUNCTUATED_ENDS = 1 / 40
# Unpunctuated text is cut at its longest pauses, about one cut in this many words
# (spoken English averages 15-20 words a sentence; a cut too many costs less than
# a chapter boundary with nowhere to fall).
PAUSE_SENTENCE_WORDS = 12
MIN_PAUSE = 0.15  # s: a shorter gap between words is no pause, however rare longer ones are
_I = re.compile(r"(?<![\w'])i(?=$|[\s'’])")
# How a spoken question opens, when no question mark says so: "how do we ...",
# "should I ...", "can you ...": a verb before a pronoun. "Is photosynthesis ..." and
# "who was a French teacher" (a relative clause cut off at a pause) are not enough.
_AUX = "is|are|was|were|do|does|did|can|could|should|would|will|shall|may|might|have|has|must"
_QUESTION_OPENING = re.compile(
    rf"^(?:(?:who|what|when|where|why|how)\s+)?(?:{_AUX})(?:n't)?\s+(?:i|you|we|they|he|she|it|there)\b",
    re.I,
)


def unpunctuated(words: Iterable[str]) -> bool:
    """Whether text of these words (40 or more) has almost no sentence ends."""
    tokens = [w.strip() for w in words if w.strip()]
    ends = sum(1 for t in tokens if _SENTENCE_END.search(t))
    return len(tokens) >= 40 and ends < len(tokens) * UNPUNCTUATED_ENDS


def _by_pauses(words: list[tuple[Word, str | None]], line_ends: set[int], max_gap: float, english: bool = True) -> list[Sentence]:
    """Sentences of a transcript without punctuation, cut where the speaker pauses.

    The cuts are the longest pauses: the gap that about one in
    `PAUSE_SENTENCE_WORDS` gaps reaches, at least `MIN_PAUSE`, and no sentence
    under 4 words; a sentence still twice that long is cut again at its longest
    pause, as a speaker who runs one thought into the next ("... before the
    eruption our third part takes us ...") still pauses most between them. Where
    the words show no pauses (caption lines whose words were given times by share
    of the line, as in a roll-up SRT), a sentence ends with a caption line
    (`line_ends`: the ids of lines' last words) once it has half that many words.
    Each sentence is given a capital and a full stop, or in English a question mark
    where it opens as a question does, and "i" its capital ("i" is Italian's "the"),
    so that summaries and the questions found read as sentences.
    """
    gaps = np.array([b.start - a.end for (a, _), (b, _) in zip(words, words[1:])] + [0.0])
    paused = int((gaps >= MIN_PAUSE).sum()) * 4 * PAUSE_SENTENCE_WORDS >= len(words)
    if paused:
        cut = max(MIN_PAUSE, float(np.quantile(gaps[:-1], 1 - 1 / PAUSE_SENTENCE_WORDS)))
        breaks = gaps >= cut
    else:
        breaks = np.array([id(w) in line_ends for w, _ in words])
    shortest = 4 if paused else PAUSE_SENTENCE_WORDS // 2
    # Runs of word indices: a new run where the speaker changes or a long silence falls.
    runs: list[list[int]] = []
    for i, (w, who) in enumerate(words):
        if i == 0 or who != words[i - 1][1] or gaps[i - 1] > max_gap or (len(runs[-1]) >= shortest and breaks[i - 1]):
            runs.append([])
        runs[-1].append(i)
    pieces: list[list[int]] = []
    while runs:
        run = runs.pop(0)
        if len(run) < 2 * PAUSE_SENTENCE_WORDS:
            pieces.append(run)
            continue
        # the longest gap (or caption line end) leaving 4 words on each side
        at = max(range(4, len(run) - 4), key=lambda k: (breaks[run[k - 1]], gaps[run[k - 1]]))
        runs[:0] = [run[:at], run[at:]]
    out = []
    for piece in pieces:
        s = _make([words[i][0] for i in piece], words[piece[0]][1])
        text = _I.sub("I", s.text) if english else s.text
        end = "" if _SENTENCE_END.search(text) else "?" if english and _QUESTION_OPENING.match(text) else "."
        out.append(Sentence(s.start, s.end, text[:1].upper() + text[1:] + end, s.speaker))
    return out


def _make(words: list, speaker: str | None) -> Sentence:
    text = "".join(w.word for w in words).strip()
    if not text.startswith(words[0].word.strip()):
        text = " ".join(w.word.strip() for w in words)
    text = re.sub(r"\s+", " ", text)
    return Sentence(words[0].start, max(words[-1].end, words[0].start), text, speaker)


def _split_untimed(text: str, start: float, end: float, speaker: str | None) -> list[Sentence]:
    parts = [p.strip() for p in re.split(r"(?<=[.?!])\s+", text.strip()) if p.strip()]
    total = sum(len(p) for p in parts) or 1
    out, t = [], start
    for p in parts:
        d = (end - start) * len(p) / total
        out.append(Sentence(t, t + d, p, speaker))
        t += d
    return out


def _merge_fragments(sents: list[Sentence], max_gap: float = 2.0) -> list[Sentence]:
    """Glue a one-word fragment that Whisper split off ("Okay." "So.") onto the next
    sentence when they are close, so it does not become a candidate boundary alone,
    and a sentence that opens in lower case ("Huxley was a humanist, pacifist." "and
    satirist.") onto the one before it."""
    out: list[Sentence] = []
    for s in sents:
        prev = out[-1] if out else None
        if prev is None or prev.speaker != s.speaker or s.start - prev.end > max_gap:
            out.append(s)
            continue
        if _SPLIT_DATE_HEAD.search(prev.text) and _SPLIT_DATE_TAIL.match(s.text):
            out.pop()
            s = Sentence(prev.start, s.end, f"{prev.text[:-1]}, {s.text}", s.speaker)
        elif not prev.text.endswith(QUESTION_MARKS) and (
            opens_lower(s.text) or (len(tokenize(prev.text)) <= 1 and s.start - prev.end < 0.6)
        ):
            out.pop()
            s = Sentence(prev.start, s.end, join_words((prev.text, s.text)), s.speaker)
        out.append(s)
    return out


# A birth or death date that a pause split at its comma: "(born April 29, 1970) is ..."
# read aloud comes back as "... born April 29." and "1970 is an American ...". Any
# other date is left alone: "The final was on May 4." may well be followed by "1990
# was his best year."
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_SPLIT_DATE_HEAD = re.compile(rf"\b(?:born|died)(?: on)? (?:{_MONTHS}) \d{{1,2}}\.$", re.I)
_SPLIT_DATE_TAIL = re.compile(r"^\d{4}\b(?![.,]?$)")


_EMBEDDER: object | None = None
_EMBEDDER_TRIED = False


def embedder():
    """The bundled WordLlama sentence embedder, or None when it cannot be loaded.

    `WordLlama.load()` looks for its tokenizer under `wordllama/tokenizer/` while the
    wheel ships it under `wordllama/tokenizers/`, and then tries to download it; we
    build the model from the two bundled files ourselves so nothing is ever fetched.
    """
    global _EMBEDDER, _EMBEDDER_TRIED
    if _EMBEDDER_TRIED:
        return _EMBEDDER
    _EMBEDDER_TRIED = True
    try:
        from pathlib import Path

        import wordllama
        from safetensors import safe_open
        from tokenizers import Tokenizer
        from wordllama.inference import WordLlamaInference

        root = Path(wordllama.__file__).parent
        tokenizer = Tokenizer.from_file(str(root / "tokenizers" / "l2_supercat_tokenizer_config.json"))
        with safe_open(str(root / "weights" / "l2_supercat_256.safetensors"), framework="np", device="cpu") as f:
            table = f.get_tensor("embedding.weight")
        _EMBEDDER = WordLlamaInference(table, tokenizer, binary=False)
    except Exception as e:  # missing package or a changed layout: lexical signals still work
        import logging

        logging.getLogger(__name__).info("sentence embeddings unavailable (%s); using word overlap only", e)
        _EMBEDDER = None
    return _EMBEDDER


def embed(texts: list[str]):
    """Unit-length sentence vectors (n x 256 float32), or None without an embedder."""
    import numpy as np

    model = embedder()
    if model is None or not texts:
        return None
    vectors = np.asarray(model.embed(texts, norm=False), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-9)


# A light Porter-style stemmer: enough to tie "oscillate", "oscillating",
# "oscillation" and "oscillations" together for lexical cohesion, which plural
# folding alone misses. Not a lemmatiser: stems need not be words ("oscil").
_STEP2 = (
    ("ational", "ate"), ("tional", "tion"), ("enci", "ence"), ("anci", "ance"), ("izer", "ize"),
    ("ization", "ize"), ("ation", "ate"), ("ator", "ate"), ("alism", "al"), ("iveness", "ive"),
    ("fulness", "ful"), ("ousness", "ous"), ("aliti", "al"), ("iviti", "ive"), ("biliti", "ble"),
    ("alli", "al"), ("entli", "ent"), ("eli", "e"), ("ousli", "ous"),
)
_STEP3 = (("icate", "ic"), ("ative", ""), ("alize", "al"), ("iciti", "ic"), ("ical", "ic"), ("ful", ""), ("ness", ""))
_STEP4 = (
    "ement", "ment", "ance", "ence", "able", "ible", "ant", "ent", "ism", "ate", "iti", "ous", "ive", "ize",
    "ion", "al", "er", "ic",
)
_VOWEL = re.compile(r"[aeiouy]")


def _measure(stem: str) -> int:
    """Porter's m: the number of vowel-consonant sequences in a stem."""
    form = "".join("v" if c in "aeiou" or (c == "y" and i and stem[i - 1] not in "aeiou") else "c" for i, c in enumerate(stem))
    return len(re.findall(r"v+c+", form))


def stem(word: str) -> str:
    """A Porter-style stem of a lower-case word ("oscillations" -> "oscil"); in other
    languages, Snowball's stem (`lemma`)."""
    if not is_english():
        return lemma(word)
    w = singular(word)
    if len(w) <= 4:
        return w
    if w.endswith("eed"):
        if _measure(w[:-3]) > 0:
            w = w[:-1]
    else:
        for suf in ("ing", "ed"):
            if w.endswith(suf) and _VOWEL.search(w[: -len(suf)]) and len(w) - len(suf) >= 3:
                w = w[: -len(suf)]
                if w.endswith(("at", "bl", "iz")):
                    w += "e"
                elif len(w) > 2 and w[-1] == w[-2] and w[-1] not in "lsz":
                    w = w[:-1]
                break
    if w.endswith("y") and len(w) > 3 and _VOWEL.search(w[:-1]):
        w = w[:-1] + "i"
    for table in (_STEP2, _STEP3):
        for suf, rep in table:
            if w.endswith(suf):
                if _measure(w[: -len(suf)]) > 0:
                    w = w[: -len(suf)] + rep
                break
    for suf in _STEP4:
        if w.endswith(suf):
            base = w[: -len(suf)]
            if _measure(base) > 1 and (suf != "ion" or base.endswith(("s", "t"))):
                w = base
            break
    if w.endswith("e") and _measure(w[:-1]) > 1:
        w = w[:-1]
    if w.endswith("ll") and _measure(w) > 1:
        w = w[:-1]
    return w


def stems(text: str) -> list[str]:
    """Stems of the content words of `text`: the vocabulary of lexical cohesion."""
    return [stem(t) for t in content_words(text)]


# ---------------------------------------------------------------------------- spoken headings

# A presenter reading from an outline says the part's name before its first sentence:
# "Early history. The region was settled..." Whisper writes that as a sentence of its
# own, or runs it into the next ("Early history, the region was settled...") or the
# previous one ("... along the rivers, geography."). A heading is a short noun
# phrase: it does not open with a preposition, pronoun, conjunction, interjection or
# adverb ("In 1990, ...", "However, ...", "Okay, ...", "Finally, ...") and holds no verb.
_NUMBERED_PART = re.compile(
    r"^(?:part|section|chapter|module|unit|topic|step|lesson|session|item|agenda item)\s+"
    r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|[ivx]+)\b[\s.,:;-]*(?P<t>.*)$",
    re.I,
)
_HEAD_SPLIT = re.compile(r"^(?P<h>[^,.:;!?]{2,60})(?:[,.:;]|\s[-–—])\s+(?P<rest>.+)$")
_ARTICLES = frozenset({"a", "an", "the"})
_HEAD_VERBS = frozenset(
    """is are was were be been being am has have had do does did can could will would shall should may might must
    get got gets let go goes went said says think know see saw want like looks look seems become became came
    made make makes take took give gave find found tell told""".split()
)
_HEAD_TIMES = frozenset("year years day days week weeks month months decade decades century centuries time times morning evening night afternoon".split())
_HEAD_INTERJECTIONS = frozenset(
    "yes no yeah yep nope okay ok alright right well so now oh ah hey hi hello thanks thank sure good great fine "
    "wow cool please sorry anyway also first second third fourth fifth next finally lastly then today "
    # discourse words that open a clause, not a part
    "nevertheless nonetheless meanwhile moreover furthermore hence therefore thus likewise besides otherwise "
    "consequently accordingly subsequently similarly conversely additionally overall indeed instead remember "
    "suppose imagine note notice recall consider according unlike despite along together except including "
    "welcome greetings ladies folks guys friends everyone everybody "
    "regardless earlier later moving boy man aha ooh oops eureka amazing believe watch needless voila".split()
)

_HEAD_ADVERBS = frozenset(
    "nearly almost really exactly clearly actually basically obviously probably certainly absolutely simply "
    "mostly fairly quite pretty roughly approximately slightly completely totally extremely perfectly precisely "
    "definitely surely hardly barely merely entirely highly maybe perhaps even still always usually "
    "essentially literally apparently hopefully unfortunately fortunately interestingly surprisingly".split()
)
_POSSESSIVES = frozenset("his her its their my our your".split())
_HEAD_PRONOUNS = frozenset("i me we us you it he him she her they them itself myself yourself ourselves themselves".split())


def _heading_words(phrase: str) -> list[str] | None:
    words = phrase.split()
    if not 1 <= len(words) <= 6:
        return None
    low = [w.lower().strip("\"'()") for w in words]
    if any(not re.fullmatch(r"[a-z][a-z'&\-]*", w) for w in low):
        return None  # numbers ("In 1990"), symbols
    if any(len(w) > 1 and w.isupper() for w in words):
        return None  # a speaker label ("LEWIN:") or an acronym said as a clause subject
    first = low[0]
    if first in _HEAD_INTERJECTIONS or (first in STOPWORDS and first not in _ARTICLES):
        return None
    if len(low) == 1 and first.endswith("ly"):
        return None  # "Historically, ..."
    if first in _HEAD_ADVERBS:
        return None  # a fragment of speech: "Nearly frictionless.", "Really important."
    if any(w in _HEAD_PRONOUNS for w in low):
        return None  # a clause with its object: "Force it about that point."
    if any(w in _HEAD_VERBS or "'" in w for w in low):
        return None
    if low[-1] in _HEAD_TIMES:
        return None  # "The following year, ..."
    if low[-1] in _ABBREVIATIONS:
        return None  # cut at an abbreviation's full stop: "The book reached No. 1 on ..."
    if not content_words(phrase):
        return None
    return words


class Heading(NamedTuple):
    title: str
    alone: bool  # said as a sentence of its own ("Culture." / "Part two: pricing."), not run into one


_REPEATED = re.compile(r"\b([\w'-]+)(?:[\s,]+\1\b)+", re.I)


def opens_lower(text: str) -> bool:
    """Whisper opens a sentence with a capital; a lower-case one is the tail of the
    sentence before it ("... and natural gas.") that a full stop split off."""
    return bool(re.match(r"^\W*[a-z]", _FILLER.sub("", text).strip()))


# what a presenter says before naming the next part ("Finally, the French Revolution.")
# followed by an article or a name: "Next, press the button." is an instruction
_SEQUENCE_OPENER = re.compile(r"^(?:[Aa]nd\s+)?(?:[Ff]inally|[Ll]astly|[Ll]ast of all|[Nn]ext|[Tt]o finish)\s*[,:]\s*(?=(?:the|our|[A-Z])\b|[A-Z])")


def spoken_heading(text: str) -> Heading | None:
    """The heading a sentence opens with ("Early history, the region was..." ->
    "Early history"; "Part two: pricing. ..." -> "Pricing"; "Part two." -> "Part two"),
    or None when it opens with an ordinary clause. English only: what tells a heading
    from a short clause here is English grammar ("Parlons des volcans." is not one)."""
    if not is_english():
        return None
    raw = _FILLER.sub("", text).strip()
    opens = not opens_lower(text)
    text = remove_fillers(text).strip()
    m = _NUMBERED_PART.match(text)
    if m:
        rest = m.group("t").strip()
        head = _HEAD_SPLIT.match(rest)
        named = head.group("h") if head else rest.rstrip(".!?")
        if named and _heading_words(named):
            return Heading(named[0].upper() + named[1:], True)
        return Heading(text[: m.start("t")].strip(" .,:;-").capitalize(), True)
    if text.endswith("?"):
        return None
    bare = text.rstrip(".!,;:")
    m = _SEQUENCE_OPENER.match(bare)
    if m and _heading_words(bare[m.end():]) is not None:
        # "Finally, the French Revolution.": the part named as the presenter moves on
        named = bare[m.end():]
        return Heading(named[0].upper() + named[1:], opens and not raw.endswith((",", ";", ":")))
    if _heading_words(bare) is not None:
        # the whole sentence is the heading: "Culture." (one ending in a comma was cut
        # off its sentence at a pause, which readers also make inside lists)
        return Heading(bare, opens and not raw.endswith((",", ";", ":")))
    m = _HEAD_SPLIT.match(text)
    if m is None or len(m.group("rest").split()) < 4:
        return None
    if text[m.end("h")] in ".!" and opens_lower(m.group("rest")):
        # "Gannistan. making the ancient...": a sentence broken at the edge of a decoding
        # chunk, joined again by `sentences`
        return None
    words = _heading_words(m.group("h"))
    if words is None or len(words) > 5:
        return None
    if any(w.lower() in _POSSESSIVES for w in words):
        return None  # an adverbial opener: "Early in his career, Agassi..."
    # "Afroasiatic, Afroasiatic, also known as..." (a name said twice)
    return Heading(_REPEATED.sub(r"\1", m.group("h").strip()), opens and text[m.end("h")] in ".:")
