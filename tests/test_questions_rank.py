"""下一步要问的问题: gate questions first, then by how likely the answer
changes a payable line (benefits.engine.needs.rank_questions; issue 20 item 1)."""
from __future__ import annotations

import pytest

from benefits.engine import default_engine, parse_applicant
from benefits.engine.needs import GATES, gate_no, pays_money, question_weight, rank_questions

# issue 20's two realistic cases
WOMAN = {"id_number": "411202197401010326", "name": "张秀兰", "hukou_county": "411202", "residence": "urban",
         "certificate": {"number": "41120219740101032642", "category": 4, "grade": 2},
         "status": {"dibao": True}, "evaluation_date": "2025-06-01"}
VETERAN = {"id_number": "411202193701010311", "name": "李老兵", "holds_certificate": False,
           "hukou_county": "411202", "residence": "rural",
           "military": {"youfu_category": "demobilised_veteran"}, "evaluation_date": "2025-06-01"}


@pytest.fixture(scope="module")
def engine():
    return default_engine()


def _ranked(engine, record):
    result = engine.determine(parse_applicant(record))
    return result, rank_questions(engine.rulebook, result)


def test_the_military_gate_comes_first_and_stands_for_every_military_question(engine):
    result, asks = _ranked(engine, WOMAN)
    first = asks[0]
    assert first["gate"] == "military" and first["label_zh"].startswith("是否退役士兵")
    inside = {q["fact"] for q in first["then"]}
    assert {"retired_soldier", "youfu_category", "military_retiree"} <= inside
    assert not inside & {q["fact"] for q in asks[1:]}          # asked once, under the gate
    military = {line["benefit"] for line in result["benefits"] if line["status"] == "undetermined"
                and all(m["fact"] in inside for m in line["missing_facts"])}
    assert military <= {line["benefit"] for line in first["lines"]} and len(military) >= 7


def test_a_no_to_the_gate_settles_the_military_lines(engine):
    before, _ = _ranked(engine, WOMAN)
    record = dict(WOMAN, military={})
    for path, value in gate_no(next(g for g in GATES if g.key == "military")).items():
        record["military"][path.split(".", 1)[1]] = value
    after, asks = _ranked(engine, record)
    waiting = {line["benefit"] for line in before["benefits"] if line["status"] == "undetermined"}
    settled = {line["benefit"] for line in after["benefits"] if line["status"] != "undetermined"} & waiting
    assert len(settled) >= 7 and not any(q.get("gate") == "military" for q in asks)


def test_the_rest_rank_by_how_likely_an_answer_changes_a_payable_line(engine):
    result, asks = _ranked(engine, WOMAN)
    rest = [q for q in asks if not q.get("gate")]
    weights = [question_weight(engine.rulebook, q["lines"]) for q in rest]
    assert weights == sorted(weights, reverse=True)
    labels = [q["label_zh"] for q in rest]
    # 家庭月人均收入 decides 低保 (money, 2 facts missing); 申请无障碍改造 a service line (2 missing)
    income = labels.index("家庭月人均收入（家庭月总收入÷人数）")
    assert income < labels.index("申请无障碍改造")
    # a fact deciding more lines does not outrank one more likely to change money:
    # 下肢缺肢 (2 lines) against 主要供养人 (one money line that lacks only it)
    assert labels.index("主要供养人") < labels.index("下肢缺肢")
    assert len(next(q for q in rest if q["label_zh"] == "下肢缺肢")["lines"]) > 1


def test_question_weight_is_the_stated_sum():
    class Book:   # two lines: a money line lacking 2 facts, a service line lacking 1
        by_id = {}
    money = {"benefit": "dibao_inclusion", "missing_facts": [{}, {}]}
    service = {"benefit": "free_public_transport", "missing_facts": [{}]}
    book = default_engine().rulebook
    assert pays_money(book, "dibao_inclusion") and not pays_money(book, "free_public_transport")
    assert question_weight(book, [money, service]) == pytest.approx(1 / 2 + 0.25 / 1)
    assert not pays_money(Book(), "dibao_inclusion")


def test_a_veteran_is_not_asked_the_gate_and_the_certificate_gate_leads_when_unknown(engine):
    _, asks = _ranked(engine, VETERAN)
    assert not any(q.get("gate") == "military" for q in asks)
    assert asks[0]["label_zh"] == "退役士兵安置方式"
    unknown = {k: v for k, v in WOMAN.items() if k != "certificate"}
    _, asks = _ranked(engine, unknown)
    assert asks[0]["gate"] == "holds_certificate" and asks[0]["field"] == "holds_certificate"
    assert asks[1]["gate"] == "military"
