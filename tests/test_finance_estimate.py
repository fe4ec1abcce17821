"""The caseload estimate: totals reconcile, bad rows are counted and reported,
several processes give exactly what one process gives."""
import datetime as dt
from pathlib import Path

import pytest

from benefits.engine import default_engine, load_rulebook
from benefits.engine.identity import CURRENT_COUNTIES
from benefits.finance import estimate

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "caseload-sample.jsonl"
PAYERS = ("city", "county", "unspecified")
RANGE = ("min", "mid", "max")
# each person's amount on a line is rounded once and every figure is a sum of
# those (costing/fen.py): parts add up to their total to the fen (less than a
# fen is the float noise of the test's own sums)
TOLERANCE = 0.001


@pytest.fixture(scope="module")
def result():
    return estimate(SAMPLE, 2013, workers=1)


def _total(rows, key=None):
    return {k: sum((r[key] if key else r)[k] for r in rows) for k in RANGE}


def test_total_is_evaluated_plus_rejected(result):
    counts = result["counts"]
    lines = sum(1 for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip())
    assert counts["total"] == lines == 2000
    assert counts["evaluated"] + counts["rejected"] == counts["total"]
    assert counts["rejected"] == 6
    assert sum(c["applicants"] for c in result["counties"]) == counts["evaluated"]


def test_bad_rows_reported_with_row_and_field(result):
    rejects = result["rejects"]
    assert len({r["row"] for r in rejects}) == result["counts"]["rejected"]
    # the sample was generated with --bad 6: one fault every 333 rows
    assert sorted({r["row"] for r in rejects}) == [333, 666, 999, 1332, 1665, 1998]
    assert {r["field"] for r in rejects} == {"id_number", "certificate.grade", "hukou_county",
                                             "household.monthly_income", "household.members"}
    for r in rejects:
        assert r["message"] and any("\u4e00" <= ch <= "\u9fff" for ch in r["message"])


def test_benefits_add_up_to_the_total(result):
    money = [b for b in result["benefits"]]
    for k in RANGE:
        assert _total(money, "cost")[k] == pytest.approx(result["total"][k], abs=TOLERANCE)
    assert result["total"]["min"] <= result["total"]["mid"] <= result["total"]["max"]
    assert result["total"]["min"] < result["total"]["max"]      # the sample has range amounts


def test_payers_add_up(result):
    for k in RANGE:
        assert sum(result["payers"][p][k] for p in PAYERS) == pytest.approx(result["total"][k], abs=TOLERANCE)
    for b in result["benefits"]:
        for k in RANGE:
            assert sum(b["payers"][p][k] for p in PAYERS) == pytest.approx(b["cost"][k], abs=TOLERANCE)
    for c in result["counties"]:
        for k in RANGE:
            assert sum(c["payers"][p][k] for p in PAYERS) == pytest.approx(c["cost"][k], abs=TOLERANCE)
    assert result["payers"]["city"]["mid"] > 0 and result["payers"]["county"]["mid"] > 0


def test_counties_add_up(result):
    for k in RANGE:
        assert _total(result["counties"], "cost")[k] == pytest.approx(result["total"][k], abs=TOLERANCE)
    for p in PAYERS:
        rows = [r for r in result["county_payer"] if r["payer"] == p]
        assert _total(rows)["mid"] == pytest.approx(result["payers"][p]["mid"], abs=TOLERANCE)
    assert {c["county"] for c in result["counties"]} == set(CURRENT_COUNTIES)


def test_non_money_lines_count_persons_only(result):
    for b in result["benefits"]:
        if not b["money"]:
            assert b["cost"] == {"min": 0, "mid": 0, "max": 0}
    kinds = {k for b in result["benefits"] for k in b["amount_kinds"]}
    assert {"in_kind", "unstated", "at_least", "range", "fixed"} <= kinds
    floors = [b for b in result["benefits"] if b["floor"]]
    assert floors and sum(b["floor_part"]["mid"] for b in floors) == pytest.approx(
        result["floor_part"]["mid"], abs=TOLERANCE)


def test_rehabilitation_budget_from_the_rulebook(result):
    book = load_rulebook()
    per_capita = book.parameters["rehabilitation_per_capita"].values[-1].value
    population = {v.hukou_county: v.value for v in book.parameters["county_population"].values}
    budgets = {b["county"]: b for b in result["rehabilitation"]}
    assert set(budgets) == set(CURRENT_COUNTIES)
    for code, b in budgets.items():
        assert b["amount"] == pytest.approx(per_capita * population[code], abs=0.005)
        assert b["at_least"] is True and set(b["payer_split"]) == {"county"}
        assert "county_population" in b["unverified"]
    assert result["rehabilitation_total"] == pytest.approx(sum(per_capita * p for p in population.values()))


def test_no_rehabilitation_budget_before_2013():
    result = estimate(SAMPLE, 2012, workers=1)
    assert {b["county"] for b in result["rehabilitation"]} == set(CURRENT_COUNTIES)    # every county, at 0
    assert all(b["amount"] == 0 and b["values"] == [] for b in result["rehabilitation"])


