"""A row of the columnar result as a trace (outcome.Trace): its facts,
resolved parameters, condition statuses and verdicts, read off the plan's
columns. ``determination.py`` turns it into the same determination the
durable_rules engine gives; the differential test holds the two equal."""
from __future__ import annotations

import datetime as dt

from ..columns import DAY, condition_column, fact_column, keys, param_column, plain, rule_column
from ..determination import Determiner, applicant_summary
from ..rulebook import Rule
from ..vocabulary import condition_status
from .plan import ColumnarPlan


class RowView:
    """One evaluated row (a dict of the plan's columns) as a trace."""

    def __init__(self, plan: ColumnarPlan, row: dict):
        self.plan, self.rulebook, self.row = plan, plan.rulebook, row
        self.day: dt.date = row[DAY]
        self.categories = self._categories()

    def _categories(self) -> tuple[int, ...]:
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

    def verdict(self, rule_id: str) -> bool | None:
        return self.row[rule_column(rule_id)]

    def fact(self, name: str):
        return self.row[fact_column(name)]

    def statuses(self, rule: Rule) -> list[str]:
        return [condition_status(self.row[condition_column(rule.id, i)]) for i in range(len(rule.conditions))]

    def param(self, name: str):
        """The resolved value as the rule files write it (a mapping for tables)."""
        names = keys(self.rulebook.parameters[name])
        if names is None:
            return plain(self.row[param_column(name)])
        values = {k: plain(self.row[param_column(name, k)]) for k in names}
        return None if all(v is None for v in values.values()) else {
            k: v for k, v in values.items() if v is not None}

    def determination(self, name: str, id_number_masked: str, explain: bool = True,
                      determiner: Determiner | None = None) -> dict:
        """The same determination as the durable engine's ``determine``."""
        applicant = applicant_summary(name, id_number_masked, self.fact("age"), self.row["hukou_county"],
                                      self.row["residence"], self.day)
        return (determiner or Determiner(self.rulebook)).determine(self, applicant, explain)

