"""Facts as column expressions: the columnar twin of ``engine/facts.py``.

Every expression reads the applicant frame (``schema.SCHEMA``) plus the
evaluation day column ``DAY`` and yields the fact under its own name, null
where the record does not settle it, exactly as ``applicant_facts`` leaves
a fact out. The differential test holds the two to the same values.
"""
from __future__ import annotations

import polars as pl

from ..facts import FACTS, HARDSHIP_CASES
from .schema import BIRTH

DAY = "__day"


def fact_column(name: str) -> str:
    return f"fact.{name}"


def _key(date: pl.Expr) -> pl.Expr:
    """YYYYMMDD as an integer: completed years are a difference // 10000."""
    return (date.dt.year().cast(pl.Int32) * 10000 + date.dt.month().cast(pl.Int32) * 100
            + date.dt.day().cast(pl.Int32))


def _members(field: str) -> pl.Expr:
    return pl.element().struct.field(field)


def round_fen(expr: pl.Expr) -> pl.Expr:
    """money.round_fen, column-wise: the same IEEE operations."""
    # Polars divides by a scalar through its reciprocal; round(2) restores
    # the exact quotient n / 100 that Python computes.
    return ((expr * 100 + 0.5).floor() / 100).round(2)


def fact_expressions() -> dict[str, pl.Expr]:
    """{fact name: expression}; the keys are exactly FACTS."""
    day = _key(pl.col(DAY))
    age = (day - _key(pl.col(BIRTH))) // 10000
    has_cert = pl.col("certificate.number").is_not_null()
    members = pl.col("household.members")
    size = members.list.len()

    # 家庭成员: a member's age comes from their ID number when given, else
    # the recorded age; the oldest by ID is the one with the earliest birth.
    any_age_unknown = members.list.eval(_members("id_number").is_null() & _members("age").is_null()).list.any()
    oldest_recorded = members.list.eval(
        pl.when(_members("id_number").is_null()).then(_members("age"))).list.max()
    earliest_birth = members.list.eval(
        pl.when(_members("id_number").is_not_null())
        .then(_members("id_number").str.slice(6, 8).cast(pl.Int32, strict=False))).list.min()
    oldest = pl.max_horizontal(oldest_recorded, (day - earliest_birth) // 10000)
    any_disabled_unknown = members.list.eval(_members("disabled").is_null()).list.any()

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
        "per_capita_income": round_fen(pl.col("household.monthly_income") / (size + 1)),
        "assets_within_limit": pl.col("household.assets_within_limit"),
        "disabled_members": pl.when(~any_disabled_unknown).then(
            members.list.eval(_members("disabled").cast(pl.Int64)).list.sum()),
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
    events = pl.col("hardship_events")
    for case, (name, needs_family_hardship) in HARDSHIP_CASES.items():
        is_case = pl.element().struct.field("case") == case
        family = pl.element().struct.field("family_hardship")
        counts = is_case & (family == True) if needs_family_hardship else is_case  # noqa: E712 (null stays null)
        counts = counts.fill_null(False)
        unsettled = is_case & family.is_null() if needs_family_hardship else pl.lit(False)
        out[name] = (pl.when(events.list.eval(counts).list.any()).then(True)
                     .when(events.list.eval(unsettled).list.any()).then(None)
                     .when(events.is_not_null()).then(False))
    missing = set(FACTS) - set(out)
    if missing:   # a fact added to facts.py needs its column here too
        raise NotImplementedError(f"no column expression for facts: {', '.join(sorted(missing))}")
    return out
