"""Every clause of 63号 at its boundaries. Expected values come from the
text of 63号 and from the example parameters in rules/parameters/ (低保
standard on 2013-03-01: urban 300, rural 140 yuan a month)."""
import datetime as dt

import pytest

from .factories import applicant, line

URBAN_STANDARD, RURAL_STANDARD = 300, 140
# Neither in 低保 nor owed it (income above the standard, supports themself,
# not "三无"): the engine's own 低保 and 五保 findings are both 不符合.
NOT_POOR = {"household": {"members": [], "monthly_income": 5000, "assets_within_limit": True}}
NOT_POOR_STATUS = {"dibao": False, "wubao": False, "supported_by": "self", "no_work_capacity": False}
EVENT_DAY = "2013-01-15"


def status(engine, benefit, **kw):
    return line(engine.evaluate(applicant(**kw)), benefit)["status"]


# 一 scope
def test_known_to_hold_no_certificate_is_out_of_scope(engine):
    result = engine.evaluate(applicant(category=None) | {"holds_certificate": False})
    assert line(result, "free_public_transport")["status"] == "ineligible"
    assert line(result, "hardship_relief")["status"] == "ineligible"


@pytest.mark.parametrize("kw, expected", [
    ({}, "eligible"),
    ({"county": None}, "undetermined"),
    ({"county": None, "hukou_local": False}, "ineligible"),
    ({"category": None}, "undetermined"),
])
def test_scope_needs_local_hukou_and_certificate(engine, kw, expected):
    assert status(engine, "free_public_transport", **kw) == expected


def test_scope_missing_certificate_is_asked_for(engine):
    missing = line(engine.evaluate(applicant(category=None)), "free_public_transport")["missing_facts"]
    assert [m["field"] for m in missing] == ["certificate"]


# 二（一）低保 inclusion: per-capita income under the standard
@pytest.mark.parametrize("income, residence, expected, amount", [
    (2 * (URBAN_STANDARD - 0.01), "urban", "eligible", 0.01),
    (2 * URBAN_STANDARD, "urban", "ineligible", None),
    (0, "urban", "eligible", URBAN_STANDARD),
    (2 * (RURAL_STANDARD - 1), "rural", "eligible", 1),
    (2 * RURAL_STANDARD, "rural", "ineligible", None),
])
def test_dibao_inclusion_at_the_standard(engine, income, residence, expected, amount):
    result = engine.evaluate(applicant(residence=residence, household={
        "members": [{"relation": "spouse", "age": 40, "disabled": False}], "monthly_income": income,
        "assets_within_limit": True}))
    benefit = line(result, "dibao_inclusion")
    assert benefit["status"] == expected
    if amount is not None:
        # paid to the household: the per-head gap × 2 persons (条例第八条)
        assert benefit["amount"] == {"kind": "fixed", "value": round(2 * amount, 2), "per_unit": amount, "count": 2,
                                     "unit_zh": "人", "payee": "household"}
        assert benefit["payer_split"] == {"unspecified": round(2 * amount, 2)}
        assert [u["parameter"] for u in benefit["unverified"]] == ["dibao_standard"]


def test_dibao_standard_changes_on_its_date(engine):
    household = {"members": [], "monthly_income": 0, "assets_within_limit": True}
    before = engine.evaluate(applicant(on=dt.date(2013, 6, 30), household=household))
    after = engine.evaluate(applicant(on=dt.date(2013, 7, 1), household=household))
    lingbao = engine.evaluate(applicant(on=dt.date(2013, 7, 1), county="411282", household=household))
    assert line(before, "dibao_inclusion")["amount"]["value"] == 300
    assert line(after, "dibao_inclusion")["amount"]["value"] == 330
    assert line(lingbao, "dibao_inclusion")["amount"]["value"] == 340


def test_dibao_needs_residence_to_know_the_standard(engine):
    result = engine.evaluate(applicant(residence=None, household={"members": [], "monthly_income": 0,
                                                                     "assets_within_limit": True}))
    benefit = line(result, "dibao_inclusion")
    assert benefit["status"] == "undetermined"
    assert [m["fact"] for m in benefit["missing_facts"]] == ["residence"]


