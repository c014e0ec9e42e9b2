"""SCORM 1.2 packages (`recast package`): the zip an LMS imports, and the pages
talking to a SCORM 1.2 API in a real browser."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import re
import threading
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from urllib.parse import unquote

import pytest
from click.testing import CliRunner

from recast.cli import main
from recast.errors import ConfigError
from recast.scorm import LAUNCH_PAGE, PACKAGE_MANIFEST, package_session

from .site_fixtures import build_session
from .test_browser import browser  # noqa: F401  (the Chromium fixture)

NS = {"cp": "http://www.imsproject.org/xsd/imscp_rootv1p1p2", "adlcp": "http://www.adlnet.org/xsd/adlcp_rootv1p2"}
SLUG = "accessible-video"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("scorm") / "site"
    build_session(out, media_cache=tmp_path_factory.mktemp("media"))
    return out


@pytest.fixture(scope="module")
def package(site, tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("pkg") / "course.zip"
    made = package_session(site / SLUG, dest)
    assert made.path == dest and made.title == "Accessible course videos"
    return dest


def test_the_package_holds_the_session_and_a_manifest_listing_every_file(site, package):
    with zipfile.ZipFile(package) as zf:
        names = set(zf.namelist())
        infos = {i.filename: i for i in zf.infolist()}
        manifest = ET.fromstring(zf.read(PACKAGE_MANIFEST))
        launch = zf.read(LAUNCH_PAGE).decode()
        library = zf.read("index.html").decode()
    # SCORM 1.2: imsmanifest.xml at the root, one SCO launched at the launch page
    assert manifest.findtext("cp:metadata/cp:schemaversion", namespaces=NS) == "1.2"
    assert manifest.findtext("cp:metadata/cp:schema", namespaces=NS) == "ADL SCORM"
    org = manifest.find("cp:organizations", NS)
    assert org.get("default") == manifest.find("cp:organizations/cp:organization", NS).get("identifier")
    item = manifest.find("cp:organizations/cp:organization/cp:item", NS)
    assert item.findtext("cp:title", namespaces=NS) == "Accessible course videos"
    resource = manifest.find("cp:resources/cp:resource", NS)
    assert resource.get("identifier") == item.get("identifierref")
    assert resource.get(f"{{{NS['adlcp']}}}scormtype") == "sco"
    assert resource.get("href") == LAUNCH_PAGE and LAUNCH_PAGE in names
    listed = {unquote(f.get("href")) for f in resource.findall("cp:file", NS)}
    assert listed == names - {PACKAGE_MANIFEST}
    # everything the session folder holds, under its own name, plus the shared assets
    session = {f"{SLUG}/{p.relative_to(site / SLUG).as_posix()}" for p in (site / SLUG).rglob("*") if p.is_file()}
    assert session and session <= names
    assert {"_static/recast.js", "_static/recast.css", "_static/scorm.js"} <= names
    assert not any(n.startswith("/") or ".." in n.split("/") for n in names)
    # the launch page frames the session page; the library links to it
    assert f'src="{SLUG}/index.html"' in launch and '_static/scorm.js' in launch
    assert f'href="{SLUG}/index.html"' in library
    # video is stored as it is, pages are compressed
    assert infos[f"{SLUG}/media/recording.mp4"].compress_type == zipfile.ZIP_STORED
    assert infos[f"{SLUG}/index.html"].compress_type == zipfile.ZIP_DEFLATED


def test_package_refuses_what_is_not_one_session_and_keeps_the_old_zip(site, package, tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="not a recast session folder"):
        package_session(empty, tmp_path / "a.zip")
    with pytest.raises(ConfigError, match=r"site folder of 1 session.*accessible-video"):
        package_session(site, tmp_path / "a.zip")
    with pytest.raises(ConfigError, match="is a folder"):
        package_session(site / SLUG, tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        package_session(site / SLUG, tmp_path / "missing" / "a.zip")
    with pytest.raises(ConfigError, match="inside the session"):
        package_session(site / SLUG, site / SLUG / "a.zip")
    assert not list(tmp_path.glob("*.zip"))

    # A write that fails half-way leaves the earlier package whole and no temporary.
    dest = tmp_path / "course.zip"
    dest.write_bytes(package.read_bytes())
    real_write = zipfile.ZipFile.write

    def failing_write(self, filename, *args, **kwargs):
        if str(filename).endswith(".mp4"):
            raise OSError(28, "No space left on device")
        return real_write(self, filename, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "write", failing_write)
    with pytest.raises(Exception, match="No space left"):
        package_session(site / SLUG, dest)
    assert dest.read_bytes() == package.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["course.zip", "empty"]


def test_package_command(site, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["package", str(site / SLUG)])
    assert result.exit_code == 0, result.output
    assert "accessible-video-scorm.zip: SCORM 1.2 package" in result.output
    assert zipfile.ZipFile(tmp_path / "accessible-video-scorm.zip").testzip() is None

    result = CliRunner().invoke(main, ["package", str(site), "-o", "x.zip"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {site}: is a site folder of 1 session")
    assert not (tmp_path / "x.zip").exists()


# A SCORM 1.2 run-time as an LMS provides it: the API object in the window around
# the content, values kept in `cmi`, every call logged, and every call the standard
# forbids (before LMSInitialize, after LMSFinish, a value outside its vocabulary or
# format) listed in `wrong`. `seed` is what the LMS kept from an earlier launch;
# `popup` opens the content in a new window instead of a frame.
LMS_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>LMS</title><script>
var seed = JSON.parse(decodeURIComponent(location.hash.slice(1) || '%7B%7D'));
var popup = !!seed.popup; delete seed.popup;
window.cmi = Object.assign({'cmi.core.lesson_status': 'not attempted', 'cmi.core.lesson_mode': 'normal',
                            'cmi.suspend_data': ''}, seed);
window.calls = []; window.wrong = [];
var state = 'new';
var formats = {
  'cmi.core.lesson_status': /^(passed|completed|failed|incomplete|browsed|not attempted)$/,
  'cmi.core.exit': /^(time-out|suspend|logout|)$/,
  'cmi.core.session_time': /^\\d{2,4}:\\d{2}:\\d{2}(\\.\\d{1,2})?$/,
  'cmi.suspend_data': /^[\\s\\S]{0,4096}$/
};
function live(name) { if (state !== 'open') { wrong.push(name + ' while ' + state); return false; } return true; }
window.API = {
  LMSInitialize: function () { calls.push(['LMSInitialize']); if (state !== 'new') { wrong.push('LMSInitialize while ' + state); return 'false'; } state = 'open'; return 'true'; },
  LMSGetValue: function (k) { calls.push(['LMSGetValue', k]); return live('LMSGetValue ' + k) ? (cmi[k] || '') : ''; },
  LMSSetValue: function (k, v) {
    calls.push(['LMSSetValue', k, v]);
    if (!live('LMSSetValue ' + k)) return 'false';
    if (!formats[k] || !formats[k].test(String(v))) { wrong.push('LMSSetValue ' + k + ' = ' + v); return 'false'; }
    cmi[k] = String(v); return 'true';
  },
  LMSCommit: function () { calls.push(['LMSCommit']); return live('LMSCommit') ? 'true' : 'false'; },
  LMSFinish: function () { calls.push(['LMSFinish']); if (!live('LMSFinish')) return 'false'; state = 'finished'; return 'true'; },
  LMSGetLastError: function () { return '0'; }, LMSGetErrorString: function () { return ''; },
  LMSGetDiagnostic: function () { return ''; }
};
window.addEventListener('DOMContentLoaded', function () {
  if (popup) { window.player = window.open('pkg/scorm.html', 'player'); return; }
  var f = document.createElement('iframe');
  f.id = 'sco'; f.src = 'pkg/scorm.html'; f.style.width = '1200px'; f.style.height = '900px';
  document.body.appendChild(f);
});
</script></head><body></body></html>"""


