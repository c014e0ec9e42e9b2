"""Titles, summaries, keywords and questions for a chaptered session.

Everything here is extractive and deterministic by default:
- titles come from the slide title read by OCR on the still at the chapter's start,
  when it reads like words; otherwise from the chapter's key phrases (runs of content
  words scored by TF-IDF against the other chapters);
- summaries are sentences copied from the transcript (fillers such as "um" removed),
  chosen by centrality (similarity to the chapter's centroid) with a little weight on
  position and redundancy avoided (maximal marginal relevance); sentences that manage
  the talk ("welcome, everyone", "now let's move on to...") or need their context (a
  reply, a sentence Whisper broke) are left out. The session summary is the set of
  the chapters' sentences that best covers the whole talk (facility location), and
  the session's key points give each chapter its best sentence not already in it;
- keywords are TF-IDF-ranked noun phrases by lemma ("angular momentum", "black hole"),
  one per term, spelt as said;
- questions are interrogative sentences that expect an answer, with the span after
  them as the answer.
With `llm_url` set, an OpenAI-compatible endpoint may rewrite titles and summaries;
any failure of it falls back to the extractive result.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import re
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .chapters import signposting
from .config import Options
from .models import Chapter, ChapterSpans, Outline, Question, Transcript, VideoAnalysis
from .text import (
    QUESTION_MARKS, Sentence, content_words, embed, english_words, in_transcript_language, is_english, is_number, join_words, language,
    lemma, remove_fillers, sentences, short_token, spoken_heading, stem, stopwords, tokenize, word_tokens,
)

log = logging.getLogger(__name__)

MAX_TITLE = 60  # characters
LLM_TIMEOUT = 30.0  # s for one request; the extractive result is already there
POSITION_WEIGHT = 0.15  # a summary sentence's bonus for coming early in its chapter (openings state the topic)
ANSWER_CAP = 120.0  # s: an answer span ends here at the latest
ANSWER_PAUSE = 4.0  # s: a pause this long ends an answer
# A slide spells a name the recogniser misheard: "aardwolf" against "ardwolf" is 0.93.
# Only words outside the English word list are compared, and OCR garbage is rarely
# this close to a word of the talk (difflib's ratio; "taxonomy"/"taxation" is 0.62).
NEAR_SPOKEN = 0.8
_TITLE_SMALL = frozenset("a an and as at but by for from in into of on or the to vs via with".split())
# "and" between a title's two phrases, in the languages Whisper hears most
_AND = {"en": "and", "fr": "et", "de": "und", "es": "y", "it": "e", "pt": "e", "nl": "en", "sv": "och", "da": "og",
        "no": "og", "nb": "og", "nn": "og", "ca": "i", "ro": "și", "pl": "i", "cs": "a", "sk": "a", "fi": "ja",
        "zh": "和", "yue": "同", "ja": "と", "ko": "및"}
# languages whose noun phrase puts its head first ("révolution française",
# "ciclo de Calvin"): a run of content words is named by its first words
_HEAD_FIRST = frozenset("fr es it pt ro ca".split())
_FILLER_QUESTION = re.compile(
    r"^(right|okay|ok|yeah|yes|no|you know|see|huh|eh|alright|all right|correct|isn't it|is that right|"
    r"does that make sense|make sense|makes sense|is that clear|got it|everyone with me|are you with me|"
    r"any (other |more |further )?questions( so far)?( at this point)?|questions)\s*[?.!]*$"
    # the presenter checking in: "Do you have any questions about chlorophyll?"
    r"|^(so |okay |ok |now |right )?(do you|does anyone|does anybody|does everyone|did you|are there|is there|have you got)"
    r"( have| got)? any (other |more |further )?questions?( (about|on|so far|at this point)\b[^?]{0,40})?\s*[?.!]*$"
)
_QA_PROMPT = re.compile(
    r"\b(any|other|more|further) questions\b|\bquestions?\b.{0,20}\b(now|floor|open|chat)\b|\bq ?& ?a\b|\bq and a\b"
    r"|\btime for (a |one |some |a few |two |three |a couple of )?(more |last |quick |final |short )?questions?\b"
    r"|\b(take|taking|answer|open (it |this )?up (for|to)) (a |one |some |a few |your |two |three )?(more |last |quick |final )?questions?\b"
)
# The speaker acknowledging a question just asked ("Good question.", "Thanks for the question")
_ACKNOWLEDGED = re.compile(r"^(oh,? |yes,? |yeah,? |okay,? |so,? )*((that'?s|that is|what) )?(a |an |very |really |such a )*(good|great|excellent|interesting|fair|nice|brilliant|important) question|^thanks? (you )?for (the|that|your) question")
_ASKING = re.compile(
    r"^(so |and |but |um |uh |yeah |okay |ok )*(does anyone|does anybody|has anyone|can you|could you|would you|will you|"
    r"how do|how does|how can|how would|how did|how is|how are|what about|what if|what is|what's|what are|what do|"
    r"what does|why do|why does|why is|why are|why did|is there|are there|is it|is this|are you|do you|did you|"
    r"when do|when does|when will|where do|where does|which|should we|should i|can i|can we|could i|i have a question|"
    r"my question|i was wondering|i'm wondering)\b"
)


@dataclass(frozen=True)
class _Chapter:
    start: float
    end: float
    sents: list[Sentence]


@in_transcript_language
def describe(transcript: Transcript, spans: ChapterSpans, video: VideoAnalysis | None, options: Options) -> Outline:
    """Title, summarise and index the chapters in `spans`."""
    all_sents = [s for s in sentences(transcript) if tokenize(s.text)]
    talk = [s for s in all_sents if spans.talk_start - 0.5 <= (s.start + s.end) / 2 <= spans.talk_end + 0.5]
    chapters = [
        _Chapter(a, b, [s for s in talk if a <= (s.start + s.end) / 2 < b or (i == len(spans.spans) - 1 and (s.start + s.end) / 2 >= b)])
        for i, (a, b) in enumerate(spans.spans)
    ]
    docs = [[w for s in ch.sents for w in content_words(s.text)] for ch in chapters]
    idf = _idf(docs)

    keywords = [_keywords(ch.sents, idf) for ch in chapters]
    titles, sources = _titles(chapters, idf, video, options, transcript_vocab={w for d in docs for w in d},
                              openings=_subject_names(chapters, spans.subjects))

    vectors = _vectors(talk)
    index = {id(s): i for i, s in enumerate(talk)}
    summaries, points = [], []
    best: list[list[Sentence]] = []  # per chapter: its summary's sentences, then its key points'
    ranked: list[list[Sentence]] = []  # the same and more
    for ch in chapters:
        rows = [index[id(s)] for s in ch.sents]
        vec = vectors[rows] if len(rows) else vectors[:0]
        n_sum = 1 if ch.end - ch.start < 90 else (3 if ch.end - ch.start > 300 else 2)
        # best first; a short session has few chapters, so its key points draw on more
        order = _central(ch.sents, vec, n_sum + 6)
        picked, extra, more = (sorted(order[a:b], key=lambda s: s.start) for a, b in ((0, n_sum), (n_sum, n_sum + 3), (n_sum + 3, None)))
        summaries.append(join_words(remove_fillers(s.text) for s in picked))
        points.append(tuple(remove_fillers(s.text) for s in extra))
        best.append(picked + extra)
        ranked.append(picked + extra + more)

    # The session summary covers the talk: the chapters' summary-worthy sentences that
    # together stand for most of what was said. Key points are what each chapter
    # says, in order, without repeating the summary above them.
    summary_sents = _covering(vectors, [s for sents in best for s in sents], index, chapters, 3)
    session_summary = join_words(remove_fillers(s.text) for s in summary_sents)
    session_points = _session_points(chapters, ranked, summary_sents, limit=7)
    session_keywords = _round_robin(keywords, 10) or _session_keywords(talk)

    if options.llm_url:
        rewritten = llm_rewrite(chapters, options)
        if rewritten is not None:
            llm_titles, llm_summaries, llm_session = rewritten
            titles = [t if t else old for t, old in zip(llm_titles, titles)]
            sources = ["llm" if t else src for t, src in zip(llm_titles, sources)]
            summaries = [s if s else old for s, old in zip(llm_summaries, summaries)]
            session_summary = llm_session or session_summary
    # a title the person gave their chapter is theirs: kept as written, never made distinct
    given = {i for i, t in enumerate(spans.titles) if t}
    for i in given:
        titles[i], sources[i] = spans.titles[i], "given"
    titles = _distinct(titles, chapters, idf, keep=given)

    out = tuple(
        Chapter(
            index=i + 1,
            start=ch.start,
            end=ch.end,
            title=titles[i],
            summary=summaries[i],
            keywords=keywords[i],
            key_points=points[i],
            title_source=sources[i],
        )
        for i, ch in enumerate(chapters)
    )
    return Outline(
        chapters=out,
        talk_start=spans.talk_start,
        talk_end=spans.talk_end,
        summary=session_summary,
        key_points=session_points,
        keywords=session_keywords,
        questions=find_questions(all_sents, spans),
        chapters_given=spans.given,
    )


def _covering(
    vectors: np.ndarray, pool: list[Sentence], index: dict[int, int], chapters: list["_Chapter"], k: int
) -> list[Sentence]:
    """`k` sentences of `pool` that together stand for the most of the talk, in time order.

    Each sentence of the talk counts how close the nearest pick is to it (a facility-
    location objective, chosen greedily), so the picks follow the topics that took the
    time: the most central sentences of a talk are all about its longest topic, and
    the second of them adds little. No chapter gives more than its share (one each
    when there are `k` chapters or more)."""
    if not pool:
        return []
    owner = {id(s): i for i, ch in enumerate(chapters) for s in ch.sents}
    chapter_of = np.array([owner.get(id(s), -1) for s in pool])
    share = math.ceil(k / max(len(chapters), 1))
    sim = np.maximum(vectors @ vectors[[index[id(s)] for s in pool]].T, 0.0)  # talk x pool
    covered = np.zeros(len(vectors))
    picked: list[int] = []
    while len(picked) < k:
        gain = np.maximum(sim - covered[:, None], 0.0).sum(axis=0)
        full = [c for c, n in Counter(chapter_of[picked].tolist()).items() if n >= share]
        gain[np.isin(chapter_of, full)] = -1.0
        gain[picked] = -1.0
        j = int(np.argmax(gain))
        if gain[j] <= 0.0:
            break
        picked.append(j)
        covered = np.maximum(covered, sim[:, j])
    return sorted((pool[j] for j in picked), key=lambda s: s.start)


def _session_points(
    chapters: list["_Chapter"], ranked: list[list[Sentence]], summary: list[Sentence], limit: int, least: int = 3
) -> tuple[str, ...]:
    """One point per chapter: its best sentence that the session summary does not
    already say. With more chapters than `limit`, those of the longest chapters; with
    fewer than `least`, the chapters' next best sentences fill up. In time order."""
    said = {id(s) for s in summary}
    left = [[s for s in sents if id(s) not in said] for sents in ranked]
    firsts = [(ch.end - ch.start, i) for i, (ch, sents) in enumerate(zip(chapters, left)) if sents]
    keep = {i for _, i in sorted(firsts, reverse=True)[:limit]}
    chosen = [left[i][0] for i in sorted(keep)]
    depth = 1
    while len(chosen) < least and any(len(sents) > depth for sents in left):
        chosen += [sents[depth] for sents in left if len(sents) > depth][: least - len(chosen)]
        depth += 1
    return tuple(remove_fillers(s.text) for s in sorted(chosen, key=lambda s: s.start))


