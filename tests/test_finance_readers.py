"""CSV, XLSX and JSON Lines caseloads: the flat column layout, and the three
readers agreeing on the same data."""
import csv
import json

import pytest

from benefits.engine import InvalidApplicant, parse_applicant
from benefits.caseload import CaseloadError, LayoutError, open_caseload, parse_row
from benefits.caseload.columns import COLUMNS, flatten, unflatten
from benefits.caseload.synthetic import caseload
from benefits.caseload.writers import write_caseload
from benefits.finance import estimate


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("caseload")
    out = {}
    for fmt in ("jsonl", "csv", "xlsx"):
        out[fmt] = folder / f"caseload.{fmt}"
        assert write_caseload(caseload(240, seed=7, bad=4), out[fmt]) == 240
    return out


def _parsed(path):
    """(row, Applicant or sorted error fields) for every row of a file."""
    loaded = open_caseload(path)
    out = []
    for number, payload in loaded.rows:
        try:
            out.append(parse_row(loaded.names, payload))
        except InvalidApplicant as exc:
            out.append(sorted(e.field for e in exc.errors))
    return out


def test_readers_agree_record_by_record(files):
    jsonl, sheet, book = (_parsed(files[f]) for f in ("jsonl", "csv", "xlsx"))
    assert len(jsonl) == 240
    assert jsonl == sheet == book
    assert sum(isinstance(r, list) for r in jsonl) == 4


def test_readers_agree_on_the_estimate(files):
    results = {f: estimate(path, 2013, workers=1) for f, path in files.items()}
    rejects = {f: r.pop("rejects") for f, r in results.items()}
    assert results["jsonl"] == results["csv"] == results["xlsx"]
    # sheets count the header as row 1
    assert [r["row"] + 1 for r in rejects["jsonl"]] == [r["row"] for r in rejects["csv"]] \
        == [r["row"] for r in rejects["xlsx"]]


def test_every_column_is_a_record_field():
    record = {"id_number": "411202197003120116", "name": "王建国",
              "certificate": {"number": "41120219700312011642", "category": 4, "grade": 2},
              "household": {"members": [{"relation": "spouse", "age": 41}], "monthly_income": 300.0},
              "status": {"dibao": True}, "hardship_events": [{"case": "stranded"}]}
    flat = flatten(record)
    assert flat["certificate.number"] == "41120219700312011642"
    assert json.loads(flat["household.members"]) == [{"relation": "spouse", "age": 41}]
    names = [c.path for c in COLUMNS]
    assert unflatten(names, tuple(flat.get(n) for n in names)) == record


def test_blank_cell_is_an_absent_fact():
    names = ["id_number", "name", "status.dibao", "status.wubao", "household.monthly_income"]
    record = unflatten(names, ("411202197003120116", "王建国", "", "否", "  "))
    assert record == {"id_number": "411202197003120116", "name": "王建国", "status": {"wubao": False}}


def test_spreadsheet_spellings():
    names = ["id_number", "name", "status.dibao", "certificate.category", "household.monthly_income"]
    record = unflatten(names, (411202197003120116, "王建国", "是", "4", "1,200"))
    assert record["id_number"] == "411202197003120116"
    assert record["status"]["dibao"] is True
    assert record["certificate"]["category"] == 4
    assert record["household"]["monthly_income"] == 1200.0


def test_bad_cells_are_rejected_with_the_field(tmp_path):
    path = tmp_path / "bad.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id_number", "name", "household.members", "status.dibao", "certificate.grade"])
        writer.writerow(["411202197003120116", "王建国", "[{", "也许", ""])
        writer.writerow(["", "", "", "", ""])                      # a blank row is not a record
        writer.writerow(["411202197003120116", "王建国", "[]", "true", ""])
    result = estimate(path, 2013, workers=1)
    assert result["counts"]["total"] == 2 and result["counts"]["rejected"] == 1
    assert [r["row"] for r in result["rejects"]] == [2]
    assert result["rejects"][0]["field"] == "household.members"
    assert "JSON" in result["rejects"][0]["message"]
    # once the JSON reads, the model's own checks speak
    with pytest.raises(InvalidApplicant) as caught:
        parse_applicant(unflatten(["id_number", "name", "status.dibao"],
                                  ("411202197003120116", "王建国", "也许")))
    assert caught.value.errors[0].field == "status.dibao"


def test_unknown_column_is_a_file_error(tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("id_number,name,收入\n411202197003120116,王建国,300\n", encoding="utf-8")
    with pytest.raises(LayoutError, match="不认识的列：收入"):
        estimate(path, 2013, workers=1)


def test_unreadable_files(tmp_path):
    with pytest.raises(CaseloadError, match="找不到"):
        estimate(tmp_path / "none.csv", 2013, workers=1)
    (tmp_path / "x.txt").write_text("?", encoding="utf-8")
    with pytest.raises(CaseloadError, match="格式"):
        estimate(tmp_path / "x.txt", 2013, workers=1)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(CaseloadError, match="XLSX"):
        estimate(broken, 2013, workers=1)


def test_streams_need_a_format(files):
    with open(files["csv"], "rb") as stream:
        assert estimate(stream, 2013, workers=1, fmt="csv")["counts"]["total"] == 240
    with open(files["jsonl"], "rb") as stream, pytest.raises(CaseloadError):
        estimate(stream, 2013, workers=1)


def test_spreadsheet_dates_become_iso_dates():
    import datetime as dt
    names = ["id_number", "name", "education.admission.level", "education.admission.date"]
    record = unflatten(names, ("411202197003120116", "王建国", "college", dt.datetime(2013, 9, 1)))
    assert record["education"]["admission"] == {"level": "college", "date": "2013-09-01"}
    assert parse_applicant(record).education.admission.date == dt.date(2013, 9, 1)


@pytest.mark.parametrize("suffix", ["jsonl", "csv"])
def test_a_row_that_is_not_utf8_is_rejected_not_fatal(tmp_path, suffix):
    records = list(caseload(3, seed=5))
    path = tmp_path / f"c.{suffix}"
    write_caseload(iter(records), path)
    data = path.read_bytes()
    name = records[1]["name"].encode("utf-8")
    path.write_bytes(data.replace(name, name.decode("utf-8").encode("gbk"), 1))   # one row saved as GBK
    result = estimate(path, 2013, workers=1)
    assert result["counts"]["evaluated"] == 2 and result["counts"]["rejected"] == 1
    assert "UTF-8" in result["rejects"][0]["message"]
