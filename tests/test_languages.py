"""Chapters, titles and keywords of sessions held in other languages than English.

Whisper's multilingual models and imported transcripts give French, German or
Spanish text; the chapter and summary stages read it with that language's stopwords
and stems, and write titles the way that language writes them."""

from __future__ import annotations

import dataclasses

from recast.config import Options
from recast.models import ChapterSpans
from recast.summarize import describe, readable
from recast.text import content_words, in_language, lemma, stopwords, word_tokens
from tests.test_chapters import make_transcript

# Two parts of a French course, as a recogniser writes them.
PHOTOSYNTHESE = [
    "La photosynthèse est le processus par lequel les plantes fabriquent leur propre nourriture.",
    "Les feuilles captent la lumière du soleil grâce à la chlorophylle.",
    "La chlorophylle est un pigment vert contenu dans les chloroplastes.",
    "Avec cette énergie, la plante transforme le dioxyde de carbone et l'eau en glucose.",
    "Le glucose sert de carburant à la plante et lui permet de grandir.",
    "En même temps, la plante rejette de l'oxygène dans l'atmosphère.",
    "Pendant la phase lumineuse, la chlorophylle absorbe la lumière.",
    "Sans la photosynthèse, les plantes ne pourraient pas grandir.",
]
VOLCANS = [
    "Un volcan est une ouverture dans la croûte terrestre par laquelle le magma remonte.",
    "Le magma est une roche fondue qui se forme dans le manteau.",
    "Quand le magma atteint la surface, on l'appelle la lave.",
    "Les éruptions effusives produisent des coulées de lave fluide.",
    "Les éruptions explosives projettent des cendres et des gaz très haut dans le ciel.",
    "En l'an soixante-dix-neuf, les cendres du Vésuve ont détruit Pompéi.",
    "Les volcans se trouvent souvent à la limite des plaques tectoniques.",
    "Les cendres des volcans rendent les sols très fertiles.",
]


def _french_outline(groups: list[list[str]]):
    tr = make_transcript([line for g in groups for line in g])
    tr = dataclasses.replace(tr, language="fr")
    cut = tr.segments[len(groups[0])].start
    spans = ChapterSpans(tr.segments[0].start, tr.segments[-1].end, ((tr.segments[0].start, cut), (cut, tr.segments[-1].end)))
    return describe(tr, spans, None, Options())


def test_french_words_are_counted_without_french_stopwords_and_in_one_form():
    with in_language("fr"):
        words = content_words("Les volcans se trouvent souvent à la limite des plaques, comme le volcan d'Auvergne.")
        assert "les" in stopwords() and "comme" in stopwords()
        assert not {"les", "des", "comme"} & set(words), words
        assert lemma("volcans") == lemma("volcan")
        assert word_tokens("l'eau et d'une plante, aujourd'hui") == ["eau", "et", "une", "plante", "aujourd'hui"]
    # English is read as before: "les" is no English stopword, "volcanoes" folds to its singular
    assert content_words("the volcanoes") == ["volcano"]
    with in_language("fr-FR"):
        assert "comme" in stopwords()  # a region tag names the same language


def test_french_keywords_are_words_as_said_not_stopwords_or_stems():
    outline = _french_outline([PHOTOSYNTHESE, VOLCANS])
    first, second = (set(ch.keywords) for ch in outline.chapters)
    with in_language("fr"):
        stop = stopwords()
    for keywords in (first, second, set(outline.keywords)):
        assert keywords and not keywords & stop, keywords
    assert {"photosynthèse", "chlorophylle"} <= first, first
    assert {"cendres", "magma"} <= second, second
    # a stem such as "photosynthes" or "cendr" is not a word a learner searches for
    assert all(k in " ".join(PHOTOSYNTHESE + VOLCANS).lower() for k in first | second), first | second


def test_french_titles_are_in_french_sentence_case():
    outline = _french_outline([PHOTOSYNTHESE, VOLCANS])
    titles = [ch.title for ch in outline.chapters]
    # each is made of its own chapter's words
    for title, lines in zip(titles, (PHOTOSYNTHESE, VOLCANS)):
        said = " ".join(lines).lower()
        assert all(w.lower() in said for w in title.split()), titles
    for title in titles:
        assert " and " not in title, titles  # two phrases are joined with "et"
        words = title.split()
        assert words[0][0].isupper() and all(not w[0].isupper() for w in words[1:] if w.lower() not in ("vésuve", "pompéi")), titles
        assert words[-1].lower() not in stopwords() | {"et"}, titles


def test_a_french_slide_title_is_readable():
    spoken = {"révolution", "française", "photosynthèse"}
    with in_language("fr"):
        assert readable("La Révolution française", 0.95, spoken)
        assert readable("Les volcans d'Auvergne", 0.95, {"volcan", "auvergne"})
        assert not readable("Xq7 ##kz vbr", 0.95, spoken)


REVOLUTION = [
    "La Révolution commence en mille sept cent quatre-vingt-neuf, dans un royaume en crise financière.",
    "Le roi convoque les États généraux pour trouver de l'argent.",
    "Les députés du tiers état se proclament Assemblée nationale.",
    "Le quatorze juillet, le peuple de Paris prend la Bastille.",
    "En août, l'Assemblée abolit les privilèges de la noblesse.",
    "La monarchie devient constitutionnelle, puis la République est proclamée.",
    "Le roi est jugé et exécuté l'année suivante.",
    "La Révolution se termine avec le coup d'État de Napoléon Bonaparte.",
]


def test_a_french_talk_is_cut_where_the_presenter_announces_each_part():
    from recast.chapters import find_chapters

    groups = [PHOTOSYNTHESE, ["Parlons maintenant des volcans.", *VOLCANS],
              ["Pour finir, passons à la Révolution française.", *REVOLUTION]]
    tr = dataclasses.replace(make_transcript([line for g in groups for line in g]), language="fr")
    starts = [tr.segments[0].start, tr.segments[len(groups[0])].start, tr.segments[len(groups[0]) + len(groups[1])].start]
    spans = find_chapters(tr, None, None, Options())
    assert len(spans.spans) == 3, spans.spans
    for (got, _), want in zip(spans.spans[1:], starts[1:]):
        assert abs(got - want) <= 1.0, (spans.spans, starts)
    # the announcements manage the talk: no summary quotes them
    outline = describe(tr, spans, None, Options())
    quoted = " ".join([outline.summary, *outline.key_points, *(ch.summary for ch in outline.chapters)])
    assert "Parlons maintenant" not in quoted and "passons à" not in quoted, quoted
