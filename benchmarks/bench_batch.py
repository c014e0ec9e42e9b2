"""Batch benchmark: an archive of mixed recordings through `recast batch`.

The archive (benchmarks/work/batch-archive, made on first use) holds 8
synthetic recordings of 1 to 6 minutes from benchmarks/synth.py (different
Wikipedia articles, lengths and seeds; half video at 1280x720, half audio-only
.m4a) and 2 broken files: an MP4 cut off at 40 % of its bytes and a 0-byte
.mp4. It is processed three times, each with a fresh output folder and a fresh
transcript cache (RECAST_CACHE_DIR), so every configuration really transcribes:

  jobs1  `recast batch ARCHIVE -o OUT --jobs 1`
  jobs2  `recast batch ARCHIVE -o OUT --jobs 2`
  dask   `recast batch ARCHIVE -o OUT --scheduler ADDR` on a local Dask cluster
         (distributed.LocalCluster, 2 worker processes, 1 thread each)

For each: wall time of the whole command, sessions built per wall hour, audio
hours built per wall hour, CPU use of the whole process tree (cores kept busy)
and how busy the machine was overall (others' work included), peak memory of
the tree, and the broken files' reasons. Then the speed-up of 2 workers over
1 (target: at least 1.3x). A speed-up needs idle cores: when one worker
already keeps the cores busy, a second can only share them, which the CPU
figures show.

    python benchmarks/bench_batch.py                 # all three configurations
    python benchmarks/bench_batch.py --configs jobs1 jobs2 --markdown
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import WORK, gb, machine, machine_lines, measure, secs, table  # noqa: E402

ARCHIVE = WORK / "batch-archive"
CONFIGS = ("jobs1", "jobs2", "dask")
SPEEDUP_TARGET = 1.3

# (file name, article, target seconds of speech, seed, video?). Articles spoken in
# the hour-long recording, so their sentences come from the TTS cache when both are made.
RECORDINGS = (
    ("afghanistan-6min.mp4", "Afghanistan", 345, 11, True),
    ("animation-4min.m4a", "Animation", 230, 12, False),
    ("afroasiatic-3min.mp4", "Afroasiatic languages", 170, 13, True),
    ("atomic-number-2min.m4a", "Atomic number", 110, 14, False),
    ("afghanistan-1min.m4a", "Afghanistan", 55, 15, False),
    ("animation-5min.mp4", "Animation", 290, 16, True),
    ("afroasiatic-2min.m4a", "Afroasiatic languages", 140, 17, False),
    ("atomic-number-1min.mp4", "Atomic number", 75, 18, True),
)
TRUNCATED = "truncated.mp4"  # the first 40 % of afghanistan-6min.mp4
EMPTY = "empty.mp4"  # 0 bytes


def make_archive(archive: Path = ARCHIVE) -> list[Path]:
    from benchmarks.synth import SynthOptions, sections_for_duration, synthesize

    archive.mkdir(parents=True, exist_ok=True)
    for name, article, seconds, seed, video in RECORDINGS:
        out = archive / name
        if out.is_file():
            continue
        lead_in = 8.0 + seed % 5
        sections = sections_for_duration(source="wiki", target_seconds=seconds, articles=[article], seed=seed,
                                         lead_in=lead_in)
        print(f"synthesising {name} ...", file=sys.stderr, flush=True)
        synthesize(sections, out, SynthOptions(seed=seed, lead_in=lead_in, video=video, webinar_title=article),
                   tts_cache=WORK / "tts-cache")
    for p in archive.glob("*.truth.json"):  # ground truth lives elsewhere: only media in the archive
        truth_dir = WORK / "batch-truth"
        truth_dir.mkdir(exist_ok=True)
        p.replace(truth_dir / p.name)
    whole = (archive / RECORDINGS[0][0]).read_bytes()
    (archive / TRUNCATED).write_bytes(whole[: int(len(whole) * 0.4)])
    (archive / EMPTY).write_bytes(b"")
    return archive_files(archive)


def archive_files(archive: Path = ARCHIVE) -> list[Path]:
    return sorted([archive / r[0] for r in RECORDINGS] + [archive / TRUNCATED, archive / EMPTY])


@dataclass
class BatchRun:
    config: str
    measurement: dict
    report: dict

    @property
    def wall(self) -> float:
        return self.measurement["wall"]

    @property
    def built(self) -> int:
        return int(self.report.get("summary", {}).get("built", 0))

    @property
    def audio_hours(self) -> float:
        return sum(i["duration"] for i in self.report.get("items", []) if i["status"] == "built") / 3600

    @property
    def sessions_per_hour(self) -> float:
        return self.built / (self.wall / 3600) if self.wall else 0.0

    @property
    def audio_hours_per_hour(self) -> float:
        return self.audio_hours / (self.wall / 3600) if self.wall else 0.0

    @property
    def cpu_use(self) -> float:
        return self.measurement["cpu_seconds"] / self.wall if self.wall else 0.0


def run_config(config: str, files: list[Path]) -> BatchRun:
    scratch = Path(tempfile.mkdtemp(prefix=f"batch-{config}-", dir=WORK))
    outdir, cache = scratch / "site", scratch / "cache"
    env = dict(os.environ, RECAST_CACHE_DIR=str(cache), PYTHONUNBUFFERED="1")
    argv = [sys.executable, "-m", "recast", "batch", *map(str, files), "-o", str(outdir)]
    cluster = None
    extra = None
    try:
        if config == "dask":
            from distributed import LocalCluster

            cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
            argv += ["--scheduler", cluster.scheduler_address]
            me = psutil.Process()

            def extra() -> list[psutil.Process]:
                # The cluster's nannies and workers are children of this process (so is
                # the measured command itself; the sampler counts each process once).
                return me.children()
        else:
            argv += ["--jobs", config.removeprefix("jobs")]
        print(f"running {config}: recast batch ... -o {outdir}{argv[-2:] if config == 'dask' else ''}",
              file=sys.stderr, flush=True)
        m = measure(argv, env=env, cwd=ROOT, extra_roots=extra)
        report_path = outdir / "batch-report.json"
        report = json.loads(report_path.read_text()) if report_path.is_file() else {}
        if not report:
            print(f"{config}: no batch report (exit {m.returncode}):\n{m.stderr[-3000:]}", file=sys.stderr)
        mdict = asdict(m)
        mdict.pop("stdout")
        mdict["stderr_tail"] = mdict.pop("stderr")[-3000:]
        return BatchRun(config, mdict, report)
    finally:
        if cluster is not None:
            cluster.close()
        shutil.rmtree(scratch, ignore_errors=True)


def results_table(runs: list[BatchRun], markdown: bool) -> str:
    headers = ["configuration", "wall", "built", "failed", "audio built", "sessions / hour", "audio h / wall h",
               "CPU use (tree)", "machine busy", "peak tree RSS", "load 1-min"]
    rows = []
    for r in runs:
        m = r.measurement
        s = r.report.get("summary", {})
        rows.append([
            r.config, secs(r.wall), r.built, s.get("failed", "?"), f"{r.audio_hours * 60:.1f} min",
            f"{r.sessions_per_hour:.0f}", f"{r.audio_hours_per_hour:.1f}", f"{r.cpu_use:.2f} cores",
            f"{m['system_busy']:.0%}", gb(m["peak_tree_rss"]), f"{m['load_start'][0]:.1f} → {m['load_end'][0]:.1f}",
        ])
    return table(headers, rows, markdown=markdown)


def items_table(run: BatchRun, markdown: bool) -> str:
    rows = []
    for i in run.report.get("items", []):
        reason = i["reason"].replace(str(ARCHIVE) + "/", "")
        rows.append([Path(i["path"]).name, i["status"], f"{i['duration'] / 60:.1f} min" if i["duration"] else "–",
                     secs(i["seconds"]) if i["seconds"] else "–", secs(i["stages"].get("transcribe")) if i["stages"] else "–",
                     reason or "–"])
    return table(["recording", "status", "length", "seconds", "of which transcribe", "reason"], rows, markdown=markdown)


def render(info: dict, runs: list[BatchRun], md: bool) -> None:
    bullet = "- " if md else ""
    print("\n".join(bullet + line for line in machine_lines(info)))
    if "loadavg_end" in info:
        print(bullet + "load average (1, 5, 15 min) at end: {}, {}, {}".format(*info["loadavg_end"]))
    total_audio = sum(r[2] for r in RECORDINGS)
    print(f"{bullet}archive: {info.get('archive_files', '?')} files ({len(RECORDINGS)} recordings, about "
          f"{total_audio / 60:.0f} min of speech plus lead-ins; {sum(not r[4] for r in RECORDINGS)} audio-only; 2 broken)")
    print()
    print(results_table(runs, md))
    by = {r.config: r for r in runs}
    base = by.get("jobs1")
    if base is not None:
        print()
        for other in ("jobs2", "dask"):
            if other in by and by[other].wall:
                speedup = base.wall / by[other].wall
                verdict = "meets" if speedup >= SPEEDUP_TARGET else "MISSES"
                print(f"{bullet}speed-up of {other} over jobs1: {speedup:.2f}× (target ≥ {SPEEDUP_TARGET}×): {verdict}")
        print(f"{bullet}jobs1 kept {base.cpu_use:.2f} of {info.get('logical_cores', '?')} cores busy itself; the machine "
              f"as a whole was {base.measurement['system_busy']:.0%} busy during it")
    for r in runs:
        print()
        print(f"Per recording ({r.config}):")
        print()
        print(items_table(r, md))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--configs", nargs="+", choices=CONFIGS, default=list(CONFIGS))
    ap.add_argument("--make-only", action="store_true", help="build the archive and stop")
    ap.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    ap.add_argument("--json", type=Path, help="also write every measurement to this file")
    ap.add_argument("--from-json", type=Path, nargs="+", help="print the tables of saved --json files, measuring nothing")
    args = ap.parse_args(argv)

    if args.from_json:
        for path in args.from_json:
            data = json.loads(path.read_text())
            render(data["machine"], [BatchRun(**r) for r in data["runs"]], args.markdown)
        return 0
    files = make_archive()
    if args.make_only:
        print("\n".join(str(p) for p in files))
        return 0
    info = machine()
    runs = []
    for config in args.configs:
        runs.append(run_config(config, files))
        r = runs[-1]
        print(f"  {config}: wall {r.wall:.1f} s, {r.built} built, CPU use {r.cpu_use:.2f} cores, "
              f"machine busy {r.measurement['system_busy']:.0%}", file=sys.stderr, flush=True)
    info["loadavg_end"] = tuple(round(x, 2) for x in os.getloadavg())
    info["archive_files"] = len(files)
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "runs": [asdict(r) for r in runs]}, indent=1))
    render(info, runs, args.markdown)
    return 0 if all(r.report for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
