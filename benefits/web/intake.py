"""Intake (受理): fill in the applicant's facts, see the determination, save."""
from __future__ import annotations

from functools import lru_cache

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from ..engine import ALWAYS, InvalidApplicant, service_paths, services
from . import form as intake_form
from . import store
from .auth import can, county_scope, login_required, may_change_case, may_see_case
from .labels import COUNTIES
from .present import engine, evaluate, rulebook_files

bp = Blueprint("intake", __name__, url_prefix="/intake")


@bp.route("", methods=["GET"])
@login_required("evaluate")
def new():
    return _render({}, intake_form.MEMBER_ROWS_MIN, chosen=_chosen(request.args))


@bp.route("/case/<int:case_id>", methods=["GET"])
@login_required("cases.write")
def edit(case_id):
    case = _own_case(case_id)
    store.audit(g.db, g.user, "case.read", case_id, "intake form")
    rows = len(case["record"].get("household", {}).get("members") or []) + 1
    return _render(intake_form.record_to_form(case["record"]),
                   max(rows, intake_form.MEMBER_ROWS_MIN), case=case,
                   chosen=_chosen(request.args, _recorded_services(case)))


@bp.route("", methods=["POST"])
@bp.route("/case/<int:case_id>", methods=["POST"])
@login_required("evaluate")
def submit(case_id=None):
    case = _own_case(case_id) if case_id is not None else None
    values = request.form.to_dict()
    chosen = _chosen(request.form)
    rows = max(intake_form.member_rows(values), intake_form.MEMBER_ROWS_MIN)
    action = values.get("action", "evaluate")
    if action == "addrow":
        return _render(values, min(rows + 1, intake_form.MAX_MEMBERS), case=case, chosen=chosen)
    if action == "services":   # without JavaScript: the same form for the new ticks, nothing evaluated
        return _render(values, rows, case=case, chosen=chosen)
    parsed = intake_form.parse_form(values)
    for name in ("category", "grade"):   # show what was read from the certificate number
        derived = (parsed.record.get("certificate") or {}).get(name)
        if derived is not None and not values.get(f"certificate.{name}", "").strip():
            values[f"certificate.{name}"] = str(derived)
    names = intake_form.input_names(rows)
    errors = {name: list(msgs) for name, msgs in parsed.errors.items()}
    general = []
    record = result = None
    try:
        record, result = evaluate(parsed.record)
    except InvalidApplicant as exc:
        for err in exc.errors:
            name = intake_form.resolve(err.field, parsed.aliases, names)
            if name is None:
                general.append(f"{err.field}：{err.message}")
            else:
                errors.setdefault(name, []).append(err.message)
    if action == "save" and not errors and not general:
        if not can(g.user, "cases.write"):
            abort(403)
        county = record.get("hukou_county")
        if not may_change_case(g.user, case, county):
            scope = county_scope(g.user)
            errors["hukou_county"] = [f"本账户只能受理{COUNTIES.get(scope, scope)}户籍的案件，请填写户籍所在县（市、区）"]
        else:
            try:
                return _save(case, county, record, result)
            except store.DuplicateCase as dup:  # the database's unique index decides
                errors["id_number"] = [f"此身份证号已有案件 #{dup.case_id}，请在该案件中修改信息"]
    if errors or general:
        result = None
    status = 422 if (errors or general) else 200
    return _render(values, rows, case=case, result=result, errors=errors, general=general, chosen=chosen), status


def _save(case, county, record, result):
    detail = f"rulebook {result['rulebook_version']}"
    if case is None:
        case_id = store.create_case(g.db, county, record, result, g.user, detail, rulebook_files())
    else:
        case_id = case["id"]
        store.add_determination(g.db, case_id, record, result, g.user, "case.update", detail, rulebook_files())
    return redirect(url_for("cases.detail", case_id=case_id))


def _own_case(case_id):
    """A case the clerk may change; others get 404 (existence is not revealed)."""
    case = store.get_case(g.db, case_id)
    if case is None or not may_see_case(g.user, case) or not can(g.user, "cases.write"):
        store.audit(g.db, g.user, "denied", case_id, f"{request.method} {request.path}")
        abort(404)
    return case


