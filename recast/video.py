"""Slide changes, stills and keyframes, cheaply.

Runs in a thread while speech is recognised (and competes with it for the CPU), so
it must not decode an hour of video at full rate. In one PyAV pass over the file:
1. Every packet's keyframe flag gives the keyframe times.
2. Only keyframes are decoded (the others are never sent to the decoder), each scaled
   to 320x180 RGB; consecutive keyframes that differ clearly mark an interval with a
   change. The keyframe after a change is saved 640 px wide as that slide's still
   (for titles, thumbnails and the continuation test), so no frame is decoded twice.
3. Changes of the title strip (possible chapter starts) are placed to the frame by
   decoding their keyframe intervals (`_Placer`), the strongest first, while those
   intervals add up to at most a tenth of the video (at least REFINE_BUDGET s). The
   stills are already known by then: `on_stills` hears of them, so that reading them
   (recast.slides) runs beside this decoding. Any other change is
   reported midway between its two keyframes (`change_window` gives the interval)
   and the chapter stage snaps it to a sentence pause inside that interval: x264's
   default keyframe interval is 250 frames (8-10 s), well inside chapter tolerance.
When keyframes are rare (some screen recorders write one a minute, or one per file)
every frame must be decoded instead (`_analyze_sparse`), in one streaming pass that
compares a frame a second and takes stills and placed changes from the same frames.
Camera footage is told apart within a minute: it is then followed by its keyframes,
and whoever waits for slides to read is told (`on_footage`).
"""

from __future__ import annotations

import logging
import re
import threading
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .errors import MediaError
from .ffmpeg import SAFE_INPUT, input_path, open_media, run_ffmpeg
from .models import Frame, MediaInfo, SceneChange, VideoAnalysis

log = logging.getLogger(__name__)

THUMB_W, THUMB_H = 320, 180  # px: analysis size; a changed line of body text is still a few dozen pixels
PIXEL_STEP = 24  # grey levels: a pixel this much brighter or darker has changed (compression noise is below)
MIN_CHANGE = 0.3  # % of pixels changed (170 px at 320x180): a new line of text on a slide is more
CELL = 20  # px (at 320x180): changes are counted in cells of this size
MIN_CELLS = 10  # cells with changes: a moving pointer (old and new place) or a growing progress bar touch fewer
SETTLE = 1.0  # s after a change when the still is taken
STILL_WIDTH = 640  # px
TITLE_CHANGE = 0.15  # % of the top quarter's pixels: the title changed ("Part 1" -> "Part 2" at 320 px changes 0.26%)
FINE_FPS = 5.0  # frames a second when placing a change
SPARSE_KEYFRAMES = 12.0  # s: a mean keyframe interval longer than this means a full 1 fps pass
MIN_SKIP_RATE = 10.0  # frames a second on average: from here, that pass may skip the frames nothing refers to
# Seconds of video decoded at most to place title changes precisely: the larger of
# these. A keyframe interval of 720p decodes in a fraction of a second on one core,
# and decoding stops once the change is over.
REFINE_BUDGET = 90.0
REFINE_SHARE = 0.1
MAX_STILLS = 400  # beyond this many shots it is camera footage, not slides: stills are thinned
# Camera footage, told from slides during a full decode: of this many samples in a
# row (a second apart), at least this share show a change.
FOOTAGE_SAMPLES = 60
FOOTAGE_SHARE = 0.8
# s: keyframes at most this far apart stand in for the full decode of camera footage
FOOTAGE_KEY_GAP = 60.0

_PTS = re.compile(rb"pts_time:\s*(-?[0-9.]+)")


class Cancelled(Exception):
    """The analysis was stopped from outside: the run it serves failed or was
    interrupted, and an hour of decoding would only delay saying so."""


