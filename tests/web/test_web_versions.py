"""Rulebook versions kept with saved determinations (issue 9 item 5): the
schema-4 upgrade, exact replay, concurrent and killed saves, tampered files,
county isolation, and the cases today's rules change."""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from playwright.sync_api import expect

from benefits.cli import main
from benefits.engine import Engine, RulebookError, default_engine, parse_applicant
from benefits.engine.rulebook import DEFAULT_RULES_DIR, read_rule_files, rulebook_version
from benefits.engine.versions import EngineCache, VersionMismatch, rulebook_of_version
from benefits.web import create_app, store
from benefits.web.replay import ReplayError, replay
from tests.factories import ON, applicant, birth_for_age, id_number

from test_web_e2e import page, shot  # noqa: F401 - the Chromium fixture
from web_helpers import PASSWORD, login, served

ROOT = Path(__file__).resolve().parents[2]
TODAY = default_engine()


def _record(sequence: int, on: dt.date = ON, **sections) -> dict:
    record = applicant(grade=1, on=on, **sections)
    record["id_number"] = id_number(birth_for_age(40, on), sequence=sequence)
    record["certificate"]["number"] = record["id_number"] + "41"
    record["name"] = f"版本测试{sequence}"
    return record


def _save(db, record: dict, engine: Engine = TODAY, clerk: str = "clerk_hubin") -> int:
    result = engine.determine(parse_applicant(record))
    return store.create_case(db, record["hukou_county"], record, result, store.user_by_name(db, clerk), "test",
                             engine.rulebook.files)


@pytest.fixture(scope="module")
def new_rules(tmp_path_factory) -> Path:
    """Today's rules after a change: the 低保 top-up ratio 20 % → 25 %."""
    path = tmp_path_factory.mktemp("rules") / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, path)
    amounts = path / "parameters" / "amounts-63.yaml"
    data = yaml.safe_load(amounts.read_text())
    data["dibao_topup_ratio"]["values"][0]["value"] = 0.25
    amounts.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


@pytest.fixture(scope="module")
def old_cases(seeded_db, tmp_path_factory):
    """The demo database plus two 湖滨区 cases saved under the old rules: one the
    new ratio changes (低保 recipient), one it does not (evaluated before 63号
    was in force: every line 不符合 under both)."""
    path = tmp_path_factory.mktemp("versions") / "benefits.sqlite"
    shutil.copy(seeded_db, path)
    db = store.connect(path)
    changing = _save(db, _record(701, status={"dibao": True}))
    unchanged = _save(db, _record(702, on=dt.date(2012, 10, 1), status={"dibao": True}))
    db.close()
    return path, changing, unchanged


@pytest.fixture
def later(old_cases, new_rules, tmp_path):
    """The same database served under the changed rules."""
    source, changing, unchanged = old_cases
    path = tmp_path / "benefits.sqlite"
    shutil.copy(source, path)
    app = create_app({"DATABASE": str(path), "RULES_DIR": str(new_rules), "SECRET_KEY": "t", "TESTING": True,
                      "CASES_PER_PAGE": 5})
    return app, changing, unchanged


def _latest(db, case_id: int) -> dict:
    return store.determinations(db, case_id)[-1]


def test_replay_under_the_old_version_gives_the_saved_bytes(later):
    app, changing, _ = later
    engine = app.extensions["benefits_engine"]
    db = store.connect(app.config["DATABASE"])
    det = _latest(db, changing)
    assert det["rulebook_version"] == TODAY.version != engine.version
    today = engine.determine(parse_applicant(det["record_json"]))
    assert store.result_json(today) != det["result_json"]            # the new rules answer otherwise
    done = replay(db, det["id"], engine)
    assert done.same and done.replayed_json == det["result_json"]    # byte for byte
    assert done.version == TODAY.version
    db.close()


def test_replay_cli_says_so_in_chinese(later):
    app, changing, _ = later
    db = store.connect(app.config["DATABASE"])
    det_id = _latest(db, changing)["id"]
    db.close()
    run = CliRunner().invoke(main, ["replay", "--db", app.config["DATABASE"], str(det_id)])
    assert run.exit_code == 0, run.output
    assert f"评估 #{det_id}" in run.output and "一致：与保存的结果逐字节相同" in run.output
    missing = CliRunner().invoke(main, ["replay", "--db", app.config["DATABASE"], "999999"])
    assert missing.exit_code == 1 and "没有编号为 999999 的评估记录" in missing.output