def test_states_year_version_and_unverified_parameters(result):
    engine = default_engine()
    assert result["year"] == 2013 and result["rulebook_version"] == engine.version
    params = {p["name"]: p for p in result["parameters"]}
    assert params["dibao_standard"]["verified"] is False
    assert params["tuition_grant"]["verified"] is True
    assert {v["from"] for v in params["dibao_standard"]["values"]} == {"2012-01-01", "2013-07-01"}
    marked = {(m["benefit"], m["parameter"]) for m in result["unverified_marks"]}
    assert ("dibao_inclusion", "dibao_standard") in marked
    assert result["change_points"] == ["2013-01-01", "2013-07-01"]


def test_several_processes_give_the_same_estimate(result):
    seen = []
    parallel = estimate(SAMPLE, 2013, workers=2, on_reject=seen.append)
    assert seen == result["rejects"]
    assert dict(parallel, rejects=result["rejects"]) == result


def test_an_iterable_of_records_is_accepted():
    records = [{"id_number": "411202197003120116", "name": "王建国", "hukou_county": "411202",
                "residence": "urban", "evaluation_date": dt.date(2013, 3, 1).isoformat()},
               {"name": "无证号"}]
    result = estimate(records, 2013, workers=1)
    assert result["counts"] == {"total": 2, "evaluated": 1, "rejected": 1, "evaluations": 2}
    assert result["rejects"] == [{"row": 2, "field": "id_number", "message": "必填项未填写"}]


def test_one_need_paid_by_two_lines_is_costed_once():
    """A grade-1 adult supported by parents, household of two with 200 a month
    (100 a head), urban 湖滨, all of 2013: 低保 by household income pays the
    household (300 − 100) × 2 × 6 + (330 − 100) × 2 × 6 = 5,160; by the
    single-person route the full standard 300 × 6 + 330 × 6 = 3,780. Only
    the larger counts."""
    from tests.factories import applicant
    record = applicant(age=30, grade=1, on=dt.date(2013, 1, 1), status={"supported_by": "parents"},
                       household={"members": [{"relation": "parent", "age": 55, "disabled": False}],
                                  "monthly_income": 200, "assets_within_limit": True})
    result = estimate([record], 2013, workers=1)
    lines = {b["benefit"]: b for b in result["benefits"]}
    assert lines["dibao_inclusion"]["cost"]["mid"] == 5160
    assert lines["dibao_single_person"]["cost"]["mid"] == 0
    # one person, evaluated on two days, counts once as a duplicate
    assert lines["dibao_single_person"]["persons"] == 1 and lines["dibao_single_person"]["duplicates"] == 1
    # 二（一）: the top-up follows the engine's own 低保 finding (upon inclusion):
    # at least 20 % of the standard, 60 × 6 + 66 × 6 = 756
    assert (lines["dibao_topup"]["undetermined"], lines["dibao_topup"]["cost"]["mid"]) == (0, 756)
    assert result["total"]["mid"] == 5160 + 756


def test_progress_callback_counts_up_to_the_total(result):
    """on_progress (for the web page's progress bar): 0 first, rising per chunk, ending at total."""
    calls = []
    again = estimate(SAMPLE, 2013, workers=1, on_progress=lambda done, total: calls.append((done, total)))
    done = [d for d, _ in calls]
    assert len(calls) >= 4 and done == sorted(done) and done[0] == 0 < done[1]
    assert all(d < done[-1] for d in done[:-2])
    assert calls[-1] == (again["counts"]["total"], again["counts"]["total"])
    assert calls[0][1] >= again["counts"]["total"]   # expected rows known up front for a file
    assert again == result


RESIDENTS = SAMPLE.with_name("residents-81.jsonl")


@pytest.mark.parametrize("engine", ["columnar", "durable"])
def test_81_lines_are_counted_by_document_and_once(engine):
    """Residents without a certificate: 63号 pays nothing, 81号's 低保 and 五保
    are counted once per person. 2014, example standards: 赵秀英 (urban 湖滨, 200
    a head, 3 persons) (130 × 6 + 160 × 6) × 3 = 5220; 刘小宇 (urban 灵宝, no income, alone) 340 × 6 +
    360 × 6 = 4200; 孙福生 五保 2800 a year, his 低保 (160 × 6 + 180 × 6 =
    2040) is the same need and not counted."""
    result = estimate(RESIDENTS, 2014, workers=1, engine=engine)
    documents = {d["document"]: d["cost"]["mid"] for d in result["documents"]}
    assert documents == {"63号": 0.0, "81号": 5220 + 4200 + 2800}
    assert sum(documents.values()) == result["total"]["mid"]
    dibao = next(b for b in result["benefits"] if b["benefit"] == "dibao_81")
    assert (dibao["document"], dibao["persons"], dibao["duplicates"], dibao["cost"]["mid"]) == (
        "81号", 3, 1, 5220 + 4200)
