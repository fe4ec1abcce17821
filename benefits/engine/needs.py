"""What a set of benefit lines can need from an applicant record, and the
services (服务) a clerk picks those lines by. Both are read off the rulebook,
so a new rule file brings its own service and its own fields.

A line needs the record fields of every fact its conditions test, of every
derived concept and benefit it refers to (``derived``/``benefit``, with or
without ``upon``), transitively; of the facts its amount is computed from;
and of the facts its parameters vary by (county, 城镇/农村). Every line needs
the record's required fields and the evaluation day (in-force day,
dated parameters, age).
"""
from __future__ import annotations

import re
import typing
from dataclasses import dataclass
from pathlib import Path

from .applicant import Applicant
from .facts import FACTS
from .outcome import MONEY_FORMS
from .rulebook import ParamRef, Rule, Rulebook

# The engine reads these for every line: the record's required fields (it
# cannot be validated without them) and the evaluation day, which decides
# whether the rulebook is in force and which parameter values apply.
ALWAYS: frozenset[str] = frozenset(
    [name for name, spec in Applicant.model_fields.items() if spec.is_required()] + ["evaluation_date"])

# Amount forms that read the record beyond facts: 五（三）'s days off are
# those of the certificate's categories.
_AMOUNT_PATHS = {"observances": ("certificate",)}


def facts_of(rulebook: Rulebook, rule_ids) -> frozenset[str]:
    """The fact names the rules ``rule_ids`` can read, through the concepts
    and benefits they refer to and the parameters they use."""
    seen: set[str] = set()
    facts: set[str] = set()

    def parameter(name: str) -> None:
        facts.update(rulebook.parameters[name].by)

    def visit(rule: Rule) -> None:
        if rule.id in seen:
            return
        seen.add(rule.id)
        for cond in rule.conditions or []:
            if cond.ref is not None:
                visit(rulebook.by_id[cond.ref])
                continue
            facts.add(cond.fact)
            if isinstance(cond.value, ParamRef):
                parameter(cond.value.param)
        if rule.outcome is not None:
            amount = rule.outcome.amount
            facts.update(f for f in (amount.key_fact, amount.minus_fact, amount.times_fact) if f)
            for name in amount.parameters():
                parameter(name)
            if rule.outcome.payer is not None and rule.outcome.payer.param is not None:
                parameter(rule.outcome.payer.param)

    for rule_id in rule_ids:
        visit(rulebook.by_id[rule_id])
    return frozenset(facts)


def paths_of_facts(facts) -> frozenset[str]:
    """The record paths those facts are computed from (``field`` and ``inputs``)."""
    return frozenset(path for name in facts for path in (FACTS[name].field, *FACTS[name].inputs))


def needed_paths(rulebook: Rulebook, benefit_ids) -> frozenset[str]:
    """Every record path the benefit lines ``benefit_ids`` can need; a path
    stands for everything under it (``certificate`` → ``certificate.grade``)."""
    paths = set(ALWAYS) | paths_of_facts(facts_of(rulebook, benefit_ids))
    for rule_id in benefit_ids:
        outcome = rulebook.by_id[rule_id].outcome
        if outcome is not None:
            paths.update(_AMOUNT_PATHS.get(outcome.amount.form, ()))
    return frozenset(paths)


def covers(paths, name: str) -> bool:
    """Whether record path ``name`` is needed under ``paths``: equal, below
    a needed path, or above one (an input holding a needed sub-field)."""
    return any(name == p or name.startswith(p + ".") or p.startswith(name + ".") for p in paths)


@dataclass(frozen=True)
class Service:
    """A group of benefit lines a clerk picks at the counter: one section of
    one document (63号 四 教育培训救助), as its rule file heads it."""
    key: str                 # stable, for URLs and form values: 63-4
    document: str            # 三政办〔2012〕63号
    label_zh: str            # 四、教育培训救助
    label_en: str            # 63号 section 4
    benefits: tuple[str, ...]


_NUMERALS = "一二三四五六七八九十"
_CLAUSE = re.compile(r"^(\d+)号\s+(?:第)?([一二三四五六七八九十]+|\d+)")


