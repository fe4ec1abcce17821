"""A Comparison as Chinese text for the terminal (改革前后对比摘要)."""
from __future__ import annotations

import polars as pl

from ..tables import grid, visible
from .compare import Comparison

_SHOWN_ROWS = 30


def _yuan(value: float) -> str:
    return f"{value:,.2f}"


def _signed(value: float) -> str:
    return f"{value:+,.2f}"


def render(result: Comparison) -> str:
    """The summary: the reform, totals, lines that change, counties, the
    distribution of gains and losses, and the floor checks."""
    base, new = result.baseline_estimate, result.reform_estimate
    counts = result.counts
    out = [f"改革方案：{visible(result.label)}",
           f"理由：{visible(result.reason)}",
           f"{result.year}年度 · 规则版本 {result.baseline_version} → {result.reform_version} · "
           f"台账 {counts['total']:,} 条，已评估 {counts['evaluated']:,} 人，拒绝 {counts['rejected']:,} 条",
           ""]
    out += [f"  · {visible(c['text_zh'])}" for c in result.reform_changes]
    total_b, total_r = base["total"]["mid"], new["total"]["mid"]
    rehab_b, rehab_r = base["rehabilitation_total"], new["rehabilitation_total"]
    out += ["", f"各项救助合计（中值）：{_yuan(total_b)} → {_yuan(total_r)} 元（{_signed(total_r - total_b)}）"]
    if rehab_b != rehab_r:
        out.append(f"康复专项经费（三（一））：{_yuan(rehab_b)} → {_yuan(rehab_r)} 元（{_signed(rehab_r - rehab_b)}）")
    moved = result.by_benefit.filter((pl.col("difference") != 0) | (pl.col("gainers") + pl.col("losers")
                                                                     + pl.col("status_changed") > 0))
    if moved.height:
        out += ["", "有变化的项目：", grid(
            ["项目", "条款", "符合人数（前→后）", "得益", "受损", "状态变化", "改前（元）", "改后（元）", "差额（元）"],
            [[r["label_zh"], r["clause"], f"{r['persons_baseline']:,}→{r['persons_reform']:,}", f"{r['gainers']:,}",
              f"{r['losers']:,}", f"{r['status_changed']:,}", _yuan(r["baseline"]), _yuan(r["reform"]),
              _signed(r["difference"])] for r in moved.iter_rows(named=True)], right_from=2)]
    else:
        out += ["", "没有任何项目的人数或金额发生变化。"]
    out += ["", "按县区（每人按各项合计的增减计）：", grid(
        ["县（市、区）", "人数", "增加", "减少", "不变", "状态有变", "改前（元）", "改后（元）", "差额（元）"],
        [[r["county_zh"], f"{r['persons']:,}", f"{r['gainers']:,}", f"{r['losers']:,}", f"{r['unchanged']:,}",
          f"{r['status_changed']:,}", _yuan(r["baseline"]), _yuan(r["reform"]), _signed(r["difference"])]
         for r in result.by_county.iter_rows(named=True)])]
    shown = result.transitions.head(_SHOWN_ROWS)
    if shown.height:
        out += ["", "资格状态变化：", grid(["项目", "改前", "改后", "人数"],
                                        [[r["label_zh"], r["from_zh"], r["to_zh"], f"{r['persons']:,}"]
                                         for r in shown.iter_rows(named=True)], right_from=3)]
    spread = result.distribution.filter(pl.col("persons") > 0)
    if spread.height:
        out += ["", "每人全年增减分布：", grid(["区间", "人数", "金额（元）"],
                                          [[r["label_zh"], f"{r['persons']:,}", _signed(r["yuan"])]
                                           for r in spread.iter_rows(named=True)])]
    broken = result.floor_violations
    out += ["", f"法定底线（63号）：{len(result.floors) - len(broken)} 项符合，{len(broken)} 项违反或无法核对"]
    out += [f"  ！{visible(c.message)}" for c in broken]
    if result.examples:
        out += ["", f"示例 {len(result.examples)} 人（两种规则下的理由见工作簿“示例”表）"]
    if result.rejects:
        out += ["", f"被拒绝的记录 {counts['rejected']:,} 条，前几条："]
        out += [f"  第{r['row']}行 {r['field']}：{visible(r['message'])}" for r in result.rejects[:10]]
    return "\n".join(out)
