"""Stage: one representative picture per chapter, and a poster for the session.

A chapter's picture is preferably its first slide (the still `video.py` kept for the
shot), else the sharpest of a few frames decoded 10-30% into the chapter, skipping
black or blank frames and frames next to a scene change (mid-transition blur).
Pictures are small WebP files sized for the pages. Audio-only recordings get none:
the site draws a placeholder.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from .errors import MediaError
from .ffmpeg import open_media
from .models import Chapter, Frame, MediaInfo, Thumbnail, VideoAnalysis

log = logging.getLogger(__name__)

# px; a chapter's card (sharp on a 2x screen) and its page's poster, which fills a
# player some 760 px wide: at 320 px slide text smeared there. The slide stills of
# the video stage are 640 px, so nothing is decoded again for it.
THUMB_WIDTH = 640
SCORE_WIDTH = 320  # px; sharpness is judged on a grey copy this wide
POSTER_WIDTH = 1280  # px; the player's poster, or the source width when smaller
WEBP_QUALITY = 75  # ~20-40 KB for a 640 px slide
CANDIDATES = (0.10, 0.15, 0.20, 0.30)  # where in a chapter to look when there is no slide
MORE_CANDIDATES = (0.40, 0.50, 0.65, 0.80)  # when all of those are black or blank (a waiting screen)
TRANSITION_GUARD = 1.0  # s; frames this close to a scene change may be mid-fade
MIN_MEAN, MAX_MEAN = 16.0, 250.0  # luma 0..255: below is black, above is a blank white screen
MIN_CONTRAST = 6.0  # luma standard deviation; below it the frame is a flat colour


def make_thumbnails(
    media: MediaInfo, chapters: Sequence[Chapter], video: VideoAnalysis | None, outdir: Path
) -> list[Thumbnail]:
    """Write `poster.webp` and `chapter-NN.webp` into `outdir`; return the poster
    (chapter 0) then one Thumbnail per chapter, with absolute paths. A recording of
    sound only gets its cover art (an .mp3's or .m4a's attached picture) as the
    poster, when it has one."""
    if not chapters:
        return []
    if not media.has_video:
        cover = cover_art(media.path)
        if cover is None:
            return []
        Path(outdir).mkdir(parents=True, exist_ok=True)
        return [_save(cover, Path(outdir) / "poster.webp", POSTER_WIDTH, 0, 0.0)]
    from PIL import Image

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    stills = tuple(video.frames) if video else ()
    cuts = tuple(s.time for s in video.scene_changes) if video else ()
    picks: list[tuple[Chapter, float, Image.Image, float]] = []  # chapter, time, image, score
    with _Grabber(media) as grab:
        for ch in chapters:
            pick = _from_stills(ch, stills) or _from_video(ch, grab, cuts)
            if pick is None:
                log.warning("%s: no frame could be decoded for chapter %d; it gets no thumbnail", media.path, ch.index)
                continue
            picks.append((ch, *pick))
        if not picks:
            raise MediaError("no video frame could be decoded for thumbnails", media.path)

        # The poster: the first chapter's picture (usually the title slide) unless it is
        # poor, then the sharpest one; decoded again at full size.
        first = picks[0]
        best = first if first[3] > 0 else max(picks, key=lambda p: p[3])
        poster_time = best[1]
        full = grab.at(poster_time)
        poster_img = full[1] if full is not None else best[2]

    thumbs = [_save(poster_img, outdir / "poster.webp", min(POSTER_WIDTH, media.width or POSTER_WIDTH), 0, poster_time)]
    for ch, t, img, _score in picks:
        thumbs.append(_save(img, outdir / f"chapter-{ch.index:02d}.webp", THUMB_WIDTH, ch.index, t))
    return thumbs


def cover_art(path: Path):
    """The picture attached to an audio file (album art of an .mp3, an .m4a's cover),
    as an RGB image, or None."""
    import av
    from PIL import Image

    from .probe import is_cover_art
    from .video import picture

    try:
        with open_media(path) as c:
            for s in c.streams.video:
                if not is_cover_art(s):
                    continue
                for packet in c.demux(s):
                    for frame in packet.decode():
                        return Image.fromarray(picture(frame, sar=s.sample_aspect_ratio))
    except (av.error.FFmpegError, ValueError) as e:  # a damaged picture: no poster
        log.debug("%s: no cover art: %s", path, e)
    return None


# ---------------------------------------------------------------- choosing


def frame_score(img) -> float:
    """Sharpness (variance of a Laplacian on a 320 px grey copy); 0 for black or blank frames."""
    gray = _gray(img)
    mean, std = float(gray.mean()), float(gray.std())
    if mean < MIN_MEAN or mean > MAX_MEAN or std < MIN_CONTRAST:
        return 0.0
    lap = gray[1:-1, 2:] + gray[1:-1, :-2] + gray[2:, 1:-1] + gray[:-2, 1:-1] - 4 * gray[1:-1, 1:-1]
    return float(lap.var()) + 1e-3  # > 0 for every usable frame


def _gray(img) -> np.ndarray:
    from PIL import Image

    g = img.convert("L")
    if g.width > SCORE_WIDTH:
        g = g.resize((SCORE_WIDTH, max(1, round(g.height * SCORE_WIDTH / g.width))), Image.Resampling.BILINEAR)
    return np.asarray(g, dtype=np.float32)


def _from_stills(ch: Chapter, stills: Sequence[Frame]):
    """The chapter's first usable slide; else the slide on screen when it starts."""
    from PIL import Image

    inside = [s for s in stills if ch.start - 0.5 <= s.time < ch.end]
    before = [s for s in stills if s.time < ch.start - 0.5][-1:]
    for still in inside + before:
        try:
            with Image.open(still.path) as im:
                img = im.convert("RGB")
        except (OSError, ValueError) as e:
            log.debug("still %s unreadable: %s", still.path, e)
            continue
        if img.width < SCORE_WIDTH // 2:
            continue  # too small to make a card from; decode the video instead
        score = frame_score(img)
        if score > 0:
            return still.time, img, score
    return None


def _from_video(ch: Chapter, grab: "_Grabber", cuts: Sequence[float]):
    """The sharpest usable frame among a few 10-30% into the chapter (later ones when
    those are all black or blank), away from scene changes."""
    scored = []
    for fractions in (CANDIDATES, MORE_CANDIDATES):
        times = [ch.start + f * ch.duration for f in fractions]
        calm = [t for t in times if all(abs(t - c) > TRANSITION_GUARD for c in cuts)]
        for t in calm or times:
            got = grab.at(t)
            if got is not None:
                scored.append((got[0], got[1], frame_score(got[1])))
        if any(s[2] > 0 for s in scored):
            break
    if not scored:
        return None
    return max(scored, key=lambda s: s[2])  # of equals, max keeps the earliest


# ---------------------------------------------------------------- decoding and writing


class _Grabber:
    """Decodes single frames at given source-timeline times from one open container."""

    def __init__(self, media: MediaInfo):
        self.media = media

    def __enter__(self) -> "_Grabber":
        import av

        try:
            self.container = open_media(self.media.path)
            self.stream = self.container.streams.video[0]
        except (av.error.FFmpegError, IndexError) as e:
            raise MediaError(f"cannot open the video for thumbnails: {e}", self.media.path) from e
        self.stream.thread_type = "AUTO"
        return self

    def __exit__(self, *exc) -> None:
        self.container.close()

    def at(self, t: float):
        """(time, RGB image, upright) of the frame shown at `t`, or None past the end / on decode errors."""
        import av
        from PIL import Image

        from .video import picture

        tb = self.stream.time_base
        try:
            self.container.seek(int(t / tb), stream=self.stream, backward=True, any_frame=False)
            shown = None
            for frame in self.container.decode(self.stream):
                if frame.time is None:
                    continue
                if frame.time > t + 1e-3:
                    shown = shown or frame  # `t` before the first frame: take the first
                    break
                shown = frame
        except av.error.FFmpegError as e:
            log.debug("decoding at %.2f s failed: %s", t, e)
            return None
        if shown is None:
            return None
        return shown.time, Image.fromarray(picture(shown, sar=self.stream.sample_aspect_ratio))


def _save(img, path: Path, width: int, chapter: int, t: float) -> Thumbnail:
    from PIL import Image

    if img.width > width:
        img = img.resize((width, max(2, round(img.height * width / img.width))), Image.Resampling.LANCZOS)
    tmp = path.with_name(f".{path.stem}.part.webp")
    try:
        img.save(tmp, "WEBP", quality=WEBP_QUALITY, method=4)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return Thumbnail(chapter=chapter, path=path.resolve(), time=float(t), width=img.width, height=img.height)
