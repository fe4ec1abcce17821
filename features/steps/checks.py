"""那么 steps: check the engine's determination. A benefit is named by its
label_zh (or id) in 「」; a check without a name applies to the benefit the
previous 那么 step named."""
from __future__ import annotations

import re

from benefits.engine.vocabulary import PAYER_ZH, PERIOD_ZH, STATUS_ZH
from benefits.report import format_amount, format_split

from .base import BENEFIT, DATE, NUM, Mismatch, StepUsageError, norm, number, parse_date, step

_STATUS = {"符合": "eligible", "不符合": "ineligible", "待定": "undetermined"}
_STATUSES = "不符合|符合|待定"
_PERIOD = {"每月": "monthly", "每年": "yearly", "一次性": "one_off"}
_PAYER = {zh: who for who, zh in PAYER_ZH.items()}
_OBSERVANCES = "全国助残日|国际聋人节|国际盲人节|国际残疾人日"
_CENT = 0.005


def _result(outcome) -> dict:
    if outcome.rejected is not None:
        raise StepUsageError("申请记录被引擎拒绝：" + "；".join(outcome.rejected))
    if outcome.result is None:
        raise StepUsageError("请先写「当按{日期}评估」，再检查结果")
    return outcome.result


def _line(outcome, benefit: str | None) -> dict:
    """The benefit line named (or the one the previous check named)."""
    result = _result(outcome)
    name = benefit or outcome.current
    if name is None:
        raise StepUsageError("请在步骤中写明待遇名称，例如「低保重度残疾人定额补贴」")
    for line in result["benefits"]:
        if norm(line["label_zh"]) == norm(name) or line["benefit"] == name:
            outcome.current = name
            return line
    raise StepUsageError(f"没有名为「{name}」的待遇。可用的待遇名称：\n  "
                         + "\n  ".join(f"{line['label_zh']}（{line['benefit']}，{line['clause']}）"
                                       for line in result["benefits"]))


def _status_text(line: dict) -> str:
    text = STATUS_ZH[line["status"]]
    failed = [r["condition"] for r in line.get("reasons", []) if r["status"] == "failed"]
    if failed:
        text += "（未满足：" + "、".join(failed) + "）"
    if line.get("missing_facts"):
        text += "（需补充：" + "、".join(m["label_zh"] for m in line["missing_facts"]) + "）"
    return text


def _amount_text(line: dict) -> str:
    if line["status"] != "eligible":
        return f"无金额（{_status_text(line)}）"
    return _compact(PERIOD_ZH[line["period"]] + format_amount(line["amount"]))


def _compact(text: str) -> str:
    """Amounts without the report's inner spaces, so 期望 and 实际 read alike."""
    return text.replace(" ", "")


def _close(a, b) -> bool:
    return a is not None and b is not None and abs(a - b) < _CENT


@step("那么", BENEFIT + rf"应为(?P<status>{_STATUSES})",
      pattern="那么「{待遇}」应为{符合|不符合|待定}", example="那么「低保重度残疾人定额补贴」应为符合",
      meaning="资格状态；待遇名称为规则的中文名（label_zh）或英文id")
def status(outcome, benefit, status):
    line = _line(outcome, benefit)
    if line["status"] != _STATUS[status]:
        raise Mismatch(f"「{line['label_zh']}」的资格", status, _status_text(line), line["clause"])


@step("那么", BENEFIT + r"应为待定,需补充(?P<facts>(?:「[^」]+」、?)+)",
      pattern="那么「{待遇}」应为待定，需补充「{事项}」[「{事项}」…]",
      example="那么「成年重度残疾人单独纳入低保（单人户施保）」应为待定，需补充「主要供养人」",
      meaning="待定，且需补充的事项恰为所列各项（事项名称同报告中的“需补充”）")
def undetermined(outcome, benefit, facts):
    line = _line(outcome, benefit)
    expected = [norm(f) for f in re.findall(r"「([^」]+)」", facts)]
    actual = [norm(m["label_zh"]) for m in line.get("missing_facts", [])]
    if line["status"] != "undetermined" or sorted(set(expected)) != sorted(set(actual)):
        raise Mismatch(f"「{line['label_zh']}」的资格", "待定，需补充：" + "、".join(expected),
                       _status_text(line), line["clause"])


