"""Word error rate, with the standard Whisper text normaliser when it is installed.

Both sides are normalised the same way before words are aligned. Two normalisers:

* ``whisper`` (the default when importable): openai-whisper's
  ``EnglishTextNormalizer`` (MIT), the normaliser every published Whisper WER uses.
  It folds what a fair WER should not count: British/American spelling
  ("colour"/"color"), contractions ("it's"/"it is"), spelled-out and written numbers,
  ordinals, years, currency and percent ("twenty percent"/"20%", "1,000"/"1000"),
  abbreviations ("Dr."/"doctor", "St."/"saint"), diacritics, hyphens, and fillers.
  One change: it deletes text in brackets and parentheses (annotations such as
  "[LAUGHTER]" in human transcripts), but our synthetic references are scripts that
  the voice read aloud, parentheses included, so only the bracket characters are
  dropped here and the words inside are kept and scored.
  Its module is loaded from its own folder without importing the ``whisper``
  package, which would pull in torch (seconds) for a few regular expressions.
* ``basic``: the small normaliser below (lower case, punctuation dropped, in-word
  apostrophes kept, hyphens split, digits spelled out, "okay"/"ok"), the fallback.

The alignment is a plain Levenshtein distance over words: rapidfuzz's C
implementation when it is installed (an hour of speech, 9,000 words a side, takes
milliseconds instead of a minute), else the standard library.

    python -m benchmarks.wer REFERENCE HYPOTHESIS [--normalizer whisper|basic|both] [--errors 30] [--names] [--timing]

(text files, synth.py truth .json or recast transcript.json). `--timing` (a truth .json
against a transcript.json) also scores word times: sentence start and end errors and
word time inside the truth's pauses (`timing_errors`)."""

from __future__ import annotations

import argparse
import bisect
import functools
import importlib.util
import json
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

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


def normalize_basic(text: str) -> list[str]:
    """Lower-cased words with punctuation removed and numbers spelled out."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("\u2019", "'").replace("%", " percent ")
    text = re.sub(r"\d[\d,]*(?:\.\d+)?|\.\d+", _spell_number, text)
    text = re.sub(r"[-\u2013\u2014/]", " ", text)
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


@functools.lru_cache(maxsize=1)
def whisper_normalizer() -> Callable[[str], str] | None:
    """openai-whisper's EnglishTextNormalizer, or None when it cannot be loaded."""
    try:
        spec = importlib.util.find_spec("whisper")  # locates the package without running it
        if spec is None or not spec.submodule_search_locations:
            return None
        folder = Path(next(iter(spec.submodule_search_locations))) / "normalizers"
        name = "_wer_whisper_normalizers"
        module = sys.modules.get(name)
        if module is None:
            pkg = importlib.util.spec_from_file_location(name, folder / "__init__.py", submodule_search_locations=[str(folder)])
            if pkg is None or pkg.loader is None:
                return None
            module = importlib.util.module_from_spec(pkg)
            sys.modules[name] = module
            try:
                pkg.loader.exec_module(module)
            except BaseException:
                del sys.modules[name]
                raise
        return module.EnglishTextNormalizer()
    except (ImportError, OSError, AttributeError, ValueError):  # not installed, or its deps (regex, more-itertools) missing
        return None


def normalizer_name(normalizer: str = "auto") -> str:
    """The normaliser that `normalizer` resolves to: "whisper" or "basic"."""
    if normalizer not in ("auto", "whisper", "basic"):
        raise ValueError(f"unknown normalizer {normalizer!r} (auto, whisper or basic)")
    if normalizer == "auto":
        return "whisper" if whisper_normalizer() is not None else "basic"
    if normalizer == "whisper" and whisper_normalizer() is None:
        raise ValueError("the Whisper normalizer needs openai-whisper (pip install openai-whisper)")
    return normalizer


def normalize_whisper(text: str) -> list[str]:
    """Words after Whisper's EnglishTextNormalizer, with bracketed words kept (see above)."""
    norm = whisper_normalizer()
    if norm is None:
        raise ValueError("the Whisper normalizer needs openai-whisper (pip install openai-whisper)")
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'")
    # Spoken scripts: keep what is inside brackets, drop only the brackets.
    text = re.sub(r"[()\[\]<>{}]", " ", text)
    # "/" glues words for the normaliser ("number/numeral" -> "numbernumeral").
    text = re.sub(r"(?<=\D)/|/(?=\D)", " ", text)
    # "+" is said "plus": the normaliser turns "plus two" into "+2" but drops a written "+".
    text = text.replace("+", " plus ")
    # Lone digits as words: the normaliser joins runs of spelled digits ("three, two,
    # one, zero" -> "3210", as in phone numbers) but leaves "3, 2, 1, 0" apart.
    text = _LONE_DIGIT.sub(lambda m: _ONES[int(m.group(0))], text)
    words = norm(text).split()
    # British "-isation" (its spelling list has some, not "civilisation").
    return [_ISATION.sub(r"\1ization\2", w) for w in words]


