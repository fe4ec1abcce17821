"""A synthetic caseload (模拟台账) for the six counties of 三门峡市, for tests,
demos and benchmarks. Nobody in it is real; every figure below is an
ASSUMPTION chosen to look plausible, not a statistic of 三门峡.

Assumptions (also in docs/finance.md):
- Size: 140,000 applicants is about the city's certified disabled population
  (about 6.9 % of 2,034,872 residents, 2020 census); any size may be asked for.
- County: in proportion to the example county populations of the rulebook
  (湖滨 16 %, 陕州 14 %, 渑池 15 %, 卢氏 16 %, 义马 7 %, 灵宝 32 %).
- 城镇/农村: 湖滨区 and 义马市 85 % urban, the other four 25 % urban.
- Category (2006 national sample survey shares): 视力 15 %, 听力 24 %,
  言语 2 %, 肢体 29 %, 智力 7 %, 精神 7 %, 多重 16 %.
- Grade (certificate holders skew severe): 一级 15 %, 二级 25 %, 三级 30 %, 四级 30 %.
- Age: 0–15 5 %, 16–59 45 %, 60–95 50 %, uniform within each band.
- Household: 0–4 other members (weights 15/35/25/15/10 %), a spouse for
  adults, parents for those under 30, children for those over 50; 10 % of
  members are disabled; each has an age. Household income: 35 % of
  households are poor (per-head income 0–1.2 × the example 低保 standard:
  urban 300, rural 140 yuan), the rest earn 1.5–6 × that standard.
- 低保: 60 % of poor households are already in 低保; assets within limits for
  90 % of poor households, 30 % of others. 五保 / "三无": 1.5 % of rural
  applicants over 16 living alone.
- Supported by parents or siblings: 40 % of adults under 40 without income.
- Pension: rural_resident (rural) / urban_resident (urban) for 70 % of those
  16 and over, the rest urban_employee or none.
- Employed: 30 % of those aged 16–59.
- Rare requests: prosthesis 1 % (limb category), admission 0.5 % and
  diploma 0.3 % (ages 16–30), renovation 2 % of severe applicants (70 %
  passed inspection), hardship event 3 %. Admissions, diplomas and hardship
  events are dated on a random day of the budget year.
- Everyone else is recorded as not applying (假肢 "none", 考取/学历 "none",
  无障碍改造 requested false, no hardship events), so that 待定 in an
  estimate means a missing fact, not "nobody asked".
- 多重 (category 7): the categories it includes are recorded (two or three
  of 1–6). "Other special hardship" (二（二）“等”): 2 % of households.
- About 5 % of records leave a fact blank (assets, 低保 status or income),
  as real files do; blank = unknown to the engine.
- ID numbers: the county's current code (陕州 born before 2015: 411222 陕县
  for half of them — an ID keeps the code it was issued under), the birth
  date, a random sequence number, the MOD 11-2 check character; the
  certificate number is the ID + category + grade. Duplicate IDs are possible
  (not checked) and harmless to an estimate.
- ``bad``: that many deliberately invalid rows, spread evenly, each with one
  known fault (check character, certificate mismatch, county code, grade,
  negative income, members not a list).
The same seed and size always give the same records.
"""
from __future__ import annotations

import datetime as dt
import random
from typing import Iterator

from ..engine.identity import check_character

SEED = 1
COUNTY_WEIGHTS = {"411202": 326682, "411203": 288538, "411221": 310130,
                  "411224": 317132, "411281": 135000, "411282": 656571}
URBAN_SHARE = {"411202": 0.85, "411281": 0.85}
CATEGORY_WEIGHTS = {1: 15, 2: 24, 3: 2, 4: 29, 5: 7, 6: 7, 7: 16}
GRADE_WEIGHTS = {1: 15, 2: 25, 3: 30, 4: 30}
DIBAO_EXAMPLE = {"urban": 300, "rural": 140}
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
GIVEN = "建国红梅秀英志强丽娟军华明伟芳敏静桂兰玉凤海燕春生小龙霞平刚辉文杰德成福宝金山"
BAD_KINDS = ("check_character", "certificate_mismatch", "county", "grade", "income", "members")


