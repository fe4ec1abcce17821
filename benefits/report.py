"""A determination as a readable Chinese report (the CLI's --format report)."""
from __future__ import annotations

from .engine.facts import FACTS
from .engine.vocabulary import PAYER_ZH, PERIOD_ZH, STATUS_ZH
from .engine.identity import CURRENT_COUNTIES

_REASON_MARK = {"held": "✓", "failed": "✗", "unknown": "?"}
# keys of parameter values that are tables (keyed by a fact's coded values:
# the rulebook's Chinese names of them), ranges or payer shares
_KEY_ZH = {**{code: zh for fact in FACTS.values() for code, zh in fact.values_zh if code != "none"},
           **PAYER_ZH, "min": "最低", "max": "最高"}


def key_zh(key: str) -> str:
    """A key of a parameter's table, range or payer shares in Chinese (大专, 最高, 市级财政)."""
    return _KEY_ZH.get(key, key)

_SHARES = set(PAYER_ZH)
DOCUMENT_ZH = {"63号": "三政办〔2012〕63号《关于三门峡市残疾人救助保障的意见》",
               "81号": "三政〔2012〕81号《关于进一步加强新时期民政工作的实施意见》"}


def format_value(value) -> str:
    """A parameter value as a person reads it: 300, 未指明 100%, 中专 1000、大专 2000."""
    if isinstance(value, dict):
        if set(value) <= _SHARES:
            return "、".join(f"{_KEY_ZH[k]} {v:.0%}" for k, v in value.items())
        return "、".join(f"{_KEY_ZH.get(k, k)} {format_value(v)}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:g}"
    return _show(value)


def format_amount(amount: dict | None) -> str:
    if amount is None:
        return "—"
    kind = amount["kind"]
    whom = "每户 " if amount.get("payee") == "household" else ""
    if kind in ("fixed", "at_least") and "count" in amount:
        unit = amount.get("unit_zh") or "例"
        floor = "不少于 " if kind == "at_least" else ""
        return (f"{whom}{floor}{amount['value']:g} 元（每{unit} {amount['per_unit']:g} 元 × "
                f"{amount['count']} {unit}）")
    if kind == "fixed":
        return f"{whom}{amount['value']:g} 元"
    if kind == "at_least":
        return f"{whom}不少于 {amount['value']:g} 元"
    if kind == "range":
        return f"{amount['min']:g}—{amount['max']:g} 元"
    if kind == "days_off":
        return "放假：" + "、".join(f"{d['name_zh']}（{d['date']}）" for d in amount["days"])
    if kind == "unresolved":
        return amount["reason"]
    return {"in_kind": "服务/待遇（无现金）", "unstated": "金额未规定", "priority": "优先待遇（无现金）"}.get(kind, kind)


def format_split(split: dict | None) -> str:
    if not split:
        return ""
    parts = []
    for who, value in split.items():
        shown = f"{value['min']:g}—{value['max']:g}" if isinstance(value, dict) else f"{value:g}"
        parts.append(f"{PAYER_ZH[who]} {shown} 元")
    return "；".join(parts)


def render(result: dict) -> str:
    a = result["applicant"]
    county = a.get("hukou_county_zh") or CURRENT_COUNTIES.get(a.get("hukou_county") or "", "未填")
    lines = [f"申请人：{a['name']}  身份证：{a['id_number_masked']}  年龄：{a['age']}  户籍：{county}",
             f"评估日期：{result['evaluation_date']}  规则版本：{result['rulebook_version']}",
             "汇总：符合 {eligible} 项，不符合 {ineligible} 项，待定 {undetermined} 项".format(**result["summary"]),
             ""]
    if result.get("not_in_force"):
        lines[-1:-1] = [f"⚠ {result['not_in_force']['message']}"]
    document = None
    for line in result["benefits"]:
        if line.get("document") != document:       # lines come grouped by document
            document = line.get("document")
            lines.append(f"== {DOCUMENT_ZH.get(document, document)} ==")
        lines.append(f"【{STATUS_ZH[line['status']]}】{line['label_zh']}（{line['clause']}）")
        if line["status"] == "eligible":
            lines.append(f"    金额：{format_amount(line['amount'])}  {PERIOD_ZH[line['period']]}"
                         + (f"  出资：{format_split(line['payer_split'])}" if line["payer_split"] else ""))
        if line.get("upon"):
            lines.append("    ⚠ " + "、".join(line["upon"]) + "：本人尚未纳入，纳入后享受")
        if line.get("duplicate_note"):
            lines.append(f"    {line['duplicate_note']}")
        for reason in line.get("reasons", []):
            value = "" if "derived" in reason or "benefit" in reason else f"（申请人：{_show(reason.get('value'))}" + (
                f"；标准：{_show(reason['parameter']['value'])}" if "parameter" in reason else "") + "）"
            lines.append(f"    {_REASON_MARK[reason['status']]} {reason['condition']}{value}")
        if line.get("missing_facts"):
            lines.append("    需补充：" + "、".join(m["label_zh"] for m in line["missing_facts"]))
        for note in line["assumptions"]:
            lines.append(f"    ⚠ 假设：{note}")
        for param in line["unverified"]:
            lines.append(f"    ⚠ 未核实参数：{param['label_zh']} = {format_value(param['value'])}")
    return "\n".join(lines)


def _show(value) -> str:
    if value is None:
        return "未填"
    if value is True:
        return "是"
    if value is False:
        return "否"
    return str(value)
