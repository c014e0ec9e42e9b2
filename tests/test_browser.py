"""The revisit site in a real browser: Debian's Chromium, headless, through Playwright.

Pages are opened from disk (file://), the hardest case. The site under test is
a real build of samples/webinar.mp4 by default (the `built_sample` fixture, shared
with the end-to-end tests); RECAST_BROWSER_SITE=synthetic uses the quick hand-made
site of tests/site_fixtures.py, and a path tests any built OUTDIR.
Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from .site_fixtures import XSS, build_session

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
FOCUSABLE = ('a[href], button:not([disabled]), input:not([type="hidden"]):not([disabled]), select:not([disabled]), '
             'textarea:not([disabled]), video[controls], audio[controls], [tabindex]')


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed; browser tests need it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def outdir(request, tmp_path_factory) -> Path:
    """The site under test: the real sample build, or synthetic / a path (RECAST_BROWSER_SITE)."""
    choice = os.environ.get("RECAST_BROWSER_SITE", "sample")
    if choice == "sample":
        return Path(request.getfixturevalue("built_sample").folder).parent
    if choice != "synthetic":
        return Path(choice)
    from recast.site import write_library

    out = tmp_path_factory.mktemp("browser") / "site"
    build_session(out, media_cache=tmp_path_factory.mktemp("media"))
    write_library(out)
    return out


@pytest.fixture(scope="module")
def xss_site(tmp_path_factory) -> Path:
    from recast.site import write_library

    out = tmp_path_factory.mktemp("xss") / "site"
    build_session(out, "payload", "Payload", xss=True, course="Security 101", media_cache=tmp_path_factory.mktemp("m"))
    write_library(out)
    return out


@pytest.fixture(scope="module")
def manifest(outdir) -> dict:
    first = sorted(outdir.glob("*/session.json"))[0]
    data = json.loads(first.read_text(encoding="utf-8"))
    data["_dir"] = first.parent
    return data


class Watch:
    """Console errors, page errors, dialogs and every request a page makes."""

    def __init__(self, page):
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: r.url.startswith(("file:", "data:", "blob:")) or self.outside.append(r.url))
        page.on("dialog", self._dialog)
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                   else (self.outside.append(route.request.url), route.abort()))

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def check(self):
        assert not self.errors, self.errors
        assert not self.outside, self.outside
        assert not self.dialogs, self.dialogs


@pytest.fixture()
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    yield ctx
    ctx.close()


def open_page(context, path: Path):
    page = context.new_page()
    watch = Watch(page)
    page.goto(path.resolve().as_uri())
    page.wait_for_selector("html[data-ready]")
    return page, watch


def wait_js(page, expression: str, timeout: float = 30000) -> None:
    """Wait until a JavaScript expression is true in the page. Given a bare expression,
    Playwright evaluates it with eval() on every poll after the first, which the pages'
    Content-Security-Policy forbids (no 'unsafe-eval'): one not yet true at the first
    look failed the test on a slow machine. A function is compiled once, outside it."""
    page.wait_for_function(f"() => ({expression})", timeout=timeout)


def wait_metadata(page):
    wait_js(page, "document.getElementById('player') && document.getElementById('player').readyState >= 1",
            timeout=15000)


def current_time(page) -> float:
    return page.evaluate("document.getElementById('player').currentTime")


def spoken_word(page) -> tuple[str, float]:
    """A distinctive word from the middle of the transcript, said there for the first
    time (so the first search hit is that line), and its line's start."""
    lines = page.evaluate("JSON.parse(document.getElementById('recast-data').textContent).lines")
    middle = len(lines) // 2
    for i in list(range(middle, len(lines))) + list(range(middle)):
        earlier = " ".join(line[2] for line in lines[:i]).lower()
        words = [w for w in re.findall(r"[A-Za-z]{7,}", lines[i][2]) if w.lower() not in earlier]
        if words:
            return max(words, key=len), lines[i][0]
    pytest.skip("the transcript has no long word to search for")


# ----------------------------------------------------------------- tests


def test_pages_load_clean_from_disk(context, outdir, manifest):
    folder = manifest["_dir"]
    pages = [outdir / "index.html", folder / "index.html"] + [folder / ch["page"] for ch in manifest["chapters"]]
    for path in pages:
        page, watch = open_page(context, path)
        if page.query_selector("#player"):
            wait_metadata(page)
        page.wait_for_timeout(200)
        watch.check()
        assert page.title()
        page.close()