def _pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _id_number(rng: random.Random, code: str, birth: dt.date) -> str:
    first17 = f"{code}{birth:%Y%m%d}{rng.randrange(1, 1000):03d}"
    return first17 + check_character(first17)


def _birth(rng: random.Random, year: int) -> dt.date:
    band = rng.random()
    age = rng.randint(0, 15) if band < 0.05 else rng.randint(16, 59) if band < 0.5 else rng.randint(60, 95)
    # born in the year before: ``age`` on 1 January of ``year``
    return dt.date(year - age - 1, 1, 2) + dt.timedelta(days=rng.randrange(364))


def _day_of(rng: random.Random, year: int) -> str:
    """A random day of ``year`` (ISO), for dated events."""
    return (dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))).isoformat()


def applicant(rng: random.Random, year: int = 2013) -> dict:
    """One synthetic applicant record (nested, as the engine takes it)."""
    county = _pick(rng, COUNTY_WEIGHTS)
    residence = "urban" if rng.random() < URBAN_SHARE.get(county, 0.25) else "rural"
    birth = _birth(rng, year)
    age = year - birth.year - 1
    id_code = "411222" if county == "411203" and rng.random() < 0.5 else county
    id_number = _id_number(rng, id_code, birth)
    category, grade = _pick(rng, CATEGORY_WEIGHTS), _pick(rng, GRADE_WEIGHTS)
    record = {
        "id_number": id_number,
        "name": rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2))),
        "hukou_county": county,
        "residence": residence,
        "certificate": {"number": f"{id_number}{category}{grade}", "category": category, "grade": grade},
    }
    size = _pick(rng, {0: 15, 1: 35, 2: 25, 3: 15, 4: 10})
    members = []
    for i in range(size):
        if age >= 20 and i == 0:
            relation, m_age = "spouse", max(18, age + rng.randint(-5, 5))
        elif age < 30:
            relation, m_age = "parent", age + rng.randint(20, 35)
        elif age > 50:
            relation, m_age = "child", max(0, age - rng.randint(20, 35))
        else:
            relation, m_age = rng.choice(["child", "parent", "sibling"]), rng.randint(1, 80)
        members.append({"relation": relation, "age": min(m_age, 110), "disabled": rng.random() < 0.10})
    standard = DIBAO_EXAMPLE[residence]
    poor = rng.random() < 0.35
    per_head = standard * (rng.uniform(0, 1.2) if poor else rng.uniform(1.5, 6))
    household = {"members": members, "monthly_income": round(per_head * (size + 1)),
                 "assets_within_limit": rng.random() < (0.9 if poor else 0.3)}
    rural_alone = residence == "rural" and age >= 16 and size == 0
    sanwu = rural_alone and rng.random() < 0.015 / 0.15
    status = {"dibao": poor and rng.random() < 0.6, "low_income": poor,
              "employed": 16 <= age <= 59 and rng.random() < 0.3,
              "other_special_hardship": rng.random() < 0.02}
    if sanwu:
        status.update(no_work_capacity=True, no_income_source=True, no_legal_supporter=True,
                      wubao=True, supported_by="self")
        household["monthly_income"] = 0
    else:
        # settled for everyone else too: at least one of the three "无" is false
        status.update(no_work_capacity=grade <= 2 and rng.random() < 0.5,
                      no_income_source=household["monthly_income"] == 0, no_legal_supporter=False,
                      wubao=False)
        relations = {m["relation"] for m in members}
        if age >= 18 and age < 40 and per_head < standard and rng.random() < 0.4:
            status["supported_by"] = rng.choice(["parents", "siblings"])
        elif age < 18:
            status["supported_by"] = "parents"
        else:
            status["supported_by"] = ("spouse" if "spouse" in relations and rng.random() < 0.5
                                      else "children" if "child" in relations and age > 60 else "self")
    record["household"] = household
    record["status"] = status
    if age >= 16:
        scheme = "rural_resident" if residence == "rural" else "urban_resident"
        record["insurance"] = {"pension_scheme": scheme if rng.random() < 0.7
                               else rng.choice(["urban_employee", "none"])}
    else:
        record["insurance"] = {"pension_scheme": "none"}
    record["certificate"]["both_lower_limbs"] = category in (4, 7) and rng.random() < 0.1
    if category == 7:
        record["certificate"]["multiple_categories"] = sorted(rng.sample(range(1, 7), rng.choice([2, 2, 3])))
    record["prosthesis"] = {"lower_limb_loss": "none", "requested_type": "none"}
    if category == 4 and rng.random() < 0.01 / 0.29:
        record["prosthesis"] = {"lower_limb_loss": rng.choice(["one", "both"]),
                                "requested_type": rng.choice(["thigh", "calf"])}
    record["education"] = {"admission": {"level": "none"}, "diploma": {"level": "none"}}
    if 16 <= age <= 30:
        if rng.random() < 0.005 * 3:     # the band is a third of 16–59
            record["education"]["admission"] = {"level": rng.choice(["secondary", "college", "bachelor"]),
                                                "full_time": True, "date": _day_of(rng, year)}
        elif rng.random() < 0.003 * 3:
            record["education"]["diploma"] = {"level": rng.choice(["secondary", "college", "bachelor"]),
                                              "route": rng.choice(["self_study", "adult_education"]),
                                              "date": _day_of(rng, year)}
    record["renovation"] = {"requested": False}
    if grade <= 2 and rng.random() < 0.02:
        record["renovation"] = {"requested": True, "inspection_passed": rng.random() < 0.7}
    record["hardship_events"] = []
    if rng.random() < 0.03:
        case = rng.choice(["hospitalised", "major_accident", "temporary_difficulty"])
        family_hardship = rng.random() < 0.8
        # keys in the record's own order, as a clerk's file has them
        record["hardship_events"] = [{"case": case, "date": _day_of(rng, year), "family_hardship": family_hardship}]
    _blank_some(rng, record)
    return record


