"""durable_rules against an independent three-valued reading of the rules,
on random records where any fact may be missing."""
import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from benefits.engine import parse_applicant
from benefits.engine.facts import applicant_facts

from .factories import birth_for_age, id_number
from .reference import reference_verdicts


def maybe(strategy):
    return st.none() | strategy


members = st.lists(st.fixed_dictionaries({"relation": st.sampled_from(["parent", "sibling", "spouse", "child"])}, optional={
    "age": st.integers(0, 100), "disabled": st.booleans(), "monthly_income": st.integers(0, 3000)}), max_size=4)


def _placement_settled(military: dict) -> dict:
    """Placement facts only for government placement (the record refuses others)."""
    if military.get("retired_soldier") not in (None, "government_placement"):
        for key in ("awaiting_placement", "placement_referred"):
            if military.get(key) is True:
                military[key] = False
    # 第10条: a 上岗日期 only after its 介绍信 date
    placed_after = military.pop("placed_after", None)
    if placed_after is not None and "referral_date" in military:
        military["placed_date"] = military["referral_date"] + dt.timedelta(days=placed_after)
    return military


# 81号's facts about any resident, for records of disabled people or not
RESIDENT_81 = {
    "military": st.fixed_dictionaries({}, optional={
        "youfu_category": st.sampled_from(["martyr_family", "bereaved_family", "disabled_veteran",
                                           "demobilised_veteran", "conscript_family", "other", "none"]),
        "retired_soldier": st.sampled_from(["government_placement", "self_employment", "own_career", "none"]),
        **{k: st.booleans() for k in ("awaiting_placement", "placement_referred", "wants_training",
                                      "unemployed_military_spouse", "military_retiree",
                                      "non_military_staff_retiree", "injured_veteran")},
        "referral_date": st.dates(dt.date(2012, 8, 1), dt.date(2016, 1, 2)), "placed_after": st.integers(0, 62),
        "contract_years": st.sampled_from([0, 2, 2.9, 3, 3.5, 8])}).map(_placement_settled),
    "child": st.fixed_dictionaries({}, optional={"orphan": st.booleans(), "in_hardship": st.booleans()}),
    "disaster": st.one_of(
        st.fixed_dictionaries({"affected": st.just(True)}, optional={
            "date": st.dates(dt.date(2012, 11, 1), dt.date(2016, 1, 2))}),
        st.just({"affected": False})),
    "needs": st.fixed_dictionaries({}, optional={k: st.booleans() for k in (
        "serious_illness", "hospitalised", "dilapidated_housing", "stranded", "death_in_family")}),
}


