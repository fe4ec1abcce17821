"""The 动态管理 re-check list (动态复核清单, 81号 第2条 "动态管理下的'应保尽保、按标施保'"):
who will change status, amount or payer on a benefit line in the next N
months with nothing new recorded, on which day and why.

Nothing is decided here a second way. Each person's change points come from
the estimate (``ColumnarEstimate.days`` per calendar year the window
touches: 1 January, parameter dates, birthdays at the ages the rules read,
in-force days, the person's event dates, the eldest member's birthdays, the
day a placement becomes overdue). Every (person, day) is evaluated at once on the columnar
plan; consecutive determinations of a line (status, amount, payer split)
are compared and the differences kept.

A dated one-off (录取, 学历, 七's hardship, a disaster) counts in the year of
its event only, as the estimate counts it (``Rulebook.event_days`` from
the year's 1 January): on the next 1 January it ages out of the line.
Columnar only: this module never runs durable_rules.
"""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path
from typing import Callable, Optional

import polars as pl

from ..caseload import atomic_output, write_only_book
from ..costing import PERSON, ColumnarEstimate, applicant_frames
from ..costing.columnar import NO_CSE, birthday_column, oldest_member_birth_column, overdue_from_column
from ..costing.periods import age_conditions
from ..engine import load_rulebook
from ..engine.applicant import EARLIEST_DATE, LATEST_DATE
from ..engine.columnar.output import masked_id
from ..engine.columnar.plan import MONEY_FORMS, ColumnarPlan, amount_column, payer_column, rule_column
from ..engine.columnar.schema import BIRTH, ROW
from ..engine.columns import DAY
from ..engine.identity import CURRENT_COUNTIES, county_name
from ..engine.marks import chain, condition_parameters
from ..engine.rulebook import Rule, Rulebook
from ..engine.vocabulary import PAYER_ZH, PERIOD_ZH, STATUS_ZH, STATUSES
from ..report import format_value
from ..tables import grid
from ..workbooks import Sheet

MAX_MONTHS = 60
"""The longest window: five years ahead (parameters are rarely known further)."""

UNVERIFIED_ZH = "未核实/假设"
KIND_AGE, KIND_MEMBER_AGE, KIND_PARAMETER = "年满{}周岁", "家庭成员年满{}周岁", "参数调整"
KIND_PLACEMENT, KIND_EVENT_ENDS, KIND_EVENT, KIND_IN_FORCE = "安置期限届满", "一次性事件期满", "事件日期到来", "文件施行"
KIND_UNKNOWN = "其他"

# dated events, by column of the applicant frame (schema.py), as the clerk names them
_EVENTS = (("education.admission.date", "录取"), ("education.diploma.date", "取得学历"), ("disaster.date", "灾害"))
_REFERRAL, _MEMBER_BIRTH = "military.referral_date", "__members.earliest_birth"   # columns the reasons read
_BEFORE, _AFTER = ".before", ".after"
_SEP = "；"

COLUMNS = {
    "day": pl.Date, "month": pl.String, "county": pl.String, "county_zh": pl.String, ROW: pl.Int64,
    "id_masked": pl.String, "id_number": pl.String, "name": pl.String, "line": pl.String, "line_zh": pl.String,
    "clause": pl.String, "period_zh": pl.String, "payee_zh": pl.String,
    "status_before": pl.String, "status_after": pl.String,
    "amount_before": pl.Float64, "amount_after": pl.Float64,
    "amount_max_before": pl.Float64, "amount_max_after": pl.Float64,
    "payer_before": pl.String, "payer_after": pl.String, "reason": pl.String, "reason_kind": pl.String,
}
"""The re-check list's columns: amounts in yuan per the line's period
(``period_zh``), for the person or the household (``payee_zh``); for a
range, ``amount_*`` is its lower and ``amount_max_*`` its upper bound."""


class RecheckError(ValueError):
    """A bad window or county (the message is Chinese, for the user)."""


