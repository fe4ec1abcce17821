"""Valid applicant records for tests, built from what a test cares about."""
from __future__ import annotations

import datetime as dt

from benefits.engine.identity import check_character

ON = dt.date(2013, 3, 1)


def id_number(birth: dt.date, area: str = "411202", sequence: int = 1) -> str:
    body = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return body + check_character(body)


def birth_for_age(age: int, on: dt.date = ON) -> dt.date:
    """A birth date giving exactly ``age`` completed years on ``on``."""
    return dt.date(on.year - age, 1, 1)


def applicant(age: int = 40, on: dt.date = ON, category: int | None = 4, grade: int | None = 2,
              county: str | None = "411202", residence: str | None = "urban", birth: dt.date | None = None,
              **sections) -> dict:
    """A record of a local certificate holder; pass None to leave a fact out."""
    ident = id_number(birth or birth_for_age(age, on))
    record = {"id_number": ident, "name": "测试", "evaluation_date": on.isoformat()}
    if category is not None and grade is not None:
        record["certificate"] = {"number": f"{ident}{category}{grade}", "category": category, "grade": grade}
    if county is not None:
        record["hukou_county"] = county
    if residence is not None:
        record["residence"] = residence
    record.update(sections)
    return record


def line(result: dict, benefit: str) -> dict:
    return next(b for b in result["benefits"] if b["benefit"] == benefit)