def test_h264_plays_here(context, manifest):
    page, watch = open_page(context, manifest["_dir"] / "index.html")
    kind = page.evaluate("""document.createElement('video').canPlayType('video/mp4; codecs="avc1.42E01E, mp4a.40.2"')""")
    assert kind in ("probably", "maybe"), "this Chromium cannot play H.264/AAC MP4"
    wait_metadata(page)
    assert page.evaluate("document.getElementById('player').duration") > 1
    watch.check()


@pytest.mark.parametrize("video, web_video", [("libvpx-vp9", "wide"), ("libsvtav1", "modern")])
def test_smart_cut_webm_clips_play_through_their_join(context, tmp_path, video, web_video):
    # A smart-cut WebM clip joins frames encoded here to the source's own packets:
    # Chromium must decode every frame across that join, not stop at it.
    from recast.clips import make_clips
    from recast.config import Options
    from recast.ffmpeg import ffmpeg_exe
    from recast.models import Chapter
    from recast.probe import probe

    src = tmp_path / "src.webm"
    coding = ["-preset", "12"] if video == "libsvtav1" else ["-deadline", "realtime", "-cpu-used", "8", "-b:v", "1M"]
    made = subprocess.run([ffmpeg_exe(), "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=10",
                           "-f", "lavfi", "-i", "sine=d=10", "-c:v", video, *coding, "-g", "50", "-pix_fmt", "yuv420p",
                           "-c:a", "libopus", str(src)], capture_output=True)
    if made.returncode:
        pytest.skip(f"this ffmpeg cannot encode {video}")
    clips = make_clips(probe(src), [Chapter(1, 0.0, 3.3, "A"), Chapter(2, 3.3, 10.0, "B")], None, tmp_path / "clips",
                       Options(web_video=web_video))
    clip = clips[1]  # starts 0.7 s before a keyframe: 17 frames encoded here, the rest copied
    assert clip.path.suffix == ".webm"
    (tmp_path / "play.html").write_text(f'<video id="v" muted src="clips/{clip.path.name}"></video>')
    page = context.new_page()
    watch = Watch(page)
    page.goto((tmp_path / "play.html").as_uri())
    result = page.evaluate("""() => new Promise(done => {
        const v = document.getElementById('v');
        v.onerror = () => done({error: v.error.code});
        v.onended = () => done({frames: v.getVideoPlaybackQuality().totalVideoFrames, time: v.currentTime});
        const go = () => { v.playbackRate = 4; v.play(); };
        if (v.readyState >= 1) go(); else v.onloadedmetadata = go;
        setTimeout(() => done({stuck: v.currentTime}), 20000);
    })""")
    assert result.get("frames") == round((clip.end - clip.start) * 25), result
    watch.check()


def test_chapter_click_seeks_to_its_start(context, manifest):
    page, watch = open_page(context, manifest["_dir"] / "index.html")
    wait_metadata(page)
    for ch in manifest["chapters"][1:3]:
        page.click(f'li.chapter[data-chapter="{ch["index"]}"] .chapter__seek')
        wait_js(page, f"Math.abs(document.getElementById('player').currentTime - {ch['start']}) < 0.5", timeout=5000)
        page.evaluate("document.getElementById('player').pause()")
        wait_js(page,
                f"document.querySelector('li.chapter[data-chapter=\"{ch['index']}\"]').classList.contains('chapter--current')")
    watch.check()


def test_playback_skips_a_break_between_chapters(context, tmp_path_factory):
    # Chapter 2 ends at 28 s and chapter 3 starts at 45 s: the 17 s between them is
    # a break recast left out. Playing on from chapter 2 jumps over it, and says so.
    out = tmp_path_factory.mktemp("break") / "site"
    build_session(out, "with-break", "With a break", media_cache=tmp_path_factory.mktemp("media"),
                  spans=((2.0, 20.0), (20.0, 28.0), (45.0, 58.0)))
    from recast.site import write_library

    write_library(out)  # and the shared scripts beside it
    page, watch = open_page(context, out / "with-break" / "index.html")
    wait_metadata(page)
    page.evaluate("var p = document.getElementById('player'); p.muted = true; p.currentTime = 26.5; p.play()")
    import time

    deadline = time.monotonic() + 8  # the break alone would take 17 s to play
    while current_time(page) < 45 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert 45 <= current_time(page) < 50  # jumped, not played through the break
    assert page.locator("#now-playing").inner_text().startswith("Skipped a break of 0:17. Chapter 3 of 3")
    assert page.locator('li.chapter[data-chapter="3"]').get_attribute("class").count("chapter--current") == 1
    page.evaluate("document.getElementById('player').pause()")
    watch.check()


