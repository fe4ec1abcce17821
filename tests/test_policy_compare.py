"""Baseline against reform over small hand-written caseloads, every figure
checked by hand; and over a generated one, against ``benefits estimate``."""
from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from benefits.engine import load_rulebook
from benefits.engine.rulebook import DEFAULT_RULES_DIR
from benefits.finance.estimate import estimate
from benefits.caseload.synthetic import caseload
from benefits.policy import apply_reform, compare, load_reform
from benefits.policy.compare import record_from_row

from .factories import applicant, birth_for_age, id_number

REFORMS = DEFAULT_RULES_DIR.parent / "reforms"
BASE = load_rulebook()
YEAR = 2013


def _reformed(name: str):
    return apply_reform(BASE, load_reform(REFORMS / name))


def _topup_person(county, residence, grade, sequence):
    record = applicant(age=40, county=county, residence=residence, grade=grade, status={"dibao": True})
    record["name"] = f"测试{sequence}"
    return record


# 低保标准 (rules/parameters/dibao.yaml): urban 300 then 330 from 1 July 2013
# (灵宝 411282 urban 340), rural 140 then 160. Six months each side of 1 July.
TOPUP = [
    (_topup_person("411202", "urban", 1, 1), 6 * 60 + 6 * 66, 6 * 75 + 6 * 82.5),     # 756 → 945
    (_topup_person("411224", "rural", 2, 2), 6 * 28 + 6 * 32, 6 * 35 + 6 * 40),       # 360 → 450
    (_topup_person("411282", "urban", 1, 3), 6 * 60 + 6 * 68, 6 * 75 + 6 * 85),       # 768 → 960
    (_topup_person("411202", "urban", 3, 4), 0, 0),                                    # grade 3: not severe
]


@pytest.fixture(scope="module")
def topup():
    return compare([p for p, _, _ in TOPUP], BASE, _reformed("topup-25.yaml"), YEAR)


def test_topup_to_25_percent_gives_the_hand_computed_delta(topup):
    line = topup.by_benefit.filter(pl.col("benefit") == "dibao_topup").row(0, named=True)
    assert line["baseline"] == 756 + 360 + 768
    assert line["reform"] == 945 + 450 + 960
    assert line["difference"] == 189 + 90 + 192
    assert (line["gainers"], line["losers"], line["unchanged"], line["status_changed"]) == (3, 0, 1, 0)
    persons = topup.persons.sort("row")
    assert persons.get_column("difference").to_list() == [189, 90, 192, 0]
    assert persons.get_column("change").cast(pl.String).to_list() == ["gain", "gain", "gain", "unchanged"]
    # by county and payer: the split is 未指明 (dibao_topup_payer)
    cost = topup.cost.filter(pl.col("benefit") == "dibao_topup")
    assert dict(zip(cost.get_column("county"), cost.get_column("difference"))) == {
        "411202": 189, "411224": 90, "411282": 192}
    assert set(cost.get_column("payer")) == {"unspecified"}
    # nothing else moves
    assert topup.changes.get_column("benefit").unique().to_list() == ["dibao_topup"]
    assert topup.cost.filter(pl.col("benefit") != "dibao_topup").get_column("difference").abs().sum() == 0
    county = topup.by_county.filter(pl.col("county") == "411202").row(0, named=True)
    assert (county["persons"], county["gainers"], county["unchanged"], county["difference"]) == (2, 1, 1, 189)
    gains = topup.distribution.filter(pl.col("change") == "gain")
    assert dict(zip(gains.get_column("label_zh"), gains.get_column("persons")))["增加 100—500 元"] == 2
    assert gains.get_column("persons").sum() == 3 and gains.get_column("yuan").sum() == 471


def test_topup_examples_carry_both_determinations_reasons(topup):
    [kind] = {e["kind"] for e in topup.examples}
    assert kind == "amount_up"
    example = topup.examples[0]
    assert example["baseline_line"]["amount"]["value"] < example["reform_line"]["amount"]["value"]
    assert example["baseline_line"]["reasons"] and example["reform_line"]["reasons"]
    assert example["baseline"]["rulebook_version"] == BASE.version
    assert example["reform"]["rulebook_version"] != BASE.version
    # the floors of the reform: 25 % meets 二（一）
    assert topup.floor_violations == [] and topup.floors


