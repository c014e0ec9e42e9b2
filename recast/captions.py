"""Captions: re-cut cues from word timings, and read and write WebVTT and SRT.

Whisper's own writers make one cue per segment with no wrapping, so a segment of
30 words becomes one unreadable block. `make_cues` cuts cues from the word
timings instead, following the Netflix English timed-text style guide and the
BBC subtitle guidelines: at most 42 characters a line and 2 lines a cue, 5/6 s
to 7 s on screen, 17-20 characters a second at most, line breaks after
punctuation or before conjunctions and prepositions, never between an article
and its noun or a first and last name, and a pause over 1.5 s ends a cue.

The writers and parsers are our own rather than pysubs2's: the rules we need
(exactly three decimals, escaping, milliseconds rounded as a whole, tolerant
reading of Zoom/Teams exports, keeping speaker labels) are easier to state here
than to coax out of a general library. pysrt is GPL and must not be used.
"""

from __future__ import annotations

import bisect
import html
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TextIO

from .errors import RecastError
from .models import Cue, Word
from .text import CJK_LETTER, UNSPACED, base_language, unspaced_words

# Netflix English template: a gap between two cues shorter than 0.5 s (12 frames
# at 24 fps) should be closed, so captions do not flicker off and on.
CHAIN_GAP = 0.5  # seconds

# Characters a line in the scripts written without spaces between words, from
# Netflix's timed-text style guides (Simplified and Traditional Chinese 16, Japanese
# 13, Korean 16): their characters are about twice as wide as Latin letters.
LINE_CHARS = {"zh": 16, "yue": 16, "ja": 13, "ko": 16}


def line_chars(language: str | None, limit: int) -> int:
    """Characters a caption line may hold in `language` (a Whisper code), at most `limit`."""
    return min(limit, LINE_CHARS.get(base_language(language), limit))


# Netflix aims at 17 characters a second for adults; `max_cps` (20) is where we warn.
TARGET_CPS_RATIO = 17 / 20