def window_end(as_of: dt.date, months: int) -> dt.date:
    """``months`` calendar months after ``as_of`` (the same day, or the month's last)."""
    index = as_of.month - 1 + months
    year, month = as_of.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(as_of.day, calendar.monthrange(year, month)[1]))


def check_window(as_of, months, county: Optional[str] = None) -> dt.date:
    """The window's last day; RecheckError with a Chinese message if the
    window or county cannot be used."""
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
        raise RecheckError(f"月数应为 1 到 {MAX_MONTHS} 之间的整数，实际为 {months!r}")
    if not isinstance(as_of, dt.date) or isinstance(as_of, dt.datetime):
        raise RecheckError(f"核对日应为日期 YYYY-MM-DD，实际为 {as_of!r}")
    end = window_end(as_of, months)
    if as_of < EARLIEST_DATE or end > LATEST_DATE:
        raise RecheckError(f"核对日及其后 {months} 个月应在{EARLIEST_DATE}至{LATEST_DATE}之间，实际为 {as_of}")
    check_county(county)
    return end


def check_county(county: Optional[str]) -> Optional[str]:
    """A current 三门峡 county code (or None); RecheckError otherwise."""
    if county is not None and county not in CURRENT_COUNTIES:
        codes = "、".join(f"{c} {n}" for c, n in CURRENT_COUNTIES.items())
        raise RecheckError(f"县区代码 {county!r} 不是三门峡市现行县区代码（{codes}）")
    return county


