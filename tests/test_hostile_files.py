"""Issue 13: caseload files and the command line under hostile input. Each
hostile file is built in its test."""
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from benefits.cli import main
from benefits.caseload.writers import FORMULA_PREFIXES, write_caseload

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


def evaluate(*args, input=None):
    return CliRunner().invoke(main, ["evaluate", *map(str, args)], input=input)


def rejects_of(out: Path) -> list[tuple]:
    return list(load_workbook(out, read_only=True)["拒绝记录"].iter_rows(min_row=3, values_only=True))


def csv_file(path: Path, header: str, rows: list[str], encoding="utf-8") -> Path:
    path.write_bytes((header + "\n" + "".join(r + "\n" for r in rows)).encode(encoding))
    return path


def csv_row(record=None, **cells) -> str:
    record = record or applicant()
    return f"{record['id_number']},{cells.get('name', record['name'])}"


# item 4
def test_json_lines_split_on_newline_only(tmp_path):
    names = ["张\u2028三", "李\u2029四", "王\u0085五"]
    path = jsonl(tmp_path / "c.jsonl", [applicant() | {"name": n} for n in names] + [applicant()])
    result = evaluate(path)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 4
    assert [r["line"] for r in lines[:3]] == [1, 2, 3]
    assert all(r["rejected"][0]["field"] == "name" and "不可见字符" in r["rejected"][0]["message"] for r in lines[:3])
    assert lines[3]["summary"]["eligible"] > 0
    out = tmp_path / "o.xlsx"
    assert estimate(path, "--out", out).exit_code == 0
    assert sorted({r[0] for r in rejects_of(out)}) == [1, 2, 3]


# item 5
def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_deep_nesting_in_a_csv_or_xlsx_cell_rejects_that_row(tmp_path):
    good = applicant()
    path = csv_file(tmp_path / "c.csv", "id_number,name,household.members",
                    [csv_row(good) + ",[]", csv_row(good) + ',"' + _deep(3_000) + '"', csv_row(good) + ",[]"])
    out = tmp_path / "o.xlsx"
    result = estimate(path, "--out", out)
    assert result.exit_code == 0, result.output
    assert [(r[0], r[1]) for r in rejects_of(out)] == [(3, "household.members")]
    assert "嵌套层数" in rejects_of(out)[0][2]
    from openpyxl import Workbook
    book = Workbook()
    book.active.append(["id_number", "name", "hardship_events"])
    book.active.append([good["id_number"], "甲", _deep(3_000)])
    book.active.append([good["id_number"], "乙", "[]"])
    book.save(tmp_path / "c.xlsx")
    result = estimate(tmp_path / "c.xlsx", "--out", out)
    assert result.exit_code == 0, result.output
    assert [(r[0], r[1]) for r in rejects_of(out)] == [(2, "hardship_events")]
    assert "台账共 2 条：评估 1 人，拒绝 1 条" in result.output


# item 6
@pytest.mark.parametrize("quoted", [False, True])
def test_one_huge_cell_rejects_its_row_only(tmp_path, quoted):
    huge = "张" * 140_000
    cell = f'"{huge}"' if quoted else huge
    path = csv_file(tmp_path / "c.csv", "id_number,name",
                    [csv_row(), csv_row(name=cell), csv_row(), csv_row()])
    out = tmp_path / "o.xlsx"
    result = estimate(path, "--out", out)
    assert result.exit_code == 0, result.output
    assert "台账共 4 条：评估 3 人，拒绝 1 条" in result.output
    assert [r[0] for r in rejects_of(out)] == [3] and "超过128 KB" in rejects_of(out)[0][2]


def test_one_huge_xlsx_cell_rejects_its_row_only(tmp_path):
    from openpyxl import Workbook
    record = applicant()
    book = Workbook()
    book.active.append(["id_number", "name"])
    book.active.append([record["id_number"], "张" * 140_000])
    book.active.append([record["id_number"], "李四"])
    book.save(tmp_path / "c.xlsx")
    out = tmp_path / "o.xlsx"
    result = estimate(tmp_path / "c.xlsx", "--out", out)
    assert result.exit_code == 0, result.output
    assert [(r[0], r[1]) for r in rejects_of(out)] == [(2, "name")]


