"""Speech recognition benchmark: speed, memory and word error rate per engine and model.

Runs `recast.transcribe` (the real pipeline stage, worker process and all) on

* the real lecture clip `../shared/data/real/physicsworks.webm` (203 s, Walter Lewin,
  MIT OCW, CC BY 3.0) against its human transcript, when that folder exists;
* optionally a synthetic webinar from `benchmarks/synth.py` (`--synth FILE.mp4`, whose
  `FILE.truth.json` holds the spoken script, or `--synth-minutes N` to build an
  audio-only one first, cached under benchmarks/work/), plus with `--excerpt-minutes N`
  an N-minute excerpt of it cut between sentences (for engines too slow for the whole);
* optionally any `--audio FILE --ref TEXT` pair.

With `--slides`, a synthetic video's slides are read first (video analysis and OCR,
timed with the transcription) and their names and terms given to the engine, as
`recast run` does.

Audio is decoded the way the pipeline does it (`recast.probe` + `recast.audio.load_audio`).
For every engine and model it reports: the cold time (worker start + model load +
transcription), the warm real-time factor (audio seconds per wall second, best of
`--repeat` runs with the model loaded; with `--repeat 0` the cold run's), peak memory
of the parent and of the engine worker (VmHWM from /proc, reset per row through
/proc/PID/clear_refs, so the whole model and decode are counted) and of both together
(RSS of the two polled every 0.2 s), WER, and the 1-minute load average before and
after the row (the machine may be shared: compare rows of one run). WER is scored with
`benchmarks.wer` (Whisper's English normaliser when installed) and, for comparison with
older results, with its small built-in normaliser too.
The same decoded audio goes to every engine in the same run; openai-whisper gets the
bundled tiny.en converted by `recast.convert`, so both engines run the same weights.
openai-whisper is skipped on recordings longer than `--openai-max-minutes`.

    python -m benchmarks.bench_transcribe
    python -m benchmarks.bench_transcribe --engines faster-whisper --models tiny.en,base-offline
    python -m benchmarks.bench_transcribe --synth benchmarks/work/hour.mp4 --excerpt-minutes 10 --repeat 0
    python -m benchmarks.bench_transcribe --engines faster-whisper --no-real --repeat 0 --synth benchmarks/work/hour.mp4 --slides
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.wer import normalizer_name, word_error_rate  # noqa: E402
from recast import transcribe as tr  # noqa: E402
from recast.config import Options  # noqa: E402
from recast.models import SAMPLE_RATE, Audio  # noqa: E402

REAL = ROOT.parent / "shared" / "data" / "real"
WORK = ROOT / "benchmarks" / "work"


@dataclass
class Case:
    name: str
    audio: Audio
    reference: str | None
    vocabulary: str | None = None  # --vocabulary-from-script: names of its own script
    video: Path | None = None  # --slides: the recording whose slides are read, as recast run does


_SCRATCH: tempfile.TemporaryDirectory | None = None


def decode(path: Path) -> Audio:
    """The recording's first audio track, decoded exactly as the pipeline does: into
    a file that the engine reads and this process maps (removed at exit)."""
    from recast.audio import load_audio
    from recast.probe import probe

    global _SCRATCH
    if _SCRATCH is None:
        _SCRATCH = tempfile.TemporaryDirectory(prefix="bench-audio-")
    folder = Path(tempfile.mkdtemp(dir=_SCRATCH.name))  # one per recording: each is track 0
    return load_audio(probe(path), folder=folder)


def _status_kib(pid: int, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def peak_rss_mib(pid: int) -> float | None:
    """The process's resident-set high-water mark (VmHWM) in MiB."""
    kib = _status_kib(pid, "VmHWM")
    return kib / 1024 if kib is not None else None


def reset_peak_rss(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to clear_refs)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def worker_pid() -> int | None:
    for worker in list(tr._WORKERS.values()):
        if worker.proc is not None:
            return worker.proc.pid
    return None


