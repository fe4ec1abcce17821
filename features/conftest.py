"""Fixtures and hooks for the policy scenarios (政策场景).

The rules directory under test is read from the environment variable
BENEFITS_RULES (set by `benefits scenarios --rules DIR`); unset, the shipped
rules/ are used. BENEFITS_REFORM (`--reform FILE`) names a reform applied to
those rules (benefits.policy).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from pytest_bdd.exceptions import StepDefinitionNotFoundError
from pytest_bdd.scenario import scenario_wrapper_template_registry

from benefits.engine import RulebookError, default_engine
from benefits.engine.columnar import ColumnarEngine
from features.steps.applicant import *  # noqa: F401,F403  (step fixtures)
from features.steps.audit import *  # noqa: F401,F403  (名册核对)
from features.steps.base import CATALOGUE, Mismatch, catalogue_text
from features.steps.checks import *  # noqa: F401,F403
from features.steps.county import *  # noqa: F401,F403  (81号 county targets)
from features.steps.draft import Draft
from features.steps.estimate import *  # noqa: F401,F403  (测算)
from features.steps.evaluation import *  # noqa: F401,F403
from features.steps.evaluation import Outcome

RULES_ENV = "BENEFITS_RULES"
REFORM_ENV = "BENEFITS_REFORM"


ENGINE_ENV = "BENEFITS_ENGINE"      # durable | columnar; unset: every scenario on both
BACK_ENDS = ("durable", "columnar")


class ColumnarBackEnd:
    """The columnar engine behind the steps' engine interface. The 三（一）
    county budgets are parameter arithmetic that neither back end evaluates."""

    def __init__(self, durable):
        self.rulebook = durable.rulebook
        self.county_budgets = durable.county_budgets
        self._columnar = ColumnarEngine(durable.rulebook)

    def evaluate(self, data, as_of=None):
        return self._columnar.evaluate(data, as_of)


def pytest_generate_tests(metafunc):
    if "back_end" in metafunc.fixturenames:
        chosen = os.environ.get(ENGINE_ENV)
        metafunc.parametrize("back_end", [chosen] if chosen else list(BACK_ENDS), scope="session")


@pytest.fixture(scope="session", autouse=True)
def back_end(request):
    """Which engine the scenario runs on (autouse, so the parametrisation
    reaches steps that ask for ``engine`` only at run time)."""
    return request.param


@pytest.fixture(scope="session")
def durable_engine():
    rules_dir = os.environ.get(RULES_ENV) or None
    reform = os.environ.get(REFORM_ENV) or None
    try:
        if reform is None:
            engine = default_engine(rules_dir)
        else:       # its own durable session, closed at the end
            from benefits.engine import Engine, load_rulebook
            from benefits.policy import apply_reform, load_reform
            engine = Engine(rulebook=apply_reform(load_rulebook(rules_dir), load_reform(reform)))
    except RulebookError as exc:
        pytest.exit(f"规则文件错误（{rules_dir or '项目内 rules/'}）：{exc}", returncode=3)
    yield engine
    if reform is not None:
        engine.close()


@pytest.fixture(scope="session")
def engine(durable_engine, back_end):
    """Each scenario runs on the durable_rules engine and on the columnar one."""
    return durable_engine if back_end == "durable" else ColumnarBackEnd(durable_engine)


@pytest.fixture
def draft():
    return Draft()


@pytest.fixture
def outcome():
    return Outcome()


class UnknownStep(StepDefinitionNotFoundError):
    """A step no definition matches; the message lists every step that exists."""


def pytest_bdd_step_func_lookup_error(request, feature, scenario, step, exception):
    raise UnknownStep(
        f"没有与这一步匹配的步骤定义：{step.keyword}{step.name}\n"
        f"（{feature.rel_filename} 第{step.line_number}行，场景「{scenario.name}」）\n"
        f"可用的步骤如下（{{ }}为可替换部分，[ ]为可省略部分）：\n{catalogue_text()}")


class AmbiguousStep(Exception):
    """A step text that more than one definition matches."""


_KINDS = {"given": "假如", "when": "当", "then": "那么"}


def pytest_bdd_before_step(request, feature, scenario, step, step_func):
    # pytest-bdd would silently run one of several matching definitions
    matching = [d.pattern for d in CATALOGUE if d.kind == _KINDS.get(step.type) and d.parser.is_matching(step.name)]
    if len(matching) > 1:
        raise AmbiguousStep(
            f"这一步同时匹配多个步骤定义，无法确定含义：{step.keyword}{step.name}\n  " + "\n  ".join(matching))


# @待修: a scenario (or one 例子 table of an outline) that states what the law
# requires but still fails because the engine lacks something. The comment
# line right above the tag says what, e.g.
#     # 待修 第17号问题：第1项 低保按户补差（…）
#     @issue17 @待修
# It runs as xfail(strict=True): it must fail on a check (Mismatch), not on a
# misused or unknown step, and the day it passes the run fails, so the tag is
# removed. Nothing is skipped.
TO_FIX = "待修"


def _to_fix_reason(filename: str, line_number: int) -> str:
    """The 待修 comment above the tags of the block starting at ``line_number``."""
    lines = Path(filename).read_text(encoding="utf-8").splitlines()
    index = line_number - 2
    while index >= 0 and (lines[index].strip().startswith("@") or not lines[index].strip()):
        index -= 1
    comment = lines[index].strip() if index >= 0 else ""
    if not comment.startswith("#") or TO_FIX not in comment:
        raise pytest.UsageError(f"{filename} 第{line_number}行：标为 @{TO_FIX} 的场景须在标签上一行写注释"
                                f"“# {TO_FIX} 第N号问题：第M项 …”，说明尚待修正的是什么")
    return comment.lstrip("#").strip().removeprefix(TO_FIX).strip(" ：:") + "，尚未修正"


def _to_fix_block(item):
    """(file, line) of the scenario or 例子 table that carries @待修."""
    template = scenario_wrapper_template_registry.get(getattr(item, "obj", None))
    if template is None:
        return None
    filename = template.feature.filename
    if TO_FIX in template.tags:
        return filename, template.line_number
    example = getattr(item, "callspec", None) and item.callspec.params.get("_pytest_bdd_example")
    for examples in template.examples:
        if TO_FIX in examples.tags and example in list(examples.as_contexts()):
            return filename, examples.line_number
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker(TO_FIX) is None:
            continue
        block = _to_fix_block(item)
        if block is None:
            raise pytest.UsageError(f"{item.nodeid}：找不到 @{TO_FIX} 标签所在的场景")
        item.add_marker(pytest.mark.xfail(strict=True, raises=Mismatch, reason=_to_fix_reason(*block)))
