"""The policy office's what-if page (政策测算, /policy): a caseload (generated,
uploaded, or the county's saved cases), a budget year, parameter changes in a
form and/or a reform file; the compare runs in the background
(benefits/web/whatif.py) and its result is shown and downloadable only to
the user who ran it. Roles policy and admin.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from flask import (Blueprint, abort, current_app, g, jsonify, redirect, render_template, request, send_file,
                   url_for)

from ..engine import RulebookError
from ..policy import apply_reform, load_reform
from ..policy.workbook import PERSONS_ONLY_ZH
from . import reformform, store, whatif
from .auth import can, county_scope, login_required
from .labels import COUNTIES
from .present import engine, pool
from .replay import ENGINE_CACHE

bp = Blueprint("policy", __name__, url_prefix="/policy")

FORMATS = ("csv", "xlsx", "jsonl", "parquet")
YEARS = range(2012, 2031)
SOURCES = {"generated": "模拟台账（全市）", "upload": "上传台账文件", "saved": "已保存的案件（改前：所选的已保存规则版本）"}
STATUS_ZH = {"queued": "排队中", "running": "测算中", "done": "已完成", "failed": "失败"}


def folder() -> Path:
    """Where the runs' workbooks go: "policy" beside the database."""
    return Path(current_app.config["DATABASE"]).parent / "policy"


def _form_defaults() -> dict:
    year = min(max(dt.date.today().year, YEARS[0]), YEARS[-1])
    return {"source": "generated", "year": str(year), "since": f"{year}-01-01", "county": ""}


def _page(form: dict, errors: dict, status: int = 200, reform_error: str | None = None):
    book = engine().rulebook
    return render_template(
        "policy.html", form=form, errors=errors, reform_error=reform_error, groups=reformform.fields(book),
        years=YEARS, sources=SOURCES, runs=whatif.runs_of(g.user["id"]), STATUS_ZH=STATUS_ZH,
        versions=kept_versions(g.db, book.version), max_mb=f'{current_app.config["MAX_CONTENT_LENGTH"] / (1 << 20):g}',
        generated_size=current_app.config["POLICY_GENERATED_SIZE"], scope=county_scope(g.user)), status


def kept_versions(db, today: str) -> list[dict]:
    """Kept rulebook versions with saved determinations, newest first (today's excluded)."""
    rows = db.execute("SELECT v.version, v.at, count(d.id) FROM rulebook_versions v LEFT JOIN determinations d "
                      "ON d.rulebook_version = v.version WHERE v.kept = 1 GROUP BY v.version ORDER BY v.at DESC")
    return [{"version": v, "at": at, "determinations": n, "today": v == today} for v, at, n in rows]


def _upload(name: str):
    upload = request.files.get(name)
    if upload is None or not upload.filename:
        return None, None
    data = upload.read()
    filename = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1][:200]
    return filename, data


def build_reform(book, form, reform_file: tuple | None, user: dict):
    """(reformed rulebook, Chinese reform error, field errors). The file's
    reform is applied first, then the form's parameter changes."""
    errors: dict[str, str] = {}
    try:
        since = dt.date.fromisoformat(form.get("since", ""))
        if not dt.date(2000, 1, 1) <= since <= dt.date(2100, 12, 31):
            raise ValueError
    except ValueError:
        errors["since"] = "改动起始日期应为 2000-01-01 至 2100-12-31 之间的日期（如 2013-01-01）"
        since = None
    section, field_errors = reformform.changes(book, form, since or dt.date(2013, 1, 1))
    errors.update(field_errors)
    if errors:
        return None, None, errors
    reformed, label_file = book, None
    try:
        if reform_file is not None:
            name, data = reform_file
            if not name.lower().endswith((".yaml", ".yml")):
                return None, None, {"reform_file": "改革方案文件应为 .yaml 或 .yml"}
            reform = load_reform(data, name=name)     # bytes: never read as a path
            reformed = apply_reform(book, reform)
            label_file = reform.label
        if section:
            label = reformform.describe(section, book)
            if label_file:
                label = f"{label_file}；另改 {label}"
            text = reformform.reform_text(section, label[:190], f"政策测算页面中由 {user['display_name'] or user['username']} 修改参数")
            reformed = apply_reform(reformed, load_reform(text.encode(), name="表单改动"))
    except RulebookError as exc:
        return None, str(exc), {}
    if reformed is book:
        return None, "没有任何改动：请在参数表中改一个值，或上传改革方案文件", {}
    return reformed, None, {}


