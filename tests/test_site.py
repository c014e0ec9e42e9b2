"""The revisit site's pages, library and local server (no browser: see test_browser.py)."""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recast import site
from recast.errors import OutputError
from recast.models import Chapter, Segment, Word
from recast.serve import make_server

from .site_fixtures import SLIDE_LINK, XSS, build_session


# ----------------------------------------------------------------- helpers


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []  # (tag, attr, value)
        self.scripts: list[str] = []
        self._in_json = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for attr in ("href", "src", "poster"):
            if a.get(attr) is not None:
                self.refs.append((tag, attr, a[attr]))
        self._in_json = tag == "script" and a.get("type") == "application/json"

    def handle_data(self, data):
        if self._in_json:
            self.scripts.append(data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_json = False


def parse(path: Path) -> _Links:
    p = _Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def page_data(path: Path) -> dict:
    return json.loads(parse(path).scripts[0])


@pytest.fixture(scope="module")
def media_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture()
def outdir(tmp_path) -> Path:
    """Two sessions without media files (fast), and the library."""
    out = tmp_path / "site"
    build_session(out, with_media=False)
    build_session(out, "payload", "Payload", xss=True, course="Security 101", date="2024-06-01", with_media=False)
    site.write_library(out)
    return out


@pytest.fixture(scope="module")
def full_site(tmp_path_factory, media_cache) -> Path:
    """One session with its real recording, clips and thumbnails."""
    out = tmp_path_factory.mktemp("full") / "site"
    build_session(out, media_cache=media_cache)
    site.write_library(out)
    return out


# ----------------------------------------------------------------- escaping


def test_every_template_autoescapes():
    env = site.environment()
    assert env.autoescape is True
    for name in env.list_templates(extensions=["html"]):
        rendered = env.from_string("{{ x }}").render(x="<b>")
        assert rendered == "&lt;b&gt;", name


def test_script_json_escapes_what_could_end_the_script():
    value = {"t": XSS + " <!-- & \u2028 \u2029 >", "n": [1, 2.5]}
    text = str(site.script_json(value))
    for bad in ("<", ">", "&", "\u2028", "\u2029"):
        assert bad not in text
    assert json.loads(text) == value


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                    max_leaves=12))
def test_script_json_round_trips_anything(value):
    text = str(site.script_json(value))
    assert "<" not in text and "\u2028" not in text
    assert json.loads(text) == value


def test_payload_is_text_in_every_page(outdir):
    for page in (outdir / "payload").rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "<img src=x" not in html, page
        assert "&lt;/script&gt;&lt;img src=x" in html, page  # shown as text
    # The embedded data still carries it, escaped, and decodes back to it.
    data = page_data(outdir / "payload" / "index.html")
    assert data["chapters"][0]["title"].endswith(XSS)
    assert any(XSS in line[2] for line in data["lines"])
    lib = (outdir / "index.html").read_text(encoding="utf-8")
    assert "<img src=x" not in lib
    js = (outdir / "payload" / "search.js").read_text(encoding="utf-8")
    assert "</script>" not in js and "<img" not in js


# ----------------------------------------------------------------- paths


def test_chapter_page_path_is_numbered_and_ascii():
    ch = Chapter(index=3, start=0, end=60, title="Q&A: Über die Zukunft / the end?")
    assert site.chapter_page_path(ch) == "chapters/03-q-a-uber-die-zukunft-the-end.html"
    assert site.chapter_page_path(Chapter(index=12, start=0, end=1, title="!!!")) == "chapters/12-chapter.html"


def test_static_prefix_matches_page_depth(outdir):
    lib = parse(outdir / "index.html")
    assert ("link", "href", "_static/recast.css") in lib.refs
    assert ("script", "src", "_static/recast.js") in lib.refs
    sess = parse(outdir / "accessible-video" / "index.html")
    assert ("link", "href", "../_static/recast.css") in sess.refs
    for page in (outdir / "accessible-video" / "chapters").glob("*.html"):
        p = parse(page)
        assert ("link", "href", "../../_static/recast.css") in p.refs
        assert ("script", "src", "../../_static/recast.js") in p.refs
        assert ("a", "href", "../../index.html") in p.refs
        assert ("a", "href", "../index.html") in p.refs


@pytest.mark.slow
def test_every_local_reference_exists(full_site):
    pages = list(full_site.rglob("*.html"))
    assert len(pages) == 1 + 1 + 3
    checked = 0
    for page in pages:
        for tag, attr, ref in parse(page).refs:
            parts = urlsplit(ref)
            assert not parts.scheme and not parts.netloc, (page, ref)
            if not parts.path:
                continue  # "#main"
            target = (page.parent / unquote(parts.path)).resolve()
            assert target.is_file(), f"{page.relative_to(full_site)}: {tag} {attr}={ref}"
            checked += 1
    assert checked > 40


