"""Finding and running ffmpeg safely.

The system's ffmpeg is used when present, else the static build that the
`imageio-ffmpeg` wheel ships (no ffprobe there: probing goes through PyAV).
Every call gets `-nostdin` and runs with a watchdog, and inputs are opened
with only the `file` protocol allowed, so a playlist that points elsewhere is refused.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any, Sequence

from .errors import MediaError

log = logging.getLogger(__name__)

# Only local files: an HLS/concat "video" must not make us open URLs or other files.
SAFE_INPUT = ["-protocol_whitelist", "file,pipe"]


@functools.cache
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary: RECAST_FFMPEG, the system's, or imageio-ffmpeg's."""
    explicit = os.environ.get("RECAST_FFMPEG")
    if explicit:
        return explicit
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg
    except ImportError as e:  # pragma: no cover - it is a hard dependency
        raise MediaError("ffmpeg not found: install ffmpeg or the imageio-ffmpeg package") from e
    return imageio_ffmpeg.get_ffmpeg_exe()


def input_path(path: Path) -> str:
    """An argv item for a file: absolute and `file:`-prefixed, so a name that starts
    with `-` or contains `:` is never read as an option or a protocol."""
    return "file:" + str(Path(path).resolve())


def open_media(path: Path, **kwargs: Any) -> Any:
    """PyAV's container for a local file, opened by its `file:` name (`input_path`)
    and with no protocol but `file`, so nothing inside the file can make it read
    another file or the network."""
    import av  # here, so `recast --help` stays instant

    return av.open(input_path(path), options={"protocol_whitelist": "file"}, **kwargs)


def run_ffmpeg(
    args: Sequence[str],
    *,
    path: Path | None = None,
    timeout: float | None = None,
    what: str = "ffmpeg",
) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg with `args` (everything after the binary), raising MediaError with
    ffmpeg's last stderr lines on failure. The whole process group is killed on timeout."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", *args]
    log.debug("running %s", " ".join(cmd))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise MediaError(f"{what} took longer than {timeout:.0f} s and was stopped", path) from None
    except BaseException:
        _kill_group(proc)
        raise
    if proc.returncode != 0:
        raise MediaError(f"{what} failed: {last_lines(err)}", path)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def last_lines(stderr: bytes, n: int = 2) -> str:
    lines = [l.strip() for l in stderr.decode("utf-8", "replace").splitlines() if l.strip()]
    return " / ".join(lines[-n:]) if lines else "no message"
