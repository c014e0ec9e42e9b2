"""Chapters a person marked: chapter lists (`--chapters FILE`) and the recording's own marks."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest

from recast import markers
from recast.chapter_import import chapter_marks, read_chapter_file, recording_marks
from recast.chapters import given_spans
from recast.errors import ConfigError
from recast.models import Chapter, ChapterMarks, GivenChapter, MediaInfo
from tests.test_chapters import concat, make_transcript

CHAPTERS = [
    Chapter(1, 4.3, 42.8, "Photosynthesis: how plants make food"),
    Chapter(2, 42.8, 76.6, "Volcanoes = plate tectonics; #1 \\ rock"),  # FFMETADATA's escapes
    Chapter(3, 76.6, 106.8, "Baking sourdough bread"),
    Chapter(4, 106.8, 141.3, "Planning a monthly budget"),
]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _text(writer, *args, **kw) -> str:
    fp = io.StringIO()
    writer(CHAPTERS, fp, *args, **kw)
    return fp.getvalue()


def test_every_chapter_file_recast_writes_comes_back_as_written(tmp_path):
    # A trainer corrects chapters by editing what recast wrote and running it again.
    files = {
        "chapters.vtt": _text(markers.write_vtt_chapters),
        "chapters.ffmetadata": _text(markers.write_ffmetadata, title="Week 3"),
        "chapters.json": json.dumps(markers.podcast_chapters(CHAPTERS)),
        "youtube-chapters.txt": markers.youtube_chapters(CHAPTERS)[0],
    }
    for name, text in files.items():
        marks = read_chapter_file(_write(tmp_path, name, text))
        titles = [m.title for m in marks]
        if name == "youtube-chapters.txt":  # YouTube needs 0:00 first, and whole seconds
            assert titles == [c.title for c in CHAPTERS]
            assert [m.start for m in marks] == [0, 42, 76, 106]
            continue
        assert titles == [c.title for c in CHAPTERS], name
        assert [m.start for m in marks] == pytest.approx([c.start for c in CHAPTERS], abs=0.001), name
        if name != "chapters.json":
            assert [m.end for m in marks] == pytest.approx([c.end for c in CHAPTERS], abs=0.001), name


def test_a_youtube_description_gives_its_chapter_lines_and_nothing_else(tmp_path):
    description = """In this webinar we cover budgets. Slides: https://example.org/slides
