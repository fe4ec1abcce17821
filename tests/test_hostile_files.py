"""Issue 13: caseload files and the command line under hostile input. Each
hostile file is built in its test."""
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from benefits.cli import main
from benefits.finance.writers import FORMULA_PREFIXES, write_caseload

from .factories import applicant

INJECTIONS = ['=HYPERLINK("http://example.invalid","点我")', "=1+1", "+1+1", "-1+1", "@SUM(A1)",
              "\t=1+1", "\r=1+1", "#N/A"]
# XML reads a carriage return back as a line feed
READ_BACK = {text.replace("\r", "\n"): text for text in INJECTIONS}


def estimate(*args, catch=True):
    return CliRunner().invoke(main, ["estimate", *map(str, args), "--year", "2013", "--workers", "1",
                                     "--quiet"], catch_exceptions=catch)


def jsonl(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def every_cell(path: Path):
    book = load_workbook(path)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            yield from row


def test_user_text_never_becomes_a_formula_in_the_workbook(tmp_path):
    records = [applicant()] + [applicant() | {text: 1} for text in INJECTIONS]
    out = tmp_path / "o.xlsx"
    result = estimate(jsonl(tmp_path / "c.jsonl", records), "--out", out)
    assert result.exit_code == 0, result.output
    cells = list(every_cell(out))
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    fields = {READ_BACK[c.value]: c for c in cells if c.value in READ_BACK}
    assert set(fields) == set(INJECTIONS)              # each written exactly as given …
    for text, cell in fields.items():                  # … as text, marked as typed-as-text when it looks like a formula
        assert cell.data_type == "s"
        assert cell.quotePrefix == text.startswith(FORMULA_PREFIXES)


def test_user_text_never_becomes_a_formula_in_a_caseload_workbook(tmp_path):
    out = tmp_path / "c.xlsx"
    write_caseload([applicant() | {"name": text} for text in INJECTIONS], out)
    names = [c for c in every_cell(out) if c.value in READ_BACK]
    assert len(names) == len(INJECTIONS) and all(c.data_type == "s" for c in names)


class Boom(Exception):
    pass


def _failing_rejects():
    yield {"row": 2, "field": "name", "message": "过长"}
    raise Boom


def test_a_failed_workbook_leaves_the_previous_file_and_no_partial_one(tmp_path):
    from benefits.finance.estimate import estimate as run_estimate
    from benefits.finance.workbook import write_workbook
    result = run_estimate([applicant()], 2013, workers=1)
    out = tmp_path / "o.xlsx"
    write_workbook(result, out)
    before = out.read_bytes()
    with pytest.raises(Boom):
        write_workbook(result, out, rejects=_failing_rejects())
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.xlsx"]


def test_a_failed_chart_or_caseload_leaves_nothing_under_the_final_name(tmp_path, monkeypatch):
    from matplotlib.figure import Figure
    from benefits.finance.chart import county_chart
    from benefits.finance.estimate import estimate as run_estimate
    result = run_estimate([applicant()], 2013, workers=1)
    real = Figure.savefig

    def half_written(self, fname, **kw):
        real(self, fname, **kw)
        raise Boom
    monkeypatch.setattr(Figure, "savefig", half_written)
    with pytest.raises(Boom):
        county_chart(result, tmp_path / "chart.png")

    def records():
        yield applicant()
        raise Boom
    for suffix in ("jsonl", "csv", "xlsx"):
        with pytest.raises(Boom):
            write_caseload(records(), tmp_path / f"c.{suffix}")
    assert list(tmp_path.iterdir()) == []


def test_a_field_name_cannot_drive_the_terminal(tmp_path):
    result = estimate(jsonl(tmp_path / "c.jsonl", [applicant() | {"\x1b[2J\u202e": 1}]), "--out", tmp_path / "o.xlsx")
    assert result.exit_code == 0
    assert "\x1b" not in result.output and "\u202e" not in result.output
    assert "\\u001b[2J\\u202e：不认识的字段" in result.output
