"""Stage: cut one clip per chapter, and make the web-playable full recording.

Three clip modes (`--clips`):

- `encode` (default): frame-accurate H.264/AAC MP4 clips that every browser plays.
  A *smart cut* re-encodes only the frames from the chapter start to the next
  keyframe (and, for sources with B-frames, from the last keyframe to the chapter
  end) and copies the compressed frames in between, so an hour of chapters takes
  seconds instead of minutes. Where the source makes that unsafe (not H.264, odd
  parameters, open GOPs...) or `smart_cut` is off, the whole clip is re-encoded.
- `copy`: stream copy with cuts snapped to keyframes (the returned `Clip` records
  the real cut times); seconds for an hour, but clips start up to a GOP early.
- `none`: no files, just the chapter spans.

Times are seconds on the source timeline (a file whose streams start at 1.5 s has
its first frame at 1.5). Clips themselves start at 0.
"""

from __future__ import annotations

import logging
import os
import shutil
import struct
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .config import Options
from .errors import MediaError
from .ffmpeg import SAFE_INPUT, input_path, open_media, run_ffmpeg
from .publish import slugify
from .models import Chapter, Clip, MediaInfo, VideoAnalysis

log = logging.getLogger(__name__)

MAX_STEM_BYTES = 60  # clip file names: "NN-slug", ASCII, short enough for every file system and URL
X264_PRESET = "veryfast"  # about 2x faster than "medium" for ~5% more bytes on screen content
X264_CRF = "22"  # visually clean for slides and faces at 720p/1080p
AUDIO_BITRATE = "128k"
OPUS_BITRATE = "96k"  # Opus at 96 kb/s is transparent for speech and music alike
HALF_MS = 0.0005  # seconds; seek this much before a frame so float rounding never drops it
# s: how much later than asked a smart-cut clip may end so that its last frames are
# copied: with B-frames, the frames shown before the end need a frame shown after it,
# which a mini-GOP (3-4 frames) further on closes; else the whole last GOP is encoded again
TAIL_SLACK = 0.25
# s: in copy mode, the most a clip may start before its chapter (or end after it)
# for a keyframe; further, as in a screen recording with one keyframe, the clip is
# encoded instead of being most of the recording again
COPY_MAX_SHIFT = 15.0
WEB_AUDIO = ("aac", "mp3")  # audio codecs every browser plays inside MP4
# H.264 pixel formats every browser decodes: 8-bit 4:2:0 (not the 10-bit or 4:4:4
# some screen recorders write)
BROWSER_PIX_FMTS = ("yuv420p", "yuvj420p")
# VP9 (BigBlueButton, browsers' MediaRecorder, Opencast) is cut into WebM clips: its
# keyframes are clean cut points and its frames come in display order, so only the
# frames up to the first keyframe are encoded, with the source's own codec. VP8 and
# AV1 (what yt-dlp downloads from YouTube) can be cut the same way, but Safari plays
# VP8 unreliably and AV1 only on Apple's newest devices (iPhone 15 Pro, M3): they are
# kept only with `--web-video modern`, and encoded to H.264 otherwise.
WEBM_ENCODERS = {"vp8": "libvpx", "vp9": "libvpx-vp9", "av1": "libsvtav1"}
WIDE_WEBM = ("vp9",)  # WebM video that Safari plays too (macOS 11.3, iOS 15)
WEBM_AUDIO = ("opus", "vorbis")
WIDE_WEBM_AUDIO = ("opus",)  # iOS Safari does not play Vorbis


def webm_clips(media: MediaInfo, track: int, modern: bool = False) -> bool:
    """Whether clips and the player copy of this source are WebM with its video as it
    is: VP9 (with `modern`, also VP8 and AV1) 8-bit 4:2:0 progressive video."""
    return (media.video_codec in (WEBM_ENCODERS if modern else WIDE_WEBM) and media.video_pix_fmt in (None, "yuv420p")
            and not media.video_interlaced)


def webm_sound(media: MediaInfo, track: int, modern: bool = False) -> bool:
    """Whether the sound can go into such a WebM as it is (or there is none): Opus
    (with `modern`, also Vorbis); other sound (a YouTube MP4's AAC) is encoded to Opus."""
    return not media.audio_streams or media.audio_streams[track].codec in (WEBM_AUDIO if modern else WIDE_WEBM_AUDIO)


def browser_video(media: MediaInfo) -> bool:
    """Whether the video stream can go to a browser as it is, packets copied: H.264,
    8-bit 4:2:0, progressive."""
    return (media.video_codec == "h264" and media.video_pix_fmt in (None, *BROWSER_PIX_FMTS)
            and not media.video_interlaced)


# ---------------------------------------------------------------- names


def clip_name(chapter: Chapter, ext: str = ".mp4") -> str:
    """File name of a chapter's clip: `NN-slug.mp4`, at most 60 bytes before the extension.

    The index prefix keeps names unique and in order even when two titles slugify alike
    (or to nothing: `"../../etc/passwd"` gives `01-etc-passwd`, `"???"` gives `01-chapter`).
    """
    prefix = f"{chapter.index:02d}-"
    slug = slugify(chapter.title, MAX_STEM_BYTES - len(prefix), fallback="chapter")
    return f"{prefix}{slug}{ext}"


# ---------------------------------------------------------------- the source's frames


@dataclass(frozen=True)
class VideoIndex:
    """Every video packet of the source, in decode order (from demuxing; nothing decoded).

    Times are integers in `time_base` units of the source video stream.
    """

    time_base: Fraction
    pts: np.ndarray  # int64
    dts: np.ndarray  # int64
    duration: np.ndarray  # int64
    key: np.ndarray  # bool: the demuxer's keyframe flag
    idr: np.ndarray  # bool: keyframe whose access unit holds an IDR slice (a clean cut point)

    def seconds(self, ticks: int | np.ndarray) -> float | np.ndarray:
        return ticks * float(self.time_base)

    def ticks(self, seconds: float) -> int:
        return int(round(seconds / float(self.time_base)))

    @property
    def display_pts(self) -> np.ndarray:
        """Frame times in display order."""
        return np.sort(self.pts)

    @property
    def frame_duration(self) -> int:
        """Typical frame duration in ticks (median gap between display times)."""
        p = self.display_pts
        if len(p) > 1:
            return int(np.median(np.diff(p[: min(len(p), 2000)])))
        return int(self.duration[0]) if len(self.duration) and self.duration[0] > 0 else 1

    def keyframe_times(self) -> list[float]:
        """Clean cut points: IDR frames where the stream has them, else flagged keyframes."""
        cut = self.idr if self.idr.any() else self.key
        return sorted(float(t) for t in self.seconds(self.pts[cut]))

    @property
    def end(self) -> int:
        """When the last frame stops showing, in ticks."""
        last = int(np.argmax(self.pts))
        return int(self.pts[last] + max(int(self.duration[last]), self.frame_duration))

    def decode_run(self, a: int, b: int) -> tuple[int, int] | None:
        """The decode-order positions [first, last) of the frames shown in [a, b), if they
        form one contiguous run that starts with the frame at `a`; else None.

        Copying such a run is safe when `a` is an IDR frame: nothing in it references a
        frame outside it. With B-frames a run that ends mid-GOP usually fails this test.
        """
        hits = np.nonzero(self.pts == a)[0]
        if not len(hits):
            return None
        first = int(hits[0])
        want = int(np.count_nonzero((self.pts >= a) & (self.pts < b)))
        run = self.pts[first : first + want]
        if len(run) == want and np.all((run >= a) & (run < b)):
            return first, first + want
        return None