def test_chapter_without_clip_plays_the_recording_with_a_fragment(outdir):
    html = next((outdir / "accessible-video" / "chapters").glob("03-*.html")).read_text(encoding="utf-8")
    assert 'src="../media/recording.mp4#t=40,58"' in html
    html1 = next((outdir / "accessible-video" / "chapters").glob("01-*.html")).read_text(encoding="utf-8")
    assert 'src="../clips/01.mp4"' in html1
    data = page_data(next((outdir / "accessible-video" / "chapters").glob("01-*.html")))
    assert data["offset"] == 2.0 and data["start"] == 2.0 and data["end"] == 20.0
    assert all(2.0 <= ln[0] < 20.0 for ln in data["lines"]) and data["lines"]


@pytest.mark.slow
def test_no_outside_urls_in_generated_files(full_site):
    checked = 0
    for path in full_site.rglob("*"):
        if path.suffix in (".html", ".js", ".css", ".json"):
            # a link a slide shows is the session's content, searchable text, never fetched
            text = path.read_text(encoding="utf-8").replace(SLIDE_LINK, "")
            assert not re.search(r"(?i)https?:", text), path
            assert not re.search(r"""(?:src|href)=["']//""", text), path  # protocol-relative
            checked += 1
    assert checked >= 8


# ----------------------------------------------------------------- session page content


def test_session_page_has_what_a_learner_needs(outdir):
    path = outdir / "accessible-video" / "index.html"
    html = path.read_text(encoding="utf-8")
    assert '<html lang="en">' in html
    assert '<video id="player" class="player__media" controls preload="metadata"' in html
    assert "autoplay" not in html
    for landmark in ("<header", "<main", "<footer", "<aside"):
        assert landmark in html
    assert 'class="skip-link" href="#main"' in html
    assert html.count('class="chapter__seek" data-seek=') == 3
    assert "Questions from the session" in html and "How long should each clip be?" in html
    assert 'href="captions.vtt" download' in html and 'href="clips/01.mp4" download' in html
    assert 'href="clips/02.srt" download' in html
    data = page_data(path)
    assert data["page"] == "session" and data["slug"] == "accessible-video"
    assert len(data["chapters"]) == 3 and data["chapters"][0]["page"].startswith("chapters/01-")
    assert len(data["cues"]) > 10
    words = sum(len(ln[2].split()) for ln in data["lines"])
    assert 150 < words < 300
    # Headings in order: one h1, then h2s (h3 only under an h2).
    levels = [int(m) for m in re.findall(r"<h([1-6])\b", html)]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:]))
    assert 'placeholder="A word or phrase spoken or shown in this session"' in html
    # A chapter page's search box searches that chapter, and says so.
    chapter = (outdir / "accessible-video" / data["chapters"][0]["page"]).read_text(encoding="utf-8")
    assert "Search this chapter" in chapter and 'placeholder="A word or phrase spoken or shown in this chapter"' in chapter
    second = (outdir / "accessible-video" / data["chapters"][1]["page"]).read_text(encoding="utf-8")
    assert 'placeholder="A word or phrase spoken in this chapter"' in second  # it shows no slide
    # the chapter's own terms, as learners search for them
    manifest = json.loads((outdir / "accessible-video" / "session.json").read_text(encoding="utf-8"))
    terms = manifest["chapters"][0]["keywords"]
    assert terms and "<h3>Terms</h3>" in chapter
    assert all(f"<li>{escape(k)}</li>" in chapter for k in terms)


def test_segment_line_word_offsets_point_at_the_words():
    words = (Word(1.0, 1.4, " Hello"), Word(1.5, 1.9, " lighthouse,"), Word(2.0, 2.2, " world."))
    text, marks = site.segment_line(Segment(1.0, 2.2, " Hello lighthouse, world.", words))
    assert text == "Hello lighthouse, world."
    pairs = list(zip(marks[::2], marks[1::2]))
    assert [text[o:].split()[0] for o, _ in pairs] == ["Hello", "lighthouse,", "world."]
    assert [t for _, t in pairs] == [1.0, 1.5, 2.0]


def test_format_helpers():
    assert site.format_time(75.4) == "1:15" and site.format_time(3725) == "1:02:05"
    assert site.format_duration(42) == "42 s" and site.format_duration(5400) == "1 h 30 min"
    assert site.format_date("2024-05-02T10:00:00Z") == "2 May 2024"
    assert site.page_lang("de") == "de" and site.page_lang("x<y") == "en"


# ----------------------------------------------------------------- library


def test_library_lists_sessions_from_their_manifests(outdir):
    cards = site.library_cards(outdir)
    assert [c.slug for c in cards] == ["payload", "accessible-video"]  # newest first
    card = cards[1]
    assert card.title == "Accessible course videos" and card.chapter_count == 3
    assert card.poster == "accessible-video/thumbs/poster.webp" and card.duration == 60.0
    assert card.search == "accessible-video/search.js"
    html = (outdir / "index.html").read_text(encoding="utf-8")
    assert html.count('class="session-card"') == 2
    assert 'href="accessible-video/index.html"' in html and "2 May 2024" in html
    assert "Security 101" in html and 'id="course-filter"' in html  # grouped by course
    data = page_data(outdir / "index.html")
    assert {s["search"] for s in data["sessions"]} == {"accessible-video/search.js", "payload/search.js"}


