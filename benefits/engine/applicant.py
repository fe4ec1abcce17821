"""The applicant record a clerk fills in (申请人信息), validated strictly.

A fact the clerk has not recorded is ``None`` (absent): never read as false
or zero. Messages are Chinese; field paths stay English so that a form can
put each message next to its field.
"""
from __future__ import annotations

import datetime as dt
import json
import unicodedata
from functools import cached_property
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from ..dates import DATE_OUT_OF_RANGE, EARLIEST_DATE, LATEST_DATE
from .identity import (CURRENT_COUNTIES, IdentityError, age_on,
                       is_sanmenxia_code, normalise_number, parse_certificate_number,
                       parse_id_number)

Money = Annotated[float, Field(ge=0, le=10_000_000, allow_inf_nan=False)]
"""Yuan; never negative."""

MAX_DEPTH = 32
"""Nesting of lists/objects a record may have (it needs 4): deeper input is
refused before any recursive parser sees it."""

# The one window of every date (benefits/dates.py). When 63号 is in force is the
# rulebook's business (rules/: in_force): an earlier day gets a "尚未施行"
# determination, not an error.
DAY_OUT_OF_RANGE = f"评估日期应在{EARLIEST_DATE}至{LATEST_DATE}之间"
DAY_BEFORE_BIRTH = "评估日期早于申请人出生日期"


def _fail(message: str):
    return PydanticCustomError("benefits", message)


def _checked(parse):
    """A validator that runs ``parse`` and reports its Chinese message."""
    def check(value: str) -> str:
        try:
            parse(value)
        except IdentityError as exc:
            raise _fail(str(exc)) from None
        return value
    return AfterValidator(check)


def in_date_window(value: dt.date) -> dt.date:
    """A date of the record (日期) inside the one window, EARLIEST_DATE … LATEST_DATE."""
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise _fail(DATE_OUT_OF_RANGE)
    return value


Day = Annotated[dt.date, AfterValidator(in_date_window)]
"""Every date field of the record but the evaluation day (its own message)."""

