"""The determination is typed (engine/vocabulary.py): what both engines give,
on every fixture, early and late, with and without reasons, fits the model
exactly (no field it does not know, none missing)."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from benefits.engine import Determination
from benefits.engine.columnar import ColumnarEngine
from benefits.engine.vocabulary import STATUS_ZH, STATUSES, check

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RECORDS = [json.loads(line) for name in ("applicants.jsonl", "residents-81.jsonl")
           for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("as_of", [None, dt.date(2012, 10, 31), dt.date(2012, 11, 12), dt.date(2015, 12, 31)])
def test_every_fixture_fits_the_typed_determination_on_both_engines(engine, as_of):
    assert len(RECORDS) > 20
    columnar = ColumnarEngine(engine.rulebook)
    for raw in RECORDS:
        durable = engine.evaluate(raw, as_of)
        assert isinstance(check(durable), Determination)
        assert check(columnar.evaluate(raw, as_of)) == check(durable)
        lean = check(engine.evaluate(raw, as_of, explain=False))
        assert lean.concepts is None and all(line.reasons is None for line in lean.benefits)


def test_an_unknown_field_or_status_is_refused(engine):
    result = engine.evaluate(RECORDS[0])
    result["benefits"][0]["status"] = "maybe"
    with pytest.raises(ValidationError):
        check(result)
    result = engine.evaluate(RECORDS[0])
    result["benefits"][0]["bonus"] = 1
    with pytest.raises(ValidationError):
        check(result)


def test_every_status_has_its_chinese_word():
    assert set(STATUS_ZH) == set(STATUSES)
