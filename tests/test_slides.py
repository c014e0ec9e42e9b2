"""The words on the slides (recast/slides.py): which are given to speech
recognition, when each slide's words apply, a real run where they fix the spelling
of names that tiny.en gets wrong by ear, and the slides' text kept for search."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from recast.engine_worker import SAMPLE_RATE, chunk_prompts, clip_prompt, prompt_text
from recast.models import Frame, SceneChange, VideoAnalysis
from recast.ocr import SlideLine
from recast.slides import ReadSlide, slide_spans, slide_terms, slide_text


def _lines(*texts: str, confidence: float = 0.99) -> list[SlideLine]:
    return [SlideLine(t, confidence) for t in texts]


def test_names_and_hard_words_are_chosen_and_everyday_words_left_out() -> None:
    terms = slide_terms([
        _lines("Andre Agassi", "The Kushans ruled from Bactria, and the novels of Huxley were dystopian.",
               "Photosynthates feed endosymbiotic algae in five-set finals"),
    ])[0]
    assert "Andre Agassi" in terms  # a name as one run
    assert "Kushans" in terms and "The Kushans" not in terms  # no stopword at its ends
    assert "Bactria" in terms and "Huxley" in terms
    assert "endosymbiotic" in terms and "Photosynthates" in terms
    # everyday words and well-known names are one token for Whisper: left out
    for word in ("ruled", "novels", "dystopian", "algae", "feed", "five-set", "finals", "The", "from"):
        assert word not in terms, (word, terms)
    # each term once, in reading order
    assert terms.index("Andre Agassi") < terms.index("Kushans") < terms.index("endosymbiotic")
    assert len(terms) == len({t.lower() for t in terms})


def test_what_looks_misread_is_left_out() -> None:
    slides = [
        _lines("Aldous Huxley", "Huxley wrote his first novls at Balliol"),
        _lines("Aldous Huxley (continued)", "The letters between Huxlsy and the society", "French Open fina,.."),
        _lines("Rhodophyta and Chlorophyta", confidence=0.5),  # a line the recogniser is unsure of
        _lines("Nadal beat him in Paris"),  # a name seen once, one edit from "natal": kept
    ]
    terms = slide_terms(slides)
    assert "Huxley" in terms[0] and "Aldous Huxley" in terms[0] and "Balliol" in terms[0]
    assert "novls" not in terms[0]  # one edit from "novels"
    assert terms[1] == ["Aldous Huxley"]  # "Huxlsy" is one edit from "Huxley", seen 3 times; "fina" from "final"
    assert terms[2] == []
    assert terms[3] == ["Nadal"]


def test_search_text_leaves_out_the_template_and_what_was_misread() -> None:
    footer = ("Intro to Botany", "Dr Jane Doe · Spring term")
    slides = [
        ReadSlide(4.0, 40.0, tuple(_lines("Photosynthesis", "Chlorophyll absorbs red light", *footer, "1/4"))),
        ReadSlide(40.0, 55.0, tuple(_lines("Photosynthesis", "Chlorophyll absorbs red light", *footer, "2/4"))),
        ReadSlide(55.0, 90.0, tuple(_lines("The Calvin cycle", *footer, "3/4") + _lines("Rubisc0 fixs C02", confidence=0.6))),
        ReadSlide(90.0, 120.0, tuple(_lines(*footer, "4/4"))),
    ]
    shown = slide_text(slides)
    # a build step that shows the same words extends the slide; the template's lines,
    # page numbers and a line read without confidence are not searchable
    assert [(t.start, t.end, t.text) for t in shown] == [
        (4.0, 55.0, "Photosynthesis\nChlorophyll absorbs red light"),
        (55.0, 90.0, "The Calvin cycle"),
    ]
    # with two slides nothing can be told to be the template's: both keep every line
    two = slide_text(slides[:1] + slides[2:3])
    assert all("Intro to Botany" in t.text for t in two) and len(two) == 2
    # the same words shown again later are a moment of their own
    again = slide_text([*slides, ReadSlide(150.0, 170.0, slides[2].lines)])
    assert [t.start for t in again] == [4.0, 55.0, 150.0]
    # a build step adds a bullet: one slide, from its first step, with every bullet
    builds = slide_text([ReadSlide(0.0, 20.0, tuple(_lines("Budgets", "Write down your income"))),
                         ReadSlide(20.0, 45.0, tuple(_lines("Budgets", "Write down your income", "List fixed costs")))])
    assert [(t.start, t.end, t.text) for t in builds] == [(0.0, 45.0, "Budgets\nWrite down your income\nList fixed costs")]
    # a talk on one slide built up in steps keeps its lines: they are no template
    steps = [ReadSlide(20.0 * k, 20.0 * k + 20, tuple(_lines("Budgets", *(f"Rule number {n}" for n in range(k)))))
             for k in range(1, 5)]
    assert [(t.start, t.end, t.text) for t in slide_text(steps)] == [(20.0, 100.0, "Budgets\nRule number 0\nRule number 1\n"
                                                                      "Rule number 2\nRule number 3")]
    # the header names the talk after its first part: that part's own title stays
    named = slide_text([ReadSlide(4.0 + 40 * k, 44.0 + 40 * k, tuple(_lines(footer[0], *head, *footer[1:])))
                        for k, head in enumerate([["Intro to Botany", "Leaves"], ["Roots"], ["Seeds"]])])
    assert [t.text for t in named] == ["Intro to Botany\nLeaves", "Roots", "Seeds"]
    # a screen with only the template on it (a break) is not the first step of the slide after it
    after_break = slide_text([*slides[:3], ReadSlide(90.0, 300.0, tuple(_lines(*footer))),
                              ReadSlide(300.0, 330.0, tuple(_lines("Questions?", *footer)))])
    assert [(t.start, t.text) for t in after_break][-1] == (300.0, "Questions?")


def test_each_still_speaks_for_the_time_its_slide_was_shown() -> None:
    video = VideoAnalysis(
        scene_changes=(SceneChange(40.0, 60.0), SceneChange(95.5, 70.0)),
        frames=(Frame(0.0, Path("a.jpg")), Frame(41.0, Path("b.jpg")), Frame(96.0, Path("c.jpg"))),
    )
    assert slide_spans(video, 120.0) == [(0.0, 40.0), (40.0, 95.5), (95.5, 120.0)]
    # a still taken at the change, or placed a frame or two before it, belongs to the slide after it
    assert slide_spans(VideoAnalysis((SceneChange(40.0, 60.0),), (Frame(40.0, Path("b.jpg")),)), 90.0) == [(40.0, 90.0)]
    video = VideoAnalysis((SceneChange(4.2, 60.0), SceneChange(42.48, 60.0)), (Frame(4.28, Path("a.jpg")), Frame(42.4, Path("b.jpg"))))
    assert slide_spans(video, 60.0) == [(4.2, 42.48), (42.48, 60.0)]


def test_stills_are_read_once_started_and_not_at_all_when_never_started(monkeypatch) -> None:
    import threading

    import recast.slides as slides

    calls: list[str] = []
    lock = threading.Lock()

    def fake_read(path: Path) -> tuple[SlideLine, ...]:
        with lock:
            calls.append(path.name)
        return (SlideLine(f"text of {path.name}", 0.99),)

    monkeypatch.setattr(slides, "read_slide", fake_read)
    long, brief, late = Path("long.jpg"), Path("brief.jpg"), Path("late.jpg")

    # a rebuild reuses the transcript: the offered stills are never read
    idle = slides.SlideReader(2)
    idle.offer([(long, 60.0)])
    idle.close()
    idle.offer([(late, 60.0)])  # the analysis may still be running: ignored, no error
    assert calls == []

    reader = slides.SlideReader(2)
    reader.offer([(long, 60.0), (brief, slides.MIN_SHOWN - 1)])  # before start: kept
    reader.start()
    reader.offer([(late, 30.0)])  # after start: read at once
    got = reader.read([long, late, brief])  # the brief one was not read ahead, so it is read now
    reader.close()
    assert [lines[0].text for lines in got] == ["text of long.jpg", "text of late.jpg", "text of brief.jpg"]
    assert sorted(calls) == ["brief.jpg", "late.jpg", "long.jpg"]  # each once


def test_a_chunk_gets_the_words_of_every_slide_it_overlaps_after_the_vocabulary() -> None:
    prompts = [(0.0, 45.0, "Andre Agassi."), (35.0, 100.0, "Pete Sampras, Wimbledon.")]
    s = SAMPLE_RATE
    assert clip_prompt((0, 30 * s), prompts, None) == "Andre Agassi."
    assert clip_prompt((30 * s, 60 * s), prompts, "Steffi Graf.") == "Steffi Graf. Andre Agassi. Pete Sampras, Wimbledon."
    assert clip_prompt((60 * s, 90 * s), prompts, None) == "Pete Sampras, Wimbledon."
    assert clip_prompt((120 * s, 150 * s), prompts, None) is None
    # in runs of a batch: each run gets the words of every slide one of its chunks overlaps
    chunks = [(0, 30 * s), (30 * s, 60 * s), (60 * s, 90 * s), (120 * s, 150 * s), (150 * s, 160 * s)]
    assert chunk_prompts(chunks, prompts, None, 2) == [
        ("Andre Agassi. Pete Sampras, Wimbledon.", chunks[:2]), ("Pete Sampras, Wimbledon.", chunks[2:4]), (None, chunks[4:])]
    assert chunk_prompts(chunks, [], "Graf.", 2) == [("Graf.", chunks)]  # no slides: one call, as before
    # the user's vocabulary stays whole; slide words beyond what Whisper reads are cut at a word
    long = prompt_text("Graf.", ["word " * 200], limit=60)
    assert long is not None and long.startswith("Graf. word") and len(long) <= 60 and long.endswith("word")


def _font() -> str | None:
    for p in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"):
        if Path(p).is_file():
            return p
    return None


def _slide(path: Path, title: str, bullets: list[str]) -> Path:
    from PIL import Image, ImageDraw, ImageFont

    font = _font()
    im = Image.new("RGB", (1280, 720), (250, 250, 250))
    d = ImageDraw.Draw(im)
    d.text((60, 50), title, font=ImageFont.truetype(font, 56), fill=(20, 20, 20))
    for i, line in enumerate(bullets):
        d.text((80, 180 + 60 * i), "• " + line, font=ImageFont.truetype(font, 32), fill=(40, 40, 40))
    im.save(path)
    return path


def test_a_real_slide_is_read_and_a_passing_screen_is_not(tmp_path: Path) -> None:
    ocr = pytest.importorskip("recast.ocr")
    if not ocr.available() or _font() is None:
        pytest.skip("rapidocr or a font is missing")
    from PIL import Image

    from recast.slides import MARGIN, MIN_SHOWN, read_slides, slide_prompts

    def still(name: str, title: str, bullet: str) -> Path:
        path = _slide(tmp_path / f"{name}.png", title, [bullet])
        with Image.open(path) as im:  # video analysis stills are 640 px wide
            im.resize((640, 360)).save(tmp_path / f"{name}.jpg")
        return tmp_path / f"{name}.jpg"

    video = VideoAnalysis(
        scene_changes=(SceneChange(30.0, 60.0), SceneChange(30.0 + MIN_SHOWN - 1, 60.0)),
        frames=(Frame(0.5, still("one", "Tennis academies", "Nick Bollettieri coached Andre Agassi")),
                Frame(30.5, still("two", "Passing by", "Pete Sampras and Steffi Graf")),
                Frame(40.0, still("three", "Rivals", "Agassi against Pete Sampras"))),
    )
    read = read_slides(video, 100.0)
    prompts = slide_prompts(read)
    assert [(p.start, p.end) for p in prompts] == [(0.0, 30.0 + MARGIN), (30.0 + MIN_SHOWN - 1 - MARGIN, 100.0 + MARGIN)]
    assert "Bollettieri" in prompts[0].text and "Agassi" in prompts[0].text and "Tennis" not in prompts[0].text
    assert "Sampras" in prompts[1].text and "Graf" not in prompts[1].text  # the 9-second screen was not read
    # the same reading is what search finds, every line of the slide
    assert [(t.start, t.text) for t in slide_text(read)] == [
        (0.0, "Tennis academies\nNick Bollettieri coached Andre Agassi"), (30.0 + MIN_SHOWN - 1, "Rivals\nAgassi against Pete Sampras")]


@pytest.mark.slow
def test_the_names_on_the_slides_are_spelled_as_the_slides_spell_them(tmp_path: Path) -> None:
    ocr = pytest.importorskip("recast.ocr")
    if not ocr.available() or _font() is None:
        pytest.skip("rapidocr or a font is missing")
    from recast.config import Options
    from recast.ffmpeg import ffmpeg_exe
    from recast.pipeline import process
    from tests.test_transcribe import _say

    # tiny.en alone writes "Nick Balliteri coached Andre Agassie ... Pete Sampers"
    first = _say("Nick Bollettieri coached Andre Agassi at his academy in Florida.")
    second = _say("Later Agassi played Pete Sampras in the final.")
    gap = np.zeros(SAMPLE_RATE * 6, np.float32)  # a long pause: the two sentences are decoded as two chunks
    quiet = np.zeros(SAMPLE_RATE * 6, np.float32)  # each slide is on screen long enough to be read (MIN_SHOWN)
    audio = np.concatenate([quiet, first, gap, second, quiet])
    change = 6.0 + len(first) / SAMPLE_RATE + 3.0  # the slide changes in the pause
    wav = tmp_path / "talk.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(SAMPLE_RATE)
        w.writeframes((np.clip(audio, -1, 1) * 32767).astype(np.int16).tobytes())
    one = _slide(tmp_path / "one.png", "Tennis academies", ["Nick Bollettieri coached Andre Agassi"])
    two = _slide(tmp_path / "two.png", "The rivalry", ["Agassi against Pete Sampras"])
    video = tmp_path / "talk.mp4"
    total = len(audio) / SAMPLE_RATE
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-loop", "1", "-t", f"{change:.3f}", "-i", str(one),
         "-loop", "1", "-t", f"{total - change:.3f}", "-i", str(two), "-i", str(wav),
         "-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0,fps=25,format=yuv420p[v]", "-map", "[v]", "-map", "2:a",
         "-c:v", "libx264", "-g", "50", "-c:a", "aac", "-shortest", str(video)],
        check=True,
    )
    options = Options(cache_dir=tmp_path / "cache", clips="none")

    def words(result) -> str:
        return " ".join(seg.text for seg in result.session.transcript.segments)

    first_build = process(video, tmp_path / "plain", options.replace(slide_vocabulary=False))
    plain = words(first_build)
    assert "Agassie" in plain or "Sampers" in plain, plain  # what the slides are there to fix
    assert "slides" in first_build.timings  # read for search all the same
    read = process(video, tmp_path / "read", options)
    text = words(read)
    for name in ("Bollettieri", "Agassi", "Sampras"):
        assert name in text, text
    assert "Agassie" not in text and "Sampers" not in text, text
    assert "slides" not in read.timings  # the slides read by the first build, from the cache
    assert "slides" in process(video, tmp_path / "forced", options.replace(force=True)).timings  # --force reads again
    # what search finds: each slide's lines, from when it was shown
    assert [(round(t.start, 1), t.text) for t in read.session.slides] == [
        (0.0, "Tennis academies\nNick Bollettieri coached Andre Agassi"),
        (round(change, 1), "The rivalry\nAgassi against Pete Sampras")]


@pytest.mark.slow
def test_openai_whisper_takes_the_words_of_the_slide_each_chunk_overlaps(tmp_path: Path) -> None:
    from tests.test_transcribe import HAS_WHISPER, _say

    if not HAS_WHISPER:
        pytest.skip("openai-whisper is not installed")
    from recast import transcribe as tr
    from recast.config import Options
    from recast.models import Audio, TimedText

    first = _say("Nick Bollettieri coached Andre Agassi at his academy in Florida.")
    second = _say("Later Agassi played Pete Sampras in the final.")
    gap = np.zeros(SAMPLE_RATE * 6, np.float32)  # two chunks
    audio = Audio(np.concatenate([np.zeros(SAMPLE_RATE, np.float32), first, gap, second]), offset=2.0)
    change = 2.0 + 1.0 + len(first) / SAMPLE_RATE + 3.0  # on the source timeline, in the pause
    options = Options(cache_dir=tmp_path, engine="openai-whisper", device="cpu")
    plain = tr.transcribe(audio, options).text
    assert "Agassie" in plain or "Sampers" in plain, plain
    # the first slide's words reach only the first sentence's chunk
    text = tr.transcribe(audio, options, prompts=[TimedText(0.0, change, "Nick Bollettieri, Andre Agassi.")]).text
    first_text, _, second_text = text.partition("Later")
    assert "Bollettieri" in first_text and "Agassi " in first_text + " ", text
    assert second_text.strip() == plain.partition("Later")[2].strip(), (plain, text)


def test_the_slides_read_are_cached_and_a_damaged_entry_is_read_again(tmp_path: Path, caplog) -> None:
    from recast.config import Options
    from recast.pipeline import _cache_slides, _cached_slides, _slides_cache_path

    path = _slides_cache_path(Options(cache_dir=tmp_path), "abc:3")
    assert path != _slides_cache_path(Options(cache_dir=tmp_path), "abc:4")  # a new way of reading reads again
    assert _cached_slides(path) is None
    read = (ReadSlide(4.0, 40.0, tuple(_lines("Photosynthesis", "Chlorophyll", confidence=0.93))), ReadSlide(40.0, 61.5, ()))
    _cache_slides(path, read)
    assert _cached_slides(path) == read
    path.write_text('{"slides": [{"start": 4.0, "lines": [["Photo', encoding="utf-8")  # cut short
    assert _cached_slides(path) is None
    assert "damaged slide cache" in caplog.text
