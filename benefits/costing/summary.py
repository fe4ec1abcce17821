"""The summary of a caseload's running totals (测算结果): a Tally turned into
the estimate dict that the CLI, a workbook, a web page or a comparison shows,
with the parameters and the method it used. Money is yuan to the fen: every
figure is a sum of the Tally's whole fen (each person's amount on a line
rounded once), so each total is exactly the sum of its parts.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from ..engine.identity import CURRENT_COUNTIES, county_name_for_year
from ..engine.marks import same_payment_groups
from ..engine.months import parameter_dates
from ..engine.outcome import MONEY_FORMS
from ..engine.rulebook import ParamRef, Rule
from ..engine.vocabulary import PAYERS
from .fen import to_fen, yuan
from .tally import MONEY_KINDS, Tally

UNKNOWN_COUNTY_ZH = "未填户籍县区"
METHOD_ZH = (
    "每人在当年1月1日、参数生效日（仅限对其取值有变化者）、63号和81号施行日、本人入学/取得学历/困难发生/受灾日"
    "和跨越规则年龄界限的生日各评估一次；"
    "按月发放的金额 × 该段覆盖的月数（不足整月按天数折算）；按年规定、按月供养的标准（五保）× 符合月数 ÷ 12；"
    "其他按年和一次性发放的金额，当年任一评估日符合即计一次（取首次符合时的金额）；"
    "有日期的一次性事件（录取、取得学历、临时困难、受灾）只计入事件发生的预算年度，以后年度不再计；区间取下限/中值/上限；“不低于”的金额按下限计并标注；"
    "按户发放的低保每户只计一次（同户申请人按家庭成员的身份证号识别，取其中最高者）；"
    "实物/服务、未规定金额的项目只计人数。待定（缺少信息）的人不计金额，另列人数。"
    "家庭成员按身份证号计算的年龄在年内的变化不作为变动日。")


def _money(values) -> dict:
    """(min, mid, max) in whole fen → yuan."""
    return {"min": yuan(values[0]), "mid": yuan(values[1]), "max": yuan(values[2])}


def _sum(rows) -> list:
    total = [0, 0, 0]
    for values in rows:
        for i in range(3):
            total[i] += values[i]
    return total


def county_name(code: str, year: int) -> str:
    """The county as named in the budget year (陕州区 was 陕县 until 2015-02-16)."""
    if code in CURRENT_COUNTIES:
        return county_name_for_year(code, year)
    return UNKNOWN_COUNTY_ZH if not code else code


def _rule_parameters(rule: Rule) -> list[str]:
    names = [c.value.param for c in rule.conditions or [] if isinstance(c.value, ParamRef)]
    if rule.outcome is not None:
        names += rule.outcome.amount.parameters()
        if rule.outcome.payer is not None and rule.outcome.payer.param:
            names.append(rule.outcome.payer.param)
    return names


def parameters_in_year(engine, year: int, names: list[str]) -> list[dict]:
    """Each named parameter with the values in force at some time in the year."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    out = []
    for name in names:
        spec = engine.rulebook.parameters[name]
        values = []
        for entry in spec.values:
            if entry.from_ > end:
                continue
            scope = (entry.hukou_county, entry.residence)
            superseded = any((e.hukou_county, e.residence) == scope and entry.from_ < e.from_ <= start
                             for e in spec.values)
            if not superseded:
                values.append({"from": entry.from_.isoformat(), "hukou_county": entry.hukou_county,
                               "residence": entry.residence, "value": entry.value})
        out.append({"name": name, "label_zh": spec.label_zh, "unit": spec.unit, "by": list(spec.by),
                    "verified": spec.verified, "source": spec.source, "values": values})
    return out