def missing_anchor(path: str, base: str = "") -> str:
    """The form anchor for a missing fact's field path (on ``base``, a page URL)."""
    name = intake_form.resolve(path, {}, intake_form.input_names(0))
    return base + "#" + (intake_form.field_id(name) if name else "form-top")


@lru_cache(maxsize=8)
def _picker(rulebook):
    """The services of a rulebook and which inputs and sections each needs."""
    needs = intake_form.field_needs(service_paths(rulebook), ALWAYS)
    return services(rulebook), needs, intake_form.section_needs(needs)


def _chosen(source, start=frozenset()) -> tuple[frozenset, list[str]]:
    """The ticked services of a query or form (``service``, repeated); until
    the form has asked (its ``services_asked`` marker or any tick), ``start``:
    none for a new applicant, what the saved record shows for a case."""
    ticks = source.getlist("service")
    known = [s.key for s in _picker(engine().rulebook)[0]]
    return intake_form.chosen_services(ticks, bool(ticks) or "services_asked" in source, known, start)


# An input needed by at most this many services tells which service a saved
# record was taken for (教育's 考取学校层次); the scope facts (残疾人证, 低保)
# that most services read do not.
DISTINCTIVE = 2


def _recorded_services(case: dict) -> frozenset:
    """The services a saved case shows: those with a 符合 line in its latest
    determination, and those needing a distinctive input the record answers
    (a gate answered 否 stands for no answers inside it)."""
    service_list, needs, _ = _picker(engine().rulebook)
    values = intake_form.record_to_form(case["record"])
    for gate in intake_form.GATE_INPUTS:
        if values.get(gate) == intake_form.NO and gate.startswith(intake_form.GATE_PREFIX):
            section = gate.removeprefix(intake_form.GATE_PREFIX) + "."
            values = {k: v for k, v in values.items() if not k.startswith(section)}
    picked = {key for name in values for key in (needs.get(_input_of(name)) or ())
              if len(needs[_input_of(name)]) <= DISTINCTIVE}
    latest = store.determinations(g.db, case["id"])[-1:]
    eligible = {line["benefit"] for d in latest for line in d["result"]["benefits"] if line["status"] == "eligible"}
    picked |= {s.key for s in service_list if eligible & set(s.benefits)}
    return frozenset(picked)


def _input_of(name: str) -> str:
    """The FIELDS input a form value belongs to (a member row or hardship case: its list input)."""
    for whole in ("household.members", "hardship_events"):
        if name.startswith(whole):
            return whole
    return name


def _render(values, rows, case=None, result=None, errors=None, general=None, chosen=None):
    service_list, needs, sections_need = _picker(engine().rulebook)
    picked, notices = chosen or (frozenset(), [])
    errors = errors or {}
    # an input with an error is shown whatever the ticks, so its message can be read and fixed
    faulty = {key for key, _, _, fields in intake_form.SECTIONS for f in fields
              if any(e == f.name or e.startswith(f.name + ".") for e in errors)}
    hidden = {name for name, keys in needs.items() if not intake_form.shown(keys, picked)} - set(errors)
    names = intake_form.input_names(0)

    def anchor(path: str, base: str = "") -> str:
        # a missing fact of a service not chosen: point at the services to tick
        name = intake_form.resolve(path, {}, names)
        return base + "#services" if name in hidden else missing_anchor(path, base)

    return render_template(
        "intake.html", values=values, member_rows=rows, case=case, result=result,
        errors=errors, general=general or [], sections=intake_form.SECTIONS, faulty=faulty,
        member_fields=intake_form.MEMBER_FIELDS, hardship_cases=intake_form.HARDSHIP_CASES,
        hardship_fields=intake_form.HARDSHIP_FIELDS, field_id=intake_form.field_id,
        missing_anchor=anchor, label_for=intake_form.label_for, YES=intake_form.YES, NO=intake_form.NO,
        services=service_list, chosen=picked, service_notices=notices, needs=needs,
        sections_need=sections_need, shown=intake_form.shown, all_chosen=len(picked) == len(service_list))
