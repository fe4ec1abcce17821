"""Log-in, roles and county scope (登录与权限)."""
from __future__ import annotations

import datetime as dt
import functools
import math
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template,
                   request, session, url_for)

from . import store

bp = Blueprint("auth", __name__)
hasher = PasswordHasher()

# What each role may do; a clerk's case rights stop at their county.
PERMISSIONS = {
    "clerk": {"evaluate", "cases.read", "cases.write", "rules"},
    "finance": {"cases.read", "rules", "finance"},
    "policy": {"evaluate", "rules"},
    "admin": {"users", "audit", "rules", "finance"},
}
_DUMMY_HASH = hasher.hash("not a password")


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


def check_password(db, username: str, password: str) -> tuple[dict | None, str | None]:
    """(user, None) on success, else (None, Chinese message). Counts failures
    and locks the account after store.LOCK_AFTER_FAILURES of them."""
    user = store.user_by_name(db, username)
    at = dt.datetime.now(dt.timezone.utc)
    if user is None:
        _verify(_DUMMY_HASH, password)  # same work as for a real user
        store.audit(db, None, "login.fail", detail=f"unknown user {username[:50]}")
        return None, "用户名或密码错误"
    until = store.locked_until(user, at)
    if until is not None:
        store.audit(db, user, "login.locked")
        return None, _locked_message(until, at)
    if not _verify(user["password_hash"], password):
        until = store.record_login_failure(db, user["id"], at)
        store.audit(db, user, "login.fail")
        return None, _locked_message(until, at) if until else "用户名或密码错误"
    new_hash = hasher.hash(password) if hasher.check_needs_rehash(user["password_hash"]) else None
    store.record_login_success(db, user["id"], new_hash)
    store.audit(db, user, "login.ok")
    return user, None


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _locked_message(until: dt.datetime, at: dt.datetime) -> str:
    minutes = max(1, math.ceil((until - at).total_seconds() / 60))
    return f"登录失败次数过多，账户已锁定，请 {minutes} 分钟后再试"


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
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        user, error = check_password(g.db, request.form.get("username", "").strip(),
                                     request.form.get("password", ""))
        if user is not None:
            lang = session.get("lang")
            session.clear()  # a fresh session on log-in (no fixation)
            session["uid"] = user["id"]
            session["seen"] = int(time.time())
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
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>")
def language(code):
    if code not in ("zh", "en"):
        abort(404)
    session["lang"] = code
    return redirect(_safe_next(request.args.get("next")))


def load_user() -> None:
    uid = session.get("uid")
    g.user = store.user_by_id(g.db, uid) if isinstance(uid, int) else None
    if g.user is None:
        return
    # Signed cookies cannot be revoked: an idle timeout bounds how long a
    # forgotten or copied log-in stays usable.
    now, seen = int(time.time()), session.get("seen")
    if not isinstance(seen, int) or now - seen > current_app.config["SESSION_IDLE_MINUTES"] * 60:
        store.audit(g.db, g.user, "session_expired")
        session.pop("uid", None)
        session.pop("seen", None)
        g.user = None
        flash("长时间未操作，请重新登录", "error")
        return
    session["seen"] = now


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.before_request(load_user)
