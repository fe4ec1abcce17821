"""``run_audit``: a caseload and a roll in, the audit out (a pure function:
it writes nothing). The caseload is read and validated as the estimate
reads it (``costing.applicant_frames``), split by household into partitions
of at most ``PARTITION_ROWS`` persons, each audited by ``Auditor.audit``
with the roll rows of its persons (``audit_partition``: what a Dask task
calls), and the partial summaries merged."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import polars as pl

from ..caseload import CaseloadError
from ..costing import applicant_frames
from ..costing.columnar import household_key_column
from ..distributed import Shipment, connect, run_partitions, worker_remember, worker_rulebook
from ..engine.columnar import SCHEMA
from ..engine.columnar.schema import ROW
from ..engine.identity import CURRENT_COUNTIES
from ..engine.marks import assumptions, chain, condition_parameters
from ..engine.rulebook import Rulebook, load_rulebook
from .findings import FINDING_SCHEMA, KINDS, Auditor, Partial, merge_summaries
from .mapping import LineNames, load_names
from .roll import COUNTY, ID, ROLL_SCHEMA, Roll, read_roll

PARTITION_ROWS = 250_000


@dataclass
class Audit:
    """The audit of a caseload against a roll on ``as_of``."""
    as_of: dt.date
    rulebook_version: str
    findings: pl.DataFrame                  # FINDING_SCHEMA, one row per finding
    summary: pl.DataFrame                   # county × line × kind: count, month_fen, year_fen
    rejects: list[dict]                     # caseload rows rejected {row, field, message}
    roll_rejects: list[dict]                # roll rows rejected
    counts: dict                            # caseload rows, persons audited, roll rows, roll rows used
    lines: dict                             # line id → label_zh
    parameters: list[dict] = field(default_factory=list)   # used by the audited lines, values on as_of
    assumptions: dict = field(default_factory=dict)        # line id → assumption texts of its rules
    county: Optional[str] = None
    names_file: str = ""
    needs: dict = field(default_factory=dict)              # line id → the need it pays (same-payment group)
    quotes: dict = field(default_factory=dict)             # line id → [(clause, label_zh, text)] of its rules


def audit_partition(auditor: Auditor, applicants: pl.DataFrame, roll: pl.DataFrame, as_of: dt.date,
                    orphans: bool = False, covers: Optional[set] = None) -> Partial:
    """One partition (every member of a household in it) and the roll rows
    of its persons → partial findings and a summary ``merge_summaries`` adds
    up. ``orphans``: also report the roll rows of persons who are not in
    ``applicants`` (名册有、台账无) — give those rows to one partition only.
    ``covers``: the lines the whole roll has rows of (``set(roll["line"])``
    of the whole roll): a partition's own rows may lack one."""
    return auditor.audit(applicants, roll, as_of, orphans=orphans, covers=covers)


def audit_task(version: str, names: LineNames, applicants: pl.DataFrame, roll: pl.DataFrame, as_of: dt.date,
               orphans: bool, covers: Optional[set] = None) -> Partial:
    """A distributed task (分区任务): ``audit_partition`` on the worker's
    Auditor of ``version`` and the names file (compiled once per worker)."""
    book = worker_rulebook(version)
    auditor = worker_remember(version, ("audit", names.where, tuple(sorted(names.names.items()))),
                              lambda: Auditor(book, names))
    return audit_partition(auditor, applicants, roll, as_of, orphans=orphans, covers=covers)


def caseload_frame(source, fmt) -> tuple[pl.DataFrame, list[dict], int]:
    """The whole caseload as one applicant frame, its rejects and rows read;
    an ID number that comes again is rejected (the first row is audited)."""
    _, chunks = applicant_frames(source, fmt)
    frames, rejects, rows = [], [], 0
    for chunk in chunks:
        frames.append(chunk.frame)
        rejects += chunk.rejects
        rows += chunk.rows
    frame = pl.concat(frames) if frames else pl.DataFrame(schema=SCHEMA)
    first = frame.select(ROW, ID, pl.col(ROW).min().over(ID).alias("__first"))
    again = first.filter(pl.col(ROW) != pl.col("__first"))
    rejects += [{"row": r, "field": "id_number", "message": f"身份证号与第{f}行相同：核对按第{f}行"}
                for r, f in again.select(ROW, "__first").iter_rows()]
    if again.height:
        frame = frame.join(again.select(ROW), on=ROW, how="anti")
    return frame, sorted(rejects, key=lambda r: r["row"]), rows


