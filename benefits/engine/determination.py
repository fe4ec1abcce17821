"""Any engine's trace → the determination (vocabulary.Determination): every
benefit line with its status, amount, payer split, duplicate mark, upon
labels, missing facts, reasons, assumptions and unverified parameters.

The durable_rules engine (evaluate.py) and a columnar row read back
(columnar/view.py) both come here; what follows a verdict is computed by
the Python lowerings of ``outcome.py``.
"""
from __future__ import annotations

import datetime as dt

from .identity import county_name
from .marks import assumptions, chain, condition_parameters, fact_reason, not_in_force, rule_not_in_force
from .outcome import (Trace, amount_parameters, amount_py, mark_duplicates_py, missing_amount_py, missing_py,
                      payer_parameters, payer_split_py, upon_py)
from .rulebook import Rule, Rulebook
from .vocabulary import ELIGIBLE, INELIGIBLE, STATUSES, UNDETERMINED, status_of


class _Prepared:
    """What a rule's lines carry that does not depend on the applicant."""
    __slots__ = ("rule", "assumptions", "condition_params", "reasons")

    def __init__(self, rule: Rule, book: Rulebook):
        self.rule = rule
        concepts = chain(rule, book)
        self.assumptions = assumptions(rule, concepts, book.in_force_of)
        self.condition_params = condition_parameters(rule, concepts)
        self.reasons = []
        for cond in rule.conditions or []:
            if cond.ref is not None:
                target = book.by_id[cond.ref]
                reason = {"derived" if cond.derived else "benefit": target.id, "condition": target.label_zh,
                          "clause": target.clause}
            else:
                reason = fact_reason(cond, book)
            if cond.upon:
                reason["upon"] = cond.upon
            self.reasons.append(reason)


class Determiner:
    """Builds determinations for one rulebook (prepared once, reused)."""

    def __init__(self, book: Rulebook):
        self.book = book
        self.prepared = {r.id: _Prepared(r, book) for r in book.rules if r.kind != "county_budget"}

    def reasons(self, rule: Rule, t: Trace) -> list[dict]:
        out = []
        params = self.book.parameters
        for (ref, fact, param), status, static in zip(self.book.condition_parts[rule.id], t.statuses(rule),
                                                       self.prepared[rule.id].reasons):
            reason = {"status": status, **static}
            if ref is None:
                reason["value"] = t.fact(fact)
                if param is not None:
                    spec = params[param]
                    reason["parameter"] = {"name": spec.name, "label_zh": spec.label_zh,
                                           "value": t.param(spec.name), "verified": spec.verified}
            out.append(reason)
        return out

    def line(self, rule: Rule, t: Trace, upon: dict, explain: bool, skip: frozenset = frozenset()) -> dict:
        """``skip``: the rules that do not apply on the day (Rulebook.not_applying)."""
        if rule.id in skip:
            return _early_line(rule, rule_not_in_force(self.book, rule, t.day), explain)
        status = status_of(t.verdict(rule.id))
        line = {"benefit": rule.id, "document": rule.document, "label_zh": rule.label_zh,
                "label_en": rule.label_en, "clause": rule.clause, "status": status,
                "period": rule.outcome.period, "amount": None, "payer_split": None, "duplicate_of": None,
                "upon": list(upon.get(rule.id, ()))}
        used: dict[str, object] = {}
        if status == ELIGIBLE:
            amount = line["amount"] = amount_py(rule, t)
            line["payer_split"] = payer_split_py(rule, amount, t)
            for name in amount_parameters(rule) + payer_parameters(rule, amount):
                used[name] = t.param(name)
            if amount and amount["kind"] == "unresolved":
                line["missing_facts"] = missing_amount_py(rule, t)
        elif status == UNDETERMINED:
            line["missing_facts"] = missing_py(rule, t)
        prepared = self.prepared[rule.id]
        for name in prepared.condition_params:
            value = t.param(name)
            if value is not None:
                used[name] = value
        line["assumptions"] = prepared.assumptions
        params = self.book.parameters
        line["unverified"] = [{"parameter": n, "label_zh": params[n].label_zh, "value": v,
                               "source": params[n].source} for n, v in used.items() if not params[n].verified]
        if explain:
            line["text"] = rule.text
            line["reasons"] = self.reasons(rule, t)
            if rule.notes:
                line["notes"] = rule.notes
        return line

    def concept(self, rule: Rule, t: Trace, upon: dict, skip: frozenset = frozenset()) -> dict:
        if rule.id in skip:
            return _early_concept(rule)
        return {"concept": rule.id, "label_zh": rule.label_zh, "label_en": rule.label_en, "clause": rule.clause,
                "holds": t.verdict(rule.id), "reasons": self.reasons(rule, t), "assumption": rule.assumption,
                "upon": list(upon.get(rule.id, ()))}

    def determine(self, t: Trace, applicant: dict, explain: bool = True) -> dict:
        """The determination of one traced evaluation; ``applicant`` is its
        summary (``applicant_summary``)."""
        early = not_in_force(self.book, t.day)
        if early is not None:
            return self._not_in_force(t, applicant, early, explain)
        upon = upon_py(t)
        skip = self.book.not_applying(t.day)
        lines = [self.line(rule, t, upon, explain, skip) for rule in self.book.benefits]
        mark_duplicates_py(lines, self.book)
        _note_duplicates(lines)
        result = _result(applicant, t, lines)
        if explain:
            result["concepts"] = [self.concept(rule, t, upon, skip) for rule in self.book.derived]
        return result

    def _not_in_force(self, t: Trace, applicant: dict, early: dict, explain: bool) -> dict:
        """Before the first document is in force no line applies: each is
        不符合, with its document's in-force day as its one reason."""
        lines = [_early_line(rule, rule_not_in_force(self.book, rule, t.day), explain) for rule in self.book.benefits]
        result = _result(applicant, t, lines)
        result["not_in_force"] = early
        if explain:
            result["concepts"] = [_early_concept(r) for r in self.book.derived]
        return result


