"""Slide changes, stills and keyframes, cheaply.

Runs in a thread while speech is recognised, so it must not decode an hour of video
at full rate. Three steps:
1. Keyframe times from packet flags (PyAV demux, no decoding).
2. A coarse pass that decodes only keyframes (`-skip_frame nokey`), scaled to
   320x180 RGB, in an ffmpeg subprocess; consecutive keyframes that differ mark an
   interval with a change. When keyframes are rare (some screen recorders write one
   a minute, or one per file) the whole video is decoded at 1 frame a second instead.
3. Each such interval is decoded at 5 frames a second to place the change to 0.2 s,
   and one still per stable shot (taken 1 s after the change, when transitions and
   animations have settled) is saved 640 px wide for OCR and thumbnails.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np

from .errors import MediaError
from .ffmpeg import SAFE_INPUT, input_path, run_ffmpeg
from .models import Frame, MediaInfo, SceneChange, VideoAnalysis

log = logging.getLogger(__name__)

THUMB_W, THUMB_H = 320, 180  # px: analysis size; a changed word of body text is still a few dozen pixels
PIXEL_STEP = 24  # grey levels: a pixel this much brighter or darker has changed (compression noise is below)
MIN_CHANGE = 0.12  # % of pixels changed (70 px at 320x180): one changed word on a slide is more
SETTLE = 1.0  # s after a change when the still is taken
STILL_WIDTH = 640  # px
TITLE_CHANGE = 0.5  # % of the top fifth's pixels: the title changed
FINE_FPS = 5.0  # frames a second when placing a change
SPARSE_KEYFRAMES = 12.0  # s: a mean keyframe interval longer than this means a full 1 fps pass
MAX_REFINE = 400  # changes refined one by one; beyond that it is camera footage, not slides

_PTS = re.compile(rb"pts_time:\s*(-?[0-9.]+)")


def analyze_video(media: MediaInfo, workdir: Path) -> VideoAnalysis:
    """Scene changes, one still per stable shot, and keyframe times of `media`'s video."""
    if not media.has_video:
        return VideoAnalysis()
    path = Path(media.path)
    keyframes = keyframe_times(path)
    duration = media.duration or (keyframes[-1] - keyframes[0] if keyframes else 0.0)
    sparse = len(keyframes) < 2 or duration / max(len(keyframes), 1) > SPARSE_KEYFRAMES
    times, frames = _decode(path, keyframes_only=not sparse, fps=1.0)
    if len(frames) == 0:
        return VideoAnalysis(keyframes=tuple(keyframes))
    if not sparse and duration - times[-1] > 1.0 / FINE_FPS:
        # after the last keyframe: decode the tail, or a change there is never seen
        tail_t, tail_f = _decode(path, keyframes_only=False, fps=FINE_FPS, start=times[-1], length=duration - times[-1] + 0.5)
        if len(tail_f):
            times = list(times) + [tail_t[-1]]
            frames = np.concatenate([frames, tail_f[-1:]])
    scores = [_score(frames[i - 1], frames[i]) for i in range(1, len(frames))]
    changes: list[SceneChange] = []
    refine = sum(s >= MIN_CHANGE for s in scores) <= MAX_REFINE
    for i, s in enumerate(scores, start=1):
        if s < MIN_CHANGE:
            continue
        t0, t1 = times[i - 1], times[i]
        # Placing a change costs decoding its keyframe interval at full size; only a
        # change of the title strip (a possible chapter start) is worth that. Others
        # (a new bullet point) are put mid-interval.
        if refine and t1 - t0 > 1.0 / FINE_FPS + 0.05 and _score(frames[i - 1][: THUMB_H // 5], frames[i][: THUMB_H // 5]) >= TITLE_CHANGE:
            changes.extend(_place(path, t0, t1))
        else:
            changes.append(SceneChange(round((t0 + t1) / 2 if t1 - t0 > 1.0 else t1, 3), round(min(100.0, s), 2)))
    shots = [0.0] + [c.time for c in changes]
    ends = [c.time for c in changes] + [max(duration, shots[-1])]
    still_times = [min(a + SETTLE, a + max(0.0, (b - a) / 2)) for a, b in zip(shots, ends)]
    stills = _save_stills(path, still_times, workdir)
    # ffmpeg counted from the start of the file; recast's timeline is the container's
    origin = media.start_time or 0.0
    changes = [SceneChange(round(c.time + origin, 3), c.score) for c in changes]
    stills = [Frame(round(f.time + origin, 3), f.path) for f in stills]
    return VideoAnalysis(tuple(changes), tuple(stills), tuple(keyframes))


def keyframe_times(path: Path) -> list[float]:
    """Times of the video's keyframes, from packet flags (nothing is decoded)."""
    import av

    out: list[float] = []
    try:
        with av.open(str(path), options={"protocol_whitelist": "file"}) as container:
            if not container.streams.video:
                return []
            stream = container.streams.video[0]
            base = stream.time_base
            for packet in container.demux(stream):
                if packet.is_keyframe and packet.pts is not None:
                    out.append(float(packet.pts * base))
    except av.error.FFmpegError as e:  # a damaged tail: keep what was read
        log.debug("keyframe scan of %s stopped: %s", path, e)
    return sorted(set(round(t, 4) for t in out))


def _decode(path: Path, keyframes_only: bool, fps: float, start: float | None = None, length: float | None = None):
    """Small RGB frames and their times from an ffmpeg subprocess."""
    args: list[str] = []
    if keyframes_only:
        args += ["-skip_frame", "nokey"]
    else:
        args += ["-skip_loop_filter", "all"]  # deblocking costs a fifth of decoding and changes nothing at 320x180
    if start is not None:
        args += ["-ss", f"{max(0.0, start):.3f}"]
    if length is not None:
        args += ["-t", f"{length:.3f}"]  # on the input: stop decoding there
    args += [*SAFE_INPUT, "-i", input_path(path)]
    chain = [] if keyframes_only else [f"fps={fps:g}"]
    chain += [f"scale={THUMB_W}:{THUMB_H}:flags=area", "format=rgb24", "showinfo"]
    args += ["-an", "-sn", "-dn", "-threads", "1", "-fps_mode", "passthrough", "-vf", ",".join(chain), "-f", "rawvideo", "pipe:1"]
    try:
        proc = run_ffmpeg(args, path=path, timeout=1800, what="video analysis")
    except MediaError:
        if keyframes_only:
            raise
        return [], np.zeros((0, THUMB_H, THUMB_W, 3), dtype=np.uint8)
    size = THUMB_W * THUMB_H * 3
    n = len(proc.stdout) // size
    frames = np.frombuffer(proc.stdout[: n * size], dtype=np.uint8).reshape(n, THUMB_H, THUMB_W, 3)
    times = [float(m) for m in _PTS.findall(proc.stderr)]
    if len(times) > n:  # frames past an output limit were logged but not written: they are the last ones
        times = times[:n]
    if len(times) != n:  # cannot pair frames with times: trust neither
        log.warning("video analysis: %d frames but %d times; slide changes skipped", n, len(times))
        return [], frames[:0]
    # without -copyts ffmpeg restarts time at 0 at the (seek) start of the input
    return [t + (start or 0.0) for t in times], frames


def _score(a: np.ndarray, b: np.ndarray) -> float:
    """Percentage of pixels that changed clearly in any colour channel (red and dark
    green are almost the same grey)."""
    return float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=-1) > PIXEL_STEP) * 100.0)