def index_video(path: Path) -> VideoIndex:
    """Demux the first video stream's packets (no decoding): an hour at 30 fps takes a second or two."""
    import av

    pts, dts, dur, key, idr = [], [], [], [], []
    try:
        with open_media(path) as container:
            stream = container.streams.video[0]
            avcc = _is_avcc(stream.codec_context.extradata)
            for packet in container.demux(stream):
                if packet.pts is None or packet.size == 0:
                    continue
                pts.append(packet.pts)
                dts.append(packet.dts if packet.dts is not None else packet.pts)
                dur.append(packet.duration or 0)
                key.append(packet.is_keyframe)
                idr.append(packet.is_keyframe and avcc and 5 in _nal_types(bytes(packet)))
            time_base = stream.time_base
    except (av.error.FFmpegError, IndexError) as e:
        raise MediaError(f"cannot read the video packets: {e}", path) from e
    if not pts:
        raise MediaError("the video stream holds no frames", path)
    return VideoIndex(
        time_base=Fraction(time_base),
        pts=np.array(pts, dtype=np.int64),
        dts=np.array(dts, dtype=np.int64),
        duration=np.array(dur, dtype=np.int64),
        key=np.array(key, dtype=bool),
        idr=np.array(idr, dtype=bool),
    )


# ---------------------------------------------------------------- planning the cuts


@dataclass(frozen=True)
class _Cut:
    chapter: Chapter
    start: float  # where the clip starts on the source timeline (a frame time when known)
    end: float
    path: Path  # final file
    audio_only: bool
    copy: bool = False  # stream-copied between keyframes (copy mode)
    past_video: bool = False  # the sound goes on after the video's last frame: encoded whole


def _media_span(media: MediaInfo) -> tuple[float, float]:
    return media.start_time, media.start_time + media.duration


def _frame_snap(index: VideoIndex | None, t: float, span_end: float) -> float:
    """The time of the first frame shown at or after `t`: where a clip ending at `t`
    ends, so that it keeps everything said before `t`."""
    if index is None:
        return t
    frames = index.display_pts
    i = int(np.searchsorted(frames, index.ticks(t) - 1, side="left"))  # 1 tick of rounding slack
    return float(index.seconds(frames[i])) if i < len(frames) else span_end


def _frame_at(index: VideoIndex | None, t: float, span_end: float) -> float:
    """The time of the frame on screen at `t`: where a clip starting at `t` starts.
    In a variable-frame-rate screen recording a frame may stay up for seconds, and
    the first frame after `t` would cut off what was said until it."""
    if index is None:
        return t
    frames = index.display_pts
    i = int(np.searchsorted(frames, index.ticks(t) + 1, side="right")) - 1  # 1 tick of rounding slack
    return float(index.seconds(frames[max(i, 0)])) if len(frames) else span_end


def _plan_encode(media: MediaInfo, chapters: Sequence[Chapter], index: VideoIndex | None, outdir: Path,
                 ext: str = ".mp4") -> list[_Cut]:
    lo, hi = _media_span(media)
    ext = ".m4a" if media.is_audio_only else ext
    cuts = []
    video_end = float(index.seconds(index.end)) if index is not None else hi
    vhi = min(hi, video_end)  # a video clip ends with its last frame...
    for ch in chapters:
        if index is not None and media.audio_streams and ch.start >= video_end - 0.5:
            # ...but the picture may end before the talk does (a screen share
            # stopped, a camera switched off): after it, a chapter's clip is its sound
            cuts.append(_Cut(ch, max(ch.start, lo), min(ch.end, hi), outdir / clip_name(ch, ".m4a"), True))
            continue
        start = _frame_at(index, max(ch.start, lo), vhi)
        past = index is not None and bool(media.audio_streams) and ch.end > video_end + 0.5
        if past:  # all of the sound, over the last picture
            end = min(ch.end, hi)
        else:
            end = _frame_snap(index, min(ch.end, vhi), vhi) if ch.end < vhi - 1e-3 else vhi
        if end - start <= 0:
            raise MediaError(f"chapter {ch.index} ({ch.start:.2f}-{ch.end:.2f} s) lies outside the recording", media.path)
        cuts.append(_Cut(ch, start, end, outdir / clip_name(ch, ext), media.is_audio_only, past_video=past))
    return cuts


def _plan_copy(media: MediaInfo, chapters: Sequence[Chapter], index: VideoIndex | None, outdir: Path,
               ext: str = ".mp4") -> list[_Cut]:
    """Snap every boundary to the keyframe at or before it, so clips tile the
    recording without gaps or overlap and never start after their chapter does."""
    lo, hi = _media_span(media)
    video_ext = ext
    ext = ".m4a" if media.is_audio_only else ext
    keys = np.array(index.keyframe_times() if index is not None else [], dtype=float)
    video_end = float(index.seconds(index.end)) if index is not None else hi
    half_frame = float(index.seconds(index.frame_duration)) / 2 if index is not None else 1e-3

    def snap(t: float) -> float:
        if not len(keys):
            return t
        i = int(np.searchsorted(keys, t + 1e-4, side="right")) - 1
        return float(keys[max(i, 0)])

    cuts = []
    far = []
    for ch, exact in zip(chapters, _plan_encode(media, chapters, index, outdir, video_ext)):
        start = snap(max(ch.start, lo))
        end = (video_end if index is not None else hi) if ch.end >= min(hi, video_end) - half_frame else snap(ch.end)
        if end <= start:  # a chapter shorter than a GOP: run on to the next keyframe
            later = keys[keys > start + 1e-4]
            end = float(later[0]) if len(later) else video_end
        if exact.audio_only != media.is_audio_only or exact.past_video:
            cuts.append(exact)  # the picture ends before the chapter does: its sound is cut exactly
        elif max(ch.start - start, end - ch.end) > COPY_MAX_SHIFT:
            far.append(ch.index)
            cuts.append(exact)
        else:
            cuts.append(_Cut(ch, start, end, outdir / clip_name(ch, ext), media.is_audio_only, copy=True))
    if far:
        log.warning("%s: keyframes too far apart to copy the clips of chapters %s (they would start or end more than "
                    "%.0f s away from the chapter); those are encoded", media.path.name, ", ".join(map(str, far)), COPY_MAX_SHIFT)
    return cuts


# ---------------------------------------------------------------- public API


