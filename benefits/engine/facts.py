"""Facts: the flat vocabulary rules are written in, and how the
single-applicant engine turns a validated applicant record into those facts.
The columnar engine computes the same facts for a whole caseload as Polars
expressions of its own (``engine/columnar/facts.py``); the differential test
(tests/test_columnar_differential.py) holds the two to the same values.

A fact is absent when the record does not settle it. Arithmetic (age, income
per head, counts over household members, whether a dated event falls between
the rulebook's in-force day and the evaluation day) is done here; every
judgement the law makes is left to the rule files.
"""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Mapping

from .applicant import DAY_BEFORE_BIRTH, DAY_OUT_OF_RANGE, EARLIEST_DATE, LATEST_DATE, Applicant, FieldError, InvalidApplicant
from .identity import age_on
from .money import round_fen


@dataclass(frozen=True)
class Fact:
    name: str
    field: str       # where a clerk records it (form field path)
    label_zh: str
    type: type
    values_zh: tuple = ()   # (coded value, Chinese label) pairs, for reasons a clerk reads
    inputs: tuple = ()      # record fields it is computed from, when more than ``field``
    unit_zh: str = ""       # what a count fact counts (人, 例): an amount × it names it


_LEVELS_ZH = (("secondary", "中专/普高/职高"), ("college", "大专"), ("bachelor", "本科"), ("none", "无"))


