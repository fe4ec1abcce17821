"""假如 steps: facts about the applicant, in the words of the policy."""
from __future__ import annotations

import re

from benefits.engine.identity import CATEGORIES, CURRENT_COUNTIES

from .base import CN_DIGITS, DATE, NUM, StepUsageError, number, parse_date, step

WHO = "(?:申请人)?"
_COUNTY_CODES = {name: code for code, name in CURRENT_COUNTIES.items()}
_COUNTIES = "|".join(_COUNTY_CODES)
_RESIDENCE = {"城镇": "urban", "农村": "rural"}
_CATEGORY_CODES = {name.removesuffix("残疾"): code for code, name in CATEGORIES.items()}


@step("假如", WHO + rf"户籍(?:为|在)(?P<county>{_COUNTIES})(?P<residence>城镇|农村)?(?:户籍)?",
      pattern="申请人户籍为{县（市、区）}[城镇|农村]", example="申请人户籍为灵宝市城镇",
      meaning="本市户籍，户籍县（市、区）；城镇/农村可省略")
def hukou_county(draft, county, residence):
    draft.hukou_local, draft.hukou_county = True, _COUNTY_CODES[county]
    if residence:
        draft.residence = _RESIDENCE[residence]


@step("假如", WHO + r"(?:为|是)(?P<residence>城镇|农村)户籍",
      pattern="申请人为{城镇|农村}户籍", example="申请人为农村户籍", meaning="城镇/农村户籍")
def residence(draft, residence):
    draft.residence = _RESIDENCE[residence]


@step("假如", WHO + r"(?:不是本市户籍|非本市户籍|为外地户籍)",
      pattern="申请人不是本市户籍", example="申请人不是本市户籍", meaning="户籍在三门峡市以外")
def non_local(draft):
    draft.hukou_local, draft.hukou_county = False, None


@step("假如", WHO + r"(?P<what>户籍|城镇/?农村户籍|城乡户籍)未填",
      pattern="申请人{户籍|城镇农村户籍}未填", example="申请人城镇农村户籍未填",
      meaning="清除背景中写的户籍（或只清除城镇/农村），看缺少它时的结果")
def hukou_unknown(draft, what):
    draft.residence = None
    if what == "户籍":
        draft.hukou_local = draft.hukou_county = None


@step("假如", WHO + rf"持有(?P<grade>[一二三四1-4])级(?P<category>{'|'.join(_CATEGORY_CODES)})残疾(?:人证|《残疾人证》)",
      pattern="申请人持有{一|二|三|四}级{类别}残疾人证",
      example="申请人持有二级肢体残疾人证",
      meaning="持《残疾人证》；类别：视力、听力、言语、肢体、智力、精神、多重")
def certificate(draft, grade, category):
    draft.certificate = (_CATEGORY_CODES[category], CN_DIGITS.get(grade) or int(grade))
    draft.holds_certificate = None      # a certificate replaces a background's "没有残疾人证"


@step("假如", WHO + r"(?:的)?残疾人证(?:情况)?未填",
      pattern="申请人残疾人证未填", example="申请人残疾人证未填",
      meaning="记录中没有《残疾人证》，也没说是否持证（结果为待定）")
def certificate_unknown(draft):
    draft.certificate = draft.holds_certificate = None


@step("假如", WHO + r"(?:没有|未持有|不持有)(?:《)?残疾人证(?:》)?",
      pattern="申请人没有残疾人证", example="申请人没有残疾人证",
      meaning="确认未持《残疾人证》（不在63号救助保障对象之列）")
def no_certificate(draft):
    draft.certificate, draft.holds_certificate = None, False


@step("假如", WHO + rf"(?:的)?多重残疾(?:所)?(?:包)?含(?P<parts>(?:(?:{'|'.join(k for k in _CATEGORY_CODES if k != '多重')})残疾[、和]?)+)",
      pattern="申请人多重残疾含{类别}残疾、{类别}残疾[…]", example="申请人多重残疾含精神残疾、肢体残疾",
      meaning="多重残疾（类别7）所含的类别（按残疾评定结论）；须先写持有多重残疾人证")