# 二（一）adult severe person supported by parents or siblings
@pytest.mark.parametrize("age, grade, supporter, expected", [
    (17, 2, "parents", "ineligible"),
    (18, 2, "parents", "eligible"),
    (18, 3, "parents", "ineligible"),
    (30, 1, "siblings", "eligible"),
    (30, 1, "spouse", "ineligible"),
])
def test_single_person_inclusion(engine, age, grade, supporter, expected):
    assert status(engine, "dibao_single_person", age=age, grade=grade,
                  status={"supported_by": supporter}) == expected


# 二（一）top-up: at least 20% of the standard, grade 1–2 only
@pytest.mark.parametrize("grade, residence, expected, amount", [
    (1, "urban", "eligible", 60.0),
    (2, "rural", "eligible", 28.0),
    (3, "urban", "ineligible", None),
    (4, "rural", "ineligible", None),
])
def test_dibao_topup(engine, grade, residence, expected, amount):
    benefit = line(engine.evaluate(applicant(grade=grade, residence=residence, status={"dibao": True})), "dibao_topup")
    assert benefit["status"] == expected
    if amount:
        assert benefit["amount"] == {"kind": "at_least", "value": amount}
        assert benefit["period"] == "monthly"
        assert {u["parameter"] for u in benefit["unverified"]} == {"dibao_standard", "dibao_topup_payer"}


def test_topup_not_for_those_outside_dibao(engine):
    assert status(engine, "dibao_topup", status=NOT_POOR_STATUS, **NOT_POOR) == "ineligible"
    # not yet in 低保, and whether they are owed it is unknown (no income recorded)
    assert status(engine, "dibao_topup", status={"dibao": False}) == "undetermined"


@pytest.mark.parametrize("benefit", ["dibao_topup", "psychiatric_dibao_subsidy", "medical_assistance"])
def test_lines_for_dibao_recipients_follow_the_engines_own_dibao_finding(engine, benefit):
    """二（一）: an adult 一级 person supported by her parents is to be included
    in 低保 on her own; the lines for 低保对象 follow that finding, upon inclusion."""
    result = engine.evaluate(applicant(category=6, grade=1, status={"dibao": False, "supported_by": "parents"}))
    assert line(result, "dibao_single_person")["status"] == "eligible"
    target = line(result, benefit)
    assert target["status"] == "eligible"
    assert target["upon"] == ["依纳入低保"]
    already = engine.evaluate(applicant(category=6, grade=1, status={"dibao": True, "supported_by": "parents"}))
    assert line(already, benefit)["upon"] == []


def test_a_sanwu_person_is_poor_upon_inclusion_in_wubao(engine):
    sanwu = {"no_work_capacity": True, "no_income_source": True, "no_legal_supporter": True,
             "dibao": False, "wubao": False, "supported_by": "self"}
    result = engine.evaluate(applicant(grade=3, status=sanwu, **NOT_POOR))
    assert line(result, "wubao_inclusion")["status"] == "eligible"
    assert line(result, "medical_assistance")["upon"] == ["依纳入五保"]


# 二（二）temporary relief and 五保
@pytest.mark.parametrize("age, members, low_income, expected", [
    (40, [{"relation": "sibling", "age": 30, "disabled": True}], True, "eligible"),     # 一户多残
    (40, [{"relation": "sibling", "age": 30, "disabled": False}], True, "ineligible"),
    (59, [], True, "ineligible"),
    (60, [], True, "eligible"),                                                        # 老残一体
    (40, [{"relation": "parent", "age": 60, "disabled": False}], True, "eligible"),
    (40, [{"relation": "parent", "age": 59, "disabled": False}], True, "ineligible"),
    (60, [], False, "ineligible"),
])
def test_household_temporary_relief(engine, age, members, low_income, expected):
    benefit = line(engine.evaluate(applicant(age=age, household={"members": members},
                                             status={"low_income": low_income, "dibao": False,
                                                     "other_special_hardship": False})),
                   "household_temporary_relief")
    assert benefit["status"] == expected
    if expected == "eligible":
        assert benefit["amount"] == {"kind": "unstated"}
        assert any("老残一体" in a for a in benefit["assumptions"])


