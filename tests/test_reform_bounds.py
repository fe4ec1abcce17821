"""Issue 20 items 10–11, issue 21 items 10–12: YAML and reforms that cannot
hurt the machine, parameters that make sense. Every hostile input is built
here; each is refused with a Chinese ``file:line`` error (or a clear exit
code from the command), never a traceback, a KeyError or a spin inside
durable_rules."""
from __future__ import annotations

import datetime as dt
import shutil
import time

import pytest
from click.testing import CliRunner

from benefits.cli import main
from benefits.engine import load_rulebook
from benefits.engine.evaluate import Engine
from benefits.engine.rulebook import (DEFAULT_RULES_DIR, MAX_CHANGE_DAYS, MAX_CONDITIONS, MAX_PARAMETER_VALUES,
                                      MAX_RULE_SET_MEMBERS, MAX_SET_MEMBERS, MAX_SET_TESTS, Rule, RulebookError, assemble)
from benefits.engine.yamlfile import MAX_BYTES, MAX_DEPTH, YamlFileError, parse
from benefits.policy import ReformError, apply_reform, load_reform
from benefits.policy.floors import load_floors
from benefits.policy.reform import MAX_EDITS
from benefits.policy.yamlfile import PolicyFileError
from benefits.scorecard.targets import TargetsError, load_targets

from .factories import applicant

HEAD = "label: 测试方案\nreason: 测试用的改革方案\n"
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture(scope="module")
def base():
    return load_rulebook()


@pytest.fixture
def rules_copy(tmp_path):
    target = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, target)
    return target


# -- the one YAML loader ---------------------------------------------------------

@pytest.mark.parametrize("text, line, message", [
    ("a: &x [1, 2]\nb: *x\n", 1, "不支持 YAML 锚点和别名"),
    ("a: 1\nb:\n  c: 2\n  c: 3\n", 4, "键“c”重复（第 3 行已写过）"),
    ("a: 1\na: 1\n", 2, "键“a”重复"),
    ("a: " + DEEP + "\n", 1, f"嵌套过深（上限 {MAX_DEPTH} 层）"),
    ("? [1]\n: 2\n", 1, "映射的键应为文字或数字"),
    ("a: 2013-02-30\n", 1, "日期不存在：2013-02-30"),
    ("a: [\n", 2, "不是有效的 YAML"),
])
def test_the_loader_refuses_with_file_and_line(text, line, message):
    with pytest.raises(YamlFileError, match=rf"^x\.yaml:{line}：.*{message}"):
        parse(text, "x.yaml")


def test_the_loader_refuses_a_file_over_its_size_before_parsing():
    with pytest.raises(YamlFileError, match=r"^x\.yaml:1：文件过大"):
        parse(b"a: 1\n" + b"#" * MAX_BYTES, "x.yaml")


def test_an_exponent_is_a_number_as_in_yaml_1_2():
    assert parse("a: 1e3\nb: -1e18\nc: '1e3'\n", "x.yaml")[0] == {"a": 1000.0, "b": -1e18, "c": "1e3"}


