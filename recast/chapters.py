"""Where the talk is, and where it splits into chapters.

1. Dead air: the talk starts at the first sentence after the lead-in ("can everyone
   hear me", "we'll wait a minute for people to join", mic checks before a long
   silence) and ends before the sign-off ("thanks everyone, bye").
2. Signals at every sentence end inside the talk: topic shift (how much more coherent
   the text becomes when cut there: sentence embeddings from WordLlama plus TF-IDF
   word overlap), pause length, phrases that open a new part ("now let's turn to",
   "our third topic"), a heading said on its own ("Early life.", "Part two: pricing."),
   and slide changes from the video (a change whose title strip
   keeps the previous slide's title, "(continued)" added or not, is a continuation
   slide and counts for little; a change known only to a keyframe interval marks
   every sentence starting in it, and the other signals choose), and a boundary
   scorer (logistic regression with fixed weights, boundary_weights.py) over the words
   around each sentence start: cohesion drops at several window sizes, which side a
   sentence leans to, new names, the subject named again, how the sentence opens.
3. Boundaries are chosen together by dynamic programming: each chapter earns the
   coherence of its sentences (the length of the sum of their unit vectors, which is
   how far they agree on one direction) and pays a fixed price, so a cut is made only
   where splitting gains more than that price; chapters shorter than `min_chapter`
   are not allowed and ones longer than `max_chapter` pay extra (when titled slides
   mark the parts, only beyond twice `max_chapter`: a part under one title is a unit).
   A session over several unrelated subjects is first cut where the subject changes,
   and each subject is segmented on its own (`subjects`).

A boundary is placed just before the first word of the chapter's first sentence
(a short lead-in of at most 0.4 s, never earlier than the middle of the pause), so
playback from a chapter link starts on its first word and not on the tail of the
previous sentence or on seconds of silence.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import Options
from .models import SAMPLE_RATE, Audio, ChapterMarks, ChapterSpans, Transcript, VideoAnalysis
from .boundary_weights import BOUNDARY_BIAS, BOUNDARY_WEIGHTS
from .text import Sentence, content_words, embed, in_transcript_language, language, sentences, spoken_heading, stems, tokenize
from .video import change_window

log = logging.getLogger(__name__)

# Tuned on the .dev lectures of the MIT physics corpus and held-out Wikipedia
# articles (benchmarks/bench_chapters.py); see the report there.
CUT_PRICE = 3.2  # coherence a cut must gain, in units of one fully agreeing sentence
# The boundary scorer's log-odds, plus an offset (a boundary is rare, so they are mostly
# well below zero), join a cut's bonus; set on cross-validated scores of the tuning
# data. With slides that mark the parts the words count for less.
SCORER_WEIGHT = 0.5
SCORER_OFFSET = 3.0
SLIDE_SCORER_WEIGHT = 0.25
SLIDE_SCORER_OFFSET = 1.0
OVERLONG_PRICE = 3.0  # extra price per `max_chapter` of length beyond `max_chapter`
# When titled slides mark the parts, a part the presenter kept under one title is one
# unit: it may run to this many times `max_chapter` before it pays for its length.
# Cut for length alone, it splits at a continuation slide, mid-explanation. Chosen on
# the .dev lectures with slides (gold parts run to 23 minutes): 1.0 / 1.5 / 2.0 / 3.0
# gave F1 0.84 / 0.88 / 0.96 / 0.96; held out, 1.0 -> 2.0 took F1 0.83 -> 0.91,
# Pk 0.18 -> 0.08, and Wikipedia (shorter sections) stayed at 0.97.
SLIDE_OVERLONG = 2.0
SLIDE_BONUS = 5.0  # a new slide with a new title at this sentence end
# With titled slides marking the parts, a cut where no title changes pays this on top
# of CUT_PRICE: otherwise the drift of a long part's text splits it at a continuation
# slide. (Raising CUT_PRICE itself instead lost short parts of real recordings, whose
# boundary-scorer odds are low.) See RESULTS.md, session 8, for the values tried.
OFF_TITLE_PRICE = 1.8
CONTINUATION_BONUS = 0.6  # a new slide that keeps the previous title
SUBJECT_COS = 0.06  # below this, the words either side share nothing: a new subject
SUBJECT_WINDOW = 40  # sentences (about 5 minutes) either side, and the shortest subject
SUBJECT_SNAP = 3  # sentences
PAUSE_BONUS = 0.6  # a pause much longer than this speaker's usual
SLIDE_SNAP = 8.0  # s: how far a slide change may lie from the sentence end it marks
SLIDE_LEAD = 1.5  # s: a sentence starting this much before a slide change may be the one it marks
SEMANTIC_WEIGHT = 0.8  # share of the embedding signal against TF-IDF word overlap
CUE_BONUS = 3.0  # a sentence that opens a new part ("now let's turn to", "our next topic")
CUE_OFF_SLIDE = 0.2  # share of a cue's bonus away from slide changes, when slides mark the parts
WEAK_CUE_BONUS = 0.5  # a sentence starting with "now" or "so": opens parts in lectures, but often not
# A heading said as a sentence of its own ("Early life.", "Part two: pricing."). One run
# into its sentence ("Early life, she was born...") or ending in a comma earns nothing:
# such openers are common in plain prose ("China, the largest...", 6% of Wikipedia's
# sentences) and a TTS voice pauses as long inside lists as after a heading.
# Tuned on the spoken-heading articles of bench_chapters' tuning split (F1 0.58 -> 0.68;
# without headings 0.577 -> 0.567; lectures 0.359 -> 0.354).
HEADING_BONUS = 2.0
LEAD = 0.4  # s before a chapter's first word
# Sentence times are coarse (a boundary moves by a pause): a chapter may fall short of
# `min_chapter` by up to MIN_SLACK seconds, paying SHORT_PRICE for each.
MIN_SLACK = 1.5  # s
SHORT_PRICE = 1.5  # per second short
# s without a word, inside the talk, while the screen stays as it is: a break (coffee,
# an exercise, a video that failed to play). A chapter ends before it and the next
# starts after it, so no chapter or clip holds minutes of waiting. Thinking aloud,
# typing or a question from the floor leave pauses of seconds.
BREAK_GAP = 60.0
TAIL = 0.5  # s of silence kept after the last word of the talk, and of a chapter that a break ends
# s at either end of a break where a slide change does not count against it: the
# presenter puts up a "Break - back at 11:00" slide, and takes it down again
BREAK_SLIDE = 15.0

_LEAD_IN = [
    re.compile(p)
    for p in (
        r"\b(wait|waiting|give (it|people|everyone|them)|hold on)\b.{0,40}\b(minute|minutes|moment|second|seconds|few|more people|others|everyone|everybody|folks|join|joining)\b",
        r"\b(can|could|do) (everyone|everybody|you( all| guys)?|people|folks) (hear|see) (me|us|my|the|this|ok|okay)\b",
        r"\b(is|are|can) (my|the) (audio|mic|microphone|sound|screen|slides?|camera|video)\b",
        r"\b(we'?ll|we will|i'?ll|i will|going to|gonna) (start|begin|get started|kick off)\b.{0,20}\b(in|shortly|soon|at|once|when)\b",
        r"\b(people|folks|everyone) (are |is )?(still )?(joining|coming in|trickling in|arriving)\b",
        r"\b(few|couple( of)?) (more )?(minutes|moments|seconds) (for|to let|until|before|so)\b",
        r"\b(mute|unmute|muted|unmuted|on mute)\b",
        r"\b(start|started|starting) (the )?recording\b|\brecording (is |has )?(on|started|running)\b",
        r"\b(share|sharing) my screen\b|\bscreen ?share\b",
        r"\b(testing|test),? (one|1)\b|\bmic check\b",
    )
]
_GREETING_ONLY = re.compile(r"^(hello|hi|hey|okay|ok|alright|all right|yeah|yes|good|um|uh|so|hmm|oh|test|testing)([\s,.!?]+(hello|hi|hey|everyone|everybody|all|there|folks|guys|okay|ok))*[\s,.!?]*$")
_START = re.compile(
    r"\b((let'?s|let us|we can|i'?ll|we'?ll|i will|we will|i'?m going to|we'?re going to) (go ahead and )?(get started|start|begin|kick (it|things|this) off)|welcome,? (everyone|everybody|to|back|all))\b(?!\s+(in|shortly|soon|at|once|when)\b)"
)
# Phrases that open a new part of a talk ("moving on", "our third topic is").
_CUE = re.compile(
    r"^(?:(?:so|okay|ok|alright|all right|right|well|and|now|good|great)[,.]?\s+)*"
    r"(?:now,? let'?s|let'?s (?:now |then )?(?:move|turn|talk|look|go|switch|begin|start|get|shift|consider|focus|discuss)"
    r"|let us (?:now |then )?(?:move|turn|talk|look|go|switch|begin|start|shift|consider|focus|discuss)"
    r"|moving on|move on to|turning to|switching (?:gears|over|to)|on to (?:the|our)|next,|next (?:up|topic|we|i|let'?s)"
    r"|the next (?:topic|thing|part|section|step|subject|item|question|area|point)"
    r"|(?:our|my|the) (?:first|second|third|fourth|fifth|sixth|next|last|final|other) (?:topic|part|section|subject|item|area|theme|question)"
    r"|(?:first|second|third|fourth|fifth)(?:ly)?,? (?:let'?s|we|i)|finally,|lastly|last but not least|to (?:summarize|sum up|wrap up)"
    r"|in summary|so far we|that brings us|(?:another|a different|a new|one more) (?:topic|subject|thing i want)"
    r"|i (?:want|would like|'?d like) to (?:now )?(?:talk|turn|move|switch|start|discuss|show|introduce|look)"
    r"|(?:we|i)'?(?:ll| will) (?:now )?(?:look|turn|move|talk|switch|start|discuss)"
    r"|(?:we|i)'?(?:re| am|m) (?:now )?going to (?:look|turn|move|talk|switch|start|discuss)"
    r"|what i (?:want|would like|'?d like) to do (?:now|next)|today,? (?:we|i)(?:'ll| will| want| are going)|something (?:completely |totally |quite )?different)(?!\w)"
)
# Cues that open a part but usually carry its content too: a recap ("to sum up, ...")
# or the next step of instructions ("Finally, brush the loaf with water").
_RECAP_OR_STEP = re.compile(
    r"^(?:(?:so|okay|ok|alright|all right|right|well|and|now)[,.]?\s+)*"
    r"(?:finally,|lastly|last but not least|next,|to (?:summarize|sum up|wrap up)|in summary|so far we|that brings us)"
)
_WEAK_CUE = re.compile(r"^(?:(?:okay|ok|alright|all right|good|right)[,.]?\s+)?(?:now|so|okay|ok|alright|all right)\b[,.]?")
# The same cues in the languages trainers use most after English: (opens a part,
# of which a recap or a last step that carries its content). Ambiguous openers
# ("enfin", "vamos a ver") are left out.
_OTHER_CUES = {
    "fr": (
        r"(?:passons|venons-en|venons en) (?:maintenant |ensuite |enfin )?(?:à|au|aux)\b|parlons (?:maintenant |un peu |ensuite )?(?:de|du|des|d')"
        r"|abordons|intéressons-nous|voyons (?:maintenant|ensuite)|pour (?:finir|terminer|conclure)|en (?:conclusion|résumé)"
        r"|(?:notre|le|la|mon|ma) (?:premier|première|deuxième|second|seconde|troisième|prochain|prochaine|dernier|dernière) (?:sujet|thème|point|partie|chapitre)"
        r"|(?:le|la) (?:sujet|thème|point|partie) suivante?|changeons de sujet|(?:nous allons|je vais|on va) (?:maintenant |ensuite )?(?:parler|passer|aborder|voir)",
        r"pour (?:finir|terminer|conclure)|en (?:conclusion|résumé)",
    ),
    "de": (
        r"(?:kommen|gehen) wir (?:nun |jetzt |als nächstes )?(?:zu|zum|zur)\b|als nächstes|zum schluss|abschließend|zusammenfassend"
        r"|(?:lassen sie|lasst) uns (?:nun |jetzt )?(?:über|zu|mit)|wenden wir uns|(?:nun|jetzt) (?:zu|zum|zur)\b"
        r"|(?:unser|mein|das) (?:erstes|zweites|drittes|nächstes|letztes) thema|(?:der|die) (?:nächste|letzte) (?:punkt|teil|abschnitt)"
        r"|(?:wir|ich) (?:kommen|komme|sprechen|spreche|möchte|möchten) (?:nun |jetzt )?(?:zu|über)\b",
        r"zum schluss|abschließend|zusammenfassend|als nächstes",
    ),
    "es": (
        r"pasemos (?:ahora )?a\b|hablemos (?:ahora |un poco )?(?:de|del|sobre)|(?:ahora|ahora bien),? (?:vamos a|veamos|hablemos|pasamos)"
        r"|vamos a (?:hablar|pasar)|por último|para (?:terminar|concluir|finalizar)|en resumen|cambiando de tema"
        r"|(?:nuestro|el|mi) (?:primer|segundo|tercer|siguiente|próximo|último) (?:tema|punto|apartado|bloque)|(?:el|la) (?:siguiente|próxima) (?:tema|punto|parte)",
        r"por último|para (?:terminar|concluir|finalizar)|en resumen",
    ),
    "it": (
        r"passiamo (?:ora |adesso )?(?:a|al|alla|ai|alle)\b|parliamo (?:ora |adesso )?(?:di|del|della|dei)|vediamo (?:ora|adesso)"
        r"|per (?:concludere|finire)|in conclusione|(?:il|la) (?:prossimo|prossima|primo|secondo|terzo|ultimo) (?:argomento|punto|tema|parte)",
        r"per (?:concludere|finire)|in conclusione",
    ),
    "pt": (
        r"(?:vamos|passemos|passamos) (?:agora )?(?:a|ao|à|para)\b|vamos (?:agora )?falar|falemos (?:agora )?(?:de|do|da|sobre)"
        r"|por fim|para (?:terminar|concluir)|em resumo|(?:o|a) (?:próximo|próxima|primeiro|segundo|terceiro|último) (?:tema|tópico|ponto|parte)",
        r"por fim|para (?:terminar|concluir)|em resumo",
    ),
    "nl": (
        r"laten we (?:nu |eens )?(?:kijken|beginnen|verder|overgaan)|dan gaan we (?:nu )?(?:naar|verder|over)|we gaan (?:nu )?(?:verder|over)"
        r"|tot slot|ten slotte|als laatste|samenvattend|het (?:volgende|laatste) (?:onderwerp|punt|deel)|(?:ons|mijn) (?:eerste|tweede|volgende|laatste) onderwerp",
        r"tot slot|ten slotte|als laatste|samenvattend",
    ),
}
# language -> (opens a part, recap or step), English's included
_CUE_RES = {
    "en": (_CUE, _RECAP_OR_STEP),
    **{code: (re.compile(r"^(?:(?:et|alors|donc|bon|bien|und|also|gut|so|y|bueno|pues|e|allora|então|en|dus|oké|ok|okay)[,.]?\s+)*(?:" + cue + r")(?!\w)"),
              re.compile(r"^(?:(?:et|alors|donc|bon|und|also|y|bueno|e|então|en|dus)[,.]?\s+)*(?:" + recap + r")(?!\w)"))
       for code, (cue, recap) in _OTHER_CUES.items()},
    # Chinese and Japanese run words together, so a cue needs no word end after it
    "zh": (re.compile(r"^(?:好|好的|那么|那|所以)?[，,]?\s*(?:接下来|下面|其次|最后|再来|然后我们|现在我们|我们(?:再)?来(?:讲|谈|看|说|学)"
                      r"|第[一二三四五六七八九十]+(?:部分|个主题|个话题|章|节)|下一(?:个|部分)|换个话题)"),
           re.compile(r"^(?:好|好的|那么|那|所以)?[，,]?\s*(?:最后|总结一下|总之|总的来说|综上所述)")),
    "ja": (re.compile(r"^(?:では|それでは|さて)?[、,]?\s*(?:次に|続いて|続きまして|最後に|第[一二三四五六七八九十\d]+(?:部|章|節)"
                      r"|次の(?:テーマ|話題|トピック)|話題を変えて|.{0,20}?について(?:お話し|説明|ご説明|紹介|ご紹介|見て|考えて))"),
           re.compile(r"^(?:では|それでは|さて)?[、,]?\s*(?:最後に|まとめると|まとめとして|要するに)")),
}
_CUE_RES["yue"] = _CUE_RES["zh"]


def _opens_part(low: str) -> bool:
    """Does a lower-case sentence open with a phrase that opens a new part, in the
    language of the text (`_CUE`, `_OTHER_CUES`)?"""
    cues = _CUE_RES.get(language())
    return bool(cues and cues[0].match(low))


def _recap_or_step(low: str) -> bool:
    """... with one that opens a recap or a last step, which carry the part's content."""
    cues = _CUE_RES.get(language())
    return bool(cues and cues[1].match(low))


