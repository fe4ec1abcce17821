"""What the chosen benefit lines need from the record, read off the rulebook."""
from __future__ import annotations

import textwrap
from pathlib import Path
import typing

import pytest

from benefits.engine import load_rulebook
from benefits.engine.applicant import Applicant
from benefits.engine.needs import (ALWAYS, _number, covers, facts_of, needed_paths, paths_of_facts, service_paths,
                                   services)
from benefits.engine.marks import chain


@pytest.fixture(scope="module")
def rulebook():
    return load_rulebook()


def _under(paths, prefix):
    return {p for p in paths if p == prefix or p.startswith(prefix + ".")}


def test_tuition_grant_needs_admission_and_not_prostheses(rulebook):
    paths = needed_paths(rulebook, ["tuition_grant"])
    assert {"education.admission.level", "education.admission.full_time", "education.admission.date"} <= paths
    assert not _under(paths, "prosthesis") and not _under(paths, "renovation") and not _under(paths, "education.diploma")


def test_prosthesis_lines_need_the_prosthesis_fields(rulebook):
    paths = needed_paths(rulebook, ["prosthesis_subsidy"])
    assert {"prosthesis.lower_limb_loss", "prosthesis.requested_type"} <= paths
    assert not _under(paths, "education")


def test_a_derived_concepts_facts_are_included(rulebook):
    # tuition_grant tests no income status itself: 困难残疾人 (hardship_disabled) does
    own = {c.fact for c in rulebook.by_id["tuition_grant"].conditions if c.fact}
    assert "low_income" not in own
    assert {"status.dibao", "status.wubao", "status.low_income"} <= needed_paths(rulebook, ["tuition_grant"])


def test_a_benefit_read_upon_brings_its_facts(rulebook):
    # 精神残疾人低保补贴 reads 低保对象, which holds upon 纳入低保: the income test of that line
    paths = needed_paths(rulebook, ["psychiatric_dibao_subsidy"])
    assert {"household.monthly_income", "household.members", "household.assets_within_limit"} <= paths


def test_parameters_bring_the_facts_they_vary_by(rulebook):
    # the 低保 standard is per county and 城镇/农村
    paths = needed_paths(rulebook, ["dibao_inclusion"])
    assert {"hukou_county", "residence"} <= paths


def test_every_line_needs_identity_and_the_scope_facts(rulebook):
    scope = paths_of_facts(facts_of(rulebook, ["in_scope"]))
    assert {"hukou_local", "certificate"} <= scope
    for rule in rulebook.benefits:
        paths = needed_paths(rulebook, [rule.id])
        assert ALWAYS <= paths
        if "in_scope" in {r.id for r in chain(rule, rulebook)}:
            assert scope <= paths, rule.id


def test_always_is_the_required_fields_and_the_evaluation_day():
    assert ALWAYS == {"name", "id_number", "evaluation_date"}


def _model_has(path: str) -> bool:
    model = Applicant
    for part in path.split("."):
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return False
        annotation = fields[part].annotation
        while typing.get_origin(annotation) in (typing.Union, list):
            annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
        model = annotation
    return True


def test_every_needed_path_is_a_field_of_the_record(rulebook):
    for paths in service_paths(rulebook).values():
        for path in paths:
            assert _model_has(path), path


def test_covers_reads_paths_as_subtrees():
    assert covers({"certificate"}, "certificate.grade")
    assert covers({"certificate.grade"}, "certificate")
    assert not covers({"certificate"}, "certificate_x")
    assert not covers({"education.admission"}, "education.diploma.level")


def test_63_services_are_its_sections(rulebook):
    of_63 = [s for s in services(rulebook) if s.key.startswith("63-")]
    found = [(s.key, s.label_zh) for s in of_63]
    assert found == [("63-2", "二、基本生活救助"), ("63-3", "三、康复医疗救助"), ("63-4", "四、教育培训救助"),
                     ("63-5", "五、社会福利救助"), ("63-6", "六、无障碍救助"), ("63-7", "七、临时救助")]
    every = [b for s in services(rulebook) for b in s.benefits]
    assert sorted(every) == sorted(r.id for r in rulebook.benefits)
    assert {s.document for s in of_63} == {"三政办〔2012〕63号"}


def test_chinese_numerals():
    assert [_number(n) for n in ("一", "七", "十", "十一", "二十", "二十三", "12", "甲", "")] == \
        [1, 7, 10, 11, 20, 23, 12, None, None]


def _write(folder, name, text):
    (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")


def test_a_new_rule_file_brings_its_own_service_and_needs(tmp_path):
    """Mechanism on a small rulebook: a benefit reading a derived concept and,
    upon an event, another benefit, whose amount uses a per-county parameter."""
    (tmp_path / "parameters").mkdir()
    _write(tmp_path / "parameters", "p.yaml", """\
        standard:
          label_zh: 标准
          label_en: standard
          unit: 元
          kind: money
          range: [0, 10000]
          by: [hukou_county]
          verified: false
          source: 示例
          values:
            - {from: 2012-01-01, value: 100}
        """)
    _write(tmp_path, "81-2.yaml", """\
        document: 三政〔2012〕81号 二、主要任务
        rules:
          - id: elderly
            kind: derived
            label_zh: 老年人
            label_en: elderly
            clause: 81号 二（一）3
            text: 积极应对人口老龄化
            all:
              - {fact: age, gte: 80}
          - id: base_line
            kind: benefit
            label_zh: 基础
            label_en: base
            clause: 81号 二（一）2
            text: 提升城乡社会救助水平
            all:
              - {fact: renovation_requested, eq: true}
            outcome:
              amount: {param: standard}
              period: monthly
          - id: top_line
            kind: benefit
            label_zh: 补贴
            label_en: top
            clause: 81号 二（一）3
            text: 高龄老年人生活补贴
            all:
              - {derived: elderly}
              - {benefit: base_line, upon: 依纳入}
            outcome:
              amount: {unstated: true}
              period: monthly
        """)
    book = load_rulebook(tmp_path)
    assert [(s.key, s.document, s.label_zh, s.benefits) for s in services(book)] == [
        ("81-2", "三政〔2012〕81号", "二、主要任务", ("base_line", "top_line"))]
    assert facts_of(book, ["top_line"]) == {"age", "renovation_requested", "hukou_county"}
    assert needed_paths(book, ["top_line"]) == {"name", "id_number", "evaluation_date", "renovation.requested",
                                                "hukou_county"}


def test_81_services_are_its_measures_titled_in_the_law_s_words():
    """81号 is numbered by measure (1.–20.): a clerk ticks 第13条 加强流浪乞讨人员救助管理,
    its title quoted from the document."""
    policy = (Path(__file__).resolve().parents[1] / "policy" / "sanzheng-2012-81-civil-affairs.md").read_text("utf-8")
    shipped = [s for s in services(load_rulebook()) if s.key.startswith("81-")]
    assert [s.key for s in shipped] == ["81-1", "81-2", "81-3", "81-8", "81-9", "81-10", "81-11", "81-13", "81-15"]
    for service in shipped:
        number, title = service.label_zh.removeprefix("第").split("条 ")
        assert f"{number}.{title}。" in policy, service
