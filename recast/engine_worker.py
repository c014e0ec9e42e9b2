"""The speech engine's side of the worker process.

`recast.transcribe` starts `python -m recast.engine_worker FD` once per model and
talks to it over a socket (FD) with `multiprocessing.connection` messages, so a
native crash in CTranslate2, PyTorch or ONNX Runtime (segfault, abort, OOM kill)
ends this process, not the run. The model stays loaded between recordings.

Messages from the parent:
    ("load", spec)            spec: engine, model, device, compute_type, threads, download_root
    ("transcribe", request)   request: audio (path/offset/length of float32 samples on disk),
                              language, task, beam_size, vad, initial_prompt (the
                              user's vocabulary), prompts (start, end, text: words on
                              screen, such as a slide's), crash (tests only)
    ("quit",)
Messages back:
    ("loaded", info)          info: multilingual, device, compute_type
    ("segment", dict)         one raw segment, times in seconds from the first sample
    ("progress", seconds)     how far into the audio the engine has got
    ("done", info)            info: language, language_probability
    ("error", kind, message)  kind: "config" (the user's setting) or "engine"

Long recordings are processed in windows of at most `WINDOW_SECONDS`, cut at the
quietest moment near each boundary, because faster-whisper's VAD and feature
extraction each copy the whole input they are given: peak memory then stays the
same for a 3-hour file as for a 10-minute one. Each window is read from the audio
file with a plain read, not sliced from a memory map: pages touched through a map
stay in this process's resident set, so a 3-hour recording would otherwise add
its whole 700 MB to the worker's RSS window by window.

On a CPU, faster-whisper runs two windows at a time ("streams"), each on half the
cores, rather than one window on all of them. Measured on 2 cores, 20 minutes of
speech, tiny.en: one stream on 2 threads 46-49 s on an idle machine and 63-83 s
beside one low-priority (nice 19) process; two streams on 1 thread each 33-40 s
idle and 39-41 s beside it. One stream leaves a core idle while Python and the
single-threaded VAD run, and CTranslate2's threads wait for each other at every
layer, which is slow as soon as anything else wants a core; two independent
streams fill each other's gaps.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any, Callable

import numpy as np

SAMPLE_RATE = 16000  # Hz
# Longest stretch of audio handed to the engine at once. Silero VAD's transient
# memory grows with its input (measured: +250 MB for 10 minutes, +365 MB for 20);
# 10 minutes still fills the batches (20 chunks of 30 s) with little waste.
WINDOW_SECONDS = 10 * 60
# Shortest window worth splitting a recording into so that every stream has work: a
# 2.5-minute recording goes to two streams in two halves, a 90-second one stays whole.
MIN_WINDOW_SECONDS = 60
CPU_STREAMS = 2  # windows transcribed at once on a CPU (see the module docstring)
CUT_SEARCH_SECONDS = 30  # look this far either side of a window boundary for a quiet cut
CHUNK_SECONDS = 30  # Whisper's context: 480000 samples in a 30-second chunk
# 30-second chunks decoded together, per stream. With one stream on 2 cores, 8 measured
# fastest (4: 26x, 8: 31x, 16: 27x real time, tiny.en). With two streams the batch
# matters less (20 minutes of speech: 2 per stream 37-42 s, 3: 33-40 s, 4: 37-38 s)
# but memory grows with it (worker peak 0.84, 0.99, 1.17 GB): the encoder's attention
# scores are batch x heads x 1500 x 1500 floats (216 MB for tiny at 4). Big models on
# a CPU get smaller batches; GPUs have the memory and gain from more.
CPU_BATCH_SIZE = 8
CPU_BATCH_BUDGET = 36  # batch x attention heads x streams, at most, on a CPU (tiny, 2 streams: 3)
CUDA_BATCH_SIZE = 16

# Silero VAD settings: a pause of 160 ms ends a speech region (faster-whisper's own
# default for batching), and 200 ms of padding keeps word onsets and endings that the
# detector clips. Short regions pack the 30-second chunks fuller (each 30-second chunk
# costs the encoder the same however little speech it holds): on 10 minutes of the
# synthetic hour, 19 chunks against 23 with a 500 ms minimum, 12% less encoder work,
# and the word error rate did not get worse (11.8% against 12.1% on 20 minutes).
VAD_PARAMETERS = {"min_silence_duration_ms": 160, "speech_pad_ms": 200}
MIN_WORD = 0.05  # s: the shortest a word may become when fitted to the speech VAD found
# Decoding settings for chunks whose greedy output loops, tried in turn (beam search
# rarely loops where greedy search does; the penalty breaks the stubborn cases).
RETRIES = ({"beam_size": 5}, {"beam_size": 5, "repetition_penalty": 1.3, "no_repeat_ngram_size": 4})
# Neighbouring speech regions are joined into one 30-second chunk while the gap
# between them is short, so each chunk carries close to 30 s of speech and starts and
# ends in a pause; a longer silence always ends a chunk.
MAX_JOIN_GAP = 3.0  # seconds
# Whisper sometimes ends a chunk early: after a long pause inside it, it predicts the
# end of the text and the speech after that is lost (decoded one chunk at a time
# there is no seeking on as in sequential decoding). A chunk with at least
# TAIL_SECONDS of detected speech after its last word has that tail decoded again,
# up to TAIL_ROUNDS times.
TAIL_SECONDS = 2.0
TAIL_SLACK = 0.5  # s after the last word's end still counted as that word
TAIL_ROUNDS = 2
MIN_TRIMMED_WORDS = 3  # fewer words before a loop are not worth keeping
# Whisper reads at most 223 tokens of prompt (half its 448-token context): about
# this much English. Longer text would have its start cut, and the start holds the
# user's vocabulary.
PROMPT_CHARS = 600
MIN_FILL = 0.7  # a full chunk may end at the longest pause after 70% of its 30 s
# One voice-activity detection at a time: ONNX Runtime holds about 250 MB of
# activations while Silero runs over a window, and two streams starting together
# would hold it twice.
_VAD_LOCK = threading.Lock()

log = logging.getLogger("recast.engine_worker")


class ConfigProblem(Exception):
    """A problem with the user's settings, reported as a ConfigError by the parent."""


