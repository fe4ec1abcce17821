"""The ``benefits`` command: the same operations as the Python API.

Whatever happens, the terminal gets one Chinese line, never a traceback, and
the exit code says what went wrong:

0 done · 1 records rejected, or a refused rule/caseload file · 2 bad usage ·
3 no records in the input · 66 input not readable (missing, closed stdin,
damaged file) · 69 the Dask scheduler cannot be reached or was lost ·
70 internal error · 74 a file or the output cannot be read or written (disk
full, closed stdout) · 130 interrupted (Ctrl-C) · 141 the reader of the
output went away (``| head``), quiet · 143 terminated (SIGTERM).
"""
from __future__ import annotations

import errno
import importlib
import json
import os
import signal
import sys
import threading
from contextlib import contextmanager, nullcontext, suppress
from pathlib import Path

import click

from .caseload import CaseloadError, LayoutError, encoding_note, json_records, text_stream
from .cliutil import (EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_NO_INPUT, EXIT_NO_RECORDS, EXIT_OUTPUT, EXIT_PIPE,
                      EXIT_REJECTED, EXIT_TERMINATED, STOP_REQUESTED, STOP_SAID, STOPPED_ZH, Stop, Terminated, guard_standard_streams,
                      parse_date, raise_terminated, refused, stop_promptly)
from .engine import Applicant, InvalidApplicant, RulebookError, default_engine, load_rulebook
from .report import render
from .tables import visible

# Loaded only when named: a spawn worker re-imports this module, and the web
# stack (Flask, sqlite, cffi) would otherwise sit in every worker's memory.
_LAZY = {"audit": "benefits.audit.cli:audit", "compare": "benefits.policy.cli:compare", "estimate": "benefits.finance.cli:estimate", "generate": "benefits.audit.cli:generate",
         "recheck": "benefits.audit.recheck_cli:recheck",
         "scenarios": "benefits.scenarios.cli:scenarios", "serve": "benefits.web.serve:serve",
         "scorecard": "benefits.scorecard.cli:scorecard",
         "users": "benefits.web.users:users", "replay": "benefits.web.replay:replay_command"}


@contextmanager
def _sigterm_raises():
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


_ERRNO_ZH = {errno.ENOSPC: "磁盘已满", errno.EDQUOT: "超出磁盘配额", errno.EFBIG: "文件超出允许的大小（磁盘或系统限制）",
             errno.EACCES: "没有权限",
             errno.EPERM: "没有权限", errno.ENOENT: "文件或文件夹不存在", errno.EROFS: "只读文件系统",
             errno.EIO: "读写错误", errno.EISDIR: "这是一个文件夹"}


def os_error_zh(exc: OSError) -> str:
    return _ERRNO_ZH.get(exc.errno, exc.strerror or str(exc))


def _say(message: str) -> None:
    with suppress(Exception):          # stderr itself may be closed
        click.echo(message, err=True)


def _silence_stdout() -> None:
    """After a failed write, stop Python retrying the flush at exit."""
    with suppress(Exception):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _command_name(args) -> str | None:
    """The sub-command a command line names (its first word that is not an option)."""
    return next((a for a in (sys.argv[1:] if args is None else args) if not a.startswith("-")), None)


class _PipeClosed(Exception):
    """BrokenPipeError, carried past click (which would make it exit 1)."""