class Rechecker:
    """One rulebook, compiled once; ``changes(frame, as_of, end)`` per chunk."""

    def __init__(self, rulebook: Rulebook):
        self.rulebook = rulebook
        self.lines = rulebook.benefits
        self._estimates: dict[int, ColumnarEstimate] = {}
        self.plan = ColumnarPlan(rulebook)
        self.ages = age_conditions(rulebook, "age")
        self.member_ages = age_conditions(rulebook, "oldest_member_age")
        # per line, the parameters its determination reads (conditions, its concepts', amount, payer)
        self.line_parameters = {}
        for rule in self.lines:
            names = set(condition_parameters(rule, chain(rule, rulebook))) | set(rule.outcome.amount.parameters())
            if rule.outcome.payer is not None and rule.outcome.payer.param:
                names.add(rule.outcome.payer.param)
            self.line_parameters[rule.id] = names

    def estimate(self, year: int) -> ColumnarEstimate:
        if year not in self._estimates:
            self._estimates[year] = ColumnarEstimate(self.rulebook, year)
        return self._estimates[year]

    # -- change points ----------------------------------------------------------------

    def points(self, frame: pl.DataFrame, as_of: dt.date, end: dt.date) -> pl.DataFrame:
        """(person, day): ``as_of`` and every change point in (as_of, end]
        (``frame`` has PERSON), none before the person's birth."""
        parts = [frame.select(PERSON, pl.lit(as_of, dtype=pl.Date).alias(DAY))]
        parts += [self.estimate(year).days(frame) for year in range(as_of.year, end.year + 1)]
        births = frame.select(PERSON, BIRTH)
        days = pl.concat([p.with_columns(pl.col(DAY).cast(pl.Date)) for p in parts])
        return (days.filter(pl.col(DAY).is_between(pl.lit(as_of), pl.lit(end)))
                .join(births, on=PERSON).filter(pl.col(DAY) >= pl.col(BIRTH))
                .select(PERSON, DAY).unique().sort(PERSON, DAY))

    # -- determinations ---------------------------------------------------------------

    def _determination(self, rule: Rule) -> dict[str, pl.Expr]:
        """A line's determination on a row as the plan computed it: status
        (eligible / ineligible / undetermined), amount (null unless eligible),
        payer split (null unless a money line is eligible)."""
        b = rule.id
        verdict = pl.col(rule_column(b))
        out = {f"{b}|status": pl.when(verdict.is_null()).then(pl.lit(STATUSES[2]))
               .when(verdict).then(pl.lit(STATUSES[0])).otherwise(pl.lit(STATUSES[1]))}
        form = rule.outcome.amount.form
        if form == "range":
            out[f"{b}|amount"] = pl.col(amount_column(b, "min"))
            out[f"{b}|amount_max"] = pl.col(amount_column(b, "max"))
        elif form in MONEY_FORMS:
            out[f"{b}|amount"] = pl.col(amount_column(b))
        if form in MONEY_FORMS:
            parts = []
            for who in self.plan.payer_shares(rule):
                low = pl.col(payer_column(b, who, "min" if form == "range" else None))
                shown = _yuan(low)
                if form == "range":
                    shown = pl.concat_str(shown, pl.lit("–"), _yuan(pl.col(payer_column(b, who, "max"))))
                parts.append(pl.when(low.is_not_null() & (low != 0)).then(
                    pl.concat_str(pl.lit(PAYER_ZH[who] + " "), shown, pl.lit("元"))))
            if parts:
                out[f"{b}|payer"] = pl.concat_str(parts, separator="、", ignore_nulls=True).replace("", None)
        return out

    def evaluate(self, frame: pl.DataFrame, points: pl.DataFrame) -> pl.DataFrame:
        """(person, day, each line's determination columns), in person and day order."""
        columns = {}
        for rule in self.lines:
            columns.update(self._determination(rule))
        facts = []
        for (year,), days in points.group_by(pl.col(DAY).dt.year(), maintain_order=True):
            estimate = self.estimate(year)       # a dated event counts from its year's 1 January
            facts.append(estimate.facts(frame, days.with_columns(pl.lit(0.0).alias("__weight"))))
        # the facts of every year, then the plan once (its fixed cost is per call)
        decided = self.plan.decide(pl.concat(facts, how="vertical_relaxed").lazy())
        return decided.select(PERSON, DAY, **columns).collect(**NO_CSE).sort(PERSON, DAY)

    def _line_changes(self, rule: Rule, result: pl.DataFrame) -> pl.DataFrame:
        b = rule.id
        names = [n for n in ("status", "amount", "amount_max", "payer") if f"{b}|{n}" in result.columns]
        same = pl.col(PERSON) == pl.col(PERSON).shift(1)
        changed = reduce(lambda acc, n: acc | pl.col(f"{b}|{n}").ne_missing(pl.col(f"{b}|{n}").shift(1)),
                         names, pl.lit(False))
        selected = [pl.col(f"{b}|{n}").shift(1).alias(n + _BEFORE) for n in names]
        selected += [pl.col(f"{b}|{n}").alias(n + _AFTER) for n in names]
        part = result.lazy().select(PERSON, DAY, (same & changed).fill_null(False).alias("__changed"),
                                    *selected).filter(pl.col("__changed")).drop("__changed").collect()
        missing = {n + s: dtype for n, dtype in (("amount", pl.Float64), ("amount_max", pl.Float64),
                                                  ("payer", pl.String)) if n not in names for s in (_BEFORE, _AFTER)}
        return part.with_columns(pl.lit(b).alias("line"),
                                 **{c: pl.lit(None, dtype=t) for c, t in missing.items()})

    def changes(self, frame: pl.DataFrame, as_of: dt.date, end: dt.date) -> pl.DataFrame:
        """The re-check rows (``COLUMNS``) of a chunk of the applicant frame."""
        frame = frame.with_row_index(PERSON)
        points = self.points(frame, as_of, end)
        if points.height == 0:
            return pl.DataFrame(schema=COLUMNS)
        result = self.evaluate(frame, points)
        order = [f"status{_BEFORE}", f"status{_AFTER}", f"amount{_BEFORE}", f"amount{_AFTER}",
                 f"amount_max{_BEFORE}", f"amount_max{_AFTER}", f"payer{_BEFORE}", f"payer{_AFTER}"]
        found = pl.concat([self._line_changes(rule, result).select(PERSON, DAY, "line", *order)
                           for rule in self.lines])
        if found.height == 0:
            return pl.DataFrame(schema=COLUMNS)
        return self._explained(found, frame, as_of, end)

    # -- reasons ----------------------------------------------------------------------

    def _parameter_changes(self, frame: pl.DataFrame, as_of: dt.date, end: dt.date) -> pl.DataFrame:
        """(county, residence, day, parameter, text): each parameter taking a
        new value in (as_of, end] for the combinations in ``frame``."""
        source = self.estimate(as_of.year).planner.engine        # the rulebook's parameter values
        dates = sorted({e.from_ for spec in self.rulebook.parameters.values() for e in spec.values
                        if as_of < e.from_ <= end})
        rows = []
        for county, residence in frame.select("hukou_county", "residence").unique().iter_rows():
            facts = {"hukou_county": county, "residence": residence}
            for day in dates:
                for name, spec in self.rulebook.parameters.items():
                    value = source.parameter(name, day, facts)
                    if value is None or value == source.parameter(name, day - dt.timedelta(days=1), facts):
                        continue
                    mark = "" if spec.verified else f"（{UNVERIFIED_ZH}）"
                    rows.append((county, residence, day, name,
                                 f"参数“{spec.label_zh}”（{name}）自{day.isoformat()}起为 "
                                 f"{format_value(value)} {spec.unit}{mark}"))
        return pl.DataFrame(rows, schema={"hukou_county": pl.String, "residence": pl.String, DAY: pl.Date,
                                          "parameter": pl.String, "text": pl.String}, orient="row")

    def _age_text(self, age: int, sources: set, kind: str) -> str:
        params = [self.rulebook.parameters[n] for n in sorted(s for s in sources if s)]
        if None in sources or not params:
            return kind.format(age)
        notes = "、".join(f"{p.label_zh} {age}" + ("" if p.verified else f"，{UNVERIFIED_ZH}") for p in params)
        return f"{kind.format(age)}（{notes}）"

    def _general_reasons(self) -> list[tuple[pl.Expr, str, pl.Expr]]:
        """(when, kind, text) of every reason but a parameter's, per (person, day)."""
        day = pl.col(DAY)
        out = []
        for age, sources in sorted(self.ages.items()):
            out.append((birthday_column(pl.col(BIRTH), age) == day, KIND_AGE.format(age),
                        pl.lit(self._age_text(age, sources, KIND_AGE))))
        for age, sources in sorted(self.member_ages.items()):
            out.append((birthday_column(pl.col(_MEMBER_BIRTH), age) == day, KIND_MEMBER_AGE.format(age),
                        pl.lit(self._age_text(age, sources, KIND_MEMBER_AGE))))
        deadline = pl.col(_REFERRAL).dt.offset_by("1mo")
        out.append((overdue_from_column() == day, KIND_PLACEMENT, pl.format(
            "81号 第10条：介绍信{}开出，1个月内（至{}）未安排上岗", pl.col(_REFERRAL), deadline)))
        new_year = (day.dt.month() == 1) & (day.dt.day() == 1)
        last_year = day.dt.year() - 1
        for column, name in _EVENTS:
            date = pl.col(column)
            out.append((date == day, KIND_EVENT, pl.format(f"{name}日期{{}}到来", date)))
            out.append((new_year & (date.dt.year() == last_year), KIND_EVENT_ENDS,
                        pl.format(f"{name}（{{}}）只计入{{}}年度的一次性待遇", date, last_year)))
        hardship = pl.col("hardship_events").list.eval(pl.element().struct.field("date"))
        out.append((hardship.list.contains(day), KIND_EVENT, pl.format("临时困难事件日期{}到来", day)))
        out.append((new_year & hardship.list.eval(pl.element().dt.year()).list.contains(last_year),
                    KIND_EVENT_ENDS, pl.format("{}年的临时困难事件只计入该年度", last_year)))
        for doc, in_force in self.rulebook.in_force_of.items():
            out.append((day == pl.lit(in_force.from_), KIND_IN_FORCE,
                        pl.lit(f"{doc}自{in_force.from_.isoformat()}施行")))
        return out

    def _explained(self, found: pl.DataFrame, frame: pl.DataFrame, as_of: dt.date, end: dt.date) -> pl.DataFrame:
        """The change rows with who, which line and why."""
        found = found.with_row_index("__change")
        people = frame.select(PERSON, ROW, "id_number", "name", "hukou_county", "residence", BIRTH, _REFERRAL,
                              "hardship_events", *[c for c, _ in _EVENTS], oldest_member_birth_column(frame))
        keyed = found.select("__change", PERSON, DAY, "line").join(people, on=PERSON, how="left")
        # per change, its reasons as (kind, text), a parameter's only where the line reads it
        general = pl.concat_list([pl.when(w.fill_null(False)).then(pl.concat_str(pl.lit(k + "\x1f"), t))
                                  for w, k, t in self._general_reasons()]).list.drop_nulls()
        reasons = keyed.select("__change", general.alias("__reason")).explode("__reason").drop_nulls("__reason")
        params = self._parameter_changes(frame, as_of, end)
        uses = pl.DataFrame([(b, n) for b, names in self.line_parameters.items() for n in names],
                            schema={"line": pl.String, "parameter": pl.String}, orient="row").with_columns(
            pl.lit(True).alias("__uses"))
        param_rows = (keyed.select("__change", "line", "hukou_county", "residence", DAY)
                      .join(params, on=["hukou_county", "residence", DAY], how="inner", nulls_equal=True)
                      .join(uses, on=["line", "parameter"], how="left")
                      .with_columns(pl.col("__uses").fill_null(False)))
        # a parameter the line does not read is named only where nothing else explains the change
        explained = pl.concat([reasons.select("__change"), param_rows.filter("__uses").select("__change")]).unique()
        param_rows = param_rows.filter(pl.col("__uses") | ~pl.col("__change").is_in(explained["__change"].implode()))
        reasons = pl.concat([reasons, param_rows.select(
            "__change", pl.concat_str(pl.lit(KIND_PARAMETER + "\x1f"), "text").alias("__reason"))])
        split = pl.col("__reason").str.split_exact("\x1f", 1)
        grouped = (reasons.with_columns(split.struct.field("field_0").alias("kind"),
                                        split.struct.field("field_1").alias("text"))
                   .group_by("__change").agg(pl.col("text").unique(maintain_order=True).str.join(_SEP),
                                             pl.col("kind").unique(maintain_order=True).str.join(_SEP)))
        lines = pl.DataFrame({"line": [r.id for r in self.lines], "line_zh": [r.label_zh for r in self.lines],
                              "clause": [r.clause for r in self.lines],
                              "period_zh": [PERIOD_ZH[r.outcome.period] for r in self.lines],
                              "payee_zh": ["每户" if r.outcome.payee == "household" else "每人" for r in self.lines]})
        out = (found.join(grouped, on="__change", how="left")
               .join(people.select(PERSON, ROW, "id_number", "name", "hukou_county"), on=PERSON, how="left")
               .join(lines, on="line", how="left")
               .with_columns(pl.col(DAY).alias("day"), pl.col(DAY).dt.strftime("%Y-%m").alias("month"),
                             pl.col("hukou_county").fill_null("").alias("county"),
                             masked_id(pl.col("id_number")).alias("id_masked"),
                             pl.col("text").fill_null("变动原因未能识别（请报告）").alias("reason"),
                             pl.col("kind").fill_null(KIND_UNKNOWN).alias("reason_kind"),
                             *[pl.col(f"status{s}").replace_strict(STATUS_ZH, return_dtype=pl.String)
                               for s in (_BEFORE, _AFTER)]))
        codes = out.select("county", "day").unique()
        names = codes.with_columns(pl.struct("county", "day").map_elements(
            lambda r: county_name(r["county"], r["day"]) or r["county"] or "户籍县区未记录",
            return_dtype=pl.String).alias("county_zh"))
        out = out.join(names, on=["county", "day"], how="left")
        out = out.rename({f"{n}{s}": f"{n}_{s[1:]}" for n in ("status", "amount", "amount_max", "payer")
                          for s in (_BEFORE, _AFTER)})
        return out.select([pl.col(c).cast(t) for c, t in COLUMNS.items()])


