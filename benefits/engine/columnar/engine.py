"""``ColumnarEngine.evaluate_frame``: an applicant frame in, one row per
applicant (and evaluation day) out, with every rule's verdict and every
condition's status as columns."""
from __future__ import annotations

import datetime as dt

import polars as pl

from ..applicant import (DAY_BEFORE_BIRTH, DAY_OUT_OF_RANGE, EARLIEST_DATE, LATEST_DATE, FieldError,
                         InvalidApplicant, parse_applicant)
from ..identity import mask_id
from ..rulebook import Rulebook
from ..columns import DAY
from ..determination import Determiner
from .plan import ColumnarPlan
from .schema import BIRTH, ROW, frame_from_records
from .view import RowView

EVALUATION_DATE = "evaluation_date"


class ColumnarEngine:
    """A rulebook compiled once to a columnar plan; stateless and thread-safe."""

    def __init__(self, rulebook: Rulebook):
        self.rulebook = rulebook
        self.plan = ColumnarPlan(rulebook)
        self.determiner = Determiner(rulebook)

    def with_day(self, frame: pl.LazyFrame, as_of: dt.date | None, today: dt.date | None = None) -> pl.LazyFrame:
        """The day each row is evaluated on: ``as_of``, else the record's
        evaluation date, else today (a DAY column already there is kept)."""
        if DAY in frame.collect_schema():
            return frame
        if as_of is not None:
            return frame.with_columns(pl.lit(as_of, dtype=pl.Date).alias(DAY))
        return frame.with_columns(pl.col(EVALUATION_DATE).fill_null(pl.lit(today or dt.date.today())).alias(DAY))

    def split_rejects(self, frame: pl.DataFrame, as_of: dt.date | None) -> tuple[pl.DataFrame, list[dict]]:
        """Rows whose evaluation day cannot be used, as ``evaluation_day`` refuses them."""
        field = "as_of" if as_of is not None else "evaluation_date"
        out_of_range = ~pl.col(DAY).is_between(pl.lit(EARLIEST_DATE), pl.lit(LATEST_DATE))
        before_birth = pl.col(DAY) < pl.col(BIRTH)
        problem = (pl.when(out_of_range).then(pl.lit(DAY_OUT_OF_RANGE))
                   .when(before_birth).then(pl.lit(DAY_BEFORE_BIRTH)))
        marked = frame.with_columns(problem.alias("__problem"))
        bad = marked.filter(pl.col("__problem").is_not_null())
        rejects = [{"row": r, "field": field, "message": m} for r, m in bad.select(ROW, "__problem").iter_rows()]
        return marked.filter(pl.col("__problem").is_null()).drop("__problem"), rejects

    def evaluate_frame(self, frame: pl.DataFrame | pl.LazyFrame, as_of: dt.date | None = None,
                       today: dt.date | None = None) -> tuple[pl.DataFrame, list[dict]]:
        """Evaluate every row of an applicant frame (schema.SCHEMA).

        Returns (result, rejects): the result has the input columns plus the
        plan's (see plan.py); rejects are rows whose evaluation day is
        unusable, as {row, field, message}."""
        lazy = self.with_day(frame.lazy(), as_of, today)
        dated, rejects = self.split_rejects(lazy.collect(), as_of)
        return self.plan.lazy(dated.lazy()).collect(), rejects

    def evaluate(self, data, as_of: dt.date | None = None) -> dict:
        """One applicant through the columnar plan, in the single-applicant
        shape (for the scenarios run on both back ends; slow per record)."""
        record = parse_applicant(data)
        result, rejects = self.evaluate_frame(frame_from_records([record]), as_of)
        if rejects:
            raise InvalidApplicant([FieldError(field=r["field"], message=r["message"]) for r in rejects])
        row = next(result.iter_rows(named=True))
        return RowView(self.plan, row).determination(record.name, mask_id(record.id_number),
                                                     determiner=self.determiner)
