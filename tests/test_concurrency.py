"""The C engine holds no locks of its own: the engine must serialise access.
8 threads evaluating 10,000 records must give exactly the one-thread results."""
import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor

from benefits.engine import default_engine

from .factories import applicant

_CATEGORIES = range(1, 8)


def _records(n: int) -> list[dict]:
    rng = random.Random(7)
    out = []
    for i in range(n):
        record = applicant(age=rng.choice([15, 16, 17, 18, 40, 59, 60, 75]), category=rng.choice(_CATEGORIES),
                           grade=rng.randint(1, 4), residence=rng.choice(["urban", "rural", None]),
                           county=rng.choice(["411202", "411282", "411224", None]),
                           household={"members": [], "monthly_income": rng.choice([0, 100, 200, 400]),
                                      "assets_within_limit": True},
                           status={"dibao": rng.random() < .4, "employed": rng.random() < .3})
        record["name"] = f"申请人{i}"
        out.append(record)
    return out


def _key(result: dict) -> str:
    return json.dumps(result, ensure_ascii=False, sort_keys=True)


def test_eight_threads_give_the_single_thread_results():
    engine = default_engine()
    records = _records(10_000)
    expected = [_key(engine.evaluate(r, explain=False)) for r in records]
    barrier = threading.Barrier(8)

    def work(chunk: int) -> list[tuple[int, str]]:
        barrier.wait()
        return [(i, _key(engine.evaluate(records[i], explain=False))) for i in range(chunk, len(records), 8)]

    with ThreadPoolExecutor(8) as pool:
        got = dict(pair for part in pool.map(work, range(8)) for pair in part)
    assert [got[i] for i in range(len(records))] == expected


def test_five_thousand_applicants_in_one_process():
    """Far beyond durable's 1,024 live sessions."""
    engine = default_engine()
    records = _records(5_000)
    results = [engine.evaluate(r, explain=True) for r in records]
    assert len(results) == 5_000
    assert all(len(r["benefits"]) == len(engine.rulebook.benefits) for r in results)
    assert results[-1]["applicant"]["name"] == "申请人4999"


def test_the_engine_starts_no_background_threads():
    """durable's Host would start two endless timer threads; we never create one."""
    before = threading.active_count()
    engine = default_engine()
    engine.evaluate(applicant())
    assert threading.active_count() == before
