"""Caption cutting, measuring, slicing, writing and reading.

Golden files live in tests/golden/; regenerate them with `python tests/regen_golden.py`.
"""

from __future__ import annotations

import io
import math
import random
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recast.captions import (
    CaptionStats,
    caption_stats,
    format_timestamp,
    make_cues,
    parse_srt,
    parse_vtt,
    read_srt,
    read_vtt,
    slice_cues,
    write_srt,
    write_vtt,
)
from recast.errors import RecastError
from recast.models import Cue, Word

from tests.golden_files import assert_golden


# A talk as a presenter would give it: sentences of mixed length, names, numbers.
TALK = """\
Good afternoon, everyone, and welcome to this session on accessible video for online courses.
My name is Maria Lopez, and I lead the digital learning team at the university library.
Over the next hour we will look at why captions matter, what makes a caption easy to read,
and how you can check the captions that your recording tool gives you.
Let's start with a number. About one in six adults lives with some degree of hearing loss,
and many more of your students watch lectures on a phone, on a train, with the sound off.
For all of them, the captions are the lecture.
Now, automatic speech recognition has become remarkably good in the last five years.
A model like Whisper can transcribe a clear recording with only a few errors per hundred words.
But a correct transcript is not the same thing as a readable caption.
If a line breaks between the article and its noun, or a cue flashes by in half a second,
the viewer loses the thread, even when every single word is right.
So the guidelines from Netflix and the BBC agree on a few simple rules.
Keep each line to about forty characters, and never show more than two lines at once.
Leave each caption on screen long enough to read it, but not so long that it lags behind the speech.
And break lines where a speaker would naturally pause: after a comma, before a conjunction,
or before a preposition that starts a new phrase.
Does that sound obvious? It is, until you look at what most tools actually produce.
In the second part of this session, Ahmed Khan from our media services will show you
a short clip from last term's chemistry lecture, with the captions exactly as they came out.
Please keep your questions for the end, or type them in the chat as we go.
"""


def talk_words(text: str = TALK, wpm: float = 150.0, seed: int = 7) -> list[Word]:
    """Whisper-like words: leading spaces, durations by length, pauses at punctuation."""
    rng = random.Random(seed)
    tokens = text.split()
    per_word = 60.0 / wpm
    mean_len = sum(map(len, tokens)) / len(tokens)
    t = 1.2
    words = []
    for tok in tokens:
        dur = per_word * (0.45 + 0.55 * len(tok) / mean_len) * rng.uniform(0.85, 1.15)
        words.append(Word(start=round(t, 3), end=round(t + dur * 0.9, 3), word=" " + tok, probability=0.9))
        t += dur
        if tok.endswith((".", "?", "!")):
            t += rng.choice([0.25, 0.4, 0.7, 1.0, 2.2])
        elif tok.endswith((",", ":")):
            t += rng.uniform(0.1, 0.35)
    return words


def squash(text: str) -> str:
    return "".join(text.split())


def cue_words(cues: list[Cue], words: list[Word]) -> list[list[int]]:
    """Which words each cue holds, found by walking the characters (words must fit a line)."""
    stream = [(k, squash(w.word)) for k, w in enumerate(words) if squash(w.word)]
    out = []
    pos = 0
    for cue in cues:
        chars = len(squash(cue.text))
        held = []
        while chars > 0:
            k, text = stream[pos]
            held.append(k)
            chars -= len(text)
            pos += 1
        assert chars == 0, "a cue ends inside a word"
        out.append(held)
    return out


# --------------------------------------------------------------------------- invariants


def check_invariants(cues: list[Cue], words: list[Word], max_chars: int = 42, max_lines: int = 2) -> None:
    assert squash("".join("".join(c.lines) for c in cues)) == squash("".join(w.word for w in words))
    prev_start, prev_end = -1.0, 0.0
    for cue in cues:
        assert cue.lines, "empty cue"
        assert len(cue.lines) <= max_lines
        for line in cue.lines:
            assert line and line == line.strip() and "\n" not in line
            assert len(line) <= max_chars, line
        assert 0 <= cue.start < cue.end
        assert cue.end - cue.start <= 7.0 + 1e-3  # the default max_duration
        assert cue.start > prev_start, "cue start went backwards"
        assert cue.start >= prev_end - 1e-9, "cues overlap"
        assert math.isclose(cue.start * 1000, round(cue.start * 1000), abs_tol=1e-6)
        assert math.isclose(cue.end * 1000, round(cue.end * 1000), abs_tol=1e-6)
        prev_start, prev_end = cue.start, cue.end