# normalised before the check, so the record keeps the ASCII form
IdNumber = Annotated[str, BeforeValidator(normalise_number), _checked(parse_id_number)]
CertificateNumber = Annotated[str, BeforeValidator(normalise_number), _checked(parse_certificate_number)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Certificate(_Strict):
    """《中华人民共和国残疾人证》"""
    number: CertificateNumber = Field(description="残疾人证号（20位，可带B1–B9后缀）")
    category: int = Field(ge=1, le=7, description="残疾类别 1视力 2听力 3言语 4肢体 5智力 6精神 7多重")
    grade: int = Field(ge=1, le=4, description="残疾等级 1–4，一级最重")
    both_lower_limbs: Optional[bool] = Field(None, description="双下肢残疾（瘫痪、缺失或功能障碍）")
    multiple_categories: Optional[list[Annotated[int, Field(ge=1, le=6)]]] = Field(
        None, min_length=2, max_length=6, description="多重残疾所含类别（1–6，按残疾评定结论）；仅类别为7时填写")


Relation = Literal["spouse", "parent", "child", "sibling", "grandparent", "grandchild", "other"]


class Member(_Strict):
    """家庭成员 (not counting the applicant)."""
    relation: Relation = Field(description="与申请人关系")
    age: Optional[int] = Field(None, ge=0, le=130, description="年龄（周岁）")
    id_number: Optional[IdNumber] = Field(None, description="身份证号（可代替年龄）")
    disabled: Optional[bool] = Field(None, description="是否残疾人")
    monthly_income: Optional[Money] = Field(None, description="月收入（元）")

    def age_on(self, day: dt.date) -> Optional[int]:
        if self.id_number is not None:
            return age_on(parse_id_number(self.id_number), day)
        return self.age


class Household(_Strict):
    """家庭成员与收入"""
    members: Optional[list[Member]] = Field(None, max_length=30, description="共同生活的家庭成员（不含申请人）")
    monthly_income: Optional[Money] = Field(None, description="家庭月总收入（元，含申请人）")
    assets_within_limit: Optional[bool] = Field(None, description="家庭财产状况符合低保规定")


class Status(_Strict):
    """收入与低保：已有的救助身份"""
    dibao: Optional[bool] = Field(None, description="已纳入低保")
    wubao: Optional[bool] = Field(None, description="已纳入五保（特困）供养")
    low_income: Optional[bool] = Field(None, description="低收入家庭")
    supported_by: Optional[Literal["parents", "siblings", "spouse", "children", "self", "other"]] = Field(
        None, description="主要由谁供养")
    no_work_capacity: Optional[bool] = Field(None, description="无劳动能力")
    no_income_source: Optional[bool] = Field(None, description="无生活来源")
    no_legal_supporter: Optional[bool] = Field(None, description="无法定抚养人或赡养人")
    employed: Optional[bool] = Field(None, description="有工作单位")
    other_special_hardship: Optional[bool] = Field(
        None, description="一户多残、老残一体以外的其他特殊困难（63号 二（二）“等”）")


class Insurance(_Strict):
    """医疗与养老保险"""
    pension_scheme: Optional[Literal["rural_resident", "urban_resident", "urban_employee", "none"]] = Field(
        None, description="养老保险：新农保 / 城镇居民养老保险 / 城镇职工 / 未参保")


class Prosthesis(_Strict):
    """假肢"""
    lower_limb_loss: Optional[Literal["none", "one", "both"]] = Field(None, description="下肢缺肢：无 / 单侧 / 双侧")
    requested_type: Optional[Literal["thigh", "calf", "none"]] = Field(
        None, description="申请安装：大腿 / 小腿普及型假肢 / 不申请")


class Admission(_Strict):
    """考取学校（四（一））"""
    level: Literal["secondary", "college", "bachelor", "none"] = Field(
        description="中专/普高/职高 · 大专（含3+2） · 本科 · 未考取（不申请）")
    full_time: Optional[bool] = Field(None, description="全日制")
    date: Optional[Day] = Field(None, description="录取日期")


class Diploma(_Strict):
    """获得学历（四（二））"""
    level: Literal["secondary", "college", "bachelor", "none"] = Field(description="中专 · 大专 · 本科 · 未获得（不申请）")
    route: Optional[Literal["self_study", "adult_education", "other"]] = Field(
        None, description="自学考试 / 成人教育 / 其他")
    date: Optional[Day] = Field(None, description="取得日期")


class Education(_Strict):
    """教育"""
    admission: Optional[Admission] = None
    diploma: Optional[Diploma] = None


class Renovation(_Strict):
    """无障碍改造（六）"""
    requested: Optional[bool] = Field(None, description="申请无障碍改造")
    inspection_passed: Optional[bool] = Field(None, description="改造后达到验收标准")


HardshipCase = Literal["stranded", "nonlocal_humanitarian", "hospitalised", "major_accident", "temporary_difficulty"]


class HardshipEvent(_Strict):
    """临时困难（七）的一种情形"""
    case: HardshipCase = Field(description="七（一）无路费回家 （二）异地人道援助 （三）重病住院 （四）重大意外 （五）临时经济困难")
    date: Optional[Day] = Field(None, description="发生日期")
    family_hardship: Optional[bool] = Field(None, description="造成（或属于）家庭经济困难")


# 三政〔2012〕81号: facts about residents who need not hold a 《残疾人证》.

YoufuCategory = Literal["martyr_family", "bereaved_family", "disabled_veteran", "demobilised_veteran",
                        "conscript_family", "other", "none"]
RetiredSoldier = Literal["government_placement", "self_employment", "own_career", "none"]


class Military(_Strict):
    """优抚、退役士兵与军休（81号 第8—11条）"""
    youfu_category: Optional[YoufuCategory] = Field(
        None, description="优抚对象类别：烈士遗属 / 因公牺牲、病故军人遗属 / 残疾军人 / 在乡老复员军人 / "
                          "义务兵家属 / 其他优抚对象 / 非优抚对象")
    retired_soldier: Optional[RetiredSoldier] = Field(
        None, description="退役士兵安置方式：政府安排工作 / 自主就业 / 自谋职业 / 非退役士兵")
    awaiting_placement: Optional[bool] = Field(None, description="政府安排工作的退役士兵，尚在待安置期间")
    placement_referred: Optional[bool] = Field(None, description="安置主管部门已开出安置介绍信")
    referral_date: Optional[Day] = Field(None, description="安置主管部门开出介绍信的日期")
    placed_date: Optional[Day] = Field(None, description="接收单位安排上岗的日期（未上岗不填）")
    contract_years: Optional[float] = Field(None, ge=0, le=50, allow_inf_nan=False,
                                            description="已签订的劳动合同或聘用合同期限（年）")
    wants_training: Optional[bool] = Field(None, description="退役士兵有参加职业教育和技能培训的意愿")
    unemployed_military_spouse: Optional[bool] = Field(None, description="随军未就业家属")
    military_retiree: Optional[bool] = Field(None, description="移交地方安置的军队离退休干部（军休人员）")
    non_military_staff_retiree: Optional[bool] = Field(None, description="移交地方安置的军队无军籍退休退职职工")
    injured_veteran: Optional[bool] = Field(None, description="移交地方安置的伤病残退役军人")


class Child(_Strict):
    """儿童（81号 第3条）"""
    orphan: Optional[bool] = Field(None, description="孤儿（失去父母、查找不到生父母）")
    in_hardship: Optional[bool] = Field(None, description="经认定的困境儿童（孤儿以外）")


class Disaster(_Strict):
    """自然灾害（81号 第1条）"""
    affected: bool = Field(description="家庭遭受自然灾害，基本生活受到影响")
    date: Optional[Day] = Field(None, description="灾害发生日期")


class Needs(_Strict):
    """其他困难情形（81号 第2、9、13、15条）"""
    serious_illness: Optional[bool] = Field(None, description="患重特大疾病")
    hospitalised: Optional[bool] = Field(None, description="正在或曾经住院治疗（本次申请所涉）")
    dilapidated_housing: Optional[bool] = Field(None, description="住房经鉴定为危房")
    stranded: Optional[bool] = Field(None, description="生活无着的流浪乞讨人员")
    death_in_family: Optional[bool] = Field(None, description="家中有亲属去世，需办理丧事")


class Applicant(_Strict):
    """申请人：一个居民的救助申请记录（63号要求持《残疾人证》，81号不要求）。"""
    id_number: IdNumber = Field(description="身份证号码（18位）")
    name: str = Field(min_length=1, max_length=50, description="姓名")
    hukou_local: Optional[bool] = Field(None, description="本市户籍（填了户籍县区即为是）")
    hukou_county: Optional[str] = Field(None, description="户籍所在县（市、区）代码，GB/T 2260")
    residence: Optional[Literal["urban", "rural"]] = Field(None, description="城镇 / 农村户籍")
    holds_certificate: Optional[bool] = Field(None, description="持有《残疾人证》（填了残疾人证即为是）")
    certificate: Optional[Certificate] = Field(None, description="残疾人证")
    household: Optional[Household] = None
    status: Optional[Status] = None
    insurance: Optional[Insurance] = None
    prosthesis: Optional[Prosthesis] = None
    education: Optional[Education] = None
    renovation: Optional[Renovation] = None
    hardship_events: Optional[list[HardshipEvent]] = Field(None, max_length=20, description="临时困难情形")
    military: Optional[Military] = None
    child: Optional[Child] = None
    disaster: Optional[Disaster] = None
    needs: Optional[Needs] = None
    evaluation_date: Optional[dt.date] = Field(None, description="评估日期（缺省为今天）")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise _fail("姓名不能为空")
        hidden = next((ch for ch in value if invisible(ch)), None)
        if hidden is not None:
            raise _fail(f"姓名含有不可见字符或控制字符 U+{ord(hidden):04X}，请删除后再填")
        return value.strip()

    @field_validator("hukou_county")
    @classmethod
    def _county(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and value not in CURRENT_COUNTIES:
            if is_sanmenxia_code(value):
                raise _fail(f"{value}是已撤销的旧代码，只可能出现在身份证号中；户籍请填现行县（市、区）代码")
            raise _fail(f"户籍代码{value}不是三门峡市现行县（市、区）代码："
                        + "、".join(f"{c}{n}" for c, n in CURRENT_COUNTIES.items()))
        return value

    @field_validator("evaluation_date")
    @classmethod
    def _date(cls, value: Optional[dt.date]) -> Optional[dt.date]:
        if value is not None and not EARLIEST_DATE <= value <= LATEST_DATE:
            raise _fail(DAY_OUT_OF_RANGE)
        return value

    @cached_property
    def birth_date(self) -> dt.date:
        return parse_id_number(self.id_number)


_HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
# letters and marks that show nothing: the Hangul fillers, the combining
# grapheme joiner, Mongolian and other variation selectors, Khmer's
# inherent vowels, the braille blank
_BLANK_SHAPES = {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0,
                 *range(0x180B, 0x1810), *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)}


def invisible(ch: str) -> bool:
    """A character a name may not hold (不可见字符): control, format (zero
    width, direction override), surrogate, private, unassigned, line and
    paragraph separators, and the letters and marks that show nothing."""
    return unicodedata.category(ch) in _HIDDEN or ord(ch) in _BLANK_SHAPES


def json_depth_exceeds(text: str, limit: int = MAX_DEPTH) -> bool:
    """True if JSON text nests lists/objects deeper than ``limit`` (brackets
    inside strings do not count). Cheap for ordinary records: fewer brackets
    than the limit cannot nest past it."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def _depth_exceeds(data, limit: int = MAX_DEPTH) -> bool:
    """The same bound for a record given as Python objects, without recursion."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, (list, tuple)):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


_NOT_UTF8 = "记录含有不是UTF-8编码的字节，请把文件另存为UTF-8"
TOO_DEEP = f"嵌套层数超过{MAX_DEPTH}层，不是有效的申请记录"


class FieldError(BaseModel):
    """One rejection: where (English path) and why (Chinese)."""
    field: str
    message: str


class InvalidApplicant(ValueError):
    """The record was rejected; ``errors`` names every bad field."""

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))


