import pytest

from benefits.engine import default_engine


@pytest.fixture(scope="session")
def engine():
    """One engine per test session: durable_rules rulesets are never freed
    cheaply and the C engine is process-global."""
    return default_engine()


@pytest.fixture(scope="session")
def generated_caseload(tmp_path_factory):
    """``benefits generate --size 6000 --seed 1``: the caseload the totals
    tests read the workbooks of (tests/sheets.py)."""
    from click.testing import CliRunner

    from benefits.cli import main
    path = tmp_path_factory.mktemp("generated") / "caseload.jsonl"
    result = CliRunner().invoke(main, ["generate", "--size", "6000", "--seed", "1", "--out", str(path)])
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="session")
def estimate_book(generated_caseload):
    """``benefits estimate`` of the generated caseload for 2013, read back:
    sheet title → tests.sheets.Table."""
    from click.testing import CliRunner
    from openpyxl import load_workbook

    from benefits.cli import main

    from .sheets import Table
    out = generated_caseload.with_name("estimate.xlsx")
    result = CliRunner().invoke(main, ["estimate", str(generated_caseload), "--year", "2013", "--out", str(out),
                                       "--workers", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    return {sheet.title: Table(sheet) for sheet in load_workbook(out).worksheets}
