"""The township clerk's intake web app (受理网页): Flask on one SQLite file.

Uses only the engine's public API (benefits.engine). Create with
``create_app({"DATABASE": path, ...})``; see docs/web.md.
"""
from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path

from flask import Flask, current_app, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException, MethodNotAllowed, ServiceUnavailable, UnsupportedMediaType
from werkzeug.routing import BaseConverter

from ..engine import default_engine
from ..report import format_value
from . import (admin, api, auth, cases, demo, finance, intake, labels, policy, present, replays, scorecard, store,
               workers)

csrf = CSRFProtect()

DEFAULTS = {
    "DATABASE": "instance/benefits.sqlite",
    "RULES_DIR": None,
    "DEMO": True,                 # seed demo users and cases into a new database
    "DEMO_PASSWORD": None,        # None: a random one, printed on first start
    "SESSION_COOKIE_SECURE": False,  # set True behind HTTPS
    "CASES_PER_PAGE": 20,
    "MAX_CONTENT_LENGTH": 50 * 1024 * 1024,  # largest upload (a caseload file)
    "ESTIMATES_DIR": None,        # job folders; None: "estimates" beside the database
    "FINANCE_WORKERS": 1,         # processes per estimate job (1 = in the job thread)
    "SESSION_IDLE_MINUTES": 30,   # a log-in idle this long must log in again
    "CLOCK": None,                # log-in back-off and session expiry: a function giving the UTC time; None: the wall clock
    "RECHECK_BATCH": 100,         # saved cases checked against today's rules per page view
    "POLICY_GENERATED_SIZE": 140_000,  # the generated caseload of /policy and POST /api/v1/compare
    "COMPARE_WORKERS": 1,         # policy compares running at once (each holds a caseload's frames)
    "COMPARE_QUEUE": 4,           # compares waiting; one more is refused (503)
    "ESTIMATE_QUEUE": 8,          # finance estimates waiting (one runs at a time); one more is refused (503)
    "COMPARE_WAIT_SECONDS": 600,  # how long POST /api/v1/compare waits for its run
    "REUSE_DB_CONNECTIONS": False,  # one connection per request thread, kept (benefits serve sets True)
}


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(DEFAULTS)
    app.config.update(config or {})
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      WTF_CSRF_TIME_LIMIT=None)
    app.url_map.converters["int"] = RowId
    db_path = Path(app.config["DATABASE"])
    db_path.parent.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(db_path.parent / "secret_key")
    app.extensions["benefits_engine"] = default_engine(app.config["RULES_DIR"])

    db = store.connect(db_path)
    try:
        # may raise StoreError (Chinese message)
        created = store.migrate(db, app.extensions["benefits_engine"].rulebook.files)
        app.config["DEMO_LOGINS"] = demo.seed(db, app) if created and app.config["DEMO"] else []
        store.interrupt_estimates(db)   # a stopped server's jobs will never finish
    finally:
        db.close()

    app.before_request(_start_clock)
    app.before_request(_form_bodies_only)   # before CSRF: it would read the body as a form
    app.extensions["benefits_pools"] = {
        "compare": workers.BoundedPool("政策测算", app.config["COMPARE_WORKERS"], app.config["COMPARE_QUEUE"]),
        "estimate": workers.BoundedPool("资金测算", 1, app.config["ESTIMATE_QUEUE"])}
    csrf.init_app(app)
    app.before_request(_open_db)
    app.teardown_appcontext(_close_db)
    auth.init_app(app)
    app.register_blueprint(intake.bp)
    app.register_blueprint(replays.bp)   # before cases: /cases/changed is not a case id
    app.register_blueprint(cases.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(finance.bp)
    app.register_blueprint(scorecard.bp)
    app.register_blueprint(policy.bp)
    csrf.exempt(api.bp)  # the API checks CSRF itself unless Basic auth is used
    present.init_app(app)

    @app.route("/")
    def home():
        if g.user is None:
            return redirect(url_for("auth.login"))
        if auth.can(g.user, "cases.read"):
            return redirect(url_for("cases.index"))
        if auth.can(g.user, "evaluate"):
            return redirect(url_for("intake.new"))
        return redirect(url_for("admin.users"))

    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(workers.Full, _busy)

    app.jinja_env.filters["param_value"] = format_value

    @app.context_processor
    def globals_():
        lang = session.get("lang", "zh")
        return {"lang": lang, "t": lambda key: labels.label(labels.UI[key], lang),
                "L": lambda pair: labels.label(pair, lang), "can": auth.can,
                "COUNTIES": labels.COUNTIES, "ROLE": labels.ROLE}

    @app.after_request
    def headers(response):
        response.headers["Server-Timing"] = present.server_timing()
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'")
        if request.path.startswith(("/cases", "/api", "/intake", "/finance", "/policy")):
            response.headers.setdefault("Cache-Control", "no-store")  # personal data
        return response

    return app


class RowId(BaseConverter):
    """``<int:…>`` in every route: a row id. Digits beyond what SQLite can
    hold (2⁶³−1) become 0, an id no row has, so the view answers its usual
    404 instead of an OverflowError (or a 405 from a route that failed to match)."""
    regex = r"\d+"
    part_isolating = True
    min_id, max_id = 1, 2**63 - 1

    def to_python(self, value: str) -> int:
        number = int(value) if len(value) < 20 else self.max_id + 1
        return number if number <= self.max_id else 0

    def to_url(self, value) -> str:
        return str(int(value))


_TITLES = {400: "请求无效", 401: "需要登录", 403: "无权访问", 404: "未找到", 405: "不支持的请求方法",
           413: "上传的文件过大", 415: "不支持的请求格式", 503: "服务器繁忙", 500: "服务器内部错误，请稍后重试或联系系统管理员"}


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
FORM_TYPES_ZH = "网页只接受表单提交（application/x-www-form-urlencoded 或 multipart/form-data）；JSON 请发往 /api/v1/"


def _form_bodies_only():
    """A page's POST takes a form, never JSON or another body: Flask-WTF
    would read a JSON body as the form's fields (``[1,2,3]`` is no mapping:
    a 500). The API (/api/) checks its own bodies. A body-less request
    (no Content-Type) passes."""
    if (request.method not in ("GET", "HEAD", "OPTIONS") and not request.path.startswith("/api/")
            and request.mimetype and request.mimetype not in FORM_TYPES):
        raise UnsupportedMediaType(FORM_TYPES_ZH)


def _http_error(exc: HTTPException):
    """Every HTTP error: JSON under /api/, else the Chinese error page."""
    if request.path.startswith("/api/"):
        response = api.error_response(exc)
    else:
        message = ""
        if isinstance(exc, CSRFError):
            message = "表单缺少或带有过期的安全令牌（CSRF），请刷新页面后重试"
        elif exc.code == 415:
            message = FORM_TYPES_ZH
        elif exc.code == 413:
            limit = current_app.config["MAX_CONTENT_LENGTH"] / (1 << 20)
            message = f"上传的文件不能超过 {limit:g} MB，请拆分台账后分别测算"
        code = exc.code or 500
        response = current_app.make_response((render_template(
            "error.html", code=code, title=_TITLES.get(code, "请求无效"), message=message), code))
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


BUSY_RETRY_SECONDS = 30


def _busy(exc: workers.Full):
    """A pool's queue is full: 503 with Retry-After, JSON under /api/, else the Chinese page."""
    if request.path.startswith("/api/"):
        response = api.error_response(ServiceUnavailable(str(exc)))
    else:
        response = current_app.make_response((render_template(
            "error.html", code=503, title="服务器繁忙", message=str(exc)), 503))
    response.headers["Retry-After"] = str(BUSY_RETRY_SECONDS)
    return response


def _secret_key(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _start_clock():
    g.started = time.perf_counter()


def _open_db():
    """The request's connection: a new one, or with REUSE_DB_CONNECTIONS the
    request thread's own, kept between its requests. Closing a connection
    when no other is open checkpoints the WAL into the file and deletes it
    (about 20 ms with two fsyncs): per request, that was the largest part of
    a save under load (benchmarks/bench_web.py)."""
    if not current_app.config["REUSE_DB_CONNECTIONS"]:
        g.db = store.connect(current_app.config["DATABASE"])
        return
    kept = current_app.extensions.setdefault("benefits_db_threads", threading.local())
    if getattr(kept, "db", None) is None:
        kept.db = store.connect(current_app.config["DATABASE"])
    g.db = kept.db
    g.db_kept = True


def _close_db(_exc):
    db = g.pop("db", None)
    if db is None:
        return
    if g.pop("db_kept", False):
        if db.conn.in_transaction:      # never hand a half-done transaction to the next request
            db.conn.execute("ROLLBACK")
    else:
        db.close()
