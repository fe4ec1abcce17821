"""Per-case latency and applicants per second of the engine, one process.

    python benchmarks/bench_engine.py [--n 20000]

Prints figures; asserts nothing. Targets (issue 2, 2-core machine):
p99 <= 5 ms per case with reasons; >= 10,000 applicants/s on one core.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benefits.engine import default_engine, parse_applicant  # noqa: E402
from benefits.engine.identity import CURRENT_COUNTIES, check_character  # noqa: E402


def generated(n: int, seed: int = 1) -> list[str]:
    """Varied applicants as JSON text, as they arrive from a form or file."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        day = dt.date(2013, 1, 1) + dt.timedelta(days=rng.randrange(700))
        birth = dt.date(rng.randrange(1935, 2010), rng.randrange(1, 13), rng.randrange(1, 29))
        body = f"{rng.choice(list(CURRENT_COUNTIES))}{birth:%Y%m%d}{rng.randrange(1000):03d}"
        ident = body + check_character(body)
        category, grade = rng.randrange(1, 8), rng.randrange(1, 5)
        record = {"id_number": ident, "name": f"申请人{i}", "evaluation_date": day.isoformat(),
                  "hukou_county": ident[:6], "residence": rng.choice(["urban", "rural"]),
                  "certificate": {"number": f"{ident}{category}{grade}", "category": category, "grade": grade},
                  "household": {"members": [{"relation": "parent", "age": rng.randrange(30, 90),
                                             "disabled": rng.random() < .1}] * rng.randrange(0, 4),
                                "monthly_income": rng.choice([0, 150, 300, 600, 1200]),
                                "assets_within_limit": rng.random() < .9},
                  "status": {"dibao": rng.random() < .3, "low_income": rng.random() < .2,
                             "employed": rng.random() < .3, "supported_by": rng.choice(["parents", "self", "spouse"])},
                  "insurance": {"pension_scheme": rng.choice(["rural_resident", "urban_resident", "none"])}}
        if rng.random() < .1:
            record["hardship_events"] = [{"case": "hospitalised", "family_hardship": True}]
        out.append(json.dumps(record, ensure_ascii=False))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    args = parser.parse_args()
    engine = default_engine()
    texts = generated(args.n)
    for text in texts[:500]:                       # warm caches
        engine.evaluate(text)

    latencies = []
    for text in texts:
        start = time.perf_counter()
        engine.evaluate(text, explain=True)
        latencies.append(time.perf_counter() - start)
    latencies.sort()
    pct = lambda p: latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000  # noqa: E731
    print(f"applicants: {args.n}  rulebook {engine.version}  Python {sys.version.split()[0]}")
    print(f"per case with reasons (validate + evaluate + explain): p50 {pct(50):.3f} ms  "
          f"p99 {pct(99):.3f} ms  max {latencies[-1] * 1000:.3f} ms")
    print(f"  = {args.n / sum(latencies):,.0f} applicants/s with reasons, one core")

    start = time.perf_counter()
    for text in texts:
        engine.evaluate(text, explain=False)
    elapsed = time.perf_counter() - start
    print(f"without reasons (validate + evaluate): {args.n / elapsed:,.0f} applicants/s, one core")

    records = [parse_applicant(t) for t in texts]
    start = time.perf_counter()
    for record in records:
        engine.determine(record, explain=False)
    elapsed = time.perf_counter() - start
    print(f"evaluate only (pre-validated records): {args.n / elapsed:,.0f} applicants/s, one core")
    print(f"mean eligible lines per applicant: "
          f"{statistics.mean(engine.determine(r, explain=False)['summary']['eligible'] for r in records[:2000]):.1f}")


if __name__ == "__main__":
    main()
