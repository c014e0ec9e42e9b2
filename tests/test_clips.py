"""Clips per chapter and the web copy, on tiny real media made with ffmpeg's lavfi."""

from __future__ import annotations

import functools
import json
import logging
import os
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

from recast import clips as clips_mod
from recast.clips import _NoSmartCut, clip_name, index_video, make_clips, make_web_copy, slugify, smart_cut
from recast.config import Options
from recast.errors import MediaError
from recast.ffmpeg import ffmpeg_exe
from recast.models import AudioStream, Chapter, MediaInfo
from recast.probe import probe

FPS = 25
FRAME = 1 / FPS


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


LAVFI_20S = [
    "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate={FPS}:duration=20",
    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=20",
]  # fmt: skip
GOP_2S = ["-g", "50", "-keyint_min", "50", "-sc_threshold", "0", "-pix_fmt", "yuv420p"]


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    """20 s 320x240 25 fps test pattern + 440 Hz tone, keyframes every 2 s, in variants."""
    d = tmp_path_factory.mktemp("clipmedia")
    # x264 "veryfast": High profile with B-frames, like most real recordings.
    _ffmpeg(*LAVFI_20S, "-c:v", "libx264", "-preset", "veryfast", *GOP_2S, "-c:a", "aac", "-b:a", "64k", str(d / "bframes.mp4"))
    _ffmpeg("-i", str(d / "bframes.mp4"), "-c", "copy", "-output_ts_offset", "1.5", str(d / "offset.mp4"))
    # "ultrafast": Constrained Baseline, no frame reordering.
    _ffmpeg(*LAVFI_20S, "-c:v", "libx264", "-preset", "ultrafast", *GOP_2S, "-c:a", "aac", "-b:a", "64k", str(d / "baseline.mp4"))
    # Open GOPs: keyframes that are not IDR frames; a smart cut must refuse them.
    _ffmpeg(*LAVFI_20S, "-t", "8", "-c:v", "libx264", "-preset", "veryfast", *GOP_2S, "-x264-params", "open-gop=1",
            "-c:a", "aac", str(d / "opengop.mp4"))  # fmt: skip
    # Not H.264 at all: the smart cut falls back, the web copy transcodes.
    _ffmpeg(*LAVFI_20S, "-t", "6", "-c:v", "mpeg4", "-g", "50", "-c:a", "libvorbis" if _has_encoder("libvorbis") else "flac",
            str(d / "mpeg4.mkv"))  # fmt: skip
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=330:sample_rate=44100:duration=12", "-c:a", "aac", str(d / "talk.m4a"))
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=330:sample_rate=16000:duration=6", "-c:a", "pcm_s16le", str(d / "talk.wav"))
    # Two audio tracks: stereo first, mono second.
    _ffmpeg(*LAVFI_20S, "-f", "lavfi", "-i", "sine=frequency=880:sample_rate=48000:duration=20", "-t", "4",
            "-map", "0:v", "-map", "1:a", "-map", "2:a", "-ac:a:0", "2", "-ac:a:1", "1",
            "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(d / "twotracks.mp4"))  # fmt: skip
    return d


def _has_encoder(name: str) -> bool:
    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-encoders"], capture_output=True, text=True).stdout
    return f" {name} " in out


def _chapters(offset: float = 0.0) -> list[Chapter]:
    # Starts on frame times but off the 2 s keyframe grid; the last ends at the end of the file.
    return [
        Chapter(1, offset + 0.0, offset + 5.2, "Welcome & agenda"),
        Chapter(2, offset + 5.2, offset + 12.04, "Die Zukunft der Überwachung"),
        Chapter(3, offset + 12.04, offset + 20.0, "Q&A"),
    ]


def ffprobe(path: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-show_chapters", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(out)


def stream(info: dict, kind: str) -> dict:
    return next(s for s in info["streams"] if s["codec_type"] == kind)


def top_level_boxes(path: Path) -> list[str]:
    """The MP4 top-level box types, in file order."""
    boxes = []
    with open(path, "rb") as f:
        size_total = os.fstat(f.fileno()).st_size
        pos = 0
        while pos + 8 <= size_total:
            f.seek(pos)
            header = f.read(16)
            size, kind = int.from_bytes(header[:4], "big"), header[4:8].decode("latin-1")
            if size == 1:
                size = int.from_bytes(header[8:16], "big")
            elif size == 0:
                size = size_total - pos
            boxes.append(kind)
            pos += size
    return boxes


@functools.lru_cache(maxsize=8)
def decoded(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(times, gray frames) of every frame, decoded with PyAV; decoding errors raise."""
    times, frames = [], []
    with av.open(str(path)) as c:
        for frame in c.decode(c.streams.video[0]):
            times.append(frame.time)
            frames.append(frame.to_ndarray(format="gray").astype(np.int16))
    return np.array(times), np.stack(frames)


def source_frame(path: Path, t: float) -> np.ndarray:
    times, frames = decoded(path)
    i = int(np.argmin(np.abs(times - t)))
    assert abs(times[i] - t) < 1e-3, f"no source frame at {t}"
    return frames[i]


def mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


def check_video_clip(clip, src: Path) -> None:
    """Everything a browser and a viewer need from an encoded clip."""
    info = ffprobe(clip.path)
    v, a = stream(info, "video"), stream(info, "audio")
    assert (v["codec_name"], v["pix_fmt"], a["codec_name"]) == ("h264", "yuv420p", "aac")
    assert v["width"] % 2 == 0 and v["height"] % 2 == 0
    boxes = top_level_boxes(clip.path)
    assert boxes.index("moov") < boxes.index("mdat"), boxes  # faststart
    # ffmpeg decodes it all without a single complaint (missing references, bad PPS...).
    errors = subprocess.run([ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(clip.path), "-f", "null", "-"],
                            capture_output=True, text=True).stderr  # fmt: skip
    assert errors == "", errors
    times, frames = decoded(clip.path)
    want = clip.end - clip.start
    assert abs(len(times) * FRAME - want) < FRAME / 2, (len(times), want)
    assert abs(float(v["duration"]) - want) <= FRAME + 1e-6
    # A/V sync: both streams start together and last as long, within a frame.
    assert abs(float(v.get("start_time", 0)) - float(a.get("start_time", 0))) < FRAME
    assert abs(float(a["duration"]) - float(v["duration"])) < FRAME
    # Frame accuracy: the first frame is the source's frame at the cut, not its neighbour.
    first = frames[0]
    assert first.mean() > 20  # not black
    here = mad(first, source_frame(src, clip.start))
    assert here < 4.0, here
    src_times = decoded(src)[0]
    for other in (clip.start - FRAME, clip.start + FRAME):
        if src_times[0] - 1e-3 <= other <= src_times[-1] + 1e-3:  # no neighbour before the very first frame
            assert mad(first, source_frame(src, other)) > here + 2
    # Last frame too: the clip stops where the next one starts.
    assert mad(frames[-1], source_frame(src, clip.start + times[-1] - times[0])) < 4.0
    assert clip.end - FRAME - 1e-3 <= clip.start + times[-1] - times[0] < clip.end


# ---------------------------------------------------------------- names


def test_clip_name_is_short_ascii_and_safe():
    assert clip_name(Chapter(1, 0, 1, "Welcome & agenda")) == "01-welcome-agenda.mp4"
    assert clip_name(Chapter(2, 0, 1, "Die Zukunft der Überwachung"), ".m4a") == "02-die-zukunft-der-uberwachung.m4a"
    assert clip_name(Chapter(3, 0, 1, "../../etc/passwd")) == "03-etc-passwd.mp4"
    assert clip_name(Chapter(4, 0, 1, "🎉🎉")) == "04-chapter.mp4"
    assert clip_name(Chapter(12, 0, 1, "-rf </script>")) == "12-rf-script.mp4"
    long = clip_name(Chapter(5, 0, 1, "word " * 40 + "日本語"))
    stem = long.removesuffix(".mp4")
    assert len(stem.encode()) <= 60 and stem.isascii() and not stem.endswith("-")
    assert slugify("a" * 100, 10) == "a" * 10


# ---------------------------------------------------------------- encode


@pytest.mark.slow
@pytest.mark.parametrize("name, offset", [("bframes.mp4", 0.0), ("offset.mp4", 1.5), ("baseline.mp4", 0.0)])
def test_encode_clips_are_frame_accurate_web_mp4(media_dir, tmp_path, monkeypatch, name, offset):
    src = media_dir / name
    media = probe(src)
    assert abs(media.video_start_time - offset) < 1e-6

    # The smart cut must do all of it here: a full re-encode would be a silent fallback.
    def no_full_encode(*a, **k):
        raise AssertionError("fell back to a full re-encode")

    monkeypatch.setattr(clips_mod, "_encode_clip", no_full_encode)
    # Only each clip's head is encoded again: with B-frames the clip ends a few
    # frames late, where the frames shown are a run in decode order, rather than
    # encoding its whole last GOP again.
    encoded = []
    real_encode = clips_mod._encode_range
    monkeypatch.setattr(clips_mod, "_encode_range", lambda path, times, *a: encoded.append(len(times)) or real_encode(path, times, *a))
    calls = []
    result = make_clips(media, _chapters(offset), None, tmp_path, Options(), progress=lambda d, t: calls.append((d, t)))
    assert len(encoded) == 2 and max(encoded) < 2 * FPS, encoded  # chapters 2 and 3 start off a keyframe
    assert [c.chapter for c in result] == [1, 2, 3]
    assert calls[-1] == (3, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "01-welcome-agenda.mp4", "02-die-zukunft-der-uberwachung.mp4", "03-q-a.mp4",
    ]  # fmt: skip  (no temporary files left)
    for clip, ch in zip(result, _chapters(offset)):
        assert clip.kind == "video" and clip.path.is_absolute()
        assert abs(clip.start - ch.start) < 1e-6 and ch.end - FRAME < clip.end <= ch.end + clips_mod.TAIL_SLACK
        check_video_clip(clip, src)


@pytest.mark.slow
def test_smart_cut_matches_full_reencode(media_dir, tmp_path):
    src = media_dir / "bframes.mp4"
    media = probe(src)
    smart = make_clips(media, _chapters(), None, tmp_path / "smart", Options())
    # the full encode over the smart cut's times (which may end a few frames late)
    cut = [Chapter(c.index, a.start, a.end, c.title) for c, a in zip(_chapters(), smart)]
    full = make_clips(media, cut, None, tmp_path / "full", Options(smart_cut=False) if _has_smart_option() else Options())
    for a, b in zip(smart, full):
        assert (a.start, a.end) == pytest.approx((b.start, b.end), abs=1e-6)
        ta, fa = decoded(a.path)
        tb, fb = decoded(b.path)
        np.testing.assert_allclose(ta, tb, atol=1e-3)
        per_frame = np.abs(fa - fb).mean(axis=(1, 2))
        assert per_frame.max() < 4.0, per_frame.max()  # both are lossy copies of the same frames
        check_video_clip(b, src)


def _has_smart_option() -> bool:
    return "smart_cut" in Options.__dataclass_fields__


@pytest.mark.slow
def test_full_reencode_when_smart_cut_is_off(media_dir, tmp_path, monkeypatch):
    if not _has_smart_option():
        pytest.skip("Options.smart_cut not present")
    src = media_dir / "bframes.mp4"
    monkeypatch.setattr(clips_mod, "smart_cut", lambda *a, **k: pytest.fail("smart cut used although switched off"))
    result = make_clips(probe(src), _chapters()[1:2], None, tmp_path, Options(smart_cut=False, max_height=120))
    v = stream(ffprobe(result[0].path), "video")
    assert (v["width"], v["height"]) == (160, 120)
    assert v["profile"] == "High"


@pytest.mark.slow
def test_non_h264_source_falls_back_to_full_encode(media_dir, tmp_path, caplog):
    src = media_dir / "mpeg4.mkv"
    media = probe(src)
    chapters = [Chapter(1, 0.0, 2.52, "One"), Chapter(2, 2.52, 6.0, "Two")]
    with caplog.at_level(logging.INFO, logger="recast.clips"):
        result = make_clips(media, chapters, None, tmp_path, Options())
    assert "full re-encode (video is mpeg4, not H.264)" in caplog.text
    for clip in result:
        check_video_clip(clip, src)


@pytest.mark.slow
def test_broken_smart_cut_is_caught_and_reencoded(media_dir, tmp_path, monkeypatch, caplog):
    """If the joined clip does not decode (here: the head's parameter sets left out of
    the avcC), the check catches it and the clip is re-encoded whole."""
    src = media_dir / "bframes.mp4"
    real = clips_mod._build_avcc

    def without_head_sets(profile, compat, level, sps, pps, ext):
        return real(profile, compat, level, sps[1:], pps[1:], ext)

    monkeypatch.setattr(clips_mod, "_build_avcc", without_head_sets)
    with caplog.at_level(logging.INFO, logger="recast.clips"):
        result = make_clips(probe(src), _chapters()[1:2], None, tmp_path, Options())
    assert "re-encod" in caplog.text  # "smart cut failed ...; re-encoding" or "full re-encode (...)"
    check_video_clip(result[0], src)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["02-die-zukunft-der-uberwachung.mp4"]


def test_smart_cut_refuses_open_gop(media_dir, tmp_path):
    src = media_dir / "opengop.mp4"
    media = probe(src)
    index = index_video(src)
    assert index.key.sum() > index.idr.sum()  # the fixture really has non-IDR keyframes
    with pytest.raises(_NoSmartCut, match="open GOP"):
        smart_cut(media, 1.0, 7.0, tmp_path / "x.mp4", index)
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_open_gop_source_still_gives_accurate_clips(media_dir, tmp_path):
    src = media_dir / "opengop.mp4"
    result = make_clips(probe(src), [Chapter(1, 0.0, 3.0, "A"), Chapter(2, 3.0, 8.0, "B")], None, tmp_path, Options())
    for clip in result:
        check_video_clip(clip, src)


# ---------------------------------------------------------------- copy and none


@pytest.mark.slow
def test_a_screen_recording_with_a_frame_every_two_seconds_loses_no_speech(media_dir, tmp_path):
    # Zoom and some recorders write a frame only when the screen changes. A clip
    # starts with the frame on screen at its chapter's start (up to 2 s earlier),
    # not the next one, which would cut off what was said until then.
    src = tmp_path / "screen.mp4"
    _ffmpeg("-i", str(media_dir / "bframes.mp4"), "-vf", "select='not(mod(n\\,50))'", "-fps_mode", "vfr",
            "-c:v", "libx264", "-preset", "veryfast", "-g", "100000", "-c:a", "copy", str(src))
    media = probe(src)
    result = make_clips(media, _chapters(), None, tmp_path / "out", Options())
    assert [c.start for c in result] == pytest.approx([0.0, 4.0, 12.0], abs=1e-3)
    for clip, ch in zip(result, _chapters()):
        assert clip.start <= ch.start and clip.end >= ch.end - 1e-3
        info = ffprobe(clip.path)
        # the sound runs from the clip's first frame to its end
        assert float(stream(info, "audio")["duration"]) == pytest.approx(clip.end - clip.start, abs=0.05)
        errors = subprocess.run([ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(clip.path), "-f", "null", "-"],
                                capture_output=True, text=True).stderr  # fmt: skip
        assert errors == "", errors


@pytest.mark.slow
@pytest.mark.parametrize("name, offset", [("bframes.mp4", 0.0), ("offset.mp4", 1.5)])
def test_copy_mode_snaps_to_keyframes_and_records_cuts(media_dir, tmp_path, name, offset):
    src = media_dir / name
    media = probe(src)
    keyframes = index_video(src).keyframe_times()
    result = make_clips(media, _chapters(offset), None, tmp_path, Options(clips="copy"))
    expected = [offset, offset + 4.0, offset + 4.0, offset + 12.0, offset + 12.0, offset + 20.0]
    assert [t for c in result for t in (c.start, c.end)] == pytest.approx(expected)
    for clip, ch in zip(result, _chapters(offset)):
        assert any(abs(clip.start - k) < 1e-6 for k in keyframes)
        assert clip.start <= ch.start + 1e-6
        info = ffprobe(clip.path)
        v, a = stream(info, "video"), stream(info, "audio")
        assert v["codec_name"] == "h264" and v["profile"] == "High"  # copied, not re-encoded
        assert int(v["nb_frames"]) == round((clip.end - clip.start) * FPS)
        assert abs(float(a["duration"]) - (clip.end - clip.start)) < FRAME
        boxes = top_level_boxes(clip.path)
        assert boxes.index("moov") < boxes.index("mdat")
        times, frames = decoded(clip.path)
        assert mad(frames[0], source_frame(src, clip.start)) < 1.0  # bit-exact copy of the keyframe


@pytest.mark.slow
def test_copy_mode_encodes_a_clip_whose_keyframe_is_far_away(tmp_path, caplog):
    # A minute of screen recording with a single keyframe: a copy would make every
    # clip most of the recording again. Those clips are encoded, and it is said.
    src = tmp_path / "screen.mp4"
    _ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=320x240:rate={FPS}:duration=60",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=60",
            "-vf", "select='not(mod(n\\,50))'", "-fps_mode", "vfr", "-c:v", "libx264", "-preset", "veryfast",
            "-g", "100000", "-pix_fmt", "yuv420p", "-c:a", "aac", str(src))
    chapters = [Chapter(1, 0.0, 8.0, "One"), Chapter(2, 8.0, 40.0, "Two"), Chapter(3, 40.0, 60.0, "Three")]
    with caplog.at_level("WARNING"):
        result = make_clips(probe(src), chapters, None, tmp_path / "out", Options(clips="copy"))
    assert [t for c in result for t in (c.start, c.end)] == pytest.approx([0.0, 8.0, 8.0, 40.0, 40.0, 60.0], abs=0.05)
    assert "chapters 1, 2, 3" in caplog.text and "encoded" in caplog.text
    for clip in result:
        assert float(stream(ffprobe(clip.path), "video")["duration"]) == pytest.approx(clip.end - clip.start, abs=0.1)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["encode", "copy"])
def test_sound_after_the_picture_ends_is_kept(media_dir, tmp_path, mode):
    # The screen share stopped at 8 s and the talk went on to 20 s: a clip keeps all
    # of its chapter's sound (over the last picture), and a chapter after the picture
    # is its sound alone.
    src = tmp_path / "stopped.mp4"
    _ffmpeg("-t", "8", "-i", str(media_dir / "bframes.mp4"), "-i", str(media_dir / "bframes.mp4"),
            "-map", "0:v", "-map", "1:a", "-c", "copy", str(src))
    media = probe(src)
    result = make_clips(media, _chapters(), None, tmp_path / "out", Options(clips=mode))
    assert [c.kind for c in result] == ["video", "video", "audio"]
    assert result[2].path.suffix == ".m4a"
    for clip, ch in zip(result[1:], _chapters()[1:]):
        assert clip.end == pytest.approx(ch.end, abs=0.05)
        a = stream(ffprobe(clip.path), "audio")
        assert float(a["duration"]) == pytest.approx(clip.end - clip.start, abs=0.1), (clip, a["duration"])


def test_none_mode_writes_nothing(media_dir, tmp_path):
    media = probe(media_dir / "bframes.mp4")
    result = make_clips(media, _chapters(), None, tmp_path / "clips", Options(clips="none"))
    assert [(c.chapter, c.path, c.start, c.end, c.kind) for c in result] == [
        (ch.index, None, ch.start, ch.end, "none") for ch in _chapters()
    ]
    assert not (tmp_path / "clips").exists()


# ---------------------------------------------------------------- audio-only


@pytest.mark.parametrize("mode", ["encode", "copy"])
@pytest.mark.parametrize("name", ["talk.m4a", "talk.wav"])
def test_audio_only_gives_m4a_clips(media_dir, tmp_path, mode, name):
    media = probe(media_dir / name)
    end = media.duration
    chapters = [Chapter(1, 0.0, 2.5, "Intro"), Chapter(2, 2.5, end, "Rest")]
    result = make_clips(media, chapters, None, tmp_path, Options(clips=mode))
    assert [c.path.name for c in result] == ["01-intro.m4a", "02-rest.m4a"]
    for clip, ch in zip(result, chapters):
        assert clip.kind == "audio" and (clip.start, clip.end) == pytest.approx((ch.start, ch.end))
        info = ffprobe(clip.path)
        assert [s["codec_type"] for s in info["streams"]] == ["audio"]
        assert info["streams"][0]["codec_name"] == "aac"
        # AAC frames are 1024 samples (23 ms at 44.1 kHz): copy cuts land on one.
        assert abs(float(info["format"]["duration"]) - ch.duration) < 0.05


# ---------------------------------------------------------------- failures


def test_ffmpeg_failure_is_a_media_error_and_leaves_nothing(tmp_path):
    bogus = tmp_path / "in" / "talk.m4a"
    bogus.parent.mkdir()
    bogus.write_bytes(b"\x00\x01garbage" * 100)
    media = MediaInfo(path=bogus, size=900, format_name="mov,mp4,m4a", duration=10.0, start_time=0.0,
                      audio_streams=(AudioStream(0, 0, "aac", 2, 44100, 0.0, 10.0),))  # fmt: skip
    out = tmp_path / "out"
    with pytest.raises(MediaError) as err:
        make_clips(media, [Chapter(1, 0, 5, "a"), Chapter(2, 5, 10, "b")], None, out, Options())
    assert err.value.path == bogus and "failed" in str(err.value)
    assert list(out.iterdir()) == []


def test_bad_audio_track_is_refused(media_dir, tmp_path):
    media = probe(media_dir / "talk.m4a")
    with pytest.raises(MediaError, match="audio-track 3"):
        make_clips(media, [Chapter(1, 0, 5, "a")], None, tmp_path, Options(audio_track=3))


def test_chapter_outside_the_recording_is_refused(media_dir, tmp_path):
    media = probe(media_dir / "talk.m4a")
    with pytest.raises(MediaError, match="outside the recording"):
        make_clips(media, [Chapter(1, 50, 60, "late")], None, tmp_path, Options())


# ---------------------------------------------------------------- web copy

FFMETADATA = """;FFMETADATA1
title=Session

[CHAPTER]
TIMEBASE=1/1000
START=0
END=5200
title=Welcome

[CHAPTER]
TIMEBASE=1/1000
START=5200
END=20000
title=Die Zukunft
"""


def test_web_copy_links_a_playable_file(media_dir, tmp_path):
    src = media_dir / "bframes.mp4"
    out = make_web_copy(probe(src), tmp_path / "media" / "session.mp4")
    assert out == tmp_path / "media" / "session.mp4"
    assert out.read_bytes() == src.read_bytes()
    assert os.stat(out).st_ino == os.stat(src).st_ino  # hard link: no second copy of an hour of video


def test_web_copy_embeds_chapters_without_reencoding(media_dir, tmp_path):
    src = media_dir / "offset.mp4"
    out = make_web_copy(probe(src), tmp_path / "session.mp4", chapters_ffmetadata=FFMETADATA)
    info = ffprobe(out)
    assert [c["tags"]["title"] for c in info["chapters"]] == ["Welcome", "Die Zukunft"]
    assert stream(info, "video")["profile"] == stream(ffprobe(src), "video")["profile"]
    boxes = top_level_boxes(out)
    assert boxes.index("moov") < boxes.index("mdat")
    # The source timeline is kept: chapter times seek to the same frames.
    assert abs(float(stream(info, "video")["start_time"]) - 1.5) < 0.01
    assert sorted(p.name for p in tmp_path.iterdir()) == ["session.mp4"]


@pytest.mark.slow
def test_web_copy_transcodes_what_browsers_cannot_play(media_dir, tmp_path):
    out = make_web_copy(probe(media_dir / "mpeg4.mkv"), tmp_path / "session.mp4")
    info = ffprobe(out)
    assert [(s["codec_name"]) for s in info["streams"]] == ["h264", "aac"]
    assert stream(info, "video")["pix_fmt"] == "yuv420p"
    assert abs(float(info["format"]["duration"]) - 6.0) < 0.1


@pytest.mark.slow
def test_web_copy_of_h264_in_matroska_is_a_remux_and_of_10_bit_an_encode(media_dir, tmp_path, monkeypatch):
    # OBS records H.264 + AAC in Matroska: browsers play those codecs from an MP4,
    # so a remux is enough (an encode took 43 s for 4 minutes of 720p). 10-bit H.264
    # plays in no browser and is encoded.
    mkv = tmp_path / "obs.mkv"
    _ffmpeg("-i", str(media_dir / "bframes.mp4"), "-c", "copy", str(mkv))
    real_encoder = clips_mod._video_encoder
    monkeypatch.setattr(clips_mod, "_video_encoder", lambda *a, **k: pytest.fail("re-encoded H.264 that only needed a remux"))
    out = make_web_copy(probe(mkv), tmp_path / "a" / "recording")
    info = ffprobe(out)
    assert out.suffix == ".mp4" and "mp4" in info["format"]["format_name"]
    assert [s["codec_name"] for s in info["streams"] if s["codec_type"] != "data"] == ["h264", "aac"]
    assert int(stream(info, "video")["nb_frames"]) == 20 * FPS  # every frame, as it was
    ten = tmp_path / "ten.mp4"
    try:
        _ffmpeg(*LAVFI_20S, "-t", "3", "-c:v", "libx264", "-pix_fmt", "yuv420p10le", "-c:a", "aac", str(ten))
    except subprocess.CalledProcessError:
        pytest.skip("this ffmpeg's x264 cannot write 10-bit video")
    monkeypatch.setattr(clips_mod, "_video_encoder", real_encoder)
    out = make_web_copy(probe(ten), tmp_path / "b" / "recording")
    assert stream(ffprobe(out), "video")["pix_fmt"] == "yuv420p"


def test_web_copy_audio_only(media_dir, tmp_path):
    wav = make_web_copy(probe(media_dir / "talk.wav"), tmp_path / "a" / "session.mp4")
    assert wav.suffix == ".m4a" and ffprobe(wav)["streams"][0]["codec_name"] == "aac"
    m4a = make_web_copy(probe(media_dir / "talk.m4a"), tmp_path / "b" / "session.mp4")
    assert m4a.suffix == ".m4a" and m4a.read_bytes() == (media_dir / "talk.m4a").read_bytes()


def test_web_copy_picks_the_audio_track(media_dir, tmp_path):
    media = probe(media_dir / "twotracks.mp4")
    assert len(media.audio_streams) == 2
    out = make_web_copy(media, tmp_path / "session.mp4", audio_track=1)
    audio = [s for s in ffprobe(out)["streams"] if s["codec_type"] == "audio"]
    assert [a["channels"] for a in audio] == [1]
    with pytest.raises(MediaError, match="audio-track 2"):
        make_web_copy(media, tmp_path / "x.mp4", audio_track=2)


def test_webm_is_played_as_it_is(tmp_path):
    """VP9/Opus WebM plays in browsers: the player copy is the file itself, not an
    hour-long transcode; with chapters it is only remuxed."""
    from recast.probe import probe
    from tests.conftest import ffmpeg

    src = tmp_path / "lecture.webm"
    try:
        ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=3", "-f", "lavfi", "-i", "sine=d=3",
               "-c:v", "libvpx-vp9", "-deadline", "realtime", "-c:a", "libopus", "-shortest", str(src))
    except Exception:
        pytest.skip("this ffmpeg cannot encode VP9/Opus")
    media = probe(src)
    assert media.web_playable
    linked = make_web_copy(media, tmp_path / "out" / "recording")
    assert linked.suffix == ".webm" and linked.stat().st_ino == src.stat().st_ino
    meta = ";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1500\ntitle=One\n"
    remuxed = make_web_copy(media, tmp_path / "out2" / "recording", chapters_ffmetadata=meta)
    assert remuxed.suffix == ".webm"
    with av.open(str(remuxed)) as c:
        assert c.streams.video[0].codec_context.name == "vp9"
        assert [ch["metadata"].get("title") for ch in c.chapters()] == ["One"]


@pytest.mark.parametrize("name, args, codec", [
    # yt-dlp's pick from YouTube: AV1 + Opus in WebM (libdav1d decodes AV1)
    ("Webinar [dQw4w9WgXcQ].webm", ["-c:v", "libsvtav1", "-preset", "12", "-c:a", "libopus"], "av1"),
    # a podcast or a phone's voice memo (libavcodec's MP3 decoder is "mp3float")
    ("talk.mp3", ["-vn", "-c:a", "libmp3lame"], "mp3"),
])
def test_media_are_known_by_their_codec_not_their_decoder(tmp_path, name, args, codec):
    # Probing recorded the decoder's name, so every check for "av1" or "mp3" missed:
    # an hour of AV1 was encoded again whole as the player copy, an MP3 re-encoded.
    encoder = args[args.index("-c:v") + 1] if "-c:v" in args else args[-1]
    if not _has_encoder(encoder):
        pytest.skip(f"this ffmpeg cannot encode {encoder}")
    src = tmp_path / name
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x240:r=10:d=3", "-f", "lavfi", "-i", "sine=d=3", *args, "-shortest", str(src))
    media = probe(src)
    assert codec in (media.video_codec, media.audio_streams[0].codec)
    # AV1 plays as it is where the user asks for modern browsers only (Safari plays it
    # on Apple's newest devices alone)
    linked = make_web_copy(media, tmp_path / "out" / "recording", modern=codec == "av1")
    assert linked.suffix == src.suffix and linked.stat().st_ino == src.stat().st_ino
    assert media.web_playable == (codec != "av1")


def test_an_abandoned_clip_stage_starts_no_fallback_encode(monkeypatch, tmp_path):
    # After Ctrl-C the work folder is removed under the running clip threads: their
    # smart cuts fail, and they must not start a full re-encode of every clip then.
    import threading

    from recast import clips as clips_module

    def broken(*a, **k):
        raise RuntimeError("No such file or directory: .recast-work/x.part.mp4")

    encodes = []
    monkeypatch.setattr(clips_module, "smart_cut", broken)
    monkeypatch.setattr(clips_module, "_encode_clip", lambda *a, **k: encodes.append(a) or (0.0, 1.0))
    cut = clips_module._Cut(Chapter(1, 0.0, 1.0, "One"), 0.0, 1.0, tmp_path / "01.mp4", False)
    stop = threading.Event()
    assert clips_module._smart_or_full(None, cut, 0, None, Options(), 1, stop) == (0.0, 1.0, cut.path)  # a real failure: re-encode
    stop.set()
    with pytest.raises(clips_module._Stopped):
        clips_module._smart_or_full(None, cut, 0, None, Options(), 1, stop)
    assert len(encodes) == 1


# ---------------------------------------------------------------- cameras: other sound, interlaced video


def _combing(path: Path) -> float:
    """Mean difference between the two fields of the frames: a moving bar drawn in
    two places, as an interlaced frame shows it, scores about 13; a whole frame, 0."""
    _, frames = decoded(path)
    return float(np.abs(frames[:, 0::2] - frames[:, 1::2]).mean())


@pytest.fixture(scope="module")
def camera_dir(media_dir, tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("camera")
    # A camera's MOV: H.264 with PCM sound, which browsers do not play from an MP4.
    _ffmpeg("-i", str(media_dir / "bframes.mp4"), "-c:v", "copy", "-c:a", "pcm_s16le", str(d / "pcm.mov"))
    # A camcorder's 1080i, small: 50 fields a second of a black bar crossing white,
    # woven into 25 frames and coded as fields (x264 interlaced, top field first).
    _ffmpeg("-f", "lavfi", "-i", "color=white:s=320x240:r=50:d=4[bg];color=black:s=40x240:r=50:d=4[bar];"
            "[bg][bar]overlay=x='mod(t*400,280)':y=0,tinterlace=mode=interleave_top",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=4",
            "-c:v", "libx264", "-preset", "veryfast", "-flags", "+ildct+ilme", "-x264-params", "tff=1",
            "-pix_fmt", "yuv420p", "-c:a", "ac3", str(d / "interlaced.mts"))  # fmt: skip
    return d


@pytest.mark.slow
def test_h264_with_a_cameras_sound_keeps_its_video_packets(camera_dir, media_dir, tmp_path, monkeypatch):
    # An hour of 1080p took longer than the hour to encode again; its sound takes seconds.
    src = camera_dir / "pcm.mov"
    media = probe(src)
    assert media.audio_streams[0].codec == "pcm_s16le" and not media.video_interlaced
    monkeypatch.setattr(clips_mod, "_video_encoder", lambda *a, **k: pytest.fail("re-encoded video that plays as it is"))
    out = make_web_copy(media, tmp_path / "media" / "recording")
    info = ffprobe(out)
    assert out.suffix == ".mp4" and [s["codec_name"] for s in info["streams"]] == ["h264", "aac"]
    assert int(stream(info, "video")["nb_frames"]) == 20 * FPS
    assert abs(float(stream(info, "audio")["duration"]) - 20.0) < FRAME
    # The clips copy the frames between the cuts as well, and encode the sound.
    monkeypatch.setattr(clips_mod, "_encode_clip", lambda *a, **k: pytest.fail("fell back to a full encode"))
    monkeypatch.setattr(clips_mod, "_video_encoder", lambda *a, **k: pytest.fail("fell back to a full encode"))
    result = make_clips(media, _chapters(), None, tmp_path / "clips", Options())
    for clip in result:
        check_video_clip(clip, media_dir / "bframes.mp4")


@pytest.mark.slow
def test_interlaced_video_is_deinterlaced_never_copied(camera_dir, tmp_path, caplog):
    src = camera_dir / "interlaced.mts"
    media = probe(src)
    assert media.video_interlaced and media.video_codec == "h264" and media.video_pix_fmt == "yuv420p"
    assert _combing(src) > 10
    out = make_web_copy(media, tmp_path / "media" / "recording")
    assert out.suffix == ".mp4" and [s["codec_name"] for s in ffprobe(out)["streams"]] == ["h264", "aac"]
    assert _combing(out) < 1.5
    assert abs(len(decoded(out)[0]) - 4 * 25) <= 1  # a frame per frame, not per field
    with caplog.at_level(logging.INFO, logger="recast.clips"):
        result = make_clips(media, [Chapter(1, 0.0, 1.6, "One"), Chapter(2, 1.6, 4.0, "Two")], None, tmp_path / "c", Options())
    assert "full re-encode (interlaced video)" in caplog.text
    for clip in result:
        assert _combing(clip.path) < 1.5


def test_progressive_video_is_not_taken_for_interlaced(media_dir):
    assert not probe(media_dir / "bframes.mp4").video_interlaced


# ---------------------------------------------------------------- VP8/VP9 (BigBlueButton, MediaRecorder)


@pytest.mark.slow
@pytest.mark.parametrize("video, audio", [("libvpx-vp9", "libopus"), ("libvpx", "libvorbis"), ("libsvtav1", "libopus"),
                                          ("libsvtav1", "aac")])
def test_vp8_vp9_and_av1_are_smart_cut_into_webm(media_dir, tmp_path, monkeypatch, video, audio):
    # An hour of BigBlueButton's WebM, or of a YouTube video downloaded in AV1 (WebM
    # with Opus, or MP4 with AAC), was encoded again whole into H.264 clips (about
    # as long as the hour); only the frames before each clip's first keyframe need
    # it, and AAC sound, which WebM cannot hold, is encoded to Opus.
    if not (_has_encoder(video) and _has_encoder(audio)):
        pytest.skip(f"this ffmpeg cannot encode {video}/{audio}")
    src = tmp_path / ("youtube.mp4" if audio == "aac" else "bbb.webm")
    coding = (["-preset", "12", "-g", "50"] if video == "libsvtav1" else
              ["-deadline", "realtime", "-cpu-used", "8", "-b:v", "1M", "-g", "50"])
    _ffmpeg(*LAVFI_20S, "-c:v", video, *coding, "-pix_fmt", "yuv420p", "-c:a", audio, str(src))
    monkeypatch.setattr(clips_mod, "_encode_clip", lambda *a, **k: pytest.fail("fell back to a full encode"))
    codec = {"libvpx-vp9": "vp9", "libvpx": "vp8", "libsvtav1": "av1"}[video]
    options = Options(web_video="modern" if codec != "vp9" else "wide")  # VP8, AV1: not for Safari
    result = make_clips(probe(src), _chapters(), None, tmp_path / "clips", options)
    for clip, ch in zip(result, _chapters()):
        assert clip.path.suffix == ".webm" and abs(clip.start - ch.start) < FRAME and abs(clip.end - ch.end) < FRAME
        info = ffprobe(clip.path)
        assert [s["codec_name"] for s in info["streams"]] == [codec, "opus" if audio == "aac" else audio.removeprefix("lib")]
        errors = subprocess.run([ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(clip.path), "-f", "null", "-"],
                                capture_output=True, text=True).stderr  # fmt: skip
        assert errors == "", errors
        times, frames = decoded(clip.path)
        assert len(times) == round((clip.end - clip.start) * FPS)  # every frame of the chapter, no more
        # frame-accurate at both ends: the source's frames at the cut, not their neighbours
        for k in (0, len(frames) - 1):
            here = mad(frames[k], source_frame(src, clip.start + k * FRAME))
            assert here < 6.0, (clip.path.name, k, here)
            for other in (clip.start + (k - 1) * FRAME, clip.start + (k + 1) * FRAME):
                if 0 <= other < 20.0 - FRAME / 2:
                    assert mad(frames[k], source_frame(src, other)) > here + 2
        # the sound starts with the picture and lasts as long (Opus, Vorbis packets: 20 ms or so)
        a = stream(info, "audio")
        assert abs(float(a.get("start_time", 0))) < 0.03
        assert abs(float(info["format"]["duration"]) - (clip.end - clip.start)) < 0.05
    # copy mode: clips from keyframe to keyframe, nothing encoded
    monkeypatch.setattr(clips_mod, "_video_encoder", lambda *a, **k: pytest.fail("re-encoded in copy mode"))
    copied = make_clips(probe(src), _chapters(), None, tmp_path / "copied", options.replace(clips="copy"))
    assert [round(c.start, 1) for c in copied] == [0.0, 4.0, 12.0]  # the keyframes at or before the chapters
    for clip in copied:
        assert clip.path.suffix == ".webm"
        assert len(decoded(clip.path)[0]) == round((clip.end - clip.start) * FPS)
    # the player copy: the video's packets as they are, in a WebM
    copy = make_web_copy(probe(src), tmp_path / "media" / "recording", modern=options.web_video == "modern")
    assert copy.suffix == ".webm" and stream(ffprobe(copy), "audio")["codec_name"] in ("opus", "vorbis")
    with av.open(str(src)) as a, av.open(str(copy)) as b:
        assert [bytes(p) for p in a.demux(video=0) if p.size] == [bytes(p) for p in b.demux(video=0) if p.size]


@pytest.mark.slow
def test_by_default_clips_and_player_copy_play_in_safari_too(tmp_path):
    # Safari plays AV1 only on Apple's newest devices and VP8 and Vorbis unreliably:
    # unless modern browsers are all that is asked for, those become H.264 (AV1,
    # VP8) or Opus (Vorbis beside VP9), and the learner on an older iPad sees them.
    for video, audio, want in (("libsvtav1", "libopus", ["h264", "aac"]), ("libvpx", "libvorbis", ["h264", "aac"]),
                               ("libvpx-vp9", "libvorbis", ["vp9", "opus"])):
        if not (_has_encoder(video) and _has_encoder(audio)):
            continue
        src = tmp_path / f"{video}.webm"
        coding = ["-preset", "12"] if video == "libsvtav1" else ["-deadline", "realtime", "-cpu-used", "8", "-b:v", "1M"]
        _ffmpeg(*LAVFI_20S, "-t", "8", "-c:v", video, *coding, "-g", "50", "-pix_fmt", "yuv420p", "-c:a", audio, str(src))
        media = probe(src)
        clips = make_clips(media, [Chapter(1, 0.0, 3.3, "A"), Chapter(2, 3.3, 8.0, "B")], None, tmp_path / video, Options())
        for clip in clips:
            assert [s["codec_name"] for s in ffprobe(clip.path)["streams"]] == want, (video, clip.path.name)
        copy = make_web_copy(media, tmp_path / video / "media" / "recording")
        assert [s["codec_name"] for s in ffprobe(copy)["streams"]] == want, (video, copy.name)


@pytest.mark.slow
def test_a_picture_that_changes_size_part_way_gives_clips_of_its_size(tmp_path, caplog):
    # Zoom before 3.5 wrote "multi-resolution" recordings: the size changes when a
    # screen share starts. A smart cut encoded the clip's first frames at the
    # stream's first size, then copied frames of the new one.
    a, b = tmp_path / "a.ts", tmp_path / "b.ts"
    _ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=320x240:rate={FPS}:duration=6", "-c:v", "libx264", "-preset", "veryfast",
            *GOP_2S, "-f", "mpegts", str(a))  # fmt: skip
    _ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=640x480:rate={FPS}:duration=6", "-c:v", "libx264", "-preset", "veryfast",
            *GOP_2S, "-output_ts_offset", "6", "-f", "mpegts", str(b))  # fmt: skip
    src = tmp_path / "zoom-3.4.mp4"
    _ffmpeg("-i", f"concat:{a}|{b}", "-c", "copy", str(src))
    media = probe(src)
    with caplog.at_level(logging.INFO, logger="recast.clips"):
        result = make_clips(media, [Chapter(1, 0.0, 7.3, "One"), Chapter(2, 7.3, 12.0, "Two")], None, tmp_path / "c", Options())
    assert "not 320x240" in caplog.text
    with av.open(str(result[1].path)) as c:
        assert {(f.width, f.height) for f in c.decode(video=0)} == {(640, 480)}
