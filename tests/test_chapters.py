"""Chapter segmentation on hand-built transcripts with synthetic word times."""

from __future__ import annotations

import numpy as np
import pytest

from recast.chapters import boundary_time, find_chapters, segment, subjects, talk_bounds
from recast.config import Options
from pathlib import Path

from recast.models import SAMPLE_RATE, Audio, Frame, SceneChange, Segment, Transcript, VideoAnalysis, Word
from recast.text import Sentence, remove_fillers, sentences, singular

BREAD = """Baking bread at home starts with flour, water, salt and yeast.
The flour should be strong bread flour with plenty of gluten protein.
Knead the dough for ten minutes until the gluten makes it smooth and elastic.
Yeast eats the sugars in the flour and releases carbon dioxide that makes the dough rise.
Let the dough rise in a warm kitchen until it doubles in size, usually an hour or two.
Sourdough bread uses a starter of wild yeast and bacteria instead of dried yeast.
The sourdough starter needs feeding with fresh flour and water every day.
Shape the risen dough into a loaf and let it prove a second time in a floured basket.
Bake the loaf in a very hot oven, with steam for the first minutes so the crust can expand.
A good crust is dark and crackly, and the crumb inside the loaf is open and chewy.
Tap the bottom of the loaf; a hollow sound means the bread is baked through.
Let the bread cool on a rack before slicing, or the crumb turns gummy.
Whole wheat flour absorbs more water, so wholemeal dough needs a wetter mix.
Rye flour has little gluten, which is why rye bread is dense and heavy.""".splitlines()

SPACE = """Black holes form when a massive star collapses under its own gravity at the end of its life.
The event horizon of a black hole is the boundary from which not even light can escape.
Astronomers detect black holes by watching stars orbit an invisible massive companion.
At the centre of our galaxy sits a supermassive black hole four million times the mass of the sun.
Gravitational waves from merging black holes were first detected by the LIGO observatory in 2015.
The telescope network called the Event Horizon Telescope imaged the shadow of a black hole in galaxy M87.
Hawking radiation means black holes slowly evaporate by emitting particles over immense times.
Neutron stars are the collapsed cores of stars that were not quite massive enough to become black holes.
A teaspoon of neutron star matter would weigh billions of tons on Earth.
Pulsars are spinning neutron stars whose radio beams sweep past the Earth like a lighthouse.
Quasars are galaxies whose central black holes swallow gas and shine brighter than all their stars.
The light from distant quasars left them billions of years ago, so telescopes see the young universe.
Dark matter holds galaxies together, yet no telescope has seen it directly.
Cosmologists measure the expansion of the universe with distant supernova explosions.""".splitlines()

TAXES = """Filing your income tax return starts with collecting your payslips and bank statements.
Your employer reports your salary and the tax already withheld on an annual wage statement.
Deductions such as pension contributions and charitable donations reduce your taxable income.
Tax credits are subtracted from the tax you owe rather than from your income.
Self-employed workers must pay estimated tax every quarter instead of through payroll withholding.
Keep receipts for business expenses like a home office, equipment and travel for at least six years.
The marginal tax rate applies only to the part of income above each bracket threshold.
Capital gains from selling shares are taxed differently from wages and salary.
Interest from a savings account counts as taxable income in most countries.
Missing the filing deadline can bring penalties and interest charges on unpaid tax.
An accountant can check your return and find deductions you may have missed.
Electronic filing gets your refund paid faster than a paper return.
If the tax office audits your return, it will ask for receipts and statements.
Correct a mistake on your return by filing an amended return as soon as you notice it.""".splitlines()