def test_a_reform_that_changes_nothing_gives_zero_deltas():
    text = ("label: 同值方案\nreason: 把补贴比例设为现值\nparameters:\n  dibao_topup_ratio:\n"
            "    values: [{from: 2012-11-01, value: 0.2}]\n")
    same = apply_reform(BASE, load_reform(text))
    result = compare(caseload(300, seed=11), BASE, same, YEAR)
    assert result.reform_version != result.baseline_version
    assert result.changes.height == 0 and result.examples == []
    assert result.cost.get_column("difference").abs().sum() == 0
    assert result.persons.get_column("difference").abs().sum() == 0
    assert not result.persons.get_column("status_changed").any()
    assert result.by_benefit.select(pl.col("gainers").sum() + pl.col("losers").sum()).item() == 0
    assert result.by_county.get_column("unchanged").sum() == result.counts["evaluated"] == 300


def _household_person(grade, income, sequence):
    """Adult living with one parent (aged 55), 低保 not yet granted, not in 五保
    (the household route to 低保对象 needs that: 63号 三（三） reading, issue 17)."""
    record = applicant(age=30, grade=grade, county="411202", residence="urban",
                       status={"dibao": False, "wubao": False, "supported_by": "parents"},
                       household={"members": [{"relation": "parent", "age": 55}], "monthly_income": income, "assets_within_limit": True})
    record["name"] = f"测试{sequence}"
    # three people, three ID numbers (低保 is costed once per household, and a
    # household is found by its ID numbers)
    ident = id_number(birth_for_age(30), "411202", sequence)
    record["id_number"] = ident
    record["certificate"]["number"] = ident + record["certificate"]["number"][-2:]
    return record


def test_removing_single_person_moves_people_to_the_household_route():
    people = [
        _household_person(1, 400, 1),    # per head 200: both routes; the full standard wins today
        _household_person(1, 1000, 2),   # per head 500: above the standard, single-person route only
        _household_person(3, 200, 3),    # not severe: household route only, both sides
    ]
    result = compare(people, BASE, _reformed("no-single-person.yaml"), YEAR)
    lines = {r["benefit"]: r for r in result.by_benefit.iter_rows(named=True)}
    household = (6 * (300 - 200) + 6 * (330 - 200)) * 2    # person 1's household of 2: 2760 a year
    household_3 = (6 * (300 - 100) + 6 * (330 - 100)) * 2  # person 3's: 5160 a year
    single = 6 * 300 + 6 * 330                               # 3780 a year
    topup = 6 * 60 + 6 * 66                                  # 756 a year
    inclusion = lines["dibao_inclusion"]
    assert (inclusion["persons_baseline"], inclusion["persons_reform"]) == (2, 2)
    assert inclusion["baseline"] == household_3              # person 1's is a duplicate today
    assert inclusion["reform"] == household_3 + household    # 纳入城乡低保 rises
    assert (inclusion["gainers"], inclusion["losers"]) == (1, 0)
    single_line = lines["dibao_single_person"]
    assert (single_line["baseline"], single_line["reform"], single_line["losers"]) == (2 * single, 0, 2)
    topup_line = lines["dibao_topup"]
    assert (topup_line["losers"], topup_line["baseline"], topup_line["reform"]) == (1, 2 * topup, topup)
    moved = {(r["benefit"], r["status_baseline"], r["status_reform"]): r["persons"]
             for r in result.transitions.iter_rows(named=True)}
    assert moved[("dibao_single_person", "eligible", "absent")] == 2
    assert moved[("dibao_topup", "eligible", "ineligible")] == 1
    assert result.persons.sort("row").get_column("difference").to_list() == [
        household - single, -single - topup, 0]
    county = result.by_county.row(0, named=True)
    assert (county["losers"], county["gainers"], county["unchanged"]) == (2, 0, 1)
    # the examples show why: person 2's single-person line is gone, and their
    # top-up fails on 低保对象 on the reform side
    example = next(e for e in result.examples if e["benefit"] == "dibao_topup")
    assert example["row"] == 2 and example["kind_zh"] == "符合→不符合"
    assert example["baseline_line"]["status"] == "eligible" and example["reform_line"]["status"] == "ineligible"
    failed = [r for r in example["reform_line"]["reasons"] if r["status"] == "failed"]
    assert [r.get("derived") for r in failed] == ["dibao_recipient"]
    gone = next(e for e in result.examples if e["benefit"] == "dibao_single_person")
    assert gone["reform_line"] is None and gone["baseline_line"]["status"] == "eligible"