@step("那么", BENEFIT + rf"(?:金额)?(?:应)?为(?P<period>每月|每年|一次性)?(?P<least>不少于)?(?P<low>{NUM})"
      rf"(?:(?:—|–|-|~|至|到)(?P<high>{NUM}))?元",
      pattern="那么「{待遇}」金额为[每月|每年|一次性][不少于]{X}元  或  {X}—{Y}元",
      example="那么「低保重度残疾人定额补贴」金额为每月不少于60元",
      meaning="金额（元）；“不少于”表示政策定的是下限；写了期间则一并核对")
def amount(outcome, benefit, period, least, low, high):
    line = _line(outcome, benefit)
    got = line["amount"] if line["status"] == "eligible" else None
    wanted = {"kind": "range", "min": number(low), "max": number(high)} if high else \
        {"kind": "at_least" if least else "fixed", "value": number(low)}
    expected = _compact((period or "") + format_amount(wanted))
    ok = got is not None and (period is None or _PERIOD[period] == line["period"])
    if ok and high:
        ok = got["kind"] == "range" and _close(got["min"], number(low)) and _close(got["max"], number(high))
    elif ok:
        ok = got["kind"] == ("at_least" if least else "fixed") and _close(got["value"], number(low))
    if not ok:
        raise Mismatch(f"「{line['label_zh']}」的金额", expected, _amount_text(line), line["clause"])


_KINDS = {"服务待遇": "in_kind", "金额未规定": "unstated", "金额无法确定": "unresolved", "优先待遇": "priority"}


@step("那么", BENEFIT + r"(?:金额)?(?:应)?为(?P<kind>服务待遇|金额未规定|金额无法确定|优先待遇)",
      pattern="那么「{待遇}」为{服务待遇|金额未规定|金额无法确定|优先待遇}", example="那么「免费乘坐辖区内公交」为服务待遇",
      meaning="没有现金金额的结果：服务/实物待遇；文件未规定金额；金额无法确定（参数在评估日无值，或决定参数的事实如城镇/农村未填）；"
              "或优先待遇（81号“优先”安排，无现金）")
def amount_kind(outcome, benefit, kind):
    line = _line(outcome, benefit)
    got = line["amount"]
    if line["status"] != "eligible" or got is None or got["kind"] != _KINDS[kind]:
        raise Mismatch(f"「{line['label_zh']}」的金额", kind, _amount_text(line), line["clause"])


def _check_split(line: dict, expected: dict, expected_text: str) -> None:
    got = line["payer_split"] or {}
    same = set(got) == set(expected) and all(
        (_close(got[k]["min"], v["min"]) and _close(got[k]["max"], v["max"])) if isinstance(v, dict)
        else (not isinstance(got[k], dict) and _close(got[k], v)) for k, v in expected.items())
    if not same:
        actual = format_split(got) or f"无出资（{_amount_text(line)}）"
        raise Mismatch(f"「{line['label_zh']}」的出资方", expected_text, actual, line["clause"])


def _scaled(amount: dict | None, share: float):
    if amount is None or amount["kind"] not in ("fixed", "at_least", "range"):
        return None
    if amount["kind"] == "range":
        return {"min": round(amount["min"] * share, 2), "max": round(amount["max"] * share, 2)}
    return round(amount["value"] * share, 2)


@step("那么", BENEFIT + r"由(?P<who>市级财政|县级财政)(?:全额)?承担",
      pattern="那么「{待遇}」由{市级财政|县级财政}承担", example="那么「普及型假肢安装补贴」由县级财政承担",
      meaning="全额由一级财政承担")
def single_payer(outcome, benefit, who):
    line = _line(outcome, benefit)
    _check_split(line, {_PAYER[who]: _scaled(line["amount"], 1.0)}, f"{who}全额承担")


@step("那么", BENEFIT + r"由市、?县(?:级)?财政各承担一半",
      pattern="那么「{待遇}」由市、县级财政各承担一半", example="那么「困难残疾人入学一次性资助」由市、县级财政各承担一半",
      meaning="市、县各半（四（一）（二）、六）")