# Two subjects of two parts each: the parts of one subject share its words ("heart",
# "Rome"), the subjects share nothing.
HEART_PARTS = [
"""The human heart is a muscular pump about the size of a closed fist.
It sits in the chest between the lungs, slightly to the left of the breastbone.
The heart has four chambers: two upper atria and two lower ventricles.
The right atrium receives blood returning from the body through the large veins.
From the right atrium, blood passes into the right ventricle.
The right ventricle pumps that blood to the lungs through the pulmonary artery.
In the lungs the blood gives up carbon dioxide and picks up oxygen.
Oxygen-rich blood returns to the left atrium through the pulmonary veins.
The left ventricle then pumps it out to the whole body through the aorta.
The wall of the left ventricle is the thickest, because it pumps against the highest pressure.
Four valves keep the blood flowing in one direction through the chambers.
The tricuspid valve lies between the right atrium and the right ventricle.
The mitral valve lies between the left atrium and the left ventricle.
The pulmonary and aortic valves guard the exits of the two ventricles.
The sound of a heartbeat is the sound of these valves snapping shut.
A natural pacemaker called the sinoatrial node starts every heartbeat.
Its electrical signal spreads across the atria and makes them contract.
The signal then pauses at the atrioventricular node before reaching the ventricles.
That short delay lets the ventricles fill completely before they squeeze.
An electrocardiogram records this electrical activity from the skin.
The coronary arteries wrap around the heart and feed its own muscle with blood.
At rest the heart beats sixty to a hundred times a minute.""",
"""Heart disease is the leading cause of death in many countries.
Most heart attacks happen when a coronary artery is blocked by a clot.
The clot usually forms on a fatty plaque that has built up in the artery wall.
Without oxygen, the heart muscle beyond the blockage begins to die within minutes.
Chest pain that spreads to the arm or jaw is the classic warning sign.
Women more often feel breathlessness, nausea or unusual tiredness instead.
Calling an ambulance at once saves more muscle than waiting to see if the pain passes.
Doctors reopen the blocked artery with a balloon and a small metal stent.
High blood pressure makes the heart work harder and stiffens the arteries.
Smoking damages the lining of the arteries and makes clots more likely.
High cholesterol feeds the fatty plaques that narrow the arteries.
Diabetes roughly doubles the risk of a heart attack.
Regular exercise is one of the best protections against heart disease.
Thirty minutes of brisk walking on most days lowers blood pressure and cholesterol.
Exercise also helps people keep a healthy weight and manage stress.
A diet rich in vegetables, whole grains and fish supports a healthy heart.
Cutting down on salt lowers blood pressure within a few weeks.
Statins are medicines that lower cholesterol and reduce the risk of another attack.
Cardiac rehabilitation teaches patients to exercise safely after a heart attack.
Knowing your blood pressure and cholesterol numbers is the first step to prevention.
Stopping smoking halves the extra risk within a year.
Sleep and stress management matter more for the heart than people expect."""]
ROME_PARTS = [
"""According to legend, Rome was founded in 753 BC by the twins Romulus and Remus.
For its first centuries the city was ruled by kings.
In 509 BC the Romans expelled their last king and founded a republic.
The republic was governed by two consuls elected every year.
The senate, a council of wealthy elders, advised the consuls and controlled the treasury.
Ordinary citizens, the plebeians, fought for a share of political power.
They won the right to elect tribunes who could veto the decisions of magistrates.
The laws of the Twelve Tables were written down and displayed in the forum.
Roman legions conquered the rest of Italy by the third century BC.
Three long wars with Carthage decided who would control the western Mediterranean.
Hannibal crossed the Alps with elephants and defeated Roman armies in Italy.
Rome still won the war and destroyed Carthage completely in 146 BC.
Conquests brought slaves and riches, and the gap between rich and poor widened.
The Gracchus brothers tried to give land to the poor and were both killed.
Generals like Marius and Sulla used their loyal armies to seize power in the city.
Julius Caesar conquered Gaul and then crossed the Rubicon with his army.
He defeated Pompey in a civil war and was named dictator for life.
A group of senators stabbed Caesar to death on the Ides of March in 44 BC.
His adopted heir Octavian defeated Mark Antony and Cleopatra at Actium.
In 27 BC the senate gave Octavian the name Augustus, and the republic was over.
Historians still debate whether the republic fell because of ambition or because of its institutions.
The forum, the senate house and the temples of the republic can still be visited in Rome.""",
"""The Roman Empire reached its greatest size under the emperor Trajan.
It stretched from Britain to Mesopotamia and held perhaps seventy million people.
By the third century the empire faced invasions, plague and a collapsing currency.
Within fifty years more than twenty emperors were murdered or killed in battle.
Diocletian split the empire into an eastern and a western half to govern it better.
Constantine founded a new capital at Byzantium and named it Constantinople.
He was the first emperor to become a Christian.
The western half grew weaker as its tax base shrank and its army relied on hired tribes.
Gothic tribes crossed the Danube frontier while fleeing the Huns.
In 378 the Goths destroyed a Roman army and killed the emperor Valens at Adrianople.
In 410 the Visigoths under Alaric sacked the city of Rome itself.
The Vandals crossed into Africa and took the rich grain provinces.
Without African grain and taxes, the western government could barely pay its soldiers.
In 476 the Germanic general Odoacer deposed the last western emperor, Romulus Augustulus.
Historians often mark that year as the fall of the Western Roman Empire.
The eastern half survived for almost a thousand more years as the Byzantine Empire.
Constantinople finally fell to the Ottoman Turks in 1453.
Edward Gibbon blamed the fall on Christianity and a loss of civic virtue.
Modern historians point instead to money, climate, disease and pressure on the frontiers.
Latin survived the fall and became Italian, French, Spanish and Portuguese.
Roman law still shapes the legal systems of much of Europe.
The fall of the west did not happen in a single day but over generations."""]


def make_transcript(lines: list[str], start: float = 0.0, pause: float = 0.5, speaker: str | None = None, tail: float = 2.0):
    """A Transcript speaking `lines` at 150 words a minute from `start`."""
    segments = []
    t = start
    for line in lines:
        words = []
        for token in line.split():
            words.append(Word(t, t + 0.32, " " + token))
            t += 0.4
        segments.append(Segment(words[0].start, words[-1].end, line, tuple(words), speaker))
        t = words[-1].end + pause
    return Transcript(tuple(segments), "en", duration=t + tail)


def concat(*transcripts: Transcript) -> Transcript:
    segs = tuple(s for tr in transcripts for s in tr.segments)
    return Transcript(segs, "en", duration=max(tr.duration for tr in transcripts))


def speak(groups: list[list[str]], start: float = 0.0) -> tuple[Transcript, list[float]]:
    """Several groups of lines, back to back, with the start time of each group."""
    lines = [l for g in groups for l in g]
    tr = make_transcript(lines, start)
    starts, i = [], 0
    for g in groups:
        starts.append(tr.segments[i].start)
        i += len(g)
    return tr, starts


def three_topics(repeat: int = 1) -> tuple[Transcript, list[float]]:
    return speak([BREAD * repeat, SPACE * repeat, TAXES * repeat])