_SENTENCE_END = re.compile(r"[.!?…。！？]['\"”’)\]»]*$")
_CLAUSE_END = re.compile(r"[,;:—–\-、，；：)\]]['\"”’]*$")
# "Dr." is not the end of a sentence; it belongs with the name after it.
_TITLES = {"mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "sr.", "jr.", "mt.", "gen.", "capt.", "rev."}
_NON_FINAL_ABBREVIATIONS = {"e.g.", "i.e.", "vs.", "cf.", "approx."}
_ARTICLES = {
    "a", "an", "the", "this", "these", "those", "my", "your", "his", "her", "its", "our",
    "their", "some", "any", "each", "every", "either", "neither", "another", "such", "whose",
}
_PREPOSITIONS = {
    "of", "in", "on", "at", "to", "for", "with", "from", "by", "about", "into", "onto", "over",
    "under", "after", "before", "between", "through", "during", "without", "within", "across",
    "against", "along", "among", "around", "behind", "below", "beneath", "beside", "beyond",
    "like", "near", "toward", "towards", "upon", "via", "than", "per", "inside", "outside",
    "throughout", "despite", "except", "unlike",
}
_CONJUNCTIONS = {
    "and", "but", "or", "nor", "so", "yet", "because", "which", "that", "who", "whom", "when",
    "where", "while", "whereas", "whether", "if", "although", "though", "since", "unless",
    "until", "once", "as", "then", "how", "what", "why",
}
# Words that lean on the next one: "I | am", "will | be", "not | only".
_CLINGING = {"i", "we", "you", "they", "he", "she", "will", "would", "can", "could", "should",
             "must", "not", "very", "more", "most", "just", "really", "to"}

_FUNCTION_WORDS = _ARTICLES | _PREPOSITIONS | _CONJUNCTIONS | _CLINGING | {"it", "yes", "no", "okay", "ok", "well"}

# Penalties for ending a line (first value) or a cue (second value) at a word
# boundary. Only their order matters much: a sentence end is best, then a clause,
# then before a conjunction or preposition; after an article is nearly forbidden.
_P_SENTENCE = (-1.0, 0.0)  # below zero: it pays back _MID_LINE_SENTENCE when the line breaks there
_P_CLAUSE = (0.5, 3.0)
_P_CONJUNCTION = (1.5, 5.0)
_P_PREPOSITION = (2.0, 6.0)
_P_NEUTRAL = (4.0, 12.0)
_P_CLINGING = (7.0, 15.0)
_P_AFTER_PREPOSITION = (9.0, 18.0)
_P_NAME = (25.0, 30.0)
_P_ARTICLE = (40.0, 45.0)
_P_INSIDE_WORD = (4.0, 6.0)  # between the pieces of a word too long for a line
_P_INSIDE_CJK_WORD = (12.0, 20.0)  # between two characters of one Chinese or Japanese word

_MID_LINE_SENTENCE = 1.0  # a sentence ending inside a cue, unless a line breaks there
_CUE_COST = 4.0  # per cue: fills cues rather than scattering short ones
_SPLIT_LINES_COST = 1.0  # per line after the first (text that fits one line always gets one)
_CPS_OVER_MAX = 3.0  # per character-a-second above max_cps
_CPS_OVER_TARGET = 0.5  # per character-a-second above the 17 cps target
_TOO_SHORT = 30.0  # per second below min_duration: Netflix's 5/6 s is close to a hard rule
_MIN_READ_TIME = 0.05  # seconds; keeps a divide-by-zero out of the cps of stacked zero-length words
_PAUSE_BONUS = 3.0  # a silence of 0.5 s or more between words is a natural cue end
_BONUS_GAP = 0.5  # seconds


@dataclass(frozen=True)
class CaptionStats:
    """How a set of cues measures against the readability rules."""

    cues: int
    over_speed: int  # cues faster than max_cps
    max_cps: float  # the fastest cue's characters a second
    lines_over_limit: int  # lines longer than max_chars
    too_many_lines: int = 0  # cues with more than max_lines lines
    too_short: int = 0  # cues shorter than min_duration
    too_long: int = 0  # cues longer than max_duration
    cps_limit: float = 20.0

    @property
    def message(self) -> str:
        """The line the pipeline logs, e.g. '3 of 412 cues faster than 20 cps'."""
        return f"{self.over_speed} of {self.cues} cues faster than {self.cps_limit:g} cps"

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------- cutting


def _is_unspaced_script(ch: str) -> bool:
    """Scripts written without spaces between words (CJK, Thai, Lao, Khmer, Myanmar)."""
    o = ord(ch)
    return (
        0x2E80 <= o <= 0x9FFF  # CJK radicals, punctuation, kana, unified ideographs
        or 0xF900 <= o <= 0xFAFF
        or 0xFF00 <= o <= 0xFFEF  # full-width forms and punctuation
        or 0x0E00 <= o <= 0x0EFF  # Thai, Lao
        or 0x1000 <= o <= 0x109F  # Myanmar
        or 0x1780 <= o <= 0x17FF  # Khmer
        or 0x20000 <= o <= 0x3FFFF
    )


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc
_HIRAGANA = re.compile("[\u3041-\u309f]")


def _clean(text: str) -> str:
    """One line of text: whitespace runs (newlines too) become one space; control characters go."""
    text = " ".join(text.split())
    if _CONTROL.search(text):
        text = " ".join(_CONTROL.sub("", text).split())
    return text


def _finite(x: float, default: float) -> float:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return default
    return x if math.isfinite(x) else default


class _Tokens:
    """Words prepared for cutting: cleaned text, times made monotonic, long words split."""

    def __init__(self, words: Iterable[Word], max_chars: int, max_duration: float):
        self.text: list[str] = []
        self.sep: list[int] = []  # 1 when a space goes before this token, 0 when it is glued on
        self.start: list[float] = []
        self.end: list[float] = []
        prev_start = 0.0
        for w in words:
            raw = w.word if isinstance(w.word, str) else ""
            text = _clean(raw)
            if not text:
                continue
            # Whisper keeps words in spoken order even when their timings overlap or
            # step back, so keep the order and make the times monotonic instead of sorting.
            start = max(_finite(w.start, prev_start), prev_start, 0.0)
            end = max(_finite(w.end, start), start)
            end = min(end, start + max_duration)  # a word "lasting" 30 s is an alignment error
            prev_start = start
            # Whisper starts each word with a space; a token without one continues the
            # word before it: "2" ".5", "1" ",000", "U" ".S.", "30" "%", "so" "-called",
            # and every token of a script written without spaces.
            glued = bool(self.text) and not raw[:1].isspace()
            if len(text) <= max_chars and " " not in text:
                self._add(text, 0 if glued else 1, start, end)
                continue
            # A "word" holding spaces (from an imported transcript) is several words;
            # one longer than a line (a URL, a run of CJK) is cut into line-sized
            # pieces. The word's time is shared in proportion to the characters.
            offset = 0
            for part_no, part in enumerate(text.split(" ")):
                for k in range(0, len(part), max_chars):
                    piece = part[k : k + max_chars]
                    a, b = offset + k, offset + k + len(piece)
                    sep = 0 if (k or (part_no == 0 and glued)) else 1
                    self._add(piece, sep, start + (end - start) * a / len(text), start + (end - start) * b / len(text))
                offset += len(part) + 1
        n = len(self.text)
        # Prefix sums give any run's length in O(1): run [i, j) on one line is
        # lens[i:j] plus the spaces before tokens i+1 .. j-1.
        self.P = [0] * (n + 1)
        self.S = [0] * (n + 1)
        for k in range(n):
            self.P[k + 1] = self.P[k] + len(self.text[k])
            self.S[k + 1] = self.S[k] + (self.sep[k] if k else 0)
        self.C = [self.P[k] + self.S[k] for k in range(n + 1)]  # increasing in k
        self.D = [self.P[k] + self.S[min(k + 1, n)] for k in range(n + 1)]

    def _add(self, text: str, sep: int, start: float, end: float) -> None:
        self.text.append(text)
        self.sep.append(sep)
        self.start.append(start)
        self.end.append(end)

    def __len__(self) -> int:
        return len(self.text)

    def width(self, i: int, j: int) -> int:
        """Characters of tokens [i, j) set on one line."""
        return self.C[j] - self.P[i] - self.S[i + 1]

    def join(self, i: int, j: int) -> str:
        parts = [self.text[i]]
        for k in range(i + 1, j):
            if self.sep[k]:
                parts.append(" ")
            parts.append(self.text[k])
        return "".join(parts)


def _bare(word: str) -> str:
    return word.strip("\"'“”‘’()[]{}«»¿¡").lower()


def _is_capitalised(word: str) -> bool:
    w = word.strip("\"'“”‘’([{«")
    return len(w) > 1 and w[0].isupper() and w[1:2].isalpha() and w.rstrip(".,'’s").isalpha()


def _inside_words(tokens: _Tokens, language: str | None) -> set[int]:
    """Tokens after which a break would fall inside a Chinese or Japanese word: Whisper
    times those scripts character by character, and only a segmenter knows the words."""
    code = base_language(language)
    if code not in UNSPACED:
        return set()
    inside: set[int] = set()
    text, sep = tokens.text, tokens.sep
    k, n = 0, len(tokens)
    while k < n:
        j = k + 1  # [k, j): a run of glued tokens that start with a CJK letter
        if CJK_LETTER.match(text[k]):
            while j < n and not sep[j] and CJK_LETTER.match(text[j]):
                j += 1
        if j - k > 1:
            ends, at = set(), 0
            for word in unspaced_words("".join(text[k:j]), code):
                at += len(word)
                ends.add(at)
            at = 0
            for m in range(k, j - 1):
                at += len(text[m])
                if at not in ends:
                    inside.add(m)
        k = j
    return inside


def _boundary_penalties(tokens: _Tokens, language: str | None = None) -> tuple[list[float], list[float]]:
    """(line, cue) penalty for breaking after each token; the last entry is unused."""
    n = len(tokens)
    line_pen = [0.0] * n
    cue_pen = [0.0] * n
    text, start, end, sep = tokens.text, tokens.start, tokens.end, tokens.sep
    inside = _inside_words(tokens, language)
    japanese = base_language(language) == "ja"
    for k in range(n - 1):
        a, b = text[k], text[k + 1]
        la, lb = a.lower(), _bare(b)
        if not sep[k + 1] and not _is_unspaced_script(a[-1]) and not _is_unspaced_script(b[0]):
            p = _P_INSIDE_WORD
        elif k in inside:
            p = _P_INSIDE_CJK_WORD
        elif japanese and _HIRAGANA.match(a[-1]) and CJK_LETTER.match(b[0]) and not _HIRAGANA.match(b[0]):
            p = _P_CONJUNCTION  # kana ending, then a kanji or katakana word: a phrase (bunsetsu) ends
        elif la in _TITLES:
            p = _P_NAME
        elif _SENTENCE_END.search(a) and la not in _NON_FINAL_ABBREVIATIONS:
            p = _P_SENTENCE
        elif _CLAUSE_END.search(a):
            p = _P_CLAUSE
        elif _bare(a) in _ARTICLES:
            p = _P_ARTICLE
        elif _is_capitalised(a) and _is_capitalised(b) and _bare(a) not in _FUNCTION_WORDS:
            p = _P_NAME  # "Ada | Lovelace": two capitalised words, likely one name
        elif lb in _CONJUNCTIONS:
            p = _P_CONJUNCTION
        elif lb in _PREPOSITIONS:
            p = _P_PREPOSITION
        elif _bare(a) in _PREPOSITIONS:
            p = _P_AFTER_PREPOSITION
        elif _bare(a) in _CLINGING:
            p = _P_CLINGING
        else:
            p = _P_NEUTRAL
        line_pen[k], cue_pen[k] = p
        gap = start[k + 1] - end[k]
        if gap > 0:
            cue_pen[k] = max(0.0, cue_pen[k] - _PAUSE_BONUS * min(gap / _BONUS_GAP, 1.0))
    return line_pen, cue_pen


class _Layout:
    """Where to break one cue's words into lines."""

    def __init__(self, tokens: _Tokens, line_pen: list[float], max_chars: int, max_lines: int):
        self.t = tokens
        self.pen = line_pen
        self.mc = max_chars
        self.ml = max_lines

    def cost(self, i: int, j: int) -> float | None:
        """Cost of the best layout of tokens [i, j), or None when they cannot fit."""
        found = self.best(i, j)
        return None if found is None else found[0]

    def best(self, i: int, j: int) -> tuple[float, tuple[int, ...]] | None:
        t, mc = self.t, self.mc
        total = t.width(i, j)
        if total <= mc:
            return 0.0, ()
        if self.ml == 1:
            return None
        if self.ml == 2:
            return self._two_lines(i, j)
        return self._many_lines(i, j)

    def _two_lines(self, i: int, j: int) -> tuple[float, tuple[int, ...]] | None:
        t, mc = self.t, self.mc
        # Line 2 starts at token k: line 1 = [i, k), line 2 = [k, j).
        base1 = t.P[i] + t.S[i + 1]
        kmax = bisect.bisect_right(t.C, base1 + mc, i + 1, j) - 1  # last k with width(i,k) <= mc
        end2 = t.C[j]
        kmin = bisect.bisect_left(t.D, end2 - mc, i + 1, j)  # first k with width(k,j) <= mc
        best: tuple[float, tuple[int, ...]] | None = None
        for k in range(max(kmin, i + 1), min(kmax, j - 1) + 1):
            l1 = t.C[k] - base1
            l2 = end2 - t.D[k]
            # Bottom-heavy (a pyramid) reads well; a long top line over a short one less so.
            balance = (l2 - l1) / mc * 3.0 if l2 >= l1 else (l1 - l2) / mc * 6.0
            c = self.pen[k - 1] + balance + _SPLIT_LINES_COST
            if best is None or c < best[0]:
                best = (c, (k,))
        return best

    def _many_lines(self, i: int, j: int) -> tuple[float, tuple[int, ...]] | None:
        # Minimum-raggedness line breaking (Knuth-Plass in miniature), at most ml lines.
        t, mc, ml = self.t, self.mc, self.ml
        inf = math.inf
        # cost[l][k]: best cost of setting [i, k) on l lines.
        cost = [[inf] * (j + 1) for _ in range(ml + 1)]
        back = [[-1] * (j + 1) for _ in range(ml + 1)]
        cost[0][i] = 0.0
        for lines in range(1, ml + 1):
            for k in range(i + 1, j + 1):
                for s in range(k - 1, i - 1, -1):
                    w = t.width(s, k)
                    if w > mc:
                        break
                    if cost[lines - 1][s] == inf:
                        continue
                    c = cost[lines - 1][s] + (((mc - w) / mc) ** 2 * 3.0 if k < j else 0.0)
                    if s > i:
                        c += self.pen[s - 1] + _SPLIT_LINES_COST
                    if c < cost[lines][k]:
                        cost[lines][k] = c
                        back[lines][k] = s
        best_lines = min(range(1, ml + 1), key=lambda n: cost[n][j])
        if cost[best_lines][j] == inf:
            return None
        breaks = []
        k, lines = j, best_lines
        while lines > 0:
            s = back[lines][k]
            if s > i:
                breaks.append(s)
            k, lines = s, lines - 1
        return cost[best_lines][j], tuple(reversed(breaks))


def make_cues(
    words: Sequence[Word],
    *,
    max_chars: int = 42,
    max_lines: int = 2,
    min_duration: float = 5 / 6,
    max_duration: float = 7.0,
    max_cps: float = 20.0,
    pause: float = 1.5,
    breaks: Sequence[float] = (),
    language: str | None = None,
) -> list[Cue]:
    """Cut caption cues from word timings.

    `language` (Whisper's code) tells where the words of Chinese and Japanese end, so
    that no line breaks inside one.

    `breaks` are times no cue may span (chapter starts): a cue ends at or before each,
    so a chapter's clip, or the player after a jump to a chapter, never opens on the
    last words of the chapter before.

    Cues never overlap, start strictly later than the cue before, last at least a
    millisecond, and hold every word once, in order. Lines fit `max_chars` (a single
    word longer than that is cut into line-sized pieces), cues fit `max_lines`.
    Within those limits a dynamic programme picks the cue ends and line breaks that
    read best: sentence ends, clause ends and pauses; balanced lines; no cue faster
    than `max_cps` where the surrounding silence allows it to stay longer. Times are
    rounded to whole milliseconds, as the caption formats store them.
    """
    if max_chars < 1 or max_lines < 1:
        raise ValueError("max_chars and max_lines must be at least 1")
    if not (0 < min_duration <= max_duration) or max_cps <= 0 or pause < 0:
        raise ValueError("need 0 < min_duration <= max_duration, max_cps > 0 and pause >= 0")
    tokens = _Tokens(words, max_chars, max_duration)
    n = len(tokens)
    if not n:
        return []
    line_pen, cue_pen = _boundary_penalties(tokens, language)
    # sentences[k]: sentence ends among the boundaries after tokens 0 .. k-1.
    sentences = [0] * (n + 1)
    for k in range(n):
        sentences[k + 1] = sentences[k] + (line_pen[k] == _P_SENTENCE[0] and k < n - 1)
    layout = _Layout(tokens, line_pen, max_chars, max_lines)
    starts, ends = tokens.start, tokens.end
    capacity = max_lines * max_chars + (max_lines - 1)
    target_cps = max_cps * TARGET_CPS_RATIO

    # A pause longer than `pause` ends a cue whatever else holds: cut the words
    # into blocks at those pauses and cue each block on its own.
    groups: list[tuple[int, int]] = []
    block_start = 0
    speech_end = ends[0]
    walls = sorted(b for b in breaks if math.isfinite(b))
    w = bisect.bisect_right(walls, starts[0])  # the first break after the first word
    for k in range(1, n + 1):
        wall = k < n and w < len(walls) and starts[k] >= walls[w]
        if wall:
            w = bisect.bisect_right(walls, starts[k])
        if k == n or wall or starts[k] - speech_end > pause:
            groups.extend(_cut_block(block_start, k, tokens, cue_pen, sentences, layout, capacity,
                                     max_duration, min_duration, max_cps, target_cps))
            block_start = k
        if k < n:
            speech_end = max(speech_end, ends[k]) if k > block_start else ends[k]
    return _timed_cues(groups, tokens, layout, min_duration, max_duration, max_cps, walls)


def _cut_block(b0, b1, tokens, cue_pen, sentences, layout, capacity, max_duration, min_duration, max_cps, target_cps):
    """Best cue ends for tokens [b0, b1): a shortest path over word boundaries."""
    starts, ends = tokens.start, tokens.end
    next_start = starts[b1] if b1 < len(tokens) else math.inf
    inf = math.inf
    best = [inf] * (b1 - b0 + 1)
    back = [0] * (b1 - b0 + 1)
    best[0] = 0.0
    C, P, S = tokens.C, tokens.P, tokens.S
    mc = layout.mc
    for j in range(b0 + 1, b1 + 1):
        end_cost = _CUE_COST + (cue_pen[j - 1] if j < b1 else 0.0)
        after = starts[j] if j < b1 else next_start
        c_j = C[j]
        best_j = inf
        back_j = j - 1
        speech_end = 0.0
        # This loop runs ~20 times per word: kept lean, since an hour of speech
        # is 10,000 words.
        for i in range(j - 1, b0 - 1, -1):
            if ends[i] > speech_end:
                speech_end = ends[i]
            width = c_j - P[i] - S[i + 1]
            start = starts[i]
            if i < j - 1 and (width > capacity or speech_end - start > max_duration):
                break  # adding more words only makes the cue longer
            prev = best[i - b0]
            if prev == inf:
                continue
            # The longest this cue could stay up: until the next cue, at most max_duration.
            shown = (after if after < start + max_duration else start + max_duration) - start
            if after >= speech_end and speech_end - start > shown:
                shown = speech_end - start
            cps = width / (shown if shown > _MIN_READ_TIME else _MIN_READ_TIME)
            c = prev + end_cost + (sentences[j - 1] - sentences[i]) * _MID_LINE_SENTENCE
            if cps > target_cps:
                c += (cps - target_cps) * _CPS_OVER_TARGET
                if cps > max_cps:
                    c += (cps - max_cps) * _CPS_OVER_MAX
            if shown < min_duration:
                c += (min_duration - shown) * _TOO_SHORT
            if c >= best_j:
                continue  # a layout costs >= 0, so this cannot win
            if width > mc:
                lay = layout.cost(i, j)
                if lay is None:
                    break  # fewer words fit nowhere either
                c += lay
                if c >= best_j:
                    continue
            best_j = c
            back_j = i
        best[j - b0] = best_j
        back[j - b0] = back_j
    groups = []
    j = b1
    while j > b0:
        i = back[j - b0]
        groups.append((i, j))
        j = i
    groups.reverse()
    return groups


def _timed_cues(groups, tokens, layout, min_duration, max_duration, max_cps, walls=()) -> list[Cue]:
    """Set each cue's lines and times, in whole milliseconds; no cue runs past the
    first of `walls` (sorted times) after its start."""
    starts = []
    prev = -1
    for i, _ in groups:
        s = max(_ms(tokens.start[i]), prev + 1)  # starts strictly increase
        starts.append(s)
        prev = s
    min_ms, max_ms = round(min_duration * 1000), round(max_duration * 1000)
    cues = []
    for n, (i, j) in enumerate(groups):
        s = starts[n]
        speech_end = _ms(max(tokens.end[i:j]))
        nxt = starts[n + 1] if n + 1 < len(starts) else math.inf
        w = bisect.bisect_right(walls, s / 1000)
        if w < len(walls):
            nxt = min(nxt, max(_ms(walls[w]), s + 1))
        # Stay up long enough to read at the 17 cps target when the silence allows.
        reading = math.ceil(tokens.width(i, j) / (max_cps * TARGET_CPS_RATIO) * 1000)
        want = max(speech_end, s + min_ms, s + reading)
        want = max(min(want, s + max_ms), speech_end)
        if nxt - want < CHAIN_GAP * 1000 and nxt - s <= max_ms:
            want = nxt
        e = max(min(want, nxt), s + 1)
        found = layout.best(i, j)
        breaks = found[1] if found else ()
        bounds = [i, *breaks, j]
        lines = tuple(tokens.join(a, b) for a, b in zip(bounds, bounds[1:]))
        cues.append(Cue(start=s / 1000, end=e / 1000, lines=lines))
    return cues


# --------------------------------------------------------------------------- measuring


def cue_cps(cue: Cue) -> float:
    """Characters a second (spaces counted, a line break counts as one)."""
    chars = len(" ".join(cue.lines))
    return chars / max(cue.end - cue.start, 1e-3)


def caption_stats(
    cues: Sequence[Cue],
    max_cps: float = 20.0,
    *,
    max_chars: int = 42,
    max_lines: int = 2,
    min_duration: float = 5 / 6,
    max_duration: float = 7.0,
) -> CaptionStats:
    """Count how many cues break the readability rules."""
    speeds = [cue_cps(c) for c in cues]
    eps = 1e-6
    return CaptionStats(
        cues=len(cues),
        over_speed=sum(s > max_cps + eps for s in speeds),
        max_cps=round(max(speeds, default=0.0), 2),
        lines_over_limit=sum(len(line) > max_chars for c in cues for line in c.lines),
        too_many_lines=sum(len(c.lines) > max_lines for c in cues),
        too_short=sum(c.end - c.start < min_duration - 1e-3 for c in cues),
        too_long=sum(c.end - c.start > max_duration + 1e-3 for c in cues),
        cps_limit=max_cps,
    )


MIN_SLICE = 0.25  # s: less of a cue cut by a clip's edge flashes by unread


def slice_cues(cues: Sequence[Cue], start: float, end: float) -> list[Cue]:
    """The cues seen in [start, end), clipped to it and shifted so `start` becomes 0.
    What is left of a cut cue is dropped when too short to read."""
    out = []
    for c in cues:
        if c.end <= start or c.start >= end:
            continue
        s = round(max(c.start, start) - start, 3)
        e = round(min(c.end, end) - start, 3)
        cut = c.start < start or c.end > end
        if e > s and not (cut and e - s < MIN_SLICE):
            out.append(Cue(start=s, end=e, lines=c.lines))
    return out


# --------------------------------------------------------------------------- writing


def _ms(seconds: float) -> int:
    """Whole milliseconds, rounded half up; never negative."""
    return max(0, math.floor(float(seconds) * 1000 + 0.5))


def format_timestamp(seconds: float, sep: str = ".") -> str:
    """`hh:mm:ss.ttt` (or with `sep=","` SRT's `hh:mm:ss,ttt`).

    The whole time is rounded to milliseconds before it is split, so 59.9996 s is
    `00:01:00.000`, never `00:00:59.1000`.
    """
    ms = _ms(seconds)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{sep}{ms:03d}"


def _cue_lines(cue: Cue) -> list[str]:
    """The cue's text as non-blank lines (a blank line would end the cue)."""
    return [line for raw in cue.lines for line in (_clean(part) for part in str(raw).splitlines()) if line]


def _vtt_escape(line: str) -> str:
    # Escaping ">" also keeps "-->" out of the text.
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _times(cue: Cue) -> tuple[int, int]:
    s = _ms(cue.start)
    return s, max(_ms(cue.end), s + 1)  # a zero-length cue is invalid in both formats


def write_vtt(cues: Iterable[Cue], fp: TextIO) -> None:
    """Write cues as WebVTT. Cues without text are left out."""
    fp.write("WEBVTT\n")
    for cue in cues:
        lines = _cue_lines(cue)
        if not lines:
            continue
        s, e = _times(cue)
        fp.write(f"\n{format_timestamp(s / 1000)} --> {format_timestamp(e / 1000)}\n")
        for line in lines:
            fp.write(_vtt_escape(line) + "\n")


def write_srt(cues: Iterable[Cue], fp: TextIO) -> None:
    """Write cues as SubRip, numbered from 1. Cues without text are left out.

    SRT has no escapes: text goes out as it is, except that "-->" becomes "->"
    because many players take any line holding it for a timing line.
    """
    index = 0
    for cue in cues:
        lines = _cue_lines(cue)
        if not lines:
            continue
        index += 1
        s, e = _times(cue)
        if index > 1:
            fp.write("\n")
        fp.write(f"{index}\n{format_timestamp(s / 1000, ',')} --> {format_timestamp(e / 1000, ',')}\n")
        for line in lines:
            fp.write(line.replace("-->", "->") + "\n")


# --------------------------------------------------------------------------- reading

_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{1,2})(?:[.,](\d{1,3}))?"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(?:\s+.*)?$")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]*)>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_SRT_TAG = re.compile(r"</?(?:i|b|u|s|font)(?:\s[^>]*)?>|\{\\[^}]*\}", re.IGNORECASE)
# "Alice Chen: text", as Zoom writes speakers: a short name-like prefix.
_SPEAKER_PREFIX = re.compile(r"^([^\W\d][\w.'’\- ]{0,40}?(?:\s*\([^)]{1,40}\))?):\s+(?=\S)")