@pytest.mark.parametrize("name, text, message", [
    ("anchors", "rules:\n  - &r {id: x}\n  - *r\n", "不支持 YAML 锚点和别名"),
    ("deep", "rules: " + DEEP + "\n", "嵌套过深"),
    ("duplicate key", "document: 甲\ndocument: 乙\nrules: []\n", "键“document”重复"),
])
def test_a_hostile_rule_file_is_refused_by_the_rulebook_and_the_command(rules_copy, name, text, message):
    (rules_copy / "99-hostile.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(RulebookError, match=rf"99-hostile\.yaml:\d+：.*{message}"):
        load_rulebook(rules_copy)
    result = CliRunner().invoke(main, ["rules", "--rules", str(rules_copy)])
    assert result.exit_code == 1 and message.split("“")[0] in result.output and "Traceback" not in result.output


def test_a_hostile_parameter_file_is_refused(rules_copy):
    (rules_copy / "parameters" / "dibao.yaml").write_text("x: &a {label_zh: 甲}\ny: *a\n", encoding="utf-8")
    with pytest.raises(RulebookError, match=r"dibao\.yaml:1：不支持 YAML 锚点和别名"):
        load_rulebook(rules_copy)


def test_a_reform_folder_with_deep_nesting_is_refused_by_compare(rules_copy, tmp_path):
    (rules_copy / "63-4-education.yaml").write_text("rules: " + DEEP + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["compare", str(DEFAULT_RULES_DIR.parent / "fixtures" / "applicants.jsonl"),
                                       "--reform", str(rules_copy), "--year", "2013", "--out",
                                       str(tmp_path / "o.xlsx")])
    assert result.exit_code == 1, result.output
    assert "63-4-education.yaml:1：嵌套过深" in result.output and not (tmp_path / "o.xlsx").exists()


def test_floor_and_target_files_go_through_the_same_loader(tmp_path):
    floors = tmp_path / "f.yaml"
    floors.write_text("document: 63号\nfloors: []\nfloors: []\n", encoding="utf-8")
    with pytest.raises(PolicyFileError, match=r"f\.yaml:3：键“floors”重复"):
        load_floors(floors)
    targets = tmp_path / "targets"
    targets.mkdir()
    (targets / "t.yaml").write_text("targets: &t []\nother: *t\n", encoding="utf-8")
    with pytest.raises(TargetsError, match=r"t\.yaml:1：不支持 YAML 锚点和别名"):
        load_targets(targets)


def test_a_reform_with_a_key_written_twice_is_refused_not_last_wins(base):
    text = HEAD + "parameters:\n  dibao_topup_ratio:\n    values: [{from: 2013-01-01, value: 0.25}]\n" \
                  "  dibao_topup_ratio:\n    values: [{from: 2013-01-01, value: 0.3}]\n"
    with pytest.raises(ReformError, match=r"^改革方案:6：键“dibao_topup_ratio”重复（第 4 行已写过）"):
        load_reform(text)


# -- parameter units and ranges ------------------------------------------------------

def test_every_shipped_parameter_declares_its_kind_and_range(base):
    for spec in base.parameters.values():
        assert spec.kind in ("money", "ratio", "count", "shares") and spec.unit
        low, high = spec.range
        assert 0 <= low < high and (high <= 1 if spec.kind in ("ratio", "shares") else high > 1)


@pytest.mark.parametrize("value, message", [
    ("-1e18", "-1e\\+18 超出金额范围 0—10000"),
    (".inf", "应为有限的数"),
    ("-.inf", "应为有限的数"),
    (".nan", "应为有限的数"),
    ("1e308", "1e\\+308 超出金额范围"),
    ("-5", "-5 超出金额范围 0—10000"),
    ("true", "类型不对（True 不是数字"),
    ("'300'", "类型不对"),
])
def test_a_senseless_parameter_value_is_refused_with_its_line(base, tmp_path, value, message):
    path = tmp_path / "r.yaml"
    path.write_text(HEAD + "parameters:\n  dibao_standard:\n    values:\n"
                    f"      - {{from: 2013-01-01, residence: urban, value: {value}}}\n", encoding="utf-8")
    with pytest.raises(ReformError, match=rf"^{path}:6：.*{message}"):
        apply_reform(base, load_reform(path))


@pytest.mark.parametrize("name, value, message", [
    ("dibao_topup_ratio", "25", "25 超出比例范围 0—1（25% 写作 0.25）"),
    ("county_population", "1.5", "应为整数，不是 1.5"),
    ("elderly_allowance_age", "-80", "-80 超出计数范围 0—120"),
    ("hardship_relief", "{min: 500, max: .inf}", "应为有限的数"),
])
def test_each_kind_has_its_range(base, name, value, message):
    by = "hukou_county: '411202', " if name == "county_population" else ""
    text = HEAD + f"parameters:\n  {name}:\n    values:\n      - {{from: 2013-01-01, {by}value: {value}}}\n"
    with pytest.raises(ReformError, match=rf"^改革方案:6：.*{message}"):
        apply_reform(base, load_reform(text))


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "2011-12-31", "2101-01-01"])
def test_a_value_dated_outside_the_window_is_refused(base, day):
    text = HEAD + f"parameters:\n  dibao_topup_ratio:\n    values:\n      - {{from: {day}, value: 0.25}}\n"
    with pytest.raises(ReformError, match=rf"^改革方案:6：.*日期 {day} 不在 2012-01-01 至 2100-12-31 之间"):
        load_reform(text)


def test_a_new_parameter_must_declare_a_sane_range(base):
    text = HEAD + "new_parameters:\n  grant:\n    label_zh: 补贴\n    unit: 元\n    kind: money\n" \
                  "    range: [0, 1e18]\n    source: 草案\n    values: [{from: 2013-01-01, value: 1}]\n"
    with pytest.raises(ReformError, match=r"^改革方案:4：新参数“grant”range 应为 \[下限, 上限\]，在 0 至 10,000,000 之间"):
        apply_reform(base, load_reform(text))
    with pytest.raises(ReformError, match=r"“new_parameters.grant.kind”缺少必填项"):
        load_reform(text.replace("    kind: money\n", ""))


