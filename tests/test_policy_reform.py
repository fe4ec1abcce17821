"""Reform files (改革方案): loaded, applied to a copy, and refused with a
Chinese file:line error when they cannot be used."""
from __future__ import annotations

import copy
import shutil

import pytest
import yaml

from benefits.engine import load_rulebook
from benefits.engine.rulebook import DEFAULT_RULES_DIR
from benefits.policy import ReformError, apply_reform, load_reform
from benefits.policy.reform import CHANGED_MARK, reform_files


@pytest.fixture(scope="module")
def base():
    return load_rulebook()


def _snapshot(book) -> dict:
    return {"version": book.version, "rules": [r.model_dump() for r in book.rules],
            "parameters": {n: p.model_dump() for n, p in book.parameters.items()}, "reform": book.reform}


def test_shipped_reforms_apply_to_a_copy_and_leave_the_baseline_untouched(base):
    before = copy.deepcopy(_snapshot(base))
    files = reform_files()
    assert {f.name for f in files} >= {"topup-25.yaml", "severe-grade-1.yaml", "no-single-person.yaml"}
    versions = set()
    for path in files:
        reform = load_reform(path)
        book = apply_reform(base, reform)
        assert book is not base and book.reform is reform and book.changes
        assert book.version != base.version
        versions.add(book.version)
        # nothing shared that could be changed through the copy
        assert all(a is not b for a, b in zip(book.rules, base.rules))
        assert all(book.parameters[n] is not p for n, p in base.parameters.items() if n in book.parameters)
    assert len(versions) == len(files)
    assert _snapshot(base) == before


def test_topup_reform_changes_the_value_from_its_date_and_loses_verified(base):
    path = reform_files()[0].parent / "topup-25.yaml"
    book = apply_reform(base, load_reform(path))
    spec = book.parameters["dibao_topup_ratio"]
    assert [(v.from_.isoformat(), v.value) for v in spec.values] == [("2012-11-01", 0.2), ("2013-01-01", 0.25)]
    assert spec.verified is False and spec.source.startswith(CHANGED_MARK)
    assert base.parameters["dibao_topup_ratio"].verified is True
    assert "0.2 → 0.25" in book.changes[0]["text_zh"] and book.changes[0]["line"] == _line_of(path.read_text(), "dibao_topup_ratio")


def test_a_value_set_to_what_it_was_stays_verified(base):
    text = "label: 不变\nreason: 同值\nparameters:\n  dibao_topup_ratio:\n    values: [{from: 2012-11-01, value: 0.2}]\n"
    book = apply_reform(base, load_reform(text))
    assert book.parameters["dibao_topup_ratio"].verified is True
    assert book.version != base.version


def test_severe_grade_1_changes_the_condition_and_label(base):
    book = apply_reform(base, load_reform(DEFAULT_RULES_DIR.parent / "reforms" / "severe-grade-1.yaml"))
    cond = book.by_id["severe"].conditions[0]
    assert (cond.fact, cond.op, cond.value) == ("grade", "lte", 1)
    assert book.by_id["severe"].label_zh == "重度残疾人（一级）"
    assert base.by_id["severe"].conditions[0].value == 2


def test_removing_single_person_drops_the_any_branch_that_named_it(base):
    book = apply_reform(base, load_reform(DEFAULT_RULES_DIR.parent / "reforms" / "no-single-person.yaml"))
    assert "dibao_single_person" not in book.by_id
    refs = [c.ref for c in book.by_id["dibao_recipient"].conditions]
    assert refs == [None, "dibao_by_income_not_wubao"]
    assert "同时删除 dibao_recipient 的条件" in book.changes[0]["text_zh"]
    assert len(base.by_id["dibao_recipient"].conditions) == 3


