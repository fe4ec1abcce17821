"""`benefits scenarios`: policy staff check a changed copy of the rules
against the scenarios of 63号 (政策场景核对)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .report import render_run
from ..engine import BACK_ENDS
from .runner import FEATURES_DIR, ScenarioRunError, run_scenarios


@click.command()
@click.option("--rules", "rules_dir", type=click.Path(file_okay=False, exists=True),
              help="规则目录（rules/ 的副本，含 parameters/）；不填则用项目内 rules/")
@click.option("--engine", type=click.Choice(BACK_ENDS), default="durable", show_default=True,
              help="durable：逐人引擎；columnar：列式引擎（两者应给出相同报告）")
@click.option("--reform", "reform_file", type=click.Path(exists=True),
              help="改革方案 FILE.yaml（见 reforms/），应用于规则后再运行场景")
@click.option("--features", "features_dir", type=click.Path(file_okay=False, exists=True),
              help="场景目录（features/ 的副本或节选，含 conftest.py、steps/ 与 test_policy_63.py）；不填则用项目内 features/")
def scenarios(rules_dir, engine, reform_file, features_dir):
    """运行 features/ 中的政策场景，报告哪些场景未通过及原因（期望与实际、条款）。"""
    try:
        run = run_scenarios(rules_dir, engine=engine, reform=reform_file,
                            features_dir=Path(features_dir).resolve() if features_dir else FEATURES_DIR)
    except ScenarioRunError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(render_run(run))
    sys.exit(0 if run.ok else 1)
