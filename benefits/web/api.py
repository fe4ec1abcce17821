"""JSON API (接口) /api/v1, beside the pages, under the same rules.

Authentication: the browser session (then a write needs the CSRF token in an
``X-CSRFToken`` header), or HTTP Basic with a user's name and password (no
cookie, hence no CSRF; the same lock-out after failed attempts). Writes must
be ``application/json``.
"""
from __future__ import annotations

import base64
import binascii

from flask import Blueprint, abort, current_app, g, jsonify, request, url_for
from flask_wtf.csrf import CSRFError, generate_csrf
from werkzeug.exceptions import HTTPException

from ..engine import Applicant, InvalidApplicant, mask_id
from . import store
from .auth import can, check_password, county_scope, may_change_case
from .cases import visible_case
from .labels import COUNTIES
from .present import engine, evaluate

bp = Blueprint("api", __name__, url_prefix="/api/v1")

_MESSAGES = {400: "请求无效", 401: "需要登录", 403: "无权执行此操作", 404: "未找到",
             405: "不支持的请求方法", 409: "案件已存在", 415: "请求体应为 JSON（Content-Type: application/json）",
             422: "记录有误", 429: "请求过多", 500: "服务器内部错误"}


@bp.before_request
def authenticate():
    if request.endpoint == "api.openapi":
        return None
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            username, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            abort(401)
        user, error = check_password(g.db, username, password)
        if user is None:
            return _error(401, error)
        g.user = user
    elif g.user is None:
        abort(401)
    elif request.method not in ("GET", "HEAD", "OPTIONS"):
        current_app.extensions["csrf"].protect()
    return None


def _need(permission: str) -> None:
    if not can(g.user, permission):
        store.audit(g.db, g.user, "denied", detail=f"{request.method} {request.path}")
        abort(403)


def _json_body() -> dict:
    data = request.get_json(silent=False)  # 415 unless application/json
    if not isinstance(data, dict):
        abort(400, "请求体应为 JSON 对象")
    return data


def _invalid(exc: InvalidApplicant):
    return jsonify({"error": 422, "message": "记录有误",
                    "errors": [e.model_dump() for e in exc.errors]}), 422


@bp.route("/evaluate", methods=["POST"])
def evaluate_record():
    _need("evaluate")
    try:
        _, result = evaluate(_json_body())
    except InvalidApplicant as exc:
        return _invalid(exc)
    return jsonify(result)


@bp.route("/rules")
def rules():
    _need("rules")
    eng = engine()
    return jsonify({"rulebook_version": eng.version, "rules": [
        {"id": r.id, "kind": r.kind, "clause": r.clause, "label_zh": r.label_zh,
         "label_en": r.label_en, "text": r.text, "assumption": r.assumption}
        for r in eng.rulebook.rules]})


@bp.route("/csrf")
def csrf_token():
    """The token a session-authenticated script sends as X-CSRFToken."""
    return jsonify({"csrf_token": generate_csrf()})


def _summary(case: dict) -> dict:
    return {"id": case["id"], "name": case["name"], "id_number_masked": mask_id(case["id_number"]),
            "county": case["county"], "county_zh": COUNTIES.get(case["county"]),
            "status": case["status"], "created_at": case["created_at"],
            "updated_at": case["updated_at"], "url": url_for("api.case", case_id=case["id"])}


@bp.route("/cases")
def cases():
    _need("cases.read")
    name = request.args.get("q", "").strip()[:50]
    status = request.args.get("status", "")
    if status and status not in store.CASE_STATUSES:
        abort(400, f"status 应为 {', '.join(store.CASE_STATUSES)}")
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), 10**6)
    per_page = current_app.config["CASES_PER_PAGE"]
    rows, total = store.search_cases(g.db, county_scope(g.user), name, status, page, per_page)
    store.audit(g.db, g.user, "case.list",
                detail=f"api q={name} status={status} page={page} shown={[r['id'] for r in rows]}")
    return jsonify({"total": total, "page": page, "per_page": per_page,
                    "items": [_summary(r) for r in rows]})


@bp.route("/cases", methods=["POST"])
def create_case():
    _need("cases.write")
    try:
        record, result = evaluate(_json_body())
    except InvalidApplicant as exc:
        return _invalid(exc)
    county = record.get("hukou_county")
    if not may_change_case(g.user, None, county):
        store.audit(g.db, g.user, "denied", detail=f"api create case county={county}")
        abort(403, f"本账户只能受理{COUNTIES.get(county_scope(g.user) or '', '')}户籍的案件")
    existing = store.case_with_id_number(g.db, county, record["id_number"])
    if existing is not None:
        abort(409, f"此身份证号已有案件 #{existing}，请用 PUT /api/v1/cases/{existing} 修改")
    case_id = store.create_case(g.db, county, record, result, g.user["id"])
    store.audit(g.db, g.user, "case.create", case_id, f"api rulebook {result['rulebook_version']}")
    return _case_body(store.get_case(g.db, case_id)), 201


@bp.route("/cases/<int:case_id>")
def case(case_id):
    _need("cases.read")
    found = visible_case(case_id)
    store.audit(g.db, g.user, "case.read", case_id, "api")
    return _case_body(found)


