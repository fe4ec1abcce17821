"""The one window of every date the project reads (日期范围): a record's
dates, the evaluation day, and ``--as-of`` of every command. Beyond it a
date is a typing error (and a year past 9999 is near: a month added to
9999-12-31 fails). Below everything, so that the applicant record and the
command-line options share it."""
import datetime as dt

EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)
DATE_OUT_OF_RANGE = f"日期应在{EARLIEST_DATE}至{LATEST_DATE}之间"