def multiple_parts(draft, parts):
    if draft.certificate is None or draft.certificate[0] != 7:
        raise StepUsageError("先写“持有…级多重残疾人证”，再写多重残疾所含类别")
    names = [p for p in re.split(r"残疾[、和]?", parts) if p]
    draft.multiple_categories = [_CATEGORY_CODES[n] for n in names]


@step("假如", WHO + r"(?P<neg>非)?双下肢残疾(?:人)?",
      pattern="申请人[非]双下肢残疾", example="申请人双下肢残疾",
      meaning="五（二）双下肢残疾（瘫痪、缺失或功能障碍），写在残疾人证信息中；须先写持证")
def both_lower_limbs(draft, neg):
    if draft.certificate is None:
        raise StepUsageError("先写“持有…残疾人证”，再写双下肢残疾")
    draft.both_lower_limbs = neg is None


@step("假如", WHO + r"(?:年满|年龄为|为)?(?P<age>\d+)周岁",
      pattern="申请人{N}周岁", example="申请人年满16周岁",
      meaning="评估日当天的周岁年龄（当天恰是生日）；不写则按40周岁")
def age(draft, age):
    draft.age, draft.birth = int(age), None


@step("假如", WHO + rf"出生(?:于|日期为)(?P<birth>{DATE})",
      pattern="申请人出生于{日期}", example="申请人出生于1995年3月1日", meaning="出生日期（年龄按评估日计算）")
def birth(draft, birth):
    draft.birth, draft.age = parse_date(birth), None


@step("假如", rf"(?:申请人)?家庭共(?P<size>\d+)人(?:,?(?:家庭)?月总收入(?P<income>{NUM})元)?",
      pattern="家庭共{N}人[，月总收入{X}元]", example="家庭共2人，月总收入300元",
      meaning="共同生活的人数（含申请人）和家庭月总收入；人均收入=总收入÷人数")
def household(draft, size, income):
    size = int(size)
    if size < 1:
        raise StepUsageError("家庭人数至少为1（申请人本人）")
    draft.household_size, draft.members_disabled, draft.members_age = size, None, None
    if income is not None:
        draft.monthly_income = number(income)


@step("假如", rf"(?:家庭)?月总收入(?P<income>{NUM})元",
      pattern="家庭月总收入{X}元", example="家庭月总收入299元", meaning="家庭月总收入（含申请人）")
def income(draft, income):
    draft.monthly_income = number(income)


def _members(draft) -> int:
    if draft.household_size is None:
        raise StepUsageError("请先写「家庭共N人」，再写家庭成员的情况")
    return draft.household_size - 1


@step("假如", r"家庭(?:中|其他成员中)?另有(?P<count>\d+)名残疾人",
      pattern="家庭中另有{N}名残疾人", example="家庭中另有1名残疾人",
      meaning="申请人以外有N名家庭成员是残疾人，其余不是（一户多残）")
def disabled_members(draft, count):
    others, count = _members(draft), int(count)
    if count > others:
        raise StepUsageError(f"家庭只有{others}名其他成员，不能另有{count}名残疾人")
    draft.members_disabled = [i < count for i in range(others)]


@step("假如", r"家庭其他成员均(?:无残疾|不是残疾人)",
      pattern="家庭其他成员均无残疾", example="家庭其他成员均无残疾", meaning="申请人以外没有残疾的家庭成员")
def no_disabled_members(draft):
    draft.members_disabled = [False] * _members(draft)


@step("假如", r"家庭其他成员(?:的)?年龄(?:分别)?为(?P<ages>\d+(?:[、,]\d+)*)周岁",
      pattern="家庭其他成员年龄为{N、N…}周岁", example="家庭其他成员年龄为62周岁",
      meaning="申请人以外每名家庭成员的年龄，人数须与「家庭共N人」一致（老残一体）")