@pytest.mark.parametrize("flags, expected", [
    ((True, True, True), "eligible"),
    ((True, True, False), "ineligible"),
    ((False, True, True), "ineligible"),
    ((True, True, None), "undetermined"),
])
def test_sanwu_persons_enter_wubao(engine, flags, expected):
    names = ("no_work_capacity", "no_income_source", "no_legal_supporter")
    benefit = line(engine.evaluate(applicant(status={k: v for k, v in zip(names, flags) if v is not None})),
                   "wubao_inclusion")
    assert benefit["status"] == expected
    if expected == "eligible":
        # 81号 第2条: a floor (不低于…); 63号 names no payer
        assert benefit["amount"] == {"kind": "at_least", "value": 2400}
        assert benefit["payer_split"] == {"unspecified": 2400}
        assert not any("81号 第2条，农村五保供养相关费用" in a for a in benefit["assumptions"])
    if expected == "undetermined":
        assert [m["fact"] for m in benefit["missing_facts"]] == ["no_legal_supporter"]


# 三（二）medical insurance, medical assistance, pension contribution
def test_everyone_in_scope_enters_medical_insurance(engine):
    assert status(engine, "medical_insurance_inclusion", grade=4) == "eligible"


@pytest.mark.parametrize("status_, expected", [({"dibao": True}, "eligible"), ({"wubao": True}, "eligible"),
                                               (NOT_POOR_STATUS, "ineligible")])
def test_medical_assistance_for_the_poor(engine, status_, expected):
    assert status(engine, "medical_assistance", status=status_, **NOT_POOR) == expected


@pytest.mark.parametrize("category, grade, residence, scheme, expected", [
    (6, 4, "urban", "urban_resident", "eligible"),     # psychiatric, any grade
    (4, 2, "rural", "rural_resident", "eligible"),     # rural and severe
    (4, 3, "rural", "rural_resident", "ineligible"),   # rural, not severe
    (4, 1, "urban", "urban_resident", "ineligible"),   # urban severe, not psychiatric
    (6, 3, "urban", "urban_employee", "ineligible"),   # not a resident scheme
])
def test_pension_contribution_subsidy(engine, category, grade, residence, scheme, expected):
    benefit = line(engine.evaluate(applicant(category=category, grade=grade, residence=residence,
                                             insurance={"pension_scheme": scheme})), "pension_contribution_subsidy")
    assert benefit["status"] == expected
    if expected == "eligible":
        assert benefit["amount"] == {"kind": "fixed", "value": 100}
        assert benefit["period"] == "yearly"
        assert [u["parameter"] for u in benefit["unverified"]] == ["pension_min_contribution"]


# 三（三）100 yuan a month, psychiatric and in 低保; payer not named
@pytest.mark.parametrize("category, dibao, expected", [(6, True, "eligible"), (6, False, "ineligible"),
                                                       (5, True, "ineligible")])
def test_psychiatric_dibao_subsidy(engine, category, dibao, expected):
    base = {} if dibao else NOT_POOR
    status_ = {"dibao": True} if dibao else NOT_POOR_STATUS
    benefit = line(engine.evaluate(applicant(category=category, grade=3, status=status_, **base)),
                   "psychiatric_dibao_subsidy")
    assert benefit["status"] == expected
    if expected == "eligible":
        assert benefit["amount"] == {"kind": "fixed", "value": 100}
        assert benefit["payer_split"] == {"unspecified": 100}
        # the 低保 standard is shown too: 低保对象 rests on the engine's 低保 finding
        assert {u["parameter"] for u in benefit["unverified"]} == {"psychiatric_dibao_subsidy_payer", "dibao_standard"}


# 三（四）prostheses: 每例 (each fitting, one per missing leg), paid by the county
@pytest.mark.parametrize("loss, kind, expected, count, amount", [
    ("one", "thigh", "eligible", 1, 1000), ("both", "calf", "eligible", 2, 600),
    ("both", "thigh", "eligible", 2, 2000),
    ("none", "thigh", "ineligible", None, None), ("one", "none", "ineligible", None, None),
])
def test_prosthesis_subsidy(engine, loss, kind, expected, count, amount):
    result = engine.evaluate(applicant(prosthesis={"lower_limb_loss": loss, "requested_type": kind}))
    benefit = line(result, "prosthesis_subsidy")
    assert benefit["status"] == expected
    if amount:
        assert benefit["amount"] == {"kind": "fixed", "value": amount, "per_unit": amount / count, "count": count,
                                     "unit_zh": "例"}
        assert benefit["payer_split"] == {"county": amount}
        assert benefit["period"] == "one_off"
        assert any("每例" in a for a in benefit["assumptions"])
    # 有一例，免费安装一例: every amputee, whether or not a type is asked for
    free = line(result, "prosthesis_free_fitting")
    assert free["status"] == ("ineligible" if loss == "none" else "eligible")


