"""Load test of the clerk's web app as served (`benefits serve`, waitress).

    python benchmarks/bench_web.py [--clients 10 50] [--requests 40] [--threads 8]

Starts the real server on 127.0.0.1 (a free port, a fresh database in a
temporary folder), then N simulated clerks, each on its own keep-alive
connection with an API token, send a bounded number of requests: every
fourth one saves a new case (POST /api/v1/cases: evaluation + one write
transaction), the others evaluate (POST /api/v1/evaluate). Prints
determinations per second and latency percentiles per concurrency, and the
cost of one Basic-auth call (argon2) against a token call. Asserts nothing;
connects to nothing but 127.0.0.1.
"""
from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_engine import generated  # noqa: E402

HOST = "127.0.0.1"
PASSWORD = "bench-password-1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def wait_for(port: int, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"server stopped: {log.read_text()}")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("server did not start in 120 s")


def hubin_records(texts: list[str]) -> list[dict]:
    """Generated applicants moved to 湖滨区 户籍, so clerk_hubin may save them."""
    out = []
    for text in texts:
        record = json.loads(text)
        record["hukou_county"] = "411202"
        out.append(record)
    return out


def clerk(port: int, headers: dict, work: list[tuple[str, bytes]], out: list, errors: list) -> None:
    conn = http.client.HTTPConnection(HOST, port, timeout=120)
    for path, body in work:
        start = time.perf_counter()
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
        except OSError as exc:
            errors.append(repr(exc))
            conn.close()
            conn = http.client.HTTPConnection(HOST, port, timeout=120)
            continue
        out.append(time.perf_counter() - start)
        if response.status not in (200, 201, 409):
            errors.append(response.status)
    conn.close()


def run_level(port: int, headers: dict, clients: int, per_client: int, records: list[dict], offset: int):
    latencies: list[float] = []
    errors: list = []
    threads = []
    for c in range(clients):
        work = []
        for i in range(per_client):
            record = records[(offset + c * per_client + i) % len(records)]
            path = "/api/v1/cases" if i % 4 == 3 else "/api/v1/evaluate"
            work.append((path, json.dumps(record, ensure_ascii=False).encode()))
        threads.append(threading.Thread(target=clerk, args=(port, headers, work, latencies, errors)))
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    print(f"{clients:>3} clerks × {per_client} requests: {len(latencies)} answered in {elapsed:.1f} s = "
          f"{len(latencies) / elapsed:,.0f} determinations/s; latency p50 {pct(50):.0f} ms  "
          f"p99 {pct(99):.0f} ms  max {latencies[-1] * 1000:.0f} ms; errors {len(errors)}"
          + (f" {errors[:5]}" if errors else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--requests", type=int, default=40, help="requests per clerk (bounded)")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    args = parser.parse_args()
    if max(args.clients) * args.requests > 20_000:
        raise SystemExit("at most 20,000 requests per level")
    benefits = [sys.executable, "-m", "benefits.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "bench.sqlite")
        port = free_port()
        log = Path(tmp) / "server.log"  # a file, not a pipe nobody reads: a full pipe stalls the server
        with log.open("wb") as sink:
            server = subprocess.Popen([*benefits, "serve", "--db", db, "--host", HOST, "--port", str(port),
                                       "--demo-password", PASSWORD, "--threads", str(args.threads)],
                                      cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)
        try:
            wait_for(port, server, log)
            issued = subprocess.run([*benefits, "users", "token", "clerk_hubin", "--db", db], cwd=ROOT,
                                    capture_output=True, text=True, check=True).stdout
            token = next(w for w in issued.split() if w.startswith("bt_"))
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            records = hubin_records(generated(max(args.clients) * args.requests * 2, seed=7))
            print(f"benefits serve (waitress, {args.threads} threads) on {HOST}:{port}, "
                  f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
            run_level(port, headers, 2, 10, records, 0)  # warm-up, not reported separately
            offset = 100
            for clients in args.clients:
                run_level(port, headers, clients, args.requests, records, offset)
                offset += clients * args.requests
            basic = base64.b64encode(f"clerk_hubin:{PASSWORD}".encode()).decode()
            for name, auth in (("API token", headers["Authorization"]), ("Basic (argon2)", f"Basic {basic}")):
                conn = http.client.HTTPConnection(HOST, port, timeout=60)
                times = []
                for _ in range(10):
                    start = time.perf_counter()
                    conn.request("GET", "/api/v1/rules", headers={"Authorization": auth})
                    conn.getresponse().read()
                    times.append(time.perf_counter() - start)
                conn.close()
                times.sort()
                print(f"one GET /api/v1/rules with {name}: median {times[5] * 1000:.0f} ms")
            queued = log.read_text(errors="replace").count("Task queue depth")
            print(f"waitress queue warnings (requests waiting for a thread): {queued}")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
