"""The intake form (受理表) ↔ the engine's applicant record.

Form inputs are named by the record's dotted field paths, so the engine's
InvalidApplicant ``field`` and ``missing_facts[].field`` point straight at an
input. An empty input is an unanswered fact: it is left out of the record,
never read as 否 or 0. Values are passed on as typed (a number only if it
parses as one), so the engine's own checks report bad input.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from ..engine import GATES, covers, gate_no
from .labels import COUNTIES

YES, NO = "yes", "no"


@dataclass(frozen=True)
class Field:
    name: str            # dotted record path, also the input's name
    kind: str            # text idnum certnum int intlist money date select intselect tri
    zh: str
    en: str
    choices: tuple = ()  # (value, zh, en)
    hint_zh: str = ""
    hint_en: str = ""

    @property
    def anchor(self) -> str:
        return field_id(self.name)


def field_id(name: str) -> str:
    return "f-" + name.replace(".", "-")


RELATIONS = (("spouse", "配偶", "spouse"), ("parent", "父母", "parent"), ("child", "子女", "child"),
             ("sibling", "兄弟姐妹", "sibling"), ("grandparent", "祖父母/外祖父母", "grandparent"),
             ("grandchild", "孙子女/外孙子女", "grandchild"), ("other", "其他", "other"))
HARDSHIP_CASES = (
    ("stranded", "七（一）发生意外没有路费回家", "(1) stranded without fare home"),
    ("nonlocal_humanitarian", "七（二）异地残疾人需要人道主义援助", "(2) non-local, needs humanitarian aid"),
    ("hospitalised", "七（三）重病住院", "(3) hospitalised with serious illness"),
    ("major_accident", "七（四）重大意外", "(4) major accident"),
    ("temporary_difficulty", "七（五）家庭经济临时出现问题", "(5) temporary economic difficulty"),
)
_LEVELS = (("secondary", "中专/普高/职高", "secondary"), ("college", "大专（含3+2）", "college"),
           ("bachelor", "本科", "bachelor"), ("none", "无（不申请）", "none (not applying)"))

MEMBER_FIELDS = (
    Field("relation", "select", "与申请人关系", "Relation", RELATIONS),
    Field("age", "int", "年龄（周岁）", "Age"),
    Field("id_number", "idnum", "身份证号（可代替年龄）", "ID number (instead of age)"),
    Field("disabled", "tri", "是否残疾人", "Disabled"),
    Field("monthly_income", "money", "月收入（元）", "Monthly income (yuan)"),
)
HARDSHIP_FIELDS = (
    Field("date", "date", "发生日期", "Date"),
    Field("family_hardship", "tri", "造成家庭经济困难", "Causes family hardship"),
)

# A gate question's input (门槛问题, benefits.engine.needs.GATES with a
# record section): not a record field; its 否 fills the section's "no" values.
GATE_PREFIX = "gate."

GATE_INPUTS = frozenset(GATE_PREFIX + g.key if g.section else g.key for g in GATES)

# Sections in the order a clerk works through the papers.
SECTIONS = (
    ("identity", "证件", "Documents", (
        Field("name", "text", "姓名", "Name"),
        Field("id_number", "idnum", "身份证号码", "Resident ID number",
              hint_zh="18位，末位校验码按 MOD 11-2 检查", hint_en="18 characters, MOD 11-2 check"),
        Field("holds_certificate", "tri", "持有《残疾人证》", "Holds a disability certificate",
              hint_zh="填了残疾人证号即为是；确认没有证时选“否”", hint_en="yes if a number is given"),
        Field("certificate.number", "certnum", "残疾人证号", "Disability certificate number",
              hint_zh="20位：身份证号＋类别＋等级，可带B1–B9", hint_en="ID number + category + grade"),
        Field("certificate.category", "intselect", "残疾类别", "Category", (
            ("1", "视力残疾", "visual"), ("2", "听力残疾", "hearing"), ("3", "言语残疾", "speech"),
            ("4", "肢体残疾", "physical"), ("5", "智力残疾", "intellectual"),
            ("6", "精神残疾", "psychiatric"), ("7", "多重残疾", "multiple"))),
        Field("certificate.grade", "intselect", "残疾等级", "Grade", (
            ("1", "一级", "grade 1"), ("2", "二级", "grade 2"), ("3", "三级", "grade 3"),
            ("4", "四级", "grade 4"))),
        Field("certificate.multiple_categories", "intlist", "多重残疾所含类别", "Categories of a multiple disability",
              hint_zh="仅类别为多重残疾时填，如 1、5（1视力 2听力 3言语 4肢体 5智力 6精神）",
              hint_en="only for category 7, e.g. 1, 5 (1 visual … 6 psychiatric)"),
        Field("certificate.both_lower_limbs", "tri", "双下肢残疾（瘫痪、缺失或功能障碍）", "Both lower limbs disabled"),
        Field("evaluation_date", "date", "评估日期（不填为今天）", "Evaluation date (blank = today)"),
    )),
    ("hukou", "户籍", "Household registration", (
        Field("hukou_local", "tri", "本市户籍", "Registered in Sanmenxia"),
        Field("hukou_county", "select", "户籍所在县（市、区）", "County",
              tuple((code, name, code) for code, name in COUNTIES.items())),
        Field("residence", "select", "城镇/农村户籍", "Urban / rural",
              (("urban", "城镇", "urban"), ("rural", "农村", "rural"))),
    )),
    ("household", "家庭成员", "Household members", (
        Field("household.members", "tri", "有共同生活的其他家庭成员", "Lives with other family members",
              hint_zh="选“是”后在下表填写（不含申请人）", hint_en="list them below (not the applicant)"),
    )),
    ("income", "收入与低保", "Income and 低保", (
        Field("household.monthly_income", "money", "家庭月总收入（元，含申请人）", "Household monthly income (yuan)"),
        Field("household.assets_within_limit", "tri", "家庭财产符合低保规定", "Assets within 低保 limit"),
        Field("status.dibao", "tri", "已纳入低保", "Receives 低保"),
        Field("status.wubao", "tri", "已纳入五保（特困）供养", "Receives 五保"),
        Field("status.low_income", "tri", "低收入家庭", "Low-income household"),
        Field("status.supported_by", "select", "主要由谁供养", "Mainly supported by", (
            ("parents", "父母", "parents"), ("siblings", "兄弟姐妹", "siblings"),
            ("spouse", "配偶", "spouse"), ("children", "子女", "children"),
            ("self", "本人", "self"), ("other", "其他", "other"))),
        Field("status.no_work_capacity", "tri", "无劳动能力", "No capacity to work"),
        Field("status.no_income_source", "tri", "无生活来源", "No source of income"),
        Field("status.no_legal_supporter", "tri", "无法定抚养人或赡养人", "No legal supporter"),
        Field("status.employed", "tri", "有工作单位", "Employed"),
        Field("status.other_special_hardship", "tri", "其他特殊困难（一户多残、老残一体以外）",
              "Other special hardship (besides several disabled or elderly members)",
              hint_zh="63号 二（二）“一户多残、老残一体等”", hint_en="63号 二（二） 'and the like'"),
        Field("insurance.pension_scheme", "select", "参加的养老保险", "Pension scheme", (
            ("rural_resident", "新农保", "rural resident"),
            ("urban_resident", "城镇居民养老保险", "urban resident"),
            ("urban_employee", "城镇职工养老保险", "urban employee"), ("none", "未参保", "none"))),
    )),
    ("education", "教育", "Education", (
        Field("education.admission.level", "select", "考取学校层次", "Admitted to", _LEVELS),
        Field("education.admission.full_time", "tri", "全日制", "Full-time"),
        Field("education.admission.date", "date", "录取日期", "Admission date"),
        Field("education.diploma.level", "select", "获得学历层次", "Diploma obtained", _LEVELS),
        Field("education.diploma.route", "select", "获得学历途径", "Route", (
            ("self_study", "自学考试", "self-study exam"), ("adult_education", "成人教育", "adult education"),
            ("other", "其他", "other"))),
        Field("education.diploma.date", "date", "取得日期", "Date obtained"),
    )),
    ("prosthesis", "假肢", "Prosthesis", (
        Field("prosthesis.lower_limb_loss", "select", "下肢缺肢", "Lower limb loss", (
            ("none", "无", "none"), ("one", "单侧", "one leg"), ("both", "双侧", "both legs"))),
        Field("prosthesis.requested_type", "select", "申请安装的假肢", "Requested prosthesis", (
            ("thigh", "大腿普及型假肢", "thigh"), ("calf", "小腿普及型假肢", "calf"),
            ("none", "不申请", "not requested"))),
    )),
    ("renovation", "无障碍改造", "Accessibility renovation", (
        Field("renovation.requested", "tri", "申请无障碍改造", "Renovation requested"),
        Field("renovation.inspection_passed", "tri", "改造后达到验收标准", "Passed inspection"),
    )),
    # 81号: facts about any resident (a certificate is not needed)
    ("civil", "民政（81号）", "Civil affairs (81号)", (
        Field(GATE_PREFIX + "military", "tri", "退役士兵、优抚对象、随军家属或军队移交安置人员",
              "Veteran, entitled group, military family or transferred military staff",
              hint_zh="选“否”即不再逐项询问下列军人相关项目", hint_en="“no” answers every military item below"),
        Field("military.youfu_category", "select", "优抚对象类别", "Entitled group (优抚)", (
            ("martyr_family", "烈士遗属", "martyr's family"), ("bereaved_family", "因公牺牲、病故军人遗属",
                                                              "family of a soldier who died on duty or of illness"),
            ("disabled_veteran", "残疾军人", "disabled veteran"),
            ("demobilised_veteran", "在乡老复员军人", "demobilised veteran in the countryside"),
            ("conscript_family", "义务兵家属", "conscript's family"), ("other", "其他优抚对象", "other"),
            ("none", "非优抚对象", "none"))),
        Field("military.retired_soldier", "select", "退役士兵安置方式", "Retired soldier: placement", (
            ("government_placement", "政府安排工作", "government placement"),
            ("self_employment", "自主就业", "self-employment"), ("own_career", "自谋职业", "own career"),
            ("none", "非退役士兵", "not a retired soldier"))),
        Field("military.awaiting_placement", "tri", "尚在待安置期间", "Awaiting placement"),
        Field("military.placement_referred", "tri", "已开出安置介绍信", "Referral letter issued"),
        Field("military.referral_date", "date", "介绍信开出日期", "Date of the referral letter"),
        Field("military.placed_date", "date", "上岗日期（未上岗不填）", "Date placed at work (blank if not yet)"),
        Field("military.contract_years", "number", "劳动合同或聘用合同期限（年）", "Contract term (years)"),
        Field("military.wants_training", "tri", "有培训意愿", "Wants vocational training"),
        Field("military.unemployed_military_spouse", "tri", "随军未就业家属", "Unemployed military spouse"),
        Field("military.military_retiree", "tri", "军队离退休干部（军休人员）", "Military retiree"),
        Field("military.non_military_staff_retiree", "tri", "军队无军籍退休退职职工", "Retired civilian staff of the army"),
        Field("military.injured_veteran", "tri", "伤病残退役军人", "Disabled, sick or injured retired soldier"),
        Field("child.orphan", "tri", "孤儿", "Orphan"),
        Field("child.in_hardship", "tri", "困境儿童", "Child in hardship"),
        Field("disaster.affected", "tri", "家庭遭受自然灾害", "Household hit by a natural disaster"),
        Field("disaster.date", "date", "灾害发生日期", "Date of the disaster"),
        Field("needs.serious_illness", "tri", "患重特大疾病", "Major illness"),
        Field("needs.hospitalised", "tri", "住院治疗", "In hospital"),
        Field("needs.dilapidated_housing", "tri", "住房为危房", "Dilapidated housing"),
        Field("needs.stranded", "tri", "生活无着的流浪乞讨人员", "Vagrant without support"),
        Field("needs.death_in_family", "tri", "家中有亲属去世", "A death in the family"),
    )),
    ("hardship", "临时困难", "Temporary hardship", (
        Field("hardship_events", "tri", "有临时困难情形", "Any temporary hardship",
              hint_zh="选“是”后勾选下列情形", hint_en="tick the cases below"),
    )),
)
FIELDS = {f.name: f for _, _, _, fields in SECTIONS for f in fields}
MEMBER_ROWS_MIN = 3
MAX_MEMBERS = 30


def _member_name(row: int, sub: str) -> str:
    return f"household.members.{row}.{sub}"


def _hardship_name(case: str, sub: str) -> str:
    return f"hardship_events.{case}.{sub}"


def input_names(member_rows: int) -> list[str]:
    """Every input's name, in form order."""
    names = list(FIELDS)
    names += [_member_name(i, f.name) for i in range(member_rows) for f in MEMBER_FIELDS]
    for case, _, _ in HARDSHIP_CASES:
        names += [_hardship_name(case, "happened")] + [_hardship_name(case, f.name) for f in HARDSHIP_FIELDS]
    return names


