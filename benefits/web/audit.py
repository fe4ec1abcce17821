"""The roll audit page (名册核对, /audit): a caseload and a county's roll
(名册) uploaded, an audit day (核对日) and a re-check window; the audit runs
in the background (benefits/web/auditruns.py) and its result — the summary
by county × line, the chart, each kind of finding, the 动态管理 re-check
list, the workbooks — is shown only to the user who ran it.

Roles: finance and policy staff audit every county (or one they choose); a
county's clerk only their own (rows of other counties are left out and
counted, never shown). ID numbers are masked on the page; the workbook
shows whole ones only to a county's clerk, for that county.
"""
from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

from flask import Blueprint, abort, current_app, g, jsonify, redirect, render_template, request, send_file, url_for

from ..audit import KIND_ZH
from ..audit.roll import FIELDS_ZH as ROLL_FIELDS
from . import auditruns, store, workers
from .auth import county_scope, login_required
from .labels import COUNTIES
from .present import engine, pool

bp = Blueprint("rollaudit", __name__, url_prefix="/audit")

PERMISSION = "roll.audit"
DEFAULT_MONTHS = 12
STATUS_ZH = {"queued": "排队中", "running": "核对中", "done": "已完成", "failed": "失败"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# the audit log's names of this page's actions (admin's 审计日志)
# the columns each kind of finding is shown with (the workbook has them all)
_WHO = (("county_zh", "县区"), ("id_masked", "身份证号"), ("name", "姓名"), ("line_zh", "核对项目"))
_ROLL = (("written", "名册写法"), ("roll_row", "名册行"))
_WHY = (("clause", "条款"), ("condition", "依据/条件"))
COLUMNS = {
    "漏保": (*_WHO, ("caseload_row", "台账行"), ("owed_month", "应发（元/月）"), *_WHY),
    "错保": (*_WHO, *_ROLL, ("caseload_row", "台账行"), ("paid_month", "实发（元/月）"), *_WHY),
    "差额": (*_WHO, *_ROLL, ("caseload_row", "台账行"), ("owed_month", "应发（元/月）"), ("paid_month", "实发（元/月）"),
             ("diff_month", "差额（元/月）"), ("diff_year", "差额（元/年）"), *_WHY),
    "待核": (*_WHO, *_ROLL, ("caseload_row", "台账行"), ("paid_month", "实发（元/月）"), ("missing", "需补充的事实（按先后）")),
    "重复发放": (*_WHO, *_ROLL, ("paid_month", "实发（元/月）"), *_WHY),
    "名册有台账无": (("county_zh", "县区"), ("id_masked", "身份证号"), ("line_zh", "核对项目"), *_ROLL,
                 ("paid_month", "实发（元/月）")),
}
MONEY = {"owed_month", "paid_month", "diff_month", "diff_year"}


_CODE_NAME = re.compile(r"（[a-z][a-z0-9_]*）")


def reason_zh(text: str | None) -> str:
    """A re-check reason as a person reads it: a parameter's code name,
    which the reason gives in brackets after its Chinese name, left to the
    cell's title (the page reads in Chinese; the workbook and the API keep it)."""
    return _CODE_NAME.sub("", text or "")


def folder() -> Path:
    """Where the runs' files go: "audits" beside the database."""
    return Path(current_app.config["DATABASE"]).parent / "audits"


def owner() -> tuple:
    """Whose runs: the user of this app's database (runs are kept per server process)."""
    return (current_app.config["DATABASE"], g.user["id"])


def _page(form: dict, errors: dict, status: int = 200):
    return render_template(
        "audit_roll.html", form=form, errors=errors, runs=auditruns.runs_of(owner()), STATUS_ZH=STATUS_ZH,
        scope=county_scope(g.user), max_mb=f'{current_app.config["MAX_CONTENT_LENGTH"] / (1 << 20):g}',
        max_months=auditruns.MAX_MONTHS, keep=auditruns.RUNS_PER_USER), status


def _defaults() -> dict:
    return {"as_of": dt.date.today().isoformat(), "months": str(DEFAULT_MONTHS), "county": ""}


def _upload(name: str, formats: tuple, errors: dict):
    """(file name, format, stream) of an upload, or None with a Chinese error at its field."""
    upload = request.files.get(name)
    what = auditruns.FILE_ZH[name]
    if upload is None or not upload.filename:
        errors[name] = f"请选择{what}文件"
        return None
    filename = upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:200]
    fmt = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if fmt not in formats:
        errors[name] = f"{what}只能是 " + "、".join(f".{f}" for f in formats) + " 格式的文件"
        return None
    size = upload.stream.seek(0, 2)
    upload.stream.seek(0)
    if size == 0:
        errors[name] = f"上传的{what}文件是空的"
        return None
    return filename, fmt, upload.stream