def _round_robin(per_chapter: list[tuple[str, ...]], k: int) -> tuple[str, ...]:
    """Session keywords from the chapters' own (each chapter's best first), so every
    topic of the session can be found by search."""
    out: list[str] = []
    for rank in range(max((len(x) for x in per_chapter), default=0)):
        for words in per_chapter:
            if rank < len(words) and words[rank] not in out:
                out.append(words[rank])
                if len(out) == k:
                    return tuple(out)
    return tuple(out)


# ---------------------------------------------------------------------------- keywords

# Words that are content words grammatically but say nothing about a topic; kept
# out of keywords (titles and summaries still use them).
_GENERIC = set("""
    bring brings brought take takes took get gets got make makes made put puts go goes went come comes came
    sit sits give gives gave keep keeps let lets see sees saw look looks use uses used want wants need needs
    say says said tell tells told think thinks know knows start starts call called move moves mean means
    finally first second third next last today day days time times way ways thing things lot lots kind kinds
    inside outside part parts example really actually simply basically little big good great new old right left
    number numbers point points question questions minute minutes hour hours everyone everybody people person
    something along completely quite very much many also even still
""".split())


def _idf(docs: list[list[str]]) -> dict[str, float]:
    n = len(docs)
    df = Counter(w for d in docs for w in set(d))
    return {w: math.log((n + 1) / (c + 0.5)) + 0.1 for w, c in df.items()}


# how a formula is read aloud ("one slash twelve m l squared", "theta double dot")
_SPOKEN_MATHS = frozenset("slash plus minus times equals equal squared cubed divided dot double prime sub".split())
# numbers said as words ("born in nineteen seventy"): never what a part is about
_NUMBER_WORDS = frozenset(
    """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
    seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million
    billion trillion""".split()
)
# and in the other languages recast has stopwords for and trainers use most
_OTHER_NUMBER_WORDS = {
    "fr": "zéro un une deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze seize vingt "
          "trente quarante cinquante soixante cent cents mille million millions milliard milliards",
    "de": "null eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf zwanzig dreißig vierzig fünfzig "
          "sechzig siebzig achtzig neunzig hundert tausend million millionen milliarde milliarden",
    "es": "cero uno una dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince veinte "
          "treinta cuarenta cincuenta sesenta setenta ochenta noventa cien ciento cientos mil millón millones",
    "it": "zero uno una due tre quattro cinque sei sette otto nove dieci undici dodici venti trenta quaranta "
          "cinquanta sessanta settanta ottanta novanta cento mille mila milione milioni miliardo miliardi",
    "pt": "zero um uma dois duas três quatro cinco seis sete oito nove dez onze doze vinte trinta quarenta "
          "cinquenta sessenta setenta oitenta noventa cem cento mil milhão milhões bilhão",
    "nl": "nul een twee drie vier vijf zes zeven acht negen tien elf twaalf twintig dertig veertig vijftig "
          "zestig zeventig tachtig negentig honderd duizend miljoen miljard",
}


