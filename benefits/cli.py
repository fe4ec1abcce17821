"""The ``benefits`` command: the same operations as the Python API."""
from __future__ import annotations

import datetime as dt
import json
import sys

import click

from .engine import Applicant, InvalidApplicant, RulebookError, default_engine, load_rulebook
from .finance.cli import estimate, generate
from .report import render
from .scenarios.cli import scenarios
from .web.serve import serve
from .web.users import users


def _date(ctx, param, value):
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"应为日期 YYYY-MM-DD，实际为 {value!r}") from None


@click.group()
def main():
    """三门峡市残疾人救助保障资格评估 (benefits)."""


def _records(stream):
    """One JSON record, or JSON Lines: yields (line number, text)."""
    text = stream.read()
    stripped = text.strip()
    if not stripped:
        return
    if stripped.startswith("{") and "\n" in stripped:
        try:
            json.loads(stripped)
            yield 1, stripped
            return
        except json.JSONDecodeError:
            pass
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            yield number, line


@main.command()
@click.argument("file", type=click.File("r", encoding="utf-8-sig", errors="surrogateescape"))
@click.option("--as-of", callback=_date, help="评估日期 YYYY-MM-DD（覆盖记录中的日期）")
@click.option("--format", "fmt", type=click.Choice(["json", "report"]), default="json",
              help="json（默认，每行一条）或中文报告")
@click.option("--rules", "rules_dir", type=click.Path(file_okay=False), help="规则目录（默认项目内 rules/）")
@click.option("--batch", is_flag=True,
              help="整个台账（CSV、JSONL、XLSX、Parquet）用列式引擎评估，结果写入 --out")
@click.option("--out", type=click.Path(dir_okay=False), help="--batch 的输出：FILE.parquet 或 FILE.jsonl")
def evaluate(file, as_of, fmt, rules_dir, batch, out):
    """Evaluate one JSON record or a JSON Lines FILE ('-' for stdin); with
    --batch, a whole caseload file into a Parquet or JSON Lines file."""
    try:
        engine = default_engine(rules_dir)
    except RulebookError as exc:
        raise click.ClickException(f"规则文件错误：{exc}") from None
    if batch or out:
        _evaluate_batch(file, out, as_of, rules_dir)
        return
    rejected = 0
    for number, text in _records(file):
        try:
            result = engine.evaluate(text, as_of=as_of)
        except InvalidApplicant as exc:
            rejected += 1
            errors = [e.model_dump() for e in exc.errors]
            if fmt == "json":
                click.echo(json.dumps({"line": number, "rejected": errors}, ensure_ascii=False))
            else:
                click.echo(f"第{number}行 记录被拒绝：", err=True)
                for e in errors:
                    click.echo(f"    {e['field']}: {e['message']}", err=True)
            continue
        if fmt == "json":
            click.echo(json.dumps(result, ensure_ascii=False))
        else:
            click.echo(render(result))
            click.echo("")
    if rejected:
        sys.exit(1)


def _evaluate_batch(file, out, as_of, rules_dir):
    from pathlib import Path

    from .finance.evaluate_file import evaluate_file
    from .finance.readers import CaseloadError
    from .finance.columns import LayoutError
    if not out:
        raise click.UsageError("--batch 需要 --out FILE.parquet 或 FILE.jsonl")
    if file.name in ("<stdin>", "-"):
        raise click.UsageError("--batch 需要台账文件路径，不能读标准输入")
    if not Path(out).parent.is_dir():
        raise click.BadParameter(f"输出文件夹不存在：{Path(out).parent}", param_hint="--out")
    file.close()
    rejected = []

    def reject(r):
        rejected.append(r)
        click.echo(json.dumps({"line": r["row"], "rejected": [{"field": r["field"], "message": r["message"]}]},
                              ensure_ascii=False))
    try:
        written = evaluate_file(file.name, Path(out), as_of, rules_dir, on_reject=reject)
    except (CaseloadError, LayoutError) as exc:
        raise click.ClickException(str(exc)) from None
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


main.add_command(estimate)
main.add_command(generate)
main.add_command(scenarios)
main.add_command(serve)
main.add_command(users)

if __name__ == "__main__":
    main()
