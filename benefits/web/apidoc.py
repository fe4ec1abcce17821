"""The API's data shapes (Pydantic) and its OpenAPI document (apispec).

The document is generated: schemas from these models and the engine's
``Applicant``, paths and path parameters from the Flask routes, operations
from the YAML block at the end of each view's docstring. Tests run
schemathesis against it, so code and document cannot drift apart unnoticed.
"""
from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Optional, Union

from apispec import APISpec, yaml_utils
from flask import current_app
from pydantic import BaseModel, ConfigDict, Field

from ..dates import EARLIEST_DATE, LATEST_DATE
from ..engine import Applicant, Determination
from . import store


class FieldError(BaseModel):
    field: str = Field(description="出错字段路径，如 certificate.grade")
    message: str = Field(description="中文说明")


class ApiError(BaseModel):
    """Every error of /api/: the HTTP status, a stable code and a Chinese message."""
    error: int = Field(description="HTTP 状态码")
    code: str = Field(description="稳定的错误代码，如 not_found、csrf_token、duplicate_case、invalid_record")
    message: str = Field(description="中文说明")
    errors: Optional[list[FieldError]] = Field(None, description="记录有误时逐字段的说明")
    case_id: Optional[int] = Field(None, description="duplicate_case：已有案件的编号")


class CaseSummary(BaseModel):
    id: int
    name: str
    id_number_masked: str = Field(description="遮盖的身份证号（前6位与后4位）")
    county: str
    county_zh: Optional[str]
    status: Literal["eligible", "undetermined", "ineligible"]
    created_at: str
    updated_at: str
    url: str


class CaseList(BaseModel):
    total: int
    page: int
    per_page: int
    items: list[CaseSummary]


class SavedDetermination(BaseModel):
    id: int
    created_at: str
    created_by: Optional[str]
    rulebook_version: str
    result: Determination


class Case(CaseSummary):
    record: dict[str, Any] = Field(description="申请记录（Applicant）；财政角色看到的证件号已遮盖")
    determinations: list[SavedDetermination]


class RuleItem(BaseModel):
    id: str
    kind: str
    clause: str
    label_zh: str
    label_en: Optional[str]
    text: Optional[str]
    assumption: Optional[str]


class RuleList(BaseModel):
    rulebook_version: str
    rules: list[RuleItem]


class CsrfToken(BaseModel):
    csrf_token: str


class CaseQuery(BaseModel):
    """Query of GET /api/v1/cases; anything else is a 400."""
    model_config = ConfigDict(extra="forbid")
    q: str = Field("", max_length=50, description="姓名包含，或身份证号（完整18位或后4位）")
    status: Optional[Literal[store.CASE_STATUSES]] = Field(None, description="列表状态")
    page: int = Field(1, ge=1, le=10**6, description="页码")


class ReformSpec(BaseModel):
    """改革方案（reforms/*.yaml 的结构）：label 与 reason 必填；parameters、rules 等其余键由
    load_reform 检查（未知参数或规则为 400 invalid_reform，附 file:line 中文说明）。"""
    model_config = ConfigDict(extra="allow")
    label: str = Field(min_length=1, description="方案名称")
    reason: str = Field(min_length=1, description="改革理由")


class CompareRequest(BaseModel):
    """Body of POST /api/v1/compare; anything else is a 400."""
    model_config = ConfigDict(extra="forbid")
    reform: Union[Annotated[str, Field(min_length=1)], ReformSpec] = Field(
        description="改革方案：reforms/*.yaml 格式的 YAML 文本（非空），或同样结构的 JSON 对象（label 与 reason 非空）")
    caseload: Union[Literal["generated", "saved"], list[dict[str, Any]]] = Field(
        description="台账：generated（全市模拟台账）、saved（已保存案件，须给 baseline_version）"
                    "或申请记录（Applicant）数组，至多 1000 条")
    year: int = Field(ge=2012, le=2030, description="预算年度")
    county: Optional[str] = Field(None, max_length=6, description="saved：县区代码（县区受理员只能是本县区）")
    baseline_version: Optional[str] = Field(None, max_length=64, description="saved：改前规则版本（已保存的版本）")