def test_a_parameter_file_out_of_range_is_refused(rules_copy):
    path = rules_copy / "parameters" / "amounts-63.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("value: 100}", "value: -100}"), encoding="utf-8")
    with pytest.raises(RulebookError, match=r"amounts-63\.yaml: parameter psychiatric_dibao_subsidy: "
                                            r"2012-11-01 起的值：-100 超出金额范围 0—10000"):
        load_rulebook(rules_copy)


def test_a_boolean_is_not_an_index(base):
    text = HEAD + "rules:\n  - remove_condition: {rule: dibao_inclusion, index: true}\n"
    with pytest.raises(ReformError, match=r"^改革方案:4：remove_condition 的“index”应为整数"):
        load_reform(text)


@pytest.mark.parametrize("test", ["lte: .nan", "gte: .inf", "in: [1, .nan]"])
def test_a_condition_value_must_be_finite(base, test):
    text = HEAD + f"rules:\n  - change_condition: {{rule: severe, where: {{fact: grade}}, to: {{{test}}}}}\n"
    with pytest.raises(ReformError, match=r"^改革方案:4：条件：条件的值应为有限的数"):
        apply_reform(base, load_reform(text))


def test_the_policy_form_refuses_what_the_reform_refuses(base):
    """The form reads 25 as 25 % for a ratio (its own parsing); what it then
    holds is checked against the parameter's declared kind and range."""
    from benefits.web.reformform import changes
    form = {"p.dibao_standard.0": "20000", "p.county_population.0": "1.5", "p.elderly_allowance_age.0": "200",
            "p.dibao_topup_ratio.0": "25", "p.psychiatric_dibao_subsidy.0": "120"}
    section, errors = changes(base, form, dt.date(2013, 1, 1))
    assert errors == {"p.dibao_standard.0": "20,000 超出金额范围 0—10000（单位：元/人·月）",
                      "p.county_population.0": "应为整数，不是 1.5（单位：人）",
                      "p.elderly_allowance_age.0": "200 超出计数范围 0—120（单位：周岁）"}
    assert sorted(section) == ["dibao_topup_ratio", "psychiatric_dibao_subsidy"]


# -- a condition an amount needs ------------------------------------------------------

def test_removing_the_income_condition_the_amount_needs_is_refused(base):
    text = HEAD + "rules:\n  - remove_condition: {rule: dibao_inclusion, where: {fact: per_capita_income}}\n"
    with pytest.raises(ReformError, match=r"^改革方案:4：.*rule dibao_inclusion：金额要用事实“per_capita_income”"
                                          r"（家庭月人均收入"):
        apply_reform(base, load_reform(text))


def test_an_amount_fact_guaranteed_through_a_derived_concept_is_accepted(base):
    """The check follows derived concepts: a condition moved into a concept
    the rule rests on still guarantees the fact."""
    text = HEAD + ("rules:\n  - add_rule: {id: income_known, kind: derived, label_zh: 收入已知, label_en: income known,"
                   " clause: 63号 二（一）, text: 测试用的概念, all: [{fact: per_capita_income, gte: 0}]}\n"
                   "  - add_condition: {rule: dibao_inclusion, condition: {derived: income_known}}\n"
                   "  - remove_condition: {rule: dibao_inclusion, where: {fact: per_capita_income}}\n")
    book = apply_reform(base, load_reform(text))
    record = applicant(household={"members": [], "assets_within_limit": True})   # income not recorded
    with Engine(rulebook=book) as engine:
        line = next(b for b in engine.evaluate(record)["benefits"] if b["benefit"] == "dibao_inclusion")
    assert line["status"] == "undetermined"


# -- the work a reform may cause -----------------------------------------------------

def test_a_set_of_a_thousand_values_is_refused_before_compiling(base):
    members = ", ".join(str(i) for i in range(1000))
    text = HEAD + f"rules:\n  - change_condition: {{rule: severe, where: {{fact: grade}}, to: {{in: [{members}]}}}}\n"
    with pytest.raises(ReformError, match=rf"^改革方案:4：.*in: 集合有 1000 个值，超过上限 {MAX_SET_MEMBERS} 个"):
        apply_reform(base, load_reform(text))


