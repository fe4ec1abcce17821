import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from benefits.engine import InvalidApplicant, parse_applicant
from benefits.engine.facts import applicant_facts

from .factories import ON, applicant


def errors_of(record) -> dict:
    with pytest.raises(InvalidApplicant) as caught:
        parse_applicant(record)
    return {e.field: e.message for e in caught.value.errors}


def test_a_valid_record_parses():
    record = parse_applicant(applicant())
    assert record.certificate.grade == 2


@pytest.mark.parametrize("change, field, message", [
    (lambda r: r.update(id_number=r["id_number"][:-1]), "id_number", "18位"),
    (lambda r: r.update(name="   "), "name", "姓名不能为空"),
    (lambda r: r.pop("name"), "name", "必填"),
    (lambda r: r.update(hukou_county="411222"), "hukou_county", "已撤销的旧代码"),
    (lambda r: r.update(hukou_county="110105"), "hukou_county", "不是三门峡市现行"),
    (lambda r: r["certificate"].update(grade=3), "certificate.grade", "等级代码为2"),
    (lambda r: r["certificate"].update(category=6), "certificate.category", "类别代码为4"),
    (lambda r: r["certificate"].update(number="11010519491231002X42"), "certificate.number", "前18位"),
    (lambda r: r["certificate"].update(number="123"), "certificate.number", "20位"),
    (lambda r: r["certificate"].update(grade=5), "certificate.grade", "超过上限"),
    (lambda r: r.update(household={"monthly_income": -1}), "household.monthly_income", "不能小于"),
    (lambda r: r.update(household={"monthly_income": "300"}), "household.monthly_income", "应为数字"),
    (lambda r: r.update(status={"dibao": "yes"}), "status.dibao", "是/否"),
    (lambda r: r.update(status={"dibao": 1}), "status.dibao", "是/否"),
    (lambda r: r.update(residence="town"), "residence", "可选"),
    (lambda r: r.update(evaluation_date="2013-02-30"), "evaluation_date", "日期"),
    (lambda r: r.update(evaluation_date="2101-01-01"), "evaluation_date", "评估日期应在"),
    (lambda r: r.update(evaluation_date="1899-12-31", id_number="110105189912310023",
                        certificate=None), "evaluation_date", "评估日期应在"),
    (lambda r: r.update(unknown_field=1), "unknown_field", "不认识的字段"),
    (lambda r: r.update(hukou_local=False), "hukou_local", "非本市户籍"),
    (lambda r: r.update(holds_certificate=False), "holds_certificate", "未持证"),
    (lambda r: r.update(household={"members": [{"relation": "cousin"}]}), "household.members.0.relation", "可选"),
    (lambda r: r.update(household={"members": [{"relation": "child", "id_number": "123"}]}),
     "household.members.0.id_number", "18位"),
    (lambda r: r.update(hardship_events=[{"case": "flood"}]), "hardship_events.0.case", "可选"),
    (lambda r: r.update(education={"admission": {"level": "phd"}}), "education.admission.level", "可选"),
])
def test_each_bad_field_is_named_with_a_chinese_message(change, field, message):
    record = applicant()
    change(record)
    if record.get("certificate") is None:
        record.pop("certificate", None)
    errors = errors_of(record)
    assert field in errors, errors
    assert message in errors[field]


@pytest.mark.parametrize("raw", ["", "{", "[]", "null", "42", '"text"', '{"id_number": []}',
                                 b"\xff\xfe", "[" * 5000, "NaN"],
                         ids=["empty", "open-brace", "list", "null", "number", "string", "bad-id",
                              "bad-utf8", "deep-nesting", "nan"])
def test_malformed_text_is_rejected_cleanly(raw):
    with pytest.raises(InvalidApplicant):
        parse_applicant(raw)


@pytest.mark.parametrize("value", [None, 42, [1, 2], {"id_number": float("nan"), "name": "x"}, object()])
def test_non_records_are_rejected_cleanly(value):
    with pytest.raises(InvalidApplicant):
        parse_applicant(value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20)
field_names = st.sampled_from(["id_number", "name", "hukou_county", "residence", "certificate", "household",
                               "status", "insurance", "prosthesis", "education", "renovation",
                               "hardship_events", "evaluation_date", "hukou_local"])


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.just(None), overrides=st.dictionaries(field_names, json_values, max_size=5))
def test_random_malformed_records_never_raise_anything_but_invalid_applicant(base, overrides):
    record = applicant()
    record.update(overrides)
    try:
        parse_applicant(record)
    except InvalidApplicant as exc:
        assert exc.errors and all(e.field and e.message for e in exc.errors)


@settings(max_examples=200)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_random_text_never_raises_anything_but_invalid_applicant(raw):
    try:
        parse_applicant(raw)
    except InvalidApplicant:
        pass


def test_absent_facts_stay_absent():
    facts = applicant_facts(parse_applicant(applicant(category=None, grade=None, county=None, residence=None)), ON)
    assert set(facts) == {"age", "evaluation_day"}     # both from the ID number and the day
    assert facts["evaluation_day"] == ON.year * 10000 + ON.month * 100 + ON.day


def test_household_arithmetic():
    record = parse_applicant(applicant(household={
        "members": [{"relation": "parent", "age": 61, "disabled": True, "monthly_income": 100},
                    {"relation": "sibling", "id_number": "11010519491231002X", "disabled": False}],
        "monthly_income": 900}))
    facts = applicant_facts(record, ON)
    assert facts["per_capita_income"] == 300
    assert facts["disabled_members"] == 1
    assert facts["oldest_member_age"] == 63


