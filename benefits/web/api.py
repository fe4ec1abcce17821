"""JSON API (接口) /api/v1, beside the pages, under the same rules.

Authentication: an API token (``Authorization: Bearer``, from ``benefits
users token``; one SHA-256 look-up, no password hashing per request; it
expires, can be revoked on /admin/users, and a read-only one may only
read, evaluate and compare), HTTP
Basic with a user's name and password (argon2 on every request; the same
log-in back-off), or the browser session (then a write needs the CSRF token
in an ``X-CSRFToken`` header). Writes must be ``application/json``. Every
error is JSON ``{error, code, message}`` with a Chinese message.
"""
from __future__ import annotations

import base64
import json

import yaml
from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_wtf.csrf import CSRFError, generate_csrf
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException, default_exceptions

from ..engine import InvalidApplicant, RulebookError, mask_id
from ..policy import apply_reform, load_reform
from . import apidoc, store, whatif
from .auth import can, check_password, county_scope, may_change_case, now, source_address
from .cases import visible_case
from .labels import COUNTIES
from .policy import folder as policy_folder, saved_caseload
from .present import engine, evaluate, pool, rulebook_files, shown_record

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_BODY = 1 << 20  # a record is a few KB
_CODES = {400: ("bad_request", "请求无效"), 401: ("unauthorized", "需要登录"),
          403: ("forbidden", "无权执行此操作"), 404: ("not_found", "未找到"),
          405: ("method_not_allowed", "不支持的请求方法"), 409: ("duplicate_case", "案件已存在"),
          413: ("too_large", "请求体过大"),
          415: ("unsupported_media_type", "请求体应为 JSON（Content-Type: application/json）"),
          422: ("invalid_record", "记录有误"), 429: ("too_many_requests", "请求过多"),
          500: ("server_error", "服务器内部错误"), 503: ("busy", "服务器繁忙，请稍后再试")}


def fail(status: int, code: str | None = None, message: str | None = None, **extra):
    """Stop with a JSON error: HTTP status, stable code, Chinese message."""
    exc = default_exceptions[status](description=message)
    exc.api_code, exc.api_extra = code, extra
    raise exc


def error_response(exc: HTTPException):
    """The JSON body of any HTTP error under /api/ (used by the app's handler)."""
    status = exc.code or 500
    code, message = _CODES.get(status, ("error", "错误"))
    if isinstance(exc, CSRFError):
        code, message = "csrf_token", "缺少或过期的 CSRF 令牌：请在 X-CSRFToken 头中带上 GET /api/v1/csrf 的令牌"
    elif getattr(exc, "api_code", None) or getattr(exc, "description", None) != type(exc).description:
        code = getattr(exc, "api_code", None) or code
        message = exc.description or message
    body = {"error": status, "code": code, "message": message, **getattr(exc, "api_extra", {})}
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="benefits", Basic realm="benefits", charset="UTF-8"'
    return response


@bp.before_request
def authenticate():
    if getattr(current_app.view_functions.get(request.endpoint), "public", False):
        return None
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme == "Bearer":
        g.user, problem = store.token_user(g.db, credentials.strip(), now())
        if g.user is None:
            fail(401, "bad_token", problem)
        if (g.user["token_scope"] == "read" and request.method not in ("GET", "HEAD", "OPTIONS")
                and not getattr(current_app.view_functions.get(request.endpoint), "changes_nothing", False)):
            store.audit(g.db, g.user, "denied", detail=f"read-only token {request.method} {request.path}")
            fail(403, "read_only_token", "此 API 令牌为只读：可查询、评估和测算，不能保存或修改")
    elif scheme == "Basic":
        try:
            username, _, password = base64.b64decode(credentials, validate=True).decode("utf-8").partition(":")
        except ValueError:  # bad base64 or not UTF-8
            fail(401, "bad_credentials", "Basic 认证格式有误")
        user, error = check_password(g.db, username, password, source_address())
        if user is None:
            fail(401, "login_failed", error)
        g.user = user
    elif g.user is None:
        fail(401)
    elif request.method not in ("GET", "HEAD", "OPTIONS"):
        current_app.extensions["csrf"].protect()
    return None


def changes_nothing(view):
    """Decorator: a POST that saves and changes nothing (evaluate, compare),
    so a read-only token may call it."""
    view.changes_nothing = True
    return view


def _need(permission: str) -> None:
    if not can(g.user, permission):
        store.audit(g.db, g.user, "denied", detail=f"{request.method} {request.path}")
        fail(403, "forbidden", "本账户的角色无权执行此操作")


