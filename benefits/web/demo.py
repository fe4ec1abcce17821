"""Demo users and cases for a new database (演示数据)."""
from __future__ import annotations

import json
import secrets
from pathlib import Path

from ..engine import InvalidApplicant, parse_applicant
from . import store
from .auth import hasher
from .labels import COUNTIES

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "applicants.jsonl"
CLERKS = {  # username → county
    "clerk_hubin": "411202", "clerk_shanzhou": "411203", "clerk_mianchi": "411221",
    "clerk_lushi": "411224", "clerk_yima": "411281", "clerk_lingbao": "411282",
}
OTHERS = {"finance": "财政审核员", "policy": "政策研究员", "admin": "系统管理员"}


def seed(db, app) -> list[tuple[str, str, str]]:
    """Create demo users (one password for all) and one case per fixture
    record that has a 户籍 county. Returns (username, role, password) rows."""
    password = app.config["DEMO_PASSWORD"] or secrets.token_urlsafe(9)
    logins = []
    clerk_ids = {}
    for username, county in CLERKS.items():
        clerk_ids[county] = store.add_user(db, username, hasher.hash(password), "clerk", county,
                                           f"{COUNTIES[county]}受理员")
        logins.append((username, f"clerk {COUNTIES[county]}", password))
    for role, display in OTHERS.items():
        store.add_user(db, role, hasher.hash(password), role, None, display)
        logins.append((role, role, password))
    engine = app.extensions["benefits_engine"]
    fixtures = Path(app.config.get("DEMO_FIXTURES") or FIXTURES)
    if fixtures.exists():
        for line in fixtures.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            county = record.get("hukou_county")
            if county not in clerk_ids:
                continue
            try:
                result = engine.determine(parse_applicant(record))
            except InvalidApplicant:
                continue  # fixtures include deliberately bad records
            try:
                store.create_case(db, county, record, result, store.user_by_id(db, clerk_ids[county]), "demo",
                                  engine.rulebook.files)
            except store.DuplicateCase:
                continue  # one case per person and county
    return logins