# item 8
@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"\xef\xbb\xbf"], ids=["empty", "blank", "bom"])
def test_empty_input_says_there_are_no_records(tmp_path, content):
    path = tmp_path / "c.jsonl"
    path.write_bytes(content)
    result = evaluate(path)
    assert result.exit_code == 3 and "没有记录" in result.stderr and result.stdout == ""
    assert evaluate("-", input=content).exit_code == 3
    out = tmp_path / "o.xlsx"
    result = estimate(path, "--out", out)
    assert result.exit_code == 3 and "没有记录" in result.output and not out.exists()
    header_only = csv_file(tmp_path / "c.csv", "id_number,name", [",", ""])
    result = estimate(header_only, "--out", out)
    assert result.exit_code == 3 and "没有记录" in result.output and not out.exists()


# item 9
def test_an_empty_rules_directory_is_a_rulebook_error(tmp_path):
    from benefits.engine import RulebookError, load_rulebook
    empty = tmp_path / "rules"
    (empty / "parameters").mkdir(parents=True)
    with pytest.raises(RulebookError, match="没有规则文件"):
        load_rulebook(empty)
    path = jsonl(tmp_path / "c.jsonl", [applicant()])
    for result in (evaluate(path, "--rules", empty), estimate(path, "--out", tmp_path / "o.xlsx", "--rules", empty),
                   CliRunner().invoke(main, ["rules", "--rules", str(empty)])):
        assert result.exit_code == 1 and "规则文件错误" in result.output + getattr(result, "stderr", "")
    assert not (tmp_path / "o.xlsx").exists()


# item 10
def test_a_pretty_printed_document_is_read_as_records(tmp_path):
    records = [applicant(), applicant() | {"name": ""}, applicant()]
    array = json.dumps(records, ensure_ascii=False, indent=2)
    starts = [i + 1 for i, line in enumerate(array.splitlines()) if line == "  {"]
    path = tmp_path / "c.json"
    path.write_text(array, encoding="utf-8")
    lines = [json.loads(line) for line in evaluate(path).stdout.splitlines()]
    assert len(lines) == 3 and lines[1] == {"line": starts[1], "rejected": [
        {"field": "name", "message": "不能为空"}]}
    one_after_another = "\n".join(json.dumps(r, ensure_ascii=False, indent=4) for r in records)
    assert len(evaluate("-", input=one_after_another).stdout.splitlines()) == 3
    out = tmp_path / "o.xlsx"
    result = estimate(path, "--out", out)
    assert "台账共 3 条：评估 2 人，拒绝 1 条" in result.output and rejects_of(out)[0][0] == starts[1]


def test_a_broken_pretty_printed_document_gives_one_clear_error(tmp_path):
    broken = json.dumps([applicant(), applicant()], indent=2, ensure_ascii=False).replace('"name": "测试",', '"name": "测试"', 1)
    result = evaluate("-", input=broken)
    assert result.exit_code == 1 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "不是有效的JSON" in result.stderr and "JSON Lines" in result.stderr and "第" in result.stderr


def test_json_lines_with_a_broken_first_line_are_still_read_line_by_line():
    text = '{"id_number": \n' + json.dumps(applicant()) + "\n"
    lines = [json.loads(line) for line in evaluate("-", input=text).stdout.splitlines()]
    assert lines[0]["line"] == 1 and lines[1]["summary"]["eligible"] > 0


# item 11
@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_a_csv_or_jsonl_with_a_byte_order_mark_is_read(tmp_path, encoding):
    bom = {"utf-16": b"", "utf-16-be": b"\xfe\xff", "utf-32": b""}[encoding]
    path = tmp_path / "c.csv"
    path.write_bytes(bom + ("id_number,name\n" + csv_row() + "\n" + csv_row() + "\n").encode(encoding))
    out = tmp_path / "o.xlsx"
    result = estimate(path, "--out", out)
    assert result.exit_code == 0, result.output
    assert "台账共 2 条：评估 2 人，拒绝 0 条" in result.output
    path = tmp_path / "c.jsonl"
    path.write_bytes(bom + (json.dumps(applicant(), ensure_ascii=False) + "\n").encode(encoding))
    assert evaluate(path).exit_code == 0


