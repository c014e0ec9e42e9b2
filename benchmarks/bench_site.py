"""How fast the revisit site is with a large archive.

Generates an OUTDIR with N sessions (default 100, about an hour of speech each, a
slide a minute) and one 3-hour session (~30,000 words), writes the pages with
recast.site, then opens
them from disk in Debian's headless Chromium and measures, in the page, with
performance.now():

  * the session page of the 3-hour recording: DOMContentLoaded, time until the
    script has built the transcript (the `recast-ready` mark), search latency,
    and the cost of one current-line update (the timeupdate handler);
  * the library page: DOMContentLoaded, ready, time to load all N search indexes,
    and search latency across all sessions (first query and later ones).

    python benchmarks/bench_site.py [--sessions 100] [--words 9000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from recast.models import (  # noqa: E402
    AudioStream, Chapter, Cue, MediaInfo, Outline, Question, Segment, Session, TimedText, Transcript, Word,
)
from recast.site import write_library, write_session_pages  # noqa: E402

VOCAB = (
    "the a of to and in that is for it as with be on not this but by from they we you an are or "
    "which one all would there their will when who make can time if about people more some them other "
    "these new year only could know learners course video chapter caption transcript module lesson quiz "
    "feedback assessment rubric teacher student platform design research evidence practice example "
    "question answer slide screen recording microphone summary keyword timeline session webinar "
    "accessibility contrast keyboard subtitle engagement retention attention motivation curriculum "
    "objective outcome workload deadline grading discussion forum project portfolio reflection "
    "collaboration onboarding analytics dashboard privacy consent storage backup archive search"
).split()


def fake_session(slug: str, title: str, words: int, rng: random.Random, course: str | None) -> Session:
    t, segments, cues = 5.0, [], []
    while sum(len(s.words) for s in segments) < words:
        n = rng.randint(8, 22)
        ws = []
        for _ in range(n):
            d = rng.uniform(0.22, 0.45)
            ws.append(Word(t, t + d * 0.9, " " + rng.choice(VOCAB)))
            t += d
        text = "".join(w.word for w in ws)
        segments.append(Segment(ws[0].start, ws[-1].end, text, tuple(ws)))
        for k in range(0, n, 7):
            part = ws[k:k + 7]
            cues.append(Cue(part[0].start, part[-1].end, ("".join(w.word for w in part).strip(),)))
        t += rng.uniform(0.2, 1.5)
    duration = t + 5
    n_ch = max(3, int(duration // 420))
    step = (duration - 10) / n_ch
    chapters = tuple(
        Chapter(i + 1, 5 + i * step, 5 + (i + 1) * step, f"Part {i + 1}: {rng.choice(VOCAB)} and {rng.choice(VOCAB)}",
                summary=" ".join(rng.choice(VOCAB) for _ in range(25)).capitalize() + ".",
                keywords=tuple(rng.sample(VOCAB, 3)), key_points=("One point.", "Another point."))
        for i in range(n_ch)
    )
    outline = Outline(chapters, 5.0, duration - 5, summary=" ".join(rng.choice(VOCAB) for _ in range(40)) + ".",
                      key_points=("A key point.",), keywords=tuple(rng.sample(VOCAB, 5)),
                      questions=(Question(duration / 2, "What about the deadline?", duration / 2 + 2, duration / 2 + 30),))
    media = MediaInfo(Path("recording.mp4"), 1, "mov,mp4", duration, 0.0,
                      (AudioStream(0, 1, "aac", 1, 44100, 0.0, duration),), True, 1280, 720, 25.0, "h264")
    meta = {"presenter": "A. Presenter", "date": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"}
    if course:
        meta["course"] = course
    # a slide a minute, a title and four bullets each, as recast reads them for search
    slides = tuple(TimedText(s0, min(s0 + 60.0, duration), "\n".join(
        [f"{rng.choice(VOCAB).capitalize()} and {rng.choice(VOCAB)}"]
        + [" ".join(rng.choice(VOCAB) for _ in range(rng.randint(5, 10))).capitalize() for _ in range(4)]))
        for s0 in (5.0 + 60.0 * k for k in range(int((duration - 10) // 60) + 1)))
    return Session(slug, title, media, "0" * 64, meta["date"] + "T09:00:00Z",
                   Transcript(tuple(segments), "en", 1.0, "bench", "none", duration), outline, tuple(cues),
                   (), (), Path("media/recording.mp4"), metadata=meta, files={}, slides=slides)


def manifest(session: Session) -> dict:
    from recast.site import chapter_page_path

    return {
        "schema": "recast.session/1", "slug": session.slug, "title": session.title, "created": session.created,
        "source": {"file": "recording.mp4", "sha256": session.source_sha256, "duration": session.media.duration},
        "language": "en", "summary": session.outline.summary, "keywords": list(session.outline.keywords),
        "poster": None, "player": "media/recording.mp4", "metadata": session.metadata,
        "chapters": [{"index": c.index, "title": c.title, "start": c.start, "end": c.end, "page": chapter_page_path(c)}
                     for c in session.chapters],
    }


def build(outdir: Path, n: int, words: int, big_words: int, media: Path | None) -> dict[str, float]:
    rng = random.Random(7)
    timings = {}
    t0 = time.perf_counter()
    for i in range(n):
        s = fake_session(f"session-{i:03d}", f"Session {i}: {rng.choice(VOCAB)} in practice", words, rng,
                         f"Course {i % 5 + 1}")
        folder = outdir / s.slug
        write_session_pages(s, folder)
        (folder / "session.json").write_text(json.dumps(manifest(s)), encoding="utf-8")
    timings["write_archive_s"] = time.perf_counter() - t0
    big = fake_session("three-hours", "A three-hour workshop", big_words, rng, "Course 1")
    folder = outdir / big.slug
    t0 = time.perf_counter()
    write_session_pages(big, folder)
    timings["write_3h_session_s"] = time.perf_counter() - t0
    (folder / "session.json").write_text(json.dumps(manifest(big)), encoding="utf-8")
    if media:
        (folder / "media").mkdir(exist_ok=True)
        shutil.copyfile(media, folder / "media" / "recording.mp4")
    t0 = time.perf_counter()
    write_library(outdir)
    timings["write_library_s"] = time.perf_counter() - t0
    timings["3h_page_kb"] = (folder / "index.html").stat().st_size / 1000
    timings["3h_lines"] = len(big.transcript.segments)
    timings["3h_words"] = sum(len(s.words) for s in big.transcript.segments)
    timings["search_indexes_mb"] = sum(p.stat().st_size for p in outdir.glob("*/search.js")) / 1e6
    return timings


NAV = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const ready = performance.getEntriesByName('recast-ready')[0];
  const start = performance.getEntriesByName('recast-start')[0];
  return {response_end_ms: nav.responseEnd, dom_interactive_ms: nav.domInteractive,
          script_start_ms: start ? start.startTime : null,
          dcl_ms: nav.domContentLoadedEventEnd, load_ms: nav.loadEventEnd, ready_ms: ready ? ready.startTime : null};
}"""