def test_library_is_rebuilt_when_a_session_is_added(tmp_path):
    out = tmp_path / "site"
    build_session(out, with_media=False)
    site.write_library(out)
    assert (out / "index.html").read_text(encoding="utf-8").count('class="session-card"') == 1
    build_session(out, "second-talk", "Second talk", date="2024-07-01", with_media=False)
    site.write_library(out)
    html = (out / "index.html").read_text(encoding="utf-8")
    assert html.count('class="session-card"') == 2 and "Second talk" in html
    assert html.index("Second talk") < html.index("Accessible course videos")
    assert not list(out.glob(".index.html.*"))  # no temporary files left


def test_library_skips_a_broken_manifest(tmp_path, caplog):
    out = tmp_path / "site"
    build_session(out, with_media=False)
    (out / "junk").mkdir()
    (out / "junk" / "session.json").write_text("{not json", encoding="utf-8")
    site.write_library(out)
    assert [c.slug for c in site.library_cards(out)] == ["accessible-video"]
    assert "junk" in caplog.text
    with pytest.raises(OutputError):
        site.load_manifest(out / "junk" / "session.json")


def test_empty_library(tmp_path):
    site.write_library(tmp_path)
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "No sessions yet" in html and (tmp_path / "_static" / "recast.js").is_file()
    assert "<code>recast run recording.mp4 -o this-folder</code>" in html  # a command that exists


def test_rebuild_removes_stale_chapter_pages(tmp_path):
    out = tmp_path / "site"
    build_session(out, with_media=False)
    stale = out / "accessible-video" / "chapters" / "07-old-title.html"
    stale.write_text("old", encoding="utf-8")
    keep = out / "accessible-video" / "chapters" / "notes.txt"
    keep.write_text("mine", encoding="utf-8")
    build_session(out, with_media=False)
    assert not stale.exists() and keep.exists()
    assert len(list((out / "accessible-video" / "chapters").glob("*.html"))) == 3


def test_search_index_is_a_script_pushing_the_session(outdir):
    js = (outdir / "accessible-video" / "search.js").read_text(encoding="utf-8")
    prefix = "(window.RECAST_SEARCH = window.RECAST_SEARCH || []).push("
    assert js.startswith(prefix) and js.rstrip().endswith(");")
    index = json.loads(js[len(prefix):js.rstrip().rindex(")")])
    assert index["slug"] == "accessible-video"
    assert any("lighthouse" in text for _, text in index["lines"])


# ----------------------------------------------------------------- server


@pytest.fixture()
def server(tmp_path):
    (tmp_path / "a.vtt").write_text("WEBVTT\n\n", encoding="utf-8")
    (tmp_path / "v.mp4").write_bytes(bytes(range(256)) * 40)  # 10240 bytes
    srv = make_server(tmp_path, port=0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def _get(url, headers=None, method="GET"):
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def test_server_mime_types_and_ranges(server):
    status, headers, body = _get(server + "/a.vtt")
    assert status == 200 and headers["Content-Type"].startswith("text/vtt")
    status, headers, body = _get(server + "/v.mp4")
    assert status == 200 and headers["Content-Type"] == "video/mp4" and headers["Accept-Ranges"] == "bytes"
    assert len(body) == 10240
    status, headers, body = _get(server + "/v.mp4", {"Range": "bytes=100-199"})
    assert status == 206 and headers["Content-Range"] == "bytes 100-199/10240"
    assert body == (bytes(range(256)) * 40)[100:200]
    status, headers, body = _get(server + "/v.mp4", {"Range": "bytes=10000-"})
    assert status == 206 and len(body) == 240 and headers["Content-Range"] == "bytes 10000-10239/10240"
    status, headers, body = _get(server + "/v.mp4", {"Range": "bytes=-16"})
    assert status == 206 and body == (bytes(range(256)) * 40)[-16:]
    status, headers, _ = _get(server + "/v.mp4", {"Range": "bytes=20000-"})
    assert status == 416 and headers["Content-Range"] == "bytes */10240"
    status, headers, body = _get(server + "/v.mp4", {"Range": "bytes=0-1,5-6"})
    assert status == 200 and len(body) == 10240  # multi-range: the whole file
    status, headers, body = _get(server + "/v.mp4", {"Range": "bytes=0-9"}, method="HEAD")
    assert status == 206 and headers["Content-Length"] == "10" and body == b""
    status, _, _ = _get(server + "/../../etc/passwd")
    assert status == 404


def test_make_server_refuses_a_missing_folder(tmp_path):
    with pytest.raises(OutputError):
        make_server(tmp_path / "nope", port=0)
