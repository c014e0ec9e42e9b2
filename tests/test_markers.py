"""Chapter-marker writers. Golden files: tests/golden/; regenerate with `python tests/regen_golden.py`."""

from __future__ import annotations

import io
import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from recast.captions import read_vtt
from recast.markers import (
    podcast_chapters,
    write_ffmetadata,
    write_podcast_chapters,
    write_vtt_chapters,
    youtube_chapters,
)
from recast.models import Chapter

from tests.golden_files import assert_golden


# A webinar whose talk starts after 47.5 s of waiting and runs past an hour.
CHAPTERS = (
    Chapter(1, 47.5, 412.25, "Why captions matter"),
    Chapter(2, 412.25, 1390.0, "Reading speed & line length <the rules>"),
    Chapter(3, 1390.0, 2701.8, "Case study: Ahmed Khan's chemistry lecture"),
    Chapter(4, 2701.8, 3720.0, "Questions; answers = #1 priority\\next"),
)


def test_vtt_chapters_golden():
    buf = io.StringIO()
    write_vtt_chapters(CHAPTERS, buf)
    assert_golden("chapters.vtt", buf.getvalue())


def test_youtube_golden():
    text, problems = youtube_chapters(CHAPTERS)
    assert problems == []
    assert_golden("youtube.txt", text)


def test_podcast_golden():
    buf = io.StringIO()
    write_podcast_chapters(CHAPTERS, buf, img={1: "https://example.org/ch1.jpg"})
    assert_golden("chapters.json", buf.getvalue())


def test_ffmetadata_golden():
    buf = io.StringIO()
    write_ffmetadata(CHAPTERS, buf, title="Accessible video = better; #captions")
    assert_golden("ffmetadata.txt", buf.getvalue())


def test_vtt_chapters_read_back_with_titles_and_offset():
    buf = io.StringIO()
    write_vtt_chapters(CHAPTERS, buf, offset=47.5)
    cues = read_vtt(buf.getvalue(), speakers=False)
    assert [c.text for c in cues] == [ch.title for ch in CHAPTERS]
    assert cues[0].start == 0.0 and cues[0].end == 364.75
    assert cues[-1].end == 3672.5
    assert "&lt;the rules&gt;" in buf.getvalue() and "&amp;" in buf.getvalue()


def test_offset_drops_chapters_before_it_and_clamps_the_straddler():
    buf = io.StringIO()
    write_vtt_chapters(CHAPTERS, buf, offset=500.0)
    cues = read_vtt(buf.getvalue(), speakers=False)
    assert [c.text for c in cues] == [ch.title for ch in CHAPTERS[1:]]
    assert cues[0].start == 0.0 and cues[0].end == 890.0


def test_youtube_lead_in_and_formats():
    text, problems = youtube_chapters(CHAPTERS)
    lines = text.splitlines()
    assert lines[0] == "0:00 Welcome"
    assert lines[1] == "0:47 Why captions matter"  # rounded down: the link never skips words
    assert lines[-1].startswith("45:01 ")
    long = (Chapter(1, 0, 100, "A"), Chapter(2, 100, 3600, "B"), Chapter(3, 3600, 3725, "C"))
    assert youtube_chapters(long)[0] == "0:00 A\n1:40 B\n1:00:00 C\n"


def test_youtube_short_lead_in_moves_the_first_chapter_to_zero():
    chapters = (Chapter(1, 6.0, 100.0, "Intro"), Chapter(2, 100.0, 200.0, "Middle"), Chapter(3, 200.0, 300.0, "End"))
    text, problems = youtube_chapters(chapters)
    assert text.splitlines()[0] == "0:00 Intro" and problems == []
    text, _ = youtube_chapters((Chapter(1, 60.0, 100.0, "Intro"), *chapters[1:]), lead_in=None)
    assert text.splitlines()[0] == "0:00 Intro"


