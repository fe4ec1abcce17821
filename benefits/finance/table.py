"""The estimate as text tables for the terminal (Chinese headings)."""
from __future__ import annotations

from ..engine.vocabulary import PAYERS
from ..tables import grid, visible
from .labels import PAYER_ZH, PERIOD_ZH, format_value, kinds_zh, scope_zh



def _yuan(value: float) -> str:
    return f"{value:,.2f}"


def _scoped(value: dict, by: list, year: int) -> str:
    scope = f"{scope_zh(value, year)} " if by else ""
    return f"{scope}自{value['from']}起 {format_value(value['value'])}"


def render(result: dict, rejects_shown: int = 10) -> str:
    counts = result["counts"]
    total = result["total"]
    parts = [
        f"{result['year']}年度救助资金测算（规则版本 {result['rulebook_version']}）",
        f"台账共 {counts['total']} 条：评估 {counts['evaluated']} 人，拒绝 {counts['rejected']} 条"
        f"（共评估 {counts['evaluations']} 次，变动日 {'、'.join(result['change_points'])}）",
        f"合计（元）：下限 {_yuan(total['min'])}  中值 {_yuan(total['mid'])}  上限 {_yuan(total['max'])}"
        + (f"；其中按“不低于”下限计 {_yuan(result['floor_part']['mid'])}" if result["floor_part"]["mid"] else ""),
        f"其中（中值）低保、五保基本生活保障 {_yuan(result['basic_living']['cost']['mid'])}，"
        f"63号新增的救助 {_yuan(result['basic_living']['specific_cost']['mid'])}",
        "按文件（中值）：" + "，".join(f"{d['document']} {_yuan(d['cost']['mid'])}" for d in result["documents"])
        + "（同一需要两个文件都给付的只计一次）",
        "",
        "一、按项目",
        grid(["项目", "条款", "周期", "金额类型", "符合人数", "待定人数", "重复不计", "下限", "中值", "上限"],
             [[b["label_zh"], b["clause"], PERIOD_ZH[b["period"]], kinds_zh(b["amount_kinds"]),
               b["persons"], b["undetermined"], b["duplicates"]] + [_yuan(b["cost"][k]) for k in ("min", "mid", "max")]
              for b in result["benefits"] if not b["persons_only"]]
             + [["合计", "", "", "", "", "", ""] + [_yuan(total[k]) for k in ("min", "mid", "max")]], right_from=4),
        "（重复不计：同一需要由两项救助支付时——如两种途径纳入低保、五保与低保——只计金额较高的一项）",
        "",
        "只计人数、不计金额的项目（实物/服务、优先待遇、放假、未规定金额）",
        grid(["项目", "条款", "周期", "金额类型", "符合人数", "待定人数"],
             [[b["label_zh"], b["clause"], PERIOD_ZH[b["period"]],
               kinds_zh(b["amount_kinds"]) if b["amount_kinds"] else "只计人数", b["persons"], b["undetermined"]]
              for b in result["benefits"] if b["persons_only"]], right_from=4),
        "",
        "二、按县（市、区）（中值，元）",
        grid(["县（市、区）", "申请人", "下限", "中值", "上限"] + [PAYER_ZH[p] for p in PAYERS]
             + ["康复专项经费", "县级合计"],
             [[c["county_zh"], c["applicants"]] + [_yuan(c["cost"][k]) for k in ("min", "mid", "max")]
              + [_yuan(c["payers"][p]["mid"]) for p in PAYERS]
              + [_yuan(c["rehabilitation"]), _yuan(c["county_obligation"]["mid"])] for c in result["counties"]]),
        "（县级合计 = 县级财政承担的救助金额 + 该县康复进社区、进农村专项经费）",
        "",
        "三、按出资方（元）",
        grid(["出资方", "下限", "中值", "上限"],
             [[PAYER_ZH[p]] + [_yuan(result["payers"][p][k]) for k in ("min", "mid", "max")] for p in PAYERS]),
        "",
        "四、康复进社区、进农村专项经费（63号 三（一），县级财政，不少于）",
        grid(["县（市、区）", "人口", "每人每年（元）", "全年（元）"],
             [[b["county_zh"], "、".join(f"{v['population']:,}" for v in b["values"]) or "未生效",
               "、".join(f"{v['per_capita']:g}" for v in b["values"]) or "—", _yuan(b["amount"])]
              for b in result["rehabilitation"]]),
        f"康复经费合计：{_yuan(result['rehabilitation_total'])} 元",
        "",
        "五、所用参数（⚠ = 未核实的示例值或假设，须由主管部门核实）",
    ]
    for p in result["parameters"]:
        mark = "⚠" if not p["verified"] else " "
        values = "；".join(_scoped(v, p["by"], result["year"]) for v in p["values"]) or "当年无生效值"
        parts.append(f"  {mark} {p['label_zh']}（{p['name']}，{p['unit']}）：{values}")
        if not p["verified"]:
            parts.append(f"      来源：{p['source']}")
    rejects = result.get("rejects")
    if counts["rejected"]:
        parts += ["", f"六、被拒绝的记录：{counts['rejected']} 条（全部列在工作簿“拒绝记录”表）"]
        for r in (rejects or [])[:rejects_shown]:
            parts.append(f"  第{r['row']}行 {visible(r['field'])}：{visible(r['message'])}")
    return "\n".join(parts)
