"""Administration (系统管理): users, lock-outs, the audit log; the rulebook."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from . import store
from .auth import login_required, now
from .labels import ACTIONS
from .present import BEIJING, engine

bp = Blueprint("admin", __name__)


@bp.route("/admin/users")
@login_required("users")
def users():
    throttled = store.throttled_names(g.db, now())
    rows = store.users(g.db)
    for row in rows:
        row["throttled"] = throttled.get(row["username"], 0)
    return render_template("users.html", rows=rows, tokens=store.api_tokens(g.db), scopes=store.TOKEN_SCOPES,
                           at=now().replace(microsecond=0).isoformat())


@bp.route("/admin/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required("users")
def revoke_token(token_id):
    """Revoke one API token (作废令牌); the user's other tokens and sessions stay."""
    if not store.revoke_api_token(g.db, token_id, now()):
        abort(404)
    store.audit(g.db, g.user, "token.revoke", detail=f"token {token_id}")
    return redirect(url_for("admin.users"))


@bp.route("/admin/users/<int:user_id>/unlock", methods=["POST"])
@login_required("users")
def unlock(user_id):
    user = store.user_by_id(g.db, user_id)
    if user is None:
        abort(404)
    store.clear_login_failures(g.db, user["username"])
    store.audit(g.db, g.user, "user.unlock", detail=f"user {user_id}")
    return redirect(url_for("admin.users"))


AUDIT_PER_PAGE = 50


@bp.route("/admin/audit")
@login_required("audit")
def audit_log():
    """The audit log, filtered by user, case, action and Beijing-time dates, 50 a page."""
    args = request.args
    username = args.get("user", "").strip()[:100]
    case_id = args.get("case", type=int)
    case_id = case_id if case_id is not None and 0 < case_id < 2**63 else None
    action = args.get("action", "")
    action = action if action in ACTIONS else ""
    day_from, day_to = _day(args.get("from")), _day(args.get("to"))
    page = min(max(args.get("page", 1, type=int) or 1, 1), 10**6)
    rows, total = store.search_audit(
        g.db, username, case_id, action,
        since=_utc(day_from) if day_from else None,
        until=_utc(day_to + dt.timedelta(days=1)) if day_to else None,
        page=page, per_page=AUDIT_PER_PAGE)
    filters = {"user": username, "case": case_id or "", "action": action,
               "from": day_from.isoformat() if day_from else "", "to": day_to.isoformat() if day_to else ""}
    return render_template("audit.html", rows=rows, total=total, page=page, filters=filters,
                           pages=max((total + AUDIT_PER_PAGE - 1) // AUDIT_PER_PAGE, 1), actions=ACTIONS)


def _day(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _utc(day: dt.date) -> str:
    """Midnight Beijing time of ``day`` as the stored UTC text."""
    return dt.datetime.combine(day, dt.time(), BEIJING).astimezone(dt.timezone.utc).isoformat()


@bp.route("/rules")
@login_required("rules")
def rules():
    eng = engine()
    return render_template("rules.html", rules=eng.rulebook.rules, version=eng.version)