FACTS: dict[str, Fact] = {f.name: f for f in [
    Fact("age", "id_number", "年龄（由身份证号和评估日期计算）", int),
    Fact("hukou_local", "hukou_local", "本市户籍", bool, inputs=("hukou_local", "hukou_county")),
    Fact("hukou_county", "hukou_county", "户籍所在县（市、区）", str),
    Fact("residence", "residence", "城镇/农村户籍", str, (("urban", "城镇"), ("rural", "农村"))),
    Fact("has_certificate", "certificate", "持有《残疾人证》", bool, inputs=("certificate", "holds_certificate")),
    Fact("category", "certificate.category", "残疾类别", int, (
        (1, "视力残疾"), (2, "听力残疾"), (3, "言语残疾"), (4, "肢体残疾"), (5, "智力残疾"), (6, "精神残疾"),
        (7, "多重残疾"))),
    Fact("grade", "certificate.grade", "残疾等级", int, ((1, "一级"), (2, "二级"), (3, "三级"), (4, "四级"))),
    Fact("both_lower_limbs", "certificate.both_lower_limbs", "双下肢残疾", bool),
    Fact("includes_visual", "certificate.multiple_categories", "残疾类别含视力残疾", bool),
    Fact("includes_intellectual", "certificate.multiple_categories", "残疾类别含智力残疾", bool),
    Fact("includes_psychiatric", "certificate.multiple_categories", "残疾类别含精神残疾", bool),
    Fact("per_capita_income", "household.monthly_income", "家庭月人均收入（家庭月总收入÷人数）", float,
         inputs=("household.monthly_income", "household.members")),
    Fact("household_size", "household.members", "共同生活的家庭人数（含申请人）", int, unit_zh="人"),
    Fact("assets_within_limit", "household.assets_within_limit", "家庭财产符合低保规定", bool),
    Fact("disabled_members", "household.members", "其他残疾家庭成员人数", int),
    Fact("oldest_member_age", "household.members", "家庭成员最大年龄", int),
    Fact("in_dibao", "status.dibao", "已纳入低保", bool),
    Fact("in_wubao", "status.wubao", "已纳入五保供养", bool),
    Fact("low_income", "status.low_income", "低收入家庭", bool),
    Fact("supported_by", "status.supported_by", "主要供养人", str, (
        ("parents", "父母"), ("siblings", "兄弟姐妹"), ("spouse", "配偶"), ("children", "子女"), ("self", "本人"),
        ("other", "其他"))),
    Fact("no_work_capacity", "status.no_work_capacity", "无劳动能力", bool),
    Fact("no_income_source", "status.no_income_source", "无生活来源", bool),
    Fact("no_legal_supporter", "status.no_legal_supporter", "无法定抚养人或赡养人", bool),
    Fact("employed", "status.employed", "有工作单位", bool),
    Fact("other_special_hardship", "status.other_special_hardship", "其他特殊困难（一户多残、老残一体以外）", bool),
    Fact("pension_scheme", "insurance.pension_scheme", "参加的养老保险", str, (
        ("rural_resident", "新农保"), ("urban_resident", "城镇居民养老保险"), ("urban_employee", "城镇职工养老保险"),
        ("none", "未参保"))),
    Fact("lower_limb_loss", "prosthesis.lower_limb_loss", "下肢缺肢", str,
         (("none", "无"), ("one", "单侧"), ("both", "双侧"))),
    Fact("lower_limbs_missing", "prosthesis.lower_limb_loss", "缺肢的下肢数", int, unit_zh="例"),
    Fact("prosthesis_type", "prosthesis.requested_type", "申请安装的假肢", str,
         (("thigh", "大腿普及型假肢"), ("calf", "小腿普及型假肢"), ("none", "未申请"))),
    Fact("admission_level", "education.admission.level", "考取学校层次", str, _LEVELS_ZH),
    Fact("admission_full_time", "education.admission.full_time", "全日制", bool),
    Fact("admission_in_period", "education.admission.date", "录取日期在63号施行之日至评估日之间", bool),
    Fact("diploma_level", "education.diploma.level", "获得学历层次", str, _LEVELS_ZH),
    Fact("diploma_route", "education.diploma.route", "获得学历途径", str,
         (("self_study", "自学考试"), ("adult_education", "成人教育"), ("other", "其他"))),
    Fact("diploma_in_period", "education.diploma.date", "取得学历日期在63号施行之日至评估日之间", bool),
    Fact("renovation_requested", "renovation.requested", "申请无障碍改造", bool),
    Fact("renovation_inspection_passed", "renovation.inspection_passed", "改造后达到验收标准", bool),
    # 七: counted only for events dated from a document's in-force day to the
    # evaluation day; 81号 第2条 reads the same records from 81号's day (the
    # ``_81`` facts, see HARDSHIP_SINCE)
    *(Fact(name + suffix, "hardship_events", label + after, bool)
      for suffix, after in (("", ""), ("_81", "（81号施行之日起）"))
      for name, label in (
          ("hardship_stranded", "七（一）发生意外没有路费回家"),
          ("hardship_nonlocal_humanitarian", "七（二）异地残疾人需要人道主义援助"),
          ("hardship_hospitalised", "七（三）重病住院且家庭经济困难"),
          ("hardship_major_accident", "七（四）重大意外造成家庭经济困难"),
          ("hardship_temporary_difficulty", "七（五）家庭经济临时出现问题"))),
    # 三政〔2012〕81号
    Fact("evaluation_day", "evaluation_date", "评估日期（年月日写成八位数，如20121113）", int),
    Fact("youfu_category", "military.youfu_category", "优抚对象类别", str, (
        ("martyr_family", "烈士遗属"), ("bereaved_family", "因公牺牲、病故军人遗属"), ("disabled_veteran", "残疾军人"),
        ("demobilised_veteran", "在乡老复员军人"), ("conscript_family", "义务兵家属"), ("other", "其他优抚对象"),
        ("none", "非优抚对象"))),
    Fact("retired_soldier", "military.retired_soldier", "退役士兵安置方式", str, (
        ("government_placement", "政府安排工作"), ("self_employment", "自主就业"), ("own_career", "自谋职业"),
        ("none", "非退役士兵"))),
    Fact("awaiting_placement", "military.awaiting_placement", "退役士兵待安置", bool),
    Fact("placement_referred", "military.placement_referred", "已开出安置介绍信", bool),
    Fact("placement_overdue", "military.referral_date", "介绍信开出满1个月仍未上岗", bool,
         inputs=("military.referral_date", "military.placed_date")),
    Fact("contract_years", "military.contract_years", "劳动合同或聘用合同期限（年）", float),
    Fact("wants_training", "military.wants_training", "退役士兵有培训意愿", bool),
    Fact("unemployed_military_spouse", "military.unemployed_military_spouse", "随军未就业家属", bool),
    Fact("military_retiree", "military.military_retiree", "军休人员（军队离退休干部）", bool),
    Fact("non_military_staff_retiree", "military.non_military_staff_retiree", "军队无军籍退休退职职工", bool),
    Fact("injured_veteran", "military.injured_veteran", "伤病残退役军人", bool),
    Fact("orphan", "child.orphan", "孤儿", bool),
    Fact("child_in_hardship", "child.in_hardship", "困境儿童", bool),
    Fact("disaster_affected", "disaster.affected", "家庭遭受自然灾害", bool),
    Fact("disaster_days_since", "disaster.date", "灾害发生至评估日的天数", int),
    Fact("disaster_in_period", "disaster.date", "灾害发生在81号施行之日至评估日之间", bool),
    Fact("serious_illness", "needs.serious_illness", "患重特大疾病", bool),
    Fact("hospitalised", "needs.hospitalised", "住院治疗", bool),
    Fact("dilapidated_housing", "needs.dilapidated_housing", "住房为危房", bool),
    Fact("stranded", "needs.stranded", "生活无着的流浪乞讨人员", bool),
    Fact("death_in_family", "needs.death_in_family", "家中有亲属去世", bool),
]}