def _early_line(rule: Rule, reason: dict, explain: bool) -> dict:
    """A line whose rule does not apply yet (marks.rule_not_in_force)."""
    line = {"benefit": rule.id, "document": rule.document, "label_zh": rule.label_zh, "label_en": rule.label_en,
            "clause": rule.clause, "status": INELIGIBLE, "period": rule.outcome.period, "amount": None,
            "payer_split": None, "duplicate_of": None, "upon": [], "assumptions": [], "unverified": []}
    if explain:
        line["text"] = rule.text
        line["reasons"] = [reason]
    return line


def _early_concept(rule: Rule) -> dict:
    return {"concept": rule.id, "label_zh": rule.label_zh, "label_en": rule.label_en, "clause": rule.clause,
            "holds": None, "reasons": [], "assumption": rule.assumption, "upon": []}


def _note_duplicates(lines: list[dict]) -> None:
    """A line paying the same need as another says so itself, naming it, so
    that no notice, page or workbook row reads as a second payment."""
    labels = {line["benefit"]: line["label_zh"] for line in lines}
    for line in lines:
        if line["duplicate_of"]:
            line["duplicate_note"] = f"与「{labels[line['duplicate_of']]}」为同一笔，只发一次，本行不另计"


def applicant_summary(name: str, id_number_masked: str, age: int, county: str | None, residence: str | None,
                      day: dt.date) -> dict:
    """Who the determination is about (the ID number masked)."""
    return {"name": name, "id_number_masked": id_number_masked, "age": age, "hukou_county": county,
            "hukou_county_zh": county_name(county, day), "residence": residence}


def _result(applicant: dict, t: Trace, lines: list[dict]) -> dict:
    summary = dict.fromkeys(STATUSES, 0)
    for line in lines:
        summary[line["status"]] += 1
    return {"applicant": applicant, "evaluation_date": t.day.isoformat(), "rulebook_version": t.rulebook.version,
            "summary": summary, "benefits": lines}
