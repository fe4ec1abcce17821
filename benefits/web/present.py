"""Evaluating through the engine and showing determinations (评估与展示)."""
from __future__ import annotations

import copy
import datetime as dt
import re
import time

from flask import current_app, g

from ..engine import DAY_BEFORE_BIRTH, Applicant, FieldError, InvalidApplicant, mask_id, parse_applicant, rank_questions
from ..report import format_amount, format_split, key_zh
from . import form as intake_form
from .form import FIELDS  # the form's labels (zh, en) of every input and choice
from .labels import ACTIONS, CASE_STATUS, audit_detail, COUNTIES, PAYER, PERIOD, STATUS, label


def engine():
    return current_app.extensions["benefits_engine"]


def pool(kind: str):
    """The app's bounded worker pool (workers.BoundedPool) for "compare" or "estimate" jobs."""
    return current_app.extensions["benefits_pools"][kind]


def rulebook_files() -> dict[str, bytes]:
    """Today's rule files, kept with every determination saved (store)."""
    return engine().rulebook.files


def evaluate(data: dict) -> tuple[dict, dict]:
    """(canonical record, determination); raises InvalidApplicant.
    The canonical record keeps only answered facts."""
    try:
        record = parse_applicant(data)
    except InvalidApplicant as exc:
        raise InvalidApplicant([_clearer(err, data) for err in exc.errors]) from None
    if record.birth_date > dt.date.today():
        raise InvalidApplicant([FieldError(field="id_number", message=_FUTURE_BIRTH.format(record.birth_date))])
    started = time.perf_counter()
    result = engine().determine(record)
    g.eval_ms = g.get("eval_ms", 0.0) + (time.perf_counter() - started) * 1000
    return record.model_dump(mode="json", exclude_none=True), result


def server_timing() -> str:
    """The ``Server-Timing`` header: ``app`` = the request inside Flask
    (from the first before_request), ``eval`` = the engine's determination
    in it, in ms (benchmarks/bench_web.py reads both)."""
    app_ms = (time.perf_counter() - g.started) * 1000 if "started" in g else 0.0
    timing = f"app;dur={app_ms:.1f}"
    return timing + (f", eval;dur={g.eval_ms:.1f}" if "eval_ms" in g else "")


_FUTURE_BIRTH = "身份证号码中的出生日期 {} 晚于今天，请核对身份证号码"


def _clearer(err: FieldError, data: dict) -> FieldError:
    """Two engine messages made precise for the clerk: a future birth date is
    the ID number's fault, not the evaluation date's; "过长" states the limit."""
    if err.field == "evaluation_date" and err.message == DAY_BEFORE_BIRTH:
        try:
            birth = dt.date(int(data["id_number"][6:10]), int(data["id_number"][10:12]), int(data["id_number"][12:14]))
        except (KeyError, TypeError, ValueError):
            return err
        if birth > dt.date.today():
            return FieldError(field="id_number", message=_FUTURE_BIRTH.format(birth))
    if err.message == "过长":   # the record's strings with a limit are top-level (name)
        limit = Applicant.model_json_schema()["properties"].get(err.field, {}).get("maxLength")
        if limit:
            return FieldError(field=err.field, message=f"过长：最多 {limit} 个字符")
    return err


_OPS = {"eq": "=", "ne": "≠", "lt": "<", "lte": "≤", "gt": ">", "gte": "≥", "in": "∈"}


def reason_parts(reason: dict, lang: str) -> tuple[str, str | None]:
    """(condition, the applicant's value) as the page shows them: coded values
    by their labels (单侧 / one leg), money formatted; English mode words the
    condition from the form's English labels."""
    spec = FIELDS.get(reason.get("field", ""))
    money = spec is not None and spec.kind == "money"

    def word(value):
        if value is None:
            return None
        if isinstance(value, bool):
            return ("yes" if value else "no") if lang == "en" else ("是" if value else "否")
        for code, zh, en in (spec.choices if spec else ()):
            if code == str(value):
                return en if lang == "en" else zh
        if money and isinstance(value, (int, float)):
            return f"{value:,.2f} yuan" if lang == "en" else f"{value:g}元"
        return str(value)

    value = word(reason.get("value")) if "derived" not in reason else None
    if lang != "en" or "op" not in reason:
        return reason["condition"], value
    target = reason["target"]
    if isinstance(target, dict):
        parameter = reason.get("parameter") or {}
        shown = target["param"].replace("_", " ")
        if parameter.get("value") is not None:
            shown += f" ({word(parameter['value'])})"
    elif isinstance(target, list):
        shown = ", ".join(word(v) for v in target)
    else:
        shown = word(target)
    label = spec.en if spec and reason["fact"] != "per_capita_income" else reason["fact"].replace("_", " ")
    return f"{label} {_OPS[reason['op']]} {shown}", value


