"""Word error rate with a small, explicit text normaliser.

Both sides are normalised the same way before words are aligned: lower case,
punctuation dropped (apostrophes inside words kept: "it's"), hyphens split
("self-driving" -> "self driving"), digits spelled out ("15" -> "fifteen",
"3.5" -> "three point five", "20%" -> "twenty percent") and a few spelling
variants folded ("okay"/"ok"). The alignment is a plain Levenshtein distance over
words: rapidfuzz's C implementation when it is installed (an hour of speech, 9,000
words a side, takes milliseconds instead of a minute), else the standard library.

    python -m benchmarks.wer REFERENCE.txt HYPOTHESIS.txt
"""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred"))

# Filler words the human references of lecture corpora leave out.
_FILLERS = {"uh", "um", "uhm", "er", "ah", "hmm", "mm", "mhm"}
_VARIANTS = {"ok": "okay", "alright": "all right"}


def number_to_words(n: int) -> str:
    """English words for a non-negative integer: 1984 -> "one thousand nine hundred eighty four"."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + ("" if ones == 0 else " " + _ONES[ones])
    for value, name in _SCALES:
        if n >= value:
            head, rest = divmod(n, value)
            return number_to_words(head) + " " + name + ("" if rest == 0 else " " + number_to_words(rest))
    raise AssertionError("unreachable")


def _spell_number(match: re.Match[str]) -> str:
    text = match.group(0).replace(",", "")
    whole, _, frac = text.partition(".")
    words = number_to_words(int(whole)) if whole else "zero"
    if frac:
        words += " point " + " ".join(_ONES[int(d)] for d in frac)
    return f" {words} "


def normalize(text: str) -> list[str]:
    """Lower-cased words with punctuation removed and numbers spelled out."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("’", "'").replace("%", " percent ")
    text = re.sub(r"\d[\d,]*(?:\.\d+)?|\.\d+", _spell_number, text)
    text = re.sub(r"[-–—/]", " ", text)
    # Keep letters, digits and in-word apostrophes; everything else separates words.
    text = re.sub(r"[^\w']+", " ", text)
    text = re.sub(r"(?<!\w)'|'(?!\w)", " ", text)
    words = []
    for word in text.split():
        word = _VARIANTS.get(word, word)
        if word in _FILLERS:
            continue
        words.extend(word.split())
    return words


@dataclass(frozen=True)
class WerResult:
    wer: float  # (substitutions + deletions + insertions) / reference words
    substitutions: int
    deletions: int
    insertions: int
    reference_words: int
    hypothesis_words: int


def word_error_rate(reference: str, hypothesis: str) -> WerResult:
    """WER of `hypothesis` against `reference`, both normalised with `normalize`."""
    ref, hyp = normalize(reference), normalize(hypothesis)
    try:
        from rapidfuzz.distance import Levenshtein
    except ImportError:
        return _word_error_rate_py(ref, hyp)
    ops = Levenshtein.editops(ref, hyp)
    counts = {"replace": 0, "delete": 0, "insert": 0}
    for op in ops:
        counts[op.tag] += 1
    cost = sum(counts.values())
    return WerResult(cost / max(len(ref), 1), counts["replace"], counts["delete"], counts["insert"], len(ref), len(hyp))


def _word_error_rate_py(ref: list[str], hyp: list[str]) -> WerResult:
    # Levenshtein over words, keeping (cost, subs, dels, ins) per cell; one row at a time.
    prev = [(j, 0, 0, j) for j in range(len(hyp) + 1)]
    for i in range(1, len(ref) + 1):
        cur = [(i, 0, i, 0)]
        for j in range(1, len(hyp) + 1):
            if ref[i - 1] == hyp[j - 1]:
                cur.append(prev[j - 1])
                continue
            sub, dele, ins = prev[j - 1], prev[j], cur[j - 1]
            best = min(sub, dele, ins, key=lambda c: c[0])
            if best is sub:
                cur.append((sub[0] + 1, sub[1] + 1, sub[2], sub[3]))
            elif best is dele:
                cur.append((dele[0] + 1, dele[1], dele[2] + 1, dele[3]))
            else:
                cur.append((ins[0] + 1, ins[1], ins[2], ins[3] + 1))
        prev = cur
    cost, subs, dels, ins = prev[-1]
    return WerResult(cost / max(len(ref), 1), subs, dels, ins, len(ref), len(hyp))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    ref, hyp = (Path(a).read_text(encoding="utf-8") for a in args)
    r = word_error_rate(ref, hyp)
    print(f"WER {r.wer:.2%}  (S={r.substitutions} D={r.deletions} I={r.insertions}, N={r.reference_words})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