# The case is filed under the applicant's 户籍 county (county isolation), so
# the form asks for it whatever services are chosen.
FILED_UNDER = frozenset({"hukou_county"})
MAX_SERVICE_TICKS = 64   # more ticks than any rulebook has services: the rest are not read


def field_needs(paths_by_service: dict, always) -> dict:
    """For each input of FIELDS, the keys of the services that need it, or
    None when it is always asked: every evaluation or the case file needs
    it, or no service claims it (a field is never hidden for want of a rule)."""
    out = {}
    for name in FIELDS:
        path = name.removeprefix(GATE_PREFIX)    # a gate is needed where its section is
        keys = frozenset(key for key, paths in paths_by_service.items() if covers(paths, path))
        gate = name in GATE_INPUTS            # asked first, whatever is ticked: one 否 settles a group
        out[name] = None if gate or covers(always | FILED_UNDER, name) or not keys else keys
    return out


def section_needs(needs: dict) -> dict:
    """For each section, the services that need any of its inputs (None: always shown)."""
    out = {}
    for key, _, _, fields in SECTIONS:
        per = [needs[f.name] for f in fields]
        out[key] = None if None in per else frozenset().union(*per)
    return out


def chosen_services(ticks: list, asked: bool, known, start=frozenset()) -> tuple[frozenset, list[str]]:
    """The services ticked (``start`` when the form has not asked yet: none
    for a new applicant, what the record shows for a saved case) and Chinese
    notices for ticks that name no service; at most MAX_SERVICE_TICKS read."""
    if not asked:
        return frozenset(start) & frozenset(known), []
    notices = []
    if len(ticks) > MAX_SERVICE_TICKS:
        notices.append(f"勾选的服务过多，只读取了前 {MAX_SERVICE_TICKS} 项")
        ticks = ticks[:MAX_SERVICE_TICKS]
    unknown = [t for t in dict.fromkeys(ticks) if t and t not in known]
    if unknown:
        shown = "、".join(repr(t[:20])[1:-1] for t in unknown[:3])
        notices.append(f"没有这项服务，已忽略：{shown}" + ("等" if len(unknown) > 3 else ""))
    return frozenset(t for t in ticks if t in known), notices