def member_ages(draft, ages):
    values = [int(a) for a in ages.replace(",", "、").split("、")]
    if len(values) != _members(draft):
        raise StepUsageError(f"家庭有{_members(draft)}名其他成员，却给了{len(values)}个年龄")
    draft.members_age = values


# Yes/no facts: phrase → (where in the draft, field, value).
_FLAGS = {
    "已纳入低保": ("status", "dibao", True), "未纳入低保": ("status", "dibao", False),
    "已纳入五保供养": ("status", "wubao", True), "未纳入五保供养": ("status", "wubao", False),
    "属于低收入家庭": ("status", "low_income", True), "不属于低收入家庭": ("status", "low_income", False),
    "无劳动能力": ("status", "no_work_capacity", True), "有劳动能力": ("status", "no_work_capacity", False),
    "无生活来源": ("status", "no_income_source", True), "有生活来源": ("status", "no_income_source", False),
    "无法定抚养人或赡养人": ("status", "no_legal_supporter", True),
    "有法定抚养人或赡养人": ("status", "no_legal_supporter", False),
    "有工作单位": ("status", "employed", True), "没有工作单位": ("status", "employed", False),
    "家庭财产符合低保规定": ("assets", "assets_within_limit", True),
    "家庭财产不符合低保规定": ("assets", "assets_within_limit", False),
    "申请无障碍改造": ("renovation", "requested", True), "未申请无障碍改造": ("renovation", "requested", False),
    "改造后达到验收标准": ("renovation", "inspection_passed", True),
    "改造后未达到验收标准": ("renovation", "inspection_passed", False),
    "有其他特殊困难": ("status", "other_special_hardship", True),
    "没有其他特殊困难": ("status", "other_special_hardship", False),
    # 81号
    "是随军未就业家属": ("military", "unemployed_military_spouse", True),
    "不是随军未就业家属": ("military", "unemployed_military_spouse", False),
    "是军队离退休干部": ("military", "military_retiree", True),
    "不是军队离退休干部": ("military", "military_retiree", False),
    "是军队无军籍退休退职职工": ("military", "non_military_staff_retiree", True),
    "不是军队无军籍退休退职职工": ("military", "non_military_staff_retiree", False),
    "是伤病残退役军人": ("military", "injured_veteran", True),
    "不是伤病残退役军人": ("military", "injured_veteran", False),
    "尚在待安置期间": ("military", "awaiting_placement", True), "已安置上岗": ("military", "awaiting_placement", False),
    "已开出安置介绍信": ("military", "placement_referred", True),
    "未开出安置介绍信": ("military", "placement_referred", False),
    "有培训意愿": ("military", "wants_training", True), "没有培训意愿": ("military", "wants_training", False),
    "是孤儿": ("child", "orphan", True), "不是孤儿": ("child", "orphan", False),
    "是困境儿童": ("child", "in_hardship", True), "不是困境儿童": ("child", "in_hardship", False),
    "患重特大疾病": ("needs", "serious_illness", True), "未患重特大疾病": ("needs", "serious_illness", False),
    "正在住院治疗": ("needs", "hospitalised", True), "没有住院治疗": ("needs", "hospitalised", False),
    "住房为危房": ("needs", "dilapidated_housing", True), "住房不是危房": ("needs", "dilapidated_housing", False),
    "是生活无着的流浪乞讨人员": ("needs", "stranded", True), "不是流浪乞讨人员": ("needs", "stranded", False),
    "家中有亲属去世": ("needs", "death_in_family", True), "家中没有亲属去世": ("needs", "death_in_family", False),
}


@step("假如", WHO + rf"(?P<phrase>{'|'.join(sorted(_FLAGS, key=len, reverse=True))})",
      pattern="申请人{是否事项}", example="已纳入低保",
      meaning="是否事项：" + "／".join(_FLAGS))
def flag(draft, phrase):
    where, key, value = _FLAGS[phrase]
    if where == "assets":
        draft.assets_within_limit = value
    else:
        getattr(draft, where)[key] = value


