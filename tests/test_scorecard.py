"""The county scorecard of 81号's targets: the target rules quote the law,
the evaluator's three-valued logic and deadlines, the indicators reader's
Chinese errors, the command and the workbooks."""
from __future__ import annotations

import copy
import datetime as dt
import io
import re
import zipfile
from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from benefits.cli import main
from benefits.engine import load_rulebook
from benefits.engine.identity import CURRENT_COUNTIES
from benefits.scorecard import (MET, NOT_DUE, NOT_MET, UNKNOWN, IndicatorError, TargetsError, evaluate,
                                load_targets, read_indicators)
from benefits.scorecard.indicators import MAX_BYTES, MAX_ROWS
from benefits.scorecard.targets import CITY, shown

ROOT = Path(__file__).resolve().parents[1]
POLICY_81 = (ROOT / "policy" / "sanzheng-2012-81-civil-affairs.md").read_text()
DEMO = ROOT / "fixtures" / "scorecard-demo.csv"
TEMPLATE = ROOT / "fixtures" / "scorecard-template.xlsx"
TARGETS = load_targets()
COUNTIES = list(CURRENT_COUNTIES)
END_2015 = dt.date(2015, 12, 31)


def _normalise(text: str) -> str:
    return re.sub(r"\s+", "", text)


def csv_bytes(values: dict[str, object], counties=COUNTIES) -> bytes:
    """An indicators CSV: each indicator the same value in every county, or a
    {county: value} mapping; indicators not given are left out (unknown)."""
    lines = ["指标代码," + ",".join(f"{c} {CURRENT_COUNTIES[c]}" for c in counties)]
    for name, value in values.items():
        cells = [value.get(c, "") if isinstance(value, dict) else value for c in counties]
        lines.append(name + "," + ",".join("" if v is None else str(v) for v in cells))
    return ("\n".join(lines) + "\n").encode()


def card(values: dict, as_of=END_2015, counties=COUNTIES):
    return evaluate(TARGETS, read_indicators(csv_bytes(values, counties), TARGETS, "x.csv"), as_of)


def status(values: dict, target: str, county="411202", as_of=END_2015) -> str:
    return card(values, as_of).cell(county, target).status


# -- the target rules quote 81号 ------------------------------------------------------------------

def test_every_target_quotes_81_verbatim():
    """`text` and `deadline_text` are 81号's own words ('……' marks an elision)."""
    policy = _normalise(POLICY_81)
    for target in TARGETS.targets:
        for fragment in target.text.split("……") + [target.deadline_text or ""]:
            assert _normalise(fragment) in policy, (target.id, fragment)


def test_the_quote_check_fails_on_a_wrong_quote():
    policy = _normalise(POLICY_81)
    beds = next(t for t in TARGETS.targets if t.id == "beds_per_thousand_elderly")
    wrong = beds.text.replace("30", "35")
    assert wrong != beds.text
    assert not all(_normalise(f) in policy for f in wrong.split("……"))


def test_every_target_of_the_brief_is_encoded_with_its_clause():
    clauses = {t.id: t.clause for t in TARGETS.targets}
    assert clauses == {
        "disaster_informants": "81号 第1条", "warmth_project_2013": "81号 第2条",
        "warmth_project_2014": "81号 第2条", "warmth_project_2015": "81号 第2条",
        "public_elderly_institution": "81号 第3条", "beds_per_thousand_elderly": "81号 第3条",
        "home_care_network": "81号 第3条", "welfare_centre": "81号 第3条",
        "urban_community_facilities": "81号 第5条", "rural_community_facilities": "81号 第5条",
        "community_facility_area": "81号 第5条", "community_info_platform": "81号 第5条",
        "community_info_services": "81号 第5条", "martyr_memorials": "81号 第9条",
        "veteran_training": "81号 第10条", "rescue_station": "81号 第13条",
        # issue 17 item 13
        "disaster_storage_network": "81号 第1条", "medical_settlement_platform": "81号 第2条",
        "wubao_standard_floor": "81号 第2条", "donation_stations": "81号 第3条",
        "funeral_policy_coverage": "81号 第15条", "township_standardisation": "81号 第19条"}


def test_a_target_without_a_stated_deadline_says_so_as_an_assumption():
    for target in TARGETS.targets:
        assert target.assumptions, target.id            # every reading is named
        if target.deadline is None:
            assert "no_deadline" in target.assumptions