def _number(numeral: str) -> int | None:
    """一…九十九 (and digits) as an int."""
    if numeral.isdigit():
        return int(numeral)
    if not numeral or any(c not in _NUMERALS for c in numeral):
        return None
    if "十" not in numeral:
        return _NUMERALS.index(numeral) + 1 if len(numeral) == 1 else None
    tens, _, units = numeral.partition("十")
    return (_NUMERALS.index(tens) + 1 if tens else 1) * 10 + (_NUMERALS.index(units) + 1 if units else 0)


def _section(rule: Rule) -> tuple[str, str]:
    """(document number, top-level section) of a clause: 63号 七（二） → (63, 七)."""
    match = _CLAUSE.match(rule.clause)
    if match is None:
        doc, _, rest = rule.clause.partition(" ")
        return doc.rstrip("号"), rest.split("（")[0] or rest
    return match.group(1), match.group(2)


def _titles(heading: str) -> tuple[str, dict[str, str]]:
    """A rule file's heading → (document name, {section numeral: title}):
    三政办〔2012〕63号 六、无障碍救助；七、临时救助 → 六: 无障碍救助, 七: 临时救助;
    81号's measures are numbered 1.–20.: 三政〔2012〕81号 二（四）13.加强流浪乞讨人员救助管理 → 13: …"""
    document, _, rest = heading.strip().partition(" ")
    titles = dict(re.findall(r"([一二三四五六七八九十]+、|\d+\.)([^；;，,。]+)", rest))
    titles = {k.rstrip("、."): v for k, v in titles.items()}
    return document, {k: v.strip() for k, v in titles.items()} or ({"": rest.strip()} if rest.strip() else {})


def services(rulebook: Rulebook) -> list[Service]:
    """The benefit lines grouped by rule file and clause section, in
    document and section order."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for rule in rulebook.benefits:
        doc, section = _section(rule)
        groups.setdefault((doc, section, rule.source_file), []).append(rule.id)
    # 63-4 unless two files share a document section (then the file names it)
    plain: dict[str, int] = {}
    for doc, section, _ in groups:
        key = f"{doc}-{_number(section) or section}"
        plain[key] = plain.get(key, 0) + 1
    out = []
    for (doc, section, source), ids in sorted(groups.items(), key=lambda kv: (
            int(kv[0][0]) if kv[0][0].isdigit() else 10**6, _number(kv[0][1]) or 10**6, kv[0][2])):
        document, titles = _titles(rulebook.documents.get(source, ""))
        title = titles.get(section) or titles.get("") or ""
        number = _number(section)
        key = f"{doc}-{number or section}"
        if plain[key] > 1:
            key = f"{Path(source).stem}-{number or section}"
        if title and section.isdigit():          # 81号 第13条 加强流浪乞讨人员救助管理
            label = f"第{section}条 {title}"
        else:
            label = f"{section}、{title}" if title and not title.startswith(section) else (title or f"{doc}号 {section}")
        out.append(Service(key=key, document=document or f"{doc}号", label_zh=label,
                           label_en=f"{doc}号 section {number or section}", benefits=tuple(ids)))
    return out


def service_paths(rulebook: Rulebook) -> dict[str, frozenset[str]]:
    """For each service key, the record paths its lines can need."""
    return {s.key: needed_paths(rulebook, s.benefits) for s in services(rulebook)}


# ---------------------------------------------------------------- questions
# 下一步要问的问题: which missing facts to ask first.

@dataclass(frozen=True)
class Gate:
    """A gate question (门槛问题): one answer of 否 settles a whole group of
    lines at once — 是否持《残疾人证》 for 63号's disability lines, 是否退役
    士兵/优抚对象 for 81号's military lines. ``facts`` are the facts a 否
    answers; ``section`` is the record section the answer fills (None: the
    gate is itself a fact of the record)."""
    key: str
    question_zh: str
    facts: frozenset[str]
    section: str | None = None


def _military_facts() -> frozenset[str]:
    return frozenset(name for name, fact in FACTS.items()
                     if fact.field.startswith("military.") and all(p.startswith("military.") for p in fact.inputs))


GATES: tuple[Gate, ...] = (
    Gate("holds_certificate", "是否持《残疾人证》？", frozenset({"has_certificate"})),
    Gate("military", "是否退役士兵、优抚对象、随军家属或军队移交安置人员？", _military_facts(), "military"),
)

def gate_no(gate: Gate) -> dict[str, object]:
    """The record values a 否 to a section gate stands for: each yes/no of
    the section 否, each choice with a “none” (非优抚对象、非退役士兵) that;
    dates and numbers stay unanswered (not asked once the gate says 否)."""
    if gate.section is None:
        return {gate.key: False}
    model = typing.get_args(Applicant.model_fields[gate.section].annotation)[0]
    out: dict[str, object] = {}
    for name, spec in model.model_fields.items():
        kinds = typing.get_args(spec.annotation) or (spec.annotation,)
        if bool in kinds:
            out[f"{gate.section}.{name}"] = False
        elif any("none" in typing.get_args(k) for k in kinds):
            out[f"{gate.section}.{name}"] = "none"
    return out


def _gate_answered_yes(gate: Gate, result: dict) -> bool:
    """Whether the determination shows an answer inside the gate's group
    other than its 否 (优抚对象类别 = 在乡老复员军人): the gate is settled 是."""
    no = {name: gate_no(gate).get(FACTS[name].field) for name in gate.facts}
    reasons = [r for line in result["benefits"] for r in line.get("reasons") or ()]
    reasons += [r for concept in result.get("concepts") or () for r in concept.get("reasons") or ()]
    return any(r.get("fact") in gate.facts and r.get("value") is not None and r["value"] != no[r["fact"]]
               for r in reasons)


# How much a line that pays money counts against one that gives a service,
# a priority or days off when ranking questions (金额项目优先).
SERVICE_WEIGHT = 0.25


def pays_money(rulebook: Rulebook, rule_id: str) -> bool:
    """Whether a benefit line's amount is money (not a service, priority or days off)."""
    rule = rulebook.by_id.get(rule_id)
    return rule is not None and rule.outcome is not None and rule.outcome.amount.form in MONEY_FORMS


