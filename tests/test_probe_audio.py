"""Stages 1-2: probing and decoding, on real media made with ffmpeg."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recast.audio import find_silences, load_audio
from recast.errors import MediaError
from recast.models import SAMPLE_RATE
from recast.probe import file_sha256, probe


def test_probe_video(media):
    info = probe(media["video"])
    assert info.has_video and info.width == 320 and info.height == 240
    assert abs(info.fps - 25) < 0.01
    assert abs(info.duration - 6) < 0.1
    assert len(info.audio_streams) == 1 and info.audio_streams[0].codec == "aac"
    assert info.web_playable


def test_probe_audio_only(media):
    info = probe(media["audio"])
    assert info.is_audio_only
    assert abs(info.duration - 5) < 0.1


def test_probe_two_tracks(media):
    info = probe(media["two_tracks"])
    assert [a.index for a in info.audio_streams] == [0, 1]
    assert not info.web_playable  # Matroska: the player needs an MP4 copy


@pytest.mark.parametrize("case", ["missing", "directory", "empty", "text", "truncated", "playlist"])
def test_probe_refuses(media, case):
    with pytest.raises(MediaError) as e:
        probe(media[case])
    assert e.value.path is not None


def test_decode_is_mono_16k_and_hashes_content(media):
    a = load_audio(probe(media["video"]))
    assert a.samples.dtype == np.float32 and a.samples.ndim == 1
    assert abs(a.duration - 6) < 0.1
    # A 440 Hz tone: the dominant frequency survives decoding.
    spectrum = np.abs(np.fft.rfft(a.samples[:SAMPLE_RATE]))
    assert abs(np.argmax(spectrum) - 440) <= 2
    b = load_audio(probe(media["video"]))
    assert a.sha256 == b.sha256 and len(a.sha256) == 64


def test_audio_decoded_into_a_folder_is_a_read_only_map_of_a_file_there(media, tmp_path):
    # The pipeline decodes into its work folder so that the speech engine reads the
    # file and this process holds none of the samples while it does.
    info = probe(media["video"])
    in_memory = load_audio(info)
    mapped = load_audio(info, folder=tmp_path)
    (tmp_path / "lying").mkdir()
    assert isinstance(mapped.samples, np.memmap) and not mapped.samples.flags.writeable
    file = Path(mapped.samples.filename)
    assert file.parent == tmp_path and file.stat().st_size == 4 * len(in_memory.samples)
    assert np.array_equal(mapped.samples, in_memory.samples) and mapped.sha256 == in_memory.sha256
    # a header that says 1 s for 6 s of sound: the file grows under the map, twice
    import dataclasses

    lying = load_audio(dataclasses.replace(info, duration=1.0), folder=tmp_path / "lying")
    assert np.array_equal(lying.samples, in_memory.samples)


def test_audio_too_short_to_transcribe_leaves_no_file_behind(tmp_path):
    from tests.conftest import ffmpeg

    f = tmp_path / "blip.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=f=300:d=0.03", "-c:a", "aac", str(f))
    folder = tmp_path / "scratch"
    folder.mkdir()
    with pytest.raises(MediaError, match="empty"):
        load_audio(probe(f), folder=folder)
    assert list(folder.iterdir()) == []


def test_second_track_is_a_different_sound(media):
    info = probe(media["two_tracks"])
    a0, a1 = load_audio(info, 0), load_audio(info, 1)
    assert a0.sha256 != a1.sha256 and a1.track == 1


def test_no_audio_stream(media):
    with pytest.raises(MediaError, match="no audio stream"):
        load_audio(probe(media["noaudio"]))


def test_silences_found_in_a_gap(tmp_path):
    from tests.conftest import ffmpeg

    f = tmp_path / "gap.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=f=300:d=2", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono:d=1.5",
           "-f", "lavfi", "-i", "sine=f=300:d=2", "-filter_complex", "[0][1][2]concat=n=3:v=0:a=1", str(f))
    quiet = find_silences(load_audio(probe(f)))
    assert len(quiet) == 1
    start, end = quiet[0]
    assert abs(start - 2.0) < 0.1 and abs(end - 3.5) < 0.1


def test_file_sha256(tmp_path):
    p = tmp_path / "x.bin"
    p.write_bytes(b"abc")
    assert file_sha256(p) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_a_relative_name_with_a_colon_is_a_file_not_a_protocol(sample, tmp_path, monkeypatch):
    # FFmpeg reads "a:b.mp4" as protocol "a" unless the path is made explicit.
    import shutil

    from recast.thumbnails import make_thumbnails
    from recast.models import Chapter

    monkeypatch.chdir(tmp_path)
    shutil.copy(sample, tmp_path / "lecture3:intro.mp4")
    info = probe(Path("lecture3:intro.mp4"))
    assert info.has_video and info.audio_streams
    thumbs = make_thumbnails(info, [Chapter(1, 6.0, 20.0, "Intro")], None, tmp_path / "thumbs")
    assert len(thumbs) == 2


def test_a_file_cut_inside_its_header_is_said_to_be_truncated(sample, tmp_path):
    head = tmp_path / "head.mp4"
    head.write_bytes(sample.read_bytes()[:5000])  # the sample's index comes first (faststart)
    with pytest.raises(MediaError, match="truncated") as e:
        probe(head)
    assert e.value.path == head


@pytest.mark.parametrize("seconds", [20, 30, 40])
def test_a_dvd_program_stream_is_read(sample, tmp_path, seconds):
    # MPEG program streams seek by byte: the check of the file's end lands inside an
    # audio frame, whose cut-off tail does not decode. That is not a corrupt file.
    mpg = tmp_path / "dvd.mpg"
    from tests.conftest import ffmpeg

    ffmpeg("-i", str(sample), "-t", str(seconds), "-vf", "scale=720:576,setsar=64/45", "-c:v", "mpeg2video", "-b:v", "3M",
           "-c:a", "mp2", "-ar", "48000", str(mpg))  # fmt: skip
    info = probe(mpg)
    assert info.format_name == "mpeg" and info.has_video and info.audio_streams[0].codec == "mp2"
    assert abs(info.duration - seconds) < 1


def test_stereo_whose_channels_cancel_is_heard(sample, tmp_path):
    # One channel recorded with its polarity inverted (a miswired microphone): added
    # together the channels cancel, and recognition found no words at all.
    from recast.audio import channels_cancel
    from tests.conftest import ffmpeg

    def stereo(name: str, right: str) -> Path:
        out = tmp_path / name
        ffmpeg("-i", str(sample), "-t", "60", "-af", f"pan=stereo|c0=c0|c1={right}", "-c:a", "pcm_s16le", "-vn", str(out))
        return out

    level = {}
    for name, right in (("inverted.wav", "-1*c0"), ("same.wav", "c0"), ("left only.wav", "0*c0")):
        media = probe(stereo(name, right))
        assert media.audio_streams[0].channels == 2
        level[name] = (channels_cancel(media, 0), float(np.sqrt(np.mean(load_audio(media).samples ** 2))))
    assert [cancel for cancel, _ in level.values()] == [True, False, False]
    # the inverted recording is heard as loud as the same sound in both channels
    assert level["inverted.wav"][1] == pytest.approx(level["same.wav"][1], rel=0.05)
    assert level["left only.wav"][1] > 0.3 * level["same.wav"][1]


def test_dv_in_avi_is_known_to_be_interlaced(tmp_path):
    # AVI states no field order; DV is always interlaced, and says so in each frame.
    from tests.conftest import ffmpeg

    tape = tmp_path / "tape.avi"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=720x576:r=25:d=2", "-vf", "setsar=16/15,setfield=bff",
           "-c:v", "dvvideo", "-pix_fmt", "yuv420p", str(tape))  # fmt: skip
    media = probe(tape)
    assert media.video_codec == "dvvideo" and media.video_interlaced
