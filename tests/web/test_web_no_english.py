"""No English in the Chinese UI (issue 20 item 4): the visible text of the
clerk's, finance's and policy's pages holds no ASCII identifier — no
``secondary 1000``, ``thigh``, ``min``/``max``, ``id_number``, parameter code
names or usernames. Code names may stay in attributes (title=…)."""
from __future__ import annotations

import re
from html.parser import HTMLParser

from test_web_cases import post_intake
from test_web_finance import SAMPLE, job_id_of, upload, wait_for
from test_web_policy import _finished, _post
from test_web_policy import app  # noqa: F401  (the fixture with a small generated caseload)
from web_helpers import login

# words a Chinese page may show: file types, the ID check's name, the switch to English, units
ALLOWED = {"English", "XLSX", "CSV", "JSONL", "JSON", "PNG", "YAML", "MOD", "GB", "SVG", "API", "SHA"}


class _Text(HTMLParser):
    """The text a person sees: no script, style, attributes or <code>/<title>."""

    def __init__(self):
        super().__init__()
        self.skip = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "title"):
            self.skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "title") and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def stray_ascii(html: str) -> list[str]:
    """ASCII words of three letters or more in the visible text, and any
    snake_case identifier, less the allowed ones."""
    parser = _Text()
    parser.feed(html)
    text = " ".join(parser.parts)
    # a word inside a hash or a number (730cab858139) or after a dot (.xlsx) is not a word
    words = set(re.findall(r"(?<![0-9A-Za-z_.])[A-Za-z][A-Za-z_]{2,}(?![0-9A-Za-z_])", text))
    return sorted(w for w in words if w not in ALLOWED)


def test_the_scanner_finds_what_issue_20_saw():
    assert stray_ascii("<p>secondary 1000、college 2000</p><p title='dibao_topup_ratio'>补贴</p>") == [
        "college", "secondary"]
    assert stray_ascii("<td>id_number</td><script>var x_y = 1</script>") == ["id_number"]


def test_finance_result_page_reads_in_chinese(app, client):  # noqa: F811
    app.config["MAX_CONTENT_LENGTH"] = 50 * 1024 * 1024
    login(client, "finance")
    job = job_id_of(upload(client, SAMPLE.read_bytes(), "台账样例.csv"))
    assert wait_for(client, job)["status"] == "done"
    page = client.get(f"/finance/jobs/{job}").get_data(as_text=True)
    assert "身份证号" in page              # the 拒绝记录's field in Chinese
    assert stray_ascii(page) == []


def test_policy_form_and_result_read_in_chinese(app, client):  # noqa: F811
    login(client, "policy")
    form = client.get("/policy").get_data(as_text=True)
    assert 'title="dibao_topup_ratio"' in form   # the code name only in an attribute
    assert stray_ascii(form) == []
    response = _post(client, {"p.dibao_topup_ratio.0": "0.15"})
    assert _finished(client, response.headers["Location"])["status"] == "done"
    assert stray_ascii(client.get(response.headers["Location"]).get_data(as_text=True)) == []


def test_clerk_pages_read_in_chinese(app, client):  # noqa: F811
    login(client, "clerk_hubin")
    record = {"name": "扫描英文", "id_number": "411202197401010326", "hukou_county": "411202",
              "residence": "urban", "certificate.number": "41120219740101032642", "status.dibao": "yes",
              "evaluation_date": "2025-06-01", "services_asked": "1",
              "service": ["63-2", "63-3", "63-4", "63-5", "63-6", "63-7"]}
    evaluated = post_intake(client, record).get_data(as_text=True)
    assert stray_ascii(evaluated) == []
    saved = post_intake(client, record, action="save")
    case = saved.headers["Location"]
    for path in (case, case + "/notice", case + "/history", "/cases", "/intake"):
        assert stray_ascii(client.get(path).get_data(as_text=True)) == [], path
