"""The audit workbook (核对结果工作簿): 汇总, 图表, one sheet per finding kind,
名册拒绝, 说明 — through ``benefits.workbooks.Sheet`` (text never a formula,
money to the fen), written atomically. ID numbers are masked unless
``full_ids`` (a county's own clerk, for that county only)."""
from __future__ import annotations

import re
from typing import Optional

import polars as pl

from ..caseload import FORMULA_PREFIXES, atomic_output, write_only_book
from ..engine.identity import county_name
from ..workbooks import Sheet, column_widths
from .findings import DIFFERENCE, DUPLICATE, KIND_ZH, MISSED, NOT_IN_CASELOAD, PENDING, WRONG

SHEETS = (("漏保", MISSED), ("错保", WRONG), ("差额", DIFFERENCE), ("待核", PENDING), ("重复", DUPLICATE),
          ("名册有台账无", NOT_IN_CASELOAD))
_COLUMNS = (("county_zh", "县区"), ("id", "身份证号"), ("name", "姓名"), ("line_zh", "核对项目"),
            ("written", "名册写法"), ("roll_row", "名册行"), ("caseload_row", "台账行"), ("since", "起始日期"),
            ("household", "户（共同生活者中最小的身份证号）"), ("owed_month", "应发（元/月）"),
            ("paid_month", "实发（元/月）"), ("diff_month", "差额（元/月，实发−应发）"),
            ("diff_year", "差额（元/年）"), ("clause", "条款"), ("quote", "原文"), ("condition", "依据/条件"),
            ("missing", "需补充的事实（按先后）"))
SHEET_ROWS = 10_000
"""Findings listed per sheet: more are cut with a note (every finding is in
the CSV written beside the workbook, ``findings_csv``); openpyxl writes
about 20,000 rows a second."""
WIDTH_SAMPLE = 500