def test_the_applicant_rulebook_does_not_read_the_targets_folder():
    book = load_rulebook()
    assert not any(r.source_file.startswith("81-targets") for r in book.rules)


@pytest.mark.parametrize("change, message", [
    (lambda d: d["targets"][0].update(clause="第1条"), "clause"),
    (lambda d: d["targets"][0]["all"][0].update(part="no_such"), "unknown indicator no_such"),
    (lambda d: d["targets"][0].update(assumptions=["no_such"]), "unknown assumption no_such"),
    (lambda d: d["targets"][0].update(deadline_text=None), "go together"),
    (lambda d: d["targets"][0]["all"][0].update(value="village_committees"), "exactly one"),
    (lambda d: d["targets"].append(copy.deepcopy(d["targets"][0])), "defined twice"),  # a copy: no YAML alias
    (lambda d: d["targets"][0]["all"][0].pop("at_least"), "`at_least` is needed"),
    (lambda d: d["targets"][0]["all"][0].update(part=None, whole=[], at_least=None, flag="village_committees"),
     "need a 是/否 indicator"),
    (lambda d: d["targets"][0]["all"][0].update(part="info_platform"), "tested with `flag`"),
    (lambda d: next(t for t in d["targets"] if t["id"] == "medical_settlement_platform")["all"][0].update(
        at_least=1), "`at_least` is needed, except by a `flag`"),
])
def test_a_broken_target_file_is_refused_with_where(tmp_path, change, message):
    data = yaml.safe_load((ROOT / "rules" / "targets" / "81-targets.yaml").read_text())
    change(data)
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(TargetsError, match=message):
        load_targets(tmp_path)


# -- the evaluator ----------------------------------------------------------------------------------

@pytest.mark.parametrize("beds, expected", [(299, NOT_MET), (300, MET), (301, MET)])
def test_beds_per_thousand_elderly_at_30(beds, expected):
    """29.9 beds per 1,000 is short of "不低于 30 张"; 30 is enough."""
    assert status({"elderly_population": 10000, "elderly_care_beds": beds}, "beds_per_thousand_elderly") == expected


def test_a_blank_indicator_is_unknown_never_zero():
    result = card({"elderly_population": 10000}).cell("411202", "beds_per_thousand_elderly")
    assert result.status == UNKNOWN
    assert result.conditions[0].value is None
    assert result.conditions[0].detail == "未填：养老床位数"
    # zero filled in is a real zero
    assert status({"elderly_population": 10000, "elderly_care_beds": 0}, "beds_per_thousand_elderly") == NOT_MET


@pytest.mark.parametrize("urban, villages, expected", [
    ((20, 20), (60, 100), MET), ((19, 20), (60, 100), NOT_MET), ((20, 20), (59, 100), NOT_MET),
    ((20, 20), (None, 100), UNKNOWN), ((19, 20), (None, 100), NOT_MET),   # Kleene: false AND unknown
    ((None, 20), (60, 100), UNKNOWN)])
def test_home_care_network_is_kleene_and_of_its_two_coverages(urban, villages, expected):
    values = {"urban_communities_home_care": urban[0], "urban_communities": urban[1],
              "villages_home_care": villages[0], "administrative_villages": villages[1]}
    assert status(values, "home_care_network") == expected


def test_a_target_not_yet_due_still_shows_its_current_value():
    result = card({"elderly_population": 10000, "elderly_care_beds": 299},
                  as_of=dt.date(2015, 12, 30)).cell("411202", "beds_per_thousand_elderly")
    assert (result.status, result.current) == (NOT_DUE, False)
    assert result.status_zh == "未到期（当前未达标）"
    assert result.conditions[0].value == Fraction("29.9")


@pytest.mark.parametrize("as_of, expected", [
    ("2014-09-29", NOT_DUE), ("2014-09-30", NOT_MET), ("2014-10-01", NOT_MET)])
def test_martyr_memorials_due_before_1_october_2014(as_of, expected):
    values = {"martyr_facilities": 10, "martyr_facilities_protected": 9}
    assert status(values, "martyr_memorials", as_of=dt.date.fromisoformat(as_of)) == expected


