"""The columnar engine against the durable_rules engine: every line's status,
amount, payer split, duplicate_of and missing facts, every condition's status
and every concept's verdict must be equal, on generated caseloads with facts
blanked anywhere and on Hypothesis records, on parameter change dates and
birthdays."""
from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from benefits.engine import parse_applicant
from benefits.engine.columnar import ColumnarEngine, frame_from_records
from benefits.engine.columnar.output import output_frame
from benefits.engine.columnar.view import RowView
from benefits.engine.identity import age_on
from benefits.caseload.synthetic import caseload

from .factories import id_number, line
from .test_engine_reference import records

# parameter change dates of the shipped rules, the days before them, and the
# first and last days the rules can be applied in the generated years
# (81号 from 2012-11-13)
DATES = [dt.date(2012, 6, 30), dt.date(2012, 10, 31), dt.date(2012, 11, 1), dt.date(2012, 11, 12), dt.date(2012, 11, 13),
         dt.date(2012, 12, 31), dt.date(2013, 1, 1), dt.date(2013, 6, 30),
         dt.date(2013, 7, 1), dt.date(2014, 6, 30), dt.date(2014, 7, 1), dt.date(2015, 12, 31)]
BOUNDARY_AGES = (16, 18, 60, 80)


@pytest.fixture(scope="module")
def columnar(engine):
    return ColumnarEngine(engine.rulebook)


def _compact(line: dict, flat: dict, book) -> dict:
    """The compact output's (Polars lowering's) view of one durable line."""
    b = line["benefit"]
    amount = line["amount"] if line["status"] == "eligible" else None
    kind = amount["kind"] if amount else None
    form = book.by_id[b].outcome.amount.form
    want = {"status": line["status"], "amount_kind": kind,
            "missing": sorted(m["fact"] or f"param:{m['parameter']}" for m in line.get("missing_facts") or []),
            "duplicate_of": line["duplicate_of"], "upon": sorted(line["upon"])}
    got = {"status": flat[f"{b}.status"], "amount_kind": flat[f"{b}.amount_kind"],
           "missing": sorted(flat[f"{b}.missing"]), "duplicate_of": flat.get(f"{b}.duplicate_of"),
           "upon": sorted(flat.get(f"{b}.upon") or [])}
    if form == "range":
        want["money"] = (amount or {}).get("min"), (amount or {}).get("max")
        got["money"] = flat[f"{b}.min"], flat[f"{b}.max"]
    elif f"{b}.amount" in flat:
        want["money"] = (amount or {}).get("value")
        got["money"] = flat[f"{b}.amount"]
    for who, part in (line["payer_split"] or {}).items():
        if isinstance(part, dict):
            want[who] = part["min"], part["max"]
            got[who] = flat[f"{b}.payer.{who}.min"], flat[f"{b}.payer.{who}.max"]
        else:
            want[who], got[who] = part, flat[f"{b}.payer.{who}"]
    return {k: (v, got[k]) for k, v in want.items() if v != got[k]}


def disagreements(engine, columnar, parsed, as_of=None) -> list[str]:
    """Every difference between the two engines on these records: the whole
    determination (durable_rules' trace against a columnar row's, each
    through determination.py), and the Polars lowering of what follows the
    verdicts (the compact output) against the Python one."""
    result, rejects = columnar.evaluate_frame(frame_from_records(parsed), as_of)
    assert rejects == []
    compact = output_frame(columnar.plan, result)
    out = []
    for record, row, flat in zip(parsed, result.iter_rows(named=True), compact.iter_rows(named=True)):
        expected = engine.determine(record, as_of)
        got = RowView(columnar.plan, row).determination(record.name, expected["applicant"]["id_number_masked"],
                                                        determiner=columnar.determiner)
        if got != expected:
            for key in expected:
                if key not in ("benefits", "concepts") and expected[key] != got.get(key):
                    out.append(f"{record.id_number} {key}: durable {expected[key]!r} columnar {got.get(key)!r}")
            for want, mine in zip(expected["benefits"] + expected.get("concepts", []),
                                  got["benefits"] + got.get("concepts", [])):
                for key in want:
                    if want[key] != mine.get(key):
                        name = want.get("benefit") or want.get("concept")
                        out.append(f"{record.id_number} {name}.{key}: durable {want[key]!r} columnar {mine.get(key)!r}")
        for entry in expected["benefits"]:
            differs = _compact(entry, flat, columnar.rulebook)
            if differs:
                out.append(f"{record.id_number} {entry['benefit']} compact output: {differs}")
    return out


