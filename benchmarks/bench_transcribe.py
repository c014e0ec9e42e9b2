"""Speech recognition benchmark: speed, memory and word error rate per engine and model.

Runs `recast.transcribe` (the real pipeline stage, worker process and all) on

* the real lecture clip `../shared/data/real/physicsworks.webm` (203 s, Walter Lewin,
  MIT OCW, CC BY 3.0) against its human transcript, when that folder exists;
* optionally a synthetic webinar from `benchmarks/synth.py` (`--synth FILE.mp4`, whose
  `FILE.truth.json` holds the spoken sentences, or `--synth-minutes N` to build an
  audio-only one first, cached under benchmarks/work/);
* optionally any `--audio FILE --ref TEXT` pair.

For every engine and model it reports: the cold time (worker start + model load +
transcription), the warm real-time factor (audio seconds per wall second, best of
`--repeat` runs with the model loaded), peak memory of the parent and of the engine
worker (VmHWM from /proc, so the whole model and decode are counted), and WER.
The same decoded audio goes to every engine in the same run; openai-whisper gets the
bundled tiny.en converted by `recast.convert`, so both engines run the same weights.

    python -m benchmarks.bench_transcribe
    python -m benchmarks.bench_transcribe --engines faster-whisper --models tiny.en,base-offline
    python -m benchmarks.bench_transcribe --synth benchmarks/work/wiki-10.mp4 --engines faster-whisper
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.wer import word_error_rate  # noqa: E402
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


def decode(path: Path) -> np.ndarray:
    from faster_whisper import decode_audio  # PyAV; the benchmark does not depend on other stages

    return decode_audio(str(path), sampling_rate=SAMPLE_RATE)


def _peak_rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _worker_pid() -> int | None:
    for worker in tr._WORKERS.values():
        if worker.proc is not None:
            return worker.proc.pid
    return None


def synth_case(minutes: float) -> Path:
    """An audio-only synthetic webinar of about `minutes`, built once."""
    out = WORK / f"synth-{minutes:g}min.m4a"
    if not out.is_file():
        from benchmarks.synth import SynthOptions, sections_for_duration, synthesize

        WORK.mkdir(parents=True, exist_ok=True)
        sections = sections_for_duration(source="wiki", target_seconds=minutes * 60, seed=1, lead_in=45.0)
        synthesize(sections, out, SynthOptions(seed=1, video=False), tts_cache=WORK / "tts-cache")
    return out


def truth_text(media: Path) -> str | None:
    truth = media.with_name(media.name.rsplit(".", 1)[0] + ".truth.json")
    if not truth.is_file():
        return None
    return " ".join(s["text"] for s in json.loads(truth.read_text(encoding="utf-8"))["sentences"])


def run_case(case: Case, engine: str, model: str | None, options: Options, repeat: int) -> dict:
    opts = options.replace(engine=engine, model=model)
    tr.shutdown()  # cold start for each engine/model: worker start + model load counted once
    started = time.perf_counter()
    transcript = tr.transcribe(case.audio, opts)
    cold = time.perf_counter() - started
    warm = []
    for _ in range(repeat):
        started = time.perf_counter()
        transcript = tr.transcribe(case.audio, opts)
        warm.append(time.perf_counter() - started)
    pid = _worker_pid()
    worker_peak = _peak_rss_mib(pid) if pid else None
    duration = case.audio.duration
    row = {
        "case": case.name,
        "engine": engine,
        "model": transcript.model,
        "audio_s": round(duration, 1),
        "cold_s": round(cold, 1),
        "warm_s": round(min(warm), 1) if warm else None,
        "rtf": round(duration / min(warm), 1) if warm else round(duration / cold, 1),
        "words": len(transcript.words),
        "parent_peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "worker_peak_mib": round(worker_peak) if worker_peak else None,
        "wer": round(word_error_rate(case.reference, transcript.text).wer, 4) if case.reference else None,
        "language": transcript.language,
    }
    tr.shutdown()
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="faster-whisper,openai-whisper")
    parser.add_argument("--models", default="default", help="comma-separated; 'default' = each engine's default (bundled tiny.en)")
    parser.add_argument("--audio", type=Path, action="append", default=[], help="extra recording (with --ref)")
    parser.add_argument("--ref", type=Path, action="append", default=[], help="reference transcript for each --audio")
    parser.add_argument("--synth", type=Path, action="append", default=[], help="synthetic webinar made by benchmarks/synth.py")
    parser.add_argument("--synth-minutes", type=float, help="build (once) and add an audio-only synthetic webinar this long")
    parser.add_argument("--no-real", action="store_true", help="skip the real lecture clip")
    parser.add_argument("--repeat", type=int, default=1, help="warm runs per engine/model (best is reported)")
    parser.add_argument("--beam-size", type=int, default=1)
    parser.add_argument("--no-vad", action="store_true")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    cases: list[Case] = []
    if not args.no_real and (REAL / "physicsworks.webm").is_file():
        ref = (REAL / "physicsworks.ref.txt").read_text(encoding="utf-8")
        cases.append(Case("physicsworks (real, 203 s)", Audio(decode(REAL / "physicsworks.webm")), ref))
    elif not args.no_real:
        print(f"note: {REAL} not found; skipping the real lecture clip", file=sys.stderr)
    for audio, ref in zip(args.audio, args.ref + [None] * len(args.audio)):
        cases.append(Case(audio.name, Audio(decode(audio)), ref.read_text(encoding="utf-8") if ref else None))
    synths = list(args.synth) + ([synth_case(args.synth_minutes)] if args.synth_minutes else [])
    for media in synths:
        cases.append(Case(media.name + " (synthetic)", Audio(decode(media)), truth_text(media)))
    if not cases:
        parser.error("nothing to measure")

    options = Options(beam_size=args.beam_size, vad=not args.no_vad, threads=args.threads, device="cpu")
    models = [None if m == "default" else m for m in args.models.split(",")]
    rows = []
    header = f"{'case':32} {'engine':15} {'model':9} {'audio s':>7} {'cold s':>7} {'warm s':>7} {'x RT':>6} {'WER':>7} {'parent MiB':>10} {'worker MiB':>10}"
    print(f"# {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start; beam {args.beam_size}, VAD {'off' if args.no_vad else 'on'}")
    print(header)
    for case in cases:
        for engine in args.engines.split(","):
            for model in models:
                try:
                    row = run_case(case, engine, model, options, args.repeat)
                except Exception as e:  # report and go on to the next configuration
                    print(f"{case.name[:32]:32} {engine:15} {model or 'default':9} failed: {e}")
                    continue
                rows.append(row)
                wer = f"{row['wer']:.2%}" if row["wer"] is not None else "-"
                print(
                    f"{row['case'][:32]:32} {row['engine']:15} {row['model'][:9]:9} {row['audio_s']:7.1f} {row['cold_s']:7.1f} "
                    f"{row['warm_s'] if row['warm_s'] is not None else '-':>7} {row['rtf']:6.1f} {wer:>7} {row['parent_peak_mib']:10} {row['worker_peak_mib'] or '-':>10}",
                    flush=True,
                )
    print(f"# load average {os.getloadavg()[0]:.1f} at the end (other processes share the CPUs: compare rows of one run)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