_LONE_DIGIT = re.compile(r"(?<![\d.,$£€¢])\b\d\b(?![.,:]?\d|%)")
_ISATION = re.compile(r"^(\w{2,})isation(s?)$")


def join_compounds(ref: list[str], hyp: list[str]) -> tuple[list[str], list[str]]:
    """Both word lists with two neighbouring words joined wherever either text writes
    them as one ("north east"/"northeast", "run off"/"runoff", "on to"/"onto").

    Spacing in compounds is a writing convention, not something a listener hears. The
    same joins are made on both sides, so a pair written apart in both stays equal.
    Only letters: "35 36" and "3536" are different numbers.
    """
    vocab = {w for w in (*ref, *hyp) if w.isalpha()}

    def join(words: list[str]) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(words):
            if i + 1 < len(words) and words[i].isalpha() and words[i + 1].isalpha() and words[i] + words[i + 1] in vocab:
                out.append(words[i] + words[i + 1])
                i += 2
            else:
                out.append(words[i])
                i += 1
        return out

    return join(ref), join(hyp)


def normalize(text: str, normalizer: str = "auto") -> list[str]:
    """The words of `text` as the WER compares them (see the module notes)."""
    return normalize_whisper(text) if normalizer_name(normalizer) == "whisper" else normalize_basic(text)


def _normalized_pair(reference: str, hypothesis: str, normalizer: str) -> tuple[list[str], list[str], str]:
    name = normalizer_name(normalizer)
    ref, hyp = normalize(reference, name), normalize(hypothesis, name)
    if name == "whisper":
        ref, hyp = join_compounds(ref, hyp)
    return ref, hyp, name


@dataclass(frozen=True)
class WerResult:
    wer: float  # (substitutions + deletions + insertions) / reference words
    substitutions: int
    deletions: int
    insertions: int
    reference_words: int
    hypothesis_words: int
    normalizer: str = "basic"


def word_error_rate(reference: str, hypothesis: str, normalizer: str = "auto") -> WerResult:
    """WER of `hypothesis` against `reference`, both normalised with `normalize`."""
    ref, hyp, name = _normalized_pair(reference, hypothesis, normalizer)
    try:
        from rapidfuzz.distance import Levenshtein
    except ImportError:
        r = _word_error_rate_py(ref, hyp)
        return WerResult(r.wer, r.substitutions, r.deletions, r.insertions, r.reference_words, r.hypothesis_words, name)
    ops = Levenshtein.editops(ref, hyp)
    counts = {"replace": 0, "delete": 0, "insert": 0}
    for op in ops:
        counts[op.tag] += 1
    cost = sum(counts.values())
    return WerResult(cost / max(len(ref), 1), counts["replace"], counts["delete"], counts["insert"], len(ref), len(hyp), name)


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


def align(ref: list[str], hyp: list[str]) -> list[tuple[str, str | None, str | None]]:
    """A minimum-cost word alignment: ("equal" | "replace" | "delete" | "insert", ref word, hyp word) in order.

    Uses rapidfuzz when installed, else a full-table DP: quadratic memory, fine for a
    few thousand words, slow for an hour (install rapidfuzz for that)."""
    try:
        from rapidfuzz.distance import Levenshtein
    except ImportError:
        return _align_py(ref, hyp)
    out: list[tuple[str, str | None, str | None]] = []
    for op in Levenshtein.opcodes(ref, hyp):
        if op.tag == "equal" or op.tag == "replace":
            out.extend((op.tag, ref[op.src_start + k], hyp[op.dest_start + k]) for k in range(op.src_end - op.src_start))
        elif op.tag == "delete":
            out.extend(("delete", ref[i], None) for i in range(op.src_start, op.src_end))
        else:
            out.extend(("insert", None, hyp[j]) for j in range(op.dest_start, op.dest_end))
    return out