@bp.route("", methods=["GET", "POST"])
@login_required("policy")
def index():
    if request.method == "GET":
        return _page(_form_defaults(), {})
    form = {k: v[:200] for k, v in request.form.items()}
    errors: dict[str, str] = {}
    source = form.get("source", "")
    if source not in SOURCES:
        errors["source"] = "请选择台账来源"
    year = int(form["year"]) if form.get("year", "").isdigit() and int(form["year"]) in YEARS else None
    if year is None:
        errors["year"] = f"预算年度应在 {YEARS[0]}–{YEARS[-1]} 年之间"
    caseload_file = _upload("caseload") if source == "upload" else (None, None)
    if source == "upload":
        name, data = caseload_file
        if name is None:
            errors["caseload"] = "请选择台账文件"
        elif name.rsplit(".", 1)[-1].lower() not in FORMATS or "." not in name:
            errors["caseload"] = "只能上传 .csv、.xlsx、.jsonl 或 .parquet 格式的台账文件"
        elif not data:
            errors["caseload"] = "上传的文件是空的"
    county, baseline_version = None, None
    if source == "saved" and not can(g.user, "cases.changes"):
        errors["source"] = "本账户的角色不能使用已保存的案件测算"
    elif source == "saved":
        county = county_scope(g.user) or form.get("county") or None
        if county is not None and county not in COUNTIES:
            errors["county"] = "请选择县（市、区）"
        baseline_version = form.get("baseline_version", "")
        if baseline_version not in {v["version"] for v in kept_versions(g.db, "")}:
            errors["baseline_version"] = "请选择一个已保存的规则版本作为改前规则"
    book = engine().rulebook
    name, data = _upload("reform_file")
    reformed, reform_error, reform_errors = build_reform(book, form, (name, data) if name else None, g.user) \
        if not errors or set(errors) <= {"caseload"} else (None, None, {})
    errors.update(reform_errors)
    if source == "saved" and reform_error and reform_error.startswith("没有任何改动"):
        reformed, reform_error = book, None   # old version against today's rules as they are
    if errors or reform_error:
        return _page(form, errors, 400, reform_error)
    label = reformed.reform.label if reformed.reform else "现行规则"
    digest = reformed.reform.digest if reformed.reform else ""
    if source == "generated":
        size = current_app.config["POLICY_GENERATED_SIZE"]
        caseload_zh = f"模拟台账 {size:,} 人"
    elif source == "upload":
        caseload_zh = f"上传的台账 {caseload_file[0]}"
    else:
        caseload_zh = f"{COUNTIES.get(county, '全市') if county else '全市'}已保存的案件（改前：规则版本 {baseline_version}）"
    work = _work(source, year, book, reformed, caseload_file, county, baseline_version)
    run = whatif.submit(pool("compare"), g.user["id"], year, label, caseload_zh, folder(), work)   # Full: 503
    store.audit(g.db, g.user, "policy.compare",
                detail=f"run {run.id} reform {digest} “{label[:80]}” caseload {caseload_zh} year {year}")
    return redirect(url_for("policy.run", run_id=run.id))


def _work(source, year, book, reformed, caseload_file, county, baseline_version):
    """The background part: the caseload in memory, then the compare (the
    job then writes its workbook, whatif._write_workbook)."""
    app = current_app._get_current_object()
    size = app.config["POLICY_GENERATED_SIZE"]
    database = app.config["DATABASE"]
    today = engine()

    def work(run: whatif.Run):
        baseline = book
        if source == "generated":
            if whatif.cached(f"generated:{size}") is None:
                run.stage_zh = f"正在生成模拟台账（{size:,} 人，每台服务器只生成一次）"
            caseload = whatif.timed(run, "caseload", lambda: whatif.generated(size))
        elif source == "upload":
            name, data = caseload_file
            path = run.folder / f"caseload.{name.rsplit('.', 1)[-1].lower()}"
            path.touch(mode=0o600)
            path.write_bytes(data)
            run.stage_zh = "正在读取并校验台账"
            try:
                caseload = whatif.read_upload(path, path.suffix[1:], name)
            finally:
                path.unlink(missing_ok=True)     # personal data: only the figures stay
        else:
            db = store.connect(database)
            try:
                caseload, baseline = saved_caseload(db, county, baseline_version, today)
            finally:
                db.close()
        result, shown = whatif.timed(run, "compare", lambda: whatif.run_compare(
            caseload, baseline, reformed, year, progress=whatif.progress_of(run, "测算中")))
        run.result, run.comparison = shown, result
    return work