class CompareResult(BaseModel):
    """改革前后对比：费用差额（项目 × 县区 × 出资方）、按项目与县区的得益/受损人数、状态变化、增减分布、法定底线。"""
    model_config = ConfigDict(extra="allow")
    label: str
    year: int
    baseline_version: str
    reform_version: str
    counts: dict[str, int]
    totals: dict[str, float]
    cost: list[dict[str, Any]]
    by_benefit: list[dict[str, Any]]
    by_county: list[dict[str, Any]]
    transitions: list[dict[str, Any]]
    distribution: list[dict[str, Any]]
    floors: list[dict[str, Any]]
    floor_violations: int


MODELS = (ApiError, Determination, CaseList, Case, RuleList, CsrfToken, CompareRequest, CompareResult)
INFO = ("会话登录（写操作需在 X-CSRFToken 头中带 CSRF 令牌，见 /api/v1/csrf）、API 令牌"
        "（Authorization: Bearer，由 benefits users token 发放）或 HTTP Basic 认证。"
        "县区受理员只能读写本县区案件，他县案件返回 404。写请求须为 application/json。"
        "每个错误都是 JSON：{error, code, message}。")


# The identity numbers as far as a pattern can say (GB 11643: 6-digit place,
# birth date 1880–2099 with month 01–12 and day 01–31, 3-digit sequence,
# check character), so "", "abc" or 18 zeros break the schema. What a
# pattern cannot say is stated beside it as ``x-checks`` and refused by the
# server with 422 (errors naming the field): the MOD 11-2 check character,
# a real calendar day (no 02-30), the birth not after the evaluation day,
# the certificate repeating the applicant's ID with its category and grade.
ID_PATTERN = r"[0-9]{6}(18[89][0-9]|19[0-9]{2}|20[0-9]{2})(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]"
_PATTERNS = {("Applicant", "id_number"): f"^{ID_PATTERN}$",
             ("Member", "id_number"): f"^{ID_PATTERN}$",
             ("Certificate", "number"): f"^{ID_PATTERN}[1-7][1-4](B[1-9])?$"}
ID_CHECKS = ("GB 11643-1999 校验码：第18位为前17位按 MOD 11-2 算出的校验字符（0–9 或 X），不符为 422；"
             "出生日期须为真实日期（如无 2月30日）")
DATE_CHECK = f"须在 {EARLIEST_DATE} 至 {LATEST_DATE} 之间（JSON Schema 的 date 格式不能给出范围）"
# Checks across fields, which JSON Schema cannot state: the server answers
# 422 with ``errors`` naming each field (tests/web/test_web_openapi.py accepts
# a schema-valid record refused only on these fields).
RECORD_CHECKS = {
    "id_number": ID_CHECKS, "household.members": ID_CHECKS,
    "certificate.number": "前18位须与申请人身份证号一致，且身份证号部分通过校验码检查",
    "certificate.category": "须与残疾人证号第19位（类别）一致",
    "certificate.grade": "须与残疾人证号第20位（等级）一致",
    "certificate.multiple_categories": "只在类别为 7（多重残疾）时填写",
    "holds_certificate": "填写了残疾人证时不能为 false",
    "hukou_local": "填写了户籍县区时不能为 false",
    "hukou_county": "须为三门峡市现行县（市、区）代码",
    "name": "去掉首尾空白后不能为空，不能含控制字符或不可见字符",
    "evaluation_date": f"{EARLIEST_DATE} 至 {LATEST_DATE} 之间，且不早于身份证号中的出生日期",
    "military": "待安置、安置介绍信只适用于政府安排工作；上岗日期须在介绍信日期之后",
    "disaster.date": "填写了灾害日期时 affected 不能为 false",
}