# 四（一）tuition grants, split city/county
@pytest.mark.parametrize("level, full_time, amount", [
    ("secondary", True, 1000), ("college", True, 2000), ("bachelor", True, 3000), ("bachelor", False, None),
])
def test_tuition_grant_by_level(engine, level, full_time, amount):
    benefit = line(engine.evaluate(applicant(status={"low_income": True}, education={"admission": {
        "level": level, "full_time": full_time, "date": EVENT_DAY}})), "tuition_grant")
    assert benefit["status"] == ("eligible" if amount else "ineligible")
    if amount:
        assert benefit["amount"] == {"kind": "fixed", "value": amount}
        assert benefit["payer_split"] == {"city": amount / 2, "county": amount / 2}


def test_tuition_grant_only_for_disabled_in_hardship(engine):
    benefit = line(engine.evaluate(applicant(status={"low_income": False, "dibao": False, "wubao": False},
                                             education={"admission": {"level": "college", "full_time": True,
                                                                      "date": EVENT_DAY}})),
                   "tuition_grant")
    assert benefit["status"] == "ineligible"
    assert any("困难残疾人" in a for a in benefit["assumptions"])


# 四（二）diploma awards
@pytest.mark.parametrize("level, route, amount", [
    ("secondary", "self_study", 500), ("college", "adult_education", 1000), ("bachelor", "self_study", 1500),
    ("bachelor", "other", None),
])
def test_diploma_award(engine, level, route, amount):
    benefit = line(engine.evaluate(applicant(status={"dibao": True}, education={"diploma": {
        "level": level, "route": route, "date": EVENT_DAY}})), "diploma_award")
    assert benefit["status"] == ("eligible" if amount else "ineligible")
    if amount:
        assert benefit["payer_split"] == {"city": amount / 2, "county": amount / 2}


# 四（三）free training at 16–59
@pytest.mark.parametrize("age, expected", [(15, "ineligible"), (16, "eligible"), (59, "eligible"),
                                           (60, "ineligible")])
def test_vocational_training_ages(engine, age, expected):
    assert status(engine, "vocational_training", age=age) == expected


def test_vocational_training_age_turns_on_the_birthday(engine):
    birthday = dt.date(2013, 3, 1)
    record = applicant(birth=dt.date(1997, 3, 1), on=birthday)
    day_before = engine.evaluate(record, as_of=birthday - dt.timedelta(days=1))
    assert line(day_before, "vocational_training")["status"] == "ineligible"
    assert line(engine.evaluate(record), "vocational_training")["status"] == "eligible"


# 五（一）（二）transport, venues and a companion
@pytest.mark.parametrize("category, grade, both_legs, loss, expected", [
    (1, 2, False, "none", "eligible"),      # blind (visual, grade 1–2)
    (1, 3, False, "none", "ineligible"),    # low vision is not blind
    (5, 4, False, "none", "eligible"),      # intellectual, any grade
    (4, 3, True, "none", "eligible"),       # both lower limbs paralysed
    (4, 3, False, "both", "eligible"),      # both lower limbs lost
    (4, 3, False, "one", "ineligible"),
    (2, 2, False, "none", "eligible"),      # other severe
    (2, 3, False, "none", "ineligible"),
    (2, 3, None, "none", "undetermined"),   # both legs not recorded
])
def test_companion_free_entry(engine, category, grade, both_legs, loss, expected):
    record = applicant(category=category, grade=grade, prosthesis={"lower_limb_loss": loss})
    if both_legs is not None:
        record["certificate"]["both_lower_limbs"] = both_legs
    assert line(engine.evaluate(record), "companion_free_entry")["status"] == expected


