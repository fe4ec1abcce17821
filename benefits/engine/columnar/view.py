"""A row of the columnar result read back as determination lines: the
condition statuses joined with the rulebook (clause, text, labels). This is
the cited trace at batch speed; the differential test compares it with the
durable_rules engine's determination."""
from __future__ import annotations

import datetime as dt

from ..facts import missing_entry
from ..identity import county_name
from ..marks import assumptions, chain, condition_parameters, fact_reason, not_in_force, upon_labels
from ..observances import days_off
from ..rulebook import ParamRef, Rule
from .facts import DAY, fact_column
from .params import keys, param_column
from .plan import (PAYERS, ColumnarPlan, amount_column, condition_column, duplicate_column,
                   payer_column, rule_column)

ELIGIBLE, INELIGIBLE, UNDETERMINED = "eligible", "ineligible", "undetermined"
HELD, FAILED, UNKNOWN = "held", "failed", "unknown"
_STATUS = {True: ELIGIBLE, False: INELIGIBLE, None: UNDETERMINED}
_CONDITION = {True: HELD, False: FAILED, None: UNKNOWN}


class RowView:
    """One evaluated row (a dict of the plan's columns) read as lines."""

    def __init__(self, plan: ColumnarPlan, row: dict):
        self.plan, self.book, self.row = plan, plan.rulebook, row
        self.day: dt.date = row[DAY]
        self.early = not_in_force(self.book, self.day)
        self._upon: dict[str, tuple] | None = None

    def upon(self, rule: Rule) -> list[str]:
        """The 依纳入… labels of a rule that holds only upon a prospective event."""
        if self._upon is None:
            self._upon = {}
            for r in self.plan.rules:       # dependency order
                if self.row[rule_column(r.id)] is True:
                    labels = upon_labels(r, self.statuses(r), self._upon)
                    if labels:
                        self._upon[r.id] = labels
        return list(self._upon.get(rule.id, ()))

    def categories(self) -> tuple[int, ...]:
        """facts.certificate_categories, from the row."""
        category = self.row["certificate.category"] if self.row["certificate.number"] is not None else None
        if category is None:
            return ()
        parts = self.row["certificate.multiple_categories"]
        if category == 7 and parts:
            return (7, *sorted(set(parts)))
        return (category,)

    def recorded(self, path: str) -> bool:
        """Whether the record has a value at a field path (for missing_entry)."""
        value = self.row.get(path)
        if value is None and path not in self.row:   # a section: any of its leaves
            return any(v is not None for k, v in self.row.items() if k.startswith(path + "."))
        return value is not None

    def fact(self, name: str):
        return self.row[fact_column(name)]

    def statuses(self, rule: Rule) -> list[str]:
        """Each condition's held / failed / unknown (before the in-force day
        the rules are not applied: see ``line``)."""
        return [_CONDITION[self.row[condition_column(rule.id, i)]] for i in range(len(rule.conditions))]

    def missing(self, rule: Rule, seen: set | None = None) -> list[dict]:
        """The facts that would settle an undetermined rule, in the order a
        clerk meets them (the rule's conditions, through its concepts)."""
        seen = set() if seen is None else seen
        out = []
        for cond, status in zip(rule.conditions, self.statuses(rule)):
            if status != UNKNOWN:
                continue
            if cond.ref is not None:
                out += self.missing(self.book.by_id[cond.ref], seen)
                continue
            param = cond.value.param if isinstance(cond.value, ParamRef) else None
            dims = list(self.book.parameters[param].by) if param else []
            absent = [n for n in [cond.fact, *dims] if self.fact(n) is None]
            for name in absent:
                if name not in seen:
                    seen.add(name)
                    out.append(missing_entry(name, self.recorded))
            if param is not None and not absent and self.row[param_column(param)] is None:
                out.append(self._param_entry(param))
        return out

    def _param_entry(self, name: str) -> dict:
        return {"fact": None, "field": None, "parameter": name, "label_zh": f"参数{name}在{self.day}尚无生效值"}

    def _resolved(self, name: str):
        names = keys(self.book.parameters[name])
        return self.row[param_column(name)] if names is None else self.row[param_column(name, names[0])]

    def missing_for_amount(self, rule: Rule) -> list[dict]:
        out, seen = [], set()
        for name, _ in self.plan.amount_parameters(rule):
            if self._resolved(name) is not None:
                continue
            absent = [d for d in self.book.parameters[name].by if self.fact(d) is None]
            for dim in absent:
                if dim not in seen:
                    seen.add(dim)
                    out.append(missing_entry(dim, self.recorded))
            if not absent:
                out.append(self._param_entry(name))
        return out

    def amount(self, rule: Rule) -> dict | None:
        spec = rule.outcome.amount
        form = spec.form
        if form == "in_kind":
            return {"kind": "in_kind"}
        if form == "unstated":
            return {"kind": "unstated"}
        if form == "priority":
            return {"kind": "priority"}
        if form == "observances":
            categories = self.categories()
            return {"kind": "days_off", "year": self.day.year,
                    "days": days_off(self.day.year, categories) if categories else []}
        if form == "range":
            low, high = self.row[amount_column(rule.id, "min")], self.row[amount_column(rule.id, "max")]
            return None if low is None else {"kind": "range", "min": low, "max": high}
        value = self.row[amount_column(rule.id)]
        if value is None:
            return {"kind": "unresolved", "reason": "金额所依据的参数无法确定：" + "、".join(
                self.book.parameters[n].label_zh for n, _ in self.plan.amount_parameters(rule)
                if self._resolved(n) is None)}
        kind = "at_least" if spec.at_least else "fixed"
        if spec.times_fact is not None:
            count = self.fact(spec.times_fact)
            return {"kind": kind, "value": value, "per_unit": self.parameter_value_of(rule), "count": count}
        return {"kind": kind, "value": value}

    def parameter_value_of(self, rule: Rule):
        """The per-unit amount of a counted (times_fact) line: its parameter,
        or its table's entry for the key fact."""
        spec = rule.outcome.amount
        if spec.form == "table":
            return (self.parameter_value(spec.table) or {}).get(self.fact(spec.key_fact))
        return self.parameter_value(spec.param)

    def payer_split(self, rule: Rule, amount: dict | None) -> dict | None:
        if rule.outcome.payer is None or amount is None or amount["kind"] not in ("fixed", "at_least", "range"):
            return None
        split = {}
        for who in PAYERS:
            if who not in self.plan.payer_shares(rule):
                continue
            if amount["kind"] == "range":
                low = self.row[payer_column(rule.id, who, "min")]
                if low is not None:
                    split[who] = {"min": low, "max": self.row[payer_column(rule.id, who, "max")]}
            elif self.row[payer_column(rule.id, who)] is not None:
                split[who] = self.row[payer_column(rule.id, who)]
        return split

    def line(self, rule: Rule) -> dict:
        status = _STATUS[self.row[rule_column(rule.id)]]
        line = {"benefit": rule.id, "document": rule.document,
                "label_zh": rule.label_zh, "label_en": rule.label_en, "clause": rule.clause,
                "status": status, "period": rule.outcome.period, "amount": None, "payer_split": None,
                "duplicate_of": self.row.get(duplicate_column(rule.id)), "upon": self.upon(rule)}
        if self.early is not None:
            line["text"] = rule.text
            line["conditions"] = [FAILED]     # the in-force day is its one reason
            return line
        if status == ELIGIBLE:
            line["amount"] = self.amount(rule)
            line["payer_split"] = self.payer_split(rule, line["amount"])
            if line["amount"] and line["amount"]["kind"] == "unresolved":
                line["missing_facts"] = self.missing_for_amount(rule)
        elif status == UNDETERMINED:
            line["missing_facts"] = self.missing(rule)
        line["text"] = rule.text
        line["conditions"] = self.statuses(rule)
        return line

    def lines(self) -> list[dict]:
        return [self.line(rule) for rule in self.book.benefits]

    # -- the full determination (the single-applicant shape) ----------------------

    def parameter_value(self, name: str):
        """The resolved value as the rule files write it (a mapping for tables)."""
        names = keys(self.book.parameters[name])
        if names is None:
            return _plain(self.row[param_column(name)])
        values = {k: _plain(self.row[param_column(name, k)]) for k in names}
        return None if all(v is None for v in values.values()) else {
            k: v for k, v in values.items() if v is not None}

    def reasons(self, rule: Rule) -> list[dict]:
        out = []
        for cond, status in zip(rule.conditions, self.statuses(rule)):
            if cond.ref is not None:
                target = self.book.by_id[cond.ref]
                reason = {"status": status, "derived" if cond.derived else "benefit": target.id,
                          "condition": target.label_zh, "clause": target.clause}
                if cond.upon:
                    reason["upon"] = cond.upon
                out.append(reason)
                continue
            reason = {"status": status, **fact_reason(cond, self.book), "value": self.fact(cond.fact)}
            if cond.upon:
                reason["upon"] = cond.upon
            if isinstance(cond.value, ParamRef):
                spec = self.book.parameters[cond.value.param]
                reason["parameter"] = {"name": spec.name, "label_zh": spec.label_zh,
                                       "value": self.parameter_value(spec.name), "verified": spec.verified}
            out.append(reason)
        return out

    def unverified(self, rule: Rule, line: dict) -> list[dict]:
        """Parameters the line used whose values are examples, not official."""
        used: dict[str, object] = {}
        if line["status"] == ELIGIBLE:
            for name in rule.outcome.amount.parameters():
                used[name] = self.parameter_value(name)
            payer = rule.outcome.payer
            if payer is not None and payer.param and line["amount"] and \
                    line["amount"]["kind"] in ("fixed", "at_least", "range"):
                used[payer.param] = self.parameter_value(payer.param)
        for name in condition_parameters(rule, chain(rule, self.book)):
            value = self.parameter_value(name)
            if value is not None:
                used[name] = value
        params = self.book.parameters
        return [{"parameter": n, "label_zh": params[n].label_zh, "value": v, "source": params[n].source}
                for n, v in used.items() if not params[n].verified]

    def full_line(self, rule: Rule) -> dict:
        line = self.line(rule)
        del line["conditions"]
        if self.early is not None:
            line.update(assumptions=[], unverified=[], reasons=[{
                "status": FAILED, "in_force": self.early["from"], "condition": f"63号已施行（{self.early['from']}起）",
                "value": self.day.isoformat()}])
            return line
        line["assumptions"] = assumptions(rule, chain(rule, self.book), self.book.in_force)
        line["unverified"] = self.unverified(rule, line)
        line["reasons"] = self.reasons(rule)
        if rule.notes:
            line["notes"] = rule.notes
        return line

    def determination(self, name: str, id_number_masked: str, version: str) -> dict:
        """The same shape as the durable engine's ``determine`` (with reasons)."""
        lines = [self.full_line(rule) for rule in self.book.benefits]
        summary = {ELIGIBLE: 0, INELIGIBLE: 0, UNDETERMINED: 0}
        for line in lines:
            summary[line["status"]] += 1
        county = self.row["hukou_county"]
        result = {
            "applicant": {"name": name, "id_number_masked": id_number_masked, "age": self.fact("age"),
                          "hukou_county": county, "hukou_county_zh": county_name(county, self.day),
                          "residence": self.row["residence"]},
            "evaluation_date": self.day.isoformat(), "rulebook_version": version, "summary": summary,
            "benefits": lines,
            "concepts": [{"concept": r.id, "label_zh": r.label_zh, "label_en": r.label_en, "clause": r.clause,
                          "holds": self.row[rule_column(r.id)],
                          "reasons": [] if self.early else self.reasons(r),
                          "assumption": r.assumption, "upon": self.upon(r)} for r in self.book.derived],
        }
        if self.early is not None:
            result["not_in_force"] = self.early
        return result

    def concepts(self) -> dict[str, tuple]:
        """{concept: (holds, condition statuses, upon labels)}."""
        return {r.id: (self.row[rule_column(r.id)], [] if self.early else self.statuses(r), self.upon(r))
                for r in self.book.derived}


def _plain(value):
    """300.0 → 300: parameter values as the rule files write them."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