def test_veteran_training_has_no_deadline_and_is_always_judged():
    values = {"veterans_willing": 100, "veterans_trained": 100, "veterans_passed": 90}
    assert status(values, "veteran_training", as_of=dt.date(2013, 1, 1)) == MET
    assert status(values | {"veterans_passed": 89}, "veteran_training") == NOT_MET


def test_warmth_project_each_year_a_third_not_rounded():
    values = {"warmth_task_total": 10, "warmth_done_2013": 3}
    assert status(values, "warmth_project_2013") == NOT_MET         # 3 of 10 is under a third
    assert status(values | {"warmth_done_2013": 4}, "warmth_project_2013") == MET
    assert status(values, "warmth_project_2014") == UNKNOWN


def test_an_empty_whole_is_met_and_says_which_reading():
    result = card({"rural_communities": 0, "rural_communities_with_facilities": 0}).cell(
        "411202", "rural_community_facilities")
    assert result.status == MET
    assert result.conditions[0].assumptions == ("empty_whole",)


@pytest.mark.parametrize("flags, expected", [
    (["是", "是", "是", "是", "否", "否"], MET),        # 4 of 6 = 66.7%
    (["是", "是", "是", "否", "否", "否"], NOT_MET),    # 3 of 6 = 50%
    (["是", "是", "是", "否", "", ""], UNKNOWN),        # 50%–83%: the blanks decide
    (["是", "是", "是", "是", "", ""], MET),            # already 4 of 6
    (["否", "否", "否", "", "", ""], NOT_MET),          # at most 3 of 6
])
def test_info_platform_is_a_city_target_over_the_counties(flags, expected):
    result = card({"info_platform": dict(zip(COUNTIES, flags))}).cell(CITY, "community_info_platform")
    assert result.status == expected
    assert card({}).cell("411202", "community_info_platform") is None
    info_platform = next(t for t in TARGETS.targets if t.id == "community_info_platform")
    shown_cells = [card({"info_platform": dict(zip(COUNTIES, flags))}).shown_cell(c, info_platform) for c in COUNTIES]
    assert shown_cells == ["（全市考核）本县：" + ({"是": "是", "否": "否", "": "未填"}[f]) for f in flags]


# -- issue 17 item 13: targets from 81号 第1、2、3、15、19条, each at its boundary ----------------------

@pytest.mark.parametrize("stores, points, expected", [(1, 1, MET), (0, 1, NOT_MET), (1, 0, NOT_MET),
                                                      (2, 30, MET), (1, None, UNKNOWN)])
def test_storage_network_needs_a_county_store_and_a_township_point(stores, points, expected):
    """第1条: 县级储备库为支撑、乡（镇）救灾物资储备站（点）为补充, by 2015."""
    values = {"county_disaster_stores": stores, "township_disaster_points": points}
    assert status(values, "disaster_storage_network", county="411224") == expected
    assert status(values, "disaster_storage_network", county="411224", as_of=dt.date(2015, 12, 30)) == NOT_DUE


@pytest.mark.parametrize("urban, rural, expected", [
    ("是", "是", MET), ("是", "否", NOT_MET), ("否", "是", NOT_MET), ("是", None, UNKNOWN), ("否", None, NOT_MET)])
def test_medical_settlement_with_both_insurances(urban, rural, expected):
    """第2条: 与城镇医保和新农合无缝衔接的医疗救助同步结算平台: a 是/否 per insurance."""
    result = card({"settlement_with_urban_insurance": urban, "settlement_with_ncms": rural}).cell(
        "411221", "medical_settlement_platform")
    assert result.status == expected
    first = result.conditions[0]
    assert (first.detail, first.condition.threshold_zh()) == (urban, "为“是”")


@pytest.mark.parametrize("concentrated, dispersed, expected", [
    (5000, 5000, MET), (5000, 4999, NOT_MET), (4999, 5000, NOT_MET), ("4999.99", 6000, NOT_MET), (6000, 5001, MET)])
def test_wubao_standard_not_below_the_rural_living_level(concentrated, dispersed, expected):
    """第2条: 确保不低于当地农村居民平均生活水平 — equal is enough, a fen below is not; no deadline."""
    values = {"rural_living_level": 5000, "wubao_standard_concentrated": concentrated,
              "wubao_standard_dispersed": dispersed}
    assert status(values, "wubao_standard_floor", county="411282") == expected
    assert status(values, "wubao_standard_floor", county="411282", as_of=dt.date(2013, 1, 1)) == expected


