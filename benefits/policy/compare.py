"""Baseline against reform over a caseload (改革前后对比), on the columnar
engine, with the estimate's own month weighting and counting rules.

Each rulebook is evaluated on its own change points of each person and
folded by ``ColumnarEstimate`` into the same Tally and per-person sums the
``benefits estimate`` figures come from, so each side's figures are exactly
that rulebook's estimate: monthly lines weighted by months,
yearly/one-off/ongoing lines once as first found eligible, a line that pays
for the same need as a larger one (duplicate) not counted, ranges at their
midpoint per person (min and max kept in the cost table).

A person's status on a line for the year: 符合 if eligible on any day of the
year, else 待定 if undetermined on any day, else 不符合 (as the estimate
counts persons); 无此项 where the rulebook has no such line. Their amount:
the yuan the estimate counts for them on that line in the year.

The per-person diff is column-wise (Polars); only the few examples are
explained one by one, by the durable_rules engine (full reasons).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import threading
import tempfile
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable, Optional

import polars as pl

from ..caseload.partitions import Partition, cluster_partitions
from ..engine.vocabulary import ELIGIBLE, INELIGIBLE, PAYER_ZH, UNDETERMINED
from ..costing import (CHUNK_ROWS, COUNTY, PAYERS, PERSON, ColumnarEstimate, FrameChunk, LineTotals, Tally,
                        applicant_frames, chunk_rows, county_name, partition_frames, summarise)
from ..distributed import Shipment, connect, run_partitions, worker_remember, worker_rulebook
from ..engine.applicant import parse_applicant
from ..engine.columnar.facts import DAY
from ..engine.columnar.output import masked_id
from ..engine.columnar.plan import amount_column, rule_column
from ..engine.columnar.schema import FIELDS, ROW
from ..engine.evaluate import Engine
from ..costing.fen import fen_column, to_fen, yuan, yuan_column
from ..engine.rulebook import Rulebook, read_rule_files
from .affected import affected_lines
from .floors import FLOORS_DIR, Floor, FloorCheck, check_floors, load_floors
from .reform import apply_reform, load_reform

ABSENT = "absent"   # a line only one side of the comparison has
STATUS = pl.Enum([ELIGIBLE, INELIGIBLE, UNDETERMINED, ABSENT])
STATUS_ZH = {ELIGIBLE: "符合", INELIGIBLE: "不符合", UNDETERMINED: "待定", ABSENT: "无此项"}
GAIN, LOSS, SAME = "gain", "loss", "unchanged"
CHANGE = pl.Enum([GAIN, LOSS, SAME])
CHANGE_ZH = {GAIN: "增加", LOSS: "减少", SAME: "不变"}
# bins of a person's yearly gain or loss, in yuan (upper bound inclusive)
BINS = (100, 500, 1000, 2000, 5000, None)
EXAMPLES_PER_KIND = 3


@dataclass
class Comparison:
    """The result of ``compare``. Frames are Polars; money is yuan per budget
    year to the fen (mid = the midpoint of a range). Each person's amount on
    a line is rounded once (costing/fen.py) and every other figure is a sum
    of those, so the delta is the same figure in every frame.

    ``cost``: benefit, label_zh, clause, county, county_zh, payer, payer_zh,
      baseline, reform, difference (mid), baseline_min, baseline_max,
      reform_min, reform_max — one row per benefit × county × payer with
      money on either side; 三（一）'s county budget rows have benefit
      ``county_rehabilitation_budget`` (or the budget rule's id).
    ``persons``: row (source row), id_number_masked, county, baseline,
      reform, difference, change (gain/loss/unchanged by money),
      status_changed (any line's status differs) — one row per person evaluated.
    ``changes``: row, id_number_masked, county, benefit, status_baseline,
      status_reform, amount_baseline, amount_reform, difference, change —
      one row per person and line whose status or amount differs, in line
      order, then by row.
    ``by_benefit``: benefit, label_zh, clause, persons_baseline,
      persons_reform, gainers, losers, unchanged, status_changed,
      amount_changed, baseline, reform, difference.
      A gainer on a line gets more money, or (same money, e.g. a service)
      becomes 符合; a loser the reverse.
    ``by_county``: county, county_zh, persons, gainers, losers, unchanged,
      status_changed, baseline, reform, difference (a person gains or loses
      by the sum over lines).
    ``transitions``: benefit, label_zh, status_baseline, status_reform,
      from_zh, to_zh, persons (status changes only).
    ``distribution``: change (gain/loss), lower, upper (None = no bound),
      label_zh, persons, yuan — people whose yearly total changes, by size.
    ``examples``: a few people per kind of change (see ``_examples``), each a
      dict with kind, kind_zh, benefit, label_zh, row, id_number_masked,
      county, day (the first day the line differs), and the durable engine's
      full determinations ``baseline`` and ``reform`` with that line's
      ``baseline_line`` / ``reform_line`` (status, amount, reasons …).
    ``floors``: check_floors(reform); ``floors_baseline``: check_floors(baseline).
    ``baseline_estimate`` / ``reform_estimate``: what ``benefits estimate``
      gives for each rulebook (costing.summarise).
    ``reform_changes``: the reformed rulebook's ``changes`` (what was applied).
    ``counts``: total rows, evaluated, rejected; ``rejects``: {row, field, message}.
    """
    year: int
    label: str
    reason: str
    baseline_version: str
    reform_version: str
    counts: dict
    cost: pl.DataFrame
    persons: pl.DataFrame
    changes: pl.DataFrame
    by_benefit: pl.DataFrame
    by_county: pl.DataFrame
    transitions: pl.DataFrame
    distribution: pl.DataFrame
    examples: list[dict]
    floors: list[FloorCheck]
    floors_baseline: list[FloorCheck]
    baseline_estimate: dict
    reform_estimate: dict
    reform_changes: list[dict] = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)

    @property
    def floor_violations(self) -> list[FloorCheck]:
        return [c for c in self.floors if not c.ok]


_NO_FEN = pl.lit(0, dtype=pl.Int64)


def _lines(people: Optional[pl.DataFrame], book: Rulebook, ids: list[str], side: str) -> list[pl.Expr]:
    """Per line: ``side:B.status`` and ``side:B.amount`` (whole fen, as the
    per-person fold rounded it) from the per-person fold."""
    present = {r.id for r in book.benefits}
    out = []
    for b in ids:
        if b not in present:
            out += [pl.lit(ABSENT, dtype=STATUS).alias(f"{side}:{b}.status"), _NO_FEN.alias(f"{side}:{b}.amount")]
            continue
        if people is None:
            eligible = undetermined = pl.lit(False)
            money = _NO_FEN
        else:
            eligible, undetermined = pl.col(f"{b}|eligible"), pl.col(f"{b}|undetermined")
            money = pl.col(f"{b}|money.mid") if f"{b}|money.mid" in people.columns else _NO_FEN
        out += [pl.when(eligible).then(pl.lit(ELIGIBLE)).when(undetermined).then(pl.lit(UNDETERMINED))
                .otherwise(pl.lit(INELIGIBLE)).cast(STATUS).alias(f"{side}:{b}.status"),
                money.fill_null(0).cast(pl.Int64).alias(f"{side}:{b}.amount")]
    return out


def _side(frame: pl.DataFrame, people: Optional[pl.DataFrame], book: Rulebook, ids: list[str],
          side: str) -> pl.DataFrame:
    """One row per person of ``frame`` (PERSON order) with the side's lines;
    a person with no day in the year is 不符合 everywhere, with no money."""
    if people is None:
        return frame.select(PERSON, *_lines(None, book, ids, side))
    wide = people.select(PERSON, *_lines(people, book, ids, side))
    if wide.get_column(PERSON).equals(frame.get_column(PERSON)):
        return wide         # everyone has a day in the year, in the frame's order: nothing to join or fill
    joined = frame.select(PERSON).join(wide, on=PERSON, how="left", maintain_order="left")
    fills = []
    for b in ids:
        status = pl.col(f"{side}:{b}.status")
        fills += [status.fill_null(pl.lit(INELIGIBLE, dtype=STATUS)), pl.col(f"{side}:{b}.amount").fill_null(0)]
    return joined.with_columns(fills)


def _same(a: pl.Expr) -> pl.Expr:
    """A status for telling changes: a line the rulebook does not have is as
    good as 不符合 (a removed line nobody had is no change)."""
    return pl.when(a == ABSENT).then(pl.lit(INELIGIBLE, dtype=STATUS)).otherwise(a)


def _moved(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    return _same(a) != _same(b)


def _gain(base_status: pl.Expr, reform_status: pl.Expr, delta: pl.Expr) -> pl.Expr:
    """gain / loss / unchanged of one line for one person."""
    became = (reform_status == ELIGIBLE) & (base_status != ELIGIBLE)
    lost = (base_status == ELIGIBLE) & (reform_status != ELIGIBLE)
    return (pl.when((delta > 0) | ((delta == 0) & became)).then(pl.lit(GAIN))
            .when((delta < 0) | ((delta == 0) & lost)).then(pl.lit(LOSS))
            .otherwise(pl.lit(SAME)).cast(CHANGE))


def _diff(frame: pl.DataFrame, base: pl.DataFrame, reform: pl.DataFrame, ids: list[str],
          same: frozenset = frozenset()) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(persons, changes) of one chunk, column-wise. ``same``: lines whose
    columns were copied from the baseline, so none of them changes
    (``reform`` may leave them out: the baseline's columns stand in)."""
    wide = pl.concat([frame.select(PERSON, ROW, masked_id(pl.col("id_number")).alias("id_number_masked"),
                                   pl.col("hukou_county").fill_null("").alias("county")),
                      base.drop(PERSON), reform.drop(PERSON)], how="horizontal")
    wide = wide.with_columns(pl.col(f"b:{b}.{c}").alias(f"r:{b}.{c}") for b in ids if b in same
                             and f"r:{b}.status" not in reform.columns for c in ("status", "amount"))
    # amounts are whole fen until they leave: sums and differences are exact
    total_b = pl.sum_horizontal(*[pl.col(f"b:{b}.amount") for b in ids]) if ids else _NO_FEN
    total_r = pl.sum_horizontal(*[pl.col(f"r:{b}.amount") for b in ids]) if ids else _NO_FEN
    moved = [_moved(pl.col(f"b:{b}.status"), pl.col(f"r:{b}.status")) for b in ids if b not in same]
    status_changed = pl.any_horizontal(*moved) if moved else pl.lit(False)
    persons = wide.select(
        pl.col(ROW).alias("row"), "id_number_masked", "county", yuan_column(total_b).alias("baseline"),
        yuan_column(total_r).alias("reform"), status_changed.alias("status_changed"),
        yuan_column(total_r - total_b).alias("difference"),
    )
    persons = persons.with_columns(
        pl.when(pl.col("difference") > 0).then(pl.lit(GAIN)).when(pl.col("difference") < 0).then(pl.lit(LOSS))
        .otherwise(pl.lit(SAME)).cast(CHANGE).alias("change")).select(
        "row", "id_number_masked", "county", "baseline", "reform", "difference", "change", "status_changed")
    parts = []
    for b in (b for b in ids if b not in same):
        sb, sr = pl.col(f"b:{b}.status"), pl.col(f"r:{b}.status")
        ab, ar = pl.col(f"b:{b}.amount"), pl.col(f"r:{b}.amount")
        delta = ar - ab
        # lazy: only the columns picked are filtered, and the lines run in parallel
        parts.append(wide.lazy().filter(_moved(sb, sr) | (ab != ar)).select(
            pl.col(ROW).alias("row"), "id_number_masked", "county", pl.lit(b).alias("benefit"),
            sb.alias("status_baseline"), sr.alias("status_reform"), yuan_column(ab).alias("amount_baseline"),
            yuan_column(ar).alias("amount_reform"), yuan_column(delta).alias("difference"),
            _gain(sb, sr, delta).alias("change")))
    changes = pl.concat(parts).collect() if parts else _empty_changes()
    return persons, changes


def _empty_changes() -> pl.DataFrame:
    return pl.DataFrame(schema={"row": pl.Int64, "id_number_masked": pl.String, "county": pl.String,
                                "benefit": pl.String, "status_baseline": STATUS, "status_reform": STATUS,
                                "amount_baseline": pl.Float64, "amount_reform": pl.Float64,
                                "difference": pl.Float64, "change": CHANGE})


def _kind(changes: pl.DataFrame) -> pl.Expr:
    """The kind of a line's change: its status transition, or the amount's direction."""
    return (pl.when(_moved(pl.col("status_baseline"), pl.col("status_reform")))
            .then(pl.concat_str(pl.col("status_baseline").cast(pl.String), pl.lit("->"),
                                pl.col("status_reform").cast(pl.String)))
            .when(pl.col("difference") > 0).then(pl.lit("amount_up"))
            .otherwise(pl.lit("amount_down")))


def _kind_zh(kind: str) -> str:
    if kind == "amount_up":
        return "符合，金额增加"
    if kind == "amount_down":
        return "符合，金额减少"
    a, b = kind.split("->")
    return f"{STATUS_ZH[a]}→{STATUS_ZH[b]}"


def record_from_row(row: dict) -> dict:
    """An applicant record (for the durable engine) from an applicant-frame
    row: the dotted columns nested again, absent facts left out."""
    record: dict = {}
    for path in FIELDS:
        value = row.get(path)
        if value is None:
            continue
        if isinstance(value, list):
            value = [{k: v for k, v in item.items() if v is not None} if isinstance(item, dict) else item
                     for item in value]
        if isinstance(value, (dt.date,)):
            value = value.isoformat()
        node = record
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return record


def _states(result: pl.DataFrame, persons: pl.DataFrame, benefit: str, present: bool) -> dict[int, list]:
    """PERSON → [(day, verdict, amount)] of one line on one side, in day order."""
    if not present:
        return {}
    column = amount_column(benefit)
    amount = pl.col(column) if column in result.columns else pl.lit(None).alias(column)
    # the four columns first: the result is hundreds of columns wide
    rows = result.select(PERSON, DAY, rule_column(benefit), amount).join(
        persons.select(PERSON), on=PERSON, how="semi", maintain_order="left")
    out: dict[int, list] = {}
    for person, day, verdict, value in rows.iter_rows():
        out.setdefault(person, []).append((day, verdict, value))
    return out


def _at(states: list, day: dt.date):
    """The (verdict, amount) in force on ``day``: the latest point not after it."""
    current = (False, None)
    for point, verdict, value in states:
        if point > day:
            break
        current = (verdict, value)
    return current


def _first_days(picked: pl.DataFrame, result_b: Optional[pl.DataFrame], result_r: Optional[pl.DataFrame],
                frame: pl.DataFrame, ids_b: set, ids_r: set) -> dict[tuple, dt.date]:
    """(row, benefit) → the first day the line's verdict or amount differs
    between the sides (each side evaluated on its own change points); a line
    on one side only: the first day it is not 不符合 there. Only for the few
    people picked as examples."""
    out = {}
    persons = frame.join(picked.select(pl.col("row").alias(ROW)).unique(), on=ROW, how="semi").select(PERSON, ROW)
    row_of = dict(persons.iter_rows())
    for benefit in picked.get_column("benefit").unique().to_list():
        side_b = _states(result_b, persons, benefit, benefit in ids_b and result_b is not None)
        side_r = _states(result_r, persons, benefit, benefit in ids_r and result_r is not None)
        for person, row in row_of.items():
            days = sorted({d for d, _, _ in side_b.get(person, []) + side_r.get(person, [])})
            for day in days:
                a, b = _at(side_b.get(person, []), day), _at(side_r.get(person, []), day)
                one_sided = benefit not in ids_b or benefit not in ids_r
                if (one_sided and (a[0] is not False or b[0] is not False)) or (not one_sided and a != b):
                    out[(row, benefit)] = day
                    break
    return out


def _candidates(changes: pl.DataFrame, n: int) -> pl.DataFrame:
    return (changes.with_columns(_kind(changes).alias("kind")).sort("row")
            .group_by("benefit", "kind", maintain_order=True).head(n))


def _explain(picked: list[dict], engines: tuple[Engine, Engine], books: tuple[Rulebook, Rulebook],
             year: int) -> list[dict]:
    """The durable engine's determination of each example on both rulebooks."""
    out = []
    for item in picked:
        record = parse_applicant(item.pop("record"))
        day = item["day"] or dt.date(year, 1, 1)
        sides = {}
        for side, engine in zip(("baseline", "reform"), engines):
            result = engine.determine(record, as_of=day, explain=True)
            sides[side] = result
            sides[f"{side}_line"] = next((line for line in result["benefits"] if line["benefit"] == item["benefit"]),
                                         None)
        rule = books[1].by_id.get(item["benefit"]) or books[0].by_id[item["benefit"]]
        out.append({**item, "day": day.isoformat(), "label_zh": rule.label_zh, "clause": rule.clause,
                    "kind_zh": _kind_zh(item["kind"]), **sides})
    return out


_PER_LINE = ("|eligible", "|undetermined", "|money.mid")


@dataclass
class _Side:
    """One rulebook's evaluation of one chunk: what the diff, the tallies and
    the examples read."""
    points: pl.DataFrame
    tally: Tally
    late: list[dict]
    people: Optional[pl.DataFrame]
    result: Optional[pl.DataFrame]
    totals: Optional[LineTotals]
    only: Optional[set[str]] = None      # the lines evaluated, when not all (see ``_combine``)
    copied: frozenset = frozenset()      # the lines ``_combine`` took from the baseline

    def size(self) -> int:
        frames = (self.points, self.people, self.result, self.totals.by_county if self.totals else None)
        return sum(f.estimated_size() for f in frames if f is not None)

    def slim(self, book: Rulebook) -> "_Side":
        """Only the columns a later compare reads (``_lines``, ``_states``): for the cache."""
        people = result = None
        if self.people is not None:
            people = self.people.select(PERSON, *[c for c in self.people.columns if c.endswith(_PER_LINE)])
        if self.result is not None:
            wanted = {rule_column(r.id) for r in book.benefits} | {amount_column(r.id) for r in book.benefits}
            result = self.result.select(PERSON, DAY, *[c for c in self.result.columns if c in wanted])
        return _Side(self.points, self.tally, self.late, people, result, self.totals)


class BaselineCache:
    """The baseline's per-chunk evaluation (and shared facts), keyed on
    (frame digest, baseline version, year): the /policy page asks many
    reforms against one baseline over one caseload. LRU, bounded by the
    frames' estimated bytes; thread-safe (two requests may both compute a
    missing entry; the second store wins, both results are the same)."""

    def __init__(self, max_bytes: int = 2 << 30):
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple, tuple[list, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple) -> Optional[list]:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[0]

    def put(self, key: tuple, chunks: list) -> None:
        size = sum(side.size() + (0 if facts is None else facts.estimated_size()) for side, facts in chunks)
        with self._lock:
            self._entries.pop(key, None)
            if size > self.max_bytes:
                return
            self._entries[key] = (chunks, size)
            while sum(size for _, size in self._entries.values()) > self.max_bytes:
                self._entries.popitem(last=False)

    @property
    def bytes(self) -> int:
        with self._lock:
            return sum(size for _, size in self._entries.values())

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0


BASELINE_CACHE = BaselineCache()


def frame_digest(frame: pl.DataFrame) -> str:
    """A cheap content digest of an applicant frame: its schema and every
    row's hash (Polars, fixed seed; stable within a process)."""
    digest = hashlib.blake2b(str(frame.schema).encode(), digest_size=20)
    digest.update(frame.height.to_bytes(8, "little"))
    if frame.height:
        digest.update(frame.hash_rows(seed=0).to_numpy().tobytes())
    return digest.hexdigest()


@dataclass
class ChunkComparison:
    """One chunk's comparison, as the run folds it (in chunk order, locally
    or from a distributed task): both sides' tallies, the rows rejected, the
    per-person and per-line diffs and the example candidates."""
    tally_b: Tally
    tally_r: Tally
    rejects: list[dict]
    persons: pl.DataFrame
    changes: pl.DataFrame
    picked: list[dict]
    rows: int


class _Plans:
    """Both rulebooks' plans for a budget year, and what a chunk needs of them."""

    def __init__(self, baseline: Rulebook, reform: Rulebook, year: int,
                 est_b: Optional[ColumnarEstimate] = None, est_r: Optional[ColumnarEstimate] = None):
        self.baseline, self.reform = baseline, reform
        self.est_b = est_b or ColumnarEstimate(baseline, year)
        self.est_r = est_r or ColumnarEstimate(reform, year)
        self.ids_b = [r.id for r in baseline.benefits]
        self.ids_r = [r.id for r in reform.benefits]
        self.ids = self.ids_b + [b for b in self.ids_r if b not in self.ids_b]
        self.only = affected_lines(baseline, reform)

    def chunk(self, chunk: FrameChunk, examples: int, timings: Optional[dict] = None,
              cached: Optional[tuple] = None) -> tuple[ChunkComparison, tuple]:
        """One chunk compared; and the baseline's slimmed side and facts for the cache."""
        est_b, est_r, only, ids = self.est_b, self.est_r, self.only, self.ids
        frame = chunk.frame.with_row_index(PERSON)
        if cached is not None:
            base, facts = cached
            with _clock(timings, "reform"):
                side_r = _combine(est_r, base, _reform_side(est_b, est_r, frame, base.points, facts, only))
        else:
            # each side on its own change points: its figures are exactly its estimate's
            with _clock(timings, "points"):
                points_b = est_b.points(frame)
            with _clock(timings, "facts"):
                facts = est_b.facts(frame, points_b) if points_b.height else None
            # the two sides at once: Polars works outside the GIL, the plans are built in Python
            with ThreadPoolExecutor(max_workers=2) as pool:
                running = pool.submit(_timed, timings, "baseline", _run, est_b, frame, points_b, facts)
                side_r = _timed(timings, "reform", _reform_side, est_b, est_r, frame, points_b, facts, only)
                base = running.result()
            with _clock(timings, "reform"):
                side_r = _combine(est_r, base, side_r)
        late = [dict(r) for r in base.late]
        seen = {r["row"] for r in late}
        late += [r for r in side_r.late if r["row"] not in seen]
        rejects = sorted(chunk.rejects + late, key=lambda r: r["row"])
        if late:
            frame = frame.filter(~pl.col(ROW).is_in([r["row"] for r in late]))
        with _clock(timings, "diff"):
            own = [b for b in ids if b not in side_r.copied]      # the copied lines' columns are the baseline's
            persons, changes = _diff(frame, _side(frame, base.people, self.baseline, ids, "b"),
                                     _side(frame, side_r.people, self.reform, own, "r"), ids, side_r.copied)
        picked = []
        if examples and changes.height:
            candidates = _candidates(changes, examples)
            days = _first_days(candidates, base.result, side_r.result, frame, set(self.ids_b), set(self.ids_r))
            rows = frame.join(candidates.select(pl.col("row").alias(ROW)).unique(), on=ROW, how="semi")
            records = {r[ROW]: record_from_row(r) for r in rows.iter_rows(named=True)}
            for c in candidates.iter_rows(named=True):
                picked.append({**c, "day": days.get((c["row"], c["benefit"])), "record": records[c["row"]]})
        part = ChunkComparison(base.tally, side_r.tally, rejects, persons, changes, picked, chunk.rows)
        return part, (base.slim(self.baseline), facts)


def compare_partition(partition: Partition, size: int, version_b: str, version_r: str, year: int,
                      examples: int) -> list[ChunkComparison]:
    """A distributed task (分区任务): one partition's chunks compared on the
    worker's plans of both versions, as the local run compares them."""
    baseline, reform = worker_rulebook(version_b), worker_rulebook(version_r)
    plans = _Plans(baseline, reform, year,
                   worker_remember(version_b, ("plan", year), lambda: ColumnarEstimate(baseline, year)),
                   worker_remember(version_r, ("plan", year), lambda: ColumnarEstimate(reform, year)))
    return [plans.chunk(chunk, examples)[0] for chunk in partition_frames(partition, size)]


def reformed_from_text(text: str, where: str, baseline: Rulebook) -> Rulebook:
    """On a worker: the reform file's text applied to the baseline (a shipment's ``derive``)."""
    return apply_reform(baseline, load_reform(text, name=where))


def reformed_from_files(files: dict, name: str, baseline: Rulebook) -> Rulebook:
    """On a worker: a rules-directory reform, from its files, applied to the baseline."""
    with tempfile.TemporaryDirectory(prefix="benefits-reform-") as folder:
        directory = Path(folder) / name
        for path, data in files.items():
            target = directory / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return apply_reform(baseline, load_reform(directory))


def _shipments(baseline: Rulebook, reform: Rulebook) -> list[Shipment]:
    """Both rulebooks for the workers: the baseline's files, and the step that makes the reform of them."""
    if reform.reform is None:
        raise ValueError("a distributed comparison needs the reform as apply_reform made it")
    if reform.reform.directory is not None:
        derive = partial(reformed_from_files, read_rule_files(reform.reform.directory), reform.reform.directory.name)
    else:
        derive = partial(reformed_from_text, reform.reform.text, reform.reform.where)
    return [Shipment.of(baseline), Shipment.of(baseline, derive, version=reform.version)]


def compare(caseload, baseline: Rulebook, reform: Rulebook, year: int,
            progress: Optional[Callable[[int, Optional[int]], None]] = None,
            examples: int = EXAMPLES_PER_KIND, cache: Optional[BaselineCache] = BASELINE_CACHE,
            timings: Optional[dict] = None, scheduler: Optional[str] = None, progress_bar: bool = False,
            on_partition: Optional[Callable[[int, int], None]] = None) -> Comparison:
    """Compare two rulebooks over a caseload for a budget year.

    ``caseload``: a path (.csv/.xlsx/.parquet/.jsonl, or a folder of Parquet
    partitions), a list of records, or
    an applicant frame (engine/columnar/schema.py) already validated.
    ``baseline`` and ``reform`` are Rulebooks (e.g. ``load_rulebook()`` and
    ``apply_reform(load_rulebook(), load_reform(path))``); neither is changed.
    ``progress(done, total)`` is called at the start, after each chunk and at
    the end, as ``finance.estimate`` does. ``examples``: people shown per
    kind of change (0: none, and no durable engine is started).
    ``cache``: where the baseline's evaluation of an applicant frame is kept
    for the next compare on the same frame, baseline version and year
    (None: not kept, not looked up). The result is the same either way.
    ``timings``: a dict that receives seconds per stage (digest, points
    = change points and month weighting, facts, baseline, reform, diff,
    summary; baseline and reform run at the same time, so they overlap).
    ``scheduler``: ``tcp://HOST:PORT`` or ``local:N``: each partition of a
    partitioned caseload is a task on Dask distributed (the same figures to
    the fen; ClusterError when the cluster cannot be used; no cache);
    ``progress_bar`` shows the partitions done on stderr, ``on_partition(done,
    total)`` is called as each finishes.
    Raises CaseloadError / LayoutError (Chinese) if the caseload cannot be
    read; bad rows are rejected, never stop the run."""
    plans = _Plans(baseline, reform, year)
    key = cached = None
    with ExitStack() as stack:
        if scheduler is not None:
            partitions = cluster_partitions(caseload)
            total = sum(p.rows for p in partitions)
            size = chunk_rows(total)
            client = stack.enter_context(connect(scheduler))
            results = run_partitions(
                client, compare_partition,
                [(p, size, baseline.version, reform.version, year, examples) for p in partitions],
                _shipments(baseline, reform), progress=progress_bar, desc=f"{year}年对比（分区）",
                on_progress=on_partition)
            parts = (part for chunk_parts in results for part in chunk_parts)
            cache = None
        else:
            if isinstance(caseload, pl.DataFrame):
                # an in-memory frame in large chunks: fewer plans to build and fold
                size = max(1, min(caseload.height, CHUNK_ROWS))
                total = caseload.height
                chunks = (FrameChunk(caseload.slice(i, size), [], min(size, total - i))
                          for i in range(0, total, size))
                if cache is not None:
                    with _clock(timings, "digest"):
                        key = (frame_digest(caseload), baseline.version, year)
                        cached = cache.get(key)
            else:
                total, chunks = applicant_frames(caseload)
            kept: list = []

            def local():
                for n, chunk in enumerate(chunks):
                    part, entry = plans.chunk(chunk, examples, timings, cached[n] if cached is not None else None)
                    kept.append(entry)
                    yield part
            parts = local()
        if progress:
            progress(0, total)
        tally_b, tally_r = Tally(), Tally()
        rejects: list[dict] = []
        persons_parts, changes_parts, picked = [], [], []
        done = 0
        for part in parts:
            tally_b.merge(part.tally_b)
            tally_r.merge(part.tally_r)
            rejects += part.rejects
            persons_parts.append(part.persons)
            changes_parts.append(part.changes)
            picked += part.picked
            done += part.rows
            if progress:
                progress(done, total)
    if key is not None and cached is None:
        cache.put(key, kept)
    if progress:
        progress(done, done)
    with _clock(timings, "summary"):
        return _comparison(baseline, reform, year, plans.ids, tally_b, tally_r, persons_parts, changes_parts,
                           rejects, picked, examples, done)


def _comparison(baseline: Rulebook, reform: Rulebook, year: int, ids: list[str], tally_b: Tally, tally_r: Tally,
                persons_parts: list, changes_parts: list, rejects: list[dict], picked: list[dict], examples: int,
                done: int) -> Comparison:
    """The Comparison from the chunks' diffs and both tallies."""
    persons = pl.concat(persons_parts) if persons_parts else _diff(
        pl.DataFrame(schema={PERSON: pl.UInt32, ROW: pl.Int64, "id_number": pl.String, "hukou_county": pl.String}),
        pl.DataFrame(schema={PERSON: pl.UInt32}), pl.DataFrame(schema={PERSON: pl.UInt32}), [])[0]
    changes = pl.concat(changes_parts) if changes_parts else _empty_changes()
    if len(changes_parts) > 1:      # in line order, then row, whatever the chunks
        order = {b: i for i, b in enumerate(ids)}
        changes = changes.sort(pl.col("benefit").replace_strict(order, return_dtype=pl.UInt32), "row")
    rejected_rows = len({r["row"] for r in rejects})
    with Engine(rulebook=baseline) as engine_b, Engine(rulebook=reform) as engine_r:
        summary_b = summarise(tally_b, engine_b, year, None, done, rejected_rows)
        summary_r = summarise(tally_r, engine_r, year, None, done, rejected_rows)
        chosen = _choose(picked, examples)
        explained = _explain(chosen, (engine_b, engine_r), (baseline, reform), year) if chosen else []
    labels = {r.id: r for r in baseline.benefits + reform.benefits}
    floors = _floors()
    return Comparison(
        year=year, label=reform.reform.label if reform.reform else f"规则目录 {reform.directory}",
        reason=reform.reform.reason if reform.reform else "",
        baseline_version=baseline.version, reform_version=reform.version,
        counts={"total": done, "evaluated": persons.height, "rejected": rejected_rows},
        cost=_cost(tally_b, tally_r, summary_b, summary_r, labels, year),
        persons=persons, changes=changes,
        by_benefit=_by_benefit(changes, ids, labels, persons.height, tally_b, tally_r),
        by_county=_by_county(persons, year),
        transitions=_transitions(changes, labels),
        distribution=_distribution(persons),
        examples=explained,
        floors=check_floors(reform, floors), floors_baseline=check_floors(baseline, floors),
        baseline_estimate=summary_b, reform_estimate=summary_r,
        reform_changes=list(reform.changes), rejects=rejects)


_FLOORS: dict[tuple, list[Floor]] = {}


def _floors() -> list[Floor]:
    """load_floors(), parsed again only when a floors file changes."""
    files = sorted(FLOORS_DIR.glob("*.yaml"))
    key = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    if key not in _FLOORS:
        _FLOORS.clear()
        _FLOORS[key] = load_floors()
    return _FLOORS[key]


@contextmanager
def _clock(timings: Optional[dict], stage: str):
    started = time.perf_counter()
    try:
        yield
    finally:
        if timings is not None:
            timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - started


def _timed(timings: Optional[dict], stage: str, work, *args):
    with _clock(timings, stage):
        return work(*args)


def _run(est: ColumnarEstimate, frame: pl.DataFrame, points: pl.DataFrame, facts: Optional[pl.DataFrame],
         only: Optional[set[str]] = None) -> _Side:
    return _Side(points, *est.run(frame, points, facts, only), only=only)


def _reform_side(est_b: ColumnarEstimate, est_r: ColumnarEstimate, frame: pl.DataFrame, points_b: pl.DataFrame,
                 facts: Optional[pl.DataFrame], only: Optional[set[str]]) -> _Side:
    """The reform on its own points; on the baseline's points and facts
    when they are the same, and then only the lines it can change (``only``,
    see affected.py; ``_combine`` adds the rest from the baseline)."""
    if not _same_points(est_b, est_r, frame):
        return _run(est_r, frame, est_r.points(frame), None)
    if est_b.rulebook.event_days() != est_r.rulebook.event_days():
        return _run(est_r, frame, points_b, None)
    return _run(est_r, frame, points_b, facts, only)


def _combine(est: ColumnarEstimate, base: _Side, part: _Side) -> _Side:
    """The reform's side from its evaluated lines (``part.only``) and the
    baseline's fold of every other line: those rules, their parameters and
    the points are the same, so their columns and totals are exactly what a
    full evaluation of the reform gives. The tally is filled as a full fold
    fills it (counties in the same order, lines in the reform's order)."""
    if part.only is None or part.totals is None:
        return part
    kept = tuple(f"{r.id}|" for r in est.rulebook.benefits if r.id not in part.only)
    people = part.people.join(
        base.people.select(PERSON, *[c for c in base.people.columns if c.startswith(kept) and c.endswith(_PER_LINE)]),
        on=PERSON, how="left", maintain_order="left")
    by_county = part.totals.by_county.join(
        base.totals.by_county.select(COUNTY, *[c for c in base.totals.by_county.columns if c.startswith(kept)]),
        on=COUNTY, how="left", maintain_order="left")
    values = {k: v for k, v in base.totals.values.items() if k[0] not in part.only} | part.totals.values
    copied = {r.id for r in est.rulebook.benefits if r.id not in part.only}
    households = [h for h in base.totals.households if h[0] in copied] + part.totals.households
    totals = LineTotals(by_county, values, households)
    est.finish(part.tally, totals)
    return _Side(part.points, part.tally, part.late, people, part.result, totals,
                 copied=frozenset(r.id for r in est.rulebook.benefits if r.id not in part.only))


def _same_points(a: ColumnarEstimate, b: ColumnarEstimate, frame: pl.DataFrame) -> bool:
    """Whether both rulebooks give every person the same change points (the
    same age boundaries, in-force day and parameter change days for each
    county and 城镇/农村): then they are computed once."""
    return (a.planner.ages == b.planner.ages and a.planner.in_force == b.planner.in_force
            and _sorted(a._changes(frame)).equals(_sorted(b._changes(frame))))


def _sorted(changes: pl.DataFrame) -> pl.DataFrame:
    # the combinations come from ``unique``, in no fixed order
    return changes.sort(pl.all(), nulls_last=True)


def _choose(picked: list[dict], n: int) -> list[dict]:
    """The first ``n`` people (by row) of each kind of change, over all chunks."""
    out, seen = [], {}
    for item in sorted(picked, key=lambda c: c["row"]):
        key = (item["benefit"], item["kind"])
        if seen.get(key, 0) < n:
            seen[key] = seen.get(key, 0) + 1
            out.append(item)
    return sorted(out, key=lambda c: (c["benefit"], c["kind"], c["row"]))


def _cost(tally_b: Tally, tally_r: Tally, summary_b: dict, summary_r: dict, labels: dict, year: int) -> pl.DataFrame:
    """benefit × county × payer: baseline, reform, difference (and the range
    bounds), from the tallies' whole fen."""
    pb, pr = dict(tally_b.payer), dict(tally_r.payer)
    budgets = {}
    for summary, target in ((summary_b, pb), (summary_r, pr)):
        for budget in summary["rehabilitation"]:       # 三（一）: the county pays it all
            target[(budget["budget"], budget["county"], "county")] = [to_fen(budget["amount"])] * 3
            budgets[budget["budget"]] = (budget["label_zh"], budget["clause"])
    rows = []
    for key in sorted(set(pb) | set(pr), key=lambda k: (k[0], k[1] == "", k[1], PAYERS.index(k[2]))):
        b, county, payer = key
        vb, vr = pb.get(key, (0, 0, 0)), pr.get(key, (0, 0, 0))
        if not any(vb) and not any(vr):
            continue
        rule = labels.get(b)
        label, clause = (rule.label_zh, rule.clause) if rule is not None else budgets[b]
        rows.append({"benefit": b, "label_zh": label, "clause": clause, "county": county,
                     "county_zh": county_name(county, year), "payer": payer, "payer_zh": PAYER_ZH[payer],
                     "baseline": yuan(vb[1]), "reform": yuan(vr[1]), "difference": yuan(vr[1] - vb[1]),
                     "baseline_min": yuan(vb[0]), "baseline_max": yuan(vb[2]),
                     "reform_min": yuan(vr[0]), "reform_max": yuan(vr[2])})
    schema = {"benefit": pl.String, "label_zh": pl.String, "clause": pl.String, "county": pl.String,
              "county_zh": pl.String, "payer": pl.String, "payer_zh": pl.String, "baseline": pl.Float64,
              "reform": pl.Float64, "difference": pl.Float64, "baseline_min": pl.Float64,
              "baseline_max": pl.Float64, "reform_min": pl.Float64, "reform_max": pl.Float64}
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def _by_benefit(changes: pl.DataFrame, ids: list[str], labels: dict, evaluated: int, tally_b: Tally,
                tally_r: Tally) -> pl.DataFrame:
    counted = changes.group_by("benefit").agg(
        (pl.col("change") == GAIN).sum().alias("gainers"), (pl.col("change") == LOSS).sum().alias("losers"),
        _moved(pl.col("status_baseline"), pl.col("status_reform")).sum().alias("status_changed"),
        (pl.col("difference") != 0).sum().alias("amount_changed"))
    base = pl.DataFrame({
        "benefit": ids, "label_zh": [labels[b].label_zh for b in ids], "clause": [labels[b].clause for b in ids],
        "persons_baseline": [sum(n for (k, _), n in tally_b.persons.items() if k == b) for b in ids],
        "persons_reform": [sum(n for (k, _), n in tally_r.persons.items() if k == b) for b in ids],
        "__b": [sum(v[1] for (k, _), v in tally_b.money.items() if k == b) for b in ids],     # fen
        "__r": [sum(v[1] for (k, _), v in tally_r.money.items() if k == b) for b in ids],
    }, schema_overrides={"persons_baseline": pl.Int64, "persons_reform": pl.Int64, "__b": pl.Int64,
                         "__r": pl.Int64})
    out = base.join(counted, on="benefit", how="left", maintain_order="left").with_columns(
        pl.col("gainers", "losers", "status_changed", "amount_changed").fill_null(0).cast(pl.Int64))
    return out.with_columns(
        (pl.lit(evaluated, dtype=pl.Int64) - pl.col("gainers") - pl.col("losers")).alias("unchanged"),
        yuan_column(pl.col("__b")).alias("baseline"), yuan_column(pl.col("__r")).alias("reform"),
        yuan_column(pl.col("__r") - pl.col("__b")).alias("difference")).select(
        "benefit", "label_zh", "clause", "persons_baseline", "persons_reform", "gainers", "losers", "unchanged",
        "status_changed", "amount_changed", "baseline", "reform", "difference")


def _by_county(persons: pl.DataFrame, year: int) -> pl.DataFrame:
    out = persons.group_by("county").agg(
        pl.len().cast(pl.Int64).alias("persons"), (pl.col("change") == GAIN).sum().cast(pl.Int64).alias("gainers"),
        (pl.col("change") == LOSS).sum().cast(pl.Int64).alias("losers"),
        (pl.col("change") == SAME).sum().cast(pl.Int64).alias("unchanged"),
        pl.col("status_changed").sum().cast(pl.Int64).alias("status_changed"),
        # the persons' yuan back to whole fen, summed exactly
        fen_column(pl.col("baseline")).sum().alias("__b"), fen_column(pl.col("reform")).sum().alias("__r"),
    ).with_columns(yuan_column(pl.col("__b")).alias("baseline"), yuan_column(pl.col("__r")).alias("reform"),
                   yuan_column(pl.col("__r") - pl.col("__b")).alias("difference"))
    out = out.sort(pl.col("county") == "", "county")
    names = [county_name(c, year) for c in out.get_column("county").to_list()]
    return out.with_columns(pl.Series("county_zh", names, dtype=pl.String)).select(
        "county", "county_zh", "persons", "gainers", "losers", "unchanged", "status_changed", "baseline", "reform",
        "difference")


def _transitions(changes: pl.DataFrame, labels: dict) -> pl.DataFrame:
    moved = changes.filter(_moved(pl.col("status_baseline"), pl.col("status_reform"))).group_by(
        "benefit", "status_baseline", "status_reform").agg(pl.len().cast(pl.Int64).alias("persons")).sort(
        "benefit", "status_baseline", "status_reform")
    zh = pl.Enum(list(STATUS_ZH.values()))
    return moved.with_columns(
        pl.col("benefit").replace_strict({b: r.label_zh for b, r in labels.items()},
                                         default=pl.col("benefit")).alias("label_zh"),
        pl.col("status_baseline").cast(pl.String).replace_strict(STATUS_ZH).cast(zh).alias("from_zh"),
        pl.col("status_reform").cast(pl.String).replace_strict(STATUS_ZH).cast(zh).alias("to_zh"),
    ).select("benefit", "label_zh", "status_baseline", "status_reform", "from_zh", "to_zh", "persons")


def _distribution(persons: pl.DataFrame) -> pl.DataFrame:
    """How many people gain or lose how much a year (bins of BINS yuan)."""
    rows, exprs = [], []
    for change, sign in ((LOSS, -1), (GAIN, 1)):
        lower = 0
        for upper in BINS:
            size = pl.col("difference") * sign
            inside = (size > lower) & (size <= upper) if upper is not None else (size > lower)
            name = f"{change}:{lower}"
            exprs += [inside.sum().alias(f"{name}:n"), pl.when(inside).then(fen_column(pl.col("difference")))
                      .otherwise(0).sum().alias(f"{name}:y")]
            verb = CHANGE_ZH[change]
            label = f"{verb} {lower}—{upper} 元" if upper is not None else f"{verb} {lower} 元以上"
            rows.append((change, lower, upper, label, name))
            lower = upper
    totals = persons.select(exprs).row(0, named=True) if persons.height else {}
    return pl.DataFrame(
        [{"change": c, "lower": float(lo), "upper": None if up is None else float(up), "label_zh": label,
          "persons": int(totals.get(f"{name}:n") or 0), "yuan": yuan(totals.get(f"{name}:y") or 0)}
         for c, lo, up, label, name in rows],
        schema={"change": pl.String, "lower": pl.Float64, "upper": pl.Float64, "label_zh": pl.String,
                "persons": pl.Int64, "yuan": pl.Float64})


__all__ = ["Comparison", "compare", "BaselineCache", "BASELINE_CACHE", "frame_digest", "record_from_row", "STATUS_ZH", "CHANGE_ZH"]