def test_both_sides_equal_benefits_estimate_on_a_generated_caseload():
    records = list(caseload(400, seed=7))
    severe = _reformed("severe-grade-1.yaml")
    result = compare(records, BASE, severe, YEAR, examples=1)
    expected = estimate(records, YEAR)
    for key in ("benefits", "counties", "total", "payers", "county_payer", "rehabilitation"):
        assert result.baseline_estimate[key] == expected[key], key
    assert result.persons.get_column("baseline").sum() == pytest.approx(expected["total"]["mid"], abs=0.001)
    # each example's first differing day lies in the year, and both sides were explained
    assert result.examples and all(e["day"].startswith(str(YEAR)) for e in result.examples)
    assert all(e["baseline"]["evaluation_date"] == e["day"] for e in result.examples)
    assert result.by_benefit.filter(pl.col("benefit") == "dibao_topup").get_column("losers").item() > 0


def test_a_frame_row_becomes_the_record_it_came_from():
    from benefits.engine import parse_applicant
    from benefits.engine.columnar import frame_from_records
    record = applicant(age=40, status={"dibao": True}, household={"members": [{"relation": "parent", "age": 60, "disabled": True}]},
                       hardship_events=[{"case": "stranded", "date": "2013-09-09"}])
    parsed = parse_applicant(record)
    row = frame_from_records([parsed]).row(0, named=True)
    assert parse_applicant(record_from_row(row)) == parsed
    assert record_from_row(row)["evaluation_date"] == dt.date(2013, 3, 1).isoformat()


def test_a_mid_year_change_is_weighted_by_its_months_and_dated_in_the_example():
    """A value from 1 April: a change point only the reform has."""
    text = ("label: 四月起提高\nreason: 年中调整\nparameters:\n  dibao_topup_ratio:\n"
            "    values: [{from: 2013-04-01, value: 0.25}]\n")
    result = compare([TOPUP[0][0]], BASE, apply_reform(BASE, load_reform(text)), YEAR)
    assert result.persons.get_column("difference").to_list() == [3 * 60 + 3 * 75 + 6 * 82.5 - 756]   # +144
    [example] = result.examples
    assert example["day"] == "2013-04-01"
    assert example["reform_line"]["amount"]["value"] == 75
    marks = {m["parameter"]: m["source"] for m in example["reform_line"]["unverified"]}
    assert marks["dibao_topup_ratio"].startswith("改革方案改动")     # never shown as 已核实
    assert "dibao_topup_ratio" not in {m["parameter"] for m in example["baseline_line"]["unverified"]}


FRAMES = ("cost", "persons", "changes", "by_benefit", "by_county", "transitions", "distribution")


def _same_comparison(a, b):
    for name in FRAMES:
        assert getattr(a, name).equals(getattr(b, name)), name
    assert a.examples == b.examples
    assert (a.baseline_estimate, a.reform_estimate, a.counts, a.rejects) == \
        (b.baseline_estimate, b.reform_estimate, b.counts, b.rejects)


@pytest.fixture(scope="module")
def generated_frame():
    from benefits.costing.frames import applicant_frames
    _, chunks = applicant_frames(list(caseload(300, seed=11)))
    return pl.concat([chunk.frame for chunk in chunks])


def test_the_baseline_cache_gives_the_same_comparison_as_without_it(generated_frame):
    from benefits.policy.compare import BaselineCache
    cache = BaselineCache()
    april = apply_reform(BASE, load_reform("label: 四月起提高\nreason: 年中调整\nparameters:\n  dibao_topup_ratio:\n"
                                           "    values: [{from: 2013-04-01, value: 0.25}]\n"))
    first = compare(generated_frame, BASE, _reformed("severe-grade-1.yaml"), YEAR, examples=1, cache=cache)
    assert (cache.hits, cache.misses) == (0, 1)
    # other reforms against the cached baseline: one on the same change points, one with a point of its own
    for reform in (_reformed("severe-grade-1.yaml"), _reformed("topup-25.yaml"), april):
        cached = compare(generated_frame, BASE, reform, YEAR, examples=1, cache=cache)
        _same_comparison(cached, compare(generated_frame, BASE, reform, YEAR, examples=1, cache=None))
    assert (cache.hits, cache.misses) == (3, 1)
    assert first.changes.height > 0 and first.examples