_OUTRO = [
    re.compile(p)
    for p in (
        r"\b(thanks|thank you)\b.{0,40}\b(watching|listening|coming|joining|attending|attention|your time|being here|everyone|everybody|all|so much|very much|again)\b",
        r"^(thanks|thank you|cheers)[\s,.!]*(all|everyone|everybody)?[\s,.!]*$",
        r"\b(bye|goodbye|see you|take care|have a (good|great|nice|lovely) (one|day|evening|weekend|afternoon))\b",
        r"\b(stop|stopping|end|ending) (the )?recording\b",
        r"\bthat'?s (all|it) (for|from) (today|me|now|this)\b",
    )
]


@dataclass(frozen=True)
class _Signals:
    bonus: np.ndarray  # per sentence: bonus for a chapter starting there (index 0 unused)
    slide: np.ndarray  # per sentence: 0..1 slide-change strength
    heading: np.ndarray  # per sentence: a heading said on its own

    @property
    def titled(self) -> bool:
        """Slides with titles mark the parts."""
        return bool((self.slide >= 0.9).sum() >= 2)

    def __getitem__(self, part: slice) -> "_Signals":
        return _Signals(self.bonus[part], self.slide[part], self.heading[part])


@in_transcript_language
def find_chapters(
    transcript: Transcript, audio: Audio | None, video: VideoAnalysis | None, options: Options
) -> ChapterSpans:
    """Find the talk inside the recording and split it into chapters."""
    sents = [s for s in sentences(transcript) if tokenize(s.text)]
    rec_start, rec_end = _recording_span(transcript, audio, sents)
    if not sents:
        return ChapterSpans(rec_start, rec_end, wordless_spans(rec_start, rec_end, video, options))

    first, last, talk_start, talk_end = _talk(sents, rec_start, rec_end)
    body = sents[first : last + 1]

    if talk_end - talk_start < 2 * options.min_chapter or len(body) < 4:
        return ChapterSpans(talk_start, talk_end, ((talk_start, talk_end),))

    parts = talk_parts(body, video, options.min_chapter)
    # talk left out between breaks at either end (a word before a break that starts the
    # session, a goodbye after one) moves where the talk starts or ends
    if parts[0][0] > 0:
        talk_start = boundary_time(body[parts[0][0] - 1], body[parts[0][0]], audio)
    if parts[-1][1] < len(body):
        talk_end = body[parts[-1][1] - 1].end + TAIL
    starts, subject_starts = segment(body, video, options, talk_start, talk_end, parts)
    # across a break, the chapter before ends after its last word, not where the next begins
    ends_before = {a: prev_b for (_, prev_b), (a, _) in zip(parts, parts[1:])}
    spans = []
    begin = talk_start
    for k in starts[1:]:
        t = boundary_time(body[k - 1], body[k], audio)
        spans.append((begin, min(body[ends_before[k] - 1].end + TAIL, t) if k in ends_before else t))
        begin = t
    spans.append((begin, talk_end))
    return ChapterSpans(talk_start, talk_end, tuple(spans), tuple(i for i, k in enumerate(starts) if i and k in subject_starts))


