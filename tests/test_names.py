"""Titles and dates from the names meeting tools and recorders give their files."""

from __future__ import annotations

from pathlib import Path

import pytest

from recast.names import NameFacts, companion_of, name_facts

ZOOM = "Zoom/2024-03-05 10.00.12 Weekly Training 85012345678"


@pytest.mark.parametrize(
    "path, facts",
    [
        # Zoom, local: the file names say nothing, the folder says it all
        (f"{ZOOM}/video98796876.mp4", NameFacts("Weekly Training", "2024-03-05")),
        (f"{ZOOM}/audio98796876.m4a", NameFacts("Weekly Training", "2024-03-05")),
        ("Zoom/2021-01-02 09.30.00 Pricing Q&A/zoom_0.mp4", NameFacts("Pricing Q&A", "2021-01-02")),
        ("Downloads/video98796876.mp4", NameFacts("Video98796876")),  # no Zoom folder: the name as it is
        # Zoom, cloud: the start in UTC
        ("GMT20240305-100012_Recording_1920x1080.mp4", NameFacts("Zoom meeting, 5 March 2024, 10:00 UTC", "2024-03-05")),
        # Teams
        ("Weekly sync-20240305_100012-Meeting Recording.mp4", NameFacts("Weekly sync", "2024-03-05")),
        # recorders' time stamps
        ("2024-03-05 10-00-12.mkv", NameFacts("Recording of 5 March 2024, 10:00", "2024-03-05")),
        ("VID_20240305_100012.mp4", NameFacts("Recording of 5 March 2024, 10:00", "2024-03-05")),
        ("Screen Recording 2024-03-05 at 10.00.12 PM.mov", NameFacts("Screen Recording of 5 March 2024, 22:00", "2024-03-05")),
        # people's names: made readable, a date in them kept whole
        ("lecture_04-intro.mp4", NameFacts("Lecture 04 intro")),
        ("Lecture 2024-03-05.mp4", NameFacts("Lecture 2024-03-05", "2024-03-05")),
        ("2024-13-45 notes.mp4", NameFacts("2024-13-45 notes")),  # not a date
        ("2999-01-01 10-00-00.mp4", NameFacts("2999-01-01 10 00 00")),  # not yet
        # yt-dlp: "<title> [<id>]", with the characters file systems refuse put back
        ("Webinar： Budgets ⧸ Q&A ｜ Part 2 [dQw4w9WgXcQ].webm", NameFacts("Webinar: Budgets / Q&A | Part 2")),
        ("Week 3 - Recursion [76979871].mp4", NameFacts("Week 3 - Recursion")),  # Vimeo
        ("Lecture notes [Transcribed].mp4", NameFacts("Lecture notes [Transcribed]")),  # a word, not an ID
        ("Lecture notes [recordings2].mp4", NameFacts("Lecture notes [recordings2]")),  # 11 characters, a word
    ],
)
def test_name_facts(path, facts):
    assert name_facts(Path(path)) == facts


def test_zoom_sound_copies_are_told_from_recordings():
    names = {"video98796876.mp4", "audio98796876.m4a", "audioJohnSmith98796876.m4a", "playback98796876.m3u", "chat.txt"}
    assert {n: companion_of(Path(n), names) for n in sorted(names)} == {
        "audio98796876.m4a": "video98796876.mp4",
        "audioJohnSmith98796876.m4a": "video98796876.mp4",
        "chat.txt": None,
        "playback98796876.m3u": None,
        "video98796876.mp4": None,
    }
    # a sound file with no video of its meeting beside it is a recording of its own
    assert companion_of(Path("audio98796876.m4a"), {"audio98796876.m4a", "video11111111.mp4"}) is None
    assert companion_of(Path("audio_only.m4a"), {"audio_only.m4a", "zoom_0.mp4"}) == "zoom_0.mp4"
    cloud = {"GMT20240305-100012_Recording_1920x1080.mp4", "GMT20240305-100012_Recording.m4a",
             "GMT20240306-090000_Recording.m4a"}
    assert companion_of(Path("GMT20240305-100012_Recording.m4a"), cloud) == "GMT20240305-100012_Recording_1920x1080.mp4"
    assert companion_of(Path("GMT20240306-090000_Recording.m4a"), cloud) is None


def test_a_youtube_download_takes_its_title_and_date_from_the_info_json_beside_it(tmp_path):
    # yt-dlp cuts long titles and swaps characters in file names; --write-info-json
    # keeps the video's own title and its upload date
    video = tmp_path / "Week 3： Recursion, trees & the call stack ｜ CS101 [dQw4w9WgXcQ].webm"
    assert name_facts(video) == NameFacts("Week 3: Recursion, trees & the call stack | CS101")
    video.with_name(video.stem + ".info.json").write_text(
        '{"title": "Week 3: Recursion, trees & the call stack | CS101 (full lecture)", "upload_date": "20240305"}')
    assert name_facts(video) == NameFacts("Week 3: Recursion, trees & the call stack | CS101 (full lecture)", "2024-03-05")
    video.with_name(video.stem + ".info.json").write_text("{not json")
    assert name_facts(video).title == "Week 3: Recursion, trees & the call stack | CS101"


def test_the_transcript_beside_a_recording(tmp_path):
    from recast.names import transcript_beside

    def touch(*names: str) -> None:
        for name in names:
            (tmp_path / name).write_text("x")

    talk = tmp_path / "talk.mp4"
    touch("talk.mp4", "talk.info.json", "talk.txt", "other.vtt")
    assert transcript_beside(talk) is None
    touch("talk.en-orig.vtt", "talk.de.srt")
    assert transcript_beside(talk).name == "talk.en-orig.vtt"
    touch("talk.en.srt", "talk.en.vtt")
    assert transcript_beside(talk).name == "talk.en.vtt"  # no variant first, WebVTT before SRT
    assert transcript_beside(talk, "de").name == "talk.de.srt"  # the language asked for
    touch("talk.srt")
    assert transcript_beside(talk).name == "talk.srt"  # a file of its own name before all
    zoom = tmp_path / "GMT20240305-100012_Recording_1920x1080.mp4"
    touch(zoom.name, "GMT20240305-100012_Recording.cc.vtt")
    assert transcript_beside(zoom) is None  # Zoom's live captions are not its transcript
    touch("GMT20240305-100012_Recording.transcript.vtt")
    assert transcript_beside(zoom).name == "GMT20240305-100012_Recording.transcript.vtt"