def halves(outcome, benefit):
    line = _line(outcome, benefit)
    half = _scaled(line["amount"], 0.5)
    _check_split(line, {"city": half, "county": half}, "市、县级财政各承担一半")


@step("那么", BENEFIT + r"出资方(?:应)?(?:为)?未指明",
      pattern="那么「{待遇}」出资方未指明", example="那么「低保重度残疾人定额补贴」出资方未指明",
      meaning="63号未写明由哪级财政承担，全额记为“未指明”")
def unspecified_payer(outcome, benefit):
    line = _line(outcome, benefit)
    _check_split(line, {"unspecified": _scaled(line["amount"], 1.0)}, "未指明（全额）")


_SHARE = re.compile(rf"(市级财政|县级财政|未指明)({NUM})(?:(?:—|–|-|~|至|到)({NUM}))?元")


@step("那么", BENEFIT + r"出资(?:应)?为(?P<parts>.+)",
      pattern="那么「{待遇}」出资为{出资方}{X}元[、{出资方}{Y}元]",
      example="那么「困难残疾人入学一次性资助」出资为市级财政1500元、县级财政1500元",
      meaning="逐项核对出资（元）；出资方：市级财政、县级财政、未指明；区间写作500—1000元")
def payer_yuan(outcome, benefit, parts):
    line = _line(outcome, benefit)
    shares = _SHARE.findall(parts)
    if not shares:
        raise StepUsageError(f"读不出出资方和金额：{parts}（应写作如“市级财政1500元、县级财政1500元”）")
    expected = {_PAYER[who]: ({"min": number(a), "max": number(b)} if b else number(a)) for who, a, b in shares}
    _check_split(line, expected, format_split(expected))


@step("那么", BENEFIT + r"应标注未核实参数(?P<names>(?:「[^」]+」、?)+)",
      pattern="那么「{待遇}」应标注未核实参数「{参数}」", example="那么「纳入城乡低保」应标注未核实参数「城乡居民最低生活保障标准」",
      meaning="结果上带有“未核实参数”标记（参数中文名或参数名）")
def unverified(outcome, benefit, names):
    line = _line(outcome, benefit)
    marks = {norm(u["label_zh"]) for u in line["unverified"]} | {u["parameter"] for u in line["unverified"]}
    wanted = [norm(n) for n in re.findall(r"「([^」]+)」", names)]
    if not all(n in marks for n in wanted):
        raise Mismatch(f"「{line['label_zh']}」的未核实参数标记", "、".join(wanted),
                       "、".join(u["label_zh"] for u in line["unverified"]) or "无", line["clause"])


@step("那么", BENEFIT + r"不应标注未核实参数",
      pattern="那么「{待遇}」不应标注未核实参数", example="那么「普及型假肢安装补贴」不应标注未核实参数",
      meaning="所用参数都已按63号原文核实")
def no_unverified(outcome, benefit):
    line = _line(outcome, benefit)
    if line["unverified"]:
        raise Mismatch(f"「{line['label_zh']}」的未核实参数标记", "无",
                       "、".join(u["label_zh"] for u in line["unverified"]), line["clause"])


@step("那么", BENEFIT + r"应标注假设「(?P<text>[^」]+)」",
      pattern="那么「{待遇}」应标注假设「{假设中的一段文字}」", example="那么「困难残疾人入学一次性资助」应标注假设「困难残疾人」",
      meaning="结果上带有含这段文字的“假设”标记（63号未写明之处）")
def assumption(outcome, benefit, text):
    line = _line(outcome, benefit)
    if not any(norm(text) in norm(a) for a in line["assumptions"]):
        raise Mismatch(f"「{line['label_zh']}」的假设标记", f"含“{text}”",
                       "；".join(line["assumptions"]) or "无", line["clause"])


@step("那么", BENEFIT + r"不应标注假设",
      pattern="那么「{待遇}」不应标注假设", example="那么「普及型假肢安装补贴」不应标注假设",
      meaning="该结果完全依63号原文，没有假设")
def no_assumption(outcome, benefit):
    line = _line(outcome, benefit)
    if line["assumptions"]:
        raise Mismatch(f"「{line['label_zh']}」的假设标记", "无", "；".join(line["assumptions"]), line["clause"])


