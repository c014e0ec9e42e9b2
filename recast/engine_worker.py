"""The speech engine's side of the worker process.

`recast.transcribe` starts `python -m recast.engine_worker FD` once per model and
talks to it over a socket (FD) with `multiprocessing.connection` messages, so a
native crash in CTranslate2, PyTorch or ONNX Runtime (segfault, abort, OOM kill)
ends this process, not the run. The model stays loaded between recordings.

Messages from the parent:
    ("load", spec)            spec: engine, model, device, compute_type, threads, download_root
    ("transcribe", request)   request: audio (path/offset/length of float32 samples on disk),
                              language, task, beam_size, vad, crash (tests only)
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
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import traceback
from multiprocessing.connection import Connection
from typing import Any, Callable

import numpy as np

SAMPLE_RATE = 16000  # Hz
# Longest stretch of audio handed to the engine at once. Silero VAD's transient
# memory grows with its input (measured: +250 MB for 10 minutes, +365 MB for 20);
# 10 minutes still fills the batches (20 chunks of 30 s) with little waste.
WINDOW_SECONDS = 10 * 60
CUT_SEARCH_SECONDS = 30  # look this far either side of a window boundary for a quiet cut
CHUNK_SECONDS = 30  # Whisper's context: 480000 samples in a 30-second chunk
# 30-second chunks decoded together. On 2 CPU cores 8 measured fastest (4: 26x, 8: 31x,
# 16: 27x real time, tiny.en). Memory grows with it: the encoder's attention scores
# are batch x heads x 1500 x 1500 floats (432 MB for tiny at 8), so big models on a
# CPU get smaller batches; GPUs have the memory and gain from more.
CPU_BATCH_SIZE = 8
CPU_BATCH_BUDGET = 48  # batch x attention heads, at most, on a CPU (tiny: 6 heads -> 8)
CUDA_BATCH_SIZE = 16

# Silero VAD settings: a pause of half a second ends a speech region, and 200 ms of
# padding keeps word onsets and endings that the detector clips.
VAD_PARAMETERS = {"min_silence_duration_ms": 500, "speech_pad_ms": 200}
# openai-whisper: join neighbouring speech regions into one call while the gap
# between them is short, so each call carries close to a full 30 s window.
MAX_JOIN_GAP = 3.0  # seconds

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
        try:
            self.model = WhisperModel(
                str(spec["model"]),
                device=device,
                compute_type=compute_type,
                cpu_threads=spec["threads"] or 0,
                download_root=spec.get("download_root"),
            )
        except Exception as e:
            if type(e).__name__ in ("LocalEntryNotFoundError", "RepositoryNotFoundError", "EntryNotFoundError", "HfHubHTTPError"):
                raise ConfigProblem(f"model {spec['model']!r} is not downloaded and cannot be fetched now (offline?): {e}") from e
            raise
        self.pipeline = BatchedInferencePipeline(self.model)
        self.multilingual = bool(self.model.model.is_multilingual)
        if device == "cuda":
            self.batch_size = CUDA_BATCH_SIZE
        else:
            heads = _attention_heads(str(spec["model"]))
            self.batch_size = max(1, min(CPU_BATCH_SIZE, CPU_BATCH_BUDGET // heads)) if heads else 4
        self.device = device
        self.compute_type = compute_type

    def transcribe(self, audio: np.ndarray, request: dict[str, Any], emit: Emit, progress: Callable[[float], None]) -> tuple[str | None, float | None]:
        kwargs: dict[str, Any] = dict(
            language=request["language"],
            task=request["task"],
            beam_size=request["beam_size"],
            # One temperature, no fallback: the fallback re-decodes whole batches and
            # cost 40% of the time for no WER gain on the lecture benchmark; outputs
            # that would have triggered it (compression ratio > 2.4) are dropped by the parent.
            temperature=0.0,
            condition_on_previous_text=False,
            word_timestamps=True,
            batch_size=self.batch_size,
            log_progress=False,
        )
        duration = len(audio) / SAMPLE_RATE
        if request["vad"]:
            kwargs.update(vad_filter=True, vad_parameters=dict(VAD_PARAMETERS))
        else:
            # Without VAD the batched pipeline needs explicit 30 s clips.
            starts = np.arange(0.0, duration, CHUNK_SECONDS)
            kwargs.update(vad_filter=False, clip_timestamps=[{"start": float(s), "end": float(min(s + CHUNK_SECONDS, duration))} for s in starts])
        segments, info = self.pipeline.transcribe(audio, **kwargs)
        for seg in segments:
            words = [(w.start, w.end, w.word, w.probability) for w in (seg.words or [])]
            emit(
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
        has_speech = (info.duration_after_vad or 0) > 0 if request["vad"] else True
        if not has_speech:
            return None, None
        return info.language, info.language_probability


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

    def _clips(self, audio: np.ndarray, vad: bool) -> list[tuple[int, int]]:
        n = len(audio)
        if not vad:
            return [(0, n)] if n else []
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        regions = get_speech_timestamps(audio, VadOptions(max_speech_duration_s=CHUNK_SECONDS, **VAD_PARAMETERS))
        clips: list[tuple[int, int]] = []
        for r in regions:
            start, end = int(r["start"]), int(r["end"])
            if clips and start - clips[-1][1] <= MAX_JOIN_GAP * SAMPLE_RATE and end - clips[-1][0] <= CHUNK_SECONDS * SAMPLE_RATE:
                clips[-1] = (clips[-1][0], end)
            else:
                clips.append((start, end))
        return clips

    def transcribe(self, audio: np.ndarray, request: dict[str, Any], emit: Emit, progress: Callable[[float], None]) -> tuple[str | None, float | None]:
        whisper = self.whisper
        language = request["language"]
        probability = 1.0 if language else None
        clips = self._clips(audio, request["vad"])
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
                condition_on_previous_text=False,
                word_timestamps=True,
                hallucination_silence_threshold=2.0,  # seconds of silence that mark a hallucinated stretch
                fp16=self.compute_type == "float16",
                verbose=None,
            )
            shift = a / SAMPLE_RATE
            for seg in result["segments"]:
                words = [(w["start"] + shift, w["end"] + shift, w["word"], w.get("probability", 1.0)) for w in seg.get("words", [])]
                emit(
                    _plain_segment(
                        seg["start"] + shift,
                        seg["end"] + shift,
                        seg["text"],
                        words,
                        avg_logprob=seg.get("avg_logprob"),
                        no_speech_prob=seg.get("no_speech_prob"),
                        compression_ratio=seg.get("compression_ratio"),
                    )
                )
            progress(b / SAMPLE_RATE)
        return language, probability


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


def _transcribe(engine: Any, request: dict[str, Any], conn: Connection) -> None:
    if request.get("crash"):
        _crash(request["crash"])
    samples = _open_audio(request["audio"])
    total = len(samples) / SAMPLE_RATE
    windows = plan_windows(samples)  # touches only a minute of audio around each cut
    del samples
    language, probability = request["language"], (1.0 if request["language"] else None)
    detected = language is not None
    for a, b in windows:
        shift = a / SAMPLE_RATE
        window = _read_window(request["audio"], a, b)  # the only in-memory copy, one window long

        def emit(seg: dict[str, Any]) -> None:
            seg["start"] += shift
            seg["end"] += shift
            seg["words"] = [(s + shift, e + shift, w, p) for s, e, w, p in seg["words"]]
            conn.send(("segment", seg))

        def progress(seconds: float) -> None:
            conn.send(("progress", min(shift + seconds, total)))

        lang, prob = engine.transcribe(window, dict(request, language=language), emit, progress)
        if not detected and lang is not None:
            # The first window with speech decides the language; later windows keep it
            # so that one recording is not split across languages.
            language, probability, detected = lang, prob, True
        conn.send(("progress", b / SAMPLE_RATE))
        del window
    if language is None:
        language, probability = ("en", None) if not engine.multilingual else (None, None)
    conn.send(("done", {"language": language, "language_probability": probability}))


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
                _transcribe(engine, message[1], conn)
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