def test_three_topics_give_three_chapters_at_the_right_places():
    tr, starts = three_topics()
    spans = find_chapters(tr, None, None, Options())
    assert len(spans.spans) == 3
    assert spans.spans[0][0] == pytest.approx(spans.talk_start)
    for (got, _), want in zip(spans.spans[1:], starts[1:]):
        assert abs(got - want) <= 8.0  # within one sentence (about 7 s here)
    # spans tile the talk
    for (a, b), (c, d) in zip(spans.spans, spans.spans[1:]):
        assert b == c and a < b
    assert spans.spans[-1][1] == pytest.approx(spans.talk_end)


def test_a_break_is_left_out_of_the_chapters(tmp_path):
    # A workshop: two parts about bread, a ten-minute coffee break, then space (one
    # subject before it, another after). No chapter holds the break; the one before
    # it ends after its last word and the next starts on its first.
    before = make_transcript(BREAD * 2, start=5.0)
    after_start = before.segments[-1].end + 600.0
    after = make_transcript(SPACE * 2, start=after_start)
    tr = concat(before, after)
    spans = find_chapters(tr, None, None, Options())
    last_before = before.segments[-1].end
    ends = [b for _, b in spans.spans]
    starts = [a for a, _ in spans.spans]
    assert any(last_before <= b <= last_before + 0.6 for b in ends), spans.spans
    assert any(after_start - 0.45 <= a <= after_start for a in starts), spans.spans
    assert not any(a < last_before + 60 and b > after_start - 60 for a, b in spans.spans)
    # the same pause over a screen that keeps changing (a demonstration given in
    # silence) is part of the talk: the chapters tile it
    demo = VideoAnalysis(scene_changes=tuple(SceneChange(t, 5.0) for t in np.arange(last_before + 20, after_start, 60.0)))
    spans = find_chapters(tr, None, demo, Options())
    assert all(b == c for (_, b), (c, _) in zip(spans.spans, spans.spans[1:]))
    # a "back in ten minutes" slide put up after the last word and taken down before
    # the first is still a break
    slide = VideoAnalysis(scene_changes=(SceneChange(last_before + 3.0, 9.0), SceneChange(after_start - 4.0, 9.0)))
    spans = find_chapters(tr, None, slide, Options())
    assert not any(a < last_before + 60 and b > after_start - 60 for a, b in spans.spans), spans.spans
    # talk too short for a chapter between two breaks (a sound check) is left out,
    # as chatter before the talk is
    check = make_transcript(["Can you hear me now?", "Good."], start=last_before + 200.0)
    spans = find_chapters(concat(before, check, after), None, None, Options())
    assert not any(a < last_before + 300.0 < b for a, b in spans.spans), spans.spans
    assert any(last_before <= b <= last_before + 0.6 for _, b in spans.spans), spans.spans


def test_boundaries_fall_in_pauses_never_inside_words():
    tr, _ = three_topics()
    spans = find_chapters(tr, None, None, Options())
    words = tr.words
    for a, _ in spans.spans[1:]:
        assert not any(w.start < a < w.end for w in words)
        nxt = min(w.start for w in words if w.start >= a)
        assert nxt - a <= 0.45  # just before the chapter's first word


def test_single_topic_is_one_chapter():
    # four minutes about bread only: no cut is worth its price
    tr = make_transcript(BREAD * 3)
    assert tr.duration > 240
    spans = find_chapters(tr, None, None, Options())
    assert len(spans.spans) == 1


def test_short_recording_is_one_chapter():
    tr = make_transcript((BREAD[:4] + SPACE[:4] + TAXES[:4])[:11])
    assert 60 < tr.duration < 120
    spans = find_chapters(tr, None, None, Options())
    assert len(spans.spans) == 1
    assert spans.spans[0] == (spans.talk_start, spans.talk_end)


def test_lead_in_and_sign_off_are_left_out():
    lead = make_transcript(
        ["Hello, can everyone hear me okay?", "We'll wait a minute for a few more people to join."], start=3.0
    )
    body, starts = speak([BREAD, SPACE, TAXES], start=75.0)
    outro_start = body.segments[-1].end + 3.0
    outro = make_transcript(["Okay, thank you all for coming.", "Bye."], start=outro_start, tail=30.0)
    tr = concat(lead, body, outro)
    spans = find_chapters(tr, None, None, Options())
    assert abs(spans.talk_start - 75.0) <= 5.0
    assert spans.talk_start <= 75.0
    assert spans.talk_end < outro_start
    assert spans.talk_end >= body.segments[-1].end
    assert len(spans.spans) == 3


def test_lets_get_started_marks_the_start():
    lead = make_transcript(["Is my screen showing?", "Great, how is everyone doing today?"], start=1.0)
    body = make_transcript(["Okay, let's get started."] + BREAD + SPACE, start=40.0)
    spans = find_chapters(concat(lead, body), None, None, Options())
    assert abs(spans.talk_start - 40.0) <= 1.0


def test_mic_check_before_long_silence():
    lead = make_transcript(["Testing, one two.", "Right."], start=2.0)
    body = make_transcript(BREAD + SPACE, start=90.0)
    spans = find_chapters(concat(lead, body), None, None, Options())
    assert abs(spans.talk_start - 90.0) <= 1.0


