"""Pages on saved determinations and rulebook versions: replay one under the
version that made it (按原规则版本重放), and the cases today's rules change
(现行规则下会变化的案件)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, g, render_template, request

from ..engine import mask_id
from . import changes, store
from .auth import can, county_scope, login_required
from .cases import visible_case
from .labels import COUNTIES
from .present import engine
from .replay import ReplayError, replay

bp = Blueprint("replays", __name__, url_prefix="/cases")


@bp.route("/<int:case_id>/replay")
@login_required("cases.read")
def replay_page(case_id):
    case = visible_case(case_id)   # another county's case: 404, audited
    det_id = request.args.get("det", type=int)
    det = store.determination(g.db, det_id) if det_id and 0 < det_id < 2**63 else None
    if det is None or det["case_id"] != case_id:
        abort(404)
    try:
        done, error = replay(g.db, det_id, engine(), saved=det), None
        outcome = "一致" if done.same else "不一致"
    except ReplayError as exc:
        done, error, outcome = None, str(exc), "无法重放"
    store.audit(g.db, g.user, "case.replay", case_id,
                f"determination {det_id} version {det['rulebook_version']}: {outcome}")
    return render_template("replay.html", case=case, det=det, done=done, error=error, outcome=outcome,
                           id_masked=mask_id(case["id_number"]),
                           at=done.first_difference() if done else None)


@bp.route("/changed")
@login_required("cases.changes")
def changed():
    scope = county_scope(g.user)
    county = scope
    if scope is None:           # the policy office chooses a county, or sees all
        county = request.args.get("county", "")
        county = county if county in COUNTIES else None
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), 10**6)
    per_page = current_app.config["CASES_PER_PAGE"]
    today = engine()
    changes.check(g.db, today, county, current_app.config["RECHECK_BATCH"])
    checked, total = changes.progress(g.db, county, today.version)
    rows, found = changes.changed(g.db, county, today.version, page, per_page)
    for row in rows:
        row["id_masked"] = mask_id(row.pop("id_number"))
    store.audit(g.db, g.user, "case.changes",
                detail=f"county={county or '全部'} page={page} checked={checked}/{total} "
                       f"shown={[r['case_id'] for r in rows]}")
    pages = max((found + per_page - 1) // per_page, 1)
    return render_template("changed.html", rows=rows, found=found, page=page, pages=pages, county=county,
                           scope=scope, checked=checked, total=total, version=today.version,
                           link_cases=can(g.user, "cases.read"))