def _json_body() -> dict:
    if not request.is_json:
        fail(415)
    if (request.content_length or 0) > MAX_BODY:
        fail(413, "too_large", f"请求体不能超过 {MAX_BODY // 1024} KB")
    try:
        data = json.loads(request.get_data(cache=False) or b"null", parse_constant=_no_constant)
    except RecursionError:
        fail(400, "invalid_json", "请求体 JSON 嵌套过深")
    except ValueError as exc:
        fail(400, "invalid_json", str(exc) if isinstance(exc, _Constant) else "请求体不是有效的 JSON（UTF-8）")
    if not isinstance(data, dict):
        fail(400, "not_json_object", "请求体应为 JSON 对象")
    return data


class _Constant(ValueError):
    pass


def _no_constant(name: str):
    """NaN and Infinity are not JSON, though Python's reader takes them."""
    raise _Constant(f"请求体含 {name}，JSON 中的数字须为有限数字")


def _evaluate() -> tuple[dict, dict]:
    try:
        return evaluate(_json_body())
    except InvalidApplicant as exc:
        fail(422, "invalid_record", "记录有误", errors=[e.model_dump() for e in exc.errors])


@bp.route("/evaluate", methods=["POST"])
@changes_nothing
def evaluate_record():
    """Evaluate a record, nothing saved.
    ---
    post:
      summary: 评估一条申请记录（不保存）
      requestBody: {required: true, content: {application/json: {schema: Applicant}}}
      responses:
        "200": {content: {application/json: {schema: Determination}}, description: 评估结果}
    """
    _need("evaluate")
    return jsonify(_evaluate()[1])


@bp.route("/rules")
def rules():
    """Rules and the rulebook version.
    ---
    get:
      summary: 规则列表与规则版本
      responses:
        "200": {content: {application/json: {schema: RuleList}}, description: 规则}
    """
    _need("rules")
    eng = engine()
    return jsonify({"rulebook_version": eng.version, "rules": [
        {"id": r.id, "kind": r.kind, "clause": r.clause, "label_zh": r.label_zh,
         "label_en": r.label_en, "text": r.text, "assumption": r.assumption}
        for r in eng.rulebook.rules]})


@bp.route("/csrf")
def csrf_token():
    """The token a session-authenticated script sends as X-CSRFToken.
    ---
    get:
      summary: 会话用户的 CSRF 令牌
      responses:
        "200": {content: {application/json: {schema: CsrfToken}}, description: 令牌}
    """
    return jsonify({"csrf_token": generate_csrf()})


def _summary(case: dict) -> dict:
    return {"id": case["id"], "name": case["name"], "id_number_masked": mask_id(case["id_number"]),
            "county": case["county"], "county_zh": COUNTIES.get(case["county"]),
            "status": case["status"], "created_at": case["created_at"],
            "updated_at": case["updated_at"], "url": url_for("api.case", case_id=case["id"])}


@bp.route("/cases")
@apidoc.query(apidoc.CaseQuery)
def cases():
    """The caller's visible cases, ID numbers masked.
    ---
    get:
      summary: 案件列表（身份证号已遮盖）；按姓名或身份证号（完整或后4位）查找
      responses:
        "200": {content: {application/json: {schema: CaseList}}, description: 一页案件}
        "400": {content: {application/json: {schema: ApiError}}, description: 查询参数有误}
    """
    _need("cases.read")
    try:
        query = apidoc.CaseQuery.model_validate(request.args.to_dict())
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(400, "invalid_query", f"查询参数 {'.'.join(map(str, first['loc']))} 有误：应为"
             + {"page": "1 至 1000000 的整数", "status": "、".join(store.CASE_STATUSES)}.get(
                 str(first["loc"][0]), "不超过 50 个字符的文字"))
    q = query.q.strip()
    per_page = current_app.config["CASES_PER_PAGE"]
    rows, total = store.search_cases(g.db, county_scope(g.user), q, query.status or "", query.page, per_page)
    store.audit(g.db, g.user, "case.list",
                detail=f"api q={store.masked_query(q)} status={query.status or ''} page={query.page} shown={[r['id'] for r in rows]}")
    return jsonify({"total": total, "page": query.page, "per_page": per_page,
                    "items": [_summary(r) for r in rows]})


