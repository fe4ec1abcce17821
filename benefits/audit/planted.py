"""A roll with known, planted errors (植入错误的模拟名册), for a generated caseload:
the roll the rules call for on the audit day (each eligible person or
household once, on the line the engine keeps, at the amount owed), then
some eligible rows left off (漏保), some ineligible persons added (错保),
some amounts off by a stated sum (差额) and some rows paid twice (重复发放).
``planted_roll`` returns the rows and the list of what was planted, so that
a test or a demo can state the audit's recall and precision."""
from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import polars as pl

from ..caseload import atomic_output, write_only_book
from ..engine.columnar.schema import ROW
from ..engine.rulebook import Rulebook
from .findings import DIFFERENCE, DUPLICATE, INELIGIBLE, MISSED, STATUS, UNIT, WRONG, Auditor
from .mapping import LineNames
from .roll import AMOUNT, COUNTY, ID, LINE, ROLL_SCHEMA, SINCE

HEADER = ("身份证号", "救助项目", "月发放金额", "起始日期", "县区")


def _as_roll(owed: list[tuple]) -> pl.DataFrame:
    """Correct rows (ID, line, amount, county) as a validated roll frame."""
    return pl.DataFrame({ROW: list(range(2, len(owed) + 2)), ID: [o[0] for o in owed], LINE: [o[1] for o in owed],
                         "written": [o[1] for o in owed], AMOUNT: [o[2] for o in owed],
                         SINCE: [None] * len(owed), COUNTY: [o[3] for o in owed], "household": [None] * len(owed)},
                        schema=ROLL_SCHEMA)


def planted_roll(frame: pl.DataFrame, rulebook: Rulebook, names: LineNames, as_of: dt.date, seed: int = 1,
                 share: float = 0.02) -> tuple[list[tuple], list[dict]]:
    """(roll rows as HEADER tuples, planted errors) for an applicant frame
    (IDs unique). About ``share`` of the correct rows get each kind of error.

    The correct roll is found in two passes, because the roll is the
    register of 已纳入低保/五保 (``Auditor.registered``): the lines that are
    registers first (they rest on no register), then every other line with
    those rows on the roll. A planted 漏保 or 错保 on a register line is
    put only where the caseload records that fact, so it changes no other
    line's finding."""
    rng = random.Random(seed)
    auditor = Auditor(rulebook, names)
    registers = {k for k, v in names.lines.items() if v.register}

    def owed_rows(roll):
        found = auditor.audit(frame, roll, as_of, covers=set(names.lines)).findings
        return found.filter(pl.col("kind") == MISSED).select(ID, LINE, "owed_month", "county").rows()
    first = [o for o in owed_rows(_as_roll([])) if o[1] in registers]
    owed = first + [o for o in owed_rows(_as_roll(first)) if o[1] not in registers]
    recorded = {line: set(frame.filter(pl.col(spec.register).is_not_null())[ID].to_list())
                for line, spec in names.lines.items() if spec.register}
    count = max(1, int(len(owed) * share))
    order = list(range(len(owed)))
    rng.shuffle(order)
    can_miss = [i for i in order if owed[i][1] not in registers or owed[i][0] in recorded[owed[i][1]]]
    missed = set(can_miss[:count])
    rest = [i for i in order if i not in missed]
    off, twice = set(rest[:count]), set(rest[count:2 * count])
    synonyms = {line: [n for n in spec_names(names, line) if not n.isascii()] for line in names.lines}
    floors = {k for k, v in names.lines.items() if any(rulebook.by_id[b].outcome.amount.at_least for b in v.rules)}
    rows, planted = [], []

    def since():
        return (as_of - dt.timedelta(days=rng.randrange(30, 2000))).isoformat()

    for i, (id_number, line, amount, county) in enumerate(owed):
        if i in missed:
            planted.append({"kind": MISSED, ID: id_number, LINE: line, "diff_month": None})
            continue
        paid = amount
        if i in off:
            if line in floors:          # a floor (不低于) differs only when paid less
                delta = -min(amount, rng.randrange(1, 60))
            else:
                delta = rng.choice([-1, 1]) * rng.randrange(5, 60)
                delta = max(delta, -amount) or 10
            paid = round(amount + delta, 2)
        if paid != amount:
            planted.append({"kind": DIFFERENCE, ID: id_number, LINE: line, "diff_month": round(paid - amount, 2)})
        rows.append((id_number, rng.choice(synonyms[line]), f"{paid:.2f}", since(), county))
        if i in twice:
            rows.append((id_number, rng.choice(synonyms[line]), f"{paid:.2f}", since(), county))
            planted.append({"kind": DUPLICATE, ID: id_number, LINE: line, "diff_month": None, "row": len(rows) + 1})
    # 错保: a person found ineligible on a line whose need nothing on the roll pays
    people = auditor.person_lines(auditor.evaluate(auditor.registered(frame, _as_roll(owed), set(names.lines)),
                                                   as_of)[0])
    paid_needs = {(r[0], auditor.group[names.line_of(r[1])]) for r in rows}
    wrong = people.filter((pl.col(STATUS) == INELIGIBLE) & (pl.col(UNIT) == pl.col(ID))).select(
        ID, LINE, "hukou_county").rows()
    rng.shuffle(wrong)
    added = set()
    for id_number, line, county in wrong:
        if len(added) >= count:
            break
        if (id_number, auditor.group[line]) in paid_needs or id_number in added:
            continue
        if line in registers and id_number not in recorded[line]:
            continue
        added.add(id_number)
        rows.append((id_number, rng.choice(synonyms[line]), f"{rng.randrange(50, 500)}.00", since(), county))
        planted.append({"kind": WRONG, ID: id_number, LINE: line, "diff_month": None})
    return rows, planted


def spec_names(names: LineNames, line: str) -> list[str]:
    """The names a roll may write for a line (as compared: NFKC, no spaces)."""
    return [n for n, k in names.names.items() if k == line]


def write_roll(rows: list[tuple], path) -> None:
    """The roll as CSV (UTF-8 with BOM), XLSX or Parquet, atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    with atomic_output(path) as partial:
        if suffix == ".xlsx":
            with write_only_book() as book:
                sheet = book.create_sheet("名册")
                sheet.append(list(HEADER))
                for row in rows:
                    sheet.append(list(row))
                book.save(partial)
            return
        frame = pl.DataFrame(rows, schema=list(HEADER), orient="row")
        if suffix == ".parquet":
            frame.write_parquet(partial)
        else:
            frame.write_csv(partial, include_bom=True)


def write_planted(planted: list[dict], as_of: dt.date, path) -> None:
    with atomic_output(path) as partial:
        Path(partial).write_text(json.dumps({"as_of": as_of.isoformat(), "planted": planted}, ensure_ascii=False,
                                            indent=1), encoding="utf-8")
