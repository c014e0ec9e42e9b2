"""Chapter thumbnails and the session poster, from tiny lavfi videos."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from recast.ffmpeg import ffmpeg_exe
from recast.models import Chapter, Frame, SceneChange, VideoAnalysis
from recast.probe import probe
from recast.thumbnails import frame_score, make_thumbnails


@pytest.fixture(scope="session")
def talk(tmp_path_factory) -> Path:
    """12 s 480x270 25 fps: black until 2.5 s, then a test pattern that is blurred
    (a fade) between 6.0 and 7.5 s; a tone for audio."""
    d = tmp_path_factory.mktemp("thumbmedia")
    path = d / "talk.mp4"
    vf = (
        "drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='lt(t,2.5)',"
        "boxblur=12:enable='between(t,6,7.5)'"
    )
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", "testsrc2=size=480x270:rate=25:duration=12",
         "-f", "lavfi", "-i", "sine=frequency=440:duration=12",
         "-vf", vf, "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )  # fmt: skip
    return path


CHAPTERS = [Chapter(1, 0.0, 6.0, "Black start"), Chapter(2, 6.0, 12.0, "Blurred start")]


def luma(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("L"), dtype=np.float32)


def sharpness(path: Path) -> float:
    with Image.open(path) as im:
        return frame_score(im.convert("RGB"))


def test_thumbnails_avoid_black_and_blurred_frames(talk, tmp_path):
    media = probe(talk)
    thumbs = make_thumbnails(media, CHAPTERS, None, tmp_path / "thumbs")
    assert [t.chapter for t in thumbs] == [0, 1, 2]
    poster, one, two = thumbs
    for t in thumbs:
        assert t.path.is_absolute() and t.path.parent == tmp_path / "thumbs"
        assert t.path.read_bytes()[8:12] == b"WEBP"
        assert t.path.stat().st_size < 60_000
        with Image.open(t.path) as im:
            assert im.size == (t.width, t.height)
        assert luma(t.path).mean() > 40  # not black
    # the source (480 px) is narrower than a chapter picture (640) and a poster (1280)
    assert (one.width, one.height) == (480, 270)
    assert (poster.width, poster.height) == (480, 270)
    # Chapter 1: candidates at 0.6 and 0.9 s are black; one of the later ones is taken.
    assert 2.5 <= one.time < 6.0
    # Chapter 2: 6.6, 6.9 and 7.2 s are blurred; the frame at 7.8 s is sharp.
    assert two.time > 7.5
    assert sharpness(two.path) > 3 * sharpness_of_blurred(talk, tmp_path)
    assert poster.time == one.time
    assert sorted(p.name for p in (tmp_path / "thumbs").iterdir()) == ["chapter-01.webp", "chapter-02.webp", "poster.webp"]


def sharpness_of_blurred(talk: Path, tmp_path: Path) -> float:
    import av

    with av.open(str(talk)) as c:
        for frame in c.decode(c.streams.video[0]):
            if frame.time >= 6.6:
                return frame_score(frame.to_image())
    raise AssertionError("no frame at 6.6 s")


def test_frames_next_to_scene_changes_are_avoided(talk, tmp_path):
    # Chapter 3-12 s: candidates at 3.9, 4.35, 4.8 and 5.7 s. A scene change at 4.4 s
    # rules out the first three (within 1 s of it), so the frame shown at 5.7 s is taken.
    video = VideoAnalysis(scene_changes=(SceneChange(4.4, 80.0),))
    thumbs = make_thumbnails(probe(talk), [Chapter(1, 3.0, 12.0, "Late")], video, tmp_path)
    assert abs(thumbs[1].time - 5.7) < 0.041


def test_chapter_slide_is_preferred(talk, tmp_path):
    slide = Image.new("RGB", (640, 360), (200, 30, 30))
    draw = ImageDraw.Draw(slide)
    for y in range(40, 320, 40):
        draw.rectangle((40, y, 600, y + 12), fill=(255, 255, 255))
    slide.save(tmp_path / "slide.png")
    Image.new("RGB", (640, 360), (255, 255, 255)).save(tmp_path / "blank.png")
    video = VideoAnalysis(frames=(Frame(1.0, tmp_path / "blank.png"), Frame(6.4, tmp_path / "blank.png"),
                                  Frame(6.9, tmp_path / "slide.png")))  # fmt: skip
    thumbs = make_thumbnails(probe(talk), CHAPTERS, video, tmp_path / "t")
    two = thumbs[2]
    assert two.time == 6.9  # the chapter's first usable slide; the blank one is skipped
    with Image.open(two.path) as im:
        r, g, b = np.asarray(im.convert("RGB"), dtype=np.float32).reshape(-1, 3).mean(axis=0)
    assert r > g + 50 and r > b + 50
    assert (two.width, two.height) == (640, 360)  # sharp as a chapter page's poster
    # Chapter 1's only still is blank: its picture comes from the video instead.
    assert thumbs[1].time >= 2.5


def test_audio_only_has_no_thumbnails(tmp_path):
    path = tmp_path / "talk.m4a"
    subprocess.run([ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "sine=duration=2", str(path)], check=True)
    assert make_thumbnails(probe(path), [Chapter(1, 0, 2, "a")], None, tmp_path / "t") == []
    assert not (tmp_path / "t").exists()


def test_frame_score_rejects_black_and_flat_frames():
    assert frame_score(Image.new("RGB", (320, 180), (0, 0, 0))) == 0
    assert frame_score(Image.new("RGB", (320, 180), (255, 255, 255))) == 0
    assert frame_score(Image.new("RGB", (320, 180), (90, 120, 200))) == 0
    noisy = Image.fromarray(np.random.default_rng(0).integers(0, 255, (180, 320, 3), dtype=np.uint8))
    assert frame_score(noisy) > 1000