def _place(path: Path, t0: float, t1: float) -> list[SceneChange]:
    """The changes between two coarse frames (at t0 and t1), placed to 1/FINE_FPS s;
    there may be several (two slides shown within one keyframe interval)."""
    times, frames = _decode(path, keyframes_only=False, fps=FINE_FPS, start=t0, length=t1 - t0 + 0.3)
    out = []
    for k in range(1, len(frames)):
        s = _score(frames[k - 1], frames[k])
        if s >= MIN_CHANGE and times[k] > t0 + 1e-3:
            # the fps filter labels a frame with the nearest tick, so the sample time is the estimate
            out.append(SceneChange(round(max(t0, times[k]), 3), round(min(100.0, s), 2)))
    merged: list[SceneChange] = []
    for c in out:  # a cross-fade is one change, not one per sample
        if merged and c.time - merged[-1].time <= 1.0 / FINE_FPS + 1e-3:
            merged[-1] = SceneChange(merged[-1].time, max(merged[-1].score, c.score))
        else:
            merged.append(c)
    return merged or [SceneChange(round(t1, 3), 0.0)]


def _save_stills(path: Path, times: list[float], workdir: Path, batch: int = 12) -> list[Frame]:
    """One JPEG per time, STILL_WIDTH wide; one ffmpeg process per `batch` stills
    (each input seeks on its own, so only a few frames are decoded per still)."""
    folder = Path(workdir) / "stills"
    folder.mkdir(parents=True, exist_ok=True)
    out: list[Frame] = []
    for b in range(0, len(times), batch):
        group = list(enumerate(times[b : b + batch], start=b))
        args: list[str] = []
        for _, t in group:
            args += ["-ss", f"{max(0.0, t):.3f}", *SAFE_INPUT, "-i", input_path(path)]
        targets = []
        for k, (i, t) in enumerate(group):
            target = folder / f"still-{i:04d}.jpg"
            args += ["-map", f"{k}:v:0", "-frames:v", "1", "-vf", f"scale={STILL_WIDTH}:-2", "-q:v", "3", str(target)]
            targets.append((t, target))
        try:
            run_ffmpeg(args, path=path, timeout=600, what="still extraction")
        except MediaError as e:  # stills only improve titles and thumbnails
            log.warning("%s", e)
        out.extend(Frame(t, p) for t, p in targets if p.is_file() and p.stat().st_size > 0)
    return out