_PYDANTIC_ZH = {
    "missing": "必填项未填写",
    "extra_forbidden": "不认识的字段",
    "bool_type": "应为是/否（true/false）",
    "int_type": "应为整数",
    "float_type": "应为数字",
    "string_type": "应为文本",
    "date_type": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "list_type": "应为列表",
    "model_type": "应为对象",
    "dict_type": "应为对象",
    "literal_error": "不是允许的取值",
    "greater_than_equal": "不能小于下限",
    "less_than_equal": "超过上限",
    "finite_number": "应为有限数字",
    "too_long": "条目过多",
    "too_short": "不能为空",
    "string_too_short": "不能为空",
    "string_too_long": "过长",
    "json_invalid": "不是有效的JSON",
    "json_type": "不是有效的JSON",
}


def _message(err: dict) -> str:
    if err["type"] == "benefits":
        return err["msg"]
    base = _PYDANTIC_ZH.get(err["type"], "取值无效")
    ctx = err.get("ctx") or {}
    if err["type"] == "literal_error":
        return f"{base}，可选：{ctx.get('expected', '')}"
    if err["type"] in ("greater_than_equal", "less_than_equal"):
        bound = ctx.get("ge", ctx.get("le"))
        return f"{base}（{bound}）"
    return base


def _errors(exc: ValidationError) -> list[FieldError]:
    return [FieldError(field=".".join(str(p) for p in err["loc"]) or "(记录)",
                       message=_message(err)) for err in exc.errors()]


