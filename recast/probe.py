"""Stage 1: find out what an input file is, and refuse what recast cannot use.

Probing goes through PyAV (libavformat in-process) because the ffmpeg that the
imageio-ffmpeg wheel ships has no ffprobe.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from .errors import MediaError
from .ffmpeg import open_media
from .models import AudioStream, GivenChapter, MediaInfo

log = logging.getLogger(__name__)

# Inputs that are really lists of other files or URLs. Opening them would make
# libavformat read whatever they point at, so they are refused before opening.
_PLAYLIST_MAGIC = (b"#EXTM3U", b"ffconcat", b"[playlist]", b"<?xml", b"<MPD", b"#EXT-X")
_REFUSED_FORMATS = {"hls", "concat", "applehttp", "dash", "m3u8", "image2", "tty", "lavfi"}


def check_path(path: Path, folder_hint: bool = True) -> None:
    """The cheap checks every input gets before any decoder sees it. `folder_hint`:
    point to `recast batch` when the input is a folder (not within a batch)."""
    if not path.exists():
        raise MediaError("no such file", path)
    if path.is_dir():
        raise MediaError("is a directory, not a recording" + (" (use `recast batch` for folders)" if folder_hint else ""), path)
    if not path.is_file():
        raise MediaError("is not a regular file", path)
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(512)
    except OSError as e:
        raise MediaError(f"cannot be read: {e.strerror}", path) from e
    if size == 0:
        raise MediaError("is empty (0 bytes)", path)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if any(stripped.startswith(m) for m in _PLAYLIST_MAGIC):
        raise MediaError("is a playlist or manifest, not a recording; playlists are refused for safety", path)


def probe(path: str | Path) -> MediaInfo:
    """Read the container and stream facts of `path`, or raise MediaError with one clear line."""
    path = Path(path)
    check_path(path)
    import av  # imported here so `recast --help` stays instant

    try:
        container = open_media(path, metadata_errors="ignore")
    except av.error.InvalidDataError as e:
        raise MediaError("unreadable media: not an audio or video file, or damaged (no usable header)", path) from e
    except av.error.EOFError as e:
        raise MediaError("unreadable media: the file ends inside its header (truncated, or still being copied?)", path) from e
    except av.error.FFmpegError as e:
        raise MediaError(f"unreadable media: {e.strerror or e}", path) from e
    with container:
        fmt = container.format.name or ""
        if set(fmt.split(",")) & _REFUSED_FORMATS:
            raise MediaError(f"format {fmt!r} is refused: only plain audio/video files are accepted", path)
        start = container.start_time / 1_000_000 if container.start_time is not None else 0.0
        duration = container.duration / 1_000_000 if container.duration is not None else 0.0
        audio_streams = []
        for n, s in enumerate(container.streams.audio):
            cc = s.codec_context
            s_start = float(s.start_time * s.time_base) if s.start_time is not None and s.time_base else start
            s_dur = float(s.duration * s.time_base) if s.duration is not None and s.time_base else None
            audio_streams.append(
                AudioStream(
                    index=n,
                    stream_index=s.index,
                    codec=codec_name(cc) if cc else "unknown",
                    channels=getattr(cc, "channels", 0) or 0,
                    sample_rate=getattr(cc, "sample_rate", 0) or 0,
                    start_time=s_start,
                    duration=s_dur,
                    language=s.metadata.get("language"),
                )
            )
        video = _first_real_video(container)
        if duration <= 0:
            durations = [a.duration for a in audio_streams if a.duration]
            duration = max(durations, default=0.0)
        if not audio_streams and video is None:
            raise MediaError("unreadable media: no audio or video streams found", path)
        info = MediaInfo(
            path=path.resolve(),
            size=path.stat().st_size,
            format_name=fmt,
            duration=duration,
            start_time=start,
            audio_streams=tuple(audio_streams),
            has_video=video is not None,
            width=video.codec_context.width if video is not None else 0,
            height=video.codec_context.height if video is not None else 0,
            fps=float(video.average_rate or video.guessed_rate or 0) if video is not None else 0.0,
            video_codec=codec_name(video.codec_context) if video is not None else None,
            video_pix_fmt=video.codec_context.pix_fmt if video is not None else None,
            video_interlaced=video is not None and _interlaced(container, video),
            video_start_time=(
                float(video.start_time * video.time_base) if video is not None and video.start_time is not None else start
            ),
            recorded=recorded_date(container.metadata),
            chapters=_chapters(container),
        )
        if audio_streams:
            _check_tail(container, container.streams.audio[0], info)
    log.debug("probed %s: %s", path, info)
    return info


def recorded_date(tags: dict[str, str]) -> str | None:
    """The recording date from container tags (MP4 `creation_time`, Matroska `DATE`,
    as Zoom, OBS and cameras write them), as YYYY-MM-DD; None when absent, unreadable,
    a muxer's zero date (1904 and 1970 epochs) or later than today."""
    import datetime as dt

    for key in ("creation_time", "date", "DATE", "DATE_RECORDED"):
        value = str(tags.get(key) or "").strip()
        if not value:
            continue
        try:
            when = dt.date.fromisoformat(value[:10])
        except ValueError:
            continue
        if when.year > 1971 and when <= dt.date.today():
            return when.isoformat()
    return None