def read_window(form: dict) -> tuple[dt.date | None, int | None, dict]:
    """The audit day and the re-check months of a form, and their errors by field."""
    try:
        as_of = dt.date.fromisoformat(form.get("as_of", "").strip())
    except ValueError:
        as_of = None
    text = form.get("months", "").strip()
    months = int(text) if text.isdigit() and len(text) < 4 else None
    return as_of, months, auditruns.as_of_error(as_of, months)


@bp.route("", methods=["GET", "POST"])
@login_required(PERMISSION)
def index():
    if request.method == "GET":
        return _page(_defaults(), {})
    form = {k: v[:200] for k, v in request.form.items()}
    as_of, months, errors = read_window(form)
    scope = county_scope(g.user)
    county = scope or form.get("county") or None
    if county is not None and county not in COUNTIES:
        errors["county"] = "请选择县（市、区）"
    caseload = _upload("caseload", auditruns.CASELOAD_FORMATS, errors)
    roll = _upload("roll", auditruns.ROLL_FORMATS, errors)
    if errors:
        return _page(form, errors, 400)
    run_id, where = auditruns.new_folder(folder())
    paths = {}
    for field_, (name, fmt, data) in (("caseload", caseload), ("roll", roll)):
        paths[field_] = auditruns.save_upload(where, field_, fmt, data)
        try:
            auditruns.probe(paths[field_], fmt, field_)
        except auditruns.InputError as exc:
            errors[field_] = str(exc)
    if errors:
        shutil.rmtree(where, ignore_errors=True)
        return _page(form, errors, 400)
    run = auditruns.Run(run_id, owner(), as_of, months, county, full_ids=scope is not None,
                        files={"caseload": caseload[0], "roll": roll[0]}, folder=where)
    work = auditruns.job(paths["caseload"], caseload[1], paths["roll"], roll[1], engine().rulebook)
    try:
        auditruns.submit(pool("audit"), run, work)
    except workers.Full:           # the app's 503 page, with Retry-After
        shutil.rmtree(where, ignore_errors=True)
        raise
    store.audit(g.db, g.user, "rollaudit.start",
                detail=f"run {run.id} as_of {as_of} months {months} county {county or '全部'} "
                       f"caseload {caseload[0]} roll {roll[0]}")
    return redirect(url_for("rollaudit.run", run_id=run.id))


def _run(run_id: str) -> auditruns.Run:
    """The user's own run; anyone else's is a 404 (and audited)."""
    found = auditruns.get(run_id[:40])
    if found is None or found.owner != owner():
        if found is not None:
            store.audit(g.db, g.user, "denied", detail=f"{request.method} {request.path} (另一用户的核对)")
        abort(404)
    return found


@bp.route("/runs/<run_id>")
@login_required(PERMISSION)
def run(run_id):
    found = _run(run_id)
    if found.result is not None:
        store.audit(g.db, g.user, "rollaudit.read", detail=f"run {found.id}")
    return render_template("audit_roll_run.html", run=found, result=found.result, STATUS_ZH=STATUS_ZH,
                           FILE_ZH=auditruns.FILE_ZH, KIND_ZH=KIND_ZH, ROLL_FIELDS=ROLL_FIELDS,
                           COLUMNS=COLUMNS, MONEY=MONEY, reason_zh=reason_zh)


@bp.route("/runs/<run_id>.json")
@login_required(PERMISSION)
def run_json(run_id):
    return jsonify(_run(run_id).as_json())


@bp.route("/runs/<run_id>/chart.png")
@login_required(PERMISSION)
def chart(run_id):
    return _file(_run(run_id), auditruns.CHART, "image/png")


@bp.route("/runs/<run_id>/audit.xlsx")
@login_required(PERMISSION)
def workbook(run_id):
    found = _run(run_id)
    response = _file(found, auditruns.WORKBOOK, XLSX, f"名册核对-{found.as_of.isoformat()}-{found.id[:8]}.xlsx")
    store.audit(g.db, g.user, "rollaudit.download", detail=f"run {found.id} audit workbook")
    return response


@bp.route("/runs/<run_id>/recheck.xlsx")
@login_required(PERMISSION)
def recheck_workbook(run_id):
    found = _run(run_id)
    response = _file(found, auditruns.RECHECK_BOOK, XLSX,
                     f"动态复核-{found.as_of.isoformat()}-{found.months}个月-{found.id[:8]}.xlsx")
    store.audit(g.db, g.user, "rollaudit.download", detail=f"run {found.id} recheck workbook")
    return response


def _file(found: auditruns.Run, name: str, mimetype: str, download: str | None = None):
    path = found.folder / name
    if found.status != "done" or not path.is_file():
        abort(404)
    return send_file(path, mimetype=mimetype, as_attachment=download is not None, download_name=download,
                     max_age=0)
