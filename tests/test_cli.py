"""The command line: help, version, and bad input giving one clear line, exit 1, nothing written."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from recast import __version__
from recast.cli import main


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_version():
    r = invoke("--version")
    assert r.exit_code == 0
    assert __version__ in r.output


@pytest.mark.parametrize("command", [[], ["run"], ["serve"]])
def test_every_command_has_help_with_examples(command):
    r = invoke(*command, "--help")
    assert r.exit_code == 0
    assert "Example" in r.output


def test_run_help_lists_the_documented_options():
    out = invoke("run", "--help").output
    for opt in ("--title", "--model", "--language", "--force", "--quiet", "--verbose", "--engine", "--clips",
                "--transcript", "--audio-track", "--min-chapter", "--max-chapter"):
        assert opt in out


def test_python_dash_m_works():
    r = subprocess.run([sys.executable, "-m", "recast", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and __version__ in r.stdout


@pytest.mark.parametrize(
    "case, problem",
    [
        ("missing", "no such file"),
        ("directory", "is a directory"),
        ("empty", "empty (0 bytes)"),
        ("text", "unreadable media"),
        ("truncated", "unreadable media"),
        ("noaudio", "no audio stream"),
        ("playlist", "playlist"),
    ],
)
def test_bad_input_one_line_exit_1_nothing_written(media, tmp_path, case, problem):
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["run", str(media[case]), "-o", str(out)])
    assert r.exit_code == 1, r.output
    lines = [l for l in r.output.splitlines() if l.strip()]
    assert len(lines) == 1, r.output
    assert "Traceback" not in r.output
    assert problem in lines[0]
    assert str(media[case]) in lines[0] or media[case].name in lines[0]
    assert not out.exists(), "nothing may be written for bad input"


def test_an_unreadable_transcript_is_said_before_the_audio_is_decoded(media, tmp_path):
    bad = tmp_path / "Team sync.docx"
    bad.write_bytes(b"PK\x03\x04 cut short by the download")
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["run", str(media["video"]), "-o", str(out), "--transcript", str(bad)])
    assert r.exit_code == 1, r.output
    assert "Decoding audio" not in r.output and "Traceback" not in r.output
    assert "Team sync.docx: not a readable Word document" in r.output
    assert not out.exists()


def test_bad_input_does_not_touch_existing_outdir(media, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    r = invoke("run", str(media["truncated"]), "-o", str(out))
    assert r.exit_code == 1
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_audio_track_out_of_range(media, tmp_path):
    r = invoke("run", str(media["two_tracks"]), "-o", str(tmp_path / "o"), "--audio-track", "5")
    assert r.exit_code == 1
    assert "has 2 audio stream(s)" in r.output


def test_bad_option_values_are_usage_or_config_errors(media, tmp_path):
    r = invoke("run", str(media["video"]), "-o", str(tmp_path / "o"), "--min-chapter", "600", "--max-chapter", "60")
    assert r.exit_code == 1
    assert "--min-chapter" in r.output
    r = invoke("run", str(media["video"]), "-o", str(tmp_path / "o"), "--clips", "sideways")
    assert r.exit_code == 2


def test_batch_refuses_options_that_belong_to_one_recording(media, tmp_path):
    # One transcript applied to every recording of a batch made sessions of the wrong words.
    vtt = tmp_path / "talk.vtt"
    vtt.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nHello.\n")
    for option, value in (("--title", "One"), ("--transcript", str(vtt))):
        r = invoke("batch", str(media["video"]), str(media["audio"]), "-o", str(tmp_path / "o"), option, value)
        assert r.exit_code == 2, (option, r.output)
        assert option in r.output
    assert not (tmp_path / "o").exists()


def test_a_recording_without_speech_is_built_with_a_warning(tmp_path):
    # 0 words on silence, and a session all the same: the page plays it, and a
    # checker reading transcript.json finds no words rather than no file.
    import json

    from tests.conftest import ffmpeg

    silent = tmp_path / "muted mic.m4a"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono:d=40", "-c:a", "aac", str(silent))
    out = tmp_path / "site"
    r = CliRunner().invoke(main, ["run", str(silent), "-o", str(out), "--clips", "none"])
    assert r.exit_code == 0, r.output
    assert f"warning: {silent}: no speech found" in r.output
    assert "Muted mic: 1 chapter, 0 words," in r.output
    session = json.loads((out / "muted-mic" / "session.json").read_text())
    assert json.loads((out / "muted-mic" / session["transcript"]).read_text())["segments"] == []
    assert [c["title"] for c in session["chapters"]] == ["The whole recording"]


def test_no_speech_on_the_first_of_two_tracks_points_to_the_other(sample, tmp_path):
    # OBS records the desktop's sound and the microphone on tracks of their own.
    from tests.conftest import ffmpeg

    obs = tmp_path / "obs.mkv"
    ffmpeg("-i", str(sample), "-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo", "-map", "1:a", "-map", "0:a",
           "-t", "30", "-c:a", "aac", str(obs))  # fmt: skip
    r = CliRunner().invoke(main, ["run", str(obs), "-o", str(tmp_path / "site"), "--clips", "none"])
    assert r.exit_code == 0, r.output
    assert "no speech found" in r.output and "audio track 0 was used, and the recording has 1 other: --audio-track" in r.output
    r = CliRunner().invoke(main, ["run", str(obs), "-o", str(tmp_path / "site"), "--clips", "none", "--audio-track", "1"])
    assert r.exit_code == 0 and "no speech found" not in r.output and " 0 words" not in r.output, r.output