def _yuan(expr: pl.Expr) -> pl.Expr:
    """Yuan to the fen as text: 1500 → "1500.00"."""
    fen = (expr * 100).round().cast(pl.Int64)
    return pl.concat_str(fen // 100, pl.lit("."), (fen % 100).cast(pl.String).str.zfill(2))


def order(frame: pl.DataFrame) -> pl.DataFrame:
    """Per county, by day, then by caseload row and line (the rulebook's order)."""
    return frame.sort("county", "day", ROW, maintain_order=True)


def summarise(frame: pl.DataFrame) -> pl.DataFrame:
    """Counts per county × month × reason kind (a change with two reasons counts under the pair)."""
    return (frame.group_by("county", "county_zh", "month", "reason_kind")
            .agg(pl.len().alias("changes"), pl.col("id_number").n_unique().alias("persons"))
            .sort("county", "month", "reason_kind"))


@dataclass
class Recheck:
    """A re-check run: the list (``COLUMNS``), its summary, the caseload's rejected rows."""
    frame: pl.DataFrame
    summary: pl.DataFrame
    as_of: dt.date
    end: dt.date
    months: int
    county: Optional[str]
    rulebook_version: str
    rows: int = 0
    rejects: list[dict] = field(default_factory=list)
    rulebook: Optional[Rulebook] = None


def run_recheck(caseload, as_of: dt.date, months: int, rulebook: Optional[Rulebook] = None,
                county: Optional[str] = None, fmt: Optional[str] = None,
                on_progress: Optional[Callable[[int, Optional[int]], None]] = None) -> Recheck:
    """The re-check list of a caseload (a path, a stream with ``fmt``, records,
    or an applicant frame, engine/columnar/schema.py). ``county``: that
    county's people only. Raises RecheckError for a bad window or county,
    CaseloadError / LayoutError if the file cannot be read."""
    end = check_window(as_of, months, county)
    rulebook = rulebook if rulebook is not None else load_rulebook(None)
    checker = Rechecker(rulebook)
    if isinstance(caseload, pl.DataFrame):
        total, chunks = caseload.height, iter([(caseload, [], caseload.height)])
    else:
        total, frames = applicant_frames(caseload if not isinstance(caseload, Path) else str(caseload), fmt)
        chunks = ((c.frame, c.rejects, c.rows) for c in frames)
    parts, rejects, done = [], [], 0
    if on_progress:
        on_progress(0, total)
    for frame, bad, rows in chunks:
        if county is not None:
            frame = frame.filter(pl.col("hukou_county") == county)
        if frame.height:
            parts.append(checker.changes(frame, as_of, end))
        rejects += bad
        done += rows
        if on_progress:
            on_progress(done, total)
    frame = order(pl.concat(parts)) if parts else pl.DataFrame(schema=COLUMNS)
    return Recheck(frame, summarise(frame), as_of, end, months, county, rulebook.version, done, rejects, rulebook)


def recheck(caseload, as_of: dt.date, months: int, rulebook: Optional[Rulebook] = None,
            county: Optional[str] = None) -> pl.DataFrame:
    """The re-check list as a frame (``COLUMNS``), sorted per county by day."""
    return run_recheck(caseload, as_of, months, rulebook, county).frame


# -- output -----------------------------------------------------------------------------

HEADER = (("day", "变动日"), ("county_zh", "县区"), ("id", "身份证号"), ("name", "姓名"), (ROW, "台账行"),
          ("line_zh", "待遇项目"), ("clause", "条款"), ("status_before", "变动前"), ("status_after", "变动后"),
          ("amount_before", "变动前金额（元）"), ("amount_after", "变动后金额（元）"), ("period_zh", "周期"),
          ("payee_zh", "对象"), ("payer_before", "变动前出资"), ("payer_after", "变动后出资"),
          ("reason", "原因"))
MAX_ROWS = 1_000_000     # a sheet holds 1,048,576 rows


def _money(low, high):
    if low is None:
        return "—"
    return f"{low:.2f}–{high:.2f}" if high is not None and high != low else low


def _rows(frame: pl.DataFrame, full_ids: bool) -> list[list]:
    shown = frame.head(MAX_ROWS).with_columns(
        (pl.col("id_number") if full_ids else pl.col("id_masked")).alias("id"))
    out = []
    for r in shown.iter_rows(named=True):
        values = []
        for column, _ in HEADER:
            if column in ("amount_before", "amount_after"):
                values.append(_money(r[column], r[column.replace("amount", "amount_max")]))
            elif column == "day":
                values.append(r[column].isoformat())
            else:
                values.append("—" if r[column] is None else r[column])
        out.append(values)
    return out


def write_recheck_sheet(book, frame: pl.DataFrame, result: dict, full_ids: bool = False,
                        title: str = "动态复核") -> Sheet:
    """The list as one sheet of ``book`` (openpyxl write-only), a county
    column, masked ID numbers unless ``full_ids``; ``result`` has the
    ``year`` and ``rulebook_version`` of the title row (workbooks.Sheet)."""
    sheet = Sheet(book, title, result, [h for _, h in HEADER], _rows(frame, full_ids))
    if frame.height > MAX_ROWS:
        sheet.row([f"另有 {frame.height - MAX_ROWS:,} 行未列出（超出工作表行数）"])
    return sheet


def parameter_rows(rulebook: Rulebook, as_of: dt.date, end: dt.date) -> list[list]:
    """The 参数与假设 sheet: each parameter value dated inside the window, and
    the parameters that name an age the rules read, with the verified mark."""
    ages = {n for fact in ("age", "oldest_member_age") for sources in age_conditions(rulebook, fact).values()
            for n in sources if n}
    rows = []
    for name, spec in rulebook.parameters.items():
        for entry in spec.values:
            if as_of < entry.from_ <= end or name in ages:
                scope = "、".join(v for v in (entry.hukou_county, entry.residence) if v) or "全市"
                rows.append([name, spec.label_zh, entry.from_.isoformat(), scope, format_value(entry.value),
                             spec.unit, "已核实" if spec.verified else UNVERIFIED_ZH, spec.source])
    return rows


def write_recheck_workbook(run: Recheck, path, full_ids: bool = False) -> None:
    """汇总, 动态复核, 参数与假设 and 拒绝记录 sheets, written atomically."""
    result = {"year": run.as_of.year, "rulebook_version": run.rulebook_version}
    with atomic_output(path) as partial, write_only_book() as book:
        Sheet(book, "汇总", result, ["县区", "月份", "原因", "变动项数", "人数"],
              [[r["county_zh"], r["month"], r["reason_kind"], r["changes"], r["persons"]]
               for r in run.summary.iter_rows(named=True)])
        write_recheck_sheet(book, run.frame, result, full_ids)
        Sheet(book, "参数与假设", result, ["参数", "名称", "起始日期", "适用范围", "取值", "单位", "核实", "来源"],
              parameter_rows(load_rulebook(None) if run.rulebook is None else run.rulebook, run.as_of, run.end))
        Sheet(book, "拒绝记录", result, ["台账行", "字段", "说明"],
              [[r["row"], r["field"], r["message"]] for r in run.rejects])
        book.save(partial)


def render(run: Recheck) -> str:
    """The Chinese summary for the terminal: per county and reason kind."""
    scope = f"（仅 {CURRENT_COUNTIES[run.county]}）" if run.county else ""
    head = (f"动态复核清单{scope}：核对日 {run.as_of.isoformat()}，其后 {run.months} 个月"
            f"（至 {run.end.isoformat()}），台账 {run.rows:,} 行，拒绝 {len(run.rejects):,} 行")
    if run.frame.height == 0:
        return head + "\n期间内没有人的待遇会发生变动。"
    persons = run.frame.select("id_number").n_unique()
    by_kind = (run.summary.group_by("county_zh", "reason_kind").agg(pl.col("changes").sum())
               .sort("county_zh", "reason_kind"))
    table = grid(["县区", "原因", "变动项数"], [[c, k, f"{n:,}"] for c, k, n in by_kind.iter_rows()], right_from=2)
    return f"{head}\n共 {run.frame.height:,} 项变动，涉及 {persons:,} 人。\n\n{table}"