def shown_record(user: dict, record: dict) -> dict:
    """The record as this user may see it: a clerk (own county only, checked
    before) sees full numbers; finance sees masked ID and certificate numbers —
    costing and checking a grant needs neither."""
    if user["role"] == "clerk":
        return record
    shown = copy.deepcopy(record)
    shown["id_number"] = mask_id(shown["id_number"])
    certificate = shown.get("certificate")
    if certificate and certificate.get("number"):
        certificate["number"] = mask_id(certificate["number"][:18]) + certificate["number"][18:]
    for member in (shown.get("household") or {}).get("members") or []:
        if member.get("id_number"):
            member["id_number"] = mask_id(member["id_number"])
    return shown


_IN_KIND = ("in_kind", "days_off", "priority")


def lines_in_order(result: dict, status: str) -> list[dict]:
    """The lines of one status, money before services and days off (实物在后)."""
    def rank(line):
        kind = (line.get("amount") or {}).get("kind")
        return 2 if kind in _IN_KIND else (1 if kind is None else 0)
    return sorted((b for b in result["benefits"] if b["status"] == status), key=rank)


def failed_leaf(result: dict, reason: dict) -> dict:
    """The fact condition a failed condition comes down to: a derived concept
    (救助保障对象) is followed to its own first failed fact (持有《残疾人证》)."""
    concepts = {c["concept"]: c for c in result.get("concepts") or ()}
    seen = set()
    while "derived" in reason and reason["derived"] in concepts and reason["derived"] not in seen:
        seen.add(reason["derived"])
        inner = next((r for r in concepts[reason["derived"]]["reasons"] if r["status"] == "failed"), None)
        if inner is None:
            break
        reason = inner
    return reason


def why_not(result: dict, reason: dict, lang: str = "zh") -> str:
    """A failed condition in the clerk's words: 持有《残疾人证》：否;
    不满足：年龄 ≥ 80（申请人：51）; a concept by its name."""
    leaf = failed_leaf(result, reason)
    text, value = reason_parts(leaf, lang)
    if leaf.get("op") == "eq" and isinstance(leaf.get("target"), bool) and value is not None:
        return f"{text.rsplit(' = ', 1)[0]}{': ' if lang == 'en' else '：'}{value}"
    unmet = "not met: " if lang == "en" else "不满足："
    if value is None or "derived" in leaf:
        return unmet + text
    return unmet + (f"{text} (applicant: {value})" if lang == "en" else f"{text}（申请人：{value}）")


def ineligible_by_document(result: dict, lang: str = "zh") -> list[dict]:
    """不符合 lines folded one row per document, with the reason most of them
    share (63号：持有《残疾人证》：否); the lines themselves behind it."""
    out: dict[str, dict] = {}
    for line in lines_in_order(result, "ineligible"):
        entry = out.setdefault(line["document"], {"document": line["document"], "lines": [], "why": {}, "each": []})
        entry["lines"].append(line)
        first = next((r for r in line["reasons"] if r["status"] == "failed"), None)
        why = why_not(result, first, lang) if first is not None else ""
        entry["each"].append((line, why))
        if why:
            entry["why"][why] = entry["why"].get(why, 0) + 1
    for entry in out.values():
        ranked = sorted(entry["why"].items(), key=lambda kv: -kv[1])
        entry["reason"] = ranked[0][0] if ranked else ""
        entry["shared"] = ranked[0][1] if ranked else 0
        entry["others"] = [(line, why) for line, why in entry["each"] if why != entry["reason"]]
    return list(out.values())