@step("那么", BENEFIT + r"(?P<status>不符合|待定)的原因(?:应)?(?:包括|为)「(?P<text>[^」]+)」",
      pattern="那么「{待遇}」{不符合|待定}的原因包括「{条件}」", example="那么「纳入城乡低保」不符合的原因包括「家庭月人均收入」",
      meaning="未满足（或未知）的条件中有一条含这段文字")
def reason(outcome, benefit, status, text):
    line = _line(outcome, benefit)
    wanted = "failed" if status == "不符合" else "unknown"
    conditions = [r["condition"] for r in line.get("reasons", []) if r["status"] == wanted]
    if line["status"] != _STATUS[status] or not any(norm(text) in norm(c) for c in conditions):
        raise Mismatch(f"「{line['label_zh']}」{status}的原因", f"{status}，原因含“{text}”",
                       _status_text(line), line["clause"])


@step("那么", rf"(?:那么)?(?:除(?P<excluded>(?:「[^」]+」、?)+)外,?)?所有(?P<document>63号|81号)?待遇均应为(?P<status>{_STATUSES})",
      pattern="那么[除「{待遇}」外，]所有[63号|81号]待遇均应为{符合|不符合|待定}",
      example="那么除「一次性临时困难救助」外，所有63号待遇均应为不符合",
      meaning="一次核对全部待遇（或一个文件的全部待遇）的状态")
def all_status(outcome, excluded, document, status):
    result = _result(outcome)
    skip = {norm(n) for n in re.findall(r"「([^」]+)」", excluded or "")}
    wrong = [f"{line['label_zh']}：{_status_text(line)}" for line in result["benefits"]
             if norm(line["label_zh"]) not in skip and line["benefit"] not in skip
             and document in (None, line["document"]) and line["status"] != _STATUS[status]]
    if wrong:
        raise Mismatch("全部待遇的资格", f"均为{status}", "；".join(wrong), "63号 一")


@step("那么", BENEFIT + rf"(?:应)?放假(?:日期)?为(?P<days>(?:(?:{_OBSERVANCES})\(?(?:{DATE})\)?、?)+)",
      pattern="那么「{待遇}」放假日期为{节日}（{日期}）[、{节日}（{日期}）…]",
      example="那么「残疾人节日放假1天」放假日期为全国助残日（2013-05-19）、国际残疾人日（2013-12-03）",
      meaning="五（三）该类别残疾人在评估年份放假的节日和日期，须恰为所列各项")
def days_off(outcome, benefit, days):
    line = _line(outcome, benefit)
    expected = sorted((name, parse_date(day).isoformat())
                      for name, day in re.findall(rf"({_OBSERVANCES})\(?({DATE})\)?", days))
    got = line["amount"] or {}
    actual = sorted((d["name_zh"], d["date"]) for d in got.get("days", []))
    if line["status"] != "eligible" or actual != expected:
        show = lambda pairs: "、".join(f"{n}（{d}）" for n, d in pairs) or "无"
        raise Mismatch(f"「{line['label_zh']}」的放假日期", show(expected),
                       show(actual) if line["status"] == "eligible" else _status_text(line), line["clause"])


@step("那么", r"(?:那么)?记录应被拒绝,提示「(?P<text>[^」]+)」",
      pattern="那么记录应被拒绝，提示「{提示中的一段文字}」", example="那么记录应被拒绝，提示「校验位错误」",
      meaning="引擎拒绝这条记录，且有一条提示含这段文字")
def rejected(outcome, text):
    if outcome.rejected is None or not any(norm(text) in norm(e) for e in outcome.rejected):
        raise Mismatch("记录校验", f"被拒绝，提示含“{text}”",
                       "；".join(outcome.rejected) if outcome.rejected else "记录被接受", None)


@step("那么", rf"(?:那么)?康复专项经费应为(?P<period>每年)?(?P<least>不少于)?(?P<value>{NUM})元,?由县级财政承担",
      pattern="那么康复专项经费应为每年不少于{X}元，由县级财政承担", example="那么康复专项经费应为每年不少于328285.5元，由县级财政承担",
      meaning="三（一）县级康复专项经费的下限和出资方")