@pytest.mark.parametrize("as_of, judged", [
    ("2015-02-15", ["411202"]), ("2015-02-16", ["411202", "411203"]), ("2015-12-31", ["411202", "411203"])])
def test_donation_stations_are_judged_in_the_districts_of_the_day(as_of, judged):
    """第3条: 市辖区……普遍建立社会捐赠接收站（点）: 湖滨区; 陕州区 from 2015-02-16 (陕县 before);
    the counties and county-level cities are not judged (“有条件的乡（镇）” is not defined)."""
    scorecard = card({"donation_stations": 0}, as_of=dt.date.fromisoformat(as_of))
    assert [c for c in COUNTIES if scorecard.cell(c, "donation_stations")] == judged
    target = next(t for t in TARGETS.targets if t.id == "donation_stations")
    assert scorecard.shown_cell("411282", target) == "不考核（不是市辖区）"
    assert scorecard.cell("411202", "donation_stations").current is False


@pytest.mark.parametrize("stations, expected", [(0, NOT_MET), (1, MET)])
def test_donation_stations_at_one(stations, expected):
    assert status({"donation_stations": stations}, "donation_stations") == expected


@pytest.mark.parametrize("flags, expected", [
    (["是"] * 6, MET), (["是"] * 5 + ["否"], NOT_MET), (["是"] * 5 + [""], UNKNOWN), (["否"] + [""] * 5, NOT_MET)])
def test_funeral_policy_covers_the_whole_city(flags, expected):
    """第15条: 实现全市惠民殡葬政策全覆盖 — every county, judged on the 全市 row."""
    result = card({"funeral_policy": dict(zip(COUNTIES, flags))}).cell(CITY, "funeral_policy_coverage")
    assert result.status == expected
    assert card({}).cell("411202", "funeral_policy_coverage") is None


@pytest.mark.parametrize("standardised, expected", [(7, MET), (6, NOT_MET), (None, UNKNOWN)])
def test_every_township_reaches_the_standard(standardised, expected):
    """第19条: 全市所有乡、镇和街道办事处普遍达到“四有三全一加强一提高” — all of them; no deadline."""
    values = {"townships": 7, "townships_standardised": standardised}
    assert status(values, "township_standardisation", county="411281") == expected
    assert status(values, "township_standardisation", county="411281", as_of=dt.date(2013, 1, 1)) == expected


def test_the_workbook_shows_flags_as_yes_or_no_and_the_districts_scope(tmp_path):
    out = tmp_path / "k.xlsx"
    assert run("scorecard", str(DEMO), "--as-of", "2015-12-31", "--out", str(out)).exit_code == 0
    book = load_workbook(out)
    detail = [r for r in book["明细"].values if r[0] == "渑池县" and r[6] == "与新农合同步结算"]
    assert detail[0][7:10] == ("否", "为“是”", "否")
    overview = next(r for r in book["总览"].values if r[1] == "市辖区普遍建立社会捐赠接收站（点）")
    assert overview[3:9] == ("达标", "达标") + ("不考核（不是市辖区）",) * 4
    texts = next(r for r in book["目标与原文"].values if r[1] == "市辖区普遍建立社会捐赠接收站（点）")
    assert texts[4] == "每个市辖区（以评估日的区划为准）"


def test_the_county_name_is_the_one_in_force_on_the_day():
    names = dict(card({}, as_of=dt.date(2014, 12, 31)).counties)
    assert names["411203"] == "陕县"
    assert dict(card({}).counties)["411203"] == "陕州区"


def test_shown_numbers_never_round_up_to_the_target():
    assert shown(Fraction(29996, 1000)) == "29.99…"
    assert shown(Fraction(30)) == "30"
    assert shown(Fraction(100, 3)) == "33.33…"


# -- the indicators reader: every bad input has its Chinese message -----------------------------------

def _read(data: bytes, name="x.csv"):
    return read_indicators(data, TARGETS, name)


def _error(data: bytes, name="x.csv") -> str:
    with pytest.raises(IndicatorError) as caught:
        _read(data, name)
    return str(caught.value)