def notice_marks(granted: list[dict]) -> list[dict]:
    """The 审批表's ⚠ marks grouped once per document (one reference each,
    A, B…): how many assumptions, and the unverified parameters by name;
    the assumptions' text stays behind the reference (评估结果, 规则)."""
    out: dict[str, dict] = {}
    for line in granted:
        if not (line["assumptions"] or line["unverified"]):
            continue
        entry = out.setdefault(line["document"], {"document": line["document"], "assumptions": [],
                                                  "unverified": [], "lines": []})
        entry["lines"].append(line["benefit"])
        entry["assumptions"] += [a for a in line["assumptions"] if a not in entry["assumptions"]]
        entry["unverified"] += [p["label_zh"] for p in line["unverified"] if p["label_zh"] not in entry["unverified"]]
    for i, entry in enumerate(out.values()):
        entry["ref"] = "ABCDEFGH"[i] if i < 8 else str(i + 1)
    return list(out.values())


def questions(result: dict) -> list[dict]:
    """"Questions to ask next" (下一步要问): gate questions first, then the
    rest by how likely the answer changes a payable line (ranked once, in
    benefits.engine.needs.rank_questions)."""
    return rank_questions(engine().rulebook, result)


def diff(old: dict, new: dict) -> list[dict]:
    """Per benefit, what changed between two determinations (status, amount)."""
    before = {b["benefit"]: b for b in old["benefits"]}
    after = {b["benefit"]: b for b in new["benefits"]}
    changes = []
    for key in list(before) + [k for k in after if k not in before]:
        a, b = before.get(key), after.get(key)
        line = b or a
        change = {"benefit": key, "label_zh": line["label_zh"], "label_en": line["label_en"],
                  "clause": line["clause"],
                  "status": (a and a["status"], b and b["status"]),
                  "amount": (a and format_amount(a["amount"]), b and format_amount(b["amount"]))}
        if change["status"][0] != change["status"][1] or change["amount"][0] != change["amount"][1]:
            changes.append(change)
    return changes


def param_zh(name: str) -> str:
    """A parameter's Chinese name (城乡居民最低生活保障标准 for dibao_standard)."""
    parameter = engine().rulebook.parameters.get(name)
    return parameter.label_zh if parameter is not None else name


def field_zh(path: str) -> str:
    """A record field path as the form labels it (id_number → 身份证号码;
    household.members.0.age → 家庭成员1·年龄); the nearest labelled parent
    otherwise."""
    name = intake_form.resolve(path or "", {}, intake_form.input_names(intake_form.MAX_MEMBERS))
    return intake_form.label_for(name) if name else (path or "—")


_TABLE_KEY = re.compile(r"\b([a-z]+): ")
_CODE_NAME = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b|\b[a-z]{4,}\b")


def plain_names(text: str) -> str:
    """Text quoting the rulebook's code names (与规则 dibao_topup 的假设相同;
    参数 dibao_topup_ratio（…比例（下限））; {secondary: 1000}) with each
    rule, parameter and table key named in Chinese instead."""
    book = engine().rulebook
    text = text or ""
    for parameter in book.parameters.values():   # "name（label）" as benefits.policy words a change
        text = text.replace(f"{parameter.name}（{parameter.label_zh}）", parameter.label_zh)
    text = _TABLE_KEY.sub(lambda m: key_zh(m.group(1)) + "：" if key_zh(m.group(1)) != m.group(1) else m.group(0),
                          text)

    def name(match):
        word = match.group(0)
        if word in book.by_id:
            return f"“{book.by_id[word].label_zh}”"
        if word in book.parameters:
            return f"“{book.parameters[word].label_zh}”"
        return word
    return _CODE_NAME.sub(name, text)


BEIJING = dt.timezone(dt.timedelta(hours=8), "北京时间")


def beijing(stamp: str | None) -> str:
    """A stored UTC time as the clerk reads it: Beijing time, to the minute."""
    if not stamp:
        return ""
    return dt.datetime.fromisoformat(stamp).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def init_app(app) -> None:
    env = app.jinja_env
    env.filters["amount"] = format_amount
    env.filters["split"] = format_split
    env.filters["beijing"] = beijing
    env.filters["param_zh"] = param_zh
    env.filters["field_zh"] = field_zh
    env.filters["plain_names"] = plain_names
    env.filters["audit_detail"] = audit_detail
    env.filters["county"] = lambda code: COUNTIES.get(code or "", code or "—")
    env.globals.update(ACTIONS=ACTIONS, CASE_STATUS=CASE_STATUS, STATUS=STATUS, PERIOD=PERIOD, PAYER=PAYER, label=label,
                       questions=questions, lines_in_order=lines_in_order, reason_parts=reason_parts,
                       ineligible_by_document=ineligible_by_document, why_not=why_not,
                       notice_marks=notice_marks)