@dataclass(frozen=True)
class ParsedCue:
    """A cue read from a file, with the speaker named in it, if any."""

    cue: Cue
    speaker: str | None = None


def clock_seconds(h: str | None, m: str, s: str, frac: str | None) -> float:
    """Seconds of a clock time's parts: "1", "02", "03", "5" for 1:02:03.5."""
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + (int(frac) / 10 ** len(frac) if frac else 0.0)


def parse_clock(text: str) -> float | None:
    """Seconds of "h:mm:ss.ttt" or "mm:ss.ttt" (a comma for the point too), else None."""
    m = re.fullmatch(_TIME, text.strip())
    return clock_seconds(*m.groups()) if m else None


def _parse_timing(line: str) -> tuple[float, float] | None:
    m = _TIMING.match(line)
    if not m:
        return None
    g = m.groups()
    return clock_seconds(*g[:4]), clock_seconds(*g[4:])


def _normalise_newlines(text: str) -> str:
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _read(fp: TextIO | str) -> str:
    return _normalise_newlines(fp if isinstance(fp, str) else fp.read())


def _speaker_prefix(line: str) -> re.Match[str] | None:
    m = _SPEAKER_PREFIX.match(line)
    return m if m and len(m.group(1).split()) <= 5 else None


def _split_speakers(cues: list[tuple[float, float, list[str], str | None]], prefixes: bool) -> list[ParsedCue]:
    """Take "Name: " prefixes as speakers when most cues have one (Zoom's style).

    Deciding for the whole file keeps "Step one: open the file" as text in a file
    where such a line is the exception.
    """
    prefixed = sum(1 for *_, lines, speaker in cues if speaker is None and lines and _speaker_prefix(lines[0]))
    unlabelled = sum(1 for *_, speaker in cues if speaker is None)
    use_prefix = prefixes and unlabelled > 0 and prefixed * 2 >= unlabelled
    out = []
    for start, end, lines, speaker in cues:
        if use_prefix and speaker is None and lines:
            m = _speaker_prefix(lines[0])
            if m:
                speaker = m.group(1).strip()
                rest = lines[0][m.end():]
                lines = [rest, *lines[1:]] if rest else lines[1:]
        lines = [line for line in lines if line]
        if not lines:
            continue
        out.append(ParsedCue(Cue(start=start, end=max(end, start), lines=tuple(lines)), speaker))
    return out