def test_three_thousand_conditions_in_one_rule_are_refused(base):
    conditions = ", ".join(f"{{fact: age, gte: {i}}}" for i in range(3000))
    text = HEAD + f"rules:\n  - change_rule: {{rule: severe, set: {{all: [{conditions}]}}}}\n"
    with pytest.raises(ReformError, match=rf"rule severe：条件 3,000 个，超过上限 {MAX_CONDITIONS} 个"
                                          r"（规则集规模上限，见 docs/policy.md）"):
        apply_reform(base, load_reform(text))


def test_too_many_set_tests_in_one_rule_are_refused(base):
    text = HEAD + "rules:\n" + "".join(f"  - add_condition: {{rule: dibao_81, condition: {{fact: age, in: [{i}]}}}}\n"
                                       for i in range(MAX_SET_TESTS + 1))
    with pytest.raises(ReformError, match=rf"rule dibao_81：in: 条件 {MAX_SET_TESTS + 1} 个，超过上限"):
        apply_reform(base, load_reform(text))


def test_too_many_set_values_in_one_rule_are_refused(base):
    """Eight sets of 64 values in one rule never returned from durable_rules' create_ruleset."""
    text = HEAD + "rules:\n" + "".join(
        f"  - add_condition: {{rule: dibao_81, condition: {{fact: age, in: [{', '.join(map(str, range(i, i + 64)))}]}}}}\n"
        for i in range(5))
    with pytest.raises(ReformError, match=rf"rule dibao_81：in: 集合的值共 320 个，超过上限 {MAX_RULE_SET_MEMBERS} 个"):
        apply_reform(base, load_reform(text))


def test_too_many_edits_are_refused_before_any_is_applied():
    text = HEAD + "rules:\n" + "  - remove_rule: {rule: severe}\n" * (MAX_EDITS + 1)
    with pytest.raises(ReformError, match=rf"^改革方案:3：规则改动 {MAX_EDITS + 1} 项，超过上限 {MAX_EDITS} 项"):
        load_reform(text)


def test_three_thousand_dated_values_are_refused(base):
    """Issue 20 item 10: 123 KB of dated values (inside the file limits) took
    143 s and 3.8 GB over four cases; now refused before anything runs."""
    start = dt.date(2013, 1, 1)
    values = "".join(f"      - {{from: {start + dt.timedelta(days=i % 3000)}, value: {100 + i % 7}}}\n"
                     for i in range(3000))
    text = HEAD + "parameters:\n  psychiatric_dibao_subsidy:\n    values:\n" + values
    assert len(text.encode()) < MAX_BYTES
    with pytest.raises(ReformError, match=rf"parameter psychiatric_dibao_subsidy：带日期的值 3,001 个，"
                                          rf"超过上限 {MAX_PARAMETER_VALUES} 个"):
        apply_reform(base, load_reform(text))


def test_too_many_change_days_are_refused(base):
    """Each distinct start day is a day the caseload is evaluated again."""
    names = [n for n, p in base.parameters.items() if not p.by and not isinstance(p.values[0].value, dict)][:4]
    days = [dt.date(2015, 1, 1) + dt.timedelta(days=i) for i in range(MAX_CHANGE_DAYS)]
    text = HEAD + "parameters:\n" + "".join(
        f"  {name}:\n    values:\n" + "".join(f"      - {{from: {d}, value: {base.parameters[name].values[0].value}}}\n"
                                              for d in days[k::len(names)]) for k, name in enumerate(names))
    with pytest.raises(ReformError, match=rf"规则集：参数值的起始日期（不同的日子） \d+ 个，超过上限 {MAX_CHANGE_DAYS} 个"):
        apply_reform(base, load_reform(text))