def _recording_span(transcript: Transcript, audio: Audio | None, sents: list[Sentence]) -> tuple[float, float]:
    rec_start = audio.offset if audio is not None else 0.0
    rec_end = max(
        transcript.duration + rec_start if transcript.duration else 0.0,
        audio.offset + audio.duration if audio is not None else 0.0,
        sents[-1].end if sents else 0.0,
        transcript.segments[-1].end if transcript.segments else 0.0,
    )
    return rec_start, rec_end


def _talk(sents: list[Sentence], rec_start: float, rec_end: float) -> tuple[int, int, float, float]:
    """The first and last sentence of the talk proper, and where it starts and ends."""
    first, last = talk_bounds(sents, rec_start, rec_end)
    talk_start = max(rec_start, sents[first].start - LEAD, (sents[first - 1].end if first else rec_start))
    # the talk ends half a second after its last word (the sign-off, if any, is left out)
    next_start = sents[last + 1].start if last + 1 < len(sents) else rec_end
    talk_end = max(min(sents[last].end + TAIL, next_start, rec_end), sents[last].end)
    return first, last, talk_start, talk_end


@in_transcript_language
def given_spans(transcript: Transcript, audio: Audio | None, given: ChapterMarks) -> ChapterSpans:
    """The chapters a person marked, as spans of the talk.

    The marks are trusted for where one topic gives way to the next; what they
    cannot know is kept as recast finds it. Each mark moves to the pause before the
    sentence (or else the word) it falls on, since a list's times are whole seconds;
    the first chapter starts where the talk does and the last ends with it, so
    YouTube's obligatory "0:00" and the waiting before a webinar are left out; a
    chapter in which nothing is said (a "Break", the lead-in) is no chapter."""
    sents = [s for s in sentences(transcript) if tokenize(s.text)]
    rec_start, rec_end = _recording_span(transcript, audio, sents)
    marks = given.marks
    starts = [max(m.start, rec_start) for m in marks]
    if sents:
        _, _, talk_start, talk_end = _talk(sents, rec_start, rec_end)
        words = [w for seg in transcript.segments for w in seg.words]
        starts = [_snap(t, sents, words, audio) for t in starts]
    else:
        talk_start, talk_end = rec_start, rec_end
    ends = []
    for k, mark in enumerate(marks):
        nxt = starts[k + 1] if k + 1 < len(marks) else rec_end
        nxt_mark = marks[k + 1].start if k + 1 < len(marks) else rec_end
        # an end well before the next mark is a gap the person left (a break)
        ends.append(min(mark.end, nxt) if mark.end is not None and mark.end < nxt_mark - 0.5 else nxt)
    spans, titles = [], []
    for mark, a, b in zip(marks, starts, ends):
        a, b = max(a, talk_start), min(b, talk_end)
        said = any(a <= (s.start + s.end) / 2 < b for s in sents)
        if b - a >= 1.0 and (said or not sents):
            spans.append((a, b))
            titles.append(mark.title)
    if not spans:  # every mark lies outside the talk: the talk is one chapter
        return ChapterSpans(talk_start, talk_end, ((talk_start, talk_end),), titles=("",), given=given.source)
    # a person's first chapter may start after the talk does (an introduction they
    # did not want as a chapter), and their last end before it does
    return ChapterSpans(spans[0][0], spans[-1][1], tuple(spans), titles=tuple(titles), given=given.source)


