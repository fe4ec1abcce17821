"""Facts as column expressions: the columnar twin of ``engine/facts.py``.

Every expression reads the applicant frame (``schema.SCHEMA``) plus the
evaluation day column ``DAY`` and yields the fact under its own name, null
where the record does not settle it, exactly as ``applicant_facts`` leaves
a fact out. The differential test holds the two to the same values.
"""
from __future__ import annotations

import datetime as dt
from typing import Mapping

import polars as pl

from ..columns import DAY, fact_column
from ..money import round_fen_column as round_fen
from ..facts import COMPONENTS, FACTS, HARDSHIP_CASES, HARDSHIP_SINCE, LIMBS, PLAIN_81
from .schema import BIRTH


def _key(date: pl.Expr) -> pl.Expr:
    """YYYYMMDD as an integer: completed years are a difference // 10000."""
    return (date.dt.year().cast(pl.Int32) * 10000 + date.dt.month().cast(pl.Int32) * 100
            + date.dt.day().cast(pl.Int32))


def _members(field: str) -> pl.Expr:
    return pl.element().struct.field(field)


def in_period(date: pl.Expr, in_force_from: dt.date | None) -> pl.Expr:
    """facts.in_period: not after the day, not before the in-force day; null undated."""
    counts = date <= pl.col(DAY)
    if in_force_from is not None:
        counts = counts & (date >= pl.lit(in_force_from))
    return counts


def _event_flags(fact: str) -> tuple[str, str]:
    return f"__events.{fact}.counts", f"__events.{fact}.unsettled"


def with_event_flags(frame: pl.LazyFrame, since: Mapping[str, dt.date] | None) -> pl.LazyFrame:
    """七's events compared with each row's day (facts._hardship_facts): per
    row, case and bounding document (HARDSHIP_SINCE), whether some event
    counts, and whether some event is not settled (undated, or its family
    hardship unrecorded). Events are few, so only rows that have any are
    exploded, flagged and joined back."""
    row = "__events.row"
    frame = frame.with_row_index(row)
    events = (frame.select(row, DAY, "hardship_events")
              .filter(pl.col("hardship_events").list.len() > 0)
              .explode("hardship_events").unnest("hardship_events"))
    flags = []
    for document, suffix in HARDSHIP_SINCE.items():
        dated = in_period(pl.col("date"), (since or {}).get(document))
        for case, (name, needs_family_hardship) in HARDSHIP_CASES.items():
            is_case = pl.col("case") == case
            family = pl.col("family_hardship") if needs_family_hardship else pl.lit(True)
            counts, unsettled = _event_flags(name + suffix)
            flags.append((is_case & dated & family).fill_null(False).any().alias(counts))
            flags.append((is_case & (dated != False).fill_null(True)  # noqa: E712 (null: undated)
                          & (family != False).fill_null(True)).fill_null(False).any().alias(unsettled))  # noqa: E712
    return frame.join(events.group_by(row).agg(flags), on=row, how="left", maintain_order="left").drop(row)


def _hardship_facts() -> dict[str, pl.Expr]:
    """七's facts from the flags ``with_event_flags`` joined on."""
    out = {}
    for suffix in HARDSHIP_SINCE.values():
        for name, _ in HARDSHIP_CASES.values():
            counts, unsettled = _event_flags(name + suffix)
            out[name + suffix] = (pl.when(pl.col(counts)).then(True).when(pl.col(unsettled)).then(None)
                                  .when(pl.col("hardship_events").is_not_null()).then(False))
    return out


_MEMBERS = {k: f"__members.{k}" for k in ("size", "age_unknown", "oldest_recorded", "earliest_birth",
                                          "disabled_unknown", "disabled")}


def member_columns() -> dict[str, pl.Expr]:
    """家庭成员 aggregates that do not depend on the day, by column name:
    ``list.eval`` is costly, so a caseload computes them once per person
    (``with_members``) before the person is repeated on each change point."""
    members = pl.col("household.members")
    # a member's age comes from their ID number when given, else the
    # recorded age; the oldest by ID is the one with the earliest birth.
    exprs = {
        "size": members.list.len(),
        "age_unknown": members.list.eval(_members("id_number").is_null() & _members("age").is_null()).list.any(),
        "oldest_recorded": members.list.eval(
            pl.when(_members("id_number").is_null()).then(_members("age"))).list.max(),
        "earliest_birth": members.list.eval(
            pl.when(_members("id_number").is_not_null())
            .then(_members("id_number").str.slice(6, 8).cast(pl.Int32, strict=False))).list.min(),
        "disabled_unknown": members.list.eval(_members("disabled").is_null()).list.any(),
        "disabled": members.list.eval(_members("disabled").cast(pl.Int64)).list.sum(),
    }
    return {_MEMBERS[k]: e for k, e in exprs.items()}


def with_members(frame: pl.LazyFrame) -> pl.LazyFrame:
    """The frame with ``member_columns`` (``fact_expressions`` reads them)."""
    return frame.with_columns(**member_columns())


