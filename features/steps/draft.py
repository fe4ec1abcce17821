"""The applicant record a scenario builds step by step (申请人记录草稿).

Steps set facts in the words of the policy; the record is only assembled
when the scenario says on which day it is evaluated, because the ID number
(and so the age) depends on that day.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from benefits.engine.identity import check_character

DEFAULT_AGE = 40            # when a scenario does not say, the age is irrelevant to it
NON_LOCAL_CODE = "410102"   # an address code outside 三门峡 (郑州市中原区) for non-local applicants
DEFAULT_CODE = "411202"


@dataclass
class Draft:
    age: int | None = None
    birth: dt.date | None = None
    hukou_local: bool | None = None
    hukou_county: str | None = None
    residence: str | None = None
    certificate: tuple[int, int] | None = None   # (category, grade)
    holds_certificate: bool | None = None
    both_lower_limbs: bool | None = None
    multiple_categories: list | None = None
    household_size: int | None = None
    monthly_income: float | None = None
    assets_within_limit: bool | None = None
    members_disabled: list | None = None
    members_age: list | None = None
    status: dict = field(default_factory=dict)
    pension_scheme: str | None = None
    prosthesis: dict = field(default_factory=dict)
    admission: dict | None = None
    diploma: dict | None = None
    renovation: dict = field(default_factory=dict)
    hardship_events: list = field(default_factory=list)
    no_hardship: bool = False        # recorded: no hardship event (an empty list)
    # 81号's facts about any resident
    military: dict = field(default_factory=dict)
    child: dict = field(default_factory=dict)
    disaster: dict | None = None
    needs: dict = field(default_factory=dict)
    # another applicant of the same household in the caseload (测算 only):
    # {"relation": spouse|parent|child|sibling, "certificate": (category, grade)}
    co_applicant: dict | None = None

    def birth_date(self, day: dt.date) -> dt.date:
        if self.birth is not None:
            return self.birth
        years = DEFAULT_AGE if self.age is None else self.age
        try:
            return day.replace(year=day.year - years)
        except ValueError:          # 29 February in a non-leap year
            return day.replace(year=day.year - years, day=28)

    def id_number(self, day: dt.date, birth: dt.date | None = None, sequence: str = "013") -> str:
        code = self.hukou_county or (NON_LOCAL_CODE if self.hukou_local is False else DEFAULT_CODE)
        first17 = code + (birth or self.birth_date(day)).strftime("%Y%m%d") + sequence
        return first17 + check_character(first17)

    def record(self, day: dt.date) -> dict:
        """The JSON-like record the engine validates."""
        id_number = self.id_number(day)
        out: dict = {"id_number": id_number, "name": "场景申请人"}
        for key in ("hukou_local", "hukou_county", "residence", "holds_certificate"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.certificate is not None:
            category, grade = self.certificate
            out["certificate"] = {"number": f"{id_number}{category}{grade}",
                                  "category": category, "grade": grade}
            if self.both_lower_limbs is not None:
                out["certificate"]["both_lower_limbs"] = self.both_lower_limbs
            if self.multiple_categories is not None:
                out["certificate"]["multiple_categories"] = list(self.multiple_categories)
        household = self._household()
        if self.co_applicant is not None:       # the first other member is the co-applicant
            household["members"][0] = {"relation": self.co_applicant["relation"],
                                       "id_number": self._co_id_number(day), "disabled": True}
        if household:
            out["household"] = household
        if self.status:
            out["status"] = dict(self.status)
        if self.pension_scheme is not None:
            out["insurance"] = {"pension_scheme": self.pension_scheme}
        if self.prosthesis:
            out["prosthesis"] = dict(self.prosthesis)
        education = {k: v for k, v in (("admission", self.admission), ("diploma", self.diploma)) if v}
        if education:
            out["education"] = education
        if self.renovation:
            out["renovation"] = dict(self.renovation)
        if self.hardship_events or self.no_hardship:
            out["hardship_events"] = list(self.hardship_events)
        for key in ("military", "child", "disaster", "needs"):
            if getattr(self, key):
                out[key] = dict(getattr(self, key))
        return out

    def _household(self) -> dict:
        out: dict = {}
        if self.household_size is not None:
            members = []
            for i in range(self.household_size - 1):
                member: dict = {"relation": "other"}
                if self.members_disabled is not None:
                    member["disabled"] = self.members_disabled[i]
                if self.members_age is not None:
                    member["age"] = self.members_age[i]
                members.append(member)
            out["members"] = members
        if self.monthly_income is not None:
            out["monthly_income"] = self.monthly_income
        if self.assets_within_limit is not None:
            out["assets_within_limit"] = self.assets_within_limit
        return out

    # 测算: a second applicant of the same household
    _INVERSE = {"spouse": "spouse", "parent": "child", "child": "parent", "sibling": "sibling"}
    _YEARS_APART = {"spouse": 0, "sibling": 0, "parent": 25, "child": -25}

    def _co_birth(self, day: dt.date) -> dt.date:
        own = self.birth_date(day)
        years = self._YEARS_APART[self.co_applicant["relation"]]
        try:
            return own.replace(year=own.year - years)
        except ValueError:          # 29 February
            return own.replace(year=own.year - years, day=28)

    def _co_id_number(self, day: dt.date) -> str:
        return self.id_number(day, self._co_birth(day), "024")

    def co_record(self, day: dt.date) -> dict | None:
        """The co-applicant's record: the same household (户籍, 城乡, members,
        income, assets, 低保/五保/低收入 status), the two listing each other
        as household members by ID number, the co-applicant's own
        certificate. None when the scenario has no co-applicant."""
        if self.co_applicant is None:
            return None
        main = self.record(day)
        id_number = self._co_id_number(day)
        category, grade = self.co_applicant["certificate"]
        out: dict = {"id_number": id_number, "name": "场景同户申请人",
                     "certificate": {"number": f"{id_number}{category}{grade}", "category": category, "grade": grade}}
        for key in ("hukou_local", "hukou_county", "residence"):
            if key in main:
                out[key] = main[key]
        household = dict(main["household"])
        applicant = {"relation": self._INVERSE[self.co_applicant["relation"]], "id_number": main["id_number"]}
        if self.certificate is not None:
            applicant["disabled"] = True
        household["members"] = [applicant] + main["household"]["members"][1:]
        out["household"] = household
        status = {k: v for k, v in (main.get("status") or {}).items() if k in ("dibao", "wubao", "low_income")}
        if status:
            out["status"] = status
        return out
