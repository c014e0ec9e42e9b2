"""Stage 2: decode the chosen audio track once, to 16 kHz mono float32.

This one array feeds every audio consumer (voice-activity detection, speech
recognition, pause detection), so a recording is decoded exactly once and never
held twice: ffmpeg writes raw samples into a pipe and we read them straight into
a preallocated array (an hour is 57.6 M samples, 230 MB).

Given a folder, the array is a file there, memory-mapped: the speech engine's
process reads it by name, and while it does (most of a run) the samples are not
part of this process's memory at all, only of the page cache, from which the
kernel can drop them. Three hours of audio are 690 MB that a build would otherwise
hold beside the engine.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
from pathlib import Path
from typing import Callable

import numpy as np

from .errors import MediaError
from .ffmpeg import SAFE_INPUT, _kill_group, ffmpeg_exe, input_path, last_lines
from .models import SAMPLE_RATE, Audio, MediaInfo

log = logging.getLogger(__name__)

_BYTES = 4  # float32
_READ = 1 << 20  # bytes per read from the pipe
# Stereo whose channels cancel when added: one was recorded with its polarity
# inverted (a miswired microphone or cable). Their plain mix is near silence, in
# which recognition finds no words at all. Below this share of the channels'
# energy, the mix is their difference instead.
CANCEL_RATIO = 0.1
_PHASE_WINDOWS = (0.25, 0.5, 0.75)  # where the check listens, as shares of the recording
_PHASE_SECONDS = 20.0


def choose_track(media: MediaInfo, track: int) -> int:
    """Validate `--audio-track` against what the file has."""
    if not media.audio_streams:
        raise MediaError("no audio stream: recast needs speech to transcribe", media.path)
    if track >= len(media.audio_streams):
        raise MediaError(
            f"has {len(media.audio_streams)} audio stream(s); --audio-track {track} does not exist (counting from 0)",
            media.path,
        )
    return track


def load_audio(
    media: MediaInfo,
    track: int = 0,
    progress: Callable[[float, float], None] | None = None,
    timeout_per_hour: float = 600.0,
    folder: Path | None = None,
) -> Audio:
    """Decode audio track `track` of `media` into one float32 array: in memory, or,
    with `folder`, a raw file there mapped read-only (the caller removes the folder).

    Timestamp gaps are filled with silence (`aresample=async=1`) so that sample n
    stays at offset + n/16000 s on the source timeline; `offset` is where the
    stream starts relative to the container start (non-zero in many screen recordings).
    A stream that is corrupt part-way through yields what decodes, with a warning.
    """
    track = choose_track(media, track)
    stream = media.audio_streams[track]
    filters, mix = "aresample=async=1:min_hard_comp=0.1", ["-ac", "1"]
    if stream.channels == 2 and channels_cancel(media, track):
        log.warning("%s: the two sound channels cancel out when mixed (one has its polarity inverted); "
                    "recognising their difference", media.path)
        filters, mix = filters + ",pan=mono|c0=0.7071*c0-0.7071*c1", []  # the level of -ac 1 (1/sqrt 2 a channel)
    args = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error",
        *SAFE_INPUT, "-i", input_path(media.path),
        "-map", f"0:a:{track}", "-vn", "-sn", "-dn",
        "-af", filters, *mix,
        "-ar", str(SAMPLE_RATE), "-f", "f32le", "pipe:1",
    ]  # fmt: skip
    expected = max(int((media.duration + 2.0) * SAMPLE_RATE), SAMPLE_RATE)
    store = _Store(Path(folder) / f"audio-{track}.f32" if folder is not None else None)
    try:
        buf = store.grow(expected)
    except OSError:
        store.discard()
        raise
    filled = 0  # bytes
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        assert proc.stdout is not None
        view = memoryview(buf).cast("B")
        last_report = 0.0
        while True:
            if filled == len(view):
                # Longer than the container said: grow (rare; only a lying header gets here).
                del view
                buf = store.grow(len(buf) + len(buf) // 2 + SAMPLE_RATE, buf)
                view = memoryview(buf).cast("B")
            n = proc.stdout.readinto(view[filled : min(len(view), filled + _READ)])
            if not n:
                break
            filled += n
            if progress is not None:
                done = filled / _BYTES / SAMPLE_RATE
                if done - last_report >= 30.0:
                    progress(done, media.duration)
                    last_report = done
        _, err = proc.communicate(timeout=max(60.0, timeout_per_hour * media.duration / 3600))
    except BaseException:
        _kill_group(proc)
        store.discard()
        raise
    del view
    samples = filled // _BYTES
    message = last_lines(err)
    if proc.returncode != 0 and samples == 0:
        store.discard()
        raise MediaError(f"unreadable media: the audio could not be decoded ({message})", media.path)
    if samples < SAMPLE_RATE // 10:
        store.discard()
        raise MediaError("no audio to transcribe: the audio stream is empty (0 seconds)", media.path)
    if proc.returncode != 0 or err.strip():
        log.warning("%s: part of the audio could not be decoded; using the %.1f s that did (%s)",
                    media.path, samples / SAMPLE_RATE, message)
    sha256 = _hash(buf[:samples])
    offset = max(0.0, stream.start_time - media.start_time)
    return Audio(samples=store.finish(buf, samples), offset=offset, track=track, sha256=sha256)


def channels_cancel(media: MediaInfo, track: int) -> bool:
    """Whether the two channels of stereo track `track` cancel when added: listens to
    a few stretches of the recording (a fraction of a second's decoding)."""
    sums = np.zeros(2)  # energy of the mix, of the channels
    for share in _PHASE_WINDOWS:
        start = max(0.0, media.duration * share - _PHASE_SECONDS / 2)
        args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-ss", f"{start:.3f}", *SAFE_INPUT,
                "-i", input_path(media.path), "-t", f"{_PHASE_SECONDS}", "-map", f"0:a:{track}", "-vn", "-sn", "-dn",
                "-ac", "2", "-ar", str(SAMPLE_RATE), "-f", "f32le", "pipe:1"]  # fmt: skip
        try:
            done = subprocess.run(args, capture_output=True, timeout=60)
        except subprocess.TimeoutExpired:
            return False
        pcm = np.frombuffer(done.stdout[: len(done.stdout) // 8 * 8], dtype=np.float32).reshape(-1, 2).astype(np.float64)
        sums += [float(np.sum((pcm[:, 0] + pcm[:, 1]) ** 2)), float(np.sum(pcm**2))]
    # uncorrelated channels give about 1, the same sound in both 2, inverted 0; silence: no verdict
    return sums[1] > 1e-6 * len(_PHASE_WINDOWS) * _PHASE_SECONDS * SAMPLE_RATE and sums[0] < CANCEL_RATIO * sums[1]


class _Store:
    """Where the samples are decoded to: a NumPy array, or a file mapped into memory."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def grow(self, length: int, old: np.ndarray | None = None) -> np.ndarray:
        """An array of `length` samples that starts with `old`'s."""
        if self.path is None:
            if old is None:
                return np.empty(length, dtype=np.float32)
            return np.concatenate([old, np.empty(length - len(old), dtype=np.float32)])
        with open(self.path, "ab") as f:
            if hasattr(os, "posix_fallocate"):
                # The blocks are taken now: a full disk is an OSError here rather than
                # a SIGBUS, which would kill the run, when a mapped page is first written.
                os.posix_fallocate(f.fileno(), 0, length * _BYTES)
            else:
                f.truncate(length * _BYTES)
        return np.memmap(self.path, dtype=np.float32, mode="r+", shape=(length,))

    def finish(self, buf: np.ndarray, samples: int) -> np.ndarray:
        """The decoded samples only. A file is cut to them and mapped again read-only:
        the pages just written leave this process's memory with the old map."""
        if self.path is None:
            buf.resize(samples, refcheck=False)  # in place: a single copy of the data
            return buf
        # (no flush: the pages are in the page cache, where every reader finds them)
        os.truncate(self.path, samples * _BYTES)
        return np.memmap(self.path, dtype=np.float32, mode="r", shape=(samples,))

    def discard(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def _hash(samples: np.ndarray) -> str:
    """Content hash of the decoded audio: the transcript cache key. Two files that
    hold the same sound (a remux, a renamed copy) share a transcript."""
    h = hashlib.sha256()
    raw = memoryview(samples).cast("B")
    for i in range(0, len(raw), 1 << 24):
        h.update(raw[i : i + (1 << 24)])
    return h.hexdigest()


def find_silences(audio: Audio, *, min_length: float = 0.3, threshold_db: float = -40.0) -> list[tuple[float, float]]:
    """Quiet stretches (source-timeline seconds) from 20 ms frame energy.

    Cheap enough for an hour (one pass over 57.6 M samples in NumPy); used for
    pause detection when choosing chapter boundaries and caption breaks.
    """
    frame = SAMPLE_RATE // 50  # 20 ms
    n = len(audio.samples) // frame
    if n == 0:
        return []
    out: list[tuple[float, float]] = []
    step = 50 * 600  # frames per block (10 minutes) to keep the temporary small
    quiet_all = np.empty(n, dtype=bool)
    for b in range(0, n, step):
        e = min(n, b + step)
        block = audio.samples[b * frame : e * frame].reshape(-1, frame)
        rms = np.sqrt(np.mean(np.square(block, dtype=np.float32), axis=1) + 1e-12)
        quiet_all[b:e] = 20 * np.log10(rms) < threshold_db
    edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet_all.view(np.int8), [0]])))
    for s, e in zip(edges[::2], edges[1::2]):
        if (e - s) * 0.02 >= min_length:
            out.append((audio.offset + s * 0.02, audio.offset + e * 0.02))
    return out
