"""End to end on the bundled sample with the real bundled model, real ffmpeg and
real pages: what a trainer gets from `recast run samples/webinar.mp4 -o site`."""

from __future__ import annotations

import json
import time
from pathlib import Path

import av
import pytest

import recast
from recast.captions import read_srt, read_vtt

pytestmark = pytest.mark.slow

TRUTH = json.loads((Path(__file__).resolve().parent.parent / "samples" / "webinar.truth.json").read_text())


@pytest.fixture(scope="module")
def manifest(built_sample):
    return json.loads((built_sample.folder / "session.json").read_text(encoding="utf-8"))


def _duration(path: Path) -> float:
    with av.open(str(path)) as c:
        return c.duration / 1_000_000


def test_transcript_has_words_known_to_be_spoken(built_sample, manifest):
    transcript = json.loads((built_sample.folder / manifest["transcript"]).read_text())
    text = " ".join(s["text"] for s in transcript["segments"]).lower()
    for word in ("photosynthesis", "magma", "flour", "budget", "savings"):
        assert word in text, word
    words = [w for s in transcript["segments"] for w in s["words"]]
    assert len(words) > 250
    starts = [w["start"] for w in words]
    assert starts == sorted(starts)
    assert all(w["start"] <= w["end"] for w in words)
    # No words in the silent lead-in before the talk.
    assert words[0]["start"] >= TRUTH["talk_start"] - 0.5


def test_chapters_in_order_and_covering_the_talk(manifest):
    chapters = manifest["chapters"]
    assert len(chapters) >= 3
    assert [c["index"] for c in chapters] == list(range(1, len(chapters) + 1))
    for a, b in zip(chapters, chapters[1:]):
        assert a["end"] == pytest.approx(b["start"], abs=0.01)
        assert a["start"] < a["end"]
    # The first chapter starts where the talk starts (5 s of waiting before it).
    assert abs(chapters[0]["start"] - TRUTH["talk_start"]) <= 5.0
    assert chapters[-1]["end"] >= TRUTH["talk_end"] - 5.0
    titles = [c["title"] for c in chapters]
    assert len(set(titles)) == len(titles)
    assert all(0 < len(t) <= 60 and not t.lower().startswith("chapter ") for t in titles)
    assert all(c["summary"] for c in chapters)


def test_clips_exist_and_match_their_chapters(built_sample, manifest):
    for c in manifest["chapters"]:
        clip = built_sample.folder / c["clip"]
        assert clip.is_file()
        assert _duration(clip) == pytest.approx(c["end"] - c["start"], abs=0.5)
        with av.open(str(clip)) as container:
            assert container.streams.video[0].codec_context.name == "h264"
            assert container.streams.audio[0].codec_context.name == "aac"


def test_every_caption_file_parses_within_limits(built_sample, manifest):
    files = [built_sample.folder / "captions.vtt", built_sample.folder / "captions.srt"]
    for c in manifest["chapters"]:
        files += [built_sample.folder / c["captions"]["vtt"], built_sample.folder / c["captions"]["srt"]]
    for f in files:
        text = f.read_text(encoding="utf-8")
        cues = read_vtt(text, speakers=False) if f.suffix == ".vtt" else read_srt(text, speakers=False)
        assert cues, f
        for a, b in zip(cues, cues[1:]):
            assert a.end <= b.start + 1e-6
        for cue in cues:
            assert cue.start < cue.end
            assert len(cue.lines) <= 2 and all(len(line) <= 42 for line in cue.lines)
    # Clip captions are timed to the clip: they start near 0 and end within it.
    for c in manifest["chapters"]:
        cues = read_vtt((built_sample.folder / c["captions"]["vtt"]).read_text(), speakers=False)
        assert cues[0].start < 3.0
        assert cues[-1].end <= c["clip_end"] - c["clip_start"] + 0.01


def test_captions_never_run_across_a_chapter_start(built_sample, manifest):
    # After a jump to a chapter, and in its clip, the first caption is the chapter's
    # own first words, not the tail of the chapter before.
    chapters = manifest["chapters"]
    cues = read_vtt((built_sample.folder / "captions.vtt").read_text(), speakers=False)
    for c in chapters[1:]:
        assert not [cue for cue in cues if cue.start < c["start"] - 0.001 < c["start"] + 0.001 < cue.end]
    segments = json.loads((built_sample.folder / manifest["transcript"]).read_text())["segments"]
    for c in chapters:
        first = next(s for s in segments if s["start"] >= c["start"] - 0.01)
        clip_cues = read_vtt((built_sample.folder / c["captions"]["vtt"]).read_text(), speakers=False)
        opening = " ".join(clip_cues[0].lines)
        assert first["text"].startswith(opening.split(" ")[0]), (opening, first["text"])


def test_every_download_is_named_for_what_it_is(built_sample, manifest):
    from recast.site import DOWNLOAD_LABELS

    html = (built_sample.folder / "index.html").read_text(encoding="utf-8")
    session_files = [k for k in manifest["files"] if not k.startswith("chapter-")]
    assert {"youtube-chapters.txt", "chapters.ffmetadata", "captions.vtt"} <= set(session_files)
    for key in session_files:
        assert key in DOWNLOAD_LABELS, key
        assert f'download>{DOWNLOAD_LABELS[key]}</a>' in html, key