def _titled_slides(tmp_path, starts: list[float], titles: list[str]) -> VideoAnalysis:
    """A slide with a new title at each start, and a continuation slide (same title,
    new bullet points) 70 s into each part."""
    from PIL import Image, ImageDraw

    def slide(name: str, title: str, body: str) -> Path:
        im = Image.new("RGB", (320, 180), "white")
        d = ImageDraw.Draw(im)
        d.text((10, 8), title, fill="black")
        d.text((10, 90), body, fill="black")
        p = tmp_path / f"{name}.png"
        im.save(p)
        return p

    changes, frames = [], [Frame(0.5, slide("s0", titles[0], "flour"))]
    for i, (t, title) in enumerate(zip(starts, titles)):
        if i:
            changes.append(SceneChange(t + 0.8, 50.0))
            frames.append(Frame(t + 1.8, slide(f"s{i}", title, "first")))
        changes.append(SceneChange(t + 70.0, 30.0))
        frames.append(Frame(t + 71.0, slide(f"c{i}", title, "more points here")))
    return VideoAnalysis(tuple(sorted(changes, key=lambda c: c.time)), tuple(sorted(frames, key=lambda f: f.time)))


def test_slide_changes_cut_and_continuation_slides_do_not(tmp_path):
    tr, starts = speak([BREAD * 2, SPACE * 2, TAXES * 2])
    video = _titled_slides(tmp_path, starts, ["Bread", "Space", "Taxes"])
    spans = find_chapters(tr, None, video, Options())
    assert len(spans.spans) == 3
    for (got, _), want in zip(spans.spans[1:], starts[1:]):
        assert abs(got - want) <= 1.0


def test_a_part_under_one_title_is_not_cut_at_its_continuation_slide(tmp_path):
    # The presenter moves on to a new subject but keeps the slide's title ("Space",
    # then "Space (continued)" over the tax text): the slides say it is one part. The
    # text's drift alone used to cut it at the continuation slide.
    from PIL import Image, ImageDraw

    def still(name: str, title: str) -> Path:
        im = Image.new("RGB", (320, 180), "white")
        d = ImageDraw.Draw(im)
        d.text((10, 8), title, fill="black")
        d.text((10, 90), f"points of {name}", fill="black")
        p = tmp_path / f"{name}.png"
        im.save(p)
        return p

    tr, starts = speak([BREAD, SPACE, TAXES, BREAD])
    frames = (Frame(0.5, still("a", "Bread")), Frame(starts[1] + 1.8, still("b", "Space")),
              Frame(starts[2] + 1.8, still("c", "Space")), Frame(starts[3] + 1.8, still("d", "Bread again")))
    changes = tuple(SceneChange(t + 0.8, 50.0) for t in starts[1:])
    spans = find_chapters(tr, None, VideoAnalysis(changes, frames), Options())
    cuts = [a for a, _ in spans.spans[1:]]
    assert len(cuts) == 2 and abs(cuts[0] - starts[1]) <= 1.5 and abs(cuts[1] - starts[3]) <= 1.5, (cuts, starts)
    # without the slides the same words are three subjects and four chapters
    assert len(find_chapters(tr, None, None, Options()).spans) == 4


def test_a_titled_part_may_run_past_max_chapter_but_not_without_end(tmp_path):
    # each part mixes two subjects line by line, so the words alone give no place to
    # cut inside it and only its length can
    def mix(a: list[str], b: list[str]) -> list[str]:
        return [x for pair in zip(a, b) for x in pair]

    tr, starts = speak([mix(BREAD, SPACE), mix(TAXES, BREAD), mix(SPACE, TAXES)])
    part = min(b - a for a, b in zip(starts, starts[1:]))
    video = _titled_slides(tmp_path, starts, ["Bread", "Space", "Taxes"])
    # parts 1.8x max_chapter: the slides say each is one unit, so each stays whole
    opts = Options(min_chapter=20.0, max_chapter=part / 1.8)
    spans = find_chapters(tr, None, video, opts)
    assert len(spans.spans) == 3
    for (got, _), want in zip(spans.spans[1:], starts[1:]):
        assert abs(got - want) <= 1.0
    # without slides nothing says so, and the same text is cut for its length
    assert len(find_chapters(tr, None, None, opts).spans) > 3
    # parts 3x max_chapter: longer than a titled part may run, so they are split too,
    # and the cuts the slides made stay
    opts = Options(min_chapter=20.0, max_chapter=part / 3.0)
    spans = find_chapters(tr, None, video, opts).spans
    got = [a for a, _ in spans]
    assert len(got) > 3 and max(b - a for a, b in spans) <= 2 * opts.max_chapter
    for want in starts[1:]:
        assert min(abs(g - want) for g in got) <= 1.0


def test_chapter_lengths_respect_the_minimum():
    tr, _ = three_topics()
    opts = Options(min_chapter=100.0, max_chapter=480.0)
    spans = find_chapters(tr, None, None, opts)
    for a, b in spans.spans:
        assert b - a >= 100.0 or len(spans.spans) == 1