def saved_caseload(db, county: str | None, version: str, current):
    """(the saved cases' latest records as a caseload, the Rulebook of
    ``version``); ``current``: today's engine (used if it is that version)."""
    where, params = ("AND c.county = ?", [county]) if county else ("", [])
    rows = db.execute(
        "SELECT c.id, c.name, c.county, d.record_json FROM determinations d JOIN cases c ON c.id = d.case_id "
        f"WHERE d.id IN (SELECT max(id) FROM determinations GROUP BY case_id) {where} ORDER BY c.id",
        params).fetchall()
    records = [json.loads(r[3]) for r in rows]
    caseload = whatif.from_records(records, f"已保存的案件 {len(records)} 件", f"saved:{county}")
    caseload.cases = [{"id": r[0], "name": r[1], "county": r[2]} for r in rows]
    # the replay's engines of kept versions (files checked against their hashes)
    with ENGINE_CACHE.using(version, lambda v: store.version_files(db, v), current) as old:
        return caseload, old.rulebook


def may_link_cases(user: dict, result: dict | None) -> bool:
    """Case links only for a user who may open every case listed (a clerk of
    their county); policy sees names and masked numbers, as on /cases/changed."""
    if not result or not can(user, "cases.read"):
        return False
    scope = county_scope(user)
    return scope is None or all(r["county"] == scope for r in result.get("changed_cases", []))


def _run(run_id: str) -> whatif.Run:
    """The user's own run; anyone else's is a 404 (and audited)."""
    run = whatif.get(run_id[:40])
    if run is None or run.owner != g.user["id"]:
        if run is not None:
            store.audit(g.db, g.user, "denied", detail=f"{request.method} {request.path} (另一用户的测算)")
        abort(404)
    return run


@bp.route("/runs/<run_id>")
@login_required("policy")
def run(run_id):
    found = _run(run_id)
    if found.status == "done":
        store.audit(g.db, g.user, "policy.read", detail=f"run {found.id}")
    result = found.result
    return render_template("policy_run.html", run=found, result=result, STATUS_ZH=STATUS_ZH,
                           chart=county_chart(result["by_county"]) if result else None,
                           link_cases=may_link_cases(g.user, result), persons_only_zh=PERSONS_ONLY_ZH)


@bp.route("/runs/<run_id>.json")
@login_required("policy")
def run_json(run_id):
    return jsonify(_run(run_id).as_json())


@bp.route("/runs/<run_id>/workbook.xlsx")
@login_required("policy")
def workbook(run_id):
    found = _run(run_id)
    path = whatif.workbook(found) if found.status == "done" else None
    if path is None:
        message = ("工作簿生成失败，请重新测算后下载" if found.workbook_state == "failed"
                   else "测算尚未完成或工作簿已不可用，请重新测算后下载")
        return render_template("error.html", code=404, title="工作簿已不可用", message=message), 404
    store.audit(g.db, g.user, "policy.download", detail=f"run {found.id}")
    return send_file(path, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     as_attachment=True, download_name=f"{found.year}年度政策测算-{found.id[:8]}.xlsx", max_age=0)


def county_chart(rows: list[dict], width: int = 760, bar: int = 14) -> dict:
    """An inline SVG's geometry: per county two bars (改前, 改后) and the difference."""
    top = max([max(r["baseline"], r["reform"]) for r in rows] + [1.0])
    left, span = 120, width - 120 - 150
    out = []
    for i, r in enumerate(rows):
        y = 30 + i * (2 * bar + 14)
        out.append({"label": r["county_zh"] or r["county"] or "（无县区）", "y": y,
                    "wb": r["baseline"] / top * span, "wr": r["reform"] / top * span,
                    "baseline": r["baseline"], "reform": r["reform"], "difference": r["difference"]})
    return {"bars": out, "left": left, "bar": bar, "width": width,
            "height": 40 + len(rows) * (2 * bar + 14), "span": span}