@step("假如", WHO + r"(?:属于|是)[“\"]?三无[”\"]?(?:人员|残疾人)",
      pattern="申请人属于“三无”人员", example="申请人属于“三无”人员",
      meaning="无劳动能力、无生活来源、无法定抚养人或赡养人，三项都是")
def sanwu(draft):
    draft.status.update(no_work_capacity=True, no_income_source=True, no_legal_supporter=True)


_SUPPORTERS = {"父母": "parents", "兄弟姐妹": "siblings", "配偶": "spouse", "子女": "children",
               "本人": "self", "自己": "self", "其他人": "other"}


@step("假如", WHO + rf"(?:主要)?(?:靠|由)(?P<who>{'|'.join(_SUPPORTERS)})供养",
      pattern="申请人主要靠{父母|兄弟姐妹|配偶|子女|本人|其他人}供养", example="申请人主要靠父母供养",
      meaning="主要供养人")
def supporter(draft, who):
    draft.status["supported_by"] = _SUPPORTERS[who]


_SCHEMES = {"新农保": "rural_resident", "新型农村社会养老保险": "rural_resident",
            "城镇居民养老保险": "urban_resident", "城镇职工养老保险": "urban_employee",
            "城镇职工基本养老保险": "urban_employee"}


@step("假如", WHO + rf"参加(?P<scheme>{'|'.join(_SCHEMES)})",
      pattern="申请人参加{新农保|城镇居民养老保险|城镇职工养老保险}", example="申请人参加新农保",
      meaning="参加的养老保险")
def pension(draft, scheme):
    draft.pension_scheme = _SCHEMES[scheme]


@step("假如", WHO + r"未参加(?:任何)?养老保险",
      pattern="申请人未参加养老保险", example="申请人未参加养老保险", meaning="未参保")
def no_pension(draft):
    draft.pension_scheme = "none"


_LIMB = {"单侧": "one", "双侧": "both", "无": "none"}


@step("假如", WHO + r"(?P<which>单侧|双侧|无)下肢缺肢",
      pattern="申请人{单侧|双侧|无}下肢缺肢", example="申请人单侧下肢缺肢", meaning="下肢缺肢情况")
def limb_loss(draft, which):
    draft.prosthesis["lower_limb_loss"] = _LIMB[which]


@step("假如", WHO + r"申请安装(?P<kind>大腿|小腿)普及型假肢",
      pattern="申请人申请安装{大腿|小腿}普及型假肢", example="申请安装大腿普及型假肢", meaning="申请的假肢")
def prosthesis(draft, kind):
    draft.prosthesis["requested_type"] = {"大腿": "thigh", "小腿": "calf"}[kind]


_ADMISSION = {"中专": "secondary", "普通高中": "secondary", "职业高中": "secondary",
              "大专": "college", "3+2大专": "college", "高等专科学校": "college",
              "本科": "bachelor", "高等本科院校": "bachelor"}


def _dated(entry: dict, date) -> dict:
    if date:
        entry["date"] = parse_date(date).isoformat()
    return entry


@step("假如", WHO + rf"(?:于(?P<date>{DATE}))?考取(?P<mode>全日制|非全日制)?(?P<level>{'|'.join(map(lambda k: k.replace('+', '[+]'), _ADMISSION))})",
      pattern="申请人[于{日期}]考取[全日制|非全日制]{中专|普通高中|职业高中|大专|3+2大专|本科}",
      example="申请人于2013年8月1日考取全日制本科",
      meaning="四（一）考取的学校层次和录取日期；不写全日制与否、不写日期即为未填")
def admission(draft, date, mode, level):
    draft.admission = _dated({"level": _ADMISSION[level]}, date)
    if mode:
        draft.admission["full_time"] = mode == "全日制"


_ROUTES = {"自学考试": "self_study", "成人教育": "adult_education", "其他途径": "other"}
_DIPLOMA = {"中专": "secondary", "大专": "college", "本科": "bachelor"}