def fact_expressions(since: Mapping[str, dt.date] | None = None) -> dict[str, pl.Expr]:
    """{fact name: expression}; the keys are exactly FACTS. The frame needs
    ``with_event_flags`` and ``with_members`` first (see ``with_facts``)."""
    since = since or {}
    in_force_from = since.get("63号")
    day = _key(pl.col(DAY))
    age = (day - _key(pl.col(BIRTH))) // 10000
    has_cert = pl.col("certificate.number").is_not_null()
    size = pl.col(_MEMBERS["size"])
    any_age_unknown, any_disabled_unknown = pl.col(_MEMBERS["age_unknown"]), pl.col(_MEMBERS["disabled_unknown"])
    oldest = pl.max_horizontal(pl.col(_MEMBERS["oldest_recorded"]),
                               (day - pl.col(_MEMBERS["earliest_birth"])) // 10000)

    out = {
        "age": age,
        "hukou_local": pl.when(pl.col("hukou_county").is_not_null()).then(True)
                         .otherwise(pl.col("hukou_local")),
        "hukou_county": pl.col("hukou_county"),
        "residence": pl.col("residence"),
        "has_certificate": pl.when(has_cert).then(True).otherwise(pl.col("holds_certificate")),
        "category": pl.when(has_cert).then(pl.col("certificate.category")),
        "grade": pl.when(has_cert).then(pl.col("certificate.grade")),
        "both_lower_limbs": pl.when(has_cert).then(pl.col("certificate.both_lower_limbs")),
        "other_special_hardship": pl.col("status.other_special_hardship"),
        "lower_limbs_missing": pl.col("prosthesis.lower_limb_loss").replace_strict(LIMBS, default=None,
                                                                                   return_dtype=pl.Int64),
        "admission_in_period": pl.when(pl.col("education.admission.level").is_not_null()).then(
            in_period(pl.col("education.admission.date"), in_force_from)),
        "diploma_in_period": pl.when(pl.col("education.diploma.level").is_not_null()).then(
            in_period(pl.col("education.diploma.date"), in_force_from)),
        "per_capita_income": round_fen(pl.col("household.monthly_income") / (size + 1)),
        "household_size": (size + 1).cast(pl.Int64),
        "assets_within_limit": pl.col("household.assets_within_limit"),
        "disabled_members": pl.when(~any_disabled_unknown).then(pl.col(_MEMBERS["disabled"])),
        "oldest_member_age": pl.when(any_age_unknown).then(None)
                               .when(size == 0).then(age)
                               .otherwise(oldest.cast(pl.Int64)),
        "in_dibao": pl.col("status.dibao"),
        "in_wubao": pl.col("status.wubao"),
        "low_income": pl.col("status.low_income"),
        "supported_by": pl.col("status.supported_by"),
        "no_work_capacity": pl.col("status.no_work_capacity"),
        "no_income_source": pl.col("status.no_income_source"),
        "no_legal_supporter": pl.col("status.no_legal_supporter"),
        "employed": pl.col("status.employed"),
        "pension_scheme": pl.col("insurance.pension_scheme"),
        "lower_limb_loss": pl.col("prosthesis.lower_limb_loss"),
        "prosthesis_type": pl.col("prosthesis.requested_type"),
        "admission_level": pl.col("education.admission.level"),
        "admission_full_time": pl.col("education.admission.full_time"),
        "diploma_level": pl.col("education.diploma.level"),
        "diploma_route": pl.col("education.diploma.route"),
        "renovation_requested": pl.col("renovation.requested"),
        "renovation_inspection_passed": pl.col("renovation.inspection_passed"),
    }
    # 多重 (7) includes a category only as far as its parts are recorded
    category = pl.col("certificate.category")
    parts = pl.col("certificate.multiple_categories")
    parts_known = parts.list.len().fill_null(0) > 0
    for name, code in COMPONENTS.items():
        out[name] = (pl.when(~has_cert).then(None)
                     .when(category != 7).then(category == code)
                     .when(parts_known).then(parts.list.contains(code)))
    out.update(_hardship_facts())
    out["evaluation_day"] = day.cast(pl.Int64)
    out.update({name: pl.col(f"{section}.{field}") for name, (section, field) in PLAIN_81.items()})
    out["disaster_days_since"] = (pl.col(DAY) - pl.col("disaster.date")).dt.total_days()
    out["disaster_in_period"] = in_period(pl.col("disaster.date"), since.get("81号"))
    # 81号 第10条: "1个月内" up to the same day of the next month (clamped to its end)
    deadline = pl.col("military.referral_date").dt.offset_by("1mo")
    placed = pl.col("military.placed_date")
    out["placement_overdue"] = (pl.when(deadline.is_null()).then(None)
                                .otherwise((pl.col(DAY) > deadline)
                                           & (placed.is_null() | (placed > deadline)).fill_null(True)))
    missing = set(FACTS) - set(out)
    if missing:   # a fact added to facts.py needs its column here too
        raise NotImplementedError(f"no column expression for facts: {', '.join(sorted(missing))}")
    return out


def with_facts(frame: pl.LazyFrame, since: Mapping[str, dt.date] | None) -> pl.LazyFrame:
    """Every fact as a column ``fact.<name>`` (and the event flags and member
    aggregates they use; the latter are kept if the frame has them already).
    ``since``: per document, the day its dated events count from."""
    frame = with_event_flags(frame, since)
    if not set(_MEMBERS.values()) <= set(frame.collect_schema().names()):
        frame = with_members(frame)
    return frame.with_columns(**{fact_column(n): e for n, e in fact_expressions(since).items()})
