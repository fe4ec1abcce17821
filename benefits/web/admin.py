"""Administration (系统管理): users, lock-outs, the audit log; the rulebook."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, g, redirect, render_template, url_for

from . import store
from .auth import login_required
from .present import engine

bp = Blueprint("admin", __name__)


@bp.route("/admin/users")
@login_required("users")
def users():
    throttled = store.throttled_names(g.db, dt.datetime.now(dt.timezone.utc))
    rows = store.users(g.db)
    for row in rows:
        row["throttled"] = throttled.get(row["username"], 0)
    return render_template("users.html", rows=rows)


@bp.route("/admin/users/<int:user_id>/unlock", methods=["POST"])
@login_required("users")
def unlock(user_id):
    user = store.user_by_id(g.db, user_id)
    if user is None:
        abort(404)
    store.clear_login_failures(g.db, user["username"])
    store.audit(g.db, g.user, "user.unlock", detail=f"user {user_id}")
    return redirect(url_for("admin.users"))


@bp.route("/admin/audit")
@login_required("audit")
def audit_log():
    return render_template("audit.html", rows=store.audit_rows(g.db, limit=500))


@bp.route("/rules")
@login_required("rules")
def rules():
    eng = engine()
    return render_template("rules.html", rules=eng.rulebook.rules, version=eng.version)
