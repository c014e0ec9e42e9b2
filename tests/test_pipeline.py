"""The orchestration: atomic publication, caching, slugs, settings precedence."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
from pathlib import Path

import pytest

import recast
from recast.config import Options, load_options
from recast.errors import ConfigError
from recast.pipeline import transcript_cache_path
from recast.publish import inside, slugify


def test_transcript_cache_key_follows_only_transcript_settings(tmp_path):
    base = Options(cache_dir=tmp_path)
    key = transcript_cache_path(base, "a" * 64)
    for change in ({"model": "base"}, {"language": "de"}, {"audio_track": 1}, {"vad": False}, {"engine": "openai-whisper"},
                   {"task": "translate"}, {"beam_size": 5}, {"vocabulary": "Agassi, Sampras"}):
        assert transcript_cache_path(base.replace(**change), "a" * 64) != key, change
    for change in ({"clips": "none"}, {"caption_chars": 37}, {"min_chapter": 45.0}, {"title": "x"}, {"force": True}):
        assert transcript_cache_path(base.replace(**change), "a" * 64) == key, change
    assert transcript_cache_path(base, "b" * 64) != key
    # words read on a video's slides steer recognition: that video and the way they are chosen are in the key
    slides = transcript_cache_path(base, "a" * 64, "c" * 64 + ":1")
    assert slides != key and slides != transcript_cache_path(base, "a" * 64, "c" * 64 + ":2")
    assert key.is_relative_to(tmp_path)


def test_an_edited_transcript_or_chapter_list_is_another_build(tmp_path):
    # A batch skips a session whose build key matches: the key held only the file's
    # path, so a corrected chapter list or transcript was taken for "already built".
    from recast.pipeline import build_key

    listing, vtt = tmp_path / "chapters.txt", tmp_path / "talk.vtt"
    listing.write_text("0:00 Intro\n1:00 Budgets\n")
    vtt.write_text("WEBVTT\n\n00:00.000 --> 00:02.000\nHello\n")
    options = Options(chapters=str(listing), transcript_file=vtt)
    first = build_key("a" * 64, options, "Talk", None)
    assert build_key("a" * 64, options, "Talk", None) == first
    listing.write_text("0:00 Intro\n1:05 Budgets\n")
    second = build_key("a" * 64, options, "Talk", None)
    vtt.write_text("WEBVTT\n\n00:00.000 --> 00:02.000\nHello there\n")
    third = build_key("a" * 64, options, "Talk", None)
    assert len({first, second, third}) == 3


@pytest.mark.parametrize(
    "title, slug",
    [("Week 3: Recursion", "week-3-recursion"), ("../../etc/passwd", "etc-passwd"), ("Café ☕ talk", "cafe-talk"),
     ("", "session"), ("🎉🎉", "session"), ("-rf /", "rf")],
)
def test_slugify(title, slug):
    assert slugify(title) == slug


def test_slug_is_bounded_in_bytes():
    assert len(slugify("ä" * 500).encode()) <= 60
    assert len(slugify("word " * 100).encode()) <= 60


def test_inside_refuses_escapes(tmp_path):
    assert inside(tmp_path, tmp_path / "a" / "b") == tmp_path / "a" / "b"
    with pytest.raises(recast.OutputError):
        inside(tmp_path, tmp_path / ".." / "elsewhere")


def test_settings_precedence(tmp_path, monkeypatch):
    toml = tmp_path / "recast.toml"
    toml.write_text('[recast]\nclips = "copy"\nmin-chapter = 45\nmodel = "small"\n')
    assert load_options({}, toml).clips == "copy"
    monkeypatch.setenv("RECAST_CLIPS", "none")
    monkeypatch.setenv("RECAST_VAD", "false")
    opts = load_options({}, toml)
    assert (opts.clips, opts.min_chapter, opts.model, opts.vad) == ("none", 45.0, "small", False)
    opts = load_options({"clips": "encode", "model": None}, toml)
    assert opts.clips == "encode" and opts.model == "small"
    toml.write_text("[recast]\nbogus = 1\n")
    with pytest.raises(ConfigError, match="bogus"):
        load_options({}, toml)


@pytest.mark.parametrize("line, message", [
    ("min-chapter = [1]", "min-chapter in the settings file: expected a number, got [1]"),
    ('min-chapter = "abc"', "min-chapter in the settings file: expected a number, got 'abc'"),
    ('vad = "maybe"', "vad in the settings file: expected true or false, got 'maybe'"),
    ("vad = 1", "vad in the settings file: expected true or false, got 1"),
    ("beam-size = 2.5", "beam-size in the settings file: expected a whole number, got 2.5"),
    ("model = 3", "model in the settings file: expected text, got 3"),
])
def test_a_bad_value_in_the_settings_file_names_the_file_and_the_key(tmp_path, monkeypatch, line, message):
    toml = tmp_path / "recast.toml"
    toml.write_text(f"[recast]\n{line}\n")
    with pytest.raises(ConfigError) as e:
        load_options({}, toml)
    assert message in str(e.value) and str(toml) in str(e.value)
    monkeypatch.setenv("RECAST_VAD", "maybe")
    with pytest.raises(ConfigError, match="RECAST_VAD: expected true or false, got 'maybe'"):
        load_options({})


def test_cache_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RECAST_CACHE_DIR", str(tmp_path / "c"))
    assert Options().cache_dir == tmp_path / "c"
    monkeypatch.delenv("RECAST_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert Options().cache_dir == tmp_path / "xdg" / "recast"


@pytest.mark.slow
@pytest.mark.parametrize("failure", [RuntimeError("boom"), KeyboardInterrupt()])
def test_failed_rebuild_leaves_no_half_session_and_keeps_the_old_one(built_sample, sample, tmp_path, monkeypatch,
                                                                      failure):
    out = tmp_path / "site"
    first = recast.process(sample, out, Options(title="Atomic", clips="none"))
    before = (first.folder / "session.json").read_bytes()
    files_before = sorted(p.relative_to(out) for p in out.rglob("*") if ".recast" not in p.name)

    import recast.thumbnails as thumbnails_module

    def explode(*a, **k):
        raise failure

    monkeypatch.setattr(thumbnails_module, "make_thumbnails", explode)
    with pytest.raises(type(failure)):
        recast.process(sample, out, Options(title="Atomic", clips="none", min_chapter=40.0))
    assert (first.folder / "session.json").read_bytes() == before
    assert sorted(p.relative_to(out) for p in out.rglob("*") if ".recast" not in p.name) == files_before
    assert not (out / ".recast-work").exists()


@pytest.mark.slow
def test_failure_in_a_new_outdir_leaves_nothing(built_sample, sample, tmp_path, monkeypatch):
    import recast.clips as clips_module

    monkeypatch.setattr(clips_module, "make_web_copy", lambda *a, **k: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    out = tmp_path / "fresh"
    with pytest.raises(recast.TransientError, match="disk is full"):
        recast.process(sample, out, Options(title="Full disk", clips="none"))
    assert not out.exists()


def test_no_room_for_the_decoded_audio_is_a_full_disk_and_leaves_nothing(sample, tmp_path, monkeypatch):
    # The audio is a mapped file: its space is taken before anything is written to
    # it, so a full disk is this error and not a crash when a page is first touched.
    import errno

    import recast.audio as audio_module

    def no_room(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(audio_module.os, "posix_fallocate", no_room)
    out = tmp_path / "full"
    with pytest.raises(recast.TransientError, match="disk is full"):
        recast.process(sample, out, Options(title="Full disk", clips="none"))
    assert not out.exists()


def test_the_video_analysis_runs_beside_the_audio_decoding_and_stops_with_a_failed_run(sample, tmp_path, monkeypatch):
    # The analysis starts before the audio is decoded, so the two share the cores;
    # when the run fails it is stopped at once rather than finished unseen.
    import threading

    import recast.audio
    import recast.video

    started, ended = threading.Event(), []
    real = recast.video.analyze_video

    def watched(*a, **k):
        started.set()
        try:
            return real(*a, **k)
        except BaseException as e:
            ended.append(type(e).__name__)
            raise

    def corrupt(media, *a, **k):
        assert started.wait(30), "the audio was decoded before the video analysis began"
        raise recast.MediaError("the audio stream is corrupt", media.path)

    monkeypatch.setattr(recast.video, "analyze_video", watched)
    monkeypatch.setattr(recast.audio, "load_audio", corrupt)
    out = tmp_path / "site"
    with pytest.raises(recast.MediaError, match="corrupt"):
        recast.process(sample, out, Options(clips="none"))
    assert ended == ["Cancelled"]
    assert not out.exists()


@pytest.mark.slow
def test_imported_transcript_skips_recognition(sample, tmp_path):
    vtt = tmp_path / "zoom.vtt"
    vtt.write_text(
        "WEBVTT\n\n1\n00:00:05.000 --> 00:00:09.000\nJoe: Welcome everyone to this short workshop on photosynthesis.\n\n"
        "2\n00:00:45.000 --> 00:00:50.000\nJoe: Now let us talk about volcanoes and magma.\n\n"
        "3\n00:01:20.000 --> 00:01:25.000\nAda: Can we bake sourdough bread with this?\n"
    )
    result = recast.process(sample, tmp_path / "site", Options(transcript_file=vtt, clips="none"))
    t = result.session.transcript
    assert [s.speaker for s in t.segments] == ["Joe", "Joe", "Ada"]
    assert "magma" in t.text
    data = json.loads((result.folder / "transcript.json").read_text())
    assert data["segments"][2]["speaker"] == "Ada"


@pytest.mark.slow
def test_youtube_automatic_captions_chapter_like_the_recognised_transcript(built_sample, sample, tmp_path, caplog):
    """A recording downloaded with `yt-dlp --write-auto-subs`, its captions given as
    the transcript: lower case, no punctuation, each line rolled up twice. The words
    were read three times over and, with no sentence ends, the recording came out as
    one chapter (audio only) or lost slide changes that fell inside the one sentence."""
    from benchmarks.youtube_captions import rolled_srt, youtube_vtt
    from tests.conftest import ffmpeg

    recognised = json.loads((built_sample.folder / "transcript.json").read_text())
    vtt = tmp_path / "Webinar [a1B2c3D4e5F].en.vtt"
    vtt.write_text(youtube_vtt(recognised))
    srt = tmp_path / "Webinar [a1B2c3D4e5F].en.srt"
    srt.write_text(rolled_srt(recognised))
    audio_only = tmp_path / "webinar.m4a"
    ffmpeg("-i", str(sample), "-vn", "-c:a", "copy", str(audio_only))
    truth = json.loads(sample.with_name("webinar.truth.json").read_text())
    starts = [c["start"] for c in truth["chapters"]]
    n_words = sum(len(s["words"]) for s in recognised["segments"])
    for media, captions in ((audio_only, vtt), (sample, vtt), (sample, srt)):
        with caplog.at_level(logging.WARNING):
            result = recast.process(media, tmp_path / f"site-{media.suffix}-{captions.suffix}", Options(transcript_file=captions, clips="none"))
        session = result.session
        assert abs(len(session.transcript.text.split()) - n_words) <= 3, captions.name  # each word once
        got = [c.start for c in session.chapters]
        assert len(got) == len(starts) and all(abs(a - b) < 3.0 for a, b in zip(got, starts)), (media.name, captions.name, got)
        assert "no punctuation" in caplog.text
        if captions is vtt:
            # the learner's question is found although no question mark was written
            assert [q.text for q in session.outline.questions] == ["Should I pay off my credit card before I start saving good question?"]


@pytest.mark.slow
def test_new_caption_limits_reuse_transcript_and_clips(built_sample, sample, tmp_path):
    out = tmp_path / "site"
    first = recast.process(sample, out, Options(title="Reuse"))
    clip0 = first.folder / first.session.clips[0].path
    inode = clip0.stat().st_ino
    again = recast.process(sample, out, Options(title="Reuse", caption_chars=32))
    assert again.transcript_reused
    assert again.folder == first.folder
    new_clip = again.folder / again.session.clips[0].path
    assert new_clip.stat().st_ino == inode, "the unchanged clip is linked, not cut again"
    cues = (again.folder / "captions.vtt").read_text().split("\n\n")[1:]
    assert all(len(line) <= 32 for cue in cues for line in cue.splitlines()[1:])
    # A setting that changes the clips cuts them again.
    third = recast.process(sample, out, Options(title="Reuse", caption_chars=32, max_height=240))
    assert (third.folder / third.session.clips[0].path).stat().st_ino != inode


def test_every_folder_of_a_session_is_readable_by_a_web_server(built_sample):
    # A web server or an LMS importer runs as another user: what the user's umask
    # lets others read, they must be able to read (the build folder was once 0700).
    mask = os.umask(0)
    os.umask(mask)
    expected = 0o777 & ~mask
    folders = [built_sample.folder, *(p for p in built_sample.folder.rglob("*") if p.is_dir())]
    assert len(folders) > 1
    for folder in folders:
        assert stat.S_IMODE(folder.stat().st_mode) == expected, folder


def test_the_decoded_audio_and_the_stills_are_not_published(built_sample):
    from recast.pipeline import SCRATCH

    published = [p.name for p in built_sample.folder.rglob("*")]
    assert SCRATCH not in published
    assert not [n for n in published if n.endswith(".f32")]  # the audio the engine read
    assert built_sample.session.transcript.segments  # the build did read it


@pytest.mark.slow
def test_the_date_shown_is_the_recording_date_or_says_it_is_the_build_date(built_sample, sample, tmp_path):
    import subprocess

    from recast.ffmpeg import ffmpeg_exe
    from recast.probe import recorded_date

    assert recorded_date({"creation_time": "2024-05-02T10:00:00.000000Z"}) == "2024-05-02"
    assert recorded_date({"DATE": "2023-11-30"}) == "2023-11-30"
    # muxers' zero dates, a date in the future and junk are not a recording date
    for tags in ({"creation_time": "1970-01-01T00:00:00Z"}, {"creation_time": "1904-01-01T00:00:00Z"},
                 {"creation_time": "2999-01-01T00:00:00Z"}, {"creation_time": "yesterday"}, {}):
        assert recorded_date(tags) is None, tags
    # The sample has no recording date: its page says its date is the build's.
    page = (built_sample.folder / "index.html").read_text(encoding="utf-8")
    assert "Published " in page
    dated = tmp_path / "dated.mp4"
    subprocess.run([ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(sample), "-c", "copy",
                    "-metadata", "creation_time=2024-05-02T10:00:00Z", str(dated)], check=True, timeout=60)
    result = recast.process(dated, tmp_path / "site", Options(clips="none"))
    manifest = json.loads((result.folder / "session.json").read_text())
    assert manifest["metadata"]["date"] == "2024-05-02"
    page = (result.folder / "index.html").read_text(encoding="utf-8")
    assert "2 May 2024" in page and "Published " not in page


def test_a_zoom_recording_takes_its_title_and_date_from_its_folder(sample, tmp_path):
    # Zoom's file is "video98796876.mp4"; its folder says the meeting's date and topic.
    meeting = tmp_path / "Zoom" / "2024-03-05 10.00.12 Weekly Training 85012345678"
    meeting.mkdir(parents=True)
    video = meeting / "video98796876.mp4"
    video.hardlink_to(sample)
    result = recast.process(video, tmp_path / "site", Options(clips="none"))
    manifest = json.loads((result.folder / "session.json").read_text())
    assert (manifest["title"], manifest["metadata"]["date"], result.folder.name) == (
        "Weekly Training", "2024-03-05", "weekly-training")
    page = (result.folder / "index.html").read_text(encoding="utf-8")
    assert "5 March 2024" in page and "<h1>Weekly Training</h1>" in page


@pytest.mark.slow
def test_a_silent_screen_demo_is_chaptered_by_its_slides(sample, tmp_path, caplog):
    # No narration (or a muted microphone): no words are made up, the session is
    # still built, and its chapters follow the slides' titles.
    from recast.ffmpeg import ffmpeg_exe

    demo = tmp_path / "demo.mp4"
    subprocess.run([ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(sample), "-f", "lavfi",
                    "-i", "anullsrc=r=44100:cl=mono", "-map", "0:v", "-map", "1:a", "-shortest", "-c:v", "copy",
                    "-c:a", "aac", str(demo)], check=True, timeout=60)  # fmt: skip
    with caplog.at_level(logging.WARNING):
        result = recast.process(demo, tmp_path / "site", Options(clips="none"))
    assert "no speech found" in caplog.text
    manifest = json.loads((result.folder / "session.json").read_text())
    transcript = json.loads((result.folder / manifest["transcript"]).read_text())
    assert transcript["segments"] == []
    titles = [c["title"] for c in manifest["chapters"]]
    assert titles[1:] == ["Volcanoes and plate tectonics", "Baking sourdough bread", "Planning a monthly budget"]
    truth = json.loads(sample.with_suffix(".truth.json").read_text())
    starts = [c["start"] for c in manifest["chapters"]]
    for got, want in zip(starts[1:], [c["start"] for c in truth["chapters"][1:]]):
        assert abs(got - want) < 2.0, (starts, truth["chapters"])
    assert (result.folder / "index.html").is_file()


def test_settings_that_cannot_work_are_refused_before_the_audio_is_decoded(sample, tmp_path, monkeypatch):
    import recast.audio

    def no_decoding(*a, **k):
        raise AssertionError("the audio was decoded before the settings were checked")

    monkeypatch.setattr(recast.audio, "load_audio", no_decoding)
    for bad, message in ((Options(language="xx"), "unknown language"), (Options(device="cuda"), "no CUDA"),
                         (Options(model=str(tmp_path / "nope")), "no such model")):
        with pytest.raises(ConfigError, match=message) as e:
            recast.process(sample, tmp_path / "site", bad)
        assert str(e.value).startswith(f"{sample}: "), str(e.value)  # the recording is named
    assert not (tmp_path / "site").exists()


@pytest.mark.slow
def test_a_crashed_speech_engine_names_the_recording(sample, tmp_path, monkeypatch):
    monkeypatch.setenv("RECAST_TEST_ENGINE_CRASH", "segv")
    with pytest.raises(recast.TranscriptionError, match="crashed") as e:
        recast.process(sample, tmp_path / "site", Options(clips="none", force=True))
    assert str(e.value).startswith(f"{sample}: "), str(e.value)
    assert not (tmp_path / "site").exists()


def test_vocabulary_from_a_file(tmp_path, monkeypatch):
    terms = tmp_path / "terms.txt"
    terms.write_text("Andre Agassi\nPete Sampras, Wimbledon\n", encoding="utf-8")
    opts = load_options({"vocabulary": f"@{terms}"})
    assert opts.vocabulary == "Andre Agassi\nPete Sampras, Wimbledon\n"
    from recast.transcribe import vocabulary_prompt

    assert vocabulary_prompt(opts.vocabulary) == "Andre Agassi, Pete Sampras, Wimbledon."
    with pytest.raises(ConfigError, match="no such vocabulary file") as e:
        load_options({"vocabulary": f"@{tmp_path / 'missing.txt'}"})
    assert e.value.path == tmp_path / "missing.txt"
    monkeypatch.setenv("RECAST_VOCABULARY", f"@{terms}")
    assert load_options({}).vocabulary.startswith("Andre Agassi")


def test_settings_take_the_command_line_names_and_a_misspelt_variable_is_reported(tmp_path, monkeypatch, caplog):
    toml = tmp_path / "recast.toml"
    toml.write_text('[recast]\ntranscript = "talk.vtt"\n')  # as --transcript is spelt
    assert load_options({}, toml).transcript_file == Path("talk.vtt")
    monkeypatch.setenv("RECAST_TRANSCRIPT", "other.vtt")
    assert load_options({}, toml).transcript_file == Path("other.vtt")
    monkeypatch.setenv("RECAST_MODLE", "small")
    with caplog.at_level("WARNING"):
        assert load_options({}).model is None
    assert "RECAST_MODLE is not a recast setting" in caplog.text


@pytest.mark.slow
def test_speech_is_not_held_back_for_the_slides_of_camera_footage(sample, tmp_path):
    # A talking head with a keyframe every 20 s is decoded whole to see any picture;
    # recognition goes on as soon as that video is known to hold no slides, with the
    # analysis beside it, instead of waiting for the whole decode.
    from recast.ffmpeg import ffmpeg_exe
    import subprocess

    video = tmp_path / "camera.mp4"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=70", "-t", "70", "-i", str(sample),
                    "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-g", "500",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", str(video)], check=True, timeout=120)
    events = []
    result = recast.process(video, tmp_path / "site", Options(clips="none", force=True), progress=events.append)
    slides = [e for e in events if e.stage == "slides" and e.finished]
    assert [e.message for e in slides] == ["camera footage: no slides to read"]
    order = [e.stage for e in events if e.finished]
    # the wait for the video ends once it is known to be footage; the analysis is
    # waited for again, and done, after recognition
    assert order.index("video") < order.index("slides") < order.index("transcribe")
    assert order[::-1].index("video") < order[::-1].index("transcribe")
    video = [e.message for e in events if e.stage == "video" and e.finished]
    assert video[0] == "camera footage, analysed beside transcription" and "alongside" in video[-1]
    assert "photosynthesis" in result.session.transcript.text.lower()