def test_max_chapter_is_a_limit():
    # three topics of about 88 s each: under a 60 s limit each is split, and no chapter
    # runs past the limit however the words hang together
    tr, _ = three_topics()
    for limit in (60.0, 75.0):
        spans = find_chapters(tr, None, None, Options(min_chapter=30.0, max_chapter=limit))
        assert len(spans.spans) > 3
        assert max(b - a for a, b in spans.spans) <= limit, (limit, spans.spans)
    # a sentence longer than the limit is a chapter of its own rather than no chapters
    long_line = " ".join(["and the dough keeps rising slowly"] * 30) + "."
    tr = make_transcript(BREAD[:6] + [long_line] + SPACE[:6])
    spans = find_chapters(tr, None, None, Options(min_chapter=20.0, max_chapter=40.0))
    over = [(a, b) for a, b in spans.spans if b - a > 40.0]
    assert len(spans.spans) > 3 and len(over) == 1 and over[0][1] - over[0][0] < 80.0, spans.spans


def test_no_speech_gives_one_span_over_the_recording():
    audio = Audio(np.zeros(SAMPLE_RATE * 30, dtype=np.float32), offset=0.0)
    spans = find_chapters(Transcript((), "en", duration=30.0), audio, None, Options())
    assert spans.spans == ((0.0, 30.0),)


def test_boundary_snaps_to_the_quiet_part_of_the_pause():
    rate = SAMPLE_RATE
    samples = np.zeros(rate * 4, dtype=np.float32)
    samples[: int(1.0 * rate)] = 0.3  # speech until 1.0 s
    samples[int(2.0 * rate) :] = 0.3  # speech from 2.0 s
    samples[int(1.0 * rate) : int(1.7 * rate)] = 0.05  # breath noise until 1.7 s
    audio = Audio(samples)
    t = boundary_time(Sentence(0.0, 1.0, "One."), Sentence(2.0, 3.0, "Two."), audio)
    assert 1.7 <= t < 2.0
    # without audio: just before the next word
    assert boundary_time(Sentence(0.0, 1.0, "One."), Sentence(2.0, 3.0, "Two."), None) == pytest.approx(1.6)


def test_talk_bounds_keeps_everything_when_nothing_is_chatter():
    sents = [Sentence(i * 5.0, i * 5.0 + 4.0, f"Sentence number {i} about thermodynamics and entropy.") for i in range(20)]
    assert talk_bounds(sents, 0.0, 100.0) == (0, 19)


def test_segment_prefers_fewer_cuts_for_uniform_text():
    sents = [Sentence(i * 6.0, i * 6.0 + 5.5, line) for i, line in enumerate(TAXES * 4)]
    assert segment(sents, None, Options())[0] == [0]


def test_sentences_split_on_punctuation_and_pauses():
    tr = make_transcript(["First one. Second one here?", "third without a stop"], pause=3.0)
    got = [s.text for s in sentences(tr)]
    assert got == ["First one.", "Second one here?", "third without a stop"]


def _segments(*parts: tuple[float, str]) -> Transcript:
    """Whisper-like segments: (start, text), one word every 0.3 s; a word given as
    "U|.S." is two of Whisper's words."""
    segs = []
    for start, text in parts:
        words, t = [], start
        for token in text.split():
            for piece in token.split("|"):
                words.append(Word(t, t + 0.25, ("" if piece.startswith(".") else " ") + piece))
                t += 0.3
        segs.append(Segment(words[0].start, words[-1].end, text.replace("|", ""), tuple(words)))
    return Transcript(tuple(segs), "en", duration=segs[-1].end + 1)


def test_sentences_run_on_across_segments_cut_at_an_abbreviation_or_a_comma():
    tr = _segments(
        (0.0, "By the end of the year, he was ranked world No."),
        (3.6, "91. He won his first title in 1987."),
        (7.0, "They met again at the 2005 U|.S."),
        (9.2, "Open final."),
        (10.0, "His friend was D. H."),
        (11.6, "Lawrence, who lived in Surrey,"),
        (14.0, "England."),
        (15.0, "Huxley was a humanist, pacifist."),
        (16.6, "and satirist."),
        (17.8, "He moved to California in 1937."),
        (20.0, "Andre Kirk Agassi, born April 29."),
        (22.4, "1970 is an American retired tennis player."),
        (25.0, "The final was on May 4."),
        (27.0, "1990 was his best year."),
    )
    got = [s.text for s in sentences(tr)]
    assert got == [
        "By the end of the year, he was ranked world No. 91.",
        "He won his first title in 1987.",
        "They met again at the 2005 U.S. Open final.",
        "His friend was D. H. Lawrence, who lived in Surrey, England.",
        "Huxley was a humanist, pacifist. and satirist.",
        "He moved to California in 1937.",
        # a birth date split at its comma where the reader paused
        "Andre Kirk Agassi, born April 29, 1970 is an American retired tennis player.",
        # any other date may end its sentence
        "The final was on May 4.",
        "1990 was his best year.",
    ]
    # A letter naming a point in a lecture ends its sentence when the speaker pauses
    # after it (an initial inside a name is said without a pause, as above).
    tr = _segments((0.0, "It is conserved about point C."), (2.2, "Now take another example."), (4.0, "With mass M. Fine."))
    got = [s.text for s in sentences(tr)]
    assert got == ["It is conserved about point C.", "Now take another example.", "With mass M. Fine."]
    # a sentence still ends at a long pause, and where the speaker changes
    tr = _segments((0.0, "We stop at the U.S."), (8.0, "Border controls were strict."))
    assert len(sentences(tr)) == 2