@bp.route("/cases/<int:case_id>", methods=["PUT"])
def update_case(case_id):
    """Replace the facts and append a new determination (the old ones stay)."""
    _need("cases.write")
    found = visible_case(case_id)
    try:
        record, result = evaluate(_json_body())
    except InvalidApplicant as exc:
        return _invalid(exc)
    if not may_change_case(g.user, found, record.get("hukou_county")):
        store.audit(g.db, g.user, "denied", case_id, "api update")
        abort(403)
    store.add_determination(g.db, case_id, record, result, g.user["id"])
    store.audit(g.db, g.user, "case.update", case_id, f"api rulebook {result['rulebook_version']}")
    return _case_body(store.get_case(g.db, case_id))


def _case_body(found: dict):
    dets = store.determinations(g.db, found["id"])
    body = _summary(found)
    body["record"] = found["record"]
    body["determinations"] = [
        {"id": d["id"], "created_at": d["created_at"], "created_by": d["username"],
         "rulebook_version": d["rulebook_version"], "result": d["result"]} for d in dets]
    return jsonify(body)


@bp.route("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    description = exc.description if isinstance(exc, CSRFError) or _custom(exc) else None
    return _error(exc.code, description)


def _custom(exc: HTTPException) -> bool:
    return exc.description != type(exc).description


def _error(code: int, message: str | None = None):
    response = jsonify({"error": code, "message": message or _MESSAGES.get(code, "错误")})
    response.status_code = code
    if code == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="benefits", charset="UTF-8"'
    return response


def openapi_document() -> dict:
    schema = Applicant.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.pop("$defs", {})
    components["Applicant"] = schema
    components["Error"] = {"type": "object", "properties": {
        "error": {"type": "integer"}, "message": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "message": {"type": "string"}}}}}}
    components["Determination"] = {"type": "object", "description":
        "评估结果：applicant, evaluation_date, rulebook_version, summary, benefits[] "
        "(status, amount, period, payer_split, clause, text, reasons, missing_facts, "
        "assumptions, unverified), concepts[]"}
    components["CaseSummary"] = {"type": "object", "properties": {
        k: {"type": t} for k, t in (("id", "integer"), ("name", "string"), ("id_number_masked", "string"),
                                    ("county", "string"), ("county_zh", "string"), ("status", "string"),
                                    ("created_at", "string"), ("updated_at", "string"), ("url", "string"))}}
    components["Case"] = {"allOf": [{"$ref": "#/components/schemas/CaseSummary"}, {
        "type": "object", "properties": {
            "record": {"$ref": "#/components/schemas/Applicant"},
            "determinations": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "integer"}, "created_at": {"type": "string"},
                "created_by": {"type": "string"}, "rulebook_version": {"type": "string"},
                "result": {"$ref": "#/components/schemas/Determination"}}}}}}]}

    def ref(name):
        return {"$ref": f"#/components/schemas/{name}"}

    def reply(description, name=None):
        body = {"description": description}
        if name:
            body["content"] = {"application/json": {"schema": ref(name)}}
        return body

    errors = {"401": reply("未登录或密码错误（Basic 认证失败次数计入锁定）", "Error"),
              "403": reply("角色或县区无权", "Error")}
    applicant_body = {"required": True, "content": {"application/json": {"schema": ref("Applicant")}}}
    case_id = [{"name": "case_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "三门峡市残疾人救助受理 API", "version": "1",
                 "description": "会话登录（写操作需在 X-CSRFToken 头中带 CSRF 令牌，见 /api/v1/csrf）"
                                "或 HTTP Basic 认证（无 Cookie，免 CSRF）。县区受理员只能读写本县区案件，"
                                "他县案件返回 404。写请求须为 application/json。"},
        "components": {"schemas": components, "securitySchemes": {
            "basic": {"type": "http", "scheme": "basic"},
            "session": {"type": "apiKey", "in": "cookie", "name": "session"}}},
        "security": [{"basic": []}, {"session": []}],
        "paths": {
            "/api/v1/evaluate": {"post": {
                "summary": "评估一条申请记录（不保存）", "requestBody": applicant_body,
                "responses": {"200": reply("评估结果", "Determination"),
                              "422": reply("记录有误：逐字段中文说明", "Error"), **errors}}},
            "/api/v1/rules": {"get": {"summary": "规则列表与规则版本",
                                      "responses": {"200": reply("规则"), **errors}}},
            "/api/v1/csrf": {"get": {"summary": "会话用户的 CSRF 令牌",
                                     "responses": {"200": reply("令牌")}}},
            "/api/v1/cases": {
                "get": {"summary": "案件列表（身份证号已遮盖）", "parameters": [
                    {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "姓名包含"},
                    {"name": "status", "in": "query",
                     "schema": {"type": "string", "enum": list(store.CASE_STATUSES)}},
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
                    "responses": {"200": reply("一页案件"), **errors}},
                "post": {"summary": "受理并保存一个案件（本县区户籍）", "requestBody": applicant_body,
                         "responses": {"201": reply("已保存的案件", "Case"),
                                       "409": reply("本县区已有此身份证号的案件", "Error"),
                                       "422": reply("记录有误", "Error"), **errors}}},
            "/api/v1/cases/{case_id}": {
                "get": {"summary": "案件详情与全部评估记录", "parameters": case_id,
                        "responses": {"200": reply("案件", "Case"), "404": reply("无此案件或不属本县区", "Error"),
                                      **errors}},
                "put": {"summary": "更正记录并追加一次评估（旧评估保留）", "parameters": case_id,
                        "requestBody": applicant_body,
                        "responses": {"200": reply("案件", "Case"), "404": reply("无此案件或不属本县区", "Error"),
                                      "422": reply("记录有误", "Error"), **errors}}},
        },
    }
