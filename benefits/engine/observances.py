"""The four observances of 63号 五（三） and the categories each applies to."""
from __future__ import annotations

import datetime as dt

ALL_CATEGORIES = frozenset(range(1, 8))


def nth_sunday(year: int, month: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    first_sunday = first + dt.timedelta(days=(6 - first.weekday()) % 7)
    return first_sunday + dt.timedelta(weeks=n - 1)


def observances(year: int) -> list[dict]:
    """Each observance of ``year``: its date, names and the categories
    (1 视力 … 7 多重) whose members get the day off."""
    return [
        {"id": "national_helping_day", "name_zh": "全国助残日", "name_en": "National Day of Helping the Disabled",
         "date": nth_sunday(year, 5, 3), "categories": ALL_CATEGORIES},
        {"id": "international_deaf_day", "name_zh": "国际聋人节", "name_en": "International Day of the Deaf",
         "date": nth_sunday(year, 9, 4), "categories": frozenset({2, 3})},
        {"id": "international_blind_day", "name_zh": "国际盲人节", "name_en": "International White Cane Day",
         "date": dt.date(year, 10, 15), "categories": frozenset({1})},
        {"id": "international_disability_day", "name_zh": "国际残疾人日",
         "name_en": "International Day of Persons with Disabilities",
         "date": dt.date(year, 12, 3), "categories": ALL_CATEGORIES},
    ]


def days_off(year: int, categories) -> list[dict]:
    """The observances of ``year`` that give a person of ``categories`` (one
    category, or 多重 with the categories it includes) a day off."""
    held = {categories} if isinstance(categories, int) else set(categories)
    return [{k: v for k, v in o.items() if k != "categories"} | {"date": o["date"].isoformat()}
            for o in observances(year) if held & o["categories"]]