def _chapters(container) -> tuple[GivenChapter, ...]:
    """The file's chapter marks on its own timeline, titles as written."""
    import av

    try:
        marks = container.chapters()
    except (AttributeError, av.error.FFmpegError):  # PyAV before 14 cannot list them
        return ()
    out = []
    for c in marks:
        tb = c["time_base"]
        start, end = float(c["start"] * tb), float(c["end"] * tb)
        if end > start >= 0:
            out.append(GivenChapter(start, end, " ".join(str(c["metadata"].get("title", "")).split())))
    return tuple(sorted(out, key=lambda c: c.start))


def codec_name(cc) -> str:
    """The codec's own name ("mp3", "av1"), not the name of the decoder libav picked
    for it ("mp3float", "libdav1d"), which every codec check would miss."""
    codec = cc.codec
    return getattr(codec, "canonical_name", None) or cc.name


def _interlaced(container, stream) -> bool:
    """Whether the stream's frames are coded as two fields. libavcodec's field order
    says so (0 unknown, 1 progressive, 2-5 the interlaced orders); where the container
    does not (DV in AVI, always interlaced), the first frame's own flag does."""
    order = getattr(stream.codec_context, "field_order", 0) or 0
    if order:
        return order >= 2
    import av

    try:
        for frame in container.decode(stream):
            return bool(frame.interlaced_frame)
    except av.error.FFmpegError:
        pass
    return False


def _first_real_video(container):
    """The first video stream that is a real moving picture, not cover art."""
    return next((s for s in container.streams.video if not is_cover_art(s)), None)


def is_cover_art(stream) -> bool:
    """Whether a PyAV video stream is a picture attached to the sound (the cover of an
    .m4a, the album art of an .mp3), not a moving picture."""
    try:
        if stream.disposition & stream.disposition.__class__.attached_pic:
            return True
    except AttributeError:
        pass
    return codec_name(stream.codec_context) in ("mjpeg", "png") and (stream.frames or 0) <= 1


# Undecodable packets in a row, after the seek near the end, that make a file corrupt.
TAIL_BAD_PACKETS = 8


def _check_tail(container, stream, info: MediaInfo) -> None:
    """Refuse a truncated file early: demux a packet near the stated end.

    A cut-off MP4 whose index (moov) survived claims a duration its data no longer
    holds; seeking near the end then finds nothing to read.
    """
    if info.duration < 2:
        return
    import av

    target = max(0.0, info.duration - 3.0) + info.start_time
    bad_packets = 0
    try:
        container.seek(int(target / stream.time_base), stream=stream, backward=True, any_frame=False)
        for packet in container.demux(stream):
            if not packet.size or packet.pts is None:
                continue
            try:
                for _frame in packet.decode():
                    return
            except av.error.InvalidDataError:
                # Program and transport streams (DVD .mpg, camcorder .mts) seek by
                # byte, so the first packet after the seek is often the cut-off tail
                # of a frame; only a run of undecodable packets means a corrupt file.
                bad_packets += 1
                if bad_packets >= TAIL_BAD_PACKETS:
                    raise
    except av.error.FFmpegError as e:
        raise MediaError(f"unreadable media: truncated or corrupt ({e.strerror or e})", info.path) from e
    raise MediaError(
        f"unreadable media: truncated or corrupt (the data ends before the stated length of {info.duration:.1f} s)",
        info.path,
    )


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """Content hash of a whole file, streamed (recordings can be several GB)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
