"""Reading a slide's title from a still.

RapidOCR (Apache-2.0) runs PaddleOCR's detection and recognition models on
onnxruntime; the `rapidocr` wheel ships the PP-OCRv6 models, so nothing is fetched.
Only the top part of the still is read (slide templates put the title there), at
the still's own small size: about a quarter of a second a slide on one core.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

TOP_SHARE = 0.3  # of the height: where slide templates put the title (0.45 cost 3x the time)
MAX_SIDE = 640  # px: detection input; stills are 640 px wide


@dataclass(frozen=True)
class SlideText:
    title: str  # the largest line near the top
    confidence: float  # recogniser's mean score for that line, 0..1
    lines: tuple[str, ...] = ()  # every line read in the top region, top to bottom


@functools.cache
def _engine():
    """The RapidOCR engine, or None when it is not installed."""
    try:
        from rapidocr import RapidOCR
    except Exception as e:  # optional dependency
        log.info("OCR unavailable (%s): titles come from the transcript", e)
        return None
    threads = int(os.environ.get("RECAST_OCR_THREADS", "1"))
    try:
        return RapidOCR(
            params={
                # "The text detection result is empty" for every photo or blank
                # screen is a warning there; recast reports what matters itself
                "Global.log_level": "error",
                "Global.use_cls": False,  # slides are upright
                "Det.limit_type": "max",
                "Det.limit_side_len": MAX_SIDE,
                # One line at a time: a batch pads every line to the widest one's
                # length, and slide lines vary from a page number to a whole bullet
                # (reading an hour's slides whole was faster and smaller this way in a
                # scratch measurement; benchmarks/RESULTS.md, session 13)
                "Rec.rec_batch_num": 1,
                # Lines read at most on one still: a slide has a dozen; a screen of
                # code or a document has a hundred, each costing 0.05-0.1 s to read
                "Det.max_candidates": 40,
                "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )
    except Exception as e:  # a broken install must not stop a build
        log.warning("OCR engine failed to start: %s", e)
        return None


def available() -> bool:
    return _engine() is not None


@dataclass(frozen=True)
class SlideLine:
    """One line of text read anywhere on a slide."""

    text: str
    confidence: float  # recogniser's score, 0..1


_READ: dict[tuple[str, int, int], SlideText | None] = {}


def read_title(path: Path) -> SlideText | None:
    """The title of the slide in the image at `path`, or None if no text is found.

    Remembered per file (path, size and time): the chapter stage reads the titles of
    centred slides, and the title stage reads some of the same stills again."""
    try:
        st = os.stat(path)
        key = (str(path), st.st_size, st.st_mtime_ns)
    except OSError:
        return None
    if key not in _READ:
        if len(_READ) > 4096:  # a long batch in one process
            _READ.clear()
        _READ[key] = _read_title(path)
    return _READ[key]


def _read_title(path: Path) -> SlideText | None:
    engine = _engine()
    if engine is None:
        return None
    try:
        from PIL import Image

        with Image.open(path) as im:
            rgb = im.convert("RGB")
            w, h = rgb.size
            top = np.asarray(rgb.crop((0, 0, w, max(8, int(h * TOP_SHARE)))))
        result = engine(top)
    except Exception as e:  # one unreadable still costs one title, not the build
        log.debug("OCR failed on %s: %s", path, e)
        return None
    if result is None or result.boxes is None or not result.txts:
        return None
    return _title_from_lines(list(zip(result.boxes, result.txts, result.scores)))


def read_slide(path: Path) -> tuple[SlideLine, ...]:
    """Every line of text on the still at `path`, top to bottom: the words on the
    slide that speech recognition is given (recast.slides). Reading the whole still
    costs about 0.1 s a line on one core, four times the title's cost."""
    engine = _engine()
    if engine is None:
        return ()
    try:
        from PIL import Image

        with Image.open(path) as im:
            result = engine(np.asarray(im.convert("RGB")))
    except Exception as e:  # one unreadable still costs its words, not the build
        log.debug("OCR failed on %s: %s", path, e)
        return ()
    if result is None or result.boxes is None or not result.txts:
        return ()
    lines = []
    for box, txt, score in zip(result.boxes, result.txts, result.scores):
        txt = _DECORATION.sub("", re.sub(r"\s+", " ", str(txt)))
        if txt:
            lines.append((float(np.asarray(box, dtype=float)[:, 1].min()), SlideLine(txt, float(score))))
    return tuple(line for _, line in sorted(lines, key=lambda x: x[0]))


# Slide templates draw an accent bar beside the title or a bullet before a line; the
# recogniser reads them as "|", "I" is never stripped (it may be a word).
_DECORATION = re.compile(r"^[\s|¦│┃▌▐•·▪■□►▶▸◆◇*#>_~=\-–—]+|[\s|¦│┃▌▐•·▪■□◄◀_~=\-–—:]+$")


def _title_from_lines(items: list) -> SlideText | None:
    """Pick the title: the tallest text line (lines on one baseline joined left to right)."""
    boxes = []
    for box, txt, score in items:
        b = np.asarray(box, dtype=float)
        txt = _DECORATION.sub("", re.sub(r"\s+", " ", str(txt)))
        if not txt:
            continue
        boxes.append((b[:, 1].min(), b[:, 1].max(), b[:, 0].min(), txt, float(score)))
    if not boxes:
        return None
    boxes.sort()
    lines: list[list] = []
    for top, bottom, left, txt, score in boxes:
        centre = (top + bottom) / 2
        for line in lines:
            lt, lb = line[0][0], line[0][1]
            if abs(centre - (lt + lb) / 2) < 0.5 * (lb - lt):
                line.append((top, bottom, left, txt, score))
                break
        else:
            lines.append([(top, bottom, left, txt, score)])
    merged = []
    for line in lines:
        line.sort(key=lambda x: x[2])
        height = float(np.median([b - t for t, b, *_ in line]))
        text = " ".join(x[3] for x in line)
        conf = float(np.mean([x[4] for x in line]))
        merged.append((min(x[0] for x in line), height, text, conf))
    merged.sort()
    tallest = max(h for _, h, _, _ in merged)
    # the first line (from the top) that is nearly as tall as the tallest: a small
    # header line (course name, date) above a big title is skipped
    title = next(m for m in merged if m[1] >= 0.8 * tallest)
    return SlideText(title[2], title[3], tuple(m[2] for m in merged))
