"""The finance office's caseload cost estimate (财政资金测算): upload a
caseload, follow the background job, read the result, download the workbook.
For roles finance and admin. Jobs run in benefits.web.jobs, never in a request.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import (Blueprint, abort, current_app, g, jsonify, redirect, render_template,
                   request, send_file, url_for)
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import StringField
from wtforms.validators import ValidationError

from ..engine import PAYERS
from ..finance.labels import kinds_zh
from ..finance.workbook import PERSONS_ONLY_ZH
from . import jobs, store
from .auth import login_required
from .present import pool
from .workers import queued_zh

bp = Blueprint("finance", __name__, url_prefix="/finance")

FORMATS = ("csv", "xlsx", "jsonl")
YEARS = range(2012, 2031)
STATUS_ZH = {"queued": ("排队中", "queued"), "running": ("测算中", "running"),
             "done": ("已完成", "done"), "failed": ("失败", "failed")}


@bp.app_template_filter("yuan")
def yuan(value: float) -> str:
    return f"{value:,.2f}"


@bp.context_processor
def _labels():
    return {"PAYERS": PAYERS, "kinds_zh": kinds_zh}


def _year_in_range(form, field):
    if field.data not in {str(y) for y in YEARS}:
        raise ValidationError(f"预算年度应在 {YEARS[0]}–{YEARS[-1]} 年之间")


def _not_empty(form, field):
    upload = field.data
    if upload:
        size = upload.stream.seek(0, 2)
        upload.stream.seek(0)
        if size == 0:
            raise ValidationError("上传的文件是空的")


class EstimateForm(FlaskForm):
    caseload = FileField("台账文件", validators=[
        FileRequired("请选择台账文件"),
        FileAllowed(FORMATS, "只能上传 .csv、.xlsx 或 .jsonl 格式的台账文件"),
        _not_empty])
    # a plain field rendered as a <select> of YEARS: WTForms' own choice errors are English
    year = StringField("预算年度", validators=[_year_in_range])


def folder(job_id: int) -> Path:
    """The job's folder; estimates/ and it are owner-only (0700) once made."""
    base = current_app.config["ESTIMATES_DIR"] or Path(current_app.config["DATABASE"]).parent / "estimates"
    return Path(base) / str(job_id)


def _job(job_id: int) -> dict:
    job = store.get_estimate(g.db, job_id)
    if job is None:
        abort(404)
    return job


@bp.route("", methods=["GET", "POST"])
@login_required("finance")
def index():
    form = EstimateForm()
    if request.method == "GET":
        form.year.data = str(min(max(dt.date.today().year, YEARS[0]), YEARS[-1]))
    if form.validate_on_submit():
        upload, year = form.caseload.data, int(form.year.data)
        name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1][:200]
        fmt = name.rsplit(".", 1)[-1].lower()
        job_id = store.create_estimate(g.db, g.user, year, name, fmt)
        where = folder(job_id)
        store.private_folder(where.parent)
        store.private_folder(where)
        path = where / f"caseload.{fmt}"
        path.touch(mode=0o600)
        upload.save(path)
        store.audit(g.db, g.user, "estimate.start", detail=f"job {job_id} year {year} file {name}")
        jobs.submit(pool("estimate"), jobs.Job(id=job_id, database=current_app.config["DATABASE"], folder=where,
                             upload=path, year=year, fmt=fmt,
                             rules_dir=current_app.config["RULES_DIR"],
                             workers=current_app.config["FINANCE_WORKERS"]))
        return redirect(url_for("finance.job", job_id=job_id))
    status = 400 if request.method == "POST" else 200
    return render_template("finance.html", form=form, rows=store.estimates(g.db), years=YEARS,
                           STATUS_ZH=STATUS_ZH, max_mb=f'{current_app.config["MAX_CONTENT_LENGTH"] / (1 << 20):g}'), status


@bp.route("/jobs/<int:job_id>")
@login_required("finance")
def job(job_id):
    row = _job(job_id)
    if row["status"] == "done":
        store.audit(g.db, g.user, "estimate.read", detail=f"job {job_id}")
    return render_template("estimate.html", job=row, result=row["result"], STATUS_ZH=STATUS_ZH,
                           persons_only_zh=PERSONS_ONLY_ZH)


@bp.route("/jobs/<int:job_id>.json")
@login_required("finance")
def job_json(job_id):
    row = _job(job_id)
    body = {k: row[k] for k in ("id", "year", "file_name", "status", "processed", "total",
                                "created_at", "finished_at", "error")}
    body["status_zh"] = STATUS_ZH[row["status"]][0]
    body["position"] = pool("estimate").position(job_id) if row["status"] == "queued" else 0
    if body["position"]:
        body["status_zh"] = queued_zh(body["position"])
    if row["status"] == "done":
        store.audit(g.db, g.user, "estimate.read", detail=f"job {job_id} json")
        body["result"] = row["result"]
    return jsonify(body)


@bp.route("/jobs/<int:job_id>/chart.png")
@login_required("finance")
def chart(job_id):
    return _file(_job(job_id), jobs.CHART, "image/png")


@bp.route("/jobs/<int:job_id>/workbook.xlsx")
@login_required("finance")
def workbook(job_id):
    row = _job(job_id)
    response = _file(row, jobs.WORKBOOK,
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     download=f"{row['year']}年度救助资金测算-{job_id}.xlsx")
    store.audit(g.db, g.user, "estimate.download", detail=f"job {job_id} workbook")
    return response


def _file(row: dict, name: str, mimetype: str, download: str | None = None):
    path = folder(row["id"]) / name
    if row["status"] != "done" or not path.is_file():
        abort(404)
    return send_file(path, mimetype=mimetype, as_attachment=download is not None,
                     download_name=download, max_age=0)