def test_every_kind_of_rule_edit(base):
    text = """label: 全部改动
reason: 测试每一种改动
new_parameters:
  transport_grant:
    label_zh: 交通补贴
    unit: 元/人·年
    kind: money
    range: [0, 10000]
    source: 草案
    values: [{from: 2013-01-01, value: 240}]
rules:
  - add_condition: {rule: dibao_topup, condition: {fact: age, gte: 18}}
  - remove_condition: {rule: dibao_inclusion, where: {fact: assets_within_limit}}
  - change_condition: {rule: working_age, index: 1, to: {lte: 54}}
  - add_rule:
      id: transport_grant
      kind: benefit
      label_zh: 重度残疾人交通补贴
      label_en: Transport grant
      clause: 63号 五（一）
      text: 草案：重度残疾人每年交通补贴。
      all: [{derived: in_scope}, {derived: severe}]
      outcome: {amount: {param: transport_grant}, period: yearly, payer: {county: 1.0}}
"""
    book = apply_reform(base, load_reform(text))
    assert [c.fact for c in book.by_id["dibao_topup"].conditions][-1] == "age"
    assert "assets_within_limit" not in [c.fact for c in book.by_id["dibao_inclusion"].conditions]
    assert book.by_id["working_age"].conditions[1].value == 54
    assert book.by_id["transport_grant"].kind == "benefit"
    assert book.parameters["transport_grant"].verified is False
    assert [c["kind"] for c in book.changes] == ["new_parameter", "add_condition", "remove_condition",
                                                 "change_condition", "add_rule"]


def test_a_copied_rules_directory_is_a_reform_and_edited_parameters_lose_verified(base, tmp_path):
    target = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, target)
    path = target / "parameters" / "amounts-63.yaml"
    path.write_text(path.read_text().replace("{from: 2012-11-01, value: 100}", "{from: 2012-11-01, value: 120}"))
    reform = load_reform(target)
    assert reform.directory == target
    book = apply_reform(base, reform)
    assert book.parameters["psychiatric_dibao_subsidy"].verified is False
    assert book.parameters["psychiatric_dibao_subsidy"].source.startswith(CHANGED_MARK)
    assert book.parameters["renovation_floor"].verified is True
    assert [c["target"] for c in book.changes] == ["psychiatric_dibao_subsidy"]


def _line_of(text: str, token: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if token in line)


HEAD = "label: 测试方案\nreason: 测试错误信息\n"
BAD = [
    ("unknown rule", HEAD + "rules:\n  - remove_rule: {rule: dibao_single_persn}\n", "dibao_single_persn",
     "未知规则“dibao_single_persn”（是不是：dibao_single_person"),
    ("unknown parameter", HEAD + "parameters:\n  dibao_topup_rato:\n    values: [{from: 2013-01-01, value: 0.25}]\n",
     "dibao_topup_rato", "未知参数“dibao_topup_rato”"),
    ("impossible date", HEAD + "parameters:\n  dibao_topup_ratio:\n    values:\n      - {from: 2013-02-30, value: 0.25}\n",
     "2013-02-30", "日期不存在：2013-02-30"),
    ("not a date", HEAD + "parameters:\n  dibao_topup_ratio:\n    values:\n      - {from: 2013年1月, value: 0.25}\n",
     "2013年1月", "应为日期"),
    ("value of the wrong type", HEAD + "parameters:\n  dibao_topup_ratio:\n    values:\n"
     "      - {from: 2013-01-01, value: 百分之二十五}\n", "百分之二十五", "类型不对"),
    ("condition value of the wrong type", HEAD + "rules:\n  - change_condition:\n      rule: severe\n"
     "      where: {fact: grade}\n      to: {lte: 一级}\n", "一级", "事实“grade”的值应为数字"),
    ("a ratio as a percentage", HEAD + "parameters:\n  dibao_topup_ratio:\n    values: [{from: 2013-01-01, value: 25}]\n",
     "value: 25", "参数“dibao_topup_ratio”（比例）的值 25 超出比例范围 0—1（25% 写作 0.25）"),
    ("a dimension the parameter does not vary by", HEAD + "parameters:\n  dibao_topup_ratio:\n    values:\n"
     "      - {from: 2013-01-01, hukou_county: '411202', value: 0.25}\n", "hukou_county", "不按户籍县区区分"),
    ("yaml syntax", HEAD + "rules: [\n  - remove_rule: {rule: severe\n", "remove_rule", "不是有效的 YAML"),
    ("unknown field", "label: 测试方案\nreason: 测试\nparamters: {}\n", "paramters", "不认识的字段"),
    ("label missing", "reason: 测试错误信息\n", "reason", "“label”缺少必填项"),
    ("not a mapping", "- remove_rule: {rule: severe}\n", "remove_rule", "改革方案应是一个映射"),
    ("two edits in one entry", HEAD + "rules:\n  - {remove_rule: {rule: a}, add_rule: {id: b}}\n", "remove_rule",
     "每项规则改动只写一种"),
    ("no such condition", HEAD + "rules:\n  - remove_condition: {rule: severe, where: {fact: age}}\n", "severe",
     "规则“severe”中没有符合 where 的条件"),
    ("a rule another needs in all", HEAD + "rules:\n  - remove_rule: {rule: severe}\n", "severe",
     "请先用 remove_condition"),
    ("anchors and aliases", HEAD + "x: &a [1, 2]\ny: *a\n", "x: &a", "不支持 YAML 锚点和别名"),
    ("an existing rule added", HEAD + "rules:\n  - add_rule: {id: severe, kind: derived}\n", "severe",
     "规则“severe”已存在"),
]