@st.composite
def records(draw):
    day = draw(st.dates(dt.date(2012, 9, 1), dt.date(2015, 12, 31)))
    dates = st.dates(dt.date(2012, 6, 1), dt.date(2016, 6, 30))
    age = draw(st.sampled_from([0, 15, 16, 17, 18, 40, 59, 60, 61, 79, 80, 90]))
    ident = id_number(birth_for_age(age, day), draw(st.sampled_from(["411202", "412531", "110105"])))
    record = {"id_number": ident, "name": "随机", "evaluation_date": day.isoformat()}
    optional = {
        "certificate": st.tuples(st.integers(1, 7), st.integers(1, 4), st.booleans(),
                                 st.lists(st.integers(1, 6), min_size=2, max_size=3, unique=True)).map(
            lambda c: {"number": f"{ident}{c[0]}{c[1]}", "category": c[0], "grade": c[1]}
            | ({"multiple_categories": c[3]} if c[0] == 7 and c[2] else {})),
        "hukou_county": st.sampled_from(["411202", "411203", "411221", "411224", "411281", "411282"]),
        "hukou_local": st.booleans(),
        "residence": st.sampled_from(["urban", "rural"]),
        "household": st.fixed_dictionaries({}, optional={
            "members": members, "monthly_income": st.sampled_from([0, 139, 140, 160, 299.99, 300, 330, 1000, 5000]),
            "assets_within_limit": st.booleans()}),
        "status": st.fixed_dictionaries({}, optional={
            k: st.booleans() for k in ("dibao", "wubao", "low_income", "no_work_capacity", "no_income_source",
                                       "no_legal_supporter", "employed", "other_special_hardship")} | {
            "supported_by": st.sampled_from(["parents", "siblings", "spouse", "children", "self", "other"])}),
        "insurance": st.fixed_dictionaries({}, optional={
            "pension_scheme": st.sampled_from(["rural_resident", "urban_resident", "urban_employee", "none"])}),
        "prosthesis": st.fixed_dictionaries({}, optional={
            "lower_limb_loss": st.sampled_from(["none", "one", "both"]),
            "requested_type": st.sampled_from(["thigh", "calf", "none"])}),
        "education": st.fixed_dictionaries({}, optional={
            "admission": st.fixed_dictionaries({"level": st.sampled_from(["secondary", "college", "bachelor", "none"])},
                                               optional={"full_time": st.booleans(), "date": dates}),
            "diploma": st.fixed_dictionaries({"level": st.sampled_from(["secondary", "college", "bachelor", "none"])},
                                             optional={"route": st.sampled_from(["self_study", "adult_education", "other"]),
                                                       "date": dates})}),
        "renovation": st.fixed_dictionaries({}, optional={"requested": st.booleans(), "inspection_passed": st.booleans()}),
        "hardship_events": st.lists(st.fixed_dictionaries(
            {"case": st.sampled_from(["stranded", "nonlocal_humanitarian", "hospitalised", "major_accident",
                                      "temporary_difficulty"])},
            optional={"family_hardship": st.booleans(), "date": dates}), max_size=3),
        **RESIDENT_81,
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            record[key] = draw(strategy)
    if record.get("hukou_local") is False:
        record.pop("hukou_county", None)
    return record


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=records())
def test_engine_agrees_with_reference_reading(engine, raw):
    record = parse_applicant(raw)
    result = engine.determine(record)
    day = dt.date.fromisoformat(result["evaluation_date"])
    in_force = engine.rulebook.in_force.from_   # the first document's day
    if day < in_force:
        # 尚未施行: nothing applies yet, whatever the record says
        assert result["not_in_force"]["from"] == in_force.isoformat()
        assert {line["status"] for line in result["benefits"]} == {"ineligible"}
        return
    facts = applicant_facts(record, day, engine.rulebook.event_days())
    params = {name: engine.parameter(name, day, facts) for name in engine.rulebook.parameters}
    params = {k: v for k, v in params.items() if v is not None}
    expected, conditions = reference_verdicts(engine.rulebook, facts, params)
    outright, _ = reference_verdicts(engine.rulebook, facts, params, without_upon=True)
    status = {True: "eligible", False: "ineligible", None: "undetermined"}
    reason = {True: "held", False: "failed", None: "unknown"}

    def applies(rule_id: str) -> bool:
        """Its document is in force on the day and it is not a mechanism still to be built."""
        rule = engine.rulebook.by_id[rule_id]
        document = engine.rulebook.in_force_of.get(rule.document)
        return not rule.pending and (document is None or day >= document.from_)
    for line in result["benefits"]:
        if not applies(line["benefit"]):
            assert line["status"] == "ineligible" and len(line["reasons"]) == 1, line["benefit"]
            assert line["reasons"][0]["status"] == "failed" and "in_force" in line["reasons"][0]
            continue
        assert line["status"] == status[expected[line["benefit"]]], (line["benefit"], facts)
        upon = expected[line["benefit"]] is True and outright[line["benefit"]] is not True
        assert bool(line["upon"]) == upon, (line["benefit"], facts)
        assert [r["status"] for r in line["reasons"]] == [reason[v] for v in conditions[line["benefit"]]]
        if line["status"] == "undetermined":
            assert line["missing_facts"], line["benefit"]
        spec = engine.rulebook.by_id[line["benefit"]].outcome.amount
        if line["status"] == "eligible" and spec.times_fact:          # 每例: × the count fact
            assert line["amount"]["count"] == facts[spec.times_fact]
            assert line["amount"]["value"] == pytest.approx(line["amount"]["per_unit"] * facts[spec.times_fact],
                                                            abs=0.005)
    # one need, one payment: in each same-payment group (closed transitively)
    # at most one eligible line with a yearly sum is left uncounted-against
    linked = {}
    for rule in engine.rulebook.benefits:
        if rule.outcome.same_payment_as:
            linked.setdefault(rule.id, set()).add(rule.outcome.same_payment_as)
            linked.setdefault(rule.outcome.same_payment_as, set()).add(rule.id)
    by_id = {line["benefit"]: line for line in result["benefits"]}
    unseen = set(linked)
    while unseen:
        group, todo = set(), [unseen.pop()]
        while todo:
            b = todo.pop()
            group.add(b)
            todo += [n for n in linked[b] if n not in group]
        unseen -= group
        paying = [b for b in group if by_id[b]["status"] == "eligible" and not by_id[b]["duplicate_of"]
                  and by_id[b]["amount"] and by_id[b]["amount"]["kind"] in ("fixed", "at_least")]
        assert len(paying) <= 1, paying
    for concept in result["concepts"]:
        if not applies(concept["concept"]):
            assert (concept["holds"], concept["reasons"]) == (None, [])
            continue
        assert concept["holds"] == expected[concept["concept"]], (concept["concept"], facts)
        assert [r["status"] for r in concept["reasons"]] == [reason[v] for v in conditions[concept["concept"]]]