# Characters without control codes or surrogates; whitespace comes in on purpose.
_letters = st.characters(blacklist_categories=("Cs", "Cc"))
_word_text = st.one_of(
    st.sampled_from(["the", "a", "and", "Ada", "Lovelace", "end.", "what?", "so,", "café", "東京", "🎉", "&", "<b>", "-->"]),
    st.text(_letters, min_size=0, max_size=8),
    # longer than a line (repeating keeps generation cheap)
    st.builds(lambda part, n: part * n, st.text(_letters, min_size=1, max_size=4), st.integers(12, 40)),
    st.sampled_from(["", " ", "\n", "\t", " \u00a0 ", "two words"]),
)
_time = st.floats(min_value=-5, max_value=4000, allow_nan=False, allow_infinity=False)
_word_spec = st.tuples(
    st.sampled_from(["next", "next", "next", "same", "anywhere"]),
    st.floats(0, 3),  # gap after the previous word, for "next"
    _time,  # start, for "anywhere"
    st.one_of(st.just(0.0), st.floats(0, 12)),  # length
    st.sampled_from([" ", "", "  "]),
    _word_text,
)


@st.composite
def random_words(draw) -> list[Word]:
    """Random timings: zero-length, overlapping, unsorted and far apart."""
    t = draw(st.floats(0, 100))
    words = []
    for kind, gap, anywhere, length, prefix, text in draw(st.lists(_word_spec, max_size=50)):
        if kind == "next":
            t += gap
        start = anywhere if kind == "anywhere" else t
        words.append(Word(start=start, end=start + length, word=prefix + text))
    return words


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_words(), st.integers(5, 60), st.integers(1, 3))
def test_cue_invariants_hold_for_any_words(words, max_chars, max_lines):
    cues = make_cues(words, max_chars=max_chars, max_lines=max_lines)
    check_invariants(cues, words, max_chars, max_lines)


@settings(max_examples=100, deadline=None)
@given(random_words())
def test_cues_round_trip_through_vtt_and_srt(words):
    cues = make_cues(words)
    vtt, srt = io.StringIO(), io.StringIO()
    write_vtt(cues, vtt)
    write_srt(cues, srt)
    assert_same_cues(read_vtt(vtt.getvalue(), speakers=False), cues)
    # SRT has no escapes: a line that looks like a tag or holds "-->" cannot come back unchanged.
    if not any(re.search(r"<|\{\\|-->", c.text) for c in cues):
        assert_same_cues(read_srt(srt.getvalue(), speakers=False), cues)


def test_nan_and_infinite_times_do_not_break_cutting():
    words = [Word(math.nan, 1.0, " one"), Word(2.0, math.inf, " two"), Word(-math.inf, 3.0, " three")]
    cues = make_cues(words)
    check_invariants(cues, words)


def test_zero_length_words_at_one_instant_are_spread_not_stacked():
    words = [Word(5.0, 5.0, f" w{k}") for k in range(30)] + [Word(20.0, 20.4, " after")]
    cues = make_cues(words)
    check_invariants(cues, words)
    assert cues[0].start == 5.0


def test_a_word_longer_than_a_line_is_cut_into_lines():
    url = "https://example.org/" + "a" * 90
    words = [Word(0.0, 1.0, " see"), Word(1.0, 3.0, " " + url), Word(3.0, 3.5, " now")]
    cues = make_cues(words)
    check_invariants(cues, words)
    lines = [line for c in cues for line in c.lines]
    assert max(map(len, lines)) == 42
    assert "".join(lines).replace("see", "", 1).replace("now", "").replace(" ", "") == url


def test_unspaced_scripts_are_joined_without_spaces():
    words = [Word(0.0, 0.4, "今日は"), Word(0.4, 0.8, "いい"), Word(0.8, 1.2, "天気です。")]
    cues = make_cues(words)
    assert [c.text for c in cues] == ["今日はいい天気です。"]


