"""Video analysis on small generated videos, and OCR of a rendered slide title."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from recast.ffmpeg import ffmpeg_exe
from recast.models import Frame, MediaInfo, SceneChange, VideoAnalysis
from recast.video import analyze_video, keyframe_times


def _font() -> str | None:
    for p in ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
        if Path(p).is_file():
            return p
    return None


def _slides_video(path: Path, colours: list[tuple[str, float]], gop: int = 250) -> list[float]:
    """An MP4 of coloured slides with a title each (lavfi); returns the change times."""
    inputs, chain, t, changes = [], [], 0.0, []
    font = _font()
    for i, (colour, dur) in enumerate(colours):
        inputs += ["-f", "lavfi", "-i", f"color=c={colour}:s=640x360:r=25:d={dur}"]
        text = f",drawtext=fontfile={font}:text='Slide {i + 1}':fontsize=40:x=30:y=20:fontcolor=white" if font else ""
        chain.append(f"[{i}:v]null{text}[v{i}]")
        if i:
            changes.append(t)
        t += dur
    graph = ";".join(chain) + ";" + "".join(f"[v{i}]" for i in range(len(colours))) + f"concat=n={len(colours)}:v=1:a=0[out]"
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *inputs, "-filter_complex", graph, "-map", "[out]",
           "-c:v", "libx264", "-preset", "ultrafast", "-g", str(gop), "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(cmd, check=True, timeout=120)
    return changes


def _media(path: Path, duration: float) -> MediaInfo:
    return MediaInfo(path=path, size=path.stat().st_size, format_name="mov,mp4,m4a,3gp,3g2,mj2", duration=duration,
                     start_time=0.0, audio_streams=(), has_video=True, width=640, height=360, fps=25.0, video_codec="h264")


@pytest.mark.slow
def test_three_slides_found_to_the_frame(tmp_path):
    # both changes fall inside one keyframe interval (0-10 s) and between the 5 fps
    # samples (4.12 s, 9.32 s): each is placed on its first frame (25 fps)
    video = tmp_path / "slides.mp4"
    truth = _slides_video(video, [("red", 4.12), ("navy", 5.2), ("darkgreen", 4.48)])
    offered: list[tuple[Path, float]] = []
    result = analyze_video(_media(video, 13.8), tmp_path / "work", on_stills=offered.extend)
    found = [c.time for c in result.scene_changes]
    assert len(found) == len(truth), found
    for f, t in zip(found, truth):
        assert abs(f - t) <= 0.041, found
    # the stills were offered for reading before the changes were placed, each with
    # at least the time its slide was really on screen
    assert [p for p, _ in offered] == [f.path for f in result.frames if f.path.name.startswith("still")]
    shown = dict(zip((f.path for f in result.frames), np.diff([0.0, *truth, 13.8])))
    for p, longest in offered:
        assert longest >= shown[p] - 0.01, (p, longest, shown[p])
    # one still per stable shot, taken after the change, readable images 640 px wide
    assert len(result.frames) == 3
    from PIL import Image

    # each still lies inside its own shot (a keyframe, or a moment after a placed change)
    for frame, start, end in zip(result.frames, [0.0, *truth], [*truth, 13.8]):
        assert start <= frame.time < end
        with Image.open(frame.path) as im:
            assert im.size[0] == 640
    assert result.keyframes and result.keyframes[0] == pytest.approx(0.0)


@pytest.mark.slow
def test_changes_between_sparse_keyframes_are_found(tmp_path):
    # one keyframe a minute (and none at the changes): the coarse pass sees nothing useful
    video = tmp_path / "sparse.mp4"
    truth = _slides_video(video, [("black", 3.0), ("white", 3.0), ("gray", 3.0)], gop=1500)
    assert len(keyframe_times(video)) <= 3
    result = analyze_video(_media(video, 9.0), tmp_path / "work")
    found = [c.time for c in result.scene_changes]
    assert len(found) == 2 and all(abs(f - t) <= 0.5 for f, t in zip(found, truth)), found


@pytest.mark.slow
def test_camera_footage_with_rare_keyframes_is_not_decoded_whole(tmp_path):
    # A minute of moving picture, then two slides, a keyframe every 20 s: every
    # frame must be decoded to see anything between keyframes. Camera footage is told
    # apart within a minute (the pipeline then stops waiting for slides to read), its
    # stills are thinned, and once the picture settles the slides are followed to
    # the frame again.
    video = tmp_path / "camera.mp4"
    font = _font()
    text = (lambda t: f",drawtext=fontfile={font}:text='{t}':fontsize=28:x=20:y=10:fontcolor=white") if font else (lambda t: "")
    graph = (f"[0:v]null[v0];[1:v]null{text('Slide A')}[v1];[2:v]null{text('Slide B')}[v2];"
             "[v0][v1][v2]concat=n=3:v=1:a=0[out]")
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=64",
                    "-f", "lavfi", "-i", "color=c=navy:s=320x180:r=25:d=39.4",
                    "-f", "lavfi", "-i", "color=c=darkgreen:s=320x180:r=25:d=26.6",
                    "-filter_complex", graph, "-map", "[out]", "-c:v", "libx264", "-preset", "ultrafast",
                    "-g", "500", "-pix_fmt", "yuv420p", str(video)], check=True, timeout=120)
    told: list[bool] = []
    result = analyze_video(_media(video, 130.0), tmp_path / "work", on_footage=lambda: told.append(True))
    assert told == [True]
    # the moving minute gave a still or two, not one a second
    assert sum(f.time < 64.0 for f in result.frames) <= 3, [f.time for f in result.frames]
    # the camera's motion is no slide change; the cut to the slides is reported
    # (at the first keyframe that shows them)
    assert not [c.time for c in result.scene_changes if 2.0 < c.time < 64.0]
    assert any(64.0 <= c.time <= 80.0 for c in result.scene_changes)
    # the second slide is placed to the frame (25 fps) and has a still of its own
    assert any(abs(c.time - 103.4) <= 0.041 for c in result.scene_changes), [c.time for c in result.scene_changes]
    assert any(103.4 <= f.time < 130.0 for f in result.frames)
    # slides alone are never taken for camera footage
    slides = tmp_path / "slides.mp4"
    _slides_video(slides, [("black", 50.0), ("white", 40.0), ("gray", 10.0)], gop=500)
    told.clear()
    result = analyze_video(_media(slides, 100.0), tmp_path / "work2", on_footage=lambda: told.append(True))
    assert told == [] and [round(c.time, 2) for c in result.scene_changes] == [50.0, 90.0]


def _screen_recording(tmp_path: Path, colours: list[tuple[str, float]], every: int = 50) -> Path:
    """A variable-frame-rate screen recording as Zoom and some recorders write it: a
    frame every `every` frames of 25 fps (2 s), one keyframe, B-frames."""
    cfr = tmp_path / "cfr.mp4"
    _slides_video(cfr, colours, gop=100000)
    vfr = tmp_path / "screen.mp4"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(cfr),
                    "-vf", f"select='not(mod(n\\,{every}))'", "-fps_mode", "vfr", "-c:v", "libx264", "-preset", "veryfast",
                    "-g", "100000", "-x264-params", "scenecut=0:b-adapt=0:bframes=3", "-pix_fmt", "yuv420p", str(vfr)], check=True, timeout=120)
    return vfr


@pytest.mark.slow
def test_a_screen_recording_that_writes_a_frame_every_two_seconds(tmp_path):
    # Every frame counts: a slide change is the first frame that shows it, not a
    # frame or two later (the decoder must not skip the B-frames here).
    video = _screen_recording(tmp_path, [("black", 4.3), ("white", 5.0), ("gray", 4.7)])
    result = analyze_video(_media(video, 14.0), tmp_path / "work")
    assert [round(c.time, 2) for c in result.scene_changes] == [6.0, 10.0]
    assert len(result.frames) == 3 and all(f.path.is_file() for f in result.frames)


def _turned_video(tmp_path: Path) -> Path:
    """Six seconds of a picture bright above and dark below, as a phone held upside
    down stores it: the pixels turned half round and a display rotation of 180
    degrees, so that players (and ffmpeg) show it the right way up."""
    stored = tmp_path / "stored.mp4"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", "color=c=white:s=320x180:r=25:d=6",
                    "-vf", "drawbox=x=0:y=90:w=320:h=90:color=black:t=fill,hflip,vflip",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(stored)], check=True, timeout=60)
    turned = tmp_path / "turned.mp4"
    for flag in (["-display_rotation:v:0", "180", "-i", str(stored)], ["-i", str(stored), "-metadata:s:v", "rotate=180"]):
        done = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *flag, "-c", "copy",
                               str(turned)], capture_output=True, timeout=60)  # fmt: skip
        if done.returncode == 0:
            import av

            with av.open(str(turned)) as c:
                if abs(getattr(next(c.decode(video=0)), "rotation", 0) or 0) == 180:
                    return turned
    pytest.skip("this ffmpeg cannot write a display rotation, or PyAV cannot read one")


@pytest.mark.slow
def test_stills_and_thumbnails_of_a_turned_video_are_the_right_way_up(tmp_path):
    from PIL import Image

    from recast.models import Chapter
    from recast.probe import probe
    from recast.thumbnails import make_thumbnails

    video = _turned_video(tmp_path)
    media = probe(video)

    def upright(img) -> bool:
        a = np.asarray(img.convert("L"), dtype=float)
        return a[: a.shape[0] // 3].mean() > 200 and a[-a.shape[0] // 3 :].mean() < 60

    result = analyze_video(media, tmp_path / "work")
    assert result.frames
    for f in result.frames:
        with Image.open(f.path) as im:
            assert upright(im), f.path
    # thumbnails decoded from the video itself (no stills given)
    thumbs = make_thumbnails(media, [Chapter(1, 0.0, 6.0, "All")], None, tmp_path / "thumbs")
    assert thumbs
    for t in thumbs:
        with Image.open(t.path) as im:
            assert upright(im), t.path


@pytest.mark.slow
def test_hevc_with_open_gops_gives_every_keyframe(tmp_path):
    # Phones and x265 write HEVC with open GOPs: decoding keyframes only, the decoder
    # held every other one back for good, so slides went without a still (and their
    # chapters took the title of the slide before).
    h264 = tmp_path / "slides.mp4"
    truth = _slides_video(h264, [("black", 5.0), ("white", 10.0), ("gray", 10.0), ("navy", 15.0)], gop=100000)
    hevc = tmp_path / "phone.mov"
    done = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(h264),
                           "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error",
                           "-tag:v", "hvc1", str(hevc)], capture_output=True, timeout=120)  # fmt: skip
    if done.returncode != 0:
        pytest.skip("this ffmpeg has no libx265")
    result = analyze_video(_media(hevc, 40.0), tmp_path / "work")
    found = [c.time for c in result.scene_changes]
    assert len(found) == 3 and all(abs(f - t) <= 0.05 for f, t in zip(found, truth)), found
    # one still per slide: the keyframe that first shows it (one every 10 s)
    assert [f.time for f in result.frames] == [0.0, 10.0, 20.0, 30.0]


@pytest.mark.slow
def test_a_stopped_analysis_ends_at_once(tmp_path):
    # The run the analysis serves has failed: it stops where it is, on either path,
    # instead of decoding to the end of the video before the error can be said.
    import threading

    from recast.video import Cancelled

    slides = tmp_path / "slides.mp4"
    _slides_video(slides, [("black", 4.1), ("white", 5.9)], gop=50)
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        analyze_video(_media(slides, 10.0), tmp_path / "w1", stop=stop)
    # stopped once the stills are known: the change is not placed
    stop.clear()
    offered: list = []
    with pytest.raises(Cancelled):
        analyze_video(_media(slides, 10.0), tmp_path / "w2", on_stills=lambda s: (offered.extend(s), stop.set()), stop=stop)
    assert len(offered) == 2
    # the full decode of rare keyframes stops at its next sample
    camera = tmp_path / "camera.mp4"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=90", "-c:v", "libx264", "-preset", "ultrafast",
                    "-g", "2250", "-pix_fmt", "yuv420p", str(camera)], check=True, timeout=120)
    stop.clear()
    with pytest.raises(Cancelled):
        analyze_video(_media(camera, 90.0), tmp_path / "w3", on_footage=stop.set, stop=stop)
    # not stopped, the same video is analysed to its end
    assert analyze_video(_media(camera, 90.0), tmp_path / "w4", stop=threading.Event()).keyframes


@pytest.mark.slow
def test_the_end_of_a_picture_that_stops_before_the_sound_is_known(tmp_path):
    from recast.probe import probe

    slides = tmp_path / "slides.mp4"
    _slides_video(slides, [("black", 4.0), ("white", 4.0)], gop=50)
    stopped = tmp_path / "stopped.mp4"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(slides),
                    "-f", "lavfi", "-i", "sine=frequency=440:duration=20", "-map", "0:v", "-map", "1:a",
                    "-c:v", "copy", "-c:a", "aac", str(stopped)], check=True, timeout=60)
    assert analyze_video(probe(stopped), tmp_path / "w1").end == pytest.approx(8.0, abs=0.05)
    assert analyze_video(probe(slides), tmp_path / "w2").end is None  # the picture lasts as long as the file


def test_audio_only_media_has_no_video_analysis(tmp_path):
    media = MediaInfo(path=tmp_path / "a.m4a", size=1, format_name="mp4", duration=1.0, start_time=0.0, audio_streams=())
    assert analyze_video(media, tmp_path) == VideoAnalysis()


@pytest.mark.slow
def test_ocr_reads_a_rendered_slide_title(tmp_path):
    ocr = pytest.importorskip("recast.ocr")
    if not ocr.available():
        pytest.skip("rapidocr is not installed")
    from PIL import Image, ImageDraw, ImageFont

    font = _font()
    if font is None:
        pytest.skip("no TrueType font to render with")
    im = Image.new("RGB", (640, 360), "white")
    d = ImageDraw.Draw(im)
    d.text((30, 12), "Physics 8.01 - Week 6", font=ImageFont.truetype(font, 16), fill="gray")
    d.text((30, 40), "Conservation of Momentum", font=ImageFont.truetype(font, 36), fill="black")
    d.text((40, 130), "- elastic collisions keep kinetic energy", font=ImageFont.truetype(font, 20), fill="black")
    path = tmp_path / "slide.png"
    im.save(path)
    got = ocr.read_title(path)
    assert got is not None
    assert got.title.lower().replace(" ", "") == "conservationofmomentum"
    assert got.confidence > 0.8

    # the template benchmarks/synth.py draws: an accent bar just left of the title,
    # which the recogniser reads as "|"
    im = Image.new("RGB", (640, 360), (246, 244, 239))
    d = ImageDraw.Draw(im)
    d.rectangle((32, 50, 37, 84), fill=(150, 70, 40))
    d.text((46, 50), "Part 1", font=ImageFont.truetype(font, 26), fill="black")
    im.save(path)
    got = ocr.read_title(path)
    assert got is not None and got.title == "Part 1"
    assert ocr._title_from_lines([([[0, 0], [9, 0], [9, 9], [0, 9]], "| Agenda", 0.9)]).title == "Agenda"


def _talk_under_titled_slides(tmp_path: Path, titles: list[str], **options):
    """Three topics spoken under white slides with a big title each; the talk's
    transcript, chapter spans and outline (OCR'd titles)."""
    ocr = pytest.importorskip("recast.ocr")
    if not ocr.available() or _font() is None:
        pytest.skip("rapidocr or a font is missing")
    from PIL import Image, ImageDraw, ImageFont

    from recast.chapters import find_chapters
    from recast.config import Options
    from recast.summarize import describe
    from tests.test_chapters import BREAD, SPACE, TAXES, speak

    tr, starts = speak([BREAD, SPACE, TAXES])
    frames, changes = [], []
    for i, (t, title) in enumerate(zip(starts, titles)):
        im = Image.new("RGB", (640, 360), "white")
        ImageDraw.Draw(im).text((30, 30), title, font=ImageFont.truetype(_font(), 34), fill="black")
        im.save(tmp_path / f"s{i}.png")
        frames.append(Frame(t + 1.0, tmp_path / f"s{i}.png"))
        if i:
            changes.append(SceneChange(t + 0.2, 60.0))
    video = VideoAnalysis(tuple(changes), tuple(frames))
    spans = find_chapters(tr, None, video, Options())
    return tr, spans, video, describe(tr, spans, video, Options(**options))


@pytest.mark.slow
def test_slide_title_becomes_the_chapter_title(tmp_path):
    from recast.config import Options
    from recast.summarize import describe

    titles = ["Baking Sourdough Bread", "Black Holes and Neutron Stars", "Filing Your Income Tax"]
    tr, spans, video, outline = _talk_under_titled_slides(tmp_path, titles)
    assert [c.title for c in outline.chapters] == titles
    assert all(c.title_source == "slide" for c in outline.chapters)
    # with OCR off the same chapters get key-phrase titles
    plain = describe(tr, spans, video, Options(ocr=False))
    assert all(c.title_source == "keyphrases" for c in plain.chapters)


@pytest.mark.slow
def test_a_slide_title_that_only_numbers_the_part_gets_what_it_is_about(tmp_path):
    outline = _talk_under_titled_slides(tmp_path, ["Part 1", "Part 2", "Income Taxes"])[3]
    titles = [c.title for c in outline.chapters]
    assert titles[0].startswith("Part 1: ") and "bread" in titles[0].lower()
    assert titles[1].startswith("Part 2: ") and len(titles[1]) <= 60
    assert titles[2] == "Income Taxes"  # a title that says what the part is about is kept as it is
    assert all(c.title_source == "slide" for c in outline.chapters)


@pytest.mark.slow
def test_a_new_slide_title_is_placed_between_distant_keyframes(tmp_path):
    # x264's default keyframe interval (10 s here): a chapter's slide appears at 13.4 s,
    # between the keyframes at 10 and 20 s. Only its title's number and a body line
    # change, as from "Part 1" to "Part 2"; the change must be placed to the moment
    # (the chapter then starts on the sentence said as it appears), not reported as
    # "somewhere in 10-20 s".
    font = _font()
    if font is None:
        pytest.skip("no DejaVu font for drawtext")
    video = tmp_path / "parts.mp4"
    inputs, chain = [], []
    for i, (title, line, dur) in enumerate([("Part 1", "Angular momentum is conserved", 13.4), ("Part 2", "A rod spins about one point", 16.6)]):
        inputs += ["-f", "lavfi", "-i", f"color=c=white:s=640x360:r=25:d={dur}"]
        chain.append(f"[{i}:v]drawtext=fontfile={font}:text='{title}':fontsize=28:x=30:y=30:fontcolor=black,"
                     f"drawtext=fontfile={font}:text='{line}':fontsize=18:x=40:y=140:fontcolor=black[v{i}]")
    graph = ";".join(chain) + ";[v0][v1]concat=n=2:v=1:a=0[out]"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *inputs, "-filter_complex", graph,
                    "-map", "[out]", "-c:v", "libx264", "-preset", "ultrafast", "-g", "250", "-pix_fmt", "yuv420p", str(video)],
                   check=True, timeout=120)
    assert keyframe_times(video)[:3] == pytest.approx([0.0, 10.0, 20.0])
    result = analyze_video(_media(video, 30.0), tmp_path / "work")
    assert [round(c.time, 1) for c in result.scene_changes] in ([13.4], [13.6])  # the 5 fps sample after the change


@pytest.mark.slow
def test_stills_and_thumbnails_of_anamorphic_video_have_its_shape(tmp_path):
    # DVD and DV store 16:9 pictures in 4:3-sized frames with wide pixels (a sample
    # aspect ratio): shown at the stored size, every thumbnail was squeezed.
    from PIL import Image

    from recast.models import Chapter
    from recast.probe import probe
    from recast.thumbnails import make_thumbnails

    video = tmp_path / "dvd.mpg"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc2=s=352x288:r=25:d=6", "-vf", "setsar=16/11",
                    "-c:v", "mpeg2video", "-b:v", "2M", str(video)], check=True, timeout=60)  # fmt: skip
    media = probe(video)
    result = analyze_video(media, tmp_path / "work")
    thumbs = make_thumbnails(media, [Chapter(1, 0.0, 6.0, "All")], None, tmp_path / "thumbs")
    images = [f.path for f in result.frames] + [t.path for t in thumbs]
    assert result.frames and thumbs
    for path in images:
        with Image.open(path) as im:
            assert abs(im.width / im.height - 16 / 9) < 0.02, (path.name, im.size)
