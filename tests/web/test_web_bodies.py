"""Bodies a route does not take (issue 20 item 9): a JSON array, a
100,000-deep array, wrong content types, sent with a valid CSRF token by
every role to every route that takes a body. Each answers a 4xx with a
Chinese message, never a 500."""
from __future__ import annotations

import re

import pytest

from web_helpers import login

DEEP = "[" * 100_000 + "]" * 100_000
BODIES = [("[1,2,3]", "application/json"), (DEEP, "application/json"), ('{"a": 1}', "application/json"),
          ("<a>1</a>", "application/xml"), ("year=2013", "text/plain"), ("\x00\xff", "application/octet-stream")]
CJK = re.compile(r"[\u4e00-\u9fff]{2,}")


def body_routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & {"POST", "PUT"}):
            path = re.sub(r"<int:\w+>", "1", rule.rule)
            yield method, re.sub(r"<\w+>", "x", path)


def csrf_header(client, user) -> dict:
    if user is None:
        page = client.get("/login").get_data(as_text=True)
        return {"X-CSRFToken": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)}
    login(client, user)
    return {"X-CSRFToken": client.get("/api/v1/csrf").get_json()["csrf_token"]}


def message_of(response) -> str:
    if response.is_json:
        return response.get_json()["message"]
    page = response.get_data(as_text=True)
    return " ".join(re.findall(r"<h1>(.*?)</h1>\s*<p>(.*?)</p>", page, re.S)[0])


@pytest.mark.parametrize("user", [None, "clerk_hubin", "finance", "policy", "admin"])
def test_every_route_refuses_a_body_it_does_not_take_with_a_chinese_4xx(app, client, user):
    headers = csrf_header(client, user)
    routes = list(body_routes(app))
    assert {("POST", "/finance"), ("POST", "/scorecard"), ("POST", "/policy"), ("PUT", "/api/v1/cases/1")} <= set(routes)
    for method, path in routes:
        for data, content_type in BODIES:
            response = client.open(path, method=method, data=data, content_type=content_type, headers=headers)
            where = (user, method, path, content_type, data[:12])
            assert 400 <= response.status_code < 500, where
            assert CJK.search(message_of(response)), where


def test_a_page_names_the_body_it_takes(app, client):
    headers = csrf_header(client, "finance")
    response = client.post("/finance", data="[1,2,3]", content_type="application/json", headers=headers)
    assert response.status_code == 415
    assert "网页只接受表单提交" in message_of(response) and "/api/v1/" in message_of(response)


def test_the_api_says_what_is_wrong_with_the_body(app, client):
    headers = csrf_header(client, "clerk_hubin")
    answers = {data[:7]: client.post("/api/v1/evaluate", data=data, content_type=ct, headers=headers).get_json()
               for data, ct in BODIES[:2] + BODIES[4:5]}
    assert answers["[1,2,3]"]["code"] == "not_json_object" and "JSON 对象" in answers["[1,2,3]"]["message"]
    assert answers["[" * 7]["code"] == "invalid_json" and "嵌套过深" in answers["[" * 7]["message"]
    assert answers["year=20"]["code"] == "unsupported_media_type"