def _align_py(ref: list[str], hyp: list[str]) -> list[tuple[str, str | None, str | None]]:
    n, m = len(ref), len(hyp)
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        cost[i][0] = i
    for j in range(m + 1):
        cost[0][j] = j
    for i in range(1, n + 1):
        row, prev = cost[i], cost[i - 1]
        for j in range(1, m + 1):
            row[j] = prev[j - 1] if ref[i - 1] == hyp[j - 1] else 1 + min(prev[j - 1], prev[j], row[j - 1])
    out: list[tuple[str, str | None, str | None]] = []
    i, j = n, m
    while i or j:  # walk back from the corner
        if i and j and ref[i - 1] == hyp[j - 1] and cost[i][j] == cost[i - 1][j - 1]:
            out.append(("equal", ref[i - 1], hyp[j - 1]))
            i, j = i - 1, j - 1
        elif i and j and cost[i][j] == cost[i - 1][j - 1] + 1:
            out.append(("replace", ref[i - 1], hyp[j - 1]))
            i, j = i - 1, j - 1
        elif i and cost[i][j] == cost[i - 1][j] + 1:
            out.append(("delete", ref[i - 1], None))
            i -= 1
        else:
            out.append(("insert", None, hyp[j - 1]))
            j -= 1
    return out[::-1]


@dataclass(frozen=True)
class ErrorSummary:
    """The errors behind a WER, most frequent first."""

    substitutions: list[tuple[tuple[str, str], int]] = field(default_factory=list)  # ((ref, hyp), count)
    deletions: list[tuple[str, int]] = field(default_factory=list)
    insertions: list[tuple[str, int]] = field(default_factory=list)
    runs: list[tuple[str, str]] = field(default_factory=list)  # (ref span, hyp span) of each stretch of errors, in order


def error_summary(reference: str, hypothesis: str, normalizer: str = "auto") -> ErrorSummary:
    """Substitution pairs, deleted and inserted words with counts, and the error stretches in order."""
    ops = align(*_normalized_pair(reference, hypothesis, normalizer)[:2])
    subs: Counter[tuple[str, str]] = Counter()
    dels: Counter[str] = Counter()
    ins: Counter[str] = Counter()
    runs: list[tuple[str, str]] = []
    ref_run: list[str] = []
    hyp_run: list[str] = []
    for tag, r, h in ops + [("equal", None, None)]:  # a sentinel closes the last run
        if tag == "equal":
            if ref_run or hyp_run:
                runs.append((" ".join(ref_run), " ".join(hyp_run)))
                ref_run, hyp_run = [], []
            continue
        if tag == "replace":
            subs[(r, h)] += 1
        elif tag == "delete":
            dels[r] += 1
        else:
            ins[h] += 1
        if r is not None:
            ref_run.append(r)
        if h is not None:
            hyp_run.append(h)
    return ErrorSummary(subs.most_common(), dels.most_common(), ins.most_common(), runs)


def proper_names(reference: str) -> set[str]:
    """Lower-cased words the reference only ever writes capitalised inside a sentence:
    the names (people, places, dynasties) a small model has least chance to spell."""
    capitalised = {m.group(1).lower() for m in re.finditer(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-z]+)", reference)}
    return capitalised - {w.lower() for w in re.findall(r"\b[a-z]+\b", reference)}


def name_error_share(reference: str, hypothesis: str, normalizer: str = "auto") -> tuple[int, int, int, int]:
    """(errors, of them on a reference name, reference words, of them names)."""
    names = proper_names(reference)
    ref, hyp, _ = _normalized_pair(reference, hypothesis, normalizer)
    ops = align(ref, hyp)
    errors = [r for tag, r, _ in ops if tag != "equal"]
    return len(errors), sum(r in names for r in errors if r is not None), len(ref), sum(w in names for w in ref)


@dataclass(frozen=True)
class TimingResult:
    """How well a transcript's word times match a synthetic recording's truth."""

    sentences: int  # truth sentences
    start_errors: list[float]  # hypothesis - truth, seconds, for sentences whose first word was recognised
    end_errors: list[float]  # the same for the last word's end
    pauses: int  # pauses of at least `pause` seconds between truth sentences
    word_time_in_pauses: float  # seconds of words inside them (0.1 s in from either side)
    pauses_hidden: int  # pauses more than half covered by words