def shown(needs, chosen) -> bool:
    return needs is None or bool(needs & chosen)


@dataclass
class Parsed:
    record: dict
    aliases: dict = field(default_factory=dict)   # record path prefix → form name prefix
    errors: dict = field(default_factory=dict)    # form name → [Chinese message]


def _convert(kind: str, raw: str):
    value = raw.strip()
    if value == "":
        return None
    if kind == "tri":
        return {YES: True, NO: False}.get(value, value)
    if kind in ("idnum", "certnum"):
        return value.upper()
    if kind in ("int", "intselect"):
        try:
            return int(value)
        except ValueError:
            return value
    if kind == "intlist":
        # "1、5", "1,5" or "1 5": the engine reports anything else at the field
        parts = [p for p in re.split(r"[\s,，、;；]+", value) if p]
        return [int(p) for p in parts] if all(p.isascii() and p.isdigit() for p in parts) else value
    if kind in ("money", "number"):
        # "1,200" as the finance reader takes it; nan/inf stay text, which the
        # engine refuses at the field in Chinese
        if _GROUPED.fullmatch(value):
            value = value.replace(",", "").replace("，", "")
        try:
            number = float(value)
        except ValueError:
            return value
        return number if math.isfinite(number) else value
    return value


_GROUPED = re.compile(r"\d{1,3}([,，]\d{3})+(\.\d+)?")
_CERTIFICATE = re.compile(r"[0-9]{17}[0-9X]([1-7])([1-4])(B[1-9])?")


