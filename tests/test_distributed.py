"""Partitioned caseloads and the estimate, comparison and roll audit on Dask distributed
(a LocalCluster of 2 worker processes, shared by the module): the same
figures as the local run to the fen, a worker killed mid-run, an
unreachable scheduler, a worker holding another rulebook version."""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import dask
import polars as pl
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from benefits.audit import run_audit, write_audit_workbook
from benefits.caseload import CaseloadError, synthetic
from benefits.caseload.partitions import MANIFEST, read_partitions, write_partitioned
from benefits.cli import main
from benefits.cliutil import EXIT_UNAVAILABLE
from benefits.distributed import ClusterError, Shipment, VersionRefused
from benefits.distributed.plugin import RulebookPlugin
from benefits.engine import load_rulebook, read_rule_files
from benefits.finance.estimate import estimate
from benefits.finance.table import render
from benefits.policy import apply_reform, compare, load_reform
from benefits.policy.workbook import write_comparison

ROOT = Path(__file__).resolve().parents[1]
REFORM = ROOT / "reforms" / "no-single-person.yaml"
SIZE, PARTS, BAD = 600, 6, 4


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("partitioned") / "caseload"
    write_partitioned(synthetic.caseload(SIZE, seed=3, bad=BAD), SIZE, PARTS, out, {"seed": 3})
    return out


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local, \
            Client(local) as client:
        yield local.scheduler_address, client


@pytest.fixture(scope="module")
def local_estimate(folder) -> dict:
    return estimate(folder, 2013)


@pytest.fixture(scope="module")
def local_compare(folder):
    return compare(folder, *_books(), 2013, cache=None)


def _books():
    baseline = load_rulebook()
    return baseline, apply_reform(baseline, load_reform(REFORM))


def _same_comparison(a, b) -> None:
    for name in ("cost", "persons", "changes", "by_benefit", "by_county", "transitions", "distribution"):
        assert getattr(a, name).equals(getattr(b, name)), name
    for name in ("counts", "rejects", "baseline_estimate", "reform_estimate", "examples", "reform_changes"):
        assert getattr(a, name) == getattr(b, name), name