SNAP_SENTENCE = 3.0  # s: a mark this close to a sentence start means that sentence
SNAP_WORD = 1.5  # s: else it moves out of the word it falls on to a pause this close


def _snap(t: float, sents: list[Sentence], words, audio: Audio | None) -> float:
    """A marked time moved to the pause before the sentence or word it means."""
    near = [i for i in range(1, len(sents)) if abs(sents[i].start - t) <= SNAP_SENTENCE]
    if near:
        # a list's whole seconds are rounded down, and a mark is set just before the
        # words it is for: a sentence after the mark is twice as likely as one before
        i = min(near, key=lambda i: sents[i].start - t if sents[i].start >= t else 2 * (t - sents[i].start))
        return boundary_time(sents[i - 1], sents[i], audio)
    inside = next((w for w in words if w.start < t < w.end), None)
    if inside is None:
        return t  # in a pause already
    gaps = [(a.end + b.start) / 2 for a, b in zip(words, words[1:]) if b.start > a.end and abs((a.end + b.start) / 2 - t) <= SNAP_WORD]
    return min(gaps, key=lambda g: abs(g - t)) if gaps else t


def wordless_spans(rec_start: float, rec_end: float, video: VideoAnalysis | None, options: Options) -> tuple[tuple[float, float], ...]:
    """Chapters of a recording with no speech (a silent screen demo): a new one at each
    slide whose title differs from the one before, none shorter than min_chapter;
    one chapter without such slides."""
    if rec_end <= rec_start:
        return ()
    cuts = [rec_start]
    if video is not None:
        same = _continuations(video, ocr=options.ocr)
        for c in video.scene_changes:
            # a change whose title strip was not compared (footage, a blank slide) is no chapter
            if same.get(round(c.time, 3)) is False and c.time - cuts[-1] >= options.min_chapter \
                    and rec_end - c.time >= options.min_chapter:
                cuts.append(c.time)
    return tuple(zip(cuts, [*cuts[1:], rec_end]))


def talk_parts(body: list[Sentence], video: VideoAnalysis | None, min_chapter: float) -> list[tuple[int, int]]:
    """`body` as ranges of sentence indices [a, b) between breaks: BREAK_GAP seconds or
    more without a word while the screen shows no change but at its ends (a slide
    shown or a demo given in silence is part of the talk; a break slide put up
    and taken down is not). Talk between breaks too short for a chapter
    (a sound check in the coffee break) is left out, as chatter before the talk is."""
    changes = np.array([c.time for c in video.scene_changes]) if video is not None else np.zeros(0)
    edges = [0]
    for k in range(1, len(body)):
        a, b = body[k - 1].end, body[k].start
        if b - a >= BREAK_GAP and not np.any((changes > a + BREAK_SLIDE) & (changes < b - BREAK_SLIDE)):
            edges.append(k)
    edges.append(len(body))
    parts = list(zip(edges, edges[1:]))
    if len(parts) == 1:
        return parts
    talk = [body[b - 1].end - body[a].start for a, b in parts]
    kept = [p for p, d in zip(parts, talk) if d >= min_chapter]
    return kept or [parts[int(np.argmax(talk))]]


# ---------------------------------------------------------------------------- dead air


def _is_lead_in(text: str) -> bool:
    low = text.lower()
    return any(p.search(low) for p in _LEAD_IN) or bool(_GREETING_ONLY.match(low))


def _is_outro(text: str) -> bool:
    low = text.lower()
    return any(p.search(low) for p in _OUTRO)


def signposting(text: str) -> bool:
    """Does this sentence manage the talk rather than say something about its subject?
    Greetings and waiting ("welcome, everyone", "can everyone hear me"), the start
    ("let's get started"), a new part announced ("now let's turn to", "our third part
    takes us...") and the sign-off. Summaries leave such sentences out."""
    low = text.lower().strip().lstrip(" .,-")
    announces = _opens_part(low) and not _recap_or_step(low)
    return bool(announces or _START.search(low) or _is_lead_in(text) or _is_outro(text))