def make_clips(
    media: MediaInfo,
    chapters: Sequence[Chapter],
    video: VideoAnalysis | None,
    outdir: Path,
    options: Options,
    progress: Callable[[int, int], None] | None = None,
) -> list[Clip]:
    """Write one clip per chapter into `outdir` (`NN-slug.mp4`, or `.m4a` for audio-only
    input) and return them in chapter order with their actual cut times.

    Clips are encoded in parallel, one ffmpeg per core. If any clip fails, the clips
    this call wrote are removed and a MediaError naming the file is raised.
    """
    if options.clips == "none" or not chapters:
        return [Clip(ch.index, None, ch.start, ch.end, "none") for ch in chapters]
    track = _audio_track(media, options.audio_track)
    outdir = Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)

    # Every frame's time, from one demux pass: exact cut times, keyframes, and the
    # smart cut's and copy mode's packet selection all come from it.
    index = index_video(media.path) if media.has_video else None
    # VP9 (with --web-video modern, VP8 and AV1 too) is cut into WebM clips, copied or
    # smart-cut; encoded whole, into MP4
    modern = options.web_video == "modern"
    webm = (options.clips == "copy" or options.smart_cut) and index is not None and webm_clips(media, track, modern)
    if options.clips == "copy":
        cuts = _plan_copy(media, chapters, index, outdir, ".webm" if webm else ".mp4")
    else:
        cuts = _plan_encode(media, chapters, index, outdir, ".webm" if webm else ".mp4")

    cores = options.threads or os.cpu_count() or 1
    workers = max(1, min(len(cuts), cores))
    threads = max(1, cores // workers)  # ffmpeg threads per clip: together about one per core
    smart = options.smart_cut

    stop = threading.Event()  # set when the stage fails or is interrupted: start nothing new

    def work(cut: _Cut) -> Clip:
        if stop.is_set():
            raise _Stopped()
        if cut.copy or (cut.audio_only and smart and media.audio_streams[track].codec == "aac"):
            # AAC audio-only: every packet (21-23 ms) is a cut point, so a stream copy is
            # already accurate to well under the 0.05 s an encode would give; no re-encode.
            start, end = _copy_clip(media, cut, track, index, modern)
        elif smart and index is not None and not cut.audio_only and not cut.past_video:
            start, end, path = _smart_or_full(media, cut, track, index, options, threads, stop)
            return Clip(cut.chapter.index, path, start, end, "video")
        else:
            start, end = _encode_clip(media, cut, track, options.max_height, threads)
        return Clip(cut.chapter.index, cut.path, start, end, "audio" if cut.audio_only else "video")

    results: dict[int, Clip] = {}
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="clip") as pool:
            futures = [pool.submit(work, cut) for cut in cuts]
            try:
                for future in as_completed(futures):
                    clip = future.result()
                    results[clip.chapter] = clip
                    if progress is not None:
                        progress(len(results), len(cuts))
            except BaseException:
                stop.set()
                for f in futures:
                    f.cancel()
                raise
    except BaseException:
        for cut in cuts:  # no half-finished set of clips: the stage either completes or leaves nothing
            cut.path.unlink(missing_ok=True)
            cut.path.with_suffix(".mp4").unlink(missing_ok=True)  # a WebM cut's fallback
        raise
    return [results[cut.chapter.index] for cut in cuts]


def make_web_copy(
    media: MediaInfo,
    dest: Path,
    *,
    chapters_ffmetadata: str | None = None,
    audio_track: int = 0,
    modern: bool = False,
) -> Path:
    """Write the full recording as the session page plays it, and return its path.

    - A web-playable source (MP4/MOV with H.264 + AAC/MP3, M4A, MP3) with nothing to
      change is hard-linked (or copied) as it is; the suffix follows the source.
    - When chapters are to be embedded (FFMETADATA text), another audio track is chosen,
      or the container is another (MOV; OBS's Matroska or FLV, MPEG-TS), 8-bit 4:2:0
      H.264 with AAC or MP3 is remuxed into MP4 without re-encoding (`-c copy`, faststart).
    - Such H.264 with other sound (a camera's PCM, a camcorder's AC-3, Opus or Vorbis
      from a Linux screen recorder) keeps its video packets; only the sound is encoded.
    - Anything else is transcoded once to H.264/AAC MP4, or AAC `.m4a` for audio-only.

    Timestamps keep the source timeline (`-copyts`), so chapter times seek correctly.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    src = Path(media.path)
    track = _audio_track(media, audio_track)
    fmt = set(media.format_name.split(","))
    first_track = track == 0 or len(media.audio_streams) <= 1
    audio_codec = media.audio_streams[track].codec if media.audio_streams else None

    if media.has_video and webm_clips(media, track, modern):
        # VP9 (modern: VP8, AV1) plays from a WebM as it is: no transcode of an hour
        # of video. Chapters, another track or another box (a YouTube download's MP4
        # or MKV) need a remux (WebM keeps chapters); sound WebM cannot hold, an
        # encode of the sound alone.
        target = dest.with_suffix(".webm")
        if webm_sound(media, track, modern) and first_track and not chapters_ffmetadata and src.suffix.lower() == ".webm":
            return _link_or_copy(src, target)
        mode = "copy" if webm_sound(media, track, modern) else "sound"
    elif media.has_video:
        # What browsers decode is the codecs, whatever the box: an hour of OBS's
        # Matroska needs a remux of seconds, not an encode of many minutes.
        playable = browser_video(media) and audio_codec in (None, *WEB_AUDIO)
        target = dest.with_suffix(".mp4")
        if playable and first_track and not chapters_ffmetadata and src.suffix.lower() == ".mp4":
            return _link_or_copy(src, target)
        # Encoding an hour of 1080p takes longer than the hour; encoding its sound, seconds.
        mode = "copy" if playable else "sound" if browser_video(media) else "video"
    else:
        if audio_codec == "aac" and fmt & {"mp4", "mov"}:
            target = dest.with_suffix(".m4a")
            plain = src.suffix.lower() in (".m4a", ".mp4")
            if first_track and not chapters_ffmetadata and plain:
                return _link_or_copy(src, target)
            mode = "copy"
        elif audio_codec == "mp3" and "mp3" in fmt:
            target = dest.with_suffix(".mp3")
            if first_track and not chapters_ffmetadata:
                return _link_or_copy(src, target)
            mode = "copy"
        else:
            target = dest.with_suffix(".m4a")
            mode = "audio"

    args = [*SAFE_INPUT, "-i", input_path(src)]
    meta_file: Path | None = None
    if chapters_ffmetadata:
        fd, name = tempfile.mkstemp(prefix=".chapters-", suffix=".txt", dir=target.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(chapters_ffmetadata)
        meta_file = Path(name)
        args += [*SAFE_INPUT, "-f", "ffmetadata", "-i", input_path(meta_file), "-map_metadata", "1", "-map_chapters", "1"]
    else:
        args += ["-map_chapters", "-1"]
    if media.has_video:
        args += ["-map", "0:v:0"]
    if media.audio_streams:
        args += ["-map", f"0:a:{track}"]
    args += ["-sn", "-dn", "-copyts"]
    if mode == "copy":
        args += ["-c", "copy"]
    elif mode == "sound":
        args += ["-c:v", "copy", *_audio_encoder(media, track, opus=target.suffix == ".webm")]
    else:
        if media.has_video:
            args += _video_encoder(media, None, threads=0)
        if media.audio_streams:
            args += _audio_encoder(media, track)
    muxer = {".mp3": "mp3", ".webm": "webm"}.get(target.suffix, "mp4")
    if muxer == "mp4":
        args += ["-movflags", "+faststart"]
    timeout = 120 + (10.0 if mode == "video" else 0.5) * media.duration
    try:
        _run_to(args, target, muxer, media.path, timeout, what="making the web copy")
    finally:
        if meta_file is not None:
            meta_file.unlink(missing_ok=True)
    return target


# ---------------------------------------------------------------- helpers: ffmpeg runs


def _audio_track(media: MediaInfo, track: int) -> int:
    if not media.audio_streams:
        return 0
    if not 0 <= track < len(media.audio_streams):
        raise MediaError(
            f"has {len(media.audio_streams)} audio stream(s); --audio-track {track} does not exist (counting from 0)",
            media.path,
        )
    return track


def _out_size(media: MediaInfo, max_height: int | None) -> tuple[int, int]:
    """Output frame size: the source's, or scaled down to `max_height`; always even (4:2:0)."""
    w, h = media.width, media.height
    if max_height and h > max_height:
        w, h = w * max_height / h, max_height
    return max(2, int(round(w / 2)) * 2), max(2, int(round(h / 2)) * 2)