def test_text_helpers():
    assert singular("collisions") == "collision"
    assert singular("bodies") == "body"
    assert singular("class") == "class"
    # words that end like plurals of something else (a keyword once read "specy")
    assert [singular(w) for w in ("species", "series", "campuses", "viruses", "causes", "uses")] == [
        "species", "series", "campus", "virus", "cause", "use"]
    # nouns that end in -s in the singular, and names ("Thoma Aquina" was a keyword)
    assert [singular(w) for w in ("physics", "atlas", "bias", "chaos", "thomas", "aquinas", "texas")] == [
        "physics", "atlas", "bias", "chaos", "thomas", "aquinas", "texas"]
    assert [singular(w) for w in ("movies", "ideas", "photos", "topics")] == ["movie", "idea", "photo", "topic"]
    assert singular("mechanics") == "mechanics"  # the field, not a car mechanic
    assert remove_fillers("Um, so the, uh, momentum is conserved.") == "So the, momentum is conserved."


# ---------------------------------------------------------------- the bundled sample

SAMPLE_TRUTH = [5.0, 42.88, 76.67, 106.85]  # samples/webinar.truth.json: chapter starts


def _sample_transcript() -> Transcript:
    """The transcript recast made of samples/webinar.mp4 (tiny.en), saved as a fixture."""
    import json

    from recast.manifest import transcript_from_dict

    path = Path(__file__).parent / "data" / "webinar.transcript.json"
    return transcript_from_dict(json.loads(path.read_text(encoding="utf-8")))


def test_sample_audio_only_gives_its_four_parts():
    # four unrelated topics (photosynthesis, volcanoes, sourdough, a budget), 30-38 s each
    spans = find_chapters(_sample_transcript(), None, None, Options())
    assert len(spans.spans) == 4, spans.spans
    for (got, _), want in zip(spans.spans, SAMPLE_TRUTH):
        assert abs(got - want) <= 3.0
    assert abs(spans.talk_end - 142.86) <= 3.0


def test_sample_with_keyframe_interval_slide_changes(tmp_path):
    """Slide changes known only to their 10 s keyframe interval (reported midway), a
    "(continued)" slide inside part 2: still four chapters, at the sentence pauses."""
    from PIL import Image, ImageDraw

    def slide(name: str, title: str) -> Path:
        im = Image.new("RGB", (640, 360), (248, 247, 243))
        d = ImageDraw.Draw(im)
        d.rectangle((0, 0, 640, 32), fill=(32, 36, 44))
        d.text((40, 55), title, fill=(25, 25, 25))
        d.text((40, 150), f"bullet points of {name}", fill=(50, 50, 50))
        p = tmp_path / f"{name}.png"
        im.save(p)
        return p

    keyframes = tuple(float(t) for t in (0.0, 4.28, 14.28, 24.28, 34.28, 42.4, 52.4, 62.4, 72.4, 82.4, 92.4, 102.4, 112.4))
    titles = [(4.28, None, "Photosynthesis: how plants make food"), (42.4, None, "Volcanoes and plate tectonics"),
              (62.4, (52.4, 62.4), "Volcanoes and plate tectonics (continued)"), (82.4, (72.4, 82.4), "Baking sourdough bread"),
              (112.4, (102.4, 112.4), "Planning a monthly budget")]
    frames = [Frame(0.0, slide("waiting", "Science and Life Skills"))]
    changes = []
    for i, (at, window, title) in enumerate(titles):
        frames.append(Frame(at, slide(f"s{i}", title)))
        changes.append(SceneChange((window[0] + window[1]) / 2 if window else at, 5.0))
    video = VideoAnalysis(tuple(changes), tuple(frames), keyframes)
    spans = find_chapters(_sample_transcript(), None, video, Options())
    assert len(spans.spans) == 4, spans.spans
    for (got, _), want in zip(spans.spans, SAMPLE_TRUTH):
        assert abs(got - want) <= 3.0


def test_continued_title_is_the_same_title():
    from PIL import Image, ImageDraw, ImageFont

    from recast.chapters import same_title

    def strip(title: str) -> np.ndarray:
        im = Image.new("L", (320, 45), 245)
        try:
            font = ImageFont.truetype("DejaVuSans-Bold.ttf", 16)
        except OSError:
            font = ImageFont.load_default()
        ImageDraw.Draw(im).text((12, 14), title, font=font, fill=20)
        return np.asarray(im, dtype=np.float32)

    base = strip("Volcanoes and plates")
    assert same_title(base, strip("Volcanoes and plates"))
    assert same_title(base, strip("Volcanoes and plates (continued)"))
    assert not same_title(base, strip("Baking sourdough bread"))
    assert not same_title(base, strip("Volcanic plates and ash"))