def summarise(tally: Tally, engine, year: int, rejects: Optional[list], rows_read: int,
              rejected_rows: int) -> dict:
    """Turn running totals into the estimate dict (all money rounded to fen)."""
    tally.settle()
    book = engine.rulebook
    counties = sorted({c for (_, c) in tally.persons} | {c for (_, c) in tally.undetermined}
                      | set(tally.county_persons), key=lambda c: (c == "", c))
    benefits = []
    for rule in book.benefits:
        keys = [(rule.id, c) for c in counties]
        kinds = sorted(tally.kinds.get(rule.id, ()))
        benefits.append({
            "benefit": rule.id, "document": rule.document, "label_zh": rule.label_zh, "clause": rule.clause,
            "period": rule.outcome.period, "amount_kinds": kinds,
            "money": any(k in MONEY_KINDS for k in kinds),
            # a line whose amount is no money (in kind, a service, a priority, days off, no amount
            # stated): counted in persons only, whoever is eligible
            "persons_only": rule.outcome.amount.form not in MONEY_FORMS,
            "floor": "at_least" in kinds,
            "persons": sum(tally.persons[k] for k in keys),
            "undetermined": sum(tally.undetermined[k] for k in keys),
            "unresolved": sum(tally.unresolved[k] for k in keys),
            "duplicates": sum(tally.duplicates[k] for k in keys),
            # lines paid to the household: households paid and the persons in them
            **({"households": sum(tally.household_counts[k] for k in keys),
                "household_persons": sum(tally.household_persons[k] for k in keys)}
               if rule.outcome.payee == "household" else {}),
            "person_months": round(sum(tally.person_months[k] for k in keys), 4),
            "cost": _money(_sum(tally.money.get(k, (0, 0, 0)) for k in keys)),
            "floor_part": _money(_sum(tally.floor.get(k, (0, 0, 0)) for k in keys)),
            "payers": {p: _money(_sum(tally.payer.get(k + (p,), (0, 0, 0)) for k in keys)) for p in PAYERS},
            "assumptions": sorted(tally.assumptions.get(rule.id, ())),
        })
    budgets = engine.county_budgets(year)
    rehabilitation = {b["county"]: b["amount"] for b in budgets}
    by_county = []
    county_payer = []
    for county in counties:
        keys = [(r.id, county) for r in book.benefits]
        payers = {p: _sum(tally.payer.get(k + (p,), (0, 0, 0)) for k in keys) for p in PAYERS}
        by_county.append({"county": county, "county_zh": county_name(county, year),
                          "applicants": tally.county_persons[county],
                          "cost": _money(_sum(tally.money.get(k, (0, 0, 0)) for k in keys)),
                          "floor_part": _money(_sum(tally.floor.get(k, (0, 0, 0)) for k in keys)),
                          "payers": {p: _money(v) for p, v in payers.items()},
                          # the county's whole obligation: its share of the lines plus 三（一）
                          "rehabilitation": rehabilitation.get(county, 0.0),
                          "county_obligation": _money([v + to_fen(rehabilitation.get(county, 0.0))
                                                       for v in payers["county"]])})
        county_payer += [{"county": county, "county_zh": county_name(county, year), "payer": p, **_money(v)}
                         for p, v in payers.items()]
    by_payer = {p: _money(_sum(v for k, v in tally.payer.items() if k[2] == p)) for p in PAYERS}
    basic = {b for group in same_payment_groups(book) for b in group}
    used = list(dict.fromkeys(n for rule in book.benefits + book.county_budgets for n in _rule_parameters(rule)))
    marks = [{"benefit": b, "label_zh": book.by_id[b].label_zh, "parameter": p,
              "parameter_zh": book.parameters[p].label_zh, "persons": n,
              "values": sorted(tally.unverified_values.get(p, ()))}
             for (b, p), n in sorted(tally.unverified.items())]
    return {
        "year": year,
        "rulebook_version": engine.version,
        "rules_dir": str(book.directory),
        "method": METHOD_ZH,
        "change_points": [dt.date(year, 1, 1).isoformat()] + [d.isoformat() for d in parameter_dates(book, year)],
        "counts": {"total": rows_read, "evaluated": tally.evaluated, "rejected": rejected_rows,
                   "evaluations": tally.evaluations},
        "total": _money(_sum(tally.money.values())),
        # 低保 and 五保 are paid under the national schemes that 63号 applies;
        # the other lines are what 63号 adds (the same-payment groups name them)
        "basic_living": {"benefits": [b for b in (r.id for r in book.benefits) if b in basic],
                         "cost": _money(_sum(v for k, v in tally.money.items() if k[0] in basic)),
                         "specific_cost": _money(_sum(v for k, v in tally.money.items() if k[0] not in basic))},
        "floor_part": _money(_sum(tally.floor.values())),
        # money by document: a line marked duplicate_of is already left out,
        # so 低保 owed under both 63号 and 81号 is counted once, under the line kept
        "documents": [{"document": d, "cost": _money(_sum(v for k, v in tally.money.items()
                                                        if book.by_id[k[0]].document == d))}
                      for d in dict.fromkeys(r.document for r in book.benefits)],
        "benefits": benefits,
        "counties": by_county,
        "payers": by_payer,
        "county_payer": county_payer,
        "rehabilitation": budgets,
        "rehabilitation_total": yuan(sum(to_fen(b["amount"]) for b in budgets)),
        "parameters": parameters_in_year(engine, year, used),
        "unverified_marks": marks,
        "rejects": rejects,
    }
