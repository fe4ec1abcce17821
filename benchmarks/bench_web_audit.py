"""The roll audit page (/audit) on a generated caseload and its roll with
planted errors (``benefits generate --roll``). Prints figures, never asserts.

In-process through Flask's test client (no browser, no network): the
upload request (files stored, both headers read), the background job by
stage (读取名册, 读取台账, 核对, 动态复核, 写出工作簿, from the run's own
timings), the result page, the workbooks' sizes and the process's peak
RSS. Figures taken while other work runs on the machine (see the load
average printed) are provisional.

Usage: PYTHONPATH=. python benchmarks/bench_web_audit.py [--size 50000] [--months 12] [--user finance]
"""
from __future__ import annotations

import argparse
import io
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password-2012"
AS_OF = "2013-07-01"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--user", default="finance", help="finance, policy or a clerk (clerk_lingbao: one county)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-web-audit-"))
    caseload, roll = folder / "caseload.csv", folder / "roll.csv"
    started = time.perf_counter()
    # a process of its own: the generation's memory is not this one's peak
    subprocess.run([sys.executable, "-m", "benefits.cli", "generate", "--size", str(args.size), "--seed", "1",
                    "--out", str(caseload), "--roll", str(roll), "--roll-as-of", AS_OF],
                   cwd=ROOT, check=True, capture_output=True)
    print(f"generated {args.size:,} persons, roll {sum(1 for _ in open(roll, encoding='utf-8')) - 1:,} rows "
          f"({caseload.stat().st_size / 2**20:.1f} + {roll.stat().st_size / 2**20:.1f} MB) "
          f"in {time.perf_counter() - started:.1f} s")

    from benefits.web import create_app
    app = create_app({"DATABASE": str(folder / "b.sqlite"), "DEMO_PASSWORD": PASSWORD, "SECRET_KEY": "bench",
                      "MAX_CONTENT_LENGTH": 200 * 2**20})
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"username": args.user, "password": PASSWORD, "csrf_token": token})
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/audit").get_data(as_text=True)).group(1)
    data = {"csrf_token": token, "as_of": AS_OF, "months": str(args.months),
            "caseload": (io.BytesIO(caseload.read_bytes()), "caseload.csv"),
            "roll": (io.BytesIO(roll.read_bytes()), "roll.csv")}
    started = time.perf_counter()
    response = client.post("/audit", data=data, content_type="multipart/form-data")
    upload = time.perf_counter() - started
    if response.status_code != 302:
        raise SystemExit(f"the form was refused: {response.status_code}")
    url = response.headers["Location"]
    shown = None
    while (job := client.get(url + ".json").get_json())["status"] not in ("done", "failed"):
        if shown is None and job["ready"]:
            shown = time.perf_counter() - started
        time.sleep(0.1)
    waited = time.perf_counter() - started
    started = time.perf_counter()
    page = client.get(url)
    render = time.perf_counter() - started
    run_folder = next((folder / "audits").iterdir())
    print(f"user {args.user}, 核对日 {AS_OF}, re-check {args.months} months; load average "
          + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    print(f"upload request (store + read headers): {upload:.2f} s")
    print(f"job {job['status']}: {job['seconds']} s in the job thread, {waited:.2f} s from the click to done; "
          f"the result page showed after {shown or waited:.2f} s (the workbooks follow)")
    from benefits.web.auditruns import STAGES
    for stage in STAGES:
        if stage in job["timings"]:
            print(f"  {stage}: {job['timings'][stage]:.2f} s")
    print(f"result page: {render:.2f} s, {len(page.data) / 1024:.0f} KB")
    for name in ("audit.xlsx", "recheck.xlsx", "chart.png"):
        print(f"  {name}: {(run_folder / name).stat().st_size / 2**20:.2f} MB")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