@pytest.mark.parametrize("name, text, token, message", BAD, ids=[b[0] for b in BAD])
def test_a_bad_reform_file_names_file_and_line_in_chinese(base, tmp_path, name, text, token, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    before = copy.deepcopy(_snapshot(base))
    with pytest.raises(ReformError, match=rf"^{path}:{_line_of(text, token)}：.*{message}"):
        apply_reform(base, load_reform(path))
    assert _snapshot(base) == before


def test_a_huge_reform_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text(HEAD + "# " + "很" * 200_000 + "\n")
    with pytest.raises(ReformError, match=rf"^{path}:1：文件过大"):
        load_reform(path)


def test_a_billion_laughs_file_is_refused():
    laughs = HEAD + 'a: &a ["哈", "哈"]\n' + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(20))
    with pytest.raises(ReformError, match="不支持 YAML 锚点和别名"):
        load_reform(laughs)


def test_text_and_path_forms_give_the_same_reform(tmp_path):
    text = (DEFAULT_RULES_DIR.parent / "reforms" / "topup-25.yaml").read_text()
    path = tmp_path / "r.yaml"
    path.write_text(text)
    a, b = load_reform(text), load_reform(path)
    assert (a.label, a.digest, a.parameters) == (b.label, b.digest, b.parameters)
    assert yaml.safe_load(a.text)["label"] == "低保重度残疾人定额补贴提高到25%"


def test_a_missing_reform_file_says_so(tmp_path):
    with pytest.raises(ReformError, match=rf"^{tmp_path}/nope.yaml:1：找不到改革方案文件"):
        load_reform(str(tmp_path / "nope.yaml"))


def test_more_parameters_than_one_mask_word_holds_are_accepted(base):
    """The columnar engine's missing-facts mask spans as many 64-bit words
    as facts and parameters need, so a reform may add many parameters."""
    from benefits.engine.columnar.plan import MissingBits
    text = HEAD + "new_parameters:\n" + "".join(
        f"  p{i}: {{label_zh: 参数{i}, unit: 元, kind: money, range: [0, 9], source: 草案, values: [{{from: 2013-01-01, value: 1}}]}}\n"
        for i in range(64))
    book = apply_reform(base, load_reform(text))
    assert MissingBits(book).words > MissingBits(base).words