@bp.route("/cases", methods=["POST"])
def create_case():
    """Save a case (clerk, own county).
    ---
    post:
      summary: 受理并保存一个案件（本县区户籍；每县区每个身份证号一个案件）
      requestBody: {required: true, content: {application/json: {schema: Applicant}}}
      responses:
        "201": {content: {application/json: {schema: Case}}, description: 已保存的案件}
        "409": {content: {application/json: {schema: ApiError}}, description: 本县区已有此身份证号的案件（case_id）}
    """
    _need("cases.write")
    record, result = _evaluate()
    county = record.get("hukou_county")
    if not may_change_case(g.user, None, county):
        store.audit(g.db, g.user, "denied", detail=f"api create case county={county}")
        fail(403, "wrong_county", f"本账户只能受理{COUNTIES.get(county_scope(g.user) or '', '')}户籍的案件")
    try:
        case_id = store.create_case(g.db, county, record, result, g.user,
                                    f"api rulebook {result['rulebook_version']}", rulebook_files())
    except store.DuplicateCase as dup:
        fail(409, "duplicate_case", f"此身份证号已有案件 #{dup.case_id}，请用 PUT /api/v1/cases/{dup.case_id} 修改",
             case_id=dup.case_id)
    return _case_body(store.get_case(g.db, case_id)), 201


@bp.route("/cases/<int:case_id>")
def case(case_id):
    """The case's record and every determination.
    ---
    get:
      summary: 案件详情与全部评估记录（财政角色看到的证件号已遮盖）
      responses:
        "200": {content: {application/json: {schema: Case}}, description: 案件}
        "404": {content: {application/json: {schema: ApiError}}, description: 无此案件或不属本县区}
    """
    _need("cases.read")
    found = visible_case(case_id)
    store.audit(g.db, g.user, "case.read", case_id, "api")
    return _case_body(found)


@bp.route("/cases/<int:case_id>", methods=["PUT"])
def update_case(case_id):
    """Replace the facts and append a new determination (the old ones stay).
    ---
    put:
      summary: 更正记录并追加一次评估（旧评估保留）
      requestBody: {required: true, content: {application/json: {schema: Applicant}}}
      responses:
        "200": {content: {application/json: {schema: Case}}, description: 案件}
        "404": {content: {application/json: {schema: ApiError}}, description: 无此案件或不属本县区}
        "409": {content: {application/json: {schema: ApiError}}, description: 改成的身份证号在本县区已有案件}
    """
    _need("cases.write")
    found = visible_case(case_id)
    record, result = _evaluate()
    if not may_change_case(g.user, found, record.get("hukou_county")):
        store.audit(g.db, g.user, "denied", case_id, "api update")
        fail(403, "wrong_county", "案件只能保存在本县区")
    try:
        store.add_determination(g.db, case_id, record, result, g.user, "case.update",
                                f"api rulebook {result['rulebook_version']}", rulebook_files())
    except store.DuplicateCase as dup:
        fail(409, "duplicate_case", f"此身份证号已有案件 #{dup.case_id}", case_id=dup.case_id)
    return _case_body(store.get_case(g.db, case_id))


def _case_body(found: dict):
    dets = store.determinations(g.db, found["id"])
    body = _summary(found)
    body["record"] = shown_record(g.user, found["record"])
    body["determinations"] = [
        {"id": d["id"], "created_at": d["created_at"], "created_by": d["username"],
         "rulebook_version": d["rulebook_version"], "result": d["result"]} for d in dets]
    return jsonify(body)


MAX_INLINE_RECORDS = 1000   # records in the body; a bigger caseload is uploaded on /policy


def _compare_request() -> apidoc.CompareRequest:
    body = _json_body()
    try:
        return apidoc.CompareRequest.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][:1]) or "请求体"
        fail(400, "invalid_body", f"请求体字段 {where} 有误：" + {
            "reform": "应为改革方案的 YAML 文本或 JSON 对象",
            "caseload": f"应为 \"generated\"、\"saved\" 或至多 {MAX_INLINE_RECORDS} 条申请记录的数组",
            "year": "应为 2012 至 2030 的整数", "county": "应为县区代码",
            "baseline_version": "应为规则版本（不超过 64 个字符）"}.get(where, "不是本接口的字段"))