def budget_amount(outcome, period, least, value):
    budget = _budget(outcome)
    ok = _close(budget["value"], number(value)) and bool(least) == budget["at_least"] \
        and budget["payer_split"] == {"county": budget["value"]}
    if not ok:
        got = "尚无生效标准" if budget["value"] is None else \
            f"每年{'不少于' if budget['at_least'] else ''}{budget['value']:g}元"
        raise Mismatch("康复专项经费", f"{period or ''}{least or ''}{value}元，县级财政承担", got, budget["clause"])


@step("那么", r"(?:那么)?康复专项经费(?:应)?尚无生效标准",
      pattern="那么康复专项经费尚无生效标准", example="那么康复专项经费尚无生效标准",
      meaning="评估日在标准生效（2013年）之前")
def budget_none(outcome):
    budget = _budget(outcome)
    if budget["value"] is not None:
        raise Mismatch("康复专项经费", "尚无生效标准", f"{budget['value']:g}元", budget["clause"])


@step("那么", r"(?:那么)?康复专项经费应标注未核实参数「(?P<name>[^」]+)」",
      pattern="那么康复专项经费应标注未核实参数「{参数}」", example="那么康复专项经费应标注未核实参数「辖区人口数」",
      meaning="专项经费所用参数中有未核实的示例值")
def budget_unverified(outcome, name):
    budget = _budget(outcome)
    if norm(name) not in {norm(n) for n in budget["unverified"]}:
        raise Mismatch("康复专项经费的未核实参数标记", name, "、".join(budget["unverified"]) or "无", budget["clause"])


def _budget(outcome) -> dict:
    if outcome.budget is None:
        raise StepUsageError("请先写「当按{日期}计算{县（市、区）}的康复专项经费」")
    return outcome.budget


@step("那么", rf"(?:那么)?(?:申请人)?应获得「(?P<benefit>[^」]+)」(?P<period>每月|每年|一次性)?(?P<least>不少于)?"
      rf"(?P<low>{NUM})(?:(?:—|–|-|~|至|到)(?P<high>{NUM}))?元"
      r"(?:,(?P<payer>由县级财政承担|由市级财政承担|由市、?县(?:级)?财政各承担一半|出资方未指明))?",
      pattern="那么应获得「{待遇}」[每月|每年|一次性][不少于]{X}元[，由县级财政承担|，由市级财政承担|，由市、县级财政各承担一半|，出资方未指明]",
      example="那么应获得「低保重度残疾人定额补贴」每月不少于60元，出资方未指明",
      meaning="一步核对：符合、金额，以及（可省略的）出资方")
def gets(outcome, benefit, period, least, low, high, payer):
    status(outcome, benefit, "符合")
    amount(outcome, benefit, period, least, low, high)
    if payer == "出资方未指明":
        unspecified_payer(outcome, benefit)
    elif payer and "各承担一半" in payer:
        halves(outcome, benefit)
    elif payer:
        single_payer(outcome, benefit, payer[1:-2])


@step("那么", r"(?:那么)?(?:申请人)?不应获得「(?P<benefit>[^」]+)」",
      pattern="那么不应获得「{待遇}」", example="那么不应获得「低保精神残疾人每月补助」",
      meaning="同「{待遇}」应为不符合")
def not_gets(outcome, benefit):
    status(outcome, benefit, "不符合")


_UPON = "依纳入低保|依纳入五保"


@step("那么", BENEFIT + rf"应(?:标注)?(?P<label>{_UPON})(?:享受)?",
      pattern="那么「{待遇}」应{依纳入低保|依纳入五保}享受", example="那么「低保重度残疾人定额补贴」应依纳入低保享受",
      meaning="符合，但要在纳入低保（五保）后才享受：本人尚未纳入，引擎认定其应纳入（63号 二（一）（二））")
def upon(outcome, benefit, label):
    line = _line(outcome, benefit)
    if line["status"] != "eligible" or label not in line.get("upon", []):
        raise Mismatch(f"「{line['label_zh']}」的享受前提", f"符合，{label}",
                       _status_text(line) + ("，" + "、".join(line.get("upon") or ["无前提"])), line["clause"])