@pytest.mark.parametrize("data, name, message", [
    (b"", "x.csv", "指标文件是空的"),
    (b"a,b\n", "x.txt", "指标文件应为 .csv 或 .xlsx"),
    (b"\xff\xfe\x00\x00garbage", "x.xlsx", "无法打开XLSX文件"),
    (b"PK\x03\x04broken", "x.xlsx", "无法打开XLSX文件"),
    (b"\x80\x81\xfe\xff" * 3, "x.csv", "不是UTF-8或GBK编码"),
    (b"foo,bar\n1,2\n", "x.csv", "第1行没有“指标代码”列"),
    (b"\n\n", "x.csv", "文件第1行是空的"),
    ("指标代码,411299 某县\n".encode(), "x.csv", "县区代码 411299 不是三门峡市的县（市、区）"),
    ("指标代码,411202 灵宝市\n".encode(), "x.csv", "代码 411202 是湖滨区，列名却写着“灵宝市”"),
    ("指标代码,湖滨区\n".encode(), "x.csv", "列名“湖滨区”既不是说明列"),
    ("指标代码,411202,411202\n".encode(), "x.csv", "湖滨区出现了两列"),
    ("指标代码,指标\n".encode(), "x.csv", "第1行没有县（市、区）列"),
    ("指标代码,411202\nno_such,1\n".encode(), "x.csv", "第2行：未知的指标代码“no_such”"),
    ("指标代码,411202\n,1\n".encode(), "x.csv", "第2行：缺少指标代码"),
    ("指标代码,411202\nelderly_care_beds,1\nelderly_care_beds,2\n".encode(), "x.csv", "与第2行重复"),
    ("指标代码,411202\nelderly_care_beds,很多\n".encode(), "x.csv",
     "第2行（养老床位数）湖滨区：“很多”不是数字（单位：张；未知则留空，不要填0）"),
    ("指标代码,411202\nelderly_care_beds,-3\n".encode(), "x.csv", "-3 是负数：数量不能为负"),
    ("指标代码,411202\nelderly_care_beds,2.5\n".encode(), "x.csv", "2.5 不是整数"),
    ("指标代码,411202\nelderly_care_beds,1e99\n".encode(), "x.csv", "“1e99”不是数字"),
    ("指标代码,411202\nelderly_care_beds,99999999999\n".encode(), "x.csv", "过大"),
    ("指标代码,411202\nvillages_home_care,61%\n".encode(), "x.csv", "不要填百分比"),
    ("指标代码,411202\nelderly_population,0\n".encode(), "x.csv", "应大于0"),
    ("指标代码,411202\ninfo_platform,也许\n".encode(), "x.csv", "应填“是”或“否”"),
    ("指标代码,411202\nadministrative_villages,100\nvillages_home_care,101\n".encode(), "x.csv",
     "湖滨区：居家养老服务网络覆盖的农村建制村数（101）大于农村建制村数（100），比例超过100%"),
    ('指标代码,411202\n"elderly_care_beds,1\n'.encode(), "x.csv", "第2行"),
], ids=lambda v: repr(v)[:24])
def test_every_bad_input_has_a_chinese_error(data, name, message):
    assert message in _error(data, name)


def test_a_huge_file_is_refused_before_it_is_parsed(tmp_path):
    assert "不能超过 2 MB" in _error(b"x" * (MAX_BYTES + 1))
    path = tmp_path / "big.csv"
    with open(path, "wb") as f:
        f.truncate(MAX_BYTES + 1)
    with pytest.raises(IndicatorError, match="指标文件过大"):
        read_indicators(path, TARGETS)


def test_too_many_rows_is_refused():
    data = "指标代码,411202\n".encode() + b"\n".join(b"x,1" for _ in range(MAX_ROWS + 1))
    assert f"超过 {MAX_ROWS} 行" in _error(data)


def test_a_zip_bomb_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (30 * 1024 * 1024))
    assert "解压后过大" in _error(buffer.getvalue(), "bomb.xlsx")


def test_wrong_sheet_names_the_sheets_it_found():
    book = Workbook()
    book.active.title = "Sheet1"
    buffer = io.BytesIO()
    book.save(buffer)
    assert "工作簿中没有名为“指标”的工作表（现有：Sheet1）" in _error(buffer.getvalue(), "x.xlsx")


def test_gbk_csv_from_excel_and_full_width_digits_are_read():
    data = "指标代码,411202 湖滨区\nelderly_care_beds,１，２００\n".encode("gb18030")
    # "１，２００" is NFKC "1,200": a thousands separator
    assert _read(data).get("411202", "elderly_care_beds") == 1200


