"""`recast serve OUTDIR`: a local static server for the revisit site.

The standard library's SimpleHTTPRequestHandler knows no HTTP Range requests, and
browsers need them to seek in a video (Chromium asks for `bytes=N-` and will not
seek without a 206 answer), so this handler adds single-range support. It also
sends the MIME types the site uses (`.vtt` as `text/vtt`, `.webp`, `.m4a`) and
`Cache-Control: no-cache`, so a rebuilt site shows at once.
"""

from __future__ import annotations
import sys

import email.utils
import logging
import os
import re
import shutil
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .errors import OutputError

log = logging.getLogger(__name__)

MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".m4a": "audio/mp4",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".webm": "video/webm",
    ".webp": "image/webp",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".zip": "application/zip",
}

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024  # bytes per write


class RangeRequestHandler(SimpleHTTPRequestHandler):
    """Static files with `Range: bytes=a-b` support (one range; a multi-range
    request gets the whole file, which RFC 9110 allows)."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}
    _remaining: int | None = None

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def send_head(self):  # noqa: C901 - one request, several answers
        self._remaining = None
        path = self.translate_path(self.path)
        if os.path.isdir(path) or "Range" not in self.headers:
            return self._send_head_full()
        match = _RANGE.match(self.headers["Range"].strip().replace(" ", ""))
        if not match or not os.path.isfile(path):
            return self._send_head_full()
        if not self._if_range_ok(path):
            return self._send_head_full()
        try:
            f = open(path, "rb")
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        size = os.fstat(f.fileno()).st_size
        first, last = match.groups()
        if first == "" and last == "":
            f.close()
            return self._send_head_full()
        if first == "":  # the last N bytes
            length = int(last)
            start, end = max(0, size - length), size - 1
            if length == 0:
                start = size
        else:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
        if start >= size or start > end:
            f.close()
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        f.seek(start)
        self._remaining = end - start + 1
        self.send_response(HTTPStatus.PARTIAL_CONTENT)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(self._remaining))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Last-Modified", self.date_time_string(int(os.fstat(f.fileno()).st_mtime)))
        self.end_headers()
        return f

    def _send_head_full(self):
        f = super().send_head()
        return f

    def send_response(self, code, message=None) -> None:
        super().send_response(code, message)
        if code == HTTPStatus.OK:
            self.send_header("Accept-Ranges", "bytes")

    def _if_range_ok(self, path: str) -> bool:
        """An If-Range date that no longer matches the file means: send it all."""
        value = self.headers.get("If-Range")
        if not value:
            return True
        try:
            when = email.utils.parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError):
            return False  # an ETag: we send none, so it cannot match
        return int(os.stat(path).st_mtime) <= int(when)

    def copyfile(self, source, outputfile) -> None:
        if self._remaining is None:
            shutil.copyfileobj(source, outputfile, CHUNK)
            return
        left = self._remaining
        while left > 0:
            buf = source.read(min(CHUNK, left))
            if not buf:
                break
            outputfile.write(buf)
            left -= len(buf)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the stdlib's name
        log.info("%s %s", self.address_string(), format % args)


def make_server(outdir: Path, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """A server for OUTDIR, not yet started (port 0 picks a free port)."""
    outdir = Path(outdir)
    if not outdir.is_dir():
        raise OutputError("no such folder to serve", outdir)
    handler = partial(RangeRequestHandler, directory=str(outdir.resolve()))
    try:
        server = ThreadingHTTPServer((host, port), handler)
    except OSError as e:
        raise OutputError(f"cannot listen on {host}:{port}: {e.strerror or e}", outdir) from e
    server.daemon_threads = True
    return server


def serve(outdir: Path, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve OUTDIR at http://host:port/ until interrupted (Ctrl+C)."""
    server = make_server(outdir, host, port)
    address, real_port = server.server_address[:2]
    # The one line a user needs, not a warning: straight to stderr.
    print(f"Serving {outdir} at http://{address}:{real_port}/ (Ctrl+C stops)", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