def question_weight(rulebook: Rulebook, lines) -> float:
    """How likely an answer changes a payable line (变更应付项目的可能): the
    sum over the 待定 lines that lack this fact of 1 ÷ the number of facts
    the line still lacks (an answer settles a line lacking only it; it is a
    quarter of the way for a line lacking four), a line paying money counting
    1 and any other line ``SERVICE_WEIGHT``."""
    return sum((1.0 if pays_money(rulebook, line["benefit"]) else SERVICE_WEIGHT)
               / max(len(line.get("missing_facts") or ()), 1) for line in lines)


def rank_questions(rulebook: Rulebook, result: dict) -> list[dict]:
    """The questions to ask next, each missing fact once with the 待定 lines
    it decides (``lines``): the gate questions first (``gate`` set, the
    group's detailed facts under ``then``, asked only after a 是), then the
    rest by ``question_weight``, highest first; ties by how many lines a
    question decides, then by the order of the lines."""
    by_fact: dict[str, dict] = {}
    for line in result["benefits"]:
        if line["status"] != "undetermined":
            continue
        for fact in line.get("missing_facts") or []:
            entry = by_fact.setdefault(fact["fact"], {**fact, "lines": []})
            entry["lines"].append(line)
    gates = []
    for gate in GATES:
        if gate.section is not None and _gate_answered_yes(gate, result):
            continue                         # a veteran: ask the detailed questions among the rest
        inside = [by_fact.pop(name) for name in list(by_fact) if name in gate.facts]
        if not inside:
            continue
        if gate.section is None:            # the gate is a field of the record: ask it there
            entry = {**inside[0], "field": gate.key}
        else:
            lines = list({line["benefit"]: line for q in inside for line in q["lines"]}.values())
            entry = {"fact": gate.key, "field": gate.section, "label_zh": gate.question_zh, "lines": lines,
                     "then": sorted(inside, key=lambda q: -question_weight(rulebook, q["lines"]))}
        entry["gate"] = gate.key
        entry["label_zh"] = gate.question_zh if gate.section is None else entry["label_zh"]
        gates.append(entry)
    rest = sorted(by_fact.values(), key=lambda q: (-question_weight(rulebook, q["lines"]), -len(q["lines"])))
    for q in rest:
        q["weight"] = round(question_weight(rulebook, q["lines"]), 3)
    return gates + rest
