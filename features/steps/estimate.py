"""测算 steps: the yearly caseload estimate (`benefits estimate --year`) run on
the scenario's applicant, and on a second applicant of the same household
when the scenario adds one, through the finance office's public API
(``benefits.finance.estimate``) on the scenario's back end.

The estimate reports, per benefit line, the persons counted, the
person-months of monthly lines, the cost (下限/中值/上限, yuan) and, for a
line paid to the household, the households and the persons in them.
"""
from __future__ import annotations

import datetime as dt
import os

import pytest

from benefits.engine.vocabulary import PER_YEAR as _PER_YEAR
from benefits.finance import estimate

from .base import BENEFIT, NUM, Mismatch, StepUsageError, norm, number, step

RULES_ENV = "BENEFITS_RULES"
REFORM_ENV = "BENEFITS_REFORM"
_CENT = 0.005


class Estimate:
    """What the 当 step produced: the estimate dict and what it was run on."""

    def __init__(self, year: int, records: list[dict], result: dict):
        self.year, self.records, self.result = year, records, result


@step("当", r"(?:当)?按(?P<year>\d{4})年(?:度)?预算年度测算(?:台账)?(?:费用)?",
      pattern="当按{年份}年预算年度测算台账费用", example="当按2013年预算年度测算台账费用",
      meaning="以本场景的申请人（及「…也在台账中申请」加入的同户申请人）为台账，做与 benefits estimate --year {年份} "
              "相同的年度费用测算（在本场景的引擎上运行）；年龄为该年1月1日的周岁，全年不变")
def run_estimate(draft, outcome, back_end, year):
    if os.environ.get(REFORM_ENV):
        # benefits.finance.estimate takes a rules directory, not a reformed rulebook
        pytest.skip("测算步骤只能按规则目录测算，不能套用改革方案（--reform）")
    year = int(year)
    day = dt.date(year, 1, 1)
    records = [draft.record(day)]
    other = draft.co_record(day)
    if other is not None:
        records.append(other)
    result = estimate(records, year, rules_dir=os.environ.get(RULES_ENV) or None, workers=1, engine=back_end)
    if result["rejects"]:
        raise StepUsageError("台账记录被拒绝：" + "；".join(
            f"第{r['row']}条 {r['field']}：{r['message']}" for r in result["rejects"]))
    outcome.estimate = Estimate(year, records, result)


def _estimate(outcome) -> Estimate:
    found = getattr(outcome, "estimate", None)
    if found is None:
        raise StepUsageError("请先写「当按{年份}年预算年度测算台账费用」，再核对测算")
    return found


def _entry(outcome, benefit: str | None) -> dict:
    """The estimate's row for the benefit named (or the one named before)."""
    rows = _estimate(outcome).result["benefits"]
    name = benefit or outcome.current
    if name is None:
        raise StepUsageError("请在步骤中写明待遇名称，例如「困难残疾人入学一次性资助」")
    for row in rows:
        if norm(row["label_zh"]) == norm(name) or row["benefit"] == name:
            outcome.current = name
            return row
    raise StepUsageError(f"测算中没有名为「{name}」的待遇。可用的待遇名称：\n  "
                         + "\n  ".join(f"{r['label_zh']}（{r['benefit']}，{r['clause']}）" for r in rows))


def _yuan(value: float) -> str:
    return f"{round(value, 2):g}"


def _cost_text(row: dict) -> str:
    cost = row["cost"]
    money = _yuan(cost["min"]) if abs(cost["max"] - cost["min"]) < _CENT else \
        f"{_yuan(cost['min'])}—{_yuan(cost['max'])}"
    text = f"计入{money}元，{row['persons']}人"
    if row["period"] == "monthly":
        text += f"，{round(row['person_months'], 4):g}人月"
    return text


@step("那么", r"(?:那么)?测算中" + BENEFIT + rf"计入(?P<low>{NUM})(?:(?:—|–|-|~|至|到)(?P<high>{NUM}))?元",
      pattern="那么测算中「{待遇}」计入{X}元  或  {X}—{Y}元",
      example="那么测算中「困难残疾人入学一次性资助」计入3000元",
      meaning="该预算年度测算中这一待遇的费用（各级财政合计，元）；原文是区间（七 500—1000元）时，测算的下限和上限分别为X、Y")
def cost(outcome, benefit, low, high):
    row = _entry(outcome, benefit)
    low = number(low)
    high = number(high) if high else low
    got = row["cost"]
    if abs(got["min"] - low) >= _CENT or abs(got["max"] - high) >= _CENT:
        expected = f"计入{_yuan(low)}元" if high == low else f"计入{_yuan(low)}—{_yuan(high)}元"
        raise Mismatch(f"{_estimate(outcome).year}年度测算中「{row['label_zh']}」的费用", expected,
                       _cost_text(row), row["clause"])


