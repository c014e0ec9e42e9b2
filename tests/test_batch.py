"""recast batch: discovery, failure isolation, resume, lock, worker loss, Dask."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from recast.batch import BatchItem, discover, read_list, run_batch, sniff_media
from recast.cli import main
from recast.config import Options
from recast.publish import OutdirLock
from tests.conftest import ffmpeg


def test_discover_by_extension_and_by_content(tmp_path, media):
    (tmp_path / "a" / "b").mkdir(parents=True)
    shutil.copy(media["video"], tmp_path / "a" / "talk.mp4")
    shutil.copy(media["audio"], tmp_path / "a" / "b" / "recording.bin")  # media with a misleading name
    (tmp_path / "a" / "notes.txt").write_text("not media")
    (tmp_path / "a" / ".hidden.mp4").write_bytes(b"x")
    found = sorted(p.path.name for p in discover([tmp_path]))
    assert found == ["recording.bin", "talk.mp4"]
    assert sniff_media(tmp_path / "a" / "b" / "recording.bin")
    assert not sniff_media(tmp_path / "a" / "notes.txt")


def test_a_zoom_folder_is_one_session_a_meeting(tmp_path, media):
    # Zoom saves each meeting's sound again beside its video (and once more for each
    # participant with separate tracks): those are not sessions of their own.
    meeting = tmp_path / "Zoom" / "2024-03-05 10.00.12 Weekly Training 85012345678"
    meeting.mkdir(parents=True)
    shutil.copy(media["video"], meeting / "video98796876.mp4")
    for name in ("audio98796876.m4a", "audioJohnSmith98796876.m4a"):
        shutil.copy(media["audio"], meeting / name)
    (meeting / "playback98796876.m3u").write_text("#EXTM3U\nvideo98796876.mp4\n")
    (meeting / "chat.txt").write_text("10:01:02 From Ada to Everyone: hello\n")
    shutil.copy(media["audio"], tmp_path / "Zoom" / "audio12345.m4a")  # no video of its own: a recording
    assert [p.path.name for p in discover([tmp_path])] == ["audio12345.m4a", "video98796876.mp4"]
    # named on its own, a file is always tried
    assert [p.path.name for p in discover([meeting / "audio98796876.m4a"])] == ["audio98796876.m4a"]


def test_read_list(tmp_path):
    csv = tmp_path / "list.csv"
    csv.write_text('path,title,course,presenter,vocabulary\nx/one.mp4,First one,Biology 101,Ada,"Krebs, ATP"\n/abs/two.m4a,,,,\n')
    items = read_list(csv)
    assert items[0] == BatchItem(tmp_path / "x" / "one.mp4", "First one", "Ada", None, "Biology 101", None, "Krebs, ATP")
    assert items[1].path == Path("/abs/two.m4a") and items[1].title is None
    assert items[0].metadata() == {"title": "First one", "presenter": "Ada", "course": "Biology 101"}
    # a vocabulary cell may name a glossary file beside the list
    (tmp_path / "glossary.txt").write_text("Krebs cycle\nATP synthase\n", encoding="utf-8")
    csv.write_text("path,vocabulary\none.mp4,@glossary.txt\n")
    assert read_list(csv)[0].vocabulary == "Krebs cycle\nATP synthase\n"
    # a meeting's own transcript and a chapter list, beside the list
    csv.write_text("path,transcript,chapters\none.mp4,one.vtt,/abs/one-chapters.txt\ntwo.mp4,,\n")
    one, two = read_list(csv)
    assert (one.transcript, one.chapters) == (tmp_path / "one.vtt", Path("/abs/one-chapters.txt"))
    assert (two.transcript, two.chapters) == (None, None)


@pytest.mark.parametrize("content, message", [
    ("path,presenter\nx.mp4,M\xfcller\n".encode("latin-1"), "not UTF-8 text"),  # Excel's default export
    (b"path,title\n", "names no recordings"),
    (b"file,title\nx.mp4,One\n", "header row with a 'path' column"),
])
def test_a_list_that_cannot_be_used_is_one_clear_error(tmp_path, content, message):
    from recast.errors import ConfigError

    bad = tmp_path / "list.csv"
    bad.write_bytes(content)
    with pytest.raises(ConfigError, match=message) as e:
        read_list(bad)
    assert str(bad) in str(e.value)


def _variant(sample: Path, dest: Path, tag: str) -> Path:
    """The sample remuxed with different metadata: new file content, same sound
    (so the transcript comes from the cache and the test stays fast)."""
    ffmpeg("-i", str(sample), "-c", "copy", "-metadata", f"comment={tag}", str(dest))
    return dest


@pytest.fixture(scope="module")
def archive(tmp_path_factory, sample, media):
    d = tmp_path_factory.mktemp("archive")
    _variant(sample, d / "good one.mp4", "1")
    (d / "course b").mkdir()
    _variant(sample, d / "course b" / "good-two.mp4", "2")
    shutil.copy(media["truncated"], d / "corrupt.mp4")
    shutil.copy(media["empty"], d / "empty.mp4")
    shutil.copy(media["noaudio"], d / "no-audio.mp4")
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono:d=20", "-c:a", "aac", str(d / "silent.m4a"))
    return d


@pytest.mark.slow
def test_batch_with_faults_then_resume(archive, tmp_path):
    out = tmp_path / "site"
    r = CliRunner().invoke(main, ["batch", str(archive), "-o", str(out), "--clips", "none"])
    assert r.exit_code == 1, r.output
    report = json.loads((out / "batch-report.json").read_text())
    status = {Path(i["path"]).name: (i["status"], i["reason"]) for i in report["items"]}
    assert status["good one.mp4"][0] == "built" and status["good-two.mp4"][0] == "built"
    assert "unreadable media" in status["corrupt.mp4"][1]
    assert "empty (0 bytes)" in status["empty.mp4"][1]
    assert "no audio stream" in status["no-audio.mp4"][1]
    # a silent recording is built (its page plays it), and the report says it has no speech
    assert status["silent.m4a"][0] == "built" and "no speech" in status["silent.m4a"][1]
    assert report["summary"] == {"built": 3, "skipped": 0, "failed": 3}
    for name in ("corrupt.mp4", "empty.mp4", "no-audio.mp4", "silent.m4a"):
        assert name in r.output  # the human summary names every failure, and the silent one
    sessions = sorted(p.parent.name for p in out.glob("*/session.json"))
    assert len(sessions) == 3
    library = (out / "index.html").read_text()
    for slug in sessions:
        assert slug in library
    assert not (out / ".recast-work").exists()

    # Resume: finished sessions are skipped, not rebuilt.
    before = {s: (out / s / "session.json").stat().st_mtime_ns for s in sessions}
    r2 = CliRunner().invoke(main, ["batch", str(archive), "-o", str(out), "--clips", "none"])
    assert r2.exit_code == 1
    report2 = json.loads((out / "batch-report.json").read_text())
    assert report2["summary"]["skipped"] == 3 and report2["summary"]["built"] == 0
    assert before == {s: (out / s / "session.json").stat().st_mtime_ns for s in sessions}


def test_lock_stops_a_second_run(tmp_path, media):
    out = tmp_path / "site"
    out.mkdir()
    with OutdirLock(out):
        r = CliRunner().invoke(main, ["batch", str(media["video"]), "-o", str(out)])
    assert r.exit_code == 1
    assert "another recast run" in r.output and str(os.getpid()) in r.output


@pytest.mark.slow
def test_killed_worker_is_retried(tmp_path, sample, monkeypatch):
    src = _variant(sample, tmp_path / "victim.mp4", "victim")
    marker = tmp_path / "killed"
    monkeypatch.setenv("RECAST_TEST_KILL_WORKER", f"victim.mp4:{marker}")
    reports = run_batch([BatchItem(src)], tmp_path / "site", Options(clips="none"), jobs=1)
    assert marker.exists(), "the worker should have been killed once"
    assert reports[0].status == "built" and reports[0].attempts == 2


@pytest.mark.slow
def test_dask_local_cluster(tmp_path, sample):
    distributed = pytest.importorskip("distributed")
    src = _variant(sample, tmp_path / "dask.mp4", "dask")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        reports = run_batch([BatchItem(src), BatchItem(tmp_path / "missing.mp4")], tmp_path / "site",
                            Options(clips="none"), scheduler=cluster.scheduler_address)
    assert [r.status for r in reports] == ["built", "failed"]
    assert "no such file" in reports[1].reason
    assert (tmp_path / "site" / reports[0].folder / "session.json").is_file()


@pytest.mark.slow
def test_kill_9_then_resume_gives_the_clean_result(tmp_path, sample):
    """kill -9 the whole batch part-way, then run it again: every recording is built,
    nothing half-written is visible, and nothing finished is built twice."""
    import signal
    import subprocess
    import sys
    import time

    archive = tmp_path / "archive"
    archive.mkdir()
    for n in range(3):
        _variant(sample, archive / f"talk-{n}.mp4", f"kill-{n}")
    out = tmp_path / "site"
    cmd = [sys.executable, "-m", "recast", "batch", str(archive), "-o", str(out), "--clips", "none", "-q"]
    proc = subprocess.Popen(cmd, start_new_session=True)
    # Wait until the first session is published, then kill everything mid-way.
    deadline = time.monotonic() + 300
    while not list(out.glob("*/session.json")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("*/session.json")}
    assert 1 <= len(done_before) <= 3
    # Only complete sessions are visible: each has its pages and manifest.
    for slug in done_before:
        assert (out / slug / "index.html").is_file()

    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    report = json.loads((out / "batch-report.json").read_text())
    assert report["summary"]["failed"] == 0
    assert report["summary"]["skipped"] == len(done_before)
    sessions = sorted(p.parent.name for p in out.glob("*/session.json"))
    assert len(sessions) == 3
    for slug, mtime in done_before.items():
        assert (out / slug / "session.json").stat().st_mtime_ns == mtime, "a finished session was rebuilt"
    assert not (out / ".recast-work").exists()
    # The same outputs as a clean run (but for build times).
    clean = tmp_path / "clean"
    subprocess.run([*cmd[:4], str(archive), "-o", str(clean), "--clips", "none", "-q"], check=True, timeout=600)
    for slug in sessions:
        a = json.loads((out / slug / "session.json").read_text())
        b = json.loads((clean / slug / "session.json").read_text())
        for d in (a, b):
            d.pop("created")
        assert a == b


def test_a_list_gives_each_recording_its_own_chapters_and_a_bad_one_fails_alone(tmp_path, sample, built_sample):
    from recast.batch import build_one

    chapters = tmp_path / "a-chapters.txt"
    chapters.write_text("0:00 Plants and rocks\n1:16 Bread and money\n")
    csv = tmp_path / "list.csv"
    csv.write_text(f"path,title,chapters\n{sample},A,a-chapters.txt\n{sample},B,missing.txt\n")
    good, bad = read_list(csv)
    out = tmp_path / "site"
    built = build_one(good, str(out), Options(clips="none"))
    assert built["status"] == "built" and built["chapters"] == 2
    session = json.loads((out / built["folder"] / "session.json").read_text())
    assert [c["title"] for c in session["chapters"]] == ["Plants and rocks", "Bread and money"]
    failed = build_one(bad, str(out), Options(clips="none"))
    assert failed["status"] == "failed" and "missing.txt: no such chapter file" in failed["reason"]
    # the same list again skips what is built; an edited chapter list is built again
    assert build_one(good, str(out), Options(clips="none"))["status"] == "skipped"
    chapters.write_text("0:00 Plants\n0:42 Rocks\n1:16 Bread and money\n")
    again = build_one(good, str(out), Options(clips="none"))
    assert again["status"] == "built" and again["chapters"] == 3


def test_transcript_beside_each_recording_of_an_archive(tmp_path, sample, built_sample):
    """`--transcript beside` over a folder of downloads: yt-dlp's subtitles and Zoom's
    cloud transcript are used, with Zoom's speaker names; a recording with none is
    recognised; the same run again skips them all, and an edited transcript is built again."""
    from benchmarks.youtube_captions import youtube_vtt
    from recast.batch import build_one

    recognised = json.loads((built_sample.folder / "transcript.json").read_text())
    archive = tmp_path / "archive"
    archive.mkdir()
    youtube = archive / "Webinar [a1B2c3D4e5F].mp4"
    zoom = archive / "GMT20261103-150212_Recording_1920x1080.mp4"
    plain = archive / "plain.mp4"
    for copy in (youtube, zoom, plain):
        shutil.copyfile(sample, copy)
    (archive / "Webinar [a1B2c3D4e5F].info.json").write_text("{}")
    (archive / "Webinar [a1B2c3D4e5F].en-orig.vtt").write_text(youtube_vtt(recognised))
    (archive / "Webinar [a1B2c3D4e5F].en.vtt").write_text(youtube_vtt(recognised))
    zoom_vtt = archive / "GMT20261103-150212_Recording.transcript.vtt"
    zoom_vtt.write_text("WEBVTT\n\n" + "".join(
        f"{i}\n00:{int(s['start']) // 60:02d}:{s['start'] % 60:06.3f} --> 00:{int(s['end']) // 60:02d}:{s['end'] % 60:06.3f}\n"
        f"Jo Trainer: {s['text'].strip()}\n\n" for i, s in enumerate(recognised["segments"], 1)))
    out = tmp_path / "site"
    options = Options(clips="none", transcript_file=Path("beside"))
    used = {}
    for item in discover([archive]):
        report = build_one(item, str(out), options)
        assert report["status"] == "built", report
        transcript = json.loads((out / report["folder"] / "transcript.json").read_text())
        used[item.path.name] = (transcript["model"], {s.get("speaker") for s in transcript["segments"]})
    assert used == {
        youtube.name: ("Webinar [a1B2c3D4e5F].en.vtt", {None}),  # "en" before the "en-orig" variant
        zoom.name: (zoom_vtt.name, {"Jo Trainer"}),
        plain.name: ("tiny.en", {None}),
    }
    assert [build_one(item, str(out), options)["status"] for item in discover([archive])] == ["skipped"] * 3
    zoom_vtt.write_text(zoom_vtt.read_text().replace("Jo Trainer:", "Jo Teacher:"))
    assert [build_one(item, str(out), options)["status"] for item in discover([archive])] == ["built", "skipped", "skipped"]


def test_transcript_beside_is_the_one_transcript_option_a_batch_takes(tmp_path, sample):
    r = CliRunner().invoke(main, ["batch", str(sample), "-o", str(tmp_path / "o"), "--transcript", str(sample)])
    assert r.exit_code == 2 and "--transcript beside" in r.output
