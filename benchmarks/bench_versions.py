"""Kept rulebook versions and the saved cases today's rules change.

    python benchmarks/bench_versions.py [--cases 2000] [--batch 100]

In a fresh database (temporary folder): saves N cases of one county under
today's rules (each save keeps the version's files: the first writes them,
the others only look them up), then serves the same database under a copy of
the rules with the 低保 top-up ratio at 25 %, and measures what the changed
cases page does: batches of ``--batch`` saved cases re-evaluated on the
durable engine (one page view each), the whole county, and one page of the
list. Also one replay, with the old version's engine cold (built from the
kept files) and warm. Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benefits.engine import Engine, InvalidApplicant, parse_applicant  # noqa: E402
from benefits.engine.rulebook import DEFAULT_RULES_DIR  # noqa: E402
from benefits.engine.versions import EngineCache  # noqa: E402
from benefits.caseload.synthetic import caseload  # noqa: E402
from benefits.web import changes, store  # noqa: E402
from benefits.web.replay import replay  # noqa: E402

COUNTY = "411202"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-versions-"))
    try:
        run(folder, args.cases, args.batch)
    finally:
        shutil.rmtree(folder)


def run(folder: Path, size: int, batch: int) -> None:
    old = Engine()
    rules = folder / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    amounts = rules / "parameters" / "amounts-63.yaml"
    data = yaml.safe_load(amounts.read_text())
    data["dibao_topup_ratio"]["values"][0]["value"] = 0.25
    amounts.write_text(yaml.safe_dump(data, allow_unicode=True))
    new = Engine(rules)

    db = store.connect(folder / "b.sqlite")
    store.migrate(db)
    saves, first, evaluated = [], None, 0
    for record in caseload(size * 2):
        if evaluated == size:
            break
        record["hukou_county"] = COUNTY
        try:
            result = old.determine(parse_applicant(record))
        except InvalidApplicant:
            continue
        started = time.perf_counter()
        try:
            store.create_case(db, COUNTY, record, result, None, "bench", old.rulebook.files)
        except store.DuplicateCase:
            continue
        took = time.perf_counter() - started
        first = took if first is None else first
        saves.append(took)
        evaluated += 1
    kept = db.execute("SELECT count(*), sum(size) FROM rulebook_files").fetchone()
    print(f"{evaluated} cases of {COUNTY} saved under version {old.version}")
    print(f"  save (case + determination + audit, one transaction): first {first * 1000:.1f} ms "
          f"(writes the version's {kept[0]} files, {kept[1] / 1024:.0f} KiB), then median "
          f"{statistics.median(saves[1:]) * 1000:.2f} ms, p99 {sorted(saves)[int(len(saves) * .99)] * 1000:.2f} ms")

    views, started = [], time.perf_counter()
    while True:
        view = time.perf_counter()
        done = changes.check(db, new, COUNTY, batch, seconds=60)
        if not done:
            break
        views.append((time.perf_counter() - view, done))
    whole = time.perf_counter() - started
    checked, total = changes.progress(db, COUNTY, new.version)
    per_case = sum(t for t, _ in views) / sum(n for _, n in views)
    print(f"changed cases under version {new.version}: {checked}/{total} checked in {whole:.1f} s "
          f"({len(views)} page views of {batch}: median {statistics.median(t for t, _ in views):.2f} s each, "
          f"{per_case * 1000:.1f} ms a case, {1 / per_case:.0f} cases/s)")
    started = time.perf_counter()
    counts = changes.progress(db, COUNTY, new.version)
    rows, found = changes.changed(db, COUNTY, new.version, page=1, per_page=20)
    print(f"  one list page once checked: {(time.perf_counter() - started) * 1000:.1f} ms "
          f"({found} of {counts[1]} cases change; page shows {len(rows)})")

    det_id = db.execute("SELECT max(id) FROM determinations").fetchone()[0]
    cache = EngineCache(size=2)
    for label in ("cold (engine built from the kept files)", "warm"):
        started = time.perf_counter()
        done = replay(db, det_id, new, engines=cache)
        print(f"replay #{det_id} {label}: {(time.perf_counter() - started) * 1000:.0f} ms, "
              f"{'一致' if done.same else '不一致'}")
    cache.close()
    db.close()
    for engine in (old, new):
        engine.close()


if __name__ == "__main__":
    main()
