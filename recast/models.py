"""Typed values passed between pipeline stages.

Every time is a float number of seconds from the start of the source recording
(the container's timeline, so captions line up with the video). Values are frozen:
a stage builds new values, it never edits the ones it was given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

SAMPLE_RATE = 16000  # Hz; Whisper, Silero VAD and our pause detector all take 16 kHz mono


@dataclass(frozen=True)
class AudioStream:
    index: int  # position among the file's audio streams (0 = first), as --audio-track counts
    stream_index: int  # the container's stream index
    codec: str
    channels: int
    sample_rate: int
    start_time: float  # seconds; non-zero in many screen recordings
    duration: float | None
    language: str | None = None


@dataclass(frozen=True)
class GivenChapter:
    """A chapter a person marked: in a chapter file (`--chapters FILE`) or in the
    recording itself (Camtasia's markers, OBS's chapter hotkey, yt-dlp's YouTube chapters)."""

    start: float
    end: float | None  # None: where the next one starts (a YouTube list gives only starts)
    title: str  # "" when it has none worth showing ("Chapter 3", "Unnamed 2")


@dataclass(frozen=True)
class ChapterMarks:
    """The chapters a person marked for a recording, and where they were found."""

    marks: tuple[GivenChapter, ...]  # in time order
    source: str  # the chapter file's name, or "the recording's chapter marks"


@dataclass(frozen=True)
class MediaInfo:
    """What `probe` learned about an input file."""

    path: Path
    size: int
    format_name: str
    duration: float
    start_time: float  # container start time, seconds
    audio_streams: tuple[AudioStream, ...]
    has_video: bool = False
    width: int = 0
    height: int = 0
    fps: float = 0.0  # average frame rate; screen recordings are often variable
    video_codec: str | None = None
    video_pix_fmt: str | None = None  # "yuv420p" for what every browser decodes; 10-bit is "yuv420p10le"
    # Field-coded video (camcorder 1080i, DV, broadcast captures): browsers show its
    # fields combed together, so it is deinterlaced when encoded and never copied.
    video_interlaced: bool = False
    video_start_time: float = 0.0
    recorded: str | None = None  # ISO date the container says it was recorded, if it says
    chapters: tuple[GivenChapter, ...] = ()  # chapter marks inside the file, titles as written

    @property
    def is_audio_only(self) -> bool:
        return not self.has_video

    @property
    def web_playable(self) -> bool:
        """True when browsers can play the file as it is (MP4/M4A with H.264/AAC, etc.)."""
        audio = self.audio_streams[0].codec if self.audio_streams else None
        fmt = set(self.format_name.split(","))
        # WebM with VP9 and Opus plays in every current browser, Safari included (VP8,
        # Vorbis and AV1 do not play there on most Apple devices); a Matroska file
        # with the same codecs does not reliably, hence the suffix check.
        webm = "webm" in fmt and self.path.suffix.lower() == ".webm"
        if self.has_video:
            if webm:
                return self.video_codec == "vp9" and audio in (None, "opus")
            return bool(fmt & {"mp4", "mov"}) and self.video_codec == "h264" and audio in (None, "aac", "mp3")
        if webm:
            return audio in ("opus", "vorbis")
        return bool(fmt & {"mp4", "mov", "mp3", "wav", "ogg", "flac"}) and audio in (
            "aac", "mp3", "pcm_s16le", "vorbis", "opus", "flac")


@dataclass(frozen=True)
class Audio:
    """The one decoded copy of a recording's audio: 16 kHz mono float32.

    `samples[0]` is at `offset` seconds on the source timeline.
    """

    samples: np.ndarray = field(repr=False)
    offset: float = 0.0
    track: int = 0
    sha256: str = ""  # hash of the decoded samples: the transcript cache key

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    word: str  # as Whisper gives it, usually with a leading space
    probability: float = 1.0


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    speaker: str | None = None


@dataclass(frozen=True)
class Transcript:
    segments: tuple[Segment, ...]
    language: str
    language_probability: float | None = None
    engine: str = ""
    model: str = ""
    duration: float = 0.0  # seconds of audio that were transcribed

    @property
    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())


