"""The rule files: schema, cross-references, and the law's own words."""
import re
import shutil
from pathlib import Path

import pytest
import yaml

from benefits.engine import RulebookError, load_rulebook
from benefits.engine.rulebook import DEFAULT_RULES_DIR

POLICY_DIR = Path(__file__).resolve().parents[1] / "policy"
POLICY = (POLICY_DIR / "sanzhengban-2012-63-disability-relief.md").read_text()
POLICY_81 = (POLICY_DIR / "sanzheng-2012-81-civil-affairs.md").read_text()


def _normalise(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _measures_81() -> dict[int, str]:
    """81号's measures by their own number: the text from "N." to the next measure."""
    parts = re.split(r"(?m)^(\d{1,2})\.", POLICY_81)
    return {int(number): _normalise(text) for number, text in zip(parts[1::2], parts[2::2])}


_NUMERAL = "[一二三四五六七八九十]+"
CLAUSES_63 = ["一", "二", "二（一）", "二（二）", "三", "三（一）", "三（二）", "三（三）", "三（四）",
              "四", "四（一）", "四（二）", "四（三）", "五", "五（一）", "五（二）", "五（三）", "六",
              "七", "七（一）", "七（二）", "七（三）", "七（四）", "七（五）"]


def _clauses_63() -> dict[str, str]:
    """63号 by its own numbering: each section `一、`…`七、` (heading, lead-in and
    items) under its numeral, each item `（一）` within a section as `二（一）`,
    its text running to the next item or section. Neither the preamble nor the
    落款 (the issuer's name and date at the end) belongs to any clause."""
    body = POLICY[:POLICY.rindex("三门峡市人民政府办公室")]
    sections = re.split(rf"(?m)^({_NUMERAL})、", body)
    clauses = {}
    for section, text in zip(sections[1::2], sections[2::2]):
        clauses[section] = _normalise(text)
        items = re.split(rf"(?m)^（({_NUMERAL})）", text)
        for item, item_text in zip(items[1::2], items[2::2]):
            clauses[f"{section}（{item}）"] = _normalise(item_text)
    return clauses


def _misquotes(cited) -> list[tuple[str, str, str]]:
    """(id, clause, fragment) for each quoted fragment not found in the clause
    its rule or floor cites; '……' marks an elision. A 63号 clause is a section
    (`63号 七`) or one of its items (`63号 二（一）`); an 81号 rule cited
    `81号 第N条` quotes measure N itself, `81号 序言`/`落款` the document."""
    policy_81, measures, clauses = _normalise(POLICY_81), _measures_81(), _clauses_63()
    wrong = []
    for item in cited:
        number = re.fullmatch(r"81号 第(\d{1,2})条", item.clause)
        if number:
            source = measures.get(int(number[1]), "")
        elif item.clause.startswith("81号 "):
            source = policy_81
        else:
            source = clauses.get(item.clause.removeprefix("63号 "), "")
        wrong += [(item.id, item.clause, fragment) for fragment in item.text.split("……")
                  if not source or _normalise(fragment) not in source]
    return wrong


def test_63_is_read_by_its_sections_and_items():
    clauses = _clauses_63()
    assert list(clauses) == CLAUSES_63
    assert clauses["二（一）"].startswith("民政部门应做好特困残疾人的生活救助")
    assert clauses["二（一）"].endswith("补贴标准应高于低保标准的20%以上。")
    assert clauses["七"].startswith("临时救助市和各县") and clauses["七"].endswith("反映家庭经济临时出现问题的。")
    assert "二〇一二年" not in clauses["七（五）"]


def test_every_quoted_text_is_in_the_clause_it_cites():
    """A rule's `text` quotes the clause it cites (`clause:`), not merely the
    same document; so do the law's floors (rules/floors/)."""
    from benefits.policy import load_floors
    assert sorted(_measures_81()) == list(range(1, 21))
    rules, floors = load_rulebook().rules, load_floors()
    assert len([r for r in rules if r.document == "63号"]) > 40 and len(floors) > 10
    assert _misquotes(rules) == []
    assert _misquotes(floors) == []


@pytest.mark.parametrize("rule_id, wrong_clause", [
    ("dibao_topup", "63号 二（二）"),          # the 20% top-up is 二（一）, the next item of the same section
    ("free_public_transport", "63号 五（二）"),  # 五（一）'s free bus rides cited as the venues' item
    ("hardship_relief", "63号 六"),            # 七's lead-in cited as the section before it
    ("dibao_topup", "63号 八"),                # a section 63号 does not have
])
def test_a_quote_cited_to_the_wrong_clause_is_caught(rule_id, wrong_clause):
    rule = next(r for r in load_rulebook().rules if r.id == rule_id)
    assert _misquotes([rule]) == []
    moved = rule.model_copy(update={"clause": wrong_clause})
    assert all(_normalise(f) in _normalise(POLICY) for f in moved.text.split("……"))   # the whole document has it
    assert _misquotes([moved]) == [(rule_id, wrong_clause, f) for f in rule.text.split("……")]


def test_81_clauses_follow_the_measure_numbering():
    """81号 is cited by its measures' own numbers 1–20 (`81号 第2条`), or
    `81号 序言` (the preamble: whom it is for) and `81号 落款` (the issue date)."""
    rules = [r for r in load_rulebook().rules if r.document == "81号"]
    assert rules
    for rule in rules:
        match = re.fullmatch(r"81号 (?:第(\d{1,2})条|序言|落款)", rule.clause)
        assert match and (match[1] is None or 1 <= int(match[1]) <= 20), rule.clause


def test_every_individual_measure_of_81_has_a_rule():
    clauses = {r.clause for r in load_rulebook().benefits}
    for number in (1, 2, 3, 8, 9, 10, 11, 13, 15):
        assert f"81号 第{number}条" in clauses


def test_every_clause_of_63_has_a_rule():
    clauses = {r.clause for r in load_rulebook().rules}
    for clause in ["一", "二（一）", "二（二）", "三（一）", "三（二）", "三（三）", "三（四）", "四（一）", "四（二）",
                   "四（三）", "五（一）", "五（二）", "五（三）", "六", "七"]:
        assert f"63号 {clause}" in clauses


def test_unverified_parameters_are_marked():
    params = load_rulebook().parameters
    for name in ("dibao_standard", "wubao_standard", "pension_min_contribution", "county_population"):
        assert params[name].verified is False
        assert "示例" in params[name].source or "未经核实" in params[name].source


@pytest.fixture
def rules_copy(tmp_path):
    target = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, target)
    return target