def _cross_checks(record: Applicant) -> list[FieldError]:
    """Checks that span fields, each reported on the field to correct."""
    errors = []
    cert = record.certificate
    if cert is not None:
        cert_id, category, grade, _ = parse_certificate_number(cert.number)
        if cert_id != record.id_number:
            errors.append(FieldError(field="certificate.number",
                                     message="残疾人证号的前18位应与申请人身份证号一致"))
        if category != cert.category:
            errors.append(FieldError(field="certificate.category",
                                     message=f"残疾人证号中的类别代码为{category}，与填写的类别{cert.category}不一致"))
        if grade != cert.grade:
            errors.append(FieldError(field="certificate.grade",
                                     message=f"残疾人证号中的等级代码为{grade}，与填写的等级{cert.grade}不一致"))
        if cert.multiple_categories is not None and cert.category != 7:
            errors.append(FieldError(field="certificate.multiple_categories",
                                     message="只有多重残疾（类别7）才填写所含类别"))
    if record.holds_certificate is False and cert is not None:
        errors.append(FieldError(field="holds_certificate", message="填写了残疾人证，却标为未持证"))
    if record.hukou_local is False and record.hukou_county is not None:
        errors.append(FieldError(field="hukou_local", message="填写了本市户籍县区，却标为非本市户籍"))
    military = record.military
    if military is not None and military.retired_soldier not in (None, "government_placement"):
        for name in ("awaiting_placement", "placement_referred"):
            if getattr(military, name) is True:
                errors.append(FieldError(field=f"military.{name}",
                                         message="待安置和安置介绍信只适用于政府安排工作的退役士兵，"
                                                 "与填写的安置方式不符"))
    if military is not None and military.placed_date is not None and (
            military.referral_date is None or military.placed_date < military.referral_date):
        errors.append(FieldError(field="military.placed_date", message="上岗日期应在介绍信开出日期之后，并先填写介绍信日期"))
    if record.disaster is not None and record.disaster.affected is False and record.disaster.date is not None:
        errors.append(FieldError(field="disaster.date", message="填写了灾害发生日期，却标为未受灾"))
    if record.evaluation_date is not None and record.birth_date > record.evaluation_date:
        errors.append(FieldError(field="evaluation_date", message=DAY_BEFORE_BIRTH))
    return errors


