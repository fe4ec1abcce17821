"""The law's floors: each one flagged when a reform breaks it, and not at
its boundary; a broken floor is marked, never an error."""
from __future__ import annotations

import datetime as dt

import pytest
import yaml

from benefits.engine import load_rulebook
from benefits.policy import apply_reform, check_floors, load_floors, load_reform
from benefits.policy.floors import OK, UNCHECKED, VIOLATED
from benefits.policy.yamlfile import PolicyFileError

FLOORS = load_floors()
BASE = load_rulebook()


def _reform(floor, value):
    """A reform that gives the floor's target ``value`` from 2013-06-01."""
    rule = BASE.by_id[floor.rule]
    if floor.of == "payer":
        outcome = rule.outcome.model_dump(by_alias=True, exclude_none=True)
        outcome["payer"] = value
        body = {"rules": [{"change_rule": {"rule": rule.id, "set": {"outcome": outcome}}}]}
    else:
        name = getattr(rule.outcome.amount, floor.of)
        if floor.key is not None:
            value = {**BASE.parameters[name].values[-1].value, floor.key: value}
        body = {"parameters": {name: {"values": [{"from": dt.date(2013, 6, 1), "value": value}]}}}
    text = yaml.safe_dump({"label": "底线测试", "reason": f"测试 {floor.id}", **body}, allow_unicode=True)
    return apply_reform(BASE, load_reform(text))


def _cases(floor):
    """(boundary value, [values that break it])."""
    op = floor.op
    if op == "shares":
        return floor.shares, [{"city": 0.4, "county": 0.6}, {"county": 1.0}]
    if op == "between":
        low, high = floor.between
        return {"min": low, "max": high}, [{"min": low - 1, "max": high}, {"min": low, "max": high + 1}]
    bound = getattr(floor, op)
    step = 0.01
    return bound, {"gte": [bound - step], "eq": [bound - step, bound + step]}[op]


def _mine(book, floor):
    return [c for c in check_floors(book, FLOORS) if c.floor == floor.id]


def test_the_current_rules_meet_every_floor():
    checks = check_floors(BASE)
    assert {c.floor for c in checks} == {f.id for f in FLOORS}
    assert all(c.status == OK for c in checks), [c.message for c in checks if not c.ok]
    assert all(c.message.startswith("符合 63号") for c in checks)


@pytest.mark.parametrize("floor", FLOORS, ids=[f.id for f in FLOORS])
def test_each_floor_is_flagged_when_broken_and_not_at_its_boundary(floor):
    boundary, broken = _cases(floor)
    at = _mine(_reform(floor, boundary), floor)
    assert at and all(c.status == OK for c in at), [c.message for c in at]
    for value in broken:
        checks = _mine(_reform(floor, value), floor)
        bad = [c for c in checks if c.status == VIOLATED]
        assert len(bad) == 1, (value, [c.message for c in checks])
        assert bad[0].message.startswith(f"违反 {floor.clause}：{floor.text}（改后 ")
        assert "2013-06-01 起" in bad[0].message or floor.of == "payer"


def test_the_top_up_message_reads_as_the_issue_asks():
    floor = next(f for f in FLOORS if f.id == "dibao_topup_ratio")
    [bad] = [c for c in _mine(_reform(floor, 0.15), floor) if not c.ok]
    assert bad.message == "违反 63号 二（一）：补贴标准应高于低保标准的 20% 以上。（改后 15%，2013-06-01 起）"
    assert "含 20%" in bad.assumption       # the ≥ reading of “高于…20%以上” is shown with it


def test_the_rehabilitation_floor_applies_from_2013_only():
    floor = next(f for f in FLOORS if f.id == "rehabilitation_per_capita")
    text = ("label: 底线测试\nreason: 2013年前的值\nparameters:\n  rehabilitation_per_capita:\n"
            "    replace: true\n    values:\n      - {from: 2012-06-01, value: 0.3}\n"
            "      - {from: 2013-01-01, value: 0.5}\n")
    assert all(c.ok for c in _mine(apply_reform(BASE, load_reform(text)), floor))
    text = text.replace("2013-01-01, value: 0.5", "2013-02-01, value: 0.5")
    checks = _mine(apply_reform(BASE, load_reform(text)), floor)
    assert [c.status for c in checks] == [VIOLATED, OK]   # 0.3 is still in force in January 2013


def test_a_removed_line_breaks_its_floor_and_a_changed_form_cannot_be_checked():
    removed = apply_reform(BASE, load_reform("label: 删除\nreason: 测试\nrules:\n"
                                             "  - remove_rule: {rule: psychiatric_dibao_subsidy}\n"))
    [check] = [c for c in check_floors(removed) if c.floor == "psychiatric_dibao_subsidy"]
    assert check.status == VIOLATED and "已无规则 psychiatric_dibao_subsidy" in check.message
    reshaped = apply_reform(BASE, load_reform(
        "label: 改为定额\nreason: 测试\nrules:\n  - change_rule:\n      rule: dibao_topup\n      set:\n"
        "        outcome: {amount: {param: psychiatric_dibao_subsidy}, period: monthly,"
        " payer: {param: dibao_topup_payer}}\n"))
    [check] = [c for c in check_floors(reshaped) if c.floor == "dibao_topup_ratio"]
    assert check.status == UNCHECKED and check.message.startswith("无法核对 63号 二（一）")


def test_a_bad_floors_file_names_file_and_line(tmp_path):
    path = tmp_path / "floors.yaml"
    path.write_text("document: 测试\nfloors:\n  - id: x\n    clause: 63号 六\n    text: 每户按照不低于\n"
                    "    rule: accessibility_renovation\n    of: param\n    gte: 1\n    lte: 2\n")
    with pytest.raises(PolicyFileError, match=rf"^{path}:3：.*exactly one test"):
        load_floors(path)