class MemorySampler:
    """Polls the RSS of this process and of the engine worker; keeps the largest sum.

    VmHWM gives each process's own peak exactly; the sum of the two peaks can
    overstate the joint peak when they happen at different times, so the polled sum
    is reported next to them.
    """

    def __init__(self, interval: float = 0.2, trace: Path | None = None, trace_every: float = 5.0):
        self.interval = interval
        self.max_sum_kib = 0
        self.trace = trace
        self.trace_every = trace_every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        started = time.monotonic()
        next_trace = started
        out = self.trace.open("a", encoding="utf-8") if self.trace else None
        while not self._stop.is_set():
            parent = _status_kib(me, "VmRSS") or 0
            pid = worker_pid()
            worker = (_status_kib(pid, "VmRSS") or 0) if pid is not None else 0
            self.max_sum_kib = max(self.max_sum_kib, parent + worker)
            if out is not None and time.monotonic() >= next_trace:
                # elapsed s, parent RSS MiB, worker RSS MiB, 1-min load average
                out.write(f"{time.monotonic() - started:.0f}\t{parent / 1024:.0f}\t{worker / 1024:.0f}\t{os.getloadavg()[0]:.2f}\n")
                out.flush()
                next_trace += self.trace_every
            self._stop.wait(self.interval)
        if out is not None:
            out.close()

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def synth_case(minutes: float) -> Path:
    """An audio-only synthetic webinar of about `minutes`, built once."""
    out = WORK / f"synth-{minutes:g}min.m4a"
    if not out.is_file():
        from benchmarks.synth import SynthOptions, sections_for_duration, synthesize

        WORK.mkdir(parents=True, exist_ok=True)
        sections = sections_for_duration(source="wiki", target_seconds=minutes * 60, seed=1, lead_in=45.0)
        synthesize(sections, out, SynthOptions(seed=1, video=False), tts_cache=WORK / "tts-cache")
    return out


def load_truth(media: Path) -> dict | None:
    truth = media.with_name(media.name.rsplit(".", 1)[0] + ".truth.json")
    if not truth.is_file():
        return None
    return json.loads(truth.read_text(encoding="utf-8"))


def truth_text(truth: dict | None) -> str | None:
    """The spoken words: the whole `script` (questions included), else the sentences."""
    if truth is None:
        return None
    return truth.get("script") or " ".join(s["text"] for s in truth["sentences"])


_NOT_NAMES = frozenset(
    "January February March April May June July August September October November December "
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday It The This He She They".split()
)


def script_names(script: str, n: int) -> str:
    """The `n` names a script says most, as a comma-separated list: runs of
    capitalised words that do not open a sentence ("Andre Agassi", "Wimbledon")."""
    counts: Counter = Counter()
    for sentence in re.split(r"(?<=[.!?])\s+", script):
        run: list[str] = []
        for i, raw in enumerate(sentence.split()):
            word = re.sub(r"['’]s$", "", raw.strip(".,;:!?\"'()[]"))
            if i > 0 and word[:1].isupper() and word[1:2].islower() and word not in _NOT_NAMES:
                run.append(word)
                if raw.rstrip(".,;:!?)\"'") == raw:
                    continue  # the name may go on
            if run:
                counts[" ".join(run)] += 1
            run = []
        if run:
            counts[" ".join(run)] += 1
    return ", ".join(name for name, _ in counts.most_common(n))