def test_the_player_starts_at_the_talk_after_a_long_wait(context, tmp_path_factory):
    # 15 s of waiting for people to join before the talk: pressing play starts the
    # talk; the sample (talk from 4.3 s) starts at 0.
    out = tmp_path_factory.mktemp("wait") / "site"
    build_session(out, "late-start", "Late start", media_cache=tmp_path_factory.mktemp("media"),
                  spans=((15.0, 30.0), (30.0, 45.0), (45.0, 58.0)))
    from recast.site import write_library

    write_library(out)
    page, watch = open_page(context, out / "late-start" / "index.html")
    wait_metadata(page)
    assert current_time(page) == pytest.approx(15.0, abs=0.2)
    # the download is the whole recording, without the fragment
    assert page.get_attribute("#player", "src").endswith("recording.mp4#t=15")
    assert page.locator('a[download][href$="recording.mp4"]').count() >= 1
    watch.check()


def test_a_recording_of_sound_only_shows_its_player(context, sample, tmp_path_factory):
    # An .mp3 with album art: the art is the poster, and the audio controls are
    # there to press (Chromium drew a block <audio> of `height: auto` 0 px high).
    import recast
    from recast.config import Options
    from recast.ffmpeg import ffmpeg_exe

    work = tmp_path_factory.mktemp("podcast")
    cover, mp3 = work / "cover.png", work / "episode.mp3"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-ss", "10", "-i", str(sample),
                    "-frames:v", "1", str(cover)], check=True, timeout=60)
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(sample), "-i", str(cover),
                    "-map", "0:a", "-map", "1:v", "-c:a", "libmp3lame", "-b:a", "64k", "-c:v", "png",
                    "-disposition:v", "attached_pic", str(mp3)], check=True, timeout=120)
    result = recast.process(mp3, work / "site", Options(clips="none"))
    assert (result.folder / "thumbs" / "poster.webp").is_file()
    pages = [result.folder / "index.html", next((result.folder / "chapters").glob("*.html"))]
    for path in pages:
        page, watch = open_page(context, path)
        wait_metadata(page)
        box = page.locator("#player").bounding_box()
        assert box and box["height"] >= 30 and box["width"] >= 200, (path.name, box)
        watch.check()
    page, _ = open_page(context, pages[0])
    assert page.locator(".player__poster").bounding_box()["height"] > 100


def test_captions_are_built_from_embedded_cues(context, manifest):
    page, watch = open_page(context, manifest["_dir"] / "index.html")
    wait_metadata(page)
    assert page.evaluate("document.getElementById('player').textTracks[0].cues.length") > 0
    assert page.evaluate("document.getElementById('player').textTracks[0].mode") == "showing"
    page.click("#captions-toggle")
    assert page.evaluate("document.getElementById('player').textTracks[0].mode") == "hidden"
    assert page.get_attribute("#captions-toggle", "aria-pressed") == "false"
    page.keyboard.press("c")
    assert page.evaluate("document.getElementById('player').textTracks[0].mode") == "showing"
    # the chapter page's track is shifted onto the clip's own timeline
    chapter = manifest["chapters"][0]
    page2, watch2 = open_page(context, manifest["_dir"] / chapter["page"])
    wait_metadata(page2)
    first = page2.evaluate("document.getElementById('player').textTracks[0].cues[0].startTime")
    assert 0 <= first < (chapter["end"] - chapter["start"])
    watch.check()
    watch2.check()