def _check(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise Cancelled()


def analyze_video(media: MediaInfo, workdir: Path,
                  on_stills: Callable[[Iterable[tuple[Path, float]]], None] | None = None,
                  on_footage: Callable[[], None] | None = None,
                  stop: threading.Event | None = None) -> VideoAnalysis:
    """Scene changes, one still per stable shot, and keyframe times of `media`'s video.

    `on_stills`, when given, hears of the stills as soon as the keyframe pass has
    found them, before their changes are placed (most of the analysis's time): each
    with the longest time its slide can have been on screen, so that OCR can start.
    `on_footage` is called as soon as a long analysis can tell that the video is
    camera footage, where nothing is worth waiting for: every second a new picture,
    no slide shown long enough to read. Setting `stop` ends the analysis within
    about a second of video decoded, raising `Cancelled`."""
    if not media.has_video:
        return VideoAnalysis()
    path = Path(media.path)
    folder = Path(workdir) / "stills"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        keyframes, times, frames, stills, end = _keyframe_pass(path, folder, stop)
    except (MediaError, Cancelled):
        raise
    except Exception as e:  # PyAV cannot read it: the ffmpeg path below may
        log.debug("keyframe pass over %s failed: %s", path, e)
        keyframes, times, frames, stills, end = keyframe_times(path), [], np.zeros((0, THUMB_H, THUMB_W, 3), np.uint8), {}, None
    duration = media.duration or (keyframes[-1] - keyframes[0] if keyframes else 0.0)
    sparse = len(keyframes) < 2 or duration / max(len(keyframes), 1) > SPARSE_KEYFRAMES
    if sparse or len(frames) < 2:
        return replace(_analyze_sparse(path, keyframes, folder, on_footage, stop), end=_end_if_early(end, media))
    origin = media.start_time or 0.0
    if duration - (times[-1] - origin) > 1.0 / FINE_FPS:
        # after the last keyframe: decode the tail, or a change there is never seen
        tail_t, tail_f = _decode(path, keyframes_only=False, fps=FINE_FPS, start=times[-1] - origin, length=duration - (times[-1] - origin) + 0.5)
        if len(tail_f):
            times = list(times) + [tail_t[-1] + origin]
            frames = np.concatenate([frames, tail_f[-1:]])
    scores = [_score(frames[i - 1], frames[i]) for i in range(1, len(frames))]
    found = [i for i, s in enumerate(scores, start=1) if s >= MIN_CHANGE]
    # one still per shot: the first keyframe, then the keyframe after each change
    wanted = [0] + found
    if len(wanted) > MAX_STILLS:
        wanted = [wanted[int(k)] for k in np.linspace(0, len(wanted) - 1, MAX_STILLS)]
    if on_stills is not None:
        # a shot starts after the keyframe before its still and ends at or before
        # the next shot's still
        ends = [times[j] for j in wanted[1:]] + [origin + duration]
        on_stills([(stills[i], ends[k] - (times[i - 1] if i > 0 else origin))
                   for k, i in enumerate(wanted) if i in stills])
    title_scores = {i: _title_change(frames[i - 1], frames[i]) for i in found}
    # The strongest title changes first (a new title before a "(continued)" added),
    # while the decoded video stays within budget.
    refine: set[int] = set()
    budget = max(REFINE_BUDGET, REFINE_SHARE * duration)
    for i in sorted(found, key=lambda i: -title_scores[i]):
        cost = times[i] - times[i - 1]
        if title_scores[i] < TITLE_CHANGE or cost > budget:
            continue
        refine.add(i)
        budget -= cost
    changes: list[SceneChange] = []
    placed: dict[int, list[SceneChange]] = {}
    with _Placer(path, stop) as placer:
        for i in found:
            t0, t1 = times[i - 1], times[i]
            if i in refine and t1 - t0 > 1.0 / FINE_FPS + 0.05:
                placed[i] = placer.place(t0, t1, frames[i])
                changes.extend(placed[i])
            else:
                # not placed: midway between the keyframes (see change_window)
                changes.append(SceneChange(round((t0 + t1) / 2 if t1 - t0 > 1.0 else t1, 3), round(min(100.0, scores[i - 1]), 2)))
    # a placed change gets a still a moment after it when its keyframe is far away
    out_frames: list[Frame] = []
    extra: list[float] = []
    for i in wanted:
        if i in placed and len(placed[i]) > 1:
            extra.extend(c.time + SETTLE - origin for c in placed[i][:-1])
        p = stills.get(i)
        if p is not None:
            out_frames.append(Frame(round(times[i], 3), p))
    if extra:
        out_frames.extend(Frame(round(f.time + origin, 3), f.path) for f in _save_stills(path, extra, Path(workdir), prefix="placed", stop=stop))
    out_frames.sort(key=lambda f: f.time)
    # stills of keyframes that were not kept are removed
    keep = {f.path for f in out_frames}
    for p in stills.values():
        if p not in keep:
            p.unlink(missing_ok=True)
    return VideoAnalysis(tuple(sorted(changes, key=lambda c: c.time)), tuple(out_frames), tuple(keyframes),
                         _end_if_early(end, media))


def _end_if_early(end: float | None, media: MediaInfo) -> float | None:
    """When the picture ends, if that is well before the recording does (the video
    track stops and the sound goes on); else None."""
    total = (media.start_time or 0.0) + (media.duration or 0.0)
    return round(end, 3) if end is not None and total and end < total - 1.0 else None


def change_window(change: SceneChange, keyframes: tuple[float, ...] | list[float]) -> tuple[float, float]:
    """The interval in which `change` happened: its keyframe interval when the video
    stage reported it midway between two keyframes, else the moment itself."""
    if len(keyframes) >= 2:
        k = np.asarray(keyframes)
        i = int(np.searchsorted(k, change.time))
        if 0 < i < len(k) and k[i] - k[i - 1] > 1.0 and abs((k[i] + k[i - 1]) / 2 - change.time) < 0.002:
            return float(k[i - 1]), float(k[i])
    return change.time, change.time


def _open_video(path: Path):
    """The file opened with PyAV and its first video stream (None when it has none),
    decoded on one core: speech recognition needs the other."""
    import av

    try:
        container = open_media(path)
    except av.error.FFmpegError as e:
        raise MediaError(f"cannot open the video: {e}", path) from e
    stream = container.streams.video[0] if container.streams.video else None
    if stream is not None:
        stream.thread_type = "NONE"
    return container, stream


def picture(frame, width: int | None = None, height: int | None = None, sar=None) -> np.ndarray:
    """A decoded frame as the viewer sees it, RGB: its display rotation applied (as
    ffmpeg's command line does; phones store portrait or upside-down video as turned
    frames and a flag) and its stream's sample aspect ratio `sar` (DVD and DV store
    16:9 and 4:3 pictures in the same 720x576 frames), `width` wide (default: full
    size) and `height` high (default: the even height of its aspect)."""
    turns = (int(getattr(frame, "rotation", 0) or 0) // 90) % 4  # counter-clockwise quarter turns
    shown = frame.width * float(sar) if sar and float(sar) > 0 else frame.width
    w, h = (frame.height, shown) if turns % 2 else (shown, frame.height)
    width = width or max(2, int(round(w / 2)) * 2)
    if height is None:
        height = max(2, int(round(h * width / max(w, 1) / 2)) * 2)
    sw, sh = (height, width) if turns % 2 else (width, height)
    img = frame.to_ndarray(width=sw, height=sh, format="rgb24", interpolation="AREA")
    return np.ascontiguousarray(np.rot90(img, turns)) if turns else img


def _keyframe_pass(path: Path, folder: Path, stop: threading.Event | None = None):
    """Keyframe times (from every packet), the keyframes decoded small, a still
    (STILL_WIDTH wide JPEG) of each keyframe that differs from the one before, and
    when the last frame ends."""
    import av
    from PIL import Image

    keyframes: list[float] = []
    times: list[float] = []
    small: list[np.ndarray] = []
    stills: dict[int, Path] = {}
    last_still = 0.0
    end: float | None = None
    container, stream = _open_video(path)
    with container:
        if stream is None:
            return [], [], np.zeros((0, THUMB_H, THUMB_W, 3), np.uint8), {}, None
        stream.codec_context.skip_frame = "NONKEY"
        base = stream.time_base

        def take(frame) -> None:
            nonlocal last_still
            t = float(frame.pts * base) if frame.pts is not None else keyframes[-1]
            img = _small(frame)
            i = len(small)
            # camera footage changes at every keyframe: a still every 30 s is plenty
            if i == 0 or (_score(small[-1], img) >= MIN_CHANGE and (len(stills) < MAX_STILLS or t - last_still >= 30.0)):
                last_still = t
                target = folder / f"still-{i:05d}.jpg"
                Image.fromarray(picture(frame, STILL_WIDTH, sar=stream.sample_aspect_ratio)).save(target, quality=85)
                stills[i] = target
            small.append(img)
            times.append(t)

        try:
            for packet in container.demux(stream):
                if packet.pts is not None:
                    end = max(end or 0.0, float((packet.pts + (packet.duration or 0)) * base))
                if not packet.is_keyframe or packet.pts is None:
                    continue
                keyframes.append(float(packet.pts * base))
                _check(stop)
                try:
                    for frame in packet.decode():
                        take(frame)
                    # Drained at once: a decoder that holds pictures back for reordering
                    # (HEVC with open GOPs, as phones and x265 write it) otherwise gives
                    # every other keyframe, out of order, and the rest never.
                    for frame in stream.codec_context.decode(None):
                        take(frame)
                    stream.codec_context.flush_buffers()
                except av.error.FFmpegError as e:  # one damaged keyframe: skip it
                    log.debug("keyframe at %.2f s: %s", keyframes[-1], e)
            for frame in stream.codec_context.decode(None):  # held back by a keyframe that failed to decode
                take(frame)
        except av.error.FFmpegError as e:  # a damaged tail: keep what was read
            log.debug("keyframe pass over %s stopped: %s", path, e)
    order = np.argsort(times, kind="stable")
    frames = np.stack([small[i] for i in order]) if small else np.zeros((0, THUMB_H, THUMB_W, 3), np.uint8)
    remap = {int(old): new for new, old in enumerate(order)}
    stills = {remap[i]: p for i, p in stills.items()}
    return sorted(set(round(t, 4) for t in keyframes)), [times[i] for i in order], frames, stills, end


def _analyze_sparse(path: Path, keyframes: list[float], folder: Path,
                    on_footage: Callable[[], None] | None = None,
                    stop: threading.Event | None = None) -> VideoAnalysis:
    """Rare keyframes (some screen recorders write one a minute, or one per file):
    every frame must be decoded to see any of them, so the whole video is decoded
    once, in this process (one core), and compared a frame a second. Everything comes
    from that one pass: a title change is placed to the frame among the frames
    decoded since the last sample, and each shot's still is the sample a moment
    after its change. Only the last second's frames are held, and nothing is decoded
    twice: a still per shot fetched by seeking cost a decode from the last keyframe
    each, minutes on camera footage, where every second is a new shot."""
    import av

    stills: list[Frame] = []
    container, stream = _open_video(path)
    with container:
        if stream is None:
            return VideoAnalysis(keyframes=tuple(keyframes))
        stream.codec_context.options = {"skip_loop_filter": "all"}  # a fifth of decoding; nothing at 320x180
        base = stream.time_base
        rate = float(stream.average_rate or stream.guessed_rate or 30)
        # B-frames are a third or more of the decoding and nothing refers to them: a
        # sample a second (and a change placed within a few frames) does without them.
        # Not so in a variable-frame-rate screen recording that writes a frame only
        # when the screen changes (a few a second or fewer): there a skipped frame
        # is a slide shown late or never.
        skip = "NONREF" if rate >= MIN_SKIP_RATE else "DEFAULT"
        stream.codec_context.skip_frame = skip
        pixels = (stream.codec_context.width or 1280) * (stream.codec_context.height or 720)
        # frames kept between samples for placing a change: all of them up to about
        # 64 MB a second of video (720p30), every other one or fewer beyond (4K)
        keep_every = max(1, int(np.ceil(rate * pixels * 1.5 / 64e6)))
        save = _StillSaver(folder, STILL_WIDTH, stream.sample_aspect_ratio)
        recent: deque[bool] = deque(maxlen=FOOTAGE_SAMPLES)  # whether each of the last samples changed
        key_gap = (keyframes[-1] - keyframes[0]) / (len(keyframes) - 1) if len(keyframes) >= 2 else np.inf
        found: list[tuple[SceneChange, bool]] = []  # each change, and whether a still picture came before it
        footage = False  # the picture has moved at almost every sample for a while
        held: SceneChange | None = None  # in footage, the last change: reported if the picture settles after it
        prev: np.ndarray | None = None
        pending: tuple[float, object] | None = None  # a shot whose still is not taken yet
        skipped: list[tuple[float, object]] = []
        due, n = -np.inf, 0
        settled = True  # the last sample showed no change
        try:
            for frame in container.decode(stream):
                if frame.pts is None:
                    continue
                t = float(frame.pts * base)
                if t < due:
                    n += 1
                    if n % keep_every == 0:
                        skipped.append((t, frame))
                    continue
                due, n = t + 1.0 - 0.01, 0
                _check(stop)
                img = _small(frame)
                s = _score(prev, img) if prev is not None else 0.0
                changed = prev is not None and s >= MIN_CHANGE
                if prev is None:
                    pending = (t, frame)
                elif changed:
                    at = t
                    # A new title after a still second is a possible chapter start:
                    # placed to the frame. Footage that moves all the time is not.
                    if skipped and settled and _title_change(prev, img) >= TITLE_CHANGE:
                        at = _first_changed(prev, skipped, t)
                    if pending is not None:  # the shot before lasted under SETTLE: its first sample
                        stills.extend(save(*pending, moving=not settled))
                    change = SceneChange(round(at, 3), round(min(100.0, s), 2))
                    if footage:
                        held = change
                    else:
                        found.append((change, settled))
                    pending = (t, frame)
                elif pending is not None and t - pending[0] >= SETTLE - 0.02:
                    stills.extend(save(t, frame))
                    pending = None
                if footage and not changed:
                    # The picture has settled (slides again): the change into it is
                    # one, and every frame is decoded again to see the next ones.
                    footage = False
                    if held is not None:
                        found.append((held, False))
                        held = None
                    stream.codec_context.skip_frame = skip
                settled = not changed
                prev, skipped = img, []
                recent.append(changed)
                if not footage and len(recent) == FOOTAGE_SAMPLES and sum(recent) >= FOOTAGE_SHARE * FOOTAGE_SAMPLES:
                    # Camera footage. Its cuts and motion are no slide changes: those
                    # of the last minute are dropped but one that came after a still
                    # picture (the cut from the slides to the camera).
                    footage = True
                    recent.clear()
                    found = [(c, still) for c, still in found if still or c.time < t - FOOTAGE_SAMPLES]
                    if on_footage is not None:
                        on_footage()
                        on_footage = None
                    if key_gap <= FOOTAGE_KEY_GAP:
                        stream.codec_context.skip_frame = "NONKEY"  # its keyframes are picture enough
        except (av.error.FFmpegError, IndexError) as e:  # a damaged tail: keep what was read
            log.debug("video pass over %s stopped: %s", path, e)
        if pending is not None:
            stills.extend(save(*pending))
    return VideoAnalysis(tuple(c for c, _ in found), tuple(stills), tuple(keyframes))


class _StillSaver:
    """Writes a decoded frame as a shot's still (JPEG, `width` wide). Camera footage
    is a new shot every second: while the picture moves, and beyond MAX_STILLS, a
    still every 30 s is plenty."""

    def __init__(self, folder: Path, width: int, sar=None) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.width, self.sar = width, sar
        self.count, self.last = 0, -np.inf

    def __call__(self, t: float, frame, moving: bool = False) -> list[Frame]:
        """`moving`: the picture changed at the samples either side of this one."""
        from PIL import Image

        if (moving or self.count >= MAX_STILLS) and t - self.last < 30.0:
            return []
        target = self.folder / f"still-{self.count:05d}.jpg"
        Image.fromarray(picture(frame, self.width, sar=self.sar)).save(target, quality=85)
        self.count, self.last = self.count + 1, t
        return [Frame(round(t, 3), target)]


def keyframe_times(path: Path) -> list[float]:
    """Times of the video's keyframes, from packet flags (nothing is decoded)."""
    import av

    out: list[float] = []
    try:
        with open_media(path) as container:
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


def _score(a: np.ndarray, b: np.ndarray, min_cells: int = MIN_CELLS) -> float:
    """Percentage of pixels that changed clearly in any colour channel (red and dark
    green are almost the same grey); 0 when the changes touch fewer than `min_cells`
    cells of CELL px (a presenter's pointer moving, a progress bar growing)."""
    changed = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=-1) > PIXEL_STEP
    h, w = changed.shape
    ch, cw = max(1, min(CELL, h // 2)), max(1, min(CELL, w // 2))
    cells = changed[: h // ch * ch, : w // cw * cw].reshape(h // ch, ch, w // cw, cw).any(axis=(1, 3))
    if cells.sum() < min(min_cells, cells.size):
        return 0.0
    return float(np.mean(changed) * 100.0)


def _title_change(a: np.ndarray, b: np.ndarray) -> float:
    """`_score` of the top quarter, where slide titles are. The quarter has a quarter
    of the cells, so a quarter of MIN_CELLS is enough: "Part 1" -> "Part 2" touches
    three cells, and with the whole frame's minimum no title change of a word or two
    was ever seen."""
    return _score(a[: THUMB_H // 4], b[: THUMB_H // 4], min_cells=max(2, round(MIN_CELLS / 4)))


class _Placer:
    """Places changes between two coarse frames to the frame, decoding in this
    process (PyAV, one core): the file is opened once for every change, not an
    ffmpeg process per change, and decoding stops once the picture has become the
    interval's last frame, about halfway through on average."""

    def __init__(self, path: Path, stop: threading.Event | None = None) -> None:
        self.path = path
        self.stop = stop
        self._container = None
        self._stream = None

    def __enter__(self) -> "_Placer":
        return self

    def __exit__(self, *exc) -> None:
        if self._container is not None:
            self._container.close()

    def place(self, t0: float, t1: float, last: np.ndarray | None = None) -> list[SceneChange]:
        """The changes between the frames at t0 and t1 (times on the file's own
        clock); there may be several (two slides within one keyframe interval).
        `last`, the frame at t1 at THUMB size, lets decoding stop early."""
        import av

        out: list[SceneChange] = []
        try:
            if self._container is None:
                self._container = open_media(self.path)
                self._stream = self._container.streams.video[0]
                self._stream.thread_type = "NONE"  # one core: the other reads the slides or recognises speech
                self._stream.codec_context.options = {"skip_loop_filter": "all"}  # a fifth of decoding; nothing at 320x180
            stream = self._stream
            base = stream.time_base
            self._container.seek(max(0, int(t0 / base)), stream=stream, backward=True)
            prev = None
            due = t0 - 0.5 / FINE_FPS
            skipped: list[tuple[float, object]] = []  # frames decoded since the last sample
            for frame in self._container.decode(stream):
                if frame.pts is None:
                    continue
                t = float(frame.pts * base)
                if t > t1 + 0.3:
                    break
                if t < due:
                    if t > t0 + 1e-3:
                        skipped.append((t, frame))
                    continue
                due = t + 1.0 / FINE_FPS - 0.01
                _check(self.stop)
                img = _small(frame)
                if prev is not None:
                    s = _score(prev, img)
                    if s >= MIN_CHANGE and t > t0 + 1e-3:
                        out.append(SceneChange(round(_first_changed(prev, skipped, t), 3), round(min(100.0, s), 2)))
                    # the picture is the interval's last one: no change is left to find
                    if out and last is not None and _score(img, last) < MIN_CHANGE:
                        break
                prev = img
                skipped = []
        except (av.error.FFmpegError, IndexError) as e:  # a damaged interval: the change stays unplaced
            log.debug("placing a change in %.2f-%.2f s of %s: %s", t0, t1, self.path, e)
        merged: list[SceneChange] = []
        for c in out:  # a cross-fade is one change, not one per sample
            if merged and c.time - merged[-1].time <= 1.0 / FINE_FPS + 1e-3:
                merged[-1] = SceneChange(merged[-1].time, max(merged[-1].score, c.score))
            else:
                merged.append(c)
        return merged or [SceneChange(round(t1, 3), 0.0)]


def _small(frame) -> np.ndarray:
    """A decoded frame at analysis size, as every comparison sees it (upright: the
    title strip is the top of the picture shown)."""
    return picture(frame, THUMB_W, THUMB_H)


def _first_changed(before: np.ndarray, frames: list[tuple[float, object]], sampled: float) -> float:
    """The time of the first of `frames` (decoded between two samples) that differs
    from `before`, or `sampled`: a binary search, so a change is placed to the frame
    at the cost of a few conversions."""
    lo, hi = 0, len(frames)  # frames[hi:] (and the sample) differ
    while lo < hi:
        mid = (lo + hi) // 2
        if _score(before, _small(frames[mid][1])) >= MIN_CHANGE:
            hi = mid
        else:
            lo = mid + 1
    return frames[hi][0] if hi < len(frames) else sampled


# STILL_WIDTH wide, as high as the picture's shape says: its display aspect (dar)
# counts wide pixels of DVD and DV video, which the stored height alone does not.
SCALE_STILL = f"scale={STILL_WIDTH}:'trunc(ow/dar/2)*2',setsar=1"


def _save_stills(path: Path, times: list[float], workdir: Path, batch: int = 12, prefix: str = "still",
                 stop: threading.Event | None = None) -> list[Frame]:
    """One JPEG per time, STILL_WIDTH wide; one ffmpeg process per `batch` stills
    (each input seeks on its own, so only a few frames are decoded per still)."""
    folder = Path(workdir) / "stills"
    folder.mkdir(parents=True, exist_ok=True)
    out: list[Frame] = []
    for b in range(0, len(times), batch):
        _check(stop)
        group = list(enumerate(times[b : b + batch], start=b))
        args: list[str] = []
        for _, t in group:
            args += ["-ss", f"{max(0.0, t):.3f}", *SAFE_INPUT, "-i", input_path(path)]
        targets = []
        for k, (i, t) in enumerate(group):
            target = folder / f"{prefix}-{i:04d}.jpg"
            args += ["-map", f"{k}:v:0", "-frames:v", "1", "-vf", SCALE_STILL, "-q:v", "3", str(target)]
            targets.append((t, target))
        try:
            run_ffmpeg(args, path=path, timeout=600, what="still extraction")
        except MediaError as e:  # stills only improve titles and thumbnails
            log.warning("%s", e)
        out.extend(Frame(t, p) for t, p in targets if p.is_file() and p.stat().st_size > 0)
    return out