def excerpt(audio: Audio, truth: dict, start: float, minutes: float) -> tuple[Audio, str]:
    """About `minutes` of `audio` from `start` s, cut in the pauses between sentences,
    with the reference text of exactly the sentences inside it."""
    sentences = sorted(truth["sentences"], key=lambda s: s["start"])
    first = next(i for i, s in enumerate(sentences) if s["start"] >= start)
    last = first
    while last + 1 < len(sentences) and sentences[last + 1]["end"] <= sentences[first]["start"] + minutes * 60:
        last += 1
    prev_end = sentences[first - 1]["end"] if first else 0.0
    a = (prev_end + sentences[first]["start"]) / 2 if first else max(0.0, sentences[first]["start"] - 1.0)
    next_start = sentences[last + 1]["start"] if last + 1 < len(sentences) else audio.duration
    b = (sentences[last]["end"] + next_start) / 2
    lo, hi = int((a - audio.offset) * SAMPLE_RATE), int((b - audio.offset) * SAMPLE_RATE)
    clip = Audio(samples=np.ascontiguousarray(audio.samples[lo:hi]), offset=audio.offset + lo / SAMPLE_RATE)
    return clip, " ".join(s["text"] for s in sentences[first : last + 1])


def read_slides(video: Path, audio: Audio) -> tuple[tuple, float]:
    """The slide words `recast run` gives the engine (video analysis, then OCR of
    every still), and the seconds that took."""
    from recast.probe import probe
    from recast.slides import SlideReader, read_slides, slide_prompts
    from recast.video import analyze_video

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-slides-") as work:
        reader = SlideReader()
        reader.start()  # stills are read while the changes are placed, as in recast run
        analysis = analyze_video(probe(video), Path(work), on_stills=reader.offer)
        prompts = slide_prompts(read_slides(analysis, audio.offset + audio.duration, reader=reader))
    return prompts, time.perf_counter() - started


def run_case(case: Case, engine: str, model: str | None, options: Options, repeat: int, trace: Path | None = None, save_text: Path | None = None) -> dict:
    opts = options.replace(engine=engine, model=model, vocabulary=case.vocabulary or options.vocabulary)
    tr.shutdown()  # cold start for each engine/model: worker start + model load counted once
    load_before = os.getloadavg()[0]
    reset_peak_rss(os.getpid())
    with MemorySampler(trace=trace) as sampler:
        started = time.perf_counter()
        prompts, slides_s = read_slides(case.video, case.audio) if case.video else ((), None)
        transcript = tr.transcribe(case.audio, opts, prompts=prompts)
        cold = time.perf_counter() - started
        warm = []
        for _ in range(repeat):
            started = time.perf_counter()
            prompts, _ = read_slides(case.video, case.audio) if case.video else ((), None)
            transcript = tr.transcribe(case.audio, opts, prompts=prompts)
            warm.append(time.perf_counter() - started)
        pid = worker_pid()
        worker_peak = peak_rss_mib(pid) if pid else None
    parent_peak = peak_rss_mib(os.getpid())
    duration = case.audio.duration
    score = word_error_rate(case.reference, transcript.text) if case.reference else None
    # The old figure too, so rows stay comparable with results taken before the Whisper normaliser.
    basic = word_error_rate(case.reference, transcript.text, "basic") if case.reference else None
    if save_text is not None:
        # The hypothesis, one segment a line, for reading the errors behind a WER.
        save_text.mkdir(parents=True, exist_ok=True)
        name = "".join(c if c.isalnum() else "-" for c in f"{case.name}-{engine}-{transcript.model}")
        (save_text / f"{name}.txt").write_text("\n".join(s.text for s in transcript.segments) + "\n", encoding="utf-8")
    row = {
        "case": case.name,
        "engine": engine,
        "model": transcript.model,
        "audio_s": round(duration, 1),
        "cold_s": round(cold, 1),
        "warm_s": round(min(warm), 1) if warm else None,
        "rtf": round(duration / min(warm), 1) if warm else round(duration / cold, 1),
        "words": len(transcript.words),
        "slides_s": round(slides_s, 1) if slides_s is not None else None,  # video analysis + OCR, inside cold_s
        "parent_peak_mib": round(parent_peak) if parent_peak else None,
        "worker_peak_mib": round(worker_peak) if worker_peak else None,
        "joint_peak_mib": round(sampler.max_sum_kib / 1024),
        "wer": round(score.wer, 4) if score else None,
        "wer_detail": f"S={score.substitutions} D={score.deletions} I={score.insertions} N={score.reference_words}" if score else None,
        "wer_normalizer": score.normalizer if score else None,
        "wer_basic": round(basic.wer, 4) if basic else None,
        "language": transcript.language,
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }
    tr.shutdown()
    return row