def talk_bounds(sents: list[Sentence], rec_start: float, rec_end: float) -> tuple[int, int]:
    """Indices of the first and last sentence of the talk proper."""
    n = len(sents)
    duration = max(rec_end - rec_start, 1e-6)
    head = min(600.0, 0.4 * duration)  # lead-in is looked for in the first 10 minutes at most
    first, misses = 0, 0
    for i, s in enumerate(sents):
        if s.start - rec_start > head:
            break
        if _START.search(s.text.lower()) and not _is_lead_in(s.text):
            first = i
            break
        if _is_lead_in(s.text):
            first, misses = i + 1, 0
            continue
        misses += 1
        if misses >= 4:
            break
    # Mic checks then a long wait: a few seconds of speech, then half a minute of silence.
    spoken = 0.0
    for i in range(first, n - 1):
        if sents[i].start - rec_start > head:
            break
        spoken += sents[i].duration
        if spoken > 30.0:
            break
        if sents[i + 1].start - sents[i].end > 30.0:
            first = i + 1
            spoken = 0.0
    first = min(first, n - 1)

    tail = min(300.0, 0.3 * duration)
    last = n - 1
    j = n - 1
    while j > first and rec_end - sents[j].start < tail:
        s = sents[j]
        if _is_outro(s.text):
            last = j - 1
        elif len(tokenize(s.text)) > 3:
            break
        j -= 1
    return first, max(last, first)


# ---------------------------------------------------------------------------- boundaries


