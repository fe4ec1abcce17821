"""The policy office's county scorecard (县区目标考核, 三政〔2012〕81号):
upload an indicators file (or use the demo one), pick the evaluation day,
read the table, download the workbook and the blank template. For roles
policy and admin. The files are small and the evaluation is a few hundred
comparisons, so it runs within the request."""
from __future__ import annotations

import datetime as dt
import re
import secrets
import time
from contextlib import suppress
from pathlib import Path

from flask import Blueprint, abort, current_app, g, render_template, request, send_file
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import StringField, SubmitField
from wtforms.validators import ValidationError

from ..scorecard import IndicatorError, TargetsError, evaluate, load_targets, read_indicators
from ..scorecard.indicators import MAX_BYTES
from ..scorecard.targets import DEMO_INDICATORS, targets_dir
from ..scorecard.workbook import write_scorecard, write_template
from . import store
from .auth import login_required

bp = Blueprint("scorecard", __name__, url_prefix="/scorecard")

FIRST_DAY, LAST_DAY = dt.date(2012, 11, 13), dt.date(2030, 12, 31)   # 81号 was issued 2012-11-13
KEEP_SECONDS = 24 * 3600            # a workbook stays downloadable for a day
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def _day(form, field):
    try:
        day = dt.date.fromisoformat((field.data or "").strip())
    except ValueError:
        raise ValidationError("评估日应为日期，格式 YYYY-MM-DD") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError(f"评估日应在 {FIRST_DAY} 至 {LAST_DAY} 之间（81号 2012年11月13日印发）")


class ScorecardForm(FlaskForm):
    indicators = FileField("指标文件")
    as_of = StringField("评估日", validators=[_day])
    upload = SubmitField("上传并考核")
    demo = SubmitField("使用示例数据考核")


def _folder() -> Path:
    return store.private_folder(Path(current_app.config["DATABASE"]).parent / "scorecards")


class _BrokenTargets(Exception):
    """The server's target rules cannot be loaded: an operator's problem, said in Chinese."""


def _targets():
    try:
        return load_targets(targets_dir(current_app.config["RULES_DIR"]))
    except TargetsError as exc:
        current_app.logger.error("scorecard target rules: %s", exc)
        raise _BrokenTargets from None


@bp.errorhandler(_BrokenTargets)
def _broken_targets(exc):
    return render_template("error.html", code=503, title="暂时无法考核",
                           message="服务器上的县区目标规则文件（rules/targets/）有误，请联系系统管理员"), 503


@bp.url_value_preprocessor
def _bounded_upload(endpoint, values):
    # The indicators file is small: refuse a big body before it is read.
    # A URL preprocessor runs before the app's before_request (where CSRF reads the form).
    request.max_content_length = MAX_BYTES + 64 * 1024


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    return render_template("error.html", code=413, title="上传的文件过大",
                           message=f"指标文件不能超过 {MAX_BYTES // (1 << 20)} MB：请使用填报模板"), 413


@bp.route("", methods=["GET", "POST"])
@login_required("scorecard")
def index():
    form = ScorecardForm()
    if request.method == "GET":
        form.as_of.data = "2015-12-31"      # the end of the 12th five-year plan, most targets' deadline
    targets = _targets()
    problems, card, token = [], None, None
    if form.validate_on_submit():
        if form.demo.data:
            name, data = "示例数据（虚构）.csv", DEMO_INDICATORS.read_bytes()
        else:
            upload = form.indicators.data
            name = (getattr(upload, "filename", "") or "").replace("\\", "/").rsplit("/", 1)[-1][:200]
            data = upload.read(MAX_BYTES + 1) if upload else b""
            if not upload or not name:
                problems = ["请选择指标文件（CSV 或 XLSX），或点击“使用示例数据考核”"]
        if not problems:
            try:
                values = read_indicators(data, targets, name)
            except IndicatorError as exc:
                problems = exc.problems
            else:
                card = evaluate(targets, values, dt.date.fromisoformat(form.as_of.data.strip()))
                token = _save(card)
                store.audit(g.db, g.user, "scorecard.run", detail=f"file {name} as_of {card.as_of}")
    elif request.method == "POST":
        problems = [e for errors in form.errors.values() for e in errors]
    status = 400 if problems else 200
    return render_template("scorecard.html", form=form, card=card, token=token, problems=problems,
                           targets=targets, max_mb=MAX_BYTES // (1 << 20)), status


def _save(card) -> str:
    folder = _folder()
    now = time.time()
    for old in folder.glob("*.xlsx"):
        with suppress(OSError):          # another request may be removing it too
            if now - old.stat().st_mtime > KEEP_SECONDS:
                old.unlink()
    token = secrets.token_urlsafe(24)
    path = folder / f"{g.user['id']}-{token}.xlsx"
    write_scorecard(card, path)
    store.private_file(path)
    return token


@bp.route("/<token>.xlsx")
@login_required("scorecard")
def workbook(token):
    path = _folder() / f"{g.user['id']}-{token}.xlsx"
    if not _TOKEN.match(token) or not path.is_file():
        abort(404)       # another user's token, or expired
    store.audit(g.db, g.user, "scorecard.download", detail="workbook")
    return send_file(path, mimetype=XLSX, as_attachment=True, download_name="81号县区目标考核.xlsx", max_age=0)


@bp.route("/template.xlsx")
@login_required("scorecard")
def template():
    targets = _targets()
    path = _folder() / f"template-{targets.version}.xlsx"
    if not path.is_file():
        write_template(targets, path)
        store.private_file(path)
    return send_file(path, mimetype=XLSX, as_attachment=True, download_name="81号县区目标指标填报模板.xlsx",
                     max_age=0)
