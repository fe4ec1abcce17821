"""Load test of the clerk's web app as served (`benefits serve`, waitress).

    python benchmarks/bench_web.py [--clients 10 50] [--requests 40] [--threads 8]

Starts the real server on 127.0.0.1 (a free port, a fresh database in a
temporary folder), then N simulated clerks, each on its own keep-alive
connection, send a bounded number of requests, in two ways:

- API: with an API token; every fourth request saves a new case (POST
  /api/v1/cases: evaluation + one write transaction), the others evaluate
  (POST /api/v1/evaluate).
- form: each clerk logs in through /login (argon2, timed), opens /intake
  for its CSRF token, then posts the intake form (action=evaluate: the
  determination page) the same number of times.

Prints per level: determinations per second, the client's latency
p50/p95/p99, and the **server-side** time per request and per
determination from the ``Server-Timing`` header (``app``: inside Flask;
``eval``: the engine), p50/p95/p99; for the form, the log-in time. Then
the cost of one Basic-auth call (argon2) against a token call, and the
load average (``uptime``) before and after, which the figures depend on.
Asserts nothing; connects to nothing but 127.0.0.1.
"""
from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_engine import generated  # noqa: E402
from benefits.web.form import record_to_form  # noqa: E402

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


TIMING = re.compile(r"(\w+);dur=([\d.]+)")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Sample:
    """What one level measured: client latencies, Server-Timing app/eval, log-ins, errors."""

    def __init__(self):
        self.latency, self.app, self.eval, self.login, self.errors = [], [], [], [], []
        self.by_path: dict[str, list[float]] = {}
        self.lock = threading.Lock()

    def add(self, seconds: float, response, path: str = "") -> None:
        timing = dict(TIMING.findall(response.getheader("Server-Timing") or ""))
        with self.lock:
            self.latency.append(seconds)
            if "app" in timing:
                self.app.append(float(timing["app"]) / 1000)
                self.by_path.setdefault(path, []).append(float(timing["app"]) / 1000)
            if "eval" in timing:
                self.eval.append(float(timing["eval"]) / 1000)


class Browser:
    """One keep-alive connection that keeps the session cookie."""

    def __init__(self, port: int):
        self.port, self.cookie = port, ""
        self.conn = http.client.HTTPConnection(HOST, port, timeout=120)

    def send(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except OSError:
            self.conn.close()
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=120)
            raise
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return response, data

    def csrf(self, path: str) -> str:
        return CSRF.search(self.send("GET", path)[1].decode()).group(1)


def api_clerk(port: int, headers: dict, work: list[tuple[str, bytes]], sample: Sample) -> None:
    browser = Browser(port)
    for path, body in work:
        start = time.perf_counter()
        try:
            response, _ = browser.send("POST", path, body, headers)
        except OSError as exc:
            sample.errors.append(repr(exc))
            continue
        sample.add(time.perf_counter() - start, response, path)
        if response.status not in (200, 201, 409):
            sample.errors.append(response.status)
    browser.conn.close()


def form_clerk(port: int, username: str, work: list[bytes], sample: Sample) -> None:
    browser = Browser(port)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    try:
        token = browser.csrf("/login")
        start = time.perf_counter()
        response, _ = browser.send("POST", "/login", urllib.parse.urlencode(
            {"username": username, "password": PASSWORD, "csrf_token": token}).encode(), form)
        sample.login.append(time.perf_counter() - start)
        if response.status != 302:
            sample.errors.append(f"login {response.status}")
            return
        token = browser.csrf("/intake")
        for body in work:
            start = time.perf_counter()
            response, page = browser.send("POST", "/intake", body + f"&csrf_token={token}".encode(), form)
            sample.add(time.perf_counter() - start, response)
            if response.status != 200 or "评估结果" not in page.decode():
                sample.errors.append(f"form {response.status}")
    except OSError as exc:
        sample.errors.append(repr(exc))
    finally:
        browser.conn.close()


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))] * 1000 if values else float("nan")


def spread(values: list[float]) -> str:
    return f"p50 {pct(values, 50):.0f} / p95 {pct(values, 95):.0f} / p99 {pct(values, 99):.0f} ms"


def run_level(port: int, kind: str, clients: int, per_client: int, records: list[dict], offset: int,
              headers: dict, usernames: list[str], quiet: bool = False) -> None:
    sample = Sample()
    threads = []
    for c in range(clients):
        chosen = [records[(offset + c * per_client + i) % len(records)] for i in range(per_client)]
        if kind == "API":
            work = [("/api/v1/cases" if i % 4 == 3 else "/api/v1/evaluate",
                     json.dumps(r, ensure_ascii=False).encode()) for i, r in enumerate(chosen)]
            threads.append(threading.Thread(target=api_clerk, args=(port, headers, work, sample)))
        else:
            work = [urllib.parse.urlencode({**record_to_form(r), "action": "evaluate"}).encode() for r in chosen]
            threads.append(threading.Thread(target=form_clerk, args=(port, usernames[c % len(usernames)], work,
                                                                     sample)))
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if quiet:
        return
    print(f"{kind:>4} {clients:>3} clerks × {per_client}: {len(sample.latency)} answered in {elapsed:.1f} s = "
          f"{len(sample.latency) / elapsed:,.0f}/s; errors {len(sample.errors)}"
          + (f" {sample.errors[:5]}" if sample.errors else ""))
    print(f"       client latency    {spread(sample.latency)}")
    print(f"       server, request   {spread(sample.app)}   (Server-Timing app)")
    print(f"       server, engine    {spread(sample.eval)}   (Server-Timing eval: one determination)")
    if len(sample.by_path) > 1:
        for path, values in sorted(sample.by_path.items()):
            print(f"         {path:<18} {spread(values)}   (Server-Timing app, {len(values)} requests)")
    if sample.login:
        print(f"       log-in (argon2)   {spread(sample.login)}")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def make_clerks(db: str, count: int) -> list[str]:
    """Clerks of 湖滨区 for the form level, one per simulated clerk (the
    log-in back-off counts per name and address: one name for all would
    not be 50 clerks). Written straight into the served database."""
    from benefits.web import store
    from benefits.web.auth import hasher
    connection = store.connect(db)
    names = [f"bench_clerk_{i}" for i in range(count)]
    try:
        for name in names:
            store.add_user(connection, name, hasher.hash(PASSWORD), "clerk", "411202", name)
    finally:
        connection.close()
    return names


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
            usernames = make_clerks(db, max(args.clients))
            print(f"load average (1, 5, 15 min) before: {load()}")
            run_level(port, "API", 2, 10, records, 0, headers, usernames, quiet=True)  # warm-up
            offset = 100
            for kind in ("API", "form"):
                for clients in args.clients:
                    run_level(port, kind, clients, args.requests, records, offset, headers, usernames)
                    offset += clients * args.requests
                    print(f"       load average after: {load()}")
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
            from benefits.web.auth import ARGON2
            print(f"argon2id parameters: {ARGON2}")
            queued = log.read_text(errors="replace").count("Task queue depth")
            print(f"waitress queue warnings (requests waiting for a thread): {queued}")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