def _derive_certificate(form, record: dict) -> None:
    """Category and grade are digits 19 and 20 of the certificate number:
    taken from it when left blank (a typed value that disagrees is still
    reported by the engine)."""
    match = _CERTIFICATE.fullmatch((record.get("certificate") or {}).get("number", ""))
    if match:
        for name, digit in (("category", match.group(1)), ("grade", match.group(2))):
            record["certificate"].setdefault(name, int(digit))


def _put(record: dict, path: str, value) -> None:
    *parents, last = path.split(".")
    node = record
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value


def member_rows(form) -> int:
    """How many member rows the submitted form had."""
    rows = 0
    while any(_member_name(rows, f.name) in form for f in MEMBER_FIELDS) and rows < MAX_MEMBERS:
        rows += 1
    return rows


def parse_form(form) -> Parsed:
    """Build the applicant record from submitted inputs (a mapping of str)."""
    parsed = Parsed(record={})
    for name, spec in FIELDS.items():
        if name in ("household.members", "hardship_events") or name.startswith(GATE_PREFIX):
            continue
        value = _convert(spec.kind, form.get(name, ""))
        if value is not None:
            _put(parsed.record, name, value)
    _derive_certificate(form, parsed.record)
    _parse_gates(form, parsed)
    _parse_members(form, parsed)
    _parse_hardship(form, parsed)
    return parsed