# 五（三）observance days off in 2013
@pytest.mark.parametrize("category, dates", [
    (1, ["2013-05-19", "2013-10-15", "2013-12-03"]),
    (2, ["2013-05-19", "2013-09-22", "2013-12-03"]),
    (3, ["2013-05-19", "2013-09-22", "2013-12-03"]),
    (4, ["2013-05-19", "2013-12-03"]),
    (7, ["2013-05-19", "2013-12-03"]),
])
def test_observance_days_off(engine, category, dates):
    benefit = line(engine.evaluate(applicant(category=category, grade=3, status={"employed": True})),
                   "observance_days_off")
    assert benefit["status"] == "eligible"
    assert [d["date"] for d in benefit["amount"]["days"]] == dates


def test_no_days_off_without_an_employer(engine):
    assert status(engine, "observance_days_off", status={"employed": False}) == "ineligible"


# 六 accessibility renovation: at least 3500, halves once inspected
@pytest.mark.parametrize("dibao, grade, inspected, expected", [
    (True, 1, True, "eligible"), (True, 1, False, "ineligible"), (True, 1, None, "undetermined"),
    (True, 3, True, "ineligible"), (False, 1, True, "ineligible"),
])
def test_accessibility_renovation(engine, dibao, grade, inspected, expected):
    renovation = {"requested": True} | ({} if inspected is None else {"inspection_passed": inspected})
    status_ = {"dibao": True, "wubao": False} if dibao else NOT_POOR_STATUS
    benefit = line(engine.evaluate(applicant(grade=grade, status=status_, renovation=renovation,
                                             **({} if dibao else NOT_POOR))), "accessibility_renovation")
    assert benefit["status"] == expected
    if expected == "eligible":
        assert benefit["amount"] == {"kind": "at_least", "value": 3500}
        assert benefit["payer_split"] == {"city": 1750, "county": 1750}
    if expected == "undetermined":
        assert [m["fact"] for m in benefit["missing_facts"]] == ["renovation_inspection_passed"]


# 七 one-off hardship relief, 500–1000
@pytest.mark.parametrize("case, family_hardship, expected", [
    ("stranded", None, "eligible"),
    ("nonlocal_humanitarian", None, "ineligible"),  # a local person is not 异地
    ("hospitalised", True, "eligible"),
    ("hospitalised", False, "ineligible"),
    ("hospitalised", None, "undetermined"),
    ("major_accident", True, "eligible"),
    ("major_accident", False, "ineligible"),
    ("temporary_difficulty", None, "eligible"),
])
def test_hardship_relief_cases(engine, case, family_hardship, expected):
    event = {"case": case, "date": EVENT_DAY} | ({} if family_hardship is None else {"family_hardship": family_hardship})
    benefit = line(engine.evaluate(applicant(hardship_events=[event])), "hardship_relief")
    assert benefit["status"] == expected
    if expected == "eligible":
        assert benefit["amount"] == {"kind": "range", "min": 500, "max": 1000}
        # 七: "市和各县（市、区）政府" both pay; the halves are an assumption
        assert benefit["payer_split"] == {"city": {"min": 250, "max": 500}, "county": {"min": 250, "max": 500}}
        assert any(u["parameter"] == "hardship_relief_payer" for u in benefit["unverified"])


def test_hardship_relief_for_a_disabled_person_from_elsewhere(engine):
    record = applicant(county=None, hukou_local=False,
                       hardship_events=[{"case": "nonlocal_humanitarian", "date": EVENT_DAY}])
    result = engine.evaluate(record)
    assert line(result, "hardship_relief")["status"] == "eligible"
    assert line(result, "free_public_transport")["status"] == "ineligible"
    local_only = applicant(county=None, hukou_local=False, hardship_events=[{"case": "stranded", "date": EVENT_DAY}])
    assert line(engine.evaluate(local_only), "hardship_relief")["status"] == "ineligible"


def test_no_hardship_events_means_no_relief(engine):
    assert status(engine, "hardship_relief", hardship_events=[]) == "ineligible"


# every determination
def test_every_benefit_line_is_listed_with_clause_and_version(engine):
    result = engine.evaluate(applicant())
    assert [b["benefit"] for b in result["benefits"]] == [r.id for r in engine.rulebook.benefits]
    documents = [b["document"] for b in result["benefits"]]
    assert documents == ["63号"] * 20 + ["81号"] * 34          # grouped: 63号's lines, then 81号's
    assert all(b["clause"].startswith(b["document"] + " ") and b["text"] for b in result["benefits"])
    assert result["rulebook_version"] == engine.version
    assert sum(result["summary"].values()) == 54


