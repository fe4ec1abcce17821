"""当 steps: evaluate the record built so far on a given day."""
from __future__ import annotations

from benefits.engine import InvalidApplicant
from benefits.engine.identity import CURRENT_COUNTIES

from .base import DATE, parse_date, step

_COUNTY_CODES = {name: code for code, name in CURRENT_COUNTIES.items()}
_COUNTIES = "|".join(_COUNTY_CODES)


class Outcome:
    """What the 当 step produced: the engine's result or its rejection."""

    def __init__(self):
        self.result: dict | None = None
        self.rejected: list | None = None
        self.current: str | None = None     # the benefit the last 那么 step named
        self.budget: dict | None = None     # 三（一）county budget
        self.estimate = None                # 测算 (features/steps/estimate.py)


@step("当", rf"(?:当)?按(?P<day>{DATE})评估",
      pattern="当按{日期}评估", example="当按2013年3月1日评估",
      meaning="以该日有效的规则和参数评估申请人（记为记录的评估日期；年龄也按该日计算）")
def evaluate(engine, draft, outcome, day):
    day = parse_date(day)
    try:
        outcome.result = engine.evaluate(draft.record(day) | {"evaluation_date": day.isoformat()})
    except InvalidApplicant as exc:
        outcome.rejected = [f"{e.field}：{e.message}" for e in exc.errors]


@step("当", rf"(?:当)?按(?P<day>{DATE})计算(?P<county>{_COUNTIES})的康复(?:进社区、进农村工作)?专项经费",
      pattern="当按{日期}计算{县（市、区）}的康复专项经费", example="当按2013年1月1日计算灵宝市的康复专项经费",
      meaning="三（一）县级康复专项经费：该日所在年度，辖区人口数×每人每年标准（引擎按规则文件计算）")
def county_budget(engine, outcome, day, county):
    code = _COUNTY_CODES[county]
    row = next(r for r in engine.county_budgets(parse_date(day).year) if r["county"] == code)
    outcome.budget = {"clause": row["clause"], "value": row["amount"] if row["values"] else None,
                      "at_least": row["at_least"], "payer_split": row["payer_split"],
                      "unverified": [engine.rulebook.parameters[n].label_zh for n in row["unverified"]]}