@functools.cache
def _number_words(code: str) -> frozenset[str]:
    """Numbers said as words in the language `code`, English ones included."""
    return _NUMBER_WORDS | frozenset(_OTHER_NUMBER_WORDS.get(code, "").split())


def _phrases(sents: list[Sentence]) -> Counter:
    """Noun phrases, roughly, counted: the last 1-3 words of each run of content words
    inside a clause, since English puts a phrase's head last ("inclusive fitness", never
    "inclusive" alone before a noun). A last word that is a verb or an adverb is left
    out: a past form ("Darwin sailed"), an adverb ("largely"), one followed by a
    determiner ("the theorem gives the rest"); so is a word after a subject or an
    auxiliary ("he holds", "was active").

    Other languages have no parts of speech here: a run of content words between
    their stopwords gives its first 1-3 words where the head comes first (French,
    Spanish: "révolution française"), else its last."""
    counts: Counter = Counter()
    english = is_english()
    head_first = language() in _HEAD_FIRST
    stop = stopwords()
    numbers = _number_words(language())
    for s in sents:
        # punctuation ends a phrase as a stopword does ("Ayn Rand (born ...", "novelist, philosopher")
        cased = [t for clause in _CLAUSE.split(remove_fillers(s.text)) for t in word_tokens(clause) + ["."]]
        tokens = [t.lower() for t in cased]
        # a capitalised word inside the sentence is a name, whatever else it spells ("Ravel")
        names = {t.lower() for i, t in enumerate(cased) if i and t[:1].isupper() and cased[i - 1] != "."}
        # a capitalised stopword before another capitalised word is part of a name
        # ("Brave New World", "New York", "First World War"), not a break in it
        in_name = {i for i, t in enumerate(cased[:-1]) if t[:1].isupper() and cased[i + 1][:1].isupper() and cased[i + 1] not in (".", "I")}
        run: list[str] = []
        before = "."
        of: list[str] = []  # the head of a run that ended at "of" ("center" of mass)
        for i, tok in enumerate(tokens):
            if i in in_name and tok in stop and tok not in _DETERMINERS:
                run.append(tok)
                continue
            if not (tok in stop or tok in _SPOKEN_MATHS or tok in numbers or short_token(tok) or is_number(tok) or tok == "."):
                run.append(tok)
                continue
            if not english:
                for n in range(1, min(len(run), 3) + 1):
                    counts[tuple(run[:n] if head_first else run[-n:])] += 1
                run = []
                continue
            if len(run) == 1 and before in _VERB_CONTEXT:
                run = []
            elif run and (tok in _DETERMINERS or _verb_form(run[-1]) or run[-1] in _NOT_HEAD):
                run.pop()  # a verb (taking an object: "Darwin sailed", "theorem gives the"), adverb or preposition
            verbs = [i for i, w in enumerate(run) if _verb_form(w)]
            if verbs:
                run = run[verbs[-1] + 1 :]  # nor inside one ("largely independent", "Darwin collected finches")
            while run and run[-1] not in names and not _nounish(run[-1]):
                run.pop()  # "I only expect", "already begin", "much larger": no noun to head them
            for n in range(1, min(len(run), 3) + 1):
                counts[tuple(run[-n:])] += 1
            if of and 0 < len(run) <= 2:
                counts[(*of, "of", *run)] += 1  # "center of mass", "conservation of angular momentum"
            of = run[-1:] if tok == "of" else []
            run = []
            before = tok
    return counts


_CLAUSE = re.compile(r"[,;:()\[\]{}\"“”—–!?]|\.(?=\s|$)|\s-\s|''")
_DETERMINERS = frozenset("the a an this these those his her its their our your my".split())
# prepositions and conjunctions that are not stopwords: they end a run of content words
# ("Despite the war") but head nothing
_NOT_HEAD = frozenset(
    "despite whereas unlike throughout besides beyond alongside across behind beneath underneath amid amidst "
    "amongst regarding concerning including excluding following per onto".split()
)


# after these comes a verb or a predicate, not a noun phrase
_VERB_CONTEXT = frozenset(
    "i you we they he she it who which to will would can could should must might may shall have has had do does "
    "did was were is are be been being am not never also don't doesn't didn't won't can't couldn't wouldn't "
    "shouldn't isn't wasn't aren't weren't i'll we'll you'll they'll i've we've you've they've i'd we'd you'd they'd".split()
)


@functools.cache
def _nounish(word: str) -> bool:
    """Could `word` head a noun phrase? Not a word the SPECIALIST lexicon (through
    lemminflect) knows only as a verb, adjective or adverb ("expect", "chosen",
    "already", "larger"); names and terms it does not know can."""
    from lemminflect import getAllLemmas  # loads its tables on first use (0.3 s)

    pos = getAllLemmas(word)
    return not pos or "NOUN" in pos or "PROPN" in pos


def _verb_form(word: str) -> bool:
    """A past form or an adverb made from a word in the English list ("rejected",
    "studied", "largely", "basically")."""
    if len(word) < 5:
        return False
    lex = english_words()
    if word.endswith("ed"):
        return any(w in lex for w in (word[:-2], word[:-1], word[:-3] + "y")) or (word[-3] == word[-4] and word[:-3] in lex)
    if word.endswith("ly"):
        return any(w in lex for w in (word[:-2], word[:-3] + "y", word[:-4] if word.endswith("ally") else ""))
    return False


def _lemma_phrases(sents: list[Sentence]) -> tuple[Counter, dict[tuple[str, ...], tuple[str, ...]]]:
    """`_phrases` counted by lemmas ("theory"/"theories", "Rand"/"Rand's"), with the
    surface form said most often for each."""
    lemma_counts: Counter = Counter()
    surface: dict[tuple[str, ...], Counter] = {}
    for words, c in _phrases(sents).items():
        key = tuple(lemma(w) for w in words)
        lemma_counts[key] += c
        surface.setdefault(key, Counter())[words] += c
    return lemma_counts, {k: v.most_common(1)[0][0] for k, v in surface.items()}


def _length_bonus(key: tuple[str, ...]) -> float:
    """A phrase's bonus for each word after the first ("black hole" over "hole"); the
    "of" of "center of mass" does not count."""
    return 1.0 + 0.35 * (sum(w != "of" for w in key) - 1)


