"""Cases (案件): list, detail, history, re-evaluation, printable notice."""
from __future__ import annotations

import functools

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for

from ..engine import InvalidApplicant, mask_id
from . import store
from .form import FIELDS
from .intake import missing_anchor
from .auth import county_scope, login_required, may_change_case, may_see_case
from .present import diff, evaluate, rulebook_files, shown_record

bp = Blueprint("cases", __name__, url_prefix="/cases")


def visible_case(case_id: int) -> dict:
    """The case if this user may read it, else 404 (also for other counties)."""
    case = store.get_case(g.db, case_id)
    if case is None or not may_see_case(g.user, case):
        store.audit(g.db, g.user, "denied", case_id, f"{request.method} {request.path}")
        abort(404)
    return case


@bp.route("")
@login_required("cases.read")
def index():
    name = request.args.get("q", "").strip()[:50]
    status = request.args.get("status", "")
    if status not in store.CASE_STATUSES:
        status = ""
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), 10**6)
    per_page = current_app.config["CASES_PER_PAGE"]
    rows, total = store.search_cases(g.db, county_scope(g.user), name, status, page, per_page)
    store.audit(g.db, g.user, "case.list",
                detail=f"q={store.masked_query(name)} status={status} page={page} shown={[r['id'] for r in rows]}")
    for row in rows:
        row["id_masked"] = mask_id(row["id_number"])
    pages = max((total + per_page - 1) // per_page, 1)
    return render_template("cases.html", rows=rows, total=total, page=page, pages=pages,
                           q=name, status=status, statuses=store.CASE_STATUSES)


@bp.route("/<int:case_id>")
@login_required("cases.read")
def detail(case_id):
    case = visible_case(case_id)
    dets = store.determinations(g.db, case_id)
    chosen = _chosen(dets)
    index = dets.index(chosen)
    changes = diff(dets[index - 1]["result"], chosen["result"]) if index > 0 else None
    store.audit(g.db, g.user, "case.read", case_id, f"determination {chosen['id']}")
    may_change = may_change_case(g.user, case, case["county"])
    anchor = None
    if may_change and chosen is dets[-1]:  # open questions link into the edit form
        anchor = functools.partial(missing_anchor, base=url_for("intake.edit", case_id=case_id))
    return render_template("case.html", case=case, det=chosen, dets=dets, changes=changes,
                           previous=dets[index - 1] if index > 0 else None,
                           id_masked=mask_id(case["id_number"]), may_change=may_change,
                           missing_anchor=anchor, version_kept=store.version_kept(g.db, chosen["rulebook_version"])[0])


@bp.route("/<int:case_id>/history")
@login_required("cases.read")
def history(case_id):
    case = visible_case(case_id)
    dets = store.determinations(g.db, case_id)
    steps = [{"det": d, "changes": diff(dets[i - 1]["result"], d["result"]) if i else None}
             for i, d in enumerate(dets)]
    store.audit(g.db, g.user, "case.history", case_id)
    return render_template("history.html", case=case, steps=list(reversed(steps)),
                           audit=store.audit_rows(g.db, case_id), id_masked=mask_id(case["id_number"]))


@bp.route("/<int:case_id>/reevaluate", methods=["POST"])
@login_required("cases.write")
def reevaluate(case_id):
    case = visible_case(case_id)
    if not may_change_case(g.user, case, case["county"]):
        abort(403)
    try:
        record, result = evaluate(case["record"])
    except InvalidApplicant:
        # the saved record no longer passes the checks: the clerk corrects it
        return redirect(url_for("intake.edit", case_id=case_id))
    try:
        store.add_determination(g.db, case_id, record, result, g.user, "case.reevaluate",
                                f"rulebook {result['rulebook_version']}", rulebook_files())
    except store.DuplicateCase:
        return redirect(url_for("intake.edit", case_id=case_id))
    return redirect(url_for("cases.detail", case_id=case_id))


@bp.route("/<int:case_id>/notice")
@login_required("cases.read")
def notice(case_id):
    case = visible_case(case_id)
    det = _chosen(store.determinations(g.db, case_id))
    store.audit(g.db, g.user, "case.notice", case_id, f"determination {det['id']}")
    choices = {name: {v: zh for v, zh, _ in FIELDS[name].choices}
               for name in ("certificate.category", "certificate.grade")}
    return render_template("notice.html", case=case, det=det, record=shown_record(g.user, det["record"]),
                           masked_id=mask_id(det["record"]["id_number"]),
                           result=det["result"], categories=choices["certificate.category"],
                           grades=choices["certificate.grade"])


def _chosen(dets: list[dict]) -> dict:
    """The determination named by ?det=, else the latest."""
    wanted = request.args.get("det", type=int)
    if wanted is None:
        return dets[-1]
    for det in dets:
        if det["id"] == wanted:
            return det
    abort(404)