@pytest.fixture(scope="module")
def lms(package, tmp_path_factory):
    """The package unpacked on a web server beside the LMS page (SCORM content and
    the LMS share an origin; file:// pages may not reach each other's frames)."""
    root = tmp_path_factory.mktemp("lms")
    with zipfile.ZipFile(package) as zf:
        zf.extractall(root / "pkg")
    (root / "lms.html").write_text(LMS_PAGE, encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/lms.html"
    server.shutdown()


def _content(page):
    return page.frame_locator("#sco").frame_locator("iframe.scorm-frame")


def _seeded(lms: str, values: dict) -> str:
    return lms + "#" + json.dumps(values).replace("%", "%25").replace("#", "%23")


@pytest.mark.browser
@pytest.mark.slow
def test_the_lms_records_progress_completion_and_gives_it_back_on_another_device(browser, lms):  # noqa: F811
    ctx = browser.new_context()
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(lms)
    content = _content(page)
    content.locator("h1").wait_for()
    page.wait_for_function("window.cmi['cmi.core.lesson_status'] === 'incomplete'")
    assert page.evaluate("calls[0]") == ["LMSInitialize"]
    # suspend from the start: a browser may drop what a closing page sends
    assert page.evaluate("cmi['cmi.core.exit']") == "suspend"
    chapters = content.locator("#chapters a.chapter__open")
    hrefs = [chapters.nth(i).get_attribute("href") for i in range(chapters.count())]
    assert len(hrefs) == 3
    for n, href in enumerate(hrefs, 1):
        content.locator(f"a[href='{href}']").first.click()
        content.locator("#mark-done").click()
        page.wait_for_function(f"JSON.parse(window.cmi['cmi.suspend_data'] || '{{}}').c[{n}]")
        status = page.evaluate("cmi['cmi.core.lesson_status']")
        assert status == ("completed" if n == 3 else "incomplete")
        content.locator("a[href='../index.html']").first.click()
        content.locator("h1").wait_for()
    saved = json.loads(page.evaluate("cmi['cmi.suspend_data']"))
    assert saved["s"] == SLUG and saved["c"] == {"1": [1], "2": [1], "3": [1]}
    assert page.evaluate("calls.filter(c => c[0] === 'LMSInitialize').length") == 1  # one connection for the launch
    # Leaving closes the connection: session time, commit, finish, and nothing after.
    page.evaluate("document.getElementById('sco').remove()")
    page.wait_for_function("calls.some(c => c[0] === 'LMSFinish')")
    assert re.fullmatch(r"\d{2,4}:\d{2}:\d{2}", page.evaluate("cmi['cmi.core.session_time']"))
    assert page.evaluate("cmi['cmi.core.exit']") == "suspend"  # some LMSs drop suspend_data after any other exit
    assert page.evaluate("calls[calls.length - 1]") == ["LMSFinish"]
    assert page.evaluate("wrong") == [] and errors == []
    ctx.close()

    # Another device (empty localStorage): the LMS gives back what it kept.
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(_seeded(lms, {"cmi.core.lesson_status": "incomplete",
                            "cmi.suspend_data": json.dumps({"v": 1, "s": SLUG, "c": {"1": [1], "2": [0, 7]}, "p": 25})}))
    content = _content(page)
    content.locator("#chapters").wait_for()
    done = content.locator("#chapters li.chapter--done")
    done.first.wait_for()
    assert done.count() == 1
    assert "1 of 3 chapters done" in content.locator(".progress__text").first.inner_text()
    assert "Resume at 0:25" in content.locator("#resume").inner_text()
    assert page.evaluate("wrong") == []
    ctx.close()


@pytest.mark.browser
@pytest.mark.slow
def test_a_player_window_finds_the_api_through_its_opener_and_a_preview_is_only_browsed(browser, lms):  # noqa: F811
    ctx = browser.new_context()
    page = ctx.new_page()
    with page.expect_popup() as opened:
        page.goto(_seeded(lms, {"popup": True}))
    popup = opened.value
    popup.frame_locator("iframe.scorm-frame").locator("h1").wait_for()
    page.wait_for_function("cmi['cmi.core.lesson_status'] === 'incomplete'")
    assert page.evaluate("calls[0]") == ["LMSInitialize"]
    popup.close()
    page.wait_for_function("calls.some(c => c[0] === 'LMSFinish')")
    assert page.evaluate("wrong") == []
    ctx.close()

    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(_seeded(lms, {"cmi.core.lesson_mode": "browse"}))
    content = _content(page)
    content.locator("a.chapter__open").first.click()
    content.locator("#mark-done").click()
    content.locator("#mark-done[aria-pressed='true']").wait_for()
    assert page.evaluate("cmi['cmi.core.lesson_status']") == "browsed"
    assert page.evaluate("cmi['cmi.suspend_data']") == ""  # a preview records no progress
    assert page.evaluate("wrong") == []
    ctx.close()


def test_a_renamed_folder_and_a_long_title_still_give_a_valid_manifest(site, tmp_path):
    folder = tmp_path / "Week 3 (recursion)"
    shutil.copytree(site / SLUG, folder)
    data = json.loads((folder / "session.json").read_text(encoding="utf-8"))
    data["title"] = "A very long title " * 20
    data.pop("source", None)  # no hash to name the package by
    (folder / "session.json").write_text(json.dumps(data), encoding="utf-8")
    made = package_session(folder, tmp_path / "p.zip")
    with zipfile.ZipFile(made.path) as zf:
        manifest = ET.fromstring(zf.read(PACKAGE_MANIFEST))
        names = set(zf.namelist())
    assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", manifest.get("identifier"))
    assert len(manifest.findtext("cp:organizations/cp:organization/cp:item/cp:title", namespaces=NS)) == 200
    listed = {f.get("href") for f in manifest.iter(f"{{{NS['cp']}}}file")}
    assert "Week%203%20%28recursion%29/index.html" in listed and "Week 3 (recursion)/index.html" in names