def markdown(rows: list[dict]) -> str:
    lines = [
        "| recording | engine | model | audio s | wall s | × real time | WER | WER (basic normaliser) | parent peak MiB | worker peak MiB | parent+worker MiB | load avg before→after |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        wall = r["warm_s"] if r["warm_s"] is not None else r["cold_s"]
        wer = f"{r['wer']:.2%}" if r["wer"] is not None else "–"
        wer_basic = f"{r['wer_basic']:.2%}" if r.get("wer_basic") is not None else "–"
        lines.append(
            f"| {r['case']} | {r['engine']} | {r['model']} | {r['audio_s']:.0f} | {wall:.1f} | {r['rtf']:.1f} | {wer} | {wer_basic} | "
            f"{r['parent_peak_mib']} | {r['worker_peak_mib']} | {r['joint_peak_mib']} | {r['load_before']:.1f}→{r['load_after']:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="faster-whisper,openai-whisper")
    parser.add_argument("--models", default="default", help="comma-separated; 'default' = each engine's default (bundled tiny.en)")
    parser.add_argument("--audio", type=Path, action="append", default=[], help="extra recording (with --ref)")
    parser.add_argument("--ref", type=Path, action="append", default=[], help="reference transcript for each --audio")
    parser.add_argument("--synth", type=Path, action="append", default=[], help="synthetic webinar made by benchmarks/synth.py")
    parser.add_argument("--synth-minutes", type=float, help="build (once) and add an audio-only synthetic webinar this long")
    parser.add_argument("--excerpt-minutes", type=float, help="also run an excerpt this long of each synthetic webinar (from the talk start)")
    parser.add_argument("--excerpt-only", action="store_true", help="with --excerpt-minutes: run only the excerpts, not the whole synthetic webinars")
    parser.add_argument("--openai-max-minutes", type=float, default=15.0, help="skip openai-whisper on longer recordings")
    parser.add_argument("--no-real", action="store_true", help="skip the real lecture clip")
    parser.add_argument("--repeat", type=int, default=1, help="warm runs per engine/model (best is reported); 0 = the cold run only")
    parser.add_argument("--beam-size", type=int, default=Options().beam_size, help="[default: recast's, %(default)s]")
    parser.add_argument("--vocabulary", help="recast's --vocabulary for every case")
    parser.add_argument("--vocabulary-from-script", type=int, metavar="N",
                        help="each synthetic case gets as --vocabulary the N names its script says most (the people and "
                             "places a trainer would list)")
    parser.add_argument("--slides", action="store_true",
                        help="synthetic videos: read the names and terms on the slides and give them to the engine, "
                             "as recast run does (the time counts as transcription)")
    parser.add_argument("--no-vad", action="store_true")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--markdown", type=Path, help="also write a Markdown table here")
    parser.add_argument("--save-text", type=Path, help="write each transcript (one segment a line) into this folder")
    parser.add_argument("--trace", type=Path, help="append elapsed s, parent and worker RSS MiB and load average every 5 s here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    cases: list[Case] = []
    if not args.no_real and (REAL / "physicsworks.webm").is_file():
        ref = (REAL / "physicsworks.ref.txt").read_text(encoding="utf-8")
        cases.append(Case("physicsworks (real, 203 s)", decode(REAL / "physicsworks.webm"), ref))
    elif not args.no_real:
        print(f"note: {REAL} not found; skipping the real lecture clip", file=sys.stderr)
    for audio, ref in zip(args.audio, args.ref + [None] * len(args.audio)):
        cases.append(Case(audio.name, decode(audio), ref.read_text(encoding="utf-8") if ref else None))
    synths = list(args.synth) + ([synth_case(args.synth_minutes)] if args.synth_minutes else [])
    for media in synths:
        truth = load_truth(media)
        audio = decode(media)
        names = script_names(truth_text(truth) or "", args.vocabulary_from_script) if args.vocabulary_from_script else None
        video = media if args.slides and truth is not None and truth.get("has_video") else None
        if args.slides and video is None:
            print(f"note: {media.name} has no slides; --slides changes nothing for it", file=sys.stderr)
        if not (args.excerpt_only and args.excerpt_minutes and truth is not None):
            cases.append(Case(media.name + " (synthetic)", audio, truth_text(truth), names, video))
        if args.excerpt_minutes and truth is not None:
            clip, ref = excerpt(audio, truth, float(truth.get("talk_start", 0.0)), args.excerpt_minutes)
            cases.append(Case(f"{media.name} excerpt {clip.offset:.0f}-{clip.offset + clip.duration:.0f} s (synthetic)", clip, ref, names, video))
    if not cases:
        parser.error("nothing to measure")

    options = Options(beam_size=args.beam_size, vad=not args.no_vad, threads=args.threads, device="cpu", vocabulary=args.vocabulary)
    for case in cases:
        if case.vocabulary:
            print(f"# vocabulary of {case.name}: {case.vocabulary}")
    models = [None if m == "default" else m for m in args.models.split(",")]
    rows = []
    header = (
        f"{'case':40} {'engine':15} {'model':9} {'audio s':>7} {'cold s':>7} {'warm s':>7} {'x RT':>6} {'WER':>7} {'WERbasic':>8} "
        f"{'parent MiB':>10} {'worker MiB':>10} {'joint MiB':>9} {'load':>9}"
    )
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), "?")
    print(f"# {cpu}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start; beam {args.beam_size}, VAD {'off' if args.no_vad else 'on'}"
          + ("; slide words on (cold s includes reading the slides)" if args.slides else ""))
    print(f"# WER: {normalizer_name()} normaliser (benchmarks/wer.py); WERbasic: the small built-in one")
    print(header, flush=True)
    for case in cases:
        for engine in args.engines.split(","):
            if engine == "openai-whisper" and case.audio.duration > args.openai_max_minutes * 60:
                print(f"{case.name[:40]:40} {engine:15} skipped: longer than --openai-max-minutes {args.openai_max_minutes:g}", flush=True)
                continue
            for model in models:
                try:
                    row = run_case(case, engine, model, options, args.repeat, args.trace, args.save_text)
                except Exception as e:  # report and go on to the next configuration
                    print(f"{case.name[:40]:40} {engine:15} {model or 'default':9} failed: {e}", flush=True)
                    continue
                rows.append(row)
                wer = f"{row['wer']:.2%}" if row["wer"] is not None else "-"
                wer_basic = f"{row['wer_basic']:.2%}" if row["wer_basic"] is not None else "-"
                print(
                    f"{row['case'][:40]:40} {row['engine']:15} {row['model'][:9]:9} {row['audio_s']:7.1f} {row['cold_s']:7.1f} "
                    f"{row['warm_s'] if row['warm_s'] is not None else '-':>7} {row['rtf']:6.1f} {wer:>7} {wer_basic:>8} {row['parent_peak_mib']:10} "
                    f"{row['worker_peak_mib'] or '-':>10} {row['joint_peak_mib']:9} {row['load_before']:4.1f}>{row['load_after']:<4.1f}",
                    flush=True,
                )
    for row in rows:
        if row.get("slides_s") is not None:
            print(f"# {row['case']}: {row['slides_s']:.1f} s of the cold run went to the video analysis and reading the slides")
    print(f"# load average {os.getloadavg()[0]:.1f} at the end (other processes share the CPUs: compare rows of one run)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    if args.markdown:
        args.markdown.write_text(markdown(rows) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