@step("假如", WHO + rf"(?:于(?P<date>{DATE}))?(?:通过(?P<route>自学考试|成人教育|其他途径))?获得(?P<level>中专|大专|本科)学历",
      pattern="申请人[于{日期}][通过{自学考试|成人教育|其他途径}]获得{中专|大专|本科}学历",
      example="申请人于2013年6月30日通过自学考试获得本科学历",
      meaning="四（二）获得的学历和取得日期；不写途径、不写日期即为未填")
def diploma(draft, date, route, level):
    draft.diploma = _dated({"level": _DIPLOMA[level]}, date)
    if route:
        draft.diploma["route"] = _ROUTES[route]


_HARDSHIP = {
    "发生意外没有路费回家": "stranded",
    "是需要人道主义援助的异地残疾人": "nonlocal_humanitarian",
    "需要人道主义援助": "nonlocal_humanitarian",
    "突发重病住院": "hospitalised", "罕见病症住院治疗": "hospitalised", "长期住院治疗": "hospitalised",
    "发生重大意外事故": "major_accident", "发生火灾": "major_accident", "发生水灾": "major_accident",
    "发生交通事故": "major_accident", "房屋倒塌": "major_accident",
    "家庭经济临时出现问题": "temporary_difficulty",
}


@step("假如", WHO + rf"(?:于(?P<date>{DATE}))?(?P<case>{'|'.join(_HARDSHIP)})(?P<family>,(?:造成)?家庭经济(?P<hard>不)?困难)?",
      pattern="申请人[于{日期}]{临时困难情形}[，家庭经济困难|，家庭经济不困难]",
      example="申请人于2013年2月1日突发重病住院，家庭经济困难",
      meaning="七的情形：" + "／".join(_HARDSHIP) + "；（三）（四）须写明家庭经济是否困难，不写日期或困难与否即为未填")
def hardship(draft, date, case, family, hard):
    event = _dated({"case": _HARDSHIP[case]}, date)
    if family:
        event["family_hardship"] = hard is None
    draft.hardship_events.append(event)


@step("假如", WHO + r"(?P<what>不申请安装假肢|未申请安装假肢|未考取学校|未获得学历|没有临时困难情形)",
      pattern="申请人{不申请安装假肢|未考取学校|未获得学历|没有临时困难情形}", example="申请人不申请安装假肢",
      meaning="确认不适用／未申请（不是未填）：结果为不符合而不是待定")
def not_applied(draft, what):
    if what in ("不申请安装假肢", "未申请安装假肢"):
        draft.prosthesis["requested_type"] = "none"
    elif what == "未考取学校":
        draft.admission = {"level": "none"}
    elif what == "未获得学历":
        draft.diploma = {"level": "none"}
    else:
        draft.hardship_events, draft.no_hardship = [], True


_YOUFU = {"烈士遗属": "martyr_family", "因公牺牲、病故军人遗属": "bereaved_family", "残疾军人": "disabled_veteran",
          "在乡老复员军人": "demobilised_veteran", "义务兵家属": "conscript_family", "其他优抚对象": "other"}


@step("假如", WHO + rf"(?:是|为)(?P<category>{'|'.join(_YOUFU)})",
      pattern="申请人是{烈士遗属|因公牺牲、病故军人遗属|残疾军人|在乡老复员军人|义务兵家属|其他优抚对象}",
      example="申请人是在乡老复员军人", meaning="优抚对象类别（81号 第9条），由经办人按优抚证件认定")
def youfu(draft, category):
    draft.military["youfu_category"] = _YOUFU[category]


@step("假如", WHO + r"不是优抚对象", pattern="申请人不是优抚对象", example="申请人不是优抚对象",
      meaning="确认不属于任何优抚对象类别")
def not_youfu(draft):
    draft.military["youfu_category"] = "none"


_SOLDIER = {"政府安排工作": "government_placement", "自主就业": "self_employment", "自谋职业": "own_career"}