def _video_encoder(media: MediaInfo, max_height: int | None, threads: int) -> list[str]:
    w, h = _out_size(media, max_height)
    vf = "format=yuv420p" if (w, h) == (media.width, media.height) else f"scale={w}:{h}:flags=bicubic,format=yuv420p"
    if media.video_interlaced:
        # One frame per frame (not per field) keeps the frame rate and the size of the
        # output; deint=interlaced leaves any frame coded progressive as it is.
        vf = "bwdif=mode=send_frame:deint=interlaced," + vf
    return [
        "-vf", vf, "-c:v", "libx264", "-preset", X264_PRESET, "-crf", X264_CRF,
        "-profile:v", "high", "-pix_fmt", "yuv420p", "-threads", str(threads),
    ]  # fmt: skip


def _audio_encoder(media: MediaInfo, track: int, opus: bool = False) -> list[str]:
    """AAC for MP4, or Opus for WebM."""
    args = ["-c:a", "libopus", "-b:a", OPUS_BITRATE] if opus else ["-c:a", "aac", "-b:a", AUDIO_BITRATE]
    if media.audio_streams and media.audio_streams[track].channels > 2:
        args += ["-ac", "2"]  # browsers and laptop speakers: stereo is plenty for a talk
    return args


def _temp_for(final: Path) -> Path:
    return final.with_name(f".{final.stem}.part{final.suffix}")