def _edit(path: Path, change):
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True))


@pytest.mark.parametrize("change, expected", [
    (lambda d: d["rules"][0].pop("clause"), r"63-2-basic-living\.yaml: rule dibao_inclusion: clause: Field required"),
    (lambda d: d["rules"][0]["all"].append({"fact": "shoe_size", "lt": 3}),
     r"rule dibao_inclusion: all\.3: .*unknown fact 'shoe_size'"),
    (lambda d: d["rules"][0]["all"].append({"derived": "nonexistent"}),
     r"rule dibao_inclusion: all\[3\]\.derived: no derived concept 'nonexistent'"),
    (lambda d: d["rules"][0]["outcome"].update(period="weekly"), r"rule dibao_inclusion: outcome\.period"),
    (lambda d: d["rules"][0]["outcome"].update(payer={"city": 0.5, "county": 0.4}),
     r"rule dibao_inclusion: outcome\.payer: .*add up to 1"),
    (lambda d: d["rules"][1].update(id="dibao_inclusion"), r"rule dibao_inclusion: id already used"),
    (lambda d: d["rules"][0]["outcome"]["amount"].update(param="nope"), r"rule dibao_inclusion: outcome\.amount"),
    (lambda d: d["rules"][0]["all"].append({"fact": "grade", "eq": "2"}),
     r"rule dibao_inclusion: all\[3\]\.eq: '2' is not a int, the type of fact 'grade'"),
    (lambda d: d["rules"][0]["all"].append({"fact": "in_dibao", "eq": 1}),
     r"rule dibao_inclusion: all\[3\]\.eq: 1 is not a bool"),
    (lambda d: d["rules"][0]["all"].append({"fact": "residence", "in": ["urban", 2]}),
     r"rule dibao_inclusion: all\[3\]\.in: 2 is not a str"),
    (lambda d: d["rules"][0]["outcome"].update(same_payment_as="in_scope"),
     r"rule dibao_inclusion: outcome\.same_payment_as: no benefit 'in_scope'"),
    (lambda d: d["rules"][0]["all"].append({"benefit": "in_scope"}),
     r"rule dibao_inclusion: all\[3\]\.benefit: no benefit 'in_scope'"),
    (lambda d: d["rules"][0]["all"].append({"derived": "severe", "benefit": "dibao_topup"}),
     r"rule dibao_inclusion: all\.3: .*not both"),
    (lambda d: d["rules"][0]["outcome"]["amount"].update(times_fact="residence"),
     r"rule dibao_inclusion: outcome\.amount: .*times_fact"),
])
def test_rule_errors_name_file_rule_and_field(rules_copy, change, expected):
    _edit(rules_copy / "63-2-basic-living.yaml", change)
    with pytest.raises(RulebookError, match=expected):
        load_rulebook(rules_copy)


def test_parameter_errors_name_file_parameter_and_field(rules_copy):
    _edit(rules_copy / "parameters" / "dibao.yaml", lambda d: d["dibao_standard"]["values"][0].pop("value"))
    with pytest.raises(RulebookError, match=r"dibao\.yaml: parameter dibao_standard: values\.0\.value"):
        load_rulebook(rules_copy)