def _phrase_weight(key: tuple[str, ...], idf: dict[str, float]) -> float:
    """Mean IDF of a phrase's words (not its "of") times its length bonus."""
    words = [w for w in key if w != "of"]
    return sum(idf.get(w, 0.1) for w in words) / len(words) * _length_bonus(key)


def _score_phrases(sents: list[Sentence], idf: dict[str, float],
                   phrases: tuple[Counter, dict[tuple[str, ...], tuple[str, ...]]] | None = None) -> list[tuple[float, tuple[str, ...]]]:
    """`phrases`: `_lemma_phrases(sents)`, when the caller has it already."""
    lemma_counts, surface = phrases or _lemma_phrases(sents)
    scored = []
    for key, c in lemma_counts.items():
        if len(key) > 1 and c < 2:
            continue  # a two-word phrase said once is chance
        if len(set(key)) < len(key):
            continue
        score = (1 + math.log(c)) * _phrase_weight(key, idf)
        scored.append((score, surface[key]))
    scored.sort(key=lambda x: (-x[0], x[1]))
    return scored


def _keyword_candidates(sents: list[Sentence]) -> Counter:
    """What a learner searches for: the noun phrases of `_phrases` by lemma ("angular
    momentum", "hole"), not verbs, adjectives, numbers or generic words. A phrase of
    several words must be said twice."""
    lemma_counts, _ = _lemma_phrases(sents)
    out: Counter = Counter()
    for key, c in lemma_counts.items():
        if len(set(key)) < len(key) or (len(key) > 1 and c < 2):
            continue
        head = key[-1]
        if head in _GENERIC or head in _NUMBER_WORDS or head in _NOT_HEAD or _verb_form(head) or short_token(head):
            continue
        out[key] = c
    return out


def _pick_keywords(scored: list[tuple[float, tuple[str, ...]]], counts: Counter, sents: list[Sentence], k: int) -> tuple[str, ...]:
    """The best `k`, one keyword a term: a phrase inside one already taken, or holding
    one, is left out ("momentum" beside "angular momentum"), except that the longer
    phrase takes the shorter one's place when it is said at least half as often (the
    term is "angular momentum", not "momentum")."""
    scored.sort(key=lambda x: (-x[0], x[1]))
    picked: list[tuple[str, ...]] = []
    for _, key in scored:
        inside = [i for i, p in enumerate(picked) if set(key) <= set(p) or set(p) <= set(key)]
        if not inside:
            picked.append(key)
        elif len(inside) == 1 and len(key) > len(picked[inside[0]]) and counts[key] * 2 >= counts[picked[inside[0]]]:
            picked[inside[0]] = key
        if len(picked) == k:
            break
    return tuple(join_words(_spelt(key, sents)) for key in picked)


def _spelt(key: tuple[str, ...], sents: list[Sentence]) -> tuple[str, ...]:
    """Lower-case phrase words (as said, or lemmas) spelt as the transcript spells them
    inside sentences ("ASCII", "Boris Becker"). A capitalised word is a name, and keeps
    the form said ("Wales", not the lemma "Wale"; "School Facilities Fund"); a lemma
    said in lower case only in another form is spelt as the lemma ("theory")."""
    seen: dict[str, Counter] = {w: Counter() for w in key}
    for s in sents:
        for i, word in enumerate(word_tokens(s.text)):
            low = word.lower()
            lem = low if low in seen else lemma(low)
            if i == 0 or lem not in seen:  # a sentence's first word is capitalised anyway
                continue
            if low == lem or not is_english():  # a stem is no word: its words as said ("volcans")
                seen[lem][word] += 1
            elif word[:1].isupper():
                seen[lem][word] += 1
            else:
                seen[lem][lem] += 1
    # a common noun on its own that is also said in names ("the Mughal Empire") stays
    # lower case where it is said as itself
    lex = english_words()
    alone = len(key) == 1

    def spelt(w: str, last: bool) -> str:
        forms: Counter = Counter()
        for form, n in seen[w].items():
            # a possessive belongs inside a name ("Ford's Theatre"), not at its end ("Darwin")
            forms[form[:-2] if last and form.lower().endswith(("'s", "’s")) else form] += n
        if not forms or (alone and w in lex and forms[w]):
            return w
        said = forms.most_common(1)[0][0]
        one = w[:1].upper() + w[1:]
        # a name said in the singular too keeps it ("the Fatimids" -> "Fatimid Caliphate")
        return one if said[:1].isupper() and said != one and forms[one] else said

    return tuple(spelt(w, i == len(key) - 1) for i, w in enumerate(key))


def _keywords(sents: list[Sentence], idf: dict[str, float], k: int = 8) -> tuple[str, ...]:
    """A chapter's keywords: its noun phrases, weighted by how much more this chapter
    says them than the others do."""
    counts = _keyword_candidates(sents)
    scored = [((1 + math.log(c)) * _phrase_weight(key, idf), key) for key, c in counts.items()]
    return _pick_keywords(scored, counts, sents, k)


def _session_keywords(talk: list[Sentence], k: int = 10) -> tuple[str, ...]:
    """Phrases that are frequent in the session and concentrated in part of it (one
    spread evenly over every minute is more likely filler than a topic): the session's
    keywords when its chapters have none of their own."""
    tf = _keyword_candidates(talk)
    if not tf:
        return ()
    blocks = [talk[i : i + 20] for i in range(0, len(talk), 20)]
    df: Counter = Counter()
    for b in blocks:
        said = _lemma_phrases(b)[0]
        df.update(key for key in tf if key in said)
    nb = max(len(blocks), 1)
    scored = [
        (c * math.log((nb + 1) / (df[key] + 0.5) + 1.0) * _length_bonus(key), key)
        for key, c in tf.items() if c >= 2
    ]
    return _pick_keywords(scored, tf, talk, k)


# ---------------------------------------------------------------------------- titles


def _title_case(words: list[str] | tuple[str, ...]) -> str:
    if not is_english():  # other languages write titles in sentence case ("Révolution française")
        return join_words([words[0][:1].upper() + words[0][1:], *words[1:]]) if words else ""
    out = []
    for i, w in enumerate(words):
        if i > 0 and w.lower() in _TITLE_SMALL:
            out.append(w.lower())
        else:
            # each part of a compound ("Five-Year", "Proto-Afroasiatic"); acronyms and
            # names keep their capitals ("GDP", "McCarthy", "iOS")
            parts = w.split("-")
            out.append("-".join(
                p if p != p.lower() or (j and p in _TITLE_SMALL) else p[:1].upper() + p[1:] for j, p in enumerate(parts)
            ))
    return " ".join(out)


def _clip(title: str, limit: int = MAX_TITLE) -> str:
    title = re.sub(r"\s+", " ", title).strip(" -:;,.")
    if len(title) <= limit:
        return title
    cut = title[: limit + 1].rsplit(" ", 1)[0].rstrip(" -:;,.&")
    words = cut.split()
    small = _TITLE_SMALL if is_english() else stopwords()
    while words and words[-1].lower() in small:  # never end on "and"/"of"
        words.pop()
    return " ".join(words) or title[:limit]