# 81号 facts copied from the record as they are: fact name → (section, field)
PLAIN_81 = {
    "youfu_category": ("military", "youfu_category"), "retired_soldier": ("military", "retired_soldier"),
    "awaiting_placement": ("military", "awaiting_placement"),
    "placement_referred": ("military", "placement_referred"), "contract_years": ("military", "contract_years"),
    "wants_training": ("military", "wants_training"),
    "unemployed_military_spouse": ("military", "unemployed_military_spouse"),
    "military_retiree": ("military", "military_retiree"),
    "non_military_staff_retiree": ("military", "non_military_staff_retiree"),
    "injured_veteran": ("military", "injured_veteran"),
    "orphan": ("child", "orphan"), "child_in_hardship": ("child", "in_hardship"),
    "disaster_affected": ("disaster", "affected"),
    "serious_illness": ("needs", "serious_illness"), "hospitalised": ("needs", "hospitalised"),
    "dilapidated_housing": ("needs", "dilapidated_housing"), "stranded": ("needs", "stranded"),
    "death_in_family": ("needs", "death_in_family"),
}

# Facts that count only for events dated from a document's in-force day to
# the evaluation day, by document: a rule reading one carries that
# document's in-force assumption.
HARDSHIP_CASES = {
    "stranded": ("hardship_stranded", False),
    "nonlocal_humanitarian": ("hardship_nonlocal_humanitarian", False),
    "hospitalised": ("hardship_hospitalised", True),
    "major_accident": ("hardship_major_accident", True),
    "temporary_difficulty": ("hardship_temporary_difficulty", False),
}

# 七's case facts per bounding document: the suffix of their names.
HARDSHIP_SINCE = {"63号": "", "81号": "_81"}

DATED_FACTS = {
    "63号": frozenset({"admission_in_period", "diploma_in_period",
                      *(name for name, _ in HARDSHIP_CASES.values())}),
    "81号": frozenset({"disaster_in_period",
                      *(name + HARDSHIP_SINCE["81号"] for name, _ in HARDSHIP_CASES.values())}),
}


LIMBS = {"none": 0, "one": 1, "both": 2}
COMPONENTS = {"includes_visual": 1, "includes_intellectual": 5, "includes_psychiatric": 6}


def missing_entry(name: str, recorded) -> dict:
    """A fact to ask for, pointing at the field still blank: income per head
    needs both the income and the household members. ``recorded(path)``
    says whether the record has a value at a field path."""
    fact = FACTS[name]
    field = next((path for path in fact.inputs if not recorded(path)), fact.field)
    return {"fact": name, "field": field, "label_zh": fact.label_zh}


def record_has(record: Applicant):
    """``recorded(path)`` for missing_entry, on a validated record."""
    def recorded(path: str) -> bool:
        node = record
        for part in path.split("."):
            node = getattr(node, part, None)
            if node is None:
                return False
        return True
    return recorded


def evaluation_day(record: Applicant, as_of: dt.date | None) -> dt.date:
    """The day the law is applied on: --as-of, else the record's, else today."""
    day = as_of or record.evaluation_date or dt.date.today()
    problem = None
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        problem = DAY_OUT_OF_RANGE
    elif day < record.birth_date:
        problem = DAY_BEFORE_BIRTH
    if problem:
        raise InvalidApplicant([FieldError(field="as_of" if as_of else "evaluation_date", message=problem)])
    return day


def in_period(date: dt.date | None, day: dt.date, in_force_from: dt.date | None) -> bool | None:
    """Whether a dated event counts on ``day``: not after ``day`` (a later
    event is not yet a fact) and not before ``in_force_from``; None undated."""
    if date is None:
        return None
    return date <= day and (in_force_from is None or date >= in_force_from)


def certificate_categories(record: Applicant) -> tuple[int, ...]:
    """The categories a certificate covers: its own, or for 多重 (7) the ones
    recorded as its parts (7 alone when they are not recorded)."""
    cert = record.certificate
    if cert is None:
        return ()
    if cert.category == 7 and cert.multiple_categories:
        return (7, *sorted(set(cert.multiple_categories)))
    return (cert.category,)


