"""名册核对 steps (issue 19): the applicant's rows on a county's roll, the
audit on a day (benefits.audit, columnar), and its findings. The roll holds
the applicant's rows only; a line not written on it is not paid."""
from __future__ import annotations

import polars as pl

from benefits.audit import load_names, run_audit, validate_roll
from benefits.audit.findings import DIFFERENCE, DUPLICATE, MISSED, PENDING, WRONG
from benefits.engine.columnar.schema import ROW

from .base import DATE, NUM, Mismatch, StepUsageError, number, parse_date, step

_RESIDENCE = {"城镇": "urban", "城市": "urban", "农村": "rural"}


def _roll(outcome) -> list:
    if getattr(outcome, "roll", None) is None:
        outcome.roll = []
    return outcome.roll


@step("假如", rf"当地(?P<where>城镇|城市|农村)低保标准为每人每月(?P<value>{NUM})元",
      pattern="当地{城镇|城市|农村}低保标准为每人每月{X}元", example="并且当地城镇低保标准为每人每月300元",
      meaning="本场景所依据的当地低保标准（元/人·月）；核对时查对规则文件在核对日的值，不同即报错（参数由规则文件定，场景不改它）")
def dibao_standard(outcome, where, value):
    outcome.standards = getattr(outcome, "standards", None) or {}
    outcome.standards[_RESIDENCE[where]] = number(value)


@step("假如", rf"名册上「(?P<benefit>[^」]+)」每月发放(?P<amount>{NUM})元,?自(?P<since>{DATE})起",
      pattern="名册上「{待遇}」每月发放{X}元，自{日期}起", example="名册上「纳入城乡低保」每月发放300元，自2013年1月1日起",
      meaning="名册上申请人的一行：待遇（规则的中文名、规则编号或各县区的叫法）、每月实发金额（低保为发给全户的金额）、起始日期")
def roll_row(outcome, benefit, amount, since):
    _roll(outcome).append((benefit, amount, parse_date(since).isoformat()))


@step("假如", r"名册上申请人没有任何待遇",
      pattern="名册上申请人没有任何待遇", example="名册上申请人没有任何待遇",
      meaning="名册上没有申请人的任何一行（确认未发放，不是未填）")
def roll_empty(outcome):
    if _roll(outcome):
        raise StepUsageError("名册上已写了申请人的行，不能再说没有任何待遇")


@step("当", rf"(?:当)?于(?P<day>{DATE})核对名册",
      pattern="当于{日期}核对名册", example="当于2013年3月1日核对名册",
      meaning="以该日为核对日（评估日）评估申请人，把结果与名册上申请人的各行比对（benefits audit，列式引擎）")
def audit_roll(engine, draft, outcome, day):
    day = parse_date(day)
    record = draft.record(day)
    book = engine.rulebook
    names = load_names(book)
    for residence, value in (getattr(outcome, "standards", None) or {}).items():
        actual = book.parameters["dibao_standard"].resolve(
            day, {"hukou_county": record.get("hukou_county"), "residence": residence})
        if actual != value:
            raise Mismatch(f"当地{'城镇' if residence == 'urban' else '农村'}低保标准（规则文件，核对日 {day}）",
                           f"{value:g}元", f"{actual}元")
    rows = _roll(outcome)
    raw = pl.DataFrame({ROW: list(range(2, len(rows) + 2)), "id_number": [record["id_number"]] * len(rows),
                        "line": [r[0] for r in rows], "amount": [f"{r[1]}" for r in rows],
                        "since": [r[2] for r in rows]},
                       schema={ROW: pl.Int64, "id_number": pl.String, "line": pl.String, "amount": pl.String,
                               "since": pl.String})
    roll = validate_roll(raw, names, day)
    unknown = [r for r in roll.rejects if r["field"] == "line"]
    if unknown:
        raise StepUsageError(unknown[0]["message"])
    # the scenario's roll is all of the applicant's rows: a line not on it is not paid
    audit = run_audit([record], roll, day, rulebook=book, names=names, covers=set(names.lines))
    if audit.rejects:
        raise StepUsageError("申请人记录被拒绝：" + "；".join(f"{r['field']}：{r['message']}" for r in audit.rejects))
    outcome.audit, outcome.names = audit, names


def _audit(outcome):
    audit = getattr(outcome, "audit", None)
    if audit is None:
        raise StepUsageError("请先写“当于{日期}核对名册”")
    return audit


def _line(outcome, benefit: str) -> str:
    line = outcome.names.line_of(benefit)
    if line is None:
        raise StepUsageError(f"不认识的待遇「{benefit}」：不在名册核对的项目中")
    return line


def _shown(audit) -> list[str]:
    return [f"{k}「{z}」：{c}" for k, z, c in audit.findings.select("kind", "line_zh", "condition").iter_rows()] or ["没有发现"]