# Presenters name the part they start: "Our first topic is photosynthesis", "let's
# talk about error handling", "something completely different: how to plan a budget".
_ANNOUNCEMENTS = (
    re.compile(r"\b(?:our|the|my|today's)\s+(?:(?:first|second|third|fourth|fifth|next|last|final|main|new)\s+)?"
               r"(?:topic|part|section|subject|theme|chapter)\s+(?:for\s+today\s+|today\s+)?"
               r"(?:is|will be|is about|covers)\s+(?:about\s+)?(?P<t>.+)$", re.I),
    re.compile(r"\b(?:let's|let us|we'll|we will|i'll|i will|we're going to|i'm going to)\s+(?:now\s+)?"
               r"(?:talk|speak|look|focus)\s+(?:a\s+(?:bit|little)\s+)?(?:about|at|on)\s+(?P<t>.+)$", re.I),
    re.compile(r"\b(?:something (?:completely |totally |quite )?different|next up|moving on to)\s*[:,]?\s*(?P<t>.*)$", re.I),
)
_NOT_A_TOPIC = {"this", "that", "these", "those", "it", "them", "here", "there", "what", "how", "why", "some", "one"}
# The same in the languages whose part-opening cues chapters.py knows: the topic is
# what follows "parlons maintenant de", "kommen wir zum", "我们来讲", or what comes
# before "についてお話しします".
_OTHER_ANNOUNCEMENTS = {
    "fr": re.compile(r"^(?:et |alors |donc |bon,? )?(?:parlons|passons|venons-en|venons en|intéressons-nous|abordons)\s+"
                     r"(?:maintenant\s+|ensuite\s+|enfin\s+|un peu\s+)?(?:de la |de l'|des |du |de |d'|à la |à l'|aux |au |à |la |le |les |l')?(?P<t>.+)$"
                     # "Pour finir, la Révolution française.": a heading after a sequence word
                     r"|^(?:et |alors )?(?:pour (?:finir|terminer|commencer)|ensuite|enfin)\s*[,:]\s*(?:la |le |les |l')(?P<h>.+)$", re.I),
    "de": re.compile(r"^(?:und |also |so,? )?(?:kommen|gehen) wir\s+(?:nun\s+|jetzt\s+)?(?:zum|zur|zu den|zu)\s+(?P<t>.+)$", re.I),
    "es": re.compile(r"^(?:y |bueno,? |pues )?(?:hablemos|pasemos)\s+(?:ahora\s+)?(?:de la |de los |de las |del |de |sobre |a la |al |a )(?:la |el |los |las )?(?P<t>.+)$", re.I),
    "zh": re.compile(r"^(?:好|好的|那么|那)?[，,]?\s*(?:首先|接下来|下面|其次|最后|然后)?[，,]?\s*(?:我们|咱们)?(?:再)?来(?:讲讲|讲|谈谈|谈|说说|学习)(?:一下)?(?P<t>[^，,。]+)$"),
    "ja": re.compile(r"^(?:では|それでは|さて)?[、,]?\s*(?:まず|次に|続いて|最後に)?[、,]?\s*(?P<t>[^、,。]+?)について(?:お話し|説明|ご説明|紹介|ご紹介|見て|考えて)"),
}
_OTHER_ANNOUNCEMENTS["yue"] = _OTHER_ANNOUNCEMENTS["zh"]
# "我们来看看这个公式", "このグラフについて説明します": a pointer, not a topic; "今日は二つの
# テーマについて", "trois sujets": the session's agenda (as `_AGENDA`)
_NOT_A_TOPIC_START = re.compile(r"^(?:这|那|一下|此|この|その|あの|これ|それ|ce |cette |ces |cela |ça |dies|das hier|esto |este |esta )", re.I)
_AGENDA_WORDS = re.compile(r"テーマ|話題|トピック|主题|话题|题目|\b(?:sujets|thèmes|points|parties|Themen|Punkte|temas|puntos)\b", re.I)
# "we'll talk about three subjects: photosynthesis, volcanoes and ...": the agenda of
# the whole session, not the topic of the part it opens
_AGENDA = re.compile(
    r"(?i)^(?:the\s+)?(?:two|three|four|five|six|seven|several|a\s+few|a\s+couple\s+of|some|a\s+number\s+of|\d+)\s+"
    r"(?:main\s+|key\s+|big\s+|different\s+)?(?:subjects|topics|things|parts|points|areas|sections|themes|questions|ideas)\b"
)


def announced_title(sents: list[Sentence]) -> str | None:
    """The topic a chapter's first sentences announce, in sentence case, or None: a
    heading it opens with ("Part two: pricing.", "Early life, she was born...") or a
    phrase that names it ("our next topic is ...")."""
    if sents and (heading := spoken_heading(sents[0].text)) is not None:
        return _clip(heading.title[0].upper() + heading.title[1:])
    if not is_english():
        return _announced_elsewhere(sents)
    for n, s in enumerate(sents[:3]):
        text = remove_fillers(s.text).strip().rstrip(".!?")
        for pattern in _ANNOUNCEMENTS:
            m = pattern.search(text)
            if m is None:
                continue
            topic = m.group("t")
            if _AGENDA.match(topic.strip()):
                continue
            if not topic.strip() and n + 1 < len(sents):
                # "Something completely different. How to plan a monthly budget."
                topic = remove_fillers(sents[n + 1].text).strip().rstrip(".!?")
            topic = re.split(r"[,;]|\s(?:because|which|where|so that|and then)\s", topic)[0].strip(" :-")
            words = topic.split()
            first = words[0].lower() if words else ""
            # "let's look at this equation" names no topic; "how to plan a budget" does.
            if not 1 <= len(words) <= 8 or not content_words(topic):
                continue
            if first in _NOT_A_TOPIC and not (first == "how" and len(words) > 2 and words[1].lower() == "to"):
                continue
            return _clip(topic[0].upper() + topic[1:])
    return None


def _announced_elsewhere(sents: list[Sentence]) -> str | None:
    """`announced_title` in a language of `_OTHER_ANNOUNCEMENTS`: a short topic
    named by one of the chapter's first three sentences."""
    pattern = _OTHER_ANNOUNCEMENTS.get(language())
    for s in sents[:3] if pattern else ():
        m = pattern.match(remove_fillers(s.text).strip().rstrip(".!?。！？"))
        topic = (m.group("t") or m.groupdict().get("h") or "").strip(" :-") if m else ""
        if topic and not (_NOT_A_TOPIC_START.match(topic) or _AGENDA_WORDS.search(topic)) and content_words(topic) and len(word_tokens(topic)) <= 6:
            return _clip(topic[0].upper() + topic[1:])
    return None


