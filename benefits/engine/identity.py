"""Resident ID numbers (居民身份证号码, GB 11643-1999), disability certificate
numbers (残疾人证号) and the GB/T 2260 place codes of 三门峡市."""
from __future__ import annotations

import datetime as dt
import re

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"

# 户籍 must be one of these current county-level codes (县级行政区).
CURRENT_COUNTIES: dict[str, str] = {
    "411202": "湖滨区",
    "411203": "陕州区",
    "411221": "渑池县",
    "411224": "卢氏县",
    "411281": "义马市",
    "411282": "灵宝市",
}
# Codes retired before today but still printed on older residents' ID numbers.
HISTORIC_CODES: dict[str, str] = {
    "411200": "三门峡市",
    "411222": "陕县",
    "411223": "灵宝县",
    "411219": "义马市",
    "419001": "义马市",
    "412501": "三门峡市",
    "412502": "义马",
    "412524": "渑池",
    "412525": "陕县",
    "412526": "灵宝",
    "412531": "卢氏",
}

CATEGORIES: dict[int, str] = {
    1: "视力残疾", 2: "听力残疾", 3: "言语残疾", 4: "肢体残疾",
    5: "智力残疾", 6: "精神残疾", 7: "多重残疾",
}

# ASCII only: \d would also take full-width, Arabic-Indic or Devanagari digits.
_ID_RE = re.compile(r"^[0-9]{17}[0-9X]$")
_CERT_RE = re.compile(r"^([0-9]{17}[0-9X])([1-7])([1-4])(B[1-9])?$")
# Full-width digits and letters (０–９, Ｘ, Ｂ) are what a Chinese input method
# types by default: read them as the ASCII characters they show.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


class IdentityError(ValueError):
    """A number that is not a valid ID or certificate number; message in Chinese."""


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character (校验码) of 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS))
    return _CHECK[total % 11]


def normalise_number(value):
    """The explicit normalisation step for ID and certificate numbers:
    full-width characters become ASCII and letters upper case. Any other
    non-ASCII character stays, for the check to reject."""
    if not isinstance(value, str):
        return value
    return value.translate(_FULL_WIDTH).upper()


def parse_id_number(value: str) -> dt.date:
    """Validate an 18-character ID number (normalised first) and return its birth date."""
    if not isinstance(value, str):
        raise IdentityError("身份证号码必须是字符串")
    value = normalise_number(value)
    if len(value) != 18:
        raise IdentityError(f"身份证号码应为18位，实际为{len(value)}位")
    if not _ID_RE.match(value):
        raise IdentityError("身份证号码前17位应为数字0–9，末位为数字0–9或X")
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise IdentityError(f"身份证号码中的出生日期{value[6:14]}不是有效日期") from None
    if birth.year < 1880:
        raise IdentityError(f"身份证号码中的出生年份{birth.year}不合理")
    if check_character(value[:17]) != value[17]:
        raise IdentityError(
            f"身份证号码校验位错误：应为{check_character(value[:17])}，实际为{value[17]}")
    return birth


def parse_certificate_number(value: str) -> tuple[str, int, int, str | None]:
    """Split a second-generation certificate number into (ID number, category,
    grade, reissue suffix). The suffix B1–B9 has an unverified meaning: kept."""
    if not isinstance(value, str):
        raise IdentityError("残疾人证号必须是字符串")
    value = normalise_number(value)
    match = _CERT_RE.match(value)
    if not match:
        raise IdentityError(
            "残疾人证号应为20位：18位身份证号＋1位类别（1–7）＋1位等级（1–4），可带B1–B9后缀")
    id_number, category, grade, suffix = match.groups()
    parse_id_number(id_number)
    return id_number, int(category), int(grade), suffix


def age_on(birth: dt.date, day: dt.date) -> int:
    """Completed years (周岁) on a given day."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def is_sanmenxia_code(code: str) -> bool:
    return code in CURRENT_COUNTIES or code in HISTORIC_CODES


def mask_id(id_number: str) -> str:
    """Show the place code and the last four characters only."""
    return id_number[:6] + "*" * 8 + id_number[-4:]


_RENAMED = {"411203": (dt.date(2015, 2, 16), "陕县")}   # 国函〔2015〕39号: 陕县 411222 → 陕州区 411203


def county_name(code: str | None, day: dt.date) -> str | None:
    """The county's name in force on ``day`` (陕州区 was 陕县 before 2015-02-16)."""
    if code is None:
        return None
    renamed = _RENAMED.get(code)
    if renamed and day < renamed[0]:
        return renamed[1]
    return CURRENT_COUNTIES.get(code)


def county_name_for_year(code: str, year: int) -> str:
    """The name to label a budget year's figures with; a year the name
    changed in says both."""
    renamed = _RENAMED.get(code)
    if renamed and renamed[0].year == year:
        return f"{CURRENT_COUNTIES[code]}（{renamed[0].month}月{renamed[0].day}日前为{renamed[1]}）"
    return county_name(code, dt.date(year, 12, 31))