def test_a_utf16_csv_without_a_byte_order_mark_asks_for_utf8(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(("id_number,name\n" + csv_row() + "\n").encode("utf-16-le"))
    result = estimate(path, "--out", tmp_path / "o.xlsx")
    assert result.exit_code == 1 and "另存为 UTF-8" in result.output and "\\udc" not in result.output
    path = tmp_path / "c.jsonl"
    path.write_bytes((json.dumps(applicant()) + "\n").encode("utf-16-le"))
    result = evaluate(path)
    assert result.exit_code == 1 and "另存为 UTF-8" in result.stderr


# item 12
def test_an_unclosed_quote_or_extra_cells_reject_the_row_with_its_number(tmp_path):
    record = applicant()
    rows = [csv_row(record),                                   # row 2
            f'{record["id_number"]},"张三',                    # row 3: a quote closed only …
            f'{record["id_number"]},李四"',                    # row 4: … at the end of the next line
            f'{record["id_number"]},李四,多余',                 # row 5: a cell beyond the header
            f'{record["id_number"]},"王"五',                   # row 6: text after a closing quote
            csv_row(record) + ",,",                            # row 7: trailing empty cells are harmless
            csv_row(record)]                                   # row 8
    path = csv_file(tmp_path / "c.csv", "id_number,name", rows)
    out = tmp_path / "o.xlsx"
    result = estimate(path, "--out", out)
    assert result.exit_code == 0, result.output
    rejects = {r[0]: r[2] for r in rejects_of(out)}
    assert sorted(rejects) == [3, 5, 6]
    assert "第3–4行被读成了一条记录" in rejects[3] and "引号未闭合" in rejects[3]
    assert "多于列名" in rejects[5] and "第3列" in rejects[5]
    assert "引号" in rejects[6]
    assert "评估 3 人" in result.output


def test_an_unclosed_quote_that_runs_to_the_end_of_the_file_is_reported_with_its_lines(tmp_path):
    path = csv_file(tmp_path / "c.csv", "id_number,name", [csv_row(), csv_row(name='"张三'), csv_row(), csv_row()])
    out = tmp_path / "o.xlsx"
    result = estimate(path, "--out", out)
    assert result.exit_code == 0 and [r[0] for r in rejects_of(out)] == [3]
    assert "第3–5行" in rejects_of(out)[0][2] and "引号未闭合" in rejects_of(out)[0][2]


def test_a_value_under_a_blank_header_rejects_the_row(tmp_path):
    path = csv_file(tmp_path / "c.csv", "id_number,,name", [csv_row().replace(",", ",秘密,", 1),
                                                           csv_row().replace(",", ",,", 1)])
    out = tmp_path / "o.xlsx"
    result = estimate(path, "--out", out)
    assert result.exit_code == 0 and [(r[0], r[1]) for r in rejects_of(out)] == [(2, "(第2列)")]


def test_an_output_file_gets_the_usual_permissions(tmp_path):
    previous = os.umask(0o027)
    try:
        write_caseload([applicant()], tmp_path / "c.jsonl")
    finally:
        os.umask(previous)
    assert (tmp_path / "c.jsonl").stat().st_mode & 0o777 == 0o640


def test_a_column_name_cannot_drive_the_terminal_either(tmp_path):
    path = csv_file(tmp_path / "c.csv", "id_number,\x1b[2Jname", [csv_row()])
    result = estimate(path, "--out", tmp_path / "o.xlsx")
    assert result.exit_code == 1 and "\x1b" not in result.output and "\\u001b[2Jname" in result.output



def test_an_output_that_cannot_be_written_is_one_line_naming_the_file(tmp_path, monkeypatch):
    import errno
    from benefits.caseload import writers

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "o.xlsx"))
    monkeypatch.setattr(writers.tempfile, "mkstemp", full)
    result = estimate(jsonl(tmp_path / "c.jsonl", [applicant()]), "--out", tmp_path / "o.xlsx")
    assert result.exit_code == 74
    assert result.output.strip().endswith(f"无法读写文件 {tmp_path / 'o.xlsx'}：磁盘已满")