def keyphrase_title(sents: list[Sentence], idf: dict[str, float], avoid: set[str] = frozenset()) -> str | None:
    """A title from the chapter's best one or two key phrases, in Title Case."""
    counts, surface = phrases = _lemma_phrases(sents)
    scored = [(s, p) for s, p in _score_phrases(sents, idf, phrases) if join_words(p).lower() not in avoid]
    if not scored:
        return None
    first = _whole(scored[0][1], counts, surface)
    second = next((p for _, p in scored[1:6] if len(p) <= 2 and not any(_kin(a, b) for a in p for b in first)), None)
    if second is not None:
        whole = _whole(second, counts, surface)
        if not any(_kin(a, b) for a in whole for b in first):  # not "Tax and Tax Rate"
            second = whole
    words = list(first) + ([_AND.get(language(), "&"), *second] if second and len(first) + len(second) <= 5 else [])
    return _phrase_title(tuple(words), sents)


def _whole(phrase: tuple[str, ...], counts: Counter, surface: dict[tuple[str, ...], tuple[str, ...]]) -> tuple[str, ...]:
    """`phrase`, or the longer phrase it is mostly said in ("bait" -> "Oscar bait",
    "Sumter" -> "Fort Sumter"): one said at least twice and at least half as often.
    The shorter phrase can score higher because the longer one's first word is said
    all over the talk ("Oscar"), which says nothing about whether it belongs."""
    key = tuple(lemma(w) for w in phrase)
    n = len(key)
    longer = [(c, k) for k, c in counts.items() if len(k) > n and k[-n:] == key and c >= 2 and 2 * c >= counts[key]]
    if not longer:
        return phrase
    best = max(longer)[1]
    return surface[best] if len(set(best)) == len(best) else phrase


def _kin(a: str, b: str) -> bool:
    """One word in two forms, which a title must not pair with itself ("Nuclei and
    Nuclear", "Proto-Afroasiatic and Afroasiatic", "Awards and Award")."""
    a, b = a.lower(), b.lower()
    if lemma(a) == lemma(b) or stem(a) == stem(b) or a in b.split("-") or b in a.split("-"):
        return True
    common = len(os.path.commonprefix([a, b]))
    return common >= 5 and common >= 0.7 * min(len(a), len(b))


def readable(text: str, confidence: float, vocabulary: set[str]) -> bool:
    """Does an OCR'd title read like words? Confident, mostly letters, of title length,
    and most of its words are English words, are said in the talk, or are near a word
    the recogniser wrote (a slide spells "Aardwolf" where the speech gave "Ardwolf")."""
    toks = re.findall(r"[A-Za-zÀ-ÖØ-öø-ɏ]+", text)  # Latin letters, accented ones too ("Révolution")
    if confidence < 0.75 or not 3 <= len(text) <= 90 or not toks:
        return False
    letters = sum(len(t) for t in toks)
    ink = len(re.sub(r"\s", "", text))
    # Years and numbers are part of real headings ("1970-85: Early life", "Q3 2024
    # results"), so they count with the letters against symbol soup; letters must
    # still carry a good part of it.
    alnum = letters + len(re.findall(r"[0-9]", text))
    if alnum < 0.6 * ink or letters < 0.4 * ink or max(len(t) for t in toks) < 3:
        return False
    words = [t.lower() for t in toks if len(t) >= 3]
    if not words:
        return False
    lexicon = english_words()
    stop = stopwords()

    def known(w: str) -> bool:
        if w in stop or w in vocabulary or lemma(w) in vocabulary or w in lexicon or lemma(w) in lexicon:
            return True
        return len(w) >= 5 and _near_spoken(w, vocabulary)

    return sum(map(known, words)) >= 0.5 * len(words)


def _near_spoken(word: str, vocabulary: set[str]) -> bool:
    """A word of the talk spelt nearly the same way (same first letter, similar length)."""
    from difflib import SequenceMatcher

    for v in vocabulary:
        if v[:1] == word[:1] and abs(len(v) - len(word)) <= 2:
            m = SequenceMatcher(None, word, v)
            if m.real_quick_ratio() >= NEAR_SPOKEN and m.quick_ratio() >= NEAR_SPOKEN and m.ratio() >= NEAR_SPOKEN:
                return True
    return False


def _still_for(ch: _Chapter, video: VideoAnalysis | None):
    if video is None or not video.frames or (video.end is not None and ch.start >= video.end - 0.5):
        return None  # no picture, or none any more while this chapter is said
    # the first still taken from shortly before the start to a third into the chapter,
    # and not before the picture on screen as the chapter starts appeared: a still
    # between a flicker and the slide change (a codec's keyframe sharpening, then
    # the new slide a second later) shows the slide before
    limit = ch.start + min(60.0, max(5.0, (ch.end - ch.start) / 3))
    shown = [c.time for c in video.scene_changes if ch.start - 1.5 <= c.time <= ch.start + 1.5]
    after = [f for f in video.frames if max([ch.start - 1.5, *shown]) - 0.01 <= f.time <= limit]
    if after:
        return after[0]
    before = [f for f in video.frames if f.time < ch.start]
    return before[-1] if before else None


# A slide title that only says where in the talk a part is ("Part 2", "Section III
# (continued)", "Week 3"): the chapter's key phrase is added to say what it is about.
_POSITION_ONLY = re.compile(
    r"^(?:part|section|chapter|module|unit|lesson|session|lecture|week|day|step|topic|segment|block)\s+"
    r"(?:\d+|[ivxlc]+|[a-z]|one|two|three|four|five|six|seven|eight|nine|ten)\b[.:]?"
    r"(?:\s*\(?(?:continued|cont'?d?\.?)\)?)?$",
    re.I,
)


def _subject_names(chapters: list[_Chapter], subjects: tuple[int, ...]) -> dict[int, str]:
    """For a session over several subjects, the chapter that opens each one is named
    by what it introduces: its key phrase weighed against the other subjects ("Atomic
    Number", "Algae"), not against the other chapters of its own subject, where the
    subject's name is everywhere and so counts for little."""
    if not subjects:
        return {0: name} if len(chapters) >= 2 and (name := _subject_name(chapters)) else {}
    edges = [0, *subjects, len(chapters)]
    groups = [[s for ch in chapters[a:b] for s in ch.sents] for a, b in zip(edges, edges[1:])]
    idf = _idf([[w for s in g for w in content_words(s.text)] for g in groups])
    names = {}
    for a, b in zip(edges, edges[1:]):
        if b - a >= 2 and (name := _subject_name(chapters[a:b])):
            names[a] = name
            continue
        scored = _score_phrases(chapters[a].sents, idf)
        if scored:
            names[a] = _phrase_title(scored[0][1], chapters[a].sents)
    return names


def _subject_name(chapters: list[_Chapter]) -> str | None:
    """What a session on one subject is about, to name the chapter that introduces it:
    the phrase said most often in the whole talk that its first chapter says too,
    favouring one said as the talk opens ("Autism", "Abraham Lincoln"). Measured against
    the other chapters, as other titles are, the subject's name is everywhere and
    counts for nothing."""
    talk, _ = _lemma_phrases([s for ch in chapters for s in ch.sents])
    first, surface = _lemma_phrases(chapters[0].sents)
    opening, _ = _lemma_phrases(chapters[0].sents[:5])
    scored = [
        (c * _length_bonus(key) * (1 + min(opening[key], 2)), surface[key])
        for key, c in talk.items()
        if first[key] and len(set(key)) == len(key) and not set(key) & _GENERIC
    ]
    if not scored:
        return None
    return _phrase_title(min(scored, key=lambda x: (-x[0], x[1]))[1], chapters[0].sents)