@step("那么", r"(?:那么)?测算中" + BENEFIT + r"不(?:应)?计入",
      pattern="那么测算中「{待遇}」不应计入", example="那么测算中「困难残疾人入学一次性资助」不应计入",
      meaning="该预算年度测算中这一待遇的费用为0，也不计人数")
def not_counted(outcome, benefit):
    row = _entry(outcome, benefit)
    if row["persons"] or any(abs(v) >= _CENT for v in row["cost"].values()):
        raise Mismatch(f"{_estimate(outcome).year}年度测算中「{row['label_zh']}」", "不计入（0人，0元）",
                       _cost_text(row), row["clause"])


@step("那么", r"(?:那么)?测算中" + BENEFIT + r"计入(?P<households>\d+)户、?(?P<persons>\d+)人",
      pattern="那么测算中「{待遇}」计入{N}户、{M}人", example="那么测算中「纳入城乡低保」计入1户、3人",
      meaning="测算中这一待遇计入的户数和人数（户内共同生活的人数）：按户发放的待遇一户只计一次，不论该户有几名成员是申请人；"
              "测算须给出户数（households）和户内人数（household_persons）")
def households(outcome, benefit, households, persons):
    row = _entry(outcome, benefit)
    expected = f"{households}户、{persons}人"
    if "households" not in row or "household_persons" not in row:
        raise Mismatch(f"{_estimate(outcome).year}年度测算中「{row['label_zh']}」的户数和人数", expected,
                       f"测算没有按户计数，只给出符合的申请人数（{row['persons']}人，同一户的每名申请人各计一人）",
                       row["clause"])
    if (row["households"], row["household_persons"]) != (int(households), int(persons)):
        raise Mismatch(f"{_estimate(outcome).year}年度测算中「{row['label_zh']}」的户数和人数", expected,
                       f"{row['households']}户、{row['household_persons']}人", row["clause"])


def _year_amount(engine, outcome, row: dict) -> float | None:
    """The line's full-year amount (月金额 × 12, or the yearly amount) for the
    scenario's applicant, as determined on the year's last day."""
    found = _estimate(outcome)
    day = dt.date(found.year, 12, 31)
    result = engine.evaluate(found.records[0] | {"evaluation_date": day.isoformat()})
    line = next(b for b in result["benefits"] if b["benefit"] == row["benefit"])
    amount = line["amount"] if line["status"] == "eligible" else None
    if not amount or amount["kind"] not in ("fixed", "at_least"):
        return None
    return amount["value"] * _PER_YEAR.get(line["period"], 0) or None


def _months(engine, outcome, row: dict) -> tuple[float | None, str]:
    """Months the estimate counts the line for: person-months for a monthly
    line; for a yearly or one-off line, cost ÷ (full-year amount ÷ 12)."""
    if not row["persons"]:
        return 0.0, "不计入（0人）"
    if row["period"] == "monthly":
        months = row["person_months"] / row["persons"]
        return months, f"{round(months, 4):g}个月（{_cost_text(row)}）"
    full = _year_amount(engine, outcome, row)
    if full is None:
        return None, f"无法由费用推算月数（{_cost_text(row)}；12月31日的评估结果没有定额）"
    months = 12 * row["cost"]["min"] / full
    return months, f"{round(months, 4):g}个月（{_cost_text(row)}，全年金额{_yuan(full)}元）"


@step("那么", r"(?:那么)?测算中" + BENEFIT + r"按(?P<months>\d+(?:\.\d+)?)个月计入",
      pattern="那么测算中「{待遇}」按{N}个月计入", example="那么测算中「“三无”残疾人纳入五保供养」按2个月计入",
      meaning="该预算年度中这一行计入的月数（63号施行且符合的月份数）：按月的待遇为人月数；按年的待遇为"
              "费用 ÷ 全年金额 × 12（全年金额取该年12月31日评估的金额），即费用 = 月金额 × N 或 年标准 × N/12")
def months(engine, outcome, benefit, months):
    row = _entry(outcome, benefit)
    got, text = _months(engine, outcome, row)
    if got is None or abs(got - number(months)) > 0.001:
        raise Mismatch(f"{_estimate(outcome).year}年度测算中「{row['label_zh']}」计入的月数", f"{months}个月",
                       text, row["clause"])


@step("那么", r"(?:那么)?测算中" + BENEFIT + r"按整年(?:的)?金额计入",
      pattern="那么测算中「{待遇}」按整年金额计入", example="那么测算中「养老保险个人最低缴费全额补贴」按整年金额计入",
      meaning="这一行是一年一次的一笔（如养老保险个人年缴费）：计入1 × 全年金额，不按施行或符合的月数折算")
def whole_year(engine, outcome, benefit):
    row = _entry(outcome, benefit)
    got, text = _months(engine, outcome, row)
    if row["period"] == "monthly" or got is None or abs(got - 12) > 0.001:
        raise Mismatch(f"{_estimate(outcome).year}年度测算中「{row['label_zh']}」", "按整年金额计入一次",
                       ("按月发放，" if row["period"] == "monthly" else "") + text, row["clause"])
