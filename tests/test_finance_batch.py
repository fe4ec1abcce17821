"""Batch evaluation on several processes gives, record for record, what
``engine.evaluate`` gives for one record."""
import datetime as dt
from itertools import islice
from pathlib import Path

from benefits.engine import InvalidApplicant, default_engine
from benefits.caseload import open_caseload
from benefits.finance.batch import evaluate_many

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "caseload-sample.jsonl"
AS_OF = dt.date(2013, 3, 1)


def test_multi_process_results_equal_single_evaluations():
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()[:700]   # includes bad rows 333 and 666
    loaded = open_caseload(SAMPLE)
    loaded.rows = islice(loaded.rows, 700)
    batch = list(evaluate_many(loaded, as_of=AS_OF, workers=2))
    assert [number for _, number, _ in batch] == list(range(1, 701))
    engine = default_engine()
    rejected = 0
    for kind, number, value in batch:
        try:
            expected = engine.evaluate(lines[number - 1], as_of=AS_OF, explain=False)
        except InvalidApplicant as exc:
            rejected += 1
            assert kind == "reject"
            assert value == [{"field": e.field, "message": e.message} for e in exc.errors]
            continue
        assert kind == "result" and value == expected
    assert rejected == 2


def test_explain_is_passed_through():
    loaded = open_caseload(SAMPLE)
    loaded.rows = islice(loaded.rows, 3)
    results = [v for k, _, v in evaluate_many(loaded, as_of=AS_OF, explain=True, workers=1)]
    assert len(results) == 3
    assert all("concepts" in r and "reasons" in r["benefits"][0] for r in results)