@dataclass(frozen=True)
class SceneChange:
    time: float
    score: float  # 0..100 as ffmpeg's scdet reports it


@dataclass(frozen=True)
class Frame:
    """A small still taken from the video for OCR and thumbnails."""

    time: float
    path: Path  # image file inside the work folder


@dataclass(frozen=True)
class TimedText:
    """Text on screen from `start` to `end`: a slide's words given to speech
    recognition, or what a slide says, for search."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class VideoAnalysis:
    scene_changes: tuple[SceneChange, ...] = ()
    frames: tuple[Frame, ...] = ()  # one still per stable shot (slide), in time order
    keyframes: tuple[float, ...] = ()  # video keyframe times, for copy/smart cuts
    end: float | None = None  # when the picture ends, if before the sound (a screen share stopped)


@dataclass(frozen=True)
class Pause:
    start: float
    end: float

    @property
    def length(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Question:
    time: float
    text: str
    answer_start: float
    answer_end: float
    answer: str = ""


TitleSource = Literal["slide", "announced", "keyphrases", "llm", "fallback", "given"]


@dataclass(frozen=True)
class Chapter:
    index: int  # 1-based
    start: float
    end: float
    title: str
    summary: str = ""
    keywords: tuple[str, ...] = ()
    key_points: tuple[str, ...] = ()
    title_source: TitleSource = "keyphrases"

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Outline:
    """What the chapters + summarize stages decide about a session."""

    chapters: tuple[Chapter, ...]
    talk_start: float
    talk_end: float
    summary: str = ""
    key_points: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    questions: tuple[Question, ...] = ()
    chapters_given: str | None = None  # where the chapters a person marked came from; None: found by recast


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


ClipMode = Literal["encode", "copy", "none"]


@dataclass(frozen=True)
class Clip:
    chapter: int  # chapter index
    path: Path | None  # None in clips=none mode
    start: float  # actual cut times on the source timeline (copy mode snaps to keyframes)
    end: float
    kind: Literal["video", "audio", "none"] = "video"


@dataclass(frozen=True)
class ChapterSpans:
    """Output of the `chapters` stage: where the talk is and where it splits."""

    talk_start: float
    talk_end: float
    spans: tuple[tuple[float, float], ...]  # (start, end) per chapter, in order, inside the talk
    subjects: tuple[int, ...] = ()  # indices of the chapters after the first that open another subject
    # Chapters a person marked (`--chapters FILE`, the recording's own markers): their
    # titles, one per span ("" where the mark had none), and where they came from
    titles: tuple[str, ...] = ()
    given: str | None = None


@dataclass(frozen=True)
class Thumbnail:
    chapter: int  # chapter index; 0 = the session poster
    path: Path  # relative to the session folder
    time: float  # where on the source timeline the frame was taken
    width: int
    height: int


@dataclass(frozen=True)
class Session:
    """Everything known about one built session, collected before any page is written."""

    slug: str
    title: str
    media: MediaInfo
    source_sha256: str
    created: str  # ISO 8601, UTC
    transcript: Transcript
    outline: Outline
    cues: tuple[Cue, ...]
    clips: tuple[Clip, ...]
    thumbnails: tuple[Thumbnail, ...]  # chapter thumbnails; chapter 0 is the poster
    player: Path | None  # the full recording the session page plays, relative to the session folder
    audio_track: int = 0
    metadata: dict[str, str] = field(default_factory=dict)  # presenter, date, course (batch --list)
    files: dict[str, str] = field(default_factory=dict)  # name -> relative path of downloads
    slides: tuple[TimedText, ...] = ()  # what each slide said while it was shown, for search

    @property
    def chapters(self) -> tuple[Chapter, ...]:
        return self.outline.chapters
