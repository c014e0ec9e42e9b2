"""Putting finished sessions into OUTDIR: slugs, the lock, atomic publication.

A session is built in `OUTDIR/.recast-work/<slug>-XXXX/` and renamed into
`OUTDIR/<slug>/` only when complete, so a reader (or a learner's browser) never
sees half a session, and a crash leaves only the work folder, which the next run
clears.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import re
import secrets
import shutil
import unicodedata
from pathlib import Path

from .errors import OutputError, TransientError

log = logging.getLogger(__name__)

WORK_DIR = ".recast-work"
LOCK_FILE = ".recast.lock"
_MAX_SLUG_BYTES = 60  # leaves room for suffixes; file names fail beyond 255 bytes


def slugify(text: str, max_bytes: int = _MAX_SLUG_BYTES, *, fallback: str = "session") -> str:
    """ASCII, lowercase, hyphenated; never empty, never `.`/`..`, at most `max_bytes`
    (so `"../../etc/passwd"` becomes `"etc-passwd"` and every name fits on disk)."""
    norm = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", norm.lower()).strip("-")
    if len(slug) > max_bytes:
        cut = slug[:max_bytes]
        # End on a word boundary when one is reasonably close.
        slug = (cut.rsplit("-", 1)[0] if "-" in cut[max_bytes // 2 :] else cut).strip("-")
    return slug or fallback


def inside(root: Path, path: Path) -> Path:
    """`path`, after checking that it lies inside `root` (no `..` escapes)."""
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise OutputError(f"refusing to write outside the output folder: {path}", root)
    return path


def choose_slug(outdir: Path, title: str, source_sha256: str) -> str:
    """The folder name for a session: its title's slug, unless another recording
    already lives there, in which case -2, -3... A rebuild of the same recording
    reuses its folder."""
    base = slugify(title)
    for n in range(1, 1000):
        slug = base if n == 1 else f"{base}-{n}"
        manifest = outdir / slug / "session.json"
        if not (outdir / slug).exists():
            return slug
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # not ours or unreadable: leave it alone
        if data.get("source", {}).get("sha256") == source_sha256:
            return slug
    raise OutputError(f"too many sessions named {base!r}", outdir)


def make_outdir(outdir: Path) -> bool:
    """Create OUTDIR if needed; return True when this call created it."""
    if outdir.exists() and not outdir.is_dir():
        raise OutputError("exists and is not a folder", outdir)
    created = not outdir.exists()
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create the output folder: {e.strerror}", outdir) from e
    return created


def new_work_dir(outdir: Path, slug: str) -> Path:
    """A fresh folder to build `slug` in, with the permissions the user's umask gives
    (tempfile.mkdtemp would make it 0700, and the published session would then be
    unreadable to a web server running as another user)."""
    root = outdir / WORK_DIR
    root.mkdir(exist_ok=True)
    while True:
        work = root / f"{slug}-{secrets.token_hex(4)}"
        try:
            work.mkdir()
            return work
        except FileExistsError:
            continue


def publish(work: Path, dest: Path) -> None:
    """Move a complete session folder into place, replacing an older build of it."""
    old = None
    if dest.exists():
        old = work.parent / f"old-{dest.name}-{os.getpid()}"
        os.replace(dest, old)
    os.replace(work, dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def discard(work: Path | None) -> None:
    if work is not None:
        shutil.rmtree(work, ignore_errors=True)
        remove_work_root(work.parent)


def remove_work_root(root: Path) -> None:
    """Remove OUTDIR/.recast-work once nothing is being built in it."""
    try:
        root.rmdir()
    except OSError:
        pass  # another worker is still building, or it is already gone


def clear_stale_work(outdir: Path) -> None:
    """Remove work folders left by killed runs (we hold the lock, so none is live)."""
    root = outdir / WORK_DIR
    if root.is_dir():
        for child in root.iterdir():
            shutil.rmtree(child, ignore_errors=True)


class OutdirLock:
    """An exclusive lock on OUTDIR, held by one recast process at a time.

    flock(2) on a file beside the outputs: the kernel drops it when the holder
    dies, even by kill -9, so a stale lock can never block the next run.
    """

    def __init__(self, outdir: Path):
        self.path = outdir / LOCK_FILE
        self._fd: int | None = None

    def __enter__(self) -> "OutdirLock":
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            holder = os.pread(self._fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(self._fd)
            self._fd = None
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise OutputError(
                    f"another recast run (pid {holder}) is writing to this folder; wait for it to finish", self.path.parent
                ) from None
            raise OutputError(f"cannot lock the output folder: {e.strerror}", self.path.parent) from e
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"{os.getpid()}\n".encode(), 0)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def check_disk_error(e: OSError, path: Path) -> None:
    """Turn a full disk into a retryable error."""
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        raise TransientError("the disk is full", path) from e
