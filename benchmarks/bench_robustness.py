"""Hallucination benchmark: words the transcription stage emits where nobody speaks.

Each case is a recording with no speech (or no speech before a known time), run
through the real stage (`recast.audio.load_audio` on a file written here, then
`recast.transcribe.transcribe`, worker process and all). The target is 0 words in
every case; a word there lands in the transcript, the captions and search.

* silence     - 5 min of digital silence (all-zero samples)
* white noise - 5 min of white noise at -20 dBFS RMS
* pink noise  - 5 min of pink noise at -20 dBFS RMS
* room tone   - 5 min of quiet pink noise (-50 dBFS) with 50 Hz mains hum, like an idle microphone
* chords      - 5 min of synthesised piano-like chords with a melody (I-V-vi-IV, 96 bpm)
* sine melody - 5 min of a sine-wave tune made by ffmpeg's `aevalsrc`
* lead-in     - 2 min of silence, then the sample webinar (samples/webinar.mp4): words
                before its first spoken sentence count; words after it are reported
                (with the WER of that part) to show that speech still comes through
* inverted stereo - the sample webinar in stereo, one channel's polarity inverted: a
                plain mix cancels to near silence; its speech must still come through

    python -m benchmarks.bench_robustness [--minutes 5] [--only silence,chords] [--markdown FILE]
    python -m benchmarks.bench_robustness --through-run   # each case as `recast run` builds it
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.synth import write_wav  # noqa: E402
from benchmarks.wer import word_error_rate  # noqa: E402
from recast import transcribe as tr  # noqa: E402
from recast.audio import load_audio  # noqa: E402
from recast.config import Options  # noqa: E402
from recast.ffmpeg import ffmpeg_exe  # noqa: E402
from recast.probe import probe  # noqa: E402

WORK = ROOT / "benchmarks" / "work" / "robustness"
SAMPLE = ROOT / "samples" / "webinar.mp4"
RATE = 16000


def _rms_to(x: np.ndarray, dbfs: float) -> np.ndarray:
    return (x * (10 ** (dbfs / 20) / max(float(np.sqrt(np.mean(x**2))), 1e-12))).astype(np.float32)


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """1/f noise: white noise shaped by 1/sqrt(f) in the frequency domain."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / RATE)
    spectrum[1:] /= np.sqrt(f[1:])
    spectrum[0] = 0
    return np.fft.irfft(spectrum, n).astype(np.float32)


def chords(seconds: float) -> np.ndarray:
    """Piano-like music: a I-V-vi-IV progression in C, one chord a bar, with a
    plucked melody on the beats; notes have harmonics and decaying envelopes."""
    bpm = 96
    beat = 60 / bpm
    n = int(seconds * RATE)
    out = np.zeros(n, dtype=np.float64)
    progression = [(48, 52, 55), (43, 47, 50), (45, 48, 52), (41, 45, 48)]  # C G Am F (MIDI)
    melody = [72, 74, 76, 79, 77, 76, 74, 72, 71, 72, 74, 67, 69, 71, 72, 76]
    rng = np.random.default_rng(7)

    def note(midi: int, start: float, length: float, gain: float) -> None:
        a = int(start * RATE)
        b = min(n, a + int(length * RATE))
        if a >= n:
            return
        t = np.arange(b - a) / RATE
        f = 440 * 2 ** ((midi - 69) / 12)
        tone = sum(np.sin(2 * np.pi * f * k * t) / k**1.5 for k in range(1, 6))
        env = np.exp(-t * 2.5) * np.minimum(1, t / 0.005)
        out[a:b] += gain * tone * env

    bar = 0
    t0 = 0.0
    while t0 < seconds:
        for midi in progression[bar % 4]:
            note(midi, t0, 4 * beat, 0.12)
        for i in range(4):
            note(int(melody[(bar * 4 + i) % len(melody)] + rng.choice([0, 0, 12])), t0 + i * beat, beat * 1.5, 0.1)
        bar += 1
        t0 += 4 * beat
    return _rms_to(out, -20.0)


def sine_melody(path: Path, seconds: float) -> Path:
    """A tune of pure tones cycling through eight notes every 0.4 s (ffmpeg aevalsrc)."""
    # The frequency steps through an arpeggio, each note restarting its phase (a soft
    # click per note, like a simple synth), over a steady C drone: "hold music".
    # Commas inside a filter argument are escaped for the filter-graph parser.
    notes = [261.63, 329.63, 392.0, 523.25, 440.0, 349.23, 293.66, 246.94]
    expr = "+".join(f"eq(mod(floor(t/0.4)\\,8)\\,{i})*{f}" for i, f in enumerate(notes))
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-v", "error", "-y", "-f", "lavfi", "-i",
         f"aevalsrc=0.25*sin(2*PI*({expr})*mod(t\\,0.4))+0.1*sin(2*PI*130.81*t):s={RATE}:d={seconds}",
         "-ac", "1", "-ar", str(RATE), str(path)],
        check=True,
    )  # fmt: skip
    return path


