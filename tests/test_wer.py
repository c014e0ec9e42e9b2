"""The WER tool: both normalisers, the alignment and the error summary."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks import wer

needs_whisper = pytest.mark.skipif(wer.whisper_normalizer() is None, reason="openai-whisper is not installed")


@needs_whisper
@pytest.mark.parametrize(
    ("reference", "hypothesis"),
    [
        ("The colour of the organisation", "the color of the organization"),  # British / American
        ("It's a well-known fact", "it is a well known fact"),  # contraction, hyphen
        ("Dr. Smith lived on St. James Street", "Doctor Smith lived on Saint James Street"),
        ("In the 1990s it cost $5, 20% more", "in the nineteen nineties it cost five dollars, twenty percent more"),
        ("the 19th century", "the nineteenth century"),
        ("1,000 people", "one thousand people"),
        ("a café in Zürich", "a cafe in Zurich"),
    ],
)
def test_whisper_normalizer_forgives_writing_conventions(reference: str, hypothesis: str) -> None:
    r = wer.word_error_rate(reference, hypothesis, "whisper")
    assert r.normalizer == "whisper"
    assert r.wer == 0.0, (wer.normalize(reference, "whisper"), wer.normalize(hypothesis, "whisper"))


@needs_whisper
def test_whisper_normalizer_keeps_spoken_parentheses_and_splits_slashes() -> None:
    # Our references are read aloud: the words in parentheses were spoken and count.
    assert wer.normalize("the atomic number (also known as its proton number)", "whisper") == "the atomic number also known as its proton number".split()
    assert wer.normalize("number/numeral/figure", "whisper") == ["number", "numeral", "figure"]
    r = wer.word_error_rate("an element (also called X) here", "an element here", "whisper")
    assert (r.deletions, r.reference_words) == (3, 6)


@needs_whisper
def test_whisper_normalizer_still_counts_real_errors() -> None:
    r = wer.word_error_rate("Mendeleev arranged the table", "Mendel of arranged the table", "whisper")
    assert (r.substitutions, r.insertions, r.deletions) == (1, 1, 0)


def test_auto_picks_whisper_when_installed() -> None:
    expected = "whisper" if wer.whisper_normalizer() is not None else "basic"
    assert wer.normalizer_name("auto") == expected
    assert wer.word_error_rate("a b", "a b").normalizer == expected
    with pytest.raises(ValueError):
        wer.normalizer_name("fancy")


def test_basic_normalizer() -> None:
    assert wer.normalize("It's 20% of 3.5 kg, OK?", "basic") == "it's twenty percent of three point five kg okay".split()
    assert wer.normalize("self-driving, um, cars", "basic") == ["self", "driving", "cars"]
    assert wer.number_to_words(1984) == "one thousand nine hundred eighty four"


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from("abcd"), max_size=12), st.lists(st.sampled_from("abcd"), max_size=12))
def test_alignment_is_consistent_and_minimal(ref: list[str], hyp: list[str]) -> None:
    for ops in (wer.align(ref, hyp), wer._align_py(ref, hyp)):
        # Reading the ops back gives both sides, in order.
        assert [r for _, r, _ in ops if r is not None] == ref
        assert [h for _, _, h in ops if h is not None] == hyp
        assert all((tag == "equal") == (r == h) for tag, r, h in ops)
        cost = sum(tag != "equal" for tag, _, _ in ops)
        assert cost == wer._word_error_rate_py(ref, hyp).substitutions + wer._word_error_rate_py(ref, hyp).deletions + wer._word_error_rate_py(ref, hyp).insertions


def test_error_summary_counts_and_runs() -> None:
    s = wer.error_summary("the cat sat on the mat and the cat ran", "the hat sat on mat and the hat ran away", "basic")
    assert s.substitutions == [(("cat", "hat"), 2)]
    assert s.deletions == [("the", 1)]
    assert s.insertions == [("away", 1)]
    assert s.runs == [("cat", "hat"), ("the", ""), ("cat", "hat"), ("", "away")]


def test_cli(tmp_path, capsys) -> None:
    (tmp_path / "ref.txt").write_text("the cat sat on the mat", encoding="utf-8")
    (tmp_path / "hyp.txt").write_text("the hat sat on the mat", encoding="utf-8")
    assert wer.main([str(tmp_path / "ref.txt"), str(tmp_path / "hyp.txt"), "--normalizer", "basic", "--errors", "5"]) == 0
    out = capsys.readouterr().out
    assert "WER 16.67%" in out and "S=1 D=0 I=0, N=6, basic normalizer" in out and "cat->hat 1" in out


@needs_whisper
@pytest.mark.parametrize(
    ("reference", "hypothesis"),
    [
        ("a charge of +2", "a charge of plus two"),  # a written "+" is said "plus"
        ("350+ million speakers", "350 plus million speakers"),
        ("ancient civilisation", "ancient civilization"),  # -isation, missing from Whisper's list
        ("Three, two, one, zero.", "3, 2, 1, 0."),  # spelled digit runs vs digits
        ("the run off to the north east", "the runoff to the northeast"),  # compounds
    ],
)
def test_whisper_pipeline_additions(reference: str, hypothesis: str) -> None:
    r = wer.word_error_rate(reference, hypothesis, "whisper")
    assert r.wer == 0.0, (wer.normalize(reference, "whisper"), wer.normalize(hypothesis, "whisper"))


def test_join_compounds_only_joins_what_one_side_writes_as_one_word() -> None:
    ref, hyp = wer.join_compounds("we went in to the north east".split(), "we went into the north east".split())
    assert ref == hyp == "we went into the north east".split()  # "northeast" is written by neither side
    # Numbers are never joined: "35 36" and "3536" are different.
    assert wer.join_compounds(["35", "36"], ["3536"]) == (["35", "36"], ["3536"])
    # A real error survives: "in" for "and" is not a spacing question.
    assert wer.word_error_rate("cats and dogs", "cats in dogs", "auto").substitutions == 1


def test_without_rapidfuzz_the_results_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    ref, hyp = "the cat sat on the mat in the sun", "a cat sat on mat in the the sun today"
    fast = wer.word_error_rate(ref, hyp, "basic")
    ops_fast = wer.align(ref.split(), hyp.split())
    monkeypatch.setitem(sys.modules, "rapidfuzz.distance", None)  # import now raises ImportError
    slow = wer.word_error_rate(ref, hyp, "basic")
    assert (slow.wer, slow.reference_words, slow.normalizer) == (fast.wer, fast.reference_words, "basic")
    assert sum(t != "equal" for t, _, _ in wer.align(ref.split(), hyp.split())) == sum(t != "equal" for t, _, _ in ops_fast)


def test_errors_on_proper_names_are_counted_apart():
    from benchmarks.wer import name_error_share, proper_names

    ref = "The Kushans ruled Bactria for a century. Later the Kushans lost the north to the Sasanians."
    hyp = "The cushions ruled the actria for a century. Later the cushions lost the north to the sasanians."
    assert proper_names(ref) == {"kushans", "bactria", "sasanians"}
    errors, on_names, words, names = name_error_share(ref, hyp, "basic")
    # kushans->cushions twice, bactria->the actria (a substitution and an insertion); sasanians matches
    assert (words, names) == (16, 4)
    assert errors == 4 and on_names == 3


def test_timing_errors_match_sentences_through_the_alignment() -> None:
    sentences = [
        {"start": 1.0, "end": 2.0, "text": "It has 2 parts."},
        {"start": 4.0, "end": 5.0, "text": "Next one here."},
    ]
    words = [
        (1.1, 1.3, " It"), (1.3, 1.5, " has"), (1.5, 1.7, " two"), (1.7, 3.5, " parts."),  # runs 1.5 s into the pause
        (3.9, 4.2, " Nest"), (4.2, 4.5, " one"), (4.5, 4.95, " here."),  # a misheard first word: no start error
    ]  # fmt: skip
    t = wer.timing_errors(sentences, words)
    assert t.sentences == 2
    assert t.start_errors == pytest.approx([0.1])
    assert t.end_errors == pytest.approx([1.5, -0.05])
    assert t.pauses == 1 and t.word_time_in_pauses == pytest.approx(1.4) and t.pauses_hidden == 1