def test_a_centred_title_continued_on_the_next_slide_is_the_same_part(tmp_path):
    # A centred title moves as a whole when "(cont.)" is added, so its pixels all
    # change; read with OCR it is the same title. On such a deck every continuation
    # slide cut a chapter before.
    from PIL import Image, ImageDraw, ImageFont

    from recast.chapters import _continuations, centred, title_strip

    try:
        font = ImageFont.truetype("DejaVuSans-Bold.ttf", 30)
    except OSError:
        pytest.skip("no DejaVu font to draw the slides with")

    def still(name: str, title: str) -> Path:
        im = Image.new("RGB", (640, 360), "white")
        d = ImageDraw.Draw(im)
        d.text(((640 - d.textlength(title, font=font)) / 2, 30), title, font=font, fill=(20, 20, 20))
        d.text((40, 120), f"some points about {name}", fill=(40, 40, 40))
        p = tmp_path / f"{name}.jpg"
        im.save(p, quality=80)
        return p

    frames = (Frame(0.0, still("a", "Volcanoes and plates")), Frame(60.0, still("b", "Volcanoes and plates (cont.)")),
              Frame(120.0, still("c", "Baking sourdough bread")))
    assert all(centred(title_strip(f.path)) for f in frames)
    video = VideoAnalysis((SceneChange(59.5, 40.0), SceneChange(119.5, 40.0)), frames)
    assert _continuations(video) == {59.5: True, 119.5: False}
    # without OCR the pixels alone cannot tell
    assert _continuations(video, ocr=False) == {59.5: False, 119.5: False}


def test_boundary_scorer_has_a_weight_for_every_feature_and_finds_topic_shifts():
    from recast.boundary_weights import BOUNDARY_WEIGHTS
    from recast.chapters import boundary_features, boundary_logits
    from recast.text import embed

    tr, starts = three_topics()
    body = sentences(tr)
    sem = embed([s.text for s in body])
    x, names = boundary_features(body, sem)
    assert x.shape == (len(body), len(names)) and np.isfinite(x).all()
    assert set(names) == set(BOUNDARY_WEIGHTS)
    logits = boundary_logits(body, sem)
    assert logits[0] == 0.0 and np.isfinite(logits).all()
    # the two topic changes score above the median sentence start
    shifts = [i for i, s in enumerate(body) if any(abs(s.start - t) < 0.01 for t in starts[1:])]
    assert len(shifts) == 2
    assert all(logits[i] > np.median(logits[1:]) for i in shifts)
    # without the embedder, the lexical features stand in and nothing breaks
    assert np.isfinite(boundary_logits(body, None)).all()


def test_segmentation_is_deterministic():
    tr, _ = three_topics(2)
    a = find_chapters(tr, None, None, Options())
    b = find_chapters(tr, None, None, Options())
    assert a == b


def test_spoken_headings_are_found_and_clauses_are_not():
    from recast.text import spoken_heading

    found = {
        "Early history, the region was settled by farmers 7000 years ago.": ("Early history", False),
        "Culture. Poetry is highly valued there.": ("Culture", True),
        "Economy and trade.": ("Economy and trade", True),
        "Part two: pricing. We charge by the seat.": ("Pricing", True),
        "Step 3, installing the agent.": ("Installing the agent", True),
        "Part two.": ("Part two", True),
        # a heading-like tail that a full stop or a pause cut off its sentence: a title at
        # most, never a reason to cut ("... precious stones, natural gas.", "Paleolithic, Mesolithic,")
        "natural gas.": ("Natural gas", False),
        "Mesolithic,": ("Mesolithic", False),
        # the presenter naming the last part as they move on to it
        "Finally, the French Revolution.": ("The French Revolution", True),
        "Next, Robespierre.": ("Robespierre", True),
    }
    for text, want in found.items():
        got = spoken_heading(text)
        assert got is not None and (got.title, got.alone) == want, text
    for text in (
        "In 1990, the band released its first album.",
        "However, the country remained poor for decades.",
        "Okay, so let us begin with the basics.",
        "Historically, the valley was green and fertile.",
        "The following year, the band toured Europe widely.",
        "Welcome, everyone, to this session on taxes.",
        "Any questions?",
        "Very good.",
        "The answer is yes.",
        "Moving on.",
        "LEWIN: Now we take the derivative of the position.",
        "Newton's laws, they tell us how things move.",
        # fragments of lecture speech that Whisper wrote as sentences of their own
        "Nearly frictionless.",
        "Force it about that point P.",
        # the tail of a name broken at the edge of a decoding chunk, then joined to the
        # rest of its sentence
        "Gannistan. making the ancient civilization today part of Pakistan and India.",
        # an adverbial opener, not a heading run into its sentence
        "Early in his career, Agassi played a fast baseline game with a flat forehand.",
        "Late in their lives, the couple moved back to the coast.",
        # an instruction, or a clause, after "next" or "finally"
        "Next, press the button.",
        "Finally, we ran the test.",
        "Next, click save.",
    ):
        assert spoken_heading(text) is None, text
    # ... also when Whisper left it a segment of its own, with the rest after it
    broken = sentences(_segments((0.0, "Gannistan."), (0.6, "making the ancient civilization today part of Pakistan.")))
    assert len(broken) == 1 and spoken_heading(broken[0].text) is None
    kept = sentences(_segments((0.0, "Culture."), (1.2, "Poetry is highly valued there.")))
    assert [spoken_heading(x.text) for x in kept] == [spoken_heading("Culture."), None]
    # a sentence cut at an abbreviation's full stop names no part
    assert spoken_heading("The book reached no. One on the bestseller list and received favorable reviews.") is None
    # a name said twice before its sentence names the part once
    got = spoken_heading("Afroasiatic, Afroasiatic, also known as Afrasian, is a large family of languages.")
    assert got is not None and got.title == "Afroasiatic"


