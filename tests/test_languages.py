"""Chapters, titles and keywords of sessions held in other languages than English.

Whisper's multilingual models and imported transcripts give French, German,
Spanish or Chinese text; the chapter and summary stages read it with that language's
stopwords and stems (Chinese and Japanese split into words first), captions break
their lines where the language allows, and titles are written the way that language
writes them."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from recast import captions
from recast.config import Options
from recast.models import ChapterSpans
from recast.summarize import describe, readable
from recast.text import amount_said, content_words, in_language, lemma, script_language, stopwords, word_tokens
from recast.transcribe import spread_words
from recast.transcript_import import import_transcript
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
              ["Pour finir, la Révolution française.", *REVOLUTION]]
    tr = dataclasses.replace(make_transcript([line for g in groups for line in g]), language="fr")
    starts = [tr.segments[0].start, tr.segments[len(groups[0])].start, tr.segments[len(groups[0]) + len(groups[1])].start]
    spans = find_chapters(tr, None, None, Options())
    assert len(spans.spans) == 3, spans.spans
    for (got, _), want in zip(spans.spans[1:], starts[1:]):
        assert abs(got - want) <= 1.0, (spans.spans, starts)
    # the announced topics are the titles ("Pour finir, la Révolution française." too)
    assert [ch.title for ch in describe(tr, spans, None, Options()).chapters][1:] == ["Volcans", "Révolution française"]
    # the announcements manage the talk: no summary quotes them
    outline = describe(tr, spans, None, Options())
    quoted = " ".join([outline.summary, *outline.key_points, *(ch.summary for ch in outline.chapters)])
    assert "Parlons maintenant" not in quoted and "passons à" not in quoted, quoted


# A Chinese course in three parts, one caption a sentence, as a meeting tool exports it.
ZH_PARTS = [
    "大家好，欢迎来到今天的课程。今天我们要讲三个主题。首先，我们来谈谈光合作用。光合作用是植物把光能转化为化学能的过程。"
    "植物的叶子里有叶绿素，叶绿素能够吸收阳光。在光合作用中，植物吸收二氧化碳和水。然后，植物利用阳光产生葡萄糖和氧气。"
    "葡萄糖为植物的生长提供能量。光合作用主要发生在叶绿体中。叶绿体是植物细胞中的一种细胞器。光照越强，光合作用通常越快。"
    "没有光合作用，地球上的生命就无法存在。",
    "接下来，我们来讲火山。火山是地壳上的一个开口，岩浆从这里喷出地表。岩浆是地下深处熔化的岩石。当岩浆到达地表，就被称为熔岩。"
    "火山喷发时会释放火山灰和各种气体。有些火山喷发非常猛烈，会把火山灰送到几十公里的高空。夏威夷的火山就是比较平静的例子。"
    "太平洋周围有很多活火山，这个地区被称为火环。火山灰可以让土壤变得非常肥沃。科学家用地震仪来监测火山的活动。",
    "最后，我们来讲法国大革命。法国大革命开始于一七八九年。当时法国的国王是路易十六。法国的财政出现了严重的危机，人民生活非常困难。"
    "一七八九年七月十四日，巴黎的人民攻占了巴士底狱。这一天后来成为法国的国庆节。革命者发表了人权和公民权宣言。"
    "一七九三年，国王路易十六被送上了断头台。法国大革命对整个欧洲产生了深远的影响。好了，今天的课程就到这里，谢谢大家。",
]


def _caption_file(tmp_path, parts: list[str], name: str) -> tuple[Path, list[float]]:
    """A WebVTT transcript without a Language header: a cue a sentence at about five
    characters a second, and a pause of two seconds between the parts."""
    lines, starts, t = ["WEBVTT", ""], [], 0.0
    for part in parts:
        starts.append(t)
        for sentence in re.findall(r"[^。！？]+[。！？]", part):
            length = len(sentence) / 5.0
            lines += [f"{captions.format_timestamp(t)} --> {captions.format_timestamp(t + length)}", sentence, ""]
            t += length + 0.4
        t += 2.0
    path = tmp_path / name
    path.write_text("\n".join(lines), encoding="utf-8")
    return path, starts


def _outline(path: Path):
    from recast.chapters import find_chapters

    tr = import_transcript(path)
    spans = find_chapters(tr, None, None, Options())
    return tr, spans, describe(tr, spans, None, Options())


def test_a_chinese_course_is_read_as_chinese_words(tmp_path):
    path, starts = _caption_file(tmp_path, ZH_PARTS, "course.vtt")
    tr, spans, outline = _outline(path)
    assert tr.language == "zh"  # from the script: the file does not say
    assert amount_said(tr) == f"{len(re.findall(r'[一-龥]', ''.join(ZH_PARTS)))} characters"  # punctuation not counted
    # a chapter a part, starting where the part does
    assert len(spans.spans) == 3, spans.spans
    for (got, _), want in zip(spans.spans[1:], starts[1:]):
        assert abs(got - want) <= 1.0, (spans.spans, starts)
    # titles and keywords are the words of the topic, not clauses or function words
    titles = [ch.title for ch in outline.chapters]
    # each part opens by naming its topic ("接下来，我们来讲火山。"), and that is its title
    assert titles == ["光合作用", "火山", "法国大革命"], titles
    said = "".join(ZH_PARTS)
    keywords = [k for ch in outline.chapters for k in ch.keywords] + list(outline.keywords)
    assert {"叶绿体", "岩浆", "路易十六"} <= set(keywords), keywords
    assert all(k in said and 2 <= len(k) <= 6 for k in keywords), keywords
    assert not {"我们", "今天", "一七八九年", "三个"} & set(keywords), keywords
    # summaries are sentences as said, set without spaces
    assert outline.chapters[1].summary and " " not in outline.chapters[1].summary
    assert all(s in said for s in re.findall(r"[^。！？]+[。！？]", outline.summary))


JA_PARTS = [
    "皆さん、こんにちは。今日は二つのテーマについてお話しします。まず、光合成について説明します。"
    "光合成は、植物が光のエネルギーを使って栄養を作る仕組みです。植物の葉には葉緑体があり、その中に葉緑素が含まれています。"
    "葉緑素は太陽の光を吸収します。植物は二酸化炭素と水を取り込み、ブドウ糖と酸素を作ります。"
    "ブドウ糖は植物が成長するためのエネルギーになります。酸素は空気中に放出され、動物の呼吸に使われます。"
    "光が強いほど、光合成は速く進みます。光合成がなければ、地球の生命は存在できません。",
    "次に、火山についてお話しします。火山は、地下のマグマが地表に噴き出す場所です。マグマは地下深くで溶けた岩石です。"
    "マグマが地表に出ると、溶岩と呼ばれます。火山が噴火すると、火山灰やガスが放出されます。"
    "激しい噴火では、火山灰が上空数十キロメートルまで達します。日本には百以上の活火山があります。富士山も活火山の一つです。"
    "火山灰は土壌を肥沃にします。科学者は地震計を使って火山の活動を監視しています。今日の授業はここまでです。ありがとうございました。",
]


def test_a_japanese_course_is_cut_and_titled_where_each_part_is_announced(tmp_path):
    path, starts = _caption_file(tmp_path, JA_PARTS, "kouza.vtt")
    tr, spans, outline = _outline(path)
    assert tr.language == "ja"
    assert len(spans.spans) == 2 and abs(spans.spans[1][0] - starts[1]) <= 1.0, (spans.spans, starts)
    # "今日は二つのテーマについて..." is the agenda, not the first part's topic
    assert [ch.title for ch in outline.chapters] == ["光合成", "火山"]
    assert {"葉緑素", "マグマ"} <= {k for ch in outline.chapters for k in ch.keywords}
    assert not {"二つ", "ます", "こと"} & set(outline.keywords), outline.keywords


def test_chinese_and_japanese_captions_break_between_words(tmp_path):
    path, _ = _caption_file(tmp_path, ZH_PARTS, "course.vtt")
    tr = import_transcript(path)
    cues = captions.make_cues(tr.words, max_chars=captions.line_chars(tr.language, 42), language=tr.language)
    assert "".join(c.text.replace("\n", "") for c in cues) == "".join(ZH_PARTS)  # every character once, in order
    lines = [line for c in cues for line in c.text.split("\n")]
    assert max(map(len, lines)) <= 16 and len(lines) > 2 * len(cues) * 0.4
    import jieba

    for c in cues:  # a line ends where a word does
        text = c.text.replace("\n", "")
        ends = {sum(map(len, jieba.lcut(text)[: k + 1])) for k in range(len(jieba.lcut(text)))}
        assert len(c.text.split("\n")[0]) in ends, c.text
    # Japanese: 13 characters a line, a break after a phrase's kana ending rather than inside a word
    said = "光合成は植物の葉緑体で行われる化学反応でありエネルギーを作り出す仕組みです"
    words = spread_words(said, 0.0, 9.0)
    cues = captions.make_cues(words, max_chars=captions.line_chars("ja", 42), language="ja")
    lines = [line for c in cues for line in c.text.split("\n")]
    assert "".join(lines) == said and max(map(len, lines)) <= 13, lines
    assert "光合成は植物の葉緑体で" in lines and "作り出す仕組みです" in lines, lines


def test_japanese_content_words_leave_the_grammar_out():
    with in_language("ja"):
        words = content_words("光合成は植物が光のエネルギーを化学エネルギーに変える仕組みです。")
        assert {"光合成", "植物", "エネルギー", "化学", "仕組み"} <= set(words), words
        assert not {"は", "が", "を", "です", "ます"} & set(words)
    assert script_language("光合成は植物の仕組みです") == "ja" and script_language("光合作用是植物的过程") == "zh"
    assert script_language("광합성은 식물이 빛 에너지를 바꾸는 과정입니다") == "ko"
    assert script_language("A talk about 光合作用 in English, with one Chinese word") is None


def test_imported_chinese_text_is_timed_character_by_character():
    words = spread_words("我们用 Python 编程。", 10.0, 14.0)
    assert [w.word for w in words] == ["我", "们", "用", " Python", " 编", "程", "。"]
    assert words[0].start == 10.0 and words[-1].end == 14.0
    assert all(a.end == b.start for a, b in zip(words, words[1:]))
    # spaced text is timed word by word as before
    assert [w.word for w in spread_words("Hello world, again.", 0.0, 3.0)] == [" Hello", " world,", " again."]


def test_a_question_with_a_full_width_question_mark_is_a_question():
    from recast.summarize import find_questions
    from recast.text import Sentence

    said = [(0.0, "光合作用是植物把光能转化为化学能的过程。"), (5.0, "叶绿素能够吸收阳光。"),
            (9.0, "老师，光合作用在晚上也会进行吗？"), (14.0, "不会，光合作用需要阳光，晚上植物只进行呼吸作用。")]
    sents = [Sentence(t, t + 3.0, text) for t, text in said]
    spans = ChapterSpans(0.0, 17.0, ((0.0, 17.0),))
    with in_language("zh"):
        questions = find_questions(sents, spans)
    assert [q.text for q in questions] == ["老师，光合作用在晚上也会进行吗？"], questions
    assert questions[0].time == 9.0 and questions[0].answer.startswith("不会")
