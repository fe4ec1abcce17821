"""The /policy page on the generated 140,000-person caseload, in Chromium
(issue 9: a parameter change answered within 3 s). Prints figures, never
asserts.

Starts the real ``benefits serve`` (waitress) on a fresh database, logs in
as policy in Debian's headless Chromium (Playwright, as the e2e tests), and
changes the 低保 top-up ratio: the seconds from the click on 开始测算 until
the result's delta table shows. The first run includes generating and
validating the caseload (once per server); the later ones are what an
officer waits for on each change. The server's own stage timings (caseload,
compare; the workbook is written after the result shows) are printed
beside them, with the load average: figures taken while other work runs on
the machine are provisional.

Usage: python benchmarks/bench_policy_page.py [--size 140000] [--repeats 4]
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "bench-password-2012"
TARGET = 3.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(folder: Path, size: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    code = ("import sys, waitress; from benefits.web import create_app; "
            f"app = create_app({{'DATABASE': {str(folder / 'b.sqlite')!r}, 'DEMO_PASSWORD': {PASSWORD!r}, "
            f"'POLICY_GENERATED_SIZE': {size}}}); "
            f"waitress.serve(app, host='127.0.0.1', port={port}, threads=8)")
    server = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/login", timeout=1)
            return server, url
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start")


def one_change(page, url: str, ratio: str) -> tuple[float, dict]:
    page.goto(url + "/policy")
    page.check("#source-generated")
    page.select_option("#year", "2013")
    page.fill("#since", "2013-01-01")
    page.fill('input[name="p.dibao_topup_ratio.0"]', ratio)
    started = time.perf_counter()
    page.click("#run")
    page.wait_for_selector("#cost", timeout=600_000)
    elapsed = time.perf_counter() - started
    state = page.evaluate("u => fetch(u + '.json').then(r => r.json())", page.url)
    return elapsed, state


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=140_000)
    parser.add_argument("--repeats", type=int, default=4)
    args = parser.parse_args()
    print(f"/policy in Chromium, generated caseload of {args.size:,}; load average at start "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        server, url = start_server(Path(tmp), args.size)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                page = browser.new_page()
                page.goto(url + "/login")
                page.fill("#username", "policy")
                page.fill("#password", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_load_state()
                ratios = ["0.25"] + [f"0.{26 + i}" for i in range(args.repeats)]
                for i, ratio in enumerate(ratios):
                    elapsed, state = one_change(page, url, ratio)
                    kind = "first run (generates the caseload)" if i == 0 else f"change {i}"
                    verdict = "" if i == 0 else f"  target ≤ {TARGET:.0f} s: {'met' if elapsed <= TARGET else 'NOT met'}"
                    print(f"  top-up ratio {ratio}: {kind:<36} {elapsed:6.2f} s until the result shows{verdict}")
                    print(f"      server: {state.get('timings')}; load average now {os.getloadavg()[0]:.1f}")
                browser.close()
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