def parse_applicant(data) -> Applicant:
    """Validate a record given as JSON text/bytes or as a JSON-like mapping.

    Raises InvalidApplicant, never anything else, whatever the input.
    """
    if isinstance(data, (str, bytes, bytearray)):
        try:
            # files are read with surrogateescape: a bad byte lands here
            text = bytes(data).decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
            text.encode("utf-8")
        except (UnicodeDecodeError, UnicodeEncodeError):
            raise InvalidApplicant([FieldError(field="(记录)", message=_NOT_UTF8)]) from None
        if json_depth_exceeds(text):
            raise InvalidApplicant([FieldError(field="(记录)", message=TOO_DEEP)])
    else:
        if not isinstance(data, dict):
            raise InvalidApplicant([FieldError(field="(记录)", message="申请记录应为JSON对象")])
        if _depth_exceeds(data):
            raise InvalidApplicant([FieldError(field="(记录)", message=TOO_DEEP)])
        try:
            text = json.dumps(data, ensure_ascii=False, allow_nan=False, default=str)
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidApplicant([FieldError(field="(记录)", message=_NOT_UTF8)]) from None
        except (TypeError, ValueError) as exc:
            raise InvalidApplicant([FieldError(field="(记录)", message=f"无法读取记录：{exc}")]) from None
    try:
        record = Applicant.model_validate_json(text)
    except ValidationError as exc:
        raise InvalidApplicant(_errors(exc)) from None
    except (RecursionError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidApplicant([FieldError(field="(记录)", message=f"无法读取记录：{exc}")]) from None
    errors = _cross_checks(record)
    if errors:
        raise InvalidApplicant(errors)
    return record
