"""Peak memory of ``benefits estimate`` run as the command (the way the
finance office runs it), summed over its processes: the command itself,
each worker and multiprocessing's resource tracker.

The per-process peak RSS (VmHWM) of every descendant is read from /proc
while the command runs and summed: an upper bound on the simultaneous
total. Also lists, per process, whether the web stack (Flask, sqlite3,
cffi) is mapped into it — the workers must not load it.

Usage: python benchmarks/bench_cli_memory.py [SIZE ...] [--workers N] [--engine columnar|durable]
Default sizes: 20000 200000. Target: ≤ 300 MB.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_estimate import _children, _hwm_kb  # noqa: E402

BENEFITS = str(Path(sys.executable).with_name("benefits"))
WEB_LIBRARIES = ("_sqlite3", "_cffi_backend", "flask", "werkzeug")


def _role(pid: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "?"
    if "resource_tracker" in command:
        return "tracker"
    return "worker" if "multiprocessing" in command else "command"


def _web_mapped(pid: int) -> bool:
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False
    return any(name in maps for name in WEB_LIBRARIES)


class Watcher(threading.Thread):
    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root, self.peaks, self.roles, self.web = root, {}, {}, {}
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(0.2):
            for pid in {self.root} | _children(self.root):
                self.peaks[pid] = max(self.peaks.get(pid, 0), _hwm_kb(pid))
                self.roles.setdefault(pid, _role(pid))
                self.web[pid] = self.web.get(pid, False) or _web_mapped(pid)


def run(size: int, workers: int, folder: Path, engine: str) -> None:
    caseload = folder / f"caseload-{size}.jsonl"
    if not caseload.exists():
        subprocess.run([BENEFITS, "generate", "--size", str(size), "--seed", "1", "--out", str(caseload)],
                       check=True, capture_output=True)
    started = time.perf_counter()
    proc = subprocess.Popen([BENEFITS, "estimate", str(caseload), "--year", "2013", "--out", str(folder / "o.xlsx"),
                             "--workers", str(workers), "--engine", engine, "--quiet"], stdout=subprocess.DEVNULL)
    watcher = Watcher(proc.pid)
    watcher.start()
    proc.wait()
    watcher.stop.set()
    watcher.join()
    elapsed = time.perf_counter() - started
    assert proc.returncode == 0, proc.returncode
    by_role: dict[str, list[int]] = {}
    for pid, kb in watcher.peaks.items():
        by_role.setdefault(watcher.roles[pid], []).append(kb)
    total = sum(watcher.peaks.values())
    parts = " + ".join(f"{role} {' + '.join(f'{kb / 1024:.0f}' for kb in sorted(kbs))}"
                       for role, kbs in sorted(by_role.items()))
    web = sorted(watcher.roles[pid] for pid, mapped in watcher.web.items() if mapped)
    print(f"{size:>9,} applicants  engine={engine}  workers={workers}  {elapsed:6.1f} s  peak memory {total / 1024:.0f} MB "
          f"= {parts} MB;  web stack loaded in: {', '.join(web) or 'none'}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[20_000, 200_000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--engine", choices=("columnar", "durable"), default="columnar")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            run(size, args.workers, Path(folder), args.engine)


if __name__ == "__main__":
    main()