def _finding(outcome, kind: str, benefit: str) -> dict:
    audit = _audit(outcome)
    found = audit.findings.filter((pl.col("kind") == kind) & (pl.col("line") == _line(outcome, benefit)))
    if found.height != 1:
        raise Mismatch(f"{kind}「{benefit}」", f"一条{kind}", _shown(audit))
    return found.row(0, named=True)


def _money(what: str, expected: float, actual) -> None:
    if actual is None or abs(actual - expected) > 0.005:
        raise Mismatch(what, f"{expected:.2f}元", "—" if actual is None else f"{actual:.2f}元")


@step("那么", rf"(?:那么)?发现漏保:「(?P<benefit>[^」]+)」(?:,每月应发(?P<floor>不少于)?(?P<owed>{NUM})元)?",
      pattern="那么发现漏保：「{待遇}」[，每月应发[不少于]{X}元]",
      example="那么发现漏保：「低保重度残疾人定额补贴」，每月应发不少于60元",
      meaning="依规则符合、名册上（同一需要的各行都）没有发放；写了金额则核对每月应发额")
def missed(outcome, benefit, floor, owed):
    row = _finding(outcome, MISSED, benefit)
    if owed is not None:
        _money(f"漏保「{benefit}」每月应发", number(owed), row["owed_month"])


@step("那么", r"(?:那么)?发现错保:「(?P<benefit>[^」]+)」,不满足「(?P<condition>[^」]+)」",
      pattern="那么发现错保：「{待遇}」，不满足「{条件}」", example="那么发现错保：「低保重度残疾人定额补贴」，不满足「重度残疾人」",
      meaning="名册上发放、依规则不符合；不成立的条件（规则文件的说法）中有一条含这段文字")
def wrong(outcome, benefit, condition):
    row = _finding(outcome, WRONG, benefit)
    if condition not in (row["condition"] or ""):
        raise Mismatch(f"错保「{benefit}」不成立的条件", f"含「{condition}」", row["condition"], row["clause"])


@step("那么", rf"(?:那么)?发现按标施保差额:「(?P<benefit>[^」]+)」每月应发(?P<floor>不少于)?(?P<owed>{NUM})元、"
              rf"实发(?P<paid>{NUM})元,全年差(?P<year>{NUM})元",
      pattern="那么发现按标施保差额：「{待遇}」每月应发[不少于]{X}元、实发{Y}元，全年差{Z}元",
      example="那么发现按标施保差额：「纳入城乡低保」每月应发300元、实发100元，全年差2400元",
      meaning="符合且在发放，实发与应发不符（规则定下限时实发低于下限）；Z = |应发 − 实发| × 12，到分；低保按户")
def difference(outcome, benefit, floor, owed, paid, year):
    row = _finding(outcome, DIFFERENCE, benefit)
    _money(f"差额「{benefit}」每月应发", number(owed), row["owed_month"])
    _money(f"差额「{benefit}」每月实发", number(paid), row["paid_month"])
    _money(f"差额「{benefit}」全年差", number(year), abs(row["diff_year"]))


@step("那么", r"(?:那么)?发现待核:「(?P<benefit>[^」]+)」,需补「(?P<fact>[^」]+)」",
      pattern="那么发现待核：「{待遇}」，需补「{事项}」",
      example="那么发现待核：「成年重度残疾人单独纳入低保（单人户施保）」，需补「主要供养人」",
      meaning="依已知情况无法判定；需补充的事实中有一项含这段文字")
def pending(outcome, benefit, fact):
    row = _finding(outcome, PENDING, benefit)
    if not any(fact in m for m in row["missing"] or []):
        raise Mismatch(f"待核「{benefit}」需补充的事实", f"含「{fact}」", row["missing"], row["clause"])


@step("那么", r"(?:那么)?发现重复发放:「(?P<first>[^」]+)」与「(?P<second>[^」]+)」为同一需要",
      pattern="那么发现重复发放：「{待遇}」与「{待遇}」为同一需要",
      example="那么发现重复发放：「纳入城乡低保」与「城乡低保（应保尽保、按标施保）」为同一需要",
      meaning="名册上同一人（户）的两行付的是同一需要（同一项目两行，或规则标为同一笔的两个项目）")
def duplicate(outcome, first, second):
    audit = _audit(outcome)
    lines = {_line(outcome, first), _line(outcome, second)}
    found = audit.findings.filter((pl.col("kind") == DUPLICATE) & pl.col("line").is_in(list(lines)))
    same_need = len({audit.needs[line] for line in lines}) == 1
    if found.height != 1 or not same_need:
        raise Mismatch(f"重复发放「{first}」与「{second}」", "一条重复发放", _shown(audit))


@step("那么", r"(?:那么)?没有发现",
      pattern="那么没有发现", example="那么没有发现",
      meaning="核对范围内没有漏保、错保、差额、待核、重复发放，也没有名册有、台账无")
def nothing(outcome):
    audit = _audit(outcome)
    if audit.findings.height:
        raise Mismatch("名册核对的发现", "没有发现", _shown(audit))