def _schemas() -> dict[str, dict]:
    """Component schemas of every model, nested models as their own components."""
    out: dict[str, dict] = {}
    for model in (Applicant, *MODELS):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        out.update(schema.pop("$defs", {}))
        out[model.__name__] = schema
    for (name, field), pattern in _PATTERNS.items():
        prop = out[name]["properties"][field]
        target = next((alt for alt in prop.get("anyOf", []) if alt.get("type") == "string"), prop)
        target["pattern"] = pattern
        target["x-checks"] = ID_CHECKS
    for schema in out.values():        # every date of a record lies in the one window (benefits/dates.py)
        for prop in schema.get("properties", {}).values():
            if any(alt.get("format") == "date" for alt in (prop, *prop.get("anyOf", []))):
                prop["x-checks"] = DATE_CHECK
    out["Applicant"]["x-checks"] = RECORD_CHECKS
    out["CompareRequest"]["x-checks"] = {
        "reform": "须能由 load_reform 读出并应用：未知参数、未知规则、错误的值为 400 invalid_reform（file:line 中文说明）",
        "baseline_version": "caseload 为 saved 时必填，且须为已保存的规则版本，否则 400 invalid_body",
        "county": "须为三门峡市现行县（市、区）代码，否则 400 invalid_body"}
    return out


def _path_parameters(rule) -> list[dict]:
    """Path parameters from the route's converters (``<int:…>`` is 1 … 2⁶³−1)."""
    params = []
    for name, converter in rule._converters.items():
        schema = {"type": "string"}
        if hasattr(converter, "max_id"):
            schema = {"type": "integer", "minimum": converter.min_id, "maximum": converter.max_id}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return params


def query_parameters(model: type[BaseModel]) -> list[dict]:
    schema = model.model_json_schema()
    return [{"name": name, "in": "query", "required": False, "schema": prop,
             "description": prop.get("description", "")} for name, prop in schema["properties"].items()]


def query(model: type[BaseModel]):
    """Decorator: the view reads its query string with this model (documented from it)."""
    def mark(view):
        view.query_model = model
        return view
    return mark


def public(view):
    """Decorator: no log-in needed (and none documented)."""
    view.public = True
    return view


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}}


# Answers every operation may give: any view may refuse; a view with a body may refuse it.
_ANY = {"400": _error("请求无效（查询参数、CSRF 令牌）"), "401": _error("未登录、令牌无效或密码错误"),
        "403": _error("角色或县区无权")}
_BODY = {"400": _error("请求体不是有效的 JSON 对象，或缺少 CSRF 令牌"), "413": _error("请求体过大"),
         "415": _error("请求体不是 application/json"), "422": _error("记录有误：逐字段中文说明（errors）")}


def _operations(view, rule) -> dict:
    """The docstring's operations, checked against the route and completed
    with the answers every operation shares."""
    ops = yaml_utils.load_operations_from_docstring(view.__doc__ or "")
    for method, op in ops.items():
        if method.upper() not in rule.methods:
            raise ValueError(f"{rule.endpoint}: docstring documents {method}, the route allows {rule.methods}")
        responses = op.setdefault("responses", {})
        if getattr(view, "public", False):
            op["security"] = []
        else:
            for status, reply in {**_ANY, **(_BODY if "requestBody" in op else {})}.items():
                responses.setdefault(status, reply)
        model = getattr(view, "query_model", None)
        if model is not None:
            op["parameters"] = query_parameters(model)
    return ops


def document(blueprint_name: str) -> dict:
    """The OpenAPI 3.1 document of one blueprint's routes."""
    spec = APISpec(title="三门峡市残疾人救助受理 API", version="1", openapi_version="3.1.0",
                   info={"description": INFO})
    for name, schema in _schemas().items():
        spec.components.schema(name, schema)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme("basic", {"type": "http", "scheme": "basic"})
    spec.components.security_scheme("session", {"type": "apiKey", "in": "cookie", "name": "session"})
    spec.options["security"] = [{"bearer": []}, {"basic": []}, {"session": []}]
    app = current_app
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(blueprint_name + "."):
            continue
        view = app.view_functions[rule.endpoint]
        spec.path(path=re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule), operations=_operations(view, rule),
                  parameters=_path_parameters(rule) or None)
    return spec.to_dict()
