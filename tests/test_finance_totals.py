"""Issue 17 item 15: the estimate workbook's totals add up to the fen. Each
person's amount on a line is rounded once; every figure is a sum of those,
so every 合计 is the sum of its rows and the same total reads the same on
every sheet. Checked on a generated caseload, read back from the XLSX."""
from __future__ import annotations

BOUNDS = ("下限", "中值", "上限")
PAYERS_ZH = ("市级财政", "县级财政", "未指明")


def test_every_total_row_is_the_sum_of_its_rows(estimate_book):
    """``estimate_book``: ``benefits estimate`` of ``benefits generate --size 6000 --seed 1`` (conftest.py)."""
    book = estimate_book
    mismatches = [m for table in book.values() for m in table.total_mismatches()]
    assert mismatches == []
    assert [t for t in ("按项目", "按县区", "低保与63号新增", "按出资方", "康复经费") if not book[t].totals] == []


def test_the_total_is_the_same_figure_on_every_sheet(estimate_book):
    book = estimate_book
    by_benefit, by_county, by_payer = book["按项目"], book["按县区"], book["按出资方"]
    county_payer, split = book["县区×出资方"], book["低保与63号新增"]
    for bound in BOUNDS:
        total = by_benefit.total(bound)
        assert total > 0
        seen = {"按县区": by_county.total(bound), "低保与63号新增": split.total(bound),
                "按出资方": by_payer.total(bound), "县区×出资方": county_payer.sum(bound)}
        assert seen == dict.fromkeys(seen, total), bound
    # each payer: 按项目's 合计 column, 按出资方's row, 按县区's 合计 and the county × payer rows
    payer_rows = {r[0]: r for r in by_payer.rows}
    for payer in PAYERS_ZH:
        from_payer = round(payer_rows[payer][by_payer.index("中值")] * 100)
        assert by_benefit.total(f"{payer}（中值）") == from_payer
        assert by_county.total(f"{payer}中值") == from_payer
        rows = [r for r in county_payer.rows if r[county_payer.index("出资方")] == payer]
        assert county_payer.sum("中值", rows) == from_payer
    # each county: its row in 按县区 is the sum of its payer rows
    for row in by_county.rows:
        rows = [r for r in county_payer.rows if r[0] == row[0]]
        for bound in BOUNDS:
            assert county_payer.sum(bound, rows) == round(row[by_county.index(bound)] * 100), (row[1], bound)
    # 三（一）: 康复经费's total is 按县区's, and the county's whole share adds it to 县级财政
    rehabilitation = book["康复经费"].total("全年金额")
    assert by_county.total("康复专项经费（三（一））") == rehabilitation
    for bound in BOUNDS:
        assert by_county.total(f"县级合计{bound}（县级财政+康复经费）") == \
            by_county.total(f"县级财政{bound}") + rehabilitation


def _line(amount, split):
    return {"benefit": "x", "status": "eligible", "period": "monthly", "amount": {"kind": "fixed", "value": amount},
            "assumptions": [], "unverified": [], "duplicate_of": None, "payer_split": split}


def test_a_person_s_amount_on_a_line_is_rounded_once_and_its_payers_add_up_to_it():
    """Two half-month stretches of 100.01 a month, paid half by the city and
    half by the county: 50.005 + 50.005 = 100.01 for the year, rounded
    once (each stretch rounded would give 100.02); the halves, 50.005 each,
    round to 50.01 and 50.01, one fen too many: the first is 50.00."""
    from benefits.costing import Tally
    tally = Tally()
    line = _line(100.01, {"city": 50.005, "county": 50.005})
    tally.add_person("411202", [{"benefits": [line]}, {"benefits": [line]}], [0.5, 0.5])
    assert tally.money[("x", "411202")] == [10001] * 3
    assert [tally.payer[("x", "411202", who)][1] for who in ("city", "county")] == [5000, 5001]


def test_apportioning_a_rounded_amount_is_the_same_in_python_and_polars():
    import random

    import polars as pl

    from benefits.costing.fen import apportion, apportion_columns, fen_column, to_fen
    rng = random.Random(17)
    rows = []
    for _ in range(20000):
        shares = rng.choice([(0.5, 0.5, 0.0), (0.3, 0.7, 0.0), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0), (0.2, 0.3, 0.5)])
        amount = rng.choice([rng.uniform(0, 5000), rng.randrange(0, 500000) / 100 + 0.005])
        rows.append({"total": amount, **{w: amount * s for w, s in zip(("city", "county", "unspecified"), shares)}})
    frame = pl.DataFrame(rows)
    total = fen_column(pl.col("total"))
    got = frame.select(total.alias("total"),
                       **apportion_columns(total, {w: pl.col(w) for w in ("city", "county", "unspecified")}))
    for row, out in zip(rows, got.iter_rows(named=True)):
        fen = to_fen(row["total"])
        parts = apportion(fen, {w: row[w] for w in ("city", "county", "unspecified")})
        assert out == {"total": fen, **parts}
        assert sum(parts.values()) == fen and all(abs(parts[w] - row[w] * 100) < 1.5 for w in parts)