def test_the_baseline_cache_misses_for_another_frame_baseline_or_year(generated_frame):
    from benefits.policy.compare import BaselineCache
    cache = BaselineCache()
    severe = _reformed("severe-grade-1.yaml")
    compare(generated_frame, BASE, severe, YEAR, examples=0, cache=cache)
    income = generated_frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 7).then(pl.col("household.monthly_income") + 1)
        .otherwise(pl.col("household.monthly_income")).alias("household.monthly_income"))
    other_baseline = _reformed("topup-25.yaml")
    for frame, baseline, year in ((income, BASE, YEAR), (generated_frame, other_baseline, YEAR),
                                  (generated_frame, BASE, YEAR + 1)):
        misses = cache.misses
        result = compare(frame, baseline, severe, year, examples=0, cache=cache)
        assert cache.misses == misses + 1
        _same_comparison(result, compare(frame, baseline, severe, year, examples=0, cache=None))
    assert cache.hits == 0
    small = BaselineCache(max_bytes=1)            # nothing fits: never kept
    compare(generated_frame, BASE, severe, YEAR, examples=0, cache=small)
    compare(generated_frame, BASE, severe, YEAR, examples=0, cache=small)
    assert (small.hits, small.misses) == (0, 2)


def test_concurrent_compares_share_the_baseline_cache_safely(generated_frame):
    from concurrent.futures import ThreadPoolExecutor

    from benefits.policy.compare import BaselineCache
    cache = BaselineCache()
    reforms = [_reformed("severe-grade-1.yaml"), _reformed("topup-25.yaml")] * 2
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda r: compare(generated_frame, BASE, r, YEAR, examples=0, cache=cache), reforms))
    for reform, result in zip(reforms, results):
        _same_comparison(result, compare(generated_frame, BASE, reform, YEAR, examples=0, cache=None))
    assert cache.hits + cache.misses == 4 and len(cache._entries) == 1


# a condition edit inside the same-payment group of 纳入城乡低保 (its line's amount and marks change)
SINGLE_AGE = ("label: 单人户施保限五十岁以上\nreason: 测试同一笔低保金的两项\nrules:\n"
              "  - add_condition: {rule: dibao_single_person, condition: {fact: age, gte: 50}}\n")


def test_affected_lines_follow_rules_parameters_and_same_payment_groups():
    from benefits.policy.affected import affected_lines
    assert affected_lines(BASE, apply_reform(BASE, load_reform("label: 不变\nreason: 不作任何改动\n"))) == set()
    assert affected_lines(BASE, _reformed("topup-25.yaml")) == {"dibao_topup"}
    # 单人户施保 removed: 纳入城乡低保 loses its duplicate mark, and what rests on 低保 may change
    gone = affected_lines(BASE, _reformed("no-single-person.yaml"))
    assert {"dibao_inclusion", "dibao_topup"} <= gone and "prosthesis_subsidy" not in gone
    assert {"dibao_inclusion", "dibao_single_person"} <= affected_lines(BASE, apply_reform(BASE, load_reform(SINGLE_AGE)))


@pytest.mark.parametrize("reform", sorted(p.name for p in REFORMS.glob("*.yaml")) + ["single-age", "april", "none"])
def test_evaluating_only_the_affected_lines_equals_the_full_evaluation(generated_frame, monkeypatch, reform):
    """The reform side evaluates only the lines the reform can change and
    takes the rest from the baseline: every frame and figure must be those
    of evaluating every line."""
    import sys

    from benefits.policy.compare import BaselineCache
    module = sys.modules["benefits.policy.compare"]      # the package exports the function under that name
    texts = {"single-age": SINGLE_AGE, "none": "label: 不变\nreason: 不作任何改动\n",
             "april": ("label: 四月起提高\nreason: 年中调整\nparameters:\n  dibao_topup_ratio:\n"
                       "    values: [{from: 2013-04-01, value: 0.25}]\n")}
    book = apply_reform(BASE, load_reform(texts[reform])) if reform in texts else _reformed(reform)
    cache = BaselineCache()
    partial = compare(generated_frame, BASE, book, YEAR, examples=1, cache=cache)
    cached = compare(generated_frame, BASE, book, YEAR, examples=1, cache=cache)
    monkeypatch.setattr(module, "affected_lines", lambda baseline, reform: None)
    full = compare(generated_frame, BASE, book, YEAR, examples=1, cache=None)
    _same_comparison(partial, full)
    _same_comparison(cached, full)
    assert (full.changes.height > 0) == (reform != "none")
