"""The finance office's cost-estimate page (资金测算): roles, the upload form,
the background job, the result against estimate() itself, the workbook and
the audit trail."""
from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from benefits.finance import estimate
from benefits.web import create_app, store

from web_helpers import assert_private, token

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "caseload-sample.csv"
RANGE = ("min", "mid", "max")


def upload(client, data: bytes, name: str, year="2013", csrf=True):
    form = {"caseload": (io.BytesIO(data), name), "year": year}
    if csrf:
        form["csrf_token"] = token(client, "/finance")
    return client.post("/finance", data=form, content_type="multipart/form-data")


def wait_for(client, job_id: int, timeout: float = 180) -> dict:
    """Poll the job's JSON until the background thread has finished it."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        job = client.get(f"/finance/jobs/{job_id}.json").get_json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    pytest.fail(f"job {job_id} did not finish in {timeout} s")


def job_id_of(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def jobs_in(app) -> list:
    db = store.connect(app.config["DATABASE"])
    try:
        return store.estimates(db)
    finally:
        db.close()


@pytest.mark.parametrize("username", ["clerk_hubin", "policy"])
def test_other_roles_are_refused(as_user, username):
    client = as_user(username)
    assert client.get("/finance").status_code == 403
    assert client.get("/finance/jobs/1.json").status_code == 403
    assert client.get("/finance/jobs/1/workbook.xlsx").status_code == 403
    assert "资金测算" not in client.get("/rules").get_data(as_text=True)


@pytest.mark.parametrize("username", ["finance", "admin"])
def test_finance_and_admin_see_the_page(as_user, username):
    client = as_user(username)
    page = client.get("/finance")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'href="/finance"' in html   # nav link
    assert 'type="file"' in html and 'value="2030"' in html and 'value="2012"' in html


def test_not_logged_in_goes_to_login(client):
    response = client.get("/finance")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_upload_without_csrf_token_is_refused(app, as_user):
    client = as_user("finance")
    response = upload(client, SAMPLE.read_bytes(), "caseload.csv", csrf=False)
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    assert jobs_in(app) == []


def test_wrong_extension_is_refused_next_to_the_field(app, as_user):
    client = as_user("finance")
    response = upload(client, b"id_number,name\n", "caseload.txt")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'data-for="caseload">只能上传 .csv、.xlsx 或 .jsonl 格式的台账文件' in html
    assert jobs_in(app) == []


def test_missing_file_empty_file_and_bad_year(app, as_user):
    client = as_user("finance")
    empty = upload(client, b"", "caseload.csv").get_data(as_text=True)
    assert "上传的文件是空的" in empty
    none = client.post("/finance", data={"year": "2013", "csrf_token": token(client, "/finance")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "请选择台账文件" in none
    for year in ("2040", "abc"):
        html = upload(client, SAMPLE.read_bytes(), "caseload.csv", year=year).get_data(as_text=True)
        assert 'data-for="year">预算年度应在 2012–2030 年之间' in html
    assert jobs_in(app) == []


def test_oversize_upload_is_a_chinese_error(app, as_user):
    app.config["MAX_CONTENT_LENGTH"] = 1 << 20
    client = as_user("finance")
    response = upload(client, b"x" * (1 << 20), "caseload.csv")
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "上传的文件过大" in html and "不能超过 1 MB" in html and "Traceback" not in html
    assert jobs_in(app) == []


def test_sample_caseload_runs_to_the_same_figures_as_estimate(app, as_user):
    client = as_user("finance")
    job_id = job_id_of(upload(client, SAMPLE.read_bytes(), "台账样例.csv"))
    first = client.get(f"/finance/jobs/{job_id}").get_data(as_text=True)
    assert "台账样例.csv" in first
    job = wait_for(client, job_id)
    assert job["status"] == "done", job

    result = job["result"]
    rows = sum(1 for line in SAMPLE.read_text(encoding="utf-8").splitlines()[1:] if line.strip())
    counts = result["counts"]
    assert counts["total"] == rows == job["processed"] == job["total"]
    assert counts["evaluated"] + counts["rejected"] == rows and counts["rejected"] == 6
    direct = estimate(SAMPLE, 2013, workers=1)
    assert result["total"] == direct["total"] and result["payers"] == direct["payers"]
    assert result["counties"] == direct["counties"] and result["benefits"] == direct["benefits"]
    assert result["rulebook_version"] == direct["rulebook_version"]
    assert result["rejects"] == direct["rejects"]   # all six fit in the shown list
    # the job's folder holds the chart and workbook only, owner-only like the database
    estimates = Path(app.config["DATABASE"]).parent / "estimates"
    assert assert_private(estimates) == 2

    page = client.get(f"/finance/jobs/{job_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "合计" in html and "⚠ 未核实参数" in html and "⚠ 假设" in html
    assert f'{direct["total"]["mid"]:,.2f}' in html and direct["rulebook_version"] in html
    assert f'<dd id="count-total">{rows}</dd>' in html
    for reject in direct["rejects"]:
        assert f'<td class="num">{reject["row"]}</td><td title="{reject["field"]}">' in html
    assert "finance.js" not in html   # a finished job is not polled

    chart = client.get(f"/finance/jobs/{job_id}/chart.png")
    assert chart.status_code == 200 and chart.data.startswith(b"\x89PNG")

    download = client.get(f"/finance/jobs/{job_id}/workbook.xlsx")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(download.data))
    assert {"按项目", "按县区", "按出资方", "拒绝记录"} <= set(book.sheetnames)
    payer_rows = [r for r in book["按出资方"].iter_rows(values_only=True) if r and r[0] == "合计"]
    assert [round(v, 2) for v in payer_rows[0][1:4]] == [direct["total"][k] for k in RANGE]
    assert all(isinstance(v, float) for v in payer_rows[0][1:4])
    rejected = [r for r in book["拒绝记录"].iter_rows(min_row=3, values_only=True) if r[0] is not None]
    assert len({r[0] for r in rejected}) == 6

    listing = client.get("/finance").get_data(as_text=True)
    assert f'href="/finance/jobs/{job_id}"' in listing and "已完成" in listing
    assert not list((Path(app.config["DATABASE"]).parent / "estimates" / str(job_id)).glob("caseload.*"))

    db = store.connect(app.config["DATABASE"])
    try:
        actions = [(r["username"], r["action"], r["detail"]) for r in store.audit_rows(db)]
    finally:
        db.close()
    assert ("finance", "estimate.start", f"job {job_id} year 2013 file 台账样例.csv") in actions
    assert ("finance", "estimate.read", f"job {job_id}") in actions
    assert ("finance", "estimate.download", f"job {job_id} workbook") in actions


def test_unreadable_caseload_fails_with_its_chinese_message(as_user):
    client = as_user("finance")
    job_id = job_id_of(upload(client, "姓名,年龄\n张三,40\n".encode(), "bad.csv"))
    job = wait_for(client, job_id)
    assert job["status"] == "failed" and "result" not in job
    assert job["error"] and any("\u4e00" <= ch <= "\u9fff" for ch in job["error"])
    html = client.get(f"/finance/jobs/{job_id}").get_data(as_text=True)
    assert f'<p class="flash error" id="job-error">{job["error"]}</p>' in html
    assert "Traceback" not in html and "下载测算工作簿" not in html
    assert client.get(f"/finance/jobs/{job_id}/workbook.xlsx").status_code == 404


def test_broken_xlsx_fails_cleanly(as_user):
    client = as_user("finance")
    job = wait_for(client, job_id_of(upload(client, b"not a zip file", "caseload.xlsx")))
    assert job["status"] == "failed" and job["error"].startswith("XLSX文件已损坏，无法读取")


def test_unknown_job_is_404(as_user):
    client = as_user("finance")
    assert client.get("/finance/jobs/999").status_code == 404
    assert client.get("/finance/jobs/999.json").status_code == 404


def test_a_restart_fails_jobs_of_a_stopped_server_only(app):
    """A job queued by a process that has ended fails at the next start; one
    of a live process (here: this one) is left to finish."""
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    db = store.connect(app.config["DATABASE"])
    try:
        user = store.user_by_name(db, "finance")
        orphan = store.create_estimate(db, user, 2013, "x.csv", "csv")
        live = store.create_estimate(db, user, 2013, "y.csv", "csv")
        with store.write(db):
            db["estimates"].update(orphan, {"pid": int(ended.stdout)})
    finally:
        db.close()
    create_app({"DATABASE": app.config["DATABASE"], "SECRET_KEY": "x"})
    db = store.connect(app.config["DATABASE"])
    try:
        gone, running = store.get_estimate(db, orphan), store.get_estimate(db, live)
    finally:
        db.close()
    assert gone["status"] == "failed" and gone["error"] == store.INTERRUPTED_ZH
    assert running["status"] == "queued" and running["error"] is None


def test_schema_1_database_gains_the_estimates_table(tmp_path):
    db = store.connect(tmp_path / "old.sqlite")
    try:
        with store.write(db):
            store._schema_1(db)
            db.execute("PRAGMA user_version=1")
        assert store.migrate(db) is False and "estimates" in db.table_names()
        assert db.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
    finally:
        db.close()