def test_transcript_line_click_seeks(context, manifest):
    page, watch = open_page(context, manifest["_dir"] / "index.html")
    wait_metadata(page)
    lines = page.query_selector_all("#transcript button.line")
    assert len(lines) > 5
    target = lines[len(lines) // 2]
    index = int(target.get_attribute("data-i"))
    start = page.evaluate(f"JSON.parse(document.getElementById('recast-data').textContent).lines[{index}][0]")
    target.click()
    wait_js(page, f"Math.abs(document.getElementById('player').currentTime - {start}) < 0.5", timeout=5000)
    page.evaluate("document.getElementById('player').pause()")
    wait_js(page, f"document.querySelector('#transcript button.line[data-i=\"{index}\"]')"
                  ".classList.contains('line--current')")
    watch.check()


def test_follow_along_keeps_the_current_line_inside_the_window(context, manifest):
    # 1280x800 with the page not scrolled: the sticky sidebar's bottom lies below the
    # window, and the line being said must not be scrolled into that hidden part.
    page, watch = open_page(context, manifest["_dir"] / "index.html")
    wait_metadata(page)
    lines = page.evaluate("JSON.parse(document.getElementById('recast-data').textContent).lines")
    bottom = page.evaluate("document.getElementById('transcript').getBoundingClientRect().bottom")
    height = page.evaluate("innerHeight")
    if bottom <= height:
        pytest.skip("the transcript box fits in the window at this size")
    for i in (len(lines) // 2, len(lines) - 1):
        page.evaluate(f"document.getElementById('player').currentTime = {lines[i][0] + 0.05}")
        page.wait_for_function(f"() => document.querySelector('#transcript button.line[data-i=\"{i}\"]')"
                               ".classList.contains('line--current')")
        rect = page.evaluate(f"(() => {{ const r = document.querySelector('#transcript button.line[data-i=\"{i}\"]')"
                             ".getBoundingClientRect(); return [r.top, r.bottom]; })()")
        assert 0 <= rect[0] and rect[1] <= height, (i, rect, height)
    watch.check()


def test_on_a_phone_a_transcript_line_brings_the_player_into_view(browser, manifest):
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    page, watch = open_page(ctx, manifest["_dir"] / "index.html")
    wait_metadata(page)
    lines = page.query_selector_all("#transcript button.line")
    target = lines[len(lines) // 2]
    target.scroll_into_view_if_needed()
    in_view = "() => { const r = document.getElementById('player').getBoundingClientRect();" \
              " return r.bottom > 48 && r.top < innerHeight - 48; }"
    assert not page.evaluate(in_view)  # the transcript lies below the player here
    target.click()
    page.wait_for_function(in_view, timeout=5000)
    page.evaluate("document.getElementById('player').pause()")
    watch.check()
    ctx.close()


def test_search_finds_a_spoken_word_and_jumps_to_it(context, manifest):
    page, watch = open_page(context, manifest["_dir"] / "index.html")
    wait_metadata(page)
    word, line_start = spoken_word(page)
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search"
    page.keyboard.type(word.lower())
    page.wait_for_selector("#search-hits button.hit")
    assert word.lower() in page.inner_text("#search-hits").lower()
    assert "match" in page.inner_text("#search-status")
    page.click("#search-hits button.hit >> nth=0")
    wait_js(page, f"document.getElementById('player').currentTime >= {line_start} - 0.5", timeout=5000)
    page.evaluate("document.getElementById('player').pause()")
    t = current_time(page)
    assert t < line_start + 30
    current = page.inner_text("#transcript .line--current")
    assert word.lower() in current.lower() or t >= line_start - 0.5
    watch.check()


def test_search_that_finds_nothing_as_typed_tries_the_word_without_its_ending(context, manifest):
    page, watch = open_page(context, manifest["_dir"] / "index.html")
    lines = page.evaluate("JSON.parse(document.getElementById('recast-data').textContent).lines")
    text = " ".join(line[2] for line in lines).lower()
    if "volcanoes" not in text or "volcanos" in text:
        pytest.skip("the sample's transcript does not say 'volcanoes'")
    page.fill("#search", "volcanos")
    page.wait_for_selector("#search-hits button.hit")
    status = page.inner_text("#search-status")
    assert "volcano" in status and "nothing for" in status, status
    assert "volcano" in page.inner_text("#search-hits mark").lower()
    page.fill("#search", "xylophones")
    page.wait_for_function("() => document.getElementById('search-status').textContent.startsWith('No matches')")
    watch.check()


def slide_word(manifest) -> tuple[str, dict]:
    """A word on a slide that the transcript never says (not even inside a longer
    word), and the first slide that shows it."""
    transcript = json.loads((manifest["_dir"] / manifest["transcript"]).read_text(encoding="utf-8"))
    said = " ".join(seg["text"] for seg in transcript["segments"]).lower()
    if os.environ.get("RECAST_BROWSER_SITE", "sample") == "sample":
        assert manifest["slides"], "the sample's slides were not read"
    for slide in manifest["slides"]:
        for word in re.findall(r"[A-Za-z]{5,}", slide["text"]):
            if word.lower() not in said:
                return word.lower(), slide
    pytest.skip("no slide shows a word that is not said")


def test_search_finds_a_word_shown_only_on_a_slide(context, manifest):
    word, slide = slide_word(manifest)
    page, watch = open_page(context, manifest["_dir"] / "index.html")
    wait_metadata(page)
    assert "spoken or shown" in page.get_attribute("#search", "placeholder")
    page.fill("#search", word)
    page.wait_for_selector("#search-hits button.hit--slide")
    first = page.locator("#search-hits button.hit >> nth=0")
    assert first.locator(".hit__kind").inner_text() == "Slide"
    assert word in first.locator("mark").first.inner_text().lower()
    assert "on slides" in page.inner_text("#search-status")
    page.keyboard.press("Enter")  # plays the first hit: when the slide came up
    wait_js(page, f"Math.abs(document.getElementById('player').currentTime - {slide['start']}) < 0.5", timeout=5000)
    page.evaluate("document.getElementById('player').pause()")
    watch.check()

    # the chapter on screen then finds it too, and so does the library
    chapter = max(manifest["chapters"], key=lambda c: min(c["end"], slide["end"]) - max(c["start"], slide["start"]))
    page, watch = open_page(context, manifest["_dir"] / chapter["page"])
    wait_metadata(page)
    page.fill("#search", word)
    page.wait_for_selector("#search-hits button.hit--slide")
    # its "On the slides" list plays from when a slide came up
    button = page.locator(".slide-text__seek", has_text=slide["text"].split("\n")[0]).first
    t = float(button.get_attribute("data-seek"))
    button.click()
    wait_js(page, f"Math.abs(document.getElementById('player').currentTime + {chapter.get('clip_start', 0)} - {t}) < 0.5",
            timeout=5000)
    page.evaluate("document.getElementById('player').pause()")
    watch.check()
    page, watch = open_page(context, manifest["_dir"].parent / "index.html")
    page.fill("#library-search", word)
    page.wait_for_selector("#library-hits .result__hits a")
    link = page.locator("#library-hits .result__hits a", has_text="Slide:").first
    href = link.get_attribute("href")
    assert re.search(r"index\.html#t=[\d.]+$", href) and float(href.rsplit("=", 1)[1]) == pytest.approx(slide["start"]), href
    assert "slide" in page.inner_text("#library-hits .result__meta")
    watch.check()


def test_library_search_links_to_the_moment(context, outdir, manifest):
    page, watch = open_page(context, outdir / "index.html")
    session_page, _ = open_page(context, manifest["_dir"] / "index.html")
    word, line_start = spoken_word(session_page)
    session_page.close()
    page.fill("#library-search", word)
    page.wait_for_selector("#library-hits .result__hits a")
    href = page.get_attribute("#library-hits .result__hits a >> nth=0", "href")
    assert re.search(r"index\.html#t=[\d.]+$", href), href
    page.click("#library-hits .result__hits a >> nth=0")
    page.wait_for_selector("html[data-ready]")
    wait_metadata(page)
    t = float(href.rsplit("=", 1)[1])
    wait_js(page, f"Math.abs(document.getElementById('player').currentTime - {t}) < 0.5", timeout=5000)
    assert page.evaluate("document.getElementById('player').paused")  # no autoplay
    watch.check()


def test_mark_as_done_survives_reload_and_shows_in_library(context, outdir, manifest):
    chapter = manifest["chapters"][0]
    page, watch = open_page(context, manifest["_dir"] / chapter["page"])
    assert page.get_attribute("#mark-done", "aria-pressed") == "false"
    assert page.inner_text("#mark-done") == "Mark as done"
    page.click("#mark-done")
    assert page.get_attribute("#mark-done", "aria-pressed") == "true"
    # The state is said in words too, not only by the button's colours.
    assert page.inner_text("#mark-done") == "\u2713 Done"
    assert page.get_attribute("#mark-done", "aria-label") == "Mark as done"
    page.reload()
    page.wait_for_selector("html[data-ready]")
    assert page.get_attribute("#mark-done", "aria-pressed") == "true"
    assert page.inner_text("#mark-done") == "\u2713 Done"
    page.goto((manifest["_dir"] / "index.html").resolve().as_uri())
    page.wait_for_selector("html[data-ready]")
    assert page.is_visible(f'li.chapter[data-chapter="{chapter["index"]}"] .chapter__done')
    assert f"1 of {len(manifest['chapters'])} chapters done" in page.inner_text(".intro [data-progress]")
    page.goto((outdir / "index.html").resolve().as_uri())
    page.wait_for_selector("html[data-ready]")
    card = page.locator(f'.session-card[data-slug="{manifest["slug"]}"]')
    assert f"1 of {len(manifest['chapters'])} chapters done" in card.inner_text()
    assert card.locator(".session-card__continue").is_visible()
    watch.check()


def test_xss_payload_stays_text(context, xss_site):
    for rel in ("index.html", "payload/index.html", "payload/chapters/" + sorted(
            p.name for p in (xss_site / "payload" / "chapters").glob("*.html"))[0]):
        page, watch = open_page(context, xss_site / rel)
        page.wait_for_timeout(300)
        assert page.evaluate("window.__xss") is None
        assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
        assert XSS in page.inner_text("body")
        if rel == "payload/index.html":
            page.fill("#search", "onerror")
            page.wait_for_selector("#search-hits button.hit--slide")  # what a slide says, too
            assert "onerror" in page.inner_text("#search-hits button.hit--slide")
            assert "onerror" in page.inner_text("#search-hits button.hit:not(.hit--slide)")
        if rel == "index.html":
            page.fill("#library-search", "onerror")
            page.wait_for_selector("#library-hits .result")
            assert "onerror" in page.inner_text("#library-hits")
            assert "Slide:" in page.inner_text("#library-hits")
        page.wait_for_timeout(200)
        assert page.evaluate("window.__xss") is None
        watch.check()
        page.close()


def _tab_through(page) -> list[str]:
    """Tab through the page; return the focusable controls that Tab never reached."""
    ids = page.evaluate(
        """(sel) => {
          const out = [];
          document.querySelectorAll(sel).forEach((el, i) => {
            if (el.tabIndex < 0 || el.closest('[hidden]') || !el.getClientRects().length) return;
            const st = getComputedStyle(el);
            if (st.visibility === 'hidden' || st.display === 'none') return;
            el.dataset.tabid = String(i);
            out.push(String(i));
          });
          return out;
        }""", FOCUSABLE)
    assert ids
    seen: set[str] = set()
    page.evaluate("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
    for _ in range(len(ids) * 8 + 40):  # a <video> holds several internal controls
        page.keyboard.press("Tab")
        got = page.evaluate("document.activeElement && document.activeElement.dataset.tabid || null")
        if got:
            seen.add(got)
        if seen >= set(ids):
            break
    missing = [i for i in ids if i not in seen]
    return [page.evaluate(f"document.querySelector('[data-tabid=\"{i}\"]').outerHTML.slice(0, 120)") for i in missing]


def test_keyboard_reaches_every_control(context, outdir, manifest):
    for path in (outdir / "index.html", manifest["_dir"] / "index.html",
                 manifest["_dir"] / manifest["chapters"][0]["page"]):
        page, watch = open_page(context, path)
        assert _tab_through(page) == [], path
        # focus is visible: a 3px outline on the focused control
        page.evaluate("document.activeElement.blur()")
        page.keyboard.press("Tab")
        assert page.evaluate("getComputedStyle(document.activeElement).outlineWidth") == "3px"
        watch.check()
        page.close()


def test_keyboard_shortcuts(context, manifest):
    page, watch = open_page(context, manifest["_dir"] / "index.html")
    wait_metadata(page)
    chapters = manifest["chapters"]
    page.keyboard.press("n")
    wait_js(page, f"Math.abs(document.getElementById('player').currentTime - {chapters[0]['start']}) < 0.5"
            if chapters[0]["start"] > 0.5 else
            f"Math.abs(document.getElementById('player').currentTime - {chapters[1]['start']}) < 0.5")
    page.keyboard.press("n")
    page.keyboard.press("Shift+ArrowLeft")
    page.keyboard.press("k")
    wait_js(page, "!document.getElementById('player').paused", timeout=5000)
    page.keyboard.press("k")
    wait_js(page, "document.getElementById('player').paused")
    shortcuts = page.inner_text(".keys")
    for key in ("k", "n", "p", "c", "/"):
        assert key in shortcuts
    watch.check()


def test_playback_speed_is_chosen_once_for_the_whole_site(context, manifest):
    page, watch = open_page(context, manifest["_dir"] / "index.html")
    wait_metadata(page)
    rate = "document.getElementById('player').playbackRate"
    assert page.evaluate(rate) == 1
    page.select_option("#speed", "1.5")
    assert page.evaluate(rate) == 1.5
    # the shortcuts step through the list, and say so to a screen reader
    page.locator("#transcript").focus()
    page.keyboard.press(">")
    assert page.evaluate(rate) == 1.75
    assert page.input_value("#speed") == "1.75"
    assert page.inner_text("#speed-status") == "Speed 1.75\u00d7"
    page.keyboard.press("<")
    page.keyboard.press("<")
    assert page.evaluate(rate) == 1.25
    # the native player's own menu sets a speed the list lacks: the list follows it
    page.evaluate("document.getElementById('player').playbackRate = 3")
    wait_js(page, "document.getElementById('speed').value === '3'")
    page.evaluate("document.getElementById('player').playbackRate = 1.25")
    wait_js(page, "document.getElementById('speed').value === '1.25'")
    assert "Slower or faster" in page.inner_text(".keys")
    # a chapter page opens at the speed chosen, and keeps it while playing
    chapter, watch2 = open_page(context, manifest["_dir"] / manifest["chapters"][0]["page"])
    wait_metadata(chapter)
    assert chapter.input_value("#speed") == "1.25"
    assert chapter.evaluate(rate) == 1.25
    chapter.keyboard.press("k")
    wait_js(chapter, "!document.getElementById('player').paused", timeout=5000)
    assert chapter.evaluate(rate) == 1.25
    watch.check()
    watch2.check()


def test_a_link_to_the_moment_playing_opens_the_page_there(context, manifest):
    page, watch = open_page(context, manifest["_dir"] / "index.html")
    wait_metadata(page)
    last = manifest["chapters"][-1]
    at = round(min(last["start"] + 2.0, (last["start"] + last["end"]) / 2), 1)
    page.evaluate(f"document.getElementById('player').currentTime = {at}")
    page.click("#copy-moment")
    wait_js(page, "document.getElementById('copy-moment-status').textContent !== ''")
    link = page.get_attribute("#copy-moment", "data-link")
    assert link.endswith(f"#t={at:g}"), link
    # copied, or where the clipboard is out of reach, in the address bar to copy from
    assert page.evaluate("location.hash") == f"#t={at:g}"
    status = page.inner_text("#copy-moment-status")
    assert status.startswith(("Link copied", "Copy the address bar")), status
    # the link opens the page at that moment
    other, watch2 = open_page(context, manifest["_dir"] / "index.html")
    other.goto(link)
    other.wait_for_selector("html[data-ready]")
    wait_metadata(other)
    wait_js(other, f"Math.abs(document.getElementById('player').currentTime - {at}) < 0.3")
    # on a chapter page the link holds the session's time, as the library's links do
    chapter = manifest["chapters"][0]
    cpage, watch3 = open_page(context, manifest["_dir"] / chapter["page"])
    wait_metadata(cpage)
    cpage.evaluate("document.getElementById('player').currentTime = 1.0")
    cpage.click("#copy-moment")
    wait_js(cpage, "document.getElementById('copy-moment-status').textContent !== ''")
    assert cpage.get_attribute("#copy-moment", "data-link").endswith(f"#t={round(chapter['start'] + 1.0, 1):g}")
    for w in (watch, watch2, watch3):
        w.check()


@pytest.fixture(scope="module")
def synthetic_site(tmp_path_factory) -> Path:
    from recast.site import write_library

    out = tmp_path_factory.mktemp("synthetic") / "site"
    media = tmp_path_factory.mktemp("m")
    build_session(out, media_cache=media)
    build_session(out, "long-name", "GMT20240305-100012_Recording_1920x1080_team_sync_final_v2", media_cache=media)
    write_library(out)
    return out


def test_nothing_unbreakable_widens_a_phone_page(browser, synthetic_site):
    """Slides carry links and commands with nowhere to break: on a phone they wrap
    in the search hits, the library's results and the chapter page. So does a title
    made from a file name, on every page that shows it."""
    ctx = browser.new_context(viewport={"width": 360, "height": 740})
    for rel in ("long-name/index.html", "long-name/chapters"):
        path = synthetic_site / rel
        page, watch = open_page(ctx, sorted(path.glob("*.html"))[0] if path.is_dir() else path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, rel
        watch.check()
        page.close()
    for rel, box, query in (("accessible-video/index.html", "search-hits", "understanding"),
                            ("index.html", "library-hits", "understanding"), ("accessible-video/chapters", None, None)):
        path = synthetic_site / rel
        page, watch = open_page(ctx, sorted(path.glob("*.html"))[0] if path.is_dir() else path)
        if box:
            page.fill("#search" if box == "search-hits" else "#library-search", query)
            page.wait_for_selector(f"#{box} li")
            assert "captions-prerecorded" in page.inner_text(f"#{box}")
            assert page.evaluate(f"(() => {{ const b = document.getElementById('{box}'); return b.scrollWidth <= b.clientWidth; }})()")
        else:
            assert "captions-prerecorded" in page.inner_text(".slide-texts")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, rel
        watch.check()
        page.close()
    ctx.close()


def test_layout_and_screenshots(browser, outdir, manifest):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    folder = manifest["_dir"]
    pages = {"library": outdir / "index.html", "session": folder / "index.html",
             "chapter": folder / manifest["chapters"][0]["page"]}
    for width, height, tag in ((1280, 800, "desktop"), (360, 740, "phone")):
        ctx = browser.new_context(viewport={"width": width, "height": height})
        for name, path in pages.items():
            page, watch = open_page(ctx, path)
            if page.query_selector("#player"):
                wait_metadata(page)
            page.wait_for_timeout(300)
            # no horizontal scrolling at 360 px
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, tag)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{tag}.png"))
            if tag == "desktop":
                page.screenshot(path=str(SCREENSHOTS / f"{name}-{tag}-full.png"), full_page=True)
            watch.check()
            page.close()
        ctx.close()
    assert len(list(SCREENSHOTS.glob("*.png"))) >= 6


def test_print_shows_the_transcript_with_chapter_headings(context, manifest):
    page, watch = open_page(context, manifest["_dir"] / "index.html")
    page.emulate_media(media="print")
    assert not page.is_visible("#player")
    assert page.is_visible("#transcript .transcript__heading")
    assert page.evaluate("getComputedStyle(document.getElementById('transcript')).maxHeight") == "none"
    headings = page.locator("#transcript .transcript__heading").all_inner_texts()
    assert len(headings) >= len(manifest["chapters"])
    watch.check()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width, height", [(1280, 800), (390, 844)])
def test_axe_finds_no_accessibility_violations(browser, outdir, manifest, scheme, width, height):
    # axe-core's WCAG 2.x A/AA rules (contrast included) on every kind of page, in
    # both colour schemes, at laptop and phone width, with search results open and a
    # chapter marked as done.
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright", reason="axe-playwright-python is not installed")
    axe = axe_module.Axe()
    ctx = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)
    chapter = manifest["_dir"] / manifest["chapters"][0]["page"]
    checks = [
        (outdir / "index.html", None),
        (outdir / "index.html", lambda page: (page.fill("#library-search", "the"), page.wait_for_selector("#library-hits li"))),
        (manifest["_dir"] / "index.html", None),
        (manifest["_dir"] / "index.html", lambda page: (page.fill("#search", "the"), page.wait_for_selector("#search-hits button.hit"))),
        (chapter, lambda page: page.click("#mark-done")),
    ]
    for path, action in checks:
        page, watch = open_page(ctx, path)
        if action is not None:
            action(page)
        # preload off: axe would fetch the stylesheets itself, which the pages' CSP refuses
        violations = axe.run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
                                            "preload": False}).response["violations"]
        assert not violations, [(v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]]) for v in violations]
        watch.check()
        page.close()
    ctx.close()