def test_spoken_headings_raise_the_cut_bonus_and_name_the_chapters():
    from recast.chapters import _signals
    from recast.summarize import describe

    heads = ["Baking bread at home.", "Black holes and neutron stars.", "Filing your income tax return."]
    tr, starts = speak([[heads[0], *BREAD], [heads[1], *SPACE], [heads[2], *TAXES]], start=3.0)
    body = sentences(tr)
    bonus = _signals(body, None, Options()).bonus
    at_heads = [k for k, s in enumerate(body) if s.text in heads and k > 0]
    assert len(at_heads) == 2 and all(bonus[k] > 1.0 for k in at_heads)
    assert max(bonus[k] for k in range(1, len(body)) if k not in at_heads) < 1.0

    spans = find_chapters(tr, None, None, Options(min_chapter=30.0))
    assert [round(a, 1) for a, _ in spans.spans[1:]] == [round(s - 0.4, 1) for s in starts[1:]]
    outline = describe(tr, spans, None, Options(min_chapter=30.0))
    assert [(c.title, c.title_source) for c in outline.chapters] == [(h.rstrip("."), "announced") for h in heads]


def test_a_heading_said_where_the_slide_keeps_its_title_counts_for_little(tmp_path):
    from dataclasses import replace

    from recast.chapters import CUE_OFF_SLIDE, HEADING_BONUS, _signals

    tr, starts = speak([BREAD * 2, SPACE * 2, TAXES * 2])
    video = _titled_slides(tmp_path, starts, ["Bread", "Space", "Taxes"])  # continuation slides 70 s in
    body = sentences(tr)

    def heading_gain(k: int) -> float:
        said = list(body)
        said[k] = replace(body[k], text="Orbital mechanics.")
        sig = _signals(said, video, Options())
        assert sig.heading[k]
        return float(sig.bonus[k] - _signals(body, video, Options()).bonus[k])

    # said as the continuation slide comes up: a step inside the part, or a fragment
    inside = int(np.argmin([abs(s.start - (starts[1] + 70.0)) for s in body]))
    assert _signals(body, video, Options()).slide[inside] > 0
    assert heading_gain(inside) == pytest.approx(HEADING_BONUS * CUE_OFF_SLIDE, abs=0.01)
    # said as the slide with a new title comes up: the whole bonus
    at_part = next(i for i, s in enumerate(body) if s.start >= starts[1] - 0.1)
    assert heading_gain(at_part) == pytest.approx(HEADING_BONUS, abs=0.01)


def test_a_session_over_two_subjects_is_cut_inside_each_subject_too():
    # Measured against the whole session, the two parts of one subject look alike next
    # to the other subject, and the talk was cut only where the subject changed.
    groups = [p.splitlines() for p in HEART_PARTS + ROME_PARTS]
    tr, starts = speak(groups)
    body = sentences(tr)
    assert subjects(body) == [len(groups[0]) + len(groups[1])]
    spans = find_chapters(tr, None, None, Options())
    assert len(spans.spans) == 4
    for (got, _), want in zip(spans.spans[1:], starts[1:]):
        assert abs(got - want) <= 15.0


def test_one_subject_is_not_split_as_if_it_were_two():
    heart = [line for p in HEART_PARTS for line in p.splitlines()]
    assert subjects(sentences(make_transcript(heart))) == []
    assert subjects(sentences(three_topics(repeat=3)[0])) == [42, 84]  # three subjects of 42 sentences
    assert subjects(sentences(make_transcript(BREAD * 3 + SPACE))) == []  # too short a second subject


def _caption_lines(sentence_texts: list[str], inner: float, between: float, line_words: int = 6) -> Transcript:
    """Unpunctuated lower-case speech as YouTube's automatic captions give it: lines of
    `line_words` words that ignore the sentences, `inner` s between words and
    `between` s between sentences."""
    timed, t = [], 0.0
    for text in sentence_texts:
        for token in text.lower().replace(",", "").rstrip(".?").split():
            timed.append(Word(t, t + 0.3, " " + token))
            t += 0.3 + inner
        t += between - inner
    lines = [timed[i : i + line_words] for i in range(0, len(timed), line_words)]
    segs = tuple(Segment(ws[0].start, ws[-1].end, "".join(w.word for w in ws).strip(), tuple(ws)) for ws in lines)
    return Transcript(segs, "en", duration=t + 1)


def test_sentences_of_unpunctuated_captions_are_cut_at_the_pauses():
    said = BREAD[:6] + ["How do we know when the bread is baked through?", "I tap the bottom of the loaf and listen."] + BREAD[6:10]
    got = [s.text for s in sentences(_caption_lines(said, inner=0.05, between=0.6))]
    # each sentence back, with a capital and a full stop (a question mark where it
    # opens as a question does), none cut where a caption line happens to end
    assert got == [line[0] + line[1:].lower().replace(",", "").replace(";", "") for line in said]
    # without pauses (a roll-up SRT's words spread over each line) the lines are the cuts
    flat = _caption_lines(said, inner=0.0, between=0.0)
    got = sentences(flat)
    line_starts = {seg.start for seg in flat.segments}
    assert len(got) >= len(said) // 2 and all(s.start in line_starts for s in got)
    assert all(len(s.text.split()) >= 6 for s in got[:-1])
    # "i" is Italian's "the": only English gets its capital I
    italian = _caption_lines(["oggi leggono i libri di storia"] * 8, inner=0.05, between=0.6)
    got = sentences(Transcript(italian.segments, "it", duration=italian.duration))
    assert [s.text for s in got] == ["Oggi leggono i libri di storia."] * 8
