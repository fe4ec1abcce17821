"""Long jobs in bounded pools (issue 20 item 10): policy compares and
finance estimates run in a bounded number of workers with a bounded
queue, never in the request thread; a full queue is a Chinese 503 with
Retry-After, and a waiting run shows its place in the queue."""
from __future__ import annotations

import io
import shutil
import threading
import time
from pathlib import Path

import pytest

from benefits.web import create_app, jobs, whatif, workers

from web_helpers import csrf_from, login, token

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "fixtures" / "caseload-sample.csv"
TOPUP = (ROOT / "reforms" / "topup-25.yaml").read_text(encoding="utf-8")


def wait_until(condition, seconds: float = 30) -> None:
    stop = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < stop, "条件在时限内未满足"
        time.sleep(0.01)


def test_a_pool_runs_at_most_its_workers_and_refuses_past_its_queue():
    pool = workers.BoundedPool("测试任务", workers=2, queued=2)
    release, lock = threading.Event(), threading.Lock()
    running, most, finished = [0], [0], []

    def job(n):
        def run():
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            release.wait(30)
            with lock:
                running[0] -= 1
            finished.append(n)
        return run

    for n in range(4):
        pool.submit(n, job(n))
    wait_until(lambda: pool.load() == (2, 2))
    assert [pool.position(n) for n in range(4)] == [0, 0, 1, 2]
    with pytest.raises(workers.Full, match="测试任务已满：正在进行 2 项、排队 2 项"):
        pool.submit(4, job(4))
    release.set()
    wait_until(lambda: len(finished) == 4)
    assert most[0] == 2 and sorted(finished) == [0, 1, 2, 3] and pool.load() == (0, 0)
    pool.submit(5, job(5))                       # room again
    wait_until(lambda: 5 in finished)


def test_a_job_that_raises_leaves_the_worker_alive():
    pool = workers.BoundedPool("测试任务", workers=1, queued=1)
    done = threading.Event()
    pool.submit(1, lambda: 1 / 0)
    pool.submit(2, done.set)
    assert done.wait(10)


@pytest.fixture
def busy_app(seeded_db, tmp_path, monkeypatch):
    """One compare at a time and one waiting; compares block until released."""
    path = tmp_path / "benefits.sqlite"
    shutil.copy(seeded_db, path)
    release = threading.Event()
    real = whatif.run_compare

    def held(*args, **kwargs):
        assert threading.current_thread().name.startswith("pool-"), "测算在请求线程中运行"
        release.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(whatif, "run_compare", held)
    app = create_app({"DATABASE": str(path), "SECRET_KEY": "test-secret", "TESTING": True,
                      "POLICY_GENERATED_SIZE": 200, "COMPARE_WORKERS": 1, "COMPARE_QUEUE": 1})
    app.release = release
    yield app
    release.set()


def _post(client):
    page = client.get("/policy").get_data(as_text=True)
    return client.post("/policy", data={"csrf_token": csrf_from(page), "source": "generated", "year": "2013",
                                        "since": "2013-01-01", "p.dibao_topup_ratio.0": "0.25"},
                       content_type="multipart/form-data")


def test_a_full_compare_queue_is_a_chinese_503_and_a_waiting_run_shows_its_place(busy_app):
    client = busy_app.test_client()
    login(client, "policy")
    first = _post(client).headers["Location"]
    wait_until(lambda: client.get(first + ".json").get_json()["status"] == "running")
    second = _post(client).headers["Location"]
    waiting = client.get(second + ".json").get_json()
    assert waiting["status"] == "queued" and waiting["position"] == 1
    assert waiting["status_zh"] == "排队中：下一个开始"
    assert "排队中：下一个开始" in client.get(second).get_data(as_text=True)
    refused = _post(client)
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    page = refused.get_data(as_text=True)
    assert "服务器繁忙" in page and "政策测算已满：正在进行 1 项、排队 1 项" in page
    # the API meets the same bound (policy's token: the API runs in the pool too)
    api = busy_app.test_client()
    login(api, "admin")
    answer = api.post("/api/v1/compare", json={"reform": TOPUP, "caseload": "generated", "year": 2013},
                      headers={"X-CSRFToken": api.get("/api/v1/csrf").get_json()["csrf_token"]})
    assert answer.status_code == 503 and answer.get_json()["code"] == "busy"
    assert "政策测算已满" in answer.get_json()["message"] and answer.headers["Retry-After"]
    busy_app.release.set()
    for location in (first, second):
        wait_until(lambda: client.get(location + ".json").get_json()["status"] == "done", 60)
    assert _post(client).status_code == 302       # room again


def test_a_full_estimate_queue_is_a_chinese_503_and_the_job_is_marked_failed(seeded_db, tmp_path, monkeypatch):
    path = tmp_path / "benefits.sqlite"
    shutil.copy(seeded_db, path)
    release = threading.Event()
    real = jobs._estimate
    monkeypatch.setattr(jobs, "_estimate", lambda job, db: (release.wait(60), real(job, db))[1])
    app = create_app({"DATABASE": str(path), "SECRET_KEY": "test-secret", "TESTING": True, "ESTIMATE_QUEUE": 1})
    client = app.test_client()
    login(client, "finance")

    def upload():
        return client.post("/finance", data={"caseload": (io.BytesIO(SAMPLE.read_bytes()), "c.csv"), "year": "2013",
                                             "csrf_token": token(client, "/finance")},
                           content_type="multipart/form-data")

    try:
        first = upload().headers["Location"]
        wait_until(lambda: client.get(first + ".json").get_json()["status"] == "running")
        second = upload().headers["Location"]
        waiting = client.get(second + ".json").get_json()
        assert waiting["position"] == 1 and waiting["status_zh"] == "排队中：下一个开始"
        refused = upload()
        assert refused.status_code == 503 and "资金测算已满" in refused.get_data(as_text=True)
        failed = client.get("/finance").get_data(as_text=True)
        assert "失败" in failed
        uploads = list((tmp_path / "estimates").glob("*/caseload.csv"))
        assert len(uploads) == 2           # the refused job's upload is gone
    finally:
        release.set()
    wait_until(lambda: client.get(second + ".json").get_json()["status"] == "done", 120)