def _phrase_title(words: tuple[str, ...], sents: list[Sentence]) -> str:
    """Lower-cased phrase words as a title, spelt as `sents` spell them."""
    return _clip(_title_case(_spelt(words, sents)))


def _titles(chapters: list[_Chapter], idf, video, options: Options, transcript_vocab: set[str],
            openings: dict[int, str] | None = None):
    """`openings`: titles for the chapters that open a subject, when nothing better
    (a slide, a heading or topic the presenter announces) names them."""
    titles, sources = [], []
    openings = openings or {}
    for i, ch in enumerate(chapters):
        title, source = None, "keyphrases"
        still = _still_for(ch, video) if options.ocr else None
        if still is not None:
            from .ocr import read_title  # remembers each still it has read

            found = read_title(still.path)
            if found is not None and readable(found.title, found.confidence, transcript_vocab):
                title, source = _clip(found.title), "slide"
                if _POSITION_ONLY.match(title) and (extra := keyphrase_title(ch.sents, idf)):
                    title = _clip(f"{title}: {extra}")  # "Part 2" says where, not what
        if title is None and (announced := announced_title(ch.sents)) is not None:
            title, source = announced, "announced"
        if title is None:
            title = openings.get(i) or keyphrase_title(ch.sents, idf)
        if title is None:
            title, source = ("The whole recording" if len(chapters) == 1 else f"Part {i + 1}"), "fallback"
        titles.append(title)
        sources.append(source)
    return titles, sources


def _distinct(titles: list[str], chapters: list[_Chapter], idf, keep: set[int] = frozenset()) -> list[str]:
    """No two chapters share a title: a repeat gets the chapter's own key phrase added
    ("Momentum: Elastic Collisions"), or failing that a part number. The titles at
    `keep` stay as they are."""
    out: list[str] = []
    seen: set[str] = {titles[i].lower() for i in keep}
    for i, (title, ch) in enumerate(zip(titles, chapters)):
        t = title
        if i not in keep and t.lower() in seen:
            extra = keyphrase_title(ch.sents, idf, avoid={x.lower() for x in seen} | {title.lower()})
            if extra and extra.lower() not in title.lower():
                t = _clip(f"{title}: {extra}")
            n = 2
            while t.lower() in seen:
                t = f"{_clip(title, MAX_TITLE - 4)} ({n})"
                n += 1
        seen.add(t.lower())
        out.append(t)
    return out


# ---------------------------------------------------------------------------- summaries


def _vectors(sents: list[Sentence]) -> np.ndarray:
    """Unit vectors for sentences: embeddings when available, else TF-IDF."""
    if not sents:
        return np.zeros((0, 1), dtype=np.float32)
    vec = embed([s.text for s in sents])
    if vec is not None:
        vec = vec - vec.mean(axis=0)
        return vec / np.maximum(np.linalg.norm(vec, axis=1, keepdims=True), 1e-9)
    lem = [content_words(s.text) for s in sents]
    vocab = {w: i for i, w in enumerate(sorted({w for l in lem for w in l}))}
    m = np.zeros((len(sents), max(len(vocab), 1)), dtype=np.float32)
    for i, l in enumerate(lem):
        for w in l:
            m[i, vocab[w]] += 1
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-9)


# A reply ("Yes, pay off the debt first") makes sense only after the question.
_REPLY = re.compile(r"(yes|no|yeah|yep|nope|sure|exactly|right|correct|absolutely)\b[,.!]", re.I)


def _well_formed(text: str) -> bool:
    """Starts like a sentence, does not start again inside (lower case after a full
    stop), and is not a reply."""
    text = text.strip()
    return bool(text) and not text[0].islower() and not re.search(r"[.!?]\s+[a-z]", text) and not _REPLY.match(text)


# Openings that point back to what was said before ("He", "This", "However", "Also").
_LEANS_BACK = frozenset(
    """also and but or so however moreover furthermore additionally thus therefore hence
    meanwhile still yet then this these those that it its he she they him her his hers them their theirs
    such""".split()
)


# A speaker thinking aloud or voicing the audience ("Well, you may say, maybe...",
# "Let's say we rotate it"): true to the talk, but not what it teaches.
_MUSING = re.compile(
    r"^(well|maybe|perhaps|anyway|okay|ok|oh|yeah|right)\b|\byou (may|might|could) (say|think|ask|wonder)\b|^let's say\b|^suppose\b",
    re.IGNORECASE,
)


def _standalone(text: str) -> bool:
    plain = remove_fillers(text)
    toks = tokenize(plain)
    return bool(toks) and toks[0] not in _LEANS_BACK and not _MUSING.search(plain.strip())


def _central(sents: list[Sentence], vec: np.ndarray, k: int) -> list[Sentence]:
    """Up to k summary-worthy sentences by centrality with MMR, best first (the first
    j of them are the same for any k >= j)."""
    if not sents or k <= 0:
        return []
    n_words = np.array([len(tokenize(s.text)) for s in sents])
    usable = (n_words >= 6) & (n_words <= 45) & np.array([not s.text.rstrip().endswith(QUESTION_MARKS) for s in sents])
    # "Welcome, everyone", "now let's move on to the kitchen": close to every topic's
    # centroid and unlike the content sentences MMR has picked, so they win both
    # ways, yet tell a learner nothing about the subject.
    # A sentence Whisper broke at a chunk's edge ("Gannistan. making the ancient...")
    # reads as garbage out of context.
    content = usable & np.array([not signposting(s.text) and _well_formed(s.text) for s in sents])
    # Summaries and key points are read out of their place in the talk: "He won his
    # first title in 1987", "Also in 2009 ..." lean on a sentence that is not there.
    standalone = content & np.array([_standalone(s.text) for s in sents])
    if standalone.sum() >= min(k, 3):
        content = standalone
    if content.any():
        usable = content
    if not usable.any():
        usable = n_words >= 3
    if not usable.any():
        return []
    centroid = vec[usable].mean(axis=0)
    norm = np.linalg.norm(centroid)
    centrality = vec @ (centroid / norm) if norm > 0 else np.zeros(len(sents))
    position = 1.0 - np.arange(len(sents)) / max(len(sents), 1)  # openings state the topic
    relevance = centrality + POSITION_WEIGHT * position
    chosen: list[int] = []
    candidates = list(np.flatnonzero(usable))
    while candidates and len(chosen) < k:
        if chosen:
            redundancy = np.max(vec[candidates] @ vec[chosen].T, axis=1)
        else:
            redundancy = np.zeros(len(candidates))
        mmr = 0.7 * relevance[candidates] - 0.3 * redundancy
        best = candidates[int(np.argmax(mmr))]
        chosen.append(best)
        candidates.remove(best)
    return [sents[i] for i in chosen]