def test_youtube_reports_what_breaks_its_rules():
    text, problems = youtube_chapters((Chapter(1, 0, 50, "Only"), Chapter(2, 50, 55, "Tiny")))
    assert text == "0:00 Only\n0:50 Tiny\n"
    assert any("at least 3" in p for p in problems)
    assert any("'Tiny'" in p and "10 s" in p for p in problems)
    assert youtube_chapters(()) == ("", ["there are no chapters"])
    # Two chapters that start in the same second cannot both be links.
    _, problems = youtube_chapters((Chapter(1, 0, 30, "A"), Chapter(2, 30.2, 30.9, "B"), Chapter(3, 30.9, 90, "C")))
    assert any("does not start after" in p for p in problems)


def test_a_break_between_chapters_is_its_own_youtube_entry():
    # recast leaves a break out of both chapters around it; on YouTube a chapter runs
    # until the next, so the break is named rather than added to the chapter before
    chapters = (Chapter(1, 4.3, 76.8, "Magma"), Chapter(2, 256.3, 290.0, "Flour"), Chapter(3, 290.0, 321.3, "Budget"),
                Chapter(4, 326.0, 400.0, "Questions"))
    text, problems = youtube_chapters(chapters)
    assert text == "0:00 Magma\n1:17 Break\n4:16 Flour\n4:50 Budget\n5:26 Questions\n", text
    assert problems == []


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0.5, 400), min_size=1, max_size=15), st.floats(0, 120))
def test_youtube_text_follows_the_rules_when_no_problem_is_reported(lengths, lead):
    chapters, t = [], lead
    for k, length in enumerate(lengths, start=1):
        chapters.append(Chapter(k, t, t + length, f"Part {k}"))
        t += length
    text, problems = youtube_chapters(chapters)
    times = []
    for line in text.splitlines():
        m = re.fullmatch(r"(?:(\d+):)?(\d+):(\d\d) Part \d+|(?:(\d+):)?(\d+):(\d\d) Welcome", line)
        assert m, line
        h, mi, s = (g for g in (m.group(1, 2, 3) if m.group(2) else m.group(4, 5, 6)))
        times.append(int(h or 0) * 3600 + int(mi) * 60 + int(s))
    assert times[0] == 0
    if not problems:
        assert len(times) >= 3
        assert all(b - a >= 10 for a, b in zip(times, times[1:]))


def test_podcast_chapters_shape():
    data = podcast_chapters(CHAPTERS, offset=47.5, img="https://example.org/cover.jpg")
    assert data["version"] == "1.2.0"
    first = data["chapters"][0]
    assert first == {"startTime": 0, "endTime": 364.75, "title": "Why captions matter", "img": "https://example.org/cover.jpg"}
    assert [c["startTime"] for c in data["chapters"]] == sorted(c["startTime"] for c in data["chapters"])
    json.dumps(data)  # serialisable as it is
    by_fn = podcast_chapters(CHAPTERS, url=lambda ch: f"https://example.org/c/{ch.index}" if ch.index > 2 else None)
    assert ["url" in c for c in by_fn["chapters"]] == [False, False, True, True]


def test_ffmetadata_rules():
    buf = io.StringIO()
    write_ffmetadata((Chapter(1, 1.0005, 2.0, "a=b;c#d\\e\nf"),), buf)
    text = buf.getvalue()
    assert text.startswith(";FFMETADATA1\n")
    assert "[CHAPTER]\nTIMEBASE=1/1000\nSTART=1001\nEND=2000\n" in text
    assert "title=a\\=b\\;c\\#d\\\\e\\\nf\n" in text


def test_overlapping_chapters_are_cut_at_the_next_start():
    chapters = (Chapter(2, 30, 90, "Second"), Chapter(1, 0, 40, "First"))
    data = podcast_chapters(chapters)
    assert [(c["title"], c["startTime"], c["endTime"]) for c in data["chapters"]] == [("First", 0, 30), ("Second", 30, 90)]