class _Main(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise _PipeClosed from None

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(_LAZY))

    def get_command(self, ctx, name):
        if name in _LAZY and name not in self.commands:
            module, attr = _LAZY[name].split(":")
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        code = 0
        closed_stdout = guard_standard_streams()
        try:
            # `serve` stops the way a server does (waitress and benefits.web.serve)
            prompt = nullcontext() if _command_name(args) == "serve" else stop_promptly()
            with _sigterm_raises(), prompt:
                try:
                    result = super().main(args, prog_name, complete_var, False, **extra)
                    code = result if isinstance(result, int) else 0
                finally:
                    try:
                        sys.stdout.flush()    # a full disk shows here, not at interpreter exit
                    except BrokenPipeError:
                        raise _PipeClosed from None
        except Stop as exc:
            _say(visible(str(exc)))
            code = exc.code
        except click.UsageError as exc:
            with suppress(Exception):
                exc.show()
            code = exc.exit_code
        except click.ClickException as exc:
            _say(f"错误：{visible(exc.format_message())}")
            code = exc.exit_code
        except (click.Abort, KeyboardInterrupt):
            STOP_SAID.set()
            _say(STOPPED_ZH[signal.SIGINT][0])
            code = EXIT_INTERRUPTED
        except Terminated:
            STOP_SAID.set()
            _say(STOPPED_ZH[signal.SIGTERM][0])
            code = EXIT_TERMINATED
        except _PipeClosed:               # `| head`: the reader has all it wanted; nothing to say
            _silence_stdout()
            code = EXIT_PIPE
        except OSError as exc:
            _silence_stdout()
            if exc.filename:          # an output (or a caseload that went away while read)
                _say(visible(f"无法读写文件 {exc.filename}：{os_error_zh(exc)}"))
            else:
                _say(f"无法写出结果：{os_error_zh(exc)}（标准输出）")
            code = EXIT_OUTPUT
        except Exception as exc:
            stop = _stopped_by(exc)
            if stop is not None:          # a library's cleanup failed while a stop unwound it
                STOP_SAID.set()
                _say(STOPPED_ZH[stop][0])
                code = STOPPED_ZH[stop][1]
            else:                         # a bug: still one line, and a code that says so
                _say(f"内部错误（请报告）：{type(exc).__name__}: {exc}")
                code = EXIT_INTERNAL
        if closed_stdout is not None and closed_stdout.lost and code in (0, EXIT_REJECTED):
            _say(f"无法显示结果：标准输出已关闭（{closed_stdout.lost} 行未显示；输出文件照常写出）")
            code = EXIT_OUTPUT
        sys.exit(code)


