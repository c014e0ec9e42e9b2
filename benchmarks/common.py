"""Shared helpers for the end-to-end and batch benchmarks: run a command while
measuring its whole process tree (peak memory, CPU), describe the machine, and
print result tables as text or Markdown.

Memory is the resident set size (RSS) summed over the process and all of its
descendants, sampled every 0.2 s with psutil. The sum counts pages shared
between processes (the Python runtime, mapped libraries) once per process, so
it errs on the high side; a child that lives less than one sampling interval
can be missed. Beside it we report `ru_maxrss` from `wait4()`: the largest
single process of the tree (exact, kernel-measured, but not a sum).

CPU time comes from `wait4()` too: user + system seconds of the process and
every descendant it waited for, which is exact for our tree (subprocess and
multiprocessing both reap their children). When a tree is not reaped by us
(a Dask cluster's workers), the sampled per-process CPU times are used instead.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import psutil

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / "work"  # git-ignored scratch: recordings, outputs
SAMPLE_INTERVAL = 0.2  # seconds between memory/CPU samples

if str(ROOT) not in sys.path:  # run as a script from anywhere: recast is importable
    sys.path.insert(0, str(ROOT))


# ----------------------------------------------------------------------- machine


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.platform()


def ffmpeg_version() -> tuple[str, str]:
    """(path, first line of `-version`) of the ffmpeg recast itself uses."""
    from recast.ffmpeg import ffmpeg_exe

    exe = ffmpeg_exe()
    try:
        out = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, text=True, timeout=30).stdout
        first = out.splitlines()[0] if out else "unknown"
    except (OSError, subprocess.SubprocessError) as e:
        first = f"unknown ({e})"
    return str(exe), first


def machine() -> dict[str, object]:
    """What the figures were measured on."""
    import recast

    exe, version = ffmpeg_version()
    vm = psutil.virtual_memory()
    return {
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count() or 0,
        "physical_cores": psutil.cpu_count(logical=False) or 0,
        "ram_gib": round(vm.total / 2**30, 1),
        "ram_available_gib": round(vm.available / 2**30, 1),
        "os": os_name(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "recast": recast.__version__,
        "ffmpeg": version,
        "ffmpeg_path": exe,
        "loadavg": tuple(round(x, 2) for x in os.getloadavg()),
        "git_head": git_head(),
        "code": code_fingerprint(),
    }


def machine_lines(info: dict[str, object]) -> list[str]:
    return [
        f"CPU: {info['cpu']} ({info['logical_cores']} logical cores, {info['physical_cores']} physical)",
        f"RAM: {info['ram_gib']} GiB ({info['ram_available_gib']} GiB available at start)",
        f"OS: {info['os']}, kernel {info['kernel']}; Python {info['python']}; recast {info['recast']}",
        f"ffmpeg: {info['ffmpeg']} ({info['ffmpeg_path']})",
        f"recast source: commit {info.get('git_head', '?')}, working-tree fingerprint {info.get('code', '?')}",
        "load average (1, 5, 15 min) at start: {}, {}, {}".format(*info["loadavg"]),
    ]


def code_fingerprint() -> str:
    """Short hash of the recast package's source as it is on disk now: the figures
    belong to this code (the working tree may hold uncommitted changes)."""
    import hashlib

    h = hashlib.sha256()
    for path in sorted((ROOT / "recast").rglob("*.py")):
        h.update(path.relative_to(ROOT).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def git_head() -> str:
    """The commit checked out (read-only query), or "unknown"."""
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


# ----------------------------------------------------------------------- measuring


@dataclass
class Measurement:
    """What one measured command used."""

    argv: list[str]
    returncode: int
    wall: float  # seconds
    stdout: str
    stderr: str
    peak_tree_rss: int  # bytes: the largest sampled sum over the tree
    peak_single_rss: int  # bytes: ru_maxrss of the largest single process (wait4), or the sampled max
    cpu_seconds: float  # user + system of the whole tree
    cpu_source: str  # "wait4" (exact) or "sampled"
    max_processes: int  # most processes alive in the tree at one sample
    system_busy: float  # share of all cores busy machine-wide during the run (0..1), others' work included
    load_start: tuple[float, float, float]
    load_end: tuple[float, float, float]
    samples: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def cpu_use(self) -> float:
        """Cores kept busy on average by this tree (CPU seconds / wall seconds)."""
        return self.cpu_seconds / self.wall if self.wall > 0 else 0.0


class TreeSampler:
    """Samples RSS and CPU times of a process tree in a background thread.

    `roots()` gives the processes whose trees are measured (re-evaluated on every
    sample, so a cluster that starts processes later is still covered).
    """

    def __init__(self, roots: Callable[[], Sequence[psutil.Process]], interval: float = SAMPLE_INTERVAL):
        self.roots = roots
        self.interval = interval
        self.peak_rss = 0
        self.peak_single = 0
        self.max_processes = 0
        self.samples = 0
        self._cpu: dict[tuple[int, float], float] = {}  # (pid, create time) -> last seen user+sys
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tree-sampler", daemon=True)

    def __enter__(self) -> "TreeSampler":
        psutil.cpu_percent(None)  # starts the machine-wide busy measurement
        self._cpu_start = psutil.cpu_times()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        end = psutil.cpu_times()
        busy = lambda t: t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0)  # noqa: E731
        total = lambda t: busy(t) + t.idle + getattr(t, "iowait", 0)  # noqa: E731
        span = total(end) - total(self._cpu_start)
        self.system_busy = (busy(end) - busy(self._cpu_start)) / span if span > 0 else 0.0

    def _tree(self) -> list[psutil.Process]:
        procs: dict[int, psutil.Process] = {}
        for root in self.roots():
            try:
                procs[root.pid] = root
                for child in root.children(recursive=True):
                    procs[child.pid] = child
            except psutil.Error:
                continue
        return list(procs.values())

    def sample(self) -> None:
        total = 0
        alive = 0
        for p in self._tree():
            try:
                with p.oneshot():
                    rss = p.memory_info().rss
                    t = p.cpu_times()
                    key = (p.pid, p.create_time())
            except psutil.Error:
                continue
            alive += 1
            total += rss
            self.peak_single = max(self.peak_single, rss)
            self._cpu[key] = t.user + t.system
        self.peak_rss = max(self.peak_rss, total)
        self.max_processes = max(self.max_processes, alive)
        self.samples += 1

    @property
    def cpu_seconds(self) -> float:
        return sum(self._cpu.values())

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)


def tree_cpu(roots: Sequence[psutil.Process]) -> float:
    """User + system CPU seconds of live processes and their descendants, with what
    each has collected from children it reaped (psutil's children_user/system)."""
    seen: set[int] = set()
    total = 0.0
    for root in roots:
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            continue
        for p in procs:
            if p.pid in seen:
                continue
            seen.add(p.pid)
            try:
                t = p.cpu_times()
            except psutil.Error:
                continue
            total += t.user + t.system + t.children_user + t.children_system
    return total


def measure(argv: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float | None = None,
            extra_roots: Callable[[], Sequence[psutil.Process]] | None = None) -> Measurement:
    """Run `argv` to the end, sampling its process tree; collect stdout/stderr.

    `extra_roots`: processes started elsewhere that do the command's work (a Dask
    cluster's workers): their trees count in memory, and their CPU time used
    during the run is added (measured from their live CPU counters).
    """
    argv = [str(a) for a in argv]
    extra_roots = extra_roots or (lambda: [])
    extra_cpu_start = tree_cpu(extra_roots())
    load_start = os.getloadavg()
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd, text=True)
    try:
        root = psutil.Process(proc.pid)
    except psutil.NoSuchProcess:  # already gone: it still gets reaped below
        root = None
    out_chunks: list[str] = []
    err_chunks: list[str] = []
    readers = [threading.Thread(target=lambda s=s, b=b: b.append(s.read()), daemon=True)
               for s, b in ((proc.stdout, out_chunks), (proc.stderr, err_chunks))]
    for r in readers:
        r.start()
    sampler = TreeSampler(lambda: ([root] if root is not None else []) + list(extra_roots()))
    deadline = time.monotonic() + timeout if timeout else None
    with sampler:
        # wait4 reaps the child ourselves so its rusage (covering every descendant
        # it waited for) is that of this command alone.
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            if deadline and time.monotonic() > deadline:
                for p in [root, *(root.children(recursive=True) if root else [])]:
                    try:
                        p.kill()
                    except (psutil.Error, AttributeError):
                        pass
            time.sleep(0.05)
    wall = time.perf_counter() - start
    extra_cpu = max(0.0, tree_cpu(extra_roots()) - extra_cpu_start)
    proc.returncode = os.waitstatus_to_exitcode(status)
    for r in readers:
        r.join()
    return Measurement(
        argv=argv,
        returncode=proc.returncode,
        wall=wall,
        stdout="".join(out_chunks),
        stderr="".join(err_chunks),
        peak_tree_rss=sampler.peak_rss,
        peak_single_rss=max(usage.ru_maxrss * 1024, sampler.peak_single),  # Linux: ru_maxrss in KiB
        cpu_seconds=usage.ru_utime + usage.ru_stime + extra_cpu,
        cpu_source="wait4" + (" + live counters of the extra processes" if extra_cpu else ""),
        max_processes=sampler.max_processes,
        system_busy=sampler.system_busy,
        load_start=load_start,
        load_end=os.getloadavg(),
        samples=sampler.samples,
        extra={"sampled_cpu_seconds": round(sampler.cpu_seconds, 2)},
    )


# ----------------------------------------------------------------------- printing


def gb(n: float) -> str:
    """Decimal gigabytes, the unit the memory targets are given in."""
    return f"{n / 1e9:.2f} GB"


def secs(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x:.2f} s" if x < 10 else f"{x:.1f} s"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, markdown: bool = False) -> str:
    """A plain-text table with aligned columns, or a Markdown pipe table."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    if markdown:
        esc = lambda s: s.replace("|", "\\|")  # noqa: E731
        lines = ["| " + " | ".join(esc(c) for c in cells[0]) + " |",
                 "|" + "|".join("---" if i == 0 else "---:" for i in range(len(headers))) + "|"]
        lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in cells[1:]]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    out = []
    for n, row in enumerate(cells):
        out.append("  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row)))
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def media_seconds(path: Path) -> float:
    """Duration of a recording, read the way recast reads it (PyAV)."""
    from recast.probe import probe

    return probe(Path(path)).duration