@step("那么", BENEFIT + r"不(?:应)?(?:标注)?依纳入(?:低保|五保)",
      pattern="那么「{待遇}」不依纳入低保", example="那么「低保重度残疾人定额补贴」不依纳入低保",
      meaning="享受不以纳入低保（五保）为前提：本人已纳入，或不需要")
def not_upon(outcome, benefit):
    line = _line(outcome, benefit)
    if line.get("upon"):
        raise Mismatch(f"「{line['label_zh']}」的享受前提", "无前提", "、".join(line["upon"]), line["clause"])


@step("那么", BENEFIT + r"与「(?P<other>[^」]+)」重复,(?:只计|不计入合计,只计)「(?P<kept>[^」]+)」",
      pattern="那么「{待遇}」与「{待遇}」重复，只计「{待遇}」", 
      example="那么「“三无”残疾人纳入五保供养」与「成年重度残疾人单独纳入低保（单人户施保）」重复，只计「“三无”残疾人纳入五保供养」",
      meaning="两项待遇为同一需要付钱：金额较小的一项标为重复，不计入合计（第一项为被标注者或保留者）")
def duplicate(outcome, benefit, other, kept):
    first, second = _line(outcome, benefit), _line(outcome, other)
    keep = _line(outcome, kept)
    dropped = second if keep is first else first
    expected = f"「{dropped['label_zh']}」重复，只计「{keep['label_zh']}」"
    if keep is dropped or dropped["duplicate_of"] != keep["benefit"] or keep["duplicate_of"] is not None:
        actual = "；".join(f"「{l['label_zh']}」" + (f"重复（只计{l['duplicate_of']}）" if l["duplicate_of"] else "计入")
                          for l in (first, second))
        raise Mismatch("重复不计", expected, actual, first["clause"])
    outcome.current = benefit


@step("那么", rf"(?:那么)?63号尚未施行\(?(?P<day>{DATE})起施行\)?,?所有待遇均为不符合",
      pattern="那么63号尚未施行（{日期}起施行），所有待遇均为不符合", example="那么63号尚未施行（2012年11月1日起施行），所有待遇均为不符合",
      meaning="评估日在63号施行之日以前：记录被接受，每一项都以“尚未施行”为由不符合")
def not_in_force(outcome, day):
    result = _result(outcome)
    early = result.get("not_in_force")
    wrong = [line["label_zh"] for line in result["benefits"] if line["status"] != "ineligible"]
    if early is None or early["from"] != parse_date(day).isoformat() or wrong:
        raise Mismatch("63号是否施行", f"尚未施行（{parse_date(day)}起），全部不符合",
                       early["message"] if early else f"已施行；评估日{result['evaluation_date']}", "63号")


# ---- 第17号问题：低保按户补差、重复行的注明、每月合计、81号施行日、逐步建立的制度 ----

def _household_amount(line: dict, what: str, expected: str) -> dict:
    """The line's amount with its household breakdown: 每人补差 (per_unit) ×
    计入人数 (count) = 户合计 (value), as a 每例 amount carries it."""
    amount = line["amount"] if line["status"] == "eligible" else None
    if amount is None or "per_unit" not in amount or "count" not in amount:
        actual = _amount_text(line) if amount is None else \
            f"评估结果的这一行没有按户计算的明细（每人补差、计入人数），金额只有{_amount_text(line)}"
        raise Mismatch(f"「{line['label_zh']}」的{what}", expected, actual, line["clause"])
    return amount


@step("那么", BENEFIT + rf"每人每月(?:的)?补差(?:应)?为(?P<value>{NUM})元",
      pattern="那么「{待遇}」每人每月补差为{X}元", example="那么「纳入城乡低保」每人每月补差为150元",
      meaning="该行的每人补差：低保标准 − 家庭月人均收入（元/人·月），与按户发放的金额分开写明")
def per_head_gap(outcome, benefit, value):
    line = _line(outcome, benefit)
    amount = _household_amount(line, "每人补差", f"每人每月{value}元")
    if line["period"] != "monthly" or not _close(amount["per_unit"], number(value)):
        raise Mismatch(f"「{line['label_zh']}」的每人补差", f"每人每月{value}元",
                       f"{PERIOD_ZH[line['period']]}每人{amount['per_unit']:g}元", line["clause"])