def test_reasons_show_the_applicants_values(engine):
    benefit = line(engine.evaluate(applicant(grade=3, status={"dibao": True})), "dibao_topup")
    assert benefit["status"] == "ineligible"
    assert [(r["status"], r.get("value")) for r in benefit["reasons"]] == [
        ("held", None), ("held", None), ("failed", None)]
    assert benefit["reasons"][1]["derived"] == "dibao_recipient"
    assert benefit["reasons"][2]["derived"] == "severe"


def test_id_numbers_are_masked_in_results(engine):
    record = applicant()
    result = engine.evaluate(record)
    assert record["id_number"] not in str(result)
    assert result["applicant"]["id_number_masked"].count("*") == 8


# 三（一）county rehabilitation budgets: population × at least 0.5 yuan, from 2013
def test_county_rehabilitation_budget_from_2013(engine):
    rows = {r["county"]: r for r in engine.county_budgets(2013)}
    assert len(rows) == 6
    hubin = rows["411202"]
    assert (hubin["amount"], hubin["at_least"], hubin["months_in_force"]) == (326682 * 0.5, True, 12)
    assert hubin["payer_split"] == {"county": 163341}
    assert hubin["unverified"] == ["county_population"]


def test_no_rehabilitation_budget_before_2013(engine):
    rows = engine.county_budgets(2012)
    assert len(rows) == 6                   # every county is listed, at 0
    assert all(r["amount"] == 0 and r["values"] == [] for r in rows)


def test_a_rate_changing_mid_year_is_weighted_by_months(tmp_path):
    import shutil
    import yaml
    from benefits.engine import Engine
    from benefits.engine.rulebook import DEFAULT_RULES_DIR
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    path = rules / "parameters" / "amounts-63.yaml"
    data = yaml.safe_load(path.read_text())
    data["rehabilitation_per_capita"]["values"].append({"from": dt.date(2014, 7, 1), "value": 1.0})
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    engine = Engine(rules)
    try:
        yima = next(r for r in engine.county_budgets(2014) if r["county"] == "411281")
        # 135,000 people: half a year at 0.5, half a year at 1.0
        assert yima["amount"] == 135000 * 0.5 / 2 + 135000 * 1.0 / 2
        assert [v["per_capita"] for v in yima["values"]] == [0.5, 1.0]
    finally:
        engine.close()


def test_one_payment_by_two_routes_counts_once(engine):
    """A severe adult supported by parents, in a poor household, qualifies for
    低保 both ways: for the household, the gap per head × 2 persons, and the
    full standard (300) on their own. Only the larger counts: at 100 a head
    the household's (300 − 100) × 2 = 400; at 200 a head (300 − 200) × 2 = 200."""
    def routes(income):
        result = engine.evaluate(applicant(grade=1, status={"supported_by": "parents"}, household={
            "members": [{"relation": "parent", "age": 50, "disabled": False}], "monthly_income": income,
            "assets_within_limit": True}))
        return line(result, "dibao_inclusion"), line(result, "dibao_single_person")
    household, single = routes(200)
    assert (household["status"], single["status"]) == ("eligible", "eligible")
    assert (household["amount"]["value"], single["amount"]["value"]) == (400, 300)
    assert (household["duplicate_of"], single["duplicate_of"]) == (None, "dibao_inclusion")
    household, single = routes(400)
    assert (household["amount"]["value"], single["amount"]["value"]) == (200, 300)
    assert (household["duplicate_of"], single["duplicate_of"]) == ("dibao_single_person", None)


def test_wubao_and_dibao_count_once(engine):
    result = engine.evaluate(applicant(status={"no_work_capacity": True, "no_income_source": True,
                                               "no_legal_supporter": True},
                                       household={"members": [], "monthly_income": 0, "assets_within_limit": True}))
    # 五保 2400 a year against 低保 300 × 12 = 3600 a year
    assert line(result, "wubao_inclusion")["duplicate_of"] == "dibao_inclusion"
    assert line(result, "dibao_inclusion")["duplicate_of"] is None


