"""The roll audit itself (核对比对), column-wise: the caseload evaluated on the
columnar plan at the audit day, joined with the roll, one finding per person
(or household) and audited line.

Finding kinds (KINDS):

- 漏保: eligible, and nothing of that need is on the roll (81号 第2条 “应保尽保”);
- 错保: on the roll, and every rule of the line failed: the failed condition
  of each, from the rulebook;
- 差额: on the roll and eligible, paid ≠ owed (“按标施保”): per month and
  per year; a line whose amount is a floor (不低于) differs only when paid
  less. 低保 is the household's: owed once per household (the largest
  amount any member is found to be owed, as the estimate counts it), paid
  once;
- 待核: the line is undetermined (on the roll or not): the facts to collect,
  ranked as the clerk's page asks them (the fact that settles most of the
  person's lines first);
- 重复发放: one need paid twice — two rows of one line, or rows of two lines
  the rulebook marks as the same payment (低保 and 五保 under 63号 and 81号,
  outcome.py's same-payment groups): every row but one; the one kept is on
  the line the engine keeps (its duplicate marks), else the first row;
- 名册有台账无: a person on the roll who is not in the caseload.

Nothing after a verdict is computed again: amounts, duplicate marks and the
missing facts are the plan's columns (outcome.py's Polars lowerings).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import reduce

import polars as pl

from ..costing.columnar import household_key_column
from ..engine.columnar import ColumnarEngine
from ..engine.columnar.output import masked_id
from ..engine.columnar.schema import ROW
from ..engine.columns import amount_column, condition_column, duplicate_column, missing_column, rule_column
from ..engine.facts import FACTS
from ..engine.identity import CURRENT_COUNTIES, county_name
from ..engine.marks import chain, describe, same_payment_groups
from ..engine.money import round_fen_column
from ..engine.rulebook import Rule, Rulebook
from ..engine.vocabulary import PER_YEAR
from .mapping import AuditLine, LineNames
from .roll import AMOUNT, COUNTY, ID, LINE, SINCE, WRITTEN

MISSED, WRONG, DIFFERENCE, PENDING, DUPLICATE, NOT_IN_CASELOAD = (
    "漏保", "错保", "差额", "待核", "重复发放", "名册有台账无")
KINDS = (MISSED, WRONG, DIFFERENCE, PENDING, DUPLICATE, NOT_IN_CASELOAD)
KIND_ZH = {MISSED: "漏保：符合条件，名册上没有", WRONG: "错保：名册上有，不符合条件",
           DIFFERENCE: "按标施保差额：实发与应发不同", PENDING: "待核：缺少事实，无法判定",
           DUPLICATE: "重复发放：同一需要发了两次", NOT_IN_CASELOAD: "名册有、台账无"}

ELIGIBLE, UNDETERMINED, INELIGIBLE = 2, 1, 0
UNIT, GROUP, STATUS, OWED, KEEPER, CITE, PERSONS = ("__unit", "__group", "__status", "__owed", "__keeper",
                                                   "__cite", "__persons")
HOUSEHOLD_KEY = "__household"

FINDING_SCHEMA = {
    "kind": pl.String, "county": pl.String, "county_zh": pl.String, ID: pl.String, "id_masked": pl.String,
    "name": pl.String, LINE: pl.String, "line_zh": pl.String, WRITTEN: pl.String, "roll_row": pl.Int64,
    "caseload_row": pl.Int64, SINCE: pl.Date, "household": pl.String, "clause": pl.String, "quote": pl.String,
    "condition": pl.String, "owed_month": pl.Float64, "paid_month": pl.Float64, "diff_month": pl.Float64,
    "diff_year": pl.Float64, "missing": pl.List(pl.String),
}
SUMMARY_SCHEMA = {"county": pl.String, LINE: pl.String, "kind": pl.String, "count": pl.Int64,
                  "month_fen": pl.Int64, "year_fen": pl.Int64}
MONTHS = PER_YEAR["monthly"]


@dataclass
class Partial:
    """What one partition of the caseload (with the roll rows of its
    persons) gives: its findings, a summary whose counts and fen add up
    across partitions (``merge_summaries``), the caseload rows rejected."""
    findings: pl.DataFrame
    summary: pl.DataFrame
    rejects: list[dict]


class Auditor:
    """One rulebook and names file, compiled once: the columnar plan of the
    audited lines (and the rules they rest on, and whole same-payment groups)."""

    def __init__(self, rulebook: Rulebook, names: LineNames):
        self.rulebook, self.names = rulebook, names
        self.lines: dict[str, AuditLine] = names.lines
        audited = set(names.rule_ids)
        groups = [g for g in same_payment_groups(rulebook) if audited & set(g)]
        whole = audited | {b for g in groups for b in g}
        needed = {r.id for b in whole for r in chain(rulebook.by_id[b], rulebook)} | whole
        self.engine = ColumnarEngine(rulebook)
        self.plan = self.engine.plan.restricted(needed, whole)
        self.rules = {b: rulebook.by_id[b] for b in names.rule_ids}
        # the need a line pays for: its same-payment group, else the line alone
        self.group = {}
        for line in self.lines.values():
            index = next((i for i, g in enumerate(groups) if set(line.rules) & set(g)), None)
            self.group[line.id] = f"group{index}" if index is not None else line.id
        self.groups = groups
        self.line_type = pl.Enum(list(self.lines))
        self.group_type = pl.Enum(list(dict.fromkeys(self.group.values())))

    # -- the caseload side ----------------------------------------------------------

    def evaluate(self, frame: pl.DataFrame, as_of: dt.date) -> tuple[pl.DataFrame, list[dict]]:
        """The plan's verdicts, amounts and marks of the audited rules for
        each person, and the rows whose day cannot be used."""
        dated, rejects = self.engine.split_rejects(
            self.engine.with_day(frame.lazy(), as_of).collect(), as_of)
        rules = [self.rulebook.by_id[b] for b in self._whole()]
        columns = [pl.col(ROW), pl.col(ID), pl.col("name"), pl.col("hukou_county"),
                   household_key_column().alias(HOUSEHOLD_KEY), pl.col("fact.household_size").alias(PERSONS)]
        for rule in rules:
            b = rule.id
            columns += [pl.col(rule_column(b)), pl.col(amount_column(b))]
        marks = set(self.plan.duplicates())
        columns += [pl.col(c) for c in sorted(marks)]
        columns += [pl.col(c) for c in self._detail_columns()]
        result = self.plan.lazy(dated.lazy()).select(columns).collect()
        return result, rejects

    def _detail_columns(self) -> list[str]:
        """What 错保's failed conditions and 待核's missing facts are read
        from: every condition's status of the plan's rules, the audited
        rules' missing-fact masks (their verdicts are selected already)."""
        conditions = [condition_column(r.id, i) for r in self.plan.rules for i in range(len(r.conditions))]
        masks = [missing_column(b, w) for b in self.names.rule_ids for w in range(self.plan.bits.words)]
        return conditions + masks

    def _whole(self) -> list[str]:
        return [r.id for r in self.plan.benefits]

    def _monthly(self, rule: Rule) -> pl.Expr:
        amount = pl.col(amount_column(rule.id))
        if rule.outcome.period == "monthly":
            return amount
        return round_fen_column(amount * PER_YEAR[rule.outcome.period] / MONTHS)   # a yearly line per month

    def _keeper_line(self, line: AuditLine) -> pl.Expr:
        """Whether the engine keeps this line's money for the person: no
        rule of its same-payment group marks a line of it as the duplicate
        (outcome.py's duplicate marks); outside a group, always."""
        group = next((g for g in self.groups if set(line.rules) & set(g)), None)
        if group is None:
            return pl.lit(True)
        marks = [duplicate_column(b) for b in group]
        keeper = pl.coalesce(*[pl.col(m) for m in marks])          # the rule kept, where any is marked
        own = [rule_column(b) for b in line.rules]
        eligible_here = pl.any_horizontal(*[(pl.col(c) == True).fill_null(False) for c in own])  # noqa: E712
        return pl.when(keeper.is_null()).then(eligible_here).otherwise(keeper.is_in(list(line.rules)))

    def person_lines(self, result: pl.DataFrame) -> pl.DataFrame:
        """One row per person and audited line: status, monthly amount owed
        (the largest of the line's eligible rules), whether the engine keeps
        this line for the need, the rule to cite, the household unit."""
        parts = []
        for line in self.lines.values():
            rules = [self.rulebook.by_id[b] for b in line.rules]
            verdicts = [pl.col(rule_column(r.id)) for r in rules]
            eligible = pl.any_horizontal(*[(v == True).fill_null(False) for v in verdicts])  # noqa: E712
            unknown = pl.any_horizontal(*[v.is_null() for v in verdicts])
            status = (pl.when(eligible).then(ELIGIBLE).when(unknown).then(UNDETERMINED).otherwise(INELIGIBLE)
                      .cast(pl.Int8))
            owed_each = [pl.when((pl.col(rule_column(r.id)) == True).fill_null(False))  # noqa: E712
                         .then(self._monthly(r)) for r in rules]
            owed = pl.max_horizontal(*owed_each)
            cite = reduce(lambda acc, pair: acc.when(pair[1] == owed).then(pl.lit(pair[0])),
                          zip(line.rules[1:], owed_each[1:]),
                          pl.when(owed_each[0] == owed).then(pl.lit(line.rules[0])))
            unit = (pl.coalesce(pl.col(HOUSEHOLD_KEY), pl.col(ID)) if line.household else pl.col(ID))
            parts.append(result.select(
                ROW, ID, "hukou_county", PERSONS, unit.alias(UNIT), pl.lit(line.id, dtype=self.line_type).alias(LINE),
                status.alias(STATUS), owed.alias(OWED), self._keeper_line(line).fill_null(False).alias(KEEPER),
                cite.alias(CITE)))
        return pl.concat(parts)

    # -- the audit of one partition --------------------------------------------------

    def audit(self, frame: pl.DataFrame, roll: pl.DataFrame, as_of: dt.date, orphans: bool = True,
              covers: set[str] | None = None) -> Partial:
        """A partition: applicants (every member of a household in the same
        partition) and the roll rows of those persons. ``orphans``: report
        the roll rows of persons not in ``frame`` (名册有台账无); give them to one
        partition only. ``covers``: the lines the whole roll has rows of
        (default: those of ``roll``), for ``registered``."""
        frame = self.registered(frame, roll, covers)
        result, rejects = self.evaluate(frame, as_of)
        people = self.person_lines(result)
        findings = self.explain(self._findings(people, result, roll, as_of, orphans), result)
        return Partial(findings, summarise(findings), rejects)

    def registered(self, frame: pl.DataFrame, roll: pl.DataFrame, covers: set[str] | None = None) -> pl.DataFrame:
        """A blank 已纳入低保 / 已纳入五保 read off the roll, which is their
        register (``register`` in the names file): yes where the person (for
        低保, anyone of the household) has a row of that line, no where not.
        A recorded value is kept; a line the roll has no rows of at all is
        not read (the roll does not cover it)."""
        covers = set(roll[LINE].unique().to_list()) if covers is None else covers
        lines = [line for line in self.lines.values() if line.register and line.id in covers]
        if not lines or frame.height == 0:
            return frame
        keyed = frame.with_columns(pl.coalesce(household_key_column(), pl.col(ID)).alias(UNIT))
        for line in lines:
            ids = roll.filter(pl.col(LINE) == line.id).select(ID).unique()
            if line.household:
                units = keyed.join(ids, on=ID, how="semi").get_column(UNIT).unique()
                paid = pl.col(UNIT).is_in(units.implode())
            else:
                paid = pl.col(ID).is_in(ids.get_column(ID).implode())
            keyed = keyed.with_columns(pl.coalesce(pl.col(line.register), paid).alias(line.register))
        return keyed.drop(UNIT)

    def _findings(self, people: pl.DataFrame, result: pl.DataFrame, roll: pl.DataFrame, as_of: dt.date,
                  orphans: bool) -> pl.DataFrame:
        # lines and needs as enums: the joins on (ID, line) compare a number, not a string
        groups = pl.DataFrame({LINE: list(self.group), GROUP: list(self.group.values())},
                              schema={LINE: self.line_type, GROUP: self.group_type})
        household_lines = [line.id for line in self.lines.values() if line.household]
        persons = result.select(ID, pl.col(HOUSEHOLD_KEY), pl.col("hukou_county"),
                                pl.col(ROW).alias("caseload_row"))
        roll = roll.with_columns(pl.col(LINE).cast(self.line_type)).join(groups, on=LINE, how="left")
        on_roll = roll.join(persons, on=ID, how="inner")
        out = []
        if orphans:
            strays = roll.join(persons, on=ID, how="anti")
            out.append(strays.select(
                pl.lit(NOT_IN_CASELOAD).alias("kind"), pl.col(COUNTY).alias("county"), ID, LINE, WRITTEN,
                pl.col(ROW).alias("roll_row"), SINCE, pl.col(AMOUNT).alias("paid_month"),
                pl.lit("台账中没有此身份证号：无法核对，请补录台账或核实名册").alias("condition")))
        # the household a row pays: the caseload's household key for a line paid to the household
        on_roll = on_roll.with_columns(
            pl.when(pl.col(LINE).is_in(household_lines)).then(pl.coalesce(HOUSEHOLD_KEY, ID))
            .otherwise(pl.col(ID)).alias(UNIT))
        on_roll = on_roll.join(people.select(ID, LINE, KEEPER), on=[ID, LINE], how="left")
        ranked = on_roll.sort(UNIT, GROUP, pl.col(KEEPER).fill_null(False).not_(), ROW).with_columns(
            pl.int_range(pl.len()).over(UNIT, GROUP).alias("__rank"),
            pl.col(ROW).first().over(UNIT, GROUP).alias("__kept_row"),
            pl.col(LINE).first().over(UNIT, GROUP).alias("__kept_line"))
        twice = ranked.filter(pl.col("__rank") > 0)
        labels = {k: v.label_zh for k, v in self.lines.items()}
        out.append(twice.select(
            pl.lit(DUPLICATE).alias("kind"), pl.col("hukou_county").alias("county"), ID, LINE, WRITTEN,
            pl.col(ROW).alias("roll_row"), "caseload_row", SINCE, pl.col(AMOUNT).alias("paid_month"),
            pl.when(pl.col(UNIT) != pl.col(ID)).then(pl.col(UNIT)).alias("household"),
            pl.format("与名册第{}行「{}」为同一需要的同一笔钱，只发一次（规则的同一笔标记），本行多发",
                      "__kept_row", pl.col("__kept_line").replace_strict(labels)).alias("condition")))
        kept = ranked.filter(pl.col("__rank") == 0).drop(KEEPER)
        # a person's ineligible line makes a finding only where the roll pays it
        paid_lines = roll.select(ID, LINE).unique()
        people = pl.concat([people.filter(pl.col(STATUS) != INELIGIBLE),
                            people.filter(pl.col(STATUS) == INELIGIBLE).join(paid_lines, on=[ID, LINE], how="semi")])
        units = self._units(people)
        checked = kept.join(units, on=[UNIT, LINE], how="left")
        status = pl.col(STATUS)
        out.append(checked.filter(status == INELIGIBLE).select(
            pl.lit(WRONG).alias("kind"), pl.col("hukou_county").alias("county"), ID, LINE, WRITTEN,
            pl.col(ROW).alias("roll_row"), "caseload_row", SINCE, pl.col(AMOUNT).alias("paid_month")))
        pending_on_roll = checked.filter((status == UNDETERMINED) | ((status == ELIGIBLE) & pl.col(OWED).is_null()))
        out.append(pending_on_roll.select(
            pl.lit(PENDING).alias("kind"), pl.col("hukou_county").alias("county"), ID, LINE, WRITTEN,
            pl.col(ROW).alias("roll_row"), "caseload_row", SINCE, pl.col(AMOUNT).alias("paid_month")))
        floor = [line.id for line in self.lines.values()
                 if any(self.rulebook.by_id[b].outcome.amount.at_least for b in line.rules)]
        paid, owed = pl.col(AMOUNT), pl.col(OWED)
        differs = pl.when(pl.col(LINE).is_in(floor)).then(paid < owed).otherwise(
            round_fen_column(paid - owed) != 0)
        diff = round_fen_column(paid - owed)
        out.append(checked.filter((status == ELIGIBLE) & owed.is_not_null() & differs).select(
            pl.lit(DIFFERENCE).alias("kind"), pl.col("hukou_county").alias("county"), ID, LINE, WRITTEN,
            pl.col(ROW).alias("roll_row"), "caseload_row", SINCE, paid.alias("paid_month"), owed.alias("owed_month"),
            diff.alias("diff_month"), round_fen_column(diff * MONTHS).alias("diff_year"),
            pl.when(pl.col(UNIT) != pl.col(ID)).then(pl.col(UNIT)).alias("household"),
            pl.col(CITE).alias("__cite"), pl.col(PERSONS)))
        # not on the roll: nothing of the need is paid to the unit
        paid_needs = kept.select(UNIT, GROUP).unique()
        absent = units.join(groups, on=LINE).join(paid_needs, on=[UNIT, GROUP], how="anti")
        out.append(absent.filter((status == ELIGIBLE) & pl.col(KEEPER)).select(
            pl.lit(MISSED).alias("kind"), pl.col("hukou_county").alias("county"), ID, LINE,
            pl.col(ROW).alias("caseload_row"), owed.alias("owed_month"),
            pl.when(pl.col(UNIT) != pl.col(ID)).then(pl.col(UNIT)).alias("household"),
            pl.col(CITE).alias("__cite"), pl.col(PERSONS)))
        decided = units.filter(status == ELIGIBLE).join(groups, on=LINE).select(UNIT, GROUP).unique()
        out.append(absent.filter(status == UNDETERMINED).join(decided, on=[UNIT, GROUP], how="anti").select(
            pl.lit(PENDING).alias("kind"), pl.col("hukou_county").alias("county"), ID, LINE,
            pl.col(ROW).alias("caseload_row")))
        findings = (pl.concat([f.with_columns(pl.col(LINE).cast(pl.String)) for f in out], how="diagonal_relaxed")
                    .join(result.select(ID, "name"), on=ID, how="left"))
        return self._explained(findings, result, as_of)

    def _units(self, people: pl.DataFrame) -> pl.DataFrame:
        """Per unit (a person; for a line paid to the household, the
        household) and line: the best status, the largest amount owed, and
        the member it is found for (the lead: largest amount, then smallest
        ID). Only households of several applicants need grouping."""
        columns = [UNIT, LINE, ID, "hukou_county", ROW, STATUS, OWED, KEEPER, CITE, PERSONS]
        household_lines = [line.id for line in self.lines.values() if line.household]
        shared_units = people.filter(pl.col(UNIT) != pl.col(ID)).select(UNIT).unique()
        if shared_units.height == 0:
            return people.select(columns)
        shared = people.filter(pl.col(LINE).is_in(household_lines)).join(shared_units, on=UNIT, how="semi")
        alone = people.join(shared.select(ID, LINE), on=[ID, LINE], how="anti")
        lead = shared.sort(UNIT, LINE, pl.col(STATUS), pl.col(OWED), pl.col(ID),
                           descending=[False, False, True, True, False], nulls_last=True)
        grouped = lead.group_by(UNIT, LINE, maintain_order=True).agg(pl.all().exclude(UNIT, LINE).first())
        return pl.concat([alone.select(columns), grouped.select(columns)])

    # -- clause, quote, condition, missing facts --------------------------------------

    def _explained(self, findings: pl.DataFrame, result: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
        """Each finding with its clause, quoted text and condition (Chinese,
        from the rulebook), county name and masked ID."""
        book = self.rulebook
        if "__cite" not in findings.columns:
            findings = findings.with_columns(pl.lit(None, pl.String).alias("__cite"))
        if PERSONS not in findings.columns:
            findings = findings.with_columns(pl.lit(None, pl.Int64).alias(PERSONS))
        line_clause = {k: "；".join(dict.fromkeys(book.by_id[b].clause for b in v.rules)) for k, v in self.lines.items()}
        line_quote = {k: " / ".join(book.by_id[b].text for b in v.rules) for k, v in self.lines.items()}
        rule_clause = {b: book.by_id[b].clause for b in self.names.rule_ids}
        rule_quote = {b: book.by_id[b].text for b in self.names.rule_ids}
        cite = pl.col("__cite")
        clause = pl.when(cite.is_not_null()).then(cite.replace_strict(rule_clause, default=None)).otherwise(
            pl.col(LINE).replace_strict(line_clause, default=None))
        quote = pl.when(cite.is_not_null()).then(cite.replace_strict(rule_quote, default=None)).otherwise(
            pl.col(LINE).replace_strict(line_quote, default=None))
        held = {b: "；".join(self._held_text(book.by_id[b])) for b in self.names.rule_ids}
        household = pl.col(LINE).is_in([k for k, v in self.lines.items() if v.household])
        basis = pl.when(household & pl.col(PERSONS).is_not_null()).then(
            pl.format("按户：共同生活 {} 人，每户每月", PERSONS)).otherwise(pl.lit("每月"))
        condition = (
            pl.when(pl.col("kind") == MISSED).then(pl.format("符合：{}；{}应发 {} 元", cite.replace_strict(
                held, default=""), basis, yuan_text(pl.col("owed_month"))))
            .when(pl.col("kind") == DIFFERENCE).then(pl.format("{}应发 {} 元，实发 {} 元", basis,
                                                                yuan_text(pl.col("owed_month")),
                                                                yuan_text(pl.col("paid_month"))))
            .otherwise(pl.col("condition")))
        findings = findings.with_columns(
            clause.alias("clause"), quote.alias("quote"), condition.alias("condition"),
            pl.col(LINE).replace_strict({k: v.label_zh for k, v in self.lines.items()}, default=None).alias("line_zh"),
            pl.col("county").replace_strict({c: county_name(c, as_of) for c in CURRENT_COUNTIES}, default="（未填县区）")
            .alias("county_zh"),
            masked_id(pl.col(ID)).alias("id_masked"))
        # in no order: run_audit sorts the whole audit once
        return findings.select([pl.col(c).cast(t) if c in findings.columns else pl.lit(None, t).alias(c)
                                for c, t in FINDING_SCHEMA.items()])

    def _held_text(self, rule: Rule) -> list[str]:
        out = []
        for cond in rule.conditions:
            out.append(self.rulebook.by_id[cond.ref].label_zh if cond.ref else describe(cond, self.rulebook))
        return out

    def _failure(self, rule: Rule, depth: int = 0) -> pl.Expr:
        """Why a rule failed, in Chinese: an ``all`` rule's first failed
        condition, every failed condition of an ``any`` rule (each failed);
        through a concept, the concept and its own reason in brackets."""
        texts = []
        for i, cond in enumerate(rule.conditions):
            failed = pl.col(condition_column(rule.id, i)) == False  # noqa: E712
            if cond.ref:
                target = self.rulebook.by_id[cond.ref]
                text = pl.lit(target.label_zh)
                if depth < 4 and target.conditions:
                    inner = self._failure(target, depth + 1)
                    text = pl.when(inner.is_not_null()).then(pl.format("{}（{}）", text, inner)).otherwise(text)
            else:
                text = pl.lit(describe(cond, self.rulebook))
            texts.append((failed, text))
        if not texts:
            return pl.lit(None, pl.String)
        if rule.mode == "any":
            joined = pl.concat_str([pl.when(f).then(t) for f, t in texts], separator="；", ignore_nulls=True)
            return pl.when(joined != "").then(joined)
        expr = pl.when(texts[0][0]).then(texts[0][1])
        for failed, text in texts[1:]:
            expr = expr.when(failed).then(text)
        return expr.otherwise(None)

    def _detail(self, result: pl.DataFrame, ids: pl.DataFrame) -> pl.DataFrame:
        """For the persons of 错保 and 待核 findings, per audited line: the
        failed condition of each of its rules, and the missing facts ranked
        as the clerk's page asks them (下一步要问: the fact that settles the
        most of the person's undetermined lines first, then in the order the
        lines and their conditions name them). Both depend only on the
        condition statuses and masks, so they are worked out once per
        distinct pattern (a few hundred) and joined back."""
        audited = [rule_column(b) for b in self.names.rule_ids]
        pattern = self._detail_columns() + audited
        persons = result.join(ids, on=ID, how="semi").select(ID, *pattern)
        combos = persons.select(pattern).unique().with_row_index("__combo")
        keyed = persons.join(combos, on=pattern, how="left", nulls_equal=True).select(ID, "__combo")
        failed, names = {}, {}
        for line in self.lines.values():
            parts = [pl.format("{}「{}」：{}不成立", pl.lit(self.rulebook.by_id[b].clause),
                               pl.lit(self.rulebook.by_id[b].label_zh), self._failure(self.rulebook.by_id[b]))
                     for b in line.rules]
            failed[line.id] = pl.concat_str(parts, separator="；", ignore_nulls=True)
        for b in self.names.rule_ids:
            rule = self.rulebook.by_id[b]
            names[b] = pl.when(pl.col(rule_column(b)).is_null()).then(self.plan.bits.names(rule))
        detail = combos.select("__combo", **{f"__failed.{k}": v for k, v in failed.items()},
                               **{f"__names.{b}": v for b, v in names.items()})
        # each undetermined rule's facts, in rule and condition order, then ranked per pattern
        order = {b: i for i, b in enumerate(self.names.rule_ids)}
        asked = pl.concat([detail.select("__combo", pl.lit(b).alias("__rule"), pl.lit(order[b]).alias("__r"),
                                         pl.col(f"__names.{b}").alias("__fact"))
                           for b in self.names.rule_ids]).filter(pl.col("__fact").is_not_null())
        asked = asked.with_columns(pl.col("__fact").list.eval(pl.int_range(pl.len())).alias("__p")).explode(
            "__fact", "__p").filter(pl.col("__fact").is_not_null())
        rank = asked.group_by("__combo", "__fact").agg(pl.len().alias("__n"), (
            pl.col("__r") * 1000 + pl.col("__p")).min().alias("__first"))
        line_of = {b: k for k, v in self.lines.items() for b in v.rules}
        ranked = (asked.with_columns(pl.col("__rule").replace_strict(line_of).alias(LINE))
                  .select("__combo", LINE, "__fact").unique().join(rank, on=["__combo", "__fact"])
                  .sort("__combo", LINE, "__n", "__first", descending=[False, False, True, False])
                  .group_by("__combo", LINE, maintain_order=True).agg(
                      pl.col("__fact").replace_strict(self._labels(), default=pl.col("__fact")).alias("missing")))
        failed_long = pl.concat([detail.select("__combo", pl.lit(k).alias(LINE),
                                               pl.col(f"__failed.{k}").alias("__failed")) for k in self.lines])
        per_combo = failed_long.join(ranked, on=["__combo", LINE], how="left")
        return keyed.join(per_combo, on="__combo").drop("__combo")

    def _labels(self) -> dict[str, str]:
        params = {f"param:{n}": f"参数“{spec.label_zh}”在核对日尚无生效值" for n, spec in self.rulebook.parameters.items()}
        return {**{name: fact.label_zh for name, fact in FACTS.items()}, **params}

    def explain(self, findings: pl.DataFrame, result: pl.DataFrame) -> pl.DataFrame:
        """错保 findings get their failed conditions, 待核 their missing facts
        (``result``: ``evaluate``'s)."""
        ids = findings.filter(pl.col("kind").is_in([WRONG, PENDING])).select(ID).unique()
        if ids.height == 0:
            return findings
        detail = self._detail(result, ids)
        joined = findings.drop("missing").join(detail, on=[ID, LINE], how="left")
        return joined.with_columns(
            pl.when(pl.col("kind") == WRONG).then(pl.col("__failed")).otherwise(pl.col("condition")).alias("condition"),
            pl.when(pl.col("kind") == PENDING).then(pl.col("missing")).alias("missing"),
        ).with_columns(
            pl.when(pl.col("kind") == PENDING).then(pl.format("缺少事实，无法判定：{}", pl.col("missing").list.join("、")))
            .otherwise(pl.col("condition")).alias("condition")).select(findings.columns)


def yuan_text(expr: pl.Expr) -> pl.Expr:
    """Yuan as text with two decimals (460.00), column-wise."""
    fen = (expr * 100).round(0).cast(pl.Int64)
    sign = pl.when(fen < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    whole, part = fen.abs() // 100, fen.abs() % 100
    return pl.concat_str(sign, whole.cast(pl.String), pl.lit("."), part.cast(pl.String).str.zfill(2))


def summarise(findings: pl.DataFrame) -> pl.DataFrame:
    """Counts and whole fen by county × line × kind (mergeable by summing):
    漏保 the amount owed, 差额 the difference (实发 − 应发), every other kind
    the amount paid on the roll; per month, and per year (× 12)."""
    money = (pl.when(pl.col("kind") == MISSED).then(pl.col("owed_month"))
             .when(pl.col("kind") == DIFFERENCE).then(pl.col("diff_month"))
             .otherwise(pl.col("paid_month"))).fill_null(0.0)
    fen = (money * 100).round(0).cast(pl.Int64)
    return (findings.group_by(pl.col("county").fill_null(""), LINE, "kind")
            .agg(pl.len().cast(pl.Int64).alias("count"), fen.sum().alias("month_fen"),
                 (fen * MONTHS).sum().alias("year_fen"))
            .sort("county", LINE, "kind").select(list(SUMMARY_SCHEMA)).cast(SUMMARY_SCHEMA))


def merge_summaries(parts) -> pl.DataFrame:
    """Partial summaries (``Partial.summary``) added up."""
    frames = [p for p in parts if p.height]
    if not frames:
        return pl.DataFrame(schema=SUMMARY_SCHEMA)
    return (pl.concat(frames).group_by("county", LINE, "kind")
            .agg(pl.col("count").sum(), pl.col("month_fen").sum(), pl.col("year_fen").sum())
            .sort("county", LINE, "kind").select(list(SUMMARY_SCHEMA)).cast(SUMMARY_SCHEMA))