def test_bad_limits_are_refused():
    with pytest.raises(ValueError):
        make_cues([Word(0, 1, " a")], max_chars=0)
    with pytest.raises(ValueError):
        make_cues([Word(0, 1, " a")], min_duration=8.0, max_duration=7.0)


def test_no_words_no_cues():
    assert make_cues([]) == []
    assert make_cues([Word(0.0, 1.0, "  "), Word(1.0, 2.0, "")]) == []


# --------------------------------------------------------------------------- readability


def test_realistic_talk_reads_well():
    words = talk_words()
    cues = make_cues(words)
    check_invariants(cues, words)
    stats = caption_stats(cues)
    assert stats.cues == len(cues) >= 20
    assert stats.over_speed <= 0.05 * stats.cues, stats
    assert stats.lines_over_limit == 0
    for cue in cues:
        for line in cue.lines[:-1] + cue.lines[-1:]:
            last = line.split()[-1].lower()
            assert last not in {"the", "a", "an", "my", "our", "your"}, f"line ends on an article: {cue.lines}"
        assert cue.end - cue.start <= 7.0 + 1e-9
    # Names stay on one line.
    text_lines = [line for c in cues for line in c.lines]
    for first, last in [("Maria", "Lopez"), ("Ahmed", "Khan")]:
        assert any(f"{first} {last}" in line for line in text_lines), (first, last)
    # Most cues end where a sentence or clause ends.
    ends = sum(bool(re.search(r"[.,?!:]$", c.lines[-1])) for c in cues)
    assert ends >= 0.7 * len(cues), [c.lines[-1] for c in cues]
    # Two-line cues are not top-heavy by much: the longer line is within 2x the shorter.
    for cue in cues:
        if len(cue.lines) == 2:
            a, b = map(len, cue.lines)
            assert min(a, b) * 2.2 >= max(a, b) or max(a, b) < 30, cue.lines


@pytest.mark.parametrize(
    "sentence",
    [
        "Please welcome our keynote speaker this morning, the computing pioneer Grace Hopper from the navy.",
        "We are joined today by our guest presenter and good friend Dr. Katherine Johnson from NASA Langley.",
        "In this module we compare the approaches taken by Alan Turing and John von Neumann in detail.",
    ],
)
def test_names_and_articles_stay_with_the_next_word(sentence):
    words = talk_words(sentence)
    lines = [line for c in make_cues(words) for line in c.lines]
    for line in lines:
        last = line.split()[-1]
        assert last not in {"Grace", "Katherine", "Dr.", "Alan", "John", "the", "a", "our"}, lines


def test_short_cues_stay_on_screen_long_enough():
    words = talk_words()
    cues = make_cues(words)
    short = [c for c in cues if c.end - c.start < 5 / 6]
    assert not short, short


def test_a_long_pause_ends_a_cue():
    words = [Word(0.0, 0.3, " Thank"), Word(0.3, 0.6, " you."), Word(2.5, 2.8, " Any"), Word(2.8, 3.3, " questions?")]
    cues = make_cues(words)
    assert [c.text for c in cues] == ["Thank you.", "Any questions?"]
    # The first cue stays up for the minimum duration; it does not reach into the next.
    assert cues[0].end == pytest.approx(5 / 6, abs=1e-3)
    assert cues[1].start == 2.5


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 4), st.floats(0, 1.5), st.sampled_from(["the", "cat", "sat.", "on", "mat,"])), min_size=1, max_size=40))
def test_no_cue_spans_a_pause_longer_than_the_limit(spec):
    t = 0.0
    words = []
    for gap, length, text in spec:
        t += gap
        words.append(Word(t, t + length, " " + text))
        t += length
    cues = make_cues(words)
    for held in cue_words(cues, words):
        for a, b in zip(held, held[1:]):
            assert words[b].start - words[a].end <= 1.5 + 1e-9


def test_fast_speech_extends_into_following_silence():
    # 60 characters said in 1.5 s (40 cps), then 5 s of silence: the cue stays up to be read.
    text = "Everything you need is on the course page under week three."
    toks = text.split()
    words = [Word(i * 1.5 / len(toks), (i + 1) * 1.5 / len(toks), " " + w) for i, w in enumerate(toks)]
    words.append(Word(6.5, 7.0, " Next."))
    cues = make_cues(words)
    assert cues[0].text.replace("\n", " ") == text
    assert len(text) / (cues[0].end - cues[0].start) <= 20.0
    assert cues[0].end <= cues[1].start