def test_the_case_page_replays_and_audits(later):
    app, changing, _ = later
    client = app.test_client()
    login(client, "clerk_hubin")
    page = client.get(f"/cases/{changing}").get_data(as_text=True)
    link = re.search(r'href="(/cases/\d+/replay\?det=\d+)"', page).group(1)
    answer = client.get(link)
    assert answer.status_code == 200 and "一致：与保存的结果逐字节相同" in answer.get_data(as_text=True)
    db = store.connect(app.config["DATABASE"])
    row = db.execute("SELECT detail FROM audit WHERE action = 'case.replay' AND case_id = ?", [changing]).fetchone()
    db.close()
    assert row and row[0].endswith(": 一致")


def test_another_countys_clerk_cannot_replay(later):
    app, changing, _ = later
    db = store.connect(app.config["DATABASE"])
    det_id = _latest(db, changing)["id"]
    other = next(db["cases"].rows_where("county = ?", ["411203"]))["id"]
    db.close()
    client = app.test_client()
    login(client, "clerk_shanzhou")
    assert client.get(f"/cases/{changing}/replay?det={det_id}").status_code == 404
    # nor through a case of their own with someone else's determination
    assert client.get(f"/cases/{other}/replay?det={det_id}").status_code == 404
    login(client, "policy")
    assert client.get(f"/cases/{changing}/replay?det={det_id}").status_code == 403
    db = store.connect(app.config["DATABASE"])
    denied = db.execute("SELECT count(*) FROM audit WHERE action = 'denied' AND case_id = ?", [changing]).fetchone()
    replays = db.execute("SELECT count(*) FROM audit WHERE action = 'case.replay'").fetchone()
    db.close()
    assert denied[0] == 1 and replays[0] == 0


def _tamper(path, sql: str, params=()):
    """An attacker with the file: drops the append-only trigger, changes a row."""
    db = sqlite3.connect(path)
    for table in ("rulebook_files", "rulebook_version_files"):
        db.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
    db.execute(sql, params)
    db.commit()
    db.close()


@pytest.mark.parametrize("attack, message", [
    ("UPDATE rulebook_files SET content = CAST(content || X'0A' AS BLOB) WHERE sha256 = "
     "(SELECT sha256 FROM rulebook_version_files WHERE path = 'parameters/amounts-63.yaml' AND version = ?)",
     "amounts-63.yaml 校验不符"),
    ("UPDATE rulebook_files SET content = 'text' WHERE sha256 = "
     "(SELECT sha256 FROM rulebook_version_files WHERE path = 'parameters/amounts-63.yaml' AND version = ?)",
     "amounts-63.yaml 校验不符"),
    # a consistent file swapped in: each file checks out, the version does not
    ("UPDATE rulebook_version_files SET sha256 = (SELECT sha256 FROM rulebook_version_files "
     "WHERE path = 'parameters/counties.yaml' AND version = ?) WHERE path = 'parameters/dibao.yaml'",
     "校验不符（重算得"),
])
def test_a_tampered_version_is_refused_in_chinese(later, attack, message):
    app, changing, _ = later
    _tamper(app.config["DATABASE"], attack, [TODAY.version])
    client = app.test_client()
    login(client, "clerk_hubin")
    db = store.connect(app.config["DATABASE"])
    det_id = _latest(db, changing)["id"]
    with pytest.raises(ReplayError, match=message):
        replay(db, det_id, app.extensions["benefits_engine"], engines=EngineCache(1))
    db.close()
    answer = client.get(f"/cases/{changing}/replay?det={det_id}")
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "无法重放" in text and "拒绝" in text
    run = CliRunner().invoke(main, ["replay", "--db", app.config["DATABASE"], str(det_id)])
    assert run.exit_code == 1 and "拒绝" in run.output and "Traceback" not in run.output


def test_the_database_refuses_a_determination_of_an_unkept_version(later):
    app, changing, _ = later
    db = store.connect(app.config["DATABASE"])
    with pytest.raises(sqlite3.IntegrityError, match="rulebook version not kept"):
        db.execute("INSERT INTO determinations (case_id, rulebook_version, record_json, result_json) "
                   "VALUES (?, 'ffffffffffff', '{}', '{}')", [changing])
    with pytest.raises(sqlite3.IntegrityError):      # kept files never change
        db.execute("DELETE FROM rulebook_files")
    db.close()


