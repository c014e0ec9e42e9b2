"""What a recording's name says: the title and date that meeting tools and recorders
write into file and folder names, and which files in a folder are a tool's extra
copies of a recording that is already there.

Zoom names a local recording `video98796876.mp4` inside a folder named
`2024-03-05 10.00.12 Weekly Training 85012345678`, and saves the sound again beside it
(`audio98796876.m4a`, one `audio<Name>98796876.m4a` per participant with separate
tracks). Its cloud downloads are `GMT20240305-100012_Recording_1920x1080.mp4` and
`GMT20240305-100012_Recording.m4a`. Teams names a recording `<Meeting title>-20240305_100012-Meeting
Recording.mp4`; OBS, `2024-03-05 10-00-12.mkv`; yt-dlp, `<Video title> [dQw4w9WgXcQ].webm`. Without this, an archive of Zoom
meetings became three sessions a meeting, titled "Video98796876" and "Audio98796876".
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

# Zoom's local folder: date, time, topic, and the meeting's ID (9-11 digits) when it has one.
_ZOOM_FOLDER = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2})\.(\d{2})\.\d{2} (.+?)(?: \d{9,11})?$")
# Zoom's local file names: video<N> (3.5 and later), zoom_<n> (before), and the sound-only copies.
_ZOOM_VIDEO = re.compile(r"^(?:video(\d+)|zoom_\d+)$", re.IGNORECASE)
_ZOOM_SOUND = re.compile(r"^(?:audio\w*?(\d+)|audio_only(?:_\d+)?)$", re.IGNORECASE)
# Zoom's cloud downloads: the meeting's start in UTC, then the view or "Recording".
_ZOOM_CLOUD = re.compile(r"^GMT(\d{8})-(\d{2})(\d{2})\d{2}_(\w+?)(?:_\d+x\d+)?$")
# Teams: "<title>-YYYYMMDD_HHMMSS-Meeting Recording" (the last part is localised).
_TEAMS = re.compile(r"^(.+?)-(\d{8})_(\d{2})(\d{2})\d{2}(?:-.*)?$")
# A recorder's time stamp, after a word or two at most: OBS's "2024-03-05 10-00-12",
# a phone's "VID_20240305_100012", macOS's "Screen Recording 2024-03-05 at 10.00.12 AM".
_STAMP = re.compile(r"^(?:(?P<what>[A-Za-z]+(?: [A-Za-z]+)?)[ _-])?(?P<y>\d{4})[-_.]?(?P<m>\d{2})[-_.]?(?P<d>\d{2})"
                    r"(?:[ _T-]| at )(?P<h>\d{1,2})[-_.:]?(?P<min>\d{2})(?:[-_.:]?\d{2})?(?: ?(?P<ampm>[AaPp][Mm]))?$")

_DATE = re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)")
# yt-dlp's "%(title)s [%(id)s]": a YouTube ID (11 characters) or Vimeo's number
_YTDLP = re.compile(r"^(.+?) \[([A-Za-z0-9_-]{11}|\d{6,12})\]$")
# the characters yt-dlp puts in a file name for the ones file systems refuse
_YTDLP_CHARS = str.maketrans({"：": ":", "⧸": "/", "⧹": "\\", "｜": "|", "？": "?", "＊": "*", "＂": '"',
                              "＜": "<", "＞": ">"})


@dataclass(frozen=True)
class NameFacts:
    """The title to show for a recording and its date (YYYY-MM-DD), when its name says."""

    title: str
    date: str | None = None


def name_facts(path: Path) -> NameFacts:
    """The title and date a recording's name gives; the title is the file name made
    readable when the name is nothing a tool is known to write."""
    path = Path(path)
    stem = path.stem
    if _ZOOM_VIDEO.match(stem) or _ZOOM_SOUND.match(stem):
        if m := _ZOOM_FOLDER.match(path.parent.name):
            date, hour, minute, topic = m.groups()
            if _valid(date.replace("-", "")):
                return NameFacts(_readable(topic), date)
    if (m := _ZOOM_CLOUD.match(stem)) and (date := _valid(m.group(1))):
        return NameFacts(f"Zoom meeting, {_spoken(date)}, {m.group(2)}:{m.group(3)} UTC", date)
    if (m := _TEAMS.match(stem)) and (date := _valid(m.group(2))):
        return NameFacts(_readable(m.group(1)), date)
    if (m := _STAMP.match(stem)) and (date := _valid(m["y"] + m["m"] + m["d"])):
        hour = int(m["h"]) % 12 + (12 if (m["ampm"] or "").lower() == "pm" else 0) if m["ampm"] else int(m["h"])
        what = m["what"] if m["what"] and " " in m["what"] else "Recording"  # "Screen Recording", not "VID"
        return NameFacts(f"{what} of {_spoken(date)}, {hour:02d}:{m['min']}", date)
    if (m := _YTDLP.match(stem)) and _video_id(m.group(2)):
        # the video's own title, as it was before yt-dlp made a file name of it, and
        # its upload date from the .info.json that --write-info-json puts beside it
        info = _info_json(path)
        title = info.get("title") if isinstance(info.get("title"), str) and info["title"].strip() else m.group(1)
        upload = info.get("upload_date")
        return NameFacts(" ".join(title.translate(_YTDLP_CHARS).split()),
                         _valid(upload) if isinstance(upload, str) and upload.isdigit() and len(upload) == 8 else None)
    found = _DATE.search(stem)
    return NameFacts(_readable(stem), _valid(found.group(0).replace("-", "")) if found else None)


def ytdlp_info_path(path: Path) -> Path:
    """Where yt-dlp's --write-info-json puts a download's .info.json."""
    return path.with_name(path.stem + ".info.json")


# What `--transcript beside` looks for next to a recording, in this order: a file of
# its own name (Whisper's CLI, a caption editor, a download of Teams' transcript),
# yt-dlp's subtitles ("<name>.en.vtt"), and Zoom's cloud transcript
# ("GMT..._Recording.transcript.vtt" beside "GMT..._Recording_1920x1080.mp4").
TRANSCRIPT_SUFFIXES = (".vtt", ".srt", ".docx", ".json")
_LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")


def transcript_beside(path: Path, language: str | None = None) -> Path | None:
    """The transcript that a tool saved beside the recording `path`, if any.

    Of yt-dlp's subtitles in several languages, those in `language` come first,
    else those in the language spoken (the one YouTube's "-orig" captions are in:
    the others are machine translations); then one without a variant ("en", the
    channel's own subtitles when it has them, before "en-orig"), WebVTT before SRT.
    """
    path = Path(path)
    own = [path.with_suffix(suffix) for suffix in TRANSCRIPT_SUFFIXES]
    if hit := next((p for p in own if p.is_file() and p != path), None):
        return hit
    try:
        siblings = [p for p in path.parent.iterdir() if p.name.startswith(path.stem + ".") and p.is_file()]
    except OSError:
        return None
    tags = {p: p.name[len(path.stem) + 1 : -len(p.suffix)] for p in siblings if p.suffix.lower() in (".vtt", ".srt")}
    tags = {p: tag for p, tag in tags.items() if _LANGUAGE_TAG.match(tag)}
    spoken = language or next((tag.split("-")[0] for tag in sorted(tags.values()) if tag.endswith("-orig")), None)
    if tags:
        return min(tags, key=lambda p: (spoken is not None and tags[p].split("-")[0] != spoken, "-" in tags[p], p.suffix.lower() != ".vtt", p.name))
    if m := _ZOOM_CLOUD.match(path.stem):
        zoom = path.with_name(f"{path.stem[: m.start(4)]}{m.group(4)}.transcript.vtt")
        if zoom.is_file():
            return zoom
    return None


def _info_json(path: Path) -> dict:
    """yt-dlp's .info.json beside a download, or {} when there is none to read."""
    info = ytdlp_info_path(path)
    try:
        if info.is_file() and info.stat().st_size < 10_000_000:
            data = json.loads(info.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        pass
    return {}


def _video_id(text: str) -> bool:
    """Whether a bracketed word looks like a video site's ID rather than a word
    ("[Transcribed]", "[recordings2]"): digits (Vimeo), or YouTube's mix of both
    cases (all but 0.2% of its IDs), or of digits with - or _."""
    if text.isdigit():
        return True
    if any(c.islower() for c in text) and any(c.isupper() for c in text):
        return not re.fullmatch(r"[A-Z][a-z]+", text)
    return any(c.isdigit() for c in text) and any(c in "-_" for c in text)


def companion_of(path: Path, names: set[str]) -> str | None:
    """When `path` is a meeting tool's sound-only copy of a recording whose video is
    in the same folder (`names`: the folder's file names), that video's name."""
    path = Path(path)
    if path.suffix.lower() != ".m4a":
        return None
    videos = sorted(n for n in names if n.lower().endswith(".mp4"))
    if m := _ZOOM_SOUND.match(path.stem):
        if m.group(1):  # audio98796876.m4a, audioJohnSmith98796876.m4a beside video98796876.mp4
            return next((n for n in videos if n.lower() == f"video{m.group(1)}.mp4"), None)
        # audio_only.m4a: Zoom before 3.5 saved one a folder, beside zoom_0.mp4, zoom_1.mp4...
        return next((n for n in videos if re.match(r"^zoom_\d+\.mp4$", n, re.IGNORECASE)), None)
    if _ZOOM_CLOUD.match(path.stem):  # GMT..._Recording.m4a beside GMT..._Recording_1920x1080.mp4
        prefix = path.stem.split("_", 1)[0] + "_"
        return next((n for n in videos if n.startswith(prefix)), None)
    return None


def _readable(text: str) -> str:
    """A name as a title: underscores and hyphens as spaces (not in a date), the first letter capital."""
    parts = _DATE.split(text)
    dates = _DATE.findall(text)
    text = "".join(p.replace("_", " ").replace("-", " ") + (dates[i] if i < len(dates) else "") for i, p in enumerate(parts))
    text = " ".join(text.split())
    return (text[:1].upper() + text[1:]) if text else "Untitled session"


def _valid(yyyymmdd: str) -> str | None:
    """YYYY-MM-DD for a real date no later than today, else None."""
    try:
        date = dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None
    return date.isoformat() if dt.date(1990, 1, 1) <= date <= dt.date.today() else None


def _spoken(iso: str) -> str:
    date = dt.date.fromisoformat(iso)
    return f"{date.day} {date:%B %Y}"