def _section_gates():
    return [gate for gate in GATES if gate.section is not None]


def _parse_gates(form, parsed: Parsed) -> None:
    """A gate answered 否 stands for its section's "no" values; an item of
    the section answered otherwise contradicts it, at the gate."""
    for gate in _section_gates():
        if form.get(GATE_PREFIX + gate.key, "").strip() != NO:
            continue
        clash = []
        for path, value in gate_no(gate).items():
            node = parsed.record
            for key in path.split("."):
                node = node.get(key) if isinstance(node, dict) else None
            if node is None:
                _put(parsed.record, path, value)
            elif node != value:
                clash.append(FIELDS[path].zh)
        if clash:
            parsed.errors[GATE_PREFIX + gate.key] = ["选择了“否”，下面却填写了：" + "、".join(clash[:3])
                                                    + ("等" if len(clash) > 3 else "")]


def gate_answers(record: dict) -> dict:
    """The gate inputs a saved record shows: 否 when the section holds
    exactly its "no" values, 是 when it holds any other answer."""
    values = {}
    for gate in _section_gates():
        section = record.get(gate.section) or {}
        if not section:
            continue
        no = {path.split(".", 1)[1]: value for path, value in gate_no(gate).items()}
        values[GATE_PREFIX + gate.key] = NO if all(section.get(k) == v for k, v in no.items()) else YES
    return values


def _parse_members(form, parsed: Parsed) -> None:
    answer = form.get("household.members", "").strip()
    members = []
    for row in range(member_rows(form)):
        member = {}
        for spec in MEMBER_FIELDS:
            value = _convert(spec.kind, form.get(_member_name(row, spec.name), ""))
            if value is not None:
                member[spec.name] = value
        if member:
            parsed.aliases[f"household.members.{len(members)}"] = f"household.members.{row}"
            members.append(member)
    if answer == NO:
        if members:
            parsed.errors["household.members"] = ["选择了“无其他家庭成员”，下表却填写了成员"]
        _put(parsed.record, "household.members", [])
    elif members or answer == YES:
        if not members:
            parsed.errors["household.members"] = ["请在下表填写家庭成员，或选择“否”"]
        _put(parsed.record, "household.members", members)