def _cell(value):
    if value is None:
        return None
    if isinstance(value, list):
        return "、".join(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def write_audit_workbook(audit, path, full_ids: bool = False, chart_png: Optional[str] = None) -> None:
    """Write the workbook to ``path`` (atomically). ``full_ids``: show whole
    ID numbers (else masked, as finance and policy staff see them)."""
    result = {"rulebook_version": audit.rulebook_version, "year": audit.as_of.year}
    period = f"核对日 {audit.as_of.isoformat()}"
    common = {"period": period, "notes_sheet": "说明"}
    findings = audit.findings.with_columns(
        (pl.col("id_number") if full_ids else pl.col("id_masked")).alias("id"))
    with atomic_output(path) as partial, write_only_book() as book:
        Sheet(book, "汇总", result, ["县区", "核对项目", "发现", "人（户）次", "元/月", "元/年"],
              _summary_rows(audit), **common)
        chart = Sheet(book, "图表", result, None, [["按县区、发现类别的金额（元/月）见 汇总 表；图见同名 .png"]], **common)
        if chart_png:
            from openpyxl.drawing.image import Image
            image = Image(chart_png)
            image.anchor = "A3"
            chart.sheet.add_image(image)
        for title, kind in SHEETS:
            rows = findings.filter(pl.col("kind") == kind)
            # the quoted text is the same for every row of a line: 说明 has it once per rule
            used = [(c, h) for c, h in _COLUMNS if c != "quote" and (rows.height == 0 or rows[c].null_count() < rows.height)]
            body = [[_cell(v) for v in r] for r in rows.head(SHEET_ROWS).select([c for c, _ in used]).iter_rows()]
            widths = column_widths([[h for _, h in used]] + body[:WIDTH_SAMPLE])
            if rows.height > SHEET_ROWS:
                body.append([f"另有 {rows.height - SHEET_ROWS:,} 条未列出：全部发现见同名的 .findings.csv 文件"])
            Sheet(book, title, result, [h for _, h in used], body, widths=widths, **common)
        Sheet(book, "名册拒绝", result, ["名册行", "栏目", "原因"],
              [[r["row"], r["field"], r["message"]] for r in audit.roll_rejects[:SHEET_ROWS]]
              + ([[f"另有 {len(audit.roll_rejects) - SHEET_ROWS:,} 条未列出"]] if len(audit.roll_rejects) > SHEET_ROWS
                 else []), **common)
        Sheet(book, "说明", result, None, _notes(audit), **common)
        book.save(partial)


def _summary_rows(audit) -> list:
    rows = []
    for county, line, kind, count, month, year in audit.summary.iter_rows():
        rows.append([county_name(county, audit.as_of) or "（未填县区）", audit.lines.get(line, line), kind, count,
                     month / 100, year / 100])
    totals = audit.summary.group_by("kind").agg(pl.col("count").sum(), pl.col("month_fen").sum(),
                                                pl.col("year_fen").sum()).sort("kind")
    for kind, count, month, year in totals.iter_rows():
        rows.append((["合计", "", kind, count, month / 100, year / 100], True))
    return rows


def _notes(audit) -> list:
    c = audit.counts
    rows = [[f"核对日：{audit.as_of.isoformat()}（按此日适用规则：年龄、参数、施行日期）"],
            [f"规则版本：{audit.rulebook_version}；项目名称对照：{audit.names_file}"],
            [f"县区：{audit.county}" if audit.county else "县区：全部"],
            [f"台账 {c['caseload_rows']:,} 行，核对 {c['persons']:,} 人，拒绝 {len({r['row'] for r in audit.rejects}):,} 行；"
             f"名册 {c['roll_rows']:,} 行，拒绝 {c['roll_rejected_rows']:,} 行"],
            ["发现类别："]]
    rows += [[f"  {kind}"] for kind in KIND_ZH.values()]
    rows.append(["金额：应发为规则按核对日算出的每月金额（按年的项目折成每月，到分）；低保按户，每户只发一次；"
                 "“不低于”的项目只在实发少于应发时算差额；每年 = 每月 × 12"])
    rows.append(["⚠ 未核实参数（示例值，不是正式标准，不得作为正式依据）："])
    for p in audit.parameters:
        if not p["verified"]:
            values = "；".join(f"{v['county'] or '全市'}{'/' + v['residence'] if v['residence'] else ''} "
                              f"自{v['from']}起 {v['value']}" for v in p["values"])
            rows.append([f"  ⚠ {p['label_zh']}（{p['name']}）：{values}（来源：{p['source']}）"])
    rows.append(["核对的项目、所依据的条款和原文："])
    for line, rules in audit.quotes.items():
        for clause, label, text in rules:
            rows.append([f"  {audit.lines.get(line, line)}｜{clause}「{label}」：{text}"])
    rows.append(["⚠假设（规则文件中标明的读法）："])
    for line, texts in audit.assumptions.items():
        for text in texts:
            rows.append([f"  ⚠ {audit.lines.get(line, line)}：{text}"])
    return rows


def findings_csv(audit, path, full_ids: bool = False) -> None:
    """Every finding as CSV (UTF-8 with BOM, the workbook's Chinese headers),
    atomically; a text cell starting as a formula would (writers.
    FORMULA_PREFIXES) gets Excel's quote prefix."""
    frame = audit.findings.with_columns(
        (pl.col("id_number") if full_ids else pl.col("id_masked")).alias("id"),
        pl.col("missing").list.join("、")).select(
        pl.col("kind").alias("发现"), *[pl.col(c).alias(h) for c, h in _COLUMNS])
    text = [c for c, t in frame.schema.items() if t == pl.String]
    formula = r"^[=+\-@\t\r]"        # FORMULA_PREFIXES as a character class
    assert all(re.match(formula, p) for p in FORMULA_PREFIXES)
    frame = frame.with_columns(pl.when(pl.col(c).str.contains(formula)).then(pl.concat_str(pl.lit("'"), pl.col(c)))
                               .otherwise(pl.col(c)).alias(c) for c in text)
    with atomic_output(path) as partial:
        frame.write_csv(partial, include_bom=True)