def test_amount_waits_for_the_facts_its_standard_varies_by(engine):
    """Eligible for the top-up, but 城镇/农村 decides which standard it is 20% of."""
    topup = line(engine.evaluate(applicant(residence=None, grade=1, status={"dibao": True})), "dibao_topup")
    assert topup["status"] == "eligible"
    assert topup["amount"]["kind"] == "unresolved"
    assert "城乡居民最低生活保障标准" in topup["amount"]["reason"]
    assert [m["fact"] for m in topup["missing_facts"]] == ["residence"]
    assert topup["payer_split"] is None


# 63号 in force from 2012-11-01 (its issue date; rules/63-concepts.yaml in_force)
def test_before_the_in_force_day_63_is_not_yet_in_force(engine):
    result = engine.evaluate(applicant(on=dt.date(2012, 10, 31), status={"dibao": True}))
    assert result["not_in_force"]["from"] == "2012-11-01"
    assert "尚未施行" in result["not_in_force"]["message"]
    assert {b["status"] for b in result["benefits"]} == {"ineligible"}
    assert result["summary"] == {"eligible": 0, "ineligible": 54, "undetermined": 0}     # 81号 is later still
    assert line(result, "free_public_transport")["reasons"][0]["in_force"] == "2012-11-01"
    on_the_day = engine.evaluate(applicant(on=dt.date(2012, 11, 1)))
    assert "not_in_force" not in on_the_day
    assert line(on_the_day, "free_public_transport")["status"] == "eligible"


def test_an_early_evaluation_date_is_not_rejected_when_as_of_is_later(engine):
    record = applicant(on=dt.date(2012, 6, 1))
    assert engine.evaluate(record)["not_in_force"]
    later = engine.evaluate(record, as_of=dt.date(2013, 3, 1))
    assert later["evaluation_date"] == "2013-03-01" and "not_in_force" not in later


def test_the_in_force_day_comes_from_the_rulebook(tmp_path):
    import shutil

    from benefits.engine.evaluate import Engine
    from benefits.engine.rulebook import DEFAULT_RULES_DIR
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    concepts = rules / "63-concepts.yaml"
    concepts.write_text(concepts.read_text(encoding="utf-8").replace("from: 2012-11-01", "from: 2013-01-01"),
                        encoding="utf-8")
    other = Engine(rules)
    try:
        # each document has its own day: on 2012-12-01 81号 applies, 63号 does not yet
        result = other.evaluate(applicant(on=dt.date(2012, 12, 1)))
        assert "not_in_force" not in result
        for line in result["benefits"]:
            if line["document"] == "63号":
                assert line["status"] == "ineligible"
                assert [r["in_force"] for r in line["reasons"]] == ["2013-01-01"]
        assert other.evaluate(applicant(on=dt.date(2012, 11, 12)))["not_in_force"]["from"] == "2012-11-13"
    finally:
        other.close()


@pytest.mark.parametrize("when, expected", [
    ("2005-06-01", "ineligible"), ("2012-10-31", "ineligible"), ("2012-11-01", "eligible"),
    ("2013-03-01", "eligible"), ("2013-03-02", "ineligible"), ("2099-01-01", "ineligible"),
])
def test_dated_events_count_from_the_in_force_day_to_the_evaluation_day(engine, when, expected):
    result = engine.evaluate(applicant(status={"dibao": True}, hardship_events=[
        {"case": "major_accident", "family_hardship": True, "date": when}],
        education={"admission": {"level": "bachelor", "full_time": True, "date": when},
                   "diploma": {"level": "college", "route": "self_study", "date": when}}))
    for benefit in ("hardship_relief", "tuition_grant", "diploma_award"):
        assert line(result, benefit)["status"] == expected, benefit
        assert any("没有施行条款" in a for a in line(result, benefit)["assumptions"])
    assert not any("没有施行条款" in a for a in line(result, "dibao_topup")["assumptions"])


def test_undated_events_are_undetermined(engine):
    result = engine.evaluate(applicant(hardship_events=[{"case": "stranded"}]))
    assert line(result, "hardship_relief")["status"] == "undetermined"