def test_changed_cases_page_for_the_clerk(later):
    app, changing, unchanged = later
    client = app.test_client()
    login(client, "clerk_hubin")
    for _ in range(5):     # the page checks a batch per view
        page = client.get("/cases/changed").get_data(as_text=True)
        if "http-equiv=\"refresh\"" not in page:
            break
    done = re.search(r"已核对 (\d+) / (\d+) 个案件", page)
    assert done and done.group(1) == done.group(2)
    db = store.connect(app.config["DATABASE"])
    masked = store.get_case(db, changing)["id_number"]
    hubin = {r["id"] for r in db["cases"].rows_where("county = ?", ["411202"])}
    audit = db.execute("SELECT detail FROM audit WHERE action = 'case.changes' ORDER BY id DESC").fetchone()[0]
    db.close()
    assert int(done.group(2)) == len(hubin)
    assert f'href="/cases/{changing}"' in page and f'href="/cases/{unchanged}"' not in page
    assert masked not in page and masked[:6] + "********" + masked[-4:] in page
    assert "低保" in page and "county=411202" in audit
    shown = {int(i) for i in re.findall(r'href="/cases/(\d+)"', page)}
    assert shown and shown <= hubin            # their county only


def test_changed_cases_page_for_policy_pages_through_all_counties(later):
    app, changing, _ = later
    app.config["RECHECK_BATCH"] = 3      # many small batches: progress shows and the list fills in
    client = app.test_client()
    login(client, "policy")
    first = client.get("/cases/changed").get_data(as_text=True)
    assert 'http-equiv="refresh"' in first and "已核对 3 / " in first
    for _ in range(40):
        page = client.get("/cases/changed").get_data(as_text=True)
        if 'http-equiv="refresh"' not in page:
            break
    assert 'http-equiv="refresh"' not in page
    found = int(re.search(r"有变化的案件：(\d+) 个", page).group(1))
    assert found >= 1 and f">版本测试701<" in "".join(
        client.get(f"/cases/changed?page={p}").get_data(as_text=True) for p in range(1, found // 5 + 2))
    assert f'href="/cases/{changing}"' not in page       # policy reads no case: names without links
    one = client.get("/cases/changed?county=411203").get_data(as_text=True)
    assert "版本测试701" not in one
    login(client, "finance")
    assert client.get("/cases/changed").status_code == 403


def test_schema_3_database_upgrades_and_keeps_only_what_it_can(tmp_path):
    """An old file: one determination of today's version gains its files, one of
    an unknown version is marked 规则文件未保存，无法重放."""
    path = tmp_path / "old.sqlite"
    db = store.connect(path)
    with store.write(db):
        store._schema_1(db), store._schema_2(db), store._schema_3(db)
        db.execute("PRAGMA user_version=3")
    user = {"id": None, "username": None}
    record = _record(703, status={"dibao": True})
    result = TODAY.determine(parse_applicant(record))
    case_id = store.create_case(db, "411202", record, result, None, "old")
    old = json.loads(store.result_json(result))
    old["rulebook_version"] = "0123456789ab"
    store.add_determination(db, case_id, record, old, user, "case.update")
    db.close()

    create_app({"DATABASE": str(path), "SECRET_KEY": "x", "DEMO": False})
    db = store.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION == 5
    first, second = store.determinations(db, case_id)
    assert store.version_kept(db, TODAY.version) == (True, "")
    assert store.version_kept(db, "0123456789ab") == (False, store.NOT_KEPT_ZH)
    assert replay(db, first["id"]).same
    with pytest.raises(ReplayError, match="规则文件未保存，无法重放"):
        replay(db, second["id"])
    assert db["rulebook_version_files"].count == len(TODAY.rulebook.files)
    db.close()


def test_concurrent_saves_keep_a_version_once(tmp_path):
    path = tmp_path / "new.sqlite"
    db = store.connect(path)
    store.migrate(db)
    db.close()
    results = [(r, TODAY.determine(parse_applicant(r))) for r in (_record(710 + i) for i in range(8))]
    barrier, errors = threading.Barrier(len(results)), []

    def save(record, result):
        conn = store.connect(path)
        try:
            barrier.wait()
            store.create_case(conn, "411202", record, result, None, "race", TODAY.rulebook.files)
        except Exception as exc:   # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=save, args=pair) for pair in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db = store.connect(path)
    counts = [db[t].count for t in ("determinations", "rulebook_versions", "rulebook_version_files",
                                    "rulebook_files")]
    db.close()
    assert not errors and counts == [8, 1, len(TODAY.rulebook.files), len(TODAY.rulebook.files)]


_KILLED_SAVE = """
import json, sys, time
from benefits.engine.rulebook import read_rule_files
from benefits.web import store
db = store.connect(sys.argv[1])
record, result = json.loads(open(sys.argv[2], encoding="utf-8").read())
original = store._add_determination
def slow(*args):
    out = original(*args)   # files and determination written, not committed
    print("ready", flush=True)
    time.sleep(60)
    return out
store._add_determination = slow
store.create_case(db, "411202", record, result, None, "killed", read_rule_files())
"""


def test_kill_9_in_the_middle_of_a_save_leaves_no_trace(tmp_path):
    path = tmp_path / "kill.sqlite"
    db = store.connect(path)
    store.migrate(db)
    db.close()
    record = _record(720)
    saved = tmp_path / "save.json"
    saved.write_text(json.dumps([record, TODAY.determine(parse_applicant(record))], ensure_ascii=False))
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_SAVE, str(path), str(saved)],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout.readline().strip() == "ready"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    db = store.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert [db[t].count for t in ("cases", "determinations", "rulebook_versions", "rulebook_files")] == [0, 0, 0, 0]
    _save(db, record)                 # the next save keeps the version and succeeds
    orphans = db.execute("SELECT count(*) FROM determinations d WHERE NOT EXISTS (SELECT 1 FROM rulebook_versions v "
                         "WHERE v.version = d.rulebook_version AND v.kept = 1)").fetchone()[0]
    assert db["determinations"].count == 1 and orphans == 0
    db.close()


def test_engines_of_old_versions_are_bounded_and_closed(new_rules, tmp_path):
    path = tmp_path / "cache.sqlite"
    db = store.connect(path)
    store.migrate(db)
    third = tmp_path / "third"
    shutil.copytree(new_rules, third)
    (third / "parameters" / "amounts-63.yaml").write_text(
        (new_rules / "parameters" / "amounts-63.yaml").read_text().replace("0.25", "0.3"))
    books = [read_rule_files(p) for p in (DEFAULT_RULES_DIR, new_rules, third)]
    versions = [rulebook_version(f) for f in books]
    for version, files in zip(versions, books):
        store.keep_rulebook(db, version, files)
        store.keep_rulebook(db, version, files)   # idempotent
    cache = EngineCache(size=1)
    load = lambda v: store.version_files(db, v)   # noqa: E731
    with cache.using(versions[0], load) as first:
        with cache.using(versions[1], load) as second:   # the first is dropped but still in use
            assert cache.versions() == [versions[1]]
        assert not first._session._closed
    assert first._session._closed is True                # closed once its user is done
    with cache.using(versions[2], load):
        pass
    assert second._session._closed is True and cache.versions() == [versions[2]]
    with pytest.raises(VersionMismatch, match="校验不符"):
        rulebook_of_version(versions[0], books[1])
    cache.close()
    db.close()


@pytest.fixture
def live_later(old_cases, new_rules, tmp_path):
    """The changed-rules app on a free localhost port (as test_web_e2e serves it)."""
    source, changing, _ = old_cases
    path = tmp_path / "benefits.sqlite"
    shutil.copy(source, path)
    app = create_app({"DATABASE": str(path), "RULES_DIR": str(new_rules), "SECRET_KEY": "e2e", "RECHECK_BATCH": 3})
    with served(app) as url:
        yield url, changing


def test_changed_cases_and_replay_in_chromium(live_later, page):
    url, changing = live_later
    page.goto(url + "/")
    page.fill("#username", "clerk_hubin")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.click("text=现行规则下会变化的案件")
    # batches of 3: the page refreshes itself until every case is checked
    expect(page.locator("#recheck-progress")).to_contain_text(re.compile(r"已核对 (\d+) / \1 个案件"), timeout=20000)
    row = page.locator("table.changed tr", has_text="版本测试701")
    expect(row).to_contain_text("低保")
    expect(row.locator("code").first).to_contain_text("********")
    shot(page, "changed-cases", full_page=True)
    row.locator("a").first.click()
    expect(page.locator("h1")).to_contain_text(f"#{changing}")
    page.click("#replay")
    expect(page.locator(".replay-outcome")).to_contain_text("一致：与保存的结果逐字节相同")
    shot(page, "replay")


@pytest.mark.parametrize("name", ["../evil.yaml", "parameters/../x.yaml", "notes.txt", "a/b.yaml"])
def test_kept_file_names_outside_a_rules_directory_are_refused(name):
    files = dict(TODAY.rulebook.files)
    files[name] = b"rules: []"
    with pytest.raises(RulebookError, match="不是规则目录中的文件名"):
        rulebook_version(files)


def test_the_files_kept_are_the_bytes_the_version_hashes():
    files = read_rule_files()
    assert files == TODAY.rulebook.files and rulebook_version(files) == TODAY.version
    assert set(files) == {f"parameters/{p.name}" for p in (DEFAULT_RULES_DIR / "parameters").glob("*.yaml")} | {
        p.name for p in DEFAULT_RULES_DIR.glob("*.yaml")}