@step("假如", WHO + rf"是(?P<way>{'|'.join(_SOLDIER)})的退役士兵",
      pattern="申请人是{政府安排工作|自主就业|自谋职业}的退役士兵", example="申请人是政府安排工作的退役士兵",
      meaning="退役士兵及其安置方式（81号 第10条）")
def retired_soldier(draft, way):
    draft.military["retired_soldier"] = _SOLDIER[way]


@step("假如", WHO + r"不是退役士兵", pattern="申请人不是退役士兵", example="申请人不是退役士兵",
      meaning="确认不是退役士兵")
def not_soldier(draft):
    draft.military["retired_soldier"] = "none"


@step("假如", WHO + rf"的安置介绍信于(?P<date>{DATE})开出",
      pattern="申请人的安置介绍信于{日期}开出", example="申请人的安置介绍信于2013年1月31日开出",
      meaning="安置主管部门开出介绍信的日期（81号 第10条，1个月内安排上岗）")
def referral_date(draft, date):
    draft.military["referral_date"] = parse_date(date).isoformat()


@step("假如", WHO + rf"于(?P<date>{DATE})上岗",
      pattern="申请人于{日期}上岗", example="申请人于2013年2月28日上岗",
      meaning="接收单位安排上岗的日期；不写此句即为尚未上岗")
def placed_date(draft, date):
    draft.military["placed_date"] = parse_date(date).isoformat()


@step("假如", WHO + rf"签订了期限(?P<years>{NUM})年的(?:劳动合同|聘用合同)",
      pattern="申请人签订了期限{年数}年的{劳动合同|聘用合同}", example="申请人签订了期限3年的劳动合同",
      meaning="劳动合同或聘用合同期限（81号 第10条，不少于3年）")
def contract_years(draft, years):
    draft.military["contract_years"] = number(years)


@step("假如", WHO + rf"家庭(?:于(?P<date>{DATE}))?遭受自然灾害",
      pattern="申请人家庭[于{日期}]遭受自然灾害", example="申请人家庭于2013年7月10日遭受自然灾害",
      meaning="受灾群众（81号 第1条）；不写日期即为灾害日期未填")
def disaster(draft, date):
    draft.disaster = _dated({"affected": True}, date)


@step("假如", WHO + r"家庭未遭受自然灾害", pattern="申请人家庭未遭受自然灾害", example="申请人家庭未遭受自然灾害",
      meaning="确认没有受灾")
def no_disaster(draft):
    draft.disaster = {"affected": False}


_RELATIONS = {"配偶": "spouse", "父母": "parent", "父亲": "parent", "母亲": "parent", "子女": "child",
              "兄弟姐妹": "sibling"}


@step("假如", WHO + rf"的(?P<who>{'|'.join(_RELATIONS)})也在台账中申请,持有(?P<grade>[一二三四1-4])级"
      rf"(?P<category>{'|'.join(_CATEGORY_CODES)})残疾(?:人证|《残疾人证》)",
      pattern="申请人的{配偶|父母|子女|兄弟姐妹}也在台账中申请，持有{一|二|三|四}级{类别}残疾人证",
      example="申请人的配偶也在台账中申请，持有二级精神残疾人证",
      meaning="只供“当按…预算年度测算台账费用”使用：台账中再加一条同户申请记录（户籍、城乡、家庭人数、"
              "月总收入、家庭财产、已纳入低保/五保/低收入与申请人相同），两条记录以身份证号互列为家庭成员，"
              "须先写「家庭共N人」（N至少为2）")
def co_applicant(draft, who, grade, category):
    if draft.household_size is None or draft.household_size < 2:
        raise StepUsageError("请先写「家庭共N人」（至少2人），同户的另一名申请人是其中一名家庭成员")
    if draft.co_applicant is not None:
        raise StepUsageError("本场景已写了一名同户申请人；台账只支持两条同户记录")
    draft.co_applicant = {"relation": _RELATIONS[who],
                          "certificate": (_CATEGORY_CODES[category], CN_DIGITS.get(grade) or int(grade))}
