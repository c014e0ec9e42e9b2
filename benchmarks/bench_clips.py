"""How long do the chapter clips of an hour-long recording take?

Makes (once, cached in benchmarks/work/) a 60-minute 1280x720 30 fps H.264 High
recording with B-frames, 5 s keyframe interval and AAC audio, from a 6-minute lavfi
piece repeated by stream copy; cuts it into 10 chapters of about 6 minutes whose
boundaries fall between keyframes, and times:

- encode mode with the smart cut (frame-accurate; the default),
- encode mode with a full re-encode (by default one chapter, extrapolated to all;
  `--full-all` encodes every chapter),
- copy mode (keyframe-snapped),
- the thumbnails.

Each result is checked: clip durations against the chapters, in frames.

    python benchmarks/bench_clips.py            # about 2 minutes on 2 cores once the source exists
    python benchmarks/bench_clips.py --minutes 12 --full-all
    python benchmarks/bench_clips.py --codec vp9  # BigBlueButton's VP9 + Opus WebM
    python benchmarks/bench_clips.py --codec av1  # AV1 + Opus WebM, as yt-dlp downloads from YouTube (--web-video modern)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from recast.clips import make_clips  # noqa: E402
from recast.config import Options  # noqa: E402
from recast.ffmpeg import ffmpeg_exe, run_ffmpeg  # noqa: E402
from recast.models import Chapter  # noqa: E402
from recast.probe import probe  # noqa: E402
from recast.thumbnails import make_thumbnails  # noqa: E402

WORK = ROOT / "benchmarks" / "work"  # git-ignored
PIECE_SECONDS = 360  # 6 minutes, repeated to make the recording
FPS = 30


def make_source(minutes: int, height: int, codec: str = "h264") -> Path:
    """A screen-share-like hour: test pattern + tone, H.264 High with B-frames and AAC,
    or (`codec` vp9) VP9 + Opus WebM as BigBlueButton and browsers record, or (av1)
    AV1 + Opus WebM as yt-dlp downloads from YouTube; GOP 5 s."""
    width = height * 16 // 9 // 2 * 2
    ext = ".webm" if codec in ("vp9", "av1") else ".mp4"
    tag = "" if codec == "h264" else f"-{codec}"
    out = WORK / f"bench-clips-{minutes}min-{height}p{tag}{ext}"
    if out.exists():
        return out
    WORK.mkdir(parents=True, exist_ok=True)
    piece = WORK / f".piece-{height}p{ext}"
    t0 = time.perf_counter()
    coding = {
        "vp9": ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1", "-b:v", "1500k",
                "-g", str(5 * FPS), "-c:a", "libopus", "-b:a", "64k"],
        "av1": ["-c:v", "libsvtav1", "-preset", "12", "-crf", "35", "-g", str(5 * FPS), "-c:a", "libopus", "-b:a", "64k"],
        "h264": ["-c:v", "libx264", "-preset", "superfast", "-g", str(5 * FPS), "-keyint_min", str(5 * FPS),
                 "-sc_threshold", "0", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k"],
    }[codec]
    run_ffmpeg(
        [
            "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={FPS}:duration={PIECE_SECONDS}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={PIECE_SECONDS}",
            *coding, "-pix_fmt", "yuv420p", "-ac", "2", str(piece),
        ],
        what="making the benchmark piece",
    )  # fmt: skip
    repeats = max(1, round(minutes * 60 / PIECE_SECONDS))
    listing = WORK / ".pieces.txt"
    listing.write_text("".join(f"file '{piece.name}'\n" for _ in range(repeats)))
    tmp = out.with_name(".part-" + out.name)
    run_ffmpeg(
        ["-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy",
         *(["-movflags", "+faststart"] if ext == ".mp4" else []), str(tmp)],
        what="joining the benchmark pieces",
    )
    os.replace(tmp, out)
    piece.unlink()
    listing.unlink()
    print(f"made {out.name} in {time.perf_counter() - t0:.0f} s", flush=True)
    return out


def chapters_for(duration: float, count: int) -> list[Chapter]:
    """`count` chapters of uneven length whose inner boundaries fall on frames between keyframes."""
    weights = [1.0 + 0.15 * ((i * 7) % 5 - 2) for i in range(count)]
    total = sum(weights)
    bounds = [0.0]
    for w in weights[:-1]:
        t = bounds[-1] + duration * w / total
        t = round(t * FPS) / FPS
        if min(t % 5, 5 - t % 5) < 0.2:  # keep it off the 5 s keyframe grid
            t += 37 / FPS
        bounds.append(t)
    bounds.append(duration)
    return [Chapter(i + 1, a, b, f"Chapter {i + 1}") for i, (a, b) in enumerate(zip(bounds, bounds[1:]))]


def frames_of(path: Path) -> int:
    import av

    with av.open(str(path)) as c:
        # WebM states no frame count: count the packets
        return c.streams.video[0].frames or sum(1 for p in c.demux(video=0) if p.size)


def timed(label: str, fn):
    t0 = time.perf_counter()
    result = fn()
    took = time.perf_counter() - t0
    print(f"{label:<42} {took:8.1f} s", flush=True)
    return result, took


def check(clips, chapters) -> str:
    worst = 0
    for clip, ch in zip(clips, chapters):
        want = round((clip.end - clip.start) * FPS)
        worst = max(worst, abs(frames_of(clip.path) - want))
    drift = max(abs(c.start - ch.start) for c, ch in zip(clips, chapters))
    late = max(c.end - ch.end for c, ch in zip(clips, chapters))
    return (f"{len(clips)} clips, worst frame-count error {worst}, largest start shift {drift:.2f} s, "
            f"latest end {late:+.2f} s")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=int, default=60)
    ap.add_argument("--height", type=int, default=720)
    ap.add_argument("--chapters", type=int, default=10)
    ap.add_argument("--full-all", action="store_true", help="full re-encode of every chapter, not just one")
    ap.add_argument("--no-full", action="store_true", help="skip the full re-encode (minutes)")
    ap.add_argument("--keep", action="store_true", help="keep the clips in benchmarks/work/bench-clips-out")
    ap.add_argument("--codec", choices=("h264", "vp9", "av1"), default="h264",
                    help="vp9, av1: a VP9 or AV1 + Opus WebM source (smart-cut clips are WebM)")
    args = ap.parse_args(argv)

    src = make_source(args.minutes, args.height, args.codec)
    media = probe(src)
    chapters = chapters_for(media.duration, args.chapters)
    print(f"source: {src.name}, {media.duration / 60:.1f} min {media.width}x{media.height} "
          f"{media.fps:.0f} fps, {src.stat().st_size / 1e6:.0f} MB; {len(chapters)} chapters; "
          f"{os.cpu_count()} cores; ffmpeg {ffmpeg_exe()}")  # fmt: skip
    out = WORK / "bench-clips-out"
    shutil.rmtree(out, ignore_errors=True)

    # AV1 is kept as it is only for modern browsers (by default it becomes H.264 for Safari)
    base = Options(web_video="modern" if args.codec == "av1" else "wide")
    smart, t_smart = timed("encode, smart cut (all chapters)", lambda: make_clips(media, chapters, None, out / "smart", base))
    print("   ", check(smart, chapters))
    copy, t_copy = timed("copy (all chapters)", lambda: make_clips(media, chapters, None, out / "copy", base.replace(clips="copy")))
    print("   ", check(copy, chapters))
    thumbs, _ = timed("thumbnails (poster + chapters)", lambda: make_thumbnails(media, chapters, None, out / "thumbs"))
    print(f"    {len(thumbs)} pictures, {sum(t.path.stat().st_size for t in thumbs) / 1e3:.0f} KB in all")

    if not args.no_full:
        subset = chapters if args.full_all else chapters[:1]
        full, t_full = timed(
            f"encode, full re-encode ({len(subset)} chapter{'s' if len(subset) > 1 else ''})",
            lambda: make_clips(media, subset, None, out / "full", base.replace(smart_cut=False)),
        )
        print("   ", check(full, subset))
        share = sum(c.duration for c in subset) / sum(c.duration for c in chapters)
        if not args.full_all:
            # One chapter has every core to itself; all of them in parallel share the same cores.
            print(f"{'encode, full re-encode (all, extrapolated)':<42} {t_full / share:8.1f} s")
        print(f"smart cut speed-up over full re-encode: {t_full / share / t_smart:.0f}x")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