def _parse_hardship(form, parsed: Parsed) -> None:
    answer = form.get("hardship_events", "").strip()
    events = []
    for case, _, _ in HARDSHIP_CASES:
        if not form.get(_hardship_name(case, "happened")):
            continue
        event = {"case": case}
        for spec in HARDSHIP_FIELDS:
            value = _convert(spec.kind, form.get(_hardship_name(case, spec.name), ""))
            if value is not None:
                event[spec.name] = value
        parsed.aliases[f"hardship_events.{len(events)}"] = f"hardship_events.{case}"
        events.append(event)
    if answer == NO:
        if events:
            parsed.errors["hardship_events"] = ["选择了“无临时困难”，下面却勾选了情形"]
        parsed.record["hardship_events"] = []
    elif events or answer == YES:
        if not events:
            parsed.errors["hardship_events"] = ["请勾选发生的情形，或选择“否”"]
        parsed.record["hardship_events"] = events


def record_to_form(record: dict) -> dict:
    """The input values that show a saved record in the form."""
    values = {}

    def show(kind, value):
        if isinstance(value, bool):
            return YES if value else NO
        if kind in ("money", "number") and isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, list):
            return "、".join(map(str, value))
        return str(value)

    def walk(prefix, node):
        for key, value in node.items():
            name = f"{prefix}{key}"
            if name == "household.members":
                values[name] = YES if value else NO
                for row, member in enumerate(value):
                    for sub, v in member.items():
                        spec = next((f for f in MEMBER_FIELDS if f.name == sub), None)
                        values[_member_name(row, sub)] = show(spec.kind if spec else "", v)
            elif name == "hardship_events":
                values[name] = YES if value else NO
                for event in value:
                    values[_hardship_name(event["case"], "happened")] = "1"
                    for sub in ("date", "family_hardship"):
                        if event.get(sub) is not None:
                            values[_hardship_name(event["case"], sub)] = show("", event[sub])
            elif isinstance(value, dict):
                walk(name + ".", value)
            elif value is not None:
                values[name] = show(FIELDS[name].kind if name in FIELDS else "", value)
    walk("", record)
    values.update(gate_answers(record))
    return values


def label_for(name: str, lang: str = "zh") -> str:
    """The visible label of an input, for messages listed above the form."""
    parts = name.split(".")
    if name in FIELDS:
        spec = FIELDS[name]
    elif name.startswith("household.members.") and len(parts) == 4:
        spec = next(f for f in MEMBER_FIELDS if f.name == parts[3])
        row = int(parts[2]) + 1
        return (f"家庭成员{row}·" if lang != "en" else f"member {row} · ") + (spec.en if lang == "en" else spec.zh)
    elif name.startswith("hardship_events.") and len(parts) == 3:
        case = next(c for c in HARDSHIP_CASES if c[0] == parts[1])
        sub = next((f for f in HARDSHIP_FIELDS if f.name == parts[2]), None)
        return (case[2] if lang == "en" else case[1]) + (("·" + (sub.en if lang == "en" else sub.zh)) if sub else "")
    else:
        return name
    return spec.en if lang == "en" else spec.zh


def resolve(path: str, aliases: dict, names: list[str]) -> str | None:
    """The form input for an engine field path, or None (shown at the top)."""
    for record_prefix in sorted(aliases, key=len, reverse=True):
        if path == record_prefix or path.startswith(record_prefix + "."):
            path = aliases[record_prefix] + path[len(record_prefix):]
            break
    if path.startswith("hardship_events.") and path.count(".") == 1:
        path += ".happened"
    while path:
        if path in names:
            return path
        below = [n for n in names if n.startswith(path + ".")]
        if below:
            return below[0]
        path = path.rpartition(".")[0]
    return None