def ffmpeg_noise(path: Path, color: str, amplitude: float, seconds: float) -> Path:
    """Noise of another colour than white and pink (ffmpeg anoisesrc: brown, blue,
    violet, velvet), at `amplitude` of full scale."""
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-v", "error", "-y", "-f", "lavfi", "-i",
         f"anoisesrc=color={color}:amplitude={amplitude}:duration={seconds}:sample_rate={RATE}",
         "-ac", "1", "-ar", str(RATE), str(path)],
        check=True,
    )  # fmt: skip
    return path


def lead_in(path: Path, silence: float) -> tuple[Path, float, str]:
    """`silence` seconds of digital silence, then the sample webinar's audio. Returns
    the file, the time of its first spoken sentence and the script spoken after it."""
    truth = json.loads(SAMPLE.with_name("webinar.truth.json").read_text(encoding="utf-8"))
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-v", "error", "-y", "-i", str(SAMPLE),
         "-af", f"adelay={int(silence * 1000)}:all=1", "-vn", "-ac", "1", "-ar", str(RATE), str(path)],
        check=True,
    )  # fmt: skip
    first = min(s["start"] for s in truth["sentences"])
    return path, silence + first, truth["script"]


def inverted_stereo(path: Path) -> tuple[Path, float, str]:
    """The sample webinar in stereo with the right channel's polarity inverted (a
    miswired microphone): mixed plainly, the channels cancel to near silence."""
    truth = json.loads(SAMPLE.with_name("webinar.truth.json").read_text(encoding="utf-8"))
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-v", "error", "-y", "-i", str(SAMPLE),
         "-af", "pan=stereo|c0=c0|c1=-1*c0", "-vn", "-ar", str(RATE), str(path)],
        check=True,
    )  # fmt: skip
    return path, min(s["start"] for s in truth["sentences"]), truth["script"]


@dataclass
class Case:
    name: str
    path: Path
    speech_from: float | None = None  # words before this time count; None = no speech anywhere
    reference: str | None = None


def build_cases(minutes: float, only: set[str] | None) -> list[Case]:
    WORK.mkdir(parents=True, exist_ok=True)
    n = int(minutes * 60 * RATE)
    rng = np.random.default_rng(1)
    cases: list[Case] = []

    def want(name: str) -> bool:
        return only is None or name in only

    def make(name: str, fn) -> None:  # noqa: ANN001
        if not want(name):
            return
        path = WORK / f"{name.replace(' ', '-')}-{minutes:g}min.wav"
        if not path.is_file():
            write_wav(path, fn(), RATE)
        cases.append(Case(name, path))

    make("silence", lambda: np.zeros(n, dtype=np.float32))
    make("white noise", lambda: _rms_to(rng.standard_normal(n), -20.0))
    make("pink noise", lambda: _rms_to(pink_noise(n, rng), -20.0))
    make(
        "room tone",
        lambda: _rms_to(pink_noise(n, rng), -50.0) + (0.003 * np.sin(2 * np.pi * 50 * np.arange(n) / RATE)).astype(np.float32),
    )
    make("chords", lambda: chords(minutes * 60))
    if want("sine melody"):
        path = WORK / f"sine-melody-{minutes:g}min.wav"
        if not path.is_file():
            sine_melody(path, minutes * 60)
        cases.append(Case("sine melody", path))
    # the other colours, a white noise near full scale and a pink one near the floor
    for name, color, amplitude in (("brown noise", "brown", 0.3), ("blue noise", "blue", 0.3),
                                   ("violet noise", "violet", 0.3), ("velvet noise", "velvet", 0.3),
                                   ("loud white noise", "white", 0.9), ("quiet pink noise", "pink", 0.005)):
        if want(name):
            path = WORK / f"{name.replace(' ', '-')}-{minutes:g}min.wav"
            if not path.is_file():
                ffmpeg_noise(path, color, amplitude, minutes * 60)
            cases.append(Case(name, path))
    if want("lead-in") and SAMPLE.is_file():
        path, speech_from, script = lead_in(WORK / "lead-in-2min.wav", 120.0)
        cases.append(Case("lead-in", path, speech_from, script))
    if want("inverted stereo") and SAMPLE.is_file():
        path, speech_from, script = inverted_stereo(WORK / "inverted-stereo.wav")
        cases.append(Case("inverted stereo", path, speech_from, script))
    return cases


def run_case(case: Case, options: Options) -> dict:
    audio = load_audio(probe(case.path))
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    transcript = tr.transcribe(audio, options)
    wall = time.perf_counter() - started
    words = transcript.words
    # A word counts as "before the talk" when it starts before the first sentence
    # (less 0.3 s: VAD padding and word timing can put the first word a touch early).
    cutoff = None if case.speech_from is None else case.speech_from - 0.3
    stray = [w for w in words if cutoff is None or w.start < cutoff]
    row = {
        "case": case.name,
        "audio_s": round(audio.duration, 1),
        "wall_s": round(wall, 1),
        "stray_words": len(stray),
        "stray_text": " ".join(w.word.strip() for w in stray)[:200],
        "speech_words": len(words) - len(stray) if cutoff is not None else None,
        "speech_wer": round(word_error_rate(case.reference, transcript.text).wer, 4) if case.reference else None,
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }
    return row