def _blank_some(rng: random.Random, record: dict) -> None:
    if rng.random() >= 0.05:
        return
    which = rng.choice(["assets", "dibao", "income"])
    if which == "assets":
        del record["household"]["assets_within_limit"]
    elif which == "dibao":
        del record["status"]["dibao"]
    else:
        del record["household"]["monthly_income"]


def spoil(rng: random.Random, record: dict, kind: str) -> dict:
    """Make one known fault in a record (for the bad-row option)."""
    if kind == "check_character":
        wrong = "0" if record["id_number"][-1] != "0" else "1"
        record["id_number"] = record["id_number"][:-1] + wrong
    elif kind == "certificate_mismatch":
        cert = record["certificate"]
        cert["grade"] = cert["grade"] % 4 + 1
    elif kind == "county":
        record["hukou_county"] = "411299"
    elif kind == "grade":
        record["certificate"]["grade"] = 9
    elif kind == "income":
        record["household"]["monthly_income"] = -100
    else:
        record["household"]["members"] = "三口人"
    return record


def caseload(size: int, seed: int = SEED, bad: int = 0, year: int = 2013) -> Iterator[dict]:
    """``size`` records (including ``bad`` deliberately invalid ones), streamed."""
    rng = random.Random(seed)
    every = size // bad if bad else 0
    made = 0
    for index in range(size):
        record = applicant(rng, year)
        if bad and made < bad and index % every == every - 1:
            spoil(rng, record, BAD_KINDS[made % len(BAD_KINDS)])
            made += 1
        yield record