def _run_to(args: list[str], final: Path, muxer: str, source: Path, timeout: float, what: str) -> None:
    """Run ffmpeg writing to a temporary name beside `final`, then rename: a failed or
    killed run never leaves a file that looks finished."""
    tmp = _temp_for(final)
    try:
        run_ffmpeg([*args, "-f", muxer, str(tmp)], path=source, timeout=timeout, what=what)
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise MediaError(f"{what} produced no output", source)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def _link_or_copy(src: Path, target: Path) -> Path:
    tmp = _temp_for(target)
    tmp.unlink(missing_ok=True)
    try:
        try:
            os.link(src, tmp)
        except OSError:  # another file system, or links not allowed
            shutil.copyfile(src, tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _clip_timeout(seconds: float) -> float:
    return 120.0 + 10.0 * seconds  # a watchdog against hangs, not a speed limit


def _encode_clip(media: MediaInfo, cut: _Cut, track: int, max_height: int | None, threads: int) -> tuple[float, float]:
    """Full re-encode of [start, end): frame-accurate, H.264 High/AAC, faststart."""
    duration = cut.end - cut.start
    # Input -ss is relative to the container start; ffmpeg adds start_time back.
    args = ["-ss", f"{cut.start - media.start_time - HALF_MS:.6f}", *SAFE_INPUT, "-i", input_path(media.path)]
    args += ["-t", f"{duration:.6f}", "-map_metadata", "-1", "-map_chapters", "-1", "-sn", "-dn"]
    if cut.audio_only:
        args += ["-vn", "-map", f"0:a:{track}", *_audio_encoder(media, track)]
    else:
        args += ["-map", "0:v:0", *_video_encoder(media, max_height, threads)]
        if media.audio_streams:
            args += ["-map", f"0:a:{track}", *_audio_encoder(media, track)]
    args += ["-movflags", "+faststart"]
    _run_to(args, cut.path, "mp4", media.path, _clip_timeout(duration), what=f"encoding clip {cut.path.name}")
    return cut.start, cut.end


def _copy_clip(media: MediaInfo, cut: _Cut, track: int, index: VideoIndex | None, modern: bool = False) -> tuple[float, float]:
    """Stream copy of [start, end) where start is a keyframe.

    H.264 with AAC/MP3 is remuxed packet by packet from the index, so the clip holds
    exactly the frames of [start, end) (ffmpeg's `-t` with stream copy cuts on decode
    times and lets B-frames spill over). Other inputs go through ffmpeg; streams that
    browsers cannot play from MP4 are re-encoded (non-H.264 video is slow, and says so).
    """
    duration = cut.end - cut.start
    if cut.path.suffix == ".webm" and index is not None:
        try:  # from a keyframe, the "smart" cut of VP8/VP9/AV1 encodes nothing: a packet copy
            return smart_cut_webm(media, cut.start, cut.end, cut.path, index, track=track, modern=modern)
        except _NoSmartCut as why:
            log.info("%s: copying with ffmpeg (%s)", cut.path.name, why)
    remuxable = index is not None and not cut.audio_only and media.video_codec == "h264" and bool(index.idr.any())  # avcC with IDR frames
    if remuxable and (not media.audio_streams or media.audio_streams[track].codec in WEB_AUDIO):
        a, b = index.ticks(cut.start), index.ticks(cut.end)
        span = index.decode_run(a, b)
        if span is not None:
            import av

            with open_media(media.path) as src:
                extradata = bytes(src.streams.video[0].codec_context.extradata or b"")
            tmp = _temp_for(cut.path)
            try:
                _mux_smart(media, tmp, a, b, index, span, [], [], extradata, track)
                os.replace(tmp, cut.path)
            except av.error.FFmpegError as e:
                raise MediaError(f"copying clip {cut.path.name} failed: {e}", media.path) from e
            finally:
                tmp.unlink(missing_ok=True)
            return cut.start, cut.end
        log.info("%s: frames reordered across the cut; copying with ffmpeg", cut.path.name)
    audio = media.audio_streams[track].codec if media.audio_streams else None
    if cut.audio_only and audio != "aac":
        return _encode_clip(media, cut, track, None, 1)  # audio must be encoded anyway: cut exactly
    # Seek a hair past the keyframe: input seeking lands on the keyframe at or before.
    args = ["-ss", f"{max(0.0, cut.start - media.start_time + HALF_MS):.6f}", *SAFE_INPUT, "-i", input_path(media.path)]
    args += ["-t", f"{duration:.6f}", "-map_metadata", "-1", "-map_chapters", "-1", "-sn", "-dn"]
    if cut.audio_only:
        args += ["-vn"]
    else:
        args += ["-map", "0:v:0"]
        if media.video_codec == "h264" or cut.path.suffix == ".webm":
            args += ["-c:v", "copy"]
        else:
            log.warning("%s: %s video cannot be copied into a web clip; re-encoding", media.path, media.video_codec)
            args += _video_encoder(media, None, threads=1)
    webm = cut.path.suffix == ".webm"
    if audio is not None:
        args += ["-map", f"0:a:{track}",
                 *(["-c:a", "copy"] if (webm_sound(media, track, modern) if webm else audio in WEB_AUDIO)
                   else _audio_encoder(media, track, opus=webm))]
    if not webm:
        args += ["-movflags", "+faststart"]
    _run_to(args, cut.path, "webm" if webm else "mp4", media.path, 120 + 2.0 * duration, what=f"copying clip {cut.path.name}")
    return cut.start, cut.end


# ---------------------------------------------------------------- smart cut


class _NoSmartCut(Exception):
    """The source does not allow a safe smart cut here; re-encode the clip instead."""


class _Stopped(Exception):
    """The clip stage is being abandoned (another clip failed, or the run was interrupted)."""


def _smart_or_full(
    media: MediaInfo, cut: _Cut, track: int, index: VideoIndex, options: Options, threads: int, stop: threading.Event
) -> tuple[float, float, Path]:
    """(start, end, path) of the clip: smart-cut, or else encoded whole (H.264 MP4,
    also for a planned WebM clip)."""
    try:
        if cut.path.suffix == ".webm":
            return (*smart_cut_webm(media, cut.start, cut.end, cut.path, index, track=track, threads=threads,
                                    modern=options.web_video == "modern"), cut.path)
        return (*smart_cut(media, cut.start, cut.end, cut.path, index, track=track, options=options, threads=threads),
                cut.path)
    except _NoSmartCut as why:
        log.info("%s: full re-encode (%s)", cut.path.name, why)
    except MediaError:
        raise
    except Exception as e:  # libav errors, unexpected bitstreams: the full encode is always right
        if not stop.is_set():  # else the failure is the interruption's (its files were removed)
            log.warning("%s: smart cut failed (%s); re-encoding the whole clip", cut.path.name, e)
    if stop.is_set():
        raise _Stopped()
    full = replace(cut, path=cut.path.with_suffix(".mp4"))
    return (*_encode_clip(media, full, track, options.max_height, threads), full.path)


def smart_cut(
    media: MediaInfo,
    start: float,
    end: float,
    dest: Path,
    index: VideoIndex,
    *,
    track: int = 0,
    options: Options | None = None,
    threads: int = 1,
) -> tuple[float, float]:
    """Cut [start, end) frame-accurately, re-encoding only the partial GOPs at the ends.

    The head (start up to the next IDR frame) is encoded with x264. When the source
    reorders frames across `end`, the clip ends up to TAIL_SLACK later, where the
    frames shown form a run in decode order; only without such a point is the tail
    (last IDR up to end) encoded as well. Encodes use the source's profile,
    level and frame size, under a different SPS/PPS id; the frames between are copied.
    The MP4's avcC carries both parameter sets, so one decoder configuration plays the
    whole clip. AAC audio is copied packet by packet (other codecs are re-encoded).
    Raises `_NoSmartCut` when the source is unsuitable; the caller re-encodes instead.
    """
    if media.video_codec != "h264":
        raise _NoSmartCut(f"video is {media.video_codec}, not H.264")
    if options is not None and options.max_height and media.height > options.max_height:
        raise _NoSmartCut("scaling requested")
    if media.width % 2 or media.height % 2:
        raise _NoSmartCut("odd frame size")
    if media.video_interlaced:
        raise _NoSmartCut("interlaced video")  # the copied frames would show combed fields

    tb = index.time_base
    s, e = index.ticks(start), index.ticks(end)
    order = np.argsort(index.pts, kind="stable")
    disp = index.pts[order]
    sel = (disp >= s - 1) & (disp < e - 1)
    frames = disp[sel]
    if len(frames) < 2:
        raise _NoSmartCut("too few frames")
    f0, flast = int(frames[0]), int(frames[-1])
    nxt = disp[disp > flast]
    stop = int(nxt[0]) if len(nxt) else flast + max(int(index.duration[np.argmax(index.pts == flast)]), index.frame_duration)

    idr_pts = np.sort(index.pts[index.idr])
    if len(idr_pts) and not np.all(index.key <= index.idr):
        raise _NoSmartCut("keyframes that are not IDR (open GOP)")
    inside = idr_pts[(idr_pts >= f0) & (idr_pts <= flast)]
    if not len(inside):
        raise _NoSmartCut("no keyframe inside the clip")
    k1 = int(inside[0])

    k_last = stop
    span = index.decode_run(k1, stop)
    if span is None:
        # Frames are reordered across `end`. A few frames more usually close the run,
        # and copying them is free where the last partial GOP would be encoded again.
        later = disp[disp > flast]
        slack = index.ticks(TAIL_SLACK)
        for m in range(1, len(later) + 1):
            after = int(later[m]) if m < len(later) else index.end
            if after - e > slack:
                break
            if (span := index.decode_run(k1, after)) is not None:
                frames = np.append(frames, later[:m])
                flast, stop = int(later[m - 1]), after
                k_last = stop
                break
    if span is None:  # no such point near `end`: encode the last partial GOP too
        for k in inside[::-1]:
            k = int(k)
            if k > k1 and (span := index.decode_run(k1, k)) is not None:
                k_last = k
                break
        else:
            raise _NoSmartCut("B-frames across the cut and no second keyframe")
    head = frames[frames < k1]
    tail = frames[frames >= k_last]

    with open_media(media.path) as src:
        vsrc = src.streams.video[0]
        cc = vsrc.codec_context
        avcc = bytes(cc.extradata or b"")
        if not _is_avcc(avcc) or (avcc[4] & 3) != 3:
            raise _NoSmartCut("no avcC parameter sets with 4-byte NAL lengths")
        profile_idc, compat, level_idc = avcc[1], avcc[2], avcc[3]
        if profile_idc not in (66, 77, 100):
            raise _NoSmartCut(f"H.264 profile {profile_idc}")
        if cc.pix_fmt not in BROWSER_PIX_FMTS:
            raise _NoSmartCut(f"pixel format {cc.pix_fmt}")
        # Sound other than AAC would not play everywhere from MP4: it is encoded afterwards.
        copy_audio = not media.audio_streams or media.audio_streams[track].codec == "aac"
        src_sps, src_pps, ext = _parse_avcc(avcc)
        used = {_sps_id(x) for x in src_sps} | {_ue_first(x[1:]) for x in src_pps}
        free = [i for i in range(32) if i not in used]
        encoder = dict(
            profile={66: "baseline", 77: "main", 100: "high"}[profile_idc],
            level=f"{level_idc // 10}.{level_idc % 10}",
            pix_fmt=cc.pix_fmt,
            width=cc.width,
            height=cc.height,
            threads=threads,
        )
        head_pkts, head_ps = _encode_range(media.path, head, index, free[0], encoder) if len(head) else ([], ([], []))
        tail_pkts, tail_ps = _encode_range(media.path, tail, index, free[1], encoder) if len(tail) else ([], ([], []))

    first_dec, last_dec = span
    d_k1 = int(index.pts[first_dec] - index.dts[first_dec])
    if d_k1 < 0:
        raise _NoSmartCut("timestamps with dts after pts")
    for p, pts in zip(head_pkts, head):
        p.pts, p.dts = int(pts), int(pts) - d_k1
    if tail_pkts:
        k_last_dec = int(np.nonzero(index.pts == k_last)[0][0])
        d_kl = int(index.pts[k_last_dec] - index.dts[k_last_dec])
        for p, pts in zip(tail_pkts, tail):
            p.pts, p.dts = int(pts), int(pts) - d_kl
    everything = np.append(disp, stop)
    for group, times in ((head_pkts, head), (tail_pkts, tail)):
        for p, pts in zip(group, times):
            j = int(np.searchsorted(everything, pts, side="right"))
            p.duration = int(everything[j] - pts) if j < len(everything) else index.frame_duration

    sps_all = list(head_ps[0]) + list(src_sps) + [x for x in tail_ps[0] if x not in head_ps[0]]
    pps_all = list(head_ps[1]) + list(src_pps) + [x for x in tail_ps[1] if x not in head_ps[1]]
    extradata = _build_avcc(profile_idc, compat, level_idc, sps_all, pps_all, ext)

    tmp = _temp_for(dest)
    picture = tmp.with_name(tmp.name + ".video.mp4")
    try:
        _mux_smart(media, tmp if copy_audio else picture, f0, stop, index, (first_dec, last_dec), head_pkts, tail_pkts,
                   extradata, track if copy_audio else None)
        if not copy_audio:
            _add_sound(media, picture, tmp, float(f0 * tb), float(stop * tb), track)
        _check_smart(tmp, head_count=len(head), total=len(frames), k_last_offset=float((k_last - f0) * tb) if len(tail) else None)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
        picture.unlink(missing_ok=True)
    return float(f0 * tb), float(stop * tb)


def _add_sound(media: MediaInfo, picture: Path, dest: Path, start: float, end: float, track: int) -> None:
    """Mux the smart-cut `picture` (video only) with the sound of [start, end) encoded
    to AAC (MP4) or Opus (WebM, by `dest`'s suffix). The sound is decoded from just
    before `start`, so it starts on the sample."""
    webm = dest.suffix == ".webm"
    args = [*SAFE_INPUT, "-i", input_path(picture),
            "-ss", f"{start - media.start_time:.6f}", "-t", f"{end - start:.6f}", *SAFE_INPUT, "-i", input_path(media.path),
            "-map", "0:v:0", "-map", f"1:a:{track}", "-c:v", "copy", *_audio_encoder(media, track, opus=webm),
            "-map_metadata", "-1", "-map_chapters", "-1", *([] if webm else ["-movflags", "+faststart"]),
            "-f", "webm" if webm else "mp4", str(dest)]  # fmt: skip
    run_ffmpeg(args, path=media.path, timeout=_clip_timeout(end - start), what=f"adding the sound to {dest.name}")


def smart_cut_webm(
    media: MediaInfo,
    start: float,
    end: float,
    dest: Path,
    index: VideoIndex,
    *,
    track: int = 0,
    threads: int = 1,
    modern: bool = False,
) -> tuple[float, float]:
    """Cut [start, end) of VP8/VP9/AV1 video frame-accurately into a WebM clip: the
    frames before the first keyframe inside the clip are encoded again (libvpx or
    SVT-AV1, the source's codec and size, starting with a keyframe), the rest copied,
    the sound (Opus or Vorbis) copied packet by packet. A VP8/VP9 keyframe, and an AV1
    key frame that a container marks as a sync point, refreshes every reference, and
    packets come in display order (a hidden alt-ref frame travels inside its
    superframe or temporal unit), so the copied frames decode exactly as in the
    source, up to any frame. Raises `_NoSmartCut` when the source is unsuitable."""
    if media.video_codec not in WEBM_ENCODERS:
        raise _NoSmartCut(f"video is {media.video_codec}, not VP8/VP9/AV1")
    if not webm_clips(media, track, modern):
        raise _NoSmartCut("the video is not what a WebM clip holds as it is")
    pts = index.pts
    if len(pts) > 1 and not np.all(np.diff(pts) > 0):
        raise _NoSmartCut("frames out of display order")
    s, e = index.ticks(start), index.ticks(end)
    idx = np.nonzero((pts >= s - 1) & (pts < e - 1))[0]
    if len(idx) < 2:
        raise _NoSmartCut("too few frames")
    first, last = int(idx[0]), int(idx[-1])
    keys = idx[index.key[idx]]
    if not len(keys):
        raise _NoSmartCut("no keyframe inside the clip")
    k1 = int(keys[0])
    f0 = int(pts[first])
    stop = int(pts[last + 1]) if last + 1 < len(pts) else int(pts[last]) + max(int(index.duration[last]), index.frame_duration)
    head = _encode_webm_range(media, pts[first:k1], index, threads) if k1 > first else []
    for p, t in zip(head, pts[first:k1]):
        p.pts = p.dts = int(t) - f0
        p.duration = int(index.duration[first]) or index.frame_duration
    tmp = _temp_for(dest)
    copy_sound = webm_sound(media, track, modern)
    picture = tmp.with_name(tmp.name + ".video.webm")
    try:
        _mux_webm(media, tmp if copy_sound else picture, head, int(pts[k1]), stop, f0, index, track if copy_sound else None)
        if not copy_sound:
            _add_sound(media, picture, tmp, float(f0 * index.time_base), float(stop * index.time_base), track)
        _check_webm(tmp, last - first + 1, len(head))
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
        picture.unlink(missing_ok=True)
    return float(f0 * index.time_base), float(stop * index.time_base)


def _reencode(path: Path, times: np.ndarray, ctx) -> list[_Pkt]:
    """Decode the source frames at `times` (display-order pts) and encode them with
    `ctx`, one packet a frame, the first a keyframe."""
    import av

    want = set(int(t) for t in times)
    lo, hi = int(times[0]), int(times[-1])
    out: list[_Pkt] = []
    got = 0
    with open_media(path) as src:
        stream = src.streams.video[0]
        stream.thread_type = "AUTO"
        src.seek(lo, stream=stream, backward=True, any_frame=False)
        for frame in src.decode(stream):
            if frame.pts is None or frame.pts < lo:
                continue
            if frame.pts > hi:
                break
            if frame.pts not in want:
                continue
            if (frame.width, frame.height) != (ctx.width, ctx.height):
                # Zoom before 3.5 and some screen recorders change the picture size
                # part-way: frames encoded at the stream's first size would not fit
                raise _NoSmartCut(f"the picture is {frame.width}x{frame.height} here, not {ctx.width}x{ctx.height}")
            frame.pict_type = av.video.frame.PictureType.NONE  # else the encoder copies the decoder's frame types
            out.extend(_Pkt(bytes(p), p.is_keyframe) for p in ctx.encode(frame))
            got += 1
    out.extend(_Pkt(bytes(p), p.is_keyframe) for p in ctx.encode(None))
    if got != len(times) or len(out) != len(times):
        raise _NoSmartCut(f"decoded {got} and encoded {len(out)} of {len(times)} frames")
    if not out[0].key:
        raise _NoSmartCut("the re-encoded part does not start with a keyframe")
    return out


def _encode_webm_range(media: MediaInfo, times: np.ndarray, index: VideoIndex, threads: int) -> list[_Pkt]:
    """Decode the source frames at `times` and encode them with the source's codec, one
    packet a frame (no alt-ref lag), the first a keyframe."""
    import av

    try:
        ctx = av.CodecContext.create(WEBM_ENCODERS[media.video_codec], "w")
    except (ValueError, av.error.FFmpegError) as e:  # a PyAV built without the encoder
        raise _NoSmartCut(f"no {WEBM_ENCODERS[media.video_codec]} encoder here ({e})") from e
    ctx.width, ctx.height, ctx.pix_fmt = media.width, media.height, "yuv420p"
    ctx.time_base = index.time_base
    ctx.framerate = Fraction(1) / (index.time_base * index.frame_duration)
    ctx.thread_count = threads
    # Constant quality close to the source's (a few dozen frames sit beside its own);
    # VP8 takes crf only under a bit rate cap.
    if media.video_codec == "av1":
        # the fastest preset, and low delay: a packet out for every frame in, no
        # frames held back for a hierarchy that a second or two of video cannot use
        ctx.options = {"preset": "12", "crf": "28", "svtav1-params": "pred-struct=1:lookahead=0"}
    else:
        ctx.bit_rate = 0 if media.video_codec == "vp9" else 20_000_000
        ctx.options = {"deadline": "realtime", "cpu-used": "8", "crf": "20" if media.video_codec == "vp9" else "6",
                       "lag-in-frames": "0", "auto-alt-ref": "0", "row-mt": "1"}
    return _reencode(media.path, times, ctx)


def _mux_webm(media: MediaInfo, dest: Path, head: list[_Pkt], k1: int, stop: int, f0: int, index: VideoIndex,
              track: int | None) -> None:
    """Write the encoded head, the source's video packets of [k1, stop) and the sound of
    [f0, stop) (audio track `track`; None: no sound) into one WebM, on a timeline that starts at f0."""
    import av

    tb = index.time_base
    start_s, stop_s = float(f0 * tb), float(stop * tb)
    with open_media(media.path) as src, av.open(str(dest), "w", format="webm") as out:
        vsrc = src.streams.video[0]
        vout = out.add_stream_from_template(vsrc, opaque=True)  # by codec parameters: AV1's decoder (libdav1d) is no encoder name
        asrc = src.streams.audio[track] if media.audio_streams and track is not None else None
        aout = out.add_stream_from_template(asrc) if asrc is not None else None
        for p in head:
            packet = av.Packet(p.data)
            packet.pts, packet.dts, packet.duration, packet.time_base = p.pts, p.dts, p.duration, tb
            packet.is_keyframe = p.key
            packet.stream = vout
            out.mux(packet)
        src.seek(max(0, k1 - int(2 / tb)), stream=vsrc, backward=True, any_frame=False)
        sound = _SoundCut(start_s, stop_s)
        video_done, audio_done = False, asrc is None
        for packet in src.demux(*([vsrc] + ([asrc] if asrc is not None else []))):
            if packet.pts is None or packet.size == 0:
                continue
            if packet.stream is vsrc:
                if packet.pts < k1:
                    continue
                if packet.pts >= stop:
                    video_done = True
                    if audio_done:
                        break
                    continue
                packet.pts = packet.dts = packet.pts - f0
                packet.stream = vout
                out.mux(packet)
            elif not audio_done:
                if sound.take(packet):
                    packet.stream = aout
                    out.mux(packet)
                audio_done = sound.done
                if audio_done and video_done:
                    break


class _SoundCut:
    """Picks the sound packets of [start, stop) (seconds on the source timeline) from a
    demux and moves them to a timeline that starts at `start`. The packet nearest each
    cut is the one kept, so the sound is in sync within half a packet (10-23 ms)."""

    def __init__(self, start: float, stop: float) -> None:
        self.start, self.stop = start, stop
        self.done = False  # a packet past `stop` came: the rest are not wanted
        self._shift: int | None = None
        self._tb: float | None = None  # a float, not a Fraction: this runs per packet

    def take(self, packet) -> bool:
        """Whether `packet` belongs in the clip; if so, its times are moved."""
        if self._tb is None:
            self._tb = float(packet.time_base)
        mid = (packet.pts + (packet.duration or 0) / 2) * self._tb
        if mid < self.start:
            return False
        if mid >= self.stop:
            self.done = True
            return False
        if self._shift is None:
            self._shift = int(round(self.start / self._tb))
        dts = packet.dts if packet.dts is not None else packet.pts
        packet.pts, packet.dts = packet.pts - self._shift, dts - self._shift
        return True


def _check_webm(path: Path, total: int, head_count: int) -> None:
    """Decode the clip's start, across the join: a broken join shows as missing frames or an error."""
    with open_media(path) as c:
        v = c.streams.video[0]
        n = 0
        for _ in c.decode(v):
            n += 1
            if n >= head_count + 3:
                break
    if n < min(total, head_count + 3):
        raise _NoSmartCut(f"decoded {n} frames at the start, expected {min(total, head_count + 3)}")


@dataclass
class _Pkt:
    data: bytes
    key: bool
    pts: int = 0
    dts: int = 0
    duration: int = 0


def _encode_range(path: Path, times: np.ndarray, index: VideoIndex, ps_id: int, enc: dict) -> tuple[list[_Pkt], tuple[list[bytes], list[bytes]]]:
    """Decode the source frames at `times` (display-order pts) and encode them with x264
    without B-frames, returning length-prefixed packets (in order) and the encoder's SPS/PPS."""
    import av

    ctx = av.CodecContext.create("libx264", "w")
    ctx.width, ctx.height, ctx.pix_fmt = enc["width"], enc["height"], enc["pix_fmt"]
    ctx.time_base = index.time_base
    ctx.framerate = Fraction(1) / (index.time_base * index.frame_duration)
    ctx.flags |= av.codec.context.Flags.global_header
    ctx.thread_count = enc["threads"]
    ctx.options = {
        "preset": "superfast",  # a few dozen frames: speed matters more than their size
        "crf": "18",  # they sit next to the source's own frames: keep them close in quality
        "profile": enc["profile"],
        "level": enc["level"],
        "x264-params": f"sps-id={ps_id}:bframes=0:scenecut=0:keyint=100000:open-gop=0",
    }
    out = _reencode(path, times, ctx)
    sps, pps = [], []
    for nal in _split_annexb(bytes(ctx.extradata or b"")):
        (sps if nal[0] & 0x1F == 7 else pps if nal[0] & 0x1F == 8 else []).append(nal)
    if not sps or not pps:
        raise _NoSmartCut("x264 gave no parameter sets")
    for p in out:
        nals = [n for n in _split_annexb(p.data) if n[0] & 0x1F not in (7, 8, 9)]
        p.data = b"".join(struct.pack(">I", len(n)) + n for n in nals)
    return out, (sps, pps)


def _mux_smart(
    media: MediaInfo,
    dest: Path,
    f0: int,
    stop: int,
    index: VideoIndex,
    span: tuple[int, int],
    head: list[_Pkt],
    tail: list[_Pkt],
    extradata: bytes,
    track: int | None,
) -> None:
    """Write head + copied packets + tail (and the audio of [f0, stop), unless `track`
    is None) into one MP4."""
    import av

    tb = index.time_base
    start_s, stop_s = float(f0 * tb), float(stop * tb)
    first_dec, last_dec = span
    with open_media(media.path) as src, av.open(
        str(dest), "w", format="mp4", options={"movflags": "+faststart"}
    ) as out:
        vsrc = src.streams.video[0]
        vout = out.add_stream_from_template(vsrc)
        vout.codec_context.extradata = extradata
        asrc = aout = None
        if media.audio_streams and track is not None:
            asrc = src.streams.audio[track]
            aout = out.add_stream_from_template(asrc)

        def emit(p: _Pkt) -> None:
            packet = av.Packet(p.data)
            packet.pts, packet.dts, packet.duration = p.pts - f0, p.dts - f0, p.duration
            packet.time_base = tb
            packet.is_keyframe = p.key
            packet.stream = vout
            out.mux(packet)

        for p in head:
            emit(p)
        # Seek a little early on the video stream so the audio around `start` is read too.
        src.seek(max(0, f0 - int(2 / tb)), stream=vsrc, backward=True, any_frame=False)
        first_video_pts = int(index.pts[first_dec])
        decode_no = None  # position in decode order of the next copied video packet
        sound = _SoundCut(start_s, stop_s)
        audio_done = asrc is None
        for packet in src.demux(*([vsrc] + ([asrc] if asrc is not None else []))):
            if packet.pts is None:
                continue
            if packet.stream is vsrc:
                if packet.size == 0:
                    continue
                if decode_no is None:
                    if packet.pts != first_video_pts:
                        continue
                    decode_no = first_dec
                if decode_no >= last_dec:
                    if audio_done:
                        break
                    continue
                decode_no += 1
                dts = packet.dts if packet.dts is not None else packet.pts
                packet.pts, packet.dts = packet.pts - f0, dts - f0
                packet.stream = vout
                out.mux(packet)
            elif not audio_done:
                if sound.take(packet):
                    packet.stream = aout
                    out.mux(packet)
                audio_done = sound.done
        if decode_no != last_dec:
            raise _NoSmartCut(f"copied {(decode_no or first_dec) - first_dec} of {last_dec - first_dec} frames")
        for p in tail:
            emit(p)


def _check_smart(path: Path, head_count: int, total: int, k_last_offset: float | None) -> None:
    """Decode the joins of a smart-cut clip: the head, the first copied GOP and the tail.
    A broken parameter set or reference shows up there as missing frames or an error."""
    with open_media(path) as c:
        v = c.streams.video[0]
        v.thread_type = "AUTO"
        if c.streams.video[0].frames and c.streams.video[0].frames != total:
            raise _NoSmartCut(f"clip holds {c.streams.video[0].frames} frames, expected {total}")
        n = 0
        for _ in c.decode(v):
            n += 1
            if n > head_count + 3:
                break
        if n < min(total, head_count + 3):
            raise _NoSmartCut(f"decoded {n} frames at the start, expected {min(total, head_count + 3)}")
        if k_last_offset is not None:
            c.seek(int(k_last_offset / v.time_base), stream=v, backward=True)  # lands on the tail's IDR
            last = None
            for frame in c.decode(v):
                last = frame
            if last is None or last.time < k_last_offset:
                raise _NoSmartCut("the re-encoded tail does not decode")


# ---------------------------------------------------------------- H.264 bitstream helpers


def _is_avcc(extradata: bytes | None) -> bool:
    return bool(extradata) and len(extradata) >= 7 and extradata[0] == 1


def _nal_types(data: bytes, length_size: int = 4) -> list[int]:
    types, i = [], 0
    while i + length_size <= len(data):
        n = int.from_bytes(data[i : i + length_size], "big")
        i += length_size
        if n <= 0 or i + n > len(data):
            break
        types.append(data[i] & 0x1F)
        i += n
    return types


def _split_annexb(data: bytes) -> list[bytes]:
    """NAL units of an Annex B byte stream (start codes 00 00 01 / 00 00 00 01)."""
    out, i, n = [], 0, len(data)
    starts = []
    while True:
        j = data.find(b"\x00\x00\x01", i)
        if j < 0:
            break
        starts.append(j + 3)
        i = j + 3
    for a, b in zip(starts, starts[1:] + [n + 3]):
        nal = data[a : b - 3]
        nal = nal.rstrip(b"\x00") if b <= n else nal  # trailing zero of a 4-byte start code
        if nal:
            out.append(nal)
    return out


def _parse_avcc(avcc: bytes) -> tuple[list[bytes], list[bytes], bytes]:
    """SPS list, PPS list and the trailing extension bytes (High profiles) of an avcC box."""
    i = 5
    sps, pps = [], []
    for _ in range(avcc[i] & 0x1F):
        n = struct.unpack(">H", avcc[i + 1 : i + 3])[0]
        sps.append(avcc[i + 3 : i + 3 + n])
        i += 2 + n
    i += 1
    for _ in range(avcc[i]):
        n = struct.unpack(">H", avcc[i + 1 : i + 3])[0]
        pps.append(avcc[i + 3 : i + 3 + n])
        i += 2 + n
    return sps, pps, avcc[i + 1 :]


def _build_avcc(profile: int, compat: int, level: int, sps: list[bytes], pps: list[bytes], ext: bytes) -> bytes:
    out = bytearray([1, profile, compat, level, 0xFF, 0xE0 | len(sps)])
    for x in sps:
        out += struct.pack(">H", len(x)) + x
    out.append(len(pps))
    for x in pps:
        out += struct.pack(">H", len(x)) + x
    if profile in (100, 110, 122, 144):
        out += ext if ext else bytes([0xFD, 0xF8, 0xF8, 0x00])  # 4:2:0, 8-bit, no SPS extensions
    return bytes(out)


def _ue_first(rbsp: bytes) -> int:
    """The first Exp-Golomb ue(v) value of a NAL payload (enough for the id fields)."""
    bits = "".join(f"{b:08b}" for b in rbsp[:8])
    zeros = len(bits) - len(bits.lstrip("0"))
    return int(bits[zeros : 2 * zeros + 1], 2) - 1


def _sps_id(sps: bytes) -> int:
    return _ue_first(sps[4:])  # after the NAL header, profile_idc, constraint flags, level_idc