def measure(outdir: Path) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    out: dict[str, float] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto((outdir / "three-hours" / "index.html").as_uri(), wait_until="load")
        page.wait_for_selector("html[data-ready]")
        for k, v in page.evaluate(NAV).items():
            out[f"session_{k}"] = v
        lat = page.evaluate("""() => {
          const words = ['deadline', 'rubric teacher', 'privacy', 'the', 'zzzz'];
          return words.map(w => { const t = performance.now(); RecastPage.search.search(w); return performance.now() - t; });
        }""")
        out["session_search_first_ms"] = lat[0]
        out["session_search_median_ms"] = statistics.median(lat[1:])
        out["session_line_update_us"] = page.evaluate("""() => {
          const tr = RecastPage.transcript, n = 2000, end = tr.starts[tr.starts.length - 1];
          const t0 = performance.now();
          for (let i = 0; i < n; i++) tr.update(Math.random() * end);
          return (performance.now() - t0) / n * 1000;
        }""")
        page.goto((outdir / "index.html").as_uri(), wait_until="load")
        page.wait_for_selector("html[data-ready]")
        for k, v in page.evaluate(NAV).items():
            out[f"library_{k}"] = v
        out["library_indexes_loaded_at_ms"] = page.evaluate(
            "async () => { await RecastLibrary.load(); return performance.getEntriesByName('recast-indexes')[0].startTime; }")
        lat = page.evaluate("""() => ['deadline', 'privacy consent', 'grading', 'quiz', 'nothing-like-this', 'course']
            .map(w => { RecastLibrary.search(w); return RecastLibrary.lastSearchMs; })""")
        out["library_search_first_ms"] = lat[0]
        out["library_search_median_ms"] = statistics.median(lat[1:])
        out["library_search_max_ms"] = max(lat[1:])
        browser.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--words", type=int, default=9000, help="words per archive session (~1 hour)")
    ap.add_argument("--big-words", type=int, default=30000, help="words in the 3-hour session")
    ap.add_argument("--keep", type=Path, help="build here and keep it")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="recast-bench-site-"))
    media = None
    try:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from site_fixtures import make_media

        media = make_media(work / ".media")
    except Exception as e:  # the page still loads without playable media
        print(f"(no test media: {e})", file=sys.stderr)
    try:
        results = build(work, args.sessions, args.words, args.big_words, media)
        results.update(measure(work))
        for k, v in results.items():
            print(f"{k:28s} {v:10.1f}" if isinstance(v, float) else f"{k:28s} {v:>10}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