def _blank_leaves(rng: random.Random, node: dict, rate: float) -> None:
    """Leave facts out anywhere (never the ID number or name)."""
    for key in list(node):
        if key in ("id_number", "name", "number", "category", "grade", "level", "relation", "case",
                   "affected"):
            continue
        value = node[key]
        if isinstance(value, dict):
            _blank_leaves(rng, value, rate)
        elif rng.random() < rate:
            del node[key]


def _birthday(birth: dt.date, age: int) -> dt.date:
    try:
        return birth.replace(year=birth.year + age)
    except ValueError:
        return dt.date(birth.year + age, 3, 1)


def _resident_81(rng: random.Random, record: dict) -> None:
    """81号's facts on a synthetic record; a fifth are made residents
    without a 《残疾人证》 (the synthetic caseload has only disabled people)."""
    if rng.random() < 0.2:
        del record["certificate"]
        record["holds_certificate"] = False
    flag = lambda share=0.5: rng.random() < share  # noqa: E731
    soldier = rng.choice(["government_placement", "self_employment", "own_career", "none", "none"])
    placed = soldier == "government_placement"
    record["military"] = {
        "youfu_category": rng.choice(["martyr_family", "bereaved_family", "disabled_veteran", "demobilised_veteran",
                                      "conscript_family", "other", "none", "none"]),
        "retired_soldier": soldier, "awaiting_placement": placed and flag(), "placement_referred": placed and flag(),
        "wants_training": flag(), "unemployed_military_spouse": flag(0.1), "military_retiree": flag(0.1),
        "non_military_staff_retiree": flag(0.1), "injured_veteran": flag(0.1)}
    if placed:  # 第10条: referrals about a month before the boundary days, placed on either side of the deadline
        referred = rng.choice(DATES) - dt.timedelta(days=rng.choice((32, 31, 30, 29, 28, 0)))
        record["military"]["referral_date"] = referred.isoformat()
        if flag():
            record["military"]["placed_date"] = (referred + dt.timedelta(days=rng.randrange(27, 33))).isoformat()
        record["military"]["contract_years"] = rng.choice((2, 2.9, 3, 5))
    record["child"] = {"orphan": flag(0.2), "in_hardship": flag(0.2)}
    affected = flag(0.3)
    record["disaster"] = {"affected": affected} | (
        {"date": (DATES[rng.randrange(len(DATES))] + dt.timedelta(days=rng.choice((-1, 0, 1)))).isoformat()}
        if affected else {})
    record["needs"] = {k: flag(0.2) for k in ("serious_illness", "hospitalised", "dilapidated_housing",
                                               "stranded", "death_in_family")}


def generated(size: int, seed: int) -> list:
    """Synthetic applicants with facts blanked and days on the boundaries."""
    rng = random.Random(seed)
    out = []
    for record in caseload(size, seed=seed):
        _resident_81(rng, record)
        _blank_leaves(rng, record, 0.04)
        if "referral_date" not in record.get("military", {}):    # a 上岗日期 needs its 介绍信 date
            record.get("military", {}).pop("placed_date", None)
        parsed = parse_applicant(record)
        if rng.random() < 0.3:
            day = _birthday(parsed.birth_date, rng.choice(BOUNDARY_AGES)) - dt.timedelta(days=rng.choice((0, 1)))
            if not DATES[2] <= day <= DATES[-1]:
                day = rng.choice(DATES)
        else:
            day = rng.choice(DATES)
        if day < parsed.birth_date:
            day = DATES[-1]
        out.append(parse_applicant(record | {"evaluation_date": day.isoformat()}))
    return out