def run_case_cli(case: Case, args: argparse.Namespace, work: Path) -> dict:
    """The case through `recast run` (a fresh cache, so nothing is reused): what a
    user gets. The words are read from the session's transcript.json."""
    import tempfile

    cmd = [sys.executable, "-m", "recast", "run", str(case.path), "-o", str(work / "site"), "--clips", "none", "-q",
           "--engine", args.engine, *(["--model", args.model] if args.model else []), *(["--no-vad"] if args.no_vad else []),
           *(["--vocabulary", args.vocabulary] if args.vocabulary else [])]  # fmt: skip
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=work) as cache:
        done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "RECAST_CACHE_DIR": cache})
    wall = time.perf_counter() - started
    sessions = sorted((work / "site").glob("*/session.json"), key=lambda p: p.stat().st_mtime)
    if done.returncode != 0 or not sessions:
        raise SystemExit(f"{case.name}: recast run failed (exit {done.returncode}): {done.stderr.strip()[-300:]}")
    session = json.loads(sessions[-1].read_text(encoding="utf-8"))
    transcript = json.loads((sessions[-1].parent / session["transcript"]).read_text(encoding="utf-8"))
    words = [w for seg in transcript["segments"] for w in seg["words"]]
    cutoff = None if case.speech_from is None else case.speech_from - 0.3
    stray = [w for w in words if cutoff is None or w["start"] < cutoff]
    text = " ".join(seg["text"].strip() for seg in transcript["segments"])
    return {
        "case": case.name,
        "audio_s": round(session["source"]["duration"], 1),
        "wall_s": round(wall, 1),
        "stray_words": len(stray),
        "stray_text": " ".join(w["word"].strip() for w in stray)[:200],
        "speech_words": len(words) - len(stray) if cutoff is not None else None,
        "speech_wer": round(word_error_rate(case.reference, text).wer, 4) if case.reference else None,
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "exit": done.returncode,
        "warning": next((ln for ln in done.stderr.splitlines() if ln.startswith("warning:")), ""),
    }


def markdown(rows: list[dict]) -> str:
    lines = [
        "| input | audio s | words where nobody speaks | text | words of speech (WER) | wall s | load avg |",
        "|---|---:|---:|---|---|---:|---|",
    ]
    for r in rows:
        speech = "–" if r["speech_words"] is None else f"{r['speech_words']} ({r['speech_wer']:.1%})"
        text = r["stray_text"].replace("|", "\\|") or "–"
        lines.append(f"| {r['case']} | {r['audio_s']:.0f} | {r['stray_words']} | {text} | {speech} | {r['wall_s']:.1f} | {r['load_before']:.1f}→{r['load_after']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="length of each speech-free input")
    parser.add_argument("--only", help="comma-separated case names")
    parser.add_argument("--engine", default="faster-whisper")
    parser.add_argument("--model", default=None)
    parser.add_argument("--no-vad", action="store_true")
    parser.add_argument("--vocabulary", help="recast's --vocabulary (a prompt must not turn noise into its names)")
    parser.add_argument("--through-run", action="store_true",
                        help="run each case through `recast run` (exit status, session.json) instead of the stage alone")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    options = Options(engine=args.engine, model=args.model, vad=not args.no_vad, device="cpu", vocabulary=args.vocabulary)
    cases = build_cases(args.minutes, only)
    print(f"# {args.engine} {args.model or 'default model'}, VAD {'off' if args.no_vad else 'on'}"
          f"{', vocabulary ' + repr(args.vocabulary) if args.vocabulary else ''}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"{'input':16} {'audio s':>7} {'stray':>5} {'speech':>6} {'WER':>6} {'wall s':>6} {'load':>9}  text", flush=True)
    rows = []
    failed = 0
    if args.through_run:
        import shutil

        work = WORK / "through-run"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
    for case in cases:
        row = run_case_cli(case, args, work) if args.through_run else run_case(case, options)
        rows.append(row)
        failed += row["stray_words"] > 0
        speech = "-" if row["speech_words"] is None else str(row["speech_words"])
        wer = "-" if row["speech_wer"] is None else f"{row['speech_wer']:.1%}"
        print(
            f"{row['case']:16} {row['audio_s']:7.1f} {row['stray_words']:5} {speech:>6} {wer:>6} {row['wall_s']:6.1f} "
            f"{row['load_before']:4.1f}>{row['load_after']:<4.1f}  {row['stray_text']}",
            flush=True,
        )
    tr.shutdown()
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    if args.markdown:
        args.markdown.write_text(markdown(rows) + "\n", encoding="utf-8")
    print(markdown(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
