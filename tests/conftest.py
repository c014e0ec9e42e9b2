"""Shared fixtures: small real media made with ffmpeg, the bundled sample, and
one real build of the sample that the end-to-end and browser tests share."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "webinar.mp4"


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep tests away from the user's ~/.cache/recast (CI sets its own)."""
    if "RECAST_CACHE_DIR" not in os.environ:
        os.environ["RECAST_CACHE_DIR"] = str(tmp_path_factory.mktemp("recast-cache"))


def ffmpeg(*args: str) -> None:
    from recast.ffmpeg import ffmpeg_exe

    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny real media files, good and bad, made once per test session."""
    d = tmp_path_factory.mktemp("media")
    out = {
        "video": d / "video.mp4",
        "noaudio": d / "no audio.mp4",
        "audio": d / "tone.m4a",
        "two_tracks": d / "two-tracks.mkv",
    }
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=6", "-f", "lavfi", "-i", "sine=f=440:d=6",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(out["video"]))
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=4", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", str(out["noaudio"]))
    ffmpeg("-f", "lavfi", "-i", "sine=f=330:d=5", "-c:a", "aac", str(out["audio"]))
    ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=3", "-f", "lavfi", "-i", "anoisesrc=d=3:a=0.1",
           "-map", "0", "-map", "1", "-c:a", "aac", str(out["two_tracks"]))
    data = out["video"].read_bytes()
    out["truncated"] = d / "truncated.mp4"
    out["truncated"].write_bytes(data[: len(data) // 2])
    out["empty"] = d / "empty.mp4"
    out["empty"].write_bytes(b"")
    out["text"] = d / "notes.mp4"
    out["text"].write_text("These are my meeting notes, not a video.\n" * 20)
    out["playlist"] = d / "playlist.mp4"
    out["playlist"].write_text("#EXTM3U\n#EXTINF:10,\nhttp://example.invalid/a.ts\n")
    out["missing"] = d / "does-not-exist.mp4"
    out["directory"] = d
    return out


@pytest.fixture(scope="session")
def sample() -> Path:
    if not SAMPLE.is_file():
        pytest.fail(f"the bundled sample {SAMPLE} is missing")
    return SAMPLE


@pytest.fixture(scope="session")
def built_sample(tmp_path_factory: pytest.TempPathFactory, sample: Path):
    """One real build of the bundled sample with the real default model."""
    import recast

    outdir = tmp_path_factory.mktemp("site")
    result = recast.process(sample, outdir, recast.Options(title="Sample webinar"))
    return result