# ---------------------------------------------------------------------------- questions


def find_questions(sents: list[Sentence], spans: ChapterSpans) -> tuple[Question, ...]:
    """Questions put to the speaker (or by the speaker to the audience and answered),
    each with the answer span that follows it."""
    if not sents:
        return ()
    speakers = Counter(s.speaker for s in sents if s.speaker)
    main_speaker = speakers.most_common(1)[0][0] if speakers else None
    boundaries = [a for a, _ in spans.spans[1:]]
    qa_from = math.inf
    for s in sents:
        if _QA_PROMPT.search(s.text.lower()) and s.start > spans.talk_start + 0.5 * (spans.talk_end - spans.talk_start):
            qa_from = min(qa_from, s.start)
    out: list[Question] = []
    idx = [i for i, s in enumerate(sents) if _is_question(s)]
    for n, i in enumerate(idx):
        s = sents[i]
        low = s.text.lower().strip()
        gap_after = sents[i + 1].start - s.end if i + 1 < len(sents) else math.inf
        other_speaker = main_speaker is not None and s.speaker is not None and s.speaker != main_speaker
        asking = bool(_ASKING.match(low)) and not low.startswith(("what is", "what's", "why is", "how does", "how do", "what are", "what does", "which"))
        in_qa = s.start >= qa_from
        handed_over = main_speaker is not None and i + 1 < len(sents) and sents[i + 1].speaker not in (None, s.speaker)
        acknowledged = i + 1 < len(sents) and bool(_ACKNOWLEDGED.match(remove_fillers(sents[i + 1].text).lower()))
        if not (
            other_speaker
            or handed_over
            or acknowledged
            or gap_after >= 1.2  # the speaker waits for an answer
            or (in_qa and main_speaker is None)  # in a Q&A with no speaker labels, questions are the audience's
            or (asking and _audience_opener(low))
        ):
            continue  # rhetorical: the speaker carries straight on
        if i + 1 >= len(sents):
            continue
        a0 = sents[i + 1].start
        stop = min(
            a0 + ANSWER_CAP,
            sents[idx[n + 1]].start if n + 1 < len(idx) else math.inf,
            next((b for b in boundaries if b > a0 + 1.0), math.inf),
            spans.talk_end if spans.talk_end > a0 else math.inf,
        )
        answer: list[Sentence] = []
        prev_end = s.end
        for t in sents[i + 1 :]:
            if t.start >= stop or (answer and t.start - prev_end > ANSWER_PAUSE):
                break
            if other_speaker and t.speaker == s.speaker and answer:
                break  # the asker speaks again
            answer.append(t)
            prev_end = t.end
        if not answer:
            continue
        text = join_words(remove_fillers(t.text) for t in answer)
        if len(text) > 400:
            text = text[:400].rsplit(" ", 1)[0] + " …"
        out.append(Question(time=s.start, text=remove_fillers(s.text), answer_start=answer[0].start, answer_end=answer[-1].end, answer=text))
    return tuple(out)


def _audience_opener(low: str) -> bool:
    return bool(re.match(r"^(so |and |but |um |uh |yeah |okay |ok )*(does anyone|does anybody|has anyone|can you|could you|would you|what about|what if|i have a question|my question|i was wondering|is it possible|can i|can we|could i|do you)\b", low))


# A statement whose subject is a wh-clause, which the recogniser often writes with a
# question mark: "How early is still unclear, as the fossil record ... disagree?"
_WH_SUBJECT = re.compile(
    r"^(how|why|what|when|where|whether|who|which)\b[^,?]{0,60}?\b(is|was|are|were|remains?|remained|has been)\s+"
    r"(still\s+|not\s+|also\s+|largely\s+|somewhat\s+)*(unclear|unknown|uncertain|debated|disputed|contested|"
    r"controversial|a mystery|an open question|not known|not clear|known|clear|obvious)\b"
)


def _is_question(s: Sentence) -> bool:
    low = remove_fillers(s.text).lower().strip()
    if not low or _FILLER_QUESTION.match(low) or _WH_SUBJECT.match(low):
        return False
    if len(tokenize(low)) < 4 or not content_words(low):
        return False
    return low.endswith(QUESTION_MARKS) or bool(_ASKING.match(low) and _audience_opener(low))


# ---------------------------------------------------------------------------- LLM


def _endpoint(url: str) -> str:
    url = url.rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    return url + "/chat/completions" if url.endswith("/v1") else url + "/v1/chat/completions"


def llm_rewrite(chapters: list[_Chapter], options: Options) -> tuple[list[str], list[str], str] | None:
    """Abstractive titles and summaries from an OpenAI-compatible endpoint.

    Returns None on any failure (network, HTTP error, timeout, a reply that is not the
    JSON asked for); fields that come back empty or malformed are left to the caller's
    extractive values (empty strings)."""
    try:
        parts = []
        for i, ch in enumerate(chapters):
            text = join_words(remove_fillers(s.text) for s in ch.sents)
            parts.append(f"Chapter {i + 1}:\n{text[:2500]}")
        prompt = (
            "Below are the chapters of a recorded talk, transcribed. For each chapter write a specific title "
            f"(at most {MAX_TITLE} characters, no numbering) and a summary of one to three sentences that only "
            "states what is said in the chapter. Also write a two-sentence summary of the whole talk. Answer with "
            'JSON only: {"chapters": [{"title": "...", "summary": "..."}], "summary": "..."}\n\n' + "\n\n".join(parts)
        )
        body = {
            "model": options.llm_model or "default",
            "messages": [{"role": "user", "content": prompt}],
            "temperature": 0.2,
        }
        headers = {"Content-Type": "application/json"}
        key = os.environ.get("RECAST_LLM_API_KEY") or os.environ.get("OPENAI_API_KEY")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(_endpoint(options.llm_url or ""), data=json.dumps(body).encode(), headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=LLM_TIMEOUT) as response:  # noqa: S310 - the user's own endpoint
            reply = json.loads(response.read(4_000_000).decode("utf-8"))
        content = reply["choices"][0]["message"]["content"]
        match = re.search(r"\{.*\}", content, re.S)
        data = json.loads(match.group(0) if match else content)
        items = data["chapters"]
        if not isinstance(items, list) or len(items) != len(chapters):
            raise ValueError(f"{len(items) if isinstance(items, list) else 'no'} chapters in the reply, expected {len(chapters)}")
        titles, summaries = [], []
        for item in items:
            t = item.get("title") if isinstance(item, dict) else None
            s = item.get("summary") if isinstance(item, dict) else None
            titles.append(_clip(t) if isinstance(t, str) and t.strip() else "")
            summaries.append(s.strip() if isinstance(s, str) else "")
        session = data.get("summary")
        return titles, summaries, session.strip() if isinstance(session, str) else ""
    except Exception as e:  # any failure: the extractive result stands
        log.warning("LLM summaries unavailable (%s); using extractive ones", e)
        return None
