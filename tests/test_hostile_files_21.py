"""Issue 21 items 5–9 and 15: a huge multi-line cell, invisible names, the
one date window, a damaged XLSX, GB18030/GBK CSV, non-ASCII digits in the
scorecard. Each hostile file is built in its test."""
import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from benefits.caseload import detect_encoding, open_caseload, parse_row
from benefits.cli import main
from benefits.costing import applicant_frames
from benefits.engine.applicant import InvalidApplicant, parse_applicant

from .factories import applicant


def invoke(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def estimate(path, out, *more):
    return invoke("estimate", path, "--year", "2013", "--out", out, "--workers", "1", "--quiet", *more)


def rejects_of(out: Path) -> list[tuple]:
    return list(load_workbook(out, read_only=True)["拒绝记录"].iter_rows(min_row=3, values_only=True))


# item 5
@pytest.mark.parametrize("engine", ["columnar", "durable"])
def test_a_quoted_multi_line_cell_over_the_limit_rejects_its_row_once(tmp_path, engine):
    record = applicant()
    huge = "\n".join(["张" * 1_000] * 150)                 # 150 lines, 450 KB: over the 128 KB limit
    path = tmp_path / "c.csv"
    path.write_text(f"id_number,name\n{record['id_number']},甲\n{record['id_number']},\"{huge}\"\n"
                    f"{record['id_number']},乙\n", encoding="utf-8")
    out = tmp_path / "o.xlsx"
    result = estimate(path, out, "--engine", engine)
    assert result.exit_code == 0, result.output
    assert "台账共 3 条：评估 2 人，拒绝 1 条" in result.output
    ((row, field, message),) = rejects_of(out)
    assert row == 3 and field == "(记录)" and "第3–152行" in message and "超过128 KB" in message


# item 6
INVISIBLE = ["\u3164\u3164", "\u034f", "\u200b\u200b", "\ufe0f", "张\ufe0f三", "\u115f", "\uffa0", "李\U000e0100"]


@pytest.mark.parametrize("name", INVISIBLE)
def test_a_name_of_invisible_characters_is_refused_by_both_engines(tmp_path, name):
    with pytest.raises(InvalidApplicant) as caught:
        parse_applicant(applicant() | {"name": name})
    ((field, message),) = [(e.field, e.message) for e in caught.value.errors]
    assert field == "name" and "不可见字符" in message
    path = tmp_path / "c.csv"
    path.write_text(f"id_number,name\n{applicant()['id_number']},{name}\n", encoding="utf-8")
    _, frames = applicant_frames(path)
    (chunk,) = list(frames)
    assert chunk.frame.height == 0 and [(r["field"], r["message"]) for r in chunk.rejects] == [(field, message)]


def test_visible_names_still_pass():
    for name in ["张三", "欧阳娜娜", "买买提·艾力", "Li Lei"]:
        assert parse_applicant(applicant() | {"name": name}).name == name


# item 7
DATES = {"military.referral_date": {"military": {"retired_soldier": "government_placement",
                                                 "referral_date": "9999-12-31"}},
         "disaster.date": {"disaster": {"affected": True, "date": "1899-12-31"}},
         "hardship_events.0.date": {"hardship_events": [{"case": "hospitalised", "date": "2101-01-01"}]}}


@pytest.mark.parametrize("field", list(DATES))
def test_one_date_window_for_every_date_field_and_both_engines(tmp_path, field):
    record = applicant() | DATES[field]
    with pytest.raises(InvalidApplicant) as caught:
        parse_applicant(record)
    message = next(e.message for e in caught.value.errors if e.field == field)
    assert message == "日期应在1900-01-01至2100-12-31之间"
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    result = invoke("evaluate", path)                          # durable_rules, one applicant
    assert result.exit_code == 1 and json.loads(result.stdout)["rejected"][0]["message"] == message
    out = tmp_path / "o.parquet"
    result = invoke("evaluate", "--batch", path, "--out", out)  # columnar
    assert result.exit_code == 1 and json.loads(result.stdout.splitlines()[0])["rejected"][0]["message"] == message
    for engine in ("columnar", "durable"):
        result = estimate(path, tmp_path / "o.xlsx", "--engine", engine)
        assert result.exit_code == 0 and "拒绝 1 条" in result.output


@pytest.mark.parametrize("day", ["1899-12-31", "2101-01-01", "9999-12-31", "0001-01-01", "２０１３-01-01"])
def test_as_of_outside_the_window_is_bad_usage_everywhere(tmp_path, day):
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(applicant()) + "\n", encoding="utf-8")
    for args in (["evaluate", path], ["scorecard", Path(__file__).parents[1] / "fixtures" / "scorecard-demo.csv"]):
        result = invoke(*args, "--as-of", day)
        assert result.exit_code == 2 and "--as-of" in result.stderr, result.output