def _cells(path: Path) -> dict:
    book = load_workbook(path)
    return {sheet.title: [row for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}


# -- generate --partitions -----------------------------------------------------------------------

def test_generate_writes_the_partitions_and_their_manifest(tmp_path):
    out = tmp_path / "cl"
    result = CliRunner().invoke(main, ["generate", "--size", "50", "--partitions", "3", "--seed", "7",
                                       "--bad", "2", "--out", f"{out}/"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["seed"] == 7 and manifest["rows"] == 50 and manifest["bad"] == 2
    assert [p["rows"] for p in manifest["partitions"]] == [17, 17, 16]
    assert sorted(p.name for p in out.iterdir()) == sorted([MANIFEST] + [p["file"] for p in manifest["partitions"]])
    # the partitions together are the single file's records, in order, with the caseload's row numbers
    partitions = read_partitions(out)
    assert [p.first_row for p in partitions] == [1, 18, 35]
    whole = pl.concat([pl.read_parquet(p.path) for p in partitions])
    single = tmp_path / "one.csv"
    assert CliRunner().invoke(main, ["generate", "--size", "50", "--seed", "7", "--bad", "2",
                                     "--out", str(single)]).exit_code == 0
    assert whole.get_column("id_number").to_list() == pl.read_csv(single, infer_schema=False)["id_number"].to_list()
    # written again: replaced whole, nothing left beside it
    again = CliRunner().invoke(main, ["generate", "--size", "20", "--partitions", "2", "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert [p.rows for p in read_partitions(out)] == [10, 10]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cl", "one.csv"]


def test_generate_partitions_bad_requests_are_refused_in_chinese(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x", encoding="utf-8")
    runner = CliRunner()
    kept = runner.invoke(main, ["generate", "--size", "5", "--partitions", "2", "--out", str(tmp_path / "mine")])
    assert kept.exit_code == 1 and "不是空的，也不是分区台账" in kept.output
    assert (tmp_path / "mine" / "notes.txt").exists()
    too_many = runner.invoke(main, ["generate", "--size", "3", "--partitions", "4", "--out", str(tmp_path / "x")])
    assert too_many.exit_code == 1 and "分区数（4）不能多于记录数（3）" in too_many.output
    folder = runner.invoke(main, ["generate", "--size", "3", "--out", str(tmp_path / "mine")])
    assert folder.exit_code == 2 and "是文件夹" in folder.output
    assert "Traceback" not in kept.output + too_many.output + folder.output


def test_a_failed_generate_leaves_nothing_under_the_final_name(tmp_path, monkeypatch):
    from benefits.caseload import partitions
    calls = []

    def failing(records):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(records)
    real = partitions._frame
    monkeypatch.setattr(partitions, "_frame", failing)
    with pytest.raises(OSError):
        write_partitioned(synthetic.caseload(30), 30, 3, tmp_path / "cl", {})
    assert list(tmp_path.iterdir()) == []


def test_a_damaged_partitioned_caseload_is_refused(folder, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in folder.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    (copy / "part-00003.parquet").unlink()
    with pytest.raises(CaseloadError, match="缺少清单所列的分区文件：part-00003.parquet"):
        read_partitions(copy)
    (copy / "part-00003.parquet").write_bytes((folder / "part-00002.parquet").read_bytes()[:100])
    with pytest.raises(CaseloadError, match="无法读取分区文件 part-00003.parquet"):
        read_partitions(copy)
    with pytest.raises(CaseloadError, match="没有 .parquet 分区文件"):
        read_partitions((tmp_path / "empty").mkdir() or tmp_path / "empty")


def test_the_local_run_reads_the_folder_as_the_single_file(folder, local_estimate, tmp_path):
    single = tmp_path / "whole.parquet"
    pl.concat([pl.read_parquet(p.path) for p in read_partitions(folder)]).write_parquet(single)
    assert local_estimate["counts"]["rejected"] == BAD and local_estimate["total"]["mid"] > 0
    assert local_estimate == estimate(single, 2013)


# -- the estimate and the comparison on the cluster ----------------------------------------------

def test_distributed_estimate_equals_the_local_one_to_the_fen(folder, cluster, local_estimate):
    address, _ = cluster
    local = local_estimate
    assert local["counts"]["rejected"] == BAD and local["total"]["mid"] > 0
    assert estimate(folder, 2013, scheduler=address) == local


def test_distributed_compare_equals_the_local_one_to_the_fen(folder, cluster, local_compare):
    address, _ = cluster
    assert local_compare.changes.height > 0 and local_compare.examples
    _same_comparison(compare(folder, *_books(), 2013, scheduler=address), local_compare)


def test_the_commands_on_a_cluster_write_what_the_local_run_gives(folder, cluster, local_estimate, local_compare,
                                                                  tmp_path):
    address, _ = cluster
    runner = CliRunner()
    out = tmp_path / "compare.xlsx"
    result = runner.invoke(main, ["compare", str(folder), "--reform", str(REFORM), "--year", "2013", "--out", str(out),
                                  "--quiet", "--scheduler", address])
    assert result.exit_code == 0, result.output
    write_comparison(local_compare, tmp_path / "local.xlsx")
    assert _cells(out) == _cells(tmp_path / "local.xlsx")
    result = runner.invoke(main, ["estimate", str(folder), "--year", "2013", "--out", str(tmp_path / "e.xlsx"),
                                  "--quiet", "--scheduler", address])
    assert result.exit_code == 0, result.output
    table = render(dict(local_estimate, rejects=local_estimate["rejects"][:10]))
    assert result.output.startswith(table + "\n")


def test_a_worker_killed_mid_run_is_replaced_and_the_result_is_still_exact(folder, cluster, local_estimate):
    address, client = cluster
    killed = []

    def kill_one(done, total):
        if killed:
            return
        busy = [worker for worker, tasks in client.processing().items() if tasks]
        assert busy, "no partition was running when the first finished"
        pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
        os.kill(pid, signal.SIGKILL)
        killed.append((pid, done, total))

    try:
        result = estimate(folder, 2013, scheduler=address, on_partition=kill_one)
    finally:
        client.wait_for_workers(2, timeout=60)
    assert killed and killed[0][1] < killed[0][2]
    assert os.getpid() != killed[0][0] and killed[0][0] not in client.run(os.getpid).values()
    assert result == local_estimate


def test_a_worker_holding_another_rulebook_version_is_refused(folder, cluster, tmp_path):
    address, client = cluster
    baseline = load_rulebook()
    files = read_rule_files()
    name = next(n for n in files if n.startswith("parameters/"))
    changed = dict(files)
    changed[name] = files[name] + b"\n# changed on this worker\n"
    stale = RulebookPlugin(Shipment(baseline.version, changed))     # held under today's version, other files
    stale.idempotent = False       # replaces what the workers hold under that name
    client.register_plugin(stale, name=stale.name)
    try:
        with pytest.raises(VersionRefused, match=f"载入的规则版本为 [0-9a-f]{{12}}，与所要求的 {baseline.version} 不同"):
            estimate(folder, 2013, scheduler=address)
        out = tmp_path / "refused.xlsx"
        result = CliRunner().invoke(main, ["estimate", str(folder), "--year", "2013", "--out", str(out),
                                           "--quiet", "--scheduler", address])
        assert result.exit_code == 1
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("错误：规则文件错误：工作节点") and "拒绝计算" in lines[0]
        assert not out.exists()
    finally:
        client.unregister_worker_plugin(stale.name)


# -- the scheduler cannot be used ------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("command", ["estimate", "compare"])
def test_an_unreachable_scheduler_is_one_chinese_line_and_no_workbook(folder, tmp_path, command):
    out = tmp_path / "o.xlsx"
    address = f"tcp://127.0.0.1:{_free_port()}"
    extra = ["--reform", str(REFORM)] if command == "compare" else []
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        result = CliRunner().invoke(main, [command, str(folder), "--year", "2013", "--out", str(out), "--quiet",
                                           "--scheduler", address, *extra])
    assert result.exit_code == EXIT_UNAVAILABLE
    lines = result.output.strip().splitlines()
    assert lines == [lines[0]] and lines[0].startswith(f"错误：无法连接调度器 {address}：") and "未写出工作簿" in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_bad_scheduler_and_caseload_are_refused_in_chinese(folder, tmp_path):
    runner = CliRunner()
    bad = runner.invoke(main, ["estimate", str(folder), "--year", "2013", "--out", str(tmp_path / "o.xlsx"),
                               "--scheduler", "http://x:1"])
    assert bad.exit_code == 2 and "应为 tcp://主机:端口" in bad.output
    durable = runner.invoke(main, ["estimate", str(folder), "--year", "2013", "--out", str(tmp_path / "o.xlsx"),
                                   "--scheduler", "local:2", "--engine", "durable"])
    assert durable.exit_code == 2 and "分布式测算只用列式引擎" in durable.output
    single = ROOT / "fixtures" / "caseload-sample.jsonl"
    for command, extra in (("estimate", []), ("compare", ["--reform", str(REFORM)])):
        not_folder = runner.invoke(main, [command, str(single), "--year", "2013", "--out", str(tmp_path / "o.xlsx"),
                                          "--scheduler", "local:1", "--quiet", *extra])
        assert not_folder.exit_code == 1 and "--scheduler 需要分区台账文件夹" in not_folder.output
    with pytest.raises(ClusterError, match="无法连接"):
        with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
            estimate(folder, 2013, scheduler=f"tcp://127.0.0.1:{_free_port()}")
    assert list(tmp_path.iterdir()) == []


def test_a_scheduler_lost_mid_run_is_one_chinese_line_and_no_workbook(folder, tmp_path):
    """A scheduler of its own (no worker: the run waits on it), killed while the command waits."""
    port = _free_port()
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", str(port), "--no-dashboard"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert time.monotonic() < deadline and scheduler.poll() is None, "the scheduler did not start"
            time.sleep(0.2)
        killer = threading.Timer(2.0, scheduler.kill)
        killer.start()
        out = tmp_path / "lost.xlsx"
        with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
            result = CliRunner().invoke(main, ["estimate", str(folder), "--year", "2013", "--out", str(out),
                                               "--quiet", "--scheduler", f"tcp://127.0.0.1:{port}"])
        killer.join()
    finally:
        scheduler.kill()
        scheduler.wait()
    assert result.exit_code == EXIT_UNAVAILABLE, result.output
    lines = result.output.strip().splitlines()
    assert lines == [lines[0]] and lines[0].startswith("错误：与调度器的连接中断，计算未完成：") and "未写出工作簿" in lines[0]
    assert list(tmp_path.iterdir()) == []


# -- the roll audit on the cluster -----------------------------------------------------------------

AS_OF = dt.date(2013, 7, 1)


def test_distributed_audit_finds_what_the_local_one_finds(cluster, tmp_path):
    address, _ = cluster
    out, roll = tmp_path / "cl", tmp_path / "roll.csv"
    made = CliRunner().invoke(main, ["generate", "--size", "600", "--seed", "4", "--partitions", "3",
                                     "--out", str(out), "--roll", str(roll), "--roll-as-of", AS_OF.isoformat()])
    assert made.exit_code == 0, made.output
    local = run_audit(out, roll, AS_OF, partition_rows=150)
    assert local.findings.height > 0 and local.summary.height > 0
    done = []
    remote = run_audit(out, roll, AS_OF, partition_rows=150, scheduler=address,
                       on_partition=lambda finished, total: done.append((finished, total)))
    assert done[-1] == (4, 4)
    assert remote.findings.equals(local.findings) and remote.summary.equals(local.summary)
    assert (remote.rejects, remote.roll_rejects, remote.counts) == (local.rejects, local.roll_rejects, local.counts)
    book = tmp_path / "audit.xlsx"
    result = CliRunner().invoke(main, ["audit", str(out), "--roll", str(roll), "--as-of", AS_OF.isoformat(),
                                       "--out", str(book), "--quiet", "--scheduler", address])
    assert result.exit_code == 0, result.output
    write_audit_workbook(local, tmp_path / "local.xlsx")      # the partitions do not change the findings
    assert _cells(book) == _cells(tmp_path / "local.xlsx")


def test_a_rules_folder_reform_is_rebuilt_on_a_worker_as_the_same_version(tmp_path):
    """What a worker does with a compare's reform given as a rules folder: the
    folder's files rebuilt elsewhere, the reform applied, the same version."""
    from benefits.policy.compare import _shipments
    baseline = load_rulebook()
    folder = tmp_path / "rules-copy"
    for name, data in read_rule_files().items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data.replace(b"verified: true", b"verified: false", 1)
                                    if name.startswith("parameters/") else data)
    reform = apply_reform(baseline, load_reform(folder))
    shipped = _shipments(baseline, reform)
    assert [s.version for s in shipped] == [baseline.version, reform.version] != [baseline.version] * 2
    rebuilt = shipped[1].derive(load_rulebook())
    assert rebuilt.version == reform.version and rebuilt.changes == reform.changes