def run_audit(caseload, roll, as_of: dt.date, rulebook: Optional[Rulebook] = None, county: Optional[str] = None,
              names: Optional[LineNames] = None, fmt: Optional[str] = None, roll_fmt: Optional[str] = None,
              on_stage: Optional[Callable[[str, int, int], None]] = None,
              covers: Optional[set] = None, scheduler: Optional[str] = None,
              partition_rows: int = PARTITION_ROWS,
              on_partition: Optional[Callable[[int, int], None]] = None) -> Audit:
    """Audit ``roll`` (a path, or a ``Roll``) against ``caseload`` (a path, or
    records) on ``as_of``. ``county``: a county code — only that county's
    persons and roll rows. ``on_stage(stage, done, total)`` follows the
    work (读取台账, 读取名册, 核对). ``covers``: the lines the roll is the
    whole register of (default: the lines it has rows of; see
    ``Auditor.registered``). ``scheduler``: ``tcp://HOST:PORT`` or
    ``local:N``: each partition (at most ``partition_rows`` persons, whole
    households) is a task on Dask distributed, the same findings
    (ClusterError when the cluster cannot be used); ``on_partition(done,
    total)`` as each finishes. Raises CaseloadError / LayoutError (Chinese)
    for a file that cannot be read, MappingError for a bad names file."""
    rulebook = rulebook or load_rulebook()
    names = names or load_names(rulebook)
    if county is not None and county not in CURRENT_COUNTIES:
        raise CaseloadError(f"县区代码应为三门峡市现行县区之一（{'、'.join(CURRENT_COUNTIES)}），实际为 {county}")
    say = on_stage or (lambda stage, done, total: None)
    say("读取台账", 0, 1)
    frame, rejects, rows_read = caseload_frame(caseload, fmt)
    say("读取台账", 1, 1)
    say("读取名册", 0, 1)
    if not isinstance(roll, Roll):
        roll = read_roll(Path(roll), names, as_of, roll_fmt)
    say("读取名册", 1, 1)
    table = roll.frame
    if county is not None:
        frame = frame.filter(pl.col("hukou_county") == county)
        table = table.filter(pl.col(ID).is_in(frame[ID].implode()) | (pl.col(COUNTY) == county))
    # a household stays in one partition: split by a hash of its key
    count = max(1, -(-frame.height // partition_rows))
    keyed = frame.with_columns((pl.coalesce(household_key_column(), pl.col(ID)).hash(7) % count).alias("__part"))
    ids = frame.select(ID)
    strays = table.join(ids, on=ID, how="anti")
    covers = set(table["line"].unique().to_list()) if covers is None else covers
    auditor = Auditor(rulebook, names)      # here for its same-payment groups too (``needs``)

    def partitions():
        for index in range(count):
            part = keyed.filter(pl.col("__part") == index).drop("__part")
            rows = table.join(part.select(ID), on=ID, how="semi")
            if index == 0:
                rows = pl.concat([rows, strays])
            yield part, rows, index == 0
    if scheduler is not None:
        def done(finished, total):
            say("核对", finished, total)
            if on_partition:
                on_partition(finished, total)
        say("核对", 0, count)
        with connect(scheduler) as client:
            partials = list(run_partitions(
                client, audit_task, [(rulebook.version, names, part, rows, as_of, orphans, covers)
                                     for part, rows, orphans in partitions()],
                [Shipment.of(rulebook)], on_progress=done))
    else:
        partials = []
        for index, (part, rows, orphans) in enumerate(partitions()):
            say("核对", index, count)
            partials.append(audit_partition(auditor, part, rows, as_of, orphans=orphans, covers=covers))
        say("核对", count, count)
    findings = pl.concat([p.findings for p in partials]) if partials else pl.DataFrame(schema=FINDING_SCHEMA)
    order = pl.col("kind").replace_strict({k: i for i, k in enumerate(KINDS)}, return_dtype=pl.Int8)
    findings = findings.sort(pl.col("county"), order, pl.col("line"), pl.col("id_number"), pl.col("roll_row"),
                             nulls_last=True)
    late = [r for p in partials for r in p.rejects]
    evaluated = frame.height - len({r["row"] for r in late})
    return Audit(
        as_of=as_of, rulebook_version=rulebook.version, findings=findings,
        summary=merge_summaries([p.summary for p in partials]),
        rejects=sorted(rejects + late, key=lambda r: r["row"]), roll_rejects=roll.rejects,
        counts={"caseload_rows": rows_read, "persons": evaluated, "roll_rows": roll.rows,
                "roll_used": table.height, "roll_rejected_rows": len({r["row"] for r in roll.rejects})},
        lines={k: v.label_zh for k, v in names.lines.items()},
        parameters=_parameters(rulebook, names, as_of), assumptions=_assumptions(rulebook, names),
        county=county, names_file=names.where, needs=dict(auditor.group), quotes=quotes_of(rulebook, names))


def _parameters(book: Rulebook, names: LineNames, as_of: dt.date) -> list[dict]:
    """The parameters the audited lines use, with the values in force on ``as_of``."""
    used: list[str] = []
    for b in names.rule_ids:
        rule = book.by_id[b]
        used += [*condition_parameters(rule, chain(rule, book)), *rule.outcome.amount.parameters()]
        if rule.outcome.payer is not None and rule.outcome.payer.param:
            used.append(rule.outcome.payer.param)
    out = []
    for name in dict.fromkeys(used):
        spec = book.parameters[name]
        values = []
        for entry in spec.values:
            scope = (entry.hukou_county, entry.residence)
            later = any((e.hukou_county, e.residence) == scope and entry.from_ < e.from_ <= as_of for e in spec.values)
            if entry.from_ <= as_of and not later:
                values.append({"from": entry.from_.isoformat(), "county": entry.hukou_county,
                               "residence": entry.residence, "value": entry.value})
        out.append({"name": name, "label_zh": spec.label_zh, "verified": spec.verified, "source": spec.source,
                    "values": values})
    return out


def quotes_of(book: Rulebook, names: LineNames) -> dict[str, list[tuple]]:
    """Each audited line's rules: clause, name and the law's words."""
    return {k: [(book.by_id[b].clause, book.by_id[b].label_zh, book.by_id[b].text) for b in line.rules]
            for k, line in names.lines.items()}


def _assumptions(book: Rulebook, names: LineNames) -> dict[str, list[str]]:
    out = {}
    for line in names.lines.values():
        texts = []
        for b in line.rules:
            rule = book.by_id[b]
            texts += assumptions(rule, chain(rule, book), book.in_force_of)
        out[line.id] = list(dict.fromkeys(texts))
    return out


__all__ = ["Audit", "PARTITION_ROWS", "ROLL_SCHEMA", "audit_partition", "audit_task", "run_audit"]