@pytest.mark.parametrize("mode", ["all", "any"])
def test_a_rule_at_every_limit_compiles_and_runs_at_once(base, mode):
    """The limits keep durable_rules' create_ruleset and each evaluation
    short: a rule with the most conditions, `in:` tests and set members the
    limits allow is compiled and evaluated (the measured failures were an
    `in:` of ~520 values spinning for minutes and 15 `in:` tests in a rule
    giving error 113)."""
    facts = ["age", "grade", "category", "household_size", "disabled_members", "oldest_member_age",
             "lower_limbs_missing", "age"]
    # the sets: as many as allowed, together holding as many values as allowed
    sizes, rest = [], MAX_RULE_SET_MEMBERS
    for i in range(MAX_SET_TESTS):
        sizes.append(min(MAX_SET_MEMBERS, rest - (MAX_SET_TESTS - i - 1)))   # each later set keeps one value
        rest -= sizes[-1]
    assert len(sizes) == MAX_SET_TESTS and sum(sizes) == MAX_RULE_SET_MEMBERS and max(sizes) == MAX_SET_MEMBERS
    conditions = [{"fact": facts[i], "in": list(range(i, i + size))} for i, size in enumerate(sizes)]
    conditions += [{"fact": "per_capita_income", "lt": {"param": "dibao_standard"}}] * 12
    conditions += [{"fact": "age", "gte": i} for i in range(12)]
    derived = [r.id for r in base.derived if r.document == "63号"]
    conditions += [{"derived": derived[i % len(derived)]} for i in range(MAX_CONDITIONS - len(conditions))]
    assert len(conditions) == MAX_CONDITIONS
    rule = Rule.model_validate({"id": "at_the_limits", "kind": "benefit", "label_zh": "上限", "label_en": "limits",
                                "clause": "63号 二（一）", "text": "测试用的规则", mode: conditions,
                                "outcome": {"amount": {"unstated": True}, "period": "one_off"}})
    book = assemble(list(base.rules) + [rule], base.parameters, "limits", DEFAULT_RULES_DIR,
                    base.in_force_of, base.documents)
    started = time.monotonic()
    with Engine(rulebook=book) as engine:
        determination = engine.evaluate(applicant())
    assert any(b["benefit"] == "at_the_limits" for b in determination["benefits"])
    assert time.monotonic() - started < 30      # a spin would not return at all; this only bounds the wait


def test_a_kept_version_from_before_kinds_still_loads_but_a_rules_folder_must_declare_them(rules_copy):
    """Saved determinations keep their rule files for replay: files written
    before parameters declared kind and range load as they are (values still
    finite numbers); a rules folder in use must declare them."""
    from benefits.engine.rulebook import read_rule_files, rulebook_from_files
    path = rules_copy / "parameters" / "dibao.yaml"
    path.write_text("\n".join(line for line in path.read_text(encoding="utf-8").splitlines()
                              if not line.startswith(("  kind:", "  range:"))) + "\n", encoding="utf-8")
    book = rulebook_from_files(read_rule_files(rules_copy), rules_copy)
    assert book.parameters["dibao_standard"].kind is None
    with pytest.raises(RulebookError, match=r"dibao\.yaml: parameter dibao_standard：缺少 kind 和 range"):
        load_rulebook(rules_copy)
    old = apply_reform(book, load_reform(HEAD + "parameters:\n  dibao_standard:\n    values:\n"
                                                "      - {from: 2013-01-01, residence: urban, value: 400}\n"))
    assert old.parameters["dibao_standard"].values[-1].value == 400
    with pytest.raises(ReformError, match=r"应为有限的数"):
        apply_reform(book, load_reform(HEAD + "parameters:\n  dibao_standard:\n    values:\n"
                                              "      - {from: 2013-01-01, residence: urban, value: .nan}\n"))


@pytest.mark.parametrize("test, message", [
    ("gte: 1e308", "条件的值 1e\\+308 超出范围"),          # durable_rules could not read it back: error 204
    ("in: [1e300, 2]", "条件的值 1e\\+300 超出范围"),
    ("in: [2.0, 1]", "事实“grade”是整数，2.0 不是整数"),   # Polars: Int64 column against a Float64 list
    ("eq: 1.5", "事实“grade”是整数，1.5 不是整数"),
])
def test_a_condition_value_the_engines_cannot_take_is_refused(base, test, message):
    text = HEAD + f"rules:\n  - change_condition: {{rule: severe, where: {{fact: grade}}, to: {{{test}}}}}\n"
    with pytest.raises(ReformError, match=rf"^改革方案:4：.*{message}"):
        apply_reform(base, load_reform(text))


def test_a_decimal_fact_tested_against_whole_numbers_compares_in_both_engines(base):
    from benefits.policy import compare
    text = HEAD + ("rules:\n  - change_condition: {rule: dibao_inclusion, where: {fact: per_capita_income}, "
                   "to: {in: [0, 100, 250.5]}}\n")
    reformed = apply_reform(base, load_reform(text))
    result = compare(DEFAULT_RULES_DIR.parent / "fixtures" / "applicants.jsonl", base, reformed, 2013, examples=1)
    assert result.counts["total"] > 0