def timing_errors(sentences: list[dict], words: list[tuple[float, float, str]], pause: float = 0.8) -> TimingResult:
    """Sentence start and end errors of `words` (start, end, text) against the truth's
    `sentences` (start, end, text), matching words through the WER alignment (basic
    normaliser, so each token keeps its word); and how much word time falls inside
    the truth's pauses, where a transcript should show silence (captions break there,
    chapters read pauses)."""
    ref: list[str] = []
    first: dict[int, int] = {}  # ref token index -> sentence whose first token it is
    last: dict[int, int] = {}
    for k, sent in enumerate(sentences):
        toks = normalize_basic(sent["text"])
        if toks:
            first[len(ref)] = k
            last[len(ref) + len(toks) - 1] = k
            ref += toks
    hyp: list[str] = []
    owner: list[int] = []  # hyp token -> word index
    for j, (_, _, text) in enumerate(words):
        toks = normalize_basic(text)
        hyp += toks
        owner += [j] * len(toks)
    starts, ends = [], []
    i = j = 0
    for tag, r, h in align(ref, hyp):
        if tag == "equal":
            if i in first:
                starts.append(words[owner[j]][0] - sentences[first[i]]["start"])
            if i in last:
                ends.append(words[owner[j]][1] - sentences[last[i]]["end"])
        i += r is not None
        j += h is not None
    gaps = [(a["end"] + 0.1, b["start"] - 0.1) for a, b in zip(sentences, sentences[1:]) if b["start"] - a["end"] >= pause]
    inside, hidden = 0.0, 0
    spans = sorted((w[0], w[1]) for w in words)
    span_starts = [s for s, _ in spans]
    for lo, hi in gaps:
        # a word lies inside one 30-second decoding chunk, so none reaching `lo` starts earlier than lo - 30
        a, b = bisect.bisect_left(span_starts, lo - 30.0), bisect.bisect_left(span_starts, hi)
        cover = sum(max(0.0, min(e, hi) - max(s, lo)) for s, e in spans[a:b])
        inside += cover
        hidden += cover > 0.5 * (hi - lo)
    return TimingResult(len(sentences), starts, ends, len(gaps), inside, hidden)


def read_text(path: Path) -> str:
    """A text file, a synth.py truth (.json with sentences) or a recast transcript.json (segments)."""
    raw = path.read_text(encoding="utf-8")
    if path.suffix != ".json":
        return raw
    data = json.loads(raw)
    items = data.get("sentences") or data.get("segments") or []
    return " ".join(item["text"] for item in items)


def _format(r: WerResult) -> str:
    return f"WER {r.wer:.2%}  (S={r.substitutions} D={r.deletions} I={r.insertions}, N={r.reference_words}, {r.normalizer} normalizer)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.wer", description="Word error rate of a hypothesis against a reference text.")
    parser.add_argument("reference", type=Path)
    parser.add_argument("hypothesis", type=Path)
    parser.add_argument("--normalizer", choices=("auto", "whisper", "basic", "both"), default="auto", help="auto = whisper when installed, else basic")
    parser.add_argument("--errors", type=int, default=0, metavar="N", help="also list the N most frequent substitutions, deletions and insertions")
    parser.add_argument("--names", action="store_true", help="also say how many errors fall on proper names")
    parser.add_argument("--timing", action="store_true",
                        help="also score word times (REFERENCE: a synth.py truth .json; HYPOTHESIS: a transcript.json)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    ref, hyp = (read_text(p) for p in (args.reference, args.hypothesis))
    names = ("whisper", "basic") if args.normalizer == "both" else (args.normalizer,)
    try:
        for name in names:
            print(_format(word_error_rate(ref, hyp, name)))
            if args.errors:
                s = error_summary(ref, hyp, name)
                print("  substitutions: " + ", ".join(f"{r}->{h} {n}" for (r, h), n in s.substitutions[: args.errors]))
                print("  deletions:     " + ", ".join(f"{w} {n}" for w, n in s.deletions[: args.errors]))
                print("  insertions:    " + ", ".join(f"{w} {n}" for w, n in s.insertions[: args.errors]))
            if args.names:
                errors, on_names, words, names_ = name_error_share(ref, hyp, name)
                print(f"  proper names: {names_} of {words} reference words ({names_ / max(words, 1):.1%}), "
                      f"{on_names} of {errors} errors ({on_names / max(errors, 1):.0%}); "
                      f"WER without them {(errors - on_names) / max(words, 1):.2%}")
        if args.timing:
            truth = json.loads(args.reference.read_text(encoding="utf-8"))
            transcript = json.loads(args.hypothesis.read_text(encoding="utf-8"))
            if "sentences" not in truth or "segments" not in transcript:
                raise ValueError("--timing needs a synth.py truth .json and a recast transcript.json")
            words = [(w["start"], w["end"], w["word"]) for seg in transcript["segments"] for w in seg.get("words", [])]
            t = timing_errors(truth["sentences"], words)

            def spread(errors: list[float]) -> str:
                a = np.abs(np.array(errors)) if errors else np.zeros(1)
                return f"median {np.median(a):.2f} s, 95% {np.percentile(a, 95):.2f} s, max {a.max():.2f} s"

            print(f"  sentence starts ({len(t.start_errors)} of {t.sentences}): {spread(t.start_errors)}")
            print(f"  sentence ends   ({len(t.end_errors)} of {t.sentences}): {spread(t.end_errors)}")
            print(f"  pauses of 0.8 s or more: {t.pauses}; word time inside them {t.word_time_in_pauses:.1f} s; "
                  f"more than half covered {t.pauses_hidden}")
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