def boundary_time(prev: Sentence, nxt: Sentence, audio: Audio | None) -> float:
    """A cut time in the pause between two sentences: just before the next sentence's
    first word, at its quietest 20 ms when the audio is at hand."""
    gap = max(0.0, nxt.start - prev.end)
    earliest = prev.end + gap / 2 if gap > 2 * LEAD else prev.end
    t = max(earliest, nxt.start - LEAD)
    if audio is not None and nxt.start - t > 0.04:
        a = int((t - audio.offset) * SAMPLE_RATE)
        b = int((nxt.start - audio.offset) * SAMPLE_RATE)
        frame = SAMPLE_RATE // 50
        if 0 <= a and b <= len(audio.samples) and b - a >= 2 * frame:
            chunk = audio.samples[a:b]
            k = (len(chunk) // frame) * frame
            energy = np.square(chunk[:k].reshape(-1, frame)).mean(axis=1)
            # the latest frame within 2x of the minimum energy: close to the word, but quiet
            quiet = np.flatnonzero(energy <= 2 * energy.min() + 1e-10)
            t = audio.offset + (a + int(quiet[-1]) * frame) / SAMPLE_RATE
    return float(min(t, nxt.start))


def sentence_vectors(body: list[Sentence], sem: np.ndarray | None = None) -> np.ndarray:
    """Weighted unit vectors per sentence: embedding (centred on the session) and TF-IDF.
    `sem`: the sentences' embeddings when already at hand."""
    lemmas = [content_words(s.text) for s in body]
    lex = _tfidf(lemmas, np.float32)[0]
    lex /= np.maximum(np.linalg.norm(lex, axis=1, keepdims=True), 1e-9)

    if sem is None:
        sem = embed([s.text for s in body])
    weight = np.array([min(len(toks), 12) / 12 for toks in lemmas], dtype=np.float32)[:, None]
    if sem is None:
        return lex * weight
    sem = sem - sem.mean(axis=0)  # the shared direction of all speech says nothing about topic
    sem /= np.maximum(np.linalg.norm(sem, axis=1, keepdims=True), 1e-9)
    a = np.sqrt(SEMANTIC_WEIGHT)
    b = np.sqrt(1 - SEMANTIC_WEIGHT)
    return np.hstack([a * sem, b * lex]) * weight


def _signals(body: list[Sentence], video: VideoAnalysis | None, options: Options) -> _Signals:
    n = len(body)
    bonus = np.zeros(n)
    slide = np.zeros(n)
    gaps = np.array([max(0.0, body[k].start - body[k - 1].end) for k in range(1, n)])
    if len(gaps) >= 5:
        logs = np.log(gaps + 0.05)
        med = np.median(logs)
        spread = max(np.median(np.abs(logs - med)), 0.15)
        z = np.clip((logs - med) / spread - 2.0, 0.0, 3.0) / 3.0  # only unusually long pauses count
        bonus[1:] += PAUSE_BONUS * z
    cue = np.zeros(n)
    heading = np.zeros(n, dtype=bool)
    for k in range(1, n):
        low = body[k].text.lower().lstrip(" .,-")
        if _opens_part(low):
            cue[k] = CUE_BONUS
        elif _WEAK_CUE.match(low):
            cue[k] = WEAK_CUE_BONUS
        said = spoken_heading(body[k].text)
        if said is not None and said.alone:
            heading[k] = True
            cue[k] = max(cue[k], HEADING_BONUS)
    if video is not None and video.scene_changes:
        starts = np.array([s.start for s in body])
        ends = np.array([s.end for s in body])
        span = max(body[-1].end - body[0].start, 1.0)
        changes = [c for c in video.scene_changes if body[0].start < c.time < body[-1].end]
        # Camera footage cuts far more often than slides change: trust changes less then.
        per_minute = len(changes) / (span / 60.0)
        trust = 1.0 if per_minute <= 2.0 else max(0.2, 2.0 / per_minute)
        # OCR only for a slide deck's pace of changes: camera footage would cost a read per cut
        same_title = _continuations(video, ocr=options.ocr and trust == 1.0)
        for c in changes:
            strength = CONTINUATION_BONUS / SLIDE_BONUS if same_title.get(round(c.time, 3)) else 1.0
            strength *= trust
            a, b = change_window(c, video.keyframes)
            if b > a:
                # known only to a keyframe interval: any sentence starting in it may be the
                # one the slide belongs to; the other signals choose
                ks = np.flatnonzero((starts >= a - SLIDE_LEAD) & (starts <= b + SLIDE_LEAD))
                ks = ks[ks > 0]
                if len(ks):
                    slide[ks] = np.maximum(slide[ks], strength)
                    continue
            # the sentence that starts closest to the change (a speaker moves to the next
            # slide just before or just after starting the new topic)
            k = int(np.argmin(np.abs(starts - c.time)))
            if k == 0 or abs(starts[k] - c.time) > SLIDE_SNAP:
                inside = np.flatnonzero((starts < c.time) & (ends > c.time))
                if not len(inside):
                    continue
                k = int(inside[0]) + 1 if c.time - starts[inside[0]] > ends[inside[0]] - c.time else int(inside[0])
                if k <= 0 or k >= n:
                    continue
            slide[k] = max(slide[k], strength)
        bonus += SLIDE_BONUS * slide
        if (slide >= 0.9).sum() >= 2:
            # slides with titles mark the parts; a phrase away from any slide change is
            # more often a step inside a part ("now let's take the case where...") or comes with
            # a continuation slide
            cue = np.where(slide > 0, cue, cue * CUE_OFF_SLIDE)
            # a heading said where the slide keeps its title names a step inside the
            # part, or is a fragment of speech that looks like one ("Nearly frictionless.")
            cue = np.where(heading & (slide < 0.9), cue * CUE_OFF_SLIDE, cue)
    return _Signals(bonus + cue, slide, heading)


def _continuations(video: VideoAnalysis, ocr: bool = True) -> dict[float, bool]:
    """For each scene change: does the slide after it keep the title of the one before?

    Compared as pixels of the title strip; a centred title moves as a whole when words
    are added to it ("Results" -> "Results (cont.)"), so two centred titles that
    differ are read with OCR (when it is on) and compared as text."""
    out: dict[float, bool] = {}
    frames = list(video.frames)
    if len(frames) < 2:
        return out
    times = np.array([f.time for f in frames])
    strips: dict[Path, np.ndarray | None] = {}
    for c in video.scene_changes:
        # the still of the shot that begins with this change: taken at the keyframe that
        # ends its interval, or a moment after a placed change (which may have been
        # placed a frame late, after the keyframe that shows it)
        a, b = change_window(c, video.keyframes)
        after = int(np.searchsorted(times, b - 0.01 if b > a else c.time - 1.0))
        before = after - 1
        if before < 0 or after >= len(frames):
            continue
        a = strips.setdefault(frames[before].path, title_strip(frames[before].path))
        b = strips.setdefault(frames[after].path, title_strip(frames[after].path))
        if a is not None and b is not None:
            same = same_title(a, b)
            if not same and ocr and centred(a) and centred(b):
                same = same_heading(frames[before].path, frames[after].path)
            out[round(c.time, 3)] = same
    return out


def centred(strip: np.ndarray) -> bool:
    """Is the text in a title strip centred (its ink as far from either edge, not at the left margin)?"""
    ink = np.abs(strip - float(np.median(strip))) > 48.0
    cols = np.flatnonzero(ink.sum(axis=0) >= 1)
    if len(cols) < 10:
        return False
    w = strip.shape[1]
    left, right = int(cols.min()), int(cols.max())
    # a long centred title comes close to both edges; a left-aligned one that happens to
    # pass only costs an OCR read
    return left > 0.02 * w and abs((left + right) / 2 - w / 2) <= 0.04 * w


# what a template adds to a title the presenter continues on the next slide; a bare
# number is not taken off ("Step 1", "Step 2" are different parts)
_CONTINUED = re.compile(
    r"[\s,:;\-–—]*(?:[(\[]\s*(?:continued|cont(?:'?d)?\.?|contd\.?|\d+|\d+\s*(?:/|of)\s*\d+)\s*[)\]]"
    r"|\b(?:continued|cont'?d|cont\.|contd\.?)|\b\d+\s*(?:/|of)\s*\d+)\s*$",
    re.I,
)


_CUT_SHORT = re.compile(r"(?:^|\s+)[(\[]?\w{0,5}\s*(?:…|\.\.\.)$")  # a word cut short, with its ellipsis


def same_heading(before: Path, after: Path) -> bool:
    """Do the OCR'd titles of two stills name the same part, once what a template adds
    for a continued slide ("(cont.)", "- 2/3", "(2)") is taken off?"""
    from .ocr import read_title

    a, b = read_title(before), read_title(after)
    if a is None or b is None or min(a.confidence, b.confidence) < 0.75:
        return False

    def bare(title: str) -> str:
        title = _CUT_SHORT.sub("", title)  # "Results of the survey (c..." where the template ran out of room
        return re.sub(r"[^a-z0-9]+", " ", _CONTINUED.sub("", title).lower()).strip()

    x, y = bare(a.title), bare(b.title)
    return bool(x) and x == y


def same_title(a: np.ndarray, b: np.ndarray) -> bool:
    """Do two title strips show the same title? Either nearly no pixel changed (one
    changed character of a title is 0.3-0.5% of the strip at this size; compression noise stays under the
    48-level step), or the old title is kept and only text to its right was added:
    "Volcanoes" -> "Volcanoes (continued)", "Results" -> "Results, part 2"."""
    changed = np.abs(a - b) > 48.0
    if changed.mean() < 0.002:
        return True
    background = float(np.median(a))
    ink = np.abs(a - background) > 48.0
    rows = np.flatnonzero(changed.sum(axis=1) >= 2)
    if not len(rows) or not ink[rows].any():
        return False
    # the old text on the rows that changed ends at column `right`; every change must
    # lie beyond it (the appended words), and the old ink must not have moved
    right = int(np.flatnonzero(ink[rows].any(axis=0)).max())
    cols = np.flatnonzero(changed[rows].any(axis=0))
    left_changes = changed[rows][:, : right + 1].sum()
    return bool(cols.min() > right - 2 or left_changes <= 0.002 * changed[rows].size) and ink[rows].sum() >= 20


def title_strip(path: Path) -> np.ndarray | None:
    """The top quarter of a still, small and grey: where slide templates put the title."""
    try:
        from PIL import Image

        with Image.open(path) as im:
            g = im.convert("L")
            w, h = g.size
            strip = g.crop((0, 0, w, max(1, h // 4))).resize((320, 45))
            return np.asarray(strip, dtype=np.float32)
    except Exception as e:  # an unreadable still only loses this signal
        log.debug("cannot read still %s: %s", path, e)
        return None



# ---------------------------------------------------------------------------- boundary scorer
#
# A logistic regression over features of each sentence start says how likely a chapter
# begins there from the words alone: how much the text on either side differs (sentence
# embeddings and TF-IDF, windows of 2-16 sentences, TextTiling depth), whether the
# sentence leans towards what follows rather than what came before, new names and
# words, the document's main subject named again, and how the sentence opens ("He",
# "However" continue; a cue phrase opens). The weights are fixed, fitted by
# `benchmarks/bench_chapters.py --train` (see boundary_weights.py for the data).

_OPEN_YEAR = re.compile(r"^(in|by|from|during|after|before|since|on|at|around)?\s*(the\s+)?(early|mid|late)?[\s-]*\d{3,4}s?\b", re.I)
_OPEN_CONT = re.compile(
    r"^(he|she|it|they|this|these|those|his|her|its|their|however|but|and|also|although|thus|therefore|then|so"
    r"|as a result|in addition|furthermore|moreover|later|after this|such|both|another|other|there)\b",
    re.I,
)
_OPEN_THE = re.compile(r"^the\b", re.I)
_NAME = re.compile(r"(?<![.?!]\s)(?<!^)\b[A-Z][a-z]+")  # a capitalised word inside a sentence


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)


def _tfidf(tokens: list[list[str]], dtype: type = np.float64) -> tuple[np.ndarray, dict[str, int]]:
    """TF-IDF rows (log counts) over the words said in at least two sentences (a word
    said once cannot tie two sentences together), and the document frequencies."""
    n = len(tokens)
    df: dict[str, int] = {}
    for toks in tokens:
        for t in set(toks):
            df[t] = df.get(t, 0) + 1
    vocab = {t: i for i, t in enumerate([t for t, c in df.items() if c >= 2])}
    lex = np.zeros((n, max(len(vocab), 1)), dtype=dtype)
    for i, toks in enumerate(tokens):
        for t in toks:
            j = vocab.get(t)
            if j is not None:
                lex[i, j] += 1.0
    if vocab:
        idf = np.array([np.log(n / df[t]) for t in vocab], dtype=dtype)
        lex = np.log1p(lex) * idf
    return lex, df


# Window sums are taken from prefix sums a block of sentences at a time: the
# vocabulary of a 3-hour session runs to thousands of words, and whole-matrix
# temporaries of sentences x vocabulary cost hundreds of MB.
_BLOCK = 256


def _prefix(vec: np.ndarray) -> np.ndarray:
    return np.vstack([np.zeros((1, vec.shape[1]), dtype=vec.dtype), np.cumsum(vec, axis=0)])


def _window_cos(vec: np.ndarray, w: int, p: np.ndarray | None = None) -> np.ndarray:
    """At each sentence k: cosine between the sums of the w sentences before and the w from k on."""
    n = len(vec)
    p = _prefix(vec) if p is None else p
    c = np.empty(n)
    for lo in range(0, n, _BLOCK):
        k = np.arange(lo, min(lo + _BLOCK, n))
        c[k] = (_unit(p[k] - p[np.maximum(k - w, 0)]) * _unit(p[np.minimum(k + w, n)] - p[k])).sum(1)
    c[0] = 1.0
    return c


def _depth(sim: np.ndarray) -> np.ndarray:
    """TextTiling depth of each point of a (lightly smoothed) similarity curve."""
    s = np.convolve(np.pad(sim, 1, mode="edge"), np.ones(3) / 3, mode="valid")
    return (np.maximum.accumulate(s) - s) + (np.maximum.accumulate(s[::-1])[::-1] - s)


def _lean(vec: np.ndarray, w: int, p: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """How much sentence k is closer to the w sentences after it than to the w before
    it, and how much sentence k-1 is closer to the ones before it than to those from k on."""
    n = len(vec)
    p = _prefix(vec) if p is None else p
    a = np.empty(n)
    b = np.empty(n)
    for lo in range(0, n, _BLOCK):
        k = np.arange(lo, min(lo + _BLOCK, n))
        u = _unit(vec[k])
        left = _unit(p[k] - p[np.maximum(k - w, 0)])
        right = _unit(p[np.minimum(k + 1 + w, n)] - p[np.minimum(k + 1, n)])
        a[k] = (u * right).sum(1) - (u * left).sum(1)
        left2 = _unit(p[np.maximum(k - 1, 0)] - p[np.maximum(k - 1 - w, 0)])
        right2 = _unit(p[np.minimum(k + w, n)] - p[k])
        prev = np.where((k > 0)[:, None], _unit(vec[np.maximum(k - 1, 0)]), 0.0)
        b[k] = (prev * left2).sum(1) - (prev * right2).sum(1)
    return a, b


def _z(x: np.ndarray) -> np.ndarray:
    """Standardised over the sentence starts that can be boundaries (all but the first)."""
    x = np.asarray(x, dtype=np.float64)
    v = x[1:]
    return (x - v.mean()) / max(float(v.std()), 1e-6)


def boundary_features(body: list[Sentence], sem: np.ndarray | None) -> tuple[np.ndarray, list[str]]:
    """Features of a chapter starting at each sentence (row 0, the first sentence, is zero)."""
    n = len(body)
    texts = [s.text for s in body]
    lemmas = [content_words(t) for t in texts]
    lex, df = _tfidf(lemmas)
    lexu = _unit(lex)
    weight = np.array([min(len(toks), 12) / 12 for toks in lemmas])[:, None]
    reps = [("lex", lexu)]
    if sem is not None:
        reps.insert(0, ("sem", _unit(sem - sem.mean(axis=0))))
    else:  # no embedder: the lexical signal stands in for it
        reps.insert(0, ("sem", lexu))
    f: dict[str, np.ndarray] = {}
    for name, vec in reps:
        weighted = vec * weight
        p = _prefix(weighted)
        for w in (2, 4, 8, 16):
            c = _window_cos(weighted, w, p)
            f[f"{name}_cos{w}"] = _z(c)
            f[f"{name}_dep{w}"] = _z(_depth(c))
        del weighted, p
    novelty = np.zeros(n)
    for k in range(1, n):
        before = {w for toks in lemmas[max(0, k - 12) : k] for w in toks}
        after = [w for toks in lemmas[k : k + 3] for w in toks if df.get(w, 0) >= 2]
        novelty[k] = np.mean([w not in before for w in after]) if after else 0.5
    f["novelty"] = _z(novelty)
    top = sorted(df, key=lambda w: (-df[w], w))[:3]  # the document's subject
    subj1 = np.array([float(top[0] in toks) if top else 0.0 for toks in lemmas])
    subj3 = np.array([float(bool(set(toks) & set(top))) for toks in lemmas])
    f["subj1"] = subj1 - subj1.mean()
    f["subj3"] = subj3 - subj3.mean()
    f["year"] = np.array([float(bool(_OPEN_YEAR.match(t.strip()))) for t in texts])
    f["cont"] = np.array([float(bool(_OPEN_CONT.match(t.strip()))) for t in texts])
    f["the"] = np.array([float(bool(_OPEN_THE.match(t.strip()))) for t in texts])
    f["prev_cont"] = np.r_[0.0, f["cont"][:-1]]
    f["len"] = _z(np.log(np.array([len(tokenize(t)) for t in texts]) + 1.0))
    f["prevlen"] = np.r_[0.0, f["len"][:-1]]
    lows = [t.lower().lstrip(" .,-") for t in texts]
    opens = [_opens_part(s) for s in lows]
    f["cue"] = np.array([float(o) for o in opens])
    f["weak"] = np.array([float(not o and bool(_WEAK_CUE.match(s))) for o, s in zip(opens, lows)])
    stemmed = _unit(_tfidf([stems(t) for t in texts])[0])
    p = _prefix(stemmed)
    for w in (4, 8):
        f[f"stem_cos{w}"] = _z(_window_cos(stemmed, w, p))
    del stemmed, p
    for name, vec in reps:
        p = _prefix(vec)
        for w in (3, 8):
            a, b = _lean(vec, w, p)
            f[f"{name}_sideA{w}"] = _z(a)
            f[f"{name}_sideB{w}"] = _z(b)
    names = [{m.lower() for m in _NAME.findall(t)} for t in texts]
    new_names = np.zeros(n)
    for k in range(1, n):
        new_names[k] = len(names[k] - set().union(*names[max(0, k - 15) : k]))
    f["capnew"] = _z(np.log1p(new_names))
    x = np.stack(list(f.values()), axis=1)
    x[0] = 0.0
    return x, list(f)


def boundary_logits(body: list[Sentence], sem: np.ndarray | None) -> np.ndarray:
    """Log-odds that a chapter starts at each sentence, from the words alone."""
    x, names = boundary_features(body, sem)
    coef = np.array([BOUNDARY_WEIGHTS[k] for k in names])
    out = x @ coef + BOUNDARY_BIAS
    out[0] = 0.0
    return out


def subjects(body: list[Sentence]) -> list[int]:
    """Sentences where the talk turns to another subject altogether (an hour over
    several articles, a workshop on unrelated tools): the content words of the
    `SUBJECT_WINDOW` sentences either side share almost nothing (TF-IDF cosine under
    `SUBJECT_COS`). Every other signal is measured against the whole session, so
    inside one subject of several its parts look alike, and the session is cut too
    seldom there; each subject is segmented on its own instead."""
    n = len(body)
    w = SUBJECT_WINDOW
    if n < 2 * w + 2:
        return []
    lex = _unit(_tfidf([content_words(s.text) for s in body], np.float32)[0])
    c = _window_cos(lex, w)
    c[:w] = np.inf  # a subject lasts at least a window
    c[n - w + 1 :] = np.inf
    found = []
    while True:
        k = int(np.argmin(c))
        if c[k] >= SUBJECT_COS:
            return sorted(found)
        found.append(k)
        c[max(0, k - w) : k + w] = np.inf


def subject_parts(body: list[Sentence], sig: _Signals | None = None) -> list[tuple[int, int]]:
    """`body` as ranges of sentence indices, one per subject. The word count finds a
    change of subject to within a sentence or two; a slide change, a heading said or
    a phrase opening a part (`sig`) within `SUBJECT_SNAP` sentences says exactly where."""
    edges = [0]
    for k in subjects(body):
        if sig is not None:
            near = np.arange(max(k - SUBJECT_SNAP, edges[-1] + 1), min(k + SUBJECT_SNAP + 1, len(body)))
            marked = near[sig.bonus[near] >= 1.0]
            if len(marked):
                k = int(max(marked, key=lambda j: (sig.bonus[j], -abs(j - k))))
        edges.append(k)
    edges.append(len(body))
    return list(zip(edges, edges[1:]))


def segment(
    body: list[Sentence],
    video: VideoAnalysis | None,
    options: Options,
    talk_start: float | None = None,
    talk_end: float | None = None,
    parts: list[tuple[int, int]] | None = None,
) -> tuple[list[int], set[int]]:
    """Indices (into `body`) of the sentences that start chapters, beginning with the
    first of `parts` (default: all of `body`), and those of them where another subject
    begins. Each subject is segmented on its own, and a new subject starts a chapter;
    so does each of `parts` (the talk between breaks, from `talk_parts`), whose ends
    are the ends of their last chapters."""
    n = len(body)
    if n < 2:
        return [0], set()
    t0 = body[0].start if talk_start is None else talk_start
    t1 = body[-1].end if talk_end is None else talk_end
    # pauses are measured against the whole session (one speaker), and whether titled
    # slides mark the parts is decided for the whole session too
    sig = _signals(body, video, options)
    # Titled slides already say where each part begins, a new subject's included.
    subject_starts = set() if sig.titled else {a for a, _ in subject_parts(body, sig)[1:]}
    parts = parts or [(0, n)]
    out: list[int] = []
    for p_a, p_b in parts:
        edges = sorted({p_a, p_b} | {k for k in subject_starts if p_a < k < p_b})
        for a, b in zip(edges, edges[1:]):
            t_a = t0 if a == parts[0][0] else body[a].start
            t_b = t1 if b == parts[-1][1] else body[b - 1].end + TAIL if b == p_b else body[b].start
            out += [a + k for k in _segment(body[a:b], sig[a:b], sig.titled, options, t_a, t_b)]
    return out, subject_starts


def _segment(body: list[Sentence], sig: _Signals, titled: bool, options: Options, t0: float, t1: float) -> list[int]:
    """Chapter starts inside one subject (indices into `body`, from 0)."""
    n = len(body)
    if n < 2:
        return [0]
    sem = embed([s.text for s in body])
    logits = boundary_logits(body, sem)
    # The scorer learnt from talks without spoken headings: at a heading its features
    # describe a two-word sentence. The chapter's first real sentence is the one after it.
    k = np.flatnonzero(sig.heading[:-1])
    logits[k] = np.maximum(logits[k], logits[k + 1])
    min_len, max_len = options.min_chapter, options.max_chapter
    long_len = max_len  # where the price for length starts
    overlong_price = OVERLONG_PRICE
    if titled:
        bonus = sig.bonus + SLIDE_SCORER_WEIGHT * (logits + SLIDE_SCORER_OFFSET) - OFF_TITLE_PRICE * (sig.slide < 0.9)
        long_len = SLIDE_OVERLONG * max_len
        # a part too long even for one title must still be split where no title changes
        overlong_price = OVERLONG_PRICE + OFF_TITLE_PRICE
    else:
        bonus = sig.bonus + SCORER_WEIGHT * (logits + SCORER_OFFSET)
    # Only the Gram matrix of the prefix sums is kept: sentences x (embedding +
    # vocabulary) floats are large for a long session, sentences squared are not.
    prefix = _prefix(sentence_vectors(body, sem).astype(np.float64))
    gram = prefix @ prefix.T
    del prefix
    sq = np.diag(gram).copy()
    # chapter k starts at edge[k]: talk start for the first, the boundary time after that
    edge = np.array([t0] + [body[k].start for k in range(1, n)] + [t1])
    # `max_chapter` is a limit, not a wish: a chapter runs over it only where a single
    # sentence does. A cut moves up to LEAD earlier than its sentence's start, hence the
    # margin. Where `min_chapter` leaves no way to keep every chapter under the limit
    # (sentences as long as the gap between the two), length is only priced, up to four
    # times the limit. On the tuning data the hard limit scored as well as the price
    # alone or better (lectures F1 0.35 -> 0.40 at 480 s, Wikipedia 0.56 -> 0.59).
    for limit, strict in ((long_len - LEAD, True), (max(4 * long_len, 2 * min_len), False)):
        best, back = _best_chapters(edge, gram, sq, bonus, min_len, max_len, long_len, overlong_price, limit, strict)
        if np.isfinite(best[n]):
            break
    else:
        return [0]
    cuts = []
    j = n
    while j > 0:
        j = int(back[j])
        cuts.append(j)
    return sorted(set(cuts))


def _best_chapters(
    edge: np.ndarray, gram: np.ndarray, sq: np.ndarray, bonus: np.ndarray,
    min_len: float, max_len: float, long_len: float, overlong_price: float, limit: float, strict: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """The dynamic programme: best[j] is the best score of chapters covering sentences
    0..j-1, back[j] where the last of them starts. No chapter runs past `limit` unless it
    is one sentence; unless `strict`, one chapter over everything is always possible."""
    n = len(edge) - 1
    best = np.full(n + 1, -np.inf)
    back = np.zeros(n + 1, dtype=int)
    best[0] = 0.0
    for j in range(1, n + 1):
        dur = edge[j] - edge[:j]
        ok = (dur >= min_len - MIN_SLACK) & (dur <= limit)
        ok[j - 1] |= dur[j - 1] >= min_len - MIN_SLACK
        ok[0] |= j == n and (dur[0] <= limit or not strict)
        if j < n and edge[n] - edge[j] < min_len - MIN_SLACK:
            continue  # what would remain after j is too short to be a chapter
        idx = np.flatnonzero(ok & np.isfinite(best[:j]))
        if not len(idx):
            continue
        coh = np.sqrt(np.maximum(sq[j] + sq[idx] - 2 * gram[j, idx], 0.0))
        over = np.maximum(dur[idx] - long_len, 0.0) / max_len
        short = np.maximum(min_len - dur[idx], 0.0)
        score = best[idx] + coh - CUT_PRICE - overlong_price * over - SHORT_PRICE * short + np.where(idx > 0, bonus[np.minimum(idx, n - 1)], 0.0)
        k = int(np.argmax(score))
        best[j] = score[k]
        back[j] = idx[k]
    return best, back