def test_a_column_for_shan_county_under_its_old_code_is_shanzhou():
    data = "指标代码,411222 陕县\nwelfare_centres,1\n".encode()
    assert _read(data).get("411203", "welfare_centres") == 1


def test_several_problems_are_reported_together():
    data = "指标代码,411202\nelderly_care_beds,x\nwelfare_centres,-1\n".encode()
    message = _error(data)
    assert "第2行" in message and "第3行" in message


def test_the_template_reads_as_all_unknown():
    values = read_indicators(TEMPLATE, TARGETS)
    assert values.filled == 0
    result = evaluate(TARGETS, values, END_2015)
    assert {r.status for r in result.results} == {UNKNOWN}


def test_the_committed_template_is_what_the_rules_generate(tmp_path):
    out = tmp_path / "t.xlsx"
    assert run("scorecard", "--template", str(out)).exit_code == 0
    fresh, committed = load_workbook(out), load_workbook(TEMPLATE)
    assert fresh.sheetnames == committed.sheetnames == ["指标", "说明"]
    for name in fresh.sheetnames:
        assert list(fresh[name].values) == list(committed[name].values), \
            f"fixtures/scorecard-template.xlsx is stale: run benefits scorecard --template {TEMPLATE}"


def test_the_template_names_every_indicator_with_unit_and_clause():
    rows = list(load_workbook(TEMPLATE)["指标"].values)
    assert rows[0][:5] == ("指标代码", "指标", "单位", "条款", "填写说明")
    assert [r[0] for r in rows[1:]] == list(TARGETS.indicators)
    for row in rows[1:]:
        assert row[1] and row[2] and row[3].startswith("81号 第")
    assert rows[0][5:] == tuple(f"{c} {n}" for c, n in CURRENT_COUNTIES.items())


# -- the command ------------------------------------------------------------------------------------