@step("那么", BENEFIT + r"计入(?:的)?家庭人数(?:应)?为(?P<count>\d+)人",
      pattern="那么「{待遇}」计入家庭人数为{N}人", example="那么「纳入城乡低保」计入家庭人数为3人",
      meaning="该行计算户金额时计入的人数：家庭共同生活人数；单人户施保为1")
def persons_counted(outcome, benefit, count):
    line = _line(outcome, benefit)
    amount = _household_amount(line, "计入家庭人数", f"{count}人")
    if amount["count"] != int(count):
        raise Mismatch(f"「{line['label_zh']}」计入的家庭人数", f"{count}人", f"{amount['count']}人", line["clause"])


@step("那么", BENEFIT + rf"(?:的)?家庭合计(?:应)?(?:为)?每月(?P<value>{NUM})元",
      pattern="那么「{待遇}」家庭合计每月{X}元", example="那么「纳入城乡低保」家庭合计每月450元",
      meaning="该行的户合计：每人补差 × 计入人数（元/户·月）；它就是发给这一户的金额，即该行的每月金额")
def household_total(outcome, benefit, value):
    line = _line(outcome, benefit)
    amount = _household_amount(line, "家庭合计", f"每月{value}元")
    product = round(amount["per_unit"] * amount["count"], 2)
    if line["period"] != "monthly" or not _close(amount["value"], number(value)) or not _close(product, amount["value"]):
        raise Mismatch(f"「{line['label_zh']}」的家庭合计", f"每月{value}元",
                       f"{PERIOD_ZH[line['period']]}{amount['value']:g}元（每人{amount['per_unit']:g}元 × "
                       f"{amount['count']}人 = {product:g}元）", line["clause"])


@step("那么", BENEFIT + r"一行(?:应)?注明(?:与|和)「(?P<other>[^」]+)」(?:为|是)同一笔,?不另计",
      pattern="那么「{待遇}」一行应注明与「{待遇}」为同一笔，不另计",
      example="那么「城乡低保（应保尽保、按标施保）」一行应注明与「纳入城乡低保」为同一笔，不另计",
      meaning="第一项待遇那一行本身（duplicate_note）写明它与第二项是同一笔钱、指出第二项（名称，或其在评估结果中的行号"
              "“第N行”），且不另计；第一项标为重复（duplicate_of 为第二项），第二项照常计入")
def duplicate_note(outcome, benefit, other):
    result = _result(outcome)
    first, second = _line(outcome, benefit), _line(outcome, other)
    row = next(i for i, line in enumerate(result["benefits"], 1) if line is second)
    expected = f"本行注明：与「{second['label_zh']}」（第{row}行）为同一笔，不另计"
    if first["duplicate_of"] != second["benefit"] or second["duplicate_of"] is not None:
        raise Mismatch(f"「{first['label_zh']}」的重复标注", expected,
                       f"duplicate_of={first['duplicate_of']}，第二项 duplicate_of={second['duplicate_of']}",
                       first["clause"])
    note = first.get("duplicate_note")
    points = note and (norm(second["label_zh"]) in norm(note) or f"第{row}行" in note)
    if not note or not points or not any(w in note for w in ("不另计", "不计入合计")):
        raise Mismatch(f"「{first['label_zh']}」一行的注明", expected,
                       f"本行注明：{note}" if note else
                       f"本行没有注明（评估结果只有 duplicate_of={first['duplicate_of']}，说明文字由报告另行生成）",
                       first["clause"])
    outcome.current = benefit


@step("那么", rf"(?:那么)?每月(?:应发)?现金合计(?:应)?为(?P<value>{NUM})元",
      pattern="那么每月现金合计为{X}元", example="那么每月现金合计为450元",
      meaning="评估结果每月应发现金的合计：符合的、按月发放且有金额（定额或“不少于”的下限）的各行之和，标为重复的行不计")
def monthly_total(outcome, value):
    result = _result(outcome)
    parts = [line for line in result["benefits"]
             if line["status"] == "eligible" and line["period"] == "monthly" and not line["duplicate_of"]
             and line["amount"] and line["amount"]["kind"] in ("fixed", "at_least")]
    total = round(sum(line["amount"]["value"] for line in parts), 2)
    if not _close(total, number(value)):
        shown = "、".join(f"{line['label_zh']}{line['amount']['value']:g}元" for line in parts) or "无"
        raise Mismatch("每月现金合计", f"{value}元", f"{total:g}元（{shown}）", None)