def _reformed(spec, today):
    """Today's rulebook with the body's reform applied: a deep copy, so the
    server's own rulebook never changes (400 with file:line in Chinese)."""
    try:
        text = spec if isinstance(spec, str) else yaml.safe_dump(spec.model_dump(), allow_unicode=True,
                                                                 sort_keys=False)
        # bytes: YAML text is never taken for a path on the server
        return apply_reform(today, load_reform(text.encode("utf-8", errors="replace"), name="reform"))
    except RulebookError as exc:
        fail(400, "invalid_reform", f"改革方案有误：{exc}")
    except (RecursionError, yaml.YAMLError):
        fail(400, "invalid_reform", "改革方案有误：嵌套过深或无法写成 YAML")


@bp.route("/compare", methods=["POST"])
@changes_nothing
def compare():
    """Compare today's rules with a reform over a caseload (nothing saved).
    ---
    post:
      summary: 政策测算：现行规则与改革方案对比（费用差额、得益与受损、状态变化、法定底线）；改革只用于本次请求
      requestBody: {required: true, content: {application/json: {schema: CompareRequest}}}
      responses:
        "200": {content: {application/json: {schema: CompareResult}}, description: 对比结果}
        "400": {content: {application/json: {schema: ApiError}}, description: 请求体或改革方案有误（file:line 中文说明）}
    """
    _need("policy")       # policy and admin; a clerk reads which of their cases change on /cases/changed
    body = _compare_request()
    today = engine()
    reformed = _reformed(body.reform, today.rulebook)
    if body.caseload == "saved":
        if body.county is not None and body.county not in COUNTIES:
            fail(400, "invalid_body", "请求体字段 county 有误：应为县区代码")
        if not store.version_kept(g.db, body.baseline_version or "")[0]:
            fail(400, "invalid_body", "请求体字段 baseline_version 有误：应为已保存的规则版本")
        caseload_zh = f"{COUNTIES.get(body.county, '全市') if body.county else '全市'}已保存的案件"
    elif body.caseload == "generated":
        caseload_zh = f"模拟台账 {current_app.config['POLICY_GENERATED_SIZE']:,} 人"
    else:
        if len(body.caseload) > MAX_INLINE_RECORDS:
            fail(400, "invalid_body", f"请求体字段 caseload 有误：至多 {MAX_INLINE_RECORDS} 条申请记录")
        caseload_zh = f"请求中的 {len(body.caseload)} 条记录"
    run = whatif.submit(pool("compare"), g.user["id"], body.year, "", caseload_zh, policy_folder(),
                        _compare_work(body, today, reformed), keep=False)      # workers.Full: 503
    if not run.finished.wait(current_app.config["COMPARE_WAIT_SECONDS"]):
        fail(503, "busy", f"测算未在 {current_app.config['COMPARE_WAIT_SECONDS']} 秒内完成，请稍后再试")
    if run.status == "failed":
        if run.error_input:
            fail(400, "invalid_body", run.error)
        fail(500, "server_error", run.error)
    shown = run.result
    label = reformed.reform.label if reformed.reform else ""
    store.audit(g.db, g.user, "policy.compare",
                detail=f"api reform {reformed.reform.digest} “{label[:80]}” caseload {shown['caseload']} "
                       f"year {body.year}")
    shown.pop("examples", None)
    for row in shown["changed_cases"]:
        row.pop("case_id")          # policy and admin read no case: name and masked number only
    return jsonify(shown)


def _compare_work(body: apidoc.CompareRequest, today, reformed):
    """The compare, for a pool worker: the caseload (generated, saved cases
    read on the worker's own connection, or the body's records), then compare()."""
    size, database = current_app.config["POLICY_GENERATED_SIZE"], current_app.config["DATABASE"]

    def work(run: whatif.Run) -> None:
        baseline = today.rulebook
        if body.caseload == "generated":
            caseload = whatif.generated(size)
        elif body.caseload == "saved":
            db = store.connect(database)
            try:
                caseload, baseline = saved_caseload(db, body.county, body.baseline_version, today)
            except RulebookError as exc:
                raise store.StoreError(f"改前规则版本无法使用：{exc}") from None
            finally:
                db.close()
        else:
            caseload = whatif.from_records(body.caseload, f"请求中的 {len(body.caseload)} 条记录", "inline")
        run.result = whatif.run_compare(caseload, baseline, reformed, body.year, examples=0)[1]
    return work


@bp.route("/openapi.json")
@apidoc.public
def openapi():
    """The OpenAPI document (public: no personal data)."""
    doc = current_app.extensions.get("benefits_openapi")
    if doc is None:
        doc = current_app.extensions["benefits_openapi"] = apidoc.document(bp.name)
    return jsonify(doc)