def parse_vtt(fp: TextIO | str, *, speakers: bool = True) -> list[ParsedCue]:
    """Read WebVTT (a text stream or the text itself), keeping speaker names.

    Tolerates what meeting tools write: cue identifiers, `<v Speaker>` voice
    tags (Teams), "Speaker: text" lines (Zoom), NOTE/STYLE/REGION blocks, cue
    settings after the times, a byte-order mark, CRLF line ends and times
    without hours (`mm:ss.ttt`). Other tags are dropped and entities decoded.
    With `speakers=False` "Name: text" lines stay text (voice tags still go).
    """
    text = _read(fp)
    name = getattr(fp, "name", None)
    lines = text.split("\n")
    if not lines or not lines[0].lstrip().startswith("WEBVTT"):
        if not any(_parse_timing(line) for line in lines[:50]):
            raise RecastError("not a WebVTT file (no WEBVTT header and no cue timings)", path=name)
    raw: list[tuple[float, float, list[str], str | None]] = []
    for block in re.split(r"\n[ \t]*\n", text):
        rows = block.split("\n")
        timing_row = next((k for k, row in enumerate(rows) if "-->" in row), None)
        if timing_row is None or timing_row > 1:
            continue  # the header, NOTE, STYLE and REGION blocks, or stray text
        if rows[0].startswith(("NOTE", "STYLE", "REGION")) and timing_row > 0:
            continue
        times = _parse_timing(rows[timing_row])
        if times is None:
            continue
        speaker = None
        texts = []
        for row in rows[timing_row + 1 :]:
            voice = _VOICE.search(row)
            if voice and speaker is None:
                speaker = voice.group(1).strip() or None
            row = _clean(html.unescape(_TAG.sub("", row)))
            if row:
                texts.append(row)
        raw.append((times[0], times[1], texts, speaker))
    return _split_speakers(raw, speakers)


