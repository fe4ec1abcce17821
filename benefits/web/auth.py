"""Log-in, roles and county scope (登录与权限)."""
from __future__ import annotations

import datetime as dt
import functools
import math
import urllib.parse

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template,
                   request, session, url_for)

from . import store

bp = Blueprint("auth", __name__)
# argon2id at OWASP's first recommended minimum (Password Storage Cheat
# Sheet: m = 19 MiB, t = 2, p = 1), not argon2-cffi's default (m = 64 MiB,
# t = 3, p = 4 threads). Cost of one check on this 2-core machine, load ~15:
# about 90 ms and 19 MiB instead of about 560 ms, 64 MiB and both cores, so
# 50 clerks logging in at once wait seconds, not tens of seconds. Hashes made
# with other parameters still verify and are re-hashed at the next log-in
# (check_needs_rehash below).
ARGON2 = {"time_cost": 2, "memory_cost": 19_456, "parallelism": 1}
hasher = PasswordHasher(**ARGON2)

# What each role may do; a clerk's case rights stop at their county.
PERMISSIONS = {
    "clerk": {"evaluate", "cases.read", "cases.write", "rules", "cases.changes"},
    "finance": {"cases.read", "rules", "finance"},
    # cases.changes: which saved cases new rules change (masked); policy: the what-if compare (/policy)
    "policy": {"evaluate", "rules", "scorecard", "cases.changes", "policy"},
    "admin": {"users", "audit", "rules", "finance", "scorecard", "policy"},
}
_DUMMY_HASH = hasher.hash("not a password")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def now() -> dt.datetime:
    """The app's clock for log-in back-off and session expiry: the function
    in ``app.config["CLOCK"]`` (an aware UTC datetime; tests set it), else
    the wall clock."""
    return (current_app.config.get("CLOCK") or utc_now)()


def can(user: dict | None, permission: str) -> bool:
    return user is not None and permission in PERMISSIONS.get(user["role"], ())


def county_scope(user: dict) -> str | None:
    """The one county a clerk works for; None means every county."""
    return user["county"] if user["role"] == "clerk" else None


def may_see_case(user: dict, case: dict) -> bool:
    scope = county_scope(user)
    return can(user, "cases.read") and (scope is None or case["county"] == scope)


def may_change_case(user: dict, case: dict | None, county: str | None) -> bool:
    """A clerk may save a case only into, and only out of, their own county."""
    scope = county_scope(user)
    if not can(user, "cases.write") or scope is None:
        return False
    return county == scope and (case is None or case["county"] == scope)


def check_password(db, username: str, password: str, source: str) -> tuple[dict | None, str | None]:
    """(user, None) on success, else (None, Chinese message).

    Failures count per (user name, source address), for names that exist and
    names that do not alike, so the answer and its timing never tell whether
    a name exists; past store.FREE_FAILURES an address waits, doubling each
    time, and nobody can lock an account for another address."""
    username = username[:100]
    at = now()
    until = store.backoff_until(db, username, source)
    if until is not None and until > at:
        _verify(_DUMMY_HASH, password)  # the same work as a real check
        store.audit(db, None, "login.throttled", detail=f"{username} from {source}")
        return None, _wait_message(until, at)
    user = store.user_by_name(db, username)
    if not _verify(user["password_hash"] if user else _DUMMY_HASH, password) or user is None:
        store.record_login_failure(db, username, source, at)
        store.audit(db, user, "login.fail", detail=f"{'' if user else 'unknown user ' + username} from {source}")
        return None, "用户名或密码错误"
    store.clear_login_failures(db, username, source)
    if hasher.check_needs_rehash(user["password_hash"]):
        store.update_password_hash(db, user["id"], hasher.hash(password))
    store.audit(db, user, "login.ok", detail=f"from {source}")
    return user, None


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _wait_message(until: dt.datetime, at: dt.datetime) -> str:
    seconds = max(1, math.ceil((until - at).total_seconds()))
    wait = f"{seconds} 秒" if seconds < 60 else f"{math.ceil(seconds / 60)} 分钟"
    return f"登录失败次数过多，请 {wait}后再试"


def login_required(permission: str | None = None):
    """Decorator: a logged-in user, holding ``permission`` if given."""
    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            if g.user is None:
                return redirect(url_for("auth.login", next=request.full_path))
            if permission and not can(g.user, permission):
                store.audit(g.db, g.user, "denied", detail=f"{request.method} {request.path}")
                abort(403)
            return view(*args, **kwargs)
        return inner
    return wrap


def _safe_next(target: str | None) -> str:
    """A same-origin path, parsed as urllib does, else the home page. Control
    characters and backslashes are refused outright: browsers drop tabs and
    newlines and read a backslash as a slash (/%09/host → //host)."""
    if target and not any(ord(ch) < 0x20 or ch in "\\\x7f" for ch in target):
        parts = urllib.parse.urlsplit(target)
        if (not parts.scheme and not parts.netloc and parts.path.startswith("/")
                and not parts.path.startswith("//")):
            return target
    return url_for("home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        user, error = check_password(g.db, request.form.get("username", "").strip(),
                                     request.form.get("password", ""), source_address())
        if user is not None:
            lang = session.get("lang")
            session.clear()  # a fresh session on log-in (no fixation)
            at = now()
            session["sid"] = store.new_session(g.db, user["id"], at)
            session["seen"] = int(at.timestamp())
            if lang:
                session["lang"] = lang
            return redirect(_safe_next(request.args.get("next")))
        flash(error, "error")
        return render_template("login.html"), 401
    return render_template("login.html")


@bp.route("/logout", methods=["POST"])
def logout():
    if g.user is not None:
        store.audit(g.db, g.user, "logout")
        store.end_session(g.db, session["sid"])  # every copy of the cookie ends here
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>")
def language(code):
    if code not in ("zh", "en"):
        abort(404)
    session["lang"] = code
    return redirect(_safe_next(request.args.get("next")))


def source_address() -> str:
    """The client's address (behind a proxy: the proxy's, unless the WSGI
    server was told to trust X-Forwarded-For)."""
    return request.remote_addr or "unknown"


def load_user() -> None:
    """The user of the session's server-side id: log-out and a new password
    delete it, which ends every copy of the cookie."""
    sid = session.get("sid")
    at = now()
    g.user = store.session_user(g.db, sid, at) if isinstance(sid, str) else None
    if g.user is None:
        return
    # An idle timeout bounds how long a forgotten log-in stays usable.
    second, seen = int(at.timestamp()), session.get("seen")
    if not isinstance(seen, int) or second - seen > current_app.config["SESSION_IDLE_MINUTES"] * 60:
        store.audit(g.db, g.user, "session_expired")
        store.end_session(g.db, sid)
        session.pop("sid", None)
        session.pop("seen", None)
        g.user = None
        flash("长时间未操作，请重新登录", "error")
        return
    session["seen"] = second


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.before_request(load_user)