def _stopped_by(exc: BaseException):
    """The signal whose exception ``exc`` was raised while handling, if any:
    matplotlib, Ctrl-C'd inside savefig, raises ValueError from its own
    clean-up, and that is the stop, not a bug."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, KeyboardInterrupt):
            return signal.SIGINT
        if isinstance(exc, Terminated):
            return signal.SIGTERM
        exc = exc.__context__
    return STOP_REQUESTED[0] if STOP_REQUESTED else None


@click.group(cls=_Main)
def main():
    """三门峡市残疾人救助保障资格评估 (benefits)."""


def _binary_input(name: str):
    if name == "-":
        stdin = sys.stdin
        if stdin is None or stdin.closed:
            raise Stop("无法读取标准输入：标准输入已关闭", EXIT_NO_INPUT)
        return getattr(stdin, "buffer", stdin)
    try:
        return open(name, "rb")
    except OSError as exc:
        raise Stop(f"无法打开文件 {name}：{os_error_zh(exc)}", EXIT_NO_INPUT) from None


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--as-of", callback=parse_date, help="评估日期 YYYY-MM-DD（覆盖记录中的日期）")
@click.option("--format", "fmt", type=click.Choice(["json", "report"]), default="json",
              help="json（默认，每行一条）或中文报告")
@click.option("--rules", "rules_dir", type=click.Path(file_okay=False), help="规则目录（默认项目内 rules/）")
@click.option("--batch", is_flag=True,
              help="整个台账（CSV、JSONL、XLSX、Parquet）用列式引擎评估，结果写入 --out")
@click.option("--out", type=click.Path(dir_okay=False), help="--batch 的输出：FILE.parquet 或 FILE.jsonl")
def evaluate(file, as_of, fmt, rules_dir, batch, out):
    """Evaluate JSON Lines, one JSON record or a JSON array of records in FILE ('-' for stdin);
    with --batch, a whole caseload file into a Parquet or JSON Lines file."""
    try:
        engine = default_engine(rules_dir)
    except RulebookError as exc:
        raise click.ClickException(f"规则文件错误：{exc}") from None
    if batch or out:
        _evaluate_batch(file, out, as_of, rules_dir)
        return
    rejected = records = 0
    try:
        with text_stream(_binary_input(file), newline="\n") as stream:
            for number, payload in json_records(stream):
                records += 1
                try:
                    result = engine.evaluate(payload, as_of=as_of)
                except InvalidApplicant as exc:
                    rejected += 1
                    errors = [e.model_dump() for e in exc.errors]
                    if fmt == "json":
                        click.echo(json.dumps({"line": number, "rejected": errors}, ensure_ascii=False))
                    else:
                        click.echo(f"第{number}行 记录被拒绝：", err=True)
                        for e in errors:
                            click.echo(f"    {visible(e['field'])}: {visible(e['message'])}", err=True)
                    continue
                if fmt == "json":
                    click.echo(json.dumps(result, ensure_ascii=False))
                else:
                    click.echo(render(result))
                    click.echo("")
    except CaseloadError as exc:
        raise refused(exc) from None
    if not records:
        raise Stop("没有记录：输入为空（应为每行一条JSON记录，或一份JSON文档）", EXIT_NO_RECORDS)
    if rejected:
        sys.exit(EXIT_REJECTED)


def _evaluate_batch(file, out, as_of, rules_dir):
    # polars and the columnar engine, only for --batch: kept out of the command's
    # start-up and out of every spawn worker (which re-imports this module)
    from .finance.evaluate_file import NoRecords, evaluate_file
    if not out:
        raise click.UsageError("--batch 需要 --out FILE.parquet 或 FILE.jsonl")
    if file == "-":
        raise click.UsageError("--batch 需要台账文件路径，不能读标准输入")
    if not Path(out).parent.is_dir():
        raise click.BadParameter(f"输出文件夹不存在：{Path(out).parent}", param_hint="--out")
    rejected = []

    def reject(r):
        rejected.append(r)
        click.echo(json.dumps({"line": r["row"], "rejected": [{"field": r["field"], "message": r["message"]}]},
                              ensure_ascii=False))
    try:
        _, written = evaluate_file(file, Path(out), as_of, rules_dir, on_reject=reject)
    except NoRecords as exc:
        raise Stop(str(exc), EXIT_NO_RECORDS) from None
    except (CaseloadError, LayoutError) as exc:
        raise refused(exc) from None
    if encoding_note(file):
        click.echo(encoding_note(file), err=True)
    click.echo(f"已评估 {written} 人，拒绝 {len({r['row'] for r in rejected})} 行：{out}", err=True)
    if rejected:
        sys.exit(1)


@main.command()
@click.option("--year", type=click.IntRange(2012, 2100), required=True, help="预算年度")
@click.option("--rules", "rules_dir", type=click.Path(file_okay=False))
def budget(year, rules_dir):
    """County rehabilitation budgets (63号 三（一）) for a year."""
    try:
        engine = default_engine(rules_dir)
    except RulebookError as exc:
        raise click.ClickException(f"规则文件错误：{exc}") from None
    rows = engine.county_budgets(year)
    click.echo(f"{year}年 康复进社区、进农村工作专项经费（63号 三（一））  规则版本 {engine.version}")
    for row in rows:
        if not row["values"]:
            click.echo(f"  {row['county_zh']:<5} 尚未施行（2013年起）")
            continue
        basis = "；".join(f"自{v['from']}起 人口 {v['population']:,.0f} × {v['per_capita']:g} 元" for v in row["values"])
        floor = "不少于 " if row["at_least"] else ""
        click.echo(f"  {row['county_zh']:<5} {basis}  = {floor}{row['amount']:,.2f} 元")
    for name in dict.fromkeys(n for row in rows for n in row["unverified"]):
        spec = engine.rulebook.parameters[name]
        click.echo(f"  ⚠ 未核实参数：{spec.label_zh}（{spec.source}）")


@main.command()
def schema():
    """Print the applicant record's JSON Schema."""
    click.echo(json.dumps(Applicant.model_json_schema(), ensure_ascii=False, indent=2))


@main.command()
@click.option("--rules", "rules_dir", type=click.Path(file_okay=False))
def rules(rules_dir):
    """List every rule with its clause."""
    try:
        book = load_rulebook(rules_dir)
    except RulebookError as exc:
        raise click.ClickException(f"规则文件错误：{exc}") from None
    click.echo(f"规则版本 {book.version}")
    for rule in book.rules:
        marks = " ⚠假设" if rule.assumption else ""
        click.echo(f"{rule.clause:<12} {rule.kind:<13} {rule.id:<30} {rule.label_zh}{marks}")


if __name__ == "__main__":
    main()