def test_cutting_an_hour_of_speech_is_fast():
    words = []
    base = talk_words()
    span = base[-1].end + 3.0
    for k in range(10_000 // len(base) + 1):
        words.extend(Word(w.start + k * span, w.end + k * span, w.word) for w in base)
    words = words[:10_000]
    began = time.perf_counter()
    cues = make_cues(words)
    took = time.perf_counter() - began
    check_invariants(cues, words)
    # About 0.15 s on one core; the bound leaves room for a busy CI machine.
    assert took < 3.0, f"{took:.2f} s for 10,000 words"


def test_caption_stats_counts_fast_and_long_lines():
    cues = [
        Cue(0.0, 1.0, ("x" * 30,)),  # 30 cps
        Cue(1.0, 4.0, ("short",)),
        Cue(4.0, 12.0, ("y" * 50,)),  # line too long, cue too long
    ]
    stats = caption_stats(cues)
    assert isinstance(stats, CaptionStats)
    assert (stats.cues, stats.over_speed, stats.lines_over_limit, stats.too_long) == (3, 1, 1, 1)
    assert stats.max_cps == 30.0
    assert str(stats) == "1 of 3 cues faster than 20 cps"
    assert caption_stats([]).max_cps == 0.0


# --------------------------------------------------------------------------- slicing


def test_slice_cues_clips_and_shifts():
    cues = [Cue(1.0, 3.0, ("a",)), Cue(3.0, 6.0, ("b",)), Cue(8.0, 9.5, ("c",)), Cue(10.0, 12.0, ("d",))]
    clip = slice_cues(cues, 4.0, 10.0)
    assert clip == [Cue(0.0, 2.0, ("b",)), Cue(4.0, 5.5, ("c",))]
    assert slice_cues(cues, 0.0, 100.0)[0] == cues[0]
    assert slice_cues(cues, 6.0, 8.0) == []  # [start, end): touching cues are outside
    assert slice_cues(cues, 2.0, 2.5) == [Cue(0.0, 0.5, ("a",))]
    # A clip cut 40 ms before a cue ends does not open on a flash of it.
    assert slice_cues(cues, 5.96, 10.0) == [Cue(2.04, 3.54, ("c",))]


def test_no_cue_runs_across_a_chapter_start():
    # Without the break the cue holding "lucky for us," stays up into the next
    # chapter, or the two chapters' words share a cue.
    text = "which is lucky for us, Now comes another application of it"
    words = [Word(5.0 + i * 0.4, 5.0 + i * 0.4 + 0.35, " " + t) for i, t in enumerate(text.split())]
    words = [w if i < 5 else Word(w.start + 0.6, w.end + 0.6, w.word) for i, w in enumerate(words)]
    chapter = round(words[5].start - 0.2, 3)  # 0.6 s pause before "Now", the chapter starts in it
    whole = make_cues(words)
    assert any(c.start < chapter < c.end for c in whole)  # what the break prevents
    cues = make_cues(words, breaks=[chapter])
    check_invariants(cues, words)
    assert not any(c.start < chapter < c.end for c in cues)
    before = [c for c in cues if c.start < chapter]
    assert before and before[-1].text.endswith("lucky for us,") and before[-1].end <= chapter
    assert cues[len(before)].text.startswith("Now comes")
    assert slice_cues(cues, chapter, 20.0)[0].text.startswith("Now comes")


def test_tokens_whisper_writes_without_a_space_stay_in_their_word():
    toks = [" It", " costs", " 2", ".5", " dollars", " or", " 1", ",000", " in", " the", " U", ".S.", " for", " 30", "%", " of", " so", "-called", " users."]
    words = [Word(i * 0.3, i * 0.3 + 0.25, t) for i, t in enumerate(toks)]
    cues = make_cues(words, max_chars=80, max_lines=1)
    assert " ".join(c.text for c in cues) == "It costs 2.5 dollars or 1,000 in the U.S. for 30% of so-called users."


@settings(max_examples=100, deadline=None)
@given(random_words(), st.floats(0, 200), st.floats(0.01, 200))
def test_sliced_cues_keep_the_invariants(words, start, length):
    cues = make_cues(words)
    clip = slice_cues(cues, start, start + length)
    prev_end = 0.0
    for c in clip:
        assert 0.0 <= c.start < c.end <= length + 1e-3
        assert c.start >= prev_end - 1e-9
        prev_end = c.end


# --------------------------------------------------------------------------- writing


SAMPLE = [
    Cue(0.0, 1.5, ("Fish & chips <3", "say \"hi\" -> bye")),
    Cue(1.5, 4.25, ("Ünïcødé 東京 🎉",)),
    Cue(59.9996, 61.0, ("rounded up",)),
    Cue(3725.123, 3727.0, ("over an hour", "two lines")),
]


def assert_same_cues(got: list[Cue], want: list[Cue]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.lines == w.lines
        assert abs(g.start - w.start) <= 0.001 and abs(g.end - w.end) <= 0.001


def test_vtt_golden():
    buf = io.StringIO()
    write_vtt(SAMPLE, buf)
    assert_golden("sample.vtt", buf.getvalue())


def test_srt_golden():
    buf = io.StringIO()
    write_srt(SAMPLE, buf)
    assert_golden("sample.srt", buf.getvalue())


def test_talk_cues_golden():
    buf = io.StringIO()
    write_vtt(make_cues(talk_words()), buf)
    assert_golden("talk.vtt", buf.getvalue())


def test_vtt_format_rules():
    buf = io.StringIO()
    write_vtt(SAMPLE + [Cue(70.0, 71.0, ("", "  ")), Cue(71.0, 72.0, ("a\n\nb --> c",))], buf)
    text = buf.getvalue()
    assert text.startswith("WEBVTT\n\n")
    blocks = text.strip("\n").split("\n\n")[1:]
    assert len(blocks) == 5  # the empty cue is left out
    for block in blocks:
        timing, *lines = block.split("\n")
        assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}", timing)
        assert lines and all(line.strip() for line in lines)
        assert all("-->" not in line for line in lines)
    assert "Fish &amp; chips &lt;3" in text and "-&gt; bye" in text
    assert "01:02:05.123 --> 01:02:07.000" in text


def test_srt_format_rules():
    buf = io.StringIO()
    write_srt(SAMPLE, buf)
    blocks = buf.getvalue().rstrip("\n").split("\n\n")
    assert [b.split("\n")[0] for b in blocks] == ["1", "2", "3", "4"]
    for block in blocks:
        assert re.fullmatch(r"\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}", block.split("\n")[1])
    assert "Fish & chips <3" in buf.getvalue()  # SRT has no escapes


def test_srt_never_writes_1000_milliseconds():
    assert format_timestamp(59.9996, ",") == "00:01:00,000"
    assert format_timestamp(59.9994, ",") == "00:00:59,999"
    assert format_timestamp(3599.9995) == "01:00:00.000"
    assert format_timestamp(0.0005) == "00:00:00.001"
    assert format_timestamp(-0.2) == "00:00:00.000"
    buf = io.StringIO()
    write_srt([Cue(59.9996, 61.0, ("x",))], buf)
    assert "00:01:00,000 --> 00:01:01,000" in buf.getvalue()


@given(st.floats(0, 400_000, allow_nan=False))
def test_timestamps_are_well_formed_and_close(seconds):
    stamp = format_timestamp(seconds, ",")
    m = re.fullmatch(r"(\d{2,}):([0-5]\d):([0-5]\d),(\d{3})", stamp)
    assert m
    h, mi, s, ms = map(int, m.groups())
    assert abs(h * 3600 + mi * 60 + s + ms / 1000 - seconds) <= 0.0005 + 1e-9


def test_round_trip_with_special_text():
    for write, read in [(write_vtt, read_vtt), (write_srt, read_srt)]:
        buf = io.StringIO()
        write(SAMPLE, buf)
        back = read(io.StringIO(buf.getvalue()))
        want = SAMPLE if write is write_vtt else [
            Cue(c.start, c.end, tuple(line.replace("-->", "->") for line in c.lines)) for c in SAMPLE
        ]
        assert_same_cues(back, want)


def test_zero_length_cue_is_written_one_millisecond_long():
    buf = io.StringIO()
    write_vtt([Cue(2.0, 2.0, ("x",))], buf)
    assert "00:00:02.000 --> 00:00:02.001" in buf.getvalue()


# --------------------------------------------------------------------------- reading meeting exports

ZOOM_VTT = (
    "\ufeffWEBVTT\r\n\r\n"
    "1\r\n00:00:01.340 --> 00:00:04.120\r\nAlice Chen: Okay, let's get started. Can everyone see my screen?\r\n\r\n"
    "2\r\n00:00:04.500 --> 00:00:06.010\r\nBob O'Neil: Yes, it's up.\r\n\r\n"
    "3\r\n00:00:06.200 --> 00:00:09.800\r\nAlice Chen: Great. Today: budgets & planning for Q3.\r\n\r\n"
    "4\r\n00:01:02.000 --> 01:00:03.500\r\nAlice Chen: That's all.\r\n"
)

TEAMS_VTT = """WEBVTT

NOTE
This transcript was generated automatically.

STYLE
::cue { color: yellow }

2b5c0a7e-0d1f-4b7e-9a51-2c6f3e1b8f00/12-0
00:00:00.000 --> 00:00:03.250 align:start position:10%
<v Jane Doe>Good morning, everyone.</v>

2b5c0a7e-0d1f-4b7e-9a51-2c6f3e1b8f00/15-0
00:00:03.250 --> 00:00:07.900
<v Jane Doe>We&apos;ll cover two topics &amp; then take
questions.</v>

2b5c0a7e-0d1f-4b7e-9a51-2c6f3e1b8f00/18-0
00:08.100 --> 00:10.000
<v.loud Sam Lee (Guest)>Can you hear me?</v>
"""


def test_zoom_vtt():
    parsed = parse_vtt(io.StringIO(ZOOM_VTT))
    assert [p.speaker for p in parsed] == ["Alice Chen", "Bob O'Neil", "Alice Chen", "Alice Chen"]
    assert parsed[0].cue == Cue(1.34, 4.12, ("Okay, let's get started. Can everyone see my screen?",))
    assert parsed[2].cue.lines == ("Great. Today: budgets & planning for Q3.",)
    assert parsed[3].cue.end == 3603.5
    assert read_vtt(ZOOM_VTT)[1].lines == ("Yes, it's up.",)


def test_teams_vtt():
    parsed = parse_vtt(TEAMS_VTT)
    assert len(parsed) == 3
    assert parsed[0].speaker == "Jane Doe"
    assert parsed[0].cue == Cue(0.0, 3.25, ("Good morning, everyone.",))
    assert parsed[1].cue.lines == ("We'll cover two topics & then take", "questions.")
    assert parsed[2].speaker == "Sam Lee (Guest)"
    assert (parsed[2].cue.start, parsed[2].cue.end) == (8.1, 10.0)  # no hours


def test_colon_in_ordinary_captions_is_not_a_speaker():
    text = "WEBVTT\n\n00:00.000 --> 00:02.000\nStep one: open the file.\n\n00:02.000 --> 00:04.000\nThen save it.\n\n00:04.000 --> 00:06.000\nDone.\n"
    assert [c.text for c in read_vtt(text)] == ["Step one: open the file.", "Then save it.", "Done."]


def test_vtt_without_header_or_cues_is_refused():
    with pytest.raises(RecastError):
        read_vtt("just some text\nnothing else\n")


def test_messy_srt():
    text = (
        "\ufeff1\r\n00:00:01,000 --> 00:00:02,500 X1:100 X2:200 Y1:10 Y2:20\r\n<i>Hello</i> there\r\n\r\n"
        "7\r\n00:00:03.000 --> 00:00:04,000\r\n{\\an8}Top line\r\n\r\nstray continuation\r\n\r\n\r\n"
        "3\r\n00:00:05,000 --> 00:00:06,000\r\nMaria Lopez: 42\r\n"
    )
    parsed = parse_srt(text)
    assert [p.cue.lines for p in parsed] == [("Hello there",), ("Top line", "stray continuation"), ("Maria Lopez: 42",)]
    assert parsed[1].cue.start == 3.0
    assert parsed[2].speaker is None  # one prefixed cue in three: text, not a speaker
    with pytest.raises(RecastError):
        read_srt("not subtitles at all")
    assert read_srt("") == []