def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_scorecard_command_writes_the_workbook(tmp_path):
    out = tmp_path / "考核.xlsx"
    result = run("scorecard", str(DEMO), "--as-of", "2015-12-31", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "评估日 2015-12-31" in result.output
    assert "渑池县 81号 第3条 每千名老年人拥有养老床位数不低于30张" in result.output
    assert "⚠ 81号 第10条" in result.output and "原文未规定期限" in result.output
    book = load_workbook(out)
    assert book.sheetnames == ["总览", "明细", "县区汇总", "目标与原文", "指标"]
    overview = list(book["总览"].values)
    assert overview[1][:3] == ("条款", "目标", "期限") and overview[1][-2:] == ("全市", "假设")
    beds = next(r for r in overview if r[1] == "每千名老年人拥有养老床位数不低于30张")
    assert beds[3:9] == ("达标", "达标", "未达标", "达标", "未知", "达标")
    texts = {r[1]: r for r in book["目标与原文"].values}
    assert texts["每千名老年人拥有养老床位数不低于30张"][2] == "到 2015 年……实现每千名老年人拥有养老床位数不低于 30 张"
    assert "老年人权益保障法" in texts["每千名老年人拥有养老床位数不低于30张"][5]
    detail = [r for r in book["明细"].values if r[0] == "义马市" and r[6] == "每千名老年人养老床位数"]
    assert detail[0][5] == "未知" and detail[0][10] == "未填：养老床位数" and "60周岁以上" in detail[0][11]
    # the workbook's indicators sheet reads back as the same values
    assert read_indicators(out, TARGETS).values == read_indicators(DEMO, TARGETS).values


def test_scorecard_before_the_deadlines_marks_targets_not_due(tmp_path):
    result = run("scorecard", str(DEMO), "--as-of", "2013-06-30")
    assert result.exit_code == 0
    # only the untimed targets are judged: training (第10条), 五保's standard (第2条), 第19条
    assert re.search(r"湖滨区\s+3\s+0\s+0\s+17", result.output)


@pytest.mark.parametrize("args, message, code", [
    (["scorecard", "missing.csv", "--as-of", "2015-12-31"], "找不到指标文件：missing.csv", 66),
    (["scorecard", str(ROOT / "fixtures"), "--as-of", "2015-12-31"], "是文件夹，不是指标文件", 66),
    (["scorecard", str(DEMO)], "请用 --as-of YYYY-MM-DD 给出评估日", 2),
    (["scorecard", str(DEMO), "--as-of", "2015-13-01"], "应为日期 YYYY-MM-DD", 2),
    (["scorecard"], "请给出指标文件", 2),
    (["scorecard", str(DEMO), "--as-of", "2015-12-31", "--out", "x.csv"], "输出文件应以 .xlsx 结尾", 2),
    (["scorecard", str(DEMO), "--as-of", "2015-12-31", "--out", "/no/such/dir/x.xlsx"], "输出文件夹不存在", 2),
    (["scorecard", str(DEMO), "--template", "t.xlsx"], "--template 只写模板", 2),
    (["scorecard", str(TEMPLATE.with_name("applicants.jsonl")), "--as-of", "2015-12-31"],
     "指标文件应为 .csv 或 .xlsx", 1),
])
def test_scorecard_usage_errors_are_chinese(args, message, code):
    result = run(*args)
    assert result.exit_code == code
    assert message in result.output
    assert "Traceback" not in result.output


def test_scorecard_bad_value_names_row_indicator_and_county(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes("指标代码,411221 渑池县\nelderly_care_beds,abc\nwelfare_centres,-1\n".encode())
    result = run("scorecard", str(path), "--as-of", "2015-12-31")
    assert result.exit_code == 1
    assert "有误：\n  第2行（养老床位数）渑池县：“abc”不是数字" in result.output
    assert "\n  第3行（综合性社会福利中心数" in result.output


def test_scorecard_reads_an_xlsx_filled_from_the_template(tmp_path):
    book = load_workbook(TEMPLATE)
    sheet = book["指标"]
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    rows["elderly_population"][5].value = 10000      # 湖滨区
    rows["elderly_care_beds"][5].value = 300
    path = tmp_path / "filled.xlsx"
    book.save(path)
    result = run("scorecard", str(path), "--as-of", "2015-12-31")
    assert result.exit_code == 0, result.output
    assert re.search(r"湖滨区\s+1\s+0\s+19\s+0", result.output)


# -- the reader attacked: any bytes give values or a Chinese error, nothing else ------------------------

_HEADER = "指标代码,411202 湖滨区,411203 陕州区\n".encode()
_CELLS = st.sampled_from(["", "1", "-1", "1.5", "是", "否", "1e3", "NaN", "inf", "１２", "1,000", "=1+1", "\x00",
                          "99999999999", "0", "abc", '"', "\r\n", "%"])


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(st.sampled_from(list(TARGETS.indicators) + ["", "x"]), _CELLS, _CELLS),
                     max_size=12),
       noise=st.binary(max_size=40), name=st.sampled_from(["x.csv", "x.xlsx"]))
def test_any_indicators_file_reads_or_is_refused_in_chinese(rows, noise, name):
    data = _HEADER + "\n".join(",".join(r) for r in rows).encode() + noise
    try:
        values = read_indicators(data, TARGETS, name)
    except IndicatorError as exc:
        assert exc.problems and all(re.search(r"[\u4e00-\u9fff]", p) for p in exc.problems)
    else:
        evaluate(TARGETS, values, END_2015)

def test_scorecard_reads_the_targets_of_another_rules_folder(tmp_path):
    rules = tmp_path / "rules"
    (rules / "targets").mkdir(parents=True)
    text = (ROOT / "rules" / "targets" / "81-targets.yaml").read_text()
    (rules / "targets" / "81-targets.yaml").write_text(text.replace("per: 1000, at_least: 30,", "per: 1000, at_least: 24,"))
    shipped = run("scorecard", str(DEMO), "--as-of", "2015-12-31")
    changed = run("scorecard", str(DEMO), "--as-of", "2015-12-31", "--rules", str(rules))
    assert "渑池县 81号 第3条 每千名老年人拥有养老床位数不低于30张" in shipped.output
    assert "渑池县 81号 第3条 每千名老年人拥有养老床位数不低于30张" not in changed.output
    broken = tmp_path / "broken"
    (broken / "targets").mkdir(parents=True)
    (broken / "targets" / "t.yaml").write_text("targets: [{id: x}]")
    result = run("scorecard", str(DEMO), "--as-of", "2015-12-31", "--rules", str(broken))
    assert result.exit_code == 1 and "目标规则文件错误" in result.output