Emit = Callable[[dict[str, Any]], None]


def _plain_segment(start: float, end: float, text: str, words: list[tuple[float, float, str, float]], **extra: float) -> dict[str, Any]:
    return {
        "start": float(start),
        "end": float(end),
        "text": text,
        "words": [(float(a), float(b), str(w), float(p)) for a, b, w, p in words],
        **{k: float(v) for k, v in extra.items() if v is not None},
    }


class FasterWhisperEngine:
    name = "faster-whisper"

    def __init__(self, spec: dict[str, Any]):
        import ctranslate2
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        device = spec["device"]
        if device == "cuda" and ctranslate2.get_cuda_device_count() == 0:
            raise ConfigProblem("no CUDA GPU found (--device cuda)")
        compute_type = spec["compute_type"] or ("float16" if device == "cuda" else "int8")
        supported = ctranslate2.get_supported_compute_types(device)
        if compute_type not in supported and compute_type not in ("default", "auto"):
            raise ConfigProblem(f"compute type {compute_type!r} is not supported on {device} (choose from {', '.join(sorted(supported))})")
        threads = spec["threads"] or os.cpu_count() or 1
        self.streams = CPU_STREAMS if device == "cpu" and threads >= CPU_STREAMS else 1
        try:
            self.model = WhisperModel(
                str(spec["model"]),
                device=device,
                compute_type=compute_type,
                cpu_threads=max(1, threads // self.streams),
                num_workers=self.streams,  # lets the streams' CTranslate2 calls run at the same time
                download_root=spec.get("download_root"),
            )
        except Exception as e:
            if type(e).__name__ in ("LocalEntryNotFoundError", "RepositoryNotFoundError", "EntryNotFoundError", "HfHubHTTPError"):
                raise ConfigProblem(f"model {spec['model']!r} is not downloaded and cannot be fetched now (offline?): {e}") from e
            raise
        # One pipeline per stream: a pipeline keeps the last speech time of its recording.
        self.pipelines = [BatchedInferencePipeline(self.model) for _ in range(self.streams)]
        self.multilingual = bool(self.model.model.is_multilingual)
        if device == "cuda":
            self.batch_size = CUDA_BATCH_SIZE
        else:
            heads = _attention_heads(str(spec["model"]))
            self.batch_size = max(1, min(CPU_BATCH_SIZE, CPU_BATCH_BUDGET // (heads * self.streams))) if heads else 4
        self.device = device
        self.compute_type = compute_type

    def transcribe(self, audio: np.ndarray, request: dict[str, Any], emit: Emit, progress: Callable[[float], None], stream: int = 0) -> tuple[str | None, float | None]:
        kwargs: dict[str, Any] = dict(
            language=request["language"],
            task=request["task"],
            beam_size=request["beam_size"],
            # One temperature, no fallback inside the pipeline: its fallback re-decodes
            # whole batches and cost 40% of the time for no WER gain on the lecture
            # benchmark. Only chunks whose text loops are decoded again (RETRIES).
            temperature=0.0,
            condition_on_previous_text=False,
            word_timestamps=True,
            batch_size=self.batch_size,
            log_progress=False,
        )
        # The chunks are made here rather than by the pipeline's own VAD pass, which
        # glues speech from either side of every pause together with the pause cut out,
        # and whose detection the VAD lock could not cover.
        regions = speech_regions(audio) if request["vad"] else fixed_clips(len(audio))
        clips = join_regions(regions) if request["vad"] else regions
        if not clips:
            return None, None
        pipeline = self.pipelines[stream]

        prompts = request.get("prompts") or []

        def decode(chunks: list[tuple[int, int]], **options: Any) -> tuple[list[dict[str, Any]], Any]:
            found: list[dict[str, Any]] = []
            info = None
            for prompt, group in chunk_prompts(chunks, prompts, request.get("initial_prompt"), self.batch_size):
                more, got = decode_group(group, **dict(options, initial_prompt=prompt))
                found += more
                if info is None:  # the first group's language holds for the others
                    info = got
                    options = dict(options, language=info.language)
            found.sort(key=lambda seg: seg["start"])
            return found, info

        def decode_group(chunks: list[tuple[int, int]], **options: Any) -> tuple[list[dict[str, Any]], Any]:
            timestamps = [{"start": a / SAMPLE_RATE, "end": b / SAMPLE_RATE} for a, b in chunks]
            segments, info = pipeline.transcribe(audio, **dict(kwargs, vad_filter=False, clip_timestamps=timestamps, **options))
            found = []
            for seg in segments:
                words = [(w.start, w.end, w.word, w.probability) for w in (seg.words or [])]
                found.append(
                    _plain_segment(
                        seg.start,
                        seg.end,
                        seg.text,
                        words,
                        avg_logprob=seg.avg_logprob,
                        no_speech_prob=seg.no_speech_prob,
                        compression_ratio=seg.compression_ratio,
                    )
                )
                progress(seg.end)
            return found, info

        found, info = decode(clips)
        for options in RETRIES:
            looping = _looping_clips(found, clips)
            if not looping:
                break
            kept = [t for t in (trim_loop(seg) for seg in found) if t is not None]
            # Greedy decoding sometimes falls into a loop ("to be able to be able to
            # ...") and the whole 30 s chunk would be dropped; decode just those chunks
            # again with a beam, keeping the new text only where it does not loop.
            again, _ = decode(looping, **options)
            # fixed: no loop, and no fewer words than the greedy text has before its
            # loop (a beam can also stop early, or give nothing at all)
            still = _looping_clips(again, looping)
            fixed = [c for c in looping if c not in still and _word_count(again, c, looping) >= _word_count(kept, c, clips)]
            log.debug("re-decoded %d looping chunks with %s: %d fixed", len(looping), options, len(fixed))
            found = [seg for seg in found if _clip_of(seg, clips) not in fixed] + [seg for seg in again if _clip_of(seg, looping) in fixed]
            found.sort(key=lambda seg: seg["start"])
        # What still loops keeps the words said before the loop began; the rest of its
        # chunk is then an unfinished tail, decoded again below.
        found = [t for t in (trim_loop(seg) for seg in found) if t is not None]
        for _ in range(TAIL_ROUNDS if request["vad"] else 0):  # without VAD nothing says where speech is
            tails = unfinished_tails(found, clips, regions)
            if not tails:
                break
            again, _ = decode(tails)
            looping = set(_looping_clips(again, tails))
            again = [seg for seg in again if _clip_of(seg, tails) not in looping]
            log.debug("decoded the unfinished tails of %d chunks again: %d segments", len(tails), len(again))
            if not again:
                break
            # the tail belongs to its chunk: a further tail is measured from its last word
            found = sorted(found + again, key=lambda seg: seg["start"])
        if request["vad"]:
            bounds = region_seconds(regions)
            found = [fit_to_speech(seg, bounds) for seg in found]
        for seg in found:
            emit(seg)
        return info.language, info.language_probability


def clip_prompt(clip: tuple[int, int], prompts: list[tuple[float, float, str]], base: str | None) -> str | None:
    """The prompt a chunk is decoded with alone: see `chunk_prompts`."""
    return chunk_prompts([clip], prompts, base, 1)[0][0]


def chunk_prompts(
    chunks: list[tuple[int, int]], prompts: list[tuple[float, float, str]], base: str | None, per_call: int
) -> list[tuple[str | None, list[tuple[int, int]]]]:
    """The chunks (in time order) in runs of `per_call` consecutive ones, each run with
    the prompt it is decoded with: `base` (the user's vocabulary) followed by the text
    of every prompt span (start, end, text; seconds in this window) that one of its
    chunks overlaps, cut to what Whisper reads. The pipeline gives one prompt to a
    whole call; runs of a batch each keep the batches full, where a call per distinct
    prompt made batches of one or two chunks (slides change every minute or so, and
    a chunk across a change has the words of both) and was slower."""
    if not prompts:
        return [(prompt_text(base, []), list(chunks))]
    runs = []
    for i in range(0, len(chunks), max(1, per_call)):
        run = chunks[i : i + per_call]
        texts = [text for s, e, text in prompts if any(s * SAMPLE_RATE < b and e * SAMPLE_RATE > a for a, b in run)]
        runs.append((prompt_text(base, texts), run))
    return runs


def prompt_text(base: str | None, texts: list[str], limit: int = PROMPT_CHARS) -> str | None:
    """`base` and then `texts`, joined as sentences, at most `limit` characters: the
    user's vocabulary is kept whole, and the slide text that does not fit is cut at
    a word boundary."""
    parts = [p.strip() for p in ([base] if base else []) + texts if p and p.strip()]
    if not parts:
        return None
    text = " ".join(p if p.endswith((".", "!", "?")) else p + "." for p in parts)
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0]
    return text


def _clip_of(seg: dict[str, Any], clips: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The clip (sample range) that a segment (seconds) was decoded from."""
    at = seg["start"] * SAMPLE_RATE
    for a, b in clips:
        if a - SAMPLE_RATE <= at < b:
            return (a, b)
    return None


def _word_count(segments: list[dict[str, Any]], clip: tuple[int, int], clips: list[tuple[int, int]]) -> int:
    return sum(len(seg["words"]) for seg in segments if _clip_of(seg, clips) == clip)


def _looping_clips(segments: list[dict[str, Any]], clips: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Clips with a segment that the parent would drop as a repetition loop."""
    from .transcribe import hallucination_reason

    bad = {_clip_of(seg, clips) for seg in segments if (hallucination_reason(seg) or "").startswith(("repetitive", "repetition"))}
    return [c for c in clips if c in bad]


def trim_loop(seg: dict[str, Any]) -> dict[str, Any] | None:
    """A segment that the parent would drop as a repetition loop, cut back to the words
    before the loop ("... at least from the lutetium 71-0-1-1-2-2-2-2-2..." keeps
    everything up to the number); None when no sound words are left. Any other
    segment is returned as it is."""
    from faster_whisper.transcribe import get_compression_ratio

    from .transcribe import _norm_words, hallucination_reason, loop_start

    if not (hallucination_reason(seg) or "").startswith(("repetitive", "repetition")):
        return seg
    words = seg["words"]
    start = loop_start([" ".join(_norm_words(w[2])) for w in words])
    # a loop that does not run to the end: keep the longest start that reads clean
    ends = [start] if start is not None else range(len(words) - 1, MIN_TRIMMED_WORDS - 1, -1)
    for k in ends:
        if k < MIN_TRIMMED_WORDS:
            break
        text = "".join(w[2] for w in words[:k])
        trimmed = dict(seg, end=words[k - 1][1], text=text, words=words[:k], compression_ratio=get_compression_ratio(text))
        if hallucination_reason(trimmed) is None:
            return trimmed
    return None


def _attention_heads(model_dir: str) -> int | None:
    """Rough encoder attention heads of a CTranslate2 Whisper model, from the size of
    model.bin (float16: tiny 75 MB has 6 heads, base 145 MB 8, small 480 MB 12,
    medium 1.5 GB 16, large 3 GB 20); reading the header would mean reading the file."""
    try:
        size = os.path.getsize(os.path.join(model_dir, "model.bin"))
    except OSError:
        return None  # a name the worker downloaded into the Hugging Face cache
    for limit, heads in ((100e6, 6), (300e6, 8), (1000e6, 12), (2000e6, 16)):
        if size < limit:
            return heads
    return 20


class OpenAIWhisperEngine:
    name = "openai-whisper"
    # whisper installs its key/value cache as hooks on the shared model for each call,
    # so two calls at once would mix their caches.
    streams = 1

    def __init__(self, spec: dict[str, Any]):
        import socket

        import torch
        import whisper

        socket.setdefaulttimeout(30)  # a download with no network fails instead of hanging
        device = spec["device"]
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device == "cuda" and not torch.cuda.is_available():
            raise ConfigProblem("no CUDA GPU found (--device cuda; PyTorch sees none)")
        compute_type = spec["compute_type"] or ("float16" if device == "cuda" else "float32")
        if compute_type not in ("float16", "float32"):
            raise ConfigProblem(f"openai-whisper runs in float16 or float32, not {compute_type!r}")
        if compute_type == "float16" and device == "cpu":
            raise ConfigProblem("float16 needs --device cuda with openai-whisper")
        if spec["threads"]:
            torch.set_num_threads(spec["threads"])
        model = str(spec["model"])
        from .convert import converted_bundled_model, converted_bundled_path

        if spec.get("cache_dir") and model == str(converted_bundled_path(spec["cache_dir"])):
            converted_bundled_model(spec["cache_dir"])  # convert the bundled tiny.en on first use
        try:
            self.model = whisper.load_model(model, device=device, download_root=spec.get("download_root"))
        except (OSError, RuntimeError) as e:
            if not os.path.isfile(model):
                raise ConfigProblem(f"model {model!r} is not downloaded and cannot be fetched now (offline?): {e}") from e
            raise ConfigProblem(f"cannot load the checkpoint {model}: {e}") from e
        if os.path.isfile(model):
            # Checkpoints from recast.convert carry the alignment heads for word timing;
            # load_model only knows them for the official names.
            checkpoint = torch.load(model, map_location="cpu", weights_only=True, mmap=True)
            if checkpoint.get("alignment_heads"):
                self.model.set_alignment_heads(checkpoint["alignment_heads"])
        self.torch = torch
        self.whisper = whisper
        self.multilingual = bool(self.model.is_multilingual)
        self.device = device
        self.compute_type = compute_type

    def transcribe(self, audio: np.ndarray, request: dict[str, Any], emit: Emit, progress: Callable[[float], None], stream: int = 0) -> tuple[str | None, float | None]:
        whisper = self.whisper
        language = request["language"]
        probability = 1.0 if language else None
        # Without VAD whisper's own 30-second windowing runs over the whole window.
        regions = speech_regions(audio) if request["vad"] else []
        clips = join_regions(regions) if request["vad"] else ([(0, len(audio))] if len(audio) else [])
        bounds = region_seconds(regions)
        if not clips:
            return None, None
        if language is None:
            if self.multilingual:
                first = whisper.pad_or_trim(np.ascontiguousarray(audio[clips[0][0] : clips[0][1]]))
                mel = whisper.log_mel_spectrogram(first, self.model.dims.n_mels).to(self.model.device)
                _, probs = self.model.detect_language(mel)
                language = max(probs, key=probs.get)
                probability = float(probs[language])
            else:
                language, probability = "en", 1.0
        for a, b in clips:
            result = self.model.transcribe(
                np.ascontiguousarray(audio[a:b]),
                language=language,
                task=request["task"],
                temperature=0.0,
                beam_size=request["beam_size"] if request["beam_size"] > 1 else None,
                initial_prompt=clip_prompt((a, b), request.get("prompts") or [], request.get("initial_prompt")),
                condition_on_previous_text=False,
                word_timestamps=True,
                hallucination_silence_threshold=2.0,  # seconds of silence that mark a hallucinated stretch
                fp16=self.compute_type == "float16",
                verbose=None,
            )
            shift = a / SAMPLE_RATE
            for seg in result["segments"]:
                words = [(w["start"] + shift, w["end"] + shift, w["word"], w.get("probability", 1.0)) for w in seg.get("words", [])]
                found = _plain_segment(
                    seg["start"] + shift,
                    seg["end"] + shift,
                    seg["text"],
                    words,
                    avg_logprob=seg.get("avg_logprob"),
                    no_speech_prob=seg.get("no_speech_prob"),
                    compression_ratio=seg.get("compression_ratio"),
                )
                emit(fit_to_speech(found, bounds))
            progress(b / SAMPLE_RATE)
        return language, probability


def speech_regions(audio: np.ndarray) -> list[tuple[int, int]]:
    """Sample ranges of the speech Silero VAD finds."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    with _VAD_LOCK:
        regions = get_speech_timestamps(audio, VadOptions(max_speech_duration_s=CHUNK_SECONDS, **VAD_PARAMETERS))
    return [(int(r["start"]), int(r["end"])) for r in regions]


def region_seconds(regions: list[tuple[int, int]]) -> np.ndarray:
    """Sample ranges as an (n, 2) array of start and end seconds, for fit_to_speech."""
    return np.asarray(regions, dtype=np.float64).reshape(-1, 2) / SAMPLE_RATE


def fit_to_speech(seg: dict[str, Any], bounds: np.ndarray) -> dict[str, Any]:
    """`seg` with every word's end pulled back to the end of the VAD speech region the
    word overlaps most (`bounds`: the regions' start and end seconds, in order).

    Whisper's word alignment sometimes lets the last word before a pause run on through
    the silence ("nuclei." at 401.7-403.9 s where the voice stopped at 402.1 s), which
    hides the pause from caption breaks and chapter boundaries. The regions carry VAD's
    200 ms padding, so a word is not cut inside its sound. Starts are left alone: VAD
    can miss a short quiet word ("Now!"), and a start moved late would cut it off for
    a learner who jumps to it, where one a little early costs nothing. A word VAD did
    not hear at all (no overlap), or one that would keep under MIN_WORD seconds, keeps
    Whisper's times."""
    words = seg["words"]
    if not words or not len(bounds):
        return seg
    out = []
    for start, end, text, prob in words:
        lo = int(np.searchsorted(bounds[:, 1], start))  # first region that ends after the word starts
        hi = int(np.searchsorted(bounds[:, 0], end))  # regions that start before it ends
        if hi > lo:
            overlap = np.minimum(bounds[lo:hi, 1], end) - np.maximum(bounds[lo:hi, 0], start)
            speech_end = bounds[lo + int(np.argmax(overlap)), 1]
            if speech_end - start >= MIN_WORD:
                end = min(end, speech_end)
        out.append((start, end, text, prob))
    # words only ever shrink, so they stay inside the segment; its end follows a last
    # word that was pulled back out of a pause
    end = out[-1][1] if out[-1][1] < words[-1][1] else seg["end"]
    return dict(seg, end=end, words=out)


def unfinished_tails(
    segments: list[dict[str, Any]], clips: list[tuple[int, int]], regions: list[tuple[int, int]], least: float = TAIL_SECONDS
) -> list[tuple[int, int]]:
    """The speech left in each clip after its last decoded word, where that is at least
    `least` seconds: Whisper ended the chunk early. A clip with no words is left
    alone (noise or music that Whisper rightly found no speech in)."""
    last: dict[tuple[int, int], int] = {}
    for seg in segments:
        clip = _clip_of(seg, clips)
        if clip is not None and seg["words"]:
            last[clip] = max(last.get(clip, 0), int(seg["words"][-1][1] * SAMPLE_RATE))
    tails = []
    for clip, end in last.items():
        # a word's end is often placed a little early: speech that starts within
        # TAIL_SLACK after it was decoded already
        left = [(max(a, end + int(TAIL_SLACK * SAMPLE_RATE)), b) for a, b in regions if b > end + TAIL_SLACK * SAMPLE_RATE and a < clip[1]]
        left = [(a, min(b, clip[1])) for a, b in left if min(b, clip[1]) > a]
        if sum(b - a for a, b in left) >= least * SAMPLE_RATE:
            tails.append((max(clip[0], left[0][0] - int(0.2 * SAMPLE_RATE)), clip[1]))
    return sorted(tails)


def join_regions(
    regions: list[tuple[int, int]], longest: int = CHUNK_SECONDS * SAMPLE_RATE, gap: int = int(MAX_JOIN_GAP * SAMPLE_RATE), fill: float = MIN_FILL
) -> list[tuple[int, int]]:
    """Join sorted speech regions into clips of at most `longest` samples, across gaps
    of at most `gap`; a region longer than `longest` is split evenly. A clip that
    cannot take the next region ends in the longest pause of its last part (after
    `fill` x `longest`), so that chunks end between sentences rather than at a
    comma, and the regions after that pause open the next clip."""
    pieces: list[tuple[int, int]] = []
    for start, end in regions:
        n = -(-(end - start) // longest)
        pieces += [(start + (end - start) * k // n, start + (end - start) * (k + 1) // n) for k in range(n)]
    clips: list[tuple[int, int]] = []
    i = 0
    while i < len(pieces):
        first = pieces[i][0]
        j = i
        while j + 1 < len(pieces) and pieces[j + 1][0] - pieces[j][1] <= gap and pieces[j + 1][1] - first <= longest:
            j += 1
        if j > i and j + 1 < len(pieces) and pieces[j + 1][0] - pieces[j][1] <= gap:  # full, not at a long silence
            ends = [m for m in range(i, j + 1) if pieces[m][1] - first >= fill * longest]
            if ends:
                j = max(ends, key=lambda m: (pieces[m + 1][0] - pieces[m][1], m))
        clips.append((first, pieces[j][1]))
        i = j + 1
    return clips


def fixed_clips(n: int) -> list[tuple[int, int]]:
    """Consecutive 30-second clips over `n` samples (no VAD)."""
    step = CHUNK_SECONDS * SAMPLE_RATE
    return [(a, min(a + step, n)) for a in range(0, n, step)]


def plan_windows(samples: np.ndarray, window: int = WINDOW_SECONDS * SAMPLE_RATE, search: int = CUT_SEARCH_SECONDS * SAMPLE_RATE) -> list[tuple[int, int]]:
    """Split `samples` into windows of about `window` samples, each cut at the
    quietest 100 ms near the boundary so that no word is split."""
    n = len(samples)
    bounds = [0]
    frame = SAMPLE_RATE // 10  # 100 ms
    while n - bounds[-1] > window + search:
        target = bounds[-1] + window
        lo, hi = target - search, target + search
        region = np.asarray(samples[lo:hi], dtype=np.float32)
        frames = region[: len(region) // frame * frame].reshape(-1, frame)
        quietest = int(np.argmin(np.einsum("ij,ij->i", frames, frames)))
        bounds.append(lo + quietest * frame + frame // 2)
    bounds.append(n)
    return list(zip(bounds[:-1], bounds[1:]))


def _open_audio(spec: dict[str, Any]) -> np.ndarray:
    return np.memmap(spec["path"], dtype=np.float32, mode="r", offset=spec["offset"], shape=(spec["length"],))


def _read_window(spec: dict[str, Any], a: int, b: int) -> np.ndarray:
    """Samples a..b of the audio file as a private array (see the module docstring)."""
    with open(spec["path"], "rb") as f:
        window = np.fromfile(f, dtype=np.float32, count=b - a, offset=spec["offset"] + a * 4)
    if len(window) != b - a:
        raise RuntimeError(f"audio file ended early: {len(window)} of {b - a} samples at sample {a}")
    return window


def _crash(how: str) -> None:
    """Die the way a native library would (for the crash-isolation tests)."""
    if how == "abort":
        os.abort()
    if how == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if how == "exit":
        os._exit(3)


class _Cancelled(Exception):
    """Raised inside a stream when another stream has failed."""


def window_length(total: int, streams: int) -> int:
    """Samples per window: at most WINDOW_SECONDS, and short enough that a recording
    of a few minutes still gives every stream a window of its own."""
    share = -(-total // max(1, streams))  # ceiling
    return min(WINDOW_SECONDS * SAMPLE_RATE, max(MIN_WINDOW_SECONDS * SAMPLE_RATE, share))


def _transcribe(engine: Any, request: dict[str, Any], conn: Connection) -> None:
    if request.get("crash"):
        _crash(request["crash"])
    samples = _open_audio(request["audio"])
    total = len(samples) / SAMPLE_RATE
    streams = getattr(engine, "streams", 1)
    windows = plan_windows(samples, window=window_length(len(samples), streams))  # touches only a minute of audio around each cut
    del samples
    language, probability = request["language"], (1.0 if request["language"] else None)
    detected = language is not None
    send_lock = threading.Lock()  # a Connection is not safe to send on from two threads
    done_seconds = [0.0] * len(windows)  # how far each window has got
    stop = threading.Event()

    def run(index: int, language: str | None, stream: int) -> tuple[list[dict[str, Any]], str | None, float | None]:
        a, b = windows[index]
        shift = a / SAMPLE_RATE
        window = _read_window(request["audio"], a, b)  # the only in-memory copy, one window long
        found: list[dict[str, Any]] = []

        def emit(seg: dict[str, Any]) -> None:
            seg["start"] += shift
            seg["end"] += shift
            seg["words"] = [(s + shift, e + shift, w, p) for s, e, w, p in seg["words"]]
            found.append(seg)

        def progress(seconds: float) -> None:
            if stop.is_set():
                raise _Cancelled()
            with send_lock:  # a chunk decoded again reports earlier times: keep the furthest
                done_seconds[index] = max(done_seconds[index], min(seconds, (b - a) / SAMPLE_RATE))
                conn.send(("progress", min(sum(done_seconds), total)))

        # prompt spans come in seconds from the first sample: make them window times
        prompts = [(s - shift, e - shift, text) for s, e, text in request.get("prompts") or () if e > shift and s < b / SAMPLE_RATE]
        lang, prob = engine.transcribe(window, dict(request, language=language, prompts=prompts), emit, progress, stream)
        del window
        release_memory()  # long recordings: the next window starts from a trimmed heap
        with send_lock:
            done_seconds[index] = (b - a) / SAMPLE_RATE
        return found, lang, prob

    def send_segments(found: list[dict[str, Any]]) -> None:
        with send_lock:
            for seg in found:
                conn.send(("segment", seg))
            conn.send(("progress", min(sum(done_seconds), total)))

    # Until the language is known (a multilingual model told none), windows go one at a
    # time: the first window with speech decides it, and later windows keep it so that
    # one recording is not split across languages.
    index = 0
    while index < len(windows) and not detected:
        found, lang, prob = run(index, None, 0)
        send_segments(found)
        if lang is not None:
            language, probability, detected = lang, prob, True
        index += 1
    # The rest in parallel: each stream takes the next window when it is free; the
    # segments go back in window order.
    if index < len(windows):
        free = list(range(streams))
        free_lock = threading.Lock()

        def job(i: int) -> tuple[list[dict[str, Any]], str | None, float | None]:
            with free_lock:
                stream = free.pop()
            try:
                return run(i, language, stream)
            finally:
                with free_lock:
                    free.append(stream)

        def stop_on_failure(future: Future[Any]) -> None:
            if future.exception() is not None:
                stop.set()  # the other windows stop at their next progress step

        pool = ThreadPoolExecutor(max_workers=streams, thread_name_prefix="stream")
        futures = []
        try:
            for i in range(index, len(windows)):
                futures.append(pool.submit(job, i))
                futures[-1].add_done_callback(stop_on_failure)
            for future in futures:
                try:
                    found, _, _ = future.result()
                except _Cancelled:
                    break  # another window failed: report that one, below
                send_segments(found)
        finally:
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
        for future in futures:
            if future.done() and not future.cancelled() and future.exception() is not None and not isinstance(future.exception(), _Cancelled):
                raise future.exception()  # type: ignore[misc]
    if language is None:
        language, probability = ("en", None) if not engine.multilingual else (None, None)
    conn.send(("done", {"language": language, "language_probability": probability}))


def release_memory() -> None:
    """Give the freed heap back to the system. The worker stays alive between
    recordings, beside the clip encoders of the same run; glibc keeps freed memory
    in per-thread arenas (one per stream, one per OCR thread) unless asked."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc


def _die_with_parent() -> None:
    """Ask Linux to kill this process when the parent dies (kill -9 of the run)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the closed socket ends the loop instead


def serve(conn: Connection) -> None:
    engine: Any = None
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the parent went away
        kind = message[0]
        if kind == "quit":
            return
        try:
            if kind == "load":
                spec = message[1]
                engine = (FasterWhisperEngine if spec["engine"] == "faster-whisper" else OpenAIWhisperEngine)(spec)
                conn.send(("loaded", {"multilingual": engine.multilingual, "device": engine.device, "compute_type": engine.compute_type}))
            elif kind == "transcribe":
                if engine is None:
                    raise RuntimeError("no model loaded")
                try:
                    _transcribe(engine, message[1], conn)
                finally:
                    release_memory()
            else:
                raise RuntimeError(f"unknown message {kind!r}")
        except ConfigProblem as e:
            conn.send(("error", "config", str(e)))
        except (BrokenPipeError, ConnectionResetError):
            return
        except MemoryError:
            conn.send(("error", "engine", "out of memory"))
        except Exception as e:  # any engine failure becomes one message; the worker stays usable
            log.debug("engine failure", exc_info=True)
            traceback.print_exc(file=sys.stderr)
            conn.send(("error", "engine", f"{type(e).__name__}: {e}"))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    # Ctrl-C reaches the whole process group; the parent decides what to do with us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    # Native libraries sometimes print to stdout; keep it out of the way (fd 1 -> stderr).
    os.dup2(2, 1)
    logging.basicConfig(level=os.environ.get("RECAST_ENGINE_LOG", "WARNING"), stream=sys.stderr)
    conn = Connection(int(args[0]))
    try:
        serve(conn)
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