def test_circular_derivation_is_refused(rules_copy):
    def loop(data):
        severe = next(r for r in data["rules"] if r["id"] == "severe")
        severe["all"].append({"derived": "rural_severe"})
    _edit(rules_copy / "63-concepts.yaml", loop)
    with pytest.raises(RulebookError, match="circular derivation"):
        load_rulebook(rules_copy)


def test_broken_yaml_names_the_file(rules_copy):
    (rules_copy / "63-4-education.yaml").write_text("rules: [\n")
    with pytest.raises(RulebookError, match=r"63-4-education\.yaml:2：不是有效的 YAML"):
        load_rulebook(rules_copy)


def test_an_impossible_date_names_the_file_and_line(rules_copy):
    path = rules_copy / "parameters" / "dibao.yaml"
    lines = path.read_text().splitlines()
    number = next(i for i, text in enumerate(lines) if "2013-07-01" in text)
    lines[number] = lines[number].replace("2013-07-01", "2013-02-30")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(RulebookError, match=rf"dibao\.yaml:{number + 1}：日期不存在：2013-02-30"):
        load_rulebook(rules_copy)


@pytest.mark.parametrize("split, expected", [
    ({"city": 0.5, "county": 0.6}, "add up to 1"),
    ({"city": 0.3}, "add up to 1"),                       # money would vanish from the payer breakdown
    ({"city": 0.5, "province": 0.5}, "unknown payer province"),
    ({"city": 1.5, "county": -0.5}, "1.5 超出分担比例范围 0—1"),
    (1, "a payer split is a mapping"),
])
def test_payer_splits_in_parameter_files_are_checked_like_rule_payers(rules_copy, split, expected):
    _edit(rules_copy / "parameters" / "payers.yaml",
          lambda d: d["hardship_relief_payer"]["values"][0].update(value=split))
    with pytest.raises(RulebookError, match=rf"payers\.yaml: parameter hardship_relief_payer: .*{expected}"):
        load_rulebook(rules_copy)


def test_a_ratio_written_as_a_percentage_is_refused(rules_copy):
    _edit(rules_copy / "parameters" / "amounts-63.yaml",
          lambda d: d["dibao_topup_ratio"]["values"][0].update(value=25))
    with pytest.raises(RulebookError, match=r"amounts-63\.yaml: parameter dibao_topup_ratio: .*0\.25"):
        load_rulebook(rules_copy)


def test_the_in_force_day_is_part_of_the_rulebook(rules_copy):
    """Each document has its own day, set once in one of its files."""
    import datetime as dt
    book = load_rulebook()
    assert {doc: f.from_ for doc, f in book.in_force_of.items()} == {
        "63号": dt.date(2012, 11, 1), "81号": dt.date(2012, 11, 13)}
    assert book.in_force.from_ == dt.date(2012, 11, 1)      # the first: before it nothing applies
    _edit(rules_copy / "63-4-education.yaml", lambda d: d.update(in_force=book.in_force.model_dump(by_alias=True)))
    with pytest.raises(RulebookError, match="in_force: set for 63号 in more than one rule file"):
        load_rulebook(rules_copy)


def test_version_changes_with_any_file(rules_copy):
    before = load_rulebook(rules_copy).version
    _edit(rules_copy / "parameters" / "amounts-63.yaml",
          lambda d: d["dibao_topup_ratio"]["values"][0].update(value=0.25))
    assert load_rulebook(rules_copy).version != before


def test_a_changed_parameter_changes_the_amount(rules_copy):
    from benefits.engine import Engine
    from .factories import applicant, line
    _edit(rules_copy / "parameters" / "amounts-63.yaml",
          lambda d: d["dibao_topup_ratio"]["values"][0].update(value=0.25))
    engine = Engine(rules_copy)
    try:
        topup = line(engine.evaluate(applicant(grade=1, status={"dibao": True})), "dibao_topup")
        assert topup["amount"] == {"kind": "at_least", "value": 75.0}
    finally:
        engine.close()


def test_a_concept_no_rule_uses_yet_is_still_evaluated(rules_copy):
    from benefits.engine import Engine
    from .factories import applicant

    def add(data):
        data["rules"].append({"id": "elderly", "kind": "derived", "label_zh": "老年残疾人", "label_en": "Elderly",
                              "clause": "63号 二（二）", "text": "老残一体", "all": [{"fact": "age", "gte": 60}]})
    _edit(rules_copy / "63-concepts.yaml", add)
    engine = Engine(rules_copy)
    try:
        result = engine.evaluate(applicant(age=70))
        assert next(c for c in result["concepts"] if c["concept"] == "elderly")["holds"] is True
    finally:
        engine.close()