def test_one_unknown_member_leaves_household_counts_unknown():
    record = parse_applicant(applicant(household={"members": [{"relation": "parent", "disabled": True}]}))
    facts = applicant_facts(record, ON)
    assert facts["disabled_members"] == 1
    assert "oldest_member_age" not in facts
    assert "per_capita_income" not in facts


@pytest.mark.parametrize("as_of, message", [
    ("1899-12-31", "评估日期应在"), ("2101-01-01", "评估日期应在"),
])
def test_implausible_as_of_is_refused(engine, as_of, message):
    with pytest.raises(InvalidApplicant) as caught:
        engine.evaluate(applicant(), as_of=dt.date.fromisoformat(as_of))
    assert caught.value.errors[0].field == "as_of"
    assert message in caught.value.errors[0].message


def test_as_of_before_birth_is_refused(engine):
    record = applicant(birth=dt.date(2014, 5, 1), on=dt.date(2015, 1, 1))
    with pytest.raises(InvalidApplicant, match="出生日期"):
        engine.evaluate(record, as_of=dt.date(2013, 1, 1))


# 81号's facts about any resident: every bad value has its Chinese message
@pytest.mark.parametrize("part, field, message", [
    ({"military": {"youfu_category": "hero"}}, "military.youfu_category", "不是允许的取值"),
    ({"military": {"retired_soldier": "officer"}}, "military.retired_soldier", "不是允许的取值"),
    ({"military": {"wants_training": "yes"}}, "military.wants_training", "应为是/否（true/false）"),
    ({"military": {"retired_soldier": "self_employment", "awaiting_placement": True}}, "military.awaiting_placement",
     "待安置和安置介绍信只适用于政府安排工作的退役士兵，与填写的安置方式不符"),
    ({"military": {"retired_soldier": "none", "placement_referred": True}}, "military.placement_referred",
     "待安置和安置介绍信只适用于政府安排工作的退役士兵，与填写的安置方式不符"),
    ({"military": {"rank": "上校"}}, "military.rank", "不认识的字段"),
    ({"military": {"referral_date": "2013-02-30"}}, "military.referral_date", "应为日期（YYYY-MM-DD）"),
    ({"military": {"referral_date": "2013-03-10", "placed_date": "2013-03-09"}}, "military.placed_date",
     "上岗日期应在介绍信开出日期之后，并先填写介绍信日期"),
    ({"military": {"placed_date": "2013-03-09"}}, "military.placed_date",
     "上岗日期应在介绍信开出日期之后，并先填写介绍信日期"),
    ({"military": {"contract_years": -1}}, "military.contract_years", "不能小于下限"),
    ({"military": {"contract_years": "三年"}}, "military.contract_years", "应为数字"),
    ({"child": {"orphan": 1}}, "child.orphan", "应为是/否（true/false）"),
    ({"disaster": {"date": "2013-04-20"}}, "disaster.affected", "必填项未填写"),
    ({"disaster": {"affected": False, "date": "2013-04-20"}}, "disaster.date", "填写了灾害发生日期，却标为未受灾"),
    ({"disaster": {"affected": True, "date": "2013-02-30"}}, "disaster.date", "应为日期（YYYY-MM-DD）"),
    ({"needs": {"stranded": "是"}}, "needs.stranded", "应为是/否（true/false）"),
    ({"needs": []}, "needs", "应为对象"),
])
def test_bad_81_facts_are_refused_in_chinese(part, field, message):
    with pytest.raises(InvalidApplicant) as refused:
        parse_applicant(applicant(category=None) | {"holds_certificate": False} | part)
    assert any(e.field == field and e.message.startswith(message) for e in refused.value.errors), \
        refused.value.errors


def test_81_facts_of_a_resident_without_certificate():
    record = parse_applicant(applicant(category=None) | {
        "holds_certificate": False, "military": {"youfu_category": "demobilised_veteran"},
        "disaster": {"affected": True, "date": "2013-02-28"}, "needs": {"stranded": False}})
    facts = applicant_facts(record, dt.date(2013, 3, 1))
    assert facts["has_certificate"] is False and facts["youfu_category"] == "demobilised_veteran"
    assert facts["disaster_affected"] is True and facts["disaster_days_since"] == 1
    assert facts["stranded"] is False and "orphan" not in facts and "death_in_family" not in facts
    assert applicant_facts(record, dt.date(2013, 2, 27))["disaster_days_since"] == -1


@pytest.mark.parametrize("referred, placed, day, overdue", [
    ("2013-01-31", None, "2013-02-28", False),        # 次月无31日：至2月末日
    ("2013-01-31", None, "2013-03-01", True),
    ("2013-03-10", "2013-04-10", "2013-05-01", False),  # 次月同日上岗仍在期限内
    ("2013-03-10", "2013-04-11", "2013-05-01", True),   # 次日上岗已逾期
    ("2013-12-15", None, "2014-01-15", False),
    ("2013-12-15", None, "2014-01-16", True),
])
def test_placement_deadline_is_one_calendar_month(referred, placed, day, overdue):
    record = parse_applicant(applicant(category=None) | {"holds_certificate": False, "military": {
        "retired_soldier": "government_placement", "placement_referred": True,
        "referral_date": referred, "placed_date": placed, "contract_years": 2.9}})
    facts = applicant_facts(record, dt.date.fromisoformat(day))
    assert facts["placement_overdue"] is overdue and facts["contract_years"] == 2.9


def test_placement_facts_unknown_without_dates():
    record = parse_applicant(applicant(category=None) | {"holds_certificate": False, "military": {
        "retired_soldier": "government_placement", "placement_referred": True}})
    facts = applicant_facts(record, dt.date(2014, 1, 1))
    assert "placement_overdue" not in facts and "contract_years" not in facts