def applicant_facts(record: Applicant, day: dt.date, since: Mapping[str, dt.date] | None = None) -> dict:
    """Flatten a validated record into facts; unknown facts are left out.
    ``since``: per document, the day its dated events count from
    (``Rulebook.event_days``); events before it do not count."""
    since = since or {}
    in_force_from = since.get("63号")
    facts: dict = {"age": age_on(record.birth_date, day),
                   "evaluation_day": day.year * 10000 + day.month * 100 + day.day}

    def put(name, value):
        if value is not None:
            facts[name] = value

    put("hukou_local", True if record.hukou_county is not None else record.hukou_local)
    put("hukou_county", record.hukou_county)
    put("residence", record.residence)
    if record.certificate is not None:
        facts.update(has_certificate=True, category=record.certificate.category,
                     grade=record.certificate.grade)
        put("both_lower_limbs", record.certificate.both_lower_limbs)
        categories = certificate_categories(record)
        for name, code in COMPONENTS.items():
            # 多重 without its parts recorded: whether it includes one is unknown
            if categories != (7,):
                facts[name] = code in categories
    else:
        put("has_certificate", record.holds_certificate)

    household = record.household
    if household is not None:
        put("assets_within_limit", household.assets_within_limit)
        members = household.members
        if members is not None:
            facts["household_size"] = len(members) + 1
            if household.monthly_income is not None:
                facts["per_capita_income"] = round_fen(household.monthly_income / (len(members) + 1))
            disabled = [m.disabled for m in members]
            if None not in disabled:
                facts["disabled_members"] = sum(disabled)
            ages = [m.age_on(day) for m in members]
            if None not in ages:
                facts["oldest_member_age"] = max(ages, default=facts["age"])

    status = record.status
    if status is not None:
        for name, value in (("in_dibao", status.dibao), ("in_wubao", status.wubao),
                            ("low_income", status.low_income), ("supported_by", status.supported_by),
                            ("no_work_capacity", status.no_work_capacity),
                            ("no_income_source", status.no_income_source),
                            ("no_legal_supporter", status.no_legal_supporter),
                            ("employed", status.employed),
                            ("other_special_hardship", status.other_special_hardship)):
            put(name, value)
    if record.insurance is not None:
        put("pension_scheme", record.insurance.pension_scheme)
    if record.prosthesis is not None:
        put("lower_limb_loss", record.prosthesis.lower_limb_loss)
        if record.prosthesis.lower_limb_loss is not None:
            facts["lower_limbs_missing"] = LIMBS[record.prosthesis.lower_limb_loss]
        put("prosthesis_type", record.prosthesis.requested_type)
    education = record.education
    if education is not None:
        if education.admission is not None:
            facts["admission_level"] = education.admission.level
            put("admission_full_time", education.admission.full_time)
            put("admission_in_period", in_period(education.admission.date, day, in_force_from))
        if education.diploma is not None:
            facts["diploma_level"] = education.diploma.level
            put("diploma_route", education.diploma.route)
            put("diploma_in_period", in_period(education.diploma.date, day, in_force_from))
    if record.renovation is not None:
        put("renovation_requested", record.renovation.requested)
        put("renovation_inspection_passed", record.renovation.inspection_passed)
    if record.hardship_events is not None:
        for document, suffix in HARDSHIP_SINCE.items():
            facts.update({name + suffix: value
                          for name, value in _hardship_facts(record, day, since.get(document)).items()})
    for name, (section, field) in PLAIN_81.items():
        part = getattr(record, section)
        if part is not None:
            put(name, getattr(part, field))
    if record.disaster is not None and record.disaster.date is not None:
        facts["disaster_days_since"] = (day - record.disaster.date).days
        facts["disaster_in_period"] = in_period(record.disaster.date, day, since.get("81号"))
    if record.military is not None and record.military.referral_date is not None:
        facts["placement_overdue"] = placement_overdue(record.military.referral_date,
                                                       record.military.placed_date, day)
    return facts


def one_month_after(day: dt.date) -> dt.date:
    """The same day of the next month, or that month's last day when it is shorter."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def placement_overdue(referred: dt.date, placed: dt.date | None, day: dt.date) -> bool:
    """81号 第10条: the 1-month deadline has passed on ``day`` and the veteran was
    not at work by it (a blank 上岗日期 means not placed yet)."""
    deadline = one_month_after(referred)
    return day > deadline and (placed is None or placed > deadline)


def _hardship_facts(record: Applicant, day: dt.date, in_force_from: dt.date | None) -> dict:
    """七: a case counts when it happened between the in-force day and the
    evaluation day (and, for （三）（四）, left the family in economic
    difficulty); unknown when its date or that difficulty is not recorded."""
    out = {name: False for name, _ in HARDSHIP_CASES.values()}
    for event in record.hardship_events:
        name, needs_family_hardship = HARDSHIP_CASES[event.case]
        if out[name] is True:
            continue
        dated = in_period(event.date, day, in_force_from)
        if dated is False:
            continue
        family = True if not needs_family_hardship else event.family_hardship
        if family is False:
            continue
        out[name] = True if dated and family else None
    return {k: v for k, v in out.items() if v is not None}