def test_session_json_follows_the_contract(built_sample, manifest):
    m = manifest
    assert m["schema"] == "recast.session/1"
    assert m["title"] == "Sample webinar"
    assert m["source"]["file"] == "webinar.mp4" and len(m["source"]["sha256"]) == 64
    assert m["source"]["duration"] == pytest.approx(TRUTH["duration"], abs=0.2)
    assert m["language"] == "en"
    assert m["engine"] == {"name": "faster-whisper", "model": "tiny.en"}
    assert m["created"].endswith("+00:00")
    for c in m["chapters"]:
        for key in ("index", "title", "start", "end", "summary", "keywords", "clip", "captions", "thumbnail", "page"):
            assert key in c
        for rel in (c["clip"], c["thumbnail"], c["page"], c["captions"]["vtt"], c["captions"]["srt"]):
            assert (built_sample.folder / rel).is_file(), rel
    transcript = json.loads((built_sample.folder / m["transcript"]).read_text())
    seg = transcript["segments"][0]
    assert set(seg) >= {"start", "end", "text", "words"}
    assert set(seg["words"][0]) == {"start", "end", "word", "probability"}
    for rel in m["files"].values():
        assert (built_sample.folder / rel).is_file(), rel
    assert (built_sample.folder / "index.html").is_file()
    assert (built_sample.folder / m["player"]).is_file()
    library = (built_sample.folder.parent / "index.html").read_text()
    assert m["slug"] in library and "Sample webinar" in library


def test_the_slides_text_is_kept_for_search_from_when_each_was_shown(manifest):
    def plain(text: str) -> str:
        return " ".join(text.replace("\u2026", "...").lower().split())

    shown = [s for s in TRUTH["slides"] if s["end"] - s["start"] >= 10]  # recast reads what stays 10 s or more
    assert len(manifest["slides"]) == len(shown) == 6
    for slide, truth in zip(manifest["slides"], shown):
        assert slide["start"] == pytest.approx(truth["start"], abs=0.5)
        assert slide["end"] == pytest.approx(truth["end"], abs=0.5)
        lines = slide["text"].split("\n")
        assert plain(lines[0]) == plain(truth["heading"])
        # every bullet, as printed (OCR may read the ellipsis as three dots or lose one)
        assert [plain(b).rstrip(".") for b in truth["bullets"]] == [plain(b).rstrip(".") for b in lines[1:]]
    # the header and footer on every slide are the template, not what a slide says
    assert not any("four-part workshop" in s["text"] or "workshop host" in s["text"] for s in manifest["slides"])


def test_each_chapter_page_shows_the_text_of_its_own_slides(built_sample, manifest):
    """For a learner who cannot see the video (a screen reader) or wants to copy
    what a slide says: the chapter page lists its slides, and only its own, though a
    chapter ends a moment after the next slide went up."""
    import html
    import re

    assert len(manifest["chapters"]) == 4
    for chapter in manifest["chapters"]:
        page = (built_sample.folder / chapter["page"]).read_text(encoding="utf-8")
        titles = [html.unescape(t) for t in re.findall(r'class="slide-text__title">([^<]*)<', page)]
        times = [float(t) for t in re.findall(r'class="slide-text__seek" data-seek="([\d.]+)"', page)]
        truth = [s for s in TRUTH["slides"] if s["chapter"] == chapter["index"]]
        assert [t.lower() for t in titles] == [s["heading"].lower() for s in truth], (chapter["index"], titles)
        for t, s in zip(times, truth):
            assert t == pytest.approx(max(s["start"], chapter["start"]), abs=0.5)


def test_second_run_reuses_the_transcript(built_sample, sample, tmp_path):
    start = time.perf_counter()
    again = recast.process(sample, tmp_path / "again", recast.Options(title="Sample webinar", clips="none"))
    assert again.transcript_reused
    assert "transcribe" in again.timings and again.timings["transcribe"] < 2.0
    assert again.session.transcript.text == built_sample.session.transcript.text
    assert "slides" not in again.timings and again.session.slides == built_sample.session.slides  # from the cache
    assert time.perf_counter() - start < 120


def test_second_run_into_same_outdir_adds_to_the_library(built_sample, sample, tmp_path):
    out = built_sample.folder.parent
    other = tmp_path / "other name.mp4"
    other.write_bytes(sample.read_bytes() + b"")  # same bytes: rebuilds into the same folder
    result = recast.process(sample, out, recast.Options(title="Second look", clips="none"))
    assert result.folder.name != built_sample.folder.name
    library = (out / "index.html").read_text()
    assert "Second look" in library and "Sample webinar" in library
    assert (built_sample.folder / "session.json").is_file()  # the first session is untouched


def test_cli_run_with_relative_outdir(built_sample, sample, tmp_path, monkeypatch):
    """As README says it: `recast run samples/webinar.mp4 -o site`, from the project folder."""
    from click.testing import CliRunner

    from recast.cli import main

    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, ["run", str(sample), "-o", "site", "--clips", "encode", "--title", "Relative"])
    assert r.exit_code == 0, r.output
    manifest = json.loads((tmp_path / "site" / "relative" / "session.json").read_text())
    assert all((tmp_path / "site" / "relative" / c["clip"]).is_file() for c in manifest["chapters"])
    assert "Open site/relative/index.html" in r.output or "relative/index.html" in r.output
