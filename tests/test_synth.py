"""The synthetic-webinar generator (benchmarks/synth.py): text handling, and a
short real recording whose truth file must agree with the media."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks import synth
from benchmarks.synth import Paragraph, Section, SynthOptions


def test_split_sentences_keeps_abbreviations_and_initials():
    text = "Dr. Smith met J. R. R. Tolkien in 1937. It rained, e.g. in Oxford! Did it stop? Yes."
    assert synth.split_sentences(text) == [
        "Dr. Smith met J. R. R. Tolkien in 1937.",
        "It rained, e.g. in Oxford!",
        "Did it stop?",
        "Yes.",
    ]


def test_clean_wikitext_strips_markup_but_keeps_prose():
    raw = (
        "{{Infobox|name={{nested|x}}}}'''Albedo''' is the [[reflectivity|diffuse reflectivity]] of a "
        "[[surface]].<ref name=a>{{cite|x}}</ref> [[File:Snow.jpg|thumb|A [[snow]] field]]\n"
        "{| class=wikitable\n|-\n| cell || cell\n|}\n<!-- hidden -->See [http://example.org the site].\n"
        "[[Category:Optics]]"
    )
    clean = synth.clean_wikitext(raw)
    assert "Albedo is the diffuse reflectivity of a surface." in clean
    assert "See the site." in clean
    for junk in ("{{", "}}", "[[", "<ref", "cell", "hidden", "Snow.jpg", "Category", "'''"):
        assert junk not in clean


def test_parse_article_sections_skip_reference_lists():
    text = (
        "Lead sentence one is here. Lead sentence two is here.\n"
        "== History ==\nThe first thing happened long ago. Then another thing happened.\n"
        "=== Detail ===\nA detail paragraph sits below a subheading.\n"
        "* a list item that is not prose\n"
        "== References ==\nSome book, 1999, pages one to ten.\n"
    )
    art = synth.parse_article("Thing", text)
    assert [s.title for s in art.sections] == ["Thing", "History"]
    history = art.sections[1]
    assert [p.text for p in history.paragraphs] == [
        "The first thing happened long ago. Then another thing happened.",
        "A detail paragraph sits below a subheading.",
    ]


def test_detokenize_lecture_lines():
    assert synth.detokenize("It 's 12 inches , don 't you think ?") == "It's 12 inches, don't you think?"


def test_sections_for_duration_from_lectures_fits_the_target():
    if not synth.lecture_paths():
        pytest.skip("the shared lecture transcripts are not here")
    sections = synth.sections_for_duration("lectures", 600, seed=3)
    assert all(s.title is None and s.source.startswith("lecture:") for s in sections)
    assert 560 <= synth.estimate_seconds(sections) <= 600


def test_truth_path_sits_beside_the_media():
    assert synth.truth_path(Path("/x/talk.mp4")) == Path("/x/talk.truth.json")


def _speech_rms(path: Path, start: float, end: float, samples: np.ndarray, rate: int) -> float:
    seg = samples[int(start * rate) : int(end * rate)]
    return float(np.sqrt(np.mean(seg**2))) if seg.size else 0.0


@pytest.mark.slow
def test_audio_only_recording_matches_its_truth(tmp_path: Path):
    import av

    sections = [
        Section.of("Volcanoes", "Volcanoes form where magma rises through the crust. Lava can flow for kilometres."),
        Section.of("Bread", "Sourdough bread needs a lively starter.",
                   Paragraph("Does it need salt?", speaker="audience"), "Yes, a little salt helps the dough."),
    ]
    out = tmp_path / "short.m4a"
    truth = synth.synthesize(sections, out, SynthOptions(lead_in=3.0, tail=1.0, video=False, seed=5))
    assert json.loads(synth.truth_path(out).read_text()) == truth

    with av.open(str(out)) as container:
        assert not container.streams.video
        stream = container.streams.audio[0]
        rate = stream.rate
        samples = np.concatenate(
            [f.to_ndarray().mean(axis=0) for f in container.decode(stream)]
        ).astype(np.float64)
    duration = samples.size / rate
    assert 8.0 < truth["duration"] < 25.0
    assert abs(duration - truth["duration"]) < 0.1

    sentences = truth["sentences"]
    assert [s["chapter"] for s in sentences] == [1, 1, 2, 2, 2]
    assert [s["speaker"] for s in sentences][-2:] == ["audience", "presenter"]
    assert truth["talk_start"] == sentences[0]["start"] == pytest.approx(3.0, abs=0.001)
    assert truth["talk_end"] == sentences[-1]["end"] < truth["duration"]
    for a, b in zip(sentences, sentences[1:]):
        assert a["start"] < a["end"] < b["start"]  # ordered, with a pause between
    ch1, ch2 = truth["chapters"]
    assert (ch1["title"], ch2["title"]) == ("Volcanoes", "Bread")
    assert ch1["start"] == sentences[0]["start"] and ch1["end"] == ch2["start"] == sentences[2]["start"]
    assert ch2["end"] == truth["talk_end"]
    assert truth["questions"][0]["text"] == "Does it need salt?"
    assert truth["questions"][0]["answer_start"] == sentences[4]["start"]

    # The speech really is where the truth says: loud inside sentences, quiet in the lead-in.
    lead = _speech_rms(out, 0.2, truth["talk_start"] - 0.2, samples, rate)
    for s in sentences:
        assert _speech_rms(out, s["start"], s["end"], samples, rate) > 10 * lead


@pytest.mark.slow
def test_video_slide_changes_land_on_the_frames_the_truth_names(tmp_path: Path):
    import av

    sections = [
        Section.of("Photosynthesis", "Plants capture sunlight with chlorophyll.",
                   Paragraph("Oxygen is released into the air.", new_slide=True)),
        Section.of("Budgets", "Write down your income after tax."),
    ]
    out = tmp_path / "short.mp4"
    opts = SynthOptions(lead_in=2.0, tail=0.5, width=320, height=180, fps=25, seed=2)
    truth = synth.synthesize(sections, out, opts)
    assert [s["kind"] for s in truth["slides"]] == ["waiting", "chapter", "continuation", "chapter"]
    assert truth["slides"][2]["heading"] == "Photosynthesis (continued)"

    changed: list[float] = []
    previous = None
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (320, 180)
        for frame in container.decode(stream):
            gray = frame.to_ndarray(format="gray").astype(np.int16)
            # A slide change alters far more pixels than the moving pointer and progress bar.
            if previous is not None and (np.abs(gray - previous) > 40).mean() > 0.01:
                changed.append(round(float(frame.time), 3))
            previous = gray
    assert changed == pytest.approx(truth["slide_changes"], abs=0.5 / opts.fps)
    # The last change comes before the second chapter's first sentence.
    assert truth["slide_changes"][-1] < truth["chapters"][1]["start"]