Chapters:
0:00 Intro
(02:05) Why budgets fail
• 12:34 - The 50/30/20 rule
1:02:03.5 | Q&A
Tools we used — 1:10:00
Thanks for watching! Subscribe for more.
"""
    marks = read_chapter_file(_write(tmp_path, "desc.txt", description))
    assert [(m.start, m.title) for m in marks] == [
        (0, "Intro"), (125, "Why budgets fail"), (754, "The 50/30/20 rule"), (3723.5, "Q&A"), (4200, "Tools we used")]
    assert all(m.end is None for m in marks)


def test_yt_dlp_info_json_audacity_labels_and_untitled_marks(tmp_path):
    info = {"title": "Webinar", "chapters": [{"start_time": 0.0, "end_time": 61.0, "title": "<Untitled Chapter 1>"},
                                              {"start_time": 61.0, "end_time": 300.0, "title": "Budgets"}]}
    marks = read_chapter_file(_write(tmp_path, "Webinar [abc].info.json", json.dumps(info)))
    # yt-dlp's name for a chapter YouTube shows untitled is no title
    assert [(m.start, m.end, m.title) for m in marks] == [(0, 61, ""), (61, 300, "Budgets")]
    labels = "0.000000\t0.000000\tChapter 1\n95.250000\t95.250000\tRocks\n"
    marks = read_chapter_file(_write(tmp_path, "labels.txt", labels))
    # "Chapter 1" says nothing: the chapter keeps its mark but gets recast's own title
    assert [(m.start, m.end, m.title) for m in marks] == [(0, None, ""), (95.25, None, "Rocks")]
    podcast = {"version": "1.2.0", "chapters": [{"startTime": 0, "title": "A"}, {"startTime": 5, "title": "ad", "toc": False},
                                                {"startTime": 30, "title": "B"}]}
    assert [m.title for m in read_chapter_file(_write(tmp_path, "p.json", json.dumps(podcast)))] == ["A", "B"]


@pytest.mark.parametrize("text, message", [
    ("Thanks for watching!\n", "no chapters found"),
    ("0:00 A\n0:00 B\n", "two chapters start at 0:00"),
    ("0:00 A\n9:00 B\n", "chapter 2 ('B') starts at 9:00, after the recording ends (2:24)"),
    ('{"chapters": [{"title": "x"}]}', "a chapter without a start time"),
    ("{oops", "not valid JSON"),
    (";FFMETADATA1\n[CHAPTER]\nSTART=x\nEND=5\n", "without a readable START"),
])
def test_a_bad_chapter_list_is_one_line_naming_it(tmp_path, text, message):
    path = _write(tmp_path, "chapters.txt", text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")) as e:
        read_chapter_file(path, duration=144.9)
    assert e.value.path == path and "\n" not in str(e.value)
    with pytest.raises(ConfigError, match="no such chapter file"):
        read_chapter_file(tmp_path / "missing.txt")
    video = tmp_path / "talk.mp4"  # the recording given by mistake is not read into memory
    with video.open("wb") as f:
        f.truncate(50_000_000)
    with pytest.raises(ConfigError, match="50 MB: too big for a chapter list"):
        read_chapter_file(video)


def _media(chapters: tuple[GivenChapter, ...], path: Path = Path("x.mp4")) -> MediaInfo:
    return MediaInfo(path, 1, "mp4", 600.0, 0.0, (), chapters=chapters)


def test_the_recordings_own_marks_are_used_unless_a_camera_or_dvd_set_them():
    dvd = tuple(GivenChapter(t, t + 300, f"Chapter {n:02d}") for n, t in enumerate(range(0, 1800, 300), 1))
    assert recording_marks(_media(dvd)) is None  # every 5 minutes, untitled: an authoring tool's
    hotkey = (GivenChapter(0, 95, "Chapter 1"), GivenChapter(95, 410, "Chapter 2"), GivenChapter(410, 600, "Chapter 3"))
    marks = recording_marks(_media(hotkey))  # OBS's chapter hotkey: where the presenter pressed it
    assert [m.start for m in marks.marks] == [0, 95, 410] and {m.title for m in marks.marks} == {""}
    titled = (GivenChapter(0, 300, "Welcome"), GivenChapter(300, 600, "Budgets"))
    assert [m.title for m in recording_marks(_media(titled)).marks] == ["Welcome", "Budgets"]
    assert recording_marks(_media(titled[:1])) is None  # one chapter over everything says nothing
    pressed_once = recording_marks(_media((GivenChapter(240, 600, "Exercise"),)))  # the hotkey at 4:00, once
    assert [(m.start, m.title) for m in pressed_once.marks] == [(0, ""), (240, "Exercise")]
    assert chapter_marks(_media(titled), "detect") is None
    assert chapter_marks(_media(titled), "auto").source == "the recording's chapter marks"


def test_a_youtube_videos_chapters_come_from_the_info_json_beside_it(tmp_path):
    video = tmp_path / "Webinar [dQw4w9WgXcQ].webm"  # yt-dlp --write-info-json
    info = tmp_path / "Webinar [dQw4w9WgXcQ].info.json"
    info.write_text(json.dumps({"id": "dQw4w9WgXcQ", "chapters": [
        {"start_time": 0.0, "end_time": 95.0, "title": "Intro"}, {"start_time": 95.0, "end_time": 600.0, "title": "Budgets"}]}))
    marks = chapter_marks(_media((), video), "auto")
    assert marks.source == info.name and [m.title for m in marks.marks] == ["Intro", "Budgets"]
    assert chapter_marks(_media((), video), "detect") is None
    info.write_text(json.dumps({"id": "dQw4w9WgXcQ", "chapters": None}))  # a video without chapters
    assert chapter_marks(_media((), video), "auto") is None


def _lines(topic: str) -> list[str]:
    return [f"Point number {k} of this part is about {topic} and their long history." for k in range(6)]


def test_given_marks_move_to_the_pause_and_leave_out_the_waiting_and_the_break():
    # 20 s of waiting; part A; a 60 s break; part B. A YouTube list's whole seconds
    # fall inside words; its 0:00 and a "Break" entry are no chapters.
    a = make_transcript(_lines("rivers"), start=20.0)
    b = make_transcript(_lines("mountains"), start=a.duration + 60.0)
    tr = concat(a, b)
    b_start = b.segments[0].start
    a_third = a.segments[3].words[0].start
    listing = (GivenChapter(0, None, "Welcome"), GivenChapter(int(a_third) - 1, None, "Second half of A"),
               GivenChapter(int(a.segments[-1].end) + 2, None, "Break"), GivenChapter(int(b_start), None, "Part B"))
    spans = given_spans(tr, None, ChapterMarks(listing, "list.txt"))
    assert spans.titles == ("Welcome", "Second half of A", "Part B")  # the break had no words
    (s1, e1), (s2, e2), (s3, e3) = spans.spans
    assert abs(s1 - (a.segments[0].start - 0.4)) < 0.01  # the talk's start, not 0:00
    assert a.segments[2].end <= s2 <= a_third  # in the pause before the sentence, not in a word
    assert e2 <= b_start and abs(s3 - (b_start - 0.4)) < 0.01
    assert spans.given == "list.txt"


def test_a_list_edited_by_the_trainer_gives_its_chapters_and_titles(built_sample, sample, tmp_path):
    import recast

    folder = built_sample.folder
    found = json.loads((folder / "session.json").read_text())["chapters"]
    listing = (folder / "youtube-chapters.txt").read_text()
    again = recast.process(sample, tmp_path / "a", recast.Options(chapters=str(_write(tmp_path, "yt.txt", listing)),
                                                                  clips="none"))
    back = json.loads((again.folder / "session.json").read_text())
    assert back["chapters_from"] == "yt.txt"
    assert [(c["start"], c["end"], c["title"]) for c in back["chapters"]] == [
        (c["start"], c["end"], c["title"]) for c in found]  # the same chapters, to the hundredth
    assert {c["title_source"] for c in back["chapters"]} == {"given"}
    from_json = read_chapter_file(folder / "session.json")  # recast's own session.json is a chapter list too
    assert [(m.start, m.title) for m in from_json] == [(c["start"], c["title"]) for c in found]
    # the second and third chapters made one, the first renamed
    lines = listing.splitlines()
    edited = [lines[0].split(" ", 1)[0] + " Plants", lines[1], lines[3]]
    result = recast.process(sample, tmp_path / "b", recast.Options(chapters=str(_write(tmp_path, "e.txt", "\n".join(edited))),
                                                                   clips="none"))
    chapters = json.loads((result.folder / "session.json").read_text())["chapters"]
    assert [c["title"] for c in chapters] == ["Plants", found[1]["title"], found[3]["title"]]
    assert [c["start"] for c in chapters] == [found[0]["start"], found[1]["start"], found[3]["start"]]
    assert chapters[1]["end"] == found[2]["end"]


def test_chapter_marks_inside_the_recording_are_its_chapters(built_sample, sample, tmp_path):
    import recast
    from recast.ffmpeg import ffmpeg_exe

    found = json.loads((built_sample.folder / "session.json").read_text())["chapters"]
    meta = _write(tmp_path, "m.txt", ";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=76000\ntitle=Chapter 1\n"
                                     "[CHAPTER]\nTIMEBASE=1/1000\nSTART=76000\nEND=144000\ntitle=Bread and money\n")
    marked = tmp_path / "camtasia.mp4"
    subprocess.run([ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(sample), "-i", str(meta), "-map_metadata", "1",
                    "-map_chapters", "1", "-c", "copy", str(marked)], check=True)
    result = recast.process(marked, tmp_path / "a", recast.Options(clips="none"))
    data = json.loads((result.folder / "session.json").read_text())
    assert data["chapters_from"] == "the recording's chapter marks"
    chapters = data["chapters"]
    assert [c["start"] for c in chapters] == [found[0]["start"], found[2]["start"]]
    assert chapters[1]["title"] == "Bread and money" and chapters[1]["title_source"] == "given"
    assert chapters[0]["title_source"] != "given" and chapters[0]["title"] != "Chapter 1"  # recast's own title
    detected = recast.process(marked, tmp_path / "b", recast.Options(clips="none", chapters="detect"))
    data = json.loads((detected.folder / "session.json").read_text())
    assert data["chapters_from"] == "recast" and len(data["chapters"]) == len(found)


def test_a_silent_screen_demo_keeps_every_given_chapter():
    # Nothing is said: no talk to trim to, and no chapter is left out for its silence.
    from recast.models import Transcript

    silent = Transcript((), "en", duration=300.0)
    marks = (GivenChapter(0, None, "Setup"), GivenChapter(100, None, "Build"), GivenChapter(250, None, "Deploy"))
    spans = given_spans(silent, None, ChapterMarks(marks, "demo.txt"))
    assert spans.spans == ((0, 100), (100, 250), (250, 300.0)) and spans.titles == ("Setup", "Build", "Deploy")