def parse_srt(fp: TextIO | str, *, speakers: bool = True) -> list[ParsedCue]:
    """Read SubRip, keeping speaker names ("Name: text" lines).

    Tolerates a byte-order mark, CRLF, missing or wrong index numbers, `.` for `,`,
    position settings after the times, formatting tags and blank lines inside a cue.
    """
    text = _read(fp)
    name = getattr(fp, "name", None)
    rows = text.split("\n")
    raw: list[tuple[float, float, list[str], str | None]] = []
    current: list[str] | None = None
    for k, row in enumerate(rows):
        times = _parse_timing(row) if "-->" in row else None
        if times is not None:
            # The index line just before a timing line belongs to the new cue.
            if current is not None and current and current[-1].strip().isdigit():
                current.pop()
            current = []
            raw.append((times[0], times[1], current, None))
            continue
        if current is None:
            continue
        current.append(row)
    if not raw and text.strip():
        raise RecastError("not an SRT file (no cue timings found)", path=name)
    cleaned = []
    for start, end, texts, speaker in raw:
        while texts and not texts[-1].strip():
            texts.pop()
        if texts and texts[-1].strip().isdigit() and len(texts) > 1 and not texts[-2].strip():
            texts.pop()
        lines = [_clean(_SRT_TAG.sub("", t)) for t in texts]
        cleaned.append((start, end, [line for line in lines if line], speaker))
    return _split_speakers(cleaned, speakers)


def read_vtt(fp: TextIO | str, *, speakers: bool = True) -> list[Cue]:
    """Read WebVTT cues; speaker labels are taken out of the text (see `parse_vtt`)."""
    return [p.cue for p in parse_vtt(fp, speakers=speakers)]


def read_srt(fp: TextIO | str, *, speakers: bool = True) -> list[Cue]:
    """Read SRT cues; speaker labels are taken out of the text (see `parse_srt`)."""
    return [p.cue for p in parse_srt(fp, speakers=speakers)]