# item 8
def _xlsx(tmp_path) -> bytes:
    book = Workbook()
    book.active.append(["id_number", "name"])
    for _ in range(30):
        book.active.append([applicant()["id_number"], "张三"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _flip_in_sheet(data: bytes) -> bytes:
    """One flipped byte inside the sheet's compressed data."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    broken = bytearray(data)
    broken[start + info.compress_size // 2] ^= 0xFF
    return bytes(broken)


@pytest.mark.parametrize("damage", ["flipped", "truncated"])
def test_a_damaged_xlsx_is_exit_66_with_file_damaged(tmp_path, damage):
    data = _xlsx(tmp_path)
    path = tmp_path / "c.xlsx"
    path.write_bytes(_flip_in_sheet(data) if damage == "flipped" else data[:len(data) * 2 // 3])
    for engine in ("columnar", "durable"):
        result = estimate(path, tmp_path / "o.xlsx", "--engine", engine)
        assert result.exit_code == 66, result.output
        assert "文件已损坏" in result.stderr and "Traceback" not in result.output
    result = invoke("evaluate", "--batch", path, "--out", tmp_path / "o.parquet")
    assert result.exit_code == 66 and "文件已损坏" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.xlsx"]


# item 9
def _chinese_excel_csv(count: int, encoding: str) -> bytes:
    """What Chinese Excel's “CSV（逗号分隔）” writes: GBK/GB18030, CRLF, no BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["id_number", "name", "hukou_county"])
    names = ["魏英", "张三", "欧阳娜娜", "李雯"]
    for i in range(count):
        writer.writerow([applicant()["id_number"], names[i % len(names)], "411202"])
    return buffer.getvalue().encode(encoding)


@pytest.mark.parametrize("encoding", ["gb18030", "gbk"])
def test_a_gb18030_or_gbk_csv_is_read_whole_in_that_encoding(tmp_path, encoding):
    path = tmp_path / "c.csv"
    path.write_bytes(_chinese_excel_csv(40, encoding))
    assert detect_encoding(io.BytesIO(path.read_bytes())) == "gb18030"
    caseload = open_caseload(path)
    names = [parse_row(caseload.names, payload).name for _, payload in caseload.rows]
    assert names[:4] == ["魏英", "张三", "欧阳娜娜", "李雯"] and len(names) == 40
    _, frames = applicant_frames(path)
    (chunk,) = list(frames)
    assert chunk.frame["name"].to_list() == names and chunk.rejects == []
    out = tmp_path / "o.xlsx"
    result = estimate(path, out)
    assert result.exit_code == 0 and "台账共 40 条：评估 40 人，拒绝 0 条" in result.output
    assert "台账编码：GB18030" in result.stderr
    notes = {r[0]: r[1] for r in load_workbook(out, read_only=True)["参数与假设"].iter_rows(values_only=True)
             if len(r) > 1 and r[0]}
    assert notes["台账编码"].startswith("GB18030")


def test_utf8_stays_utf8_and_a_file_is_never_read_in_two_encodings(tmp_path):
    plain = _chinese_excel_csv(3, "utf-8")
    assert detect_encoding(io.BytesIO(plain)) == "utf-8-sig"
    # UTF-8 with one GB18030 row: not all UTF-8, so the whole file is GB18030 — or, where
    # that does not decode either, all UTF-8 with the bad row rejected: never a mix
    mixed = plain + "411202197301010011,魏英,411202\r\n".encode("gb18030")
    encoding = detect_encoding(io.BytesIO(mixed))
    assert encoding in ("gb18030", "utf-8-sig")
    path = tmp_path / "c.csv"
    path.write_bytes(mixed)
    out = tmp_path / "o.xlsx"
    result = estimate(path, out)
    assert result.exit_code == 0 and "台账共 4 条" in result.output
    noise = plain + b"\xff\xfe\x80,\r\n"            # neither UTF-8 nor GB18030: UTF-8, that row rejected
    assert detect_encoding(io.BytesIO(noise)) == "utf-8-sig"


def test_a_gb18030_csv_on_stdin_and_a_utf16_without_a_mark_keep_their_messages(tmp_path):
    data = _chinese_excel_csv(3, "gb18030")
    caseload = open_caseload(io.BufferedReader(io.BytesIO(data)), "csv")
    assert [parse_row(caseload.names, p).name for _, p in caseload.rows] == ["魏英", "张三", "欧阳娜娜"]
    path = tmp_path / "c.csv"
    path.write_bytes("id_number,name\n411202197301010011,魏英\n".encode("utf-16-le"))
    assert detect_encoding(io.BytesIO(path.read_bytes())) == "utf-8-sig"   # NULs: never GB18030


# item 15
@pytest.mark.parametrize("text", ["¹²", "١٢", "①", "12²", "۱۲"])
def test_a_scorecard_number_in_other_digits_is_refused(tmp_path, text):
    demo = (Path(__file__).parents[1] / "fixtures" / "scorecard-demo.csv").read_text(encoding="utf-8-sig")
    head, first, *rest = demo.splitlines()
    cells = next(csv.reader([first]))
    original, cells[5] = cells[5], text
    buffer = io.StringIO()
    csv.writer(buffer).writerow(cells)
    path = tmp_path / "s.csv"
    path.write_text("\n".join([head, buffer.getvalue().strip(), *rest]) + "\n", encoding="utf-8")
    result = invoke("scorecard", path, "--as-of", "2015-12-31")
    assert result.exit_code == 1 and "非阿拉伯数字" in result.stderr, result.output
    cells[5] = "".join(chr(ord(c) + 0xFEE0) for c in original)   # full-width, as an input method types it: read
    buffer = io.StringIO()
    csv.writer(buffer).writerow(cells)
    path.write_text("\n".join([head, buffer.getvalue().strip(), *rest]) + "\n", encoding="utf-8")
    assert invoke("scorecard", path, "--as-of", "2015-12-31").exit_code == 0