# 二（一）（二）one need, one payment: groups are transitive
def test_single_person_dibao_and_wubao_are_not_both_costed(engine):
    """A 三无 adult, 二级, supported by siblings, income not recorded: 单人户施保
    (300 a month) and 五保 (2,400 a year) pay for the same need; only the larger
    counts, although 低保 by household income is undetermined."""
    record = applicant(age=30, status={"no_work_capacity": True, "no_income_source": True,
                                       "no_legal_supporter": True, "supported_by": "siblings"})
    result = engine.evaluate(record)
    assert line(result, "dibao_inclusion")["status"] == "undetermined"
    assert line(result, "wubao_inclusion")["duplicate_of"] == "dibao_single_person"
    assert line(result, "dibao_single_person")["duplicate_of"] is None


def test_same_payment_groups_are_transitive(engine):
    from benefits.engine.marks import same_payment_groups
    # across documents: 低保 and 五保 under 63号 or 81号 are one need
    assert same_payment_groups(engine.rulebook) == [
        ("dibao_inclusion", "dibao_single_person", "wubao_inclusion", "dibao_81", "wubao_81")]


def test_upon_labels_follow_the_mode():
    from benefits.engine.outcome import labels_of as upon_labels
    from benefits.engine.rulebook import Rule
    rule = Rule.model_validate({"id": "x", "kind": "derived", "label_zh": "x", "label_en": "x", "clause": "63号 一",
                                "text": "四个字以上", "any": [{"fact": "in_dibao", "eq": True},
                                                          {"benefit": "b", "upon": "依纳入低保"}]})
    assert upon_labels(rule, ["unknown", "held"], {}) == ("依纳入低保",)
    assert upon_labels(rule, ["held", "held"], {}) == ()
    both = rule.model_copy(update={"all": rule.any, "any": None})
    assert upon_labels(both, ["held", "held"], {"b": ("依纳入五保",)}) == ("依纳入低保", "依纳入五保")


# 多重 (category 7): which categories it includes must be recorded
@pytest.mark.parametrize("parts, expected", [(None, "undetermined"), ([6, 4], "eligible"), ([2, 4], "ineligible")])
def test_multiple_disability_needs_its_parts_recorded(engine, parts, expected):
    record = applicant(category=7, grade=3, status={"dibao": True})
    if parts:
        record["certificate"]["multiple_categories"] = parts
    benefit = line(engine.evaluate(record), "psychiatric_dibao_subsidy")
    assert benefit["status"] == expected
    if expected == "undetermined":
        assert [m["field"] for m in benefit["missing_facts"]] == ["certificate.multiple_categories"]


def test_multiple_parts_only_for_category_7(engine):
    from benefits.engine import InvalidApplicant
    record = applicant(category=4)
    record["certificate"]["multiple_categories"] = [1, 2]
    with pytest.raises(InvalidApplicant, match="类别7"):
        engine.evaluate(record)


# 陕州区 411203 was 陕县 411222 until 2015-02-16 (国函〔2015〕39号)
@pytest.mark.parametrize("on, name", [(dt.date(2013, 3, 1), "陕县"), (dt.date(2015, 2, 15), "陕县"),
                                      (dt.date(2015, 2, 16), "陕州区")])
def test_the_county_is_named_as_it_was_on_the_day(engine, on, name):
    assert engine.evaluate(applicant(county="411203", on=on))["applicant"]["hukou_county_zh"] == name


def test_budget_years_are_labelled_with_that_years_county_name(engine):
    names = {y: next(b["county_zh"] for b in engine.county_budgets(y) if b["county"] == "411203")
             for y in (2013, 2015, 2016)}
    assert names == {2013: "陕县", 2015: "陕州区（2月16日前为陕县）", 2016: "陕州区"}


# readings that used to live only in notes are marks now
@pytest.mark.parametrize("benefit, text", [
    ("dibao_single_person", "GB/T 26341"), ("dibao_single_person", "年满18周岁"),
    ("companion_free_entry", "视力残疾一级、二级"), ("medical_insurance_inclusion", "符合条件"),
    ("dibao_inclusion", "不含等于"), ("dibao_topup", "含20%"),
])
def test_readings_of_the_text_are_marked(engine, benefit, text):
    assert any(text in a for a in line(engine.evaluate(applicant(grade=1)), benefit)["assumptions"])