def test_generated_caseload_of_50000_agrees(engine, columnar):
    parsed = generated(50_000, seed=8)
    assert sum(age_on(r.birth_date, r.evaluation_date) in BOUNDARY_AGES for r in parsed) > 1000
    problems = disagreements(engine, columnar, parsed)
    assert problems == [], "\n".join(problems[:20])


def test_one_as_of_for_every_row_agrees(engine, columnar):
    parsed = generated(2_000, seed=9)
    for day in (dt.date(2013, 7, 1), dt.date(2014, 6, 30)):
        problems = disagreements(engine, columnar, [r for r in parsed if r.birth_date <= day], as_of=day)
        assert problems == [], "\n".join(problems[:20])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(records(), min_size=1, max_size=12))
def test_hypothesis_records_with_nulls_anywhere_agree(engine, columnar, batch):
    problems = disagreements(engine, columnar, [parse_applicant(raw) for raw in batch])
    assert problems == [], "\n".join(problems[:20])


def test_a_broken_plan_is_caught(engine, columnar, monkeypatch):
    """The comparison can fail: flip one rule's verdict in the plan."""
    from benefits.engine.columnar import plan as plan_module
    original = plan_module.ColumnarPlan.condition

    def wrong(self, cond):
        expr = original(self, cond)
        return ~expr if cond.fact == "grade" else expr
    monkeypatch.setattr(plan_module.ColumnarPlan, "condition", wrong)
    assert disagreements(engine, ColumnarEngine(engine.rulebook), generated(200, seed=3))


def test_a_broken_outcome_lowering_is_caught(engine, monkeypatch):
    """The Polars lowering of what follows a verdict is compared too: round
    amounts and payer splits down to the yuan in the columnar engine only."""
    from benefits.engine import outcome
    monkeypatch.setattr(outcome, "round_fen_column", lambda expr: expr.floor())
    problems = disagreements(engine, ColumnarEngine(engine.rulebook), generated(300, seed=4))
    assert any("compact output" in p for p in problems)


@pytest.mark.parametrize("day", [dt.date(1999, 12, 31), dt.date(2101, 1, 1)])
def test_an_unusable_day_is_refused_alike(engine, columnar, day):
    """Before the birth date, or past the last plausible day: both engines
    refuse the record with the same field and Chinese message."""
    from benefits.engine import InvalidApplicant
    record = parse_applicant({"id_number": id_number(dt.date(2000, 1, 1)), "name": "甲"})
    with pytest.raises(InvalidApplicant) as refused:
        engine.determine(record, day)
    _, rejects = columnar.evaluate_frame(frame_from_records([record]), day)
    assert [(r["field"], r["message"]) for r in rejects] == [(e.field, e.message) for e in refused.value.errors]



def test_the_missing_facts_mask_spans_two_words(tmp_path):
    """61 facts and 16 parameters need two 64-bit words. A parameter in the
    second word (五保供养标准, here with no value before 2013) is reported
    missing by both engines alike."""
    import shutil
    from benefits.engine import Engine, load_rulebook
    rules = tmp_path / "rules"
    shutil.copytree(Path(__file__).resolve().parents[1] / "rules", rules)
    dibao = rules / "parameters" / "dibao.yaml"
    dibao.write_text(dibao.read_text(encoding="utf-8").replace(
        "    - {from: 2012-01-01, value: 2000}\n", ""), encoding="utf-8")
    columnar = ColumnarEngine(load_rulebook(rules))
    bits = columnar.plan.bits
    assert bits.words == 2 and bits.param("wubao_standard")[0] == 1
    record = parse_applicant({"id_number": id_number(dt.date(1940, 1, 1), "411224"), "name": "掩码",
                              "hukou_county": "411224", "residence": "rural", "holds_certificate": False,
                              "status": {"no_work_capacity": True, "no_income_source": True,
                                         "no_legal_supporter": True},
                              "evaluation_date": "2012-12-01"})
    engine = Engine(rules)
    try:
        want = line(engine.determine(record), "wubao_81")
        assert want["amount"]["kind"] == "unresolved"
        assert [m["parameter"] for m in want["missing_facts"]] == ["wubao_standard"]
        assert disagreements(engine, columnar, [record]) == []
    finally:
        engine.close()