@step("那么", rf"(?:那么)?81号尚未施行\(?(?P<day>{DATE})起施行\)?,?所有81号待遇均为不符合",
      pattern="那么81号尚未施行（{日期}起施行），所有81号待遇均为不符合",
      example="那么81号尚未施行（2012年11月13日起施行），所有81号待遇均为不符合",
      meaning="评估日在81号施行之日以前：记录被接受；每一项81号待遇都不符合，唯一的原因是“81号尚未施行（{日期}起施行）”，"
              "不列“本市户籍居民”等其他未满足条件；63号待遇不受影响")
def not_in_force_81(outcome, day):
    result = _result(outcome)
    day = parse_date(day)
    wrong = []
    for line in result["benefits"]:
        unmet = [r for r in line.get("reasons", []) if r["status"] != "held"]
        failed = [r["condition"] for r in unmet]
        if line["document"] == "81号":
            # its one reason: the in-force condition of 81号 (marks.rule_not_in_force), on that day
            only = len(unmet) == 1 and unmet[0].get("in_force") == day.isoformat() and "81号" in failed[0]
            if line["status"] != "ineligible" or not only:
                wrong.append(f"{line['label_zh']}：{_status_text(line)}")
        elif any("81号" in c for c in failed):
            wrong.append(f"{line['label_zh']}（63号）：{_status_text(line)}")
    if result.get("not_in_force") is not None:
        wrong.insert(0, result["not_in_force"]["message"])
    if wrong:
        raise Mismatch("81号是否施行", f"81号尚未施行（{day}起），81号待遇全部不符合，原因只此一条；63号不受影响",
                       "；".join(wrong), "81号 落款")


@step("那么", BENEFIT + r"(?P<status>不符合|待定)的原因不(?:应)?包括「(?P<text>[^」]+)」",
      pattern="那么「{待遇}」{不符合|待定}的原因不应包括「{条件}」",
      example="那么「受灾群众基本生活救助（灾害发生12小时内）」不符合的原因不应包括「户籍」",
      meaning="该待遇为不符合（待定），且它的未满足（或未知）条件中没有一条含这段文字")
def reason_absent(outcome, benefit, status, text):
    line = _line(outcome, benefit)
    conditions = [r["condition"] for r in line.get("reasons", []) if r["status"] in ("failed", "unknown")]
    if line["status"] != _STATUS[status] or any(norm(text) in norm(c) for c in conditions):
        raise Mismatch(f"「{line['label_zh']}」{status}的原因", f"{status}，原因不含“{text}”",
                       _status_text(line), line["clause"])


@step("那么", BENEFIT + r"应为尚在逐步建立的(?:制度|机制)",
      pattern="那么「{待遇}」应为尚在逐步建立的制度", example="那么「困境儿童分类保障」应为尚在逐步建立的制度",
      meaning="该行既不是“符合”，也不是因申请人不合条件的“不符合”或缺少信息的“待定”：本行写明原文只要求“逐步建立”该机制"
              "（如81号 第3条），没有对象、标准、金额和出资方；没有金额，不计入合计")
def being_established(outcome, benefit):
    line = _line(outcome, benefit)
    failed = [r["condition"] for r in line.get("reasons", []) if r["status"] == "failed"]
    # what the line itself says: its reasons and its own texts (notes, a status wording…), not the quoted law
    shown = " ".join(failed + [v for k, v in line.items() if isinstance(v, str) and k != "text"])
    ok = line["status"] not in ("eligible", "undetermined") and "逐步建立" in shown \
        and line["amount"] is None and not line["payer_split"] \
        and (line["status"] != "ineligible" or all("逐步建立" in c for c in failed))
    if not ok:
        raise Mismatch(f"「{line['label_zh']}」的状态", "尚在逐步建立的制度（不是符合，不因申请人条件而不符合，无金额）",
                       _status_text(line) + ("" if "逐步建立" in shown else "；本行未写明该制度尚在逐步建立"),
                       line["clause"])
